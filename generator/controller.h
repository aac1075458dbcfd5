
/*
 * kubengx controller: shared declarations of the controller mode.
 *
 *   controller.c          options, --help, start and stop
 *   controller_loop.c     the poll() main loop, signals, clock, log
 *   controller_api.c      API endpoint and auth for libcurl; one-shot
 *                         requests (leases, status, events)
 *   controller_watch.c    libcurl multi driving one kube_lw per kind, and
 *                         the in-memory object store it fills
 *   controller_model.c    object store -> kngx_model_t
 *   controller_sync.c     model -> plan -> text; only when the text or a
 *                         certificate changed: nginx -t, write, reload
 *   controller_bisect.c   nginx -t rejected it: the Ingresses to blame,
 *                         found by a bounded series of tests
 *   controller_blame.c    the Ingresses an nginx -t error points at
 *   controller_exclude.c  the Ingresses left out, and when to retry them
 *   controller_nginx.c    nginx as a child: start, reload, quit, reap
 *   controller_probe.c    does nginx answer on its http port (readiness)
 *   controller_http.c     the /healthz, /readyz, /metrics server
 *   controller_metrics.c  the /metrics text
 *   controller_leader.c   Lease leader election, Ingress status
 *   controller_events.c   warnings -> rate-limited core v1 Events
 *
 * One thread.  Everything runs from the main loop and nothing in it
 * blocks: API requests (watches, lease, status, events) are transfers
 * on one libcurl multi handle, nginx -t is a child whose output is read
 * as it comes, health clients are served without waiting on them.  Only
 * kngx_ctl_api_call() blocks, for the last requests at shutdown.
 */

#ifndef KNGX_CONTROLLER_H
#define KNGX_CONTROLLER_H

#include <stdint.h>
#include <sys/types.h>

#include <curl/curl.h>
#include <jansson.h>

#include "kube_auth.h"
#include "kube_listwatch.h"
#include "model.h"
#include "render.h"
#include "stream.h"


#define KNGX_CTL_NKINDS  6

enum {
    KNGX_KIND_INGRESS = 0,
    KNGX_KIND_SERVICE,
    KNGX_KIND_CLASS,
    KNGX_KIND_SECRET,
    KNGX_KIND_SLICE,
    KNGX_KIND_CONFIGMAP         /* --tcp/udp-services-configmap only */
};


typedef struct kngx_ctl_s  kngx_ctl_t;
typedef struct kngx_ctl_call_s  kngx_ctl_call_t;

/* status -1: no response (transport error, or cancelled at exit) */
typedef void (*kngx_ctl_api_done_pt)(kngx_ctl_t *ctl, long status,
    json_t *resp, void *data);


/* one watched kind: its list/watch machine, transfer and objects */
typedef struct {
    kngx_ctl_t          *ctl;
    int                  idx;
    const char          *kind;          /* "Ingress" */
    const char          *api_version;   /* "networking.k8s.io/v1" */
    const char          *api_prefix;
    const char          *resource;
    const char          *field_selector;
    unsigned             enabled:1;
    unsigned             in_flight:1;
    unsigned             aborted:1;
    unsigned             got_status:1;

    kube_lw_t           *lw;
    CURL                *easy;
    struct curl_slist   *headers;
    char                *url;
    char                 errbuf[CURL_ERROR_SIZE];  /* libcurl's detail */
    uint64_t             wake_ms;

    json_t              *objects;       /* "ns/name" -> object */
    json_t              *pending;       /* the list being received */
    uint64_t             changes;
} kngx_ctl_kind_t;


typedef struct {
    /* API */
    const char          *kubeconfig;
    const char          *context;
    const char          *watch_namespace;     /* NULL: all */
    uint64_t             watch_idle_ms;       /* cut a silent watch */

    /* nginx */
    const char          *nginx;
    const char          *nginx_conf;          /* user's; NULL: ours */
    const char          *conf_dir;
    const char          *module;
    const char          *worker_processes;
    const char          *access_log;
    int                  allow_loopback;      /* k8s_allow_loopback_... */

    /* rendering */
    kngx_plan_opts_t     po;
    kngx_render_opts_t   ro;
    kngx_stream_opts_t   stream;        /* TCP/UDP services, passthrough */

    /* timing */
    uint64_t             holdoff_ms;
    uint64_t             max_delay_ms;

    /* health and metrics */
    const char          *metrics_address;     /* NULL: [::] and 0.0.0.0 */
    int                  metrics_port;

    /* leader election and status */
    unsigned             leader_elect:1;
    unsigned             status_on_shutdown:1;
    const char          *election_id;
    const char          *election_ns;
    const char          *identity;
    uint64_t             lease_ms;
    uint64_t             renew_ms;
    uint64_t             retry_ms;
    const char          *publish_service;     /* "NS/NAME" */
    const char          *publish_address;     /* "1.2.3.4,lb.example" */

    /* events */
    uint64_t             event_interval_ms;   /* same warning again */
    unsigned             event_burst;
    uint64_t             event_refill_ms;     /* one token per */
} kngx_ctl_conf_t;


