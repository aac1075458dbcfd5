
/*
 * kubengx generator: ingress-nginx's client certificate annotations:
 *
 *   auth-tls-secret          "NAME" or "NS/NAME" of a Secret in the
 *                            Ingress's namespace whose "ca.crt" holds the
 *                            CA certificates (PEM); written beside the
 *                            certificates as NS_SECRET.tlsca (0600; names.c's
 *                            cert base, "t" starts no escape: injective)
 *   auth-tls-verify-client   on (default), optional, optional_no_ca, off
 *   auth-tls-verify-depth    1 (default) to 10
 *   auth-tls-error-page      where a request without a valid certificate
 *                            is redirected (302) instead of 400
 *   auth-tls-pass-certificate-to-upstream
 *                            "true": the certificate (URL-escaped PEM) in
 *                            the ssl-client-cert header
 *   auth-tls-match-cn        a regular expression (checked with PCRE2 as
 *                            nginx compiles it, regex_check.c) the subject DN
 *                            must match, else 403; written escaped, never
 *                            as text
 *
 * nginx verifies client certificates per server (TLS handshake): a host
 * whose routes ask for them gets ssl_client_certificate, ssl_verify_depth
 * and "ssl_verify_client optional" (optional_no_ca when asked) from the
 * OLDEST Ingress routing in it that asks; each location then checks
 * $ssl_client_verify itself ("on": 400 or the error page), so the host's
 * other routes take requests without a certificate.  A route of another
 * Ingress whose Secret, depth or optional_no_ca differ is refused (503,
 * a warning), as is one on a host without a tls entry (no TLS, no
 * certificate) or in a rule without host.  Requests over plain http to
 * a host served over both get 400 from "on" routes.  Every route with
 * these annotations gets ssl-client-verify, ssl-client-subject-dn and
 * ssl-client-issuer-dn headers upstream, as ingress-nginx.  The checks
 * come first in the location (http.c), before any other family's
 * rewrite directives: a rewrite-target's "break" would skip them.
 */

#include <string.h>

#include "annotations.h"
#include "regex_check.h"
#include "escape.h"
#include "plan_parts.h"


typedef struct {
    const char       *secret;
    int               verify;        /* 0 on, 1 optional, 2 no_ca, 3 off */
    long              depth;
    const char       *error_page;    /* quoted form */
    unsigned          pass:1;
    char              cn[1100];      /* quoted regex, "" none */
    kngx_ann_file_t   file;
} kngx_ann_tls_t;


static const char *const  kngx_tls_verify[] = {
    "on", "optional", "optional_no_ca", "off", NULL
};


static int
kngx_ann_tls_parse(kngx_ann_ctx_t *ctx, void *conf, int id, const char *v)
{
    kngx_ann_tls_t  *c = conf;
    const char      *why, *s;
    unsigned         on, groups;
    int              i;
    char             q[1100];

    switch (id) {

    case KNGX_TL_SECRET:
        return kngx_ann_secret_name(ctx, v, &c->secret);

    case KNGX_TL_VERIFY:
        for (i = 0; kngx_tls_verify[i]; i++) {
            if (strcmp(v, kngx_tls_verify[i]) == 0) {
                c->verify = i;
                return KNGX_ANN_OK;
            }
        }
        ctx->why = "must be on, off, optional or optional_no_ca, not";
        return KNGX_ANN_BAD;

    case KNGX_TL_DEPTH:
        return kngx_ann_int(ctx, v, 1, 10, &c->depth);

    case KNGX_TL_PASS:
        if (kngx_ann_bool(ctx, v, &on) != KNGX_ANN_OK) {
            return KNGX_ANN_BAD;
        }
        c->pass = on;
        return KNGX_ANN_OK;

    case KNGX_TL_ERROR_PAGE:
        for (s = v; *s; s++) {
            if (*s <= 0x20 || *s > 0x7e || strchr("\"'\\{};$`<>", *s)) {
                break;
            }
        }
        if (*s || (strncmp(v, "https://", 8) != 0
                   && strncmp(v, "http://", 7) != 0 && v[0] != '/')
            || kngx_ann_quote(v, q, sizeof(q)) < 0)
        {
            ctx->why = "must be a URL or an absolute path without quotes, "
                       "spaces, \"$\", \";\" or braces, not";
            return KNGX_ANN_BAD;
        }
        c->error_page = kube_arena_strdup(ctx->arena, q);
        return c->error_page ? KNGX_ANN_OK : KNGX_ANN_NOMEM;

    default:    /* KNGX_TL_MATCH_CN */
        /* "$ssl_client_s_dn !~ REGEX": case-sensitive */
        if (kngx_regex_check(v, 0, &groups, &why) != 0
            || kngx_ann_quote(v, c->cn, sizeof(c->cn)) < 0)
        {
            ctx->why = "must be a regular expression nginx compiles, "
                       "without spaces or named groups, not";
            return KNGX_ANN_BAD;
        }
        return KNGX_ANN_OK;
    }
}


