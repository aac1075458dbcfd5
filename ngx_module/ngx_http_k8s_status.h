
/*
 * kubengx: k8s_status, shared by ngx_http_k8s_status.c (the handler and
 * JSON), ngx_http_k8s_status_prom.c (Prometheus text) and k8s_metrics
 * (ngx_http_k8s_metrics_prom.c).
 */


#ifndef _NGX_HTTP_K8S_STATUS_H_INCLUDED_
#define _NGX_HTTP_K8S_STATUS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_k8s_table.h"
#include "ngx_http_k8s_out.h"
#include "ngx_http_k8s_scache.h"


/* indexed by NGX_HTTP_K8S_UNSYNCED ... NGX_HTTP_K8S_READY */
extern const char  *ngx_http_k8s_state_names[];

/* indexed by NGX_HTTP_K8S_SCACHE_* */
extern const char  *ngx_http_k8s_scache_states[];


/* the watcher's cache of one resource kind (NGX_HTTP_K8S_RES_*), or NULL */
ngx_http_k8s_scache_t *ngx_http_k8s_status_scache(ngx_http_k8s_sh_t *sh,
    ngx_uint_t kind);

void ngx_http_k8s_status_watch(ngx_http_k8s_sh_t *sh, ngx_str_t *rv,
    ngx_str_t *state);
void ngx_http_k8s_status_prometheus(ngx_http_k8s_out_t *out,
    ngx_http_k8s_table_t *t, ngx_http_k8s_view_t *view, ngx_uint_t n,
    ngx_uint_t endpoints);

/* also for k8s_metrics (ngx_http_k8s_metrics_prom.c) */
ngx_int_t ngx_http_k8s_status_send(ngx_http_request_t *r,
    ngx_http_k8s_out_t *out, ngx_uint_t prometheus);
ngx_int_t ngx_http_k8s_status_prometheus_table(ngx_http_k8s_out_t *out,
    ngx_pool_t *pool, ngx_uint_t endpoints);


#endif /* _NGX_HTTP_K8S_STATUS_H_INCLUDED_ */
