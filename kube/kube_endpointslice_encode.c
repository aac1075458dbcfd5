/*
 * kubengx kube/: a decoded EndpointSlice back to compact JSON, with what
 * kube_endpointslice_decode() reads and endpoint selection uses (see
 * kube_endpointslice.h).
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kube_endpointslice.h"


static int kube_es_set_str(json_t *obj, const char *key, const char *value);
static json_t *kube_es_encode_meta(const kube_endpointslice_t *es);
static json_t *kube_es_encode_ports(const kube_endpointslice_t *es);
static json_t *kube_es_encode_endpoint(const kube_es_endpoint_t *e);


/* obj[key] = value; nothing when value is NULL; 0 or -1 */

static int
kube_es_set_str(json_t *obj, const char *key, const char *value)
{
    if (value == NULL) {
        return 0;
    }

    return json_object_set_new(obj, key, json_string(value));
}


/* json_*_set_new() and _append_new() consume the value even on error */

static json_t *
kube_es_encode_meta(const kube_endpointslice_t *es)
{
    char       buf[64];
    json_t    *meta, *o;
    time_t     sec;
    struct tm  tm;

    meta = json_object();
    if (meta == NULL) {
        return NULL;
    }

    if (kube_es_set_str(meta, "name", es->name) != 0
        || kube_es_set_str(meta, "namespace", es->ns) != 0)
    {
        goto failed;
    }

    if (es->service_name) {
        o = json_object();
        if (o == NULL || json_object_set_new(meta, "labels", o) != 0
            || kube_es_set_str(o, KUBE_ES_SERVICE_NAME_LABEL,
                               es->service_name) != 0)
        {
            goto failed;
        }
    }

    if (es->has_trigger_time && es->trigger_time_ms >= 0) {
        sec = (time_t) (es->trigger_time_ms / 1000);

        if (gmtime_r(&sec, &tm) == NULL) {
            goto failed;
        }

        snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, (int) (es->trigger_time_ms % 1000));

        o = json_object();
        if (o == NULL || json_object_set_new(meta, "annotations", o) != 0
            || kube_es_set_str(o, KUBE_ES_TRIGGER_TIME_ANNOTATION, buf) != 0)
        {
            goto failed;
        }
    }

    return meta;

failed:

    json_decref(meta);
    return NULL;
}


static json_t *
kube_es_encode_ports(const kube_endpointslice_t *es)
{
    size_t                 i;
    json_t                *arr, *o;
    const kube_es_port_t  *port;

    arr = json_array();
    if (arr == NULL) {
        return NULL;
    }

    for (i = 0; i < es->nports; i++) {
        port = &es->ports[i];

        o = json_object();
        if (o == NULL || json_array_append_new(arr, o) != 0
            || kube_es_set_str(o, "name", port->name) != 0
            || kube_es_set_str(o, "protocol", port->protocol) != 0
            || kube_es_set_str(o, "appProtocol", port->app_protocol) != 0
            || (port->has_port
                && json_object_set_new(o, "port",
                                       json_integer(port->port)) != 0))
        {
            json_decref(arr);
            return NULL;
        }
    }

    return arr;
}


static json_t *
kube_es_encode_endpoint(const kube_es_endpoint_t *e)
{
    size_t   j;
    json_t  *ep, *a, *o, *z;

    ep = json_object();
    if (ep == NULL) {
        return NULL;
    }

    a = json_array();
    if (a == NULL || json_object_set_new(ep, "addresses", a) != 0) {
        goto failed;
    }

    for (j = 0; j < e->naddresses; j++) {
        if (json_array_append_new(a, json_string(e->addresses[j].text)) != 0)
        {
            goto failed;
        }
    }

    o = json_object();
    if (o == NULL || json_object_set_new(ep, "conditions", o) != 0
        || json_object_set_new(o, "ready", json_boolean(e->ready)) != 0
        || json_object_set_new(o, "serving", json_boolean(e->serving)) != 0
        || json_object_set_new(o, "terminating",
                               json_boolean(e->terminating)) != 0)
    {
        goto failed;
    }

    if (kube_es_set_str(ep, "hostname", e->hostname) != 0
        || kube_es_set_str(ep, "nodeName", e->node_name) != 0
        || kube_es_set_str(ep, "zone", e->zone) != 0)
    {
        goto failed;
    }

    if (e->target_kind || e->target_name) {
        o = json_object();
        if (o == NULL || json_object_set_new(ep, "targetRef", o) != 0
            || kube_es_set_str(o, "kind", e->target_kind) != 0
            || kube_es_set_str(o, "name", e->target_name) != 0)
        {
            goto failed;
        }
    }

    if (e->nfor_zones) {
        o = json_object();
        if (o == NULL || json_object_set_new(ep, "hints", o) != 0) {
            goto failed;
        }

        a = json_array();
        if (a == NULL || json_object_set_new(o, "forZones", a) != 0) {
            goto failed;
        }

        for (j = 0; j < e->nfor_zones; j++) {
            z = json_object();
            if (z == NULL || json_array_append_new(a, z) != 0
                || kube_es_set_str(z, "name", e->for_zones[j]) != 0)
            {
                goto failed;
            }
        }
    }

    return ep;

failed:

    json_decref(ep);
    return NULL;
}


char *
kube_endpointslice_encode(const kube_endpointslice_t *es, size_t *len)
{
    char    *text;
    size_t   i;
    json_t  *obj, *v, *arr;

    text = NULL;

    obj = json_object();
    if (obj == NULL) {
        return NULL;
    }

    v = kube_es_encode_meta(es);
    if (v == NULL || json_object_set_new(obj, "metadata", v) != 0
        || kube_es_set_str(obj, "addressType", es->address_type_str) != 0)
    {
        goto done;
    }

    v = kube_es_encode_ports(es);
    if (v == NULL || json_object_set_new(obj, "ports", v) != 0) {
        goto done;
    }

    arr = json_array();
    if (arr == NULL || json_object_set_new(obj, "endpoints", arr) != 0) {
        goto done;
    }

    for (i = 0; i < es->nendpoints; i++) {
        v = kube_es_encode_endpoint(&es->endpoints[i]);
        if (v == NULL || json_array_append_new(arr, v) != 0) {
            goto done;
        }
    }

    text = json_dumps(obj, JSON_COMPACT);

    if (text != NULL) {
        *len = strlen(text);
    }

done:

    json_decref(obj);

    return text;
}
