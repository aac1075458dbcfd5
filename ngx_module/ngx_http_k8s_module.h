
/*
 * kubengx: the ngx_http_k8s_module, shared declarations.
 *
 * Files of the module:
 *   ngx_http_k8s_module.c      directives, configuration, zone, init hooks
 *   ngx_http_k8s_table.c       the shm endpoint table (ngx_http_k8s_table.h):
 *                              zone init, entries, views, lease
 *   ngx_http_k8s_table_apply.c building and publishing endpoint lists
 *   ngx_http_k8s_table_gen.c   configuration generations: freeing the
 *                              entries no live configuration names
 *   ngx_http_k8s_addr.c        endpoint addresses never proxied to
 *   ngx_http_k8s_balancer.c    peer init/get/free for k8s_service (common)
 *   ngx_http_k8s_balancer_conf.c  k8s_service options, upstream setup
 *   ngx_http_k8s_balance_*.c   the balancing methods (balance=)
 *   ngx_http_k8s_unavailable.c 503 for a Service without endpoints
 *   ngx_http_k8s_dispatch.c    k8s_dispatch upstreams and k8s_backend
 *   ngx_http_k8s_out.c         bounded output into a chain of buffers
 *   ngx_http_k8s_status.c      the k8s_status handler (JSON)
 *   ngx_http_k8s_status_prom.c k8s_status as Prometheus text
 *   ngx_http_k8s_snapshot.c    the k8s_snapshot file: writing
 *   ngx_http_k8s_snapshot_load.c  the k8s_snapshot file: loading
 *   ngx_http_k8s_watcher.c     the watcher of Services and EndpointSlices
 *                              (worker 0): process hooks, step timer
 *   ngx_http_k8s_curl.c        the watcher's libcurl multi on nginx events
 *   ngx_http_k8s_watch.c       one list/watch per resource (requests,
 *                              responses, watch state for k8s_status)
 *   ngx_http_k8s_slices.c      the watcher's EndpointSlice cache
 *   ngx_http_k8s_services.c    the watcher's Service cache (Service ports)
 *   ngx_http_k8s_scache.c      the watcher's cache kept in the zone
 *   ngx_http_k8s_endpoints.c   each Service port's endpoints -> the table
 *   ngx_http_k8s_lease.c       the writer lease, resuming from the zone
 *   ngx_http_k8s_api.c         k8s_api and the API connection settings
 *   ngx_http_k8s_metrics*.c    per-request metrics per Ingress route
 *                              (ngx_http_k8s_metrics.h)
 *   ngx_http_k8s_canary*.c     canary routes, their settings watched
 *                              from the Ingresses (ngx_http_k8s_canary.h)
 *   ngx_http_k8s_affinity.c    cookie session affinity
 *
 * The stream twin, ngx_stream_k8s_module (its own .so), registers its
 * Service ports here with ngx_http_k8s_parse_service() and
 * ngx_http_k8s_key_add(), and balances with ngx_http_k8s_balancer.h:
 * see ngx_stream_k8s_module.h.
 */


#ifndef _NGX_HTTP_K8S_MODULE_H_INCLUDED_
#define _NGX_HTTP_K8S_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "kube_svc_endpoints.h"


typedef struct ngx_http_k8s_entry_s  ngx_http_k8s_entry_t;
typedef struct ngx_http_k8s_table_s  ngx_http_k8s_table_t;
typedef struct ngx_http_k8s_mroute_s  ngx_http_k8s_mroute_t;
typedef struct ngx_http_k8s_metrics_s  ngx_http_k8s_metrics_t;
typedef struct ngx_http_k8s_canary_conf_s  ngx_http_k8s_canary_conf_t;
typedef struct ngx_http_k8s_canary_loc_s  ngx_http_k8s_canary_loc_t;
typedef struct ngx_http_k8s_affinity_s  ngx_http_k8s_affinity_t;


/*
 * One registered Service port: every k8s_service and k8s_backend
 * directive registers one (identical ones are shared).  Only registered
 * keys are kept in the table.
 *
 * Port selector (sel.kind), a Service port as an Ingress backend names it:
 *   port=NAME    KUBE_PORTSEL_NAME: the Service port named NAME;
 *   port=NUMBER  KUBE_PORTSEL_NUMBER: the Service port whose port (not
 *                targetPort) is NUMBER;
 *   no port=     KUBE_PORTSEL_UNNAMED: the Service's unnamed port ("").
 * The watcher resolves it through the Service to the EndpointSlice port
 * of the same name (kube_service_resolve()).
 *
 * ns, name and sel.name are NUL-terminated (data[len] == '\0').
 */

