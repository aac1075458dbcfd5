
/*
 * kubengx: the ngx_stream_k8s_module, shared declarations.
 *
 * The stream twin of ngx_http_k8s_module: "k8s_service" inside
 * stream { upstream { } } balances TCP connections and UDP sessions over
 * the endpoints of one Service port.  It keeps no table and runs no
 * watcher of its own: its Service ports are registered in the http
 * module's keys (ngx_http_k8s_key_add()) once the whole configuration is
 * read, so the one watcher in worker 0 watches them, the one k8s_zone
 * table holds them, k8s_status lists them, k8s_snapshot keeps them and
 * the generation sweep frees them like the http ones.  The balancing
 * methods and passive health checks are the http module's
 * (ngx_http_k8s_balancer.h).
 *
 * It is built as its own shared object, ngx_stream_k8s_module.so, which
 * uses symbols of ngx_stream_module.so and of ngx_http_k8s_module.so:
 * load both before it (README.md, "TCP and UDP Services").
 *
 * Files:
 *   ngx_stream_k8s_module.c    the directive, configuration, upstream setup
 *   ngx_stream_k8s_link.c      a core module that registers the stream
 *                              keys with the http module after parsing
 *   ngx_stream_k8s_balancer.c  peer init/get/free for stream sessions
 */


#ifndef _NGX_STREAM_K8S_MODULE_H_INCLUDED_
#define _NGX_STREAM_K8S_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"


/* per upstream {} block with k8s_service */
typedef struct {
    /*
     * key (NULL until ngx_stream_k8s_link.c registered ref), max_fails,
     * fail_timeout and balance, as the http module's balancer reads them;
     * its hash stays NULL (the stream key is below)
     */
    ngx_http_k8s_srv_conf_t      k8s;

    ngx_http_k8s_ref_t           ref;       /* service.len 0: no
                                               k8s_service */
    ngx_stream_complex_value_t  *hash;      /* hash=KEY */

    u_char                      *file;      /* where k8s_service is */
    ngx_uint_t                   line;
} ngx_stream_k8s_srv_conf_t;


typedef struct {
    /* ngx_stream_k8s_srv_conf_t * of the upstreams with k8s_service */
    ngx_array_t                  upstreams;

    /* the http module's main conf, set when the keys are registered */
    ngx_http_k8s_main_conf_t    *kmcf;
} ngx_stream_k8s_main_conf_t;


extern ngx_module_t  ngx_stream_k8s_module;


/* ngx_stream_k8s_balancer.c */
ngx_int_t ngx_stream_k8s_init_peer(ngx_stream_session_t *s,
    ngx_stream_upstream_srv_conf_t *us);


#endif /* _NGX_STREAM_K8S_MODULE_H_INCLUDED_ */
