
/*
 * kubengx generator: how kubengx talks to the backends of an Ingress
 * (ingress-nginx's backend-protocol and proxy-ssl-*):
 *
 *   backend-protocol        HTTP (default), AUTO_HTTP (= HTTP), HTTPS:
 *                           proxy_pass https://; GRPC, GRPCS: grpc_pass
 *                           grpc:// or grpcs:// (render.c asks
 *                           kngx_ann_pass()); the same upstream in every
 *                           --endpoints mode, the module's table included
 *   proxy-ssl-secret        NAMESPACE/NAME, a Secret of the Ingress's own
 *                           namespace: ca.crt verifies the backend
 *                           (proxy_ssl_trusted_certificate), tls.crt and
 *                           tls.key are the client certificate
 *                           (proxy_ssl_certificate, _key: one file, the
 *                           key and the chain; plan_backend.c resolves
 *                           and checks them); the upstream is one of its
 *                           own (plan_upstream.c), so that no keepalive
 *                           connection or TLS session made with the
 *                           certificate serves another Ingress
 *   proxy-ssl-verify        "on"/"off" (needs a ca.crt); "on" turns TLS
 *                           session reuse off for the location (sessions
 *                           are kept per upstream server, shared with
 *                           locations that do not verify)
 *   proxy-ssl-verify-depth  1-100
 *   proxy-ssl-name          a DNS name (the name verified and sent in SNI)
 *   proxy-ssl-server-name   "on"/"off": send SNI
 *   proxy-ssl-protocols     of TLSv1 TLSv1.1 TLSv1.2 TLSv1.3
 *   proxy-ssl-ciphers       an OpenSSL cipher list OpenSSL accepts
 *                           (ssl.c checks it)
 *   service-upstream        "true": proxy to the Service's ClusterIP
 *                           (plan_upstream.c), not to its endpoints
 *
 * With GRPC and GRPCS the same settings are written as grpc_ssl_*, and
 * the request headers as grpc_set_header.
 */

#include <string.h>

#include "annotations.h"
#include "escape.h"


static int
kngx_ann_backend_onoff(kngx_ann_ctx_t *ctx, const char *v, int *out)
{
    if (strcmp(v, "on") == 0 || strcmp(v, "true") == 0) {
        *out = 1;
        return KNGX_ANN_OK;
    }

    if (strcmp(v, "off") == 0 || strcmp(v, "false") == 0) {
        *out = 2;
        return KNGX_ANN_OK;
    }

    ctx->why = "must be \"on\" or \"off\", not";
    return KNGX_ANN_BAD;
}


/* TLS protocol names separated by spaces */
static int
kngx_ann_protocols(kngx_ann_ctx_t *ctx, const char *v, char *out,
    size_t size)
{
    static const char *const  known[] = {
        "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", NULL
    };

    if (kngx_ann_words(v, known, out, size) != KNGX_ANN_OK) {
        ctx->why = "must be protocols of TLSv1 TLSv1.1 TLSv1.2 TLSv1.3, not";
        return KNGX_ANN_BAD;
    }

    return KNGX_ANN_OK;
}


static int
kngx_ann_backend_parse(kngx_ann_ctx_t *ctx, void *conf, int id,
    const char *v)
{
    kngx_ann_backend_t  *c = conf;
    const char          *why, *s;
    unsigned             n;

    switch (id) {

    case KNGX_BE_PROTOCOL:
        if (strcmp(v, "HTTP") == 0 || strcmp(v, "AUTO_HTTP") == 0) {
            c->proto = KNGX_PROTO_HTTP;
        } else if (strcmp(v, "HTTPS") == 0) {
            c->proto = KNGX_PROTO_HTTPS;
        } else if (strcmp(v, "GRPC") == 0) {
            c->proto = KNGX_PROTO_GRPC;
        } else if (strcmp(v, "GRPCS") == 0) {
            c->proto = KNGX_PROTO_GRPCS;
        } else {
            ctx->why = "must be HTTP, AUTO_HTTP, HTTPS, GRPC or GRPCS "
                       "(FCGI and AJP are not supported), not";
            return KNGX_ANN_BAD;
        }
        return KNGX_ANN_OK;

    case KNGX_BE_SECRET:
        s = strchr(v, '/');
        n = s ? (unsigned) (s - v) : 0;

        if (s == NULL || n == 0 || n > 63
            || strncmp(v, ctx->ing->meta.ns, n) != 0
            || ctx->ing->meta.ns[n] != '\0'
            || kngx_name_check(KNGX_NAME_SUBDOMAIN, s + 1, &why) != 0)
        {
            ctx->why = "must be NAMESPACE/NAME of a Secret in the "
                       "Ingress's own namespace, not";
            return KNGX_ANN_BAD;
        }
        c->secret = s + 1;
        return KNGX_ANN_OK;

    case KNGX_BE_VERIFY:
        return kngx_ann_backend_onoff(ctx, v, &c->verify);

    case KNGX_BE_SERVER_NAME:
        return kngx_ann_backend_onoff(ctx, v, &c->server_name);

    case KNGX_BE_SERVICE_UPSTREAM:
        if (kngx_ann_bool(ctx, v, &n) != KNGX_ANN_OK) {
            return KNGX_ANN_BAD;
        }
        c->service_upstream = n;
        return KNGX_ANN_OK;

    case KNGX_BE_DEPTH:
        return kngx_ann_int(ctx, v, 1, 100, &c->depth);

    case KNGX_BE_NAME:
        if (kngx_dns_name_check(v, &why) != 0) {
            ctx->why = "must be a DNS name, not";
            return KNGX_ANN_BAD;
        }
        c->name = v;
        return KNGX_ANN_OK;

    case KNGX_BE_PROTOCOLS:
        return kngx_ann_protocols(ctx, v, c->protocols,
                                  sizeof(c->protocols));

    default:    /* KNGX_BE_CIPHERS */
        return kngx_ann_ciphers(ctx, v, c->ciphers, sizeof(c->ciphers));
    }
}


