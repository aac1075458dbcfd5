
/*
 * kubengx: the configuration of k8s_service and k8s_dispatch upstreams:
 * the k8s_service directive, the options both take (max_fails=,
 * fail_timeout=, balance=, hash=, consistent), the upstream block set-up
 * and k8s_local_zone.  The balancer itself is ngx_http_k8s_balancer.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"


static ngx_int_t ngx_http_k8s_balancer_hash(ngx_conf_t *cf,
    ngx_str_t *key, void *data);
static ngx_int_t ngx_http_k8s_init_upstream(ngx_conf_t *cf,
    ngx_http_upstream_srv_conf_t *us);


/* indexed by NGX_HTTP_K8S_BALANCE_* */

ngx_str_t  ngx_http_k8s_balance_names[] = {
    ngx_string("round_robin"),
    ngx_string("least_conn"),
    ngx_string("random"),
    ngx_string("random_two"),
    ngx_string("ewma"),
    ngx_string("hash"),
    ngx_string("consistent_hash"),
    ngx_null_string
};


char *
ngx_http_k8s_service(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_k8s_srv_conf_t *kscf = conf;

    char                          *rv;
    ngx_str_t                     *value;
    ngx_uint_t                     i;
    ngx_http_upstream_srv_conf_t  *uscf;

    if (kscf->key || kscf->dispatch) {
        return "is duplicate";
    }

    value = cf->args->elts;

    kscf->key = ngx_http_k8s_register_key(cf, value, cf->args->nelts, &i);
    if (kscf->key == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_k8s_balancer_options(cf, value, i, kscf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    uscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_upstream_module);

    rv = ngx_http_k8s_upstream_prepare(cf, uscf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    return NGX_CONF_OK;
}


/*
 * max_fails=N fail_timeout=T balance=METHOD hash=KEY consistent, from
 * value[i] on
 */

ngx_int_t
ngx_http_k8s_balancer_options(ngx_conf_t *cf, ngx_str_t *value, ngx_uint_t i,
    ngx_http_k8s_srv_conf_t *kscf)
{
    return ngx_http_k8s_balancer_parse(cf, value, i, cf->args->nelts, kscf,
                                       ngx_http_k8s_balancer_hash, kscf);
}


/*
 * The options of value[i] .. value[n - 1] into kscf; hash=KEY is given to
 * the caller's compile (http and stream complex values differ).
 */

ngx_int_t
ngx_http_k8s_balancer_parse(ngx_conf_t *cf, ngx_str_t *value, ngx_uint_t i,
    ngx_uint_t n, ngx_http_k8s_srv_conf_t *kscf, ngx_http_k8s_hash_pt hash,
    void *data)
{
    time_t                             t;
    ngx_int_t                          v;
    ngx_str_t                          s;
    ngx_uint_t                         m, balance, consistent, has_hash;

    balance = NGX_CONF_UNSET_UINT;
    consistent = 0;
    has_hash = 0;

    for ( /* void */ ; i < n; i++) {

        if (ngx_strncmp(value[i].data, "max_fails=", 10) == 0) {

            v = ngx_atoi(value[i].data + 10, value[i].len - 10);

            if (v == NGX_ERROR) {
                goto invalid;
            }

            kscf->max_fails = v;
            continue;
        }

        if (ngx_strncmp(value[i].data, "fail_timeout=", 13) == 0) {

            s.len = value[i].len - 13;
            s.data = &value[i].data[13];

            t = ngx_parse_time(&s, 1);

            if (t == (time_t) NGX_ERROR) {
                goto invalid;
            }

            kscf->fail_timeout = t;
            continue;
        }

        if (ngx_strncmp(value[i].data, "balance=", 8) == 0) {

            s.len = value[i].len - 8;
            s.data = &value[i].data[8];

            for (m = 0; m < NGX_HTTP_K8S_BALANCE_CHASH; m++) {
                if (s.len == ngx_http_k8s_balance_names[m].len
                    && ngx_strncmp(s.data, ngx_http_k8s_balance_names[m].data,
                                   s.len) == 0)
                {
                    break;
                }
            }

            if (m == NGX_HTTP_K8S_BALANCE_CHASH) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "unsupported balancing method \"%V\": "
                                   "round_robin, least_conn, random, "
                                   "random_two, ewma or hash", &value[i]);
                return NGX_ERROR;
            }

            if (balance != NGX_CONF_UNSET_UINT) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "duplicate \"balance=\"");
                return NGX_ERROR;
            }

            balance = m;
            continue;
        }

        if (ngx_strncmp(value[i].data, "hash=", 5) == 0) {

            if (has_hash) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "duplicate \"hash=\"");
                return NGX_ERROR;
            }

            s.len = value[i].len - 5;
            s.data = &value[i].data[5];

            if (s.len == 0) {
                goto invalid;
            }

            if (hash(cf, &s, data) != NGX_OK) {
                return NGX_ERROR;
            }

            has_hash = 1;
            continue;
        }

        if (value[i].len == 10
            && ngx_strncmp(value[i].data, "consistent", 10) == 0)
        {
            consistent = 1;
            continue;
        }

        if (ngx_strncmp(value[i].data, "port=", 5) == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"port=\" must follow the service name");
            return NGX_ERROR;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_ERROR;
    }

    /* hash=KEY alone means balance=hash */

    if (balance == NGX_CONF_UNSET_UINT) {
        balance = has_hash ? NGX_HTTP_K8S_BALANCE_HASH
                           : NGX_HTTP_K8S_BALANCE_RR;
    }

    if (balance == NGX_HTTP_K8S_BALANCE_HASH && !has_hash) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"balance=hash\" requires \"hash=KEY\"");
        return NGX_ERROR;
    }

    if (balance != NGX_HTTP_K8S_BALANCE_HASH && has_hash) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"hash=\" requires \"balance=hash\"");
        return NGX_ERROR;
    }

    if (consistent) {
        if (balance != NGX_HTTP_K8S_BALANCE_HASH) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"consistent\" requires \"hash=KEY\"");
            return NGX_ERROR;
        }

        balance = NGX_HTTP_K8S_BALANCE_CHASH;
    }

    kscf->balance = balance;

    return NGX_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\"", &value[i]);
    return NGX_ERROR;
}


