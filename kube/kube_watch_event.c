/*
 * kubengx kube/: watch event decoding.
 */

#include <string.h>

#include "kube_watch_event.h"


static const char  *kube_event_names[] = {
    "NONE", "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"
};


const char *
kube_event_type_name(kube_event_type_e type)
{
    if ((size_t) type >= sizeof(kube_event_names) / sizeof(char *)) {
        return "UNKNOWN";
    }

    return kube_event_names[type];
}


kube_event_type_e
kube_event_type_parse(const char *s)
{
    size_t  i;

    if (s == NULL) {
        return KUBE_EVENT_NONE;
    }

    for (i = 1; i < sizeof(kube_event_names) / sizeof(char *); i++) {
        if (strcmp(s, kube_event_names[i]) == 0) {
            return (kube_event_type_e) i;
        }
    }

    return KUBE_EVENT_NONE;
}


const char *
kube_object_rv(json_t *obj)
{
    const char  *rv;

    rv = json_string_value(json_object_get(json_object_get(obj, "metadata"),
                                           "resourceVersion"));

    return rv ? rv : "";
}


static const char *
kube_str_or_empty(json_t *obj, const char *key)
{
    const char  *s;

    s = json_string_value(json_object_get(obj, key));

    return s ? s : "";
}


int
kube_watch_event_from_json(json_t *root, kube_watch_event_t *ev,
    kube_err_t *err)
{
    json_t      *type, *obj, *v, *ann;
    const char  *t;

    memset(ev, 0, sizeof(kube_watch_event_t));

    if (!json_is_object(root)) {
        kube_err_set(err, "watch event: not a JSON object");
        return -1;
    }

    type = json_object_get(root, "type");
    if (!json_is_string(type)) {
        kube_err_set(err, "watch event: \"type\" missing or not a string");
        return -1;
    }

    t = json_string_value(type);
    ev->type = kube_event_type_parse(t);

    if (ev->type == KUBE_EVENT_NONE) {
        kube_err_set(err, "watch event: unknown \"type\" \"%.40s\"", t);
        return -1;
    }

    obj = json_object_get(root, "object");
    if (!json_is_object(obj)) {
        kube_err_set(err, "watch event: %s without an \"object\"", t);
        ev->type = KUBE_EVENT_NONE;
        return -1;
    }

    ev->root = json_incref(root);
    ev->object = obj;
    ev->rv = kube_object_rv(obj);
    ev->reason = "";
    ev->message = "";

    if (ev->type == KUBE_EVENT_ERROR) {
        v = json_object_get(obj, "code");
        if (json_is_integer(v)) {
            ev->code = (int) json_integer_value(v);
        }

        ev->reason = kube_str_or_empty(obj, "reason");
        ev->message = kube_str_or_empty(obj, "message");

        v = json_object_get(json_object_get(obj, "details"),
                            "retryAfterSeconds");
        if (json_is_integer(v) && json_integer_value(v) > 0
            && json_integer_value(v) < 86400)
        {
            ev->retry_after = (int) json_integer_value(v);
        }

        /* an ERROR's Status has no useful resourceVersion */
        ev->rv = "";

    } else if (ev->type == KUBE_EVENT_BOOKMARK) {
        ann = json_object_get(json_object_get(obj, "metadata"),
                              "annotations");
        v = json_object_get(ann, KUBE_INITIAL_EVENTS_END_ANNOTATION);
        if (json_is_string(v) && strcmp(json_string_value(v), "true") == 0) {
            ev->initial_events_end = 1;
        }
    }

    kube_err_clear(err);
    return 0;
}


int
kube_watch_event_decode(const char *line, size_t len, kube_watch_event_t *ev,
    kube_err_t *err)
{
    int           rc;
    json_t       *root;
    json_error_t  jerr;

    memset(ev, 0, sizeof(kube_watch_event_t));

    root = json_loadb(line, len, 0, &jerr);
    if (root == NULL) {
        kube_err_set(err, "watch event: invalid JSON at column %d: %s",
                     jerr.column, jerr.text);
        return -1;
    }

    rc = kube_watch_event_from_json(root, ev, err);
    json_decref(root);

    return rc;
}


void
kube_watch_event_free(kube_watch_event_t *ev)
{
    if (ev->root != NULL) {
        json_decref(ev->root);
    }

    memset(ev, 0, sizeof(kube_watch_event_t));
}
