
/*
 * kubengx: the ngx_http_k8s_module.
 *
 * Module definition: directives, configuration, the k8s_zone shared
 * memory zone and the process hooks.  The endpoint table, balancer,
 * dispatch, status, snapshot and watcher live in their own files.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_api.h"
#include "ngx_http_k8s_table.h"
#include "ngx_http_k8s_metrics.h"
#include "ngx_http_k8s_canary.h"


static ngx_int_t ngx_http_k8s_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_k8s_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_k8s_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_k8s_create_srv_conf(ngx_conf_t *cf);
static void *ngx_http_k8s_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_k8s_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_k8s_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_k8s_snapshot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_k8s_init_process(ngx_cycle_t *cycle);
static void ngx_http_k8s_exit_process(ngx_cycle_t *cycle);


static ngx_command_t  ngx_http_k8s_commands[] = {

    { ngx_string("k8s_api"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_k8s_api_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("k8s_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_k8s_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("k8s_snapshot"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_k8s_snapshot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("k8s_allow_loopback_endpoints"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_k8s_main_conf_t, allow_loopback),
      NULL },

    { ngx_string("k8s_local_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_k8s_local_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("k8s_service"),
      NGX_HTTP_UPS_CONF|NGX_CONF_1MORE,
      ngx_http_k8s_service,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("k8s_dispatch"),
      NGX_HTTP_UPS_CONF|NGX_CONF_ANY,
      ngx_http_k8s_dispatch,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("k8s_backend"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_k8s_backend,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("k8s_unavailable_error_page"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_k8s_loc_conf_t, unavailable_error_page),
      NULL },

    { ngx_string("k8s_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_k8s_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("k8s_metrics_route"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_k8s_metrics_route,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("k8s_metrics_controller"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_k8s_metrics_controller,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("k8s_metrics_cells"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_k8s_metrics_cells,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("k8s_canary"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE23,
      ngx_http_k8s_canary,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("k8s_affinity"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_k8s_affinity,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("k8s_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_k8s_metrics,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_k8s_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_k8s_postconfiguration,        /* postconfiguration */

    ngx_http_k8s_create_main_conf,         /* create main configuration */
    ngx_http_k8s_init_main_conf,           /* init main configuration */

    ngx_http_k8s_create_srv_conf,          /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_k8s_create_loc_conf,          /* create location configuration */
    ngx_http_k8s_merge_loc_conf            /* merge location configuration */
};


ngx_module_t  ngx_http_k8s_module = {
    NGX_MODULE_V1,
    &ngx_http_k8s_module_ctx,              /* module context */
    ngx_http_k8s_commands,                 /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_k8s_init_process,             /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_k8s_exit_process,             /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_k8s_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_k8s_main_conf_t  *kmcf;

    kmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_k8s_module);

    /* the log-phase handler and zone of k8s_metrics_route */

    if (ngx_http_k8s_metrics_postconfiguration(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (kmcf->keys.nelts == 0) {
        return NGX_OK;
    }

    /* 503 for a Service without endpoints (ngx_http_k8s_unavailable.c) */

    return ngx_http_k8s_unavailable_init(cf);
}


static void *
ngx_http_k8s_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_k8s_main_conf_t  *kmcf;

    kmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_k8s_main_conf_t));
    if (kmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     kmcf->api_url = { 0, NULL };
     *     kmcf->kubeconfig = { 0, NULL };
     *     kmcf->token_file = { 0, NULL };
     *     kmcf->ca_file = { 0, NULL };
     *     kmcf->watch_idle_timeout = 0;
     *     kmcf->shm_zone = NULL;
     *     kmcf->snapshot = { 0, NULL };
     *     kmcf->table = NULL;
     *     kmcf->metrics = NULL;
     */

    kmcf->api_set = NGX_CONF_UNSET;
    kmcf->allow_loopback = NGX_CONF_UNSET;

    if (ngx_array_init(&kmcf->keys, cf->pool, 4,
                       sizeof(ngx_http_k8s_key_t *))
        != NGX_OK)
    {
        return NULL;
    }

    ngx_rbtree_init(&kmcf->keys_tree, &kmcf->keys_sentinel,
                    ngx_str_rbtree_insert_value);

    return kmcf;
}


