
/*
 * kubengx generator: the annotation registry.  Every key ingress-nginx
 * documents, with what kubengx does with it; the parse of one Ingress's
 * nginx.ingress.kubernetes.io/ annotations through the families
 * (annotations.h); unknown keys with the nearest known one.
 *
 * The table is sorted by name (kngx_ann_key() searches it) and is the
 * source of README.md's annotation table (tests/integration/
 * test_annotations_table.py compares the two through `kubengx
 * annotations`).
 */

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "annotations.h"
#include "escape.h"


#define H(n, f, i)      { n, KNGX_ANN_HONOURED, &kngx_ann_##f##_family, i, \
                          NULL }
#define D(n, f, i, w)   { n, KNGX_ANN_DIFFERENT, &kngx_ann_##f##_family, i, \
                          w }
#define E(n, w)         { n, KNGX_ANN_ELSEWHERE, NULL, 0, w }
#define U(n, w)         { n, KNGX_ANN_UNSUPPORTED, NULL, 0, w }
#define A(n)            { n, KNGX_ANN_ACCESS, NULL, 0,                      \
                          "access control kubengx does not implement" }
#define S(n)            { n, KNGX_ANN_SNIPPET, NULL, 0,                     \
                          "raw nginx text is never copied into the config" }

#define CANARY    "canary releases: another part of kubengx"
#define AFFINITY  "session affinity: another part of kubengx"
#define NOT_YET   "not implemented yet"
#define TLS_NOTE  "verified per host from the oldest Ingress asking; " \
                  "\"on\" checked per location (400 or the error page)"
#define SSL_NOTE  "per host, from the Ingress that owns the host's tls " \
                  "entry; a cipher list OpenSSL refuses refuses the Ingress"
#define LIMIT_NOTE "503; each replica counts on its own, as ingress-nginx"
#define EXT_NOTE  "auth_request; $escaped_request_uri keeps a request URI " \
                  "with & # + % ; only up to the first of them"



/* in the order of their index, which is the order of their directives in
 * a location: CORS preflight and redirects answer before a rewrite's
 * "break" ends the rewrite directives */
static const kngx_ann_family_t *const  kngx_ann_families[] = {
    &kngx_ann_cors_family, &kngx_ann_redirect_family,
    &kngx_ann_rewrite_family, &kngx_ann_proxy_family,
    &kngx_ann_balance_family, &kngx_ann_backend_family,
    &kngx_ann_limits_family, &kngx_ann_logging_family,
    &kngx_ann_access_family, &kngx_ann_auth_family,
    &kngx_ann_external_family, &kngx_ann_tls_family,
    &kngx_ann_headers_family, &kngx_ann_ssl_family, &kngx_ann_www_family,
    &kngx_ann_mirror_family, &kngx_ann_hosts_family, &kngx_ann_errors_family
};


