/*
 * kubengx kube/: a canary Ingress's settings (ingress-nginx's
 * nginx.ingress.kubernetes.io/canary* annotations) and the per-request
 * decision, shared by the module (which reads them from the watched
 * Ingresses into its shm zone) and the generator.
 *
 * The settings are a flat, fixed-size struct without pointers, so that
 * the module can copy it into shared memory as it is.
 */

#ifndef KUBE_CANARY_H
#define KUBE_CANARY_H

#include <stddef.h>
#include <stdint.h>

#include "kube_common.h"


#define KUBE_CANARY_PREFIX       "nginx.ingress.kubernetes.io/"

/* the longest header or cookie name, header value and pattern kept */
#define KUBE_CANARY_NAME_LEN     128
#define KUBE_CANARY_VALUE_LEN    256
#define KUBE_CANARY_PATTERN_LEN  512

#define KUBE_CANARY_TOTAL_MAX    1000000


typedef struct kube_canary_s {
    uint32_t    canary;          /* "canary" is "true" */
    uint32_t    weight;          /* canary-weight, 0..weight_total */
    uint32_t    weight_total;    /* canary-weight-total, default 100 */
    char        header[KUBE_CANARY_NAME_LEN];           /* "": none */
    char        header_value[KUBE_CANARY_VALUE_LEN];    /* "": none */
    char        header_pattern[KUBE_CANARY_PATTERN_LEN];    /* "": none */
    char        cookie[KUBE_CANARY_NAME_LEN];           /* "": none */
} kube_canary_t;


/* an annotation's value by its full key, NULL when absent */
typedef const char *(*kube_annotation_get_pt)(void *ctx, const char *key);

/*
 * The settings from the annotations.  An invalid value (a weight that is
 * not a number in range, a header or cookie name that is not an HTTP
 * token, a value too long) is left out, as ingress-nginx ignores an
 * invalid annotation: the count of those is returned, the first one
 * described in err.  The pattern is not compiled here (the caller
 * validates it as a PCRE).
 */
int kube_canary_parse(kube_canary_t *c, kube_annotation_get_pt get,
    void *ctx, kube_err_t *err);

/* the same from an Ingress object's metadata.annotations */
int kube_canary_parse_json(kube_canary_t *c, json_t *ingress,
    kube_err_t *err);


/* whether a request goes to the canary (1) or the primary (0) */
typedef struct {
    const char  *header;         /* the canary-by-header header; NULL:
                                    absent */
    size_t       header_len;
    const char  *cookie;         /* the canary-by-cookie cookie; NULL:
                                    absent */
    size_t       cookie_len;
    int          sticky;         /* the affinity cookie says: -1 nothing,
                                    0 primary, 1 canary */
    uint32_t     draw;           /* a uniform random number */

    /* header_pattern: 1 matched, 0 not, -1 error (counts as no) */
    int        (*match)(void *ctx, const char *s, size_t len);
    void        *match_ctx;
} kube_canary_req_t;

/*
 * ingress-nginx's order: the header (canary-by-header-value: exact match
 * routes to the canary, else -pattern: a match does, else "always" /
 * "never"; any other value falls through), then the cookie ("always" /
 * "never"), then the affinity cookie (req->sticky), then the weight:
 * canary when draw % weight_total < weight.
 */
int kube_canary_decide(const kube_canary_t *c, const kube_canary_req_t *req);


#endif /* KUBE_CANARY_H */