static char *
ngx_http_k8s_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_k8s_main_conf_t *kmcf = conf;

    if (kmcf->api_set == NGX_CONF_UNSET) {
        kmcf->api_set = 0;
    }

    ngx_conf_init_value(kmcf->allow_loopback, 0);

    /*
     * no "k8s_api": the in-cluster settings, read here in the master (also
     * for a zone without http keys: the stream module adds its keys after
     * the whole configuration is read, ngx_stream_k8s_link.c)
     */

    if (!kmcf->api_set && (kmcf->keys.nelts || kmcf->shm_zone)
        && ngx_http_k8s_api_conf_default(cf, kmcf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (kmcf->keys.nelts && kmcf->shm_zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"k8s_service\" and \"k8s_backend\" require "
                           "a \"k8s_zone\" in the http block");
        return NGX_CONF_ERROR;
    }

    if (kmcf->snapshot.len && kmcf->shm_zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"k8s_snapshot\" requires \"k8s_zone\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_k8s_create_srv_conf(ngx_conf_t *cf)
{
    ngx_http_k8s_srv_conf_t  *kscf;

    kscf = ngx_pcalloc(cf->pool, sizeof(ngx_http_k8s_srv_conf_t));
    if (kscf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     kscf->key = NULL;
     *     kscf->dispatch = 0;
     */

    kscf->max_fails = NGX_CONF_UNSET_UINT;
    kscf->fail_timeout = NGX_CONF_UNSET;

    return kscf;
}


static void *
ngx_http_k8s_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_k8s_loc_conf_t  *klcf;

    klcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_k8s_loc_conf_t));
    if (klcf == NULL) {
        return NULL;
    }

    klcf->backend = NGX_CONF_UNSET_PTR;
    klcf->metrics_route = NGX_CONF_UNSET_PTR;
    klcf->canary = NGX_CONF_UNSET_PTR;
    klcf->affinity = NGX_CONF_UNSET_PTR;
    klcf->unavailable_error_page = NGX_CONF_UNSET;

    return klcf;
}


static char *
ngx_http_k8s_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_k8s_loc_conf_t *prev = parent;
    ngx_http_k8s_loc_conf_t *conf = child;

    ngx_conf_merge_ptr_value(conf->backend, prev->backend, NULL);
    ngx_conf_merge_ptr_value(conf->metrics_route, prev->metrics_route,
                             NULL);
    ngx_conf_merge_ptr_value(conf->canary, prev->canary, NULL);
    ngx_conf_merge_ptr_value(conf->affinity, prev->affinity, NULL);
    ngx_conf_merge_value(conf->unavailable_error_page,
                         prev->unavailable_error_page, 0);

    return NGX_CONF_OK;
}


static char *
ngx_http_k8s_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_k8s_main_conf_t *kmcf = conf;

    ssize_t                size;
    ngx_str_t             *value, name;
    ngx_http_k8s_table_t  *table;

    if (kmcf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];

    if (name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone name \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    /* the per-request metrics' zone (ngx_http_k8s_metrics_conf.c) */

    if (name.len == 11 && ngx_strncmp(name.data, "k8s_metrics", 11) == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the zone name \"k8s_metrics\" is reserved for "
                           "the per-request metrics");
        return NGX_CONF_ERROR;
    }

    size = ngx_parse_size(&value[2]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small", &value[1]);
        return NGX_CONF_ERROR;
    }

    table = ngx_pcalloc(cf->pool, sizeof(ngx_http_k8s_table_t));
    if (table == NULL) {
        return NGX_CONF_ERROR;
    }

    table->kmcf = kmcf;
    table->name = name;

    kmcf->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                           &ngx_http_k8s_module);
    if (kmcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (kmcf->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate zone \"%V\"", &name);
        return NGX_CONF_ERROR;
    }

    kmcf->shm_zone->init = ngx_http_k8s_table_init_zone;
    kmcf->shm_zone->data = table;

    return NGX_CONF_OK;
}


