
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
 *   proxy-buffer-size         proxy_buffer_size SIZE, and proxy_buffers
 *                             N SIZE with it (N: proxy-buffers-number,
 *                             else 4 as in ingress-nginx)
 *   proxy-buffers-number      proxy_buffers N SIZE (SIZE: proxy-buffer-size,
 *                             else 4k as in ingress-nginx); N >= 4: nginx
 *                             refuses a config whose busy buffers (two
 *                             by default) do not fit in N - 1 buffers
 *   proxy-max-temp-file-size  0, or at least 8k and proxy-buffer-size
 *                             (nginx refuses less)
 *   proxy-request-buffering   proxy_request_buffering on|off
 *   proxy-next-upstream       proxy_next_upstream CONDITION...
 *   proxy-next-upstream-tries proxy_next_upstream_tries N (0-100)
 *   proxy-next-upstream-timeout proxy_next_upstream_timeout Ns (0-86400)
 *   proxy-http-version        proxy_http_version 1.0|1.1
 *   proxy-max-temp-file-size  proxy_max_temp_file_size SIZE ("0": off)
 *   proxy-cookie-domain       proxy_cookie_domain FROM TO (DNS names) | off
 *   proxy-cookie-path         proxy_cookie_path FROM TO (plain paths) | off
 *   proxy-redirect-from, -to  proxy_redirect FROM TO: "off", "default",
 *                             or URLs / paths without "$" (both needed)
 *   connection-proxy-header   the Connection header sent upstream
 *                             (a token; render.c writes it with the
 *                             location's proxy headers)
 */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "annotations.h"
#include "escape.h"


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
    char           cookie_domain[2080];
    char           cookie_path[2080];
    const char    *redirect_from;
    const char    *redirect_to;
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


/* "off", or two values of a kind: "A B", written "A" "B" into out */
static int
kngx_ann_pair(kngx_ann_ctx_t *ctx, const char *v, int paths, char *out,
    size_t size)
{
    char         a[1030], b[1030];
    const char  *why;
    int          n;

    if (strcmp(v, "off") == 0) {
        snprintf(out, size, "off");
        return KNGX_ANN_OK;
    }

    if (strlen(v) > 2048
        || sscanf(v, "%1029s %1029s%n", a, b, &n) != 2 || v[n] != '\0'
        || (paths ? kngx_path_check(a, &why) != 0
                    || kngx_path_check(b, &why) != 0
                  : kngx_dns_name_check(a, &why) != 0
                    || kngx_dns_name_check(b, &why) != 0))
    {
        ctx->why = paths ? "must be \"off\" or two plain paths, not"
                         : "must be \"off\" or two DNS names, not";
        return KNGX_ANN_BAD;
    }

    snprintf(out, size, "\"%s\" \"%s\"", a, b);

    return KNGX_ANN_OK;
}


/* proxy_redirect's arguments: a URL or path without "$" or quotes */
static int
kngx_ann_redirect_arg(kngx_ann_ctx_t *ctx, const char *v, const char **out)
{
    const char  *s;

    for (s = v; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
              || (*s >= '0' && *s <= '9') || strchr("/_~!&,=:@%.+?#-", *s)))
        {
            break;
        }
    }

    if (*s || s == v || s - v > 2048) {
        ctx->why = "must be a URL or path without \"$\", quotes or "
                   "spaces, not";
        return KNGX_ANN_BAD;
    }

    *out = v;

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
        if (kngx_ann_int(ctx, v, 4, 1024, &c->bufnum) != KNGX_ANN_OK) {
            ctx->why = "must be 4 to 1024 (nginx needs room for two busy "
                       "buffers), not";
            return KNGX_ANN_BAD;
        }
        return KNGX_ANN_OK;
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

    case KNGX_PX_COOKIE_DOMAIN:
        return kngx_ann_pair(ctx, v, 0, c->cookie_domain,
                             sizeof(c->cookie_domain));
    case KNGX_PX_COOKIE_PATH:
        return kngx_ann_pair(ctx, v, 1, c->cookie_path,
                             sizeof(c->cookie_path));
    case KNGX_PX_REDIRECT_FROM:
        return kngx_ann_redirect_arg(ctx, v, &c->redirect_from);
    case KNGX_PX_REDIRECT_TO:
        return kngx_ann_redirect_arg(ctx, v, &c->redirect_to);

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

    if (c->bufnum || c->bufsize[0]) {
        kngx_buf_printf(b, KNGX_LOC "proxy_buffers %ld %s;\n",
                        c->bufnum ? c->bufnum : 4L,
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

    if (c->cookie_domain[0]) {
        kngx_buf_printf(b, KNGX_LOC "proxy_cookie_domain %s;\n",
                        c->cookie_domain);
    }

    if (c->cookie_path[0]) {
        kngx_buf_printf(b, KNGX_LOC "proxy_cookie_path %s;\n",
                        c->cookie_path);
    }

    if (c->redirect_from
        && (strcmp(c->redirect_from, "off") == 0
            || strcmp(c->redirect_from, "default") == 0))
    {
        kngx_buf_printf(b, KNGX_LOC "proxy_redirect %s;\n",
                        c->redirect_from);

    } else if (c->redirect_from && c->redirect_to) {
        kngx_buf_printf(b, KNGX_LOC "proxy_redirect \"%s\" \"%s\";\n",
                        c->redirect_from, c->redirect_to);
    }

#undef KNGX_LOC
}


/* checks across keys: what nginx would refuse at load */
static int
kngx_ann_proxy_finish(kngx_ann_ctx_t *ctx, void *conf)
{
    kngx_ann_proxy_t  *c = conf;
    uint64_t           temp, buf;

    if (c->maxtemp[0] == '\0') {
        return KNGX_ANN_OK;
    }

    temp = kngx_ann_size_bytes(c->maxtemp);
    buf = c->bufsize[0] ? kngx_ann_size_bytes(c->bufsize) : 0;

    if (temp != 0 && (temp < 8192 || temp < buf)) {
        ctx->key = KNGX_ANN_PREFIX "proxy-max-temp-file-size";
        ctx->why = "proxy-max-temp-file-size must be 0 or at least 8k and "
                   "proxy-buffer-size";
        return KNGX_ANN_BAD;
    }

    return KNGX_ANN_OK;
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
    kngx_ann_proxy_parse, kngx_ann_proxy_finish, kngx_ann_proxy_emit, NULL
};
