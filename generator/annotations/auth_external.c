
/*
 * kubengx generator: ingress-nginx's external authentication annotations,
 * nginx's auth_request module:
 *
 *   auth-url                    the URL asked before each request:
 *                               http:// or https://, a host (a DNS name,
 *                               an in-cluster Service's
 *                               svc.ns.svc.cluster.local, an IP address,
 *                               or $host), an optional port, a path and
 *                               query
 *   auth-method                 its method (GET by default), [A-Z]
 *   auth-signin                 where a 401 is redirected (302), a URL as
 *                               above; "rd=" (auth-signin-redirect-param)
 *                               with the original URL is added unless it
 *                               is there
 *   auth-signin-redirect-param  that parameter's name, [A-Za-z0-9_-]
 *   auth-response-headers       headers of the auth response passed to the
 *                               backend, "A, B" of [A-Za-z0-9-]
 *   auth-request-redirect       the X-Auth-Request-Redirect header sent to
 *                               the auth URL (default $request_uri)
 *   auth-always-set-cookie      "true": the auth answer's Set-Cookie goes
 *                               to the client with every status (else
 *                               only with 2xx and 3xx, as ingress-nginx)
 *   auth-proxy-set-headers      a ConfigMap of the Ingress's namespace
 *                               whose data are headers sent to the auth
 *                               URL (headers.c checks it: names HTTP
 *                               tokens, values whose "$" are variables
 *                               nginx defines); a missing one, another
 *                               namespace's or a bad header refuses the
 *                               Ingress: it is not served (fail closed)
 *
 * The URLs may use the variables ingress-nginx's documentation uses:
 * $host, $http_host, $scheme, $request_uri, $escaped_request_uri (the
 * request URI fit for a query value: nginx has no escaping function, so
 * a URI holding "&", "#", "+", "%" or ";" keeps its path up to the first
 * of them, render.c's map), $best_http_host and $pass_access_scheme.
 * Every other "$", quote, backslash, space, "{", "}", ";" or byte outside
 * printable ASCII refuses the Ingress.
 *
 * Each server holds, for each Ingress with auth-url that routes in it,
 *
 *   location = "/_kubengx|auth|NS_NAME" { internal; ... proxy_pass }
 *   location @kubengx_signin_NS_NAME { return 302 SIGNIN; }
 *
 * (names.c's cert base of the Ingress: injective; "|" is in no Ingress
 * path, so no route meets them, and a client asking for one gets 404).
 * The auth request carries the client's headers (cookies) without its
 * body, X-Original-URL, X-Original-Method, X-Original-URI,
 * X-Auth-Request-Redirect and X-Real-IP, as ingress-nginx, then the
 * auth-proxy-set-headers ones (a name kubengx sets itself is refused:
 * nginx would send both); its answer:
 * 2xx lets the request through, 401 and 403 are the client's answer (401
 * goes to auth-signin when given), anything else is 500.  A URL whose
 * host is a name or $host is resolved per request through the plan's
 * resolver (--resolver or /etc/resolv.conf, as ExternalName Services);
 * without one nginx answers 500 (closed).
 */

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "annotations.h"
#include "escape.h"
#include "plan_parts.h"


#define KNGX_EXT_HEADERS  16


typedef struct {
    const char       *url;          /* written quoted, variables mapped */
    const char       *host;         /* the Host header, quoted */
    const char       *signin;
    const char       *redirect;     /* X-Auth-Request-Redirect */
    char              method[16];
    char              param[64];
    char              headers[KNGX_EXT_HEADERS][64];
    size_t            nheaders;
    kngx_ann_header_t *proxy;       /* auth-proxy-set-headers */
    size_t            nproxy;
    unsigned          name;         /* the host needs the resolver */
    unsigned          always_cookie;
    char              id[KNGX_NAME_CERT_MAX + 1];   /* NS_NAME */
} kngx_ann_ext_t;


static const struct {
    const char  *in;
    const char  *out;
} kngx_ext_vars[] = {
    { "escaped_request_uri", "kubengx_escaped_request_uri" },
    { "best_http_host", "kubengx_host" },
    { "pass_access_scheme", "scheme" },
    { "request_uri", "request_uri" },
    { "http_host", "http_host" },
    { "scheme", "scheme" },
    { "host", "host" },
    { NULL, NULL }
};


