
/*
 * kubengx generator: ingress-nginx's mirror annotations, nginx's mirror
 * module:
 *
 *   mirror-target        the URL each request is copied to: checked as
 *                        auth-url is (auth_external.c's
 *                        kngx_ann_ext_url(): http:// or https://, a
 *                        name, an address or $host, the variables it
 *                        lists but $escaped_request_uri); nginx sends the
 *                        copy to that URL as written, so ingress-nginx's
 *                        documented form ends with $request_uri
 *   mirror-host          the Host header of the copy (a DNS name;
 *                        default: the target's host and port)
 *   mirror-request-body  "on" (default) / "off": whether the copy has
 *                        the request's body
 *
 * Each server holds, for each Ingress with mirror-target that routes in
 * it, one internal location
 *
 *   location = "/_kubengx|mirror|NS_NAME" { internal; ... proxy_pass }
 *
 * named as auth_external.c names its auth location (names.c's cert base
 * of the Ingress: injective; "|" is in no Ingress path, so no route
 * meets it, and a client asking for it gets 404), and each of the
 * Ingress's locations says "mirror" to it.  The copy's answer is
 * discarded; the client's request does not wait for it beyond nginx's
 * own (a slow mirror delays the next request on that connection, as
 * nginx documents).  A target whose host is a name is resolved per
 * request through the plan's resolver, as auth-url's.
 */

#include <string.h>

#include "annotations.h"
#include "escape.h"


typedef struct {
    const char    *url;             /* written quoted, variables mapped */
    const char    *host;            /* the Host header, quoted */
    unsigned       name:1;          /* the host needs the resolver */
    unsigned       body_off:1;
    unsigned       host_set:1;
    char           id[KNGX_NAME_CERT_MAX + 1];      /* NS_NAME */
} kngx_ann_mirror_t;


/*
 * mirror-target: auth-url's check (kngx_ann_ext_url()), which ends the
 * host at "/" or "?"; ingress-nginx's documented form has a variable
 * right after the host (https://test.env.com$request_uri): checked with a
 * "/" put before that variable, which is then taken out of *url again.
 */
static int
kngx_ann_mirror_url(kngx_ann_ctx_t *ctx, const char *v, const char **url,
    const char **host, unsigned *name)
{
    const char  *a, *e;
    char        *tmp, *out;
    size_t       n;

    a = strstr(v, "://");
    a = a ? a + 3 : v;

    for (e = a; *e && *e != '/' && *e != '?' && !(*e == '$' && e > a); e++)
    {
        /* void */
    }

    if (*e != '$') {
        return kngx_ann_ext_url(ctx, v, url, host, name);
    }

    n = strlen(v);
    tmp = kube_arena_alloc(ctx->arena, n + 2);
    if (tmp == NULL) {
        return KNGX_ANN_NOMEM;
    }

    memcpy(tmp, v, (size_t) (e - v));
    tmp[e - v] = '/';
    memcpy(tmp + (e - v) + 1, e, n - (size_t) (e - v) + 1);

    if (kngx_ann_ext_url(ctx, tmp, url, host, name) != KNGX_ANN_OK) {
        return KNGX_ANN_BAD;
    }

    /* the "/" after the scheme and the (mapped) host */
    n = (size_t) (a - v) + strlen(*host);
    out = kube_arena_strndup(ctx->arena, *url, strlen(*url));
    if (out == NULL) {
        return KNGX_ANN_NOMEM;
    }

    memmove(out + n, out + n + 1, strlen(out + n + 1) + 1);
    *url = out;

    return KNGX_ANN_OK;
}


static int
kngx_ann_mirror_parse(kngx_ann_ctx_t *ctx, void *conf, int id,
    const char *v)
{
    kngx_ann_mirror_t  *c = conf;
    const char         *host, *why;
    unsigned            name;
    int                 rc;

    switch (id) {

    case KNGX_MI_TARGET:
        rc = kngx_ann_mirror_url(ctx, v, &c->url, &host, &name);
        if (rc != KNGX_ANN_OK) {
            return rc;
        }

        if (strstr(c->url, "escaped_request_uri")) {
            ctx->why = "may not use $escaped_request_uri (a copy keeps "
                       "the URI as sent: $request_uri):";
            return KNGX_ANN_BAD;
        }

        c->name = name;
        if (!c->host_set) {
            c->host = host;
        }
        return KNGX_ANN_OK;

    case KNGX_MI_HOST:
        if (kngx_dns_name_check(v, &why) != 0) {
            ctx->why = "must be a DNS name, not";
            return KNGX_ANN_BAD;
        }
        c->host = v;
        c->host_set = 1;
        return KNGX_ANN_OK;

    default:    /* KNGX_MI_BODY */
        if (strcmp(v, "on") == 0 || strcmp(v, "true") == 0) {
            c->body_off = 0;
        } else if (strcmp(v, "off") == 0 || strcmp(v, "false") == 0) {
            c->body_off = 1;
        } else {
            ctx->why = "must be \"on\" or \"off\", not";
            return KNGX_ANN_BAD;
        }
        return KNGX_ANN_OK;
    }
}


