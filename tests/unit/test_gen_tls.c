/*
 * Unit tests: generator/tls_check.c, whether nginx would load a TLS
 * Secret.  Keys and certificates are made here with libcrypto (P-256,
 * self-signed): a good pair and a chain pass; a key of another
 * certificate, a garbled PEM body, an encrypted key, no key and no
 * certificate are refused with the reason.  Cipher lists: each answer of
 * kngx_tls_ciphers_ok() (one SSL_CTX for every list, the last answer
 * kept) is what a new SSL_CTX of its own answers, whatever lists came
 * before, the same one included.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "escape.h"


typedef struct {
    char   *cert;
    char   *key;
    char   *key_enc;            /* the key, encrypted with a passphrase */
} pair_t;


static char *
bio_text(BIO *bio)
{
    char   *data, *s;
    long    len;

    len = BIO_get_mem_data(bio, &data);
    s = malloc((size_t) len + 1);
    assert_non_null(s);
    memcpy(s, data, (size_t) len);
    s[len] = '\0';
    BIO_free(bio);

    return s;
}


static void
make_pair(pair_t *p, const char *cn)
{
    EVP_PKEY   *pkey;
    X509       *x;
    X509_NAME  *name;
    BIO        *bio;

    pkey = EVP_EC_gen("P-256");
    assert_non_null(pkey);

    x = X509_new();
    assert_non_null(x);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, pkey);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *) cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    assert_true(X509_sign(x, pkey, EVP_sha256()) > 0);

    bio = BIO_new(BIO_s_mem());
    assert_true(PEM_write_bio_X509(bio, x) == 1);
    p->cert = bio_text(bio);

    bio = BIO_new(BIO_s_mem());
    assert_true(PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL,
                                         NULL) == 1);
    p->key = bio_text(bio);

    bio = BIO_new(BIO_s_mem());
    assert_true(PEM_write_bio_PrivateKey(bio, pkey, EVP_aes_128_cbc(),
                                         (unsigned char *) "secret", 6,
                                         NULL, NULL) == 1);
    p->key_enc = bio_text(bio);

    X509_free(x);
    EVP_PKEY_free(pkey);
}


static void
free_pair(pair_t *p)
{
    free(p->cert);
    free(p->key);
    free(p->key_enc);
}


static int
check(const char *cert, const char *key, char *why, size_t size)
{
    why[0] = '\0';
    return kngx_tls_check(cert, strlen(cert), key, strlen(key), why, size);
}


static void
test_good_pair_and_chain(void **state)
{
    pair_t  a, b;
    char    why[512], chain[8192];

    (void) state;

    make_pair(&a, "a.example.com");
    make_pair(&b, "ca.example.com");

    if (check(a.cert, a.key, why, sizeof(why)) != 0) {
        fail_msg("good pair refused: %s", why);
    }

    /* a chain: the leaf first, then others */
    snprintf(chain, sizeof(chain), "%s%s", a.cert, b.cert);
    if (check(chain, a.key, why, sizeof(why)) != 0) {
        fail_msg("chain refused: %s", why);
    }

    /* no newline at the end of the key: kubengx adds one when writing */
    a.key[strlen(a.key) - 1] = '\0';
    assert_int_equal(check(a.cert, a.key, why, sizeof(why)), 0);

    free_pair(&a);
    free_pair(&b);
}


static void
test_mismatch(void **state)
{
    pair_t  a, b;
    char    why[512];

    (void) state;

    make_pair(&a, "a.example.com");
    make_pair(&b, "b.example.com");

    assert_int_equal(check(a.cert, b.key, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "does not match"));

    free_pair(&a);
    free_pair(&b);
}


static void
test_garbage_and_missing(void **state)
{
    pair_t  a;
    char    why[512], bad[8192], *p;

    (void) state;

    make_pair(&a, "a.example.com");

    /* a garbled body between good PEM lines */
    snprintf(bad, sizeof(bad), "%s", a.cert);
    p = strchr(bad, '\n') + 1;
    memcpy(p, "!!!!garbage!!!!", 15);
    assert_int_equal(check(bad, a.key, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "tls.crt"));

    snprintf(bad, sizeof(bad), "%s", a.key);
    p = strchr(bad, '\n') + 1;
    memcpy(p, "!!!!garbage!!!!", 15);
    assert_int_equal(check(a.cert, bad, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "tls.key"));

    /* a broken second certificate fails nginx too */
    snprintf(bad, sizeof(bad), "%s-----BEGIN CERTIFICATE-----\nAAAA\n"
             "-----END CERTIFICATE-----\n", a.cert);
    assert_int_equal(check(bad, a.key, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "chain"));

    assert_int_equal(check("-----BEGIN CERTIFICATE-----\nMIIB\n"
                           "-----END CERTIFICATE-----\n",
                           "-----BEGIN PRIVATE KEY-----\nMIIB\n"
                           "-----END PRIVATE KEY-----\n", why, sizeof(why)),
                     -1);
    assert_int_equal(check(a.cert, "", why, sizeof(why)), -1);
    assert_int_equal(check("", a.key, why, sizeof(why)), -1);
    assert_int_equal(check(a.key, a.key, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "certificate"));

    free_pair(&a);
}


static void
test_encrypted_key(void **state)
{
    pair_t  a;
    char    why[512];

    (void) state;

    make_pair(&a, "a.example.com");

    assert_non_null(strstr(a.key_enc, "ENCRYPTED"));
    assert_int_equal(check(a.cert, a.key_enc, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "encrypted"));

    free_pair(&a);
}


/* the answer of an SSL_CTX made for this list alone */
static int
ciphers_alone(const char *v)
{
    SSL_CTX  *ctx;
    int       ok;

    ctx = SSL_CTX_new(TLS_method());
    assert_non_null(ctx);

    ok = SSL_CTX_set_cipher_list(ctx, v);

    SSL_CTX_free(ctx);
    ERR_clear_error();

    return ok ? 1 : 0;
}


static void
test_cipher_lists(void **state)
{
    static const char  *lists[] = {
        "ECDHE-RSA-AES128-GCM-SHA256", "NO-SUCH-CIPHER",
        "HIGH:!aNULL:!MD5", "eNULL", "ECDHE-ECDSA-AES256-GCM-SHA384",
        "!ALL", "DEFAULT", "aNULL", "AES128-SHA:NO-SUCH-CIPHER",
        "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256",
        "NO-SUCH-CIPHER", "@SECLEVEL=0:NULL-SHA", "DEFAULT", "DEFAULT",
        "NO-SUCH-CIPHER", "NO-SUCH-CIPHER", "HIGH:!aNULL:!MD5", "!ALL",
        "!ALL"
    };
    size_t               i, round;
    int                  yes = 0, no = 0;

    (void) state;

    /* twice, so that every list follows a good and a bad one */
    for (round = 0; round < 2; round++) {
        for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
            assert_int_equal(kngx_tls_ciphers_ok(lists[i]),
                             ciphers_alone(lists[i]));
            yes += ciphers_alone(lists[i]) == 1;
            no += ciphers_alone(lists[i]) == 0;
        }
    }

    /* both answers were seen */
    assert_true(yes > 0 && no > 0);
    assert_int_equal(kngx_tls_ciphers_ok("ECDHE-RSA-AES128-GCM-SHA256"), 1);
    assert_int_equal(kngx_tls_ciphers_ok("NO-SUCH-CIPHER"), 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_good_pair_and_chain),
        cmocka_unit_test(test_mismatch),
        cmocka_unit_test(test_garbage_and_missing),
        cmocka_unit_test(test_encrypted_key),
        cmocka_unit_test(test_cipher_lists),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
