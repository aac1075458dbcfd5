
/*
 * kubengx generator: Service (v1), IngressClass (networking.k8s.io/v1),
 * Secret (v1) and EndpointSlice (discovery.k8s.io/v1) -> the model
 * (decode.h).
 */

#include <stdlib.h>
#include <string.h>

#include "kube_base64.h"
#include "decode.h"


/* ---- Service ------------------------------------------------------------- */

/* spec.ports[i] (f) into sp */
static void
kngx_dec_port(kngx_dec_t *d, json_t *jp, const char *f,
    kngx_service_port_t *sp)
{
    json_t  *tp;
    char     sub[KNGX_FIELD_SIZE];

    sp->name = kngx_dec_str(d, jp, "name",
                            kngx_dec_sub(sub, f, ".name"), 0);
    if (sp->name == NULL) {
        sp->name = "";
    }

    sp->protocol = kngx_dec_str(d, jp, "protocol",
                                kngx_dec_sub(sub, f, ".protocol"), 0);
    if (sp->protocol == NULL) {
        sp->protocol = "TCP";
    }

    sp->port = kngx_dec_int(d, jp, "port",
                            kngx_dec_sub(sub, f, ".port"), 1, 1, 65535);
    sp->node_port = kngx_dec_int(d, jp, "nodePort",
                                 kngx_dec_sub(sub, f, ".nodePort"), 0,
                                 0, 65535);

    tp = json_object_get(jp, "targetPort");

    if (tp == NULL || json_is_null(tp)) {
        sp->target_port = sp->port;

    } else if (json_is_string(tp)) {
        /* "8080" as a string is a number to Kubernetes (IntOrString
         * decodes by JSON type, but people quote numbers in YAML) */
        const char  *s = json_string_value(tp);
        char        *end;
        long         n = strtol(s, &end, 10);

        if (*s >= '0' && *s <= '9' && *end == '\0') {
            if (n < 1 || n > 65535) {
                kngx_dec_error(d, tp, kngx_dec_sub(sub, f,
                                                   ".targetPort"),
                               "%ld is not in 1..65535", n);
            }
            sp->target_port = (int) n;

        } else if (*s == '\0') {
            sp->target_port = sp->port;

        } else {
            sp->target_port_name = kngx_dec_strdup(d, tp);
        }

    } else {
        sp->target_port = kngx_dec_int(d, jp, "targetPort",
                              kngx_dec_sub(sub, f, ".targetPort"), 0,
                              1, 65535);
    }
}


void
kngx_dec_service(kngx_dec_t *d, json_t *obj)
{
    kngx_service_t  svc;
    json_t         *spec, *ports, *jp;
    size_t          i;
    char            f[KNGX_FIELD_SIZE];

    memset(&svc, 0, sizeof(svc));

    if (kngx_dec_head(d, obj, &svc.meta, KNGX_NAME_LABEL_1035, 1, "v1", "")
        != 0)
    {
        return;
    }

    kngx_dec_fields(d, obj, NULL, kngx_fields_object);
    spec = kngx_dec_get(d, obj, "spec", JSON_OBJECT, "spec", 0);
    kngx_dec_fields(d, spec, "spec", kngx_fields_service_spec);

    svc.type_name = kngx_dec_str(d, spec, "type", "spec.type", 0);
    if (svc.type_name == NULL || strcmp(svc.type_name, "ClusterIP") == 0) {
        svc.type = KNGX_SVC_CLUSTER_IP;
        svc.type_name = "ClusterIP";

    } else if (strcmp(svc.type_name, "NodePort") == 0) {
        svc.type = KNGX_SVC_NODE_PORT;

    } else if (strcmp(svc.type_name, "LoadBalancer") == 0) {
        svc.type = KNGX_SVC_LOAD_BALANCER;

    } else if (strcmp(svc.type_name, "ExternalName") == 0) {
        svc.type = KNGX_SVC_EXTERNAL_NAME;

    } else {
        kngx_dec_error(d, json_object_get(spec, "type"), "spec.type",
                       "%s is not one of ClusterIP, NodePort, LoadBalancer, "
                       "ExternalName", kngx_msg_quote(svc.type_name));
    }

    svc.cluster_ip = kngx_dec_str(d, spec, "clusterIP", "spec.clusterIP", 0);
    if (svc.cluster_ip && svc.cluster_ip[0] == '\0') {
        svc.cluster_ip = NULL;
    }
    svc.headless = svc.cluster_ip && strcmp(svc.cluster_ip, "None") == 0;

    svc.external_name = kngx_dec_str(d, spec, "externalName",
                                     "spec.externalName",
                                     svc.type == KNGX_SVC_EXTERNAL_NAME);

    svc.selector = kngx_dec_map(d, spec, "selector", "spec.selector",
                                &svc.nselector);

    ports = kngx_dec_get(d, spec, "ports", JSON_ARRAY, "spec.ports", 0);

    if (ports && json_array_size(ports)) {
        svc.ports = kube_arena_calloc(d->m->arena, json_array_size(ports),
                                      sizeof(kngx_service_port_t));
        if (svc.ports == NULL) {
            d->nomem = 1;
            return;
        }
    }

    json_array_foreach(ports, i, jp) {
        kngx_dec_idx(f, "spec.ports", i);

        if (!json_is_object(jp)) {
            kngx_dec_error(d, jp, f, "must be an object, not %s",
                           kngx_json_type(jp));
            continue;
        }

        kngx_dec_fields(d, jp, f, kngx_fields_service_port);
        kngx_dec_port(d, jp, f, &svc.ports[svc.nports++]);
    }

    if (d->failed || d->nomem) {
        return;
    }

    if (kngx_model_push(d->m, 1, &svc, sizeof(svc)) != 0) {
        d->nomem = 1;
    }
}


