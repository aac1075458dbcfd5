/*
 * kubengx kube/: watch-stream line framer.
 */

#include <stdlib.h>
#include <string.h>

#include "kube_framer.h"


#define KUBE_FRAMER_INITIAL  (16 * 1024)
/* when the buffer drains, give back anything larger than this */
#define KUBE_FRAMER_KEEP     (256 * 1024)


struct kube_framer_s {
    char    *buf;
    size_t   cap;
    size_t   start;     /* first byte of the pending line */
    size_t   scan;      /* bytes in [start, scan) hold no '\n' */
    size_t   end;       /* end of buffered data */
    size_t   max_line;
    int      failed;
};


kube_framer_t *
kube_framer_create(size_t max_line)
{
    kube_framer_t  *f;

    f = calloc(1, sizeof(kube_framer_t));
    if (f == NULL) {
        return NULL;
    }

    f->max_line = max_line ? max_line : KUBE_FRAMER_DEFAULT_MAX;

    return f;
}


void
kube_framer_destroy(kube_framer_t *f)
{
    if (f != NULL) {
        free(f->buf);
        free(f);
    }
}


static void
kube_framer_drained(kube_framer_t *f)
{
    f->start = 0;
    f->scan = 0;
    f->end = 0;

    if (f->cap > KUBE_FRAMER_KEEP) {
        free(f->buf);
        f->buf = NULL;
        f->cap = 0;
    }
}


void
kube_framer_reset(kube_framer_t *f)
{
    f->failed = 0;
    kube_framer_drained(f);
}


int
kube_framer_push(kube_framer_t *f, const char *data, size_t len,
    kube_err_t *err)
{
    char    *nb;
    size_t   pending, need, cap;

    if (f->failed) {
        kube_err_set(err, "watch stream: framer failed earlier (line over "
                     "%zu bytes), reset required", f->max_line);
        return -1;
    }

    if (len == 0) {
        return 0;
    }

    if (f->start == f->end) {
        f->start = 0;
        f->scan = 0;
        f->end = 0;
    }

    if (f->cap - f->end < len) {
        pending = f->end - f->start;

        if (len > ((size_t) -1) / 4 || pending > ((size_t) -1) / 4) {
            goto too_long;
        }

        need = pending + len;

        if (need <= f->cap) {
            /*
             * compact: the pending bytes are a partial line; it moves at
             * most once, as start advances only when it completes
             */
            memmove(f->buf, f->buf + f->start, pending);

        } else {
            cap = f->cap ? f->cap : KUBE_FRAMER_INITIAL;
            while (cap < need) {
                cap *= 2;
            }

            nb = malloc(cap);
            if (nb == NULL) {
                kube_err_set(err, "watch stream: out of memory buffering "
                             "%zu bytes", need);
                return -1;
            }

            if (pending) {
                memcpy(nb, f->buf + f->start, pending);
            }

            free(f->buf);
            f->buf = nb;
            f->cap = cap;
        }

        f->scan -= f->start;
        f->end = pending;
        f->start = 0;
    }

    memcpy(f->buf + f->end, data, len);
    f->end += len;

    /* bound memory: an unterminated line may not exceed max_line */
    if (memchr(f->buf + f->scan, '\n', f->end - f->scan) == NULL) {
        f->scan = f->end;

        /* +1: the line may still end in "\r\n" */
        if (f->end - f->start > f->max_line + 1) {
            goto too_long;
        }
    }

    return 0;

too_long:

    kube_err_set(err, "watch stream: line longer than %zu bytes",
                 f->max_line);
    f->failed = 1;
    kube_framer_drained(f);
    f->failed = 1;
    return -1;
}


int
kube_framer_next(kube_framer_t *f, const char **line, size_t *len)
{
    char    *nl, *p;
    size_t   n;

    while (!f->failed && f->start < f->end) {

        if (f->scan < f->start) {
            f->scan = f->start;
        }

        nl = memchr(f->buf + f->scan, '\n', f->end - f->scan);
        if (nl == NULL) {
            f->scan = f->end;

            if (f->end - f->start > f->max_line + 1) {
                f->failed = 1;
            }

            return 0;
        }

        p = f->buf + f->start;
        n = (size_t) (nl - p);

        f->start += n + 1;
        f->scan = f->start;

        if (n > 0 && p[n - 1] == '\r') {
            n--;
        }

        if (n > f->max_line) {
            /* a complete over-max line arrived inside one push */
            f->failed = 1;
            return 0;
        }

        if (n == 0) {
            continue;
        }

        *line = p;
        *len = n;
        return 1;
    }

    return 0;
}


int
kube_framer_feed(kube_framer_t *f, const char *data, size_t len,
    kube_framer_line_pt cb, void *ctx, kube_err_t *err)
{
    int          rc;
    size_t       n;
    const char  *line;

    if (kube_framer_push(f, data, len, err) != 0) {
        return -1;
    }

    while (kube_framer_next(f, &line, &n)) {
        rc = cb(ctx, line, n);
        if (rc != 0) {
            return rc;
        }
    }

    if (f->failed) {
        kube_err_set(err, "watch stream: line longer than %zu bytes",
                     f->max_line);
        kube_framer_drained(f);
        return -1;
    }

    return 0;
}


int
kube_framer_finish(kube_framer_t *f, const char **line, size_t *len)
{
    size_t  n;

    if (kube_framer_next(f, line, len)) {
        return 1;
    }

    if (f->failed || f->start == f->end) {
        kube_framer_drained(f);
        return 0;
    }

    n = f->end - f->start;
    if (f->buf[f->start + n - 1] == '\r') {
        n--;
    }

    *line = f->buf + f->start;
    *len = n;

    /* the bytes stay valid until the next push/reset */
    f->start = f->end;
    f->scan = f->end;

    return n > 0;
}


size_t
kube_framer_pending(const kube_framer_t *f)
{
    return f->end - f->start;
}


int
kube_framer_failed(const kube_framer_t *f)
{
    return f->failed;
}


size_t
kube_framer_max_line(const kube_framer_t *f)
{
    return f->max_line;
}
