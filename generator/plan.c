
/*
 * kubengx generator: the route plan (model -> servers, routes, upstreams,
 * certificates), with every decision of the routing semantics.  This
 * file selects the Ingresses and runs the steps in order; the steps live
 * in plan_hosts.c, plan_routes.c, plan_upstream.c and plan_tls.c
 * (plan_parts.h):
 *
 * - Ingresses: those kngx_ingress_is_ours() accepts, oldest first
 *   (creationTimestamp; objects without one count as newest; then
 *   namespace/name).  Earlier ones win every conflict.
 * - Hosts: validated and lowercased (escape.c); "*.foo.com" becomes a
 *   wildcard server matching exactly one extra label.  A bad host skips
 *   its rule with a warning.  Exact hosts and wildcards are separate
 *   servers (nginx picks the exact name first); a wildcard's routes are
 *   not merged into exact hosts under it.  Who may add to a host:
 *   plan_hosts.c (--host-ownership).
 * - Paths, default backends, exact twins: plan_routes.c.
 * - Rules without host: served by the catch-all server, and merged into
 *   every named host's server (that their namespace may add to) with
 *   lower precedence than that host's own routes: a host-less route is
 *   added to a host only when none of the host's own routes matches any
 *   request it would match (no own Prefix route at or above its path,
 *   and no own route with the same path and type).  So a host with its
 *   own "/" never sees host-less routes, and a host with "/api" still
 *   gets a host-less "/static".  Host-less regex routes (annotations)
 *   stay in the catch-all: nginx would try them before the host's own.
 * - Backends: plan_upstream.c.  A missing Service or port, a Service
 *   without endpoints (static mode), a bad ExternalName: 503 and a
 *   warning.  resource backends: a warning, not served.
 * - TLS: plan_tls.c.
 * - Canary Ingresses (nginx.ingress.kubernetes.io/canary "true") are
 *   planned after all others: each of their paths becomes the canary of
 *   the route with the same host, path and type (plan_canary.c), never a
 *   route of its own; their spec.tls and default backends are not
 *   served.
 * - Annotations: parsed per served Ingress when it is selected
 *   (annotations/); one with a bad value, or with access control kubengx
 *   does not implement, is not served.  Routes point at their Ingress's
 *   parsed annotations (target.ann), which render.c asks for their
 *   directives.
 */

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "plan_parts.h"


int
kngx_plan_warn(kngx_plan_t *p, const kngx_ingress_t *ing, const char *field,
    unsigned line, const char *code, const char *fmt, ...)
{
    char     buf[768], obj[320];
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);

    if (ing) {
        snprintf(obj, sizeof(obj), "%s/%s", ing->meta.ns, ing->meta.name);
    }

    return kngx_diag_add(&p->diags, p->arena, KNGX_DIAG_WARNING,
                         ing ? &ing->meta.src : NULL, line,
                         ing ? obj : NULL, field, code, "%s", buf);
}


int
kngx_plan_error(kngx_plan_t *p, const char *fmt, ...)
{
    char     buf[512];
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);

    p->failed = 1;

    return kngx_diag_add(&p->diags, p->arena, KNGX_DIAG_ERROR, NULL, 0, NULL,
                         NULL, "bad-option", "%s", buf);
}


/* ---- helpers ------------------------------------------------------------ */

uint32_t
kngx_plan_hash(const char *s)
{
    uint32_t  h = 2166136261u;

    for ( /* void */ ; *s; s++) {
        h = (h ^ (unsigned char) *s) * 16777619u;
    }

    return h;
}


const kngx_ann_t *
kngx_plan_ann(const kngx_plan_t *p, const kngx_ingress_t *ing)
{
    kngx_ann_t *const  *anns = p->anns;

    if (ing == NULL || anns == NULL) {
        return NULL;
    }

    return anns[ing - p->model->ingresses];
}


/* ---- build --------------------------------------------------------------- */

static int
kngx_ing_age_cmp(const void *a, const void *b)
{
    const kngx_ingress_t  *x = *(const kngx_ingress_t *const *) a;
    const kngx_ingress_t  *y = *(const kngx_ingress_t *const *) b;
    int64_t                tx, ty;
    int                    rc;

    tx = x->meta.has_creation ? x->meta.creation_ms : INT64_MAX;
    ty = y->meta.has_creation ? y->meta.creation_ms : INT64_MAX;

    if (tx != ty) {
        return tx < ty ? -1 : 1;
    }

    rc = strcmp(x->meta.ns, y->meta.ns);

    return rc ? rc : strcmp(x->meta.name, y->meta.name);
}


