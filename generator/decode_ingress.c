
/*
 * kubengx generator: Ingress (networking.k8s.io/v1) -> kngx_ingress_t
 * (decode.h).  Rules, paths, backends and tls entries keep their field
 * path and line for the planner's messages.
 */

#include <string.h>

#include "decode.h"


/* field: kept by the caller (be->field points to it) */
static void
kngx_dec_backend(kngx_dec_t *d, json_t *obj, const char *field,
    kngx_backend_t *be)
{
    json_t  *svc, *res, *port;
    char     f[KNGX_FIELD_SIZE];

    be->field = field;
    be->line = kngx_lines_get(d->lines, obj);

    kngx_dec_fields(d, obj, field, kngx_fields_backend);

    svc = kngx_dec_get(d, obj, "service", JSON_OBJECT,
                       kngx_dec_sub(f, field, ".service"), 0);
    res = kngx_dec_get(d, obj, "resource", JSON_OBJECT,
                       kngx_dec_sub(f, field, ".resource"), 0);

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
        kngx_dec_fields(d, res, kngx_dec_sub(f, field, ".resource"),
                        kngx_fields_resource);
        be->kind = KNGX_BACKEND_RESOURCE;
        be->resource_api_group = kngx_dec_str(d, res, "apiGroup",
            kngx_dec_sub(f, field, ".resource.apiGroup"), 0);
        be->resource_kind = kngx_dec_str(d, res, "kind",
            kngx_dec_sub(f, field, ".resource.kind"), 1);
        be->resource_name = kngx_dec_str(d, res, "name",
            kngx_dec_sub(f, field, ".resource.name"), 1);
        return;
    }

    be->kind = KNGX_BACKEND_SERVICE;
    kngx_dec_fields(d, svc, kngx_dec_sub(f, field, ".service"),
                    kngx_fields_svc_backend);
    be->service = kngx_dec_str(d, svc, "name",
                      kngx_dec_sub(f, field, ".service.name"), 1);
    if (be->service == NULL) {
        be->service = "";
    }

    port = kngx_dec_get(d, svc, "port", JSON_OBJECT,
                        kngx_dec_sub(f, field, ".service.port"), 1);
    if (port == NULL) {
        return;
    }

    kngx_dec_fields(d, port, kngx_dec_sub(f, field, ".service.port"),
                    kngx_fields_port_ref);

    be->port_name = kngx_dec_str(d, port, "name",
                        kngx_dec_sub(f, field, ".service.port.name"), 0);
    be->port_number = kngx_dec_int(d, port, "number",
                        kngx_dec_sub(f, field, ".service.port.number"), 0,
                        1, 65535);

    if (be->port_name && be->port_name[0] == '\0') {
        be->port_name = NULL;
    }

    if (be->port_name && be->port_number) {
        kngx_dec_error(d, port, kngx_dec_sub(f, field, ".service.port"),
                       "name and number are mutually exclusive");

    } else if (be->port_name == NULL && be->port_number == 0 && !d->failed) {
        kngx_dec_error(d, port, kngx_dec_sub(f, field, ".service.port"),
                       "needs a name or a number");
    }
}


/* one element of http.paths (p->field set) */
static void
kngx_dec_path(kngx_dec_t *d, json_t *jp, kngx_ingress_path_t *p)
{
    json_t      *v;
    const char  *type;
    char         f[KNGX_FIELD_SIZE];

    p->line = kngx_lines_get(d->lines, jp);
    p->path = "";

    if (!json_is_object(jp)) {
        kngx_dec_error(d, jp, p->field, "must be an object, not %s",
                       kngx_json_type(jp));
        return;
    }

    kngx_dec_fields(d, jp, p->field, kngx_fields_path);

    type = kngx_dec_str(d, jp, "pathType",
                        kngx_dec_sub(f, p->field, ".pathType"), 1);
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
                       kngx_dec_sub(f, p->field, ".pathType"),
                       "%s is not one of Exact, Prefix, "
                       "ImplementationSpecific", kngx_msg_quote(type));
    }

    p->path = kngx_dec_str(d, jp, "path",
                           kngx_dec_sub(f, p->field, ".path"),
                           type
                           && p->type != KNGX_PATH_IMPLEMENTATION_SPECIFIC);
    if (p->path == NULL) {
        p->path = "/";
    }

    v = kngx_dec_get(d, jp, "backend", JSON_OBJECT,
                     kngx_dec_sub(f, p->field, ".backend"), 1);
    if (v) {
        kngx_dec_backend(d, v,
                         kngx_dec_keep(d, kngx_dec_sub(f, p->field,
                                                       ".backend")),
                         &p->backend);
    }
}


/* spec.rules[i] (rule->field set); -1 when out of memory */
static int
kngx_dec_rule(kngx_dec_t *d, json_t *r, kngx_ingress_rule_t *rule)
{
    json_t  *http, *paths, *jp;
    size_t   j;
    char     f[KNGX_FIELD_SIZE];

    rule->line = kngx_lines_get(d->lines, r);

    if (!json_is_object(r)) {
        kngx_dec_error(d, r, rule->field, "must be an object, not %s",
                       kngx_json_type(r));
        return 0;
    }

    kngx_dec_fields(d, r, rule->field, kngx_fields_rule);

    rule->host = kngx_dec_str(d, r, "host",
                              kngx_dec_sub(f, rule->field, ".host"), 0);
    if (rule->host && rule->host[0] == '\0') {
        rule->host = NULL;
    }

    http = kngx_dec_get(d, r, "http", JSON_OBJECT,
                        kngx_dec_sub(f, rule->field, ".http"), 0);
    if (http == NULL) {
        return 0;
    }

    kngx_dec_fields(d, http, kngx_dec_sub(f, rule->field, ".http"),
                    kngx_fields_http);

    paths = kngx_dec_get(d, http, "paths", JSON_ARRAY,
                         kngx_dec_sub(f, rule->field, ".http.paths"), 1);
    if (paths == NULL || json_array_size(paths) == 0) {
        return 0;
    }

    rule->paths = kube_arena_calloc(d->m->arena, json_array_size(paths),
                                    sizeof(kngx_ingress_path_t));
    if (rule->paths == NULL) {
        return -1;
    }

    json_array_foreach(paths, j, jp) {
        kngx_ingress_path_t  *p = &rule->paths[rule->npaths++];

        kngx_dec_sub(f, rule->field, ".http.paths");
        p->field = kngx_dec_keep(d, kngx_dec_idx(f, f, j));
        kngx_dec_path(d, jp, p);
    }

    return 0;
}


