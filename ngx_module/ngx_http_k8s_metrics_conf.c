
/*
 * kubengx: the per-request metrics' directives (ngx_http_k8s_metrics.h):
 * k8s_metrics_route, k8s_metrics_controller, k8s_metrics_cells, and the
 * zone and log-phase handler they need.
 *
 * Label values are checked here (Kubernetes names, an Ingress host, a
 * path of printable UTF-8) and Prometheus-escaped once, so a scrape
 * only copies them.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_metrics.h"


/* the longest path= (the generator refuses longer Ingress paths) */
#define NGX_HTTP_K8S_METRICS_PATH_MAX  2048


typedef ngx_int_t (*ngx_http_k8s_mcheck_pt)(ngx_str_t *s);


typedef struct {
    ngx_str_t                    name;       /* KEY of KEY=VALUE */
    ngx_str_t                    label;      /* the Prometheus label */
    ngx_http_k8s_mcheck_pt       check;
    ngx_uint_t                   required;
    const char                  *expected;   /* for the error message */
} ngx_http_k8s_mlabel_t;


static ngx_http_k8s_metrics_t *ngx_http_k8s_metrics_get(ngx_conf_t *cf);
static char *ngx_http_k8s_metrics_args(ngx_conf_t *cf,
    ngx_http_k8s_mlabel_t *labels, ngx_uint_t n, ngx_str_t *text);
static ngx_int_t ngx_http_k8s_metrics_namespace(ngx_str_t *s);
static ngx_int_t ngx_http_k8s_metrics_service(ngx_str_t *s);
static ngx_int_t ngx_http_k8s_metrics_host(ngx_str_t *s);
static ngx_int_t ngx_http_k8s_metrics_path(ngx_str_t *s);
static ngx_shm_zone_t *ngx_http_k8s_metrics_zone_named(ngx_cycle_t *cycle);


/* in the order of the labels in the text (alphabetical, as Prometheus'
 * Go client writes them) */

static ngx_http_k8s_mlabel_t  ngx_http_k8s_route_labels[] = {
    { ngx_string("host"), ngx_string("host"),
      ngx_http_k8s_metrics_host, 0,
      "empty, or an Ingress host (a lowercase DNS name, \"*.\" allowed)" },

    { ngx_string("ingress"), ngx_string("ingress"),
      ngx_http_k8s_valid_subdomain, 1, "a DNS-1123 subdomain" },

    { ngx_string("namespace"), ngx_string("namespace"),
      ngx_http_k8s_metrics_namespace, 1, "a DNS-1123 label" },

    { ngx_string("path"), ngx_string("path"),
      ngx_http_k8s_metrics_path, 0,
      "empty, or \"/\" and printable UTF-8, at most 2048 bytes" },

    { ngx_string("service"), ngx_string("service"),
      ngx_http_k8s_metrics_service, 0, "empty, or a DNS-1123 label" }
};


static ngx_http_k8s_mlabel_t  ngx_http_k8s_controller_labels[] = {
    { ngx_string("class"), ngx_string("controller_class"),
      ngx_http_k8s_valid_subdomain, 0, "a DNS-1123 subdomain" },

    { ngx_string("namespace"), ngx_string("controller_namespace"),
      ngx_http_k8s_metrics_namespace, 0, "a DNS-1123 label" },

    { ngx_string("pod"), ngx_string("controller_pod"),
      ngx_http_k8s_valid_subdomain, 0, "a DNS-1123 subdomain" }
};


static ngx_str_t  ngx_http_k8s_metrics_zone_name = ngx_string("k8s_metrics");


/*
 *     k8s_metrics_route namespace=NS ingress=NAME [host=HOST] [path=PATH]
 *                       [service=SVC];
 */

