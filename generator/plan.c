
/*
 * kubengx generator: the route plan (model -> servers, routes, upstreams,
 * certificates), with every decision of the routing semantics
 * (DESIGN.md "Routing semantics"):
 *
 * - Ingresses: those kngx_ingress_is_ours() accepts, oldest first
 *   (creationTimestamp; objects without one count as newest; then
 *   namespace/name).  Earlier ones win every conflict.
 * - Hosts: validated and lowercased (escape.c); "*.foo.com" becomes a
 *   wildcard server matching exactly one extra label.  A bad host skips
 *   its rule with a warning.  Exact hosts and wildcards are separate
 *   servers (nginx picks the exact name first); a wildcard's routes are
 *   not merged into exact hosts under it.
 * - Paths: ImplementationSpecific is Prefix; Prefix paths lose trailing
 *   slashes ("/foo/" is "/foo"; "/" stays); Exact paths are kept as
 *   written.  The same host + path + type twice: the first (oldest) wins,
 *   the other gets a warning.  A refused path (escape.c) gets a warning
 *   and is not served.
 * - Rules without host: served by the catch-all server, and merged into
 *   every named host's server with lower precedence than that host's own
 *   routes: a host-less route is added to a host only when none of the
 *   host's own routes matches any request it would match (no own Prefix
 *   route at or above its path, and no own route with the same path and
 *   type).  So a host with its own "/" never sees host-less routes, and a
 *   host with "/api" still gets a host-less "/static".
 * - Default backend: the oldest served Ingress's spec.defaultBackend
 *   answers requests that match no route in the catch-all server and in
 *   the servers of that Ingress's own hosts; otherwise --default-backend;
 *   otherwise 404.
 * - Backends: see kngx_plan_target().  A missing Service or port, a
 *   Service without endpoints (static mode), a bad ExternalName: 503 and
 *   a warning.  resource backends: a warning, not served.
 * - TLS: spec.tls hosts get an https server with the certificate of the
 *   oldest Ingress naming them.  The Secret must hold PEM tls.crt and
 *   tls.key; when it is missing or unusable, or secretName is absent, the
 *   --default-certificate is used (with a warning when a named Secret
 *   was not usable); with no default certificate, https is not served
 *   for that host (warning) and http is not redirected.  Hosts served
 *   over https get an http -> https 308 redirect.
 */

#include <ctype.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "escape.h"


static int kngx_plan_warn(kngx_plan_t *p, const kngx_ingress_t *ing,
    const char *field, unsigned line, const char *code, const char *fmt,
    ...) KNGX_PRINTF(6, 7);


static int
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


static int kngx_plan_error(kngx_plan_t *p, const char *fmt, ...)
    KNGX_PRINTF(2, 3);


static int
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


/* ---- servers by host ----------------------------------------------------- */

static uint32_t
kngx_hash(const char *s)
{
    uint32_t  h = 2166136261u;

    for ( /* void */ ; *s; s++) {
        h = (h ^ (unsigned char) *s) * 16777619u;
    }

    return h;
}


static int
kngx_host_index_grow(kngx_plan_t *p)
{
    size_t   size, i, j, *idx;

    size = p->host_index_size ? p->host_index_size * 2 : 256;
    idx = calloc(size, sizeof(size_t));
    if (idx == NULL) {
        return -1;
    }

    for (i = 0; i < p->nservers; i++) {
        j = kngx_hash(p->servers[i].host) & (size - 1);
        while (idx[j]) {
            j = (j + 1) & (size - 1);
        }
        idx[j] = i + 1;
    }

    free(p->host_index);
    p->host_index = idx;
    p->host_index_size = size;

    return 0;
}


