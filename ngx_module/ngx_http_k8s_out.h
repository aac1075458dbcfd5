
/*
 * kubengx: bounded output into a chain of buffers, for k8s_status and the
 * k8s_snapshot file.
 *
 * Nothing is sized by estimate: every piece is written with nginx's
 * ngx_vslprintf() against the end of the current buffer, and a piece that
 * may have been cut (it reached the end) is written again into a new,
 * larger buffer; escaped strings are measured exactly first.  So no write
 * can pass the end of a buffer, whatever the names and counts are.  An
 * allocation failure sets out->error; later writes do nothing.
 */


#ifndef _NGX_HTTP_K8S_OUT_H_INCLUDED_
#define _NGX_HTTP_K8S_OUT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct {
    ngx_pool_t                  *pool;
    ngx_chain_t                 *first;
    ngx_chain_t                **next;       /* where the next link goes */
    ngx_buf_t                   *buf;        /* the current buffer */
    size_t                       chunk;      /* size of the next buffer */
    off_t                        size;       /* bytes written */
    ngx_uint_t                   error;
} ngx_http_k8s_out_t;


void ngx_http_k8s_out_init(ngx_http_k8s_out_t *out, ngx_pool_t *pool);
void ngx_http_k8s_out_printf(ngx_http_k8s_out_t *out, const char *fmt, ...);

/* s escaped for a JSON string, a Prometheus label value, or a snapshot
 * field ("-" when empty, bytes that would break a line as '_') */
void ngx_http_k8s_out_json(ngx_http_k8s_out_t *out, ngx_str_t *s);
void ngx_http_k8s_out_prom(ngx_http_k8s_out_t *out, ngx_str_t *s);
void ngx_http_k8s_out_word(ngx_http_k8s_out_t *out, ngx_str_t *s);

/* the chain written so far (NULL: nothing, or out->error) */
ngx_chain_t *ngx_http_k8s_out_chain(ngx_http_k8s_out_t *out);


#endif /* _NGX_HTTP_K8S_OUT_H_INCLUDED_ */
