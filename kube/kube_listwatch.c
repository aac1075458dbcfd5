/*
 * kubengx kube/: the list/watch state machine, sans I/O.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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


static void kube_lw_log(kube_lw_t *lw, kube_log_level_e level,
    const char *fmt, ...) KUBE_PRINTF(3, 4);
static void kube_lw_fail(kube_lw_t *lw, uint64_t now, kube_lw_then_e then,
    const char *fmt, ...) KUBE_PRINTF(4, 5);


static char *
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


static void
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


size_t
kube_url_escape(char *dst, size_t size, const char *src)
{
    static const char  hex[] = "0123456789ABCDEF";
    unsigned char      c;
    size_t             n = 0;

    for (; *src; src++) {
        c = (unsigned char) *src;

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'
            || c == '~')
        {
            if (n + 1 < size) {
                dst[n] = (char) c;
            }
            n++;
            continue;
        }

        if (n + 3 < size) {
            dst[n] = '%';
            dst[n + 1] = hex[c >> 4];
            dst[n + 2] = hex[c & 0xf];
        }
        n += 3;
    }

    if (size) {
        dst[n < size ? n : size - 1] = '\0';
    }

    return n;
}


/* a growing string for the request path */
typedef struct {
    char    *p;
    size_t   len;
    size_t   cap;
    int      nomem;
} kube_lw_str_t;


static void
kube_lw_str_add(kube_lw_str_t *s, const char *data, size_t len)
{
    char    *np;
    size_t   cap;

    if (s->nomem) {
        return;
    }

    if (s->len + len + 1 > s->cap) {
        cap = s->cap ? s->cap : 256;
        while (cap < s->len + len + 1) {
            cap *= 2;
        }

        np = realloc(s->p, cap);
        if (np == NULL) {
            s->nomem = 1;
            return;
        }

        s->p = np;
        s->cap = cap;
    }

    memcpy(s->p + s->len, data, len);
    s->len += len;
    s->p[s->len] = '\0';
}


static void
kube_lw_str_cstr(kube_lw_str_t *s, const char *cstr)
{
    kube_lw_str_add(s, cstr, strlen(cstr));
}


static void
kube_lw_str_param(kube_lw_str_t *s, const char *name, const char *value)
{
    size_t  n;
    char   *tmp;

    kube_lw_str_cstr(s, s->p != NULL && strchr(s->p, '?') ? "&" : "?");
    kube_lw_str_cstr(s, name);
    kube_lw_str_add(s, "=", 1);

    n = kube_url_escape(NULL, 0, value);
    tmp = malloc(n + 1);
    if (tmp == NULL) {
        s->nomem = 1;
        return;
    }

    kube_url_escape(tmp, n + 1, value);
    kube_lw_str_add(s, tmp, n);
    free(tmp);
}