/* spec.tls[i] (t->field set); -1 when out of memory */
static int
kngx_dec_tls(kngx_dec_t *d, json_t *v, kngx_ingress_tls_t *t)
{
    json_t  *hosts, *h;
    size_t   k;
    char     f[KNGX_FIELD_SIZE];

    t->line = kngx_lines_get(d->lines, v);

    if (!json_is_object(v)) {
        kngx_dec_error(d, v, t->field, "must be an object, not %s",
                       kngx_json_type(v));
        return 0;
    }

    kngx_dec_fields(d, v, t->field, kngx_fields_tls);

    t->secret_name = kngx_dec_str(d, v, "secretName",
                         kngx_dec_sub(f, t->field, ".secretName"), 0);
    if (t->secret_name && t->secret_name[0] == '\0') {
        t->secret_name = NULL;
    }

    hosts = kngx_dec_get(d, v, "hosts", JSON_ARRAY,
                         kngx_dec_sub(f, t->field, ".hosts"), 0);
    if (hosts == NULL || json_array_size(hosts) == 0) {
        return 0;
    }

    t->hosts = kube_arena_calloc(d->m->arena, json_array_size(hosts),
                                 sizeof(char *));
    if (t->hosts == NULL) {
        return -1;
    }

    json_array_foreach(hosts, k, h) {
        if (!json_is_string(h)) {
            kngx_dec_sub(f, t->field, ".hosts");
            kngx_dec_error(d, h, kngx_dec_idx(f, f, k),
                           "must be a string, not %s", kngx_json_type(h));
            continue;
        }
        t->hosts[t->nhosts++] = kngx_dec_strdup(d, h);
    }

    return 0;
}


/* spec.rules and spec.tls into ing */
static void
kngx_dec_ingress_spec(kngx_dec_t *d, json_t *spec, kngx_ingress_t *ing)
{
    json_t  *rules, *tls, *v;
    size_t   i;
    char     f[KNGX_FIELD_SIZE];

    rules = kngx_dec_get(d, spec, "rules", JSON_ARRAY, "spec.rules", 0);

    if (rules && json_array_size(rules)) {
        ing->rules = kube_arena_calloc(d->m->arena, json_array_size(rules),
                                       sizeof(kngx_ingress_rule_t));
        if (ing->rules == NULL) {
            d->nomem = 1;
            return;
        }
    }

    json_array_foreach(rules, i, v) {
        kngx_ingress_rule_t  *rule = &ing->rules[ing->nrules++];

        rule->field = kngx_dec_keep(d, kngx_dec_idx(f, "spec.rules", i));

        if (kngx_dec_rule(d, v, rule) != 0) {
            d->nomem = 1;
            return;
        }
    }

    tls = kngx_dec_get(d, spec, "tls", JSON_ARRAY, "spec.tls", 0);

    if (tls && json_array_size(tls)) {
        ing->tls = kube_arena_calloc(d->m->arena, json_array_size(tls),
                                     sizeof(kngx_ingress_tls_t));
        if (ing->tls == NULL) {
            d->nomem = 1;
            return;
        }
    }

    json_array_foreach(tls, i, v) {
        kngx_ingress_tls_t  *t = &ing->tls[ing->ntls++];

        t->field = kngx_dec_keep(d, kngx_dec_idx(f, "spec.tls", i));

        if (kngx_dec_tls(d, v, t) != 0) {
            d->nomem = 1;
            return;
        }
    }
}


void
kngx_dec_ingress(kngx_dec_t *d, json_t *obj)
{
    kngx_ingress_t  ing;
    json_t         *spec, *v;

    memset(&ing, 0, sizeof(ing));

    if (kngx_dec_head(d, obj, &ing.meta, KNGX_NAME_SUBDOMAIN, 1,
                      "networking.k8s.io/v1",
                      " (removed in Kubernetes 1.22)") != 0)
    {
        return;
    }

    ing.legacy_class = kngx_meta_annotation(&ing.meta,
                                            "kubernetes.io/ingress.class");

    kngx_dec_fields(d, obj, NULL, kngx_fields_object);

    spec = kngx_dec_get(d, obj, "spec", JSON_OBJECT, "spec", 0);
    kngx_dec_fields(d, spec, "spec", kngx_fields_ingress_spec);

    ing.class_name = kngx_dec_str(d, spec, "ingressClassName",
                                  "spec.ingressClassName", 0);

    v = kngx_dec_get(d, spec, "defaultBackend", JSON_OBJECT,
                     "spec.defaultBackend", 0);
    if (v) {
        kngx_dec_backend(d, v, "spec.defaultBackend", &ing.default_backend);
    }

    kngx_dec_ingress_spec(d, spec, &ing);

    if (d->failed || d->nomem) {
        return;
    }

    if (kngx_model_push(d->m, 0, &ing, sizeof(ing)) != 0) {
        d->nomem = 1;
    }
}