static int
kngx_server_cmp(const void *a, const void *b)
{
    const kngx_server_t  *x = a, *y = b;

    if (x->wildcard != y->wildcard) {
        return x->wildcard ? 1 : -1;
    }

    return strcmp(x->host, y->host);
}


static int
kngx_upstream_cmp(const void *a, const void *b)
{
    return strcmp((*(kngx_upstream_t *const *) a)->name,
                  (*(kngx_upstream_t *const *) b)->name);
}


static int
kngx_cert_cmp(const void *a, const void *b)
{
    return strcmp(((const kngx_cert_t *) a)->name,
                  ((const kngx_cert_t *) b)->name);
}


int
kngx_upstreams_mode_parse(const char *s, kngx_upstreams_mode_e *mode)
{
    if (strcmp(s, "auto") == 0) {
        *mode = KNGX_UPSTREAMS_AUTO;

    } else if (strcmp(s, "per-service") == 0) {
        *mode = KNGX_UPSTREAMS_PER_SERVICE;

    } else if (strcmp(s, "dispatch") == 0) {
        *mode = KNGX_UPSTREAMS_DISPATCH;

    } else {
        return -1;
    }

    return 0;
}


int
kngx_host_ownership_parse(const char *s, kngx_host_ownership_e *mode)
{
    if (strcmp(s, "namespace") == 0) {
        *mode = KNGX_HOST_OWNERSHIP_NAMESPACE;

    } else if (strcmp(s, "merge") == 0) {
        *mode = KNGX_HOST_OWNERSHIP_MERGE;

    } else {
        return -1;
    }

    return 0;
}


/*
 * With --endpoints module: count the Service-port upstreams (one per
 * Service port and balancing method) and choose the form: dispatch when
 * asked, or with auto when there are more than KNGX_DISPATCH_THRESHOLD.
 */
static void
kngx_plan_dispatch(kngx_plan_t *p)
{
    size_t  i;

    p->nservice_ports = 0;
    p->dispatch = 0;

    if (p->opts.endpoints != KNGX_ENDPOINTS_MODULE) {
        return;
    }

    for (i = 0; i < p->nupstreams; i++) {
        if (p->upstreams[i]->kind == KNGX_UPSTREAM_MODULE
            && !p->upstreams[i]->empty)
        {
            p->nservice_ports++;
        }
    }

    switch (p->opts.upstreams) {

    case KNGX_UPSTREAMS_DISPATCH:
        p->dispatch = 1;
        break;

    case KNGX_UPSTREAMS_PER_SERVICE:
        break;

    default:
        p->dispatch = p->nservice_ports > KNGX_DISPATCH_THRESHOLD;
        break;
    }
}


/* strcmp(ns "/" name, s) without building the key */

static int
kngx_plan_exclude_cmp(const void *key, const void *elt)
{
    const kngx_ingress_t  *ing = key;
    const unsigned char   *s = *(const unsigned char *const *) elt;
    const unsigned char   *a;
    const char            *part[3];
    int                    i;

    part[0] = ing->meta.ns;
    part[1] = "/";
    part[2] = ing->meta.name;

    for (i = 0; i < 3; i++) {
        for (a = (const unsigned char *) part[i]; *a; a++, s++) {
            if (*a != *s) {
                return *a - *s;
            }
        }
    }

    return -*s;
}


/* whether a route or the default of srv proxies to an ExternalName */
static void
kngx_plan_mark_external(kngx_server_t *srv)
{
    const kngx_target_t  *t;
    size_t                i;

    for (i = 0; i <= srv->nroutes; i++) {
        t = i < srv->nroutes ? &srv->routes[i].target : &srv->default_target;

        if (t->action == KNGX_ACTION_PROXY
            && t->upstream->kind == KNGX_UPSTREAM_EXTERNAL)
        {
            srv->external = 1;
        }
    }
}