static int
kube_lw_build_path(kube_lw_t *lw, int watch, unsigned timeout_s)
{
    char           num[32];
    kube_lw_str_t  s;

    memset(&s, 0, sizeof(s));

    kube_lw_str_cstr(&s, lw->api_prefix);

    if (lw->ns != NULL) {
        kube_lw_str_cstr(&s, "/namespaces/");
        if (!s.nomem) {
            /* namespaces are DNS labels; escape anything else anyway */
            char  tmp[256];

            if (kube_url_escape(tmp, sizeof(tmp), lw->ns) >= sizeof(tmp)) {
                s.nomem = 1;

            } else {
                kube_lw_str_cstr(&s, tmp);
            }
        }
    }

    kube_lw_str_add(&s, "/", 1);
    kube_lw_str_cstr(&s, lw->resource);

    if (!watch) {
        snprintf(num, sizeof(num), "%u", lw->conf.page_limit);
        kube_lw_str_param(&s, "limit", num);

        if (lw->label_selector) {
            kube_lw_str_param(&s, "labelSelector", lw->label_selector);
        }

        if (lw->field_selector) {
            kube_lw_str_param(&s, "fieldSelector", lw->field_selector);
        }

        if (lw->continue_token) {
            kube_lw_str_param(&s, "continue", lw->continue_token);
        }

    } else {
        /* the order client-go sends (url.Values sorts keys) */
        kube_lw_str_param(&s, "allowWatchBookmarks", "true");

        if (lw->field_selector) {
            kube_lw_str_param(&s, "fieldSelector", lw->field_selector);
        }

        if (lw->label_selector) {
            kube_lw_str_param(&s, "labelSelector", lw->label_selector);
        }

        kube_lw_str_param(&s, "resourceVersion", lw->rv);
        snprintf(num, sizeof(num), "%u", timeout_s);
        kube_lw_str_param(&s, "timeoutSeconds", num);
        kube_lw_str_param(&s, "watch", "true");
    }

    if (s.nomem) {
        free(s.p);
        return -1;
    }

    free(lw->path);
    lw->path = s.p;

    return 0;
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


static void
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
static void
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


void
kube_lw_set_retry_after(kube_lw_t *lw, unsigned seconds)
{
    lw->retry_after = seconds > KUBE_LW_RA_MAX ? KUBE_LW_RA_MAX
                                                : (int) seconds;
}


void
kube_lw_on_header(kube_lw_t *lw, const char *line, size_t len)
{
    static const char  name[] = "retry-after:";
    size_t             i;
    unsigned long      v;

    if (len < sizeof(name) - 1
        || kube_strncasecmp(line, name, sizeof(name) - 1) != 0)
    {
        return;
    }

    i = sizeof(name) - 1;
    while (i < len && (line[i] == ' ' || line[i] == '\t')) {
        i++;
    }

    if (i == len || line[i] < '0' || line[i] > '9') {
        return;      /* an HTTP-date: use the backoff instead */
    }

    v = 0;
    while (i < len && line[i] >= '0' && line[i] <= '9') {
        if (v < 100000) {
            v = v * 10 + (unsigned long) (line[i] - '0');
        }
        i++;
    }

    kube_lw_set_retry_after(lw, (unsigned) (v > 100000 ? 100000 : v));
}


void
kube_lw_on_status(kube_lw_t *lw, uint64_t now, int status)
{
    (void) now;

    if (lw->state != KUBE_LW_LISTING && lw->state != KUBE_LW_WATCHING) {
        return;
    }

    lw->status = status;
}


static int
kube_lw_body_add(kube_lw_t *lw, const char *data, size_t len, size_t max)
{
    char    *nb;
    size_t   cap;

    if (len == 0) {
        return 0;       /* lw->body may still be NULL: no "NULL + 0" */
    }

    if (lw->body_len + len > max) {
        return -1;
    }

    if (lw->body_len + len > lw->body_cap) {
        cap = lw->body_cap ? lw->body_cap : 64 * 1024;
        while (cap < lw->body_len + len) {
            cap *= 2;
        }

        nb = realloc(lw->body, cap);
        if (nb == NULL) {
            return -1;
        }

        lw->body = nb;
        lw->body_cap = cap;
    }

    memcpy(lw->body + lw->body_len, data, len);
    lw->body_len += len;

    return 0;
}


static void
kube_lw_note_rv(kube_lw_t *lw, const char *rv)
{
    size_t  len;

    len = strlen(rv);
    if (len == 0) {
        return;
    }

    if (len >= sizeof(lw->rv)) {
        len = sizeof(lw->rv) - 1;
    }

    memcpy(lw->rv, rv, len);
    lw->rv[len] = '\0';
}


/* one watch line; returns 0 or -1 after kube_lw_fail() */
static int
kube_lw_watch_line(kube_lw_t *lw, uint64_t now, const char *line,
    size_t len)
{
    int                 rc;
    kube_err_t          err;
    kube_watch_event_t  ev;

    if (kube_watch_event_decode(line, len, &ev, &err) != 0) {
        kube_lw_fail(lw, now, KUBE_LW_THEN_RELIST, "watch %s: %s",
                     lw->resource, err.msg);
        return -1;
    }

    if (ev.type == KUBE_EVENT_ERROR) {

        if (ev.code == 410) {
            kube_lw_fail(lw, now, KUBE_LW_THEN_RELIST_NOW,
                         "watch %s: %s (410 %s)", lw->resource,
                         ev.message, ev.reason);

        } else if (ev.code == 429) {
            if (ev.retry_after > 0 && lw->retry_after < 0) {
                kube_lw_set_retry_after(lw, (unsigned) ev.retry_after);
            }
            kube_lw_fail(lw, now, KUBE_LW_THEN_REWATCH,
                         "watch %s: ERROR event 429 %s", lw->resource,
                         ev.message);

        } else {
            if (ev.code == 401) {
                lw->token_reload = 1;
            }
            kube_lw_fail(lw, now, KUBE_LW_THEN_RELIST,
                         "watch %s: ERROR event %d %s: %s", lw->resource,
                         ev.code, ev.reason, ev.message);
        }

        kube_watch_event_free(&ev);
        return -1;
    }

    kube_lw_note_rv(lw, ev.rv);

    lw->events++;
    lw->watch_events++;
    lw->watch_expired = 0;
    lw->last_sync = now;

    rc = 0;
    if (lw->conf.handler.watch_event != NULL) {
        rc = lw->conf.handler.watch_event(lw->conf.ctx, ev.type, ev.object,
                                          ev.rv);
    }

    kube_watch_event_free(&ev);

    if (rc != 0) {
        kube_lw_fail(lw, now, KUBE_LW_THEN_RELIST,
                     "watch %s: the consumer rejected an event",
                     lw->resource);
        return -1;
    }

    return 0;
}


int
kube_lw_on_body(kube_lw_t *lw, uint64_t now, const char *data, size_t len)
{
    size_t       n;
    const char  *line;
    kube_err_t   err;

    if (lw->aborted
        || (lw->state != KUBE_LW_LISTING && lw->state != KUBE_LW_WATCHING))
    {
        return KUBE_LW_ABORT;
    }

    if (lw->status < 200 || lw->status > 299) {
        /* an error Status body: keep the start of it for the message */
        n = KUBE_LW_ERRBODY_MAX - lw->body_len;
        (void) kube_lw_body_add(lw, data, len < n ? len : n,
                                KUBE_LW_ERRBODY_MAX);
        return KUBE_LW_CONTINUE;
    }

    if (lw->state == KUBE_LW_LISTING) {
        if (kube_lw_body_add(lw, data, len, lw->conf.max_list_body) != 0) {
            kube_lw_fail(lw, now, KUBE_LW_THEN_RELIST,
                         "list %s: response over %zu bytes or out of "
                         "memory", lw->resource, lw->conf.max_list_body);
            return KUBE_LW_ABORT;
        }

        return KUBE_LW_CONTINUE;
    }

    if (kube_framer_push(lw->framer, data, len, &err) != 0) {
        kube_lw_fail(lw, now, KUBE_LW_THEN_RELIST, "watch %s: %s",
                     lw->resource, err.msg);
        return KUBE_LW_ABORT;
    }

    while (kube_framer_next(lw->framer, &line, &n)) {
        if (kube_lw_watch_line(lw, now, line, n) != 0) {
            return KUBE_LW_ABORT;
        }
    }

    if (kube_framer_failed(lw->framer)) {
        kube_lw_fail(lw, now, KUBE_LW_THEN_RELIST, "watch %s: line longer "
                     "than %zu bytes", lw->resource,
                     kube_framer_max_line(lw->framer));
        return KUBE_LW_ABORT;
    }

    return KUBE_LW_CONTINUE;
}


/* the Status message of an error body, if it has one */
static void
kube_lw_status_message(kube_lw_t *lw, char *buf, size_t size)
{
    json_t      *root, *v;
    const char  *msg;

    buf[0] = '\0';

    if (lw->body_len == 0) {
        return;
    }

    root = json_loadb(lw->body, lw->body_len, 0, NULL);
    if (root == NULL) {
        snprintf(buf, size, ": %.*s", (int) (lw->body_len < 120
                                             ? lw->body_len : 120),
                 lw->body);
        return;
    }

    msg = json_string_value(json_object_get(root, "message"));
    if (msg != NULL) {
        snprintf(buf, size, ": %.160s", msg);
    }

    if (lw->retry_after < 0) {
        v = json_object_get(json_object_get(root, "details"),
                            "retryAfterSeconds");
        if (json_is_integer(v) && json_integer_value(v) > 0) {
            kube_lw_set_retry_after(lw, (unsigned) (json_integer_value(v)
                                                    > KUBE_LW_RA_MAX
                                                    ? KUBE_LW_RA_MAX
                                                    : json_integer_value(v)));
        }
    }

    json_decref(root);
}


static void
kube_lw_http_error(kube_lw_t *lw, uint64_t now)
{
    char          msg[200];
    const char   *what;
    int           watch;

    watch = (lw->state == KUBE_LW_WATCHING);
    what = watch ? "watch" : "list";

    kube_lw_status_message(lw, msg, sizeof(msg));

    if (lw->status == 401) {
        lw->token_reload = 1;
    }

    if (lw->status == 410) {
        if (watch) {
            kube_lw_fail(lw, now, KUBE_LW_THEN_RELIST_NOW,
                         "watch %s: HTTP 410%s", lw->resource, msg);
            return;
        }

        if (lw->continue_token != NULL && lw->list_expired++ == 0) {
            /* expired continue token: restart the list at once */
            kube_lw_log(lw, KUBE_LOG_WARN, "list %s: continue token "
                        "expired (HTTP 410%s); restarting the list",
                        lw->resource, msg);
            lw->errors++;
            kube_lw_list_abort(lw);
            lw->state = KUBE_LW_LIST_PENDING;
            lw->not_before = now;
            lw->aborted = 1;
            return;
        }
    }

    if (lw->status == 429) {
        /* a watch re-watches; a list page is retried with its token */
        kube_lw_fail(lw, now, KUBE_LW_THEN_REWATCH, "%s %s: HTTP 429%s",
                     what, lw->resource, msg);
        return;
    }

    lw->retry_after = (lw->status == 503) ? lw->retry_after : -1;

    kube_lw_fail(lw, now, KUBE_LW_THEN_RELIST, "%s %s: HTTP %d%s", what,
                 lw->resource, lw->status, msg);
}


static void
kube_lw_list_done(kube_lw_t *lw, uint64_t now)
{
    size_t        i;
    json_t       *root, *items, *meta, *item;
    const char   *rv, *cont;
    json_error_t  jerr;

    root = json_loadb(lw->body, lw->body_len, 0, &jerr);
    if (root == NULL) {
        kube_lw_fail(lw, now, KUBE_LW_THEN_RELIST, "list %s: invalid JSON "
                     "at line %d column %d: %s", lw->resource, jerr.line,
                     jerr.column, jerr.text);
        return;
    }

    items = json_object_get(root, "items");
    meta = json_object_get(root, "metadata");
    rv = json_string_value(json_object_get(meta, "resourceVersion"));
    cont = json_string_value(json_object_get(meta, "continue"));

    if (!json_is_object(root)
        || (items != NULL && !json_is_null(items) && !json_is_array(items))
        || rv == NULL || rv[0] == '\0')
    {
        json_decref(root);
        kube_lw_fail(lw, now, KUBE_LW_THEN_RELIST, "list %s: response is "
                     "not a list (no items array or no "
                     "metadata.resourceVersion)", lw->resource);
        return;
    }

    if (!lw->list_begun) {
        lw->list_begun = 1;
        if (lw->conf.handler.list_begin != NULL) {
            lw->conf.handler.list_begin(lw->conf.ctx);
        }
    }

    json_array_foreach(items, i, item) {
        if (lw->conf.handler.list_item != NULL
            && lw->conf.handler.list_item(lw->conf.ctx, item) != 0)
        {
            json_decref(root);
            kube_lw_fail(lw, now, KUBE_LW_THEN_RELIST, "list %s: the "
                         "consumer rejected item %zu", lw->resource, i);
            return;
        }
    }

    if (cont != NULL && cont[0] != '\0') {
        free(lw->continue_token);
        lw->continue_token = kube_lw_strdup(cont);

        if (lw->continue_token == NULL) {
            json_decref(root);
            kube_lw_fail(lw, now, KUBE_LW_THEN_RELIST, "list %s: out of "
                         "memory", lw->resource);
            return;
        }

        json_decref(root);
        lw->state = KUBE_LW_LIST_PENDING;
        lw->not_before = now;
        return;
    }

    kube_lw_note_rv(lw, rv);
    json_decref(root);

    free(lw->continue_token);
    lw->continue_token = NULL;
    lw->list_begun = 0;
    lw->list_expired = 0;

    if (lw->conf.handler.list_end != NULL
        && lw->conf.handler.list_end(lw->conf.ctx, lw->rv) != 0)
    {
        kube_lw_fail(lw, now, KUBE_LW_THEN_RELIST, "list %s: the consumer "
                     "rejected the list", lw->resource);
        return;
    }

    lw->lists++;
    lw->synced = 1;
    lw->last_sync = now;
    lw->state = KUBE_LW_WATCH_PENDING;
    lw->not_before = now;

    kube_lw_log(lw, KUBE_LOG_INFO, "list %s complete at resourceVersion %s",
                lw->resource, lw->rv);
}


void
kube_lw_on_done(kube_lw_t *lw, uint64_t now, kube_lw_xfer_e result,
    const char *msg)
{
    size_t       n;
    const char  *line;
    int          watch;

    if (lw->state != KUBE_LW_LISTING && lw->state != KUBE_LW_WATCHING) {
        return;    /* already decided (aborted), or no transfer */
    }

    watch = (lw->state == KUBE_LW_WATCHING);
    msg = msg ? msg : "";

    if (lw->status == 0 || (result != KUBE_LW_XFER_OK && !watch)
        || (result != KUBE_LW_XFER_OK && (lw->status < 200
                                          || lw->status > 299)))
    {
        /* no (usable) response */
        if (lw->status == 0 && result == KUBE_LW_XFER_OK) {
            msg = "no HTTP status";
        }

        kube_lw_fail(lw, now,
                     (watch && result == KUBE_LW_XFER_CONN_REFUSED)
                         ? KUBE_LW_THEN_REWATCH : KUBE_LW_THEN_RELIST,
                     "%s %s: %s%s%.160s", watch ? "watch" : "list",
                     lw->resource,
                     result == KUBE_LW_XFER_CONN_REFUSED
                         ? "connection refused" : "transport error",
                     msg[0] ? ": " : "", msg);
        return;
    }

    if (lw->status < 200 || lw->status > 299) {
        kube_lw_http_error(lw, now);
        return;
    }

    if (!watch) {
        kube_lw_list_done(lw, now);
        return;
    }

    /* the watch ended: a last line without "\n" still counts */
    if (kube_framer_finish(lw->framer, &line, &n)) {
        if (kube_lw_watch_line(lw, now, line, n) != 0) {
            return;
        }
    }

    if (lw->watch_events == 0 && now - lw->watch_started
                                 < lw->conf.short_watch_ms)
    {
        kube_lw_fail(lw, now, KUBE_LW_THEN_REWATCH, "watch %s: closed after "
                     "%llu ms without events%s%s", lw->resource,
                     (unsigned long long) (now - lw->watch_started),
                     msg[0] ? ": " : "", msg);
        return;
    }

    kube_lw_fail(lw, now, KUBE_LW_THEN_REWATCH_NOW, "watch %s: %s%.160s",
                 lw->resource,
                 result == KUBE_LW_XFER_OK ? "closed by the server"
                                           : "stream broken: ", msg);
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
