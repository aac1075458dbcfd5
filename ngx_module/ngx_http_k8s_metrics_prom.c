
/*
 * kubengx: k8s_metrics, the per-request metrics (ngx_http_k8s_metrics.h)
 * as Prometheus text, with ingress-nginx's names, labels and buckets,
 * followed by the module's own kubengx_* metrics and, with a k8s_zone,
 * those of k8s_status?format=prometheus.  Written with bounds
 * (ngx_http_k8s_out.h).
 *
 * A route has series only for the (status, method) pairs it counted:
 * per claimed cell, method and status ("200"); per status class cell
 * (pairs that found no free cell), status "1xx" ... "5xx" or "other"
 * (0, 600-999) and an empty method.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_metrics.h"
#include "ngx_http_k8s_status.h"


#define NGX_HTTP_K8S_MFAMILY_COUNTER  0
#define NGX_HTTP_K8S_MFAMILY_TIME     1
#define NGX_HTTP_K8S_MFAMILY_SIZE     2


typedef struct {
    const char                  *name;
    const char                  *help;
    ngx_uint_t                   kind;
    size_t                       offset;     /* histogram in the cell */
} ngx_http_k8s_mfamily_t;


/* a series' labels: the route's, method and status */
typedef struct {
    ngx_http_k8s_metrics_t      *m;
    ngx_http_k8s_mroute_t       *route;
    ngx_str_t                   *method;
    ngx_str_t                    status;
} ngx_http_k8s_mseries_t;


static ngx_int_t ngx_http_k8s_metrics_handler(ngx_http_request_t *r);
static void ngx_http_k8s_metrics_family(ngx_http_k8s_out_t *out,
    ngx_http_k8s_metrics_t *m, ngx_http_k8s_mfamily_t *f);
static void ngx_http_k8s_metrics_series(ngx_http_k8s_out_t *out,
    ngx_http_k8s_mfamily_t *f, ngx_http_k8s_mseries_t *s,
    ngx_http_k8s_mcell_t *cell);
static void ngx_http_k8s_metrics_self(ngx_http_k8s_out_t *out,
    ngx_http_k8s_metrics_t *m);


static ngx_http_k8s_mfamily_t  ngx_http_k8s_mfamilies[] = {

    { "nginx_ingress_controller_requests",
      "The total number of client requests",
      NGX_HTTP_K8S_MFAMILY_COUNTER,
      offsetof(ngx_http_k8s_mcell_t, request_time) },

    { "nginx_ingress_controller_request_duration_seconds",
      "The request processing time in seconds ($request_time)",
      NGX_HTTP_K8S_MFAMILY_TIME,
      offsetof(ngx_http_k8s_mcell_t, request_time) },

    { "nginx_ingress_controller_response_duration_seconds",
      "The time spent on receiving the response from the upstream server "
      "($upstream_response_time, the tries added up)",
      NGX_HTTP_K8S_MFAMILY_TIME,
      offsetof(ngx_http_k8s_mcell_t, response_time) },

    { "nginx_ingress_controller_request_size",
      "The request length (including request line, header, and request "
      "body)",
      NGX_HTTP_K8S_MFAMILY_SIZE,
      offsetof(ngx_http_k8s_mcell_t, request_size) },

    { "nginx_ingress_controller_response_size",
      "The response length (including status line, header, and body: "
      "$bytes_sent)",
      NGX_HTTP_K8S_MFAMILY_SIZE,
      offsetof(ngx_http_k8s_mcell_t, response_size) }
};


static const char  *ngx_http_k8s_metrics_time_le[] = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5",
    "10"
};

static const char  *ngx_http_k8s_metrics_size_le[] = {
    "10", "20", "30", "40", "50", "60", "70", "80", "90", "100"
};

static ngx_str_t  ngx_http_k8s_metrics_classes[] = {
    ngx_string("other"),
    ngx_string("1xx"),
    ngx_string("2xx"),
    ngx_string("3xx"),
    ngx_string("4xx"),
    ngx_string("5xx")
};


