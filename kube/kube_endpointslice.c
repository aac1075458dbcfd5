/*
 * kubengx kube/: EndpointSlice (discovery.k8s.io/v1) decoding.
 */

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "kube_arena.h"
#include "kube_endpointslice.h"


typedef struct {
    kube_endpointslice_t  *es;
    kube_arena_t          *arena;
    int                    nomem;
} kube_es_ctx_t;


static void kube_es_warn(kube_es_ctx_t *ctx, const char *fmt, ...)
    KUBE_PRINTF(2, 3);


static void
kube_es_warn(kube_es_ctx_t *ctx, const char *fmt, ...)
{
    char     buf[KUBE_ERR_LEN];
    va_list  ap;

    if (ctx->es->nwarnings >= KUBE_ES_MAX_WARNINGS) {
        ctx->es->nwarnings_dropped++;
        return;
    }

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);

    ctx->es->warnings[ctx->es->nwarnings] =
        kube_arena_strdup(ctx->arena, buf);

    if (ctx->es->warnings[ctx->es->nwarnings] == NULL) {
        ctx->nomem = 1;
        return;
    }

    ctx->es->nwarnings++;
}


/* a string member: NULL if absent/null/not a string (dflt then) */
static const char *
kube_es_str(kube_es_ctx_t *ctx, json_t *obj, const char *key,
    const char *dflt)
{
    json_t      *v;
    const char  *s;

    v = json_object_get(obj, key);

    if (!json_is_string(v)) {
        if (dflt == NULL) {
            return NULL;
        }
        s = dflt;

    } else {
        s = json_string_value(v);
    }

    s = kube_arena_strdup(ctx->arena, s);
    if (s == NULL) {
        ctx->nomem = 1;
    }

    return s;
}


/* tri-state condition: absent/null => dflt */
static int
kube_es_bool(kube_es_ctx_t *ctx, json_t *obj, const char *key, int dflt,
    size_t idx)
{
    json_t  *v;

    v = json_object_get(obj, key);

    if (v == NULL || json_is_null(v)) {
        return dflt;
    }

    if (json_is_boolean(v)) {
        return json_is_true(v);
    }

    kube_es_warn(ctx, "endpoints[%zu].conditions.%s is not a boolean, "
                 "using %s", idx, key, dflt ? "true" : "false");
    return dflt;
}


/* null, absent and [] are all empty; anything else non-array warns */
static size_t
kube_es_array(kube_es_ctx_t *ctx, json_t *obj, const char *key,
    const char *where, json_t **arr)
{
    json_t  *v;

    v = json_object_get(obj, key);
    *arr = NULL;

    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (!json_is_array(v)) {
        kube_es_warn(ctx, "%s%s is not an array, ignored", where, key);
        return 0;
    }

    *arr = v;
    return json_array_size(v);
}


static int
kube_es_fqdn_valid(const char *s)
{
    size_t  len, label;

    len = strlen(s);
    if (len == 0 || len > 253) {
        return 0;
    }

    label = 0;

    for (; *s; s++) {
        if (*s == '.') {
            if (label == 0) {
                return 0;
            }
            label = 0;
            continue;
        }

        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
              || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
        {
            return 0;
        }

        if (++label > 63) {
            return 0;
        }
    }

    return 1;
}


static int
kube_es_address(kube_es_ctx_t *ctx, const char *text, kube_es_address_t *a)
{
    kube_addr_type_e  t = ctx->es->address_type;

    memset(a, 0, sizeof(kube_es_address_t));

    if (t == KUBE_ADDR_FQDN) {
        if (!kube_es_fqdn_valid(text)) {
            return -1;
        }
        a->family = 0;

    } else if ((t == KUBE_ADDR_IPV4 || t == KUBE_ADDR_UNKNOWN)
               && inet_pton(AF_INET, text, a->bin) == 1)
    {
        a->family = AF_INET;

    } else if ((t == KUBE_ADDR_IPV6 || t == KUBE_ADDR_UNKNOWN)
               && inet_pton(AF_INET6, text, a->bin) == 1)
    {
        a->family = AF_INET6;

    } else {
        return -1;
    }

    a->text = kube_arena_strdup(ctx->arena, text);
    if (a->text == NULL) {
        ctx->nomem = 1;
        return -1;
    }

    return 0;
}


