
/*
 * kubengx generator: ingress-nginx's balancing annotations, load-balance
 * and upstream-hash-by (the latter taking precedence, as there).  They
 * choose the upstream's method (plan_upstream.c names the upstream by
 * it, emit_upstream.c writes it).  Unknown or unsafe values keep the
 * Ingress served: a warning, and round robin (a hash key may name only
 * variables nginx defines, variables.c, or nginx would refuse the whole
 * config).
 */

#include <string.h>

#include "annotations.h"
#include "escape.h"


typedef struct {
    const char  *balance;       /* NULL: round robin */
    const char  *hash_by;
} kngx_ann_balance_t;


static int
kngx_ann_balance_parse(kngx_ann_ctx_t *ctx, void *conf, int id,
    const char *v)
{
    kngx_ann_balance_t  *c = conf;
    const char          *why;

    if (id == KNGX_BAL_HASH) {
        if (kngx_hash_key_check(v, &why) == 0) {
            c->hash_by = v;
            return KNGX_ANN_OK;
        }

        return kngx_ann_warn(ctx, "bad-annotation",
                             "%s %s; ignored, round robin used",
                             kngx_msg_quote(v), why) ? KNGX_ANN_NOMEM
                                                     : KNGX_ANN_OK;
    }

    if (strcmp(v, "round_robin") == 0) {
        /* said explicitly: it overrides the ConfigMap's load-balance */
        c->balance = "round_robin";
        return KNGX_ANN_OK;
    }

    if (strcmp(v, "ewma") == 0 || strcmp(v, "least_conn") == 0) {
        c->balance = strcmp(v, "ewma") == 0 ? "ewma" : "least_conn";
        return KNGX_ANN_OK;
    }

    return kngx_ann_warn(ctx, "bad-annotation",
               "load-balance %s is not one of round_robin, ewma, "
               "least_conn; round robin used", kngx_msg_quote(v))
           ? KNGX_ANN_NOMEM : KNGX_ANN_OK;
}


void
kngx_ann_balance(const kngx_ann_t *ann, const char **balance,
    const char **hash_by)
{
    const kngx_ann_balance_t  *c;

    *balance = NULL;
    *hash_by = NULL;

    c = ann ? ann->conf[kngx_ann_balance_family.index] : NULL;
    if (c == NULL) {
        return;
    }

    if (c->hash_by) {
        *balance = "hash";
        *hash_by = c->hash_by;
        return;
    }

    *balance = c->balance;
}


const kngx_ann_family_t  kngx_ann_balance_family = {
    "balance", 4, sizeof(kngx_ann_balance_t),
    kngx_ann_balance_parse, NULL, NULL, NULL
};
