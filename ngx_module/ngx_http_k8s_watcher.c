/*
 * kubengx: the EndpointSlice watcher (see ngx_http_k8s_watcher.h).
 *
 * Event plumbing (notes/curl-on-nginx-events.md, "Design rules"):
 *
 *   - one CURLM per watching worker; CURLMOPT_SOCKETFUNCTION maps each
 *     curl socket to an nginx connection from ngx_get_connection(), with
 *     the read and write events added and deleted separately and always
 *     level-triggered; CURL_POLL_REMOVE does a real delete, drops posted
 *     events and frees the connection with fd = -1 (the fd is curl's);
 *   - CURLMOPT_TIMERFUNCTION drives one cancelable timer, deleted before
 *     it is re-added (ngx_add_timer keeps a timer that is < 300 ms off);
 *   - a second cancelable timer, "step", asks the list/watch machine what
 *     to do next, retries the lease and heartbeats; curl is never called
 *     from inside its own callbacks;
 *   - curl connections are c->idle, so a graceful shutdown closes them
 *     (read handler with c->close); nothing restarts while exiting; all
 *     of curl is released in exit_process.
 *
 * Cache: per registered Service (namespace/name), the decoded slices that
 * carry its kubernetes.io/service-name label.  An event replaces, adds or
 * removes one slice and recomputes that Service's registered ports; a
 * list builds a private set of slices per Service and swaps it in only
 * when the whole list arrived (list_end), so a failed or partial list
 * never removes anything.  The table is written only when a port's
 * computed endpoint list changed.
 *
 * The cache is mirrored into the zone (ngx_http_k8s_slices.c) after the
 * table was written: every event's change, then its resourceVersion; a
 * complete list as a whole.  The next worker 0 resumes from it (see
 * ngx_http_k8s_watcher_resume()).  When the zone is full the mirror is
 * dropped first: the endpoint table needs the room more.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_http.h>

#include <curl/curl.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_table.h"
#include "ngx_http_k8s_slices.h"
#include "ngx_http_k8s_api.h"
#include "ngx_http_k8s_watcher.h"

#include "kube_endpointslice.h"
#include "kube_listwatch.h"
#include "kube_svc_endpoints.h"


typedef struct {
    ngx_http_k8s_key_t          *key;
    kube_svc_endpoints_t         last;      /* last written to the table */
    unsigned                     written:1;
    unsigned                     absent:1;  /* written as "no slices" */
} ngx_http_k8s_wkey_t;


typedef struct {
    kube_endpointslice_t       **elts;
    ngx_uint_t                   nelts;
    ngx_uint_t                   nalloc;
} ngx_http_k8s_slices_t;


typedef struct {
    const char                  *ns;        /* NUL-terminated */
    const char                  *name;
    ngx_http_k8s_slices_t        slices;    /* current view */
    ngx_http_k8s_slices_t        pending;   /* a list in progress */
    ngx_http_k8s_wkey_t         *keys;
    ngx_uint_t                   nkeys;
} ngx_http_k8s_wsvc_t;


typedef struct {
    ngx_cycle_t                 *cycle;
    ngx_log_t                   *log;
    ngx_http_k8s_table_t        *table;
    ngx_http_k8s_key_t         **keys;
    ngx_uint_t                   nkeys;
    time_t                       last_ok_sync;

    ngx_http_k8s_api_t           api;
    unsigned                     api_ready:1;
    unsigned                     curl_global:1;
    unsigned                     leader:1;
    unsigned                     stopped:1;
    unsigned                     status_seen:1;

    CURLM                       *multi;
    CURL                        *easy;      /* the transfer in flight */
    char                         errbuf[CURL_ERROR_SIZE];
    ngx_uint_t                   is_watch;

    kube_lw_t                   *lw;
    char                        *ns;        /* watched namespace or NULL */
    const char                  *selector;

    ngx_http_k8s_wsvc_t         *svcs;      /* sorted by ns, name */
    ngx_uint_t                   nsvcs;

    /* the shm slice cache: hashes of the Services' "ns/name", of the API
     * server; counters of earlier generations (k8s_status) */
    uint64_t                    *names;
    uint64_t                     server;
    ngx_uint_t                   relists_base;
    ngx_uint_t                   errors_base;
    unsigned                     started:1;  /* resume decided */

    ngx_event_t                  timer;     /* curl's timer */
    ngx_event_t                  step;      /* next list/watch step */
    ngx_connection_t             dummy;     /* ev->data of both timers */

    ngx_msec_t                   last_heartbeat;
    ngx_uint_t                   sockets;
    ngx_uint_t                   transfers;
} ngx_http_k8s_watcher_t;


static ngx_http_k8s_watcher_t  *ngx_http_k8s_watcher;


static ngx_int_t ngx_http_k8s_watcher_build_svcs(
    ngx_http_k8s_watcher_t *w);
static ngx_int_t ngx_http_k8s_watcher_build_selector(
    ngx_http_k8s_watcher_t *w);
static ngx_http_k8s_wsvc_t *ngx_http_k8s_watcher_find(
    ngx_http_k8s_watcher_t *w, const char *ns, const char *name);
static int ngx_http_k8s_watcher_svc_cmp(const void *a, const void *b);

static void ngx_http_k8s_watcher_arm(ngx_event_t *ev, ngx_msec_t ms);
static void ngx_http_k8s_watcher_step_handler(ngx_event_t *ev);
static void ngx_http_k8s_watcher_timer_handler(ngx_event_t *ev);
static void ngx_http_k8s_watcher_read_handler(ngx_event_t *ev);
static void ngx_http_k8s_watcher_write_handler(ngx_event_t *ev);
static void ngx_http_k8s_watcher_action(ngx_http_k8s_watcher_t *w,
    curl_socket_t s, int flags);
static void ngx_http_k8s_watcher_check_done(ngx_http_k8s_watcher_t *w);
static void ngx_http_k8s_watcher_start(ngx_http_k8s_watcher_t *w,
    kube_lw_request_t *req);
static void ngx_http_k8s_watcher_finish(ngx_http_k8s_watcher_t *w,
    CURLcode rc);
static void ngx_http_k8s_watcher_stop_transfer(ngx_http_k8s_watcher_t *w);
static void ngx_http_k8s_watcher_shutdown(ngx_http_k8s_watcher_t *w);
static ngx_uint_t ngx_http_k8s_watcher_exiting(void);
static void ngx_http_k8s_watcher_publish(ngx_http_k8s_watcher_t *w,
    const char *state);

static int ngx_http_k8s_watcher_socket_cb(CURL *e, curl_socket_t s,
    int what, void *userp, void *socketp);
static int ngx_http_k8s_watcher_timer_cb(CURLM *multi, long timeout_ms,
    void *userp);
static size_t ngx_http_k8s_watcher_write_cb(char *ptr, size_t size,
    size_t nmemb, void *userdata);
static size_t ngx_http_k8s_watcher_header_cb(char *ptr, size_t size,
    size_t nitems, void *userdata);
static void ngx_http_k8s_watcher_release(ngx_connection_t *c);