static const kngx_ann_key_t  kngx_ann_table[] = {
    E("affinity", AFFINITY),
    E("affinity-canary-behavior", AFFINITY),
    E("affinity-mode", AFFINITY),
    H("allowlist-source-range", access, KNGX_AC_ALLOW),
    D("app-root", rewrite, KNGX_RW_APP_ROOT,
      "302 for \"/\" in the Ingress's own \"/\" route (ingress-nginx: the "
      "host's); a plain absolute path"),
    D("auth-always-set-cookie", external, KNGX_EX_COOKIE,
      EXT_NOTE),
    A("auth-cache-duration"),
    A("auth-cache-key"),
    A("auth-keepalive"),
    A("auth-keepalive-requests"),
    A("auth-keepalive-share-vars"),
    A("auth-keepalive-timeout"),
    D("auth-method", external, KNGX_EX_METHOD,
      EXT_NOTE),
    D("auth-proxy-set-headers", external, KNGX_EX_PROXY_HEADERS,
      "a ConfigMap of the Ingress's own namespace; header names HTTP "
      "tokens, values without \"$\" except variables nginx defines; a "
      "missing or bad one: not served"),
    H("auth-realm", auth, KNGX_AU_REALM),
    D("auth-request-redirect", external, KNGX_EX_REDIRECT,
      EXT_NOTE),
    D("auth-response-headers", external, KNGX_EX_HEADERS,
      EXT_NOTE),
    H("auth-secret", auth, KNGX_AU_SECRET),
    H("auth-secret-type", auth, KNGX_AU_SECRET_TYPE),
    D("auth-signin", external, KNGX_EX_SIGNIN,
      EXT_NOTE),
    D("auth-signin-redirect-param", external, KNGX_EX_PARAM,
      EXT_NOTE),
    S("auth-snippet"),
    D("auth-tls-error-page", tls, KNGX_TL_ERROR_PAGE,
      TLS_NOTE),
    D("auth-tls-match-cn", tls, KNGX_TL_MATCH_CN,
      TLS_NOTE),
    D("auth-tls-pass-certificate-to-upstream", tls, KNGX_TL_PASS,
      TLS_NOTE),
    D("auth-tls-secret", tls, KNGX_TL_SECRET,
      TLS_NOTE),
    D("auth-tls-verify-client", tls, KNGX_TL_VERIFY,
      TLS_NOTE),
    D("auth-tls-verify-depth", tls, KNGX_TL_DEPTH,
      TLS_NOTE),
    H("auth-type", auth, KNGX_AU_TYPE),
    D("auth-url", external, KNGX_EX_URL,
      EXT_NOTE),
    D("backend-protocol", backend, KNGX_BE_PROTOCOL,
      "HTTP, AUTO_HTTP (as HTTP), HTTPS, GRPC, GRPCS; FCGI and AJP "
      "refuse the Ingress"),
    E("canary", CANARY),
    E("canary-by-cookie", CANARY),
    E("canary-by-header", CANARY),
    E("canary-by-header-pattern", CANARY),
    E("canary-by-header-value", CANARY),
    E("canary-weight", CANARY),
    E("canary-weight-total", CANARY),
    H("client-body-buffer-size", proxy, KNGX_PX_CBB),
    S("configuration-snippet"),
    H("connection-proxy-header", proxy, KNGX_PX_CONNHDR),
    D("cors-allow-credentials", cors, KNGX_CO_CREDS,
      "answered by nginx (add_header, preflight 204), not Lua"),
    D("cors-allow-headers", cors, KNGX_CO_HEADERS,
      "answered by nginx (add_header, preflight 204), not Lua"),
    D("cors-allow-methods", cors, KNGX_CO_METHODS,
      "answered by nginx (add_header, preflight 204), not Lua"),
    D("cors-allow-origin", cors, KNGX_CO_ORIGIN,
      "a listed Origin is echoed (matched case-insensitively, \"*.\" for "
      "one label); \"*\" as in ingress-nginx"),
    D("cors-expose-headers", cors, KNGX_CO_EXPOSE,
      "answered by nginx (add_header, preflight 204), not Lua"),
    D("cors-max-age", cors, KNGX_CO_MAXAGE,
      "answered by nginx (add_header, preflight 204), not Lua"),
    D("custom-headers", headers, KNGX_HD_CUSTOM,
      "add_header ... always (ingress-nginx: more_set_headers, which "
      "replaces a backend's header); a ConfigMap of the Ingress's own "
      "namespace, checked as auth-proxy-set-headers"),
    D("custom-http-errors", errors, KNGX_ER_CODES,
      "to the default-backend annotation's Service, else --default-"
      "backend; with neither, nginx's own page for the code"),
    D("default-backend", errors, KNGX_ER_DEFAULT,
      "nginx's own 502, 503, 504 of the route go to it (error_page): a "
      "Service without endpoints, refused or timed out connections"),
    H("denylist-source-range", access, KNGX_AC_DENY),
    H("disable-proxy-intercept-errors", errors, KNGX_ER_NO_INTERCEPT),
    H("enable-access-log", logging, KNGX_LG_ACCESS),
    D("enable-cors", cors, KNGX_CO_ENABLE,
      "answered by nginx (add_header, preflight 204), not Lua"),
    U("enable-global-auth", "kubengx has no global external auth"),
    U("enable-influxdb", "no InfluxDB module in kubengx"),
    A("enable-modsecurity"),
    U("enable-opentelemetry", "no tracing module in kubengx"),
    U("enable-opentracing", "no tracing module in kubengx"),
    A("enable-owasp-core-rules"),
    H("enable-rewrite-log", logging, KNGX_LG_REWRITE),
    D("force-ssl-redirect", redirect, KNGX_RD_FORCE_SSL,
      "308 like ssl-redirect; only hosts with a tls entry have https"),
    D("from-to-www-redirect", www, KNGX_WW_FROM_TO,
      "308 keeping the scheme; not when any Ingress routes the other "
      "name or a wildcard matching it (a warning); wildcard hosts get "
      "none"),
    U("global-rate-limit", "no shared rate limit store in kubengx"),
    U("global-rate-limit-ignored-cidrs",
      "no shared rate limit store in kubengx"),
    U("global-rate-limit-key", "no shared rate limit store in kubengx"),
    U("global-rate-limit-window", "no shared rate limit store in kubengx"),
    U("http2-push-preload", "nginx removed HTTP/2 server push"),
    U("influxdb-host", "no InfluxDB module in kubengx"),
    U("influxdb-measurement", "no InfluxDB module in kubengx"),
    U("influxdb-port", "no InfluxDB module in kubengx"),
    U("influxdb-server-name", "no InfluxDB module in kubengx"),
    H("limit-burst-multiplier", limits, KNGX_LI_MULT),
    D("limit-connections", limits, KNGX_LI_CONN, LIMIT_NOTE),
    H("limit-rate", limits, KNGX_LI_RATE),
    H("limit-rate-after", limits, KNGX_LI_AFTER),
    D("limit-rpm", limits, KNGX_LI_RPM, LIMIT_NOTE),
    D("limit-rps", limits, KNGX_LI_RPS, LIMIT_NOTE),
    H("limit-whitelist", limits, KNGX_LI_WHITE),
    D("load-balance", balance, KNGX_BAL_LB,
      "round_robin, least_conn, ewma; another value: a warning and round "
      "robin"),
    H("mirror-host", mirror, KNGX_MI_HOST),
    H("mirror-request-body", mirror, KNGX_MI_BODY),
    D("mirror-target", mirror, KNGX_MI_TARGET,
      "a URL as auth-url takes it (no $escaped_request_uri); a name is "
      "resolved per request"),
    S("modsecurity-snippet"),
    U("modsecurity-transaction-id", "no ModSecurity in kubengx"),
    U("opentelemetry-operation-name", "no tracing module in kubengx"),
    U("opentelemetry-trust-incoming-span", "no tracing module in kubengx"),
    U("opentracing-trust-incoming-span", "no tracing module in kubengx"),
    H("permanent-redirect", redirect, KNGX_RD_PERM),
    H("permanent-redirect-code", redirect, KNGX_RD_PERM_CODE),
    D("preserve-trailing-slash", redirect, KNGX_RD_TRAILING,
      "the https redirect always keeps the URI as sent, as \"true\" asks "
      "(ingress-nginx without it drops a trailing \"/\")"),
    H("proxy-body-size", proxy, KNGX_PX_BODY),
    H("proxy-buffer-size", proxy, KNGX_PX_BUFSIZE),
    H("proxy-buffering", proxy, KNGX_PX_BUFFERING),
    H("proxy-buffers-number", proxy, KNGX_PX_BUFNUM),
    H("proxy-connect-timeout", proxy, KNGX_PX_CONNECT),
    H("proxy-cookie-domain", proxy, KNGX_PX_COOKIE_DOMAIN),
    H("proxy-cookie-path", proxy, KNGX_PX_COOKIE_PATH),
    H("proxy-http-version", proxy, KNGX_PX_HTTPVER),
    H("proxy-max-temp-file-size", proxy, KNGX_PX_MAXTEMP),
    H("proxy-next-upstream", proxy, KNGX_PX_NEXT),
    H("proxy-next-upstream-timeout", proxy, KNGX_PX_NEXT_TIMEOUT),
    H("proxy-next-upstream-tries", proxy, KNGX_PX_NEXT_TRIES),
    H("proxy-read-timeout", proxy, KNGX_PX_READ),
    D("proxy-redirect-from", proxy, KNGX_PX_REDIRECT_FROM,
      "with proxy-redirect-to; \"off\" or \"default\", or a URL or path "
      "without \"$\""),
    D("proxy-redirect-to", proxy, KNGX_PX_REDIRECT_TO,
      "with proxy-redirect-from; a URL or path without \"$\""),
    H("proxy-request-buffering", proxy, KNGX_PX_REQBUF),
    H("proxy-send-timeout", proxy, KNGX_PX_SEND),
    H("proxy-ssl-ciphers", backend, KNGX_BE_CIPHERS),
    H("proxy-ssl-name", backend, KNGX_BE_NAME),
    H("proxy-ssl-protocols", backend, KNGX_BE_PROTOCOLS),
    D("proxy-ssl-secret", backend, KNGX_BE_SECRET,
      "a Secret of the Ingress's own namespace only"),
    H("proxy-ssl-server-name", backend, KNGX_BE_SERVER_NAME),
    D("proxy-ssl-verify", backend, KNGX_BE_VERIFY,
      "\"on\" without a proxy-ssl-secret holding ca.crt refuses the "
      "Ingress"),
    H("proxy-ssl-verify-depth", backend, KNGX_BE_DEPTH),
    D("rewrite-target", rewrite, KNGX_RW_TARGET,
      "makes the Ingress's own paths regexes, not every path of the host"),
    A("satisfy"),
    D("server-alias", hosts, KNGX_HO_ALIAS,
      "a host claim like a rule host: an alias that another Ingress's "
      "rule host or an older alias has, or with no host of its own "
      "Ingress to join, is left out with a warning"),
    S("server-snippet"),
    D("service-upstream", backend, KNGX_BE_SERVICE_UPSTREAM,
      "\"true\": the ClusterIP, as --endpoints cluster-ip does, in every "
      "mode; no ClusterIP in the input: the endpoints, with a warning"),
    E("session-cookie-change-on-failure", AFFINITY),
    E("session-cookie-conditional-samesite-none", AFFINITY),
    E("session-cookie-domain", AFFINITY),
    E("session-cookie-expires", AFFINITY),
    E("session-cookie-max-age", AFFINITY),
    E("session-cookie-name", AFFINITY),
    E("session-cookie-path", AFFINITY),
    E("session-cookie-samesite", AFFINITY),
    E("session-cookie-secure", AFFINITY),
    D("ssl-ciphers", ssl, KNGX_SL_CIPHERS, SSL_NOTE),
    E("ssl-passthrough", "honoured with --enable-ssl-passthrough (stream)"),
    D("ssl-prefer-server-ciphers", ssl, KNGX_SL_PREFER, SSL_NOTE),
    D("ssl-redirect", redirect, KNGX_RD_SSL,
      "308 (ingress-nginx: 308 too); decided per host by the Ingress "
      "that owns the host's tls entry"),
    S("stream-snippet"),
    H("temporal-redirect", redirect, KNGX_RD_TEMP),
    H("temporal-redirect-code", redirect, KNGX_RD_TEMP_CODE),
    D("upstream-hash-by", balance, KNGX_BAL_HASH,
      "consistent hash; the key may hold only variables nginx defines"),
    U("upstream-hash-by-subset", NOT_YET),
    U("upstream-hash-by-subset-size", NOT_YET),
    H("upstream-vhost", rewrite, KNGX_RW_VHOST),
    D("use-regex", rewrite, KNGX_RW_USE_REGEX,
      "only the paths of the Ingress that asks become regexes (ingress-"
      "nginx: every path of the host); no named groups"),
    H("whitelist-source-range", access, KNGX_AC_ALLOW),
    H("x-forwarded-prefix", rewrite, KNGX_RW_PREFIX),
};


