/*
 * A small tokenizer of nginx configuration syntax (after
 * src/core/ngx_conf_file.c ngx_conf_read_token) that checks a rendered
 * kubengx.conf against what the renderer (generator/render*.c,
 * emit_upstream.c, render_canary.c, render_forwarded.c, metrics_route.c,
 * generator/settings/settings_render.c, generator/annotations/) makes:
 *
 *   - braces balance, quotes (" and ') close, every directive ends with
 *     ";" or a block, a quoted string is followed by a separator or ")";
 *   - no control bytes anywhere (but "\n" between tokens and "\t" in
 *     comments), unquoted words only from a conservative set of bytes,
 *     "(" and ")" only in if conditions;
 *   - every directive is in cc_dirs for its context (top level, upstream,
 *     server, location, if in a server or a location) with the argument
 *     counts and shapes the renderer writes; map, geo and split_clients
 *     hold KEY VALUE entries; blocks only where the renderer opens them;
 *   - every name used is defined in the text: proxy_pass / grpc_pass and
 *     set $kubengx_backend name an upstream (or are the ExternalName,
 *     canary, auth and mirror variable forms), error_page a named
 *     location, auth_request and mirror an exact location.
 *
 * Used by fuzz_render.c (in the fuzzer and its corpus checker) and by
 * conf_check_main.c (tests/integration/test_conf_oracle.py runs it over
 * broad renders in make test: a directive the renderer learns must be
 * added here).  Header-only: static functions.  Returns 0, or -1 with a
 * reason.
 */

#ifndef KNGX_CONF_CHECK_H
#define KNGX_CONF_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define CC_MAX_ARGS   32
#define CC_MAX_TOKEN  4096
#define CC_MAX_DEPTH  8
#define CC_MAX_NAMES  4096

enum { CC_MAIN = 0, CC_MAP, CC_GEO, CC_SPLIT, CC_UPSTREAM, CC_SERVER,
       CC_LOCATION, CC_SIF, CC_LIF };

#define CC_M   (1 << CC_MAIN)
#define CC_U   (1 << CC_UPSTREAM)
#define CC_S   (1 << CC_SERVER)
#define CC_L   (1 << CC_LOCATION)
#define CC_SI  (1 << CC_SIF)
#define CC_LI  (1 << CC_LIF)

/* names used and defined, by their FNV-1a hash: upstreams (proxy_pass,
 * grpc_pass, set $kubengx_backend), named locations (error_page) and
 * exact internal locations (auth_request, mirror) */
enum { CC_UPS = 0, CC_NAMED, CC_EXACT, CC_NKINDS };

typedef struct {
    uint64_t   *defined;
    size_t      ndefined;
    uint64_t   *used;
    size_t      nused;
} cc_names_t;

typedef struct {
    char        args[CC_MAX_ARGS][CC_MAX_TOKEN];
    size_t      nargs;
    int         quoted[CC_MAX_ARGS];
    int         stack[CC_MAX_DEPTH];
    size_t      depth;
    cc_names_t  names[CC_NKINDS];
    size_t      line;
    char       *why;
    size_t      why_size;
} cc_t;


/* fmt has one or two "%.Ns" for a and b */
static int
cc_fail2(cc_t *c, const char *fmt, const char *a, const char *b)
{
    char  m[256];

    snprintf(m, sizeof(m), fmt, a ? a : "", b ? b : "");
    snprintf(c->why, c->why_size, "line %zu: %s", c->line, m);
    return -1;
}


static int
cc_fail(cc_t *c, const char *fmt, const char *arg)
{
    return cc_fail2(c, fmt, arg, NULL);
}


/* "(" and ")" only in "if" conditions (checked in cc_simple/cc_block) */
static int
cc_is_word_byte(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
           || (ch >= '0' && ch <= '9') || strchr("_$:/.[]=-~^*,+%@!?()", ch);
}


static int
cc_span(const char *s, const char *set)
{
    return *s != '\0' && strspn(s, set) == strlen(s);
}


#define CC_LOWER   "abcdefghijklmnopqrstuvwxyz"
#define CC_UPPER   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define CC_DIGITS  "0123456789"


/* a generated name (generator/names.c): [a-z0-9_.-] */
static int
cc_is_ident(const char *s)
{
    return cc_span(s, CC_LOWER CC_DIGITS "_.-");
}


static int
cc_is_number(const char *s)
{
    return cc_span(s, CC_DIGITS);
}


/* "$name" */
static int
cc_is_var(const char *s)
{
    return s[0] == '$' && cc_span(s + 1, CC_LOWER CC_DIGITS "_");
}


/* "$kubengx_..." */
static int
cc_is_own_var(const char *s)
{
    return strncmp(s, "$kubengx_", 9) == 0 && cc_is_var(s);
}


/* digits then one of the units */
static int
cc_is_unit(const char *s, const char *const *units)
{
    size_t  n = strspn(s, CC_DIGITS);

    if (n == 0) {
        return 0;
    }
    for ( ; *units; units++) {
        if (strcmp(s + n, *units) == 0) {
            return 1;
        }
    }
    return 0;
}


static int
cc_in(const char *s, const char *const *set)
{
    for ( ; *set; set++) {
        if (strcmp(s, *set) == 0) {
            return 1;
        }
    }
    return 0;
}


static uint64_t
cc_hash(const char *s)
{
    uint64_t  h = 1469598103934665603ULL;

    for ( ; *s; s++) {
        h = (h ^ (unsigned char) *s) * 1099511628211ULL;
    }
    return h;
}


static void
cc_name(cc_t *c, int kind, int define, const char *name)
{
    cc_names_t  *n = &c->names[kind];

    if (define && n->ndefined < CC_MAX_NAMES) {
        n->defined[n->ndefined++] = cc_hash(name);

    } else if (!define && n->nused < CC_MAX_NAMES) {
        n->used[n->nused++] = cc_hash(name);
    }
}