/* the server of a (valid, lowercased) host; NULL on out of memory */
static kngx_server_t *
kngx_plan_server(kngx_plan_t *p, const char *host)
{
    kngx_server_t  *srv;
    size_t          j, *idx, cap;

    if (p->nservers * 2 >= p->host_index_size) {
        if (kngx_host_index_grow(p) != 0) {
            return NULL;
        }
    }

    idx = p->host_index;
    j = kngx_hash(host) & (p->host_index_size - 1);

    while (idx[j]) {
        if (strcmp(p->servers[idx[j] - 1].host, host) == 0) {
            return &p->servers[idx[j] - 1];
        }
        j = (j + 1) & (p->host_index_size - 1);
    }

    if (p->nservers == p->servers_cap) {
        cap = p->servers_cap ? p->servers_cap * 2 : 16;
        srv = realloc(p->servers, cap * sizeof(kngx_server_t));
        if (srv == NULL) {
            return NULL;
        }
        p->servers = srv;
        p->servers_cap = cap;
    }

    srv = &p->servers[p->nservers];
    memset(srv, 0, sizeof(kngx_server_t));

    srv->host = kube_arena_strdup(p->arena, host);
    if (srv->host == NULL) {
        return NULL;
    }

    srv->wildcard = (host[0] == '*');
    idx[j] = ++p->nservers;

    return srv;
}


/* ---- upstreams and targets ----------------------------------------------- */

static int
kngx_addr_port(kube_arena_t *a, const char *addr, int family, int port,
    const char **out)
{
    char  buf[320];

    snprintf(buf, sizeof(buf), family == AF_INET6 ? "[%s]:%d" : "%s:%d",
             addr, port);

    *out = kube_arena_strdup(a, buf);

    return *out ? 0 : -1;
}


static kngx_upstream_t *
kngx_upstream_find(kngx_plan_t *p, const char *name)
{
    kngx_upstream_t  **idx = p->ups_index;
    size_t             j;

    if (p->ups_index_size == 0) {
        return NULL;
    }

    j = kngx_hash(name) & (p->ups_index_size - 1);

    while (idx[j]) {
        if (strcmp(idx[j]->name, name) == 0) {
            return idx[j];
        }
        j = (j + 1) & (p->ups_index_size - 1);
    }

    return NULL;
}


static int
kngx_upstream_index(kngx_plan_t *p, kngx_upstream_t *u)
{
    kngx_upstream_t  **idx;
    size_t             size, i, j;

    if ((p->nupstreams + 1) * 2 >= p->ups_index_size) {
        size = p->ups_index_size ? p->ups_index_size * 2 : 256;
        idx = calloc(size, sizeof(kngx_upstream_t *));
        if (idx == NULL) {
            return -1;
        }

        for (i = 0; i < p->nupstreams; i++) {
            j = kngx_hash(p->upstreams[i]->name) & (size - 1);
            while (idx[j]) {
                j = (j + 1) & (size - 1);
            }
            idx[j] = p->upstreams[i];
        }

        free(p->ups_index);
        p->ups_index = idx;
        p->ups_index_size = size;
    }

    idx = p->ups_index;
    j = kngx_hash(u->name) & (p->ups_index_size - 1);
    while (idx[j]) {
        j = (j + 1) & (p->ups_index_size - 1);
    }
    idx[j] = u;

    return 0;
}


static int
kngx_upstream_add(kngx_plan_t *p, kngx_upstream_t *u)
{
    kngx_upstream_t  **arr;
    size_t             cap;

    if (kngx_upstream_index(p, u) != 0) {
        return -1;
    }

    if (p->nupstreams == p->ups_cap) {
        cap = p->ups_cap ? p->ups_cap * 2 : 16;
        arr = realloc(p->upstreams, cap * sizeof(kngx_upstream_t *));
        if (arr == NULL) {
            return -1;
        }
        p->upstreams = arr;
        p->ups_cap = cap;
    }

    p->upstreams[p->nupstreams++] = u;

    return 0;
}


#define KNGX_ANN_LOAD_BALANCE  "nginx.ingress.kubernetes.io/load-balance"
#define KNGX_ANN_HASH_BY       "nginx.ingress.kubernetes.io/upstream-hash-by"


/*
 * An upstream-hash-by value that is safe as nginx text: "$name" variables
 * and literal [A-Za-z0-9_.:/-]; no quotes, braces, blanks or ";".
 */
static int
kngx_hash_by_ok(const char *v)
{
    const char  *q;
    size_t       len;

    len = strlen(v);

    if (len == 0 || len > 256) {
        return 0;
    }

    for (q = v; *q; q++) {
        if (*q == '$') {
            if (!(isalpha((unsigned char) q[1]) || q[1] == '_')) {
                return 0;
            }
            continue;
        }

        if (!(isalnum((unsigned char) *q) || strchr("_.:/-", *q))) {
            return 0;
        }
    }

    return 1;
}


