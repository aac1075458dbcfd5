
/*
 * kubengx generator: ingress-nginx's path annotations: use-regex,
 * rewrite-target, app-root, x-forwarded-prefix, upstream-vhost.
 *
 * Regex paths.  With use-regex "true" or a rewrite-target, the Prefix and
 * ImplementationSpecific paths of THIS Ingress are case-insensitive
 * regular expressions anchored at the start ("location ~* ^PATH"), as in
 * ingress-nginx; Exact paths stay exact.  Other Ingresses' paths on the
 * same host stay prefixes (ingress-nginx turns every path of the host
 * into a regex).  nginx's order then decides (README, "Regex paths"): an
 * Exact path first; then the regex paths, longest first (render.c), the
 * first that matches; then the longest prefix.  So a regex path takes
 * requests from prefix paths it matches.
 *
 * A regex path is checked with PCRE2 as nginx compiles it (regex_check.c:
 * printable ASCII without spaces, no named groups), so that a path nginx
 * would refuse never reaches the config; it is written double-quoted.
 * A path nginx would refuse, or a rewrite-target naming more capture
 * groups than the path has, loses its route with a warning.
 *
 * rewrite-target: "/" then literals of a path and $1..$9;
 * "rewrite (?i)^PATH TARGET break;" in the location.  app-root: a plain
 * path; the "/" location of the Ingress answers "/" with a 302 to it.
 * x-forwarded-prefix: a plain path sent as X-Forwarded-Prefix.
 * upstream-vhost: a DNS name (optionally :PORT) sent as Host
 * (render.c writes both with the location's proxy headers).
 */

#include <stdio.h>
#include <string.h>

#include "annotations.h"
#include "escape.h"
#include "regex_check.h"


typedef struct {
    unsigned       regex:1;
    const char    *target;          /* rewrite-target */
    unsigned       target_refs;     /* the highest $N in it */
    const char    *app_root;
    const char    *prefix;          /* x-forwarded-prefix */
    const char    *vhost;           /* upstream-vhost */
} kngx_ann_rewrite_t;


int
kngx_ann_regex_check(const char *s, unsigned *groups, const char **why)
{
    if (s[0] != '/') {
        *why = "must start with \"/\"";
        return -1;
    }

    /* "location ~* ^PATH" and "rewrite (?i)^PATH": caseless */
    return kngx_regex_check(s, 1, groups, why);
}


/* a rewrite target's bytes besides "$": a path's, and "?" for a query */
static int
kngx_ann_target_byte(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || (c && strchr("/_~!&,=:@%-.?+", c));
}


/* "/" then path literals and $1..$9; the highest N in *refs */
static int
kngx_ann_target_check(kngx_ann_ctx_t *ctx, const char *v, unsigned *refs)
{
    const char  *s;

    *refs = 0;

    if (v[0] != '/' || strlen(v) > 1024) {
        ctx->why = "must be a path starting with \"/\" (at most 1024 "
                   "bytes), not";
        return KNGX_ANN_BAD;
    }

    for (s = v; *s; s++) {
        if (*s == '$') {
            if (s[1] < '1' || s[1] > '9') {
                ctx->why = "may hold \"$\" only as $1 to $9, not";
                return KNGX_ANN_BAD;
            }
            if ((unsigned) (s[1] - '0') > *refs) {
                *refs = (unsigned) (s[1] - '0');
            }
            s++;
            continue;
        }

        if (!kngx_ann_target_byte(*s)) {
            ctx->why = "has a character kubengx does not accept in a "
                       "rewrite target:";
            return KNGX_ANN_BAD;
        }
    }

    return KNGX_ANN_OK;
}


static int
kngx_ann_path_value(kngx_ann_ctx_t *ctx, const char *v, const char **out)
{
    const char  *why;

    if (kngx_path_check(v, &why) != 0) {
        ctx->why = "must be a plain absolute path, not";
        return KNGX_ANN_BAD;
    }

    *out = v;

    return KNGX_ANN_OK;
}


