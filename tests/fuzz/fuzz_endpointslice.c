/*
 * libFuzzer target: kube/ object decoding of EndpointSlices
 * (kube_endpointslice_decode_text) and the per-Service endpoint union
 * built from them (kube_svc_endpoints_compute).
 *
 * Input: JSON text of one slice; when it contains a line "\n---\n" the
 * part after it is a second slice, so the union sees two.
 */

#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube_endpointslice.h"
#include "kube_svc_endpoints.h"


static void
check_slice(const kube_endpointslice_t *es)
{
    size_t  i, j;

    if (es->name == NULL || es->name[0] == '\0' || es->ns == NULL) {
        abort();
    }

    for (i = 0; i < es->nports; i++) {
        if (es->ports[i].has_port && es->ports[i].port == 0) {
            abort();
        }
    }

    for (i = 0; i < es->nendpoints; i++) {
        if (es->endpoints[i].naddresses == 0) {
            abort();
        }

        for (j = 0; j < es->endpoints[i].naddresses; j++) {
            if (es->endpoints[i].addresses[j].text == NULL) {
                abort();
            }
        }
    }

    if (es->nwarnings > KUBE_ES_MAX_WARNINGS) {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char                  *text = (const char *) data, *sep;
    const kube_endpointslice_t  *arr[2];
    kube_endpointslice_t        *a, *b = NULL;
    kube_port_selector_t         sel;
    kube_svc_endpoints_t         out, out2;
    kube_err_t                   err;
    size_t                       alen = size;
    static const char           *sels[] = { "http", "8080", "", "x" };
    unsigned                     k;

    sep = memmem(text, size, "\n---\n", 5);
    if (sep) {
        alen = (size_t) (sep - text);
    }

    a = kube_endpointslice_decode_text(text, alen, NULL, &err);
    if (a) {
        check_slice(a);
    }

    if (sep) {
        b = kube_endpointslice_decode_text(sep + 5, size - alen - 5, NULL,
                                           &err);
        if (b) {
            check_slice(b);
        }
    }

    arr[0] = a;
    arr[1] = b;

    for (k = 0; k < 4; k++) {
        if (kube_port_selector_parse(sels[k], strlen(sels[k]), &sel, &err)
            != 0)
        {
            continue;
        }

        if (kube_svc_endpoints_compute(arr, 2, &sel, &out, &err) != 0) {
            continue;
        }

        if (kube_svc_endpoints_compute(arr, 2, &sel, &out2, &err) == 0) {
            if (!kube_svc_endpoints_equal(&out, &out2)) {
                abort();
            }
            kube_svc_endpoints_free(&out2);
        }

        kube_svc_endpoints_free(&out);
    }

    /* the port selector itself, on the raw input */
    (void) kube_port_selector_parse(text, size < 80 ? size : 80, &sel, &err);

    kube_endpointslice_free(a);
    kube_endpointslice_free(b);

    return 0;
}
