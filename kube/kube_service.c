/*
 * kubengx kube/: a Service's ports, and the EndpointSlice port that serves
 * a Service port (see kube_service.h).
 */

#include <stdlib.h>
#include <string.h>

#include "kube_arena.h"
#include "kube_service.h"


static const char *kube_service_str(kube_arena_t *arena, json_t *obj,
    const char *key, const char *dflt, int *nomem);
static int kube_service_ports(kube_service_t *svc, json_t *obj);


static const char *
kube_service_str(kube_arena_t *arena, json_t *obj, const char *key,
    const char *dflt, int *nomem)
{
    const char  *s, *copy;

    s = json_string_value(json_object_get(obj, key));

    copy = kube_arena_strdup(arena, s != NULL ? s : dflt);
    if (copy == NULL) {
        *nomem = 1;
    }

    return copy;
}


/* spec.ports: entries without a port in 1..65535 are left out; -1: nomem */

static int
kube_service_ports(kube_service_t *svc, json_t *obj)
{
    int                   nomem;
    size_t                i, n;
    json_t               *arr, *p;
    json_int_t            port;
    kube_service_port_t  *out;

    arr = json_object_get(json_object_get(obj, "spec"), "ports");
    n = json_is_array(arr) ? json_array_size(arr) : 0;

    if (n == 0) {
        return 0;
    }

    svc->ports = kube_arena_calloc(svc->arena, n,
                                   sizeof(kube_service_port_t));
    if (svc->ports == NULL) {
        return -1;
    }

    nomem = 0;

    json_array_foreach(arr, i, p) {
        port = json_integer_value(json_object_get(p, "port"));

        if (!json_is_object(p) || port < 1 || port > 65535) {
            continue;
        }

        out = &svc->ports[svc->nports++];

        out->port = (uint16_t) port;
        out->name = kube_service_str(svc->arena, p, "name", "", &nomem);
        out->protocol = kube_service_str(svc->arena, p, "protocol", "TCP",
                                         &nomem);
        if (nomem) {
            return -1;
        }

        out->proto = strcmp(out->protocol, "TCP") == 0 ? KUBE_PROTO_TCP
                     : strcmp(out->protocol, "UDP") == 0 ? KUBE_PROTO_UDP
                     : strcmp(out->protocol, "SCTP") == 0 ? KUBE_PROTO_SCTP
                     : KUBE_PROTO_OTHER;
    }

    return 0;
}


kube_service_t *
kube_service_decode(json_t *obj, const kube_allocator_t *allocator,
    kube_err_t *err)
{
    int              nomem;
    json_t          *meta;
    const char      *name;
    kube_arena_t    *arena;
    kube_service_t  *svc;

    meta = json_object_get(obj, "metadata");
    name = json_string_value(json_object_get(meta, "name"));

    if (!json_is_object(obj) || name == NULL || name[0] == '\0') {
        kube_err_set(err, "Service: \"metadata.name\" missing or empty");
        return NULL;
    }

    arena = kube_arena_create(allocator, 1024);
    if (arena == NULL) {
        goto nomem;
    }

    svc = kube_arena_calloc(arena, 1, sizeof(kube_service_t));
    if (svc == NULL) {
        goto failed;
    }

    svc->arena = arena;

    nomem = 0;
    svc->name = kube_service_str(arena, meta, "name", "", &nomem);
    svc->ns = kube_service_str(arena, meta, "namespace", "", &nomem);

    if (nomem || kube_service_ports(svc, obj) != 0) {
        goto failed;
    }

    kube_err_clear(err);
    return svc;

failed:

    kube_arena_destroy(arena);

nomem:

    kube_err_set(err, "Service: out of memory");
    return NULL;
}


kube_service_t *
kube_service_decode_text(const char *text, size_t len,
    const kube_allocator_t *allocator, kube_err_t *err)
{
    json_t          *root;
    kube_service_t  *svc;

    root = kube_json_loadb(text, len, "Service", err);
    if (root == NULL) {
        return NULL;
    }

    svc = kube_service_decode(root, allocator, err);
    json_decref(root);

    return svc;
}


void
kube_service_free(kube_service_t *svc)
{
    if (svc != NULL) {
        kube_arena_destroy(svc->arena);
    }
}


char *
kube_service_encode(const kube_service_t *svc, size_t *len)
{
    char                       *text;
    size_t                      i;
    json_t                     *obj, *ports, *p;
    const kube_service_port_t  *port;

    obj = json_pack("{s:{s:s,s:s},s:{}}", "metadata", "name", svc->name,
                    "namespace", svc->ns, "spec");
    if (obj == NULL) {
        return NULL;
    }

    /* json_object_set_new() consumes the value even on error */

    ports = json_array();
    if (ports == NULL
        || json_object_set_new(json_object_get(obj, "spec"), "ports", ports)
           != 0)
    {
        json_decref(obj);
        return NULL;
    }

    for (i = 0; i < svc->nports; i++) {
        port = &svc->ports[i];

        p = json_pack("{s:s,s:i,s:s}", "name", port->name, "port",
                      (int) port->port, "protocol", port->protocol);

        if (p == NULL || json_array_append_new(ports, p) != 0) {
            json_decref(obj);
            return NULL;
        }
    }

    text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);

    if (text != NULL) {
        *len = strlen(text);
    }

    return text;
}


int
kube_service_resolve(const kube_service_t *svc,
    const kube_port_selector_t *sel, kube_port_selector_t *out)
{
    size_t                      i;
    const kube_service_port_t  *p;

    for (i = 0; i < svc->nports; i++) {
        p = &svc->ports[i];

        if (p->proto != sel->proto) {
            continue;
        }

        if ((sel->kind == KUBE_PORTSEL_NUMBER && p->port == sel->number)
            || (sel->kind == KUBE_PORTSEL_NAME && sel->name != NULL
                && strcmp(p->name, sel->name) == 0)
            || (sel->kind == KUBE_PORTSEL_UNNAMED && p->name[0] == '\0'))
        {
            memset(out, 0, sizeof(kube_port_selector_t));
            out->kind = KUBE_PORTSEL_NAME;
            out->name = p->name;
            out->proto = p->proto;
            return 0;
        }
    }

    return -1;
}
