/*
 * libFuzzer target: the watch-stream framer (kube/kube_framer.c).
 *
 * Input: byte 0 picks max_line (small, to reach the over-max path) and
 * the API mix; byte 1 seeds the chunking; the rest is the stream.  The
 * lines the framer hands out are checked against a reference framer
 * written here in the simplest way: split on "\n", drop one trailing
 * "\r", skip empty lines, fail once a pending line exceeds max_line.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube_framer.h"


typedef struct {
    const char  *data;       /* the stream */
    size_t       size;
    size_t       pos;        /* reference scan position */
    size_t       nlines;
    int          mismatch;
} ref_t;


/* next reference line; 0 when none complete */
static int
ref_next(ref_t *r, size_t limit, const char **line, size_t *len)
{
    const char  *nl;
    size_t       n;

    for ( ;; ) {
        if (r->pos >= limit) {
            return 0;
        }

        nl = memchr(r->data + r->pos, '\n', limit - r->pos);
        if (nl == NULL) {
            return 0;
        }

        *line = r->data + r->pos;
        n = (size_t) (nl - *line);
        r->pos += n + 1;

        if (n && (*line)[n - 1] == '\r') {
            n--;
        }

        if (n) {
            *len = n;
            return 1;
        }
    }
}


static int
on_line(void *ctx, const char *line, size_t len)
{
    ref_t       *r = ctx;
    const char  *rl;
    size_t       rlen;

    if (memchr(line, '\n', len) != NULL || len == 0) {
        abort();
    }

    if (!ref_next(r, r->size, &rl, &rlen) || rlen != len
        || memcmp(rl, line, len) != 0)
    {
        r->mismatch = 1;
        abort();
    }

    r->nlines++;
    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t  maxes[] = { 0, 1, 2, 7, 16, 64, 1024, 4096 };
    kube_framer_t       *f;
    kube_err_t           err;
    ref_t                ref;
    const char          *line, *rl;
    size_t               max, len, rlen, off, n, longest, cur;
    uint32_t             rnd;
    unsigned             mode;
    int                  failed = 0, use_feed, rc;

    if (size < 2) {
        return 0;
    }

    mode = data[0];
    rnd = data[1] * 2654435761u + 1;
    data += 2;
    size -= 2;

    max = maxes[mode & 7];
    use_feed = (mode >> 3) & 1;

    f = kube_framer_create(max);
    if (f == NULL) {
        return 0;
    }

    if (max == 0) {
        max = KUBE_FRAMER_DEFAULT_MAX;
    }

    if (kube_framer_max_line(f) != max) {
        abort();
    }

    /* does the stream ever have a pending line longer than max? */
    longest = 0;
    cur = 0;
    for (off = 0; off < size; off++) {
        if (data[off] == '\n') {
            cur = 0;
        } else if (++cur > longest) {
            longest = cur;
        }
    }

    memset(&ref, 0, sizeof(ref));
    ref.data = (const char *) data;
    ref.size = size;

    off = 0;
    while (off < size) {
        rnd ^= rnd << 13;
        rnd ^= rnd >> 17;
        rnd ^= rnd << 5;
        n = 1 + rnd % ((mode & 0x30) == 0x30 ? 4096 : 17);
        if (n > size - off) {
            n = size - off;
        }

        if (use_feed) {
            /* the reference may only look at what was fed so far */
            ref.size = off + n;
            rc = kube_framer_feed(f, (const char *) data + off, n, on_line,
                                  &ref, &err);
            if (rc == -1) {
                failed = 1;
                break;
            }
            if (rc != 0) {
                abort();
            }

        } else {
            if (kube_framer_push(f, (const char *) data + off, n, &err)
                != 0)
            {
                failed = 1;
                break;
            }

            while (kube_framer_next(f, &line, &len)) {
                if (len == 0 || memchr(line, '\n', len) != NULL) {
                    abort();
                }
                if (!ref_next(&ref, off + n, &rl, &rlen) || rlen != len
                    || memcmp(rl, line, len) != 0)
                {
                    abort();
                }
                ref.nlines++;
            }

            /* next() fails the framer on a complete over-max line */
            if (kube_framer_failed(f)) {
                failed = 1;
                break;
            }
        }

        off += n;

        if (mode & 0x40 && (rnd & 0xff) == 0) {
            /* a reset mid-stream: the reference skips what was pending */
            kube_framer_reset(f);
            ref.pos = off;
        }
    }

    if (failed) {
        /* only a line over max may fail the framer; and it stays failed */
        if (longest <= max) {
            abort();
        }
        if (!kube_framer_failed(f) || kube_framer_next(f, &line, &len)) {
            abort();
        }
        kube_framer_reset(f);
        if (kube_framer_failed(f) || kube_framer_pending(f) != 0) {
            abort();
        }

    } else {
        ref.size = size;
        if (kube_framer_failed(f)) {
            abort();
        }

        /* the final unterminated line, as the reference sees it */
        if (kube_framer_finish(f, &line, &len)) {
            /* the bytes after the last "\n" (empty lines skipped) */
            rl = ref.data + ref.pos;
            rlen = size - ref.pos;
            while (rlen && memchr(rl, '\n', rlen) != NULL) {
                off = (size_t) ((const char *) memchr(rl, '\n', rlen) - rl);
                rl += off + 1;
                rlen -= off + 1;
            }
            if (len == 0 || len > rlen || memcmp(rl, line, len) != 0) {
                abort();
            }
        }

        if (kube_framer_pending(f) != 0) {
            abort();
        }
    }

    kube_framer_destroy(f);

    return 0;
}