typedef struct {
    ngx_str_node_t               node;      /* in the main conf's keys_tree:
                                               node.str is key */
    ngx_str_t                    key;       /* "ns/name:port", "ns/name";
                                               "/udp" appended for UDP */
    ngx_str_t                    ns;
    ngx_str_t                    name;
    kube_port_selector_t         sel;
    uint32_t                     hash;      /* ngx_crc32_short(key) */

    /* NGX_HTTP_K8S_BALANCE_BIT() of the k8s_service upstreams naming it */
    ngx_uint_t                   balance;

    /* the table entry, set when the zone is initialized; NULL before */
    ngx_http_k8s_entry_t        *entry;
} ngx_http_k8s_key_t;


/*
 * A Service port as a directive names it ("NS/NAME [port=...]"), parsed
 * and validated but not registered yet: the strings point into the
 * directive's arguments.  sel.proto is TCP unless the stream module's
 * protocol=udp says otherwise.
 */
typedef struct {
    ngx_str_t                    service;   /* "ns/name" */
    ngx_str_t                    ns;
    ngx_str_t                    name;
    ngx_str_t                    port;      /* empty: no port= */
    kube_port_selector_t         sel;
} ngx_http_k8s_ref_t;


/* balancing methods (balance=) */
#define NGX_HTTP_K8S_BALANCE_RR          0
#define NGX_HTTP_K8S_BALANCE_LEAST_CONN  1
#define NGX_HTTP_K8S_BALANCE_RANDOM      2
#define NGX_HTTP_K8S_BALANCE_RANDOM_TWO  3
#define NGX_HTTP_K8S_BALANCE_EWMA        4
#define NGX_HTTP_K8S_BALANCE_HASH        5
#define NGX_HTTP_K8S_BALANCE_CHASH       6   /* hash=... consistent */
#define NGX_HTTP_K8S_BALANCE_N           7

#define NGX_HTTP_K8S_BALANCE_BIT(m)      ((ngx_uint_t) 1 << (m))


typedef struct {
    /* k8s_api (parsed by ngx_http_k8s_api_directive, ngx_http_k8s_api.c) */
    ngx_str_t                    api_url;
    ngx_str_t                    kubeconfig;
    ngx_str_t                    token_file;
    ngx_str_t                    ca_file;
    ngx_msec_t                   watch_idle_timeout;  /* 0: the default */
    ngx_flag_t                   api_set;   /* a k8s_api line was seen */

    /* k8s_zone */
    ngx_shm_zone_t              *shm_zone;

    /* k8s_snapshot: empty when not configured; NUL-terminated */
    ngx_str_t                    snapshot;

    /* registered Service ports: ngx_http_k8s_key_t *, and by key (a
     * directive finds its key without a scan of all of them) */
    ngx_array_t                  keys;
    ngx_rbtree_t                 keys_tree;
    ngx_rbtree_node_t            keys_sentinel;

    /* the cycle's table (NULL until the zone is initialized) */
    ngx_http_k8s_table_t        *table;

    /* k8s_local_zone: empty when not configured */
    ngx_str_t                    local_zone;

    /* NGX_HTTP_K8S_BALANCE_BIT() of the k8s_dispatch upstreams */
    ngx_uint_t                   dispatch_balance;

    /* k8s_allow_loopback_endpoints */
    ngx_flag_t                   allow_loopback;

    /* per-request metrics (ngx_http_k8s_metrics.h); NULL: none */
    ngx_http_k8s_metrics_t      *metrics;

    /* k8s_canary (ngx_http_k8s_canary.h); NULL: none */
    ngx_http_k8s_canary_conf_t  *canary;
} ngx_http_k8s_main_conf_t;


/* per upstream {} block: k8s_service or k8s_dispatch */
typedef struct {
    ngx_http_k8s_key_t          *key;       /* k8s_service; NULL: dispatch */
    ngx_uint_t                   max_fails;
    time_t                       fail_timeout;
    ngx_uint_t                   balance;   /* NGX_HTTP_K8S_BALANCE_* */
    ngx_http_complex_value_t    *hash;      /* hash=KEY */
    unsigned                     dispatch:1;
} ngx_http_k8s_srv_conf_t;


