
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
 *
 * Of the ConfigMaps of the watched namespaces (KNGX_KIND_CMREF), only
 * those an Ingress's annotations name go into the model.
 */

#include <string.h>

#include "controller_watch.h"
#include "load.h"


kngx_model_t *
kngx_ctl_store_model(kngx_ctl_watch_t *w)
{
    return kngx_ctl_store_model_with(w, NULL, NULL, NULL);
}


/*
 * Whether the model holds ConfigMap key of KNGX_KIND_CMREF: when an
 * Ingress names it (a stored one, or the webhook's, in named), and no
 * flag's watch holds it already (the decoder refuses a second one).
 */
static int
kngx_ctl_model_cm(kngx_ctl_watch_t *w, const char *key, json_t *named)
{
    int  i;

    if (!kngx_ctl_configmap_named(w, key)
        && json_object_get(named, key) == NULL)
    {
        return 0;
    }

    for (i = 0; i < KNGX_CTL_NCONFIGMAPS; i++) {
        if (json_object_get(kngx_ctl_store_objects(w, KNGX_KIND_CONFIGMAP
                                                      + i), key))
        {
            return 0;
        }
    }

    return 1;
}


kngx_model_t *
kngx_ctl_store_model_with(kngx_ctl_watch_t *w, const char *ing_key,
    json_t *ing, const kngx_source_t *ing_src)
{
    kngx_model_t   *m;
    kngx_source_t   src;
    const char     *key, *kind;
    json_t         *obj, *named;
    int             i;
    unsigned        n;

    m = kngx_model_create(NULL);
    named = json_object();

    if (m == NULL || named == NULL) {
        kngx_model_free(m);
        json_decref(named);
        return NULL;
    }

    if (ing) {
        kngx_ctl_ingress_configmaps(ing, named);
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

            if (i == KNGX_KIND_CMREF && !kngx_ctl_model_cm(w, key, named))
            {
                continue;
            }

            if (kngx_decode_object(m, &src, obj, NULL) != 0) {
                kngx_model_free(m);
                json_decref(named);
                return NULL;
            }
        }
    }

    json_decref(named);

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