/* "$name" at s: its length, and the nginx variable in *out; 0 if none */
static size_t
kngx_ann_ext_var(const char *s, const char **out)
{
    size_t  i, n;
    char    c;

    for (i = 0; kngx_ext_vars[i].in; i++) {
        n = strlen(kngx_ext_vars[i].in);
        c = s[1 + n];

        if (strncmp(s + 1, kngx_ext_vars[i].in, n) == 0
            && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                 || (c >= '0' && c <= '9') || c == '_'))
        {
            *out = kngx_ext_vars[i].out;
            return n + 1;
        }
    }

    return 0;
}


/* s checked (printable ASCII, no quotes, backslashes, spaces, braces,
 * ";" and only known variables) and copied with the variables mapped */
static char *
kngx_ann_ext_text(kngx_ann_ctx_t *ctx, const char *s, size_t len)
{
    kngx_buf_t   b;
    const char  *var, *e = s + len;
    size_t       n;
    char        *out;

    memset(&b, 0, sizeof(b));

    while (s < e) {
        if (*s == '$') {
            n = kngx_ann_ext_var(s, &var);
            if (n == 0 || s + n > e) {
                goto bad;
            }
            kngx_buf_printf(&b, "${%s}", var);
            s += n;
            continue;
        }

        if (*s <= 0x20 || *s > 0x7e || strchr("\"'\\{};`<>^|", *s)) {
            goto bad;
        }

        kngx_buf_printf(&b, "%c", *s++);
    }

    out = kube_arena_strdup(ctx->arena, b.data ? b.data : "");
    kngx_buf_free(&b);

    return out;

bad:

    kngx_buf_free(&b);
    return NULL;
}


/* a URL of the alphabet above; *host its authority, *name: resolved
 * (mirror.c uses it too) */
int
kngx_ann_ext_url(kngx_ann_ctx_t *ctx, const char *v, const char **url,
    const char **host, unsigned *name)
{
    const char     *s, *a, *e, *colon;
    char            h[300];
    unsigned char   addr[16];
    size_t          i;
    long            port;

    ctx->why = "must be an http:// or https:// URL with a host name, an "
               "IP address or $host, without quotes, spaces, \";\", "
               "braces or variables other than $host, $http_host, "
               "$scheme, $request_uri, $escaped_request_uri, not";

    if (strncmp(v, "http://", 7) == 0) {
        a = v + 7;
    } else if (strncmp(v, "https://", 8) == 0) {
        a = v + 8;
    } else {
        return KNGX_ANN_BAD;
    }

    for (e = a; *e && *e != '/' && *e != '?'; e++) { /* void */ }

    if (e == a || (size_t) (e - a) >= sizeof(h)) {
        return KNGX_ANN_BAD;
    }

    memcpy(h, a, e - a);
    h[e - a] = '\0';

    /* the port */
    colon = h[0] == '[' ? strstr(h, "]:") : strrchr(h, ':');
    if (colon) {
        colon += h[0] == '[';
        if (colon[1] == '\0' || strlen(colon + 1) > 5) {
            return KNGX_ANN_BAD;
        }
        port = 0;
        for (s = colon + 1; *s; s++) {
            if (*s < '0' || *s > '9') {
                return KNGX_ANN_BAD;
            }
            port = port * 10 + (*s - '0');
        }
        if (port < 1 || port > 65535) {
            return KNGX_ANN_BAD;
        }
        h[colon - h] = '\0';
    }

    *name = 0;

    if (strcmp(h, "$host") == 0 || strcmp(h, "$http_host") == 0
        || strcmp(h, "$best_http_host") == 0)
    {
        *name = 1;

    } else if (h[0] == '[') {
        i = strlen(h);
        if (h[i - 1] != ']') {
            return KNGX_ANN_BAD;
        }
        h[i - 1] = '\0';
        if (inet_pton(AF_INET6, h + 1, addr) != 1) {
            return KNGX_ANN_BAD;
        }

    } else if (inet_pton(AF_INET, h, addr) != 1) {
        if (kngx_external_name_check(h, &s) != 0) {
            return KNGX_ANN_BAD;
        }
        *name = 1;
    }

    *url = kngx_ann_ext_text(ctx, v, strlen(v));
    *host = kngx_ann_ext_text(ctx, a, (size_t) (e - a));

    if (*url == NULL || *host == NULL) {
        return KNGX_ANN_BAD;
    }

    return KNGX_ANN_OK;
}