kube_addr_type_e
kube_addr_type_parse(const char *s)
{
    if (s == NULL) {
        return KUBE_ADDR_UNKNOWN;
    }

    if (strcmp(s, "IPv4") == 0) {
        return KUBE_ADDR_IPV4;
    }

    if (strcmp(s, "IPv6") == 0) {
        return KUBE_ADDR_IPV6;
    }

    if (strcmp(s, "FQDN") == 0) {
        return KUBE_ADDR_FQDN;
    }

    return KUBE_ADDR_UNKNOWN;
}


static void
kube_es_ports(kube_es_ctx_t *ctx, json_t *obj)
{
    size_t           i, n;
    json_t          *arr, *p, *v;
    json_int_t       port;
    kube_es_port_t  *out;

    n = kube_es_array(ctx, obj, "ports", "", &arr);
    if (n == 0) {
        return;
    }

    ctx->es->ports = kube_arena_calloc(ctx->arena, n, sizeof(kube_es_port_t));
    if (ctx->es->ports == NULL) {
        ctx->nomem = 1;
        return;
    }

    json_array_foreach(arr, i, p) {
        out = &ctx->es->ports[ctx->es->nports];

        if (!json_is_object(p)) {
            kube_es_warn(ctx, "ports[%zu] is not an object, skipped", i);
            continue;
        }

        v = json_object_get(p, "port");

        if (v != NULL && !json_is_null(v)) {
            if (!json_is_integer(v)) {
                kube_es_warn(ctx, "ports[%zu].port is not an integer, "
                             "skipped", i);
                continue;
            }

            port = json_integer_value(v);

            if (port < 1 || port > 65535) {
                kube_es_warn(ctx, "ports[%zu].port %lld is out of range "
                             "1-65535, skipped", i, (long long) port);
                continue;
            }

            out->has_port = 1;
            out->port = (uint16_t) port;
        }

        out->name = kube_es_str(ctx, p, "name", "");
        out->protocol = kube_es_str(ctx, p, "protocol", "TCP");
        out->app_protocol = kube_es_str(ctx, p, "appProtocol", NULL);

        if (ctx->nomem) {
            return;
        }

        if (strcmp(out->protocol, "TCP") == 0) {
            out->proto = KUBE_PROTO_TCP;

        } else if (strcmp(out->protocol, "UDP") == 0) {
            out->proto = KUBE_PROTO_UDP;

        } else if (strcmp(out->protocol, "SCTP") == 0) {
            out->proto = KUBE_PROTO_SCTP;

        } else {
            out->proto = KUBE_PROTO_OTHER;
        }

        ctx->es->nports++;
    }
}


static void
kube_es_zones(kube_es_ctx_t *ctx, json_t *ep, kube_es_endpoint_t *out,
    size_t idx)
{
    size_t       i, n;
    json_t      *hints, *arr, *z;
    const char  *name;
    char         where[64];

    hints = json_object_get(ep, "hints");
    if (!json_is_object(hints)) {
        return;
    }

    snprintf(where, sizeof(where), "endpoints[%zu].hints.", idx);

    n = kube_es_array(ctx, hints, "forZones", where, &arr);
    if (n == 0) {
        return;
    }

    out->for_zones = kube_arena_calloc(ctx->arena, n, sizeof(char *));
    if (out->for_zones == NULL) {
        ctx->nomem = 1;
        return;
    }

    json_array_foreach(arr, i, z) {
        name = json_string_value(json_object_get(z, "name"));

        if (name == NULL) {
            kube_es_warn(ctx, "%sforZones[%zu].name missing, skipped",
                         where, i);
            continue;
        }

        out->for_zones[out->nfor_zones] = kube_arena_strdup(ctx->arena,
                                                            name);
        if (out->for_zones[out->nfor_zones] == NULL) {
            ctx->nomem = 1;
            return;
        }

        out->nfor_zones++;
    }
}


