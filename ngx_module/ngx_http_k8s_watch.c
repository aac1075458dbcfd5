
/*
 * kubengx: one list/watch per watched resource, driven on nginx's event
 * loop (see ngx_http_k8s_watcher.h).
 *
 * kube/kube_listwatch*.c decides what to request and when; this file makes
 * each request a libcurl transfer (ngx_http_k8s_curl.c) with the API
 * settings of ngx_http_k8s_api.c, feeds the response back to the machine
 * as it arrives, and publishes the watch state for k8s_status.  The
 * machine's callbacks (list items, watch events) are the resource's own
 * (ngx_http_k8s_slices.c, ngx_http_k8s_services.c); they receive the
 * watcher as their context.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_http.h>

#include "ngx_http_k8s_watcher.h"


static void ngx_http_k8s_watch_start(ngx_http_k8s_watch_t *wt,
    kube_lw_request_t *req);
static void ngx_http_k8s_watch_done(ngx_http_k8s_xfer_t *x, CURLcode rc);
static size_t ngx_http_k8s_watch_write_cb(char *ptr, size_t size,
    size_t nmemb, void *userdata);
static size_t ngx_http_k8s_watch_header_cb(char *ptr, size_t size,
    size_t nitems, void *userdata);
static void ngx_http_k8s_watch_log(void *ctx, kube_log_level_e level,
    const char *msg);


/* the order of progress: the least advanced watch names the state */
static const char  *ngx_http_k8s_watch_states[] = {
    "backoff", "list-pending", "listing", "watch-pending", "watching", NULL
};


ngx_int_t
ngx_http_k8s_watch_init(ngx_http_k8s_watch_t *wt, ngx_http_k8s_watcher_t *w,
    kube_lw_conf_t *conf)
{
    kube_err_t  err;

    wt->w = w;
    wt->resource = conf->resource;
    wt->xfer.done = ngx_http_k8s_watch_done;
    wt->xfer.data = wt;

    conf->seed = (uint64_t) ngx_pid * 2654435761u ^ (uint64_t) ngx_time();
    conf->handler.log = ngx_http_k8s_watch_log;
    conf->ctx = w;

    wt->lw = kube_lw_create(conf, &err);
    if (wt->lw == NULL) {
        ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                      "k8s watcher: %s", err.msg);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the next request of the machine, or when to ask again (*delay) */

void
ngx_http_k8s_watch_step(ngx_http_k8s_watch_t *wt, ngx_msec_t *delay)
{
    uint64_t           now, wake;
    kube_lw_action_e   action;
    kube_lw_request_t  req;

    if (wt->lw == NULL || wt->xfer.easy != NULL) {
        return;
    }

    now = ngx_current_msec;

    action = kube_lw_next(wt->lw, now, &req, &wake);

    if (action == KUBE_LW_REQUEST) {
        ngx_http_k8s_watch_start(wt, &req);

        if (wt->xfer.easy == NULL) {
            /* could not start it: the machine has been told */
            *delay = 0;
        }

    } else if (action == KUBE_LW_WAIT) {
        if (wake <= now) {
            *delay = 0;

        } else if (wake - now < *delay) {
            *delay = (ngx_msec_t) (wake - now);
        }
    }
}


static void
ngx_http_k8s_watch_start(ngx_http_k8s_watch_t *wt, kube_lw_request_t *req)
{
    CURL                    *e;
    ngx_http_k8s_watcher_t  *w;

    w = wt->w;

    if (kube_lw_token_reload(wt->lw)) {
        ngx_http_k8s_api_token_invalidate(&w->api);
    }

    e = ngx_http_k8s_api_easy(&w->api, req->path, (long) req->timeout_ms);

    if (e == NULL) {
        kube_lw_on_done(wt->lw, ngx_current_msec, KUBE_LW_XFER_ERROR,
                        "the request could not be set up (see error log)");
        return;
    }

    wt->status_seen = 0;
    wt->is_watch = req->is_watch;

    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, ngx_http_k8s_watch_write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, wt);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION,
                     ngx_http_k8s_watch_header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, wt);

    if (req->idle_timeout_s) {
        /* a stalled watch: fewer than 1 byte/s over the whole period */
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
                         (long) req->idle_timeout_s);
    }

    if (ngx_http_k8s_curl_start(&w->curl, &wt->xfer, e) != NGX_OK) {
        kube_lw_on_done(wt->lw, ngx_current_msec, KUBE_LW_XFER_ERROR,
                        "curl_multi_add_handle() failed");
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, w->log, 0,
                   "k8s watcher: GET %s%s", w->api.server, req->path);
}


void
ngx_http_k8s_watch_stop(ngx_http_k8s_watch_t *wt)
{
    if (wt->w != NULL) {
        ngx_http_k8s_curl_stop(&wt->w->curl, &wt->xfer);
    }
}


void
ngx_http_k8s_watch_free(ngx_http_k8s_watch_t *wt)
{
    ngx_http_k8s_watch_stop(wt);

    if (wt->lw) {
        kube_lw_destroy(wt->lw);
        wt->lw = NULL;
    }
}


/* a transfer ended: tell the machine, then take the next step at once */