/*
 * The shape of one argument (cc_dirs below):
 *   n number    s size (N, Nk, Nm, Ng)    t time (N, Nms, Ns, Nm, Nh, Nd)
 *   o on|off    q quoted    f a file: quoted, no "$"    v a "$variable"
 *   V a header value: quoted, a number or unquoted starting with "$"
 *   h a header name: quoted or [A-Za-z0-9_-]    a an address or CIDR
 *   A "always"  w an unquoted word    * anything
 */
static int
cc_shape(cc_t *c, size_t i, char shape)
{
    static const char *const  sizes[] = { "", "k", "K", "m", "M", "g", "G",
        NULL };
    static const char *const  times[] = { "", "ms", "s", "m", "h", "d",
        NULL };
    const char  *a = c->args[i];
    int          q = c->quoted[i];

    switch (shape) {
    case 'n':
        return !q && cc_is_number(a);
    case 's':
        return !q && cc_is_unit(a, sizes);
    case 't':
        return !q && cc_is_unit(a, times);
    case 'o':
        return !q && (strcmp(a, "on") == 0 || strcmp(a, "off") == 0);
    case 'q':
        return q;
    case 'f':
        return q && *a && strchr(a, '$') == NULL && strstr(a, "..") == NULL;
    case 'v':
        return !q && cc_is_var(a);
    case 'V':
        return q || cc_is_number(a) || a[0] == '$';
    case 'h':
        return q || cc_span(a, CC_LOWER CC_UPPER CC_DIGITS "_-");
    case 'a':
        return !q && cc_span(a, "0123456789abcdefABCDEF.:/[]");
    case 'A':
        return !q && strcmp(a, "always") == 0;
    case 'w':
        return !q;
    case '*':
        return 1;
    }
    return 0;
}


typedef int (*cc_check_pt)(cc_t *c, size_t n);


/* listen ADDRESS [ssl] [http2] [proxy_protocol] [default_server] */
static int
cc_listen(cc_t *c, size_t n)
{
    static const char *const  flags[] = { "ssl", "http2", "proxy_protocol",
        "default_server", NULL };
    size_t  i;

    for (i = 2; i <= n; i++) {
        if (!cc_in(c->args[i], flags) || c->quoted[i]) {
            return cc_fail(c, "listen flag \"%s\"", c->args[i]);
        }
    }
    return 0;
}


/* server_name "HOST"... or "_" */
static int
cc_server_name(cc_t *c, size_t n)
{
    size_t  i;

    for (i = 1; i <= n; i++) {
        if (!c->quoted[i] && strcmp(c->args[i], "_") != 0) {
            return cc_fail(c, "server_name \"%s\" unquoted", c->args[i]);
        }
    }
    return 0;
}


/* return CODE [URL|"TEXT"]: a redirect or an error the renderer makes */
static int
cc_return(cc_t *c, size_t n)
{
    static const char *const  redirects[] = { "301", "302", "303", "307",
        "308", NULL };
    const char  *a;

    if (!cc_is_number(c->args[1]) || strlen(c->args[1]) != 3
        || c->args[1][0] < '2' || c->args[1][0] > '5')
    {
        return cc_fail(c, "return \"%s\"", c->args[1]);
    }
    if (n == 1) {
        return 0;
    }
    if (!cc_in(c->args[1], redirects)) {
        return cc_fail(c, "return %s with a text", c->args[1]);
    }
    a = c->args[2];
    if (c->quoted[2] || strncmp(a, "https://$host", 13) == 0
        || strncmp(a, "$scheme://", 10) == 0)
    {
        return 0;
    }
    return cc_fail(c, "return URL \"%s\"", a);
}


/* rewrite REGEX REPLACEMENT break|last|redirect|permanent */
static int
cc_rewrite(cc_t *c, size_t n)
{
    static const char *const  flags[] = { "break", "last", "redirect",
        "permanent", NULL };

    (void) n;
    return cc_in(c->args[3], flags) ? 0
           : cc_fail(c, "rewrite flag \"%s\"", c->args[3]);
}


/* set $kubengx_VAR VALUE; $kubengx_backend names an upstream */
static int
cc_set(cc_t *c, size_t n)
{
    (void) n;

    if (!cc_is_own_var(c->args[1]) || c->quoted[1]) {
        return cc_fail(c, "set \"%s\"", c->args[1]);
    }
    if (strcmp(c->args[1], "$kubengx_backend") == 0) {
        if (c->quoted[2] || !cc_is_ident(c->args[2])) {
            return cc_fail(c, "set $kubengx_backend \"%s\"", c->args[2]);
        }
        cc_name(c, CC_UPS, 0, c->args[2]);
        return 0;
    }
    if (strcmp(c->args[1], "$kubengx_external") == 0) {
        return (c->quoted[2] && strchr(c->args[2], '$') == NULL
                && strchr(c->args[2], '\\') == NULL)
               ? 0 : cc_fail(c, "set $kubengx_external \"%s\"", c->args[2]);
    }
    return (c->quoted[2] || cc_is_var(c->args[2])) ? 0
           : cc_fail(c, "set value \"%s\"", c->args[2]);
}


/* proxy_pass / grpc_pass: SCHEME://UPSTREAM, SCHEME://$kubengx_external,
 * SCHEME://$kubengx_backend, or the auth and mirror URL variables */
static int
cc_pass(cc_t *c, size_t n)
{
    static const char *const  proxy[] = { "http://", "https://", NULL };
    static const char *const  grpc[] = { "grpc://", "grpcs://", NULL };
    const char *const  *sch;
    const char         *a = c->args[1], *rest;

    (void) n;

    if (c->quoted[1]) {
        return cc_fail(c, "quoted %s", c->args[0]);
    }
    if (c->args[0][0] == 'p' && (strcmp(a, "$kubengx_auth_url") == 0
                                 || strcmp(a, "$kubengx_mirror_url") == 0))
    {
        return 0;
    }

    for (sch = c->args[0][0] == 'p' ? proxy : grpc; *sch; sch++) {
        if (strncmp(a, *sch, strlen(*sch)) == 0) {
            break;
        }
    }
    if (*sch == NULL) {
        return cc_fail(c, "pass \"%s\"", a);
    }

    rest = a + strlen(*sch);
    if (strcmp(rest, "$kubengx_external") == 0
        || strcmp(rest, "$kubengx_backend") == 0)
    {
        return 0;
    }
    if (!cc_is_ident(rest)) {
        return cc_fail(c, "pass \"%s\"", a);
    }
    cc_name(c, CC_UPS, 0, rest);
    return 0;
}


