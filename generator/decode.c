
/*
 * kubengx generator: json_t objects -> the typed model (model.h).
 *
 * Structural problems (a wrong type, a missing required field, an unknown
 * enum value, an unsupported apiVersion, a namespace or object name the
 * API server would refuse) are errors naming the field:
 * `kubengx render` then exits 2 and writes nothing.  Values that are well
 * formed but cannot be served (a bad host, a path with `;`) are not
 * judged here: the route plan warns and skips them.
 *
 * Strings are copied into the model's arena.  A NUL byte inside a string
 * (JSON "\u0000") is replaced by 0x01, so that validation later refuses the
 * value instead of silently cutting it short.
 */

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kube_base64.h"
#include "load.h"
#include "escape.h"
#include "stream.h"


typedef struct {
    kngx_model_t        *m;
    const kngx_source_t *src;
    kngx_lines_t        *lines;
    char                 object[320];
    const char          *ns;
    const char          *name;
    int                  failed;
    int                  nomem;
} kngx_dec_t;


static void kngx_dec_error(kngx_dec_t *d, json_t *node, const char *field,
    const char *fmt, ...) KNGX_PRINTF(4, 5);


static void
kngx_dec_error(kngx_dec_t *d, json_t *node, const char *field,
    const char *fmt, ...)
{
    char     buf[512];
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);

    d->failed = 1;

    if (kngx_diag_add(&d->m->diags, d->m->arena, KNGX_DIAG_ERROR, d->src,
                      kngx_lines_get(d->lines, node),
                      d->object[0] ? d->object : NULL, field, "bad-input",
                      "%s", buf) != 0)
    {
        d->nomem = 1;
    }
}


static const char *
kngx_json_type(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:  return "an object";
    case JSON_ARRAY:   return "a list";
    case JSON_STRING:  return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL:    return "a number";
    case JSON_TRUE:
    case JSON_FALSE:   return "a boolean";
    default:           return "null";
    }
}


static char *
kngx_dec_strdup(kngx_dec_t *d, json_t *v)
{
    size_t   len = json_string_length(v), i;
    char    *s;

    s = kube_arena_strndup(d->m->arena, json_string_value(v), len);
    if (s == NULL) {
        d->nomem = 1;
        return NULL;
    }

    for (i = 0; i < len; i++) {
        if (s[i] == '\0') {
            s[i] = '\x01';
        }
    }

    return s;
}


static const char *
kngx_dec_field(kngx_dec_t *d, const char *fmt, ...) KNGX_PRINTF(2, 3);

static const char *
kngx_dec_field(kngx_dec_t *d, const char *fmt, ...)
{
    char     buf[256];
    va_list  ap;
    char    *s;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);

    s = kube_arena_strdup(d->m->arena, buf);
    if (s == NULL) {
        d->nomem = 1;
        return "";
    }

    return s;
}


/* member of type; NULL if absent or null; error if of another type */
static json_t *
kngx_dec_get(kngx_dec_t *d, json_t *obj, const char *key, json_type type,
    const char *field, int required)
{
    json_t  *v;

    v = obj ? json_object_get(obj, key) : NULL;

    if (v == NULL || json_is_null(v)) {
        if (required) {
            kngx_dec_error(d, obj, field, "required field is missing");
        }
        return NULL;
    }

    if (json_typeof(v) != type
        && !(type == JSON_TRUE && json_is_boolean(v)))
    {
        kngx_dec_error(d, v, field, "must be %s, not %s",
                       type == JSON_OBJECT ? "an object"
                       : type == JSON_ARRAY ? "a list"
                       : type == JSON_STRING ? "a string"
                       : type == JSON_INTEGER ? "an integer" : "a boolean",
                       kngx_json_type(v));
        return NULL;
    }

    return v;
}


static const char *
kngx_dec_str(kngx_dec_t *d, json_t *obj, const char *key, const char *field,
    int required)
{
    json_t  *v;

    v = kngx_dec_get(d, obj, key, JSON_STRING, field, required);

    return v ? kngx_dec_strdup(d, v) : NULL;
}


