
/*
 * kubengx: the ngx_stream_k8s_module.
 *
 *   stream {
 *       upstream db {
 *           k8s_service NS/NAME [port=NAME|NUMBER] [protocol=tcp|udp]
 *               [balance=METHOD] [hash=KEY [consistent]] [max_fails=N]
 *               [fail_timeout=TIME];
 *       }
 *       server { listen 5432; proxy_pass db; }
 *   }
 *
 * port= names the Service port as in the http module (a number is
 * spec.ports[].port, a name spec.ports[].name, none the unnamed port),
 * among the Service's ports of protocol= (tcp by default; udp for a
 * "listen ... udp" server).  The directive is parsed here; its Service
 * port is registered with the http module's table once the whole
 * configuration is read (ngx_stream_k8s_link.c), whatever the order of
 * the http and stream blocks.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "ngx_stream_k8s_module.h"


static void *ngx_stream_k8s_create_main_conf(ngx_conf_t *cf);
static void *ngx_stream_k8s_create_srv_conf(ngx_conf_t *cf);
static char *ngx_stream_k8s_service(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_stream_k8s_protocol(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_k8s_ref_t *ref);
static ngx_int_t ngx_stream_k8s_hash(ngx_conf_t *cf, ngx_str_t *key,
    void *data);
static char *ngx_stream_k8s_upstream_prepare(ngx_conf_t *cf,
    ngx_stream_upstream_srv_conf_t *uscf);
static ngx_int_t ngx_stream_k8s_init_upstream(ngx_conf_t *cf,
    ngx_stream_upstream_srv_conf_t *us);


static ngx_command_t  ngx_stream_k8s_commands[] = {

    { ngx_string("k8s_service"),
      NGX_STREAM_UPS_CONF|NGX_CONF_1MORE,
      ngx_stream_k8s_service,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_stream_module_t  ngx_stream_k8s_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_stream_k8s_create_main_conf,       /* create main configuration */
    NULL,                                  /* init main configuration */

    ngx_stream_k8s_create_srv_conf,        /* create server configuration */
    NULL                                   /* merge server configuration */
};