/* error_page CODE... [= [CODE]] @NAME */
static int
cc_error_page(cc_t *c, size_t n)
{
    size_t  i;

    for (i = 1; i < n && cc_is_number(c->args[i]); i++) { /* void */ }

    if (i == 1) {
        return cc_fail(c, "error_page without a code", NULL);
    }
    if (i < n && strcmp(c->args[i], "=") == 0) {
        i++;
        if (i < n && cc_is_number(c->args[i])) {
            i++;
        }
    }
    if (i != n || c->args[n][0] != '@' || c->quoted[n]
        || !cc_is_ident(c->args[n] + 1))
    {
        return cc_fail(c, "error_page target \"%s\"", c->args[n]);
    }
    cc_name(c, CC_NAMED, 0, c->args[n] + 1);
    return 0;
}


/* auth_request / mirror "/_kubengx|KIND|NAME": an exact location */
static int
cc_internal_uri(cc_t *c, size_t n)
{
    (void) n;

    if (strncmp(c->args[1], "/_kubengx|", 10) != 0) {
        return cc_fail(c, "%s to a URI kubengx does not make", c->args[0]);
    }
    cc_name(c, CC_EXACT, 0, c->args[1]);
    return 0;
}


/* k8s_service NS/NAME port=P [balance=M] [hash=$V] [consistent] */
static int
cc_balance_args(cc_t *c, size_t from)
{
    size_t  i;

    for (i = from; i < c->nargs; i++) {
        if (strncmp(c->args[i], "balance=", 8) != 0
            && strncmp(c->args[i], "hash=", 5) != 0
            && strcmp(c->args[i], "consistent") != 0)
        {
            return cc_fail(c, "balancing argument \"%s\"", c->args[i]);
        }
    }
    return 0;
}


static int
cc_k8s_service(cc_t *c, size_t n)
{
    (void) n;

    if (strncmp(c->args[2], "port=", 5) != 0
        || strchr(c->args[1], '/') == NULL)
    {
        return cc_fail(c, "bad k8s_service arguments", NULL);
    }
    return cc_balance_args(c, 3);
}


static int
cc_k8s_dispatch(cc_t *c, size_t n)
{
    (void) n;
    return cc_balance_args(c, 1);
}


/* k8s_backend NS/NAME port=P */
static int
cc_k8s_backend(cc_t *c, size_t n)
{
    (void) n;
    return (strchr(c->args[1], '/') != NULL
            && strncmp(c->args[2], "port=", 5) == 0)
           ? 0 : cc_fail(c, "bad k8s_backend", NULL);
}


/* k8s_canary NS/CANARY NS/SERVICE port=P */
static int
cc_k8s_canary(cc_t *c, size_t n)
{
    (void) n;
    return (strchr(c->args[1], '/') != NULL && strchr(c->args[2], '/')
            && strncmp(c->args[3], "port=", 5) == 0)
           ? 0 : cc_fail(c, "bad k8s_canary", NULL);
}


/* k8s_affinity cookie name=N mode=M [KEY=VALUE|FLAG]... */
static int
cc_k8s_affinity(cc_t *c, size_t n)
{
    static const char *const  keys[] = { "name=", "mode=", "path=",
        "domain=", "samesite=", "expires=", "max_age=", NULL };
    static const char *const  flags[] = { "conditional_samesite_none",
        "secure", "change_on_failure", NULL };
    const char *const  *k;
    size_t              i;

    if (strcmp(c->args[1], "cookie") != 0) {
        return cc_fail(c, "k8s_affinity \"%s\"", c->args[1]);
    }
    for (i = 2; i <= n; i++) {
        for (k = keys; *k; k++) {
            if (strncmp(c->args[i], *k, strlen(*k)) == 0) {
                break;
            }
        }
        if (c->quoted[i] || (*k == NULL && !cc_in(c->args[i], flags))) {
            return cc_fail(c, "k8s_affinity argument \"%s\"", c->args[i]);
        }
    }
    return 0;
}


/* k8s_metrics_route "namespace=NS" "ingress=NAME" ["host=H"] "path=P"
 * ["service=S"]: every argument quoted and named */
static int
cc_metrics_route(cc_t *c, size_t n)
{
    static const char *const  keys[] = { "namespace=", "ingress=", "host=",
        "path=", "service=", NULL };
    const char *const  *k;
    size_t              i;

    for (i = 1; i <= n; i++) {
        for (k = keys; *k; k++) {
            if (strncmp(c->args[i], *k, strlen(*k)) == 0) {
                break;
            }
        }
        if (*k == NULL || !c->quoted[i]) {
            return cc_fail(c, "k8s_metrics_route argument \"%s\"",
                           c->args[i]);
        }
    }
    return 0;
}


/* proxy_redirect / proxy_cookie_*: off, or FROM TO both quoted */
static int
cc_off_or_pair(cc_t *c, size_t n)
{
    if ((n == 1 && !c->quoted[1] && strcmp(c->args[1], "off") == 0)
        || (n == 2 && c->quoted[1] && c->quoted[2]))
    {
        return 0;
    }
    return cc_fail(c, "%s: neither off nor two quoted strings", c->args[0]);
}


/* hash $KEY consistent */
static int
cc_hash_dir(cc_t *c, size_t n)
{
    (void) n;
    return strcmp(c->args[2], "consistent") == 0 ? 0
           : cc_fail(c, "hash \"%.100s\"", c->args[2]);
}