static int
kngx_ann_tls_finish(kngx_ann_ctx_t *ctx, void *conf)
{
    kngx_ann_tls_t       *c = conf;
    const kngx_secret_t  *sec;
    const char           *ca = NULL;
    char                  base[KNGX_NAME_CERT_MAX + 1], *name;
    size_t                i;

    if (c->depth == 0) {
        c->depth = 1;
    }

    if (c->secret == NULL) {
        if (c->verify == 3 && !c->pass && c->cn[0] == '\0') {
            return KNGX_ANN_OK;     /* off, and nothing else */
        }
        ctx->why = "client certificates need auth-tls-secret";
        return KNGX_ANN_BAD;
    }

    sec = ctx->model ? kngx_model_secret(ctx->model, ctx->ing->meta.ns,
                                         c->secret) : NULL;
    if (sec == NULL) {
        ctx->why = "auth-tls-secret names a Secret that does not exist";
        ctx->key = KNGX_ANN_PREFIX "auth-tls-secret";
        ctx->missing = 1;
        return KNGX_ANN_BAD;
    }

    for (i = 0; i < sec->ndata; i++) {
        if (strcmp(sec->data[i].key, "ca.crt") == 0) {
            ca = sec->data[i].value;
        }
    }

    if (ca == NULL || strstr(ca, "-----BEGIN CERTIFICATE-----") == NULL) {
        ctx->why = "auth-tls-secret names no Secret with a PEM \"ca.crt\"";
        return KNGX_ANN_BAD;
    }

    if (kngx_name_cert(base, sizeof(base), sec->meta.ns, sec->meta.name)
        != 0)
    {
        return KNGX_ANN_NOMEM;
    }

    name = kube_arena_alloc(ctx->arena, strlen(base) + 7);
    if (name == NULL) {
        return KNGX_ANN_NOMEM;
    }

    memcpy(name, base, strlen(base));
    memcpy(name + strlen(base), ".tlsca", 7);

    c->file.name = name;
    c->file.data = ca;
    c->file.len = strlen(ca);

    return KNGX_ANN_OK;
}


static const kngx_ann_tls_t *
kngx_ann_tls(const kngx_ann_t *ann)
{
    const kngx_ann_tls_t  *c;

    c = ann ? ann->conf[kngx_ann_tls_family.index] : NULL;

    return c && c->file.name && c->verify != 3 ? c : NULL;
}


const kngx_ann_file_t *
kngx_ann_tls_file(const kngx_ann_t *ann)
{
    const kngx_ann_tls_t  *c = kngx_ann_tls(ann);

    return c ? &c->file : NULL;
}


/* whether two Ingresses can share a server's verification */
static int
kngx_ann_tls_same(const kngx_ann_tls_t *a, const kngx_ann_tls_t *b)
{
    return strcmp(a->file.name, b->file.name) == 0 && a->depth == b->depth
           && (a->verify == 2) == (b->verify == 2);
}


