/*
 * kubengx: the EndpointSlice watcher.
 *
 * One worker (worker 0, or the single process with master_process off)
 * lists and watches discovery.k8s.io/v1 EndpointSlices through libcurl's
 * multi-socket interface driven by nginx's own event loop, and writes the
 * endpoint list of every registered Service port into the shm table.
 * No threads, no blocking calls; graceful shutdown is never held up.
 *
 * The protocol (paginated list, watch, 410 relist, backoff, Retry-After,
 * 401 token reload) is kube/kube_listwatch.c; endpoint selection is
 * kube/kube_svc_endpoints.c; this file is the I/O and the cache.
 *
 * What is watched: /apis/discovery.k8s.io/v1[/namespaces/NS]/endpointslices
 * with labelSelector "kubernetes.io/service-name in (n1,n2,...)" when the
 * registered Services have at most NGX_HTTP_K8S_WATCH_MAX_IN_NAMES
 * distinct names, else "kubernetes.io/service-name" (every Service's
 * slices); namespaced when all registered Services share a namespace,
 * cluster-wide otherwise.  Events are always filtered by namespace/name
 * in the watcher, so the selector only bounds the traffic.  The selector
 * is fixed per configuration: a reload with other Services starts a new
 * worker 0, which watches with its own selector.
 *
 * One writer: only worker 0 (or the single process) starts a watcher,
 * and it writes only while it holds the table's lease (pid + heartbeat in
 * shm), so after a reload the old and the new worker 0 never write at the
 * same time; the old one hands the lease over as soon as it is told to
 * shut down.
 *
 * Resume: the watcher mirrors its slice cache into the zone
 * (ngx_http_k8s_slices.h).  When the new worker 0 (reload, respawn) takes
 * the lease and that cache is complete, covers every Service it watches
 * and was written for the same API server, it rebuilds its private cache
 * from it and watches from the stored resourceVersion without a list (a
 * 410 then relists as usual); otherwise it relists while the table keeps
 * serving the last-known endpoints.
 */

#ifndef NGX_HTTP_K8S_WATCHER_H
#define NGX_HTTP_K8S_WATCHER_H


#include <ngx_config.h>
#include <ngx_core.h>


/* a Service-name "in (...)" selector is used up to this many names */
#define NGX_HTTP_K8S_WATCH_MAX_IN_NAMES  64

/* lease retry / heartbeat period of the watching worker */
#define NGX_HTTP_K8S_WATCH_TICK  1000


ngx_int_t ngx_http_k8s_watcher_init_process(ngx_cycle_t *cycle);
void ngx_http_k8s_watcher_exit_process(ngx_cycle_t *cycle);


#endif /* NGX_HTTP_K8S_WATCHER_H */
