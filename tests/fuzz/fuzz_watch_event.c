/*
 * libFuzzer target: kube/ watch event decoding (kube_watch_event_decode),
 * one line {"type":T,"object":O}, and the helpers run on what it yields.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube_watch_event.h"
#include "kube_endpointslice.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kube_watch_event_t     ev;
    kube_endpointslice_t  *es;
    kube_err_t             err;
    const char            *name;

    if (kube_watch_event_decode((const char *) data, size, &ev, &err) != 0) {
        /* on error ev is zeroed: nothing to free */
        if (ev.root != NULL || ev.object != NULL) {
            abort();
        }
        return 0;
    }

    if (ev.type == KUBE_EVENT_NONE || ev.object == NULL || ev.rv == NULL
        || ev.reason == NULL || ev.message == NULL)
    {
        abort();
    }

    name = kube_event_type_name(ev.type);
    if (kube_event_type_parse(name) != ev.type) {
        abort();
    }

    (void) strlen(ev.rv);
    (void) strlen(ev.reason);
    (void) strlen(ev.message);
    (void) kube_object_rv(ev.object);

    if (ev.type != KUBE_EVENT_ERROR && ev.type != KUBE_EVENT_BOOKMARK) {
        es = kube_endpointslice_decode(ev.object, NULL, &err);
        kube_endpointslice_free(es);
    }

    kube_watch_event_free(&ev);

    return 0;
}
