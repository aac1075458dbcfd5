
/*
 * kubengx controller: the Ingresses left out of the config because
 * nginx -t rejected the config with them (controller_exclude.c).
 */

#ifndef KNGX_CONTROLLER_EXCLUDE_H
#define KNGX_CONTROLLER_EXCLUDE_H

#include <jansson.h>

#include "controller_watch.h"
#include "model.h"


typedef struct kngx_ctl_exclude_s  kngx_ctl_exclude_t;

/* the store tells what an Ingress and what it names are now */
kngx_ctl_exclude_t *kngx_ctl_exclude_create(kngx_ctl_watch_t *watch);
void kngx_ctl_exclude_destroy(kngx_ctl_exclude_t *ex);

/* whether ing, or a Service or Secret it names, is in changed */
int kngx_ctl_ingress_involved(json_t *changed, const kngx_ingress_t *ing);

/* before a sync: retry (drop, and add to changed) those that changed */
void kngx_ctl_exclude_refresh(kngx_ctl_exclude_t *ex, const kngx_model_t *m,
    json_t *changed);
/* leave ing out from now on; stale: it changed during the test */
int kngx_ctl_exclude_add(kngx_ctl_exclude_t *ex, const kngx_ingress_t *ing,
    int stale);
/* SIGHUP: the next refresh retries every one */
void kngx_ctl_exclude_reset(kngx_ctl_exclude_t *ex);

/* the Ingresses left out, "ns/name" sorted */
size_t kngx_ctl_exclude_count(kngx_ctl_exclude_t *ex);
const char *kngx_ctl_exclude_key(kngx_ctl_exclude_t *ex, size_t i);

#endif /* KNGX_CONTROLLER_EXCLUDE_H */
