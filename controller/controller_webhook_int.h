
/*
 * kubengx controller: the inside of the webhook, shared by
 * controller_webhook.c (the HTTPS server) and controller_webhook_review.c
 * (an AdmissionReview: decode, plan, nginx -t, answer).
 */

#ifndef KNGX_CONTROLLER_WEBHOOK_INT_H
#define KNGX_CONTROLLER_WEBHOOK_INT_H

#include "controller_webhook.h"
#include "render.h"


/* what every review needs */
typedef struct {
    kngx_ctl_webhook_conf_t  conf;
    kngx_plan_opts_t         po;
    kngx_render_opts_t       ro;
    kngx_check_opts_t        co;
    kngx_ctl_watch_t        *watch;
    kngx_ctl_sync_t         *sync;
    unsigned                 testing;   /* nginx -t of reviews running */
} kngx_ctl_review_ctx_t;

typedef struct kngx_ctl_review_s  kngx_ctl_review_t;

/* at most this many reviews run nginx -t at once; the others wait */
#define KNGX_REVIEW_TESTS  2


/*
 * The POSTed AdmissionReview: answered at once (1: *status and out set),
 * or an nginx -t is due (0: *rv to step until it answers); -1 out of
 * memory.
 */
int kngx_ctl_review_start(kngx_ctl_review_ctx_t *ctx, const char *body,
    size_t len, uint64_t now, kngx_ctl_review_t **rv, const char **status,
    kngx_buf_t *out);
/* start its nginx -t when a slot is free, follow it; 1: answered (out) */
int kngx_ctl_review_step(kngx_ctl_review_ctx_t *ctx, kngx_ctl_review_t *rv,
    uint64_t now, kngx_buf_t *out);
/* the output of its nginx -t to poll, or -1 */
int kngx_ctl_review_fd(kngx_ctl_review_t *rv);
int kngx_ctl_review_reaped(kngx_ctl_review_t *rv, pid_t pid, int status);
/* kills its nginx -t */
void kngx_ctl_review_free(kngx_ctl_review_ctx_t *ctx, kngx_ctl_review_t *rv);

#endif /* KNGX_CONTROLLER_WEBHOOK_INT_H */
