
/*
 * kubengx controller: the settings ConfigMap (--configmap NS/NAME,
 * generator/settings/settings.h).
 *
 *   kngx_ctl_settings_conf()     after the options: its watch (one
 *                                list/watch of that name, as for the
 *                                TCP/UDP services ConfigMaps)
 *   kngx_ctl_settings_build()    a candidate's settings from the job's
 *                                model, before its plan (the
 *                                default-ssl-certificate is a plan
 *                                option); its warnings are logged and,
 *                                by the leader, posted as Events on the
 *                                ConfigMap
 *   kngx_ctl_settings_final()    the main config's settings folded into
 *                                the job's hash: a change of
 *                                worker-processes alone reloads too
 *   kngx_ctl_settings_apply()    nginx.conf written again when those
 *                                changed, before the reload
 *
 * A change of the ConfigMap is a change like any other: the sync
 * renders again and reloads only when the text (or the main config's
 * settings) changed.
 */

#include <stdio.h>
#include <string.h>

#include "controller_int.h"
#include "controller_log.h"
#include "controller_sync_int.h"
#include "digest.h"


void
kngx_ctl_settings_conf(kngx_ctl_conf_t *c, const kngx_render_opts_t *ro)
{
    if (ro->settings_configmap) {
        kngx_ctl_watch_configmap(&c->watch, ro->settings_configmap);
    }
}


static void
kngx_ctl_settings_report(kngx_ctl_sync_t *s, const kngx_settings_t *set)
{
    const kngx_diag_t  *d;
    const char         *slash;
    char                ns[64], msg[1024];
    size_t              i;

    kngx_diags_print(stderr, &set->diags, KNGX_DIAGS_PROBLEMS, NULL);

    if (set->configmap == NULL || !kngx_ctl_events_leader(s->events)) {
        return;
    }

    slash = strchr(set->configmap, '/');
    snprintf(ns, sizeof(ns), "%.*s", (int) (slash - set->configmap),
             set->configmap);

    for (i = 0; i < set->diags.n; i++) {
        d = &set->diags.items[i];

        snprintf(msg, sizeof(msg), "%s%s%s", d->field ? d->field : "",
                 d->field ? ": " : "", d->message);

        kngx_ctl_event_configmap(s->events, ns, slash + 1, "InvalidSetting",
                                 msg);
    }
}


int
kngx_ctl_settings_build(kngx_ctl_sync_t *s, const kngx_model_t *m,
    kngx_plan_opts_t *po, int report)
{
    kngx_ctl_job_t  *t = &s->job;

    kngx_settings_free(t->settings);

    t->settings = kngx_settings_build(m, s->conf.ro.settings_configmap);
    if (t->settings == NULL) {
        return -1;
    }

    if (report) {
        kngx_ctl_settings_report(s, t->settings);
    }

    if (po->default_certificate == NULL) {
        po->default_certificate = t->settings->default_ssl_certificate;
    }

    return 0;
}


int
kngx_ctl_settings_final(kngx_ctl_sync_t *s)
{
    kngx_ctl_job_t        *t = &s->job;
    kngx_settings_main_t   m;
    kngx_sha256_t          c;
    char                   text[256];
    int                    n;

    memset(&m, 0, sizeof(m));
    kngx_settings_main(t->settings, &m);

    n = snprintf(text, sizeof(text), "\nmain\n%s\n%d\n%s\n%s\n",
                 m.worker_processes ? m.worker_processes : "",
                 m.worker_connections,
                 m.worker_shutdown_timeout ? m.worker_shutdown_timeout : "",
                 m.error_log_level ? m.error_log_level : "");

    kngx_sha256_init(&c);
    kngx_sha256_update(&c, t->hash, 32);
    kngx_sha256_update(&c, text, (size_t) n);
    kngx_sha256_final(&c, t->hash);

    return 0;
}


int
kngx_ctl_settings_apply(kngx_ctl_sync_t *s)
{
    return kngx_ctl_nginx_configure(s->nginx, s->job.settings) < 0 ? -1 : 0;
}