char *
ngx_http_k8s_metrics_route(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_k8s_loc_conf_t *klcf = conf;

    char                    *rv;
    uint32_t                 hash;
    ngx_str_t                text;
    ngx_str_node_t          *sn;
    ngx_http_k8s_mroute_t   *route, **routep;
    ngx_http_k8s_metrics_t  *m;

    if (klcf->metrics_route != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    m = ngx_http_k8s_metrics_get(cf);
    if (m == NULL) {
        return NGX_CONF_ERROR;
    }

    rv = ngx_http_k8s_metrics_args(cf, ngx_http_k8s_route_labels,
                                   sizeof(ngx_http_k8s_route_labels)
                                   / sizeof(ngx_http_k8s_mlabel_t), &text);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    /* locations with the same labels share the route */

    hash = ngx_crc32_long(text.data, text.len);

    sn = ngx_str_rbtree_lookup(&m->tree, &text, hash);

    if (sn) {
        klcf->metrics_route = (ngx_http_k8s_mroute_t *) sn;
        return NGX_CONF_OK;
    }

    route = ngx_pcalloc(cf->pool, sizeof(ngx_http_k8s_mroute_t));
    if (route == NULL) {
        return NGX_CONF_ERROR;
    }

    route->labels = text;
    route->sn.str = text;
    route->sn.node.key = hash;

    ngx_rbtree_insert(&m->tree, &route->sn.node);

    routep = ngx_array_push(&m->routes);
    if (routep == NULL) {
        return NGX_CONF_ERROR;
    }

    *routep = route;
    klcf->metrics_route = route;

    return NGX_CONF_OK;
}


/*
 *     k8s_metrics_controller [class=CLASS] [namespace=NS] [pod=POD];
 */

char *
ngx_http_k8s_metrics_controller(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char                    *rv;
    ngx_str_t                text;
    ngx_http_k8s_metrics_t  *m;

    m = ngx_http_k8s_metrics_get(cf);
    if (m == NULL) {
        return NGX_CONF_ERROR;
    }

    if (m->controller.data) {
        return "is duplicate";
    }

    rv = ngx_http_k8s_metrics_args(cf, ngx_http_k8s_controller_labels,
                                   sizeof(ngx_http_k8s_controller_labels)
                                   / sizeof(ngx_http_k8s_mlabel_t), &text);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    /* written before the route's labels: ends with a comma */

    m->controller.data = ngx_pnalloc(cf->pool, text.len + 1);
    if (m->controller.data == NULL) {
        return NGX_CONF_ERROR;
    }

    m->controller.len = text.len;
    ngx_memcpy(m->controller.data, text.data, text.len);

    if (text.len) {
        m->controller.data[m->controller.len++] = ',';
    }

    return NGX_CONF_OK;
}


char *
ngx_http_k8s_metrics_cells(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_int_t                n;
    ngx_str_t               *value;
    ngx_http_k8s_metrics_t  *m;

    m = ngx_http_k8s_metrics_get(cf);
    if (m == NULL) {
        return NGX_CONF_ERROR;
    }

    if (m->cells != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);

    if (n < 1 || n > NGX_HTTP_K8S_METRICS_CELLS_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"k8s_metrics_cells\" \"%V\": expected "
                           "1 to %d", &value[1],
                           NGX_HTTP_K8S_METRICS_CELLS_MAX);
        return NGX_CONF_ERROR;
    }

    m->cells = n;

    return NGX_CONF_OK;
}


static ngx_http_k8s_metrics_t *
ngx_http_k8s_metrics_get(ngx_conf_t *cf)
{
    ngx_http_k8s_metrics_t    *m;
    ngx_http_k8s_main_conf_t  *kmcf;

    kmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_k8s_module);

    if (kmcf->metrics) {
        return kmcf->metrics;
    }

    m = ngx_pcalloc(cf->pool, sizeof(ngx_http_k8s_metrics_t));
    if (m == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     m->controller = { 0, NULL };
     *     m->shm_zone = NULL;
     *     m->sh = NULL;
     *     m->old = NULL;
     */

    if (ngx_array_init(&m->routes, cf->pool, 16,
                       sizeof(ngx_http_k8s_mroute_t *))
        != NGX_OK)
    {
        return NULL;
    }

    ngx_rbtree_init(&m->tree, &m->sentinel, ngx_str_rbtree_insert_value);

    m->cells = NGX_CONF_UNSET_UINT;

    kmcf->metrics = m;

    return m;
}