/* integer in [lo, hi]; 0 if absent */
static int
kngx_dec_int(kngx_dec_t *d, json_t *obj, const char *key, const char *field,
    int required, int lo, int hi)
{
    json_t      *v;
    json_int_t   i;

    v = kngx_dec_get(d, obj, key, JSON_INTEGER, field, required);
    if (v == NULL) {
        return 0;
    }

    i = json_integer_value(v);

    if (i < lo || i > hi) {
        kngx_dec_error(d, v, field, "%lld is not in %d..%d", (long long) i,
                       lo, hi);
        return 0;
    }

    return (int) i;
}


static int
kngx_kv_cmp(const void *a, const void *b)
{
    return strcmp(((const kngx_kv_t *) a)->key, ((const kngx_kv_t *) b)->key);
}


static kngx_kv_t *
kngx_dec_map(kngx_dec_t *d, json_t *obj, const char *key, const char *field,
    size_t *n)
{
    json_t      *map, *v;
    const char  *k;
    kngx_kv_t   *kv;
    size_t       i = 0;

    *n = 0;

    map = kngx_dec_get(d, obj, key, JSON_OBJECT, field, 0);
    if (map == NULL || json_object_size(map) == 0) {
        return NULL;
    }

    kv = kube_arena_calloc(d->m->arena, json_object_size(map),
                           sizeof(kngx_kv_t));
    if (kv == NULL) {
        d->nomem = 1;
        return NULL;
    }

    json_object_foreach(map, k, v) {
        if (!json_is_string(v)) {
            kngx_dec_error(d, v, kngx_dec_field(d, "%s.%.100s", field, k),
                           "must be a string, not %s (quote it)",
                           kngx_json_type(v));
            continue;
        }

        kv[i].key = kube_arena_strdup(d->m->arena, k);
        kv[i].value = kngx_dec_strdup(d, v);
        if (kv[i].key == NULL || kv[i].value == NULL) {
            d->nomem = 1;
            return NULL;
        }
        i++;
    }

    qsort(kv, i, sizeof(kngx_kv_t), kngx_kv_cmp);
    *n = i;

    return kv;
}


/*
 * Names as the API server checks them: objects read from files were not
 * checked by one, and a name reaches file names and identifiers
 * (names.c).  namespaced: 0 cluster-scoped.
 */
static void
kngx_dec_names(kngx_dec_t *d, json_t *md, const kngx_meta_t *meta,
    kngx_name_rule_e rule, int namespaced)
{
    json_t      *ns;
    const char  *why;

    if (meta->name[0] && kngx_name_check(rule, meta->name, &why) != 0) {
        kngx_dec_error(d, json_object_get(md, "name"), "metadata.name",
                       "%s name %s %s", meta->kind,
                       kngx_msg_quote(meta->name), why);
    }

    if (!namespaced
        || kngx_name_check(KNGX_NAME_LABEL, meta->ns, &why) == 0)
    {
        return;
    }

    ns = json_object_get(md, "namespace");

    kngx_dec_error(d, ns ? ns : md, "metadata.namespace",
                   "namespace %s%s %s", kngx_msg_quote(meta->ns),
                   ns ? "" : " (from -n)", why);
}