static void ngx_http_k8s_watcher_list_reset(void *ctx);
static int ngx_http_k8s_watcher_list_item(void *ctx, json_t *item);
static void ngx_http_k8s_watcher_warn_skipped(ngx_http_k8s_watcher_t *w,
    const char *ns, kube_endpointslice_t *es);
static int ngx_http_k8s_watcher_list_end(void *ctx, const char *rv);
static int ngx_http_k8s_watcher_event(void *ctx, kube_event_type_e type,
    json_t *object, const char *rv);
static int ngx_http_k8s_watcher_apply(ngx_http_k8s_watcher_t *w,
    kube_event_type_e type, json_t *object);
static void ngx_http_k8s_watcher_lw_log(void *ctx, kube_log_level_e level,
    const char *msg);

static ngx_http_k8s_wsvc_t *ngx_http_k8s_watcher_lookup(
    ngx_http_k8s_watcher_t *w, json_t *obj, const char **ns,
    const char **name);
static ngx_int_t ngx_http_k8s_slices_put(ngx_http_k8s_slices_t *s,
    kube_endpointslice_t *es);
static ngx_int_t ngx_http_k8s_slices_remove(ngx_http_k8s_slices_t *s,
    const char *name);
static void ngx_http_k8s_slices_free(ngx_http_k8s_slices_t *s);
static void ngx_http_k8s_watcher_recompute(ngx_http_k8s_watcher_t *w,
    ngx_http_k8s_wsvc_t *svc);
static ngx_int_t ngx_http_k8s_watcher_write(ngx_http_k8s_watcher_t *w,
    ngx_http_k8s_key_t *key, kube_svc_endpoints_t *eps);
static void ngx_http_k8s_watcher_str(ngx_str_t *dst, const char *s);
static void ngx_http_k8s_watcher_free(ngx_http_k8s_watcher_t *w);
static ngx_int_t ngx_http_k8s_watcher_hash_names(ngx_http_k8s_watcher_t *w);
static void ngx_http_k8s_watcher_acquired(ngx_http_k8s_watcher_t *w);
static void ngx_http_k8s_watcher_resume(ngx_http_k8s_watcher_t *w);
static ngx_int_t ngx_http_k8s_watcher_resume_slice(void *ctx,
    ngx_str_t *service, ngx_str_t *json);
static void ngx_http_k8s_watcher_store_all(ngx_http_k8s_watcher_t *w,
    const char *rv);


ngx_int_t
ngx_http_k8s_watcher_init_process(ngx_cycle_t *cycle)
{
    CURLcode                   rc;
    kube_err_t                 err;
    ngx_uint_t                 nkeys;
    kube_lw_conf_t             conf;
    ngx_http_k8s_key_t       **keys;
    ngx_http_k8s_table_t      *table;
    ngx_http_k8s_watcher_t    *w;
    ngx_http_k8s_main_conf_t  *kmcf;

    if (!((ngx_process == NGX_PROCESS_WORKER && ngx_worker == 0)
          || ngx_process == NGX_PROCESS_SINGLE))
    {
        return NGX_OK;
    }

    kmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_k8s_module);
    table = ngx_http_k8s_table_get(cycle);

    if (kmcf == NULL || table == NULL) {
        /* no k8s_zone: nothing to watch */
        return NGX_OK;
    }

    keys = ngx_http_k8s_table_keys(cycle, &nkeys);

    if (keys == NULL || nkeys == 0) {
        /* no k8s_service / k8s_backend */
        return NGX_OK;
    }

    w = ngx_pcalloc(cycle->pool, sizeof(ngx_http_k8s_watcher_t));
    if (w == NULL) {
        return NGX_ERROR;
    }

    w->cycle = cycle;
    w->log = cycle->log;
    w->table = table;
    w->keys = keys;
    w->nkeys = nkeys;

    ngx_http_k8s_watcher = w;

    w->dummy.fd = (ngx_socket_t) -1;

    w->timer.handler = ngx_http_k8s_watcher_timer_handler;
    w->timer.data = &w->dummy;
    w->timer.log = cycle->log;
    w->timer.cancelable = 1;

    w->step.handler = ngx_http_k8s_watcher_step_handler;
    w->step.data = &w->dummy;
    w->step.log = cycle->log;
    w->step.cancelable = 1;

    if (ngx_http_k8s_watcher_build_svcs(w) != NGX_OK
        || ngx_http_k8s_watcher_build_selector(w) != NGX_OK
        || ngx_http_k8s_watcher_hash_names(w) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                      "k8s watcher: out of memory at start");
        ngx_http_k8s_watcher_free(w);
        return NGX_OK;
    }

    /* libcurl and OpenSSL state only in the watching worker */

    rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                      "k8s watcher: curl_global_init() failed: %s",
                      curl_easy_strerror(rc));
        ngx_http_k8s_watcher_free(w);
        return NGX_OK;
    }

    w->curl_global = 1;

    if (ngx_http_k8s_api_init(&w->api, &kmcf->api_url, &kmcf->kubeconfig,
                              &kmcf->token_file, &kmcf->ca_file, w->log)
        != NGX_OK)
    {
        /* logged; k8s_status shows the watch as "unconfigured" */
        ngx_http_k8s_watcher_publish(w, NULL);
        ngx_http_k8s_watcher_free(w);
        return NGX_OK;
    }

    w->api_ready = 1;

    w->server = ngx_http_k8s_scache_hash((u_char *) w->api.server,
                                         ngx_strlen(w->api.server));

    w->multi = curl_multi_init();
    if (w->multi == NULL) {
        ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                      "k8s watcher: curl_multi_init() failed");
        ngx_http_k8s_watcher_free(w);
        return NGX_OK;
    }

    curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION,
                      ngx_http_k8s_watcher_socket_cb);
    curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
    curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION,
                      ngx_http_k8s_watcher_timer_cb);
    curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);

    ngx_memzero(&conf, sizeof(kube_lw_conf_t));

    conf.api_prefix = "/apis/discovery.k8s.io/v1";
    conf.resource = "endpointslices";
    conf.ns = w->ns;
    conf.label_selector = w->selector;
    conf.watch_idle_timeout_ms = kmcf->watch_idle_timeout;
    conf.seed = (uint64_t) ngx_pid * 2654435761u ^ (uint64_t) ngx_time();
    /* a list starting or failing drops the slices gathered so far */
    conf.handler.list_begin = ngx_http_k8s_watcher_list_reset;
    conf.handler.list_item = ngx_http_k8s_watcher_list_item;
    conf.handler.list_end = ngx_http_k8s_watcher_list_end;
    conf.handler.list_abort = ngx_http_k8s_watcher_list_reset;
    conf.handler.watch_event = ngx_http_k8s_watcher_event;
    conf.handler.log = ngx_http_k8s_watcher_lw_log;
    conf.ctx = w;

    w->lw = kube_lw_create(&conf, &err);
    if (w->lw == NULL) {
        ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                      "k8s watcher: %s", err.msg);
        ngx_http_k8s_watcher_free(w);
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                  "k8s watcher: %ui Service(s), %ui port(s), watching "
                  "endpointslices in %s%s with labelSelector \"%s\"",
                  w->nsvcs, w->nkeys,
                  w->ns ? "namespace " : "all namespaces",
                  w->ns ? w->ns : "", w->selector);

    /* the first step runs in the first loop iteration */

    ngx_http_k8s_watcher_arm(&w->step, 0);

    return NGX_OK;
}


