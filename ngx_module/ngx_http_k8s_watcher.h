
/*
 * kubengx: the watcher, shared by its files.
 *
 * One worker (worker 0, or the single process with master_process off)
 * lists and watches core/v1 Services and discovery.k8s.io/v1
 * EndpointSlices through libcurl's multi-socket interface driven by
 * nginx's own event loop, and writes the endpoint list of every
 * registered Service port into the shm table.  port= names a Service
 * port (its number or name), resolved through the Service to the
 * EndpointSlice port of that name (ngx_http_k8s_endpoints.c).  No
 * threads, no blocking calls; graceful shutdown is never held up.
 *
 * Files:
 *   ngx_http_k8s_watcher.c    process hooks, the watched Services and the
 *                             selector, the step timer
 *   ngx_http_k8s_curl.c       libcurl's multi interface on nginx events
 *   ngx_http_k8s_watch.c      one list/watch (kube/kube_listwatch*.c) per
 *                             resource: requests, responses, status
 *   ngx_http_k8s_slices.c     the EndpointSlice cache: decoded slices per
 *                             Service, mirrored into the zone
 *   ngx_http_k8s_services.c   the Service cache: each watched Service's
 *                             ports, mirrored into the zone
 *   ngx_http_k8s_scache.c     the caches' store in the zone
 *   ngx_http_k8s_endpoints.c  each registered port resolved and its
 *                             endpoint list computed; the table writes
 *   ngx_http_k8s_lease.c      the writer lease, and resuming from the zone
 *   ngx_http_k8s_canary_watch.c  the canary Ingresses' settings
 *
 * The protocol (paginated list, watch, 410 relist, backoff, Retry-After,
 * 401 token reload) is kube/kube_listwatch*.c; endpoint selection is
 * kube/kube_svc_endpoints.c.
 *
 * What is watched: /apis/discovery.k8s.io/v1[/namespaces/NS]/endpointslices
 * with labelSelector "kubernetes.io/service-name in (n1,n2,...)" when the
 * registered Services have at most NGX_HTTP_K8S_WATCH_MAX_IN_NAMES
 * distinct names, else "kubernetes.io/service-name" (every Service's
 * slices); namespaced when all registered Services share a namespace,
 * cluster-wide otherwise.  Events are always filtered by namespace/name
 * in the watcher, so the selector only bounds the traffic.  The selector
 * is fixed per configuration: a reload with other Services starts a new
 * worker 0, which watches with its own selector.  Services: in the same
 * namespace (or all), by name ("metadata.name=NAME") when there is one.
 *
 * One writer: only worker 0 (or the single process) starts a watcher,
 * and it writes only while it holds the table's lease (pid + heartbeat in
 * shm), so after a reload the old and the new worker 0 never write at the
 * same time; the old one hands the lease over as soon as it is told to
 * shut down.
 *
 * Resume: the watcher mirrors its slice and Service caches into the zone
 * (ngx_http_k8s_scache.h).  When the new worker 0 (reload, respawn) takes
 * the lease and such a cache is complete, covers every Service it watches
 * and was written for the same API server, it rebuilds its private cache
 * from it and watches from the stored resourceVersion without a list (a
 * 410 then relists as usual); otherwise it relists that resource while
 * the table keeps serving the last-known endpoints.
 */

#ifndef NGX_HTTP_K8S_WATCHER_H
#define NGX_HTTP_K8S_WATCHER_H


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_table.h"
#include "ngx_http_k8s_api.h"
#include "ngx_http_k8s_curl.h"
#include "ngx_http_k8s_scache.h"

#include "kube_endpointslice.h"
#include "kube_listwatch.h"
#include "kube_service.h"
#include "kube_svc_endpoints.h"


/* a Service-name "in (...)" selector is used up to this many names */
#define NGX_HTTP_K8S_WATCH_MAX_IN_NAMES  64

/* lease retry / heartbeat period of the watching worker */
#define NGX_HTTP_K8S_WATCH_TICK  1000

/*
 * While it waits for the lease, worker 0 retries every LEASE_RETRY ms for
 * the first LEASE_FAST ms: after a reload the old worker 0 hands the lease
 * over when it starts shutting down, and a Service the new configuration
 * names answers 503 ("not synced yet") until the new one takes it.
 */
#define NGX_HTTP_K8S_LEASE_RETRY  50
#define NGX_HTTP_K8S_LEASE_FAST   5000


typedef struct ngx_http_k8s_watcher_s  ngx_http_k8s_watcher_t;


/* what was last written to the table for a registered port */
#define NGX_HTTP_K8S_WKEY_UNWRITTEN   0
#define NGX_HTTP_K8S_WKEY_NO_SERVICE  1    /* absent: no such Service */
#define NGX_HTTP_K8S_WKEY_NO_PORT     2    /* empty: no such Service port */
#define NGX_HTTP_K8S_WKEY_NO_SLICES   3    /* absent: no EndpointSlice */
#define NGX_HTTP_K8S_WKEY_LIST        4    /* the list in "last" */


