
/*
 * kubengx generator: ingress-nginx's rate limits, per client address
 * ($binary_remote_addr), with a zone of their own per Ingress (named
 * from its namespace and name by names.c, so distinct Ingresses never
 * share one):
 *
 *   limit-rps N               limit_req_zone ... rate=Nr/s, and in each
 *                             location limit_req burst=N*M nodelay
 *   limit-rpm N               the same per minute
 *   limit-burst-multiplier M  the burst factor (default 5, as
 *                             ingress-nginx)
 *   limit-connections N       limit_conn_zone, limit_conn N
 *
 * Over the limit: 503 (nginx's default, and ingress-nginx's).  Zones are
 * 5 MB each (about 80,000 addresses).  limit-whitelist / -allowlist are
 * not supported.
 */

#include <stdio.h>
#include <string.h>

#include "annotations.h"
#include "escape.h"


typedef struct {
    long           rps;
    long           rpm;
    long           conn;
    long           mult;
} kngx_ann_limits_t;


static int
kngx_ann_limits_parse(kngx_ann_ctx_t *ctx, void *conf, int id,
    const char *v)
{
    kngx_ann_limits_t  *c = conf;

    switch (id) {
    case KNGX_LI_RPS:
        return kngx_ann_int(ctx, v, 1, 1000000, &c->rps);
    case KNGX_LI_RPM:
        return kngx_ann_int(ctx, v, 1, 1000000, &c->rpm);
    case KNGX_LI_CONN:
        return kngx_ann_int(ctx, v, 1, 1000000, &c->conn);
    default:    /* KNGX_LI_MULT */
        return kngx_ann_int(ctx, v, 1, 1000, &c->mult);
    }
}


/* the zone base name of ing; "" when it does not fit (not reached) */
static void
kngx_ann_zone(const kngx_ingress_t *ing, char *out, size_t size)
{
    if (kngx_name_cert(out, size, ing->meta.ns, ing->meta.name) != 0) {
        out[0] = '\0';
    }
}


static void
kngx_ann_limits_http(kngx_buf_t *b, const void *conf,
    const kngx_ingress_t *ing)
{
    const kngx_ann_limits_t  *c = conf;
    char                      z[KNGX_NAME_CERT_MAX + 1];

    kngx_ann_zone(ing, z, sizeof(z));
    if (z[0] == '\0') {
        return;
    }

    if (c->rps) {
        kngx_buf_printf(b, "limit_req_zone $binary_remote_addr "
                        "zone=kubengx_rps_%s:5m rate=%ldr/s;\n", z, c->rps);
    }

    if (c->rpm) {
        kngx_buf_printf(b, "limit_req_zone $binary_remote_addr "
                        "zone=kubengx_rpm_%s:5m rate=%ldr/m;\n", z, c->rpm);
    }

    if (c->conn) {
        kngx_buf_printf(b, "limit_conn_zone $binary_remote_addr "
                        "zone=kubengx_conn_%s:5m;\n", z);
    }
}


static void
kngx_ann_limits_emit(kngx_buf_t *b, const void *conf, const kngx_route_t *r,
    const char *certs)
{
    const kngx_ann_limits_t  *c = conf;
    const kngx_ingress_t     *ing = r->target.ingress;
    char                      z[KNGX_NAME_CERT_MAX + 1];
    long                      mult = c->mult ? c->mult : 5;

    if (ing == NULL) {
        return;
    }

    kngx_ann_zone(ing, z, sizeof(z));
    if (z[0] == '\0') {
        return;
    }

    if (c->rps) {
        kngx_buf_printf(b, "        limit_req zone=kubengx_rps_%s "
                        "burst=%ld nodelay;\n", z, c->rps * mult);
    }

    if (c->rpm) {
        kngx_buf_printf(b, "        limit_req zone=kubengx_rpm_%s "
                        "burst=%ld nodelay;\n", z, c->rpm * mult);
    }

    if (c->conn) {
        kngx_buf_printf(b, "        limit_conn kubengx_conn_%s %ld;\n", z,
                        c->conn);
    }
}


const kngx_ann_family_t  kngx_ann_limits_family = {
    "limits", 6, sizeof(kngx_ann_limits_t),
    kngx_ann_limits_parse, NULL, kngx_ann_limits_emit, kngx_ann_limits_http
};