static char *
ngx_http_k8s_snapshot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_k8s_main_conf_t *kmcf = conf;

    ngx_str_t  *value;

    if (kmcf->snapshot.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid snapshot path \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    kmcf->snapshot = value[1];

    /* ngx_conf_full_name() keeps the result NUL-terminated */

    if (ngx_conf_full_name(cf->cycle, &kmcf->snapshot, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * Parses "NS/NAME [port=NAME|NUMBER]" from value[1] and registers the key;
 * options after it are left to the caller: *used is set to the index of
 * the first argument not consumed.
 */

ngx_http_k8s_key_t *
ngx_http_k8s_register_key(ngx_conf_t *cf, ngx_str_t *value, ngx_uint_t n,
    ngx_uint_t *used)
{
    ngx_http_k8s_ref_t         ref;
    ngx_http_k8s_main_conf_t  *kmcf;

    kmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_k8s_module);

    if (ngx_http_k8s_parse_service(cf, value, n, &ref, used) != NGX_OK) {
        return NULL;
    }

    return ngx_http_k8s_key_add(kmcf, cf->pool, &ref);
}


/*
 * "NS/NAME [port=NAME|NUMBER]" from value[1], validated, into ref (its
 * strings point into value); *used: the first argument not consumed.
 * Used by the stream module too (ngx_stream_k8s_module.c).
 */

ngx_int_t
ngx_http_k8s_parse_service(ngx_conf_t *cf, ngx_str_t *value, ngx_uint_t n,
    ngx_http_k8s_ref_t *ref, ngx_uint_t *used)
{
    u_char      *slash;
    ngx_uint_t   i;
    kube_err_t   err;

    ngx_memzero(ref, sizeof(ngx_http_k8s_ref_t));

    slash = ngx_strlchr(value[1].data, value[1].data + value[1].len, '/');

    if (slash == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid service \"%V\": expected NAMESPACE/NAME",
                           &value[1]);
        return NGX_ERROR;
    }

    ref->service = value[1];
    ref->ns.data = value[1].data;
    ref->ns.len = slash - value[1].data;
    ref->name.data = slash + 1;
    ref->name.len = value[1].data + value[1].len - ref->name.data;

    if (ngx_http_k8s_valid_name(&ref->ns, 63) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid namespace \"%V\" in \"%V\"",
                           &ref->ns, &value[1]);
        return NGX_ERROR;
    }

    if (ngx_http_k8s_valid_name(&ref->name, 63) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid service name \"%V\" in \"%V\"",
                           &ref->name, &value[1]);
        return NGX_ERROR;
    }

    i = 2;

    if (i < n && ngx_strncmp(value[i].data, "port=", 5) == 0) {
        ref->port.data = value[i].data + 5;
        ref->port.len = value[i].len - 5;

        if (ref->port.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid port \"%V\"", &value[i]);
            return NGX_ERROR;
        }

        i++;
    }

    if (kube_port_selector_parse((char *) ref->port.data, ref->port.len,
                                 &ref->sel, &err)
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid port \"%V\": %s", &ref->port, err.msg);
        return NGX_ERROR;
    }

    *used = i;

    return NGX_OK;
}


/*
 * The key of ref in kmcf->keys, added when new.  The canonical text is
 * "ns/name:port" or "ns/name" for TCP, with "/udp" appended for UDP
 * (ref->sel.proto): names never hold '/', so texts stay injective.
 */

