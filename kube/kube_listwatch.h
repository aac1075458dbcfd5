/*
 * kubengx kube/: the list/watch state machine, sans I/O.
 *
 * The machine never does I/O, never sleeps and never reads a clock.  The
 * caller (the nginx module's watcher, the CLI's controller) loops:
 *
 *     kube_lw_next(lw, now, &req, &wake)
 *         KUBE_LW_REQUEST: start "GET req.path" on the API server
 *         KUBE_LW_WAIT:    call again at (or after) wake
 *         KUBE_LW_BUSY:    a transfer is in flight; feed it
 *
 *     for the transfer in flight:
 *         kube_lw_on_header(lw, raw header line)     any number, optional
 *         kube_lw_on_status(lw, now, http_status)    once headers are in
 *         kube_lw_on_body(lw, now, bytes, n)         any chunking; returns
 *                                                    KUBE_LW_ABORT when the
 *                                                    transfer should be
 *                                                    cancelled
 *         kube_lw_on_done(lw, now, result, msg)      always, exactly once
 *
 *     After KUBE_LW_ABORT (or kube_lw_relist()) cancel the transfer and
 *     feed it no more; calls for it are ignored until the next request.
 *     Callbacks must not call kube_lw_next()/kube_lw_on_*() re-entrantly
 *     (kube_lw_stats() and kube_lw_token_reload() are fine).
 *
 * and receives, through kube_lw_handler_t callbacks:
 *
 *     list_begin   a new complete list is starting: build a private view
 *     list_item    one object of the list (borrowed json_t; incref to keep)
 *     list_end     the list is complete: swap the private view in, deleting
 *                  what it does not contain (only now: a failed list leaves
 *                  the old view intact)
 *     list_abort   the list failed after list_begin: drop the private view
 *     watch_event  ADDED/MODIFIED/DELETED/BOOKMARK with its object
 *     log          state changes and errors, for logging
 *
 * Protocol (as client-go's reflector does it): a paginated LIST
 * (limit/continue; 410 on continue restarts the list), then WATCH from
 * the list's resourceVersion with allowWatchBookmarks and a random
 * timeoutSeconds; every event, BOOKMARK included, advances the
 * RV; a normal close re-watches from the last RV; 410 (HTTP status or
 * ERROR event) relists; 429 and "connection refused" re-watch after a
 * delay (Retry-After honoured); other errors back off (800 ms doubling to
 * 30 s, jitter, reset after 2 min without failures) and relist.  401 sets
 * a "reload the token" flag (kube_lw_token_reload()).
 */

#ifndef KUBE_LISTWATCH_H
#define KUBE_LISTWATCH_H

#include <jansson.h>

#include "kube_common.h"
#include "kube_watch_event.h"


typedef enum {
    KUBE_LOG_ERR = 0,
    KUBE_LOG_WARN,
    KUBE_LOG_INFO,
    KUBE_LOG_DEBUG
} kube_log_level_e;


typedef struct {
    /* every callback is optional (NULL); ctx is kube_lw_conf_t.ctx */
    void  (*list_begin)(void *ctx);

    /* non-zero: the consumer failed; the list is aborted and retried */
    int   (*list_item)(void *ctx, json_t *item);
    int   (*list_end)(void *ctx, const char *rv);
    void  (*list_abort)(void *ctx);

    /* non-zero: the watch is aborted and a relist follows (backoff) */
    int   (*watch_event)(void *ctx, kube_event_type_e type, json_t *object,
                         const char *rv);

    void  (*log)(void *ctx, kube_log_level_e level, const char *msg);
} kube_lw_handler_t;


typedef struct {
    const char         *api_prefix;    /* "/apis/discovery.k8s.io/v1" */
    const char         *resource;      /* "endpointslices" */
    const char         *ns;            /* NULL or "": all namespaces */
    const char         *label_selector;  /* NULL: none; raw, encoded here */
    const char         *field_selector;  /* NULL: none; raw, encoded here */

    unsigned            page_limit;          /* 0: 500 */
    unsigned            watch_timeout_min_s; /* 0: 300 */
    unsigned            watch_timeout_max_s; /* 0: 600 (exclusive) */
    uint64_t            list_timeout_ms;     /* 0: 60 s, a suggestion */

    /*
     * A watch that delivers no byte for this long is stalled: the API
     * server sends a BOOKMARK at least about once a minute to a watch
     * that asked for them (allowWatchBookmarks), so silence for three
     * minutes means a dead peer or a wedged proxy.  0: 180 s.  A
     * suggestion, handed out in whole seconds as req->idle_timeout_s.
     */
    uint64_t            watch_idle_timeout_ms;

    uint64_t            backoff_initial_ms;  /* 0: 800 */
    uint64_t            backoff_max_ms;      /* 0: 30000 */
    uint64_t            backoff_reset_ms;    /* 0: 120000 */
    double              backoff_jitter;      /* 0: 1.0; < 0: none */
    uint64_t            short_watch_ms;      /* 0: 1000 */

    size_t              max_line;            /* 0: 16 MiB */
    size_t              max_list_body;       /* 0: 512 MiB */

    /* uniform 32-bit random numbers; NULL: internal xorshift from seed */
    uint32_t          (*random)(void *ctx);
    void               *random_ctx;
    uint64_t            seed;

    kube_lw_handler_t   handler;
    void               *ctx;
} kube_lw_conf_t;