static int
kngx_ann_mirror_finish(kngx_ann_ctx_t *ctx, void *conf)
{
    kngx_ann_mirror_t  *c = conf;

    if (c->url == NULL) {
        ctx->key = KNGX_ANN_PREFIX "mirror-target";
        ctx->why = "mirror-host and mirror-request-body need mirror-target";
        return KNGX_ANN_BAD;
    }

    if (kngx_name_cert(c->id, sizeof(c->id), ctx->ing->meta.ns,
                       ctx->ing->meta.name)
        != 0)
    {
        return KNGX_ANN_NOMEM;
    }

    return KNGX_ANN_OK;
}


static const kngx_ann_mirror_t *
kngx_ann_mirror(const kngx_ann_t *ann)
{
    return ann ? ann->conf[kngx_ann_mirror_family.index] : NULL;
}


int
kngx_ann_mirror_resolver(const kngx_ann_t *ann)
{
    const kngx_ann_mirror_t  *c = kngx_ann_mirror(ann);

    return c && c->name;
}


/* the route's location: mirror to the Ingress's mirror location */
static void
kngx_ann_mirror_emit(kngx_buf_t *b, const void *conf, const kngx_route_t *r,
    const char *certs)
{
    const kngx_ann_mirror_t  *c = conf;

    kngx_buf_printf(b, "        mirror \"/_kubengx|mirror|%s\";\n", c->id);

    if (c->body_off) {
        kngx_buf_printf(b, "        mirror_request_body off;\n");
    }
}


static void
kngx_ann_mirror_location(kngx_buf_t *b, const kngx_ann_mirror_t *c,
    const char *resolver)
{
    kngx_buf_printf(b,
        "    location = \"/_kubengx|mirror|%s\" {\n"
        "        internal;\n", c->id);

    if (c->name && resolver) {
        kngx_buf_printf(b, "        resolver %s;\n"
                        "        resolver_timeout 5s;\n", resolver);
    }

    if (c->body_off) {
        /* the request's Content-Length would announce a body not sent */
        kngx_buf_printf(b, "        proxy_pass_request_body off;\n"
                        "        proxy_set_header Content-Length \"\";\n");
    }

    kngx_buf_printf(b,
        "        proxy_set_header Host \"%s\";\n"
        "        proxy_set_header X-Original-URI $request_uri;\n"
        "        proxy_set_header X-Real-IP $remote_addr;\n"
        "        proxy_set_header X-Forwarded-For $remote_addr;\n"
        "        proxy_set_header X-Forwarded-Proto $scheme;\n"
        "        proxy_set_header X-Forwarded-Host $kubengx_host;\n"
        "        proxy_http_version 1.1;\n"
        "        proxy_ssl_server_name on;\n"
        "        set $kubengx_mirror_url \"%s\";\n"
        "        proxy_pass $kubengx_mirror_url;\n"
        "    }\n", c->host, c->url);
}


/* whether route i is the first in srv of an Ingress with ann's conf */
static int
kngx_ann_mirror_first(const kngx_server_t *srv, size_t i)
{
    size_t  j;

    for (j = 0; j < i; j++) {
        if (srv->routes[j].target.ann == srv->routes[i].target.ann) {
            return 0;
        }
    }

    return 1;
}


void
kngx_ann_mirror_server(kngx_buf_t *b, const kngx_server_t *srv,
    const char *resolver)
{
    const kngx_ann_mirror_t  *c;
    size_t                    i;

    /* once per Ingress (one kngx_ann_t each) */
    for (i = 0; i < srv->nroutes; i++) {
        c = kngx_ann_mirror(srv->routes[i].target.ann);

        if (c && kngx_ann_mirror_first(srv, i)) {
            kngx_ann_mirror_location(b, c, resolver);
        }
    }
}


const kngx_ann_family_t  kngx_ann_mirror_family = {
    "mirror", 15, sizeof(kngx_ann_mirror_t),
    kngx_ann_mirror_parse, kngx_ann_mirror_finish, kngx_ann_mirror_emit,
    NULL
};
