
/*
 * kubengx lint: the rules about Services: what an Ingress backend names
 * (the Service, its port, its endpoints) and the Services themselves
 * (NodePorts, several LoadBalancers exposing HTTP).
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "escape.h"
#include "lint.h"


/* ---- backends ------------------------------------------------------------ */

static int
kngx_port_list(const kngx_service_t *svc, char *buf, size_t size)
{
    size_t  i, n = 0;
    int     w;

    buf[0] = '\0';

    for (i = 0; i < svc->nports && n < size; i++) {
        if (svc->ports[i].name[0]) {
            w = snprintf(buf + n, size - n, "%s%d (%s)", i ? ", " : "",
                         svc->ports[i].port, svc->ports[i].name);
        } else {
            w = snprintf(buf + n, size - n, "%s%d", i ? ", " : "",
                         svc->ports[i].port);
        }

        if (w < 0) {
            break;
        }

        n += (size_t) w;
    }

    if (svc->nports == 0) {
        snprintf(buf, size, "none");
    }

    return 0;
}


static int
kngx_rule_endpoints(kngx_lint_t *l, const kngx_model_t *m,
    const kngx_service_t *svc, const kngx_service_port_t *sp)
{
    kngx_endpoints_t  eps;
    char              pname[80];

    if (m->nslices == 0 || svc->type == KNGX_SVC_EXTERNAL_NAME) {
        return 0;
    }

    if (kngx_service_endpoints(m, svc, sp, l->arena, &eps) != 0) {
        return -1;
    }

    if (sp->name[0]) {
        snprintf(pname, sizeof(pname), "port %d (%s)", sp->port, sp->name);
    } else {
        snprintf(pname, sizeof(pname), "port %d", sp->port);
    }

    if (eps.nslices == 0) {
        KNGX_ADD((l, KNGX_DIAG_WARNING, &svc->meta, "no-endpoints", NULL,
                  "an Ingress routes to %s, but no EndpointSlice labelled "
                  "kubernetes.io/service-name=%s is in the input: no "
                  "endpoints, requests get 503", pname,
                  kngx_msg_quote(svc->meta.name)));
        return 0;
    }

    if (eps.n == 0) {
        KNGX_ADD((l, KNGX_DIAG_WARNING, &svc->meta, "no-endpoints", NULL,
                  "an Ingress routes to %s, but its %u EndpointSlice%s "
                  "hold no ready endpoint for it: requests get 503", pname,
                  eps.nslices, eps.nslices == 1 ? "" : "s"));
        return 0;
    }

    if (eps.fallback) {
        KNGX_ADD((l, KNGX_DIAG_WARNING, &svc->meta,
                  "terminating-endpoints", NULL,
                  "%s has no ready endpoint; only %zu serving but "
                  "terminating one%s will be used", pname, eps.n,
                  eps.n == 1 ? "" : "s"));
    }

    return 0;
}


int
kngx_lint_rule_backend(kngx_lint_t *l, const kngx_model_t *m,
    const kngx_ingress_t *ing, const kngx_backend_t *be)
{
    const kngx_service_t       *svc;
    const kngx_service_port_t  *sp;
    char                        ports[256], want[96];
    size_t                      i;

    if (be->kind == KNGX_BACKEND_NONE) {
        return 0;
    }

    if (be->kind == KNGX_BACKEND_RESOURCE) {
        KNGX_ADD((l, KNGX_DIAG_WARNING, &ing->meta, "resource-backend",
                  be->field,
                  "resource backend %s %s: kubengx serves only Service "
                  "backends; this is not served",
                  kngx_msg_quote(be->resource_kind ? be->resource_kind
                                                   : ""),
                  kngx_msg_quote(be->resource_name ? be->resource_name
                                                   : "")));
        return 0;
    }

    if (!kngx_dns_label_ok(be->service, strlen(be->service))) {
        KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "bad-name", be->field,
                  "service name %s is not a valid Service name (a DNS "
                  "label: lowercase letters, digits, '-'): requests get "
                  "503", kngx_msg_quote(be->service)));
        return 0;
    }

    if (!kngx_dns_label_ok(ing->meta.ns, strlen(ing->meta.ns))) {
        KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "bad-name", be->field,
                  "namespace %s is not a valid name: requests get 503",
                  kngx_msg_quote(ing->meta.ns)));
        return 0;
    }

    svc = kngx_model_service(m, ing->meta.ns, be->service);
    if (svc == NULL) {
        snprintf(want, sizeof(want), "%s/%s", ing->meta.ns, be->service);
        KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "no-service", be->field,
                  "Service %s does not exist in the input (a backend "
                  "Service must be in the Ingress's namespace): requests "
                  "get 503", kngx_msg_quote(want)));
        return 0;
    }

    sp = kngx_service_find_port(svc, be);

    if (sp == NULL && svc->type == KNGX_SVC_EXTERNAL_NAME
        && be->port_name == NULL)
    {
        /* an ExternalName needs no ports: the number is used as is */
        return 0;
    }

    if (sp == NULL) {
        kngx_port_list(svc, ports, sizeof(ports));

        if (be->port_name) {
            snprintf(want, sizeof(want), "named %s",
                     kngx_msg_quote(be->port_name));
        } else {
            snprintf(want, sizeof(want), "%d", be->port_number);
        }

        /* the classic: the Ingress names the targetPort */
        for (i = 0; be->port_name == NULL && i < svc->nports; i++) {
            if (svc->ports[i].target_port == be->port_number) {
                KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "no-port",
                          be->field,
                          "Service %s/%s has no port %s (ports: %s); %d "
                          "is the targetPort of port %d: an Ingress names "
                          "the Service port, not the container port",
                          svc->meta.ns, svc->meta.name, want, ports,
                          be->port_number, svc->ports[i].port));
                return 0;
            }
        }

        KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "no-port", be->field,
                  "Service %s/%s has no port %s (ports: %s): requests get "
                  "503", svc->meta.ns, svc->meta.name, want, ports));
        return 0;
    }

    if (sp->name[0] && !kngx_dns_label_ok(sp->name, strlen(sp->name))) {
        KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "bad-name", be->field,
                  "Service %s/%s port name %s is not valid: requests get "
                  "503", svc->meta.ns, svc->meta.name,
                  kngx_msg_quote(sp->name)));
        return 0;
    }

    return kngx_rule_endpoints(l, m, svc, sp);
}


