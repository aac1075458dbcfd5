
/*
 * kubengx controller: what the health server (controller_http.c)
 * answers, read from the parts' own figures.
 *
 *   /healthz   200 while the controller runs and nginx is up (or not
 *              started yet: the first lists are still arriving)
 *   /readyz    200 once a config was applied and nginx answers on its
 *              http port (controller_probe.c)
 *   /metrics   Prometheus text format 0.0.4: the counters and gauges of
 *              each part, the list/watch counters of each watched kind
 *              (kube_lw_stats), and two views of what does not reach
 *              nginx as written: kubengx_refused{code} (the last sync's
 *              warnings, by code: routes, TLS entries, annotations and
 *              objects the renderer refused or served otherwise) and
 *              kubengx_ingresses_excluded (Ingresses left out because
 *              nginx -t rejected the config with them,
 *              controller_bisect.c)
 */

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "controller_int.h"


#define KNGX_HELP(b, name, type, help)                                        \
    kngx_buf_printf(b, "# HELP " name " " help "\n# TYPE " name " " type "\n")

#define KNGX_U64(v)  ((unsigned long long) (v))


static void
kngx_ctl_metrics_sync(kngx_ctl_t *ctl, kngx_buf_t *b)
{
    const kngx_ctl_sync_stats_t  *m = kngx_ctl_sync_stats(ctl->sync);
    const char                   *code;
    json_t                       *v;

    KNGX_HELP(b, "kubengx_reloads_total", "counter",
              "nginx reloads after a changed config");
    kngx_buf_printf(b, "kubengx_reloads_total %llu\n", KNGX_U64(m->reloads));

    KNGX_HELP(b, "kubengx_reload_errors_total", "counter",
              "configs not applied, by reason");
    kngx_buf_printf(b,
        "kubengx_reload_errors_total{reason=\"nginx-test\"} %llu\n"
        "kubengx_reload_errors_total{reason=\"write\"} %llu\n"
        "kubengx_reload_errors_total{reason=\"render\"} %llu\n"
        "kubengx_reload_errors_total{reason=\"signal\"} %llu\n",
        KNGX_U64(m->reload_errors_test), KNGX_U64(m->reload_errors_write),
        KNGX_U64(m->reload_errors_render), KNGX_U64(m->reload_errors_signal));

    KNGX_HELP(b, "kubengx_reload_duration_seconds", "summary",
              "nginx -t, write and signal of each reload");
    kngx_buf_printf(b, "kubengx_reload_duration_seconds_sum %.6f\n"
                    "kubengx_reload_duration_seconds_count %llu\n",
                    m->reload_seconds_sum, KNGX_U64(m->reloads));

    KNGX_HELP(b, "kubengx_last_reload_duration_seconds", "gauge",
              "duration of the last reload");
    kngx_buf_printf(b, "kubengx_last_reload_duration_seconds %.6f\n",
                    m->reload_seconds_last);

    KNGX_HELP(b, "kubengx_last_reload_success_timestamp_seconds", "gauge",
              "when a config was last applied (unix time)");
    kngx_buf_printf(b, "kubengx_last_reload_success_timestamp_seconds %.3f\n",
                    m->last_reload_success);

    KNGX_HELP(b, "kubengx_render_duration_seconds", "summary",
              "model, plan and text of each sync");
    kngx_buf_printf(b, "kubengx_render_duration_seconds_sum %.6f\n"
                    "kubengx_render_duration_seconds_count %llu\n",
                    m->render_seconds_sum, KNGX_U64(m->renders));

    KNGX_HELP(b, "kubengx_last_render_duration_seconds", "gauge",
              "duration of the last render");
    kngx_buf_printf(b, "kubengx_last_render_duration_seconds %.6f\n",
                    m->render_seconds_last);

    KNGX_HELP(b, "kubengx_syncs_total", "counter", "syncs run");
    kngx_buf_printf(b, "kubengx_syncs_total %llu\n", KNGX_U64(m->syncs));

    KNGX_HELP(b, "kubengx_syncs_unchanged_total", "counter",
              "syncs whose config equalled the running one (no reload)");
    kngx_buf_printf(b, "kubengx_syncs_unchanged_total %llu\n",
                    KNGX_U64(m->syncs_unchanged));

    KNGX_HELP(b, "kubengx_ingresses", "gauge",
              "Ingresses known, by whether this controller serves them");
    kngx_buf_printf(b, "kubengx_ingresses{state=\"served\"} %zu\n"
                    "kubengx_ingresses{state=\"ignored\"} %zu\n",
                    m->ingresses_served, m->ingresses_ignored);

    KNGX_HELP(b, "kubengx_ingresses_excluded", "gauge",
              "Ingresses left out because nginx -t rejected the config "
              "with them");
    kngx_buf_printf(b, "kubengx_ingresses_excluded %zu\n",
                    m->ingresses_excluded);

    KNGX_HELP(b, "kubengx_config_bisections_total", "counter",
              "searches for the Ingresses to blame for a config nginx -t "
              "rejected, by outcome");
    kngx_buf_printf(b,
        "kubengx_config_bisections_total{outcome=\"applied\"} %llu\n"
        "kubengx_config_bisections_total{outcome=\"gave-up\"} %llu\n",
        KNGX_U64(m->bisections_applied), KNGX_U64(m->bisections_failed));

    KNGX_HELP(b, "kubengx_config_bisection_tests_total", "counter",
              "nginx -t runs of those searches");
    kngx_buf_printf(b, "kubengx_config_bisection_tests_total %llu\n",
                    KNGX_U64(m->bisection_tests));

    KNGX_HELP(b, "kubengx_refused", "gauge",
              "warnings of the last sync by code: what the renderer "
              "refused or served otherwise than written");
    json_object_foreach(m->refused, code, v) {
        kngx_buf_printf(b, "kubengx_refused{code=\"%s\"} %lld\n", code,
                        (long long) json_integer_value(v));
    }
}


