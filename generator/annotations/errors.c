
/*
 * kubengx generator: error pages.  ingress-nginx's annotations
 *
 *   default-backend     a Service of the Ingress's namespace (its first
 *                       port) that answers when the route's Service has
 *                       no usable endpoint: nginx's own 502, 503 and 504
 *                       (a Service without endpoints, refused or timed
 *                       out connections; with the module the location
 *                       says k8s_unavailable_error_page on) go to it with
 *                       "error_page 502 503 504 = @kubengx_defbe_UPS",
 *                       without proxy_intercept_errors: a backend's own
 *                       5xx answer is passed on
 *   custom-http-errors  "404,503": proxy_intercept_errors on and
 *                       "error_page CODE @NAMED": the default backend
 *                       (the annotation's, else --default-backend) gets
 *                       the request with ingress-nginx's X-Code,
 *                       X-Format, X-Original-URI, X-Namespace,
 *                       X-Ingress-Name, X-Service-Name, X-Service-Port
 *                       and X-Request-ID, for "/" (ingress-nginx keeps
 *                       the query; X-Original-URI has it), and the client
 *                       the original code with its body; without any
 *                       default backend, nginx's own page for the code
 *   disable-proxy-intercept-errors  "true": proxy_intercept_errors off
 *                       in the Ingress's locations (the codes still
 *                       apply to nginx's own errors)
 *
 * and the settings ConfigMap's custom-http-errors, which go to
 * --default-backend the same way (@kubengx_error_CODE in every server).
 * Named locations (names.c's injective upstream names after a fixed
 * prefix): @kubengx_error_CODE (server-wide: --default-backend or
 * "return CODE"), @kubengx_custom_CODE_UPS and @kubengx_defbe_UPS (the
 * annotation's default backend, upstream UPS).  The route's names reach
 * the named locations in variables set in the route's location, as
 * ingress-nginx does.
 */

#include <stdlib.h>
#include <string.h>

#include "annotations.h"
#include "escape.h"
#include "settings/settings.h"


#define KNGX_ER_MAX  64


typedef struct {
    const char       *service;      /* default-backend */
    int               codes[KNGX_ER_MAX];
    size_t            ncodes;       /* custom-http-errors */
    unsigned          has_codes:1;
    unsigned          no_intercept:1;
    kngx_target_t     target;       /* the plan's: default-backend, when
                                       action is PROXY */
} kngx_ann_errors_t;


static int
kngx_ann_errors_parse(kngx_ann_ctx_t *ctx, void *conf, int id,
    const char *v)
{
    kngx_ann_errors_t  *c = conf;
    const char         *s;
    unsigned            on;
    long                code;
    char                one[8];
    size_t              len, i;

    switch (id) {

    case KNGX_ER_DEFAULT:
        if (!kngx_dns_label_ok(v, strlen(v))) {
            ctx->why = "must name a Service of the Ingress's namespace (a "
                       "DNS label), not";
            return KNGX_ANN_BAD;
        }

        c->service = v;
        return KNGX_ANN_OK;

    case KNGX_ER_NO_INTERCEPT:
        if (kngx_ann_bool(ctx, v, &on) != KNGX_ANN_OK) {
            return KNGX_ANN_BAD;
        }

        c->no_intercept = on;
        return KNGX_ANN_OK;
    }

    /* custom-http-errors: "404,503" */

    c->ncodes = 0;
    c->has_codes = 1;

    while (kngx_ann_list_next(&v, &s, &len)) {
        if (len == 0 || len >= sizeof(one) || c->ncodes == KNGX_ER_MAX) {
            goto bad;
        }

        memcpy(one, s, len);
        one[len] = '\0';

        if (kngx_ann_int(ctx, one, 400, 599, &code) != KNGX_ANN_OK) {
            goto bad;
        }

        for (i = 0; i < c->ncodes && c->codes[i] != code; i++) {
            /* void */
        }

        if (i == c->ncodes) {
            c->codes[c->ncodes++] = (int) code;
        }
    }

    if (c->ncodes) {
        return KNGX_ANN_OK;
    }

bad:

    ctx->why = "must be HTTP status codes from 400 to 599 separated by "
               "commas (at most 64), not";
    return KNGX_ANN_BAD;
}


