
/*
 * kubengx generator: paths and rules -> routes, default backends, and the
 * exact twins that keep nginx from redirecting.
 *
 * - Paths: ImplementationSpecific is Prefix, or, for an Ingress whose
 *   annotations ask (use-regex, rewrite-target), Prefix and
 *   ImplementationSpecific paths are regexes (route type
 *   IMPLEMENTATION_SPECIFIC, kept as written); Prefix paths lose trailing
 *   slashes ("/foo/" is "/foo"; "/" stays); Exact paths are kept as
 *   written.  The same host + path + type twice: the first (oldest) wins,
 *   the other gets a warning.  A refused path (escape.c) gets a warning
 *   and is not served.
 * - Default backend: the oldest served Ingress's spec.defaultBackend
 *   answers requests that match no route in the catch-all server and in
 *   the servers of that Ingress's own hosts (hosts it may add to, see
 *   plan_hosts.c); otherwise --default-backend; otherwise 404.
 * - The default-backend annotation: its Service's upstream, for the
 *   error pages of the Ingress's routes (annotations/errors.c).
 * - Twins: proxy_pass sets nginx's auto_redirect on a location whose name
 *   ends in "/", and nginx then answers "/p" with a 301 to "/p/" unless a
 *   location "= /p" exists, also for "location = /p/".  A Prefix "/p"
 *   renders "location /p/" and "location = /p" already (render.c); for an
 *   Exact "/p/" without an Exact or Prefix "/p", kngx_plan_twins() adds
 *   an Exact "/p" route with what the Ingress spec gives "/p": the
 *   longest Prefix route that covers it, else the server's default.
 */

#include <stdlib.h>
#include <string.h>

#include "plan_parts.h"


#define KNGX_DEFBE_FIELD  "metadata.annotations[" KNGX_ANN_PREFIX           \
                          "default-backend]"


/*
 * srv's routes by (path, type), so that a path finds an older route of
 * its host in constant time (a host may have 100,000 paths): open
 * addressing of route index + 1, covering routes[0..route_indexed); the
 * index is built on the first lookup and dropped with
 * kngx_route_index_free() when the rules are planned (the routes are
 * sorted after that).
 */

static size_t
kngx_route_slot(const kngx_server_t *srv, const char *path,
    kngx_path_type_e type)
{
    size_t  j, k, mask = srv->route_index_size - 1;

    j = (kngx_plan_hash(path) * 31 + type) & mask;

    while ((k = srv->route_index[j]) != 0
           && (srv->routes[k - 1].type != type
               || strcmp(srv->routes[k - 1].path, path) != 0))
    {
        j = (j + 1) & mask;
    }

    return j;
}


static int
kngx_route_index_update(kngx_server_t *srv)
{
    size_t  size, i, j;

    if ((srv->nroutes + 1) * 2 > srv->route_index_size) {
        size = srv->route_index_size ? srv->route_index_size : 16;
        while ((srv->nroutes + 1) * 2 > size) {
            size *= 2;
        }

        free(srv->route_index);
        srv->route_index = calloc(size, sizeof(size_t));
        if (srv->route_index == NULL) {
            srv->route_index_size = 0;
            srv->route_indexed = 0;
            return -1;
        }

        srv->route_index_size = size;
        srv->route_indexed = 0;
    }

    for (i = srv->route_indexed; i < srv->nroutes; i++) {
        j = kngx_route_slot(srv, srv->routes[i].path, srv->routes[i].type);
        if (srv->route_index[j] == 0) {
            srv->route_index[j] = i + 1;
        }
    }

    srv->route_indexed = srv->nroutes;

    return 0;
}


void
kngx_route_index_free(kngx_server_t *srv)
{
    free(srv->route_index);
    srv->route_index = NULL;
    srv->route_index_size = 0;
    srv->route_indexed = 0;
}


/* the route (path, type) of srv; NULL if none; -1 in *rc: no memory */
static kngx_route_t *
kngx_route_find(kngx_server_t *srv, const char *path, kngx_path_type_e type,
    int *rc)
{
    size_t  k;

    *rc = kngx_route_index_update(srv);
    if (*rc != 0) {
        return NULL;
    }

    k = srv->route_index[kngx_route_slot(srv, path, type)];

    return k ? &srv->routes[k - 1] : NULL;
}


int
kngx_route_append(kngx_server_t *srv, const kngx_route_t *r)
{
    kngx_route_t  *routes;
    size_t         cap;

    if (srv->nroutes == srv->routes_cap) {
        cap = srv->routes_cap ? srv->routes_cap * 2 : 8;
        routes = realloc(srv->routes, cap * sizeof(kngx_route_t));
        if (routes == NULL) {
            return -1;
        }
        srv->routes = routes;
        srv->routes_cap = cap;
    }

    srv->routes[srv->nroutes++] = *r;

    return 0;
}


