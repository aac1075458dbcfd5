
/*
 * kubengx generator: upstream blocks.
 *
 *   module:     upstream NS_SVC_PORT { k8s_service NS/SVC port=PORT;
 *                                      keepalive 32; }
 *               PORT is the Service port's name, or its number when the
 *               port is unnamed (the module then uses the EndpointSlice
 *               port named ""); the endpoints come from the module's
 *               shared-memory table at run time.
 *   static:     one "server ADDR:PORT;" per endpoint of the input's
 *               EndpointSlices (sorted, IPv6 bracketed).
 *   cluster-ip: "server CLUSTERIP:PORT;" (kube-proxy balances);
 *               headless Services fall back to their endpoints.
 *   Balancing (annotations nginx.ingress.kubernetes.io/load-balance:
 *               round_robin, least_conn, ewma; upstream-hash-by: KEY,
 *               consistent): module: k8s_service balance=... options;
 *               static/cluster-ip: stock "least_conn;" or "hash KEY
 *               consistent;" (ewma falls back to round robin).
 *   ExternalName (every mode): no block; the location proxies to the
 *               name through a variable and nginx resolves it per request
 *               (render.c), so that DNS never decides whether the config
 *               loads.
 *
 *   module, dispatch form (--upstreams dispatch, or auto past
 *               KNGX_DISPATCH_THRESHOLD Service-port upstreams):
 *               upstream kubengx_dispatch { k8s_dispatch; keepalive 64; }
 *               and one per other balancing method, named with the
 *               per-Service suffix and given the same options
 *               (kubengx_dispatch__lb-ewma { k8s_dispatch balance=ewma; },
 *               kubengx_dispatch__lb-hash-KEY { k8s_dispatch
 *               balance=hash hash=KEY consistent; }); each location names
 *               its Service with k8s_backend (render.c).
 *
 *               The threshold (KNGX_DISPATCH_THRESHOLD, 2000), measured
 *               here: Debian's nginx 1.22 with the module, nginx -t wall
 *               time, best of 3-5 runs on a busy 2-core machine; N
 *               Ingresses of one host and one Service port each, 3
 *               locations per host:
 *
 *                   N      per-service   dispatch   per-service costs
 *                   500       0.10 s       0.07 s       +0.04 s
 *                   1000      0.20 s       0.12 s       +0.08 s
 *                   1500      0.54 s       0.27 s       +0.27 s
 *                   2000      0.68-0.79 s  0.27-0.31 s  +0.41-0.49 s
 *                   2500      1.20 s       0.43 s       +0.77 s
 *                   4000      2.67 s       0.74 s       +1.93 s
 *
 *               Per-service blocks cost about 0.5 s more from 2000
 *               Service ports on, growing quadratically; below that they
 *               cost little and read better, so auto keeps them up to
 *               2000 and uses dispatch above.  Measured again once the
 *               module found each k8s_service/k8s_backend key in a tree
 *               (nginx -t CPU, best of 3): 1000: 0.22 s / 0.11 s, 2000:
 *               0.45 s / 0.18 s, 4000: 1.82 s / 0.40 s; the threshold
 *               stands.
 *
 * Names are generated (names.c): NS_SVC_PORT[__VARIANT], each part
 * escaped so that distinct Service ports and methods never share a name.
 * A Service port with nothing to proxy to gets no block; its routes
 * answer 503.
 */

#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "settings/settings.h"


#define KNGX_KEEPALIVE           32
#define KNGX_DISPATCH_KEEPALIVE  64


/* the balancing method: the Ingress's, else the settings' load-balance */
static const char *
kngx_emit_method(const kngx_upstream_t *u, const kngx_settings_t *s)
{
    return u->balance ? u->balance : s->load_balance;
}


/* the balancing options of k8s_service and k8s_dispatch */
static void
kngx_emit_balance(kngx_buf_t *b, const kngx_upstream_t *u,
    const kngx_settings_t *s)
{
    if (u->hash_by) {
        kngx_buf_printf(b, " balance=hash hash=%s consistent", u->hash_by);

    } else if (kngx_emit_method(u, s)) {
        kngx_buf_printf(b, " balance=%s", kngx_emit_method(u, s));
    }
}


