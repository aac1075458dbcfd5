
/*
 * kubengx: bounded output into a chain of buffers (see
 * ngx_http_k8s_out.h).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_k8s_out.h"


/* the first buffer; each next one doubles, up to the largest */
#define NGX_HTTP_K8S_OUT_FIRST    16384
#define NGX_HTTP_K8S_OUT_LARGEST  (1024 * 1024)

/* one piece is never larger than this (a formatted line, one name) */
#define NGX_HTTP_K8S_OUT_PIECE    (64 * 1024 * 1024)


static u_char *ngx_http_k8s_out_room(ngx_http_k8s_out_t *out, size_t need);


void
ngx_http_k8s_out_init(ngx_http_k8s_out_t *out, ngx_pool_t *pool)
{
    ngx_memzero(out, sizeof(ngx_http_k8s_out_t));

    out->pool = pool;
    out->next = &out->first;
    out->chunk = NGX_HTTP_K8S_OUT_FIRST;
}


/*
 * At least need bytes free in the current buffer (a new buffer when
 * not): returns where to write, or NULL (out->error).
 */

static u_char *
ngx_http_k8s_out_room(ngx_http_k8s_out_t *out, size_t need)
{
    size_t        size;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (out->error) {
        return NULL;
    }

    b = out->buf;

    if (b && (size_t) (b->end - b->last) >= need) {
        return b->last;
    }

    if (need > NGX_HTTP_K8S_OUT_PIECE) {
        out->error = 1;
        return NULL;
    }

    size = ngx_max(out->chunk, need);

    b = ngx_create_temp_buf(out->pool, size);
    if (b == NULL) {
        out->error = 1;
        return NULL;
    }

    cl = ngx_alloc_chain_link(out->pool);
    if (cl == NULL) {
        out->error = 1;
        return NULL;
    }

    cl->buf = b;
    cl->next = NULL;

    *out->next = cl;
    out->next = &cl->next;
    out->buf = b;

    if (out->chunk < NGX_HTTP_K8S_OUT_LARGEST) {
        out->chunk *= 2;
    }

    return b->last;
}


void
ngx_http_k8s_out_printf(ngx_http_k8s_out_t *out, const char *fmt, ...)
{
    u_char     *p, *last;
    size_t      need;
    va_list     args;
    ngx_buf_t  *b;

    need = 256;

    for ( ;; ) {
        if (ngx_http_k8s_out_room(out, need) == NULL) {
            return;
        }

        b = out->buf;

        va_start(args, fmt);
        p = ngx_vslprintf(b->last, b->end, fmt, args);
        va_end(args);

        /* reaching the end may mean the piece was cut: write it again,
         * with room for twice as much */

        last = b->end;

        if (p < last) {
            out->size += p - b->last;
            b->last = p;
            return;
        }

        need = 2 * (size_t) (last - b->last);
    }
}


void
ngx_http_k8s_out_json(ngx_http_k8s_out_t *out, ngx_str_t *s)
{
    u_char  *p;
    size_t   len;

    if (s->len == 0) {
        return;
    }

    len = s->len + ngx_escape_json(NULL, s->data, s->len);

    p = ngx_http_k8s_out_room(out, len);
    if (p == NULL) {
        return;
    }

    (void) ngx_escape_json(p, s->data, s->len);

    out->buf->last += len;
    out->size += len;
}


void
ngx_http_k8s_out_prom(ngx_http_k8s_out_t *out, ngx_str_t *s)
{
    u_char      ch, *p;
    size_t      len;
    ngx_uint_t  i;

    len = s->len;

    for (i = 0; i < s->len; i++) {
        ch = s->data[i];

        if (ch == '\\' || ch == '"' || ch == '\n') {
            len++;
        }
    }

    p = ngx_http_k8s_out_room(out, len);
    if (p == NULL) {
        return;
    }

    for (i = 0; i < s->len; i++) {
        ch = s->data[i];

        if (ch == '\\' || ch == '"') {
            *p++ = '\\';
            *p++ = ch;

        } else if (ch == '\n') {
            *p++ = '\\';
            *p++ = 'n';

        } else {
            *p++ = ch;
        }
    }

    out->buf->last = p;
    out->size += len;
}


void
ngx_http_k8s_out_word(ngx_http_k8s_out_t *out, ngx_str_t *s)
{
    u_char      ch, *p;
    ngx_uint_t  i;

    p = ngx_http_k8s_out_room(out, s->len ? s->len : 1);
    if (p == NULL) {
        return;
    }

    if (s->len == 0) {
        *p++ = '-';

    } else {
        for (i = 0; i < s->len; i++) {
            ch = s->data[i];
            *p++ = (ch <= ' ' || ch >= 0x7f) ? '_' : ch;
        }
    }

    out->size += p - out->buf->last;
    out->buf->last = p;
}


ngx_chain_t *
ngx_http_k8s_out_chain(ngx_http_k8s_out_t *out)
{
    return out->error ? NULL : out->first;
}
