
/*
 * kubengx generator: the growing text buffer the renderers print into
 * (render.h); out of memory is remembered in b->nomem and ends printing.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "render.h"


void
kngx_buf_printf(kngx_buf_t *b, const char *fmt, ...)
{
    va_list   ap;
    int       n;
    size_t    cap;
    char     *p;

    if (b->nomem) {
        return;
    }

    for ( ;; ) {
        va_start(ap, fmt);
        n = vsnprintf(b->data ? b->data + b->len : NULL,
                      b->data ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);

        if (n < 0) {
            b->nomem = 1;
            return;
        }

        if (b->data && b->len + (size_t) n < b->cap) {
            b->len += (size_t) n;
            return;
        }

        cap = b->cap ? b->cap : 64 * 1024;
        while (cap <= b->len + (size_t) n) {
            cap *= 2;
        }

        p = realloc(b->data, cap);
        if (p == NULL) {
            b->nomem = 1;
            return;
        }

        b->data = p;
        b->cap = cap;
    }
}


void
kngx_buf_free(kngx_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