/* the Ingresses served (opts.exclude and class), oldest first */
static int
kngx_plan_select(kngx_plan_t *p)
{
    const kngx_model_t  *m = p->model;
    kngx_class_opts_t    co;
    kngx_ann_t         **anns = NULL;
    const char          *why;
    size_t               i;
    int                  rc;

    co.class_name = p->opts.class_name;
    co.controller = p->opts.controller;
    co.watch_without_class = p->opts.watch_without_class;

    if (m->ningresses) {
        p->ingresses = kube_arena_calloc(p->arena, m->ningresses,
                                         sizeof(kngx_ingress_t *));
        anns = kube_arena_calloc(p->arena, m->ningresses,
                                 sizeof(kngx_ann_t *));
        if (p->ingresses == NULL || anns == NULL) {
            return -1;
        }
        p->anns = anns;
    }

    for (i = 0; i < m->ningresses; i++) {
        if (p->opts.nexclude
            && bsearch(&m->ingresses[i], p->opts.exclude, p->opts.nexclude,
                       sizeof(char *), kngx_plan_exclude_cmp))
        {
            continue;       /* the caller leaves it out (opts.exclude) */
        }

        if (kngx_ingress_is_ours(m, &co, &m->ingresses[i], &why)) {
            if (kngx_ann_parse(p->arena, &p->diags, m, &m->ingresses[i],
                               p->opts.unsupported_ignore, &anns[i])
                != 0)
            {
                return -1;
            }

            /* the annotations said why (their warnings) */
            if (anns[i]->refused || anns[i]->fail_closed) {
                continue;
            }

            rc = kngx_plan_backend_ssl(p, &m->ingresses[i], anns[i]);
            if (rc < 0) {
                return -1;
            }

            if (rc == 0) {
                p->ingresses[p->ningresses++] = &m->ingresses[i];

                /* an auth-url or mirror-target host resolved per
                 * request */
                if ((kngx_ann_ext_resolver(anns[i])
                     || kngx_ann_mirror_resolver(anns[i]))
                    && kngx_plan_resolver(p) != 0)
                {
                    return -1;
                }
            }

        } else if (kngx_diag_add(&p->diags, p->arena, KNGX_DIAG_INFO,
                                 &m->ingresses[i].meta.src, 0, NULL, NULL,
                                 "not-ours", "Ingress %s/%s ignored: %s",
                                 m->ingresses[i].meta.ns,
                                 m->ingresses[i].meta.name, why) != 0)
        {
            return -1;
        }
    }

    if (p->ningresses > 1) {
        qsort(p->ingresses, p->ningresses, sizeof(kngx_ingress_t *),
              kngx_ing_age_cmp);
    }

    return 0;
}


/*
 * http -> https per host, as the annotations of the Ingress that owns
 * the host's tls entry (else the host) ask (annotations/redirect.c):
 * ssl-redirect "false" serves http too; force-ssl-redirect "true"
 * redirects even without a certificate.
 */
static void
kngx_plan_ssl_redirect(kngx_plan_t *p, kngx_server_t *srv)
{
    const kngx_ingress_t  *ing;

    ing = srv->tls_owner ? srv->tls_owner : srv->owner;

    switch (kngx_ann_ssl_redirect(kngx_plan_ann(p, ing))) {
    case 0:
        srv->redirect = 0;
        break;
    case 2:
        srv->redirect = 1;
        break;
    default:
        break;
    }
}


/* a server's routes complete: defaults, host-less routes, twins */
static int
kngx_plan_finish_server(kngx_plan_t *p, kngx_server_t *srv,
    const kngx_target_t *flag_default)
{
    if (!srv->has_default) {
        srv->default_target = *flag_default;
    }

    if (srv != &p->catch_all && kngx_plan_merge_hostless(p, srv) != 0) {
        return -1;
    }

    if (srv->nroutes > 1) {
        qsort(srv->routes, srv->nroutes, sizeof(kngx_route_t),
              kngx_route_cmp);
    }

    if (kngx_plan_twins(p, srv) != 0) {
        return -1;
    }

    kngx_plan_mark_external(srv);

    if (srv != &p->catch_all) {
        kngx_plan_ssl_redirect(p, srv);
    }

    return 0;
}


/* servers, upstreams and certificates in their output order */
static void
kngx_plan_sort(kngx_plan_t *p)
{
    size_t  i;

    if (p->nservers > 1) {
        qsort(p->servers, p->nservers, sizeof(kngx_server_t),
              kngx_server_cmp);
    }

    if (p->nupstreams > 1) {
        qsort(p->upstreams, p->nupstreams, sizeof(kngx_upstream_t *),
              kngx_upstream_cmp);
    }

    if (p->ncerts > 1) {
        qsort(p->certs, p->ncerts, sizeof(kngx_cert_t), kngx_cert_cmp);
    }

    /* certs moved (realloc, sort) */
    p->default_cert = NULL;

    for (i = 0; i < p->ncerts; i++) {
        if (p->default_cert_name
            && strcmp(p->certs[i].name, p->default_cert_name) == 0)
        {
            p->default_cert = &p->certs[i];
        }
    }

    kngx_diags_sort(&p->diags);
}