/* limit_conn ZONE N */
static int
cc_limit_conn(cc_t *c, size_t n)
{
    (void) n;
    return cc_is_ident(c->args[1]) ? 0
           : cc_fail(c, "limit_conn zone \"%.100s\"", c->args[1]);
}


/* log_format NAME [escape=json] 'FORMAT' */
static int
cc_log_format(cc_t *c, size_t n)
{
    if (c->quoted[1] || !cc_is_ident(c->args[1]) || !c->quoted[n]
        || (n == 3 && (c->quoted[2]
                       || strcmp(c->args[2], "escape=json") != 0)))
    {
        return cc_fail(c, "log_format \"%.100s\"", c->args[1]);
    }
    return 0;
}


/* limit_req zone=NAME [burst=N] [nodelay] */
static int
cc_limit_req(cc_t *c, size_t n)
{
    size_t  i;

    if (strncmp(c->args[1], "zone=", 5) != 0
        || !cc_is_ident(c->args[1] + 5))
    {
        return cc_fail(c, "limit_req \"%s\"", c->args[1]);
    }
    for (i = 2; i <= n; i++) {
        if (!(strncmp(c->args[i], "burst=", 6) == 0
              && cc_is_number(c->args[i] + 6))
            && strcmp(c->args[i], "nodelay") != 0)
        {
            return cc_fail(c, "limit_req \"%s\"", c->args[i]);
        }
    }
    return 0;
}


/* limit_req_zone $KEY zone=NAME:SIZE rate=Nr/s|m, limit_conn_zone
 * $KEY zone=NAME:SIZE */
static int
cc_limit_zone(cc_t *c, size_t n)
{
    const char  *z = c->args[2], *colon;
    char         name[CC_MAX_TOKEN];

    colon = strchr(z, ':');
    if (strncmp(z, "zone=", 5) != 0 || colon == NULL
        || (size_t) (colon - z - 5) >= sizeof(name)
        || !cc_is_unit(colon + 1, (const char *const []) { "m", NULL }))
    {
        return cc_fail(c, "%s zone", c->args[0]);
    }
    memcpy(name, z + 5, colon - z - 5);
    name[colon - z - 5] = '\0';
    if (!cc_is_ident(name)) {
        return cc_fail(c, "%s zone name", c->args[0]);
    }
    if (n == 3 && (strncmp(c->args[3], "rate=", 5) != 0
                   || !cc_is_unit(c->args[3] + 5, (const char *const []) {
                                      "r/s", "r/m", NULL })))
    {
        return cc_fail(c, "limit_req_zone rate \"%s\"", c->args[3]);
    }
    return 0;
}


/* allow / deny CIDR|all */
static int
cc_access(cc_t *c, size_t n)
{
    (void) n;
    return (strcmp(c->args[1], "all") == 0 || cc_shape(c, 1, 'a')) ? 0
           : cc_fail(c, "%s address", c->args[0]);
}


/* resolver ADDR[:PORT]... ([IPv6]:PORT): no options */
static int
cc_resolver(cc_t *c, size_t n)
{
    size_t  i;

    for (i = 1; i <= n; i++) {
        if (!cc_shape(c, i, 'a')) {
            return cc_fail(c, "resolver \"%s\"", c->args[i]);
        }
    }
    return 0;
}


/* the value of a setting from a fixed set (on: cc_dirs' extra) */
static int
cc_one_of(cc_t *c, const char *set)
{
    char         word[64];
    const char  *p, *e;
    size_t       i;

    for (i = 1; i < c->nargs; i++) {
        for (p = set; *p; p = *e ? e + 1 : e) {
            e = strchr(p, ' ');
            e = e ? e : p + strlen(p);
            if ((size_t) (e - p) < sizeof(word)) {
                memcpy(word, p, e - p);
                word[e - p] = '\0';
                if (strcmp(word, c->args[i]) == 0) {
                    break;
                }
            }
        }
        if (*p == '\0' || c->quoted[i]) {
            return cc_fail(c, "%s value", c->args[0]);
        }
    }
    return 0;
}


typedef struct {
    const char   *name;
    int           ctx;          /* CC_M | CC_S ... */
    size_t        min;
    size_t        max;
    const char   *shapes;       /* per argument; the last one repeats */
    cc_check_pt   check;
    const char   *values;       /* words allowed, " " separated, or NULL */
} cc_dir_t;


#define CC_SL   (CC_S | CC_L)
#define CC_MSL  (CC_M | CC_S | CC_L)