static int
kngx_plan_path(kngx_plan_t *p, const kngx_ingress_t *ing,
    const kngx_ingress_path_t *ip, kngx_server_t *srv, const char *host)
{
    kngx_route_t         r, *old;
    kngx_path_type_e     type;
    const kngx_ann_t    *ann = kngx_plan_ann(p, ing);
    const char          *why;
    char                *path;
    size_t               len;
    unsigned             groups;
    int                  rc;

    type = ip->type == KNGX_PATH_EXACT ? KNGX_PATH_EXACT : KNGX_PATH_PREFIX;

    if (type == KNGX_PATH_PREFIX && kngx_ann_regex(ann)) {
        /* a regex (annotations/rewrite.c): checked as one, kept as is */
        type = KNGX_PATH_IMPLEMENTATION_SPECIFIC;

        if (kngx_ann_regex_check(ip->path, &groups, &why) != 0) {
            return kngx_plan_warn(p, ing, ip->field, ip->line, "bad-path",
                                  "regex path %s %s; not served",
                                  kngx_msg_quote(ip->path), why);
        }

        if (!kngx_ann_regex_groups_ok(ann, groups)) {
            return kngx_plan_warn(p, ing, ip->field, ip->line, "bad-path",
                       "regex path %s has %u capture groups, fewer than "
                       "the rewrite-target names; not served",
                       kngx_msg_quote(ip->path), groups);
        }

    } else if (kngx_path_check(ip->path, &why) != 0) {
        return kngx_plan_warn(p, ing, ip->field, ip->line, "bad-path",
                              "path %s %s; not served",
                              kngx_msg_quote(ip->path), why);
    }

    path = kube_arena_strdup(p->arena, ip->path);
    if (path == NULL) {
        return -1;
    }

    if (type == KNGX_PATH_PREFIX) {
        len = strlen(path);
        while (len > 1 && path[len - 1] == '/') {
            path[--len] = '\0';
        }
    }

    old = kngx_route_find(srv, path, type, &rc);
    if (rc != 0) {
        return -1;
    }

    if (old && kngx_ingress_is_canary(ing)) {
        return kngx_plan_canary(p, ing, ip, old, host);
    }

    if (old) {
        return kngx_plan_warn(p, ing, ip->field, ip->line, "conflict",
                   "%s path %s on %s is already routed by the older "
                   "Ingress %s/%s; ignored", kngx_path_type_name(type),
                   kngx_msg_quote(path), host ? host : "every host",
                   old->target.ingress->meta.ns,
                   old->target.ingress->meta.name);
    }

    if (kngx_ingress_is_canary(ing)) {
        return kngx_plan_warn(p, ing, ip->field, ip->line, "canary",
                   "canary Ingress: no Ingress routes %s path %s on %s; "
                   "not served", kngx_path_type_name(type),
                   kngx_msg_quote(path), host ? host : "every host");
    }

    memset(&r, 0, sizeof(r));

    rc = kngx_plan_target(p, ing, ing->meta.ns, &ip->backend, &r.target);
    if (rc != 0) {
        return rc < 0 ? -1 : 0;
    }

    if (kngx_plan_affinity(p, ing, path, &r.affinity) != 0) {
        return -1;
    }

    r.path = path;
    r.type = type;
    r.src = ip;
    r.hostless = (host == NULL);

    return kngx_route_append(srv, &r);
}


/*
 * The default-backend annotation (annotations/errors.c): a Service of the
 * Ingress's namespace, its first port, spoken to in plain HTTP as
 * --default-backend is.  Not found, without ports, or an ExternalName:
 * a warning, and the routes go without it.
 */
static int
kngx_plan_ann_default(kngx_plan_t *p, const kngx_ingress_t *ing)
{
    kngx_target_t         *t;
    kngx_backend_t        *be;
    const kngx_service_t  *svc;
    const char            *name, *why = NULL;

    t = kngx_ann_default_backend(kngx_plan_ann(p, ing), &name);
    if (t == NULL) {
        return 0;
    }

    t->action = KNGX_ACTION_NOT_FOUND;      /* none */

    if (name == NULL || kngx_ingress_is_canary(ing)) {
        return 0;
    }

    svc = kngx_model_service(p->model, ing->meta.ns, name);

    if (svc == NULL) {
        why = "is not in the input";
    } else if (svc->type == KNGX_SVC_EXTERNAL_NAME) {
        why = "is an ExternalName";
    } else if (svc->nports == 0) {
        why = "has no ports";
    }

    if (why) {
        return kngx_plan_warn(p, ing, KNGX_DEFBE_FIELD, 0, "no-service",
                              "Service %s/%s %s; the routes go without a "
                              "default backend", ing->meta.ns, name, why);
    }

    be = kube_arena_calloc(p->arena, 1, sizeof(kngx_backend_t));
    if (be == NULL) {
        return -1;
    }

    be->kind = KNGX_BACKEND_SERVICE;
    be->field = KNGX_DEFBE_FIELD;
    be->service = name;

    if (svc->ports[0].name[0]) {
        be->port_name = svc->ports[0].name;
    } else {
        be->port_number = svc->ports[0].port;
    }

    if (kngx_plan_target(p, NULL, ing->meta.ns, be, t) < 0) {
        return -1;
    }

    return 0;
}


