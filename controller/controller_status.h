
/*
 * kubengx controller: the Ingress status only the leader writes
 * (controller_status.c).
 */

#ifndef KNGX_CONTROLLER_STATUS_H
#define KNGX_CONTROLLER_STATUS_H

#include <stdint.h>

#include "controller_api.h"
#include "controller_leader.h"
#include "controller_watch.h"
#include "model.h"


typedef struct kngx_ctl_status_s  kngx_ctl_status_t;

typedef struct {
    const char          *publish_service;   /* "NS/NAME" */
    const char          *publish_address;   /* "1.2.3.4,lb.example" */
    int                  on_shutdown;       /* clear it when stopping */
} kngx_ctl_status_conf_t;

typedef struct {
    uint64_t             updates;
    uint64_t             errors;
} kngx_ctl_status_stats_t;


kngx_ctl_status_t *kngx_ctl_status_create(const kngx_ctl_status_conf_t *conf,
    kngx_ctl_api_t *api, kngx_ctl_watch_t *watch, kngx_ctl_leader_t *leader);
void kngx_ctl_status_destroy(kngx_ctl_status_t *st);

/* the Ingresses the applied config serves */
void kngx_ctl_status_served(kngx_ctl_status_t *st, const kngx_plan_t *p);
/* publish the addresses where they differ (asynchronous) */
void kngx_ctl_status_sync(kngx_ctl_status_t *st);
/* stopping: clear the served Ingresses' status if asked (blocking, before
 * the Lease is released), and write no more */
void kngx_ctl_status_stop(kngx_ctl_status_t *st);

const kngx_ctl_status_stats_t *kngx_ctl_status_stats(kngx_ctl_status_t *st);

#endif /* KNGX_CONTROLLER_STATUS_H */