void
ngx_http_k8s_watcher_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_k8s_watcher_t  *w;

    w = ngx_http_k8s_watcher;

    if (w == NULL) {
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, w->log, 0,
                   "k8s watcher: exit, transfer:%d sockets:%ui",
                   w->easy != NULL, w->sockets);

    ngx_http_k8s_watcher_free(w);
}


static void
ngx_http_k8s_watcher_free(ngx_http_k8s_watcher_t *w)
{
    ngx_uint_t  i, j;

    w->stopped = 1;

    if (w->step.timer_set) {
        ngx_del_timer(&w->step);
    }

    ngx_http_k8s_watcher_stop_transfer(w);

    if (w->multi) {
        /* REMOVE callbacks for cached connections may still arrive */
        curl_multi_cleanup(w->multi);
        w->multi = NULL;
    }

    if (w->timer.timer_set) {
        ngx_del_timer(&w->timer);
    }

    if (w->step.timer_set) {
        ngx_del_timer(&w->step);
    }

    if (w->leader) {
        ngx_http_k8s_table_lease_release(w->table, ngx_pid);
        w->leader = 0;
    }

    if (w->lw) {
        kube_lw_destroy(w->lw);
        w->lw = NULL;
    }

    for (i = 0; i < w->nsvcs; i++) {
        ngx_http_k8s_slices_free(&w->svcs[i].slices);
        ngx_http_k8s_slices_free(&w->svcs[i].pending);

        for (j = 0; j < w->svcs[i].nkeys; j++) {
            kube_svc_endpoints_free(&w->svcs[i].keys[j].last);
        }
    }

    w->nsvcs = 0;

    if (w->api_ready) {
        ngx_http_k8s_api_cleanup(&w->api);
        w->api_ready = 0;
    }

    if (w->curl_global) {
        curl_global_cleanup();
        w->curl_global = 0;
    }

    ngx_http_k8s_watcher = NULL;
}


/* configuration -> the set of watched Services */

static ngx_int_t
ngx_http_k8s_watcher_build_svcs(ngx_http_k8s_watcher_t *w)
{
    ngx_uint_t            i, j, n;
    ngx_http_k8s_key_t  **keys, *k;
    ngx_http_k8s_wkey_t  *wkeys;
    ngx_http_k8s_wsvc_t  *svc;

    keys = w->keys;
    n = w->nkeys;

    w->svcs = ngx_pcalloc(w->cycle->pool, n * sizeof(ngx_http_k8s_wsvc_t));
    if (w->svcs == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        w->svcs[i].ns = (const char *) keys[i]->ns.data;
        w->svcs[i].name = (const char *) keys[i]->name.data;
    }

    ngx_qsort(w->svcs, n, sizeof(ngx_http_k8s_wsvc_t),
              ngx_http_k8s_watcher_svc_cmp);

    /* unique */

    j = 0;

    for (i = 0; i < n; i++) {
        if (j > 0
            && ngx_http_k8s_watcher_svc_cmp(&w->svcs[j - 1], &w->svcs[i])
               == 0)
        {
            continue;
        }

        w->svcs[j++] = w->svcs[i];
    }

    w->nsvcs = j;

    /* each Service's ports: count, then place them */

    for (i = 0; i < n; i++) {
        svc = ngx_http_k8s_watcher_find(w, (const char *) keys[i]->ns.data,
                                        (const char *) keys[i]->name.data);
        if (svc != NULL) {
            svc->nkeys++;
        }
    }

    wkeys = ngx_pcalloc(w->cycle->pool, n * sizeof(ngx_http_k8s_wkey_t));
    if (wkeys == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < w->nsvcs; i++) {
        svc = &w->svcs[i];
        svc->keys = wkeys;
        wkeys += svc->nkeys;
        svc->nkeys = 0;
    }

    for (i = 0; i < n; i++) {
        k = keys[i];
        svc = ngx_http_k8s_watcher_find(w, (const char *) k->ns.data,
                                        (const char *) k->name.data);
        if (svc != NULL) {
            svc->keys[svc->nkeys++].key = k;
        }
    }

    return NGX_OK;
}


/*
 * The label selector: "kubernetes.io/service-name in (a,b,...)" for up to
 * NGX_HTTP_K8S_WATCH_MAX_IN_NAMES distinct names, else the label's mere
 * existence; a namespaced watch when every Service is in one namespace.
 * Either way events are filtered by namespace/name here, since "in" over
 * several namespaces also matches same-named Services elsewhere.
 */

