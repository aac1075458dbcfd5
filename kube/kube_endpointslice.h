/*
 * kubengx kube/: EndpointSlice (discovery.k8s.io/v1) decoding.
 *
 * Ownership: kube_endpointslice_decode*() returns one kube_endpointslice_t
 * whose strings and arrays all live in a private arena; release everything
 * with kube_endpointslice_free().  Nothing points into the JSON input, so
 * the json_t may be released right after decoding.
 *
 * Strings are never NULL unless documented ("NULL if absent").
 */

#ifndef KUBE_ENDPOINTSLICE_H
#define KUBE_ENDPOINTSLICE_H

#include <jansson.h>

#include "kube_common.h"


#define KUBE_ES_SERVICE_NAME_LABEL  "kubernetes.io/service-name"
#define KUBE_ES_TRIGGER_TIME_ANNOTATION                                       \
    "endpoints.kubernetes.io/last-change-trigger-time"

/* at most this many warnings are kept; nwarnings_dropped counts the rest */
#define KUBE_ES_MAX_WARNINGS  16


typedef enum {
    KUBE_ADDR_UNKNOWN = 0,     /* absent or unrecognised addressType */
    KUBE_ADDR_IPV4,
    KUBE_ADDR_IPV6,
    KUBE_ADDR_FQDN
} kube_addr_type_e;


typedef enum {
    KUBE_PROTO_TCP = 0,
    KUBE_PROTO_UDP,
    KUBE_PROTO_SCTP,
    KUBE_PROTO_OTHER           /* kept, see protocol string */
} kube_proto_e;


typedef struct {
    const char      *name;          /* "" allowed (unnamed Service port) */
    const char      *protocol;      /* "TCP" when absent */
    kube_proto_e     proto;
    unsigned         has_port:1;    /* 0: "port" absent or null */
    uint16_t         port;          /* 1-65535 when has_port */
    const char      *app_protocol;  /* NULL if absent */
} kube_es_port_t;


typedef struct {
    const char      *text;          /* as in the object */
    int              family;        /* AF_INET, AF_INET6; 0 for FQDN */
    unsigned char    bin[16];       /* network order; 4 bytes for AF_INET */
} kube_es_address_t;


typedef struct {
    kube_es_address_t  *addresses;
    size_t              naddresses;   /* >= 1: empty endpoints are skipped */

    unsigned            ready:1;       /* nil => true */
    unsigned            serving:1;     /* nil => true */
    unsigned            terminating:1; /* nil => false */

    const char         *hostname;      /* NULL if absent */
    const char         *node_name;     /* NULL if absent */
    const char         *zone;          /* NULL if absent */
    const char         *target_kind;   /* targetRef.kind, NULL if absent */
    const char         *target_name;   /* targetRef.name, NULL if absent */

    const char        **for_zones;     /* hints.forZones[].name */
    size_t              nfor_zones;
} kube_es_endpoint_t;


typedef struct kube_arena_s  kube_es_arena_t;

typedef struct {
    kube_es_arena_t     *arena;        /* private */

    const char          *ns;           /* metadata.namespace, "" if absent */
    const char          *name;         /* metadata.name, never empty */
    const char          *service_name; /* label; NULL if absent */
    const char          *resource_version;  /* "" if absent */
    const char          *address_type_str;  /* "" if absent */
    kube_addr_type_e     address_type;

    kube_es_port_t      *ports;
    size_t               nports;

    kube_es_endpoint_t  *endpoints;
    size_t               nendpoints;

    unsigned             has_trigger_time:1;
    int64_t              trigger_time_ms;   /* epoch ms if has_trigger_time */

    const char         **warnings;     /* skipped entries, with the field */
    size_t               nwarnings;
    size_t               nwarnings_dropped;
} kube_endpointslice_t;


/*
 * Decode one EndpointSlice object.  Bad ports, addresses and endpoints are
 * skipped and described in es->warnings.  Returns NULL (and sets err) if
 * obj is not an object, metadata or metadata.name is missing, or memory
 * runs out.  allocator may be NULL (malloc).
 */
kube_endpointslice_t *kube_endpointslice_decode(json_t *obj,
    const kube_allocator_t *allocator, kube_err_t *err);

/* The same from JSON text (len bytes, need not be NUL-terminated). */
kube_endpointslice_t *kube_endpointslice_decode_text(const char *text,
    size_t len, const kube_allocator_t *allocator, kube_err_t *err);

void kube_endpointslice_free(kube_endpointslice_t *es);

/*
 * The slice as compact JSON with what kube_endpointslice_decode() reads
 * and endpoint selection uses (name, namespace, the service-name label,
 * the last-change-trigger-time annotation, addressType, ports, endpoints
 * with addresses, conditions, hostname, nodeName, zone, targetRef and
 * hints.forZones; warnings are not kept): decoding it gives back the
 * slice.  Heap memory (free()), its length in *len; NULL when out of
 * memory.  (kube_endpointslice_encode.c)
 */
char *kube_endpointslice_encode(const kube_endpointslice_t *es, size_t *len);

/* "IPv4", "IPv6", "FQDN" -> enum; anything else KUBE_ADDR_UNKNOWN */
kube_addr_type_e kube_addr_type_parse(const char *s);

#endif /* KUBE_ENDPOINTSLICE_H */
