/*
 * libFuzzer target: the manifest loader (generator/load.c, yaml2json.c,
 * decode.c, model.c): YAML and JSON text, one or more documents, Lists.
 * Any input must load without a crash, a leak or undefined behaviour,
 * and finish (sort, digest) must work on whatever was kept.  Neither
 * may report out of memory: a fuzz input cannot exhaust it (libFuzzer
 * reports real exhaustion itself), so -1 means a NULL misread as such.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "model.h"


static FILE  *devnull;


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kngx_model_t  *m;
    size_t         i;

    if (devnull == NULL) {
        devnull = fopen("/dev/null", "w");
    }

    m = kngx_model_create(NULL);
    if (m == NULL) {
        return 0;
    }

    /* -1 means out of memory, which a fuzz input cannot cause (libFuzzer
     * reports real memory exhaustion itself) */
    if (kngx_model_load_buffer(m, "fuzz.yaml", (const char *) data, size)
        != 0)
    {
        fprintf(stderr, "load: out of memory reported\n");
        abort();
    }

    if (kngx_model_finish(m) != 0) {
        fprintf(stderr, "finish: out of memory reported\n");
        abort();
    }

    (void) kngx_model_nerrors(m);

    for (i = 0; i < m->diags.n; i++) {
        kngx_diag_print(devnull, &m->diags.items[i]);
    }

    for (i = 0; i < m->ningresses; i++) {
        (void) kngx_model_service(m, m->ingresses[i].meta.ns,
                                  m->ingresses[i].meta.name);
    }

    kngx_model_free(m);

    return 0;
}