static ngx_int_t
ngx_http_k8s_watcher_build_selector(ngx_http_k8s_watcher_t *w)
{
    u_char      *p, *sel;
    size_t       len;
    ngx_uint_t   i, j, names, one_ns;

    one_ns = 1;

    for (i = 1; i < w->nsvcs; i++) {
        if (ngx_strcmp(w->svcs[i].ns, w->svcs[0].ns) != 0) {
            one_ns = 0;
            break;
        }
    }

    if (one_ns && w->nsvcs > 0) {
        len = ngx_strlen(w->svcs[0].ns);
        w->ns = ngx_pnalloc(w->cycle->pool, len + 1);
        if (w->ns == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(w->ns, w->svcs[0].ns, len + 1);
    }

    if (w->nsvcs > 4 * NGX_HTTP_K8S_WATCH_MAX_IN_NAMES) {
        /* too many names for "in": do not even count them */
        w->selector = KUBE_ES_SERVICE_NAME_LABEL;
        return NGX_OK;
    }

    /* distinct names (sorted by namespace first: names may repeat) */

    names = 0;
    len = sizeof(KUBE_ES_SERVICE_NAME_LABEL " in ()");

    for (i = 0; i < w->nsvcs; i++) {
        for (j = 0; j < i; j++) {
            if (ngx_strcmp(w->svcs[j].name, w->svcs[i].name) == 0) {
                break;
            }
        }

        if (j == i) {
            names++;
            len += ngx_strlen(w->svcs[i].name) + 1;
        }
    }

    if (names == 0 || names > NGX_HTTP_K8S_WATCH_MAX_IN_NAMES) {
        w->selector = KUBE_ES_SERVICE_NAME_LABEL;
        return NGX_OK;
    }

    sel = ngx_pnalloc(w->cycle->pool, len);
    if (sel == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(sel, KUBE_ES_SERVICE_NAME_LABEL " in (",
                   sizeof(KUBE_ES_SERVICE_NAME_LABEL " in (") - 1);

    for (i = 0; i < w->nsvcs; i++) {
        for (j = 0; j < i; j++) {
            if (ngx_strcmp(w->svcs[j].name, w->svcs[i].name) == 0) {
                break;
            }
        }

        if (j != i) {
            continue;
        }

        if (p[-1] != '(') {
            *p++ = ',';
        }

        p = ngx_cpymem(p, w->svcs[i].name, ngx_strlen(w->svcs[i].name));
    }

    *p++ = ')';
    *p = '\0';

    w->selector = (const char *) sel;

    return NGX_OK;
}


static int
ngx_http_k8s_watcher_svc_cmp(const void *a, const void *b)
{
    int                         rc;
    const ngx_http_k8s_wsvc_t  *x = a, *y = b;

    rc = ngx_strcmp(x->ns, y->ns);
    if (rc != 0) {
        return rc;
    }

    return ngx_strcmp(x->name, y->name);
}


static ngx_http_k8s_wsvc_t *
ngx_http_k8s_watcher_find(ngx_http_k8s_watcher_t *w, const char *ns,
    const char *name)
{
    int                   rc;
    ngx_int_t             lo, hi, mid;
    ngx_http_k8s_wsvc_t   key;

    key.ns = ns;
    key.name = name;

    lo = 0;
    hi = (ngx_int_t) w->nsvcs - 1;

    while (lo <= hi) {
        mid = (lo + hi) / 2;
        rc = ngx_http_k8s_watcher_svc_cmp(&key, &w->svcs[mid]);

        if (rc == 0) {
            return &w->svcs[mid];
        }

        if (rc < 0) {
            hi = mid - 1;

        } else {
            lo = mid + 1;
        }
    }

    return NULL;
}


/* events and timers */

static void
ngx_http_k8s_watcher_arm(ngx_event_t *ev, ngx_msec_t ms)
{
    /* del first: ngx_add_timer() keeps a timer less than 300 ms off */

    if (ev->timer_set) {
        ngx_del_timer(ev);
    }

    ngx_add_timer(ev, ms);
}


/*
 * Graceful shutdown: stop the transfer and hand the lease over at once
 * (the new generation's worker 0 takes it at its next tick), even if the
 * worker lingers for client requests still in flight.
 */

static void
ngx_http_k8s_watcher_shutdown(ngx_http_k8s_watcher_t *w)
{
    w->stopped = 1;

    if (w->step.timer_set) {
        ngx_del_timer(&w->step);
    }

    ngx_http_k8s_watcher_stop_transfer(w);

    if (w->leader) {
        ngx_http_k8s_watcher_publish(w, "stopped");
        ngx_http_k8s_table_lease_release(w->table, ngx_pid);
        w->leader = 0;
    }
}


static ngx_uint_t
ngx_http_k8s_watcher_exiting(void)
{
    return ngx_exiting || ngx_quit || ngx_terminate;
}


static void
ngx_http_k8s_watcher_step_handler(ngx_event_t *ev)
{
    ngx_msec_t               delay;
    uint64_t                 now, wake;
    kube_lw_action_e         action;
    kube_lw_request_t        req;
    ngx_http_k8s_watcher_t  *w;

    w = ngx_http_k8s_watcher;

    if (w == NULL || w->stopped) {
        return;
    }

    if (ngx_http_k8s_watcher_exiting()) {
        ngx_http_k8s_watcher_shutdown(w);
        return;
    }

    now = ngx_current_msec;
    delay = NGX_HTTP_K8S_WATCH_TICK;

    /* the writer lease: one writer across a reload overlap */

    if (!w->leader) {
        if (ngx_http_k8s_table_lease_acquire(w->table, ngx_pid,
                                             ngx_current_msec)
            != NGX_OK)
        {
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, w->log, 0,
                           "k8s watcher: lease held by another process");
            ngx_http_k8s_watcher_publish(w, NULL);
            ngx_http_k8s_watcher_arm(&w->step, delay);
            return;
        }

        w->leader = 1;
        w->last_heartbeat = ngx_current_msec;

        ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                      "k8s watcher: writer lease acquired by pid %P",
                      ngx_pid);

        ngx_http_k8s_watcher_acquired(w);

    } else if (ngx_current_msec - w->last_heartbeat
               >= NGX_HTTP_K8S_WATCH_TICK / 2)
    {
        if (ngx_http_k8s_table_lease_heartbeat(w->table, ngx_pid,
                                               ngx_current_msec)
            != NGX_OK)
        {
            /* lost it (a stalled worker whose lease expired) */
            ngx_log_error(NGX_LOG_WARN, w->log, 0,
                          "k8s watcher: writer lease lost, stopping");
            w->leader = 0;
            ngx_http_k8s_watcher_stop_transfer(w);
            kube_lw_relist(w->lw, now);
            ngx_http_k8s_watcher_arm(&w->step, delay);
            return;
        }

        w->last_heartbeat = ngx_current_msec;
    }

    if (w->easy == NULL) {
        action = kube_lw_next(w->lw, now, &req, &wake);

        if (action == KUBE_LW_REQUEST) {
            ngx_http_k8s_watcher_start(w, &req);

            if (w->easy == NULL) {
                /* could not start it: the machine has been told */
                delay = 0;
            }

        } else if (action == KUBE_LW_WAIT) {
            if (wake <= now) {
                delay = 0;

            } else if (wake - now < delay) {
                delay = (ngx_msec_t) (wake - now);
            }
        }
    }

    ngx_http_k8s_watcher_publish(w, NULL);
    ngx_http_k8s_watcher_arm(&w->step, delay);
}


static void
ngx_http_k8s_watcher_start(ngx_http_k8s_watcher_t *w,
    kube_lw_request_t *req)
{
    CURL       *e;
    CURLMcode   mrc;

    if (kube_lw_token_reload(w->lw)) {
        ngx_http_k8s_api_token_invalidate(&w->api);
    }

    e = ngx_http_k8s_api_easy(&w->api, req->path, (long) req->timeout_ms);

    if (e == NULL) {
        kube_lw_on_done(w->lw, ngx_current_msec, KUBE_LW_XFER_ERROR,
                        "the request could not be set up (see error log)");
        return;
    }

    w->errbuf[0] = '\0';
    w->status_seen = 0;
    w->is_watch = req->is_watch;

    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION,
                     ngx_http_k8s_watcher_write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, w);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION,
                     ngx_http_k8s_watcher_header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, w);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, w->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, w);

    if (req->idle_timeout_s) {
        /* a stalled watch: fewer than 1 byte/s over the whole period */
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
                         (long) req->idle_timeout_s);
    }

    mrc = curl_multi_add_handle(w->multi, e);
    if (mrc != CURLM_OK) {
        ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                      "k8s watcher: curl_multi_add_handle() failed: %s",
                      curl_multi_strerror(mrc));
        curl_easy_cleanup(e);
        kube_lw_on_done(w->lw, ngx_current_msec, KUBE_LW_XFER_ERROR,
                        "curl_multi_add_handle() failed");
        return;
    }

    w->easy = e;
    w->transfers++;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, w->log, 0,
                   "k8s watcher: GET %s%s", w->api.server, req->path);

    /* curl's timer callback has been asked for a 0 ms timeout */
}