/* ---- IngressClass, Secret, EndpointSlice --------------------------------- */

void
kngx_dec_class(kngx_dec_t *d, json_t *obj)
{
    kngx_ingress_class_t  cls;
    json_t               *spec;
    const char           *v;

    memset(&cls, 0, sizeof(cls));

    if (kngx_dec_head(d, obj, &cls.meta, KNGX_NAME_SUBDOMAIN, 0,
                      "networking.k8s.io/v1", "") != 0)
    {
        return;
    }

    kngx_dec_fields(d, obj, NULL, kngx_fields_object);
    spec = kngx_dec_get(d, obj, "spec", JSON_OBJECT, "spec", 0);
    kngx_dec_fields(d, spec, "spec", kngx_fields_class_spec);
    cls.controller = kngx_dec_str(d, spec, "controller", "spec.controller",
                                  0);
    if (cls.controller == NULL) {
        cls.controller = "";
    }

    v = kngx_meta_annotation(&cls.meta,
                             "ingressclass.kubernetes.io/is-default-class");
    cls.is_default = v && strcmp(v, "true") == 0;

    if (d->failed || d->nomem) {
        return;
    }

    if (kngx_model_push(d->m, 2, &cls, sizeof(cls)) != 0) {
        d->nomem = 1;
    }
}


static const char *
kngx_dec_secret_value(kngx_dec_t *d, json_t *data, json_t *sdata,
    const char *key, size_t *len)
{
    json_t         *v;
    size_t          n;
    kube_err_t      err;
    unsigned char  *out, *raw;
    char            f[KNGX_FIELD_SIZE];

    v = kngx_dec_get(d, sdata, key, JSON_STRING,
                     kngx_dec_sub(f, "stringData.", key), 0);
    if (v) {
        *len = json_string_length(v);
        return kngx_dec_strdup(d, v);
    }

    v = kngx_dec_get(d, data, key, JSON_STRING,
                     kngx_dec_sub(f, "data.", key), 0);
    if (v == NULL) {
        return NULL;
    }

    raw = kube_base64_decode(json_string_value(v), json_string_length(v),
                             &n, &err);
    if (raw == NULL) {
        kngx_dec_error(d, v, kngx_dec_sub(f, "data.", key),
                       "is not valid base64");
        return NULL;
    }

    out = kube_arena_alloc(d->m->arena, n + 1);
    if (out == NULL) {
        free(raw);
        d->nomem = 1;
        return NULL;
    }

    memcpy(out, raw, n);
    free(raw);
    out[n] = '\0';
    *len = n;

    return (const char *) out;
}


/*
 * One key of data or stringData into sec->data (tls.* are sec's own).
 * Quietly: a value that is no string, no base64 or holds a NUL byte is
 * kept as NULL, for the annotation that names it to refuse (a Secret's
 * other keys never made it an error before they were read).
 */