/* the list/watch counters, one series per watched kind */

typedef struct {
    const char  *name;
    const char  *help;
    size_t       offset;        /* of a uint64_t in kube_lw_stats_t */
} kngx_ctl_counter_t;

static const kngx_ctl_counter_t  kngx_ctl_watch_counters[] = {
    { "kubengx_watch_lists_total", "complete lists",
      offsetof(kube_lw_stats_t, lists) },
    { "kubengx_watch_relists_total",
      "returns from watch to list (410, errors)",
      offsetof(kube_lw_stats_t, relists) },
    { "kubengx_watch_restarts_total", "watch requests issued",
      offsetof(kube_lw_stats_t, watches) },
    { "kubengx_watch_errors_total", "failed list/watch requests",
      offsetof(kube_lw_stats_t, errors) },
};


static void
kngx_ctl_metrics_watch(kngx_ctl_t *ctl, kngx_buf_t *b)
{
    int                        i;
    size_t                     k;
    kube_lw_stats_t            st;
    const char                *kind;
    const kngx_ctl_counter_t  *c;
    double                     v;

    KNGX_HELP(b, "kubengx_watched_objects", "gauge", "objects in the store");
    for (i = 0; i < KNGX_CTL_NKINDS; i++) {
        if (kngx_ctl_watch_kind(ctl->watch, i, &kind, NULL) == 0) {
            kngx_buf_printf(b, "kubengx_watched_objects{kind=\"%s\"} %zu\n",
                            kind, json_object_size(
                                kngx_ctl_store_objects(ctl->watch, i)));
        }
    }

    for (k = 0; k < sizeof(kngx_ctl_watch_counters)
                    / sizeof(kngx_ctl_watch_counters[0]); k++)
    {
        c = &kngx_ctl_watch_counters[k];

        kngx_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n", c->name,
                        c->help, c->name);

        for (i = 0; i < KNGX_CTL_NKINDS; i++) {
            if (kngx_ctl_watch_kind(ctl->watch, i, &kind, &st) == 0) {
                kngx_buf_printf(b, "%s{kind=\"%s\"} %llu\n", c->name,
                                kind, KNGX_U64(
                                *(uint64_t *) ((char *) &st + c->offset)));
            }
        }

        /* the module's watcher, when nginx's metrics are in the scrape */
        if (kngx_ctl_scrape_value(ctl->scrape, c->name, &v) == 0) {
            kngx_buf_printf(b, "%s{kind=\"module\"} %.0f\n", c->name, v);
        }
    }
}


/* a config applied, nginx running and answering */

static int
kngx_ctl_ready(kngx_ctl_t *ctl)
{
    return kngx_ctl_sync_applied(ctl->sync)
           && kngx_ctl_nginx_running(ctl->nginx)
           && kngx_ctl_probe_ok(ctl->probe);
}


