
/*
 * kubengx controller: nginx as a child process (controller_nginx.c).
 */

#ifndef KNGX_CONTROLLER_NGINX_H
#define KNGX_CONTROLLER_NGINX_H

#include <sys/types.h>

#include "kube_auth.h"
#include "stream.h"
#include "settings/settings.h"


typedef struct kngx_ctl_nginx_s  kngx_ctl_nginx_t;

typedef struct {
    const char          *conf_dir;      /* nginx's prefix; absolute */
    const char          *nginx_conf;    /* the user's main config, or
                                           NULL: ours */
    const char          *worker_processes;
    const char          *access_log;    /* NULL: none in nginx.conf (the
                                           rendered config has one) */
    int                  status_port;   /* the module's k8s_status on
                                           /k8s/status (0: none) */
    const char          *status_address;    /* NULL: every IPv4 one */

    /* filled by kngx_ctl_run() */
    const char          *nginx;         /* binary */
    const char          *module;        /* to load, or NULL */
    int                  allow_loopback;    /* k8s_allow_loopback_... */
    const char          *kubeconfig;    /* the module's k8s_api */
    const kngx_stream_opts_t  *stream;  /* TCP/UDP services, passthrough */
    int                  metrics_port;  /* nginx's k8s_metrics server on
                                           127.0.0.1 (controller_scrape.c),
                                           0: none */
    const char          *metrics_class; /* k8s_metrics_controller class= */
} kngx_ctl_nginx_conf_t;


/* writes the main config (ours) and the empty kubengx.conf; NULL on
 * failure (logged) */
kngx_ctl_nginx_t *kngx_ctl_nginx_create(const kngx_ctl_nginx_conf_t *conf,
    const kube_auth_t *auth);
void kngx_ctl_nginx_destroy(kngx_ctl_nginx_t *n);

int kngx_ctl_nginx_start(kngx_ctl_nginx_t *n);
/*
 * The main config's settings (worker-processes, max-worker-connections,
 * worker-shutdown-timeout, error-log-level): nginx.conf written again
 * when they changed (1; the next reload reads it), 0 when not, -1 on
 * failure (logged)
 */
int kngx_ctl_nginx_configure(kngx_ctl_nginx_t *n, const kngx_settings_t *s);
int kngx_ctl_nginx_reload(kngx_ctl_nginx_t *n);
void kngx_ctl_nginx_quit(kngx_ctl_nginx_t *n, int fast);
/* 1 if pid was nginx (it exited); else the caller's child */
int kngx_ctl_nginx_reaped(kngx_ctl_nginx_t *n, pid_t pid, int status);
/* kill a running nginx fast and wait for it (exit of the controller) */
void kngx_ctl_nginx_stop(kngx_ctl_nginx_t *n);

/* it runs; it exited (it is not started again) */
int kngx_ctl_nginx_running(kngx_ctl_nginx_t *n);
int kngx_ctl_nginx_exited(kngx_ctl_nginx_t *n);

#endif /* KNGX_CONTROLLER_NGINX_H */
