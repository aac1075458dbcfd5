
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
 *   ExternalName (every mode): "server DNSNAME:PORT;", resolved by nginx
 *               when it loads the config (start and every reload), with
 *               the system resolver; nginx 1.22 has no "resolve" flag, so
 *               the address is fixed until the next reload, and a name
 *               that does not resolve makes nginx refuse the config.
 *
 * Names are generated: NS_SVC_PORT with every byte outside [a-z0-9]
 * turned into "_" (namespace, Service and port names are DNS labels, so
 * the name is unique).  A Service port with nothing to proxy to gets no
 * block; its routes answer 503.
 */

#include <string.h>

#include "render.h"


#define KNGX_KEEPALIVE  32


void
kngx_emit_upstreams(kngx_buf_t *b, const kngx_plan_t *p)
{
    const kngx_upstream_t  *u;
    size_t                  i, j;

    for (i = 0; i < p->nupstreams; i++) {
        u = p->upstreams[i];

        if (u->empty) {
            continue;
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

            if (u->hash_by) {
                kngx_buf_printf(b, " balance=hash hash=%s consistent",
                                u->hash_by);

            } else if (u->balance) {
                kngx_buf_printf(b, " balance=%s", u->balance);
            }

            kngx_buf_printf(b, ";\n");

        } else {
            /* stock nginx: hash and least_conn; ewma only with the
             * module (round robin here) */

            if (u->hash_by) {
                kngx_buf_printf(b, "    hash %s consistent;\n", u->hash_by);

            } else if (u->balance && strcmp(u->balance, "least_conn") == 0) {
                kngx_buf_printf(b, "    least_conn;\n");

            } else if (u->balance) {
                kngx_buf_printf(b, "    # %s needs --endpoints module: "
                                "round robin\n", u->balance);
            }


            for (j = 0; j < u->nservers; j++) {
                kngx_buf_printf(b, "    server %s;\n", u->servers[j].addr);
            }
        }

        kngx_buf_printf(b, "    keepalive %d;\n}\n\n", KNGX_KEEPALIVE);
    }
}
