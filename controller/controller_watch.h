
/*
 * kubengx controller: the watches and the object store they fill
 * (controller_watch.c), and the model built from it (controller_model.c).
 */

#ifndef KNGX_CONTROLLER_WATCH_H
#define KNGX_CONTROLLER_WATCH_H

#include <stdint.h>

#include <jansson.h>

#include "controller_api.h"
#include "kube_listwatch.h"
#include "model.h"


/* the ConfigMaps named by flags: the TCP and UDP services, settings */
#define KNGX_CTL_NCONFIGMAPS  3
#define KNGX_CTL_NKINDS       (6 + KNGX_CTL_NCONFIGMAPS)

enum {
    KNGX_KIND_INGRESS = 0,
    KNGX_KIND_SERVICE,
    KNGX_KIND_CLASS,
    KNGX_KIND_SECRET,
    KNGX_KIND_SLICE,
    KNGX_KIND_CONFIGMAP,        /* the first of KNGX_CTL_NCONFIGMAPS, one
                                   per ConfigMap named (nconfigmaps) */
    /* every ConfigMap of the watched namespaces, for the annotations
     * that name one (custom-headers, auth-proxy-set-headers): a change
     * counts only when an Ingress names it, and the model holds only
     * those (kngx_ctl_configmap_named) */
    KNGX_KIND_CMREF = KNGX_KIND_CONFIGMAP + KNGX_CTL_NCONFIGMAPS
};


typedef struct kngx_ctl_watch_s  kngx_ctl_watch_t;

typedef struct {
    const char          *ns;            /* NULL: all namespaces */
    uint64_t             idle_ms;       /* cut a silent watch (0: the
                                           list/watch machine's default) */
    int                  slices;        /* watch EndpointSlices too */
    /* ConfigMaps, each watched alone in its namespace with the field
     * selector metadata.name=NAME (RBAC may grant only that name):
     * kngx_ctl_watch_configmap() */
    size_t               nconfigmaps;
    char                 configmap_ns[KNGX_CTL_NCONFIGMAPS][64];
    char                 configmap_selector[KNGX_CTL_NCONFIGMAPS][300];
} kngx_ctl_watch_conf_t;


/* watch ConfigMap "NS/NAME" (once, however often it is named) */
void kngx_ctl_watch_configmap(kngx_ctl_watch_conf_t *conf,
    const char *ns_name);


/*
 * What the store tells its owner: each object ("Kind/ns/name") that a
 * list or an event added, changed or removed, then once per list or
 * event that changed something, why (the resource listed, or
 * "MODIFIED Ingress ns/name").
 */
typedef struct {
    void               (*changed)(void *data, const char *what);
    void               (*dirty)(void *data, const char *why);
    void                *data;
} kngx_ctl_watch_handler_t;


kngx_ctl_watch_t *kngx_ctl_watch_create(const kngx_ctl_watch_conf_t *conf,
    kngx_ctl_api_t *api, const kngx_ctl_watch_handler_t *handler);
void kngx_ctl_watch_destroy(kngx_ctl_watch_t *w);

/* start requests that are due; returns the earliest wake time (or 0) */
uint64_t kngx_ctl_watch_step(kngx_ctl_watch_t *w, uint64_t now);
/* every watched kind was listed once */
int kngx_ctl_watch_synced(kngx_ctl_watch_t *w);

/* the store: one object, or every object of a kind ("ns/name" -> it) */
json_t *kngx_ctl_store_get(kngx_ctl_watch_t *w, int kind, const char *ns,
    const char *name);
json_t *kngx_ctl_store_objects(kngx_ctl_watch_t *w, int kind);

/* a kind for /metrics: 0 and its name and counters if it is watched */
int kngx_ctl_watch_kind(kngx_ctl_watch_t *w, int kind, const char **name,
    kube_lw_stats_t *st);

/* whether a stored Ingress's annotations name ConfigMap key ("ns/name") */
int kngx_ctl_configmap_named(kngx_ctl_watch_t *w, const char *key);

/* the ConfigMaps Ingress ing's annotations name, as keys of set */
void kngx_ctl_ingress_configmaps(json_t *ing, json_t *set);

/* controller_model.c: the store as a generator model */
kngx_model_t *kngx_ctl_store_model(kngx_ctl_watch_t *w);
/* the same with the Ingress ing (from ing_src) instead of the stored
 * ing_key ("ns/name"), or added */
kngx_model_t *kngx_ctl_store_model_with(kngx_ctl_watch_t *w,
    const char *ing_key, json_t *ing, const kngx_source_t *ing_src);

#endif /* KNGX_CONTROLLER_WATCH_H */