static void
kngx_dec_secret_key(kngx_dec_t *d, json_t *data, json_t *sdata,
    kngx_secret_t *sec, const char *k)
{
    json_t          *v;
    unsigned char   *raw;
    char            *val = NULL;
    size_t           n;
    kube_err_t       err;
    kngx_kv_t       *kv;

    if (strcmp(k, "tls.crt") == 0 || strcmp(k, "tls.key") == 0) {
        return;
    }

    kv = &sec->data[sec->ndata];
    kv->key = kube_arena_strdup(d->m->arena, k);
    if (kv->key == NULL) {
        d->nomem = 1;
        return;
    }

    sec->ndata++;

    v = sdata ? json_object_get(sdata, k) : NULL;

    if (json_is_string(v)) {
        n = json_string_length(v);
        if (strlen(json_string_value(v)) == n) {
            kv->value = kube_arena_strdup(d->m->arena, json_string_value(v));
            if (kv->value == NULL) {
                d->nomem = 1;
            }
        }
        return;
    }

    v = data ? json_object_get(data, k) : NULL;
    if (!json_is_string(v)) {
        return;
    }

    raw = kube_base64_decode(json_string_value(v), json_string_length(v),
                             &n, &err);
    if (raw == NULL) {
        return;
    }

    if (memchr(raw, '\0', n) == NULL) {
        val = kube_arena_alloc(d->m->arena, n + 1);
        if (val == NULL) {
            d->nomem = 1;
        } else {
            memcpy(val, raw, n);
            val[n] = '\0';
        }
    }

    free(raw);
    kv->value = val;
}


/* the keys of data and stringData other than tls.crt and tls.key */
static void
kngx_dec_secret_data(kngx_dec_t *d, json_t *data, json_t *sdata,
    kngx_secret_t *sec)
{
    json_t      *v;
    const char  *k;
    size_t       n;

    n = (data ? json_object_size(data) : 0)
        + (sdata ? json_object_size(sdata) : 0);
    if (n == 0) {
        return;
    }

    sec->data = kube_arena_calloc(d->m->arena, n, sizeof(kngx_kv_t));
    if (sec->data == NULL) {
        d->nomem = 1;
        return;
    }

    if (sdata) {
        json_object_foreach(sdata, k, v) {
            kngx_dec_secret_key(d, data, sdata, sec, k);
        }
    }

    if (data) {
        json_object_foreach(data, k, v) {
            if (sdata == NULL || json_object_get(sdata, k) == NULL) {
                kngx_dec_secret_key(d, data, sdata, sec, k);
            }
        }
    }
}


void
kngx_dec_secret(kngx_dec_t *d, json_t *obj)
{
    kngx_secret_t  sec;
    json_t        *data, *sdata;

    memset(&sec, 0, sizeof(sec));

    if (kngx_dec_head(d, obj, &sec.meta, KNGX_NAME_SUBDOMAIN, 1, "v1", "")
        != 0)
    {
        return;
    }

    kngx_dec_fields(d, obj, NULL, kngx_fields_secret);

    sec.type = kngx_dec_str(d, obj, "type", "type", 0);
    if (sec.type == NULL) {
        sec.type = "";
    }

    data = kngx_dec_get(d, obj, "data", JSON_OBJECT, "data", 0);
    sdata = kngx_dec_get(d, obj, "stringData", JSON_OBJECT, "stringData", 0);

    sec.cert = kngx_dec_secret_value(d, data, sdata, "tls.crt",
                                     &sec.cert_len);
    sec.key = kngx_dec_secret_value(d, data, sdata, "tls.key",
                                    &sec.key_len);
    sec.ca = kngx_dec_secret_value(d, data, sdata, "ca.crt", &sec.ca_len);

    kngx_dec_secret_data(d, data, sdata, &sec);

    if (d->failed || d->nomem) {
        return;
    }

    if (kngx_model_push(d->m, 3, &sec, sizeof(sec)) != 0) {
        d->nomem = 1;
    }
}


static const char *
kngx_dec_copy_str(kngx_dec_t *d, const char *s)
{
    char  *p;

    if (s == NULL) {
        return NULL;
    }

    p = kube_arena_strdup(d->m->arena, s);
    if (p == NULL) {
        d->nomem = 1;
    }

    return p;
}


