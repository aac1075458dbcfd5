
/*
 * kubengx generator: a route's canary and cookie affinity in the config
 * (plan_canary.c decides; render.c calls these).
 *
 * --endpoints module, in each location that proxies:
 *
 *     k8s_canary NS/CANARY-INGRESS NS/SVC port=P;
 *     k8s_affinity cookie name=N mode=M path=P ...;
 *
 * static and cluster-ip, the settings themselves (changing them changes
 * the config), at http level one split_clients per canary Ingress with a
 * weight, and in the location, in ingress-nginx's order (a later "if"
 * wins: weight, then cookie, then header):
 *
 *     set $kubengx_backend PRIMARY_UPSTREAM;
 *     if ($kubengx_canary_N) { set $kubengx_backend CANARY_UPSTREAM; }
 *     if ($cookie_C = "always") { set $kubengx_backend CANARY_UPSTREAM; }
 *     if ($cookie_C = "never") { set $kubengx_backend PRIMARY_UPSTREAM; }
 *     if ($http_h = "always") { ... }      or = "VALUE" (exact)
 *     proxy_pass http://$kubengx_backend;
 *
 * nginx finds an upstream block by the variable's value.  N is the
 * canary Ingress's place among the served Ingresses (sorted, so the
 * bytes depend only on the input).  Every word is a validated name,
 * number or path, or a string checked by kngx_ngx_safe() and quoted.
 */

#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "escape.h"
#include "kube_canary.h"


static size_t kngx_canary_index(const kngx_plan_t *p,
    const kngx_ingress_t *ing);
static void kngx_render_canary_static(kngx_buf_t *b, const kngx_plan_t *p,
    const kngx_route_t *route, const char *indent);
static const kngx_route_t *kngx_canary_route_of(const kngx_plan_t *p,
    const kngx_ingress_t *ing);
static const kngx_route_t *kngx_canary_route_in(const kngx_server_t *srv,
    const kngx_ingress_t *ing);


/* 1 when it wrote the location's proxy_pass */

int
kngx_render_canary(kngx_buf_t *b, const kngx_plan_t *p,
    const kngx_route_t *route, const char *indent)
{
    const kngx_upstream_t  *u;

    if (route->target.action != KNGX_ACTION_PROXY) {
        return 0;
    }

    if (route->affinity) {
        kngx_buf_printf(b, "%sk8s_affinity %s;\n", indent, route->affinity);
    }

    if (route->canary == NULL) {
        return 0;
    }

    if (route->canary_static) {
        kngx_render_canary_static(b, p, route, indent);
        return 1;
    }

    u = route->canary_target.upstream;

    kngx_buf_printf(b, "%sk8s_canary %s/%s %s/%s port=%s;\n", indent,
                    route->canary->meta.ns, route->canary->meta.name,
                    u->service->meta.ns, u->service->meta.name,
                    u->module_port);

    return 0;
}


