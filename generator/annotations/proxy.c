
/*
 * kubengx generator: ingress-nginx's proxy tuning annotations, each one
 * nginx directive in the location (overriding what the http or server
 * level says, by nginx's inheritance):
 *
 *   proxy-body-size           client_max_body_size SIZE ("0": no limit)
 *   client-body-buffer-size   client_body_buffer_size SIZE
 *   proxy-connect-timeout     proxy_connect_timeout Ns   (N or Ns, 1-3600)
 *   proxy-send-timeout        proxy_send_timeout Ns      (1-86400)
 *   proxy-read-timeout        proxy_read_timeout Ns      (1-86400)
 *   proxy-buffering           proxy_buffering on|off
 *   proxy-buffer-size         proxy_buffer_size SIZE
 *   proxy-buffers-number      proxy_buffers N SIZE (SIZE: proxy-buffer-size,
 *                             else 4k as in ingress-nginx)
 *   proxy-request-buffering   proxy_request_buffering on|off
 *   proxy-next-upstream       proxy_next_upstream CONDITION...
 *   proxy-next-upstream-tries proxy_next_upstream_tries N (0-100)
 *   proxy-next-upstream-timeout proxy_next_upstream_timeout Ns (0-86400)
 *   proxy-http-version        proxy_http_version 1.0|1.1
 *   proxy-max-temp-file-size  proxy_max_temp_file_size SIZE ("0": off)
 *   connection-proxy-header   the Connection header sent upstream
 *                             (a token; render.c writes it with the
 *                             location's proxy headers)
 */

#include <stdio.h>
#include <string.h>

#include "annotations.h"


#define KNGX_SIZE_LEN  16


typedef struct {
    char           body[KNGX_SIZE_LEN];
    char           cbb[KNGX_SIZE_LEN];
    char           bufsize[KNGX_SIZE_LEN];
    char           maxtemp[KNGX_SIZE_LEN];
    long           connect;
    long           send;
    long           read;
    long           bufnum;
    long           tries;
    long           next_timeout;
    int            buffering;       /* 0 unset, 1 on, 2 off */
    int            reqbuf;
    const char    *httpver;
    char           next[200];
    const char    *connection;
    unsigned       tries_set:1;
    unsigned       next_timeout_set:1;
} kngx_ann_proxy_t;


/* "N" or "Ns" seconds */
static int
kngx_ann_seconds(kngx_ann_ctx_t *ctx, const char *v, long min, long max,
    long *out)
{
    char    buf[16];
    size_t  len = strlen(v);

    if (len == 0 || len >= sizeof(buf)) {
        ctx->why = "must be seconds (N or Ns), not";
        return KNGX_ANN_BAD;
    }

    memcpy(buf, v, len + 1);

    if (buf[len - 1] == 's') {
        buf[len - 1] = '\0';
    }

    if (kngx_ann_int(ctx, buf, min, max, out) != KNGX_ANN_OK) {
        ctx->why = "must be seconds (N or Ns) in range, not";
        return KNGX_ANN_BAD;
    }

    return KNGX_ANN_OK;
}


static int
kngx_ann_onoff(kngx_ann_ctx_t *ctx, const char *v, int *out)
{
    if (strcmp(v, "on") == 0) {
        *out = 1;
        return KNGX_ANN_OK;
    }

    if (strcmp(v, "off") == 0) {
        *out = 2;
        return KNGX_ANN_OK;
    }

    ctx->why = "must be \"on\" or \"off\", not";
    return KNGX_ANN_BAD;
}


/* space-separated conditions nginx's proxy_next_upstream knows */
static int
kngx_ann_next(kngx_ann_ctx_t *ctx, const char *v, char *out, size_t size)
{
    static const char *const  known[] = {
        "error", "timeout", "invalid_header", "http_500", "http_502",
        "http_503", "http_504", "http_403", "http_404", "http_429",
        "non_idempotent", "off", NULL
    };

    if (kngx_ann_words(v, known, out, size) != KNGX_ANN_OK) {
        ctx->why = "must be conditions of nginx's proxy_next_upstream "
                   "(error timeout invalid_header http_500 http_502 "
                   "http_503 http_504 http_403 http_404 http_429 "
                   "non_idempotent off), not";
        return KNGX_ANN_BAD;
    }

    return KNGX_ANN_OK;
}


