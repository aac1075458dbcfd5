/*
 * kubengx kube/: what the nginx module needs of a core/v1 Service: its
 * ports (name, port, protocol), and which EndpointSlice port serves a
 * Service port.
 *
 * A Service port is named by an Ingress backend (port.number: the
 * Service's spec.ports[].port; port.name: its name) and by the module's
 * port= (the same).  EndpointSlices carry the Service port's NAME (""
 * or absent for the one unnamed port) with the number the pods listen on
 * (the resolved targetPort, which may differ between pods for a named
 * targetPort), as kube-proxy reads them.  So a Service port selector is
 * turned into the slice port name it stands for: kube_service_resolve().
 *
 * Ownership as kube_endpointslice.h: one arena per decoded Service,
 * released with kube_service_free(); nothing points into the JSON.
 */

#ifndef KUBE_SERVICE_H
#define KUBE_SERVICE_H

#include <jansson.h>

#include "kube_common.h"
#include "kube_endpointslice.h"
#include "kube_svc_endpoints.h"


typedef struct {
    const char          *name;       /* "" for the unnamed port */
    const char          *protocol;   /* "TCP" when absent */
    kube_proto_e         proto;
    uint16_t             port;       /* spec.ports[].port, 1-65535 */
} kube_service_port_t;


typedef struct {
    kube_es_arena_t     *arena;      /* private */
    const char          *ns;         /* metadata.namespace, "" if absent */
    const char          *name;       /* metadata.name, never empty */
    kube_service_port_t *ports;      /* entries without a valid port are
                                        left out */
    size_t               nports;
} kube_service_t;


/*
 * Decode a Service object (metadata and spec.ports only).  NULL with err
 * set when obj is not an object, metadata.name is missing, or memory
 * runs out.  allocator may be NULL (malloc).
 */
kube_service_t *kube_service_decode(json_t *obj,
    const kube_allocator_t *allocator, kube_err_t *err);

/* the same from JSON text (len bytes, need not be NUL-terminated) */
kube_service_t *kube_service_decode_text(const char *text, size_t len,
    const kube_allocator_t *allocator, kube_err_t *err);

void kube_service_free(kube_service_t *svc);

/*
 * The Service as compact JSON with what kube_service_decode() reads
 * (metadata.name, metadata.namespace, spec.ports[].name/port/protocol).
 * Heap memory (free()), length in *len; NULL when out of memory.
 */
char *kube_service_encode(const kube_service_t *svc, size_t *len);

/*
 * The EndpointSlice port selector for a Service port selector:
 *
 *   KUBE_PORTSEL_NUMBER n  the port whose spec.ports[].port is n;
 *   KUBE_PORTSEL_NAME s    the port named s;
 *   KUBE_PORTSEL_UNNAMED   the port named "" (a single-port Service);
 *
 * always among the ports of protocol sel->proto (TCP by default; UDP for
 * the stream module's protocol=udp).  Returns 0 and sets *out to
 * KUBE_PORTSEL_NAME with that port's name ("" included; pointing into
 * svc) and protocol, or -1 when the Service has no such port.
 */
int kube_service_resolve(const kube_service_t *svc,
    const kube_port_selector_t *sel, kube_port_selector_t *out);

#endif /* KUBE_SERVICE_H */
