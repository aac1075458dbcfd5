
/*
 * kubengx controller: the validating admission webhook
 * (controller_webhook.c: the HTTPS server; controller_webhook_review.c:
 * what an AdmissionReview is answered).
 */

#ifndef KNGX_CONTROLLER_WEBHOOK_H
#define KNGX_CONTROLLER_WEBHOOK_H

#include <stdint.h>
#include <sys/types.h>

#include <curl/curl.h>

#include "controller_sync.h"
#include "controller_watch.h"


#define KNGX_CTL_WEBHOOK_MAX_FDS  33    /* the listener and the clients */

typedef struct kngx_ctl_webhook_s  kngx_ctl_webhook_t;

typedef struct {
    const char          *listen;        /* "[ADDR]:PORT"; NULL: off */
    const char          *certificate;   /* PEM files, read again when */
    const char          *key;           /* they change */
    uint64_t             test_ms;       /* nginx -t deadline */
} kngx_ctl_webhook_conf_t;


/*
 * Reviews plan the store (watch) with the reviewed Ingress as the sync
 * plans it (sync_conf: po, ro, co), leaving out what the sync leaves out.
 * NULL if conf->listen is NULL (off) or on error (said in the log;
 * *failed is set then).
 */
kngx_ctl_webhook_t *kngx_ctl_webhook_create(
    const kngx_ctl_webhook_conf_t *conf, const kngx_ctl_sync_conf_t *sync_conf,
    kngx_ctl_watch_t *watch, kngx_ctl_sync_t *sync, int *failed);
void kngx_ctl_webhook_destroy(kngx_ctl_webhook_t *wh);

/* fds to poll: returns how many were written to fds */
int kngx_ctl_webhook_fds(kngx_ctl_webhook_t *wh, struct curl_waitfd *fds,
    int max);
void kngx_ctl_webhook_handle(kngx_ctl_webhook_t *wh,
    struct curl_waitfd *fds, int n);
/* a child was reaped: 1 if it was a review's nginx -t */
int kngx_ctl_webhook_reaped(kngx_ctl_webhook_t *wh, pid_t pid, int status);

#endif /* KNGX_CONTROLLER_WEBHOOK_H */
