
/*
 * kubengx generator: backends -> upstreams.
 *
 * One upstream per Service port and balancing method, named by names.c
 * (injective in namespace, Service, port and method).  What it holds
 * depends on --endpoints: the module's table (k8s_service), the
 * Service's ClusterIP, or the ready endpoints of the input's
 * EndpointSlices.  ExternalName Services become one "NAME:PORT" that
 * nginx resolves per request through "resolver" (render.c): the name is
 * checked here (a DNS name, not an address in any spelling, not
 * localhost), and the nameservers come from --resolver or
 * /etc/resolv.conf.  The balancing method comes from the Ingress's
 * annotations (annotations/balance.c).
 */

#include <ctype.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "plan_parts.h"


#define KNGX_RESOLV_CONF       "/etc/resolv.conf"


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

    j = kngx_plan_hash(name) & (p->ups_index_size - 1);

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
            j = kngx_plan_hash(p->upstreams[i]->name) & (size - 1);
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
    j = kngx_plan_hash(u->name) & (p->ups_index_size - 1);
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


/*
 * The nameservers for ExternalName upstreams, once: --resolver (checked
 * when the plan starts) or /etc/resolv.conf.  p->resolver stays NULL when
 * neither gives one.  -1 only when out of memory.
 */
int
kngx_plan_resolver(kngx_plan_t *p)
{
    char         buf[1024];
    const char  *why;

    if (p->resolver_read) {
        return 0;
    }

    p->resolver_read = 1;

    if (p->opts.resolver) {
        if (kngx_resolver_parse(p->opts.resolver, buf, sizeof(buf), &why)
            != 0)
        {
            return kngx_plan_error(p, "--resolver %s: %s",
                                   kngx_msg_quote(p->opts.resolver), why);
        }

    } else if (kngx_resolv_conf_read(KNGX_RESOLV_CONF, buf, sizeof(buf))
               != 0)
    {
        return 0;
    }

    p->resolver = kube_arena_strdup(p->arena, buf);

    return p->resolver ? 0 : -1;
}


/* an ExternalName Service: one server, NAME:PORT, resolved per request */
static int
kngx_plan_external(kngx_plan_t *p, kngx_upstream_t *u,
    const kngx_ingress_t *ing, const kngx_backend_t *be, const char *obj,
    int port)
{
    const kngx_service_t  *svc = u->service;
    const char            *why;
    char                   addr[320];
    size_t                 i;

    u->kind = KNGX_UPSTREAM_EXTERNAL;

    if (kngx_external_name_check(svc->external_name, &why) != 0) {
        u->empty = 1;
        return kngx_plan_warn(p, ing, be->field, be->line, "bad-external",
                   "Service %s: spec.externalName %s %s; 503",
                   obj, kngx_msg_quote(svc->external_name), why);
    }

    if (kngx_plan_resolver(p) != 0) {
        return -1;
    }

    if (p->resolver == NULL) {
        u->empty = 1;
        return kngx_plan_warn(p, ing, be->field, be->line, "no-resolver",
                   "Service %s is an ExternalName, which nginx resolves "
                   "per request, and no nameserver is known (none in "
                   KNGX_RESOLV_CONF "; give --resolver ADDR); 503", obj);
    }

    u->servers = kube_arena_calloc(p->arena, 1,
                                   sizeof(kngx_upstream_server_t));
    if (u->servers == NULL) {
        return -1;
    }

    u->nservers = 1;

    snprintf(addr, sizeof(addr), "%s:%d", svc->external_name, port);
    for (i = 0; addr[i]; i++) {
        addr[i] = (char) tolower((unsigned char) addr[i]);
    }

    u->servers[0].addr = kube_arena_strdup(p->arena, addr);

    return u->servers[0].addr ? 0 : -1;
}


/* cluster-ip and static (or service-upstream, cluster_ip set): the
 * ClusterIP, or the ready endpoints */
static int
kngx_plan_servers(kngx_plan_t *p, kngx_upstream_t *u,
    const kngx_ingress_t *ing, const kngx_backend_t *be, const char *obj,
    int cluster_ip)
{
    const kngx_service_t       *svc = u->service;
    const kngx_service_port_t  *sp = u->port;
    kngx_endpoints_t            eps;
    struct in6_addr             a6;
    struct in_addr              a4;
    const char                 *ip = svc->cluster_ip;
    size_t                      i;
    int                         fam = 0;

    u->kind = KNGX_UPSTREAM_SERVERS;

    if (cluster_ip) {
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
                return -1;
            }
            u->nservers = 1;
            return 0;
        }

        if (kngx_plan_warn(p, ing, be->field, be->line, "no-cluster-ip",
                "Service %s has %s; using its EndpointSlices instead", obj,
                svc->headless ? "no cluster IP (headless)"
                              : "no spec.clusterIP in the input") != 0)
        {
            return -1;
        }
    }

    if (kngx_service_endpoints(p->model, svc, sp, p->arena, &eps) != 0) {
        return -1;
    }

    if (eps.n == 0) {
        u->empty = 1;
        return kngx_plan_warn(p, ing, be->field, be->line, "no-endpoints",
                   "Service %s port %s has no ready endpoints in the "
                   "input's EndpointSlices (%u found); 503", obj,
                   u->module_port, eps.nslices);
    }

    if (eps.fallback) {
        u->fallback = 1;
        if (kngx_plan_warn(p, ing, be->field, be->line, "terminating",
                "Service %s port %s has no ready endpoints; using %zu "
                "serving, terminating ones", obj, u->module_port, eps.n)
            != 0)
        {
            return -1;
        }
    }

    u->servers = kube_arena_calloc(p->arena, eps.n,
                                   sizeof(kngx_upstream_server_t));
    if (u->servers == NULL) {
        return -1;
    }

    for (i = 0; i < eps.n; i++) {
        if (kngx_addr_port(p->arena, eps.items[i].addr, eps.items[i].family,
                           eps.items[i].port, &u->servers[i].addr) != 0)
        {
            return -1;
        }
    }

    u->nservers = eps.n;

    return 0;
}


