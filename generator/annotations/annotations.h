
/*
 * kubengx generator: ingress-nginx's annotations (nginx.ingress.kubernetes.io/
 * KEY), one file per family, the way each nginx module owns its
 * directives:
 *
 *   registry.c   every key ingress-nginx documents and what kubengx does
 *                with it (the README's table is checked against it), the
 *                parse of one Ingress's annotations, unknown keys and
 *                "did you mean"
 *   balance.c    load-balance, upstream-hash-by (the upstream's method)
 *   rewrite.c    use-regex, rewrite-target, app-root, x-forwarded-prefix,
 *                upstream-vhost (regex paths, their check)
 *   redirect.c   permanent-redirect(-code), temporal-redirect(-code),
 *                ssl-redirect, force-ssl-redirect
 *   proxy.c      body size, buffers, timeouts, next upstream, HTTP version
 *   cors.c       enable-cors and cors-* (preflight answered by nginx)
 *   backend.c    backend-protocol, proxy-ssl-*, service-upstream
 *   logging.c    enable-access-log, enable-rewrite-log
 *   access.c     whitelist-, allowlist-, denylist-source-range
 *   auth_basic.c auth-type basic, auth-secret(-type), auth-realm
 *   auth_external.c  auth-url, auth-signin, ... (auth_request)
 *   auth_tls.c   auth-tls-* (client certificates)
 *   ssl.c        ssl-ciphers, ssl-prefer-server-ciphers (the https server)
 *   www.c        from-to-www-redirect (a second name of a host)
 *   mirror.c     mirror-target, mirror-host, mirror-request-body
 *   limits.c     limit-rps, limit-rpm, limit-connections, limit-rate, ...
 *   headers.c    custom-headers, and the ConfigMap of headers that
 *                auth-proxy-set-headers reads too
 *   http.c       what they need at http level (maps, zones)
 *   hosts.c      server-alias (more server names; their claims:
 *                plan_hosts.c)
 *   errors.c     default-backend, custom-http-errors,
 *                disable-proxy-intercept-errors (error_page)
 *
 * A family parses its own keys into a typed conf (created when the first
 * of its keys is seen), checks values, and writes its own directives
 * into a location.  Nothing is copied as text: every value is parsed
 * into numbers, enums or strings of a checked alphabet, and written
 * quoted.  A value that cannot be made safe refuses the Ingress (its
 * routes are not served) with a warning, unless the family documents a
 * lenient default (balance.c); so does one that names a Secret or
 * ConfigMap that does not exist, with a code of its own
 * (KNGX_ANN_MISSING).
 *
 * An Ingress carrying an access-control annotation kubengx does not
 * implement (auth-cache-*, auth-keepalive*, satisfy, ModSecurity) is
 * not served
 * at all (fail closed), so that a protected route never becomes public
 * during a migration, unless the caller ignores unsupported annotations
 * (--unsupported-annotations=ignore).
 */

#ifndef KNGX_ANNOTATIONS_H
#define KNGX_ANNOTATIONS_H

#include <stdint.h>

#include "load.h"
#include "render.h"
#include "settings/settings.h"


#define KNGX_ANN_PREFIX      "nginx.ingress.kubernetes.io/"
#define KNGX_ANN_PREFIX_LEN  (sizeof(KNGX_ANN_PREFIX) - 1)


typedef enum {
    KNGX_ANN_HONOURED = 0,     /* as ingress-nginx does */
    KNGX_ANN_DIFFERENT,        /* honoured, with the difference in note */
    KNGX_ANN_ELSEWHERE,        /* read by another part of kubengx (canary,
                                  affinity, ssl-passthrough) */
    KNGX_ANN_UNSUPPORTED,      /* a warning; the Ingress is served */
    KNGX_ANN_ACCESS,           /* access control not implemented: the
                                  Ingress is not served (fail closed) */
    KNGX_ANN_SNIPPET           /* raw nginx text: never supported */
} kngx_ann_status_e;


typedef struct kngx_ann_family_s  kngx_ann_family_t;