ngx_http_k8s_key_t *
ngx_http_k8s_key_add(ngx_http_k8s_main_conf_t *kmcf, ngx_pool_t *pool,
    ngx_http_k8s_ref_t *ref)
{
    u_char               *p;
    uint32_t              hash;
    ngx_str_t             text;
    ngx_uint_t            udp;
    ngx_str_node_t       *sn;
    ngx_http_k8s_key_t   *key, **keyp;

    udp = (ref->sel.proto == KUBE_PROTO_UDP);

    text.len = ref->service.len + (ref->port.len ? 1 + ref->port.len : 0)
               + (udp ? sizeof("/udp") - 1 : 0);
    text.data = ngx_pnalloc(pool, text.len + 1);
    if (text.data == NULL) {
        return NULL;
    }

    p = ngx_cpymem(text.data, ref->service.data, ref->service.len);
    if (ref->port.len) {
        *p++ = ':';
        p = ngx_cpymem(p, ref->port.data, ref->port.len);
    }
    if (udp) {
        p = ngx_cpymem(p, "/udp", sizeof("/udp") - 1);
    }
    *p = '\0';

    hash = ngx_crc32_short(text.data, text.len);

    sn = ngx_str_rbtree_lookup(&kmcf->keys_tree, &text, hash);
    if (sn) {
        return (ngx_http_k8s_key_t *) sn;       /* node is its first field */
    }

    key = ngx_pcalloc(pool, sizeof(ngx_http_k8s_key_t));
    if (key == NULL) {
        return NULL;
    }

    key->key = text;
    key->hash = hash;
    key->node.node.key = hash;
    key->node.str = text;
    ngx_rbtree_insert(&kmcf->keys_tree, &key->node.node);

    /* NUL-terminated copies of the parts */

    key->ns.len = ref->ns.len;
    key->ns.data = ngx_pnalloc(pool, ref->ns.len + 1 + ref->name.len + 1
                                     + ref->port.len + 1);
    if (key->ns.data == NULL) {
        return NULL;
    }

    p = ngx_cpymem(key->ns.data, ref->ns.data, ref->ns.len);
    *p++ = '\0';

    key->name.len = ref->name.len;
    key->name.data = p;
    p = ngx_cpymem(p, ref->name.data, ref->name.len);
    *p++ = '\0';

    key->sel = ref->sel;

    if (ref->sel.kind == KUBE_PORTSEL_NAME) {
        key->sel.name = (const char *) p;
        p = ngx_cpymem(p, ref->port.data, ref->port.len);
        *p = '\0';

    } else {
        key->sel.name = "";
    }

    keyp = ngx_array_push(&kmcf->keys);
    if (keyp == NULL) {
        return NULL;
    }

    *keyp = key;

    return key;
}


/* a DNS-1123 label: lowercase alphanumerics and '-', alphanumeric ends */

ngx_int_t
ngx_http_k8s_valid_name(ngx_str_t *s, size_t max)
{
    u_char      ch;
    ngx_uint_t  i;

    if (s->len == 0 || s->len > max) {
        return NGX_ERROR;
    }

    for (i = 0; i < s->len; i++) {
        ch = s->data[i];

        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
            continue;
        }

        if (ch == '-' && i != 0 && i != s->len - 1) {
            continue;
        }

        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a DNS-1123 subdomain: labels joined by '.', 253 at most, as Kubernetes
 * checks object names (IsDNS1123Subdomain: no limit per label) */

ngx_int_t
ngx_http_k8s_valid_subdomain(ngx_str_t *s)
{
    u_char     *p, *last, *dot;
    ngx_str_t   label;

    if (s->len == 0 || s->len > 253) {
        return NGX_ERROR;
    }

    p = s->data;
    last = s->data + s->len;

    for ( ;; ) {
        dot = ngx_strlchr(p, last, '.');

        label.data = p;
        label.len = (dot ? dot : last) - p;

        if (ngx_http_k8s_valid_name(&label, 253) != NGX_OK) {
            return NGX_ERROR;       /* an empty label: a trailing dot too */
        }

        if (dot == NULL) {
            return NGX_OK;
        }

        p = dot + 1;
    }
}


static ngx_int_t
ngx_http_k8s_init_process(ngx_cycle_t *cycle)
{
    ngx_http_k8s_main_conf_t  *kmcf;

    kmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_k8s_module);

    if (kmcf == NULL || kmcf->shm_zone == NULL) {
        return NGX_OK;
    }

    if (ngx_http_k8s_gen_init_process(cycle) != NGX_OK
        || ngx_http_k8s_snapshot_init_process(cycle) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_k8s_watcher_init_process(cycle);
}


static void
ngx_http_k8s_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_k8s_main_conf_t  *kmcf;

    kmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_k8s_module);

    if (kmcf == NULL || kmcf->shm_zone == NULL) {
        return;
    }

    ngx_http_k8s_watcher_exit_process(cycle);
    ngx_http_k8s_snapshot_exit_process(cycle);
    ngx_http_k8s_gen_exit_process(cycle);
}


/* a cancelable timer event of this process (ev->data: a dummy connection) */

void
ngx_http_k8s_timer_init(ngx_event_t *ev, ngx_connection_t *c,
    ngx_event_handler_pt handler, ngx_log_t *log)
{
    ngx_memzero(c, sizeof(ngx_connection_t));
    c->fd = (ngx_socket_t) -1;

    ngx_memzero(ev, sizeof(ngx_event_t));

    ev->handler = handler;
    ev->data = c;
    ev->log = log;
    ev->cancelable = 1;
}
