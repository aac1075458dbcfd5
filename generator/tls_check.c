
/*
 * kubengx generator: does nginx accept a TLS Secret's certificate and key?
 *
 * A certificate that nginx cannot load fails the whole config, so every
 * Secret is loaded here first the way nginx 1.22's ngx_ssl_certificate()
 * loads it: the first certificate (PEM_read_bio_X509_AUX), the rest as
 * its chain, then the first private key without a passphrase, each
 * handed to an SSL_CTX, so that OpenSSL's own checks run too (a key that
 * does not match the certificate; keys or signatures too weak for the
 * security level of the system's OpenSSL configuration, which nginx
 * loads too).  tls.crt and tls.key are loaded each on its own first, so
 * that the reason names the field at fault, then as the one PEM file
 * kubengx writes for them (output.c: tls.key, then tls.crt, named by
 * both ssl_certificate and ssl_certificate_key).  A garbled PEM body, a
 * mismatched or an encrypted key is refused with the reason.
 */

#define _GNU_SOURCE                  /* memmem */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "escape.h"


/* no passphrase: an encrypted key cannot be loaded (as nginx without
 * ssl_password_file) */
static int
kngx_tls_no_password(char *buf, int size, int rwflag, void *u)
{
    return 0;
}


static void
kngx_tls_reason(char *why, size_t size, const char *what)
{
    unsigned long  e;
    const char    *r;

    e = ERR_peek_last_error();
    r = e ? ERR_reason_error_string(e) : NULL;

    snprintf(why, size, "%s%s%s", what, r ? ": " : "", r ? r : "");
    ERR_clear_error();
}


