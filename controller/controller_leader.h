
/*
 * kubengx controller: leader election with a Lease
 * (controller_leader.c).
 */

#ifndef KNGX_CONTROLLER_LEADER_H
#define KNGX_CONTROLLER_LEADER_H

#include <stdint.h>

#include "controller_api.h"


typedef struct kngx_ctl_leader_s  kngx_ctl_leader_t;

typedef struct {
    int                  elect;         /* 0: always the leader */
    const char          *id;            /* the Lease's name */
    const char          *ns;            /* its namespace; NULL: the
                                           pod's, the API config's or
                                           "default" */
    const char          *identity;      /* this replica's */
    uint64_t             lease_ms;
    uint64_t             renew_ms;
    uint64_t             retry_ms;
} kngx_ctl_leader_conf_t;

/* this replica became (1) or stopped being (0) the leader */
typedef void (*kngx_ctl_lead_pt)(void *data, int leader);


kngx_ctl_leader_t *kngx_ctl_leader_create(const kngx_ctl_leader_conf_t *conf,
    kngx_ctl_api_t *api, kngx_ctl_lead_pt lead, void *data);
void kngx_ctl_leader_destroy(kngx_ctl_leader_t *l);

/* a round when due; returns when to be woken (0: no need) */
uint64_t kngx_ctl_leader_step(kngx_ctl_leader_t *l, uint64_t now);
/* stopping: give the Lease up (blocking), lead no more */
void kngx_ctl_leader_release(kngx_ctl_leader_t *l);
int kngx_ctl_leader_is(kngx_ctl_leader_t *l);

#endif /* KNGX_CONTROLLER_LEADER_H */