static void
kngx_render_canary_static(kngx_buf_t *b, const kngx_plan_t *p,
    const kngx_route_t *route, const char *indent)
{
    char                    h[KUBE_CANARY_NAME_LEN], q[600], *s;
    const char             *primary, *canary;
    const kube_canary_t    *c;

    c = route->canary_static;
    primary = route->target.upstream->name;
    canary = route->canary_target.upstream->name;

    kngx_buf_printf(b, "%sset $kubengx_backend %s;\n", indent, primary);

    if (!c->canary) {
        goto done;
    }

    if (c->weight) {
        kngx_buf_printf(b, "%sif ($kubengx_canary_%zu) {\n"
                        "%s    set $kubengx_backend %s;\n%s}\n", indent,
                        kngx_canary_index(p, route->canary), indent, canary,
                        indent);
    }

    if (c->cookie[0]) {
        kngx_buf_printf(b, "%sif ($cookie_%s = \"always\") {\n"
                        "%s    set $kubengx_backend %s;\n%s}\n"
                        "%sif ($cookie_%s = \"never\") {\n"
                        "%s    set $kubengx_backend %s;\n%s}\n",
                        indent, c->cookie, indent, canary, indent,
                        indent, c->cookie, indent, primary, indent);
    }

    if (c->header[0]) {
        /* $http_NAME: lowercase, '-' as '_' */
        strcpy(h, c->header);

        for (s = h; *s; s++) {
            *s = (*s == '-') ? '_'
                 : (*s >= 'A' && *s <= 'Z') ? (char) (*s - 'A' + 'a') : *s;
        }

        if (c->header_value[0]) {
            if (kngx_ngx_quote(c->header_value, q, sizeof(q)) >= 0) {
                kngx_buf_printf(b, "%sif ($http_%s = %s) {\n"
                                "%s    set $kubengx_backend %s;\n%s}\n",
                                indent, h, q, indent, canary, indent);
            }

        } else {
            kngx_buf_printf(b, "%sif ($http_%s = \"always\") {\n"
                            "%s    set $kubengx_backend %s;\n%s}\n"
                            "%sif ($http_%s = \"never\") {\n"
                            "%s    set $kubengx_backend %s;\n%s}\n",
                            indent, h, indent, canary, indent,
                            indent, h, indent, primary, indent);
        }
    }

done:

    kngx_buf_printf(b, "%sproxy_pass http://$kubengx_backend;\n", indent);
}


/* static and cluster-ip: the split_clients of the canaries with a weight */

void
kngx_render_canary_splits(kngx_buf_t *b, const kngx_plan_t *p)
{
    size_t                  i, hundredths;
    const kngx_route_t     *rt;
    const kube_canary_t    *c;
    const kngx_ingress_t   *ing;

    for (i = 0; i < p->ningresses; i++) {
        ing = p->ingresses[i];

        if (!kngx_ingress_is_canary(ing)) {
            continue;
        }

        rt = kngx_canary_route_of(p, ing);

        if (rt == NULL || rt->canary_static == NULL) {
            continue;
        }

        c = rt->canary_static;

        if (!c->canary || c->weight == 0) {
            continue;
        }

        kngx_buf_printf(b, "# canary Ingress weight %u of %u\n"
                        "split_clients \"${request_id}\" "
                        "$kubengx_canary_%zu {\n", c->weight,
                        c->weight_total, i);

        hundredths = (size_t) ((uint64_t) c->weight * 10000
                               / c->weight_total);

        if (c->weight == c->weight_total) {
            kngx_buf_printf(b, "    * 1;\n}\n\n");

        } else {
            kngx_buf_printf(b, "    %zu.%02zu%% 1;\n    * \"\";\n}\n\n",
                            hundredths / 100, hundredths % 100);
        }
    }
}


static size_t
kngx_canary_index(const kngx_plan_t *p, const kngx_ingress_t *ing)
{
    size_t  i;

    for (i = 0; i < p->ningresses; i++) {
        if (p->ingresses[i] == ing) {
            return i;
        }
    }

    return 0;   /* not reached: a canary is a served Ingress */
}


/* a route ing is the canary of, NULL if none */

static const kngx_route_t *
kngx_canary_route_of(const kngx_plan_t *p, const kngx_ingress_t *ing)
{
    size_t               i;
    const kngx_route_t  *rt;

    for (i = 0; i < p->nservers; i++) {
        rt = kngx_canary_route_in(&p->servers[i], ing);
        if (rt) {
            return rt;
        }
    }

    return kngx_canary_route_in(&p->catch_all, ing);
}


static const kngx_route_t *
kngx_canary_route_in(const kngx_server_t *srv, const kngx_ingress_t *ing)
{
    size_t  i;

    for (i = 0; i < srv->nroutes; i++) {
        if (srv->routes[i].canary == ing) {
            return &srv->routes[i];
        }
    }

    return NULL;
}