static const cc_dir_t  cc_dirs[] = {
    /* top level only */
    { "server_names_hash_bucket_size", CC_M, 1, 1, "n", NULL,
      "128 256 512" },
    { "server_tokens", CC_M, 1, 1, "o", NULL, NULL },
    { "log_format", CC_M, 2, 3, "w*q", cc_log_format, NULL },
    { "set_real_ip_from", CC_M, 1, 1, "a", NULL, NULL },
    { "real_ip_header", CC_M, 1, 1, "h", NULL, NULL },
    { "real_ip_recursive", CC_M, 1, 1, "o", NULL, NULL },
    { "large_client_header_buffers", CC_M, 2, 2, "ns", NULL, NULL },
    { "client_header_buffer_size", CC_M, 1, 1, "s", NULL, NULL },
    { "keepalive_timeout", CC_M | CC_U, 1, 1, "t", NULL, NULL },
    { "keepalive_requests", CC_M | CC_U, 1, 1, "n", NULL, NULL },
    { "gzip", CC_M, 1, 1, "o", NULL, NULL },
    { "gzip_comp_level", CC_M, 1, 1, "n", NULL, NULL },
    { "gzip_min_length", CC_M, 1, 1, "n", NULL, NULL },
    { "gzip_proxied", CC_M, 1, 1, "w", NULL, "any" },
    { "gzip_vary", CC_M, 1, 1, "o", NULL, NULL },
    { "gzip_types", CC_M, 1, CC_MAX_ARGS - 1, "w", NULL, NULL },
    { "limit_req_zone", CC_M, 3, 3, "vww", cc_limit_zone, NULL },
    { "limit_conn_zone", CC_M, 2, 2, "vw", cc_limit_zone, NULL },

    /* upstream */
    { "k8s_service", CC_U, 2, 5, "w", cc_k8s_service, NULL },
    { "k8s_dispatch", CC_U, 0, 3, "w", cc_k8s_dispatch, NULL },
    { "least_conn", CC_U, 0, 0, "", NULL, NULL },
    { "hash", CC_U, 2, 2, "vw", cc_hash_dir, NULL },
    { "keepalive", CC_U, 1, 1, "n", NULL, NULL },

    /* server */
    { "listen", CC_S, 1, 5, "w", cc_listen, NULL },
    { "server_name", CC_S, 1, CC_MAX_ARGS - 1, "*", cc_server_name, NULL },
    { "ssl_certificate", CC_S, 1, 1, "f", NULL, NULL },
    { "ssl_certificate_key", CC_S, 1, 1, "f", NULL, NULL },
    { "ssl_client_certificate", CC_S, 1, 1, "f", NULL, NULL },
    { "ssl_verify_client", CC_S, 1, 1, "w", NULL,
      "on optional optional_no_ca" },
    { "ssl_verify_depth", CC_S, 1, 1, "n", NULL, NULL },
    { "ssl_reject_handshake", CC_S, 1, 1, "w", NULL, "on" },
    { "ssl_protocols", CC_S, 1, 4, "w", NULL,
      "TLSv1 TLSv1.1 TLSv1.2 TLSv1.3" },
    { "ssl_ciphers", CC_S, 1, 1, "w", NULL, NULL },
    { "ssl_prefer_server_ciphers", CC_S, 1, 1, "o", NULL, NULL },
    { "ssl_session_cache", CC_S, 1, 1, "w", NULL, NULL },
    { "ssl_session_timeout", CC_S, 1, 1, "t", NULL, NULL },
    { "ssl_session_tickets", CC_S, 1, 1, "o", NULL, NULL },
    { "k8s_unavailable_error_page", CC_S | CC_L, 1, 1, "w", NULL, "on" },

    /* http, server and location */
    { "access_log", CC_MSL, 1, 2, "ww", NULL, NULL },
    { "client_max_body_size", CC_MSL, 1, 1, "s", NULL, NULL },
    { "client_body_buffer_size", CC_MSL, 1, 1, "s", NULL, NULL },
    { "proxy_connect_timeout", CC_MSL, 1, 1, "t", NULL, NULL },
    { "proxy_read_timeout", CC_MSL, 1, 1, "t", NULL, NULL },
    { "proxy_send_timeout", CC_MSL, 1, 1, "t", NULL, NULL },
    { "proxy_buffer_size", CC_MSL, 1, 1, "s", NULL, NULL },
    { "proxy_buffers", CC_MSL, 2, 2, "ns", NULL, NULL },
    { "proxy_buffering", CC_MSL, 1, 1, "o", NULL, NULL },
    { "proxy_next_upstream", CC_MSL, 1, 9, "w", NULL,
      "error timeout invalid_header http_500 http_502 http_503 http_504 "
      "http_403 http_404 http_429 non_idempotent off" },
    { "proxy_http_version", CC_SL, 1, 1, "w", NULL, "1.0 1.1" },
    { "proxy_set_header", CC_SL, 2, 2, "hV", NULL, NULL },
    { "proxy_intercept_errors", CC_SL, 1, 1, "o", NULL, NULL },
    { "add_header", CC_S | CC_L | CC_LI, 2, 3, "hVA", NULL, NULL },
    { "error_page", CC_SL, 2, 6, "w", cc_error_page, NULL },
    { "deny", CC_M | CC_L, 1, 1, "w", cc_access, NULL },
    { "allow", CC_L, 1, 1, "w", cc_access, NULL },
    { "return", CC_S | CC_L | CC_SI | CC_LI, 1, 2, "n*", cc_return, NULL },
    { "set", CC_S | CC_L | CC_LI, 2, 2, "w*", cc_set, NULL },

    /* location */
    { "proxy_pass", CC_L, 1, 1, "w", cc_pass, NULL },
    { "grpc_pass", CC_L, 1, 1, "w", cc_pass, NULL },
    { "k8s_backend", CC_L, 2, 2, "ww", cc_k8s_backend, NULL },
    { "k8s_canary", CC_L, 3, 3, "www", cc_k8s_canary, NULL },
    { "k8s_affinity", CC_L, 2, CC_MAX_ARGS - 1, "w", cc_k8s_affinity,
      NULL },
    { "k8s_metrics_route", CC_L, 1, 5, "q", cc_metrics_route, NULL },
    { "resolver", CC_S | CC_L, 1, 4, "a", cc_resolver, NULL },
    { "resolver_timeout", CC_S | CC_L, 1, 1, "t", NULL, NULL },
    { "internal", CC_L, 0, 0, "", NULL, NULL },
    { "rewrite", CC_L, 3, 3, "**w", cc_rewrite, NULL },
    { "rewrite_log", CC_L, 1, 1, "o", NULL, NULL },
    { "auth_request", CC_L, 1, 1, "q", cc_internal_uri, NULL },
    { "auth_request_set", CC_L, 2, 2, "vv", NULL, NULL },
    { "auth_basic", CC_L, 1, 1, "q", NULL, NULL },
    { "auth_basic_user_file", CC_L, 1, 1, "f", NULL, NULL },
    { "mirror", CC_L, 1, 1, "q", cc_internal_uri, NULL },
    { "mirror_request_body", CC_L, 1, 1, "o", NULL, NULL },
    { "proxy_pass_request_body", CC_L, 1, 1, "o", NULL, NULL },
    { "proxy_method", CC_L, 1, 1, "w", NULL,
      "GET HEAD POST PUT DELETE PATCH OPTIONS" },
    { "proxy_redirect", CC_L, 1, 2, "*", cc_off_or_pair, NULL },
    { "proxy_request_buffering", CC_L, 1, 1, "o", NULL, NULL },
    { "proxy_max_temp_file_size", CC_L, 1, 1, "s", NULL, NULL },
    { "proxy_next_upstream_tries", CC_L, 1, 1, "n", NULL, NULL },
    { "proxy_next_upstream_timeout", CC_L, 1, 1, "t", NULL, NULL },
    { "proxy_cookie_domain", CC_L, 1, 2, "*", cc_off_or_pair,
      NULL },
    { "proxy_cookie_path", CC_L, 1, 2, "*", cc_off_or_pair, NULL },
    { "limit_req", CC_L, 1, 3, "w", cc_limit_req, NULL },
    { "limit_req_status", CC_L, 1, 1, "n", NULL, NULL },
    { "limit_conn", CC_L, 2, 2, "wn", cc_limit_conn, NULL },
    { "limit_conn_status", CC_L, 1, 1, "n", NULL, NULL },
    { "limit_rate", CC_L, 1, 1, "s", NULL, NULL },
    { "limit_rate_after", CC_L, 1, 1, "s", NULL, NULL },
    { "proxy_ssl_certificate", CC_L, 1, 1, "f", NULL, NULL },
    { "proxy_ssl_certificate_key", CC_L, 1, 1, "f", NULL, NULL },
    { "proxy_ssl_trusted_certificate", CC_L, 1, 1, "f", NULL, NULL },
    { "proxy_ssl_verify", CC_L, 1, 1, "o", NULL, NULL },
    { "proxy_ssl_verify_depth", CC_L, 1, 1, "n", NULL, NULL },
    { "proxy_ssl_name", CC_L, 1, 1, "q", NULL, NULL },
    { "proxy_ssl_server_name", CC_L, 1, 1, "o", NULL, NULL },
    { "proxy_ssl_session_reuse", CC_L, 1, 1, "o", NULL, NULL },
    { "proxy_ssl_protocols", CC_L, 1, 4, "w", NULL,
      "TLSv1 TLSv1.1 TLSv1.2 TLSv1.3" },
    { "proxy_ssl_ciphers", CC_L, 1, 1, "q", NULL, NULL },
    { "grpc_set_header", CC_L, 2, 2, "hV", NULL, NULL },
    /* grpc_ssl_X: looked up as proxy_ssl_X */
    { NULL, 0, 0, 0, NULL, NULL, NULL }
};


