/*
 * kubengx kube/: the list/watch state machine, sans I/O (see
 * kube_listwatch.h): creating it, what to request next, failures and
 * backoff, resume, statistics.  Responses are fed in through
 * kube_listwatch_response.c.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube_listwatch_int.h"


char *
kube_lw_strdup(const char *s)
{
    size_t   len;
    char    *p;

    if (s == NULL || s[0] == '\0') {
        return NULL;
    }

    len = strlen(s) + 1;
    p = malloc(len);
    if (p != NULL) {
        memcpy(p, s, len);
    }

    return p;
}


void
kube_lw_log(kube_lw_t *lw, kube_log_level_e level, const char *fmt, ...)
{
    char     buf[KUBE_ERR_LEN];
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);

    if (level <= KUBE_LOG_WARN) {
        memcpy(lw->last_error, buf, sizeof(buf));
    }

    if (lw->conf.handler.log != NULL) {
        lw->conf.handler.log(lw->conf.ctx, level, buf);
    }
}


static uint32_t
kube_lw_random(kube_lw_t *lw)
{
    uint64_t  x;

    if (lw->conf.random != NULL) {
        return lw->conf.random(lw->conf.random_ctx);
    }

    /* xorshift64* */
    x = lw->rnd;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    lw->rnd = x;

    return (uint32_t) ((x * UINT64_C(2685821657736338717)) >> 32);
}


kube_lw_t *
kube_lw_create(const kube_lw_conf_t *conf, kube_err_t *err)
{
    kube_lw_t  *lw;

    if (conf->api_prefix == NULL || conf->api_prefix[0] != '/'
        || conf->resource == NULL || conf->resource[0] == '\0')
    {
        kube_err_set(err, "list/watch: api_prefix (\"/api/v1\", "
                     "\"/apis/GROUP/VERSION\") and resource are required");
        return NULL;
    }

    lw = calloc(1, sizeof(kube_lw_t));
    if (lw == NULL) {
        goto nomem;
    }

    lw->conf = *conf;

    if (lw->conf.page_limit == 0) {
        lw->conf.page_limit = 500;
    }

    if (lw->conf.watch_timeout_min_s == 0) {
        lw->conf.watch_timeout_min_s = 300;
    }

    if (lw->conf.watch_timeout_max_s == 0) {
        lw->conf.watch_timeout_max_s = lw->conf.watch_timeout_min_s * 2;
    }

    if (lw->conf.watch_timeout_max_s < lw->conf.watch_timeout_min_s) {
        lw->conf.watch_timeout_max_s = lw->conf.watch_timeout_min_s;
    }

    if (lw->conf.list_timeout_ms == 0) {
        lw->conf.list_timeout_ms = 60000;
    }

    if (lw->conf.watch_idle_timeout_ms == 0) {
        lw->conf.watch_idle_timeout_ms = 180000;
    }

    if (lw->conf.backoff_initial_ms == 0) {
        lw->conf.backoff_initial_ms = 800;
    }

    if (lw->conf.backoff_max_ms == 0) {
        lw->conf.backoff_max_ms = 30000;
    }

    if (lw->conf.backoff_reset_ms == 0) {
        lw->conf.backoff_reset_ms = 120000;
    }

    if (lw->conf.backoff_jitter == 0) {
        lw->conf.backoff_jitter = 1.0;

    } else if (lw->conf.backoff_jitter < 0) {
        lw->conf.backoff_jitter = 0;
    }

    if (lw->conf.short_watch_ms == 0) {
        lw->conf.short_watch_ms = 1000;
    }

    if (lw->conf.max_list_body == 0) {
        lw->conf.max_list_body = (size_t) 512 * 1024 * 1024;
    }

    lw->rnd = conf->seed ? conf->seed : UINT64_C(0x9e3779b97f4a7c15);
    lw->retry_after = -1;

    lw->api_prefix = kube_lw_strdup(conf->api_prefix);
    lw->resource = kube_lw_strdup(conf->resource);

    if (lw->api_prefix == NULL || lw->resource == NULL) {
        goto failed;
    }

    if ((conf->ns && conf->ns[0]
         && (lw->ns = kube_lw_strdup(conf->ns)) == NULL)
        || (conf->label_selector && conf->label_selector[0]
            && (lw->label_selector = kube_lw_strdup(conf->label_selector))
               == NULL)
        || (conf->field_selector && conf->field_selector[0]
            && (lw->field_selector = kube_lw_strdup(conf->field_selector))
               == NULL))
    {
        goto failed;
    }

    lw->framer = kube_framer_create(conf->max_line);
    if (lw->framer == NULL) {
        goto failed;
    }

    lw->state = KUBE_LW_LIST_PENDING;

    return lw;

failed:

    kube_lw_destroy(lw);

nomem:

    kube_err_set(err, "list/watch: out of memory");
    return NULL;
}