static void
ngx_http_k8s_watcher_stop_transfer(ngx_http_k8s_watcher_t *w)
{
    CURL  *e;

    e = w->easy;

    if (e == NULL) {
        return;
    }

    w->easy = NULL;

    /* REMOVE callbacks free the connections */
    curl_multi_remove_handle(w->multi, e);
    curl_easy_cleanup(e);
}


static void
ngx_http_k8s_watcher_timer_handler(ngx_event_t *ev)
{
    ngx_http_k8s_watcher_t  *w;

    w = ngx_http_k8s_watcher;

    if (w == NULL || w->multi == NULL) {
        return;
    }

    ngx_http_k8s_watcher_action(w, CURL_SOCKET_TIMEOUT, 0);
}


static void
ngx_http_k8s_watcher_read_handler(ngx_event_t *ev)
{
    ngx_connection_t        *c;
    ngx_http_k8s_watcher_t  *w;

    c = ev->data;
    w = ngx_http_k8s_watcher;

    if (w == NULL || w->multi == NULL) {
        return;
    }

    if (c->close) {
        /* graceful shutdown (ngx_close_idle_connections) */
        ngx_log_error(NGX_LOG_INFO, w->log, 0,
                      "k8s watcher: shutting down, watch stopped");

        /*
         * no more events for this socket even if libcurl keeps it cached
         * without a REMOVE (it is then released in exit_process)
         */

        if (c->read->active) {
            ngx_del_event(c->read, NGX_READ_EVENT, 0);
        }

        if (c->write->active) {
            ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
        }

        ngx_http_k8s_watcher_shutdown(w);

        /* c was freed through the REMOVE callback: do not touch it */
        return;
    }

    ngx_http_k8s_watcher_action(w, c->fd, CURL_CSELECT_IN);
}


static void
ngx_http_k8s_watcher_write_handler(ngx_event_t *ev)
{
    ngx_connection_t        *c;
    ngx_http_k8s_watcher_t  *w;

    c = ev->data;
    w = ngx_http_k8s_watcher;

    if (w == NULL || w->multi == NULL) {
        return;
    }

    ngx_http_k8s_watcher_action(w, c->fd, CURL_CSELECT_OUT);
}


static void
ngx_http_k8s_watcher_action(ngx_http_k8s_watcher_t *w, curl_socket_t s,
    int flags)
{
    int        running;
    CURLMcode  mrc;

    mrc = curl_multi_socket_action(w->multi, s, flags, &running);

    if (mrc != CURLM_OK) {
        ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                      "k8s watcher: curl_multi_socket_action() failed: %s",
                      curl_multi_strerror(mrc));
    }

    ngx_http_k8s_watcher_check_done(w);
}


static void
ngx_http_k8s_watcher_check_done(ngx_http_k8s_watcher_t *w)
{
    int        left;
    CURLMsg   *msg;

    while ((msg = curl_multi_info_read(w->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE || msg->easy_handle != w->easy) {
            continue;
        }

        ngx_http_k8s_watcher_finish(w, msg->data.result);

        /* msg is invalid once the handle is removed */
        ngx_http_k8s_watcher_stop_transfer(w);

        if (!w->stopped && !ngx_http_k8s_watcher_exiting()) {
            ngx_http_k8s_watcher_arm(&w->step, 0);
        }

        break;
    }
}


static void
ngx_http_k8s_watcher_finish(ngx_http_k8s_watcher_t *w, CURLcode rc)
{
    long             status;
    const char      *msg;
    kube_lw_xfer_e   result;

    status = 0;

    if (!w->status_seen) {
        curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &status);

        if (status > 0) {
            w->status_seen = 1;
            kube_lw_on_status(w->lw, ngx_current_msec, (int) status);
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

    msg = w->errbuf[0] ? w->errbuf : curl_easy_strerror(rc);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, w->log, 0,
                   "k8s watcher: transfer done: curl=%d (%s) watch=%ui",
                   rc, msg, w->is_watch);

    kube_lw_on_done(w->lw, ngx_current_msec, result,
                    rc == CURLE_OK ? NULL : msg);

    ngx_http_k8s_watcher_publish(w, NULL);
}


/* libcurl callbacks: never call libcurl from these */

static int
ngx_http_k8s_watcher_socket_cb(CURL *e, curl_socket_t s, int what,
    void *userp, void *socketp)
{
    ngx_connection_t        *c;
    ngx_http_k8s_watcher_t  *w;

    w = userp;
    c = socketp;

    if (what == CURL_POLL_REMOVE) {
        if (c != NULL) {
            ngx_http_k8s_watcher_release(c);
            w->sockets--;
            curl_multi_assign(w->multi, s, NULL);
        }

        return 0;
    }

    if (c == NULL) {
        c = ngx_get_connection(s, w->log);
        if (c == NULL) {
            return -1;
        }

        c->read->handler = ngx_http_k8s_watcher_read_handler;
        c->write->handler = ngx_http_k8s_watcher_write_handler;
        c->read->log = w->log;
        c->write->log = w->log;
        c->log = w->log;

        /* closed by ngx_close_idle_connections() on graceful shutdown */
        c->idle = 1;

        w->sockets++;
        curl_multi_assign(w->multi, s, c);
    }

    /* read and write separately, level-triggered (NGX_LEVEL_EVENT) */

    if (what & CURL_POLL_IN) {
        if (!c->read->active
            && ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT)
               != NGX_OK)
        {
            return -1;
        }

    } else if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }

    if (what & CURL_POLL_OUT) {
        if (!c->write->active
            && ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
               != NGX_OK)
        {
            return -1;
        }

    } else if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }

    return 0;
}


static void
ngx_http_k8s_watcher_release(ngx_connection_t *c)
{
    /* a real delete: the fd stays open (curl may cache it) */

    if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }

    if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    ngx_free_connection(c);

    /* ngx_free_connection() leaves fd; never close curl's socket */
    c->fd = (ngx_socket_t) -1;
}


static int
ngx_http_k8s_watcher_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    ngx_http_k8s_watcher_t  *w = userp;

    if (timeout_ms < 0) {
        if (w->timer.timer_set) {
            ngx_del_timer(&w->timer);
        }

        return 0;
    }

    ngx_http_k8s_watcher_arm(&w->timer, (ngx_msec_t) timeout_ms);

    return 0;
}


static size_t
ngx_http_k8s_watcher_write_cb(char *ptr, size_t size, size_t nmemb,
    void *userdata)
{
    long                     status;
    size_t                   n;
    ngx_http_k8s_watcher_t  *w = userdata;

    n = size * nmemb;

    if (w->stopped || ngx_http_k8s_watcher_exiting()) {
        return 0;    /* abort the transfer */
    }

    if (!w->status_seen) {
        status = 0;
        curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &status);
        w->status_seen = 1;
        kube_lw_on_status(w->lw, ngx_current_msec, (int) status);
    }

    if (kube_lw_on_body(w->lw, ngx_current_msec, ptr, n) != KUBE_LW_CONTINUE)
    {
        return 0;
    }

    return n;
}


