
/*
 * kubengx controller: the Ingresses left out of the config because
 * nginx -t rejected the config with them (controller_bisect.c finds
 * them), and when to try them again.
 *
 * Each is kept with a fingerprint of what it was left out for: its
 * annotations and spec, the spec of every Service and the type and data
 * of every Secret it names in its namespace (a missing one counts too).
 * Before each sync an Ingress whose fingerprint changed, or that is gone,
 * is dropped from the list and marked changed, so the sync renders it
 * again and, if nginx -t still rejects it, the bisection suspects it
 * first.  Its status, resourceVersion or labels do not count: the leader
 * clearing the status of an Ingress it no longer serves must not make it
 * retried.  SIGHUP retries every one.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller_exclude.h"
#include "controller_log.h"
#include "digest.h"


/* an Ingress left out because nginx -t rejected the config with it */
typedef struct {
    char                *key;           /* "ns/name" */
    unsigned char        fp[32];        /* it and what it names, then */
} kngx_ctl_excluded_t;


struct kngx_ctl_exclude_s {
    kngx_ctl_watch_t    *watch;
    kngx_ctl_excluded_t *excluded;      /* sorted by key */
    size_t               n;
    unsigned             reset:1;       /* SIGHUP: retry them all */
};


kngx_ctl_exclude_t *
kngx_ctl_exclude_create(kngx_ctl_watch_t *watch)
{
    kngx_ctl_exclude_t  *ex;

    ex = calloc(1, sizeof(kngx_ctl_exclude_t));
    if (ex == NULL) {
        kngx_ctl_log("error: out of memory");
        return NULL;
    }

    ex->watch = watch;

    return ex;
}


void
kngx_ctl_exclude_destroy(kngx_ctl_exclude_t *ex)
{
    if (ex == NULL) {
        return;
    }

    while (ex->n) {
        free(ex->excluded[--ex->n].key);
    }

    free(ex->excluded);
    free(ex);
}


void
kngx_ctl_exclude_reset(kngx_ctl_exclude_t *ex)
{
    ex->reset = 1;
}


size_t
kngx_ctl_exclude_count(kngx_ctl_exclude_t *ex)
{
    return ex->n;
}


const char *
kngx_ctl_exclude_key(kngx_ctl_exclude_t *ex, size_t i)
{
    return ex->excluded[i].key;
}


static int
kngx_ctl_changed_has(json_t *changed, const char *kind, const char *ns,
    const char *name)
{
    char  key[1100];

    if (name == NULL) {
        return 0;
    }

    snprintf(key, sizeof(key), "%s/%s/%s", kind, ns, name);
    return json_object_get(changed, key) != NULL;
}


int
kngx_ctl_ingress_involved(json_t *changed, const kngx_ingress_t *ing)
{
    const kngx_backend_t  *be;
    const char            *ns = ing->meta.ns;
    size_t                 i, j;

    if (kngx_ctl_changed_has(changed, "Ingress", ns, ing->meta.name)) {
        return 1;
    }

    for (i = 0; i < ing->ntls; i++) {
        if (kngx_ctl_changed_has(changed, "Secret", ns,
                                 ing->tls[i].secret_name))
        {
            return 1;
        }
    }

    be = &ing->default_backend;
    if (be->kind == KNGX_BACKEND_SERVICE
        && kngx_ctl_changed_has(changed, "Service", ns, be->service))
    {
        return 1;
    }

    for (i = 0; i < ing->nrules; i++) {
        for (j = 0; j < ing->rules[i].npaths; j++) {
            be = &ing->rules[i].paths[j].backend;

            if (be->kind == KNGX_BACKEND_SERVICE
                && kngx_ctl_changed_has(changed, "Service", ns, be->service))
            {
                return 1;
            }
        }
    }

    return 0;
}


static void
kngx_ctl_fp_json(kngx_sha256_t *c, json_t *v)
{
    char  *s;

    s = v ? json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY)
          : NULL;

    kngx_sha256_update(c, s ? s : "-", s ? strlen(s) : 1);
    kngx_sha256_update(c, "", 1);
    free(s);
}


static void
kngx_ctl_fp_service(kngx_ctl_watch_t *w, kngx_sha256_t *c, const char *ns,
    const kngx_backend_t *be)
{
    json_t  *svc;

    if (be->kind != KNGX_BACKEND_SERVICE || be->service == NULL) {
        return;
    }

    svc = kngx_ctl_store_get(w, KNGX_KIND_SERVICE, ns, be->service);

    kngx_sha256_update(c, be->service, strlen(be->service) + 1);
    kngx_ctl_fp_json(c, json_object_get(svc, "spec"));
}