static const char *const  cc_ctx_names[] = { "top level", "map", "geo",
    "split_clients", "upstream", "server", "location", "if in server",
    "if in location" };


/* an entry of map, geo or split_clients: KEY VALUE */
static int
cc_entry(cc_t *c, int ctx)
{
    const char  *k = c->args[0];

    if (c->nargs != 2) {
        return cc_fail(c, "%s entry with other than 2 parts",
                       cc_ctx_names[ctx]);
    }
    if (!c->quoted[1] && !cc_is_number(c->args[1])
        && !cc_is_var(c->args[1]) && !cc_is_ident(c->args[1]))
    {
        return cc_fail(c, "entry value \"%s\"", c->args[1]);
    }
    if (ctx == CC_GEO) {
        return (!c->quoted[0] && (strcmp(k, "default") == 0
                                  || cc_shape(c, 0, 'a')))
               ? 0 : cc_fail(c, "geo key \"%s\"", k);
    }
    if (ctx == CC_SPLIT) {
        return (!c->quoted[0] && (strcmp(k, "*") == 0
                                  || cc_span(k, CC_DIGITS ".%")))
               ? 0 : cc_fail(c, "split_clients key \"%s\"", k);
    }
    return 0;
}


/* a complete simple directive (name + args, ended by ";") */
static int
cc_simple(cc_t *c)
{
    const cc_dir_t  *d;
    const char      *name = c->args[0], *look;
    char             alias[64];
    size_t           n = c->nargs - 1, i, ls;
    int              ctx = c->stack[c->depth - 1];

    if (ctx == CC_MAP || ctx == CC_GEO || ctx == CC_SPLIT) {
        return cc_entry(c, ctx);
    }
    if (c->quoted[0]) {
        return cc_fail(c, "quoted directive name \"%s\"", name);
    }

    /* grpc_ssl_X as proxy_ssl_X */
    look = name;
    if (strncmp(name, "grpc_ssl_", 9) == 0) {
        snprintf(alias, sizeof(alias), "proxy_ssl_%.40s", name + 9);
        look = alias;
    }

    for (d = cc_dirs; d->name; d++) {
        if (strcmp(d->name, look) == 0 && (d->ctx & (1 << ctx))) {
            break;
        }
    }
    if (d->name == NULL) {
        if (ctx == CC_UPSTREAM && strcmp(name, "server") == 0) {
            return (n == 1 && !c->quoted[1]) ? 0
                   : cc_fail(c, "upstream server with other than one "
                             "argument", NULL);
        }
        return cc_fail2(c, "directive \"%.100s\" in %s", name,
                        cc_ctx_names[ctx]);
    }

    if (n < d->min || n > d->max) {
        return cc_fail(c, "%s with a wrong number of arguments", name);
    }
    ls = strlen(d->shapes);
    for (i = 1; i <= n; i++) {
        if (!cc_shape(c, i, d->shapes[i - 1 < ls ? i - 1 : ls - 1])) {
            return cc_fail2(c, "%.100s argument \"%.100s\" of a shape "
                            "the renderer does not write", name, c->args[i]);
        }
        if (!c->quoted[i] && strpbrk(c->args[i], "()")) {
            return cc_fail(c, "\"(\" or \")\" outside an if: \"%s\"",
                           c->args[i]);
        }
    }
    if (d->values && cc_one_of(c, d->values) != 0) {
        return -1;
    }
    return d->check ? d->check(c, n) : 0;
}


