
/*
 * kubengx generator: headers from a ConfigMap, for two annotations:
 *
 *   custom-headers           response headers of every location of the
 *                            Ingress: add_header NAME "VALUE" always
 *                            (ingress-nginx: more_set_headers, which
 *                            replaces a backend's header of that name;
 *                            add_header adds one beside it)
 *   auth-proxy-set-headers   headers sent to the auth-url service
 *                            (auth_external.c: proxy_set_header in the
 *                            auth location)
 *
 * The value names a ConfigMap of the Ingress's own namespace, "NAME" or
 * "NS/NAME" with NS the Ingress's; another namespace's is refused (a
 * tenant must not read, or depend on, another's objects).  Each data key
 * is a header name, an HTTP token (RFC 9110's tchar) without "$"; each
 * value printable ASCII in which every "$" starts a variable nginx 1.22
 * defines ($name or ${name}, variables.c, as ingress-nginx's
 * documentation uses ${msec}); nginx has no way to write a literal "$",
 * so another "$" refuses the annotation.  Values are written as nginx
 * double-quoted strings (escape.c), never as raw text.  A missing
 * ConfigMap, an empty one, or a bad key or value refuses the Ingress:
 * its routes are not served, with a warning naming the ConfigMap and
 * key (registry.c).
 *
 * A location that writes its own add_header loses every add_header of
 * its server and of http (nginx inherits the directive only when a level
 * has none): such a location also writes the settings'
 * Strict-Transport-Security header (KNGX_ANN_HSTS, settings_render.c).
 */

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "annotations.h"
#include "escape.h"
#include "stream.h"


#define KNGX_HDR_MAX        64      /* headers of one ConfigMap */
#define KNGX_HDR_NAME_MAX   128
#define KNGX_HDR_VALUE_MAX  1024


typedef struct {
    kngx_ann_header_t  *h;
    size_t              n;
} kngx_ann_headers_t;


/* an HTTP token without "$" */
static int
kngx_hdr_name_ok(const char *s)
{
    const char  *p;

    for (p = s; *p; p++) {
        if (!isalnum((unsigned char) *p) && strchr("!#%&'*+-.^_`|~", *p)
                                            == NULL)
        {
            return 0;
        }
    }

    return p != s && p - s <= KNGX_HDR_NAME_MAX;
}


/* printable ASCII whose every "$" starts a variable nginx defines */
static int
kngx_hdr_value_ok(const char *s)
{
    const char  *p, *name;
    int          brace;

    if (strlen(s) > KNGX_HDR_VALUE_MAX) {
        return 0;
    }

    for (p = s; *p; /* void */) {
        if (*p < 0x20 || *p > 0x7e) {
            return 0;
        }

        if (*p++ != '$') {
            continue;
        }

        brace = *p == '{';
        name = p += brace;

        if (!(isalpha((unsigned char) *p) || *p == '_')) {
            return 0;
        }

        while (isalnum((unsigned char) *p) || *p == '_') {
            p++;
        }

        if (!kngx_ngx_variable_known(name, (size_t) (p - name))
            || (brace && *p++ != '}'))
        {
            return 0;
        }
    }

    return 1;
}


static int
kngx_hdr_bad(kngx_ann_ctx_t *ctx, const char *ns, const char *name,
    const char *key, const char *what)
{
    char  buf[600];

    snprintf(buf, sizeof(buf), "reads ConfigMap %s/%s, whose data key %s "
             "%s; the annotation is", ns, name, kngx_msg_quote(key), what);

    ctx->why = kube_arena_strdup(ctx->arena, buf);

    return ctx->why ? KNGX_ANN_BAD : KNGX_ANN_NOMEM;
}