static int
kngx_ann_ext_token(kngx_ann_ctx_t *ctx, const char *v, const char *extra,
    char *out, size_t size)
{
    const char  *s;

    for (s = v; *s; s++) {
        if (!((*s >= 'A' && *s <= 'Z') || (*extra && ((*s >= 'a' && *s <= 'z')
               || (*s >= '0' && *s <= '9') || strchr(extra, *s)))))
        {
            break;
        }
    }

    if (*v == '\0' || *s || strlen(v) >= size) {
        ctx->why = *extra ? "must be a token of [A-Za-z0-9_-], not"
                          : "must be a method of [A-Z], not";
        return KNGX_ANN_BAD;
    }

    memcpy(out, v, strlen(v) + 1);
    return KNGX_ANN_OK;
}


static int
kngx_ann_ext_headers(kngx_ann_ctx_t *ctx, kngx_ann_ext_t *c, const char *v)
{
    const char  *s = v, *e;
    size_t       n, i;

    c->nheaders = 0;

    while (*s) {
        while (*s == ' ' || *s == ',') {
            s++;
        }

        for (e = s; *e && *e != ' ' && *e != ','; e++) {
            if (!((*e >= 'a' && *e <= 'z') || (*e >= 'A' && *e <= 'Z')
                  || (*e >= '0' && *e <= '9') || *e == '-'))
            {
                ctx->why = "must be header names of [A-Za-z0-9-] separated "
                           "by \",\", not";
                return KNGX_ANN_BAD;
            }
        }

        n = (size_t) (e - s);
        if (n == 0) {
            break;
        }

        if (n >= sizeof(c->headers[0]) || c->nheaders == KNGX_EXT_HEADERS) {
            ctx->why = "names more than 16 headers, or one over 63 bytes:";
            return KNGX_ANN_BAD;
        }

        for (i = 0; i < n; i++) {
            c->headers[c->nheaders][i] = s[i];
        }
        c->headers[c->nheaders++][n] = '\0';
        s = e;
    }

    return KNGX_ANN_OK;
}


/* the headers the auth location sets itself (kngx_ann_ext_locations) */
static const char *const  kngx_ext_own[] = {
    "Host", "Content-Length", "X-Original-URI", "X-Original-URL",
    "X-Original-Method", "X-Auth-Request-Redirect", "X-Sent-From",
    "X-Real-IP", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host",
    NULL
};


static int
kngx_ann_ext_proxy_headers(kngx_ann_ctx_t *ctx, kngx_ann_ext_t *c,
    const char *v)
{
    size_t  i, j;
    int     rc;

    rc = kngx_ann_headers_configmap(ctx, v, &c->proxy, &c->nproxy);
    if (rc != KNGX_ANN_OK) {
        return rc;
    }

    for (i = 0; i < c->nproxy; i++) {
        for (j = 0; kngx_ext_own[j]; j++) {
            if (strcasecmp(c->proxy[i].name, kngx_ext_own[j]) == 0) {
                ctx->why = "names a ConfigMap with a header kubengx sends "
                           "to the auth URL itself (Host, Content-Length, "
                           "X-Original-*, X-Auth-Request-Redirect, "
                           "X-Sent-From, X-Real-IP, X-Forwarded-*):";
                return KNGX_ANN_BAD;
            }
        }
    }

    return KNGX_ANN_OK;
}


static int
kngx_ann_ext_parse(kngx_ann_ctx_t *ctx, void *conf, int id, const char *v)
{
    kngx_ann_ext_t  *c = conf;
    const char      *host;
    unsigned         name;

    switch (id) {

    case KNGX_EX_URL:
        return kngx_ann_ext_url(ctx, v, &c->url, &c->host, &c->name);

    case KNGX_EX_SIGNIN:
        return kngx_ann_ext_url(ctx, v, &c->signin, &host, &name);

    case KNGX_EX_METHOD:
        return kngx_ann_ext_token(ctx, v, "", c->method, sizeof(c->method));

    case KNGX_EX_PARAM:
        return kngx_ann_ext_token(ctx, v, "_-", c->param, sizeof(c->param));

    case KNGX_EX_HEADERS:
        return kngx_ann_ext_headers(ctx, c, v);

    case KNGX_EX_COOKIE:
        return kngx_ann_bool(ctx, v, &c->always_cookie);

    case KNGX_EX_PROXY_HEADERS:
        return kngx_ann_ext_proxy_headers(ctx, c, v);

    default:    /* KNGX_EX_REDIRECT */
        c->redirect = kngx_ann_ext_text(ctx, v, strlen(v));
        if (c->redirect == NULL || *v == '\0') {
            ctx->why = "must be a URL or path without quotes, spaces, "
                       "\";\", braces or unknown variables, not";
            return KNGX_ANN_BAD;
        }
        return KNGX_ANN_OK;
    }
}