/* if (CONDITION): "($var)" or "($var" OP VALUE ")" */
static int
cc_if(cc_t *c, size_t n)
{
    static const char *const  ops[] = { "=", "!=", "~", "~*", "!~", "!~*",
        NULL };
    char         var[CC_MAX_TOKEN];
    const char  *a = c->args[1];
    size_t       l = strlen(a);

    if (c->quoted[1] || a[0] != '(') {
        return cc_fail(c, "if condition \"%s\"", a);
    }
    if (n == 1) {
        if (l < 3 || a[l - 1] != ')') {
            return cc_fail(c, "if condition \"%s\"", a);
        }
        memcpy(var, a + 1, l - 2);
        var[l - 2] = '\0';
        return cc_is_var(var) ? 0 : cc_fail(c, "if condition \"%s\"", a);
    }

    l = strlen(c->args[n]);
    if (n < 3 || n > 4 || !cc_is_var(a + 1) || !cc_in(c->args[2], ops)
        || c->quoted[n] || l == 0 || c->args[n][l - 1] != ')')
    {
        return cc_fail(c, "if condition at \"%s\"", c->args[n]);
    }
    /* ($v = "x" ) or ($v = WORD) */
    if (n == 4 && (!c->quoted[3] || strcmp(c->args[4], ")") != 0)) {
        return cc_fail(c, "if operand \"%s\"", c->args[3]);
    }
    /* ($request_method = OPTIONS), ($kubengx_forwarded_proto = http) */
    if (n == 3
        && (l < 2 || strspn(c->args[3], CC_UPPER CC_LOWER) != l - 1))
    {
        return cc_fail(c, "if operand \"%s\"", c->args[3]);
    }
    return 0;
}


/* name + args, then "{" */
static int
cc_block(cc_t *c)
{
    const char  *name = c->args[0];
    size_t       n = c->nargs - 1, i;
    int          ctx = c->stack[c->depth - 1], inner;

    if (c->quoted[0]) {
        return cc_fail(c, "quoted block name \"%s\"", name);
    }
    if (c->depth >= CC_MAX_DEPTH) {
        return cc_fail(c, "blocks nested too deep", NULL);
    }
    if (strcmp(name, "if") != 0) {
        for (i = 1; i <= n; i++) {
            if (!c->quoted[i] && strpbrk(c->args[i], "()")) {
                return cc_fail(c, "\"(\" or \")\" outside an if: \"%s\"",
                               c->args[i]);
            }
        }
    }

    if (ctx == CC_MAIN && strcmp(name, "map") == 0) {
        if (n != 2 || c->quoted[1] || c->args[1][0] != '$'
            || !cc_is_own_var(c->args[2]))
        {
            return cc_fail(c, "bad map", NULL);
        }
        inner = CC_MAP;

    } else if (ctx == CC_MAIN && strcmp(name, "geo") == 0) {
        if (n < 1 || n > 2 || !cc_is_own_var(c->args[n])
            || (n == 2 && !cc_is_var(c->args[1])))
        {
            return cc_fail(c, "bad geo", NULL);
        }
        inner = CC_GEO;

    } else if (ctx == CC_MAIN && strcmp(name, "split_clients") == 0) {
        if (n != 2 || !c->quoted[1] || !cc_is_own_var(c->args[2])) {
            return cc_fail(c, "bad split_clients", NULL);
        }
        inner = CC_SPLIT;

    } else if (ctx == CC_MAIN && strcmp(name, "upstream") == 0) {
        if (n != 1 || !cc_is_ident(c->args[1])) {
            return cc_fail(c, "upstream name \"%s\"", c->args[1]);
        }
        cc_name(c, CC_UPS, 1, c->args[1]);
        inner = CC_UPSTREAM;

    } else if (ctx == CC_MAIN && strcmp(name, "server") == 0) {
        if (n != 0) {
            return cc_fail(c, "server block with arguments", NULL);
        }
        inner = CC_SERVER;

    } else if (ctx == CC_SERVER && strcmp(name, "location") == 0) {
        if (n == 1 && c->args[1][0] == '@' && !c->quoted[1]) {
            if (!cc_is_ident(c->args[1] + 1)) {
                return cc_fail(c, "location \"%s\"", c->args[1]);
            }
            cc_name(c, CC_NAMED, 1, c->args[1] + 1);

        } else if (n == 2 && strcmp(c->args[1], "=") == 0) {
            if (c->args[2][0] != '/') {
                return cc_fail(c, "location = \"%s\"", c->args[2]);
            }
            cc_name(c, CC_EXACT, 1, c->args[2]);

        } else if (n == 2 && (strcmp(c->args[1], "~") == 0
                              || strcmp(c->args[1], "~*") == 0))
        {
            if (!c->quoted[2] || c->args[2][0] != '^') {
                return cc_fail(c, "location ~ \"%s\"", c->args[2]);
            }

        } else if (n != 1 || c->args[1][0] != '/') {
            return cc_fail(c, "location \"%s\"", c->args[1]);
        }
        inner = CC_LOCATION;

    } else if ((ctx == CC_SERVER || ctx == CC_LOCATION)
               && strcmp(name, "if") == 0)
    {
        if (n < 1 || cc_if(c, n) != 0) {
            return n < 1 ? cc_fail(c, "if without a condition", NULL) : -1;
        }
        inner = ctx == CC_SERVER ? CC_SIF : CC_LIF;

    } else {
        return cc_fail(c, "block \"%s\" not made by the renderer here", name);
    }

    c->stack[c->depth++] = inner;
    return 0;
}


/* every name used is defined: upstreams, named and exact locations */
static int
cc_names_check(cc_t *c)
{
    static const char *const  what[] = { "an upstream",
        "a named location", "an internal location" };
    cc_names_t  *n;
    size_t       j, k;
    int          kind;

    for (kind = 0; kind < CC_NKINDS; kind++) {
        n = &c->names[kind];
        for (j = 0; j < n->nused; j++) {
            for (k = 0; k < n->ndefined; k++) {
                if (n->used[j] == n->defined[k]) {
                    break;
                }
            }
            if (k == n->ndefined) {
                return cc_fail(c, "a reference to %s not defined",
                               what[kind]);
            }
        }
    }
    return 0;
}