static void
kngx_dec_meta(kngx_dec_t *d, json_t *obj, kngx_meta_t *meta,
    kngx_name_rule_e rule, int namespaced)
{
    json_t      *md;
    const char  *s;

    meta->src = *d->src;
    meta->src.line = kngx_lines_get(d->lines, obj);

    s = json_string_value(json_object_get(obj, "apiVersion"));
    meta->api_version = kube_arena_strdup(d->m->arena, s ? s : "");
    meta->kind = kube_arena_strdup(d->m->arena,
                     json_string_value(json_object_get(obj, "kind")));

    md = kngx_dec_get(d, obj, "metadata", JSON_OBJECT, "metadata", 1);

    meta->name = kngx_dec_str(d, md, "name", "metadata.name", md != NULL);
    if (meta->name && meta->name[0] == '\0') {
        kngx_dec_error(d, json_object_get(md, "name"), "metadata.name",
                       "must not be empty");
    }
    if (meta->name == NULL) {
        meta->name = "";
    }

    if (namespaced) {
        meta->ns = kngx_dec_str(d, md, "namespace", "metadata.namespace", 0);
        if (meta->ns == NULL || meta->ns[0] == '\0') {
            meta->ns = d->m->default_ns;
        }
        snprintf(d->object, sizeof(d->object), "%s/%s", meta->ns,
                 meta->name);

    } else {
        meta->ns = "";
        snprintf(d->object, sizeof(d->object), "%s", meta->name);
    }

    if (!d->object[0] || !meta->name[0]) {
        d->object[0] = '\0';
    }

    d->ns = meta->ns;
    d->name = meta->name;

    meta->uid = kngx_dec_str(d, md, "uid", "metadata.uid", 0);

    meta->creation_timestamp = kngx_dec_str(d, md, "creationTimestamp",
                                            "metadata.creationTimestamp", 0);
    if (meta->creation_timestamp) {
        if (kube_parse_rfc3339_ms(meta->creation_timestamp,
                                  &meta->creation_ms) != 0)
        {
            kngx_dec_error(d, json_object_get(md, "creationTimestamp"),
                           "metadata.creationTimestamp",
                           "is not an RFC 3339 time");
        } else {
            meta->has_creation = 1;
        }
    }

    meta->labels = kngx_dec_map(d, md, "labels", "metadata.labels",
                                &meta->nlabels);
    meta->annotations = kngx_dec_map(d, md, "annotations",
                                     "metadata.annotations",
                                     &meta->nannotations);

    if (meta->kind == NULL || meta->api_version == NULL) {
        d->nomem = 1;
        return;
    }

    kngx_dec_names(d, md, meta, rule, namespaced);
}


/* ---- Ingress ------------------------------------------------------------- */

static void
kngx_dec_backend(kngx_dec_t *d, json_t *obj, const char *field,
    kngx_backend_t *be)
{
    json_t  *svc, *res, *port;

    be->field = field;
    be->line = kngx_lines_get(d->lines, obj);

    svc = kngx_dec_get(d, obj, "service", JSON_OBJECT,
                       kngx_dec_field(d, "%s.service", field), 0);
    res = kngx_dec_get(d, obj, "resource", JSON_OBJECT,
                       kngx_dec_field(d, "%s.resource", field), 0);

    if (svc && res) {
        kngx_dec_error(d, obj, field,
                       "service and resource are mutually exclusive");
        return;
    }

    if (svc == NULL && res == NULL) {
        if (!d->failed) {
            kngx_dec_error(d, obj, field, "needs a service or a resource");
        }
        return;
    }

    if (res) {
        be->kind = KNGX_BACKEND_RESOURCE;
        be->resource_api_group = kngx_dec_str(d, res, "apiGroup",
            kngx_dec_field(d, "%s.resource.apiGroup", field), 0);
        be->resource_kind = kngx_dec_str(d, res, "kind",
            kngx_dec_field(d, "%s.resource.kind", field), 1);
        be->resource_name = kngx_dec_str(d, res, "name",
            kngx_dec_field(d, "%s.resource.name", field), 1);
        return;
    }

    be->kind = KNGX_BACKEND_SERVICE;
    be->service = kngx_dec_str(d, svc, "name",
                      kngx_dec_field(d, "%s.service.name", field), 1);
    if (be->service == NULL) {
        be->service = "";
    }

    port = kngx_dec_get(d, svc, "port", JSON_OBJECT,
                        kngx_dec_field(d, "%s.service.port", field), 1);
    if (port == NULL) {
        return;
    }

    be->port_name = kngx_dec_str(d, port, "name",
                        kngx_dec_field(d, "%s.service.port.name", field), 0);
    be->port_number = kngx_dec_int(d, port, "number",
                        kngx_dec_field(d, "%s.service.port.number", field), 0,
                        1, 65535);

    if (be->port_name && be->port_name[0] == '\0') {
        be->port_name = NULL;
    }

    if (be->port_name && be->port_number) {
        kngx_dec_error(d, port, kngx_dec_field(d, "%s.service.port", field),
                       "name and number are mutually exclusive");

    } else if (be->port_name == NULL && be->port_number == 0 && !d->failed) {
        kngx_dec_error(d, port, kngx_dec_field(d, "%s.service.port", field),
                       "needs a name or a number");
    }
}