static void
kngx_ctl_metrics(kngx_ctl_t *ctl, kngx_buf_t *b)
{
    const kngx_ctl_status_stats_t  *st = kngx_ctl_status_stats(ctl->status);
    const kngx_ctl_events_stats_t  *ev = kngx_ctl_events_stats(ctl->events);
    const kngx_ctl_http_stats_t    *h = kngx_ctl_http_stats(ctl->http);

    kngx_ctl_metrics_sync(ctl, b);
    kngx_ctl_metrics_watch(ctl, b);

    KNGX_HELP(b, "kubengx_leader", "gauge",
              "1 while this replica holds the leader Lease");
    kngx_buf_printf(b, "kubengx_leader %d\n",
                    kngx_ctl_leader_is(ctl->leader) ? 1 : 0);

    KNGX_HELP(b, "kubengx_status_updates_total", "counter",
              "Ingress status writes");
    kngx_buf_printf(b, "kubengx_status_updates_total %llu\n",
                    KNGX_U64(st->updates));

    KNGX_HELP(b, "kubengx_events_total", "counter",
              "Kubernetes Events, by outcome");
    kngx_buf_printf(b, "kubengx_events_total{outcome=\"sent\"} %llu\n"
                    "kubengx_events_total{outcome=\"rate-limited\"} %llu\n"
                    "kubengx_events_total{outcome=\"failed\"} %llu\n",
                    KNGX_U64(ev->sent), KNGX_U64(ev->dropped),
                    KNGX_U64(ev->failed));

    KNGX_HELP(b, "kubengx_health_connections_dropped_total", "counter",
              "connections to the health port closed unanswered: evicted "
              "(all slots taken, this one the oldest) or too slow");
    kngx_buf_printf(b,
        "kubengx_health_connections_dropped_total{reason=\"evicted\"} "
        "%llu\n"
        "kubengx_health_connections_dropped_total{reason=\"timeout\"} "
        "%llu\n", KNGX_U64(h->evicted), KNGX_U64(h->timed_out));

    KNGX_HELP(b, "kubengx_nginx_up", "gauge", "1 while the nginx child runs");
    kngx_buf_printf(b, "kubengx_nginx_up %d\n",
                    kngx_ctl_nginx_running(ctl->nginx) ? 1 : 0);

    KNGX_HELP(b, "kubengx_ready", "gauge",
              "1 once a config was applied and nginx answered on its http "
              "port (/readyz)");
    kngx_buf_printf(b, "kubengx_ready %d\n", kngx_ctl_ready(ctl) ? 1 : 0);

    /* controller_ssl.c, controller_scrape.c */
    kngx_ctl_sync_ssl_metrics(ctl->sync, b);

    if (ctl->scrape) {
        KNGX_HELP(b, "kubengx_nginx_scrape_errors_total", "counter",
                  "fetches of nginx's own metrics for /metrics that failed");
        kngx_buf_printf(b, "kubengx_nginx_scrape_errors_total %llu\n",
                        KNGX_U64(kngx_ctl_scrape_errors(ctl->scrape)));
    }
}


const char *
kngx_ctl_answer(void *data, const char *path, kngx_buf_t *body,
    const char **content_type)
{
    kngx_ctl_t  *ctl = data;
    int          up;

    /* nginx runs, or has not been started yet (waiting for the lists) */
    up = (kngx_ctl_nginx_running(ctl->nginx)
          || !kngx_ctl_nginx_exited(ctl->nginx))
         && !ctl->stopping;

    if (strcmp(path, "/healthz") == 0) {
        if (!up) {
            kngx_buf_printf(body, "nginx is not running\n");
            return "503 Service Unavailable";
        }

        kngx_buf_printf(body, "ok\n");
        return "200 OK";
    }

    if (strcmp(path, "/readyz") == 0) {
        if (!up || !kngx_ctl_ready(ctl)) {
            kngx_buf_printf(body, "%s\n", !kngx_ctl_sync_applied(ctl->sync)
                            ? "no config applied yet"
                            : !up || !kngx_ctl_nginx_running(ctl->nginx)
                            ? "nginx is not running"
                            : "nginx does not answer on its http port yet");
            return "503 Service Unavailable";
        }

        kngx_buf_printf(body, "ok\n");
        return "200 OK";
    }

    if (strcmp(path, "/metrics") == 0) {
        /* nginx's own metrics after ours, one scrape (controller_scrape.c) */
        if (kngx_ctl_scrape_wait(ctl->scrape,
                                 up && kngx_ctl_nginx_running(ctl->nginx)))
        {
            return NULL;
        }

        *content_type = "text/plain; version=0.0.4; charset=utf-8";
        kngx_ctl_metrics(ctl, body);
        kngx_ctl_scrape_append(ctl->scrape, body);
        return "200 OK";
    }

    if (strcmp(path, "/conf") == 0) {
        return kngx_ctl_conf_answer(ctl, body, content_type);
    }

    kngx_buf_printf(body, "not found; try /healthz, /readyz, /metrics, "
                    "/conf\n");
    return "404 Not Found";
}