/*
 * The balancing method ing's annotations ask for (ingress-nginx's
 * load-balance and upstream-hash-by, the latter taking precedence, as
 * there).  *balance NULL: round robin.  Unknown or unsafe values: a
 * warning, round robin.  Returns -1 when out of memory.
 */
static int
kngx_plan_balance(kngx_plan_t *p, const kngx_ingress_t *ing,
    const char **balance, const char **hash_by)
{
    const char  *lb, *hb;

    *balance = NULL;
    *hash_by = NULL;

    if (ing == NULL) {
        return 0;
    }

    hb = kngx_meta_annotation(&ing->meta, KNGX_ANN_HASH_BY);

    if (hb) {
        if (kngx_hash_by_ok(hb)) {
            *balance = "hash";
            *hash_by = hb;
            return 0;
        }

        if (kngx_plan_warn(p, ing, "metadata.annotations", 0, "bad-annotation",
                   "%s %s: only $variables and letters, digits, "
                   "\"_.:/-\" are allowed; ignored",
                   KNGX_ANN_HASH_BY, kngx_msg_quote(hb)))
        {
            return -1;
        }
    }

    lb = kngx_meta_annotation(&ing->meta, KNGX_ANN_LOAD_BALANCE);

    if (lb == NULL || strcmp(lb, "round_robin") == 0) {
        return 0;
    }

    if (strcmp(lb, "ewma") == 0 || strcmp(lb, "least_conn") == 0) {
        *balance = strcmp(lb, "ewma") == 0 ? "ewma" : "least_conn";
        return 0;
    }

    return kngx_plan_warn(p, ing, "metadata.annotations", 0, "bad-annotation",
               "%s %s is not one of round_robin, ewma, least_conn; "
               "round robin used", KNGX_ANN_LOAD_BALANCE,
               kngx_msg_quote(lb)) ? -1 : 0;
}


/*
 * The upstream of a Service port (created on first use, with its
 * warnings then).  ext_port: the port for ExternalName Services.  A
 * balancing method other than round robin gets its own upstream
 * ("NAME__lb_METHOD", "NAME__lb_hash_XXXXXXXX"): the module shares the
 * Service's endpoints and their state between them.
 */
