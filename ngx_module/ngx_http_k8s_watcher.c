
/*
 * kubengx: the watcher's process hooks, the set of watched Services, the
 * selectors and the step timer (see ngx_http_k8s_watcher.h for the files
 * and what is watched).
 *
 * The step timer (one cancelable nginx timer) keeps the writer lease
 * (ngx_http_k8s_lease.c), then asks each resource's list/watch machine
 * what to do next (ngx_http_k8s_watch.c); it runs once per
 * NGX_HTTP_K8S_WATCH_TICK, when a transfer ends, and when a machine's
 * backoff expires.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_http.h>

#include "ngx_http_k8s_watcher.h"
#include "ngx_http_k8s_canary.h"


/* the watched resources, in NGX_HTTP_K8S_RES_* order */
typedef struct {
    const char                  *api_prefix;
    const char                  *resource;
    void                       (*handler)(kube_lw_handler_t *handler);
} ngx_http_k8s_watcher_res_t;


static ngx_http_k8s_watcher_res_t  ngx_http_k8s_watcher_res[] = {
    { "/apis/discovery.k8s.io/v1", "endpointslices",
      ngx_http_k8s_slices_handler },
    { "/api/v1", "services", ngx_http_k8s_services_handler },
};


static ngx_http_k8s_watcher_t  *ngx_http_k8s_watcher;


static ngx_int_t ngx_http_k8s_watcher_start(ngx_http_k8s_watcher_t *w,
    ngx_http_k8s_main_conf_t *kmcf);
static ngx_int_t ngx_http_k8s_watcher_build_svcs(
    ngx_http_k8s_watcher_t *w);
static ngx_int_t ngx_http_k8s_watcher_build_selector(
    ngx_http_k8s_watcher_t *w);
static ngx_int_t ngx_http_k8s_watcher_hash_names(ngx_http_k8s_watcher_t *w);
static int ngx_http_k8s_watcher_svc_cmp(const void *a, const void *b);
static void ngx_http_k8s_watcher_step_handler(ngx_event_t *ev);
static void ngx_http_k8s_watcher_shutdown(void *data);
static void ngx_http_k8s_watcher_free(ngx_http_k8s_watcher_t *w);


ngx_int_t
ngx_http_k8s_watcher_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                 nkeys;
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
    w->dummy.data = w;

    w->step.handler = ngx_http_k8s_watcher_step_handler;
    w->step.data = &w->dummy;
    w->step.log = cycle->log;
    w->step.cancelable = 1;

    if (ngx_http_k8s_watcher_start(w, kmcf) != NGX_OK) {
        /* logged; k8s_status shows the watch as "unconfigured" */
        ngx_http_k8s_watch_publish(w, NULL);
        ngx_http_k8s_watcher_free(w);
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                  "k8s watcher: %ui Service(s), %ui port(s), watching "
                  "endpointslices in %s%s with labelSelector \"%s\", and "
                  "services%s%s", w->nsvcs, w->nkeys,
                  w->ns ? "namespace " : "all namespaces",
                  w->ns ? w->ns : "", w->selector,
                  w->svc_field ? " with fieldSelector " : "",
                  w->svc_field ? w->svc_field : "");

    /* the first step runs in the first loop iteration */

    ngx_http_k8s_arm_timer(&w->step, 0);

    return NGX_OK;
}


