/*
 * kubengx kube/: watch-stream line framer.
 *
 * A watch response is a byte stream of JSON objects, each followed by
 * "\n"; transfer chunks have no relation to event boundaries.  The framer
 * takes bytes in any chunking and hands out complete lines without the
 * trailing "\n" (or "\r\n").  Empty lines are skipped.
 *
 * Pull API:  kube_framer_push(), then kube_framer_next() until it returns
 *            0; lines point into the framer's buffer and stay valid until
 *            the next push/feed/reset.
 * Push API:  kube_framer_feed() calls a callback for every complete line.
 *
 * The buffer grows as needed up to max_line (+ one input chunk) and the
 * scan resumes where it stopped, so a long line arriving in many small
 * pieces costs linear time.
 */

#ifndef KUBE_FRAMER_H
#define KUBE_FRAMER_H

#include "kube_common.h"


#define KUBE_FRAMER_DEFAULT_MAX  (16 * 1024 * 1024)

typedef struct kube_framer_s  kube_framer_t;

/* return non-zero to stop kube_framer_feed() (it returns that value) */
typedef int (*kube_framer_line_pt)(void *ctx, const char *line, size_t len);


/* max_line 0 means KUBE_FRAMER_DEFAULT_MAX; NULL on allocation failure */
kube_framer_t *kube_framer_create(size_t max_line);
void kube_framer_destroy(kube_framer_t *f);

/* forget buffered bytes and any error state; keeps max_line */
void kube_framer_reset(kube_framer_t *f);

/*
 * Append bytes.  Returns 0, or -1 with err set when the pending line
 * exceeds max_line (the framer then stays failed until reset) or memory
 * runs out.
 */
int kube_framer_push(kube_framer_t *f, const char *data, size_t len,
    kube_err_t *err);

/*
 * Next complete line: returns 1 and sets line and len, or 0 when no
 * complete line is buffered (or the framer has failed: see
 * kube_framer_failed()).
 */
int kube_framer_next(kube_framer_t *f, const char **line, size_t *len);

/*
 * push + next in a loop, calling cb for each line.  Returns 0, -1 on a
 * framing error (err set), or the callback's non-zero return value (the
 * remaining bytes stay buffered).
 */
int kube_framer_feed(kube_framer_t *f, const char *data, size_t len,
    kube_framer_line_pt cb, void *ctx, kube_err_t *err);

/*
 * At end of stream: hand out a final line that had no "\n" (returns 1),
 * or 0 if nothing non-empty is pending.  The framer is then empty.
 */
int kube_framer_finish(kube_framer_t *f, const char **line, size_t *len);

/* bytes buffered but not yet returned as lines */
size_t kube_framer_pending(const kube_framer_t *f);

/* 1 after an over-max error until kube_framer_reset() */
int kube_framer_failed(const kube_framer_t *f);

size_t kube_framer_max_line(const kube_framer_t *f);

#endif /* KUBE_FRAMER_H */
