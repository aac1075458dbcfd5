
/*
 * kubengx controller: the sync (controller_sync.c and the files of
 * controller_sync_int.h): store -> model -> plan -> text; only when the
 * text or a certificate changed: nginx -t, write, reload.
 */

#ifndef KNGX_CONTROLLER_SYNC_H
#define KNGX_CONTROLLER_SYNC_H

#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "controller_events.h"
#include "controller_exclude.h"
#include "controller_nginx.h"
#include "controller_status.h"
#include "controller_watch.h"
#include "model.h"
#include "render.h"


typedef struct kngx_ctl_sync_s  kngx_ctl_sync_t;

typedef struct {
    uint64_t             holdoff_ms;    /* after the last change */
    uint64_t             max_delay_ms;  /* after the first change */

    /* filled by kngx_ctl_run(): the config as kubengx render makes it */
    kngx_plan_opts_t     po;
    kngx_render_opts_t   ro;
    kngx_check_opts_t    co;
    kngx_stream_opts_t   stream;        /* TCP/UDP services, passthrough */
    const char          *conf_dir;      /* absolute */
} kngx_ctl_sync_conf_t;


typedef struct {
    uint64_t             syncs;
    uint64_t             syncs_unchanged;
    uint64_t             renders;
    double               render_seconds_last;
    double               render_seconds_sum;
    uint64_t             reloads;
    double               reload_seconds_last;
    double               reload_seconds_sum;
    double               last_reload_success;   /* unix time */
    uint64_t             reload_errors_test;
    uint64_t             reload_errors_write;
    uint64_t             reload_errors_render;
    uint64_t             reload_errors_signal;
    size_t               ingresses_served;
    size_t               ingresses_ignored;
    size_t               ingresses_excluded;
    uint64_t             bisections_applied;    /* ended with a config */
    uint64_t             bisections_failed;     /* ended without */
    uint64_t             bisection_tests;       /* nginx -t runs in them */
    json_t              *refused;   /* the last sync's warnings: code ->
                                       count (codes seen before stay) */
} kngx_ctl_sync_stats_t;


/* controller_ssl.c: nginx_ingress_controller_ssl_expire_time_seconds */
void kngx_ctl_sync_ssl_metrics(kngx_ctl_sync_t *s, kngx_buf_t *b);

kngx_ctl_sync_t *kngx_ctl_sync_create(const kngx_ctl_sync_conf_t *conf,
    kngx_ctl_watch_t *watch, kngx_ctl_nginx_t *nginx,
    kngx_ctl_events_t *events, kngx_ctl_status_t *status);
/* ends a running nginx -t first */
void kngx_ctl_sync_destroy(kngx_ctl_sync_t *s);

/* the store's handler: what changed, and why a sync is due */
void kngx_ctl_sync_changed(kngx_ctl_sync_t *s, const char *what);
void kngx_ctl_sync_dirty(kngx_ctl_sync_t *s, const char *why);
/* every kind was listed once: the first sync runs at once */
void kngx_ctl_sync_listed(kngx_ctl_sync_t *s);
/* SIGHUP: sync again, retrying what nginx -t rejected and left out */
void kngx_ctl_sync_retry(kngx_ctl_sync_t *s);
/* stopping: a test that ends from now on is dropped */
void kngx_ctl_sync_stop(kngx_ctl_sync_t *s);

/* run a sync when the hold-off has passed; returns when to be woken
 * (0: no need) */
uint64_t kngx_ctl_sync_step(kngx_ctl_sync_t *s, uint64_t now);
/* an nginx -t runs (the next sync waits for it) */
int kngx_ctl_sync_busy(kngx_ctl_sync_t *s);
/* its output to poll (-1: none), its progress, its reaped process */
int kngx_ctl_sync_fd(kngx_ctl_sync_t *s);
void kngx_ctl_sync_io(kngx_ctl_sync_t *s);
void kngx_ctl_sync_reaped(kngx_ctl_sync_t *s, pid_t pid, int status);

/* the Ingresses it leaves out (controller_exclude.h) */
kngx_ctl_exclude_t *kngx_ctl_sync_excluded(kngx_ctl_sync_t *s);

/* a config was applied */
int kngx_ctl_sync_applied(kngx_ctl_sync_t *s);
const kngx_ctl_sync_stats_t *kngx_ctl_sync_stats(kngx_ctl_sync_t *s);

#endif /* KNGX_CONTROLLER_SYNC_H */