typedef struct {
    uint64_t             reloads;
    uint64_t             reload_errors_test;
    uint64_t             reload_errors_write;
    uint64_t             reload_errors_render;
    uint64_t             reload_errors_signal;
    double               reload_seconds_last;
    double               reload_seconds_sum;
    double               last_reload_success;      /* unix time */
    double               render_seconds_last;
    double               render_seconds_sum;
    uint64_t             renders;
    uint64_t             syncs;
    uint64_t             syncs_unchanged;
    size_t               ingresses_served;
    size_t               ingresses_ignored;
    uint64_t             events_sent;
    uint64_t             events_dropped;
    uint64_t             events_failed;
    uint64_t             status_updates;
    uint64_t             status_errors;
    uint64_t             lease_transitions_seen;
    uint64_t             bisections_applied;   /* ended with a config */
    uint64_t             bisections_failed;    /* ended without */
    uint64_t             bisection_tests;      /* nginx -t runs in them */
    uint64_t             http_evicted;         /* health connections */
    uint64_t             http_timed_out;
} kngx_ctl_metrics_t;


/*
 * A sync whose text changed, from its render to its end (controller_sync.c):
 * one candidate config under nginx -t at a time, the full one first, then
 * those controller_bisect.c asks for, all planned from the same model.
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
} kngx_ctl_test_t;


/* an Ingress left out because nginx -t rejected the config with it */
typedef struct {
    char                *key;           /* "ns/name" */
    unsigned char        fp[32];        /* it and what it names, then */
} kngx_ctl_excluded_t;


typedef struct {
    char                *key;           /* "ns/name code message" */
    uint64_t             last_ms;
} kngx_ctl_event_seen_t;


struct kngx_ctl_s {
    kngx_ctl_conf_t      conf;
    kngx_ctl_metrics_t   m;

    /* API */
    kube_auth_t          auth;
    kube_token_t         token;
    char                *server;
    CURLM               *multi;
    kngx_ctl_kind_t      kinds[KNGX_CTL_NKINDS];
    kngx_ctl_call_t     *calls;         /* asynchronous requests */
    unsigned             calls_queued;  /* incl. running */
    unsigned             calls_running;
    unsigned             calls_closing:1;

    /* sync */
    unsigned             dirty:1;
    uint64_t             dirty_first_ms;
    uint64_t             dirty_last_ms;
    unsigned char        applied_hash[32];
    unsigned             have_applied:1;
    unsigned char        failed_hash[32];
    unsigned             have_failed:1;
    json_t              *changed;       /* "Kind/ns/name" since the last
                                           accepted config, or the start
                                           of the running test */
    json_t              *served;        /* array of "ns/name" */
    json_t              *refused;       /* code -> plan warnings */
    unsigned             ready:1;       /* a config was applied */
    unsigned             synced:1;      /* every kind listed once */
    kngx_ctl_test_t      test;
    struct kngx_ctl_bisect_s *bisect;   /* NULL unless one runs */
    kngx_ctl_excluded_t *excluded;      /* sorted by key */
    size_t               nexcluded;
    unsigned             exclude_reset:1;   /* SIGHUP: retry them all */

    /* nginx */
    pid_t                nginx_pid;
    int                  nginx_status;
    unsigned             nginx_exited:1;
    char                 main_conf[4096];

    /* health server, nginx readiness probe */
    struct kngx_ctl_http_s  *http;
    struct kngx_ctl_probe_s *probe;

    /* leader */
    unsigned             leader:1;
    unsigned             lease_busy:1;  /* a Lease request is out */
    unsigned             status_busy;   /* status patches out */
    unsigned             status_again:1;
    uint64_t             leader_next_ms;
    uint64_t             renewed_ms;
    uint64_t             observed_ms;
    char                *observed;      /* spec as JSON text */
    char                *holder;