/* hash=KEY: KEY compiled as an http complex value */

static ngx_int_t
ngx_http_k8s_balancer_hash(ngx_conf_t *cf, ngx_str_t *key, void *data)
{
    ngx_http_k8s_srv_conf_t  *kscf = data;

    ngx_http_compile_complex_value_t   ccv;

    kscf->hash = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (kscf->hash == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = key;
    ccv.complex_value = kscf->hash;

    return ngx_http_compile_complex_value(&ccv);
}


/*
 * Makes the upstream block ours: our init_upstream, and one placeholder
 * server, because nginx refuses an upstream {} without one ("no servers
 * are inside upstream") and the zone module needs round robin data.
 */

char *
ngx_http_k8s_upstream_prepare(ngx_conf_t *cf,
    ngx_http_upstream_srv_conf_t *uscf)
{
    ngx_url_t                    u;
    ngx_http_upstream_server_t  *us;

    if (uscf->peer.init_upstream) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must come first in the upstream block: "
                           "another balancer or \"keepalive\" is already "
                           "set (put \"keepalive\" after it)",
                           &((ngx_str_t *) cf->args->elts)[0]);
        return NGX_CONF_ERROR;
    }

    if (uscf->servers == NULL || uscf->servers->nelts) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" cannot be combined with \"server\"",
                           &((ngx_str_t *) cf->args->elts)[0]);
        return NGX_CONF_ERROR;
    }

    uscf->peer.init_upstream = ngx_http_k8s_init_upstream;

    /* no weight=, backup= ... on "server": those are refused anyway */
    uscf->flags = NGX_HTTP_UPSTREAM_CREATE;

    if (ngx_http_k8s_placeholder(cf, &u) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    us = ngx_array_push(uscf->servers);
    if (us == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(us, sizeof(ngx_http_upstream_server_t));

    us->name = u.url;
    us->addrs = u.addrs;
    us->naddrs = u.naddrs;
    us->weight = 1;
    us->max_fails = 1;
    us->fail_timeout = 10;

    return NGX_CONF_OK;
}


/* the placeholder server's address, 127.0.0.1:1 (http and stream) */

ngx_int_t
ngx_http_k8s_placeholder(ngx_conf_t *cf, ngx_url_t *u)
{
    ngx_memzero(u, sizeof(ngx_url_t));

    ngx_str_set(&u->url, "127.0.0.1:1");
    u->default_port = 80;
    u->no_resolve = 1;

    return ngx_parse_url(cf->pool, u);
}


static ngx_int_t
ngx_http_k8s_init_upstream(ngx_conf_t *cf, ngx_http_upstream_srv_conf_t *us)
{
    ngx_http_k8s_srv_conf_t   *kscf;
    ngx_http_k8s_main_conf_t  *kmcf;

    kscf = ngx_http_conf_upstream_srv_conf(us, ngx_http_k8s_module);

    if (us->servers->nelts != 1) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"server\" cannot be used in upstream \"%V\" "
                      "with \"k8s_service\" or \"k8s_dispatch\" in %s:%ui",
                      &us->host, us->file_name, us->line);
        return NGX_ERROR;
    }

    /* round robin data for the placeholder keeps "zone" working */

    if (ngx_http_upstream_init_round_robin(cf, us) != NGX_OK) {
        return NGX_ERROR;
    }

    us->peer.init = ngx_http_k8s_init_peer;

    ngx_conf_init_uint_value(kscf->max_fails, 1);
    ngx_conf_init_value(kscf->fail_timeout, 10);

    /* tell the table which per-version data the methods need */

    if (kscf->dispatch) {
        kmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_k8s_module);
        kmcf->dispatch_balance |= NGX_HTTP_K8S_BALANCE_BIT(kscf->balance);

    } else if (kscf->key) {
        kscf->key->balance |= NGX_HTTP_K8S_BALANCE_BIT(kscf->balance);
    }

    return NGX_OK;
}


/* k8s_local_zone ZONE: the zone this nginx runs in (topology hints) */

char *
ngx_http_k8s_local_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_k8s_main_conf_t *kmcf = conf;

    u_char      ch;
    ngx_str_t  *value;
    ngx_uint_t  i;

    if (kmcf->local_zone.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* a label value: alphanumerics, '-', '_', '.', up to 63 */

    if (value[1].len == 0 || value[1].len > 63) {
        goto invalid;
    }

    for (i = 0; i < value[1].len; i++) {
        ch = value[1].data[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
              || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'
              || ch == '.'))
        {
            goto invalid;
        }
    }

    kmcf->local_zone = value[1];

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid zone name \"%V\"", &value[1]);
    return NGX_CONF_ERROR;
}
