
/*
 * kubengx: the per-request metrics' log-phase handler
 * (ngx_http_k8s_metrics.h).  Per request of a location with
 * k8s_metrics_route: find the cell of (status, method) in the route's
 * index (claiming a free one on first use), then add to its histograms
 * with atomic additions.  No lock, no allocation, no system call.
 *
 * The values are those of nginx's variables that ingress-nginx's
 * monitor.lua sends: $status, $request_method, $request_time,
 * $upstream_response_time (summed over the tries), $request_length,
 * $bytes_sent.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_metrics.h"


/* indexed by the bit of r->method (NGX_HTTP_GET is bit 1, ...); 0: any
 * method nginx does not know */

ngx_str_t  ngx_http_k8s_metrics_methods[] = {
    ngx_string("OTHER"),
    ngx_string("GET"),
    ngx_string("HEAD"),
    ngx_string("POST"),
    ngx_string("PUT"),
    ngx_string("DELETE"),
    ngx_string("MKCOL"),
    ngx_string("COPY"),
    ngx_string("MOVE"),
    ngx_string("OPTIONS"),
    ngx_string("PROPFIND"),
    ngx_string("PROPPATCH"),
    ngx_string("LOCK"),
    ngx_string("UNLOCK"),
    ngx_string("PATCH"),
    ngx_string("TRACE"),
    ngx_string("CONNECT")
};

#define NGX_HTTP_K8S_METRICS_METHODS                                          \
    (sizeof(ngx_http_k8s_metrics_methods) / sizeof(ngx_str_t))


/* milliseconds: 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 s */

ngx_uint_t  ngx_http_k8s_metrics_time_bounds[] = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000
};


static ngx_inline void
ngx_http_k8s_metrics_time(ngx_http_k8s_mtime_t *h, ngx_msec_int_t ms)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_K8S_METRICS_TIME_BOUNDS; i++) {
        if ((ngx_uint_t) ms <= ngx_http_k8s_metrics_time_bounds[i]) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&h->bucket[i], 1);
    (void) ngx_atomic_fetch_add(&h->sum, ms);
}


/* the bounds are 10, 20, ... 100 bytes: bucket (size - 1) / 10 */

static ngx_inline void
ngx_http_k8s_metrics_size(ngx_http_k8s_msize_t *h, off_t size)
{
    ngx_uint_t  i;

    if (size <= 0) {
        size = 0;
        i = 0;

    } else if (size <= 10 * NGX_HTTP_K8S_METRICS_SIZE_BOUNDS) {
        i = (ngx_uint_t) (size - 1) / 10;

    } else {
        i = NGX_HTTP_K8S_METRICS_SIZE_BOUNDS;
    }

    (void) ngx_atomic_fetch_add(&h->bucket[i], 1);
    (void) ngx_atomic_fetch_add(&h->sum, size);
}


/*
 * The cell of key in the route: the claimed one, or the first free one
 * (claimed by a compare-and-swap; a process that loses the race reads
 * the winner's key and goes on), or, when all are taken, the cell of the
 * status class.
 */

ngx_http_k8s_mcell_t *
ngx_http_k8s_metrics_cell(ngx_http_k8s_mroute_t *route, ngx_uint_t cells,
    ngx_atomic_uint_t key)
{
    ngx_uint_t          i, status, c;
    ngx_atomic_t       *keys;
    ngx_atomic_uint_t   k, bits, bit;

    keys = route->index + 1;

    for (i = 0; i < cells; i++) {
        k = keys[i];

        if (k == key) {
            return &route->cell[i];
        }

        if (k == 0
            && (ngx_atomic_cmp_set(&keys[i], 0, key) || keys[i] == key))
        {
            return &route->cell[i];
        }
    }

    status = NGX_HTTP_K8S_METRICS_STATUS(key);
    c = (status >= 100 && status < 600) ? status / 100 : 0;
    bit = (ngx_atomic_uint_t) 1 << c;

    for (bits = route->index[0]; !(bits & bit); bits = route->index[0]) {
        if (ngx_atomic_cmp_set(&route->index[0], bits, bits | bit)) {
            break;
        }
    }

    return &route->cell[cells + c];
}


ngx_int_t
ngx_http_k8s_metrics_log_handler(ngx_http_request_t *r)
{
    ngx_uint_t                  status, method, i, n, proxied;
    ngx_msec_t                  upstream;
    ngx_time_t                 *tp;
    ngx_msec_int_t              ms;
    ngx_atomic_uint_t           key;
    ngx_http_k8s_mcell_t       *cell;
    ngx_http_k8s_mroute_t      *route;
    ngx_http_k8s_loc_conf_t    *klcf;
    ngx_http_k8s_main_conf_t   *kmcf;
    ngx_http_upstream_state_t  *state;

    klcf = ngx_http_get_module_loc_conf(r, ngx_http_k8s_module);
    route = klcf->metrics_route;

    if (route == NULL || route->index == NULL) {
        return NGX_OK;
    }

    kmcf = ngx_http_get_module_main_conf(r, ngx_http_k8s_module);

    /* as $status */

    if (r->err_status) {
        status = r->err_status;

    } else if (r->headers_out.status) {
        status = r->headers_out.status;

    } else if (r->http_version == NGX_HTTP_VERSION_9) {
        status = 9;

    } else {
        status = 0;
    }

    if (status > 999) {
        status = 0;
    }

    method = 0;

    for (n = r->method >> 1; n; n >>= 1) {
        method++;
    }

    if (method >= NGX_HTTP_K8S_METRICS_METHODS) {
        method = 0;
    }

    key = NGX_HTTP_K8S_METRICS_KEY | (method << 10) | status;

    cell = ngx_http_k8s_metrics_cell(route, kmcf->metrics->cells, key);

    /* as $request_time */

    tp = ngx_timeofday();

    ms = (ngx_msec_int_t)
             ((tp->sec - r->start_sec) * 1000 + (tp->msec - r->start_msec));

    ngx_http_k8s_metrics_time(&cell->request_time, ngx_max(ms, 0));

    /* as $upstream_response_time, the tries added up */

    if (r->upstream_states && r->upstream_states->nelts) {
        state = r->upstream_states->elts;
        upstream = 0;
        proxied = 0;

        for (i = 0; i < r->upstream_states->nelts; i++) {
            if (state[i].peer && state[i].response_time != (ngx_msec_t) -1) {
                upstream += state[i].response_time;
                proxied = 1;
            }
        }

        if (proxied) {
            ngx_http_k8s_metrics_time(&cell->response_time,
                                      (ngx_msec_int_t) upstream);
        }
    }

    ngx_http_k8s_metrics_size(&cell->request_size, r->request_length);
    ngx_http_k8s_metrics_size(&cell->response_size, r->connection->sent);

    return NGX_OK;
}
