/*
 * kubengx kube/: base64 decoding (the "data" of Secrets, the *-data of
 * kubeconfigs).
 */

#include <stdlib.h>

#include "kube_base64.h"


static int
kube_b64_value(int c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '+' || c == '-') {
        return 62;
    }

    if (c == '/' || c == '_') {
        return 63;
    }

    return -1;
}


unsigned char *
kube_base64_decode(const char *s, size_t len, size_t *out_len,
    kube_err_t *err)
{
    int             v, pad;
    size_t          i, n, bits_n;
    uint32_t        bits;
    unsigned char  *out;

    out = malloc(len / 4 * 3 + 4);
    if (out == NULL) {
        kube_err_set(err, "base64: out of memory");
        return NULL;
    }

    n = 0;
    bits = 0;
    bits_n = 0;
    pad = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t') {
            continue;
        }

        if (s[i] == '=') {
            pad++;
            continue;
        }

        v = kube_b64_value((unsigned char) s[i]);
        if (v < 0 || pad) {
            kube_err_set(err, "base64: invalid character at offset %zu", i);
            free(out);
            return NULL;
        }

        bits = (bits << 6) | (uint32_t) v;
        bits_n += 6;

        if (bits_n >= 8) {
            bits_n -= 8;
            out[n++] = (unsigned char) (bits >> bits_n);
        }
    }

    if (bits_n >= 6 || pad > 2) {
        kube_err_set(err, "base64: truncated input");
        free(out);
        return NULL;
    }

    out[n] = '\0';
    *out_len = n;

    return out;
}