void
kube_lw_destroy(kube_lw_t *lw)
{
    if (lw == NULL) {
        return;
    }

    free(lw->api_prefix);
    free(lw->resource);
    free(lw->ns);
    free(lw->label_selector);
    free(lw->field_selector);
    free(lw->path);
    free(lw->continue_token);
    free(lw->body);
    kube_framer_destroy(lw->framer);
    free(lw);
}


static void
kube_lw_transfer_reset(kube_lw_t *lw)
{
    lw->status = 0;
    lw->aborted = 0;
    lw->retry_after = -1;
    lw->body_len = 0;

    if (lw->body_cap > 1024 * 1024) {
        free(lw->body);
        lw->body = NULL;
        lw->body_cap = 0;
    }

    kube_framer_reset(lw->framer);
}


void
kube_lw_list_abort(kube_lw_t *lw)
{
    if (lw->list_begun) {
        lw->list_begun = 0;

        if (lw->conf.handler.list_abort != NULL) {
            lw->conf.handler.list_abort(lw->conf.ctx);
        }
    }

    free(lw->continue_token);
    lw->continue_token = NULL;
}


static uint64_t
kube_lw_backoff(kube_lw_t *lw, uint64_t now)
{
    uint64_t  base, jitter;

    if (!lw->has_failed || lw->backoff_base == 0
        || now - lw->last_failure >= lw->conf.backoff_reset_ms)
    {
        base = lw->conf.backoff_initial_ms;

    } else {
        base = lw->backoff_base * 2;
        if (base > lw->conf.backoff_max_ms) {
            base = lw->conf.backoff_max_ms;
        }
    }

    lw->backoff_base = base;
    lw->last_failure = now;
    lw->has_failed = 1;

    jitter = (uint64_t) ((double) base * lw->conf.backoff_jitter
                         * ((double) kube_lw_random(lw) / 4294967296.0));

    return base + jitter;
}


/*
 * A failure (or a 410): decide where to go and when.  An immediate
 * relist/re-watch is taken only once in a row; a repeat backs off.
 */
void
kube_lw_fail(kube_lw_t *lw, uint64_t now, kube_lw_then_e then,
    const char *fmt, ...)
{
    char      buf[KUBE_ERR_LEN];
    int       relist;
    uint64_t  delay;
    va_list   ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);

    relist = (then == KUBE_LW_THEN_RELIST || then == KUBE_LW_THEN_RELIST_NOW);

    if (then == KUBE_LW_THEN_RELIST_NOW) {
        delay = (lw->watch_expired++ == 0) ? 0 : kube_lw_backoff(lw, now);

    } else if (then == KUBE_LW_THEN_REWATCH_NOW) {
        delay = 0;

    } else if (lw->retry_after >= 0) {
        delay = (uint64_t) lw->retry_after * 1000;
        lw->has_failed = 1;
        lw->last_failure = now;

    } else {
        delay = kube_lw_backoff(lw, now);
    }

    if (then != KUBE_LW_THEN_REWATCH_NOW) {
        lw->errors++;
    }

    if (lw->state == KUBE_LW_LISTING || lw->state == KUBE_LW_LIST_PENDING) {
        if (!relist) {
            /* 429 on a page: retry it, keeping the continue token */
            kube_lw_log(lw, KUBE_LOG_WARN, "%s; retrying the list in %llu ms",
                        buf, (unsigned long long) delay);
            relist = 1;

        } else {
            kube_lw_log(lw, KUBE_LOG_WARN, "%s; restarting the list in "
                        "%llu ms", buf, (unsigned long long) delay);
            kube_lw_list_abort(lw);
        }

    } else if (relist) {
        kube_lw_log(lw, KUBE_LOG_WARN, "%s; relisting in %llu ms", buf,
                    (unsigned long long) delay);
        lw->relists++;

    } else {
        kube_lw_log(lw, then == KUBE_LW_THEN_REWATCH_NOW ? KUBE_LOG_INFO
                                                          : KUBE_LOG_WARN,
                    "%s; watching again from resourceVersion %s in %llu ms",
                    buf, lw->rv, (unsigned long long) delay);
    }

    lw->state = relist ? KUBE_LW_LIST_PENDING : KUBE_LW_WATCH_PENDING;
    lw->not_before = now + delay;
    lw->aborted = 1;
}


