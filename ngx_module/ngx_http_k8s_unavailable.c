
/*
 * kubengx: 503 for a request whose Service has no endpoints.
 *
 * nginx's upstream lets a balancer say only "no peer" (get returns
 * NGX_BUSY), which it answers with 502 ("no live upstreams"); init_peer
 * and get can signal nothing else but an error (500).  So get_peer
 * (ngx_http_k8s_balancer.c) logs why the Service cannot be used, counts
 * it, and marks the request; when nginx then sends its 502 page for it,
 * this header filter sends nginx's own 503 page instead (through
 * ngx_http_special_response_handler(), the status, headers and body of a
 * plain "return 503") and lets the 502 stop after the header.  This works
 * the same for every module that proxies through an upstream
 * (proxy_pass, grpc_pass, uwsgi_pass, ...), reads no other module's
 * configuration, and keeps the client connection.  error_page does not
 * apply to this answer (an error_page redirect started from inside a
 * header filter could not complete); $upstream_status shows the 502.
 * With "k8s_unavailable_error_page on" in the location, the request is
 * not marked as redirected: nginx's own 502 goes through the location's
 * error_page 502 when it has one (kubengx's default-backend annotation),
 * else the filter sends the 503 as before.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_table.h"


typedef struct {
    unsigned                     unavailable:1;
} ngx_http_k8s_ctx_t;


static ngx_int_t ngx_http_k8s_unavailable_filter(ngx_http_request_t *r);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


ngx_int_t
ngx_http_k8s_unavailable_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_k8s_unavailable_filter;

    return NGX_OK;
}


/* get_peer: the Service of this request has no usable endpoint */

void
ngx_http_k8s_unavailable(ngx_http_request_t *r, ngx_log_t *log,
    ngx_http_k8s_key_t *key, ngx_uint_t state)
{
    ngx_http_k8s_ctx_t       *ctx;
    ngx_http_k8s_loc_conf_t  *klcf;

    ngx_http_k8s_unavailable_log(log, key, state);

    ctx = ngx_http_get_module_ctx(r, ngx_http_k8s_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_k8s_ctx_t));

        if (ctx == NULL) {
            return;             /* the 502 stays */
        }

        ngx_http_set_ctx(r, ctx, ngx_http_k8s_module);
    }

    ctx->unavailable = 1;

    klcf = ngx_http_get_module_loc_conf(r, ngx_http_k8s_module);

    if (!klcf->unavailable_error_page) {
        /* nginx's 502 is replaced by the filter, never redirected first */
        r->error_page = 1;
    }
}


/* why a Service cannot be used, logged and counted (http and stream) */

void
ngx_http_k8s_unavailable_log(ngx_log_t *log, ngx_http_k8s_key_t *key,
    ngx_uint_t state)
{
    if (key->entry) {
        (void) ngx_atomic_fetch_add(&key->entry->unavailable, 1);
    }

    switch (state) {

    case NGX_HTTP_K8S_UNSYNCED:
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "k8s: service \"%V\" is not synced yet", &key->key);
        break;

    case NGX_HTTP_K8S_ABSENT:
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "k8s: service \"%V\" is unknown (no EndpointSlice)",
                      &key->key);
        break;

    default:
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "k8s: service \"%V\" has no ready endpoints",
                      &key->key);
    }
}


static ngx_int_t
ngx_http_k8s_unavailable_filter(ngx_http_request_t *r)
{
    ngx_int_t            rc;
    ngx_http_k8s_ctx_t  *ctx;

    if (r->headers_out.status != NGX_HTTP_BAD_GATEWAY) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_k8s_module);

    if (ctx == NULL || !ctx->unavailable) {
        return ngx_http_next_header_filter(r);
    }

    ctx->unavailable = 0;

    /*
     * The 502 has not been sent (this filter comes before nginx's header
     * filter): send the 503 page, header and body, then make the 502's
     * ngx_http_send_special_response() stop after its header, as it does
     * for a header-only answer.
     */

    ngx_http_clean_header(r);

    /* no error_page from inside a header filter */
    r->error_page = 1;

    rc = ngx_http_special_response_handler(r, NGX_HTTP_SERVICE_UNAVAILABLE);

    r->header_only = 1;

    return rc;
}
