
/*
 * kubengx controller: the object store -> a generator model.
 *
 * Each stored object goes through the generator's own decoder
 * (kngx_decode_object, generator/load.h), the same code `kubengx render`
 * uses for files, so the controller and the CLI read objects
 * identically.  The source of an object is its kind and its position in
 * the store ("Ingress:3"): objects the decoder refuses become ERROR diags
 * printed as "kubengx: error: Ingress:3: ns/name: field: message"; they
 * are left out of the model and the rest is still rendered.
 *
 * The webhook (controller_webhook_review.c) asks for the store with one
 * Ingress added or replaced: that object is decoded last, with its own
 * source, so that every problem about it can be told from the others.
 */

#include <string.h>

#include "controller_watch.h"
#include "load.h"


kngx_model_t *
kngx_ctl_store_model(kngx_ctl_watch_t *w)
{
    return kngx_ctl_store_model_with(w, NULL, NULL, NULL);
}


kngx_model_t *
kngx_ctl_store_model_with(kngx_ctl_watch_t *w, const char *ing_key,
    json_t *ing, const kngx_source_t *ing_src)
{
    kngx_model_t   *m;
    kngx_source_t   src;
    const char     *key, *kind;
    json_t         *obj;
    int             i;
    unsigned        n;

    m = kngx_model_create(NULL);
    if (m == NULL) {
        return NULL;
    }

    for (i = 0; i < KNGX_CTL_NKINDS; i++) {
        if (kngx_ctl_watch_kind(w, i, &kind, NULL) != 0) {
            continue;
        }

        memset(&src, 0, sizeof(src));
        src.file = kind;
        n = 0;

        json_object_foreach(kngx_ctl_store_objects(w, i), key, obj) {
            src.doc = ++n;

            if (i == KNGX_KIND_INGRESS && ing_key
                && strcmp(key, ing_key) == 0)
            {
                continue;
            }

            if (kngx_decode_object(m, &src, obj, NULL) != 0) {
                kngx_model_free(m);
                return NULL;
            }
        }
    }

    if (ing && kngx_decode_object(m, ing_src, ing, NULL) != 0) {
        kngx_model_free(m);
        return NULL;
    }

    if (kngx_model_finish(m) != 0) {
        kngx_model_free(m);
        return NULL;
    }

    return m;
}
