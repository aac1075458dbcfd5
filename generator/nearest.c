
/*
 * kubengx generator: the nearest of known names to a misspelt one (edit
 * distance), for "did you mean" in messages about unknown fields
 * (decode_fields.c) and annotations (annotations/registry.c).
 */

#include <string.h>

#include "load.h"


size_t
kngx_edit_distance(const char *a, const char *b)
{
    size_t  la = strlen(a), lb = strlen(b), i, j, diag, up, best;
    size_t  row[64];

    if (la >= 64 || lb >= 64) {
        return (size_t) -1;
    }

    for (j = 0; j <= lb; j++) {
        row[j] = j;
    }

    for (i = 1; i <= la; i++) {
        diag = row[0];
        row[0] = i;

        for (j = 1; j <= lb; j++) {
            up = row[j];
            best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) {
                best = up + 1;
            }
            if (row[j - 1] + 1 < best) {
                best = row[j - 1] + 1;
            }
            row[j] = best;
            diag = up;
        }
    }

    return row[lb];
}


const char *
kngx_nearest(const char *name, const char *const *names, size_t stride,
    size_t n)
{
    const char  *best = NULL, *cand;
    size_t       i, d, bd = 3;      /* at most 2 edits */

    for (i = 0; i < n; i++) {
        cand = *(const char *const *) ((const char *) names + i * stride);
        d = kngx_edit_distance(name, cand);
        if (d < bd) {
            bd = d;
            best = cand;
        }
    }

    return best;
}
