/*
 * libFuzzer target: kube/ decoding of Services (kube_service_decode_text),
 * their compact encoding, and the resolution of a Service port selector
 * to the EndpointSlice port that serves it (kube_service_resolve).
 *
 * Input: JSON text of one Service.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube_service.h"


static void
check_service(const kube_service_t *svc)
{
    size_t  i;

    if (svc->name == NULL || svc->name[0] == '\0' || svc->ns == NULL) {
        abort();
    }

    for (i = 0; i < svc->nports; i++) {
        if (svc->ports[i].port == 0 || svc->ports[i].name == NULL
            || svc->ports[i].protocol == NULL)
        {
            abort();
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                  *text;
    size_t                 len, i;
    unsigned               k;
    kube_err_t             err;
    kube_service_t        *svc, *again;
    kube_port_selector_t   sel, out;
    static const char     *sels[] = { "80", "http", "", "8080", "x-1" };

    svc = kube_service_decode_text((const char *) data, size, NULL, &err);
    if (svc == NULL) {
        if (err.msg[0] == '\0') {
            abort();
        }
        return 0;
    }

    check_service(svc);

    for (k = 0; k < sizeof(sels) / sizeof(sels[0]); k++) {
        if (kube_port_selector_parse(sels[k], strlen(sels[k]), &sel, &err)
            != 0)
        {
            continue;
        }

        if (kube_service_resolve(svc, &sel, &out) == 0
            && (out.kind != KUBE_PORTSEL_NAME || out.name == NULL))
        {
            abort();
        }
    }

    /* what the zone's cache keeps decodes to the same ports */

    text = kube_service_encode(svc, &len);
    if (text != NULL) {
        again = kube_service_decode_text(text, len, NULL, &err);
        if (again == NULL || again->nports != svc->nports
            || strcmp(again->name, svc->name) != 0
            || strcmp(again->ns, svc->ns) != 0)
        {
            abort();
        }

        for (i = 0; i < svc->nports; i++) {
            if (again->ports[i].port != svc->ports[i].port
                || strcmp(again->ports[i].name, svc->ports[i].name) != 0
                || strcmp(again->ports[i].protocol,
                          svc->ports[i].protocol) != 0)
            {
                abort();
            }
        }

        kube_service_free(again);
        free(text);
    }

    kube_service_free(svc);

    return 0;
}