typedef struct {
    const char               *name;      /* the key without the prefix */
    kngx_ann_status_e         status;
    const kngx_ann_family_t  *family;    /* HONOURED, DIFFERENT */
    int                       id;        /* the family's key number */
    const char               *note;      /* the difference, or why not */
} kngx_ann_key_t;


/* what a family's parser gets */
typedef struct {
    kube_arena_t             *arena;     /* the conf's (the plan's) */
    kngx_diags_t             *diags;     /* warnings go here */
    const kngx_model_t       *model;     /* Secrets (auth_basic.c) */
    const kngx_ingress_t     *ing;
    const char               *key;       /* the whole key, for messages */
    const char               *why;       /* a parser's reason for
                                            KNGX_ANN_BAD */
    unsigned                  missing:1; /* with KNGX_ANN_BAD: the
                                            Secret or ConfigMap the value
                                            names does not exist (yet) */
} kngx_ann_ctx_t;

#define KNGX_ANN_OK     0
#define KNGX_ANN_BAD    1              /* ctx->why says why */
#define KNGX_ANN_NOMEM  (-1)

/*
 * The code of the warning when the value names a Secret or ConfigMap
 * that does not exist (ctx->missing), instead of "bad-annotation": the
 * Ingress is not served until it does, and a later write of that object
 * fixes it (the webhook admits it, controller_webhook_review.c).
 */
#define KNGX_ANN_MISSING  "no-annotation-object"


struct kngx_ann_family_s {
    const char     *name;
    unsigned        index;               /* in kngx_ann_t.conf[] */
    size_t          size;                /* of its conf, zeroed */

    /* one key of the family; KNGX_ANN_OK, _BAD or _NOMEM */
    int           (*parse)(kngx_ann_ctx_t *ctx, void *conf, int id,
                           const char *value);
    /* after all keys: checks across keys (NULL: none) */
    int           (*finish)(kngx_ann_ctx_t *ctx, void *conf);
    /* the family's directives in a location of route r (NULL: none);
     * certs: the directory the config names for certificates */
    void          (*emit)(kngx_buf_t *b, const void *conf,
                          const kngx_route_t *r, const char *certs);
    /* http-level directives of Ingress ing (zones; NULL: none) */
    void          (*emit_http)(kngx_buf_t *b, const void *conf,
                               const kngx_ingress_t *ing);
};

#define KNGX_ANN_NFAMILIES  18

/* the key numbers of each family (registry.c names them) */
enum {
    KNGX_BAL_LB = 1, KNGX_BAL_HASH
};

enum {
    KNGX_RW_USE_REGEX = 1, KNGX_RW_TARGET, KNGX_RW_APP_ROOT, KNGX_RW_PREFIX,
    KNGX_RW_VHOST
};

enum {
    KNGX_RD_PERM = 1, KNGX_RD_PERM_CODE, KNGX_RD_TEMP, KNGX_RD_TEMP_CODE,
    KNGX_RD_SSL, KNGX_RD_FORCE_SSL, KNGX_RD_TRAILING
};

enum {
    KNGX_PX_BODY = 1, KNGX_PX_CBB, KNGX_PX_CONNECT, KNGX_PX_SEND,
    KNGX_PX_READ, KNGX_PX_BUFFERING, KNGX_PX_BUFSIZE, KNGX_PX_BUFNUM,
    KNGX_PX_REQBUF, KNGX_PX_NEXT, KNGX_PX_NEXT_TRIES, KNGX_PX_NEXT_TIMEOUT,
    KNGX_PX_HTTPVER, KNGX_PX_MAXTEMP, KNGX_PX_CONNHDR, KNGX_PX_COOKIE_DOMAIN,
    KNGX_PX_COOKIE_PATH, KNGX_PX_REDIRECT_FROM, KNGX_PX_REDIRECT_TO
};