/*
 * The upstream of a Service port (created on first use, with its
 * warnings then).  ext_port: the port for ExternalName Services without
 * a matching port.  A balancing method other than round robin gets its
 * own upstream (NAME__lb-METHOD, NAME__lb-hash-KEY): the module shares
 * the Service's endpoints and their state between them.
 */
static kngx_upstream_t *
kngx_plan_upstream(kngx_plan_t *p, const kngx_ingress_t *ing,
    const kngx_backend_t *be, const kngx_service_t *svc,
    const kngx_service_port_t *sp, int ext_port)
{
    kngx_upstream_t  *u;
    char              name[KNGX_NAME_SIZE], variant[KNGX_NAME_SIZE];
    char              portspec[80], obj[300];
    const char       *balance, *hash_by, *scheme;
    kngx_ann_backend_t *bc;
    int               port, rc, svc_up;

    port = sp ? sp->port : ext_port;

    if (sp && sp->name[0]) {
        snprintf(portspec, sizeof(portspec), "%s", sp->name);
    } else {
        snprintf(portspec, sizeof(portspec), "%d", port);
    }

    snprintf(obj, sizeof(obj), "%s/%s", svc->meta.ns, svc->meta.name);

    kngx_ann_balance(kngx_plan_ann(p, ing), &balance, &hash_by);

    /* backend-protocol, proxy-ssl-verify, a client certificate: an
     * upstream of their own */
    kngx_ann_pass(kngx_plan_ann(p, ing), &scheme);
    bc = kngx_ann_backend(kngx_plan_ann(p, ing));

    /* service-upstream: the ClusterIP, an upstream of its own */
    svc_up = bc && bc->service_upstream
             && svc->type != KNGX_SVC_EXTERNAL_NAME;

    if (balance && svc->type == KNGX_SVC_EXTERNAL_NAME) {
        balance = NULL;     /* one server */
        hash_by = NULL;
    }

    if (kngx_name_variant(variant, sizeof(variant), balance, hash_by) != 0
        || (strcmp(scheme, "http") != 0
            && kngx_name_variant_proto(variant, sizeof(variant), scheme,
                                       bc && bc->verify == 1 ? bc->ca_file
                                                             : NULL) != 0)
        || (svc_up && kngx_name_variant_proto(variant, sizeof(variant),
                                              "svc", NULL) != 0)
        || (strcmp(scheme, "http") != 0 && strcmp(scheme, "grpc") != 0
            && bc && bc->cert_file
            && kngx_name_variant_cert(variant, sizeof(variant),
                                      bc->cert_file) != 0)
        || kngx_name_upstream(name, sizeof(name), svc->meta.ns,
                              svc->meta.name, sp ? sp->name : NULL, port,
                              variant) != 0)
    {
        /* not reached: names and keys are validated and bounded */
        return NULL;
    }

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
    u->variant = kube_arena_strdup(p->arena, variant);
    if (u->name == NULL || u->module_port == NULL || u->variant == NULL) {
        return NULL;
    }

    if (kngx_upstream_add(p, u) != 0) {
        return NULL;
    }

    if (svc->type == KNGX_SVC_EXTERNAL_NAME) {
        rc = kngx_plan_external(p, u, ing, be, obj, port);

    } else if (p->opts.endpoints == KNGX_ENDPOINTS_MODULE && !svc_up) {
        u->kind = KNGX_UPSTREAM_MODULE;
        rc = 0;

    } else {
        rc = kngx_plan_servers(p, u, ing, be, obj, svc_up
                               || p->opts.endpoints
                                  == KNGX_ENDPOINTS_CLUSTER_IP);
    }

    return rc == 0 ? u : NULL;
}


/*
 * Resolve a backend of ing (ing NULL: --default-backend, ns given) into a
 * target.  Returns 0 served (maybe as 503), 1 not served, -1 no memory.
 */
int
kngx_plan_target(kngx_plan_t *p, const kngx_ingress_t *ing, const char *ns,
    const kngx_backend_t *be, kngx_target_t *t)
{
    const kngx_service_t       *svc;
    const kngx_service_port_t  *sp;
    kngx_upstream_t            *u;
    char                        port[80];

    memset(t, 0, sizeof(kngx_target_t));
    t->ingress = ing;
    t->ann = kngx_plan_ann(p, ing);
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
