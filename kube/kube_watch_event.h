/*
 * kubengx kube/: one watch event line: {"type":T,"object":O}.
 *
 * Ownership: the event holds a reference to the parsed JSON document;
 * ev->object and the strings point into it and stay valid until
 * kube_watch_event_free().  Take json_incref(ev->object) to keep the
 * object longer.
 */

#ifndef KUBE_WATCH_EVENT_H
#define KUBE_WATCH_EVENT_H

#include <jansson.h>

#include "kube_common.h"


#define KUBE_INITIAL_EVENTS_END_ANNOTATION  "k8s.io/initial-events-end"

typedef enum {
    KUBE_EVENT_NONE = 0,
    KUBE_EVENT_ADDED,
    KUBE_EVENT_MODIFIED,
    KUBE_EVENT_DELETED,
    KUBE_EVENT_BOOKMARK,
    KUBE_EVENT_ERROR
} kube_event_type_e;


typedef struct {
    kube_event_type_e   type;
    json_t             *root;        /* owned: the whole line */
    json_t             *object;      /* borrowed from root */
    const char         *rv;          /* metadata.resourceVersion, "" if none */

    /* ERROR events: the Status object */
    int                 code;        /* 0 if absent */
    const char         *reason;      /* "" if absent */
    const char         *message;     /* "" if absent */
    int                 retry_after; /* details.retryAfterSeconds, or 0 */

    /* BOOKMARK with annotation k8s.io/initial-events-end: "true" */
    unsigned            initial_events_end:1;
} kube_watch_event_t;


/*
 * Decode one line (len bytes, no NUL needed).  Returns 0, or -1 with err
 * set for invalid JSON, a missing/unknown "type" or a missing "object".
 * On error nothing needs freeing (ev is zeroed).
 */
int kube_watch_event_decode(const char *line, size_t len,
    kube_watch_event_t *ev, kube_err_t *err);

/* the same from an already parsed json_t (a reference is taken) */
int kube_watch_event_from_json(json_t *root, kube_watch_event_t *ev,
    kube_err_t *err);

void kube_watch_event_free(kube_watch_event_t *ev);

/* "ADDED" ... "ERROR"; "NONE" for 0 */
const char *kube_event_type_name(kube_event_type_e type);
kube_event_type_e kube_event_type_parse(const char *s);

/* metadata.resourceVersion of any object, "" if absent; borrowed */
const char *kube_object_rv(json_t *obj);

#endif /* KUBE_WATCH_EVENT_H */