kngx_target_t *
kngx_ann_default_backend(const kngx_ann_t *ann, const char **service)
{
    kngx_ann_errors_t  *c;

    c = ann ? ann->conf[kngx_ann_errors_family.index] : NULL;

    *service = c ? c->service : NULL;

    return c ? &c->target : NULL;
}


/* ---- the text ------------------------------------------------------------ */

/* the upstream proxied to for an error: the annotation's, else the
 * flag's (--default-backend), else NULL */
static const kngx_upstream_t *
kngx_ann_errors_ups(const kngx_ann_errors_t *c, const kngx_plan_t *p)
{
    if (c && c->target.action == KNGX_ACTION_PROXY) {
        return c->target.upstream;
    }

    /* an ExternalName needs the server's resolver: not for errors */
    return p->flag_default.action == KNGX_ACTION_PROXY
           && p->flag_default.upstream->kind != KNGX_UPSTREAM_EXTERNAL
           ? p->flag_default.upstream : NULL;
}


static const kngx_ann_errors_t *
kngx_ann_errors_conf(const kngx_ann_t *ann)
{
    return ann ? ann->conf[kngx_ann_errors_family.index] : NULL;
}


/* the codes of a location of ann: its own, else the ConfigMap's */
static const int *
kngx_ann_errors_codes(const kngx_ann_errors_t *c, const kngx_settings_t *s,
    size_t *n)
{
    if (c && c->has_codes) {
        *n = c->ncodes;
        return c->codes;
    }

    *n = s->ncustom_http_errors;
    return s->custom_http_errors;
}


/* the route's names for the X- headers of the named locations (names
 * checked: DNS labels) */
static void
kngx_ann_errors_vars(kngx_buf_t *b, const kngx_ingress_t *ing,
    const kngx_backend_t *be)
{
    kngx_buf_printf(b, "        set $kubengx_err_ns \"%s\";\n"
                    "        set $kubengx_err_ing \"%s\";\n"
                    "        set $kubengx_err_svc \"%s\";\n",
                    ing->meta.ns, ing->meta.name, be->service);

    if (be->port_name) {
        kngx_buf_printf(b, "        set $kubengx_err_port \"%s\";\n",
                        be->port_name);
    } else {
        kngx_buf_printf(b, "        set $kubengx_err_port \"%d\";\n",
                        be->port_number);
    }
}


/*
 * A location of route r whose Ingress has error annotations: pages 0,
 * the variables (in the rewrite phase: before any "break"); pages 1,
 * proxy_intercept_errors and error_page, after the other families' (an
 * auth-signin's error_page 401 is found first)
 */
void
kngx_ann_errors_location(kngx_buf_t *b, const kngx_plan_t *p,
    const kngx_settings_t *s, const kngx_route_t *r, int pages)
{
    const kngx_ann_errors_t  *c = kngx_ann_errors_conf(r->target.ann);
    const kngx_backend_t     *be = r->target.backend;
    const kngx_upstream_t    *u;
    const int                *codes;
    size_t                    n, i;
    int                       code, first;

    if (c == NULL) {
        return;         /* the server's error pages, if any */
    }

    codes = kngx_ann_errors_codes(c, s, &n);
    u = kngx_ann_errors_ups(c, p);

    if (!pages) {
        if (n && u && be && be->service) {
            kngx_ann_errors_vars(b, r->target.ingress, be);
        }

        return;
    }

    if (n) {
        kngx_buf_printf(b, "        proxy_intercept_errors %s;\n",
                        c->no_intercept ? "off" : "on");
    }

    for (i = 0; i < n; i++) {
        if (c->target.action == KNGX_ACTION_PROXY) {
            kngx_buf_printf(b, "        error_page %d @kubengx_custom_%d_%s;"
                            "\n", codes[i], codes[i], u->name);
        } else {
            kngx_buf_printf(b, "        error_page %d @kubengx_error_%d;\n",
                            codes[i], codes[i]);
        }
    }

    if (c->target.action != KNGX_ACTION_PROXY) {
        return;
    }

    /* the fallback: nginx's own 502, 503, 504 not listed above */

    for (code = 502, first = 1; code <= 504; code++) {
        for (i = 0; i < n && codes[i] != code; i++) {
            /* void */
        }

        if (i == n) {
            kngx_buf_printf(b, "%s %d", first ? "        error_page" : "",
                            code);
            first = 0;
        }
    }

    if (!first) {
        kngx_buf_printf(b, " = @kubengx_defbe_%s;\n",
                        c->target.upstream->name);
    }

    if (r->target.action == KNGX_ACTION_PROXY
        && r->target.upstream->kind == KNGX_UPSTREAM_MODULE)
    {
        /* a Service without endpoints: through error_page 502 */
        kngx_buf_printf(b, "        k8s_unavailable_error_page on;\n");
    }
}