static size_t
ngx_http_k8s_watcher_header_cb(char *ptr, size_t size, size_t nitems,
    void *userdata)
{
    size_t                   n;
    ngx_http_k8s_watcher_t  *w = userdata;

    n = size * nitems;

    kube_lw_on_header(w->lw, ptr, n);

    return n;
}


/* the list/watch machine's callbacks: the slice cache */

static void
ngx_http_k8s_watcher_list_reset(void *ctx)
{
    ngx_uint_t               i;
    ngx_http_k8s_watcher_t  *w = ctx;

    for (i = 0; i < w->nsvcs; i++) {
        ngx_http_k8s_slices_free(&w->svcs[i].pending);
    }
}


/* entries of a listed or watched slice that decoding skipped (bad
 * addresses, ports out of range): the first reason, once per slice */

static void
ngx_http_k8s_watcher_warn_skipped(ngx_http_k8s_watcher_t *w, const char *ns,
    kube_endpointslice_t *es)
{
    if (es->nwarnings) {
        ngx_log_error(NGX_LOG_WARN, w->log, 0,
                      "k8s watcher: EndpointSlice \"%s/%s\": %s%s", ns,
                      es->name, es->warnings[0],
                      es->nwarnings > 1 ? " (and more)" : "");
    }
}


static int
ngx_http_k8s_watcher_list_item(void *ctx, json_t *item)
{
    const char              *ns, *name;
    kube_err_t               err;
    ngx_http_k8s_wsvc_t     *svc;
    kube_endpointslice_t    *es;
    ngx_http_k8s_watcher_t  *w = ctx;

    svc = ngx_http_k8s_watcher_lookup(w, item, &ns, &name);
    if (svc == NULL) {
        return 0;
    }

    es = kube_endpointslice_decode(item, NULL, &err);
    if (es == NULL) {
        ngx_log_error(NGX_LOG_WARN, w->log, 0,
                      "k8s watcher: EndpointSlice in \"%s\" of Service "
                      "\"%s\" skipped: %s", ns, name, err.msg);
        return 0;
    }

    ngx_http_k8s_watcher_warn_skipped(w, ns, es);

    if (ngx_http_k8s_slices_put(&svc->pending, es) != NGX_OK) {
        kube_endpointslice_free(es);
        ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                      "k8s watcher: out of memory while listing");
        return -1;
    }

    return 0;
}


static int
ngx_http_k8s_watcher_list_end(void *ctx, const char *rv)
{
    ngx_uint_t               i;
    ngx_http_k8s_wsvc_t     *svc;
    ngx_http_k8s_watcher_t  *w = ctx;

    /* the whole list arrived: swap every Service's view, then diff */

    for (i = 0; i < w->nsvcs; i++) {
        svc = &w->svcs[i];

        ngx_http_k8s_slices_free(&svc->slices);
        svc->slices = svc->pending;
        ngx_memzero(&svc->pending, sizeof(ngx_http_k8s_slices_t));

        ngx_http_k8s_watcher_recompute(w, svc);
    }

    w->last_ok_sync = ngx_time();

    ngx_http_k8s_table_mark_synced(w->table, w->log);

    /* the table first; then the slice cache, for the next worker 0 */

    ngx_http_k8s_watcher_store_all(w, rv);

    ngx_log_error(NGX_LOG_INFO, w->log, 0,
                  "k8s watcher: synced at resourceVersion %s", rv);

    return 0;
}


static int
ngx_http_k8s_watcher_event(void *ctx, kube_event_type_e type,
    json_t *object, const char *rv)
{
    int                      rc;
    ngx_http_k8s_watcher_t  *w = ctx;

    w->last_ok_sync = ngx_time();

    /* the shm slice cache follows; rv is stored after the change */

    ngx_http_k8s_scache_begin(w->table);

    rc = ngx_http_k8s_watcher_apply(w, type, object);

    /* an event not applied (a relist follows) must be replayed */

    ngx_http_k8s_scache_end(w->table, rc == 0 ? rv : NULL);

    return rc;
}


static int
ngx_http_k8s_watcher_apply(ngx_http_k8s_watcher_t *w, kube_event_type_e type,
    json_t *object)
{
    int                      rc;
    ngx_uint_t               i;
    const char              *ns, *name, *slice;
    kube_err_t               err;
    ngx_http_k8s_wsvc_t     *svc, *other;
    kube_endpointslice_t    *es;

    if (type != KUBE_EVENT_ADDED && type != KUBE_EVENT_MODIFIED
        && type != KUBE_EVENT_DELETED)
    {
        return 0;    /* BOOKMARK: only the resourceVersion moves */
    }

    svc = ngx_http_k8s_watcher_lookup(w, object, &ns, &name);

    slice = json_string_value(json_object_get(json_object_get(object,
                                                              "metadata"),
                                              "name"));
    if (slice == NULL || ns == NULL) {
        return 0;
    }

    /*
     * A slice whose service-name label changed (or was removed) leaves
     * the Service it was cached under: look in every Service of its
     * namespace (they are adjacent in the sorted array).
     */

    for (i = 0; i < w->nsvcs; i++) {
        other = &w->svcs[i];

        rc = ngx_strcmp(other->ns, ns);

        if (rc < 0 || other == svc) {
            continue;
        }

        if (rc > 0) {
            break;        /* sorted by namespace: past it */
        }

        if (ngx_http_k8s_slices_remove(&other->slices, slice) == NGX_OK) {
            ngx_http_k8s_watcher_recompute(w, other);
            ngx_http_k8s_scache_delete(w->table, ns, slice);
        }
    }

    if (svc == NULL) {
        return 0;
    }

    if (type == KUBE_EVENT_DELETED) {
        if (ngx_http_k8s_slices_remove(&svc->slices, slice) == NGX_OK) {
            ngx_http_k8s_watcher_recompute(w, svc);
            ngx_http_k8s_scache_delete(w->table, ns, slice);
        }

        return 0;
    }

    es = kube_endpointslice_decode(object, NULL, &err);
    if (es == NULL) {
        ngx_log_error(NGX_LOG_WARN, w->log, 0,
                      "k8s watcher: EndpointSlice \"%s/%s\" of Service "
                      "\"%s\" ignored: %s", ns, slice, name, err.msg);
        return 0;
    }

    ngx_http_k8s_watcher_warn_skipped(w, ns, es);

    if (ngx_http_k8s_slices_put(&svc->slices, es) != NGX_OK) {
        kube_endpointslice_free(es);
        ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                      "k8s watcher: out of memory, relisting");
        return -1;
    }

    ngx_http_k8s_watcher_recompute(w, svc);

    /* a failure drops the shm cache (logged): the next start relists */
    (void) ngx_http_k8s_scache_put(w->table, es, svc->name, w->log);

    return 0;
}


static void
ngx_http_k8s_watcher_lw_log(void *ctx, kube_log_level_e level,
    const char *msg)
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


/* the Service an EndpointSlice object belongs to, if registered */