/* ---- Services ------------------------------------------------------------ */

static int
kngx_port_is_http(const kngx_service_port_t *sp, const char *app_protocol)
{
    static const char  *protos[] = {
        "http", "https", "kubernetes.io/h2c", "kubernetes.io/ws",
        "kubernetes.io/wss", NULL
    };
    size_t              i;

    if (sp->protocol && strcmp(sp->protocol, "TCP") != 0) {
        return 0;
    }

    if (app_protocol) {
        for (i = 0; protos[i]; i++) {
            if (strcasecmp(app_protocol, protos[i]) == 0) {
                return 1;
            }
        }
    }

    return sp->port == 80 || sp->port == 443 || sp->port == 8080
           || sp->port == 8443;
}


/*
 * model.h keeps no appProtocol for Service ports; the EndpointSlice ports
 * carry it (the control plane copies it there).
 */
static const char *
kngx_app_protocol(const kngx_model_t *m, const kngx_service_t *svc,
    const kngx_service_port_t *sp)
{
    const kngx_slice_t  *sl;
    size_t               i, k;

    for (i = 0; i < m->nslices; i++) {
        sl = &m->slices[i];

        if (sl->service_name == NULL
            || strcmp(sl->meta.ns, svc->meta.ns) != 0
            || strcmp(sl->service_name, svc->meta.name) != 0)
        {
            continue;
        }

        for (k = 0; k < sl->es->nports; k++) {
            if (strcmp(sl->es->ports[k].name, sp->name) == 0
                && sl->es->ports[k].app_protocol)
            {
                return sl->es->ports[k].app_protocol;
            }
        }
    }

    return NULL;
}


int
kngx_lint_rule_services(kngx_lint_t *l, const kngx_model_t *m)
{
    const kngx_service_t  *svc;
    char                   list[512], ports[256];
    size_t                 i, k, nlb = 0, len = 0;
    int                    w;
    unsigned char         *http_lb;

    http_lb = calloc(m->nservices ? m->nservices : 1, 1);
    if (http_lb == NULL) {
        return -1;
    }

    list[0] = '\0';

    for (i = 0; i < m->nservices; i++) {
        svc = &m->services[i];

        if (svc->type == KNGX_SVC_NODE_PORT) {
            kngx_port_list(svc, ports, sizeof(ports));
            if (kngx_lint_add(l, KNGX_DIAG_WARNING, &svc->meta, "node-port",
                    "spec.type",
                    "NodePort Service: its ports (%s) are open on every "
                    "node of the cluster; expose HTTP through an Ingress "
                    "and keep the Service ClusterIP", ports) != 0)
            {
                free(http_lb);
                return -1;
            }
        }

        if (svc->type != KNGX_SVC_LOAD_BALANCER) {
            continue;
        }

        for (k = 0; k < svc->nports; k++) {
            if (kngx_port_is_http(&svc->ports[k],
                                  kngx_app_protocol(m, svc, &svc->ports[k])))
            {
                http_lb[i] = 1;
                break;
            }
        }

        if (!http_lb[i]) {
            continue;
        }

        nlb++;

        if (len < sizeof(list) - 1) {
            w = snprintf(list + len, sizeof(list) - len, "%s%s/%s",
                         len ? ", " : "", svc->meta.ns, svc->meta.name);
            if (w > 0) {
                len += (size_t) w;
                if (len >= sizeof(list)) {
                    len = sizeof(list) - 1;
                    memcpy(list + len - 3, "...", 3);
                }
            }
        }
    }

    for (i = 0; nlb > 1 && i < m->nservices; i++) {
        if (!http_lb[i]) {
            continue;
        }

        if (kngx_lint_add(l, KNGX_DIAG_WARNING, &m->services[i].meta,
                "many-load-balancers", "spec.type",
                "one of %zu LoadBalancer Services exposing HTTP (%s): each "
                "gets its own cloud load balancer; one Ingress could route "
                "them all behind one", nlb, list) != 0)
        {
            free(http_lb);
            return -1;
        }
    }

    free(http_lb);
    return 0;
}