int
kngx_plan_ingress_rules(kngx_plan_t *p, const kngx_ingress_t *ing)
{
    const kngx_ingress_rule_t  *rule;
    kngx_server_t              *srv;
    const char                 *why;
    char                        host[256];
    size_t                      i, j;

    if (kngx_plan_ann_default(p, ing) != 0) {
        return -1;
    }

    for (i = 0; i < ing->nrules; i++) {
        rule = &ing->rules[i];

        if (rule->host) {
            if (kngx_host_check(rule->host, host, sizeof(host), &why) != 0) {
                if (kngx_plan_warn(p, ing, rule->field, rule->line,
                        "bad-host", "host %s %s; rule not served",
                        kngx_msg_quote(rule->host), why) != 0)
                {
                    return -1;
                }
                continue;
            }

            srv = kngx_plan_server(p, host);
            if (srv == NULL) {
                return -1;
            }

            if (!kngx_plan_host_allowed(p, srv, ing->meta.ns)) {
                if (kngx_plan_refuse_host(p, ing, srv, rule->field,
                                          rule->line) != 0)
                {
                    return -1;
                }
                continue;
            }

            srv->routed_by = ing;

        } else {
            srv = &p->catch_all;
        }

        for (j = 0; j < rule->npaths; j++) {
            if (kngx_plan_path(p, ing, &rule->paths[j], srv,
                               rule->host ? srv->host : NULL) != 0)
            {
                return -1;
            }
        }
    }

    return 0;
}


/* ---- default backends ---------------------------------------------------- */

int
kngx_plan_defaults(kngx_plan_t *p, const kngx_ingress_t *ing)
{
    kngx_target_t   t;
    kngx_server_t  *srv;
    char            host[256];
    const char     *why;
    size_t          i;
    int             rc;

    if (ing->default_backend.kind == KNGX_BACKEND_NONE) {
        return 0;
    }

    rc = kngx_plan_target(p, ing, ing->meta.ns, &ing->default_backend, &t);
    if (rc != 0) {
        return rc < 0 ? -1 : 0;
    }

    if (p->catch_all.has_default) {
        if (kngx_plan_warn(p, ing, "spec.defaultBackend",
                ing->default_backend.line, "conflict",
                "the default backend of the older Ingress %s/%s answers "
                "requests for unknown hosts; this one only those for its "
                "own hosts", p->catch_all.default_owner->meta.ns,
                p->catch_all.default_owner->meta.name) != 0)
        {
            return -1;
        }

    } else {
        p->catch_all.has_default = 1;
        p->catch_all.default_target = t;
        p->catch_all.default_owner = ing;
    }

    for (i = 0; i < ing->nrules; i++) {
        if (ing->rules[i].host == NULL
            || kngx_host_check(ing->rules[i].host, host, sizeof(host), &why)
               != 0)
        {
            continue;
        }

        srv = kngx_plan_server(p, host);
        if (srv == NULL) {
            return -1;
        }

        if (!srv->has_default
            && kngx_plan_host_allowed(p, srv, ing->meta.ns))
        {
            srv->has_default = 1;
            srv->default_target = t;
            srv->default_owner = ing;
        }
    }

    return 0;
}


static int kngx_plan_flag_target(kngx_plan_t *p, kngx_target_t *t);


/* --default-backend, also kept in p->flag_default (annotations/errors.c) */
int
kngx_plan_flag_default(kngx_plan_t *p, kngx_target_t *t)
{
    int  rc;

    rc = kngx_plan_flag_target(p, t);
    p->flag_default = *t;

    return rc;
}


