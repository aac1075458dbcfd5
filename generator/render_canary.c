
/*
 * kubengx generator: a route's canary and cookie affinity as module
 * directives (plan_canary.c decides; render.c calls this in each
 * location that proxies):
 *
 *     k8s_canary NS/CANARY-INGRESS NS/SVC port=P;
 *     k8s_affinity cookie name=N mode=M path=P ...;
 *
 * Every word is a validated name, number or path: nothing needs quoting.
 */

#include "render.h"


void
kngx_render_canary(kngx_buf_t *b, const kngx_route_t *route,
    const char *indent)
{
    const kngx_upstream_t  *u;

    if (route->target.action != KNGX_ACTION_PROXY) {
        return;
    }

    if (route->canary) {
        u = route->canary_target.upstream;

        kngx_buf_printf(b, "%sk8s_canary %s/%s %s/%s port=%s;\n", indent,
                        route->canary->meta.ns, route->canary->meta.name,
                        u->service->meta.ns, u->service->meta.name,
                        u->module_port);
    }

    if (route->affinity) {
        kngx_buf_printf(b, "%sk8s_affinity %s;\n", indent, route->affinity);
    }
}