static int
kngx_ann_backend_finish(kngx_ann_ctx_t *ctx, void *conf)
{
    kngx_ann_backend_t  *c = conf;

    if (c->verify == 1 && c->secret == NULL) {
        ctx->key = KNGX_ANN_PREFIX "proxy-ssl-verify";
        ctx->why = "proxy-ssl-verify \"on\" needs a proxy-ssl-secret with "
                   "a ca.crt";
        return KNGX_ANN_BAD;
    }

    return KNGX_ANN_OK;
}


static void
kngx_ann_backend_emit(kngx_buf_t *b, const void *conf, const kngx_route_t *r,
    const char *certs)
{
    const kngx_ann_backend_t  *c = conf;
    const char                *m;

    if (c->proto != KNGX_PROTO_HTTPS && c->proto != KNGX_PROTO_GRPCS) {
        return;
    }

    m = c->proto == KNGX_PROTO_GRPCS ? "grpc" : "proxy";

#define KNGX_LOC  "        "

    if (c->server_name) {
        kngx_buf_printf(b, KNGX_LOC "%s_ssl_server_name %s;\n", m,
                        c->server_name == 1 ? "on" : "off");
    }

    if (c->name) {
        kngx_buf_printf(b, KNGX_LOC "%s_ssl_name \"%s\";\n", m, c->name);
    }

    if (c->protocols[0]) {
        kngx_buf_printf(b, KNGX_LOC "%s_ssl_protocols %s;\n", m,
                        c->protocols);
    }

    if (c->ciphers[0]) {
        kngx_buf_printf(b, KNGX_LOC "%s_ssl_ciphers \"%s\";\n", m,
                        c->ciphers);
    }

    if (c->ca_file) {
        kngx_buf_printf(b, KNGX_LOC "%s_ssl_trusted_certificate "
                        "\"%s/%s.pem\";\n", m, certs, c->ca_file);
    }

    if (c->cert_file) {
        kngx_buf_printf(b, KNGX_LOC "%s_ssl_certificate \"%s/%s.pem\";\n"
                        KNGX_LOC "%s_ssl_certificate_key \"%s/%s.pem\";\n",
                        m, certs, c->cert_file, m, certs, c->cert_file);
    }

    if (c->verify == 1 && c->ca_file) {
        /* the upstream's TLS sessions are shared by every location that
         * proxies to it: one resumed from a location that does not verify
         * would skip the verification */
        kngx_buf_printf(b, KNGX_LOC "%s_ssl_verify on;\n"
                        KNGX_LOC "%s_ssl_session_reuse off;\n", m, m);
        if (c->depth) {
            kngx_buf_printf(b, KNGX_LOC "%s_ssl_verify_depth %ld;\n", m,
                            c->depth);
        }
    }


#undef KNGX_LOC
}


kngx_ann_backend_t *
kngx_ann_backend(const kngx_ann_t *ann)
{
    return ann ? ann->conf[kngx_ann_backend_family.index] : NULL;
}


const char *
kngx_ann_pass(const kngx_ann_t *ann, const char **scheme)
{
    const kngx_ann_backend_t  *c = kngx_ann_backend(ann);

    switch (c ? c->proto : KNGX_PROTO_HTTP) {
    case KNGX_PROTO_HTTPS:
        *scheme = "https";
        return "proxy_pass";
    case KNGX_PROTO_GRPC:
        *scheme = "grpc";
        return "grpc_pass";
    case KNGX_PROTO_GRPCS:
        *scheme = "grpcs";
        return "grpc_pass";
    default:
        *scheme = "http";
        return "proxy_pass";
    }
}


const kngx_ann_family_t  kngx_ann_backend_family = {
    "backend", 5, sizeof(kngx_ann_backend_t),
    kngx_ann_backend_parse, kngx_ann_backend_finish, kngx_ann_backend_emit,
    NULL
};