static kngx_upstream_t *
kngx_plan_upstream(kngx_plan_t *p, const kngx_ingress_t *ing,
    const kngx_backend_t *be, const kngx_service_t *svc,
    const kngx_service_port_t *sp, int ext_port)
{
    kngx_upstream_t   *u;
    kngx_endpoints_t   eps;
    char               name[340], portspec[80], obj[300];
    const char        *why, *balance, *hash_by, *q;
    uint32_t           h;
    size_t             n, base;
    size_t             i;
    struct in6_addr    a6;
    struct in_addr     a4;

    if (sp && sp->name[0]) {
        snprintf(portspec, sizeof(portspec), "%s", sp->name);
    } else {
        snprintf(portspec, sizeof(portspec), "%d", sp ? sp->port : ext_port);
    }

    kngx_ident(name, sizeof(name), svc->meta.ns, svc->meta.name, portspec);
    snprintf(obj, sizeof(obj), "%s/%s", svc->meta.ns, svc->meta.name);

    if (kngx_plan_balance(p, ing, &balance, &hash_by) != 0) {
        return NULL;
    }

    if (balance && svc->type == KNGX_SVC_EXTERNAL_NAME) {
        balance = NULL;     /* one server */
        hash_by = NULL;
    }

    base = strlen(name);

    if (hash_by) {
        h = 2166136261u;
        for (q = hash_by; *q; q++) {
            h = (h ^ (unsigned char) *q) * 16777619u;
        }
        n = strlen(name);
        snprintf(name + n, sizeof(name) - n, "__lb_hash_%08x", h);

    } else if (balance) {
        n = strlen(name);
        snprintf(name + n, sizeof(name) - n, "__lb_%s", balance);
    }

    /* ns, name and port name are DNS labels ("_" never occurs in them),
     * so the name identifies the Service port */
    u = kngx_upstream_find(p, name);
    if (u) {
        return u;
    }

    u = kube_arena_calloc(p->arena, 1, sizeof(kngx_upstream_t));
    if (u == NULL) {
        return NULL;
    }

    u->service = svc;
    u->port = sp;
    u->balance = balance;

    if (hash_by) {
        u->hash_by = kube_arena_strdup(p->arena, hash_by);
        if (u->hash_by == NULL) {
            return NULL;
        }
    }

    u->name = kube_arena_strdup(p->arena, name);
    u->module_port = kube_arena_strdup(p->arena, portspec);
    u->variant = kube_arena_strdup(p->arena, name + base);
    if (u->name == NULL || u->module_port == NULL || u->variant == NULL) {
        return NULL;
    }

    if (kngx_upstream_add(p, u) != 0) {
        return NULL;
    }

    if (svc->type == KNGX_SVC_EXTERNAL_NAME) {
        u->kind = KNGX_UPSTREAM_EXTERNAL;

        if (kngx_dns_name_check(svc->external_name, &why) != 0) {
            u->empty = 1;
            return kngx_plan_warn(p, ing, be->field, be->line, "bad-external",
                       "Service %s: spec.externalName %s %s; 503",
                       obj, kngx_msg_quote(svc->external_name), why)
                   ? NULL : u;
        }

        u->servers = kube_arena_calloc(p->arena, 1,
                                       sizeof(kngx_upstream_server_t));
        if (u->servers == NULL) {
            return NULL;
        }
        u->nservers = 1;

        snprintf(name, sizeof(name), "%s:%d", svc->external_name,
                 sp ? sp->port : ext_port);
        for (i = 0; name[i]; i++) {
            if (name[i] >= 'A' && name[i] <= 'Z') {
                name[i] = (char) (name[i] - 'A' + 'a');
            }
        }

        u->servers[0].addr = kube_arena_strdup(p->arena, name);
        return u->servers[0].addr ? u : NULL;
    }

    if (p->opts.endpoints == KNGX_ENDPOINTS_MODULE) {
        u->kind = KNGX_UPSTREAM_MODULE;
        return u;
    }

    u->kind = KNGX_UPSTREAM_SERVERS;

    if (p->opts.endpoints == KNGX_ENDPOINTS_CLUSTER_IP) {
        const char  *ip = svc->cluster_ip;
        int          fam = 0;

        if (ip && inet_pton(AF_INET, ip, &a4) == 1) {
            fam = AF_INET;
        } else if (ip && inet_pton(AF_INET6, ip, &a6) == 1) {
            fam = AF_INET6;
        }

        if (fam) {
            u->servers = kube_arena_calloc(p->arena, 1,
                                           sizeof(kngx_upstream_server_t));
            if (u->servers == NULL
                || kngx_addr_port(p->arena, ip, fam, sp->port,
                                  &u->servers[0].addr) != 0)
            {
                return NULL;
            }
            u->nservers = 1;
            return u;
        }

        if (kngx_plan_warn(p, ing, be->field, be->line, "no-cluster-ip",
                "Service %s has %s; using its EndpointSlices instead", obj,
                svc->headless ? "no cluster IP (headless)"
                              : "no spec.clusterIP in the input") != 0)
        {
            return NULL;
        }
    }

    if (kngx_service_endpoints(p->model, svc, sp, p->arena, &eps) != 0) {
        return NULL;
    }

    if (eps.n == 0) {
        u->empty = 1;
        return kngx_plan_warn(p, ing, be->field, be->line, "no-endpoints",
                   "Service %s port %s has no ready endpoints in the "
                   "input's EndpointSlices (%u found); 503", obj, portspec,
                   eps.nslices)
               ? NULL : u;
    }

    if (eps.fallback) {
        u->fallback = 1;
        if (kngx_plan_warn(p, ing, be->field, be->line, "terminating",
                "Service %s port %s has no ready endpoints; using %zu "
                "serving, terminating ones", obj, portspec, eps.n) != 0)
        {
            return NULL;
        }
    }

    u->servers = kube_arena_calloc(p->arena, eps.n,
                                   sizeof(kngx_upstream_server_t));
    if (u->servers == NULL) {
        return NULL;
    }

    for (i = 0; i < eps.n; i++) {
        if (kngx_addr_port(p->arena, eps.items[i].addr, eps.items[i].family,
                           eps.items[i].port, &u->servers[i].addr) != 0)
        {
            return NULL;
        }
    }

    u->nservers = eps.n;

    return u;
}