static int
kngx_ann_ext_finish(kngx_ann_ctx_t *ctx, void *conf)
{
    kngx_ann_ext_t  *c = conf;
    char             q[80];
    const char      *sep;
    kngx_buf_t       b;

    if (c->url == NULL) {
        ctx->why = "auth-signin, auth-method, auth-response-headers and "
                   "auth-request-redirect need auth-url";
        return KNGX_ANN_BAD;
    }

    if (kngx_name_cert(c->id, sizeof(c->id), ctx->ing->meta.ns,
                       ctx->ing->meta.name)
        != 0)
    {
        return KNGX_ANN_NOMEM;
    }

    if (c->param[0] == '\0') {
        memcpy(c->param, "rd", 3);
    }

    if (c->signin == NULL) {
        return KNGX_ANN_OK;
    }

    /* the redirect parameter, unless the URL has it */
    snprintf(q, sizeof(q), "%s=", c->param);
    sep = strchr(c->signin, '?');

    if (sep && (strncmp(sep + 1, q, strlen(q)) == 0
                || (strstr(sep, q) && strstr(sep, q)[-1] == '&')))
    {
        return KNGX_ANN_OK;
    }

    memset(&b, 0, sizeof(b));
    kngx_buf_printf(&b, "%s%c%s=${scheme}://${http_host}"
                    "${kubengx_escaped_request_uri}", c->signin,
                    sep ? '&' : '?', c->param);

    c->signin = b.nomem ? NULL : kube_arena_strdup(ctx->arena, b.data);
    kngx_buf_free(&b);

    return c->signin ? KNGX_ANN_OK : KNGX_ANN_NOMEM;
}


static const kngx_ann_ext_t *
kngx_ann_ext(const kngx_ann_t *ann)
{
    return ann ? ann->conf[kngx_ann_external_family.index] : NULL;
}


int
kngx_ann_ext_resolver(const kngx_ann_t *ann)
{
    const kngx_ann_ext_t  *c = kngx_ann_ext(ann);

    return c && c->name;
}


int
kngx_ann_ext_escapes(const kngx_plan_t *p)
{
    size_t  i;

    for (i = 0; i < p->ningresses; i++) {
        if (kngx_ann_ext(kngx_plan_ann(p, p->ingresses[i]))) {
            return 1;
        }
    }

    return 0;
}


static void kngx_ann_ext_upvar(const char *h, char *out, size_t size);


/* the route's location: auth_request, the headers, the sign-in */
static void
kngx_ann_ext_emit(kngx_buf_t *b, const void *conf, const kngx_route_t *r,
    const char *certs)
{
    const kngx_ann_ext_t  *c = conf;
    size_t                 i;
    char                   var[64];

    if (c->url == NULL) {
        return;
    }

    kngx_buf_printf(b, "        auth_request \"/_kubengx|auth|%s\";\n"
                    "        auth_request_set $kubengx_auth_cookie "
                    "$upstream_http_set_cookie;\n"
                    "        add_header Set-Cookie $kubengx_auth_cookie%s;\n",
                    c->id, c->always_cookie ? " always" : "");

    for (i = 0; i < c->nheaders; i++) {
        kngx_ann_ext_upvar(c->headers[i], var, sizeof(var));
        kngx_buf_printf(b, "        auth_request_set $kubengx_auth_%zu "
                        "$upstream_http_%s;\n", i, var);
    }

    if (c->signin) {
        kngx_buf_printf(b, "        error_page 401 = "
                        "@kubengx_signin_%s;\n", c->id);
    }
}


