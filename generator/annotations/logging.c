
/*
 * kubengx generator: ingress-nginx's logging annotations, in the
 * Ingress's locations:
 *
 *   enable-access-log    "false": access_log off
 *   enable-rewrite-log   "true": rewrite_log on (notices in the error
 *                        log, at the level its error_log keeps)
 */

#include "annotations.h"


typedef struct {
    unsigned       access_off:1;
    unsigned       rewrite_log:1;
} kngx_ann_logging_t;


static int
kngx_ann_logging_parse(kngx_ann_ctx_t *ctx, void *conf, int id,
    const char *v)
{
    kngx_ann_logging_t  *c = conf;
    unsigned             on;

    if (kngx_ann_bool(ctx, v, &on) != KNGX_ANN_OK) {
        return KNGX_ANN_BAD;
    }

    if (id == KNGX_LG_ACCESS) {
        c->access_off = !on;
    } else {
        c->rewrite_log = on;
    }

    return KNGX_ANN_OK;
}


static void
kngx_ann_logging_emit(kngx_buf_t *b, const void *conf, const kngx_route_t *r,
    const char *certs)
{
    const kngx_ann_logging_t  *c = conf;

    if (c->access_off) {
        kngx_buf_printf(b, "        access_log off;\n");
    }

    if (c->rewrite_log) {
        kngx_buf_printf(b, "        rewrite_log on;\n");
    }
}


const kngx_ann_family_t  kngx_ann_logging_family = {
    "logging", 7, sizeof(kngx_ann_logging_t),
    kngx_ann_logging_parse, NULL, kngx_ann_logging_emit, NULL
};