kube_lw_action_e
kube_lw_next(kube_lw_t *lw, uint64_t now, kube_lw_request_t *req,
    uint64_t *wake_ms)
{
    int       watch;
    unsigned  t, span;

    if (lw->state == KUBE_LW_LISTING || lw->state == KUBE_LW_WATCHING) {
        return KUBE_LW_BUSY;
    }

    if (now < lw->not_before) {
        if (wake_ms) {
            *wake_ms = lw->not_before;
        }
        return KUBE_LW_WAIT;
    }

    watch = (lw->state == KUBE_LW_WATCH_PENDING);
    t = 0;

    if (watch) {
        span = lw->conf.watch_timeout_max_s - lw->conf.watch_timeout_min_s;
        t = lw->conf.watch_timeout_min_s
            + (span ? kube_lw_random(lw) % span : 0);
    }

    if (kube_lw_build_path(lw, watch, t) != 0) {
        kube_lw_log(lw, KUBE_LOG_ERR, "%s %s: out of memory, retrying",
                    watch ? "watch" : "list", lw->resource);
        lw->not_before = now + 1000;
        if (wake_ms) {
            *wake_ms = lw->not_before;
        }
        return KUBE_LW_WAIT;
    }

    kube_lw_transfer_reset(lw);

    memset(req, 0, sizeof(kube_lw_request_t));
    req->method = "GET";
    req->path = lw->path;
    req->is_watch = watch;

    if (watch) {
        lw->state = KUBE_LW_WATCHING;
        lw->watches++;
        lw->watch_started = now;
        lw->watch_events = 0;
        req->watch_timeout_s = t;
        req->timeout_ms = ((uint64_t) t + 30) * 1000;
        req->idle_timeout_s = (unsigned)
                              ((lw->conf.watch_idle_timeout_ms + 999) / 1000);

    } else {
        lw->state = KUBE_LW_LISTING;
        req->timeout_ms = lw->conf.list_timeout_ms;
    }

    kube_lw_log(lw, KUBE_LOG_DEBUG, "GET %s", lw->path);

    return KUBE_LW_REQUEST;
}


int
kube_lw_token_reload(kube_lw_t *lw)
{
    int  r = lw->token_reload;

    lw->token_reload = 0;
    return r;
}


int
kube_lw_resume(kube_lw_t *lw, const char *rv)
{
    size_t  len;

    if (rv == NULL || lw->state != KUBE_LW_LIST_PENDING || lw->path != NULL
        || lw->list_begun)
    {
        return -1;
    }

    len = strlen(rv);
    if (len == 0 || len >= sizeof(lw->rv)) {
        return -1;
    }

    memcpy(lw->rv, rv, len + 1);

    lw->state = KUBE_LW_WATCH_PENDING;
    lw->not_before = 0;
    lw->synced = 1;

    kube_lw_log(lw, KUBE_LOG_INFO, "resuming the watch of %s from "
                "resourceVersion %s without a list", lw->resource, lw->rv);

    return 0;
}


void
kube_lw_relist(kube_lw_t *lw, uint64_t now)
{
    if (lw->state == KUBE_LW_LISTING || lw->state == KUBE_LW_LIST_PENDING) {
        kube_lw_list_abort(lw);

    } else {
        lw->relists++;
    }

    lw->aborted = 1;
    lw->state = KUBE_LW_LIST_PENDING;
    lw->not_before = now;
}


const char *
kube_lw_state_name(const kube_lw_t *lw, uint64_t now)
{
    switch (lw->state) {

    case KUBE_LW_LISTING:
        return "listing";

    case KUBE_LW_WATCHING:
        return "watching";

    case KUBE_LW_LIST_PENDING:
        return now < lw->not_before ? "backoff" : "list-pending";

    default:
        return now < lw->not_before ? "backoff" : "watch-pending";
    }
}


void
kube_lw_stats(const kube_lw_t *lw, uint64_t now, kube_lw_stats_t *st)
{
    memset(st, 0, sizeof(kube_lw_stats_t));

    st->state = kube_lw_state_name(lw, now);
    st->rv = lw->rv;
    st->last_error = lw->last_error;
    st->lists = lw->lists;
    st->relists = lw->relists;
    st->watches = lw->watches;
    st->events = lw->events;
    st->errors = lw->errors;
    st->last_sync_ms = lw->last_sync;
    st->synced = lw->synced;
    st->backoff_ms = lw->has_failed ? lw->backoff_base : 0;

    if ((lw->state == KUBE_LW_LIST_PENDING
         || lw->state == KUBE_LW_WATCH_PENDING) && now < lw->not_before)
    {
        st->next_attempt_ms = lw->not_before;
    }
}