const kngx_ann_family_t *const *
kngx_ann_family_list(size_t *n)
{
    *n = sizeof(kngx_ann_families) / sizeof(kngx_ann_families[0]);
    return kngx_ann_families;
}


const kngx_ann_key_t *
kngx_ann_keys(size_t *n)
{
    *n = sizeof(kngx_ann_table) / sizeof(kngx_ann_table[0]);
    return kngx_ann_table;
}


static int
kngx_ann_key_cmp(const void *key, const void *elt)
{
    return strcmp(key, ((const kngx_ann_key_t *) elt)->name);
}


const kngx_ann_key_t *
kngx_ann_key(const char *name)
{
    const kngx_ann_key_t  *keys;
    size_t                 n;

    keys = kngx_ann_keys(&n);

    return bsearch(name, keys, n, sizeof(kngx_ann_key_t), kngx_ann_key_cmp);
}


int
kngx_ann_unsupported_parse(const char *s, int *ignore)
{
    if (strcmp(s, "ignore") == 0) {
        *ignore = 1;
        return 0;
    }

    if (strcmp(s, "refuse") == 0) {
        *ignore = 0;
        return 0;
    }

    return -1;
}


const char *
kngx_ann_status_name(kngx_ann_status_e s)
{
    switch (s) {
    case KNGX_ANN_HONOURED:
        return "honoured";
    case KNGX_ANN_DIFFERENT:
        return "honoured, different";
    case KNGX_ANN_ELSEWHERE:
        return "handled elsewhere";
    case KNGX_ANN_UNSUPPORTED:
        return "not supported";
    case KNGX_ANN_ACCESS:
        return "not supported, fails closed";
    default:
        return "not supported (snippet)";
    }
}


