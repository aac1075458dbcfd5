/*
 * kubengx kube/: the endpoint list of one Service port, computed from the
 * EndpointSlices of that Service.
 *
 * Semantics (kube-proxy's):
 *
 *   - union over all slices given (the caller passes every slice labelled
 *     kubernetes.io/service-name=NAME in the Service's namespace);
 *   - per slice, the port is chosen by a selector of EndpointSlice ports
 *     (not of Service ports: kube_service_resolve() turns a Service port
 *     into the slice port name that serves it, "" for the unnamed one):
 *     by slice port name (KUBE_PORTSEL_NAME), by endpoint port number
 *     (KUBE_PORTSEL_NUMBER: any slice port whose "port" equals the
 *     number), or the unnamed port (KUBE_PORTSEL_UNNAMED: the port with
 *     name ""); only TCP ports; a slice without a matching port
 *     contributes nothing; each endpoint gets its own slice's port
 *     number (a named targetPort may resolve to different numbers on
 *     different pods, in different slices);
 *   - only the first address of an endpoint is used (as kube-proxy does);
 *     FQDN slices are skipped; IPv4 and IPv6 both;
 *   - deduplicated by address + port; a duplicate's conditions are OR-ed;
 *   - the endpoints that are ready; when none is ready, those that are
 *     serving && terminating (the kube-proxy fallback); "fallback" says
 *     which set was taken;
 *   - sorted by family, address, port, so equal inputs give equal outputs
 *     whatever the slice order.
 *
 * Plain C, no nginx types; the result is one malloc'ed block.
 */

#ifndef KUBE_SVC_ENDPOINTS_H
#define KUBE_SVC_ENDPOINTS_H

#include "kube_common.h"
#include "kube_endpointslice.h"


typedef enum {
    KUBE_PORTSEL_NAME = 0,
    KUBE_PORTSEL_NUMBER,
    KUBE_PORTSEL_UNNAMED
} kube_portsel_e;


typedef struct {
    kube_portsel_e   kind;
    const char      *name;        /* KUBE_PORTSEL_NAME */
    uint16_t         number;      /* KUBE_PORTSEL_NUMBER */
    kube_proto_e     proto;       /* the ports' protocol; 0: TCP */
} kube_port_selector_t;


typedef struct {
    int              family;      /* AF_INET or AF_INET6 */
    unsigned char    bin[16];     /* network order */
    uint16_t         port;        /* host order */
    unsigned         ready:1;
    unsigned         serving:1;
    unsigned         terminating:1;
    char             text[64];    /* "10.0.0.1:8080", "[fd00::1]:8080" */

    /* the slice endpoint it came from (zone, nodeName, targetRef): valid
     * only as long as the slices passed to the computation */
    const kube_es_endpoint_t  *src;

    /* a digest of src's zone, nodeName, targetRef.name and hints, so that
     * lists can be compared after the slices are gone */
    uint64_t         meta;
} kube_svc_endpoint_t;


typedef struct {
    kube_svc_endpoint_t  *endpoints;    /* NULL when n == 0 */
    size_t                n;
    size_t                candidates;   /* distinct addr:port seen */
    unsigned              fallback:1;   /* serving && terminating used */
    unsigned              has_trigger_time:1;
    int64_t               trigger_time_ms;  /* newest of the slices */
} kube_svc_endpoints_t;


/*
 * Parse "http", "8080" or "" into a selector (name points into s); the
 * module parses port= with it (a Service port selector, see
 * kube_service.h).
 * Returns 0, or -1 for a number outside 1..65535 or a name that is not a
 * valid port name (DNS-1123 label-like, up to 63 characters).
 */
int kube_port_selector_parse(const char *s, size_t len,
    kube_port_selector_t *sel, kube_err_t *err);

/*
 * Compute the endpoint list.  slices may contain NULL entries (skipped).
 * Returns 0 (out filled; release with kube_svc_endpoints_free) or -1 when
 * memory runs out (err set, out empty).
 */
int kube_svc_endpoints_compute(const kube_endpointslice_t *const *slices,
    size_t nslices, const kube_port_selector_t *sel,
    kube_svc_endpoints_t *out, kube_err_t *err);

void kube_svc_endpoints_free(kube_svc_endpoints_t *out);

/* 1 when a and b hold the same endpoints with the same conditions and
 * the same zone, node, pod and hints */
int kube_svc_endpoints_equal(const kube_svc_endpoints_t *a,
    const kube_svc_endpoints_t *b);

#endif /* KUBE_SVC_ENDPOINTS_H */