static int
kngx_ann_proxy_parse(kngx_ann_ctx_t *ctx, void *conf, int id, const char *v)
{
    kngx_ann_proxy_t  *c = conf;
    const char        *s;

    switch (id) {

    case KNGX_PX_BODY:
        return kngx_ann_size(ctx, v, 1, c->body, sizeof(c->body));
    case KNGX_PX_CBB:
        return kngx_ann_size(ctx, v, 0, c->cbb, sizeof(c->cbb));
    case KNGX_PX_BUFSIZE:
        return kngx_ann_size(ctx, v, 0, c->bufsize, sizeof(c->bufsize));
    case KNGX_PX_MAXTEMP:
        return kngx_ann_size(ctx, v, 1, c->maxtemp, sizeof(c->maxtemp));
    case KNGX_PX_CONNECT:
        return kngx_ann_seconds(ctx, v, 1, 3600, &c->connect);
    case KNGX_PX_SEND:
        return kngx_ann_seconds(ctx, v, 1, 86400, &c->send);
    case KNGX_PX_READ:
        return kngx_ann_seconds(ctx, v, 1, 86400, &c->read);
    case KNGX_PX_BUFNUM:
        return kngx_ann_int(ctx, v, 1, 1024, &c->bufnum);
    case KNGX_PX_NEXT_TRIES:
        c->tries_set = 1;
        return kngx_ann_int(ctx, v, 0, 100, &c->tries);
    case KNGX_PX_NEXT_TIMEOUT:
        c->next_timeout_set = 1;
        return kngx_ann_seconds(ctx, v, 0, 86400, &c->next_timeout);
    case KNGX_PX_BUFFERING:
        return kngx_ann_onoff(ctx, v, &c->buffering);
    case KNGX_PX_REQBUF:
        return kngx_ann_onoff(ctx, v, &c->reqbuf);
    case KNGX_PX_NEXT:
        return kngx_ann_next(ctx, v, c->next, sizeof(c->next));

    case KNGX_PX_HTTPVER:
        if (strcmp(v, "1.0") != 0 && strcmp(v, "1.1") != 0) {
            ctx->why = "must be \"1.0\" or \"1.1\", not";
            return KNGX_ANN_BAD;
        }
        c->httpver = v;
        return KNGX_ANN_OK;

    default:    /* KNGX_PX_CONNHDR: an HTTP token */
        for (s = v; *s; s++) {
            if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
                  || (*s >= '0' && *s <= '9') || *s == '-'))
            {
                break;
            }
        }

        if (*s || s == v || s - v > 64) {
            ctx->why = "must be a header token ([A-Za-z0-9-]), not";
            return KNGX_ANN_BAD;
        }

        c->connection = v;
        return KNGX_ANN_OK;
    }
}


static void
kngx_ann_proxy_emit(kngx_buf_t *b, const void *conf, const kngx_route_t *r,
    const char *certs)
{
    const kngx_ann_proxy_t  *c = conf;

#define KNGX_LOC  "        "

    if (c->body[0]) {
        kngx_buf_printf(b, KNGX_LOC "client_max_body_size %s;\n", c->body);
    }

    if (c->cbb[0]) {
        kngx_buf_printf(b, KNGX_LOC "client_body_buffer_size %s;\n", c->cbb);
    }

    if (c->connect) {
        kngx_buf_printf(b, KNGX_LOC "proxy_connect_timeout %lds;\n",
                        c->connect);
    }

    if (c->send) {
        kngx_buf_printf(b, KNGX_LOC "proxy_send_timeout %lds;\n", c->send);
    }

    if (c->read) {
        kngx_buf_printf(b, KNGX_LOC "proxy_read_timeout %lds;\n", c->read);
    }

    if (c->buffering) {
        kngx_buf_printf(b, KNGX_LOC "proxy_buffering %s;\n",
                        c->buffering == 1 ? "on" : "off");
    }

    if (c->bufsize[0]) {
        kngx_buf_printf(b, KNGX_LOC "proxy_buffer_size %s;\n", c->bufsize);
    }

    if (c->bufnum) {
        kngx_buf_printf(b, KNGX_LOC "proxy_buffers %ld %s;\n", c->bufnum,
                        c->bufsize[0] ? c->bufsize : "4k");
    }

    if (c->reqbuf) {
        kngx_buf_printf(b, KNGX_LOC "proxy_request_buffering %s;\n",
                        c->reqbuf == 1 ? "on" : "off");
    }

    if (c->next[0]) {
        kngx_buf_printf(b, KNGX_LOC "proxy_next_upstream %s;\n", c->next);
    }

    if (c->tries_set) {
        kngx_buf_printf(b, KNGX_LOC "proxy_next_upstream_tries %ld;\n",
                        c->tries);
    }

    if (c->next_timeout_set) {
        kngx_buf_printf(b, KNGX_LOC "proxy_next_upstream_timeout %lds;\n",
                        c->next_timeout);
    }

    if (c->httpver) {
        kngx_buf_printf(b, KNGX_LOC "proxy_http_version %s;\n", c->httpver);
    }

    if (c->maxtemp[0]) {
        kngx_buf_printf(b, KNGX_LOC "proxy_max_temp_file_size %s;\n",
                        c->maxtemp);
    }

#undef KNGX_LOC
}


const char *
kngx_ann_connection(const kngx_ann_t *ann)
{
    const kngx_ann_proxy_t  *c;

    c = ann ? ann->conf[kngx_ann_proxy_family.index] : NULL;

    return c ? c->connection : NULL;
}


const kngx_ann_family_t  kngx_ann_proxy_family = {
    "proxy", 3, sizeof(kngx_ann_proxy_t),
    kngx_ann_proxy_parse, NULL, kngx_ann_proxy_emit
};