static void
ngx_http_k8s_watch_done(ngx_http_k8s_xfer_t *x, CURLcode rc)
{
    long                     status;
    const char              *msg;
    kube_lw_xfer_e           result;
    ngx_http_k8s_watch_t    *wt;
    ngx_http_k8s_watcher_t  *w;

    wt = x->data;
    w = wt->w;

    status = 0;

    if (!wt->status_seen) {
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);

        if (status > 0) {
            wt->status_seen = 1;
            kube_lw_on_status(wt->lw, ngx_current_msec, (int) status);
        }
    }

    switch (rc) {

    case CURLE_OK:
        result = KUBE_LW_XFER_OK;
        break;

    case CURLE_COULDNT_CONNECT:
        result = KUBE_LW_XFER_CONN_REFUSED;
        break;

    default:
        result = KUBE_LW_XFER_ERROR;
    }

    msg = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, w->log, 0,
                   "k8s watcher: transfer done: curl=%d (%s) watch=%ui",
                   rc, msg, wt->is_watch);

    kube_lw_on_done(wt->lw, ngx_current_msec, result,
                    rc == CURLE_OK ? NULL : msg);

    ngx_http_k8s_watch_publish(w, NULL);

    ngx_http_k8s_curl_stop(&w->curl, x);

    if (!w->stopped && !ngx_http_k8s_watcher_exiting()) {
        ngx_http_k8s_arm_timer(&w->step, 0);
    }
}


/* libcurl callbacks: never call libcurl from these */

static size_t
ngx_http_k8s_watch_write_cb(char *ptr, size_t size, size_t nmemb,
    void *userdata)
{
    long                   status;
    size_t                 n;
    ngx_http_k8s_watch_t  *wt = userdata;

    n = size * nmemb;

    if (wt->w->stopped || ngx_http_k8s_watcher_exiting()) {
        return 0;    /* abort the transfer */
    }

    if (!wt->status_seen) {
        status = 0;
        curl_easy_getinfo(wt->xfer.easy, CURLINFO_RESPONSE_CODE, &status);
        wt->status_seen = 1;
        kube_lw_on_status(wt->lw, ngx_current_msec, (int) status);
    }

    if (kube_lw_on_body(wt->lw, ngx_current_msec, ptr, n)
        != KUBE_LW_CONTINUE)
    {
        return 0;
    }

    return n;
}


static size_t
ngx_http_k8s_watch_header_cb(char *ptr, size_t size, size_t nitems,
    void *userdata)
{
    size_t                 n;
    ngx_http_k8s_watch_t  *wt = userdata;

    n = size * nitems;

    kube_lw_on_header(wt->lw, ptr, n);

    return n;
}


static void
ngx_http_k8s_watch_log(void *ctx, kube_log_level_e level, const char *msg)
{
    ngx_uint_t               l;
    ngx_http_k8s_watcher_t  *w = ctx;

    switch (level) {

    case KUBE_LOG_ERR:
        l = NGX_LOG_ERR;
        break;

    case KUBE_LOG_WARN:
        l = NGX_LOG_WARN;
        break;

    case KUBE_LOG_INFO:
        l = NGX_LOG_INFO;
        break;

    default:
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, w->log, 0, "k8s watcher: %s",
                       msg);
        return;
    }

    ngx_log_error(l, w->log, 0, "k8s watcher: %s", msg);
}


/* relists and errors of every watch of this process */

void
ngx_http_k8s_watch_counters(ngx_http_k8s_watcher_t *w, ngx_uint_t *relists,
    ngx_uint_t *errors)
{
    ngx_uint_t       i;
    kube_lw_stats_t  st;

    *relists = 0;
    *errors = 0;

    for (i = 0; i < NGX_HTTP_K8S_RES_N; i++) {
        if (w->watch[i].lw == NULL) {
            continue;
        }

        kube_lw_stats(w->watch[i].lw, ngx_current_msec, &st);

        *relists += (ngx_uint_t) st.relists;
        *errors += (ngx_uint_t) st.errors;
    }
}


/*
 * The watch state for k8s_status: state (given, or the least advanced
 * of the watches), the EndpointSlice watch's resourceVersion, relists
 * and errors (every watch, added to those of earlier generations).
 */

void
ngx_http_k8s_watch_publish(ngx_http_k8s_watcher_t *w, const char *state)
{
    ngx_str_t        rv;
    ngx_uint_t       i, j, least, relists, errors;
    kube_lw_stats_t  st;

    for (i = 0; i < NGX_HTTP_K8S_RES_N; i++) {
        if (w->watch[i].lw == NULL) {
            ngx_http_k8s_table_set_watch_state(w->table, "unconfigured",
                                               NULL, 0, 0, 0);
            return;
        }
    }

    if (!w->leader) {
        /* the lease holder owns the watch state */
        return;
    }

    least = 4;

    for (i = 0; i < NGX_HTTP_K8S_RES_N; i++) {
        kube_lw_stats(w->watch[i].lw, ngx_current_msec, &st);

        for (j = 0; ngx_http_k8s_watch_states[j]; j++) {
            if (ngx_strcmp(st.state, ngx_http_k8s_watch_states[j]) == 0) {
                least = ngx_min(least, j);
                break;
            }
        }
    }

    if (state == NULL) {
        state = ngx_http_k8s_watch_states[least];
    }

    kube_lw_stats(w->watch[NGX_HTTP_K8S_RES_SLICES].lw, ngx_current_msec,
                  &st);

    rv.data = (u_char *) st.rv;
    rv.len = ngx_strlen(st.rv);

    ngx_http_k8s_watch_counters(w, &relists, &errors);

    /* counters add up over worker generations (reload, respawn) */

    ngx_http_k8s_table_set_watch_state(w->table, state, &rv,
                                       w->relists_base + relists,
                                       w->errors_base + errors,
                                       w->last_ok_sync);
}