static ngx_http_k8s_wsvc_t *
ngx_http_k8s_watcher_lookup(ngx_http_k8s_watcher_t *w, json_t *obj,
    const char **ns, const char **name)
{
    json_t  *meta;

    meta = json_object_get(obj, "metadata");

    *ns = json_string_value(json_object_get(meta, "namespace"));
    *name = json_string_value(json_object_get(json_object_get(meta,
                                                              "labels"),
                                              KUBE_ES_SERVICE_NAME_LABEL));

    if (*ns == NULL || *name == NULL) {
        return NULL;
    }

    return ngx_http_k8s_watcher_find(w, *ns, *name);
}


static ngx_int_t
ngx_http_k8s_slices_put(ngx_http_k8s_slices_t *s, kube_endpointslice_t *es)
{
    ngx_uint_t              i, n;
    kube_endpointslice_t  **elts;

    for (i = 0; i < s->nelts; i++) {
        if (ngx_strcmp(s->elts[i]->name, es->name) == 0) {
            kube_endpointslice_free(s->elts[i]);
            s->elts[i] = es;
            return NGX_OK;
        }
    }

    if (s->nelts == s->nalloc) {
        n = s->nalloc ? s->nalloc * 2 : 4;

        elts = realloc(s->elts, n * sizeof(kube_endpointslice_t *));
        if (elts == NULL) {
            return NGX_ERROR;
        }

        s->elts = elts;
        s->nalloc = n;
    }

    s->elts[s->nelts++] = es;

    return NGX_OK;
}


static ngx_int_t
ngx_http_k8s_slices_remove(ngx_http_k8s_slices_t *s, const char *name)
{
    ngx_uint_t  i;

    for (i = 0; i < s->nelts; i++) {
        if (ngx_strcmp(s->elts[i]->name, name) == 0) {
            kube_endpointslice_free(s->elts[i]);
            s->elts[i] = s->elts[--s->nelts];
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


static void
ngx_http_k8s_slices_free(ngx_http_k8s_slices_t *s)
{
    ngx_uint_t  i;

    for (i = 0; i < s->nelts; i++) {
        kube_endpointslice_free(s->elts[i]);
    }

    free(s->elts);
    ngx_memzero(s, sizeof(ngx_http_k8s_slices_t));
}


/* recompute every registered port of a Service; write what changed */

static void
ngx_http_k8s_watcher_recompute(ngx_http_k8s_watcher_t *w,
    ngx_http_k8s_wsvc_t *svc)
{
    ngx_int_t              rc;
    ngx_uint_t             i;
    kube_err_t             err;
    ngx_http_k8s_wkey_t   *k;
    kube_svc_endpoints_t   eps;

    for (i = 0; i < svc->nkeys; i++) {
        k = &svc->keys[i];

        if (svc->slices.nelts == 0) {

            /* no EndpointSlice at all (deleted, or not in a full list) */

            if (k->written && k->absent) {
                continue;
            }

            if (ngx_http_k8s_table_remove(w->table, k->key, w->log)
                == NGX_OK)
            {
                ngx_log_error(NGX_LOG_INFO, w->log, 0,
                              "k8s watcher: %V: no EndpointSlice",
                              &k->key->key);

                kube_svc_endpoints_free(&k->last);
                k->written = 1;
                k->absent = 1;
            }

            continue;
        }

        if (kube_svc_endpoints_compute(
                (const kube_endpointslice_t *const *) svc->slices.elts,
                svc->slices.nelts, &k->key->sel, &eps, &err)
            != 0)
        {
            ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                          "k8s watcher: %V: %s, keeping the old list",
                          &k->key->key, err.msg);
            continue;
        }

        if (k->written && !k->absent
            && kube_svc_endpoints_equal(&k->last, &eps))
        {
            kube_svc_endpoints_free(&eps);
            continue;
        }

        rc = ngx_http_k8s_watcher_write(w, k->key, &eps);

        if (rc != NGX_OK
            && ngx_http_k8s_scache_drop(w->table, w->log,
                                        "the endpoint table needs the room"))
        {
            rc = ngx_http_k8s_watcher_write(w, k->key, &eps);
        }

        if (rc != NGX_OK) {
            /* logged (zone full): the old list stays */
            kube_svc_endpoints_free(&eps);
            continue;
        }

        ngx_log_error(NGX_LOG_INFO, w->log, 0,
                      "k8s watcher: %V: %uz endpoint(s)%s",
                      &k->key->key, eps.n,
                      eps.fallback ? " (serving+terminating fallback)"
                                   : "");

        kube_svc_endpoints_free(&k->last);
        k->last = eps;
        k->written = 1;
        k->absent = 0;
    }
}


/* kube_svc_endpoints_t -> the table's endpoint array */

static ngx_int_t
ngx_http_k8s_watcher_write(ngx_http_k8s_watcher_t *w, ngx_http_k8s_key_t *key,
    kube_svc_endpoints_t *eps)
{
    size_t                      size;
    ngx_int_t                   rc;
    ngx_uint_t                  i;
    ngx_http_k8s_endpoint_t    *out, *o;
    const kube_svc_endpoint_t  *e;
    ngx_http_k8s_endpoint_t     one[8];

    size = eps->n * sizeof(ngx_http_k8s_endpoint_t);

    if (eps->n <= 8) {
        out = one;

    } else {
        out = malloc(size);
        if (out == NULL) {
            ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                          "k8s watcher: %V: out of memory for %uz "
                          "endpoints", &key->key, eps->n);
            return NGX_ERROR;
        }
    }

    for (i = 0; i < eps->n; i++) {
        e = &eps->endpoints[i];
        o = &out[i];

        ngx_memzero(o, sizeof(ngx_http_k8s_endpoint_t));

        o->family = e->family;
        ngx_memcpy(o->addr, e->bin, e->family == AF_INET ? 4 : 16);
        o->port = e->port;
        o->ready = e->ready;
        o->serving = e->serving;
        o->terminating = e->terminating;

        if (e->src != NULL) {
            ngx_http_k8s_watcher_str(&o->zone, e->src->zone);
            ngx_http_k8s_watcher_str(&o->node_name, e->src->node_name);
            ngx_http_k8s_watcher_str(&o->target, e->src->target_name);

            /* hints.forZones, for k8s_local_zone; valid during the set */
            o->for_zones = (const char *const *) e->src->for_zones;
            o->nfor_zones = e->src->nfor_zones;
        }
    }

    rc = ngx_http_k8s_table_set(w->table, key, out, eps->n,
                                eps->has_trigger_time ? eps->trigger_time_ms
                                                      : 0,
                                ngx_current_msec, w->log);

    if (out != one) {
        free(out);
    }

    return rc;
}


static void
ngx_http_k8s_watcher_str(ngx_str_t *dst, const char *s)
{
    if (s == NULL) {
        ngx_str_null(dst);
        return;
    }

    dst->data = (u_char *) s;
    dst->len = ngx_strlen(s);
}


/* the watcher's state for k8s_status */

static void
ngx_http_k8s_watcher_publish(ngx_http_k8s_watcher_t *w, const char *state)
{
    ngx_str_t        rv;
    kube_lw_stats_t  st;

    if (w->lw == NULL) {
        ngx_http_k8s_table_set_watch_state(w->table, "unconfigured", NULL,
                                           0, 0, 0);
        return;
    }

    if (!w->leader) {
        /* the lease holder owns the watch state */
        return;
    }

    kube_lw_stats(w->lw, ngx_current_msec, &st);

    rv.data = (u_char *) st.rv;
    rv.len = ngx_strlen(st.rv);

    /* counters add up over worker generations (reload, respawn) */

    ngx_http_k8s_table_set_watch_state(w->table, state ? state : st.state,
                                       &rv,
                                       w->relists_base
                                       + (ngx_uint_t) st.relists,
                                       w->errors_base
                                       + (ngx_uint_t) st.errors,
                                       w->last_ok_sync);
}


/*
 * The shm slice cache (ngx_http_k8s_slices.h): what lets the next worker
 * 0 resume the watch without a list.
 */

static ngx_int_t
ngx_http_k8s_watcher_hash_names(ngx_http_k8s_watcher_t *w)
{
    u_char      *p, *b;
    size_t       len;
    ngx_uint_t   i;
    u_char       buf[512];

    if (w->nsvcs == 0) {
        return NGX_OK;
    }

    w->names = ngx_palloc(w->cycle->pool, w->nsvcs * sizeof(uint64_t));
    if (w->names == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < w->nsvcs; i++) {
        len = ngx_strlen(w->svcs[i].ns) + 1 + ngx_strlen(w->svcs[i].name);

        b = buf;

        if (len > sizeof(buf)) {
            b = ngx_pnalloc(w->cycle->pool, len);
            if (b == NULL) {
                return NGX_ERROR;
            }
        }

        p = ngx_sprintf(b, "%s/%s", w->svcs[i].ns, w->svcs[i].name);

        w->names[i] = ngx_http_k8s_scache_hash(b, p - b);
    }

    return NGX_OK;
}


/* the writer lease was just taken */

static void
ngx_http_k8s_watcher_acquired(ngx_http_k8s_watcher_t *w)
{
    ngx_uint_t       relists, errors;
    kube_lw_stats_t  st;

    /*
     * The counters stored so far include ours, if we held the lease
     * before: the base is the rest (earlier generations).
     */

    ngx_http_k8s_table_watch_counters(w->table, &relists, &errors);
    kube_lw_stats(w->lw, ngx_current_msec, &st);

    w->relists_base = relists > st.relists ? relists - st.relists : 0;
    w->errors_base = errors > st.errors ? errors - st.errors : 0;

    if (!w->started) {
        w->started = 1;
        ngx_http_k8s_watcher_resume(w);
    }
}


/*
 * At the first lease: if the zone holds a complete slice cache for all
 * our Services (written by the previous worker 0 of this zone), rebuild
 * the private cache from it and watch from its resourceVersion; else the
 * machine lists as usual.  Under the lease, so the previous writer is
 * gone or stopped.
 */

static void
ngx_http_k8s_watcher_resume(ngx_http_k8s_watcher_t *w)
{
    ngx_int_t                   rc;
    ngx_uint_t                  i;
    const char                 *why;
    ngx_http_k8s_scache_info_t  info;

    if (ngx_http_k8s_scache_usable(w->table, w->names, w->nsvcs, w->server,
                                   &info, &why)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                      "k8s watcher: listing EndpointSlices: %s", why);
        return;
    }

    /* decoding is done here, on the writer's own data, under no lock */

    rc = ngx_http_k8s_scache_load(w->table,
                                  ngx_http_k8s_watcher_resume_slice, w);

    if (rc != NGX_OK || kube_lw_resume(w->lw, (char *) info.rv) != 0) {
        ngx_log_error(NGX_LOG_WARN, w->log, 0,
                      "k8s watcher: the EndpointSlice cache in the zone "
                      "is unusable, listing");

        for (i = 0; i < w->nsvcs; i++) {
            ngx_http_k8s_slices_free(&w->svcs[i].slices);
        }

        return;
    }

    /* the cache now covers exactly our Services (ours may be fewer) */

    ngx_http_k8s_scache_begin(w->table);
    (void) ngx_http_k8s_scache_commit(w->table, w->names, w->nsvcs,
                                      w->server, w->log);
    ngx_http_k8s_scache_end(w->table, NULL);

    /* the table has these lists already: only differences are written */

    for (i = 0; i < w->nsvcs; i++) {
        ngx_http_k8s_watcher_recompute(w, &w->svcs[i]);
    }

    w->last_ok_sync = ngx_time();

    ngx_http_k8s_table_mark_synced(w->table, w->log);

    ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                  "k8s watcher: %ui EndpointSlice(s) taken from the zone, "
                  "watching from resourceVersion %s without a list",
                  info.nslices, info.rv);
}