static int
kngx_ann_rewrite_parse(kngx_ann_ctx_t *ctx, void *conf, int id,
    const char *v)
{
    kngx_ann_rewrite_t  *c = conf;
    const char          *why, *colon;
    unsigned             on;
    long                 port;
    char                 host[256];
    size_t               n;

    switch (id) {

    case KNGX_RW_USE_REGEX:
        if (kngx_ann_bool(ctx, v, &on) != KNGX_ANN_OK) {
            return KNGX_ANN_BAD;
        }
        c->regex |= on;
        return KNGX_ANN_OK;

    case KNGX_RW_TARGET:
        if (kngx_ann_target_check(ctx, v, &c->target_refs) != KNGX_ANN_OK) {
            return KNGX_ANN_BAD;
        }
        c->target = v;
        c->regex = 1;
        return KNGX_ANN_OK;

    case KNGX_RW_APP_ROOT:
        return kngx_ann_path_value(ctx, v, &c->app_root);

    case KNGX_RW_PREFIX:
        return kngx_ann_path_value(ctx, v, &c->prefix);

    default:    /* KNGX_RW_VHOST */
        colon = strchr(v, ':');
        n = colon ? (size_t) (colon - v) : strlen(v);

        if (n == 0 || n >= sizeof(host)) {
            ctx->why = "must be a DNS name with an optional :PORT, not";
            return KNGX_ANN_BAD;
        }

        memcpy(host, v, n);
        host[n] = '\0';

        if (kngx_dns_name_check(host, &why) != 0
            || (colon && kngx_ann_int(ctx, colon + 1, 1, 65535, &port)
                         != KNGX_ANN_OK))
        {
            ctx->why = "must be a DNS name with an optional :PORT, not";
            return KNGX_ANN_BAD;
        }

        c->vhost = v;
        return KNGX_ANN_OK;
    }
}


/* "(?i)^" and the Exact path with the regex metacharacters escaped */
static void
kngx_ann_exact_regex(const char *path, char *out, size_t size)
{
    size_t  n;

    n = (size_t) snprintf(out, size, "(?i)^");

    for ( /* void */ ; *path && n + 3 < size; path++) {
        if (strchr(".()*+?[]^$|\\", *path)) {
            out[n++] = '\\';
        }
        out[n++] = *path;
    }

    out[n] = '\0';

    if (n + 2 < size) {
        out[n++] = '$';
        out[n] = '\0';
    }
}


static void
kngx_ann_rewrite_emit(kngx_buf_t *b, const void *conf, const kngx_route_t *r,
    const char *certs)
{
    const kngx_ann_rewrite_t  *c = conf;
    char                       re[2200], qre[4500], qt[2200];

    if (c->app_root && strcmp(r->path, "/") == 0) {
        snprintf(re, sizeof(re), "$scheme://$kubengx_host%s", c->app_root);

        if (kngx_ann_quote(re, qt, sizeof(qt)) > 0) {
            kngx_buf_printf(b, "        if ($uri = \"/\") {\n"
                            "            return 302 %s;\n"
                            "        }\n", qt);
        }
    }

    if (c->target == NULL || r->twin) {
        return;
    }

    if (r->type == KNGX_PATH_EXACT) {
        kngx_ann_exact_regex(r->path, re, sizeof(re));
    } else {
        snprintf(re, sizeof(re), "(?i)^%s", r->path);
    }

    if (kngx_ann_quote(re, qre, sizeof(qre)) < 0
        || kngx_ann_quote(c->target, qt, sizeof(qt)) < 0)
    {
        return;         /* not reached: checked alphabets, bounded */
    }

    kngx_buf_printf(b, "        rewrite %s %s break;\n", qre, qt);
}


int
kngx_ann_regex(const kngx_ann_t *ann)
{
    const kngx_ann_rewrite_t  *c;

    c = ann ? ann->conf[kngx_ann_rewrite_family.index] : NULL;

    return c && c->regex;
}


int
kngx_ann_wants_regex(const kngx_ingress_t *ing)
{
    const char  *v;

    v = kngx_meta_annotation(&ing->meta, KNGX_ANN_PREFIX "use-regex");

    return (v && (strcmp(v, "true") == 0 || strcmp(v, "True") == 0))
           || kngx_meta_annotation(&ing->meta,
                                   KNGX_ANN_PREFIX "rewrite-target");
}


int
kngx_ann_regex_groups_ok(const kngx_ann_t *ann, unsigned groups)
{
    const kngx_ann_rewrite_t  *c;

    c = ann ? ann->conf[kngx_ann_rewrite_family.index] : NULL;

    return c == NULL || c->target_refs <= groups;
}


const char *
kngx_ann_vhost(const kngx_ann_t *ann)
{
    const kngx_ann_rewrite_t  *c;

    c = ann ? ann->conf[kngx_ann_rewrite_family.index] : NULL;

    return c ? c->vhost : NULL;
}


const char *
kngx_ann_forwarded_prefix(const kngx_ann_t *ann)
{
    const kngx_ann_rewrite_t  *c;

    c = ann ? ann->conf[kngx_ann_rewrite_family.index] : NULL;

    return c ? c->prefix : NULL;
}


const kngx_ann_family_t  kngx_ann_rewrite_family = {
    "rewrite", 2, sizeof(kngx_ann_rewrite_t),
    kngx_ann_rewrite_parse, NULL, kngx_ann_rewrite_emit, NULL
};