static void
kngx_ctl_fingerprint(kngx_ctl_watch_t *w, const kngx_ingress_t *ing,
    unsigned char out[32])
{
    kngx_sha256_t   c;
    json_t         *obj, *sec;
    const char     *ns = ing->meta.ns;
    size_t          i, j;

    kngx_sha256_init(&c);

    obj = kngx_ctl_store_get(w, KNGX_KIND_INGRESS, ns, ing->meta.name);
    kngx_ctl_fp_json(&c, json_object_get(json_object_get(obj, "metadata"),
                                         "annotations"));
    kngx_ctl_fp_json(&c, json_object_get(obj, "spec"));

    kngx_ctl_fp_service(w, &c, ns, &ing->default_backend);

    for (i = 0; i < ing->nrules; i++) {
        for (j = 0; j < ing->rules[i].npaths; j++) {
            kngx_ctl_fp_service(w, &c, ns, &ing->rules[i].paths[j].backend);
        }
    }

    for (i = 0; i < ing->ntls; i++) {
        if (ing->tls[i].secret_name == NULL) {
            continue;
        }

        sec = kngx_ctl_store_get(w, KNGX_KIND_SECRET, ns,
                                 ing->tls[i].secret_name);
        kngx_sha256_update(&c, ing->tls[i].secret_name,
                           strlen(ing->tls[i].secret_name) + 1);
        kngx_ctl_fp_json(&c, json_object_get(sec, "type"));
        kngx_ctl_fp_json(&c, json_object_get(sec, "data"));
    }

    kngx_sha256_final(&c, out);
}


/* the model's Ingress "ns/name" (the model is sorted by namespace, name) */

static const kngx_ingress_t *
kngx_ctl_model_ingress(const kngx_model_t *m, const char *key)
{
    const char  *slash = strchr(key, '/');
    size_t       lo = 0, hi = m->ningresses, mid, n;
    int          rc;

    if (slash == NULL) {
        return NULL;
    }

    n = (size_t) (slash - key);

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        rc = strncmp(m->ingresses[mid].meta.ns, key, n);
        if (rc == 0 && m->ingresses[mid].meta.ns[n] != '\0') {
            rc = 1;
        }
        if (rc == 0) {
            rc = strcmp(m->ingresses[mid].meta.name, slash + 1);
        }

        if (rc == 0) {
            return &m->ingresses[mid];
        }

        if (rc < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }

    return NULL;
}


void
kngx_ctl_exclude_refresh(kngx_ctl_exclude_t *ex, const kngx_model_t *m,
    json_t *changed)
{
    const kngx_ingress_t  *ing;
    unsigned char          fp[32];
    char                   key[1100];
    size_t                 i, j;

    for (i = 0, j = 0; i < ex->n; i++) {
        ing = kngx_ctl_model_ingress(m, ex->excluded[i].key);

        if (ing && !ex->reset) {
            kngx_ctl_fingerprint(ex->watch, ing, fp);

            if (memcmp(fp, ex->excluded[i].fp, 32) == 0) {
                ex->excluded[j++] = ex->excluded[i];
                continue;
            }
        }

        kngx_ctl_log("Ingress %s %s; trying it again", ex->excluded[i].key,
                     ing == NULL ? "is gone"
                     : ex->reset ? "left out until SIGHUP"
                     : "or what it names changed");

        snprintf(key, sizeof(key), "Ingress/%s", ex->excluded[i].key);
        json_object_set_new(changed, key, json_true());
        free(ex->excluded[i].key);
    }

    ex->n = j;
    ex->reset = 0;
}


static int
kngx_ctl_excluded_cmp(const void *a, const void *b)
{
    return strcmp(((const kngx_ctl_excluded_t *) a)->key,
                  ((const kngx_ctl_excluded_t *) b)->key);
}


int
kngx_ctl_exclude_add(kngx_ctl_exclude_t *ex, const kngx_ingress_t *ing,
    int stale)
{
    kngx_ctl_excluded_t  *e;
    char                  key[1024];
    size_t                i;

    snprintf(key, sizeof(key), "%s/%s", ing->meta.ns, ing->meta.name);

    for (i = 0; i < ex->n; i++) {
        if (strcmp(ex->excluded[i].key, key) == 0) {
            return 0;
        }
    }

    e = realloc(ex->excluded, (ex->n + 1) * sizeof(*e));
    if (e == NULL) {
        return -1;
    }
    ex->excluded = e;

    e = &ex->excluded[ex->n];
    e->key = strdup(key);
    if (e->key == NULL) {
        return -1;
    }

    /* changed while it was tested: what is stored now was not tested */
    if (stale) {
        memset(e->fp, 0, 32);
    } else {
        kngx_ctl_fingerprint(ex->watch, ing, e->fp);
    }

    ex->n++;

    qsort(ex->excluded, ex->n, sizeof(*e), kngx_ctl_excluded_cmp);

    return 0;
}
