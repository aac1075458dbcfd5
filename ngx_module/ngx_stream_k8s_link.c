
/*
 * kubengx: registering the stream module's Service ports with the http
 * module's table.
 *
 * The table, the watcher, k8s_status and k8s_snapshot all work from the
 * http module's registered keys (ngx_http_k8s_main_conf_t.keys), which
 * the k8s_zone is initialized from.  A stream block may come before or
 * after the http block, so neither can reach the other while it is
 * parsed.  This core module's init_conf runs once the whole
 * configuration is read, before nginx initializes the shared zones: it
 * adds each stream upstream's Service port to the http keys (a TCP port
 * that http already names shares its key and entry, endpoints and
 * passive-health state included) and marks the methods using it, as
 * the http upstreams do.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "ngx_stream_k8s_module.h"


static char *ngx_stream_k8s_link_init_conf(ngx_cycle_t *cycle, void *conf);


static ngx_core_module_t  ngx_stream_k8s_link_module_ctx = {
    ngx_string("stream_k8s_link"),
    NULL,
    ngx_stream_k8s_link_init_conf
};


ngx_module_t  ngx_stream_k8s_link_module = {
    NGX_MODULE_V1,
    &ngx_stream_k8s_link_module_ctx,       /* module context */
    NULL,                                  /* module directives */
    NGX_CORE_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static char *
ngx_stream_k8s_link_init_conf(ngx_cycle_t *cycle, void *conf)
{
    ngx_uint_t                   i;
    ngx_http_k8s_key_t          *key;
    ngx_stream_k8s_srv_conf_t  **sscfp, *sscf;
    ngx_http_k8s_main_conf_t    *kmcf;
    ngx_stream_k8s_main_conf_t  *smcf;

    smcf = ngx_stream_cycle_get_module_main_conf(cycle,
                                                 ngx_stream_k8s_module);

    if (smcf == NULL || smcf->upstreams.nelts == 0) {
        return NGX_CONF_OK;
    }

    sscfp = smcf->upstreams.elts;

    kmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_k8s_module);

    if (kmcf == NULL || kmcf->shm_zone == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "\"k8s_service\" in stream{} requires a \"k8s_zone\" "
                      "in the http block (it uses the http module's "
                      "endpoint table) in %s:%ui",
                      sscfp[0]->file, sscfp[0]->line);
        return NGX_CONF_ERROR;
    }

    smcf->kmcf = kmcf;

    for (i = 0; i < smcf->upstreams.nelts; i++) {
        sscf = sscfp[i];

        key = ngx_http_k8s_key_add(kmcf, cycle->pool, &sscf->ref);
        if (key == NULL) {
            return NGX_CONF_ERROR;
        }

        key->balance |= NGX_HTTP_K8S_BALANCE_BIT(sscf->k8s.balance);
        sscf->k8s.key = key;
    }

    return NGX_CONF_OK;
}