/* "X-Auth-Request-User" -> "x_auth_request_user" */
static void
kngx_ann_ext_upvar(const char *h, char *out, size_t size)
{
    size_t  i;

    for (i = 0; h[i] && i + 1 < size; i++) {
        out[i] = h[i] == '-' ? '_'
                 : (h[i] >= 'A' && h[i] <= 'Z') ? h[i] - 'A' + 'a' : h[i];
    }

    out[i] = '\0';
}


int
kngx_ann_ext_upstream_headers(kngx_buf_t *b, const kngx_ann_t *ann,
    const char *in)
{
    const kngx_ann_ext_t  *c = kngx_ann_ext(ann);
    size_t                 i;

    if (c == NULL || c->url == NULL || c->nheaders == 0) {
        return 0;
    }

    for (i = 0; b && i < c->nheaders; i++) {
        kngx_buf_printf(b, "%sproxy_set_header \"%s\" $kubengx_auth_%zu;\n",
                        in, c->headers[i], i);
    }

    return 1;
}


/* the auth location and the sign-in location of one Ingress */
static void
kngx_ann_ext_locations(kngx_buf_t *b, const kngx_ann_ext_t *c,
    const char *resolver)
{
    size_t  i;

    kngx_buf_printf(b,
        "    location = \"/_kubengx|auth|%s\" {\n"
        "        internal;\n", c->id);

    if (c->name && resolver) {
        kngx_buf_printf(b, "        resolver %s;\n"
                        "        resolver_timeout 5s;\n", resolver);
    }

    kngx_buf_printf(b,
        "        proxy_pass_request_body off;\n"
        "        proxy_set_header Content-Length \"\";\n"
        "        proxy_set_header Host \"%s\";\n"
        "        proxy_set_header X-Original-URI $request_uri;\n"
        "        proxy_set_header X-Original-URL "
        "$scheme://$http_host$request_uri;\n"
        "        proxy_set_header X-Original-Method $request_method;\n"
        "        proxy_set_header X-Auth-Request-Redirect \"%s\";\n"
        "        proxy_set_header X-Sent-From \"kubengx\";\n"
        "        proxy_set_header X-Real-IP $remote_addr;\n"
        "        proxy_set_header X-Forwarded-For $remote_addr;\n"
        "        proxy_set_header X-Forwarded-Proto $scheme;\n"
        "        proxy_set_header X-Forwarded-Host $kubengx_host;\n",
        c->host, c->redirect ? c->redirect : "$request_uri");

    for (i = 0; i < c->nproxy; i++) {
        kngx_buf_printf(b, "        proxy_set_header \"%s\" %s;\n",
                        c->proxy[i].name, c->proxy[i].value);
    }

    kngx_buf_printf(b,
        "        proxy_method %s;\n"
        "        proxy_http_version 1.1;\n"
        "        proxy_ssl_server_name on;\n"
        "        proxy_buffering off;\n"
        "        set $kubengx_auth_url \"%s\";\n"
        "        proxy_pass $kubengx_auth_url;\n"
        "    }\n",
        c->method[0] ? c->method : "GET", c->url);

    if (c->signin) {
        kngx_buf_printf(b, "    location @kubengx_signin_%s {\n"
                        "        add_header Set-Cookie $kubengx_auth_cookie;"
                        "\n"
                        "        " KNGX_ANN_HSTS
                        "        return 302 \"%s\";\n"
                        "    }\n", c->id, c->signin);
    }
}


void
kngx_ann_ext_server(kngx_buf_t *b, const kngx_server_t *srv,
    const char *resolver)
{
    const kngx_ann_ext_t  *c, *d;
    size_t                 i, j;

    for (i = 0; i < srv->nroutes; i++) {
        c = kngx_ann_ext(srv->routes[i].target.ann);
        if (c == NULL || c->url == NULL) {
            continue;
        }

        /* once per Ingress */
        for (j = 0; j < i; j++) {
            d = kngx_ann_ext(srv->routes[j].target.ann);
            if (d && strcmp(d->id, c->id) == 0) {
                break;
            }
        }

        if (j == i) {
            kngx_ann_ext_locations(b, c, resolver);
        }
    }
}


const kngx_ann_family_t  kngx_ann_external_family = {
    "external", 10, sizeof(kngx_ann_ext_t),
    kngx_ann_ext_parse, kngx_ann_ext_finish, kngx_ann_ext_emit, NULL
};
