/*
 * kubengx kube/: the list/watch machine's side of a transfer (see
 * kube_listwatch.h): the HTTP status, Retry-After, an error Status body,
 * a list body (pages, continue tokens, the list's resourceVersion) and
 * the lines of a watch stream, each event handed to the consumer.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube_listwatch_int.h"


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
