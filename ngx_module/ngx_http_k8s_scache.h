
/*
 * kubengx: the watcher's object cache, kept in the k8s_zone so that a new
 * worker 0 (nginx -s reload, a respawn after a crash) resumes its watches
 * from the stored resourceVersions instead of relisting.
 *
 * One cache per watched resource (kind: NGX_HTTP_K8S_RES_SLICES, the
 * EndpointSlices; NGX_HTTP_K8S_RES_SERVICES, the Services).  Content of
 * each: per cached object (key "namespace/object-name"), its Service
 * ("namespace/service-name") and the object as compact JSON, as the
 * caller encoded it (kube_endpointslice_encode(), kube_service_encode();
 * decoding it gives back the cached object).
 * Plus: the resourceVersion the objects are current at, the set of
 * Services the cache is authoritative for (64-bit hashes of
 * "namespace/name": the Services registered by the generation that wrote
 * it), a hash of the API server, and a state:
 *
 *   INCOMPLETE  not usable (never filled, or the zone ran out of memory:
 *               the caches were dropped; the next watcher start relists);
 *   FILLING     a complete list is being stored;
 *   COMPLETE    the objects of every Service in the set, as of rv.
 *
 * Every change is bracketed by begin() / end(): "writing" is set while the
 * cache is being changed, so a writer killed half-way leaves a cache that
 * is not used.  The resourceVersion is stored after the changes it covers
 * (an older rv only replays events, which is harmless).
 *
 * One writer (the table's lease holder); only it reads the caches, when it
 * starts.  The slab mutex is held for allocations and tree changes only:
 * encoding, decoding and copying the JSON happen outside it.
 */


#ifndef _NGX_HTTP_K8S_SCACHE_H_INCLUDED_
#define _NGX_HTTP_K8S_SCACHE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_table.h"


/* the watched resources: the caches' kind, the watcher's watches */
#define NGX_HTTP_K8S_RES_SLICES         0
#define NGX_HTTP_K8S_RES_SERVICES       1
#define NGX_HTTP_K8S_RES_N              2

/* states */
#define NGX_HTTP_K8S_SCACHE_INCOMPLETE  0
#define NGX_HTTP_K8S_SCACHE_FILLING     1
#define NGX_HTTP_K8S_SCACHE_COMPLETE    2


/* one cached object: key, service and JSON bytes follow */
typedef struct {
    ngx_str_node_t               sn;         /* "ns/object", crc32 */
    ngx_str_t                    service;    /* "ns/service-name" */
    ngx_str_t                    json;
} ngx_http_k8s_scache_node_t;


/* the cache of one resource */
typedef struct {
    ngx_rbtree_t                 rbtree;
    ngx_rbtree_node_t            sentinel;
    ngx_uint_t                   nobjects;
    size_t                       bytes;      /* slab bytes of the objects */

    ngx_atomic_t                 state;      /* NGX_HTTP_K8S_SCACHE_* */
    ngx_atomic_t                 writing;    /* a change in progress */

    uint64_t                    *names;      /* sorted Service hashes */
    ngx_uint_t                   nnames;
    uint64_t                     server;     /* hash of the API server */

    size_t                       rv_len;
    u_char                       rv[NGX_HTTP_K8S_RV_LEN];
} ngx_http_k8s_scache_t;


/* what the table's sh->scache points to */
typedef struct {
    ngx_http_k8s_scache_t        cache[NGX_HTTP_K8S_RES_N];
} ngx_http_k8s_scaches_t;


/* what ngx_http_k8s_scache_usable() stores for a resume */
typedef struct {
    u_char                       rv[NGX_HTTP_K8S_RV_LEN + 1];
    ngx_uint_t                   nobjects;
} ngx_http_k8s_scache_info_t;


/* the hash of "ns/name" (a Service) or of the API server URL */
uint64_t ngx_http_k8s_scache_hash(u_char *data, size_t len);

/*
 * NGX_OK when cache kind can be resumed: COMPLETE, not half-written, a
 * resourceVersion stored, the same API server, and every hash of names[]
 * (n of them) in its Service set.  Else NGX_DECLINED, with the reason in
 * *why (a static string).
 */
ngx_int_t ngx_http_k8s_scache_usable(ngx_http_k8s_table_t *table,
    ngx_uint_t kind, uint64_t *names, ngx_uint_t n, uint64_t server,
    ngx_http_k8s_scache_info_t *info, const char **why);

/*
 * Calls handler for every cached object (not under any lock).  handler
 * returns NGX_OK (keep), NGX_DECLINED (remove it from the cache) or
 * NGX_ERROR (stop; the result is NGX_ERROR).
 */
typedef ngx_int_t (*ngx_http_k8s_scache_handler_pt)(void *ctx,
    ngx_str_t *service, ngx_str_t *json);

ngx_int_t ngx_http_k8s_scache_load(ngx_http_k8s_table_t *table,
    ngx_uint_t kind, ngx_http_k8s_scache_handler_pt handler, void *ctx);

/* bracket every change; end() stores rv (NULL or "": unchanged) */
void ngx_http_k8s_scache_begin(ngx_http_k8s_table_t *table,
    ngx_uint_t kind);
void ngx_http_k8s_scache_end(ngx_http_k8s_table_t *table, ngx_uint_t kind,
    const char *rv);

/*
 * A complete list is about to be stored: drops every cached object of
 * kind and enters FILLING.  NGX_ERROR when the caches' header cannot be
 * allocated.
 */
ngx_int_t ngx_http_k8s_scache_refill(ngx_http_k8s_table_t *table,
    ngx_uint_t kind, ngx_log_t *log);

/*
 * FILLING -> COMPLETE with this Service set and API server; COMPLETE: the
 * Service set is replaced.  NGX_ERROR (caches dropped) when the zone is
 * full.
 */
ngx_int_t ngx_http_k8s_scache_commit(ngx_http_k8s_table_t *table,
    ngx_uint_t kind, uint64_t *names, ngx_uint_t n, uint64_t server,
    ngx_log_t *log);

/*
 * Store (replace) object "ns/name" of Service "ns/service_name" as json
 * (len bytes), when FILLING or COMPLETE (else nothing is done).  When the
 * zone is full, the caches are dropped (logged) and NGX_ERROR returned.
 */
ngx_int_t ngx_http_k8s_scache_put(ngx_http_k8s_table_t *table,
    ngx_uint_t kind, const char *ns, const char *name,
    const char *service_name, const char *json, size_t len, ngx_log_t *log);

/* forget object "ns/name" */
void ngx_http_k8s_scache_delete(ngx_http_k8s_table_t *table,
    ngx_uint_t kind, const char *ns, const char *name);

/*
 * Free every cached object of every cache and mark them INCOMPLETE (the
 * next start relists).  Returns 1 when memory was freed.
 */
ngx_uint_t ngx_http_k8s_scache_drop(ngx_http_k8s_table_t *table,
    ngx_log_t *log, const char *reason);


#endif /* _NGX_HTTP_K8S_SCACHE_H_INCLUDED_ */