/* the certificate and its chain, as ngx_ssl_load_certificate() */
static int
kngx_tls_load_cert(SSL_CTX *ctx, BIO *bio, char *why, size_t size)
{
    X509            *x509;
    STACK_OF(X509)  *chain;
    unsigned long    e;

    x509 = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
    if (x509 == NULL) {
        kngx_tls_reason(why, size, "tls.crt holds no readable PEM "
                        "certificate");
        return -1;
    }

    if (SSL_CTX_use_certificate(ctx, x509) == 0) {
        X509_free(x509);
        kngx_tls_reason(why, size, "OpenSSL refuses the certificate");
        return -1;
    }

    X509_free(x509);

    chain = sk_X509_new_null();
    if (chain == NULL) {
        kngx_tls_reason(why, size, "out of memory");
        return -1;
    }

    for ( ;; ) {
        x509 = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (x509 == NULL) {
            e = ERR_peek_last_error();
            if (ERR_GET_LIB(e) == ERR_LIB_PEM
                && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
            {
                ERR_clear_error();
                break;
            }

            sk_X509_pop_free(chain, X509_free);
            kngx_tls_reason(why, size, "a chain certificate in tls.crt is "
                            "not readable");
            return -1;
        }

        if (sk_X509_push(chain, x509) == 0) {
            X509_free(x509);
            sk_X509_pop_free(chain, X509_free);
            kngx_tls_reason(why, size, "out of memory");
            return -1;
        }
    }

    if (SSL_CTX_set0_chain(ctx, chain) == 0) {
        sk_X509_pop_free(chain, X509_free);
        kngx_tls_reason(why, size, "OpenSSL refuses the certificate chain");
        return -1;
    }

    return 0;
}


/* the first private key of the file, without a passphrase */
static int
kngx_tls_load_key(SSL_CTX *ctx, BIO *bio, const char *key, size_t key_len,
    char *why, size_t size)
{
    EVP_PKEY  *pkey;

    pkey = PEM_read_bio_PrivateKey(bio, NULL, kngx_tls_no_password, NULL);

    if (pkey == NULL) {
        if (memmem(key, key_len, "ENCRYPTED", 9) != NULL) {
            ERR_clear_error();
            snprintf(why, size, "tls.key is encrypted (nginx would need "
                     "its passphrase)");
            return -1;
        }

        kngx_tls_reason(why, size, "tls.key holds no readable PEM private "
                        "key");
        return -1;
    }

    if (SSL_CTX_use_PrivateKey(ctx, pkey) == 0) {
        EVP_PKEY_free(pkey);
        kngx_tls_reason(why, size, "tls.key does not match the certificate "
                        "in tls.crt");
        return -1;
    }

    EVP_PKEY_free(pkey);

    return 0;
}


/* cert and key loaded into a new SSL_CTX from crt_pem and key_pem */
static int
kngx_tls_load(const char *crt_pem, size_t crt_len, const char *key_pem,
    size_t key_len, const char *key, size_t klen, char *why, size_t size)
{
    SSL_CTX  *ctx;
    BIO      *crt, *kb;
    int       rc = -1;

    if (crt_len > INT_MAX || key_len > INT_MAX) {
        snprintf(why, size, "too large");
        return -1;
    }

    ctx = SSL_CTX_new(TLS_server_method());
    crt = BIO_new_mem_buf(crt_pem, (int) crt_len);
    kb = BIO_new_mem_buf(key_pem, (int) key_len);

    if (ctx == NULL || crt == NULL || kb == NULL) {
        snprintf(why, size, "out of memory");

    } else if (kngx_tls_load_cert(ctx, crt, why, size) == 0
               && kngx_tls_load_key(ctx, kb, key, klen, why, size) == 0)
    {
        rc = 0;
    }

    BIO_free(crt);
    BIO_free(kb);
    SSL_CTX_free(ctx);
    ERR_clear_error();

    return rc;
}


int
kngx_tls_check(const char *cert, size_t cert_len, const char *key,
    size_t key_len, char *why, size_t size)
{
    static int   inited;
    char        *pem, reason[256];
    size_t       len;
    int          rc;

    if (!inited) {
        /* the system's OpenSSL configuration, as nginx loads it */
        OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL);
        inited = 1;
    }

    ERR_clear_error();

    /* each on its own first, so that the reason names the right field */
    if (kngx_tls_load(cert, cert_len, key, key_len, key, key_len, why, size)
        != 0)
    {
        return -1;
    }

    /* then the one file kubengx writes, as nginx reads it */

    len = key_len + 1 + cert_len;

    pem = malloc(len);
    if (pem == NULL) {
        snprintf(why, size, "out of memory");
        return -1;
    }

    memcpy(pem, key, key_len);
    len = key_len;

    if (key_len && key[key_len - 1] != '\n') {
        pem[len++] = '\n';
    }

    memcpy(pem + len, cert, cert_len);
    len += cert_len;

    rc = kngx_tls_load(pem, len, pem, len, key, key_len, reason,
                       sizeof(reason));
    free(pem);

    if (rc != 0) {
        snprintf(why, size, "tls.key and tls.crt do not load as one file: "
                 "%s", reason);
    }

    return rc;
}


/*
 * One SSL_CTX checks every cipher list: SSL_CTX_new() costs about 0.2 ms
 * (10,000 Ingresses with proxy-ssl-ciphers spent 1.9 s creating them),
 * and SSL_CTX_set_cipher_list() replaces the list whole, its answer
 * depending on the string alone.  That answer is kept for the last list
 * checked: Ingresses mostly repeat one value, and parsing it again costs
 * about as much.  Kept for the process (one thread).
 */

static SSL_CTX  *kngx_tls_ciphers_ctx;
static char     *kngx_tls_ciphers_last;
static int       kngx_tls_ciphers_last_ok;


int
kngx_tls_ciphers_ok(const char *v)
{
    int  ok;

    if (kngx_tls_ciphers_last && strcmp(kngx_tls_ciphers_last, v) == 0) {
        return kngx_tls_ciphers_last_ok;
    }

    if (kngx_tls_ciphers_ctx == NULL) {
        kngx_tls_ciphers_ctx = SSL_CTX_new(TLS_method());
        if (kngx_tls_ciphers_ctx == NULL) {
            ERR_clear_error();
            return -1;
        }
    }

    ok = SSL_CTX_set_cipher_list(kngx_tls_ciphers_ctx, v) ? 1 : 0;

    ERR_clear_error();

    /* no copy (out of memory): the next call asks OpenSSL again */
    free(kngx_tls_ciphers_last);
    kngx_tls_ciphers_last = strdup(v);
    kngx_tls_ciphers_last_ok = ok;

    return ok;
}