enum {
    KNGX_BE_PROTOCOL = 1, KNGX_BE_SECRET, KNGX_BE_VERIFY, KNGX_BE_DEPTH,
    KNGX_BE_NAME, KNGX_BE_SERVER_NAME, KNGX_BE_PROTOCOLS, KNGX_BE_CIPHERS,
    KNGX_BE_SERVICE_UPSTREAM
};

enum {
    KNGX_LG_ACCESS = 1, KNGX_LG_REWRITE
};


enum {
    KNGX_PROTO_HTTP = 0, KNGX_PROTO_HTTPS, KNGX_PROTO_GRPC, KNGX_PROTO_GRPCS
};

enum {
    KNGX_CO_ENABLE = 1, KNGX_CO_ORIGIN, KNGX_CO_METHODS, KNGX_CO_HEADERS,
    KNGX_CO_EXPOSE, KNGX_CO_CREDS, KNGX_CO_MAXAGE
};

enum {
    KNGX_AC_ALLOW = 1, KNGX_AC_DENY
};

enum {
    KNGX_AU_TYPE = 1, KNGX_AU_SECRET, KNGX_AU_SECRET_TYPE, KNGX_AU_REALM
};

enum {
    KNGX_EX_URL = 1, KNGX_EX_SIGNIN, KNGX_EX_METHOD, KNGX_EX_PARAM,
    KNGX_EX_HEADERS, KNGX_EX_REDIRECT, KNGX_EX_COOKIE, KNGX_EX_PROXY_HEADERS
};

enum {
    KNGX_HD_CUSTOM = 1
};

enum {
    KNGX_LI_RPS = 1, KNGX_LI_RPM, KNGX_LI_CONN, KNGX_LI_MULT, KNGX_LI_WHITE,
    KNGX_LI_RATE, KNGX_LI_AFTER
};

enum {
    KNGX_SL_CIPHERS = 1, KNGX_SL_PREFER
};

enum {
    KNGX_WW_FROM_TO = 1
};

enum {
    KNGX_MI_TARGET = 1, KNGX_MI_HOST, KNGX_MI_BODY
};

enum {
    KNGX_TL_SECRET = 1, KNGX_TL_VERIFY, KNGX_TL_DEPTH, KNGX_TL_ERROR_PAGE,
    KNGX_TL_PASS, KNGX_TL_MATCH_CN
};


enum {
    KNGX_HO_ALIAS = 1
};

enum {
    KNGX_ER_DEFAULT = 1, KNGX_ER_CODES, KNGX_ER_NO_INTERCEPT
};


/* access.c: a list of address ranges, each canonical "ADDR/LEN" */
#define KNGX_ANN_CIDR_LEN  48

typedef struct {
    char                      s[KNGX_ANN_CIDR_LEN];
} kngx_ann_cidr_t;

typedef struct {
    kngx_ann_cidr_t          *a;
    size_t                    n;
    size_t                    cap;
} kngx_ann_cidrs_t;

/* access.c: "CIDR, CIDR" appended to list: 0, KNGX_ANN_BAD, _NOMEM */
int kngx_ann_cidrs(kngx_ann_ctx_t *ctx, const char *v,
    kngx_ann_cidrs_t *list);


/* one Ingress's parsed annotations */
struct kngx_ann_s {
    void                     *conf[KNGX_ANN_NFAMILIES];   /* NULL: none
                                                             of its keys */
    unsigned                  refused:1;     /* a bad value */
    unsigned                  fail_closed:1; /* access control kubengx
                                                does not implement */
};

typedef struct kngx_ann_s  kngx_ann_t;


/* ---- registry.c ---------------------------------------------------------- */

/* every key ingress-nginx documents, sorted by name; n in *n */
const kngx_ann_key_t *kngx_ann_keys(size_t *n);

/* registry.c: the families in the order of their index (a family's index
 * is its position: tests/unit/test_gen_annotations.c checks it) */
const kngx_ann_family_t *const *kngx_ann_family_list(size_t *n);

/* the entry of a key without the prefix, or NULL */
const kngx_ann_key_t *kngx_ann_key(const char *name);

