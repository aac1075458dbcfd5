
/*
 * kubengx generator: SHA-256 digests (OpenSSL libcrypto), for the input
 * digest in the rendered header and the controller's change detection.
 */

#ifndef KNGX_DIGEST_H
#define KNGX_DIGEST_H

#include <stddef.h>

#include <openssl/evp.h>


typedef struct {
    EVP_MD_CTX          *ctx;       /* NULL after a failed init */
} kngx_sha256_t;

/* returns 0, or -1 when libcrypto could not start a digest */
int kngx_sha256_init(kngx_sha256_t *c);
void kngx_sha256_update(kngx_sha256_t *c, const void *data, size_t len);
/* writes the digest (all zero if init failed) and frees the context */
void kngx_sha256_final(kngx_sha256_t *c, unsigned char out[32]);

#endif /* KNGX_DIGEST_H */
