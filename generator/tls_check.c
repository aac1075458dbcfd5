
/*
 * kubengx generator: does nginx accept a TLS Secret's certificate and key?
 *
 * A certificate that nginx cannot load fails the whole config, so every
 * Secret is loaded here first the way nginx 1.22 loads the file kubengx
 * writes for it (output.c: tls.key, then tls.crt, one PEM file for both
 * ssl_certificate and ssl_certificate_key): the first certificate
 * (PEM_read_bio_X509_AUX), the rest as its chain, then the first private
 * key without a passphrase, each handed to an SSL_CTX as nginx's
 * ngx_ssl_certificate() does, so that OpenSSL's own checks run too (a
 * key that does not match the certificate, keys or signatures too weak
 * for the security level of the system's OpenSSL configuration).  A
 * garbled PEM body, a mismatched or an encrypted key is refused with the
 * reason.
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


int
kngx_tls_check(const char *cert, size_t cert_len, const char *key,
    size_t key_len, char *why, size_t size)
{
    static int   inited;
    SSL_CTX     *ctx;
    BIO         *crt, *kb;
    char        *pem;
    size_t       len;
    int          rc;

    if (!inited) {
        /* the system's OpenSSL configuration, as nginx loads it */
        OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL);
        inited = 1;
    }

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

    ERR_clear_error();

    rc = -1;
    ctx = SSL_CTX_new(TLS_server_method());
    crt = len <= INT_MAX ? BIO_new_mem_buf(pem, (int) len) : NULL;
    kb = len <= INT_MAX ? BIO_new_mem_buf(pem, (int) len) : NULL;

    if (ctx == NULL || crt == NULL || kb == NULL) {
        snprintf(why, size, "out of memory");

    } else if (kngx_tls_load_cert(ctx, crt, why, size) == 0
               && kngx_tls_load_key(ctx, kb, key, key_len, why, size) == 0)
    {
        rc = 0;
    }

    BIO_free(crt);
    BIO_free(kb);
    SSL_CTX_free(ctx);
    free(pem);
    ERR_clear_error();

    return rc;
}