/* --unsupported-annotations: "refuse" (0) or "ignore" (1); -1 else */
int kngx_ann_unsupported_parse(const char *s, int *ignore);

#define KNGX_ANN_UNSUPPORTED_HELP                                           \
"      --unsupported-annotations refuse|ignore\n"                           \
"                           refuse (default): an Ingress with an access-\n"  \
"                           control annotation kubengx does not implement\n" \
"                           (auth-cache-*, auth-keepalive*, satisfy,\n"   \
"                           ModSecurity) is not served (fail closed);\n"   \
"                           ignore: served without it (a warning)\n"

/* "honoured", "different", "elsewhere", "not supported", ... */
const char *kngx_ann_status_name(kngx_ann_status_e s);

/* the known key nearest to an unknown one (edit distance <= 2), or NULL */
const char *kngx_ann_suggest(const char *name);

/*
 * Parse ing's nginx.ingress.kubernetes.io/ annotations into *out (in
 * arena), warnings into diags: unknown keys (with "did you mean"),
 * unsupported and snippet keys, bad values.  ignore_unsupported: access
 * control kubengx does not implement is warned about, not refused.
 * Returns -1 when out of memory.
 */
int kngx_ann_parse(kube_arena_t *arena, kngx_diags_t *diags,
    const kngx_model_t *m, const kngx_ingress_t *ing,
    int ignore_unsupported, kngx_ann_t **out);

/* every family's http-level directives for Ingress ing (ann may be
 * NULL) */
void kngx_ann_emit_http(kngx_buf_t *b, const kngx_ann_t *ann,
    const kngx_ingress_t *ing);

/* plan.c: the parsed annotations of a served Ingress, NULL if none */
const kngx_ann_t *kngx_plan_ann(const kngx_plan_t *p,
    const kngx_ingress_t *ing);

/* every family's directives for route r (ann may be NULL) */
void kngx_ann_emit(kngx_buf_t *b, const kngx_ann_t *ann,
    const kngx_route_t *r, const char *certs);

/* a warning about ing's annotation key */
int kngx_ann_warn(kngx_ann_ctx_t *ctx, const char *code, const char *fmt,
    ...) KNGX_PRINTF(3, 4);

/* shared value parsers: 0 ok, KNGX_ANN_BAD with ctx->why */
int kngx_ann_bool(kngx_ann_ctx_t *ctx, const char *v, unsigned *out);
int kngx_ann_int(kngx_ann_ctx_t *ctx, const char *v, long min, long max,
    long *out);
/* the bytes of a size kngx_ann_size() accepted */
uint64_t kngx_ann_size_bytes(const char *s);

/* words of known (NULL-terminated) separated by spaces, at least one,
 * into out one space apart; KNGX_ANN_BAD (why not set) otherwise */
int kngx_ann_words(const char *v, const char *const *known, char *out,
    size_t size);
/* an nginx size: digits with an optional k, m, g (either case) */
int kngx_ann_size(kngx_ann_ctx_t *ctx, const char *v, int allow_zero,
    char *out, size_t size);


/* ---- what the plan and the renderer read --------------------------------- */

extern const kngx_ann_family_t  kngx_ann_balance_family;
extern const kngx_ann_family_t  kngx_ann_rewrite_family;
extern const kngx_ann_family_t  kngx_ann_redirect_family;
extern const kngx_ann_family_t  kngx_ann_proxy_family;
extern const kngx_ann_family_t  kngx_ann_cors_family;
extern const kngx_ann_family_t  kngx_ann_backend_family;
extern const kngx_ann_family_t  kngx_ann_logging_family;

/* the longest cipher list an annotation may hold, with its NUL */
#define KNGX_ANN_CIPHERS_LEN  256

/* ssl.c: an OpenSSL cipher list that OpenSSL accepts into out;
 * KNGX_ANN_OK, _BAD (ctx->why) or _NOMEM */
int kngx_ann_ciphers(kngx_ann_ctx_t *ctx, const char *v, char *out,
    size_t size);

