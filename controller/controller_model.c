
/*
 * kubengx controller: the object store -> a generator model.
 *
 * Each stored object goes through the generator's own decoder
 * (kngx_decode_object, load.h), the same code `kubengx render` uses for
 * files, so the controller and the CLI read objects identically.  Objects
 * the decoder refuses become ERROR diags whose source is the kind and the
 * object's position in the store ("Ingress:3: ns/name: field: message");
 * they are left out of the model and the rest is still rendered.
 */

#include <stdio.h>
#include <string.h>

#include "controller.h"
#include "load.h"


kngx_model_t *
kngx_ctl_model_build(kngx_ctl_t *ctl)
{
    kngx_model_t     *m;
    kngx_source_t     src;
    kngx_ctl_kind_t  *k;
    const char       *key;
    json_t           *obj;
    int               i;
    unsigned          n;

    m = kngx_model_create(NULL);
    if (m == NULL) {
        return NULL;
    }

    for (i = 0; i < KNGX_CTL_NKINDS; i++) {
        k = &ctl->kinds[i];

        memset(&src, 0, sizeof(src));
        src.file = k->kind;
        n = 0;

        json_object_foreach(k->objects, key, obj) {
            src.doc = ++n;
            if (kngx_decode_object(m, &src, obj, NULL) != 0) {
                kngx_model_free(m);
                return NULL;
            }
        }
    }

    if (kngx_model_finish(m) != 0) {
        kngx_model_free(m);
        return NULL;
    }

    return m;
}