/*
 * The directive's KEY=VALUE arguments, each KEY at most once, as
 * LABEL="VALUE",... in the order of labels[] (those given; required
 * ones must be).  Values are checked, then Prometheus-escaped (a check
 * refuses '\n'; '\\' and '"' may be in a path).
 */

static char *
ngx_http_k8s_metrics_args(ngx_conf_t *cf, ngx_http_k8s_mlabel_t *labels,
    ngx_uint_t n, ngx_str_t *text)
{
    u_char      *p, *eq, ch;
    size_t       len;
    ngx_str_t   *value, v[8], *arg;
    ngx_uint_t   i, k, seen;

    value = cf->args->elts;
    seen = 0;
    len = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        arg = &value[i];
        eq = ngx_strlchr(arg->data, arg->data + arg->len, '=');

        for (k = 0; eq && k < n; k++) {
            if ((size_t) (eq - arg->data) == labels[k].name.len
                && ngx_strncmp(arg->data, labels[k].name.data,
                               labels[k].name.len)
                   == 0)
            {
                break;
            }
        }

        if (eq == NULL || k == n) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", arg);
            return NGX_CONF_ERROR;
        }

        if (seen & ((ngx_uint_t) 1 << k)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate \"%V=\"", &labels[k].name);
            return NGX_CONF_ERROR;
        }

        v[k].data = eq + 1;
        v[k].len = arg->data + arg->len - v[k].data;

        if (labels[k].check(&v[k]) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid %V \"%V\": expected %s",
                               &labels[k].name, &v[k], labels[k].expected);
            return NGX_CONF_ERROR;
        }

        seen |= (ngx_uint_t) 1 << k;

        /* label="value", with '\\' and '"' escaped */

        len += labels[k].label.len + sizeof("=\"\",") - 1 + 2 * v[k].len;
    }

    for (k = 0; k < n; k++) {
        if (labels[k].required && !(seen & ((ngx_uint_t) 1 << k))) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V=\" is required", &labels[k].name);
            return NGX_CONF_ERROR;
        }
    }

    text->data = ngx_pnalloc(cf->pool, len);
    if (text->data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = text->data;

    for (k = 0; k < n; k++) {
        if (!(seen & ((ngx_uint_t) 1 << k))) {
            continue;
        }

        if (p != text->data) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, labels[k].label.data, labels[k].label.len);
        *p++ = '=';
        *p++ = '"';

        for (i = 0; i < v[k].len; i++) {
            ch = v[k].data[i];

            if (ch == '\\' || ch == '"') {
                *p++ = '\\';
            }

            *p++ = ch;
        }

        *p++ = '"';
    }

    text->len = p - text->data;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_k8s_metrics_namespace(ngx_str_t *s)
{
    return ngx_http_k8s_valid_name(s, 63);
}


static ngx_int_t
ngx_http_k8s_metrics_service(ngx_str_t *s)
{
    return s->len ? ngx_http_k8s_valid_name(s, 63) : NGX_OK;
}


/* an Ingress rule's host: a DNS name, or "*." and one; empty: no host */

static ngx_int_t
ngx_http_k8s_metrics_host(ngx_str_t *s)
{
    ngx_str_t  name;

    if (s->len == 0) {
        return NGX_OK;
    }

    name = *s;

    if (name.len > 2 && name.data[0] == '*' && name.data[1] == '.') {
        name.data += 2;
        name.len -= 2;
    }

    return (s->len <= 253) ? ngx_http_k8s_valid_subdomain(&name)
                           : NGX_ERROR;
}


/*
 * A path: empty, or '/' and then valid UTF-8 without control characters
 * (a Prometheus label value must be UTF-8; no byte may end the line).
 */

