
/*
 * kubengx controller: warnings about Ingresses and the settings ConfigMap
 * as rate-limited core v1 Events (controller_events.c).
 */

#ifndef KNGX_CONTROLLER_EVENTS_H
#define KNGX_CONTROLLER_EVENTS_H

#include <stdint.h>

#include "controller_api.h"
#include "controller_leader.h"
#include "controller_watch.h"
#include "model.h"


typedef struct kngx_ctl_events_s  kngx_ctl_events_t;

typedef struct {
    uint64_t             interval_ms;   /* the same warning again */
    int                  burst;
    uint64_t             refill_ms;     /* one token per */

    /* filled by kngx_ctl_run() */
    const char          *identity;      /* the reporting instance */
} kngx_ctl_events_conf_t;

typedef struct {
    uint64_t             sent;
    uint64_t             dropped;       /* by the limits */
    uint64_t             failed;
} kngx_ctl_events_stats_t;


kngx_ctl_events_t *kngx_ctl_events_create(const kngx_ctl_events_conf_t *conf,
    kngx_ctl_api_t *api, kngx_ctl_watch_t *watch, kngx_ctl_leader_t *leader);
void kngx_ctl_events_destroy(kngx_ctl_events_t *ev);

/* a Warning Event on Ingress ns/name */
void kngx_ctl_event(kngx_ctl_events_t *ev, const char *ns, const char *name,
    const char *reason, const char *message);
/* a Warning Event on ConfigMap ns/name */
void kngx_ctl_event_configmap(kngx_ctl_events_t *ev, const char *ns,
    const char *name, const char *reason, const char *message);
/* whether this replica posts Events (it leads) */
int kngx_ctl_events_leader(kngx_ctl_events_t *ev);
/* the plan's warnings about Ingresses (the leader only) */
void kngx_ctl_events_from_plan(kngx_ctl_events_t *ev, const kngx_plan_t *p);

const kngx_ctl_events_stats_t *kngx_ctl_events_stats(kngx_ctl_events_t *ev);

#endif /* KNGX_CONTROLLER_EVENTS_H */