/* ---- the named locations of a server ------------------------------------- */

enum {
    KNGX_ER_LOC_ERROR = 0,      /* @kubengx_error_CODE */
    KNGX_ER_LOC_CUSTOM,         /* @kubengx_custom_CODE_UPS */
    KNGX_ER_LOC_DEFBE           /* @kubengx_defbe_UPS */
};

typedef struct {
    int                       kind;
    int                       code;
    const kngx_upstream_t    *ups;
} kngx_er_loc_t;

typedef struct {
    kngx_er_loc_t            *a;
    size_t                    n;
    size_t                    cap;
    int                       nomem;
} kngx_er_locs_t;


static void
kngx_er_add(kngx_er_locs_t *l, int kind, int code, const kngx_upstream_t *u)
{
    kngx_er_loc_t  *a;
    size_t          i;

    for (i = 0; i < l->n; i++) {
        if (l->a[i].kind == kind && l->a[i].code == code
            && l->a[i].ups == u)
        {
            return;
        }
    }

    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        a = realloc(l->a, l->cap * sizeof(kngx_er_loc_t));
        if (a == NULL) {
            l->nomem = 1;
            return;
        }
        l->a = a;
    }

    l->a[l->n].kind = kind;
    l->a[l->n].code = code;
    l->a[l->n].ups = u;
    l->n++;
}


static int
kngx_er_cmp(const void *x, const void *y)
{
    const kngx_er_loc_t  *a = x, *b = y;
    int                   rc;

    if (a->kind != b->kind) {
        return a->kind - b->kind;
    }

    if (a->ups != b->ups) {
        rc = strcmp(a->ups ? a->ups->name : "", b->ups ? b->ups->name : "");
        if (rc) {
            return rc;
        }
    }

    return a->code - b->code;
}


static void
kngx_er_pass(kngx_buf_t *b, const kngx_plan_t *p, const kngx_upstream_t *u)
{
    if (p->dispatch && u->kind == KNGX_UPSTREAM_MODULE) {
        kngx_buf_printf(b, "        k8s_backend %s/%s port=%s;\n"
                        "        proxy_pass http://" KNGX_DISPATCH_NAME
                        "%s;\n", u->service->meta.ns, u->service->meta.name,
                        u->module_port, u->variant);
        return;
    }

    kngx_buf_printf(b, "        proxy_pass http://%s;\n", u->name);
}


/* one named location: ingress-nginx's headers for an error code, or the
 * default backend in place of the route's Service */
