/*
 * kubengx kube/: the list/watch state machine's own state, shared by its
 * files (not for users of the machine: they include kube_listwatch.h).
 *
 *   kube_listwatch.c           creating the machine, what to request next,
 *                              failures and backoff, resume, statistics
 *   kube_listwatch_response.c  a response fed in: status, headers, a list
 *                              body, watch lines
 *   kube_listwatch_path.c      the request path and query
 */

#ifndef KUBE_LISTWATCH_INT_H
#define KUBE_LISTWATCH_INT_H

#include "kube_framer.h"
#include "kube_listwatch.h"


#define KUBE_LW_ERRBODY_MAX  (64 * 1024)
#define KUBE_LW_RV_MAX       128
#define KUBE_LW_RA_MAX       3600        /* Retry-After sanity cap, s */


typedef enum {
    KUBE_LW_LIST_PENDING = 0,
    KUBE_LW_LISTING,
    KUBE_LW_WATCH_PENDING,
    KUBE_LW_WATCHING
} kube_lw_state_e;


struct kube_lw_s {
    kube_lw_conf_t      conf;        /* strings below are our copies */
    char               *api_prefix;
    char               *resource;
    char               *ns;
    char               *label_selector;
    char               *field_selector;

    kube_lw_state_e     state;
    uint64_t            not_before;   /* for *_PENDING */

    char               *path;         /* last request */

    /* list */
    char               *continue_token;  /* NULL: first page */
    unsigned            list_begun:1;
    unsigned            list_expired;    /* consecutive 410 restarts */

    /* watch */
    char                rv[KUBE_LW_RV_MAX];
    unsigned            watch_expired;   /* consecutive 410 relists */
    uint64_t            watch_started;
    uint64_t            watch_events;    /* in the current watch */
    kube_framer_t      *framer;

    /* the transfer in flight */
    int                 status;
    int                 aborted;      /* decided before on_done */
    int                 retry_after;  /* s; -1 if none */
    char               *body;
    size_t              body_len;
    size_t              body_cap;

    /* backoff */
    uint64_t            backoff_base;
    uint64_t            last_failure;
    int                 has_failed;
    uint64_t            rnd;

    int                 token_reload;

    /* counters */
    uint64_t            lists;
    uint64_t            relists;
    uint64_t            watches;
    uint64_t            events;
    uint64_t            errors;
    uint64_t            last_sync;
    unsigned            synced:1;
    char                last_error[KUBE_ERR_LEN];
};


typedef enum {
    KUBE_LW_THEN_RELIST,       /* back to LIST (after a delay) */
    KUBE_LW_THEN_REWATCH,      /* WATCH again from the last RV */
    KUBE_LW_THEN_RELIST_NOW,   /* 410: relist at once the first time */
    KUBE_LW_THEN_REWATCH_NOW   /* normal watch end */
} kube_lw_then_e;


/* kube_listwatch.c */
char *kube_lw_strdup(const char *s);
void kube_lw_log(kube_lw_t *lw, kube_log_level_e level, const char *fmt, ...)
    KUBE_PRINTF(3, 4);

/*
 * A failure (or a 410): decide where to go and when (then), count it,
 * log it; the transfer in flight is marked aborted.
 */
void kube_lw_fail(kube_lw_t *lw, uint64_t now, kube_lw_then_e then,
    const char *fmt, ...) KUBE_PRINTF(4, 5);

/* a list in progress is abandoned: list_abort, continue token dropped */
void kube_lw_list_abort(kube_lw_t *lw);

/* kube_listwatch_path.c: lw->path for the next list page or watch */
int kube_lw_build_path(kube_lw_t *lw, int watch, unsigned timeout_s);

#endif /* KUBE_LISTWATCH_INT_H */
