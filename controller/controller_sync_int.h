
/*
 * kubengx controller: the inside of the sync, shared by its files:
 *
 *   controller_sync.c     when to sync; the sync; apply or reject
 *   controller_job.c      a candidate config and its nginx -t
 *   controller_bisect.c   nginx -t rejected it: the Ingresses to blame,
 *                         found by a bounded series of candidates
 *   controller_blame.c    the Ingresses an nginx -t error points at
 *   controller_exclude.c  the Ingresses left out (controller_exclude.h)
 */

#ifndef KNGX_CONTROLLER_SYNC_INT_H
#define KNGX_CONTROLLER_SYNC_INT_H

#include <limits.h>

#include "controller_exclude.h"
#include "controller_sync.h"
#include "settings/settings.h"


/*
 * A sync whose text changed, from its render to its end: one candidate
 * config under nginx -t at a time, the full one first, then those
 * controller_bisect.c asks for, all planned from the same model.
 */
typedef struct {
    unsigned             active:1;
    unsigned             running:1;     /* the candidate's nginx -t */
    kngx_model_t        *m;
    json_t              *changed;       /* "Kind/ns/name" changed since
                                           the last accepted config */
    unsigned char        full_hash[32]; /* of the full config */
    uint64_t             t1;            /* rendered at */

    /* the candidate */
    kngx_check_run_t     run;
    char                 tmp[4096];     /* its temporary directory */
    kngx_plan_t         *p;
    char                *tconf;         /* its text as tested (certs in
                                           tmp) */
    size_t               tlen;
    char                *conf;          /* its text to apply, and hash:
                                           rendered for the full config,
                                           else when applied */
    size_t               len;
    unsigned char        hash[32];
    const char         **exclude;       /* p's opts.exclude, sorted */
    size_t               nexclude;
    kngx_stream_t       *stream;        /* its stream config, or NULL */
    kngx_settings_t     *settings;      /* its settings ConfigMap's */
} kngx_ctl_job_t;


typedef struct kngx_ctl_bisect_s  kngx_ctl_bisect_t;

struct kngx_ctl_sync_s {
    kngx_ctl_sync_conf_t   conf;        /* ro.certs_dir: certs_dir */
    char                   certs_dir[PATH_MAX + 16];

    kngx_ctl_watch_t      *watch;
    kngx_ctl_nginx_t      *nginx;
    kngx_ctl_events_t     *events;
    kngx_ctl_status_t     *status;
    kngx_ctl_exclude_t    *exclude;

    unsigned               listed:1;    /* every kind listed once */
    unsigned               dirty:1;
    unsigned               stopping:1;
    unsigned               applied:1;   /* a config was applied */
    unsigned               have_applied:1;
    unsigned               have_failed:1;
    uint64_t               dirty_first_ms;
    uint64_t               dirty_last_ms;
    unsigned char          applied_hash[32];
    unsigned char          failed_hash[32];
    json_t                *changed;     /* "Kind/ns/name" since the last
                                           accepted config, or the start
                                           of the running job */
    kngx_ctl_job_t         job;
    kngx_ctl_bisect_t     *bisect;      /* NULL unless one runs */
    kngx_buf_t             ssl_expiry;  /* metric lines of the applied
                                           config's certificates */
    kngx_ctl_sync_stats_t  stats;
};


/* controller_job.c */
/* plan m without the Ingresses left out and extra (sorted "ns/name",
 * kept until the candidate is freed); final: its text and hash too */
int kngx_ctl_job_plan(kngx_ctl_sync_t *s, const kngx_model_t *m,
    const char **extra, size_t nextra, int final, char *err,
    size_t err_size);
/* the candidate's text to apply, and its hash */
int kngx_ctl_job_final(kngx_ctl_sync_t *s, char *err, size_t err_size);
/* start nginx -t on the candidate */
int kngx_ctl_job_start(kngx_ctl_sync_t *s, char *err, size_t err_size);
/* for controller_bisect.c: plan the job's model without these too and
 * start nginx -t on it (0), or not (-1, err set) */
int kngx_ctl_job_candidate(kngx_ctl_sync_t *s, const char **extra,
    size_t nextra, char *err, size_t err_size);
/* the running nginx -t ended: 1 and rc (0: accepted; err) */
int kngx_ctl_job_read(kngx_ctl_sync_t *s, int *rc, char *err,
    size_t err_size);
void kngx_ctl_job_free_candidate(kngx_ctl_sync_t *s);
/* drop the job, killing its nginx -t (the bisection is the caller's) */
void kngx_ctl_job_abort(kngx_ctl_sync_t *s);
/* nginx's complaint, one line, without the temporary directory */
void kngx_ctl_job_message(const char *err, char *out, size_t size);

/*
 * controller_bisect.c: what a bisection asks of the sync: wait for the
 * candidate under nginx -t, apply it (it passed; the culprits are left
 * out), or let the full config's rejection stand.
 */
#define KNGX_BISECT_TESTING   0
#define KNGX_BISECT_APPLY     1
#define KNGX_BISECT_GAVE_UP  -1

/* the full config failed (err): start looking, or nothing to try */
int kngx_ctl_bisect_begin(kngx_ctl_sync_t *s, const char *err);
/* the candidate it asked for passed (rc 0) or failed (err); when it gives
 * up, err gets the full config's complaint */
int kngx_ctl_bisect_result(kngx_ctl_sync_t *s, int rc, char *err,
    size_t size);
void kngx_ctl_bisect_free(kngx_ctl_sync_t *s);

/*
 * controller_blame.c: add the "ns/name" err points at in conf to out;
 * 1 if each of them alone brings the failing block back (all to blame)
 */
/* controller_stream.c */
int kngx_ctl_stream_build(kngx_ctl_sync_t *s);
int kngx_ctl_stream_final(kngx_ctl_sync_t *s);
void kngx_ctl_stream_check(kngx_ctl_sync_t *s, kngx_check_opts_t *co,
    char *loads, size_t size);
int kngx_ctl_stream_write(kngx_ctl_sync_t *s, char *err, size_t size);

/* controller_ssl.c: the applied config's certificate expiry */
void kngx_ctl_ssl_record(kngx_ctl_sync_t *s, const kngx_plan_t *p);

/* controller_settings.c */
int kngx_ctl_settings_build(kngx_ctl_sync_t *s, const kngx_model_t *m,
    kngx_plan_opts_t *po, int report);
int kngx_ctl_settings_final(kngx_ctl_sync_t *s);
int kngx_ctl_settings_apply(kngx_ctl_sync_t *s);

int kngx_ctl_blame(const kngx_plan_t *p, const char *conf, size_t len,
    const char *err, json_t *out);

#endif /* KNGX_CONTROLLER_SYNC_INT_H */