typedef enum {
    KUBE_LW_REQUEST = 0,
    KUBE_LW_WAIT,
    KUBE_LW_BUSY
} kube_lw_action_e;


typedef struct {
    const char         *method;      /* "GET" */
    const char         *path;        /* path?query; valid until next call */
    int                 is_watch;
    unsigned            watch_timeout_s;  /* timeoutSeconds sent */
    uint64_t            timeout_ms;  /* suggested whole-transfer deadline */
    unsigned            idle_timeout_s;   /* watches: cut the stream after
                                             this long without a byte */
} kube_lw_request_t;


typedef enum {
    KUBE_LW_XFER_OK = 0,             /* the response ended normally */
    KUBE_LW_XFER_CONN_REFUSED,       /* nothing listening (re-watch) */
    KUBE_LW_XFER_ERROR               /* any other transport failure */
} kube_lw_xfer_e;


#define KUBE_LW_CONTINUE  0
#define KUBE_LW_ABORT     (-1)


typedef struct {
    const char         *state;       /* "list-pending", "listing",
                                        "watch-pending", "watching",
                                        "backoff" */
    const char         *rv;          /* last seen resourceVersion or "" */
    const char         *last_error;  /* "" if none yet */
    uint64_t            lists;       /* complete lists */
    uint64_t            relists;     /* returns from watch to list */
    uint64_t            watches;     /* watch requests issued */
    uint64_t            events;      /* watch events incl. bookmarks */
    uint64_t            errors;
    uint64_t            last_sync_ms;   /* last list_end or event; 0 never */
    uint64_t            next_attempt_ms; /* when waiting, else 0 */
    uint64_t            backoff_ms;  /* current backoff base, 0 if reset */
    unsigned            synced:1;    /* a complete list was delivered */
} kube_lw_stats_t;


typedef struct kube_lw_s  kube_lw_t;


/* conf strings are copied; NULL with err set on bad conf or no memory */
kube_lw_t *kube_lw_create(const kube_lw_conf_t *conf, kube_err_t *err);
void kube_lw_destroy(kube_lw_t *lw);

kube_lw_action_e kube_lw_next(kube_lw_t *lw, uint64_t now_ms,
    kube_lw_request_t *req, uint64_t *wake_ms);

/* a raw response header line ("Retry-After: 5\r\n"); others ignored */
void kube_lw_on_header(kube_lw_t *lw, const char *line, size_t len);
/* the same for callers that parse headers themselves */
void kube_lw_set_retry_after(kube_lw_t *lw, unsigned seconds);

void kube_lw_on_status(kube_lw_t *lw, uint64_t now_ms, int status);
int kube_lw_on_body(kube_lw_t *lw, uint64_t now_ms, const char *data,
    size_t len);
void kube_lw_on_done(kube_lw_t *lw, uint64_t now_ms, kube_lw_xfer_e result,
    const char *msg);

/* 1 once after a 401: re-read the token before the next request */
int kube_lw_token_reload(kube_lw_t *lw);

/*
 * Start at the WATCH stage from a known resourceVersion, without a LIST:
 * the caller already holds a complete view as of rv (e.g. a cache kept
 * across a process restart).  Only before the first request (the machine
 * is freshly created); the watch is requested at the next kube_lw_next().
 * A 410 then relists as usual.  Returns 0, or -1 (nothing changed) when
 * rv is empty or too long, or a request was already made.
 */
int kube_lw_resume(kube_lw_t *lw, const char *rv);

/* drop any transfer state and relist now (e.g. after a config change) */
void kube_lw_relist(kube_lw_t *lw, uint64_t now_ms);

void kube_lw_stats(const kube_lw_t *lw, uint64_t now_ms,
    kube_lw_stats_t *st);
const char *kube_lw_state_name(const kube_lw_t *lw, uint64_t now_ms);

/* path?query helpers, exposed for tests and other requests */
size_t kube_url_escape(char *dst, size_t size, const char *src);

#endif /* KUBE_LISTWATCH_H */
