
/*
 * kubengx generator: value parsers shared by the annotation families
 * (annotations.h).  Each parses a whole value or refuses it; nothing is
 * passed on as text that was not checked character by character.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annotations.h"
#include "escape.h"


int
kngx_ann_bool(kngx_ann_ctx_t *ctx, const char *v, unsigned *out)
{
    if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0) {
        *out = 1;
        return KNGX_ANN_OK;
    }

    if (strcmp(v, "false") == 0 || strcmp(v, "False") == 0) {
        *out = 0;
        return KNGX_ANN_OK;
    }

    ctx->why = "must be \"true\" or \"false\", not";
    return KNGX_ANN_BAD;
}


int
kngx_ann_int(kngx_ann_ctx_t *ctx, const char *v, long min, long max,
    long *out)
{
    const char  *s;
    long         n = 0;

    if (*v == '\0' || strlen(v) > 9) {
        goto bad;
    }

    for (s = v; *s; s++) {
        if (*s < '0' || *s > '9') {
            goto bad;
        }
        n = n * 10 + (*s - '0');
    }

    if (n < min || n > max) {
        goto bad;
    }

    *out = n;
    return KNGX_ANN_OK;

bad:

    ctx->why = "must be a whole number in its range, not";
    return KNGX_ANN_BAD;
}


int
kngx_ann_size(kngx_ann_ctx_t *ctx, const char *v, int allow_zero,
    char *out, size_t size)
{
    const char  *s;
    size_t       len = strlen(v), digits;
    long         n = 0;

    for (s = v; *s >= '0' && *s <= '9'; s++) {
        n = n * 10 + (*s - '0');
        if (n > 1000000000L) {
            goto bad;
        }
    }

    digits = (size_t) (s - v);

    if (digits == 0 || (n == 0 && !allow_zero)) {
        goto bad;
    }

    if (*s && (strchr("kKmMgG", *s) == NULL || s[1] != '\0')) {
        goto bad;
    }

    if (len + 1 > size) {
        goto bad;
    }

    memcpy(out, v, len + 1);
    return KNGX_ANN_OK;

bad:

    ctx->why = "must be a size (digits with an optional k, m or g), not";
    return KNGX_ANN_BAD;
}


uint64_t
kngx_ann_size_bytes(const char *s)
{
    uint64_t  n = 0;

    for ( /* void */ ; *s >= '0' && *s <= '9'; s++) {
        n = n * 10 + (uint64_t) (*s - '0');
    }

    switch (*s) {
    case 'k': case 'K':
        return n << 10;
    case 'm': case 'M':
        return n << 20;
    case 'g': case 'G':
        return n << 30;
    default:
        return n;
    }
}


int
kngx_ann_words(const char *v, const char *const *known, char *out,
    size_t size)
{
    const char  *s = v, *e;
    size_t       n = 0, len, i;

    out[0] = '\0';

    while (*s) {
        while (*s == ' ') {
            s++;
        }

        for (e = s; *e && *e != ' '; e++) { /* void */ }

        len = (size_t) (e - s);
        if (len == 0) {
            break;
        }

        for (i = 0; known[i]; i++) {
            if (strlen(known[i]) == len && strncmp(known[i], s, len) == 0) {
                break;
            }
        }

        if (known[i] == NULL || n + len + 2 > size) {
            return KNGX_ANN_BAD;
        }

        n += (size_t) snprintf(out + n, size - n, "%s%s", n ? " " : "",
                               known[i]);
        s = e;
    }

    return n ? KNGX_ANN_OK : KNGX_ANN_BAD;
}


int
kngx_ann_quote(const char *s, char *out, size_t size)
{
    return kngx_ngx_quote_vars(s, out, size);
}
