
/*
 * kubengx lint: conflicting routes.  The same host, path and type in two
 * Ingresses of one class: the oldest wins (as the route planner decides,
 * plan_routes.c), every other one is a warning; so is a route an Ingress
 * repeats.
 */

#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "lint.h"


/* ---- conflicts ----------------------------------------------------------- */

typedef struct {
    const char              *cls;       /* class key */
    char                    *host;      /* lowercased, "" for none */
    char                    *path;      /* trailing slash dropped */
    int                      type;      /* EXACT or PREFIX */
    const kngx_ingress_t    *ing;
    const kngx_ingress_path_t *p;
} kngx_route_key_t;


/* oldest first: creationTimestamp (absent: newest), then ns/name */
static int
kngx_ing_age_cmp(const kngx_ingress_t *a, const kngx_ingress_t *b)
{
    int  rc;

    if (a->meta.has_creation != b->meta.has_creation) {
        return a->meta.has_creation ? -1 : 1;
    }

    if (a->meta.has_creation && a->meta.creation_ms != b->meta.creation_ms) {
        return a->meta.creation_ms < b->meta.creation_ms ? -1 : 1;
    }

    rc = strcmp(a->meta.ns, b->meta.ns);
    if (rc) {
        return rc;
    }

    return strcmp(a->meta.name, b->meta.name);
}


static int
kngx_route_key_same(const kngx_route_key_t *a, const kngx_route_key_t *b)
{
    return strcmp(a->cls, b->cls) == 0 && strcmp(a->host, b->host) == 0
           && strcmp(a->path, b->path) == 0 && a->type == b->type;
}


static int
kngx_route_key_cmp(const void *x, const void *y)
{
    const kngx_route_key_t  *a = x, *b = y;
    int                      rc;

    rc = strcmp(a->cls, b->cls);
    if (rc) {
        return rc;
    }

    rc = strcmp(a->host, b->host);
    if (rc) {
        return rc;
    }

    rc = strcmp(a->path, b->path);
    if (rc) {
        return rc;
    }

    if (a->type != b->type) {
        return a->type < b->type ? -1 : 1;
    }

    rc = kngx_ing_age_cmp(a->ing, b->ing);
    if (rc) {
        return rc;
    }

    /* one Ingress repeating a path: keep source order */
    return a->p < b->p ? -1 : (a->p > b->p);
}


int
kngx_lint_rule_conflicts(kngx_lint_t *l, const kngx_model_t *m,
    const kngx_lint_opts_t *o)
{
    kngx_route_key_t           *keys;
    const kngx_ingress_t       *ing;
    const kngx_ingress_rule_t  *r;
    const char                 *why;
    char                        host[256], *s;
    size_t                      n = 0, cap = 0, i, j, k, len;
    int                         rc = -1;

    for (i = 0; i < m->ningresses; i++) {
        for (j = 0; j < m->ingresses[i].nrules; j++) {
            cap += m->ingresses[i].rules[j].npaths;
        }
    }

    if (cap == 0) {
        return 0;
    }

    keys = calloc(cap, sizeof(kngx_route_key_t));
    if (keys == NULL) {
        return -1;
    }

    for (i = 0; i < m->ningresses; i++) {
        ing = &m->ingresses[i];

        if (kngx_ingress_is_canary(ing)) {
            /* it joins the routes it shares, never conflicts */
            continue;
        }

        for (j = 0; j < ing->nrules; j++) {
            r = &ing->rules[j];

            if (r->host && r->host[0]) {
                if (kngx_host_check(r->host, host, sizeof(host), &why)
                    != 0)
                {
                    continue;
                }

            } else {
                host[0] = '\0';
            }

            for (k = 0; k < r->npaths; k++) {
                if (kngx_path_check(r->paths[k].path, &why) != 0) {
                    continue;
                }

                keys[n].cls = kngx_ingress_is_ours(m, &o->class, ing, NULL)
                              ? "\001ours"
                              : ing->class_name ? ing->class_name
                              : ing->legacy_class ? ing->legacy_class : "";
                keys[n].host = kube_arena_strdup(l->arena, host);
                s = kube_arena_strdup(l->arena, r->paths[k].path);
                if (keys[n].host == NULL || s == NULL) {
                    goto done;
                }

                len = strlen(s);
                while (len > 1 && s[len - 1] == '/') {
                    s[--len] = '\0';
                }

                keys[n].path = s;
                keys[n].type = r->paths[k].type == KNGX_PATH_EXACT
                               ? KNGX_PATH_EXACT : KNGX_PATH_PREFIX;
                keys[n].ing = ing;
                keys[n].p = &r->paths[k];
                n++;
            }
        }
    }

    if (n > 1) {
        qsort(keys, n, sizeof(kngx_route_key_t), kngx_route_key_cmp);
    }

    for (i = 0; i < n; i = j) {
        for (j = i + 1; j < n && kngx_route_key_same(&keys[i], &keys[j]);
             j++)
        {
            if (keys[j].ing == keys[i].ing) {
                if (kngx_lint_add(l, KNGX_DIAG_WARNING, &keys[j].ing->meta,
                        "conflict", keys[j].p->field,
                        "host %s path %s (%s) is routed twice in this "
                        "Ingress; the first one wins",
                        keys[j].host[0] ? kngx_msg_quote(keys[j].host)
                                        : "(any)",
                        kngx_msg_quote(keys[j].path),
                        kngx_path_type_name(keys[j].type)) != 0)
                {
                    goto done;
                }

                continue;
            }

            if (kngx_lint_add(l, KNGX_DIAG_WARNING, &keys[j].ing->meta,
                    "conflict", keys[j].p->field,
                    "host %s path %s (%s) is also routed by the older "
                    "Ingress %s/%s, which wins: this route is ignored",
                    keys[j].host[0] ? kngx_msg_quote(keys[j].host)
                                    : "(any)",
                    kngx_msg_quote(keys[j].path),
                    kngx_path_type_name(keys[j].type),
                    keys[i].ing->meta.ns, keys[i].ing->meta.name) != 0)
            {
                goto done;
            }
        }
    }

    rc = 0;

done:

    free(keys);
    return rc;
}