/*
 * Resolve a backend of ing (ing NULL: --default-backend, ns given) into a
 * target.  Returns 0 served (maybe as 503), 1 not served, -1 no memory.
 */
static int
kngx_plan_target(kngx_plan_t *p, const kngx_ingress_t *ing, const char *ns,
    const kngx_backend_t *be, kngx_target_t *t)
{
    const kngx_service_t       *svc;
    const kngx_service_port_t  *sp;
    kngx_upstream_t            *u;
    char                        port[80];

    memset(t, 0, sizeof(kngx_target_t));
    t->ingress = ing;
    t->backend = be;
    t->action = KNGX_ACTION_UNAVAILABLE;

    if (be->kind == KNGX_BACKEND_RESOURCE) {
        return kngx_plan_warn(p, ing, be->field, be->line, "resource-backend",
                   "resource backends (%s %s) are not supported; not "
                   "served", kngx_msg_quote(be->resource_kind),
                   kngx_msg_quote(be->resource_name)) ? -1 : 1;
    }

    if (be->port_name) {
        snprintf(port, sizeof(port), "%s", kngx_msg_quote(be->port_name));
    } else {
        snprintf(port, sizeof(port), "%d", be->port_number);
    }

    if (!kngx_dns_label_ok(be->service, strlen(be->service))) {
        return kngx_plan_warn(p, ing, be->field, be->line, "no-service",
                   "service name %s is not a valid Service name; 503",
                   kngx_msg_quote(be->service)) ? -1 : 0;
    }

    svc = kngx_model_service(p->model, ns, be->service);
    if (svc == NULL) {
        return kngx_plan_warn(p, ing, be->field, be->line, "no-service",
                   "Service %s/%s not found in the input; 503", ns,
                   be->service) ? -1 : 0;
    }

    if (!kngx_dns_label_ok(ns, strlen(ns))) {
        return kngx_plan_warn(p, ing, be->field, be->line, "no-service",
                   "namespace %s is not a valid name; 503",
                   kngx_msg_quote(ns)) ? -1 : 0;
    }

    sp = kngx_service_find_port(svc, be);

    if (sp == NULL && !(svc->type == KNGX_SVC_EXTERNAL_NAME
                        && be->port_name == NULL))
    {
        return kngx_plan_warn(p, ing, be->field, be->line, "no-port",
                   "Service %s/%s has no port %s%s; 503", ns, be->service,
                   be->port_name ? "named " : "", port) ? -1 : 0;
    }

    if (sp && sp->name[0] && !kngx_dns_label_ok(sp->name,
                                                 strlen(sp->name)))
    {
        return kngx_plan_warn(p, ing, be->field, be->line, "no-port",
                   "Service %s/%s port name %s is not valid; 503", ns,
                   be->service, kngx_msg_quote(sp->name)) ? -1 : 0;
    }

    u = kngx_plan_upstream(p, ing, be, svc, sp, be->port_number);
    if (u == NULL) {
        return -1;
    }

    t->upstream = u;
    t->action = u->empty ? KNGX_ACTION_UNAVAILABLE : KNGX_ACTION_PROXY;

    return 0;
}


/* ---- routes -------------------------------------------------------------- */

static kngx_route_t *
kngx_route_find(kngx_server_t *srv, const char *path, kngx_path_type_e type)
{
    size_t  i;

    for (i = 0; i < srv->nroutes; i++) {
        if (srv->routes[i].type == type
            && strcmp(srv->routes[i].path, path) == 0)
        {
            return &srv->routes[i];
        }
    }

    return NULL;
}


static int
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
    const char          *why;
    char                *path;
    size_t               len;
    int                  rc;

    if (kngx_path_check(ip->path, &why) != 0) {
        return kngx_plan_warn(p, ing, ip->field, ip->line, "bad-path",
                              "path %s %s; not served",
                              kngx_msg_quote(ip->path), why);
    }

    type = ip->type == KNGX_PATH_EXACT ? KNGX_PATH_EXACT : KNGX_PATH_PREFIX;

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

    old = kngx_route_find(srv, path, type);
    if (old) {
        return kngx_plan_warn(p, ing, ip->field, ip->line, "conflict",
                   "%s path %s on %s is already routed by the older "
                   "Ingress %s/%s; ignored", kngx_path_type_name(type),
                   kngx_msg_quote(path), host ? host : "every host",
                   old->target.ingress->meta.ns,
                   old->target.ingress->meta.name);
    }

    memset(&r, 0, sizeof(r));

    rc = kngx_plan_target(p, ing, ing->meta.ns, &ip->backend, &r.target);
    if (rc != 0) {
        return rc < 0 ? -1 : 0;
    }

    r.path = path;
    r.type = type;
    r.src = ip;
    r.hostless = (host == NULL);

    return kngx_route_append(srv, &r);
}