const char *
kngx_ann_suggest(const char *name)
{
    const kngx_ann_key_t  *k;
    size_t                 n;

    k = kngx_ann_keys(&n);

    return kngx_nearest(name, &k[0].name, sizeof(kngx_ann_key_t), n);
}


int
kngx_ann_warn(kngx_ann_ctx_t *ctx, const char *code, const char *fmt, ...)
{
    char     buf[768], obj[320], field[400];
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);

    snprintf(obj, sizeof(obj), "%s/%s", ctx->ing->meta.ns,
             ctx->ing->meta.name);
    snprintf(field, sizeof(field), "metadata.annotations[%s]", ctx->key);

    return kngx_diag_add(ctx->diags, ctx->arena, KNGX_DIAG_WARNING,
                         &ctx->ing->meta.src, 0, obj, field, code, "%s",
                         buf);
}


/* the code of a KNGX_ANN_BAD value: a missing object, or a bad value */
static const char *
kngx_ann_bad_code(const kngx_ann_ctx_t *ctx)
{
    return ctx->missing ? KNGX_ANN_MISSING : "bad-annotation";
}


/* one key that is not a family's: a warning, and what it does */
static int
kngx_ann_other(kngx_ann_ctx_t *ctx, kngx_ann_t *ann, const char *name,
    int ignore)
{
    const kngx_ann_key_t  *k = kngx_ann_key(name);
    const char            *near;

    if (k == NULL) {
        near = kngx_ann_suggest(name);

        if (near) {
            return kngx_ann_warn(ctx, "unknown-annotation",
                       "unknown annotation; did you mean %s%s? ignored",
                       KNGX_ANN_PREFIX, near);
        }

        return kngx_ann_warn(ctx, "unknown-annotation",
                             "unknown annotation; ignored");
    }

    switch (k->status) {

    case KNGX_ANN_ELSEWHERE:
        return 0;

    case KNGX_ANN_ACCESS:
        if (ignore) {
            return kngx_ann_warn(ctx, "unsupported-annotation",
                       "%s; ignored as --unsupported-annotations=ignore "
                       "asks: the Ingress is served WITHOUT it", k->note);
        }

        ann->fail_closed = 1;

        return kngx_ann_warn(ctx, "fail-closed",
                   "%s; the Ingress is not served (fail closed; "
                   "--unsupported-annotations=ignore serves it without)",
                   k->note);

    case KNGX_ANN_SNIPPET:
        return kngx_ann_warn(ctx, "unsupported-annotation",
                             "not supported: %s; ignored", k->note);

    default:
        return kngx_ann_warn(ctx, "unsupported-annotation",
                             "not supported (%s); ignored", k->note);
    }
}