static int
kngx_plan_flag_target(kngx_plan_t *p, kngx_target_t *t)
{
    const char      *s = p->opts.default_backend;
    const char      *slash, *colon, *why;
    kngx_backend_t  *be;
    char            *ns, *end;
    long             n;

    memset(t, 0, sizeof(kngx_target_t));
    t->action = KNGX_ACTION_NOT_FOUND;

    if (s == NULL) {
        return 0;
    }

    slash = strchr(s, '/');
    colon = strrchr(s, ':');

    if (slash == NULL || colon == NULL || colon < slash || slash == s
        || colon == slash + 1 || colon[1] == '\0')
    {
        return kngx_plan_error(p, "--default-backend %s: expected "
                               "NAMESPACE/SERVICE:PORT", kngx_msg_quote(s));
    }

    be = kube_arena_calloc(p->arena, 1, sizeof(kngx_backend_t));
    ns = kube_arena_strndup(p->arena, s, (size_t) (slash - s));
    if (be == NULL || ns == NULL) {
        return -1;
    }

    be->kind = KNGX_BACKEND_SERVICE;
    be->field = "--default-backend";
    be->service = kube_arena_strndup(p->arena, slash + 1,
                                     (size_t) (colon - slash - 1));
    if (be->service == NULL) {
        return -1;
    }

    n = strtol(colon + 1, &end, 10);
    if (*end == '\0' && n >= 1 && n <= 65535) {
        be->port_number = (int) n;
    } else {
        be->port_name = colon + 1;
    }

    /* a flag is not a manifest: a bad value is an error, not a warning */

    if (kngx_dns_name_check(ns, &why) != 0
        || kngx_dns_name_check(be->service, &why) != 0
        || (be->port_name && kngx_dns_name_check(be->port_name, &why) != 0))
    {
        return kngx_plan_error(p, "--default-backend %s: %s",
                               kngx_msg_quote(s), why);
    }

    if (kngx_plan_target(p, NULL, ns, be, t) < 0) {
        return -1;
    }

    return 0;
}


int
kngx_route_cmp(const void *a, const void *b)
{
    const kngx_route_t  *x = a, *y = b;
    int                  rc = strcmp(x->path, y->path);

    return rc ? rc : (int) x->type - (int) y->type;
}


/* ---- exact twins --------------------------------------------------------- */

/* the route (path, type) in srv's sorted routes[0..n), or NULL */
const kngx_route_t *
kngx_route_lookup(const kngx_server_t *srv, size_t n, const char *path,
    kngx_path_type_e type)
{
    kngx_route_t  key;

    memset(&key, 0, sizeof(key));
    key.path = path;
    key.type = type;

    return n ? bsearch(&key, srv->routes, n, sizeof(kngx_route_t),
                       kngx_route_cmp)
             : NULL;
}


/*
 * What a request for path gets when no Exact route names it: the longest
 * Prefix route of srv that covers it (element-wise), or the default.
 */
static kngx_target_t
kngx_plan_prefix_target(const kngx_server_t *srv, size_t n, char *path)
{
    const kngx_route_t  *r;
    char                *slash;

    for ( ;; ) {
        r = kngx_route_lookup(srv, n, path[0] ? path : "/",
                              KNGX_PATH_PREFIX);
        if (r) {
            return r->target;
        }

        if (path[0] == '\0') {
            return srv->default_target;
        }

        slash = strrchr(path, '/');
        *slash = '\0';
    }
}


/*
 * Add the twin of every Exact "/p/" route that has no Exact or Prefix
 * "/p" (paths never hold "//", so "/p" does not end in "/").  srv's
 * routes are sorted; they are sorted again when twins were added.
 */
int
kngx_plan_twins(kngx_plan_t *p, kngx_server_t *srv)
{
    kngx_route_t  twin;
    size_t        i, n = srv->nroutes, len;
    char         *path;

    for (i = 0; i < n; i++) {
        if (srv->routes[i].type != KNGX_PATH_EXACT) {
            continue;
        }

        len = strlen(srv->routes[i].path);

        if (len < 2 || srv->routes[i].path[len - 1] != '/') {
            continue;
        }

        path = kube_arena_strndup(p->arena, srv->routes[i].path, len - 1);
        if (path == NULL) {
            return -1;
        }

        if (kngx_route_lookup(srv, n, path, KNGX_PATH_EXACT)
            || kngx_route_lookup(srv, n, path, KNGX_PATH_PREFIX))
        {
            continue;
        }

        memset(&twin, 0, sizeof(kngx_route_t));
        twin.type = KNGX_PATH_EXACT;
        twin.twin = 1;
        twin.hostless = srv->routes[i].hostless;

        /* the search cuts its copy element by element */
        twin.target = kngx_plan_prefix_target(srv, n, path);

        twin.path = kube_arena_strndup(p->arena, srv->routes[i].path,
                                       len - 1);
        if (twin.path == NULL || kngx_route_append(srv, &twin) != 0) {
            return -1;
        }
    }

    if (srv->nroutes > n) {
        qsort(srv->routes, srv->nroutes, sizeof(kngx_route_t),
              kngx_route_cmp);
    }

    return 0;
}