extern const kngx_ann_family_t  kngx_ann_ssl_family;

/* ssl.c: kngx_settings_tls() of s for https server srv (NULL: the
 * default server), with ssl-ciphers and ssl-prefer-server-ciphers of the
 * Ingress that owns srv's tls entry */
void kngx_ann_ssl_tls(kngx_buf_t *b, const kngx_plan_t *p,
    const kngx_server_t *srv, const kngx_settings_t *s);

extern const kngx_ann_family_t  kngx_ann_www_family;

/* www.c: the alias of each host whose Ingress asks for from-to-www-
 * redirect, when no other host has it (srv->www_from); warnings for the
 * others.  Before the servers are sorted.  -1 when out of memory */
int kngx_ann_www_plan(kngx_plan_t *p);

/* www.c: srv's alias: a server_name and its 308 (after server_name) */
void kngx_ann_www_server(kngx_buf_t *b, const kngx_server_t *srv,
    const kngx_render_opts_t *o);

/* backend.c: backend-protocol and proxy-ssl-*; the plan fills in the
 * files of proxy-ssl-secret (plan_backend.c) */
typedef struct {
    int            proto;           /* KNGX_PROTO_* */
    const char    *secret;          /* proxy-ssl-secret: the name (own
                                       namespace) */
    int            verify;          /* 0 unset, 1 on, 2 off */
    int            server_name;
    long           depth;
    const char    *name;
    char           protocols[64];
    char           ciphers[KNGX_ANN_CIPHERS_LEN];
    const char    *ca_file;         /* the plan's: the NAME of
                                       CERTS/NAME.pem */
    const char    *cert_file;       /* the plan's: the client
                                       certificate, CERTS/NAME.pem (key
                                       and chain), or NULL */
    unsigned       service_upstream:1;  /* the Service's ClusterIP, not
                                           its endpoints */
} kngx_ann_backend_t;

/* backend.c: the Ingress's backend conf, or NULL */
kngx_ann_backend_t *kngx_ann_backend(const kngx_ann_t *ann);

/* backend.c: "proxy_pass" or "grpc_pass", the scheme in *scheme */
const char *kngx_ann_pass(const kngx_ann_t *ann, const char **scheme);

extern const kngx_ann_family_t  kngx_ann_access_family;
extern const kngx_ann_family_t  kngx_ann_auth_family;
extern const kngx_ann_family_t  kngx_ann_external_family;
extern const kngx_ann_family_t  kngx_ann_limits_family;
extern const kngx_ann_family_t  kngx_ann_tls_family;
extern const kngx_ann_family_t  kngx_ann_headers_family;


/* headers.c: one header of a ConfigMap, checked */
typedef struct {
    const char               *name;      /* an HTTP token without "$" */
    const char               *value;     /* an nginx double-quoted string,
                                            its "$" known variables */
} kngx_ann_header_t;

/* headers.c: the headers of ConfigMap v ("NAME" or "NS/NAME" of ctx->ing's
 * namespace) into *out (n in *n); KNGX_ANN_OK, _BAD or _NOMEM */
int kngx_ann_headers_configmap(kngx_ann_ctx_t *ctx, const char *v,
    kngx_ann_header_t **out, size_t *n);

/* headers.c: whether ann's families write add_header in its locations
 * (CORS, external auth's Set-Cookie, custom-headers) */
int kngx_ann_add_headers(const kngx_ann_t *ann);

/* what a block (location, if) that writes its own add_header writes as
 * well, since nginx then inherits none from the server and http levels:
 * the settings' Strict-Transport-Security ($kubengx_hsts, always
 * defined: empty on http and when hsts is off, settings_render.c) */
#define KNGX_ANN_HSTS                                                       \
    "add_header Strict-Transport-Security $kubengx_hsts always;\n"
extern const kngx_ann_family_t  kngx_ann_hosts_family;
extern const kngx_ann_family_t  kngx_ann_errors_family;