/* per location: k8s_backend, k8s_metrics_route, k8s_canary,
 * k8s_affinity, k8s_unavailable_error_page */
typedef struct {
    ngx_http_k8s_key_t          *backend;   /* k8s_backend */
    ngx_http_k8s_mroute_t       *metrics_route;
    ngx_http_k8s_canary_loc_t   *canary;
    ngx_http_k8s_affinity_t     *affinity;
    ngx_flag_t                   unavailable_error_page;
                                 /* k8s_unavailable_error_page */
} ngx_http_k8s_loc_conf_t;


extern ngx_module_t  ngx_http_k8s_module;


/* ngx_http_k8s_module.c */
ngx_http_k8s_key_t *ngx_http_k8s_register_key(ngx_conf_t *cf,
    ngx_str_t *value, ngx_uint_t n, ngx_uint_t *used);
ngx_int_t ngx_http_k8s_parse_service(ngx_conf_t *cf, ngx_str_t *value,
    ngx_uint_t n, ngx_http_k8s_ref_t *ref, ngx_uint_t *used);
ngx_http_k8s_key_t *ngx_http_k8s_key_add(ngx_http_k8s_main_conf_t *kmcf,
    ngx_pool_t *pool, ngx_http_k8s_ref_t *ref);
ngx_int_t ngx_http_k8s_valid_name(ngx_str_t *s, size_t max);
ngx_int_t ngx_http_k8s_valid_subdomain(ngx_str_t *s);
void ngx_http_k8s_timer_init(ngx_event_t *ev, ngx_connection_t *c,
    ngx_event_handler_pt handler, ngx_log_t *log);

/* ngx_http_k8s_api.c (the watcher engineer's) */
char *ngx_http_k8s_api_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* ngx_http_k8s_watcher.c (the watcher engineer's) */
ngx_int_t ngx_http_k8s_watcher_init_process(ngx_cycle_t *cycle);
void ngx_http_k8s_watcher_exit_process(ngx_cycle_t *cycle);

/* ngx_http_k8s_balancer_conf.c */
char *ngx_http_k8s_service(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_k8s_upstream_prepare(ngx_conf_t *cf,
    ngx_http_upstream_srv_conf_t *uscf);
ngx_int_t ngx_http_k8s_placeholder(ngx_conf_t *cf, ngx_url_t *u);
ngx_int_t ngx_http_k8s_balancer_options(ngx_conf_t *cf, ngx_str_t *value,
    ngx_uint_t i, ngx_http_k8s_srv_conf_t *kscf);
typedef ngx_int_t (*ngx_http_k8s_hash_pt)(ngx_conf_t *cf, ngx_str_t *key,
    void *data);
ngx_int_t ngx_http_k8s_balancer_parse(ngx_conf_t *cf, ngx_str_t *value,
    ngx_uint_t i, ngx_uint_t n, ngx_http_k8s_srv_conf_t *kscf,
    ngx_http_k8s_hash_pt hash, void *data);
char *ngx_http_k8s_local_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
extern ngx_str_t  ngx_http_k8s_balance_names[];

/* ngx_http_k8s_balancer.c */
ngx_int_t ngx_http_k8s_init_peer(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us);

/* ngx_http_k8s_unavailable.c */
ngx_int_t ngx_http_k8s_unavailable_init(ngx_conf_t *cf);
void ngx_http_k8s_unavailable(ngx_http_request_t *r, ngx_log_t *log,
    ngx_http_k8s_key_t *key, ngx_uint_t state);
void ngx_http_k8s_unavailable_log(ngx_log_t *log, ngx_http_k8s_key_t *key,
    ngx_uint_t state);

/* ngx_http_k8s_dispatch.c */
char *ngx_http_k8s_dispatch(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_k8s_backend(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/* ngx_http_k8s_status.c */
char *ngx_http_k8s_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/* ngx_http_k8s_snapshot_load.c */
ngx_int_t ngx_http_k8s_snapshot_load(ngx_http_k8s_table_t *table,
    ngx_str_t *path, ngx_log_t *log);

/* ngx_http_k8s_snapshot.c */
ngx_int_t ngx_http_k8s_snapshot_init_process(ngx_cycle_t *cycle);
void ngx_http_k8s_snapshot_exit_process(ngx_cycle_t *cycle);


#endif /* _NGX_HTTP_K8S_MODULE_H_INCLUDED_ */