static int
kngx_plan_run(kngx_plan_t *p)
{
    kngx_target_t  flag_default;
    size_t         i;
    int            pass;

    if (kngx_plan_default_cert(p) != 0 || kngx_plan_flag_default(p,
                                                         &flag_default) != 0
        || (p->opts.resolver && kngx_plan_resolver(p) != 0))
    {
        return -1;
    }

    if (kngx_plan_select(p) != 0 || kngx_plan_claims(p) != 0) {
        return -1;
    }

    /* canary Ingresses after all others: they join their routes */

    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < p->ningresses; i++) {
            if (kngx_ingress_is_canary(p->ingresses[i]) != pass) {
                continue;
            }

            /* tls right after the rules: a tls entry needs a rule of its
             * Ingress for the host; a canary's tls is its primary's */
            if (kngx_plan_ingress_rules(p, p->ingresses[i]) != 0
                || (pass == 0 && kngx_plan_tls(p, p->ingresses[i]) != 0))
            {
                return -1;
            }
        }
    }

    for (i = 0; i < p->nservers; i++) {
        kngx_route_index_free(&p->servers[i]);
    }

    kngx_route_index_free(&p->catch_all);

    for (i = 0; i < p->ningresses; i++) {
        if (kngx_ingress_is_canary(p->ingresses[i])) {
            /* a canary serves only its primaries' paths */
            continue;
        }

        if (kngx_plan_defaults(p, p->ingresses[i]) != 0) {
            return -1;
        }
    }

    /* the host-less routes are merged into the hosts before the
     * catch-all server gets its twins */

    for (i = 0; i < p->nservers; i++) {
        if (kngx_plan_finish_server(p, &p->servers[i], &flag_default) != 0)
        {
            return -1;
        }
    }

    if (kngx_plan_finish_server(p, &p->catch_all, &flag_default) != 0) {
        return -1;
    }

    /* client certificates: per host (annotations/auth_tls.c) */
    for (i = 0; i < p->nservers; i++) {
        if (kngx_ann_tls_plan(p, &p->servers[i]) != 0) {
            return -1;
        }
    }

    if (kngx_ann_tls_plan(p, &p->catch_all) != 0
        || kngx_ann_www_plan(p) != 0)
    {
        return -1;
    }

    kngx_plan_sort(p);
    kngx_plan_dispatch(p);

    free(p->host_index);
    p->host_index = NULL;
    p->host_index_size = 0;
    free(p->ups_index);
    p->ups_index = NULL;
    p->ups_index_size = 0;

    return 0;
}


kngx_plan_t *
kngx_plan_build(const kngx_model_t *m, const kngx_plan_opts_t *o)
{
    kngx_plan_t  *p;

    p = calloc(1, sizeof(kngx_plan_t));
    if (p == NULL) {
        return NULL;
    }

    p->arena = kube_arena_create(NULL, 64 * 1024);
    if (p->arena == NULL) {
        free(p);
        return NULL;
    }

    p->model = m;
    p->opts = *o;

    if (p->opts.class_name == NULL) {
        p->opts.class_name = "kubengx";
    }

    if (p->opts.controller == NULL) {
        p->opts.controller = "kubengx.io/ingress-controller";
    }

    if (kngx_plan_run(p) != 0) {
        kngx_plan_free(p);
        return NULL;
    }

    return p;
}


void
kngx_plan_free(kngx_plan_t *p)
{
    size_t  i;

    if (p == NULL) {
        return;
    }

    for (i = 0; i < p->nservers; i++) {
        kngx_route_index_free(&p->servers[i]);
        free(p->servers[i].routes);
    }

    kngx_route_index_free(&p->catch_all);
    free(p->catch_all.routes);
    free(p->servers);
    free(p->upstreams);
    free(p->certs);
    free(p->secret_info);
    free(p->host_index);
    free(p->ups_index);
    kngx_diags_free(&p->diags);
    kube_arena_destroy(p->arena);
    free(p);
}
