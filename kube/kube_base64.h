/*
 * kubengx kube/: base64 decoding (Secret data, kubeconfig *-data).
 */

#ifndef KUBE_BASE64_H
#define KUBE_BASE64_H

#include "kube_common.h"


/*
 * Decode standard or URL-safe base64 (whitespace ignored); the result is
 * malloc'ed and NUL-terminated, its length in *out_len.  NULL + err on
 * bad input.
 */
unsigned char *kube_base64_decode(const char *s, size_t len, size_t *out_len,
    kube_err_t *err);

#endif /* KUBE_BASE64_H */