static void
kube_es_endpoints(kube_es_ctx_t *ctx, json_t *obj)
{
    size_t               i, j, n, na;
    json_t              *arr, *ep, *addrs, *a, *cond, *ref;
    const char          *text;
    kube_es_endpoint_t  *out;
    char                 where[64];

    n = kube_es_array(ctx, obj, "endpoints", "", &arr);
    if (n == 0) {
        return;
    }

    ctx->es->endpoints = kube_arena_calloc(ctx->arena, n,
                                           sizeof(kube_es_endpoint_t));
    if (ctx->es->endpoints == NULL) {
        ctx->nomem = 1;
        return;
    }

    json_array_foreach(arr, i, ep) {
        out = &ctx->es->endpoints[ctx->es->nendpoints];

        if (!json_is_object(ep)) {
            kube_es_warn(ctx, "endpoints[%zu] is not an object, skipped", i);
            continue;
        }

        snprintf(where, sizeof(where), "endpoints[%zu].", i);

        na = kube_es_array(ctx, ep, "addresses", where, &addrs);
        if (na == 0) {
            kube_es_warn(ctx, "endpoints[%zu].addresses is empty, skipped",
                         i);
            continue;
        }

        out->addresses = kube_arena_calloc(ctx->arena, na,
                                           sizeof(kube_es_address_t));
        if (out->addresses == NULL) {
            ctx->nomem = 1;
            return;
        }

        json_array_foreach(addrs, j, a) {
            text = json_string_value(a);

            if (text == NULL) {
                kube_es_warn(ctx, "endpoints[%zu].addresses[%zu] is not a "
                             "string, skipped", i, j);
                continue;
            }

            if (kube_es_address(ctx, text,
                                &out->addresses[out->naddresses]) != 0)
            {
                if (ctx->nomem) {
                    return;
                }

                kube_es_warn(ctx, "endpoints[%zu].addresses[%zu] \"%.64s\" "
                             "is not a valid %s address, skipped", i, j,
                             text, ctx->es->address_type_str[0]
                                   ? ctx->es->address_type_str : "IP");
                continue;
            }

            out->naddresses++;
        }

        if (out->naddresses == 0) {
            kube_es_warn(ctx, "endpoints[%zu] has no valid address, "
                         "skipped", i);
            continue;
        }

        cond = json_object_get(ep, "conditions");
        if (cond != NULL && !json_is_object(cond) && !json_is_null(cond)) {
            kube_es_warn(ctx, "endpoints[%zu].conditions is not an object, "
                         "using defaults", i);
            cond = NULL;
        }

        out->ready = kube_es_bool(ctx, cond, "ready", 1, i) ? 1 : 0;
        out->serving = kube_es_bool(ctx, cond, "serving", 1, i) ? 1 : 0;
        out->terminating = kube_es_bool(ctx, cond, "terminating", 0, i)
                           ? 1 : 0;

        out->hostname = kube_es_str(ctx, ep, "hostname", NULL);
        out->node_name = kube_es_str(ctx, ep, "nodeName", NULL);
        out->zone = kube_es_str(ctx, ep, "zone", NULL);

        ref = json_object_get(ep, "targetRef");
        if (json_is_object(ref)) {
            out->target_kind = kube_es_str(ctx, ref, "kind", NULL);
            out->target_name = kube_es_str(ctx, ref, "name", NULL);
        }

        kube_es_zones(ctx, ep, out, i);

        if (ctx->nomem) {
            return;
        }

        ctx->es->nendpoints++;
    }
}