/* a registered Service port, as the watcher keeps it */
typedef struct {
    ngx_http_k8s_key_t          *key;
    kube_svc_endpoints_t         last;      /* last written to the table */
    ngx_uint_t                   state;     /* NGX_HTTP_K8S_WKEY_* */
} ngx_http_k8s_wkey_t;


/* a set of decoded EndpointSlices (heap memory) */
typedef struct {
    kube_endpointslice_t       **elts;
    ngx_uint_t                   nelts;
    ngx_uint_t                   nalloc;
} ngx_http_k8s_slices_t;


/* a watched Service (namespace/name) and its registered ports */
typedef struct {
    const char                  *ns;        /* NUL-terminated */
    const char                  *name;
    ngx_http_k8s_slices_t        slices;    /* current view */
    ngx_http_k8s_slices_t        pending;   /* a list in progress */
    kube_service_t              *service;   /* NULL: does not exist */
    kube_service_t              *pending_service;
    ngx_http_k8s_wkey_t         *keys;
    ngx_uint_t                   nkeys;
} ngx_http_k8s_wsvc_t;


/* the list/watch of one resource */
typedef struct {
    ngx_http_k8s_watcher_t      *w;
    const char                  *resource;  /* "endpointslices", ... */
    kube_lw_t                   *lw;
    ngx_http_k8s_xfer_t          xfer;      /* the transfer in flight */
    ngx_uint_t                   is_watch;
    unsigned                     status_seen:1;
} ngx_http_k8s_watch_t;


struct ngx_http_k8s_watcher_s {
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
    unsigned                     started:1;  /* resume decided */

    ngx_http_k8s_curl_t          curl;
    ngx_http_k8s_watch_t         watch[NGX_HTTP_K8S_RES_N];

    /* the canary Ingresses (ngx_http_k8s_canary_watch.c); lw NULL: none */
    ngx_http_k8s_watch_t         ingresses;
    void                        *canary;

    /* NGX_HTTP_K8S_RES_* bits: a complete list (or a resume) seen; the
     * table is written only once every resource has one */
    ngx_uint_t                   listed;

    char                        *ns;        /* watched namespace or NULL */
    const char                  *selector;  /* the slices' labelSelector */
    const char                  *svc_field; /* the Services' fieldSelector */

    ngx_http_k8s_wsvc_t         *svcs;      /* sorted by ns, name */
    ngx_uint_t                   nsvcs;

    /* the zone's caches: hashes of the Services' "ns/name", of the API
     * server; counters of earlier generations (k8s_status) */
    uint64_t                    *names;
    uint64_t                     server;
    ngx_uint_t                   relists_base;
    ngx_uint_t                   errors_base;

    ngx_event_t                  step;      /* next list/watch step */
    ngx_connection_t             dummy;     /* ev->data of the step */
    ngx_msec_t                   last_heartbeat;
    ngx_msec_t                   lease_waiting;  /* since when, 0: not */
};


/* ngx_http_k8s_watcher.c */
ngx_http_k8s_wsvc_t *ngx_http_k8s_watcher_find(ngx_http_k8s_watcher_t *w,
    const char *ns, const char *name);
ngx_uint_t ngx_http_k8s_watcher_exiting(void);

/* ngx_http_k8s_watch.c */
ngx_int_t ngx_http_k8s_watch_init(ngx_http_k8s_watch_t *wt,
    ngx_http_k8s_watcher_t *w, kube_lw_conf_t *conf);
void ngx_http_k8s_watch_step(ngx_http_k8s_watch_t *wt, ngx_msec_t *delay);
void ngx_http_k8s_watch_stop(ngx_http_k8s_watch_t *wt);
void ngx_http_k8s_watch_free(ngx_http_k8s_watch_t *wt);
void ngx_http_k8s_watch_counters(ngx_http_k8s_watcher_t *w,
    ngx_uint_t *relists, ngx_uint_t *errors);
void ngx_http_k8s_watch_publish(ngx_http_k8s_watcher_t *w,
    const char *state);

/* ngx_http_k8s_slices.c */
void ngx_http_k8s_slices_handler(kube_lw_handler_t *handler);
ngx_int_t ngx_http_k8s_slices_load(ngx_http_k8s_watcher_t *w);
void ngx_http_k8s_slices_free(ngx_http_k8s_wsvc_t *svc);

/* ngx_http_k8s_services.c */
void ngx_http_k8s_services_handler(kube_lw_handler_t *handler);
ngx_int_t ngx_http_k8s_services_load(ngx_http_k8s_watcher_t *w);
void ngx_http_k8s_services_free(ngx_http_k8s_wsvc_t *svc);

/* ngx_http_k8s_endpoints.c */
void ngx_http_k8s_endpoints_listed(ngx_http_k8s_watcher_t *w,
    ngx_uint_t res);
void ngx_http_k8s_endpoints_update(ngx_http_k8s_watcher_t *w,
    ngx_http_k8s_wsvc_t *svc);
void ngx_http_k8s_endpoints_free(ngx_http_k8s_wsvc_t *svc);

/* ngx_http_k8s_lease.c */
ngx_int_t ngx_http_k8s_lease_keep(ngx_http_k8s_watcher_t *w);


#endif /* NGX_HTTP_K8S_WATCHER_H */