static ngx_int_t
ngx_http_k8s_metrics_path(ngx_str_t *s)
{
    u_char      *p, *last;
    uint32_t     u, min;
    ngx_uint_t   n;

    if (s->len == 0) {
        return NGX_OK;
    }

    if (s->data[0] != '/' || s->len > NGX_HTTP_K8S_METRICS_PATH_MAX) {
        return NGX_ERROR;
    }

    p = s->data;
    last = s->data + s->len;

    while (p < last) {
        u = *p++;

        if (u < 0x80) {
            if (u < 0x20 || u == 0x7f) {
                return NGX_ERROR;
            }

            continue;
        }

        if (u >= 0xc2 && u < 0xe0) {
            n = 1;
            u &= 0x1f;
            min = 0x80;

        } else if (u >= 0xe0 && u < 0xf0) {
            n = 2;
            u &= 0x0f;
            min = 0x800;

        } else if (u >= 0xf0 && u < 0xf5) {
            n = 3;
            u &= 0x07;
            min = 0x10000;

        } else {
            return NGX_ERROR;
        }

        if ((size_t) (last - p) < n) {
            return NGX_ERROR;
        }

        while (n--) {
            if ((*p & 0xc0) != 0x80) {
                return NGX_ERROR;
            }

            u = (u << 6) | (*p++ & 0x3f);
        }

        if (u < min || u > 0x10ffff || (u >= 0xd800 && u <= 0xdfff)) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * With routes: the zone, sized for them, and the log-phase handler.
 * Without, nothing: requests cost nothing more.
 */

ngx_int_t
ngx_http_k8s_metrics_postconfiguration(ngx_conf_t *cf)
{
    size_t                      size;
    ngx_shm_zone_t             *shm_zone;
    ngx_http_handler_pt        *h;
    ngx_http_k8s_metrics_t     *m;
    ngx_http_core_main_conf_t  *cmcf;
    ngx_http_k8s_main_conf_t   *kmcf;

    kmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_k8s_module);
    m = kmcf->metrics;

    if (m == NULL || m->routes.nelts == 0) {
        return NGX_OK;
    }

    ngx_conf_init_uint_value(m->cells, NGX_HTTP_K8S_METRICS_CELLS);

    size = ngx_http_k8s_metrics_zone_size(m->routes.nelts, m->cells);

    if (size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "k8s_metrics: too many routes (%ui)",
                           m->routes.nelts);
        return NGX_ERROR;
    }

    if (ngx_http_k8s_metrics_zone_named(cf->cycle)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the zone name \"%V\" is taken by the per-request "
                           "metrics (k8s_metrics_route): name the other "
                           "zone otherwise", &ngx_http_k8s_metrics_zone_name);
        return NGX_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &ngx_http_k8s_metrics_zone_name,
                                     size, &ngx_http_k8s_module);
    if (shm_zone == NULL) {
        return NGX_ERROR;
    }

    /* a new zone per configuration: the master copies what it can from
     * the previous one (ngx_http_k8s_metrics_init_zone()) */

    shm_zone->init = ngx_http_k8s_metrics_init_zone;
    shm_zone->data = m;
    shm_zone->noreuse = 1;

    m->shm_zone = shm_zone;

    /* the configuration being replaced (a reload): its metrics */

    if (!ngx_is_init_cycle(cf->cycle->old_cycle)) {
        shm_zone = ngx_http_k8s_metrics_zone_named(cf->cycle->old_cycle);

        if (shm_zone && shm_zone->tag == &ngx_http_k8s_module
            && shm_zone->init == ngx_http_k8s_metrics_init_zone)
        {
            m->old = shm_zone->data;
        }
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_k8s_metrics_log_handler;

    return NGX_OK;
}


/* the zone named "k8s_metrics" in cycle, or NULL */

static ngx_shm_zone_t *
ngx_http_k8s_metrics_zone_named(ngx_cycle_t *cycle)
{
    ngx_str_t        *name;
    ngx_uint_t        i;
    ngx_shm_zone_t   *zone;
    ngx_list_part_t  *part;

    name = &ngx_http_k8s_metrics_zone_name;
    part = &cycle->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (zone[i].shm.name.len == name->len
            && ngx_strncmp(zone[i].shm.name.data, name->data, name->len) == 0)
        {
            return &zone[i];
        }
    }
}
