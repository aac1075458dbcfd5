
/*
 * kubengx: per-request metrics per Ingress route, in shared memory.
 *
 *   ngx_http_k8s_metrics_conf.c  directives, route labels, zone sizing
 *   ngx_http_k8s_metrics_zone.c  the zone: layout, carrying the counters
 *                                of the previous configuration over
 *   ngx_http_k8s_metrics.c       the log-phase handler (the hot path)
 *   ngx_http_k8s_metrics_prom.c  the k8s_metrics handler: Prometheus text
 *
 * Every location with k8s_metrics_route names a route (namespace,
 * ingress, host, path, service); locations with the same labels share
 * one.  A route holds "cells", one per (status, method) pair seen: up to
 * k8s_metrics_cells of them, each claimed on first use by a
 * compare-and-swap of the pair's key into the first free slot of the
 * route's index (slots are never released, so the claimed ones are a
 * prefix), then one cell per status class for the pairs that found no
 * free slot.  A cell is four histograms of atomic counters, which the log
 * phase adds to with ngx_atomic_fetch_add(): no lock, no allocation.
 *
 * The zone (named "k8s_metrics") belongs to one configuration: it is
 * sized at configuration time from the number of routes and never
 * reused (noreuse).  When the master loads a configuration, it copies
 * into the new zone the counters of the routes with the same labels in
 * the previous configuration's zone, which it still maps then.
 *
 * The zone: ngx_http_k8s_metrics_sh_t, then per route (1 + cells) words
 * of index (the class bitmap, then the keys), then per route (cells +
 * NGX_HTTP_K8S_METRICS_CLASSES) cells.  The index of all routes is dense,
 * so a scrape reads only the pages of the cells in use (shared anonymous
 * memory is made resident by reads too).
 */


#ifndef _NGX_HTTP_K8S_METRICS_H_INCLUDED_
#define _NGX_HTTP_K8S_METRICS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_out.h"


/* ingress-nginx's --time-buckets (Prometheus' default buckets), and its
 * --length-buckets (10, 20, ... 100): the bounds, then +Inf */
#define NGX_HTTP_K8S_METRICS_TIME_BOUNDS  11
#define NGX_HTTP_K8S_METRICS_SIZE_BOUNDS  10

/* status classes: 0 (other: 0, 600-999), 1xx ... 5xx */
#define NGX_HTTP_K8S_METRICS_CLASSES      6

/* k8s_metrics_cells: default and largest */
#define NGX_HTTP_K8S_METRICS_CELLS        8
#define NGX_HTTP_K8S_METRICS_CELLS_MAX    64

/* a cell's key: status (0-999) | method index << 10 | this bit */
#define NGX_HTTP_K8S_METRICS_KEY          0x10000
#define NGX_HTTP_K8S_METRICS_STATUS(key)  ((key) & 0x3ff)
#define NGX_HTTP_K8S_METRICS_METHOD(key)  (((key) >> 10) & 0x1f)

#define NGX_HTTP_K8S_METRICS_MAGIC        0x6b38736d65747231  /* k8smetr1 */


typedef struct {
    ngx_atomic_t                 bucket[NGX_HTTP_K8S_METRICS_TIME_BOUNDS + 1];
    ngx_atomic_t                 sum;        /* milliseconds */
} ngx_http_k8s_mtime_t;


typedef struct {
    ngx_atomic_t                 bucket[NGX_HTTP_K8S_METRICS_SIZE_BOUNDS + 1];
    ngx_atomic_t                 sum;        /* bytes */
} ngx_http_k8s_msize_t;


/*
 * Buckets are not cumulative: a histogram's count is the sum of its
 * buckets, so "_count" and the "+Inf" bucket always agree.  The requests
 * counter is request_time's count.
 */
typedef struct {
    ngx_http_k8s_mtime_t         request_time;
    ngx_http_k8s_mtime_t         response_time;  /* requests proxied */
    ngx_http_k8s_msize_t         request_size;
    ngx_http_k8s_msize_t         response_size;
} ngx_http_k8s_mcell_t;


typedef struct {
    uint64_t                     magic;
    ngx_uint_t                   nroutes;
    ngx_uint_t                   cells;
    ngx_uint_t                   carried;    /* routes carried over */
} ngx_http_k8s_metrics_sh_t;


/* a route (per process, in the configuration's pool) */
struct ngx_http_k8s_mroute_s {
    ngx_str_node_t               sn;         /* str: the labels below */

    /* host="..",ingress="..",namespace="..",path="..",service=".."
     * (Prometheus-escaped); also the route's identity */
    ngx_str_t                    labels;

    /* in the zone (NULL until it is initialized): index[0] the class
     * bitmap, index[1..cells] the keys; cell[0..cells - 1] the pairs,
     * then the classes */
    ngx_atomic_t                *index;
    ngx_http_k8s_mcell_t        *cell;
};


/* per configuration: kmcf->metrics */
struct ngx_http_k8s_metrics_s {
    ngx_array_t                  routes;     /* ngx_http_k8s_mroute_t * */
    ngx_rbtree_t                 tree;       /* routes by labels */
    ngx_rbtree_node_t            sentinel;

    ngx_uint_t                   cells;      /* k8s_metrics_cells */

    /* controller_class="..",controller_namespace="..",controller_pod="..",
     * (k8s_metrics_controller; empty when not set) */
    ngx_str_t                    controller;

    ngx_shm_zone_t              *shm_zone;
    ngx_http_k8s_metrics_sh_t   *sh;

    /* the previous configuration's, while this one is loaded (master) */
    ngx_http_k8s_metrics_t      *old;
};


extern ngx_str_t   ngx_http_k8s_metrics_methods[];
extern ngx_uint_t  ngx_http_k8s_metrics_time_bounds[];


/* ngx_http_k8s_metrics_conf.c */
char *ngx_http_k8s_metrics_route(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_k8s_metrics_controller(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_k8s_metrics_cells(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_k8s_metrics_postconfiguration(ngx_conf_t *cf);

/* ngx_http_k8s_metrics_zone.c */
ngx_int_t ngx_http_k8s_metrics_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
size_t ngx_http_k8s_metrics_zone_size(ngx_uint_t nroutes, ngx_uint_t cells);

/* ngx_http_k8s_metrics.c */
ngx_int_t ngx_http_k8s_metrics_log_handler(ngx_http_request_t *r);
ngx_http_k8s_mcell_t *ngx_http_k8s_metrics_cell(ngx_http_k8s_mroute_t *route,
    ngx_uint_t cells, ngx_atomic_uint_t key);

/* ngx_http_k8s_metrics_prom.c */
char *ngx_http_k8s_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);


#endif /* _NGX_HTTP_K8S_METRICS_H_INCLUDED_ */