char *
ngx_http_k8s_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        return "is duplicate";
    }

    clcf->handler = ngx_http_k8s_metrics_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_k8s_metrics_handler(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_str_t                  value;
    ngx_uint_t                 i, endpoints;
    ngx_http_k8s_out_t         out;
    ngx_http_k8s_metrics_t    *m;
    ngx_http_k8s_main_conf_t  *kmcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    /* ?endpoints=0: without the per-endpoint series (as k8s_status) */

    endpoints = 1;

    if (ngx_http_arg(r, (u_char *) "endpoints", 9, &value) == NGX_OK) {
        if (value.len != 1 || (value.data[0] != '0' && value.data[0] != '1'))
        {
            return NGX_HTTP_BAD_REQUEST;
        }

        endpoints = (value.data[0] == '1');
    }

    kmcf = ngx_http_get_module_main_conf(r, ngx_http_k8s_module);
    m = kmcf->metrics;

    ngx_http_k8s_out_init(&out, r->pool);

    if (m && m->sh) {
        for (i = 0; i < sizeof(ngx_http_k8s_mfamilies)
                        / sizeof(ngx_http_k8s_mfamily_t); i++)
        {
            ngx_http_k8s_metrics_family(&out, m, &ngx_http_k8s_mfamilies[i]);
        }
    }

    ngx_http_k8s_metrics_self(&out, (m && m->sh) ? m : NULL);

    if (ngx_http_k8s_status_prometheus_table(&out, r->pool, endpoints)
        == NGX_ERROR)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_k8s_status_send(r, &out, 1);
}


/* one metric family: every route's claimed cells, then class cells */

static void
ngx_http_k8s_metrics_family(ngx_http_k8s_out_t *out,
    ngx_http_k8s_metrics_t *m, ngx_http_k8s_mfamily_t *f)
{
    u_char                   status[NGX_INT_T_LEN];
    ngx_uint_t               i, j, c;
    ngx_str_t                empty;
    ngx_atomic_uint_t        key, classes;
    ngx_http_k8s_mroute_t  **routes;
    ngx_http_k8s_mseries_t   s;

    ngx_http_k8s_out_printf(out, "# HELP %s %s\n# TYPE %s %s\n",
                            f->name, f->help, f->name,
                            f->kind == NGX_HTTP_K8S_MFAMILY_COUNTER
                            ? "counter" : "histogram");

    ngx_str_null(&empty);
    routes = m->routes.elts;
    s.m = m;

    for (i = 0; i < m->routes.nelts; i++) {
        s.route = routes[i];

        for (j = 0; j < m->cells; j++) {
            key = s.route->index[1 + j];

            if (key == 0) {
                break;
            }

            s.method = &ngx_http_k8s_metrics_methods[
                                          NGX_HTTP_K8S_METRICS_METHOD(key)];
            s.status.data = status;
            s.status.len = ngx_sprintf(status, "%03ui",
                                       (ngx_uint_t)
                                       NGX_HTTP_K8S_METRICS_STATUS(key))
                           - status;

            ngx_http_k8s_metrics_series(out, f, &s, &s.route->cell[j]);
        }

        classes = s.route->index[0];

        for (c = 0; c < NGX_HTTP_K8S_METRICS_CLASSES; c++) {
            if (classes & ((ngx_atomic_uint_t) 1 << c)) {
                s.method = &empty;
                s.status = ngx_http_k8s_metrics_classes[c];

                ngx_http_k8s_metrics_series(out, f, &s,
                                            &s.route->cell[m->cells + c]);
            }
        }
    }
}