static int
cc_check(const char *text, size_t len, char *why, size_t why_size)
{
    cc_t            *c;
    size_t           i, tl = 0, j;
    unsigned char    ch;
    int              rc = -1, in_token = 0, dq = 0, need_space = 0;

    c = calloc(1, sizeof(cc_t));
    if (c == NULL) {
        return 0;
    }
    for (j = 0; j < CC_NKINDS; j++) {
        c->names[j].defined = calloc(CC_MAX_NAMES, sizeof(uint64_t));
        c->names[j].used = calloc(CC_MAX_NAMES, sizeof(uint64_t));
        if (c->names[j].defined == NULL || c->names[j].used == NULL) {
            rc = 0;
            goto done;
        }
    }

    c->why = why;
    c->why_size = why_size;
    c->line = 1;
    c->stack[0] = CC_MAIN;
    c->depth = 1;

#define CC_END_TOKEN()                                                        \
    do {                                                                      \
        if (in_token) {                                                       \
            if (c->nargs >= CC_MAX_ARGS) {                                    \
                cc_fail(c, "too many arguments", NULL);                       \
                goto done;                                                    \
            }                                                                 \
            c->args[c->nargs][tl] = '\0';                                     \
            c->nargs++;                                                       \
            in_token = 0;                                                     \
            tl = 0;                                                           \
        }                                                                     \
    } while (0)

    for (i = 0; i < len; i++) {
        ch = (unsigned char) text[i];

        if (ch == '\0') {
            cc_fail(c, "NUL byte", NULL);
            goto done;
        }

        if (dq) {
            if (ch < 0x20 || ch == 0x7f) {
                cc_fail(c, "control byte inside a quoted string", NULL);
                goto done;
            }
            if (ch == '\\') {
                if (i + 1 >= len) {
                    cc_fail(c, "backslash at end", NULL);
                    goto done;
                }
                if (tl + 2 >= CC_MAX_TOKEN) {
                    cc_fail(c, "token too long", NULL);
                    goto done;
                }
                c->args[c->nargs][tl++] = text[i];
                c->args[c->nargs][tl++] = text[++i];
                continue;
            }
            if (ch == (unsigned char) dq) {
                dq = 0;
                need_space = 1;
                CC_END_TOKEN();
                continue;
            }
            if (tl + 1 >= CC_MAX_TOKEN) {
                cc_fail(c, "token too long", NULL);
                goto done;
            }
            c->args[c->nargs][tl++] = (char) ch;
            continue;
        }

        if (need_space) {
            /* ")" too, as nginx: it starts a token of its own */
            if (ch != ' ' && ch != '\t' && ch != '\n' && ch != ';'
                && ch != '{' && ch != ')')
            {
                cc_fail(c, "no separator after a quoted string", NULL);
                goto done;
            }
            need_space = 0;
        }

        if (ch == '\n') {
            CC_END_TOKEN();
            c->line++;
            continue;
        }

        if (ch == ' ' || ch == '\t') {
            CC_END_TOKEN();
            continue;
        }

        if (ch < 0x20 || ch >= 0x7f) {
            cc_fail(c, "control or non-ASCII byte outside quotes", NULL);
            goto done;
        }

        if (ch == '#' && !in_token) {
            if (c->nargs) {
                cc_fail(c, "comment inside a directive", NULL);
                goto done;
            }
            for (i++; i < len && text[i] != '\n'; i++) {
                ch = (unsigned char) text[i];
                if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
                    cc_fail(c, "control byte in a comment", NULL);
                    goto done;
                }
            }
            c->line++;
            continue;
        }

        if (ch == ';' || ch == '{') {
            CC_END_TOKEN();
            if (c->nargs == 0) {
                cc_fail(c, "empty directive before \"%s\"",
                        ch == ';' ? ";" : "{");
                goto done;
            }
            if ((ch == ';' ? cc_simple(c) : cc_block(c)) != 0) {
                goto done;
            }
            c->nargs = 0;
            memset(c->quoted, 0, sizeof(c->quoted));
            continue;
        }

        if (ch == '}') {
            if (in_token || c->nargs) {
                cc_fail(c, "\"}\" inside a directive", NULL);
                goto done;
            }
            if (c->depth <= 1) {
                cc_fail(c, "unbalanced \"}\"", NULL);
                goto done;
            }
            c->depth--;
            continue;
        }

        if ((ch == '"' || ch == '\'') && !in_token) {
            if (c->nargs >= CC_MAX_ARGS) {
                cc_fail(c, "too many arguments", NULL);
                goto done;
            }
            dq = ch;
            in_token = 1;
            c->quoted[c->nargs] = 1;
            continue;
        }

        if (!cc_is_word_byte(ch)) {
            cc_fail(c, "byte '%s' in an unquoted word",
                    (char[2]) { (char) ch, '\0' });
            goto done;
        }

        if (c->nargs >= CC_MAX_ARGS) {
            cc_fail(c, "too many arguments", NULL);
            goto done;
        }
        if (tl + 1 >= CC_MAX_TOKEN) {
            cc_fail(c, "token too long", NULL);
            goto done;
        }
        in_token = 1;
        c->args[c->nargs][tl++] = (char) ch;
    }

    if (dq) {
        cc_fail(c, "unterminated quoted string", NULL);
        goto done;
    }
    if (in_token || c->nargs) {
        cc_fail(c, "directive without \";\" at end", NULL);
        goto done;
    }
    if (c->depth != 1) {
        cc_fail(c, "unclosed block at end", NULL);
        goto done;
    }

    if (cc_names_check(c) != 0) {
        goto done;
    }

    rc = 0;

#undef CC_END_TOKEN

done:

    for (j = 0; j < CC_NKINDS; j++) {
        free(c->names[j].defined);
        free(c->names[j].used);
    }
    free(c);
    return rc;
}

#endif /* KNGX_CONF_CHECK_H */