static void
kngx_dec_ingress(kngx_dec_t *d, json_t *obj)
{
    kngx_model_t         *m = d->m;
    kngx_ingress_t        ing;
    kngx_ingress_rule_t  *rule;
    kngx_ingress_path_t  *p;
    kngx_ingress_tls_t   *t;
    json_t               *spec, *rules, *tls, *r, *http, *paths, *jp, *v;
    json_t               *hosts, *h;
    const char           *type;
    size_t                i, j, k;

    memset(&ing, 0, sizeof(ing));
    kngx_dec_meta(d, obj, &ing.meta, KNGX_NAME_SUBDOMAIN, 1);

    if (strcmp(ing.meta.api_version, "networking.k8s.io/v1") != 0) {
        kngx_dec_error(d, json_object_get(obj, "apiVersion"), "apiVersion",
                       "Ingress %s is not supported (removed in "
                       "Kubernetes 1.22); use networking.k8s.io/v1",
                       kngx_msg_quote(ing.meta.api_version));
        return;
    }

    ing.legacy_class = kngx_meta_annotation(&ing.meta,
                                            "kubernetes.io/ingress.class");

    spec = kngx_dec_get(d, obj, "spec", JSON_OBJECT, "spec", 0);

    ing.class_name = kngx_dec_str(d, spec, "ingressClassName",
                                  "spec.ingressClassName", 0);

    v = kngx_dec_get(d, spec, "defaultBackend", JSON_OBJECT,
                     "spec.defaultBackend", 0);
    if (v) {
        kngx_dec_backend(d, v, "spec.defaultBackend", &ing.default_backend);
    }

    rules = kngx_dec_get(d, spec, "rules", JSON_ARRAY, "spec.rules", 0);

    if (rules && json_array_size(rules)) {
        ing.rules = kube_arena_calloc(m->arena, json_array_size(rules),
                                      sizeof(kngx_ingress_rule_t));
        if (ing.rules == NULL) {
            d->nomem = 1;
            return;
        }
    }

    json_array_foreach(rules, i, r) {
        rule = &ing.rules[ing.nrules++];
        rule->field = kngx_dec_field(d, "spec.rules[%zu]", i);
        rule->line = kngx_lines_get(d->lines, r);

        if (!json_is_object(r)) {
            kngx_dec_error(d, r, rule->field, "must be an object, not %s",
                           kngx_json_type(r));
            continue;
        }

        rule->host = kngx_dec_str(d, r, "host",
                         kngx_dec_field(d, "spec.rules[%zu].host", i), 0);
        if (rule->host && rule->host[0] == '\0') {
            rule->host = NULL;
        }

        http = kngx_dec_get(d, r, "http", JSON_OBJECT,
                   kngx_dec_field(d, "spec.rules[%zu].http", i), 0);
        if (http == NULL) {
            continue;
        }

        paths = kngx_dec_get(d, http, "paths", JSON_ARRAY,
                    kngx_dec_field(d, "spec.rules[%zu].http.paths", i), 1);
        if (paths == NULL || json_array_size(paths) == 0) {
            continue;
        }

        rule->paths = kube_arena_calloc(m->arena, json_array_size(paths),
                                        sizeof(kngx_ingress_path_t));
        if (rule->paths == NULL) {
            d->nomem = 1;
            return;
        }

        json_array_foreach(paths, j, jp) {
            p = &rule->paths[rule->npaths++];
            p->field = kngx_dec_field(d, "spec.rules[%zu].http.paths[%zu]",
                                      i, j);
            p->line = kngx_lines_get(d->lines, jp);
            p->path = "";

            if (!json_is_object(jp)) {
                kngx_dec_error(d, jp, p->field, "must be an object, not %s",
                               kngx_json_type(jp));
                continue;
            }

            type = kngx_dec_str(d, jp, "pathType",
                                kngx_dec_field(d, "%s.pathType", p->field), 1);
            if (type == NULL) {
                /* error given */

            } else if (strcmp(type, "Exact") == 0) {
                p->type = KNGX_PATH_EXACT;

            } else if (strcmp(type, "Prefix") == 0) {
                p->type = KNGX_PATH_PREFIX;

            } else if (strcmp(type, "ImplementationSpecific") == 0) {
                p->type = KNGX_PATH_IMPLEMENTATION_SPECIFIC;

            } else {
                kngx_dec_error(d, json_object_get(jp, "pathType"),
                               kngx_dec_field(d, "%s.pathType", p->field),
                               "%s is not one of Exact, Prefix, "
                               "ImplementationSpecific",
                               kngx_msg_quote(type));
            }

            p->path = kngx_dec_str(d, jp, "path",
                          kngx_dec_field(d, "%s.path", p->field),
                          type && p->type != KNGX_PATH_IMPLEMENTATION_SPECIFIC);
            if (p->path == NULL) {
                p->path = "/";
            }

            v = kngx_dec_get(d, jp, "backend", JSON_OBJECT,
                             kngx_dec_field(d, "%s.backend", p->field), 1);
            if (v) {
                kngx_dec_backend(d, v,
                                 kngx_dec_field(d, "%s.backend", p->field),
                                 &p->backend);
            }
        }
    }

    tls = kngx_dec_get(d, spec, "tls", JSON_ARRAY, "spec.tls", 0);

    if (tls && json_array_size(tls)) {
        ing.tls = kube_arena_calloc(m->arena, json_array_size(tls),
                                    sizeof(kngx_ingress_tls_t));
        if (ing.tls == NULL) {
            d->nomem = 1;
            return;
        }
    }

    json_array_foreach(tls, i, v) {
        t = &ing.tls[ing.ntls++];
        t->field = kngx_dec_field(d, "spec.tls[%zu]", i);
        t->line = kngx_lines_get(d->lines, v);

        if (!json_is_object(v)) {
            kngx_dec_error(d, v, t->field, "must be an object, not %s",
                           kngx_json_type(v));
            continue;
        }

        t->secret_name = kngx_dec_str(d, v, "secretName",
                             kngx_dec_field(d, "%s.secretName", t->field), 0);
        if (t->secret_name && t->secret_name[0] == '\0') {
            t->secret_name = NULL;
        }

        hosts = kngx_dec_get(d, v, "hosts", JSON_ARRAY,
                             kngx_dec_field(d, "%s.hosts", t->field), 0);
        if (hosts == NULL || json_array_size(hosts) == 0) {
            continue;
        }

        t->hosts = kube_arena_calloc(m->arena, json_array_size(hosts),
                                     sizeof(char *));
        if (t->hosts == NULL) {
            d->nomem = 1;
            return;
        }

        json_array_foreach(hosts, k, h) {
            if (!json_is_string(h)) {
                kngx_dec_error(d, h,
                               kngx_dec_field(d, "%s.hosts[%zu]", t->field,
                                              k),
                               "must be a string, not %s", kngx_json_type(h));
                continue;
            }
            t->hosts[t->nhosts++] = kngx_dec_strdup(d, h);
        }
    }

    if (d->failed || d->nomem) {
        return;
    }

    if (kngx_model_push(m, 0, &ing, sizeof(ing)) != 0) {
        d->nomem = 1;
    }
}