    /* events */
    kngx_ctl_event_seen_t *seen;
    size_t               nseen;
    double               tokens;
    uint64_t             tokens_ms;

    /* process */
    int                  sig_pipe[2];
    unsigned             stopping:1;
    int                  stop_signals;
};


/* controller_loop.c */
int kngx_ctl_signals(kngx_ctl_t *ctl);
/* until a stop signal and nginx's exit (0), or nginx's death (1) */
int kngx_ctl_loop(kngx_ctl_t *ctl);
uint64_t kngx_ctl_now(void);
double kngx_ctl_wall(void);
void kngx_ctl_log(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
void kngx_ctl_mark_dirty(kngx_ctl_t *ctl, const char *why);

/* controller_api.c */
int kngx_ctl_api_init(kngx_ctl_t *ctl);
void kngx_ctl_api_free(kngx_ctl_t *ctl);
int kngx_ctl_api_prepare(kngx_ctl_t *ctl, CURL *easy,
    struct curl_slist **headers, const char *content_type);
/*
 * Blocking request, for the last ones at shutdown only (the loop has
 * ended); *resp (may be NULL) gets the parsed body if JSON.
 */
long kngx_ctl_api_call(kngx_ctl_t *ctl, const char *method,
    const char *path, json_t *body, const char *content_type,
    json_t **resp);
/*
 * Queue a request; done (may be NULL) gets the status and the parsed
 * body (NULL if none or not JSON; done must not keep it without a
 * reference) once it ended.  -1: not queued, done is not called.
 */
int kngx_ctl_api_start(kngx_ctl_t *ctl, const char *method,
    const char *path, json_t *body, const char *content_type, int urgent,
    kngx_ctl_api_done_pt done, void *data);
int kngx_ctl_api_is_call(kngx_ctl_t *ctl, void *priv);
void kngx_ctl_api_done(kngx_ctl_t *ctl, void *priv, CURLcode rc);
/* drop every queued request; their done sees status -1 */
void kngx_ctl_api_cancel_all(kngx_ctl_t *ctl);

/* controller_watch.c */
int kngx_ctl_watch_init(kngx_ctl_t *ctl);
void kngx_ctl_watch_free(kngx_ctl_t *ctl);
/* start requests that are due; returns the earliest wake time (or 0) */
uint64_t kngx_ctl_watch_step(kngx_ctl_t *ctl, uint64_t now);
void kngx_ctl_watch_perform(kngx_ctl_t *ctl);
int kngx_ctl_watch_synced(kngx_ctl_t *ctl);
json_t *kngx_ctl_store_get(kngx_ctl_t *ctl, int kind, const char *ns,
    const char *name);

/* controller_model.c */
kngx_model_t *kngx_ctl_model_build(kngx_ctl_t *ctl);

/* controller_sync.c */
void kngx_ctl_sync(kngx_ctl_t *ctl);
/* nginx -t of a sync: its output fd (-1: none running), progress, end */
int kngx_ctl_test_fd(kngx_ctl_t *ctl);
void kngx_ctl_test_step(kngx_ctl_t *ctl);
void kngx_ctl_test_reaped(kngx_ctl_t *ctl, pid_t pid, int status);
void kngx_ctl_test_abort(kngx_ctl_t *ctl);
/*
 * For controller_bisect.c: plan the job's model without the exclusions
 * and these Ingresses (sorted "ns/name", kept until the candidate is
 * freed), render, and start nginx -t on it (0), or not (-1, err set).
 */
int kngx_ctl_test_candidate(kngx_ctl_t *ctl, const char **extra,
    size_t nextra, char *err, size_t err_size);
/* end the job: apply the candidate (it passed), or the full config's
 * rejection (err) stands */
void kngx_ctl_test_end(kngx_ctl_t *ctl, int apply, const char *err);
/* nginx's complaint, one line, without the temporary directory */
void kngx_ctl_test_message(const char *err, char *out, size_t size);

/* controller_bisect.c */
/* the full config failed (err): start looking (0), or nothing to try */
int kngx_ctl_bisect_begin(kngx_ctl_t *ctl, const char *err);
/* the candidate it asked for passed (rc 0) or failed (err) */
void kngx_ctl_bisect_result(kngx_ctl_t *ctl, int rc, const char *err);
void kngx_ctl_bisect_free(kngx_ctl_t *ctl);

/*
 * controller_blame.c: add the "ns/name" err points at in conf to out;
 * 1 if each of them alone brings the failing block back (all to blame)
 */
int kngx_ctl_blame(const kngx_plan_t *p, const char *conf, size_t len,
    const char *err, json_t *out);

/* controller_exclude.c */
/* whether ing, or a Service or Secret it names, is in changed */
int kngx_ctl_ingress_involved(json_t *changed, const kngx_ingress_t *ing);
/* before a sync: retry (drop, and mark changed) those that changed */
void kngx_ctl_exclude_refresh(kngx_ctl_t *ctl, const kngx_model_t *m);
/* leave ing out from now on; stale: it changed during the test */
int kngx_ctl_exclude_add(kngx_ctl_t *ctl, const kngx_ingress_t *ing,
    int stale);
void kngx_ctl_exclude_free(kngx_ctl_t *ctl);

/* controller_nginx.c */
int kngx_ctl_nginx_write_main(kngx_ctl_t *ctl);
int kngx_ctl_nginx_start(kngx_ctl_t *ctl);
int kngx_ctl_nginx_reload(kngx_ctl_t *ctl);
void kngx_ctl_nginx_quit(kngx_ctl_t *ctl, int fast);
/* reap children; 1 if nginx exited */
int kngx_ctl_reap(kngx_ctl_t *ctl);

/* controller_http.c */
#define KNGX_CTL_HTTP_MAX_FDS  129      /* the listener and the clients */

int kngx_ctl_http_init(kngx_ctl_t *ctl);
/* fds to poll: returns how many were written to fds */
int kngx_ctl_http_fds(kngx_ctl_t *ctl, struct curl_waitfd *fds, int max);
void kngx_ctl_http_handle(kngx_ctl_t *ctl, struct curl_waitfd *fds, int n);
void kngx_ctl_http_close(kngx_ctl_t *ctl);

/* controller_metrics.c */
void kngx_ctl_metrics(kngx_ctl_t *ctl, kngx_buf_t *b);
/* the plan's warnings by code, for kubengx_refused */
void kngx_ctl_metrics_refused(kngx_ctl_t *ctl, const kngx_model_t *m,
    const kngx_plan_t *p);

/* controller_probe.c */
int kngx_ctl_probe_init(kngx_ctl_t *ctl);
/* start an attempt when due; returns when to be woken (0: no need) */
uint64_t kngx_ctl_probe_step(kngx_ctl_t *ctl, uint64_t now);
int kngx_ctl_probe_fds(kngx_ctl_t *ctl, struct curl_waitfd *fds, int max);
void kngx_ctl_probe_handle(kngx_ctl_t *ctl);
/* nginx answered on its http port since it started */
int kngx_ctl_probe_ok(kngx_ctl_t *ctl);
void kngx_ctl_probe_free(kngx_ctl_t *ctl);

/* controller_leader.c */
uint64_t kngx_ctl_leader_step(kngx_ctl_t *ctl, uint64_t now);
void kngx_ctl_leader_release(kngx_ctl_t *ctl);
void kngx_ctl_status_sync(kngx_ctl_t *ctl);
void kngx_ctl_status_clear(kngx_ctl_t *ctl);

/* stream_controller.c (stream.h) */
int kngx_stream_ctl_conf(kngx_ctl_t *ctl);
int kngx_stream_ctl_watch(kngx_ctl_t *ctl, const char **ns,
    const char **field_selector);
int kngx_stream_ctl_build(kngx_ctl_t *ctl);
void kngx_stream_ctl_rehash(kngx_ctl_t *ctl);
void kngx_stream_ctl_check(kngx_ctl_t *ctl, kngx_check_opts_t *co,
    char *loads, size_t size);
int kngx_stream_ctl_write(kngx_ctl_t *ctl, char *err, size_t size);
int kngx_stream_ctl_main(kngx_ctl_t *ctl, int module, char *loads,
    size_t lsize, char *block, size_t bsize);
void kngx_stream_ctl_prestart(kngx_ctl_t *ctl);

/* controller_events.c */
void kngx_ctl_event(kngx_ctl_t *ctl, const char *ns, const char *name,
    const char *reason, const char *message);
void kngx_ctl_events_from_plan(kngx_ctl_t *ctl, const kngx_plan_t *p);

#endif /* KNGX_CONTROLLER_H */