static ngx_int_t
ngx_http_k8s_watcher_resume_slice(void *ctx, ngx_str_t *service,
    ngx_str_t *json)
{
    u_char                  *slash;
    kube_err_t               err;
    ngx_http_k8s_wsvc_t     *svc;
    kube_endpointslice_t    *es;
    ngx_http_k8s_watcher_t  *w = ctx;

    es = kube_endpointslice_decode_text((char *) json->data, json->len,
                                        NULL, &err);
    if (es == NULL || es->service_name == NULL) {
        ngx_log_error(NGX_LOG_WARN, w->log, 0,
                      "k8s watcher: a cached EndpointSlice of \"%V\" is "
                      "unreadable: %s", service,
                      es ? "no service name" : err.msg);

        if (es) {
            kube_endpointslice_free(es);
        }

        return NGX_ERROR;
    }

    slash = ngx_strlchr(service->data, service->data + service->len, '/');

    if (slash == NULL
        || (size_t) (slash - service->data) != ngx_strlen(es->ns)
        || ngx_strncmp(service->data, es->ns, slash - service->data) != 0)
    {
        kube_endpointslice_free(es);
        return NGX_ERROR;
    }

    svc = ngx_http_k8s_watcher_find(w, es->ns, es->service_name);

    if (svc == NULL) {
        /* a Service this configuration no longer names */
        kube_endpointslice_free(es);
        return NGX_DECLINED;
    }

    if (ngx_http_k8s_slices_put(&svc->slices, es) != NGX_OK) {
        kube_endpointslice_free(es);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a complete list was applied: the slice cache becomes that list */

static void
ngx_http_k8s_watcher_store_all(ngx_http_k8s_watcher_t *w, const char *rv)
{
    ngx_uint_t            i, j;
    ngx_http_k8s_wsvc_t  *svc;

    if (ngx_http_k8s_scache_refill(w->table, w->log) != NGX_OK) {
        return;
    }

    for (i = 0; i < w->nsvcs; i++) {
        svc = &w->svcs[i];

        for (j = 0; j < svc->slices.nelts; j++) {
            if (ngx_http_k8s_scache_put(w->table, svc->slices.elts[j],
                                        svc->name, w->log)
                != NGX_OK)
            {
                /* dropped and logged */
                goto done;
            }
        }
    }

    (void) ngx_http_k8s_scache_commit(w->table, w->names, w->nsvcs,
                                      w->server, w->log);

done:

    ngx_http_k8s_scache_end(w->table, rv);
}
