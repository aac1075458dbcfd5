
/*
 * kubengx generator: what the files of the route planner share (not for
 * other files; they use model.h).
 *
 *   plan.c           Ingress selection, the build order, sorting
 *   plan_hosts.c     servers by host, host ownership, host-less routes
 *   plan_routes.c    paths, rules, default backends, exact twins
 *   plan_upstream.c  backends -> upstreams (Service ports, endpoints,
 *                    ExternalName, balancing annotations)
 *   plan_tls.c       TLS Secrets -> certificates and https servers
 *   plan_canary.c    canary Ingresses -> the canary of a route; cookie
 *                    affinity annotations
 *   plan_backend.c   proxy-ssl-secret -> a CA file, a client certificate
 */

#ifndef KNGX_PLAN_PARTS_H
#define KNGX_PLAN_PARTS_H

#include "load.h"
#include "escape.h"
#include "annotations/annotations.h"


#define KNGX_ANN_SHARED_WITH  "kubengx.io/host-shared-with"

/* the longest path kngx_path_check() accepts */
#define KNGX_PATH_MAX  1024


/* plan.c */
int kngx_plan_warn(kngx_plan_t *p, const kngx_ingress_t *ing,
    const char *field, unsigned line, const char *code, const char *fmt,
    ...) KNGX_PRINTF(6, 7);
int kngx_plan_error(kngx_plan_t *p, const char *fmt, ...) KNGX_PRINTF(2, 3);
uint32_t kngx_plan_hash(const char *s);

/* plan_hosts.c */
kngx_server_t *kngx_plan_server(kngx_plan_t *p, const char *host);
kngx_server_t *kngx_plan_server_find(kngx_plan_t *p, const char *host);
int kngx_plan_claims(kngx_plan_t *p);
int kngx_plan_host_allowed(const kngx_plan_t *p, const kngx_server_t *srv,
    const char *ns);
int kngx_plan_refuse_host(kngx_plan_t *p, const kngx_ingress_t *ing,
    const kngx_server_t *srv, const char *field, unsigned line);
int kngx_plan_merge_hostless(kngx_plan_t *p, kngx_server_t *srv);

/* plan_routes.c */
int kngx_plan_ingress_rules(kngx_plan_t *p, const kngx_ingress_t *ing);
int kngx_plan_defaults(kngx_plan_t *p, const kngx_ingress_t *ing);
int kngx_plan_flag_default(kngx_plan_t *p, kngx_target_t *t);
int kngx_route_append(kngx_server_t *srv, const kngx_route_t *r);
void kngx_route_index_free(kngx_server_t *srv);
const kngx_route_t *kngx_route_lookup(const kngx_server_t *srv, size_t n,
    const char *path, kngx_path_type_e type);
int kngx_route_cmp(const void *a, const void *b);
int kngx_plan_twins(kngx_plan_t *p, kngx_server_t *srv);

/* plan_upstream.c */
int kngx_plan_target(kngx_plan_t *p, const kngx_ingress_t *ing,
    const char *ns, const kngx_backend_t *be, kngx_target_t *t);
int kngx_plan_resolver(kngx_plan_t *p);

/* plan_backend.c */
int kngx_plan_backend_ssl(kngx_plan_t *p, const kngx_ingress_t *ing,
    const kngx_ann_t *ann);

/* plan_tls.c */
int kngx_plan_tls(kngx_plan_t *p, const kngx_ingress_t *ing);
int kngx_plan_default_cert(kngx_plan_t *p);
/* plan_tls.c: a new entry of p->certs (name copied), or NULL (no memory) */
kngx_cert_t *kngx_plan_cert_add(kngx_plan_t *p, const kngx_secret_t *sec,
    const char *name, unsigned ca);

const char *kngx_plan_cert_file(kngx_plan_t *p, const kngx_secret_t *sec,
    const char **why, int *nomem);

/* plan_canary.c */
int kngx_plan_canary(kngx_plan_t *p, const kngx_ingress_t *ing,
    const kngx_ingress_path_t *ip, kngx_route_t *primary, const char *host);
int kngx_plan_affinity(kngx_plan_t *p, const kngx_ingress_t *ing,
    const char *path, const char **args);

#endif /* KNGX_PLAN_PARTS_H */
