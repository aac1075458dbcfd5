
/*
 * kubengx generator: ingress-nginx's rate limit annotations, nginx's
 * limit_req, limit_conn and limit_rate:
 *
 *   limit-rps               requests per second per client address:
 *                           limit_req_zone rate=Nr/s, limit_req burst=
 *                           N * multiplier nodelay
 *   limit-rpm               the same per minute (both: both apply)
 *   limit-burst-multiplier  the burst as a multiple of the rate (5)
 *   limit-connections       open connections per client address
 *   limit-whitelist         ranges (access.c's syntax) never limited by
 *                           the three above
 *   limit-rate              limit_rate Nk (kilobytes per second of a
 *                           response; nginx counts per connection)
 *   limit-rate-after        limit_rate_after Nk
 *
 * The zones are per Ingress, shared by its locations, as ingress-nginx:
 * kubengx_NS_NAME_rps, _rpm, _conn (names.c's cert base: injective),
 * 5 MB each (tens of thousands of client addresses), keyed on
 * $binary_remote_addr (the client after the real-IP settings), or on a
 * map that gives "" (not limited) for limit-whitelist.  A refused
 * request gets 503, ingress-nginx's default limit-req-status-code.
 * Each nginx (each replica) counts on its own: with N replicas behind a
 * load balancer a client may get up to N times the rate.
 */

#include <stdio.h>
#include <string.h>

#include "annotations.h"
#include "escape.h"
#include "plan_parts.h"


typedef struct {
    long              rps;
    long              rpm;
    long              conn;
    long              mult;
    long              rate;          /* KB/s, 0: none */
    long              after;
    unsigned          rate_set:1;
    unsigned          after_set:1;
    kngx_ann_cidrs_t  white;
    char              id[KNGX_NAME_CERT_MAX + 1];
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

    case KNGX_LI_MULT:
        return kngx_ann_int(ctx, v, 1, 1000, &c->mult);

    case KNGX_LI_WHITE:
        return kngx_ann_cidrs(ctx, v, &c->white);

    case KNGX_LI_RATE:
        c->rate_set = 1;
        return kngx_ann_int(ctx, v, 0, 100000000, &c->rate);

    default:    /* KNGX_LI_AFTER */
        c->after_set = 1;
        return kngx_ann_int(ctx, v, 0, 100000000, &c->after);
    }
}


static int
kngx_ann_limits_finish(kngx_ann_ctx_t *ctx, void *conf)
{
    kngx_ann_limits_t  *c = conf;

    if (c->mult == 0) {
        c->mult = 5;
    }

    return kngx_name_cert(c->id, sizeof(c->id), ctx->ing->meta.ns,
                          ctx->ing->meta.name) == 0 ? KNGX_ANN_OK
                                                    : KNGX_ANN_NOMEM;
}


static void
kngx_ann_limits_emit(kngx_buf_t *b, const void *conf, const kngx_route_t *r,
    const char *certs)
{
    const kngx_ann_limits_t  *c = conf;

    if (c->rps) {
        kngx_buf_printf(b, "        limit_req zone=kubengx_%s_rps "
                        "burst=%ld nodelay;\n", c->id, c->rps * c->mult);
    }

    if (c->rpm) {
        kngx_buf_printf(b, "        limit_req zone=kubengx_%s_rpm "
                        "burst=%ld nodelay;\n", c->id, c->rpm * c->mult);
    }

    if (c->rps || c->rpm) {
        kngx_buf_printf(b, "        limit_req_status 503;\n");
    }

    if (c->conn) {
        kngx_buf_printf(b, "        limit_conn kubengx_%s_conn %ld;\n"
                        "        limit_conn_status 503;\n", c->id, c->conn);
    }

    if (c->rate_set) {
        kngx_buf_printf(b, "        limit_rate %ldk;\n", c->rate);
    }

    if (c->after_set) {
        kngx_buf_printf(b, "        limit_rate_after %ldk;\n", c->after);
    }
}


/* the zones (and the whitelist's key) of the i-th Ingress of the model */
static void
kngx_ann_limits_zones(kngx_buf_t *b, const kngx_ann_limits_t *c, size_t i)
{
    char    key[64];
    size_t  j;

    if (!c->rps && !c->rpm && !c->conn) {
        return;
    }

    snprintf(key, sizeof(key), "$binary_remote_addr");

    if (c->white.n) {
        kngx_buf_printf(b, "geo $kubengx_limit_white_%zu {\n"
                        "    default 0;\n", i);
        for (j = 0; j < c->white.n; j++) {
            kngx_buf_printf(b, "    %s 1;\n", c->white.a[j].s);
        }
        kngx_buf_printf(b, "}\n\n"
                        "map $kubengx_limit_white_%zu $kubengx_limit_key_%zu"
                        " {\n"
                        "    0       $binary_remote_addr;\n"
                        "    default \"\";\n"
                        "}\n\n", i, i);
        snprintf(key, sizeof(key), "$kubengx_limit_key_%zu", i);
    }

    if (c->rps) {
        kngx_buf_printf(b, "limit_req_zone %s zone=kubengx_%s_rps:5m "
                        "rate=%ldr/s;\n", key, c->id, c->rps);
    }

    if (c->rpm) {
        kngx_buf_printf(b, "limit_req_zone %s zone=kubengx_%s_rpm:5m "
                        "rate=%ldr/m;\n", key, c->id, c->rpm);
    }

    if (c->conn) {
        kngx_buf_printf(b, "limit_conn_zone %s zone=kubengx_%s_conn:5m;\n",
                        key, c->id);
    }

    kngx_buf_printf(b, "\n");
}


void
kngx_ann_limits_http(kngx_buf_t *b, const kngx_plan_t *p)
{
    const kngx_ann_t  *ann;
    size_t             i;

    for (i = 0; i < p->ningresses; i++) {
        ann = kngx_plan_ann(p, p->ingresses[i]);

        if (ann && ann->conf[kngx_ann_limits_family.index]) {
            kngx_ann_limits_zones(b,
                ann->conf[kngx_ann_limits_family.index],
                (size_t) (p->ingresses[i] - p->model->ingresses));
        }
    }
}


const kngx_ann_family_t  kngx_ann_limits_family = {
    "limits", 6, sizeof(kngx_ann_limits_t),
    kngx_ann_limits_parse, kngx_ann_limits_finish, kngx_ann_limits_emit,
    NULL
};
