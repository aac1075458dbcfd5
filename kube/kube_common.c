/*
 * kubengx kube/: shared helpers.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube_common.h"


void
kube_err_set(kube_err_t *err, const char *fmt, ...)
{
    va_list  ap;

    if (err == NULL) {
        return;
    }

    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
}


void
kube_err_clear(kube_err_t *err)
{
    if (err != NULL) {
        err->msg[0] = '\0';
    }
}


void *
kube_alloc(const kube_allocator_t *a, size_t size)
{
    if (a != NULL && a->alloc != NULL) {
        return a->alloc(a->ctx, size);
    }

    return malloc(size);
}


void
kube_free(const kube_allocator_t *a, void *p)
{
    if (p == NULL) {
        return;
    }

    if (a != NULL && a->alloc != NULL) {
        if (a->free != NULL) {
            a->free(a->ctx, p);
        }
        return;
    }

    free(p);
}


int
kube_strncasecmp(const char *a, const char *b, size_t n)
{
    unsigned char  ca, cb;

    while (n--) {
        ca = (unsigned char) *a++;
        cb = (unsigned char) *b++;

        if (ca >= 'A' && ca <= 'Z') {
            ca = (unsigned char) (ca | 0x20);
        }

        if (cb >= 'A' && cb <= 'Z') {
            cb = (unsigned char) (cb | 0x20);
        }

        if (ca != cb) {
            return ca - cb;
        }

        if (ca == '\0') {
            return 0;
        }
    }

    return 0;
}


static int
kube_digits(const char **p, int n, int *out)
{
    int  v = 0;

    while (n--) {
        if (**p < '0' || **p > '9') {
            return -1;
        }
        v = v * 10 + (**p - '0');
        (*p)++;
    }

    *out = v;
    return 0;
}


/* days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant) */
static int64_t
kube_days_from_civil(int y, int m, int d)
{
    int64_t   era;
    unsigned  yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned) (y - era * 400);
    doy = (unsigned) ((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + (int64_t) doe - 719468;
}


int
kube_parse_rfc3339_ms(const char *s, int64_t *ms)
{
    int          y, mo, d, h, mi, sec, oh, om, frac, scale, sign;
    int64_t      t;
    const char  *p = s;

    if (s == NULL
        || kube_digits(&p, 4, &y) != 0 || *p++ != '-'
        || kube_digits(&p, 2, &mo) != 0 || *p++ != '-'
        || kube_digits(&p, 2, &d) != 0
        || (*p != 'T' && *p != 't' && *p != ' '))
    {
        return -1;
    }

    p++;

    if (kube_digits(&p, 2, &h) != 0 || *p++ != ':'
        || kube_digits(&p, 2, &mi) != 0 || *p++ != ':'
        || kube_digits(&p, 2, &sec) != 0)
    {
        return -1;
    }

    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59
        || sec > 60)
    {
        return -1;
    }

    frac = 0;
    scale = 0;

    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') {
            return -1;
        }
        while (*p >= '0' && *p <= '9') {
            if (scale < 3) {
                frac = frac * 10 + (*p - '0');
                scale++;
            }
            p++;
        }
        while (scale < 3) {
            frac *= 10;
            scale++;
        }
    }

    t = kube_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;

    if (*p == 'Z' || *p == 'z') {
        p++;

    } else if (*p == '+' || *p == '-') {
        sign = (*p == '-') ? -1 : 1;
        p++;
        if (kube_digits(&p, 2, &oh) != 0 || *p++ != ':'
            || kube_digits(&p, 2, &om) != 0 || oh > 23 || om > 59)
        {
            return -1;
        }
        t -= sign * (oh * 3600 + om * 60);

    } else {
        return -1;
    }

    if (*p != '\0') {
        return -1;
    }

    *ms = t * 1000 + frac;
    return 0;
}


json_t *
kube_json_loadb(const char *text, size_t len, const char *what,
    kube_err_t *err)
{
    json_t        *root;
    json_error_t   jerr;

    root = json_loadb(text, len, 0, &jerr);
    if (root == NULL) {
        kube_err_set(err, "%s: invalid JSON at line %d column %d: %s", what,
                     jerr.line, jerr.column, jerr.text);
    }

    return root;
}