static int
kngx_ann_one(kngx_ann_ctx_t *ctx, kngx_ann_t *ann, const kngx_kv_t *kv,
    int ignore)
{
    const kngx_ann_key_t     *k;
    const kngx_ann_family_t  *f;
    void                    **conf;
    int                       rc;

    ctx->key = kv->key;
    ctx->why = NULL;
    ctx->missing = 0;

    k = kngx_ann_key(kv->key + KNGX_ANN_PREFIX_LEN);

    if (k == NULL || k->family == NULL) {
        return kngx_ann_other(ctx, ann, kv->key + KNGX_ANN_PREFIX_LEN,
                              ignore);
    }

    f = k->family;
    conf = &ann->conf[f->index];

    if (*conf == NULL) {
        *conf = kube_arena_calloc(ctx->arena, 1, f->size);
        if (*conf == NULL) {
            return -1;
        }
    }

    rc = f->parse(ctx, *conf, k->id, kv->value);

    if (rc == KNGX_ANN_BAD) {
        ann->refused = 1;
        return kngx_ann_warn(ctx, kngx_ann_bad_code(ctx),
                             "%s %s; the Ingress is not served%s", ctx->why,
                             kngx_msg_quote(kv->value),
                             ctx->missing ? " until it exists" : "");
    }

    return rc;
}