static int
kngx_plan_ingress_rules(kngx_plan_t *p, const kngx_ingress_t *ing)
{
    const kngx_ingress_rule_t  *rule;
    kngx_server_t              *srv;
    const char                 *why;
    char                        host[256];
    size_t                      i, j;

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


/* ---- TLS ----------------------------------------------------------------- */

static const kngx_cert_t *
kngx_plan_cert(kngx_plan_t *p, const kngx_secret_t *sec)
{
    kngx_cert_t  *c;
    char          name[300];
    size_t        i, cap;

    for (i = 0; i < p->ncerts; i++) {
        if (p->certs[i].secret == sec) {
            return &p->certs[i];
        }
    }

    if (p->ncerts == p->certs_cap) {
        cap = p->certs_cap ? p->certs_cap * 2 : 8;
        c = realloc(p->certs, cap * sizeof(kngx_cert_t));
        if (c == NULL) {
            return NULL;
        }
        p->certs = c;
        p->certs_cap = cap;
    }

    kngx_ident(name, sizeof(name), sec->meta.ns, sec->meta.name, NULL);

    c = &p->certs[p->ncerts];
    c->secret = sec;
    c->name = kube_arena_strdup(p->arena, name);
    if (c->name == NULL) {
        return NULL;
    }

    p->ncerts++;

    return c;
}


/* NULL and *why: not usable */
static const kngx_secret_t *
kngx_plan_secret(kngx_plan_t *p, const char *ns, const char *name,
    const char **why)
{
    const kngx_secret_t  *sec;

    if (!kngx_dns_label_ok(ns, strlen(ns))) {
        *why = "has an invalid namespace";
        return NULL;
    }

    {
        char  tmp[256];

        if (strchr(name, '*') || kngx_host_check(name, tmp, sizeof(tmp), why)
            != 0 || strcmp(tmp, name) != 0)
        {
            *why = "is not a valid Secret name";
            return NULL;
        }
    }

    sec = kngx_model_secret(p->model, ns, name);
    if (sec == NULL) {
        *why = "was not found in the input";
        return NULL;
    }

    if (sec->cert == NULL || sec->key == NULL) {
        *why = "has no tls.crt and tls.key";
        return NULL;
    }

    if (strncmp(sec->cert, "-----BEGIN ", 11) != 0
        || strstr(sec->key, "-----BEGIN ") == NULL
        || strlen(sec->cert) != sec->cert_len
        || strlen(sec->key) != sec->key_len)
    {
        *why = "does not hold PEM data in tls.crt and tls.key";
        return NULL;
    }

    return sec;
}


static int
kngx_plan_tls(kngx_plan_t *p, const kngx_ingress_t *ing)
{
    const kngx_ingress_tls_t  *t;
    const kngx_secret_t       *sec;
    const kngx_cert_t         *c;
    const char                *cert;
    kngx_server_t             *srv;
    const char                *why;
    char                       host[256];
    size_t                     i, j;

    for (i = 0; i < ing->ntls; i++) {
        t = &ing->tls[i];
        cert = NULL;
        sec = NULL;

        if (t->secret_name) {
            sec = kngx_plan_secret(p, ing->meta.ns, t->secret_name, &why);

            if (sec == NULL) {
                if (kngx_plan_warn(p, ing, t->field, t->line, "no-secret",
                        "TLS Secret %s in %s %s; %s",
                        kngx_msg_quote(t->secret_name), ing->meta.ns, why,
                        p->default_cert_name ? "using the default certificate"
                        : "https is not served for its hosts (no "
                          "--default-certificate)") != 0)
                {
                    return -1;
                }
            }
        }

        if (sec) {
            c = kngx_plan_cert(p, sec);
            if (c == NULL) {
                return -1;
            }
            cert = c->name;

        } else {
            cert = p->default_cert_name;

            if (cert == NULL && t->secret_name == NULL && t->nhosts) {
                if (kngx_plan_warn(p, ing, t->field, t->line, "no-secret",
                        "no secretName and no --default-certificate; "
                        "https is not served for its hosts") != 0)
                {
                    return -1;
                }
            }
        }

        for (j = 0; j < t->nhosts; j++) {
            if (kngx_host_check(t->hosts[j], host, sizeof(host), &why) != 0)
            {
                if (kngx_plan_warn(p, ing, t->field, t->line, "bad-host",
                        "TLS host %s %s; ignored",
                        kngx_msg_quote(t->hosts[j]), why) != 0)
                {
                    return -1;
                }
                continue;
            }

            srv = kngx_plan_server(p, host);
            if (srv == NULL) {
                return -1;
            }

            if (srv->tls_owner) {
                if (srv->tls_owner != ing && srv->cert_name
                    && (cert == NULL || strcmp(cert, srv->cert_name) != 0))
                {
                    if (kngx_plan_warn(p, ing, t->field, t->line,
                            "conflict", "TLS for %s is already configured "
                            "by the older Ingress %s/%s; ignored", host,
                            srv->tls_owner->meta.ns,
                            srv->tls_owner->meta.name) != 0)
                    {
                        return -1;
                    }
                }
                continue;
            }

            srv->tls_owner = ing;

            if (cert) {
                srv->tls = 1;
                srv->redirect = 1;
                srv->cert_name = cert;
            }
        }
    }

    return 0;
}


/* ---- default backends ---------------------------------------------------- */

static int
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

        if (!srv->has_default) {
            srv->has_default = 1;
            srv->default_target = t;
            srv->default_owner = ing;
        }
    }

    return 0;
}


