/*
 * kubengx kube/: the endpoint list of one Service port from its
 * EndpointSlices.  See kube_svc_endpoints.h for the rules.
 */

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kube_svc_endpoints.h"


static int kube_svc_port_match(const kube_es_port_t *p,
    const kube_port_selector_t *sel);
static int kube_svc_endpoint_cmp(const void *a, const void *b);
static void kube_svc_endpoint_text(kube_svc_endpoint_t *ep);


int
kube_port_selector_parse(const char *s, size_t len,
    kube_port_selector_t *sel, kube_err_t *err)
{
    size_t    i;
    unsigned  n;
    int       digits;

    memset(sel, 0, sizeof(kube_port_selector_t));

    if (len == 0) {
        sel->kind = KUBE_PORTSEL_UNNAMED;
        return 0;
    }

    digits = 1;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            digits = 0;
            break;
        }
    }

    if (digits) {
        n = 0;

        for (i = 0; i < len; i++) {
            n = n * 10 + (unsigned) (s[i] - '0');
            if (n > 65535) {
                break;
            }
        }

        if (n == 0 || n > 65535) {
            kube_err_set(err, "port number \"%.*s\" is not in 1..65535",
                         (int) (len > 16 ? 16 : len), s);
            return -1;
        }

        sel->kind = KUBE_PORTSEL_NUMBER;
        sel->number = (uint16_t) n;
        return 0;
    }

    if (len > 63) {
        kube_err_set(err, "port name is longer than 63 characters");
        return -1;
    }

    for (i = 0; i < len; i++) {
        if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')) {
            continue;
        }

        if (s[i] == '-' && i != 0 && i != len - 1) {
            continue;
        }

        kube_err_set(err, "invalid port name \"%.*s\": lowercase letters, "
                     "digits and inner '-' only", (int) len, s);
        return -1;
    }

    sel->kind = KUBE_PORTSEL_NAME;
    sel->name = s;
    return 0;
}


static int
kube_svc_port_match(const kube_es_port_t *p, const kube_port_selector_t *sel)
{
    if (p->proto != sel->proto || !p->has_port) {
        return 0;
    }

    switch (sel->kind) {

    case KUBE_PORTSEL_NAME:
        return sel->name != NULL && strcmp(p->name, sel->name) == 0;

    case KUBE_PORTSEL_NUMBER:
        return p->port == sel->number;

    default: /* KUBE_PORTSEL_UNNAMED */
        return p->name[0] == '\0';
    }
}


static int
kube_svc_endpoint_cmp(const void *a, const void *b)
{
    int                         rc;
    size_t                      len;
    const kube_svc_endpoint_t  *x = a, *y = b;

    if (x->family != y->family) {
        return x->family == AF_INET ? -1 : 1;
    }

    len = x->family == AF_INET ? 4 : 16;

    rc = memcmp(x->bin, y->bin, len);
    if (rc != 0) {
        return rc;
    }

    return (int) x->port - (int) y->port;
}


static void
kube_svc_endpoint_text(kube_svc_endpoint_t *ep)
{
    char  addr[INET6_ADDRSTRLEN];

    if (inet_ntop(ep->family, ep->bin, addr, sizeof(addr)) == NULL) {
        addr[0] = '\0';
    }

    if (ep->family == AF_INET6) {
        snprintf(ep->text, sizeof(ep->text), "[%s]:%u", addr,
                 (unsigned) ep->port);

    } else {
        snprintf(ep->text, sizeof(ep->text), "%s:%u", addr,
                 (unsigned) ep->port);
    }
}



/* FNV-1a over the metadata the table shows and balances by */

static uint64_t
kube_svc_fnv(uint64_t h, const char *s)
{
    if (s != NULL) {
        for ( /* void */ ; *s; s++) {
            h = (h ^ (unsigned char) *s) * 0x100000001b3ULL;
        }
    }

    return (h ^ 0xff) * 0x100000001b3ULL;      /* field separator */
}


static uint64_t
kube_svc_endpoint_meta(const kube_es_endpoint_t *e)
{
    size_t    i;
    uint64_t  h = 0xcbf29ce484222325ULL;

    h = kube_svc_fnv(h, e->zone);
    h = kube_svc_fnv(h, e->node_name);
    h = kube_svc_fnv(h, e->target_name);

    for (i = 0; i < e->nfor_zones; i++) {
        h = kube_svc_fnv(h, e->for_zones[i]);
    }

    return h;
}

/* a slice whose addresses endpoint selection can use */

static int
kube_svc_slice_usable(const kube_endpointslice_t *es)
{
    return es != NULL
           && (es->address_type == KUBE_ADDR_IPV4
               || es->address_type == KUBE_ADDR_IPV6
               || es->address_type == KUBE_ADDR_UNKNOWN);
}


/* an upper bound of the endpoints (every endpoint once per matching
 * port); the newest trigger time goes to out */

static size_t
kube_svc_count(const kube_endpointslice_t *const *slices, size_t nslices,
    const kube_port_selector_t *sel, kube_svc_endpoints_t *out)
{
    size_t                       i, j, cap;
    const kube_endpointslice_t  *es;

    cap = 0;

    for (i = 0; i < nslices; i++) {
        es = slices[i];

        if (es == NULL) {
            continue;
        }

        if (es->has_trigger_time
            && (!out->has_trigger_time
                || es->trigger_time_ms > out->trigger_time_ms))
        {
            out->has_trigger_time = 1;
            out->trigger_time_ms = es->trigger_time_ms;
        }

        if (!kube_svc_slice_usable(es)) {
            continue;
        }

        for (j = 0; j < es->nports; j++) {
            if (kube_svc_port_match(&es->ports[j], sel)) {
                cap += es->nendpoints;
            }
        }
    }

    return cap;
}