int
kngx_ann_parse(kube_arena_t *arena, kngx_diags_t *diags,
    const kngx_model_t *m, const kngx_ingress_t *ing,
    int ignore_unsupported, kngx_ann_t **out)
{
    kngx_ann_ctx_t  ctx;
    kngx_ann_t     *ann;
    size_t          i;
    int             rc;

    *out = NULL;

    ann = kube_arena_calloc(arena, 1, sizeof(kngx_ann_t));
    if (ann == NULL) {
        return -1;
    }

    memset(&ctx, 0, sizeof(ctx));
    ctx.arena = arena;
    ctx.diags = diags;
    ctx.model = m;
    ctx.ing = ing;

    for (i = 0; i < ing->meta.nannotations; i++) {
        if (strncmp(ing->meta.annotations[i].key, KNGX_ANN_PREFIX,
                    KNGX_ANN_PREFIX_LEN) != 0)
        {
            continue;
        }

        if (kngx_ann_one(&ctx, ann, &ing->meta.annotations[i],
                         ignore_unsupported) != 0)
        {
            return -1;
        }
    }

    for (i = 0; i < KNGX_ANN_NFAMILIES; i++) {
        if (ann->conf[i] == NULL || kngx_ann_families[i]->finish == NULL) {
            continue;
        }

        ctx.key = KNGX_ANN_PREFIX;      /* finish() names its key (or
                                           sets it) */
        ctx.why = NULL;
        ctx.missing = 0;

        rc = kngx_ann_families[i]->finish(&ctx, ann->conf[i]);

        if (rc == KNGX_ANN_BAD) {
            ann->refused = 1;
            if (kngx_ann_warn(&ctx, kngx_ann_bad_code(&ctx),
                              "%s; the Ingress is not served%s", ctx.why,
                              ctx.missing ? " until it exists" : "")
                != 0)
            {
                return -1;
            }

        } else if (rc != 0) {
            return -1;
        }
    }

    *out = ann;

    return 0;
}


/* each family's directives: a location's (r set), or the http level's */
static void
kngx_ann_each(kngx_buf_t *b, const kngx_ann_t *ann, const kngx_route_t *r,
    const char *certs, const kngx_ingress_t *ing)
{
    const kngx_ann_family_t  *f;
    size_t                    i;

    if (ann == NULL) {
        return;
    }

    for (i = 0; i < KNGX_ANN_NFAMILIES; i++) {
        f = kngx_ann_families[i];

        if (ann->conf[i] == NULL) {
            continue;
        }

        if (r && f->emit) {
            f->emit(b, ann->conf[i], r, certs);

        } else if (r == NULL && f->emit_http) {
            f->emit_http(b, ann->conf[i], ing);
        }
    }
}


void
kngx_ann_emit_http(kngx_buf_t *b, const kngx_ann_t *ann,
    const kngx_ingress_t *ing)
{
    kngx_ann_each(b, ann, NULL, NULL, ing);
}


void
kngx_ann_emit(kngx_buf_t *b, const kngx_ann_t *ann, const kngx_route_t *r,
    const char *certs)
{
    kngx_ann_each(b, ann, r, certs, NULL);
}