static int
kngx_variant_cmp(const void *a, const void *b)
{
    const kngx_upstream_t  *x = *(const kngx_upstream_t *const *) a;
    const kngx_upstream_t  *y = *(const kngx_upstream_t *const *) b;
    int                     rc;

    rc = strcmp(x->variant, y->variant);

    return rc ? rc : strcmp(x->name, y->name);
}


/* one k8s_dispatch upstream per balancing variant in use, by name */
static void
kngx_emit_dispatch(kngx_buf_t *b, const kngx_plan_t *p,
    const kngx_settings_t *s)
{
    const kngx_upstream_t  **v;
    size_t                   i, n;

    if (p->nservice_ports == 0) {
        return;
    }

    v = malloc(p->nservice_ports * sizeof(kngx_upstream_t *));
    if (v == NULL) {
        b->nomem = 1;
        return;
    }

    n = 0;
    for (i = 0; i < p->nupstreams; i++) {
        if (p->upstreams[i]->kind == KNGX_UPSTREAM_MODULE
            && !p->upstreams[i]->empty && n < p->nservice_ports)
        {
            v[n++] = p->upstreams[i];
        }
    }

    qsort(v, n, sizeof(kngx_upstream_t *), kngx_variant_cmp);

    kngx_buf_printf(b, "# %zu Service port%s: k8s_dispatch, and "
                    "k8s_backend in each location\n", n, n == 1 ? "" : "s");

    for (i = 0; i < n; i++) {
        if (i > 0 && strcmp(v[i]->variant, v[i - 1]->variant) == 0) {
            continue;
        }

        kngx_buf_printf(b, "upstream " KNGX_DISPATCH_NAME "%s {\n"
                        "    k8s_dispatch", v[i]->variant);
        kngx_emit_balance(b, v[i], s);
        kngx_buf_printf(b, ";\n");
        kngx_settings_upstream(b, s, KNGX_DISPATCH_KEEPALIVE);
        kngx_buf_printf(b, "}\n\n");
    }

    free(v);
}


void
kngx_emit_upstreams(kngx_buf_t *b, const kngx_plan_t *p,
    const kngx_settings_t *s)
{
    const kngx_upstream_t  *u;
    size_t                  i, j;

    if (p->dispatch) {
        kngx_emit_dispatch(b, p, s);
    }

    for (i = 0; i < p->nupstreams; i++) {
        u = p->upstreams[i];

        if (u->empty || u->kind == KNGX_UPSTREAM_EXTERNAL
            || (p->dispatch && u->kind == KNGX_UPSTREAM_MODULE))
        {
            continue;       /* ExternalName: no block, see render.c */
        }

        kngx_buf_printf(b, "# Service %s/%s port %s%s\n", u->service->meta.ns,
                        u->service->meta.name, u->module_port,
                        u->kind == KNGX_UPSTREAM_EXTERNAL ? " (ExternalName)"
                        : u->fallback ? " (terminating endpoints)" : "");
        kngx_buf_printf(b, "upstream %s {\n", u->name);

        if (u->kind == KNGX_UPSTREAM_MODULE) {
            kngx_buf_printf(b, "    k8s_service %s/%s port=%s",
                            u->service->meta.ns, u->service->meta.name,
                            u->module_port);
            kngx_emit_balance(b, u, s);
            kngx_buf_printf(b, ";\n");

        } else {
            /* stock nginx: hash and least_conn; ewma only with the
             * module (round robin here) */

            if (u->hash_by) {
                kngx_buf_printf(b, "    hash %s consistent;\n", u->hash_by);

            } else if (kngx_emit_method(u, s)
                       && strcmp(kngx_emit_method(u, s), "least_conn") == 0)
            {
                kngx_buf_printf(b, "    least_conn;\n");

            } else if (kngx_emit_method(u, s)
                       && strcmp(kngx_emit_method(u, s), "round_robin") != 0)
            {
                kngx_buf_printf(b, "    # %s needs --endpoints module: "
                                "round robin\n", kngx_emit_method(u, s));
            }


            for (j = 0; j < u->nservers; j++) {
                kngx_buf_printf(b, "    server %s;\n", u->servers[j].addr);
            }
        }

        kngx_settings_upstream(b, s, KNGX_KEEPALIVE);
        kngx_buf_printf(b, "}\n\n");
    }
}