/* ---- Service ------------------------------------------------------------- */

static void
kngx_dec_service(kngx_dec_t *d, json_t *obj)
{
    kngx_service_t        svc;
    kngx_service_port_t  *sp;
    json_t               *spec, *ports, *jp, *tp;
    const char           *f;
    size_t                i;

    memset(&svc, 0, sizeof(svc));
    kngx_dec_meta(d, obj, &svc.meta, KNGX_NAME_LABEL_1035, 1);

    if (strcmp(svc.meta.api_version, "v1") != 0) {
        kngx_dec_error(d, json_object_get(obj, "apiVersion"), "apiVersion",
                       "Service %s is not supported; use v1",
                       kngx_msg_quote(svc.meta.api_version));
        return;
    }

    spec = kngx_dec_get(d, obj, "spec", JSON_OBJECT, "spec", 0);

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
        f = kngx_dec_field(d, "spec.ports[%zu]", i);

        if (!json_is_object(jp)) {
            kngx_dec_error(d, jp, f, "must be an object, not %s",
                           kngx_json_type(jp));
            continue;
        }

        sp = &svc.ports[svc.nports++];

        sp->name = kngx_dec_str(d, jp, "name",
                                kngx_dec_field(d, "%s.name", f), 0);
        if (sp->name == NULL) {
            sp->name = "";
        }

        sp->protocol = kngx_dec_str(d, jp, "protocol",
                                    kngx_dec_field(d, "%s.protocol", f), 0);
        if (sp->protocol == NULL) {
            sp->protocol = "TCP";
        }

        sp->port = kngx_dec_int(d, jp, "port",
                                kngx_dec_field(d, "%s.port", f), 1, 1, 65535);
        sp->node_port = kngx_dec_int(d, jp, "nodePort",
                                     kngx_dec_field(d, "%s.nodePort", f), 0,
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
                    kngx_dec_error(d, tp, kngx_dec_field(d, "%s.targetPort",
                                                         f),
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
                                  kngx_dec_field(d, "%s.targetPort", f), 0,
                                  1, 65535);
        }
    }

    if (d->failed || d->nomem) {
        return;
    }

    if (kngx_model_push(d->m, 1, &svc, sizeof(svc)) != 0) {
        d->nomem = 1;
    }
}