static ngx_int_t
ngx_http_k8s_watcher_start(ngx_http_k8s_watcher_t *w,
    ngx_http_k8s_main_conf_t *kmcf)
{
    CURLcode                     rc;
    ngx_uint_t                   res;
    kube_lw_conf_t               conf;
    ngx_http_k8s_watcher_res_t  *r;

    if (ngx_http_k8s_watcher_build_svcs(w) != NGX_OK
        || ngx_http_k8s_watcher_build_selector(w) != NGX_OK
        || ngx_http_k8s_watcher_hash_names(w) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                      "k8s watcher: out of memory at start");
        return NGX_ERROR;
    }

    /* libcurl and OpenSSL state only in the watching worker */

    rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                      "k8s watcher: curl_global_init() failed: %s",
                      curl_easy_strerror(rc));
        return NGX_ERROR;
    }

    w->curl_global = 1;

    if (ngx_http_k8s_api_init(&w->api, &kmcf->api_url, &kmcf->kubeconfig,
                              &kmcf->token_file, &kmcf->ca_file, w->log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    w->api_ready = 1;

    w->server = ngx_http_k8s_scache_hash((u_char *) w->api.server,
                                         ngx_strlen(w->api.server));

    w->curl.shutdown = ngx_http_k8s_watcher_shutdown;
    w->curl.data = w;

    if (ngx_http_k8s_curl_init(&w->curl, w->log) != NGX_OK) {
        return NGX_ERROR;
    }

    for (res = 0; res < NGX_HTTP_K8S_RES_N; res++) {
        r = &ngx_http_k8s_watcher_res[res];

        ngx_memzero(&conf, sizeof(kube_lw_conf_t));

        conf.api_prefix = r->api_prefix;
        conf.resource = r->resource;
        conf.ns = w->ns;
        conf.watch_idle_timeout_ms = kmcf->watch_idle_timeout;
        r->handler(&conf.handler);

        if (res == NGX_HTTP_K8S_RES_SLICES) {
            conf.label_selector = w->selector;

        } else {
            conf.field_selector = w->svc_field;
        }

        if (ngx_http_k8s_watch_init(&w->watch[res], w, &conf) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    /* the canary Ingresses, when k8s_canary names any */

    return ngx_http_k8s_canary_watch_init(w, kmcf);
}


void
ngx_http_k8s_watcher_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_k8s_watcher_t  *w;

    w = ngx_http_k8s_watcher;

    if (w == NULL) {
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, w->log, 0,
                   "k8s watcher: exit, sockets:%ui", w->curl.sockets);

    ngx_http_k8s_watcher_free(w);
}


static void
ngx_http_k8s_watcher_free(ngx_http_k8s_watcher_t *w)
{
    ngx_uint_t  i;

    w->stopped = 1;

    if (w->step.timer_set) {
        ngx_del_timer(&w->step);
    }

    for (i = 0; i < NGX_HTTP_K8S_RES_N; i++) {
        ngx_http_k8s_watch_stop(&w->watch[i]);
    }

    ngx_http_k8s_watch_stop(&w->ingresses);

    ngx_http_k8s_curl_cleanup(&w->curl);

    if (w->leader) {
        ngx_http_k8s_table_lease_release(w->table, ngx_pid);
        w->leader = 0;
    }

    for (i = 0; i < NGX_HTTP_K8S_RES_N; i++) {
        ngx_http_k8s_watch_free(&w->watch[i]);
    }

    ngx_http_k8s_watch_free(&w->ingresses);
    ngx_http_k8s_canary_watch_free(w);

    for (i = 0; i < w->nsvcs; i++) {
        ngx_http_k8s_slices_free(&w->svcs[i]);
        ngx_http_k8s_services_free(&w->svcs[i]);
        ngx_http_k8s_endpoints_free(&w->svcs[i]);
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
 * The slices' label selector: "kubernetes.io/service-name in (a,b,...)"
 * for up to NGX_HTTP_K8S_WATCH_MAX_IN_NAMES distinct names, else the
 * label's mere existence; a namespaced watch when every Service is in one
 * namespace.  Either way events are filtered by namespace/name here,
 * since "in" over several namespaces also matches same-named Services
 * elsewhere.  The Services of that namespace (or of all) are watched; a
 * single Service with the field selector "metadata.name=NAME".
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

    if (w->nsvcs == 1) {
        len = sizeof("metadata.name=") - 1 + ngx_strlen(w->svcs[0].name);

        p = ngx_pnalloc(w->cycle->pool, len + 1);
        if (p == NULL) {
            return NGX_ERROR;
        }

        *ngx_sprintf(p, "metadata.name=%s", w->svcs[0].name) = '\0';
        w->svc_field = (const char *) p;
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


/* the Services' hashes, the Service set of the zone's caches */

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


ngx_http_k8s_wsvc_t *
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


ngx_uint_t
ngx_http_k8s_watcher_exiting(void)
{
    return ngx_exiting || ngx_quit || ngx_terminate;
}


/*
 * Graceful shutdown: stop the transfers and hand the lease over at once
 * (the new generation's worker 0 takes it at its next tick), even if the
 * worker lingers for client requests still in flight.
 */

static void
ngx_http_k8s_watcher_shutdown(void *data)
{
    ngx_http_k8s_watcher_t  *w = data;

    ngx_uint_t  i;

    w->stopped = 1;

    if (w->step.timer_set) {
        ngx_del_timer(&w->step);
    }

    for (i = 0; i < NGX_HTTP_K8S_RES_N; i++) {
        ngx_http_k8s_watch_stop(&w->watch[i]);
    }

    ngx_http_k8s_watch_stop(&w->ingresses);

    if (w->leader) {
        ngx_http_k8s_watch_publish(w, "stopped");
        ngx_http_k8s_table_lease_release(w->table, ngx_pid);
        w->leader = 0;
    }
}


static void
ngx_http_k8s_watcher_step_handler(ngx_event_t *ev)
{
    ngx_uint_t               i;
    ngx_msec_t               delay;
    ngx_connection_t        *dummy;
    ngx_http_k8s_watcher_t  *w;

    dummy = ev->data;
    w = dummy->data;

    if (w != ngx_http_k8s_watcher || w->stopped) {
        return;
    }

    if (ngx_http_k8s_watcher_exiting()) {
        ngx_http_k8s_watcher_shutdown(w);
        return;
    }

    delay = NGX_HTTP_K8S_WATCH_TICK;

    /* the writer lease: one writer across a reload overlap */

    if (ngx_http_k8s_lease_keep(w) != NGX_OK) {
        if (w->lease_waiting == 0) {
            w->lease_waiting = ngx_current_msec ? ngx_current_msec : 1;
        }

        if (ngx_current_msec - w->lease_waiting < NGX_HTTP_K8S_LEASE_FAST) {
            delay = NGX_HTTP_K8S_LEASE_RETRY;
        }

        ngx_http_k8s_arm_timer(&w->step, delay);
        return;
    }

    w->lease_waiting = 0;

    for (i = 0; i < NGX_HTTP_K8S_RES_N; i++) {
        ngx_http_k8s_watch_step(&w->watch[i], &delay);
    }

    ngx_http_k8s_watch_step(&w->ingresses, &delay);

    ngx_http_k8s_watch_publish(w, NULL);
    ngx_http_k8s_arm_timer(&w->step, delay);
}
