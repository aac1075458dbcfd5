
/*
 * kubengx: the dispatch form.
 *
 *     upstream k8s_dispatch { k8s_dispatch; keepalive 256; }
 *     location /api/ {
 *         k8s_backend shop/api port=http;
 *         proxy_pass http://k8s_dispatch;
 *     }
 *
 * One upstream serves every Service: the location names the Service
 * (registered at configuration time, its table entry resolved when the
 * zone is initialized), so a request finds its endpoints without any
 * lookup, and nginx -t stays linear in the number of Services.  The
 * balancer is the one of k8s_service (ngx_http_k8s_balancer.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"


char *
ngx_http_k8s_dispatch(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_k8s_srv_conf_t *kscf = conf;

    ngx_http_upstream_srv_conf_t  *uscf;

    if (kscf->key || kscf->dispatch) {
        return "is duplicate";
    }

    if (ngx_http_k8s_balancer_options(cf, cf->args->elts, 1, kscf)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    kscf->dispatch = 1;

    uscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_upstream_module);

    return ngx_http_k8s_upstream_prepare(cf, uscf);
}


char *
ngx_http_k8s_backend(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_k8s_loc_conf_t *klcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (klcf->backend != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    klcf->backend = ngx_http_k8s_register_key(cf, value, cf->args->nelts,
                                              &i);
    if (klcf->backend == NULL) {
        return NGX_CONF_ERROR;
    }

    if (i < cf->args->nelts) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