static void
kngx_er_location(kngx_buf_t *b, const kngx_plan_t *p, const kngx_er_loc_t *l)
{
    const kngx_upstream_t  *u = l->ups;

    switch (l->kind) {

    case KNGX_ER_LOC_ERROR:
        kngx_buf_printf(b, "    location @kubengx_error_%d {\n", l->code);
        if (u == NULL) {
            kngx_buf_printf(b, "        return %d;\n    }\n", l->code);
            return;
        }
        break;

    case KNGX_ER_LOC_CUSTOM:
        kngx_buf_printf(b, "    location @kubengx_custom_%d_%s {\n",
                        l->code, u->name);
        break;

    default:
        /* the request as it came, to the default backend; the answer's
         * status is the default backend's ("=" in error_page) */
        kngx_buf_printf(b, "    location @kubengx_defbe_%s {\n", u->name);
        kngx_er_pass(b, p, u);
        kngx_buf_printf(b, "    }\n");
        return;
    }

    /* the status stays the original code (error_page without "=") */
    kngx_buf_printf(b,
        "        proxy_intercept_errors off;\n"
        "        proxy_set_header X-Code %d;\n"
        "        proxy_set_header X-Format $http_accept;\n"
        "        proxy_set_header X-Original-URI $request_uri;\n"
        "        proxy_set_header X-Namespace $kubengx_err_ns;\n"
        "        proxy_set_header X-Ingress-Name $kubengx_err_ing;\n"
        "        proxy_set_header X-Service-Name $kubengx_err_svc;\n"
        "        proxy_set_header X-Service-Port $kubengx_err_port;\n"
        "        proxy_set_header X-Request-ID $request_id;\n"
        "        proxy_set_header Host $kubengx_host;\n"
        "        proxy_set_header X-Forwarded-For $remote_addr;\n"
        "        proxy_set_header Connection \"\";\n"
        "        rewrite ^ /? break;\n", l->code);
    kngx_er_pass(b, p, u);
    kngx_buf_printf(b, "    }\n");
}


void
kngx_ann_errors_server(kngx_buf_t *b, const kngx_plan_t *p,
    const kngx_settings_t *s, const kngx_server_t *srv)
{
    const kngx_ann_errors_t  *c;
    const kngx_upstream_t    *flag = kngx_ann_errors_ups(NULL, p);
    kngx_er_locs_t            l;
    const int                *codes;
    size_t                    i, j, n;
    int                       vars = 0;

    memset(&l, 0, sizeof(l));

    for (i = 0; i < s->ncustom_http_errors; i++) {
        kngx_er_add(&l, KNGX_ER_LOC_ERROR, s->custom_http_errors[i], flag);
    }

    for (i = 0; i < srv->nroutes; i++) {
        c = kngx_ann_errors_conf(srv->routes[i].target.ann);
        if (c == NULL) {
            continue;
        }

        codes = kngx_ann_errors_codes(c, s, &n);

        for (j = 0; j < n; j++) {
            if (c->target.action == KNGX_ACTION_PROXY) {
                kngx_er_add(&l, KNGX_ER_LOC_CUSTOM, codes[j],
                            c->target.upstream);
            } else {
                kngx_er_add(&l, KNGX_ER_LOC_ERROR, codes[j], flag);
            }
        }

        if (c->target.action == KNGX_ACTION_PROXY) {
            kngx_er_add(&l, KNGX_ER_LOC_DEFBE, 0, c->target.upstream);
        }
    }

    if (l.nomem) {
        b->nomem = 1;
        free(l.a);
        return;
    }

    if (l.n > 1) {
        qsort(l.a, l.n, sizeof(kngx_er_loc_t), kngx_er_cmp);
    }

    for (i = 0; i < l.n; i++) {
        vars |= l.a[i].kind != KNGX_ER_LOC_DEFBE && l.a[i].ups;
        kngx_er_location(b, p, &l.a[i]);
    }

    if (vars) {
        /* empty unless the location of the route sets them */
        kngx_buf_printf(b, "    set $kubengx_err_ns \"\";\n"
                        "    set $kubengx_err_ing \"\";\n"
                        "    set $kubengx_err_svc \"\";\n"
                        "    set $kubengx_err_port \"\";\n");
    }

    free(l.a);
}


const kngx_ann_family_t  kngx_ann_errors_family = {
    "errors", 17, sizeof(kngx_ann_errors_t),
    kngx_ann_errors_parse, NULL, NULL, NULL
};
