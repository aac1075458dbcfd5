
/*
 * kubengx generator: SHA-256 through OpenSSL's EVP interface.
 */

#include <string.h>

#include "digest.h"


int
kngx_sha256_init(kngx_sha256_t *c)
{
    c->ctx = EVP_MD_CTX_new();

    if (c->ctx == NULL
        || EVP_DigestInit_ex(c->ctx, EVP_sha256(), NULL) != 1)
    {
        EVP_MD_CTX_free(c->ctx);
        c->ctx = NULL;
        return -1;
    }

    return 0;
}


void
kngx_sha256_update(kngx_sha256_t *c, const void *data, size_t len)
{
    if (c->ctx != NULL && len > 0) {
        EVP_DigestUpdate(c->ctx, data, len);
    }
}


void
kngx_sha256_final(kngx_sha256_t *c, unsigned char out[32])
{
    memset(out, 0, 32);

    if (c->ctx != NULL) {
        EVP_DigestFinal_ex(c->ctx, out, NULL);
        EVP_MD_CTX_free(c->ctx);
        c->ctx = NULL;
    }
}
