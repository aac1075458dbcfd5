
/*
 * kubengx generator: the endpoints of a Service port, from the input's
 * EndpointSlices (used by --endpoints static, and by cluster-ip for
 * headless Services).
 *
 * - slices: those in the Service's namespace labelled
 *   kubernetes.io/service-name=NAME (any number; the union is taken);
 * - port: the slice port whose name equals the Service port's name ("" for
 *   an unnamed Service port) and whose protocol is TCP (UDP for the
 *   stream config's udp-services, kngx_service_endpoints_proto()); a
 *   slice without
 *   ports uses the Service port's numeric targetPort (or skips the slice
 *   when targetPort is named: the number is unknown);
 * - addresses: IPv4 and IPv6 slices (FQDN slices are skipped);
 * - conditions: ready endpoints; only when there is none in any slice,
 *   endpoints that are serving && terminating (the fallback);
 * - the result is sorted (family, address bytes, port) and deduplicated.
 */

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "load.h"


typedef struct {
    const kube_es_address_t  *a;
    int                       port;
} kngx_ep_tmp_t;


static int
kngx_ep_cmp(const void *x, const void *y)
{
    const kngx_ep_tmp_t  *a = x, *b = y;
    int                   rc;

    if (a->a->family != b->a->family) {
        return a->a->family == AF_INET ? -1 : 1;
    }

    rc = memcmp(a->a->bin, b->a->bin, a->a->family == AF_INET ? 4 : 16);
    if (rc) {
        return rc;
    }

    return (a->port > b->port) - (a->port < b->port);
}


static int
kngx_slice_port(const kngx_slice_t *sl, const kngx_service_port_t *sp,
    kube_proto_e proto)
{
    const kube_endpointslice_t  *es = sl->es;
    size_t                       i;

    if (es->nports == 0) {
        return sp->target_port_name ? 0 : sp->target_port;
    }

    for (i = 0; i < es->nports; i++) {
        if (es->ports[i].has_port && es->ports[i].proto == proto
            && strcmp(es->ports[i].name, sp->name) == 0)
        {
            return es->ports[i].port;
        }
    }

    return 0;
}


/* index in m->by_service of the first slice of svc (nby_service if none) */

static size_t
kngx_slices_first(const kngx_model_t *m, const kngx_service_t *svc)
{
    int                  rc;
    size_t               lo = 0, hi = m->nby_service, mid;
    const kngx_slice_t  *sl;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        sl = m->by_service[mid];

        rc = strcmp(sl->meta.ns, svc->meta.ns);
        if (rc == 0) {
            rc = strcmp(sl->service_name, svc->meta.name);
        }

        if (rc < 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return lo;
}


/* pass 0 counts ready, pass 1 serving && terminating */
static size_t
kngx_collect(const kngx_model_t *m, const kngx_service_t *svc,
    const kngx_service_port_t *sp, kube_proto_e proto, int fallback,
    kngx_ep_tmp_t *out, unsigned *nslices)
{
    const kngx_slice_t  *sl;
    kube_es_endpoint_t  *ep;
    size_t               i, j, k, n = 0;
    int                  port;

    *nslices = 0;

    for (i = kngx_slices_first(m, svc); i < m->nby_service; i++) {
        sl = m->by_service[i];

        if (strcmp(sl->meta.ns, svc->meta.ns) != 0
            || strcmp(sl->service_name, svc->meta.name) != 0)
        {
            break;
        }

        (*nslices)++;

        if (sl->es->address_type != KUBE_ADDR_IPV4
            && sl->es->address_type != KUBE_ADDR_IPV6)
        {
            continue;
        }

        port = kngx_slice_port(sl, sp, proto);
        if (port == 0) {
            continue;
        }

        for (j = 0; j < sl->es->nendpoints; j++) {
            ep = &sl->es->endpoints[j];

            if (fallback ? !(ep->serving && ep->terminating) : !ep->ready) {
                continue;
            }

            for (k = 0; k < ep->naddresses; k++) {
                if (ep->addresses[k].family != AF_INET
                    && ep->addresses[k].family != AF_INET6)
                {
                    continue;
                }

                if (out) {
                    out[n].a = &ep->addresses[k];
                    out[n].port = port;
                }
                n++;
            }
        }
    }

    return n;
}


int
kngx_service_endpoints(const kngx_model_t *m, const kngx_service_t *svc,
    const kngx_service_port_t *sp, kube_arena_t *arena,
    kngx_endpoints_t *out)
{
    return kngx_service_endpoints_proto(m, svc, sp, KUBE_PROTO_TCP, arena,
                                        out);
}


int
kngx_service_endpoints_proto(const kngx_model_t *m,
    const kngx_service_t *svc, const kngx_service_port_t *sp,
    kube_proto_e proto, kube_arena_t *arena, kngx_endpoints_t *out)
{
    kngx_ep_tmp_t  *tmp;
    size_t          n, i, k;
    unsigned        nslices;
    int             fallback = 0;
    char            text[INET6_ADDRSTRLEN];

    memset(out, 0, sizeof(kngx_endpoints_t));

    n = kngx_collect(m, svc, sp, proto, 0, NULL, &nslices);
    if (n == 0) {
        n = kngx_collect(m, svc, sp, proto, 1, NULL, &nslices);
        fallback = (n > 0);
    }

    out->nslices = nslices;
    out->fallback = fallback;

    if (n == 0) {
        return 0;
    }

    tmp = malloc(n * sizeof(kngx_ep_tmp_t));
    if (tmp == NULL) {
        return -1;
    }

    kngx_collect(m, svc, sp, proto, fallback, tmp, &nslices);
    qsort(tmp, n, sizeof(kngx_ep_tmp_t), kngx_ep_cmp);

    out->items = kube_arena_calloc(arena, n, sizeof(kngx_endpoint_t));
    if (out->items == NULL) {
        free(tmp);
        return -1;
    }

    for (i = 0, k = 0; i < n; i++) {
        if (i > 0 && kngx_ep_cmp(&tmp[i - 1], &tmp[i]) == 0) {
            continue;
        }

        /* canonical text (the input may spell IPv6 differently) */
        if (inet_ntop(tmp[i].a->family, tmp[i].a->bin, text, sizeof(text))
            == NULL)
        {
            continue;
        }

        out->items[k].addr = kube_arena_strdup(arena, text);
        if (out->items[k].addr == NULL) {
            free(tmp);
            return -1;
        }

        out->items[k].family = tmp[i].a->family;
        out->items[k].port = tmp[i].port;
        k++;
    }

    out->n = k;
    free(tmp);

    return 0;
}