/* a file an Ingress's annotations need beside the certificates */
typedef struct {
    const char               *name;      /* file name (names.c's base and
                                            a suffix of the family's) */
    const char               *data;
    size_t                    len;
} kngx_ann_file_t;

/* http.c: file n (0: basic auth users, 1: client certificate CA) of ann,
 * or NULL when ann has none */
#define KNGX_ANN_NFILES  2

const kngx_ann_file_t *kngx_ann_file(const kngx_ann_t *ann, unsigned n);

/* auth_basic.c: "NAME" or "NS/NAME" of a Secret in ctx->ing's namespace
 * -> *name; 0 or KNGX_ANN_BAD */
int kngx_ann_secret_name(kngx_ann_ctx_t *ctx, const char *v,
    const char **name);

/* auth_basic.c: the htpasswd file of ann, or NULL */
const kngx_ann_file_t *kngx_ann_auth_file(const kngx_ann_t *ann);

/* auth_tls.c: the CA file of ann, or NULL */
const kngx_ann_file_t *kngx_ann_tls_file(const kngx_ann_t *ann);

/* auth_tls.c: srv->client_verify from the oldest Ingress asking; routes
 * that disagree refused (503, a warning).  -1 when out of memory */
int kngx_ann_tls_plan(kngx_plan_t *p, kngx_server_t *srv);

/* auth_tls.c: ssl_client_certificate, ssl_verify_client, ssl_verify_depth
 * of srv (dir: the certificate directory) */
void kngx_ann_tls_server(kngx_buf_t *b, const kngx_server_t *srv,
    const char *dir);

/* auth_tls.c: the ssl-client-* headers (b NULL: whether any) */
int kngx_ann_tls_upstream_headers(kngx_buf_t *b, const kngx_ann_t *ann,
    const char *in);

/* http.c: every family's proxy_set_header lines for a location (b NULL:
 * whether any) */
int kngx_ann_upstream_headers(kngx_buf_t *b, const kngx_ann_t *ann,
    const char *in);

/* http.c: what a location of ann checks before every family's
 * directives (a rewrite's "break" ends the rewrite phase): the client
 * certificate checks, basic auth (dir: the certificate directory) */
void kngx_ann_emit_access(kngx_buf_t *b, const kngx_ann_t *ann,
    const char *dir);

/* auth_tls.c: the $ssl_client_verify and subject checks */
void kngx_ann_tls_checks(kngx_buf_t *b, const kngx_ann_t *ann);

/* auth_basic.c: auth_basic and auth_basic_user_file DIR/FILE, when ann
 * asks (dir: the certificate directory, quoted-safe) */
void kngx_ann_auth_emit(kngx_buf_t *b, const kngx_ann_t *ann,
    const char *dir);

/* balance.c: *balance NULL: round robin; "least_conn", "ewma", "hash" */
void kngx_ann_balance(const kngx_ann_t *ann, const char **balance,
    const char **hash_by);

/* rewrite.c: whether ing's Prefix paths are regular expressions */
int kngx_ann_regex(const kngx_ann_t *ann);

/*
 * rewrite.c: a regex path kubengx accepts ("/" then a regex nginx
 * compiles, regex_check.c); *groups: its capture groups.  0 ok, -1 with *why.
 */
int kngx_ann_regex_check(const char *re, unsigned *groups,
    const char **why);

/* rewrite.c: whether ing's annotations make its paths regexes, without
 * parsing them (lint's path rule) */
int kngx_ann_wants_regex(const kngx_ingress_t *ing);

/* rewrite.c: whether a regex path with groups capture groups has every
 * group rewrite-target names */
int kngx_ann_regex_groups_ok(const kngx_ann_t *ann, unsigned groups);

/* rewrite.c: the Host header upstream-vhost asks for, or NULL */
const char *kngx_ann_vhost(const kngx_ann_t *ann);

/* rewrite.c: the X-Forwarded-Prefix value, or NULL */
const char *kngx_ann_forwarded_prefix(const kngx_ann_t *ann);

/* proxy.c: the Connection header connection-proxy-header asks for */
const char *kngx_ann_connection(const kngx_ann_t *ann);