/*
 * Every endpoint of every matching port, with that slice's port number:
 * a named targetPort may resolve to different numbers on different pods,
 * whose slices then carry the same port name with different numbers.
 */

static size_t
kube_svc_collect(const kube_endpointslice_t *const *slices, size_t nslices,
    const kube_port_selector_t *sel, kube_svc_endpoint_t *all)
{
    size_t                       i, j, k, n;
    kube_svc_endpoint_t         *ep;
    const kube_es_port_t        *port;
    const kube_es_address_t     *a;
    const kube_es_endpoint_t    *e;
    const kube_endpointslice_t  *es;

    n = 0;

    for (i = 0; i < nslices; i++) {
        es = slices[i];

        if (!kube_svc_slice_usable(es)) {
            continue;
        }

        for (j = 0; j < es->nports; j++) {
            port = &es->ports[j];

            if (!kube_svc_port_match(port, sel)) {
                continue;
            }

            for (k = 0; k < es->nendpoints; k++) {
                e = &es->endpoints[k];

                if (e->naddresses == 0) {
                    continue;
                }

                a = &e->addresses[0];

                if (a->family != AF_INET && a->family != AF_INET6) {
                    continue;
                }

                ep = &all[n++];
                ep->family = a->family;
                memcpy(ep->bin, a->bin, a->family == AF_INET ? 4 : 16);
                ep->port = port->port;
                ep->ready = e->ready;
                ep->serving = e->serving;
                ep->terminating = e->terminating;
                ep->src = e;
            }
        }
    }

    return n;
}


/* sort, then merge duplicates (conditions OR-ed); the new count */

static size_t
kube_svc_merge(kube_svc_endpoint_t *all, size_t n)
{
    size_t  i, k;

    qsort(all, n, sizeof(kube_svc_endpoint_t), kube_svc_endpoint_cmp);

    k = 0;

    for (i = 0; i < n; i++) {
        if (k > 0 && kube_svc_endpoint_cmp(&all[k - 1], &all[i]) == 0) {
            all[k - 1].ready |= all[i].ready;
            all[k - 1].serving |= all[i].serving;
            all[k - 1].terminating |= all[i].terminating;

            if (all[i].ready && !all[k - 1].src->ready) {
                all[k - 1].src = all[i].src;
            }

            continue;
        }

        if (k != i) {
            all[k] = all[i];
        }

        k++;
    }

    for (i = 0; i < k; i++) {
        all[i].meta = kube_svc_endpoint_meta(all[i].src);
    }

    return k;
}


/* the ready ones, or else the serving && terminating ones, into out */

static void
kube_svc_select(kube_svc_endpoint_t *all, size_t n,
    kube_svc_endpoints_t *out)
{
    size_t  i, k, nready, nfallback;

    nready = 0;
    nfallback = 0;

    for (i = 0; i < n; i++) {
        if (all[i].ready) {
            nready++;

        } else if (all[i].serving && all[i].terminating) {
            nfallback++;
        }
    }

    if (nready == 0 && nfallback > 0) {
        out->fallback = 1;
    }

    k = 0;

    for (i = 0; i < n; i++) {
        if (out->fallback ? !all[i].ready && all[i].serving
                            && all[i].terminating
                          : all[i].ready)
        {
            all[k] = all[i];
            kube_svc_endpoint_text(&all[k]);
            k++;
        }
    }

    if (k == 0) {
        free(all);
        return;
    }

    out->endpoints = all;
    out->n = k;
}


int
kube_svc_endpoints_compute(const kube_endpointslice_t *const *slices,
    size_t nslices, const kube_port_selector_t *sel,
    kube_svc_endpoints_t *out, kube_err_t *err)
{
    size_t                cap, n;
    kube_svc_endpoint_t  *all;

    memset(out, 0, sizeof(kube_svc_endpoints_t));
    kube_err_clear(err);

    cap = kube_svc_count(slices, nslices, sel, out);

    if (cap == 0) {
        return 0;
    }

    all = calloc(cap, sizeof(kube_svc_endpoint_t));
    if (all == NULL) {
        kube_err_set(err, "out of memory for %zu endpoints", cap);
        return -1;
    }

    n = kube_svc_collect(slices, nslices, sel, all);
    n = kube_svc_merge(all, n);

    out->candidates = n;

    kube_svc_select(all, n, out);

    return 0;
}


void
kube_svc_endpoints_free(kube_svc_endpoints_t *out)
{
    free(out->endpoints);
    out->endpoints = NULL;
    out->n = 0;
}


int
kube_svc_endpoints_equal(const kube_svc_endpoints_t *a,
    const kube_svc_endpoints_t *b)
{
    size_t                      i;
    const kube_svc_endpoint_t  *x, *y;

    if (a->n != b->n || a->fallback != b->fallback) {
        return 0;
    }

    for (i = 0; i < a->n; i++) {
        x = &a->endpoints[i];
        y = &b->endpoints[i];

        if (kube_svc_endpoint_cmp(x, y) != 0
            || x->meta != y->meta
            || x->ready != y->ready
            || x->serving != y->serving
            || x->terminating != y->terminating)
        {
            return 0;
        }
    }

    return 1;
}