int
kngx_ann_tls_plan(kngx_plan_t *p, kngx_server_t *srv)
{
    const kngx_ann_tls_t  *c, *own = NULL;
    kngx_route_t          *rt;
    size_t                 i, j, best = p->ningresses;
    const char            *why;

    /* the oldest Ingress asking decides (p->ingresses: oldest first) */
    for (j = 0; j < srv->nroutes; j++) {
        if (kngx_ann_tls(srv->routes[j].target.ann) == NULL) {
            continue;
        }

        for (i = 0; i < best; i++) {
            if (p->ingresses[i] == srv->routes[j].target.ingress) {
                best = i;
                own = kngx_ann_tls(srv->routes[j].target.ann);
                break;
            }
        }
    }

    srv->client_verify = srv->tls && srv->host ? own : NULL;

    for (j = 0; own && j < srv->nroutes; j++) {
        rt = &srv->routes[j];
        c = kngx_ann_tls(rt->target.ann);

        if (c == NULL || rt->target.action != KNGX_ACTION_PROXY) {
            continue;
        }

        if (!srv->tls || srv->host == NULL) {
            why = "its host has no tls entry: no client certificate can "
                  "be asked for";
        } else if (!kngx_ann_tls_same(c, own)) {
            why = "an older Ingress of the host asks for client "
                  "certificates with another Secret, depth or "
                  "optional_no_ca (nginx verifies them per host)";
        } else {
            continue;
        }

        rt->target.action = KNGX_ACTION_UNAVAILABLE;

        if (kngx_plan_warn(p, rt->target.ingress, "metadata.annotations",
                           0, "bad-annotation",
                           "%sauth-tls-secret: the route %s%s is refused "
                           "(503): %s", KNGX_ANN_PREFIX,
                           srv->host ? srv->host : "", rt->path, why)
            != 0)
        {
            return -1;
        }
    }

    return 0;
}


void
kngx_ann_tls_server(kngx_buf_t *b, const kngx_server_t *srv,
    const char *dir)
{
    const kngx_ann_tls_t  *c = srv->client_verify;

    if (c == NULL) {
        return;
    }

    kngx_buf_printf(b, "    ssl_client_certificate \"%s/%s\";\n"
                    "    ssl_verify_client %s;\n"
                    "    ssl_verify_depth %ld;\n", dir, c->file.name,
                    c->verify == 2 ? "optional_no_ca" : "optional",
                    c->depth);
}


int
kngx_ann_tls_upstream_headers(kngx_buf_t *b, const kngx_ann_t *ann,
    const char *in)
{
    const kngx_ann_tls_t  *c = kngx_ann_tls(ann);

    if (c == NULL) {
        return 0;
    }

    if (b) {
        kngx_buf_printf(b,
            "%sproxy_set_header ssl-client-verify $ssl_client_verify;\n"
            "%sproxy_set_header ssl-client-subject-dn $ssl_client_s_dn;\n"
            "%sproxy_set_header ssl-client-issuer-dn $ssl_client_i_dn;\n",
            in, in, in);

        if (c->pass) {
            kngx_buf_printf(b, "%sproxy_set_header ssl-client-cert "
                            "$ssl_client_escaped_cert;\n", in);
        }
    }

    return 1;
}


void
kngx_ann_tls_checks(kngx_buf_t *b, const kngx_ann_t *ann)
{
    const kngx_ann_tls_t  *c = kngx_ann_tls(ann);

    if (c == NULL) {
        return;
    }

    if (c->verify == 0) {
        kngx_buf_printf(b, "        if ($ssl_client_verify != SUCCESS) {\n"
                        "            return %s%s;\n"
                        "        }\n",
                        c->error_page ? "302 " : "400",
                        c->error_page ? c->error_page : "");
    }

    if (c->cn[0]) {
        kngx_buf_printf(b, "        if ($ssl_client_s_dn !~ %s) {\n"
                        "            return 403;\n"
                        "        }\n", c->cn);
    }
}


const kngx_ann_family_t  kngx_ann_tls_family = {
    "tls", 11, sizeof(kngx_ann_tls_t),
    kngx_ann_tls_parse, kngx_ann_tls_finish, NULL, NULL
};