ngx_module_t  ngx_stream_k8s_module = {
    NGX_MODULE_V1,
    &ngx_stream_k8s_module_ctx,            /* module context */
    ngx_stream_k8s_commands,               /* module directives */
    NGX_STREAM_MODULE,                     /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_stream_k8s_create_main_conf(ngx_conf_t *cf)
{
    ngx_stream_k8s_main_conf_t  *smcf;

    smcf = ngx_pcalloc(cf->pool, sizeof(ngx_stream_k8s_main_conf_t));
    if (smcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     smcf->kmcf = NULL;
     */

    if (ngx_array_init(&smcf->upstreams, cf->pool, 4,
                       sizeof(ngx_stream_k8s_srv_conf_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return smcf;
}


static void *
ngx_stream_k8s_create_srv_conf(ngx_conf_t *cf)
{
    ngx_stream_k8s_srv_conf_t  *sscf;

    sscf = ngx_pcalloc(cf->pool, sizeof(ngx_stream_k8s_srv_conf_t));
    if (sscf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     sscf->k8s.key = NULL;
     *     sscf->k8s.hash = NULL;
     *     sscf->k8s.dispatch = 0;
     *     sscf->ref = { 0 };
     *     sscf->hash = NULL;
     */

    sscf->k8s.max_fails = NGX_CONF_UNSET_UINT;
    sscf->k8s.fail_timeout = NGX_CONF_UNSET;

    return sscf;
}


static char *
ngx_stream_k8s_service(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_stream_k8s_srv_conf_t *sscf = conf;

    ngx_str_t                       *value, *opts;
    ngx_uint_t                       i, n, protocol;
    ngx_stream_k8s_srv_conf_t      **sscfp;
    ngx_stream_k8s_main_conf_t      *smcf;
    ngx_stream_upstream_srv_conf_t  *uscf;

    if (sscf->ref.service.len) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_k8s_parse_service(cf, value, cf->args->nelts, &sscf->ref,
                                   &i)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    /* the options but protocol=, which only the stream module has */

    opts = ngx_palloc(cf->temp_pool, cf->args->nelts * sizeof(ngx_str_t));
    if (opts == NULL) {
        return NGX_CONF_ERROR;
    }

    protocol = 0;

    for (n = 0; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "protocol=", 9) == 0) {
            if (protocol++) {
                return "has a duplicate \"protocol=\"";
            }

            if (ngx_stream_k8s_protocol(cf, &value[i], &sscf->ref)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        opts[n++] = value[i];
    }

    if (ngx_http_k8s_balancer_parse(cf, opts, 0, n, &sscf->k8s,
                                    ngx_stream_k8s_hash, sscf)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (sscf->k8s.balance == NGX_HTTP_K8S_BALANCE_EWMA) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"balance=ewma\" times HTTP responses and is "
                           "not available in stream: round_robin, "
                           "least_conn, random, random_two or hash");
        return NGX_CONF_ERROR;
    }

    sscf->file = cf->conf_file->file.name.data;
    sscf->line = cf->conf_file->line;

    smcf = ngx_stream_conf_get_module_main_conf(cf, ngx_stream_k8s_module);

    sscfp = ngx_array_push(&smcf->upstreams);
    if (sscfp == NULL) {
        return NGX_CONF_ERROR;
    }

    *sscfp = sscf;

    uscf = ngx_stream_conf_get_module_srv_conf(cf, ngx_stream_upstream_module);

    return ngx_stream_k8s_upstream_prepare(cf, uscf);
}


static ngx_int_t
ngx_stream_k8s_protocol(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_k8s_ref_t *ref)
{
    if (value->len == 12 && ngx_strncmp(value->data + 9, "tcp", 3) == 0) {
        ref->sel.proto = KUBE_PROTO_TCP;
        return NGX_OK;
    }

    if (value->len == 12 && ngx_strncmp(value->data + 9, "udp", 3) == 0) {
        ref->sel.proto = KUBE_PROTO_UDP;
        return NGX_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\": protocol=tcp or protocol=udp",
                       value);
    return NGX_ERROR;
}


/* hash=KEY: KEY compiled as a stream complex value ($remote_addr, ...) */

static ngx_int_t
ngx_stream_k8s_hash(ngx_conf_t *cf, ngx_str_t *key, void *data)
{
    ngx_stream_k8s_srv_conf_t  *sscf = data;

    ngx_stream_compile_complex_value_t  ccv;

    sscf->hash = ngx_palloc(cf->pool, sizeof(ngx_stream_complex_value_t));
    if (sscf->hash == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_stream_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = key;
    ccv.complex_value = sscf->hash;

    return ngx_stream_compile_complex_value(&ccv);
}


/*
 * Makes the upstream block ours, as the http module does: our
 * init_upstream, and one placeholder server, because nginx refuses an
 * upstream {} without one and "zone" needs round robin data.
 */

static char *
ngx_stream_k8s_upstream_prepare(ngx_conf_t *cf,
    ngx_stream_upstream_srv_conf_t *uscf)
{
    ngx_url_t                      u;
    ngx_stream_upstream_server_t  *us;

    if (uscf->peer.init_upstream) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"k8s_service\" cannot be combined with another "
                           "balancer (hash, least_conn, random) in the "
                           "upstream block: use its balance= option");
        return NGX_CONF_ERROR;
    }

    if (uscf->servers == NULL || uscf->servers->nelts) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"k8s_service\" cannot be combined with "
                           "\"server\"");
        return NGX_CONF_ERROR;
    }

    uscf->peer.init_upstream = ngx_stream_k8s_init_upstream;
    uscf->flags = NGX_STREAM_UPSTREAM_CREATE;

    if (ngx_http_k8s_placeholder(cf, &u) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    us = ngx_array_push(uscf->servers);
    if (us == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(us, sizeof(ngx_stream_upstream_server_t));

    us->name = u.url;
    us->addrs = u.addrs;
    us->naddrs = u.naddrs;
    us->weight = 1;
    us->max_fails = 1;
    us->fail_timeout = 10;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_stream_k8s_init_upstream(ngx_conf_t *cf,
    ngx_stream_upstream_srv_conf_t *us)
{
    ngx_stream_k8s_srv_conf_t  *sscf;

    sscf = ngx_stream_conf_upstream_srv_conf(us, ngx_stream_k8s_module);

    if (us->servers->nelts != 1) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"server\" cannot be used in upstream \"%V\" "
                      "with \"k8s_service\" in %s:%ui",
                      &us->host, us->file_name, us->line);
        return NGX_ERROR;
    }

    /* round robin data for the placeholder keeps "zone" working */

    if (ngx_stream_upstream_init_round_robin(cf, us) != NGX_OK) {
        return NGX_ERROR;
    }

    us->peer.init = ngx_stream_k8s_init_peer;

    ngx_conf_init_uint_value(sscf->k8s.max_fails, 1);
    ngx_conf_init_value(sscf->k8s.fail_timeout, 10);

    return NGX_OK;
}