static int
kngx_plan_flag_default(kngx_plan_t *p, kngx_target_t *t)
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


static int
kngx_plan_default_cert(kngx_plan_t *p)
{
    const char           *s = p->opts.default_certificate;
    const char           *slash, *why;
    const kngx_secret_t  *sec;
    char                 *ns;

    if (s == NULL) {
        return 0;
    }

    slash = strchr(s, '/');
    if (slash == NULL || slash == s || slash[1] == '\0') {
        return kngx_plan_error(p, "--default-certificate %s: expected "
                               "NAMESPACE/SECRET", kngx_msg_quote(s));
    }

    ns = kube_arena_strndup(p->arena, s, (size_t) (slash - s));
    if (ns == NULL) {
        return -1;
    }

    sec = kngx_plan_secret(p, ns, slash + 1, &why);
    if (sec == NULL) {
        return kngx_plan_error(p, "--default-certificate: Secret %s %s",
                               kngx_msg_quote(s), why);
    }

    p->default_cert = kngx_plan_cert(p, sec);
    if (p->default_cert == NULL) {
        return -1;
    }

    p->default_cert_name = p->default_cert->name;

    return 0;
}


/* ---- host-less routes into named hosts ----------------------------------- */

/* prefix q covers path (element-wise) */
static int
kngx_prefix_covers(const char *q, const char *path)
{
    size_t  n = strlen(q);

    if (strcmp(q, "/") == 0) {
        return 1;
    }

    return strncmp(q, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}


static int
kngx_plan_merge_hostless(kngx_plan_t *p, kngx_server_t *srv)
{
    const kngx_route_t  *r, *own;
    size_t               i, j, nown = srv->nroutes;
    int                  shadowed;

    for (i = 0; i < p->catch_all.nroutes; i++) {
        r = &p->catch_all.routes[i];
        shadowed = 0;

        for (j = 0; j < nown && !shadowed; j++) {
            own = &srv->routes[j];

            if (own->type == KNGX_PATH_PREFIX
                && kngx_prefix_covers(own->path, r->path))
            {
                shadowed = 1;

            } else if (own->type == r->type
                       && strcmp(own->path, r->path) == 0)
            {
                shadowed = 1;
            }
        }

        if (!shadowed && kngx_route_append(srv, r) != 0) {
            return -1;
        }
    }

    return 0;
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
kngx_route_cmp(const void *a, const void *b)
{
    const kngx_route_t  *x = a, *y = b;
    int                  rc = strcmp(x->path, y->path);

    return rc ? rc : (int) x->type - (int) y->type;
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


static int
kngx_plan_run(kngx_plan_t *p)
{
    const kngx_model_t  *m = p->model;
    kngx_class_opts_t    co;
    kngx_target_t        flag_default;
    const char          *why;
    size_t               i;

    co.class_name = p->opts.class_name;
    co.controller = p->opts.controller;
    co.watch_without_class = p->opts.watch_without_class;

    if (kngx_plan_default_cert(p) != 0 || kngx_plan_flag_default(p,
                                                         &flag_default) != 0)
    {
        return -1;
    }

    if (m->ningresses) {
        p->ingresses = kube_arena_calloc(p->arena, m->ningresses,
                                         sizeof(kngx_ingress_t *));
        if (p->ingresses == NULL) {
            return -1;
        }
    }

    for (i = 0; i < m->ningresses; i++) {
        if (p->opts.nexclude
            && bsearch(&m->ingresses[i], p->opts.exclude, p->opts.nexclude,
                       sizeof(char *), kngx_plan_exclude_cmp))
        {
            continue;       /* the caller leaves it out (opts.exclude) */
        }

        if (kngx_ingress_is_ours(m, &co, &m->ingresses[i], &why)) {
            p->ingresses[p->ningresses++] = &m->ingresses[i];

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

    for (i = 0; i < p->ningresses; i++) {
        if (kngx_plan_ingress_rules(p, p->ingresses[i]) != 0) {
            return -1;
        }
    }

    for (i = 0; i < p->ningresses; i++) {
        if (kngx_plan_tls(p, p->ingresses[i]) != 0) {
            return -1;
        }
    }

    for (i = 0; i < p->ningresses; i++) {
        if (kngx_plan_defaults(p, p->ingresses[i]) != 0) {
            return -1;
        }
    }

    if (!p->catch_all.has_default) {
        p->catch_all.default_target = flag_default;
    }

    for (i = 0; i < p->nservers; i++) {
        if (!p->servers[i].has_default) {
            p->servers[i].default_target = flag_default;
        }

        if (kngx_plan_merge_hostless(p, &p->servers[i]) != 0) {
            return -1;
        }

        if (p->servers[i].nroutes > 1) {
            qsort(p->servers[i].routes, p->servers[i].nroutes,
                  sizeof(kngx_route_t), kngx_route_cmp);
        }
    }

    if (p->catch_all.nroutes > 1) {
        qsort(p->catch_all.routes, p->catch_all.nroutes,
              sizeof(kngx_route_t), kngx_route_cmp);
    }

    if (p->nservers > 1) {
        qsort(p->servers, p->nservers, sizeof(kngx_server_t),
              kngx_server_cmp);
    }

    if (p->nupstreams > 1) {
        qsort(p->upstreams, p->nupstreams, sizeof(kngx_upstream_t *),
              kngx_upstream_cmp);
    }

    kngx_plan_dispatch(p);

    free(p->host_index);
    p->host_index = NULL;
    p->host_index_size = 0;
    free(p->ups_index);
    p->ups_index = NULL;
    p->ups_index_size = 0;

    /* certs may have moved (realloc) */
    p->default_cert = NULL;
    for (i = 0; i < p->ncerts; i++) {
        if (p->default_cert_name
            && strcmp(p->certs[i].name, p->default_cert_name) == 0)
        {
            p->default_cert = &p->certs[i];
        }
    }

    if (p->ncerts > 1) {
        qsort(p->certs, p->ncerts, sizeof(kngx_cert_t), kngx_cert_cmp);
        for (i = 0; i < p->ncerts; i++) {
            if (p->default_cert_name
                && strcmp(p->certs[i].name, p->default_cert_name) == 0)
            {
                p->default_cert = &p->certs[i];
            }
        }
    }

    kngx_diags_sort(&p->diags);

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
        free(p->servers[i].routes);
    }

    free(p->catch_all.routes);
    free(p->servers);
    free(p->upstreams);
    free(p->certs);
    free(p->host_index);
    free(p->ups_index);
    kngx_diags_free(&p->diags);
    kube_arena_destroy(p->arena);
    free(p);
}
