
/*
 * kubengx generator: the module's per-request metrics for a location
 * (ngx_module/README.md, "Per-request metrics"): with --endpoints module
 * every location of an Ingress route says which route it serves,
 *
 *     k8s_metrics_route "namespace=NS" "ingress=NAME" "host=HOST"
 *                       "path=PATH" "service=SVC";
 *
 * with the Ingress's namespace and name, the rule's host as written
 * (lowercased; none for a rule without host), the path as the Ingress
 * gives it (none for a default backend) and the backend Service (none
 * for a resource backend).  The two locations of a Prefix path share the
 * route.  Locations that answer for no Ingress (the built-in 404,
 * --default-backend) are not counted.  Every value is validated before
 * the plan keeps it (DNS names; a path kngx_ngx_safe() accepts), but for
 * the Service of a route that answers 503 for a bad name: the label is
 * left out unless the name is a DNS-1123 label.
 */

#include <string.h>

#include "render.h"
#include "escape.h"


void
kngx_render_metrics_route(kngx_buf_t *b, const kngx_plan_t *p,
    const char *host, const kngx_route_t *rt, const char *indent)
{
    const kngx_ingress_t  *ing = rt->target.ingress;
    const kngx_backend_t  *be = rt->target.backend;
    const char            *path;
    char                   q[2200], arg[2100];
    size_t                 n;

    if ((p->opts.endpoints != KNGX_ENDPOINTS_MODULE && !p->opts.metrics_routes)
        || ing == NULL)
    {
        return;
    }

    /* once per location: appended, not printed (buf.c) */

    kngx_buf_cat(b, indent, "k8s_metrics_route \"namespace=", ing->meta.ns,
                 "\" \"ingress=", ing->meta.name, "\"", NULL);

    if (host) {
        kngx_buf_cat(b, " \"host=", host, "\"", NULL);
    }

    path = rt->src ? rt->src->path : rt->path;

    if (path) {
        /* "path=PATH", cut to arg's size */
        n = strlen(path);
        if (n > sizeof(arg) - sizeof("path=")) {
            n = sizeof(arg) - sizeof("path=");
        }

        memcpy(arg, "path=", sizeof("path=") - 1);
        memcpy(arg + sizeof("path=") - 1, path, n);
        arg[sizeof("path=") - 1 + n] = '\0';

        if (kngx_ngx_quote(arg, q, sizeof(q)) > 0) {
            kngx_buf_cat(b, " ", q, NULL);
        }
    }

    /* a route to a Service name that is not valid (503) keeps the name as
     * written: only a DNS-1123 label, as the module expects */
    if (be && be->kind == KNGX_BACKEND_SERVICE && be->service
        && kngx_dns_label_ok(be->service, strlen(be->service)))
    {
        kngx_buf_cat(b, " \"service=", be->service, "\"", NULL);
    }

    kngx_buf_cat(b, ";\n", NULL);
}
