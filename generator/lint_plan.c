
/*
 * kubengx lint: the findings that come from the route plan kubengx render
 * would build with the same options (plan*.c), so that lint and render
 * judge them with one piece of code: host ownership (--host-ownership),
 * tls entries for hosts their Ingress does not route, ExternalNames that
 * are addresses, annotations render ignores, refuses or does not know
 * (annotations/), annotations that name a Secret or ConfigMap not in the
 * input, server-alias names left out (plan_hosts.c, annotations/hosts.c);
 * and whether any Ingress of
 * the input is served at all.
 */

#include <stdlib.h>
#include <string.h>

#include "lint.h"
#include "annotations/annotations.h"


static int
kngx_ingress_by_name_cmp(const void *key, const void *elt)
{
    const char            *obj = key;
    const kngx_ingress_t  *ing = elt;
    const char            *slash = strchr(obj, '/');
    size_t                 n = slash ? (size_t) (slash - obj) : strlen(obj);
    int                    rc;

    rc = strncmp(obj, ing->meta.ns, n);
    if (rc == 0 && ing->meta.ns[n] != '\0') {
        rc = -1;
    }

    return rc ? rc : strcmp(slash ? slash + 1 : "", ing->meta.name);
}


/*
 * Findings from the plan kubengx render would build: host ownership,
 * tls entries for hosts their Ingress does not route, ExternalNames that
 * are addresses, annotations that cannot be used.  Other plan warnings
 * have rules of their own above.
 */
int
kngx_lint_rule_plan(kngx_lint_t *l, const kngx_model_t *m,
    const kngx_lint_opts_t *o)
{
    static const struct {
        const char       *code;
        kngx_severity_e   sev;
    } codes[] = {
        { "host-owned", KNGX_DIAG_WARNING },
        { "tls-not-routed", KNGX_DIAG_WARNING },
        { "bad-external", KNGX_DIAG_ERROR },
        { "bad-annotation", KNGX_DIAG_WARNING },
        { KNGX_ANN_MISSING, KNGX_DIAG_WARNING },
        { "unknown-annotation", KNGX_DIAG_WARNING },
        { "unsupported-annotation", KNGX_DIAG_WARNING },
        { "fail-closed", KNGX_DIAG_ERROR },
        { "alias-conflict", KNGX_DIAG_WARNING },
        { "bad-alias", KNGX_DIAG_WARNING },
    };
    const kngx_diag_t     *d;
    const kngx_ingress_t  *ing;
    const char            *field;
    kngx_plan_opts_t       po;
    kngx_plan_t           *p;
    size_t                 i, k;
    int                    rc = 0;

    memset(&po, 0, sizeof(po));
    po.class_name = o->class.class_name;
    po.controller = o->class.controller;
    po.watch_without_class = o->class.watch_without_class;
    po.host_ownership = o->host_ownership;
    po.unsupported_ignore = o->unsupported_ignore ? 1 : 0;

    p = kngx_plan_build(m, &po);
    if (p == NULL) {
        return -1;
    }

    for (i = 0; i < p->diags.n && rc == 0; i++) {
        d = &p->diags.items[i];

        for (k = 0; k < sizeof(codes) / sizeof(codes[0]); k++) {
            if (strcmp(d->code, codes[k].code) != 0 || d->object == NULL) {
                continue;
            }

            ing = bsearch(d->object, m->ingresses, m->ningresses,
                          sizeof(kngx_ingress_t), kngx_ingress_by_name_cmp);

            if (ing == NULL) {
                continue;
            }

            /* the diag lives in the plan's arena, freed below */
            field = d->field ? kube_arena_strdup(l->arena, d->field) : NULL;

            if ((d->field && field == NULL)
                || kngx_lint_add(l, codes[k].sev, &ing->meta, d->code, field,
                                 "%s", d->message) != 0)
            {
                rc = -1;
            }
        }
    }

    l->none_served = m->ningresses && p->ningresses == 0;

    kngx_plan_free(p);

    return rc;
}
