
/*
 * kubengx generator: fields of the objects kubengx reads that it does not
 * know (a misspelt "rule:" for "rules:" would otherwise give an empty
 * config without a word): a warning naming the field, with the nearest
 * known name ("did you mean").  `kubengx lint --strict` makes them
 * errors.  The lists are the fields of the Kubernetes API types
 * (networking.k8s.io/v1 Ingress and IngressClass, core/v1 Service,
 * Secret and ObjectMeta), read or not.
 */

#include <string.h>

#include "decode.h"


const char *const  kngx_fields_object[] = {
    "apiVersion", "kind", "metadata", "spec", "status", NULL
};

const char *const  kngx_fields_secret[] = {
    "apiVersion", "kind", "metadata", "data", "stringData", "type",
    "immutable", NULL
};

const char *const  kngx_fields_meta[] = {
    "name", "namespace", "labels", "annotations", "uid", "resourceVersion",
    "generation", "creationTimestamp", "deletionTimestamp",
    "deletionGracePeriodSeconds", "ownerReferences", "finalizers",
    "managedFields", "generateName", "selfLink", NULL
};

const char *const  kngx_fields_ingress_spec[] = {
    "ingressClassName", "defaultBackend", "rules", "tls", NULL
};

const char *const  kngx_fields_rule[] = { "host", "http", NULL };

const char *const  kngx_fields_http[] = { "paths", NULL };

const char *const  kngx_fields_path[] = {
    "path", "pathType", "backend", NULL
};

const char *const  kngx_fields_backend[] = { "service", "resource", NULL };

const char *const  kngx_fields_svc_backend[] = { "name", "port", NULL };

const char *const  kngx_fields_port_ref[] = { "name", "number", NULL };

const char *const  kngx_fields_resource[] = {
    "apiGroup", "kind", "name", NULL
};

const char *const  kngx_fields_tls[] = { "hosts", "secretName", NULL };

const char *const  kngx_fields_service_spec[] = {
    "ports", "selector", "clusterIP", "clusterIPs", "type", "externalIPs",
    "sessionAffinity", "loadBalancerIP", "loadBalancerSourceRanges",
    "externalName", "externalTrafficPolicy", "healthCheckNodePort",
    "publishNotReadyAddresses", "sessionAffinityConfig", "ipFamilies",
    "ipFamilyPolicy", "allocateLoadBalancerNodePorts", "loadBalancerClass",
    "internalTrafficPolicy", "trafficDistribution", NULL
};

const char *const  kngx_fields_service_port[] = {
    "name", "protocol", "appProtocol", "port", "targetPort", "nodePort",
    NULL
};

const char *const  kngx_fields_class_spec[] = {
    "controller", "parameters", NULL
};


void
kngx_dec_fields(kngx_dec_t *d, json_t *obj, const char *field,
    const char *const *known)
{
    const char  *key, *near;
    json_t      *v;
    size_t       i, n;

    if (!json_is_object(obj)) {
        return;
    }

    for (n = 0; known[n]; n++) { /* void */ }

    json_object_foreach(obj, key, v) {
        for (i = 0; i < n; i++) {
            if (strcmp(key, known[i]) == 0) {
                break;
            }
        }

        if (i < n) {
            continue;
        }

        near = kngx_nearest(key, known, sizeof(char *), n);

        /* the key may be anything: quoted in the message only */
        if (kngx_diag_add(&d->m->diags, d->m->arena, KNGX_DIAG_WARNING,
                          d->src, kngx_lines_get(d->lines, v),
                          d->object[0] ? d->object : NULL, field,
                          "unknown-field", "unknown field %s%s%s%s; ignored",
                          kngx_msg_quote(key),
                          near ? " (did you mean " : "", near ? near : "",
                          near ? "?)" : "")
            != 0)
        {
            d->nomem = 1;
            return;
        }
    }
}