static void
ngx_http_k8s_metrics_series(ngx_http_k8s_out_t *out,
    ngx_http_k8s_mfamily_t *f, ngx_http_k8s_mseries_t *s,
    ngx_http_k8s_mcell_t *cell)
{
    ngx_uint_t          i, nb;
    ngx_atomic_t       *h;
    const char        **le;
    ngx_atomic_uint_t   v[NGX_HTTP_K8S_METRICS_TIME_BOUNDS + 1], count, sum;

    h = (ngx_atomic_t *) ((u_char *) cell + f->offset);

    if (f->kind == NGX_HTTP_K8S_MFAMILY_SIZE) {
        nb = NGX_HTTP_K8S_METRICS_SIZE_BOUNDS;
        le = ngx_http_k8s_metrics_size_le;

    } else {
        nb = NGX_HTTP_K8S_METRICS_TIME_BOUNDS;
        le = ngx_http_k8s_metrics_time_le;
    }

    /* one reading of each bucket: count is their sum, whatever the
     * workers add meanwhile */

    count = 0;

    for (i = 0; i <= nb; i++) {
        v[i] = h[i];
        count += v[i];
    }

    sum = h[nb + 1];

    if (f->kind == NGX_HTTP_K8S_MFAMILY_COUNTER) {
        ngx_http_k8s_out_printf(out, "%s{%V%V,method=\"%V\",status=\"%V\"} "
                                "%uA\n", f->name, &s->m->controller,
                                &s->route->labels, s->method, &s->status,
                                count);
        return;
    }

    if (count == 0) {
        return;     /* no request of the pair was proxied, or not yet */
    }

    count = 0;

    for (i = 0; i <= nb; i++) {
        count += v[i];

        ngx_http_k8s_out_printf(out, "%s_bucket{%V%V,method=\"%V\","
                                "status=\"%V\",le=\"%s\"} %uA\n",
                                f->name, &s->m->controller,
                                &s->route->labels, s->method, &s->status,
                                i < nb ? le[i] : "+Inf", count);
    }

    if (f->kind == NGX_HTTP_K8S_MFAMILY_TIME) {
        ngx_http_k8s_out_printf(out, "%s_sum{%V%V,method=\"%V\","
                                "status=\"%V\"} %uA.%03uA\n",
                                f->name, &s->m->controller,
                                &s->route->labels, s->method, &s->status,
                                sum / 1000, sum % 1000);

    } else {
        ngx_http_k8s_out_printf(out, "%s_sum{%V%V,method=\"%V\","
                                "status=\"%V\"} %uA\n",
                                f->name, &s->m->controller,
                                &s->route->labels, s->method, &s->status,
                                sum);
    }

    ngx_http_k8s_out_printf(out, "%s_count{%V%V,method=\"%V\","
                            "status=\"%V\"} %uA\n",
                            f->name, &s->m->controller, &s->route->labels,
                            s->method, &s->status, count);
}


/* how full the zone is; m is NULL without routes */

static void
ngx_http_k8s_metrics_self(ngx_http_k8s_out_t *out, ngx_http_k8s_metrics_t *m)
{
    ngx_uint_t               i, j, used, full;
    ngx_http_k8s_mroute_t  **routes;

    used = 0;
    full = 0;

    if (m) {
        routes = m->routes.elts;

        for (i = 0; i < m->routes.nelts; i++) {
            for (j = 0; j < m->cells && routes[i]->index[1 + j]; j++) {
                used++;
            }

            if (j == m->cells) {
                full++;
            }
        }
    }

    ngx_http_k8s_out_printf(out,
            "# HELP kubengx_metrics_routes Routes (k8s_metrics_route) "
            "counted\n"
            "# TYPE kubengx_metrics_routes gauge\n"
            "kubengx_metrics_routes %ui\n"
            "# HELP kubengx_metrics_cells_per_route (status, method) pairs "
            "counted apart per route (k8s_metrics_cells)\n"
            "# TYPE kubengx_metrics_cells_per_route gauge\n"
            "kubengx_metrics_cells_per_route %ui\n"
            "# HELP kubengx_metrics_cells_used Cells taken, all routes\n"
            "# TYPE kubengx_metrics_cells_used gauge\n"
            "kubengx_metrics_cells_used %ui\n"
            "# HELP kubengx_metrics_routes_full Routes whose new pairs are "
            "counted by status class\n"
            "# TYPE kubengx_metrics_routes_full gauge\n"
            "kubengx_metrics_routes_full %ui\n"
            "# HELP kubengx_metrics_routes_carried Routes whose counters "
            "the last reload kept\n"
            "# TYPE kubengx_metrics_routes_carried gauge\n"
            "kubengx_metrics_routes_carried %ui\n",
            m ? m->routes.nelts : 0, m ? m->cells : 0, used, full,
            m ? m->sh->carried : 0);
}