/*
 * What the generator reads of a decoded slice (its ports, and each
 * endpoint's addresses and conditions; model.h), copied into the model's
 * arena: the decoded slice holds an arena of its own of 4 KiB or more,
 * which is freed right after.  NULL when out of memory.
 */
static kube_endpointslice_t *
kngx_dec_slice_copy(kngx_dec_t *d, const kube_endpointslice_t *es)
{
    kube_arena_t          *a = d->m->arena;
    kube_endpointslice_t  *c;
    kube_es_endpoint_t    *ep;
    kube_es_port_t        *pt;
    size_t                 i, j;

    c = kube_arena_calloc(a, 1, sizeof(kube_endpointslice_t));
    if (c == NULL) {
        d->nomem = 1;
        return NULL;
    }

    c->ns = kngx_dec_copy_str(d, es->ns);
    c->name = kngx_dec_copy_str(d, es->name);
    c->service_name = kngx_dec_copy_str(d, es->service_name);
    c->resource_version = "";
    c->address_type_str = kngx_dec_copy_str(d, es->address_type_str);
    c->address_type = es->address_type;

    c->ports = kube_arena_calloc(a, es->nports + 1, sizeof(kube_es_port_t));
    c->endpoints = kube_arena_calloc(a, es->nendpoints + 1,
                                     sizeof(kube_es_endpoint_t));
    if (c->ports == NULL || c->endpoints == NULL) {
        d->nomem = 1;
        return NULL;
    }

    for (i = 0; i < es->nports; i++) {
        pt = &c->ports[i];
        *pt = es->ports[i];
        pt->name = kngx_dec_copy_str(d, es->ports[i].name);
        pt->protocol = kngx_dec_copy_str(d, es->ports[i].protocol);
        pt->app_protocol = kngx_dec_copy_str(d, es->ports[i].app_protocol);
    }

    c->nports = es->nports;

    for (i = 0; i < es->nendpoints; i++) {
        ep = &c->endpoints[i];
        ep->ready = es->endpoints[i].ready;
        ep->serving = es->endpoints[i].serving;
        ep->terminating = es->endpoints[i].terminating;

        ep->addresses = kube_arena_calloc(a, es->endpoints[i].naddresses,
                                          sizeof(kube_es_address_t));
        if (ep->addresses == NULL) {
            d->nomem = 1;
            return NULL;
        }

        for (j = 0; j < es->endpoints[i].naddresses; j++) {
            ep->addresses[j] = es->endpoints[i].addresses[j];
            ep->addresses[j].text = kngx_dec_copy_str(d,
                                        es->endpoints[i].addresses[j].text);
        }

        ep->naddresses = es->endpoints[i].naddresses;
    }

    c->nendpoints = es->nendpoints;

    return d->nomem ? NULL : c;
}


void
kngx_dec_slice(kngx_dec_t *d, json_t *obj)
{
    kngx_slice_t           sl;
    kube_endpointslice_t  *es;
    kube_err_t             err;
    size_t                 i;

    memset(&sl, 0, sizeof(sl));

    if (kngx_dec_head(d, obj, &sl.meta, KNGX_NAME_SUBDOMAIN, 1,
                      "discovery.k8s.io/v1", "") != 0)
    {
        return;
    }

    if (d->failed || d->nomem) {
        return;
    }

    sl.service_name = kngx_meta_label(&sl.meta, KUBE_ES_SERVICE_NAME_LABEL);

    es = kube_endpointslice_decode(obj, NULL, &err);
    if (es == NULL) {
        kngx_dec_error(d, obj, NULL, "%s", err.msg);
        return;
    }

    for (i = 0; i < es->nwarnings; i++) {
        if (kngx_diag_add(&d->m->diags, d->m->arena, KNGX_DIAG_WARNING,
                          d->src, 0, d->object, NULL, "bad-endpoint",
                          "%s", es->warnings[i]) != 0)
        {
            d->nomem = 1;
        }
    }

    sl.es = kngx_dec_slice_copy(d, es);
    kube_endpointslice_free(es);

    if (sl.es == NULL) {
        return;
    }

    if (kngx_model_push(d->m, 4, &sl, sizeof(sl)) != 0) {
        d->nomem = 1;
    }
}