/* redirect.c: whether the route answers with a redirect (no proxying) */
int kngx_ann_redirects(const kngx_ann_t *ann);

/* redirect.c: -1 no opinion, 0 no http->https redirect, 1 redirect */
int kngx_ann_ssl_redirect(const kngx_ann_t *ann);

/* an nginx double-quoted string for a value of a checked alphabet that
 * may hold "$" (rewrite replacements); -1 if it does not fit */
int kngx_ann_quote(const char *s, char *out, size_t size);

/* auth_external.c: an http(s) URL as auth-url takes it (mirror.c too):
 * *url and *host (its authority) fit for nginx double quotes, *name: the
 * host is resolved per request.  KNGX_ANN_OK or _BAD (ctx->why) */
int kngx_ann_ext_url(kngx_ann_ctx_t *ctx, const char *v, const char **url,
    const char **host, unsigned *name);

extern const kngx_ann_family_t  kngx_ann_mirror_family;

/* mirror.c: whether ann's mirror-target host is resolved per request */
int kngx_ann_mirror_resolver(const kngx_ann_t *ann);

/* mirror.c: the mirror locations of srv's Ingresses */
void kngx_ann_mirror_server(kngx_buf_t *b, const kngx_server_t *srv,
    const char *resolver);

/* auth_external.c: whether ann's auth-url host is resolved per request */
int kngx_ann_ext_resolver(const kngx_ann_t *ann);

/* auth_external.c: whether a served Ingress uses external auth (render.c
 * writes the $kubengx_escaped_request_uri map) */
int kngx_ann_ext_escapes(const kngx_plan_t *p);

/* auth_external.c: proxy_set_header of auth-response-headers (b NULL:
 * only whether there are any) */
int kngx_ann_ext_upstream_headers(kngx_buf_t *b, const kngx_ann_t *ann,
    const char *in);

/* auth_external.c: the auth and sign-in locations of srv's Ingresses */
void kngx_ann_ext_server(kngx_buf_t *b, const kngx_server_t *srv,
    const char *resolver);

/* limits.c: the zones of the served Ingresses' rate limits */
void kngx_ann_limits_http(kngx_buf_t *b, const kngx_plan_t *p);

/* hosts.c: the next item of a comma-separated list *s (moved past it),
 * blanks around it trimmed, in *item and *len; 0 at the list's end */
int kngx_ann_list_next(const char **s, const char **item, size_t *len);

/* hosts.c: the server-alias names of ann (lowercased, checked), *n of
 * them */
const char *const *kngx_ann_aliases(const kngx_ann_t *ann, size_t *n);

/* hosts.c: the server_name line of srv: its host and its aliases */
void kngx_ann_server_name(kngx_buf_t *b, const kngx_server_t *srv);

/* errors.c: the plan's target of default-backend (the plan fills it
 * in: plan_routes.c), the Service's name in *service; NULL when ann has
 * no error annotations */
kngx_target_t *kngx_ann_default_backend(const kngx_ann_t *ann,
    const char **service);

struct kngx_settings_s;

/* errors.c: in a location of route r whose Ingress has error
 * annotations (s: the ConfigMap's codes): pages 0, the variables of the
 * named locations (before the other families' directives); pages 1,
 * proxy_intercept_errors and error_page (after them) */
void kngx_ann_errors_location(kngx_buf_t *b, const kngx_plan_t *p,
    const struct kngx_settings_s *s, const kngx_route_t *r, int pages);

/* errors.c: the named locations of the error pages srv's routes and the
 * ConfigMap's custom-http-errors go to */
void kngx_ann_errors_server(kngx_buf_t *b, const kngx_plan_t *p,
    const struct kngx_settings_s *s, const kngx_server_t *srv);

/* http.c: what the annotations of the served Ingresses need at http
 * level (maps, zones) */
void kngx_ann_http(kngx_buf_t *b, const kngx_plan_t *p);

#endif /* KNGX_ANNOTATIONS_H */