int
kngx_ann_headers_configmap(kngx_ann_ctx_t *ctx, const char *v,
    kngx_ann_header_t **out, size_t *n)
{
    const kngx_configmap_t  *cm;
    const char              *slash, *name, *why;
    kngx_ann_header_t       *h;
    char                     key[400], q[2 * KNGX_HDR_VALUE_MAX + 3];
    size_t                   i;

    *out = NULL;
    *n = 0;

    slash = strchr(v, '/');
    name = slash ? slash + 1 : v;

    if (slash && ((size_t) (slash - v) != strlen(ctx->ing->meta.ns)
                  || strncmp(v, ctx->ing->meta.ns, slash - v) != 0))
    {
        ctx->why = "must name a ConfigMap of the Ingress's own namespace "
                   "(\"NAME\" or \"NAMESPACE/NAME\"), not";
        return KNGX_ANN_BAD;
    }

    if (kngx_name_check(KNGX_NAME_SUBDOMAIN, name, &why) != 0) {
        ctx->why = "must be a ConfigMap name, not";
        return KNGX_ANN_BAD;
    }

    snprintf(key, sizeof(key), "%s/%s", ctx->ing->meta.ns, name);
    cm = ctx->model ? kngx_configmap_find(ctx->model, key) : NULL;

    if (cm == NULL || cm->ndata == 0) {
        ctx->why = cm ? "names a ConfigMap without data:"
                      : "names a ConfigMap that is not there (for render "
                        "and migrate: not in the input):";
        ctx->missing = cm == NULL;
        return KNGX_ANN_BAD;
    }

    if (cm->ndata > KNGX_HDR_MAX) {
        ctx->why = "names a ConfigMap of more than 64 headers:";
        return KNGX_ANN_BAD;
    }

    h = kube_arena_calloc(ctx->arena, cm->ndata, sizeof(kngx_ann_header_t));
    if (h == NULL) {
        return KNGX_ANN_NOMEM;
    }

    for (i = 0; i < cm->ndata; i++) {
        if (!kngx_hdr_name_ok(cm->data[i].key)) {
            return kngx_hdr_bad(ctx, cm->ns, cm->name, cm->data[i].key,
                                "is not a header name (an HTTP token "
                                "without \"$\", at most 128 bytes)");
        }

        if (cm->data[i].value == NULL || !kngx_hdr_value_ok(cm->data[i].value)
            || kngx_ngx_quote_vars(cm->data[i].value, q, sizeof(q)) < 0)
        {
            return kngx_hdr_bad(ctx, cm->ns, cm->name, cm->data[i].key,
                                "has a value that is not printable ASCII "
                                "of at most 1024 bytes whose every \"$\" "
                                "starts a variable nginx defines");
        }

        h[i].name = cm->data[i].key;
        h[i].value = kube_arena_strdup(ctx->arena, q);
        if (h[i].value == NULL) {
            return KNGX_ANN_NOMEM;
        }
    }

    *out = h;
    *n = cm->ndata;

    return KNGX_ANN_OK;
}


/* ---- custom-headers ------------------------------------------------------ */

static int
kngx_ann_headers_parse(kngx_ann_ctx_t *ctx, void *conf, int id,
    const char *v)
{
    kngx_ann_headers_t  *c = conf;

    (void) id;      /* KNGX_HD_CUSTOM */

    return kngx_ann_headers_configmap(ctx, v, &c->h, &c->n);
}


static void
kngx_ann_headers_emit(kngx_buf_t *b, const void *conf, const kngx_route_t *r,
    const char *certs)
{
    const kngx_ann_headers_t  *c = conf;
    size_t                     i;

    (void) r;
    (void) certs;

    for (i = 0; i < c->n; i++) {
        kngx_buf_printf(b, "        add_header \"%s\" %s always;\n",
                        c->h[i].name, c->h[i].value);
    }
}


int
kngx_ann_add_headers(const kngx_ann_t *ann)
{
    return ann && (ann->conf[kngx_ann_cors_family.index]
                   || ann->conf[kngx_ann_external_family.index]
                   || ann->conf[kngx_ann_headers_family.index]);
}


const kngx_ann_family_t  kngx_ann_headers_family = {
    "headers", 12, sizeof(kngx_ann_headers_t),
    kngx_ann_headers_parse, NULL, kngx_ann_headers_emit, NULL
};
