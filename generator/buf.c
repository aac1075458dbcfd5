
/*
 * kubengx generator: the growing text buffer the renderers print into
 * (render.h); out of memory is remembered in b->nomem and ends printing.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"


/* room for n more bytes and the terminating NUL; 0 or -1 (b->nomem) */
static int
kngx_buf_reserve(kngx_buf_t *b, size_t n)
{
    size_t   cap;
    char    *p;

    if (b->nomem) {
        return -1;
    }

    if (b->data && b->len + n < b->cap) {
        return 0;
    }

    cap = b->cap ? b->cap : 64 * 1024;
    while (cap <= b->len + n) {
        cap *= 2;
    }

    p = realloc(b->data, cap);
    if (p == NULL) {
        b->nomem = 1;
        return -1;
    }

    b->data = p;
    b->cap = cap;

    return 0;
}


void
kngx_buf_printf(kngx_buf_t *b, const char *fmt, ...)
{
    va_list   ap;
    int       n;

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

        if (kngx_buf_reserve(b, (size_t) n) != 0) {
            return;
        }
    }
}


/*
 * The strings up to a NULL, appended as they are: what
 * kngx_buf_printf(b, "%s%s...") writes, without parsing a format (the
 * text of every location goes through here; vsnprintf() cost about as
 * much as the rest of the rendering).
 */
void
kngx_buf_cat(kngx_buf_t *b, ...)
{
    va_list      ap;
    const char  *s;
    size_t       n;

    va_start(ap, b);

    while ((s = va_arg(ap, const char *)) != NULL) {
        n = strlen(s);

        if (kngx_buf_reserve(b, n) != 0) {
            break;
        }

        memcpy(b->data + b->len, s, n + 1);
        b->len += n;
    }

    va_end(ap);
}


void
kngx_buf_free(kngx_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