kube_endpointslice_t *
kube_endpointslice_decode(json_t *obj, const kube_allocator_t *allocator,
    kube_err_t *err)
{
    json_t                *meta, *labels, *ann, *v;
    const char            *s;
    kube_arena_t          *arena;
    kube_es_ctx_t          ctx;
    kube_endpointslice_t  *es;

    if (!json_is_object(obj)) {
        kube_err_set(err, "EndpointSlice: not a JSON object");
        return NULL;
    }

    meta = json_object_get(obj, "metadata");
    if (!json_is_object(meta)) {
        kube_err_set(err, "EndpointSlice: \"metadata\" missing or not an "
                     "object");
        return NULL;
    }

    v = json_object_get(meta, "name");
    if (!json_is_string(v) || json_string_length(v) == 0) {
        kube_err_set(err, "EndpointSlice: \"metadata.name\" missing or "
                     "empty");
        return NULL;
    }

    arena = kube_arena_create(allocator, 4096);
    if (arena == NULL) {
        goto nomem;
    }

    es = kube_arena_calloc(arena, 1, sizeof(kube_endpointslice_t));
    if (es == NULL) {
        kube_arena_destroy(arena);
        goto nomem;
    }

    es->arena = arena;

    ctx.es = es;
    ctx.arena = arena;
    ctx.nomem = 0;

    es->warnings = kube_arena_calloc(arena, KUBE_ES_MAX_WARNINGS,
                                     sizeof(char *));
    if (es->warnings == NULL) {
        goto failed;
    }

    es->name = kube_es_str(&ctx, meta, "name", "");
    es->ns = kube_es_str(&ctx, meta, "namespace", "");
    es->resource_version = kube_es_str(&ctx, meta, "resourceVersion", "");

    labels = json_object_get(meta, "labels");
    es->service_name = json_is_object(labels)
                       ? kube_es_str(&ctx, labels,
                                     KUBE_ES_SERVICE_NAME_LABEL, NULL)
                       : NULL;

    if (es->service_name != NULL && es->service_name[0] == '\0') {
        es->service_name = NULL;
    }

    es->address_type_str = kube_es_str(&ctx, obj, "addressType", "");

    if (ctx.nomem) {
        goto failed;
    }

    es->address_type = kube_addr_type_parse(es->address_type_str);

    if (es->address_type == KUBE_ADDR_UNKNOWN
        && es->address_type_str[0] != '\0')
    {
        kube_es_warn(&ctx, "addressType \"%.32s\" is unknown, accepting "
                     "IPv4 and IPv6 addresses", es->address_type_str);
    }

    ann = json_object_get(meta, "annotations");
    s = json_string_value(json_object_get(ann,
                                          KUBE_ES_TRIGGER_TIME_ANNOTATION));
    if (s != NULL) {
        if (kube_parse_rfc3339_ms(s, &es->trigger_time_ms) == 0) {
            es->has_trigger_time = 1;

        } else {
            kube_es_warn(&ctx, "annotation " KUBE_ES_TRIGGER_TIME_ANNOTATION
                         " \"%.40s\" is not an RFC 3339 time, ignored", s);
        }
    }

    kube_es_ports(&ctx, obj);
    kube_es_endpoints(&ctx, obj);

    if (ctx.nomem) {
        goto failed;
    }

    kube_err_clear(err);
    return es;

failed:

    kube_arena_destroy(arena);

nomem:

    kube_err_set(err, "EndpointSlice: out of memory");
    return NULL;
}


kube_endpointslice_t *
kube_endpointslice_decode_text(const char *text, size_t len,
    const kube_allocator_t *allocator, kube_err_t *err)
{
    json_t                *root;
    kube_endpointslice_t  *es;

    root = kube_json_loadb(text, len, "EndpointSlice", err);
    if (root == NULL) {
        return NULL;
    }

    es = kube_endpointslice_decode(root, allocator, err);
    json_decref(root);

    return es;
}


void
kube_endpointslice_free(kube_endpointslice_t *es)
{
    if (es != NULL) {
        kube_arena_destroy(es->arena);
    }
}