/* ---- IngressClass, Secret, EndpointSlice --------------------------------- */

static void
kngx_dec_class(kngx_dec_t *d, json_t *obj)
{
    kngx_ingress_class_t  cls;
    json_t               *spec;
    const char           *v;

    memset(&cls, 0, sizeof(cls));
    kngx_dec_meta(d, obj, &cls.meta, KNGX_NAME_SUBDOMAIN, 0);

    if (strcmp(cls.meta.api_version, "networking.k8s.io/v1") != 0) {
        kngx_dec_error(d, json_object_get(obj, "apiVersion"), "apiVersion",
                       "IngressClass %s is not supported; use "
                       "networking.k8s.io/v1",
                       kngx_msg_quote(cls.meta.api_version));
        return;
    }

    spec = kngx_dec_get(d, obj, "spec", JSON_OBJECT, "spec", 0);
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

    v = kngx_dec_get(d, sdata, key, JSON_STRING,
                     kngx_dec_field(d, "stringData.%s", key), 0);
    if (v) {
        *len = json_string_length(v);
        return kngx_dec_strdup(d, v);
    }

    v = kngx_dec_get(d, data, key, JSON_STRING,
                     kngx_dec_field(d, "data.%s", key), 0);
    if (v == NULL) {
        return NULL;
    }

    raw = kube_base64_decode(json_string_value(v), json_string_length(v),
                             &n, &err);
    if (raw == NULL) {
        kngx_dec_error(d, v, kngx_dec_field(d, "data.%s", key),
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


static void
kngx_dec_secret(kngx_dec_t *d, json_t *obj)
{
    kngx_secret_t  sec;
    json_t        *data, *sdata;

    memset(&sec, 0, sizeof(sec));
    kngx_dec_meta(d, obj, &sec.meta, KNGX_NAME_SUBDOMAIN, 1);

    if (strcmp(sec.meta.api_version, "v1") != 0) {
        kngx_dec_error(d, json_object_get(obj, "apiVersion"), "apiVersion",
                       "Secret %s is not supported; use v1",
                       kngx_msg_quote(sec.meta.api_version));
        return;
    }

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

    if (d->failed || d->nomem) {
        return;
    }

    if (kngx_model_push(d->m, 3, &sec, sizeof(sec)) != 0) {
        d->nomem = 1;
    }
}


static void
kngx_dec_slice(kngx_dec_t *d, json_t *obj)
{
    kngx_slice_t  sl;
    kube_err_t    err;
    size_t        i;

    memset(&sl, 0, sizeof(sl));
    kngx_dec_meta(d, obj, &sl.meta, KNGX_NAME_SUBDOMAIN, 1);

    if (strcmp(sl.meta.api_version, "discovery.k8s.io/v1") != 0) {
        kngx_dec_error(d, json_object_get(obj, "apiVersion"), "apiVersion",
                       "EndpointSlice %s is not supported; use "
                       "discovery.k8s.io/v1",
                       kngx_msg_quote(sl.meta.api_version));
        return;
    }

    if (d->failed || d->nomem) {
        return;
    }

    sl.service_name = kngx_meta_label(&sl.meta, KUBE_ES_SERVICE_NAME_LABEL);

    sl.es = kube_endpointslice_decode(obj, NULL, &err);
    if (sl.es == NULL) {
        kngx_dec_error(d, obj, NULL, "%s", err.msg);
        return;
    }

    for (i = 0; i < sl.es->nwarnings; i++) {
        if (kngx_diag_add(&d->m->diags, d->m->arena, KNGX_DIAG_WARNING,
                          d->src, 0, d->object, NULL, "bad-endpoint",
                          "%s", sl.es->warnings[i]) != 0)
        {
            d->nomem = 1;
        }
    }

    if (kngx_model_push(d->m, 4, &sl, sizeof(sl)) != 0) {
        kube_endpointslice_free(sl.es);
        d->nomem = 1;
    }
}


/* ---- dispatch ------------------------------------------------------------ */

int
kngx_decode_object(kngx_model_t *m, const kngx_source_t *src, json_t *obj,
    kngx_lines_t *lines)
{
    kngx_dec_t   d;
    const char  *kind;
    json_t      *v;

    memset(&d, 0, sizeof(d));
    d.m = m;
    d.src = src;
    d.lines = lines;

    if (!json_is_object(obj)) {
        kngx_dec_error(&d, obj, NULL, "a manifest must be an object, not %s",
                       kngx_json_type(obj));
        return 0;
    }

    v = kngx_dec_get(&d, obj, "kind", JSON_STRING, "kind", 1);
    kngx_dec_get(&d, obj, "apiVersion", JSON_STRING, "apiVersion", 1);
    if (d.failed) {
        return d.nomem ? -1 : 0;
    }

    kind = json_string_value(v);

    if (strcmp(kind, "Ingress") == 0) {
        kngx_dec_ingress(&d, obj);

    } else if (strcmp(kind, "Service") == 0) {
        kngx_dec_service(&d, obj);

    } else if (strcmp(kind, "IngressClass") == 0) {
        kngx_dec_class(&d, obj);

    } else if (strcmp(kind, "Secret") == 0) {
        kngx_dec_secret(&d, obj);

    } else if (strcmp(kind, "EndpointSlice") == 0) {
        kngx_dec_slice(&d, obj);

    } else if (strcmp(kind, "ConfigMap") == 0) {
        /* TCP/UDP services (stream_configmap.c) */
        return kngx_configmap_keep(m, src, obj, lines);

    } else {
        json_t      *md = json_object_get(obj, "metadata");
        const char  *name = json_string_value(json_object_get(md, "name"));

        m->nskipped++;

        if (kngx_diag_add(&m->diags, m->arena, KNGX_DIAG_INFO, src,
                          kngx_lines_get(lines, obj), NULL, NULL,
                          "skipped-kind", "skipped %s %s (not a kind "
                          "kubengx reads)", kngx_msg_quote(kind),
                          kngx_msg_quote(name ? name : "")) != 0)
        {
            return -1;
        }

        return 0;
    }

    if (d.nomem) {
        return -1;
    }

    if (!d.failed) {
        if (kngx_model_canon_add(m, kind, d.ns, d.name, obj) != 0) {
            return -1;
        }
    }

    return 0;
}
