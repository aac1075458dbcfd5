
/*
 * kubengx controller: the composition of the parts, shared by
 * controller.c (start and stop), controller_loop.c (the loop) and
 * controller_metrics.c (what the health server answers).
 */

#ifndef KNGX_CONTROLLER_INT_H
#define KNGX_CONTROLLER_INT_H

#include "controller.h"
#include "controller_probe.h"


typedef struct kngx_ctl_scrape_s  kngx_ctl_scrape_t;

typedef struct {
    kngx_ctl_api_t      *api;
    kngx_ctl_watch_t    *watch;
    kngx_ctl_leader_t   *leader;
    kngx_ctl_status_t   *status;
    kngx_ctl_events_t   *events;
    kngx_ctl_http_t     *http;
    kngx_ctl_probe_t    *probe;
    kngx_ctl_nginx_t    *nginx;
    kngx_ctl_sync_t     *sync;
    kngx_ctl_scrape_t   *scrape;        /* NULL: no module */
    kngx_ctl_webhook_t  *webhook;       /* NULL: off */
    const kngx_ctl_nginx_conf_t  *nginx_conf;   /* for /conf */

    /* the loop's */
    int                  sig_pipe[2];
    unsigned             listed:1;      /* every kind listed once */
    unsigned             stopping:1;
    int                  stop_signals;
} kngx_ctl_t;


/* controller_loop.c */
int kngx_ctl_signals(kngx_ctl_t *ctl);
/* controller_stream.c: the stream options into the parts' confs */
int kngx_ctl_stream_conf(kngx_ctl_conf_t *c, const kngx_stream_opts_t *so);
/* controller_settings.c: the settings ConfigMap's watch */
void kngx_ctl_settings_conf(kngx_ctl_conf_t *c, const kngx_render_opts_t *ro);
/* until a stop signal and nginx's exit (0), or nginx's death (1) */
int kngx_ctl_loop(kngx_ctl_t *ctl);

/*
 * controller_scrape.c: nginx's metrics in /metrics.  conf: a loopback
 * port for nginx's metrics server (with the module); wait: 1 when the
 * answer must wait for nginx's text (a fetch runs), 0 to answer now;
 * append: that text, while the waiting answers are written
 */
int kngx_ctl_scrape_conf(kngx_ctl_conf_t *c);
kngx_ctl_scrape_t *kngx_ctl_scrape_create(const kngx_ctl_conf_t *c,
    kngx_ctl_api_t *api, kngx_ctl_http_t *http);
int kngx_ctl_scrape_wait(kngx_ctl_scrape_t *sc, int nginx_up);
void kngx_ctl_scrape_append(kngx_ctl_scrape_t *sc, kngx_buf_t *out);
int kngx_ctl_scrape_value(kngx_ctl_scrape_t *sc, const char *name,
    double *v);
uint64_t kngx_ctl_scrape_errors(kngx_ctl_scrape_t *sc);
void kngx_ctl_scrape_destroy(kngx_ctl_scrape_t *sc);
/* controller_conf.c: GET /conf, the config files nginx runs */
const char *kngx_ctl_conf_answer(kngx_ctl_t *ctl, kngx_buf_t *body,
    const char **content_type);

/* controller_metrics.c: the health server's answers */
const char *kngx_ctl_answer(void *data, const char *path, kngx_buf_t *body,
    const char **content_type);

#endif /* KNGX_CONTROLLER_INT_H */
