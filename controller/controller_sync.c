
/*
 * kubengx controller: one sync.
 *
 *   Ingresses left out earlier that (or whose Services or Secrets)
 *   changed are tried again (controller_exclude.c)
 *   store -> model -> plan (without the ones still left out) -> text
 *   (timed: render duration)
 *   hash of the text and of every certificate's bytes
 *   same as the applied hash: nothing to do (no write, no reload)
 *   same as the last rejected hash: not tried again
 *   else: nginx -t on the new text in a temporary directory, finished
 *   from the main loop so that a slow nginx -t blocks nothing
 *   (controller_job.c); accepted: written atomically (kngx_output_write)
 *   and nginx reloaded; rejected: controller_bisect.c looks for the
 *   Ingresses to blame with more tests on the same model, and the config
 *   without them is applied.  When it finds none, the running config
 *   stays, the error is logged, counted and reported as an Event on the
 *   Ingresses involved (those changed, or whose Service or Secret
 *   changed, since the last applied config).
 *
 * A sync runs once the hold-off has passed since the last change (or the
 * maximum delay since the first) and no test runs.  Changes that arrive
 * while a test or a bisection runs go to a fresh s->changed and mark the
 * sync dirty: they are synced after it.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller_log.h"
#include "controller_sync_int.h"


kngx_ctl_sync_t *
kngx_ctl_sync_create(const kngx_ctl_sync_conf_t *conf,
    kngx_ctl_watch_t *watch, kngx_ctl_nginx_t *nginx,
    kngx_ctl_events_t *events, kngx_ctl_status_t *status)
{
    kngx_ctl_sync_t  *s;

    s = calloc(1, sizeof(kngx_ctl_sync_t));
    if (s == NULL) {
        kngx_ctl_log("error: out of memory");
        return NULL;
    }

    s->conf = *conf;
    snprintf(s->certs_dir, sizeof(s->certs_dir), "%s/certs", conf->conf_dir);
    s->conf.ro.certs_dir = s->certs_dir;

    s->watch = watch;
    s->nginx = nginx;
    s->events = events;
    s->status = status;

    s->exclude = kngx_ctl_exclude_create(watch);
    s->changed = json_object();
    s->stats.refused = json_object();

    if (s->exclude == NULL || s->changed == NULL
        || s->stats.refused == NULL)
    {
        kngx_ctl_log("error: out of memory");
        kngx_ctl_sync_destroy(s);
        return NULL;
    }

    return s;
}


void
kngx_ctl_sync_destroy(kngx_ctl_sync_t *s)
{
    if (s == NULL) {
        return;
    }

    kngx_ctl_bisect_free(s);
    kngx_ctl_job_abort(s);
    kngx_ctl_exclude_destroy(s->exclude);
    json_decref(s->changed);
    json_decref(s->stats.refused);
    kngx_buf_free(&s->ssl_expiry);
    free(s);
}


/* ---- when ---------------------------------------------------------------- */

void
kngx_ctl_sync_changed(kngx_ctl_sync_t *s, const char *what)
{
    json_object_set_new(s->changed, what, json_true());
}


void
kngx_ctl_sync_dirty(kngx_ctl_sync_t *s, const char *why)
{
    uint64_t  now = kngx_ctl_now();

    if (!s->dirty) {
        s->dirty = 1;
        s->dirty_first_ms = now;
    }

    s->dirty_last_ms = now;

    if (s->listed && why && strchr(why, ' ')) {
        kngx_ctl_log("change: %s", why);
    }
}


void
kngx_ctl_sync_listed(kngx_ctl_sync_t *s)
{
    s->listed = 1;
    kngx_ctl_log("every kind listed; first sync");

    s->dirty = 1;
    s->dirty_first_ms = 0;
    s->dirty_last_ms = 0;
}


void
kngx_ctl_sync_retry(kngx_ctl_sync_t *s)
{
    kngx_ctl_log("SIGHUP: resync");
    s->have_failed = 0;
    kngx_ctl_exclude_reset(s->exclude);
    kngx_ctl_sync_dirty(s, NULL);
}


void
kngx_ctl_sync_stop(kngx_ctl_sync_t *s)
{
    s->stopping = 1;
}


static void kngx_ctl_sync_run(kngx_ctl_sync_t *s);


uint64_t
kngx_ctl_sync_step(kngx_ctl_sync_t *s, uint64_t now)
{
    uint64_t  due;

    if (!s->listed || !s->dirty || s->job.active) {
        return 0;
    }

    due = s->dirty_last_ms + s->conf.holdoff_ms;
    if (s->dirty_first_ms + s->conf.max_delay_ms < due) {
        due = s->dirty_first_ms + s->conf.max_delay_ms;
    }

    if (now < due) {
        return due;
    }

    s->dirty = 0;
    kngx_ctl_sync_run(s);

    return 0;
}


int
kngx_ctl_sync_busy(kngx_ctl_sync_t *s)
{
    return s->job.active;
}


int
kngx_ctl_sync_applied(kngx_ctl_sync_t *s)
{
    return s->applied;
}


kngx_ctl_exclude_t *
kngx_ctl_sync_excluded(kngx_ctl_sync_t *s)
{
    return s->exclude;
}


const kngx_ctl_sync_stats_t *
kngx_ctl_sync_stats(kngx_ctl_sync_t *s)
{
    s->stats.ingresses_excluded = kngx_ctl_exclude_count(s->exclude);

    return &s->stats;
}


/* ---- the nginx -t of the job --------------------------------------------- */

int
kngx_ctl_sync_fd(kngx_ctl_sync_t *s)
{
    return s->job.running ? s->job.run.fd : -1;
}


static void kngx_ctl_sync_end(kngx_ctl_sync_t *s, int apply,
    const char *err);


void
kngx_ctl_sync_io(kngx_ctl_sync_t *s)
{
    char  err[8192];
    int   rc, r;

    if (!kngx_ctl_job_read(s, &rc, err, sizeof(err))) {
        return;
    }

    if (s->stopping) {
        /* nginx is quitting: nothing new */
        kngx_ctl_bisect_free(s);
        kngx_ctl_job_abort(s);
        return;
    }

    r = s->bisect ? kngx_ctl_bisect_result(s, rc, err, sizeof(err))
        : rc == 0 ? KNGX_BISECT_APPLY
        : kngx_ctl_bisect_begin(s, err);

    if (r == KNGX_BISECT_APPLY) {
        kngx_ctl_sync_end(s, 1, NULL);

    } else if (r == KNGX_BISECT_GAVE_UP) {
        kngx_ctl_sync_end(s, 0, err);
    }
}


void
kngx_ctl_sync_reaped(kngx_ctl_sync_t *s, pid_t pid, int status)
{
    if (s->job.running && pid == s->job.run.pid) {
        s->job.run.exited = 1;
        s->job.run.status = status;
    }
}


/* ---- what ---------------------------------------------------------------- */

/* a code fit for a label value: [a-z0-9_-] */

static int
kngx_ctl_code_ok(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 64) {
        return 0;
    }

    for ( /* void */ ; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')
              || *s == '-' || *s == '_'))
        {
            return 0;
        }
    }

    return 1;
}


static void
kngx_ctl_refused_count(json_t *refused, const kngx_diags_t *ds)
{
    const char  *code;
    json_t      *v;
    size_t       i;

    for (i = 0; i < ds->n; i++) {
        if (ds->items[i].severity == KNGX_DIAG_INFO) {
            continue;
        }

        code = kngx_ctl_code_ok(ds->items[i].code) ? ds->items[i].code
                                                   : "other";
        v = json_object_get(refused, code);

        if (v) {
            json_integer_set(v, json_integer_value(v) + 1);
        } else {
            json_object_set_new(refused, code, json_integer(1));
        }
    }
}


/* the sync's warnings by code, for kubengx_refused */

static void
kngx_ctl_refused(kngx_ctl_sync_t *s, const kngx_model_t *m,
    const kngx_plan_t *p)
{
    const char  *code;
    json_t      *v;

    /* codes seen before stay, at 0: a series does not vanish */
    json_object_foreach(s->stats.refused, code, v) {
        json_integer_set(v, 0);
    }

    kngx_ctl_refused_count(s->stats.refused, &m->diags);
    kngx_ctl_refused_count(s->stats.refused, &p->diags);
}


static void
kngx_ctl_served(kngx_ctl_sync_t *s, const kngx_model_t *m,
    const kngx_plan_t *p, size_t nexclude)
{
    s->stats.ingresses_served = p->ningresses;
    s->stats.ingresses_ignored = m->ningresses - p->ningresses - nexclude;
    kngx_ctl_status_served(s->status, p);
}


static void
kngx_ctl_report_rejected(kngx_ctl_sync_t *s, const char *err)
{
    const kngx_model_t  *m = s->job.m;
    kngx_class_opts_t    co;
    char                 msg[1024], line[800];
    size_t               i, n = 0;

    kngx_ctl_job_message(err, line, sizeof(line));
    snprintf(msg, sizeof(msg), "nginx -t rejected the configuration with "
             "this change; the previous configuration stays: %s", line);

    co.class_name = s->conf.po.class_name;
    co.controller = s->conf.po.controller;
    co.watch_without_class = s->conf.po.watch_without_class;

    for (i = 0; i < m->ningresses; i++) {
        if (kngx_ingress_is_ours(m, &co, &m->ingresses[i], NULL)
            && kngx_ctl_ingress_involved(s->job.changed, &m->ingresses[i]))
        {
            kngx_ctl_event(s->events, m->ingresses[i].meta.ns,
                           m->ingresses[i].meta.name, "RejectedConfig", msg);
            n++;
        }
    }

    if (n == 0) {
        kngx_ctl_log("no Ingress found to report the rejected config on");
    }
}


/* the candidate passed nginx -t: write it and reload (-1: not written) */

static int
kngx_ctl_apply(kngx_ctl_sync_t *s)
{
    kngx_ctl_job_t  *t = &s->job;
    kngx_plan_t     *p = t->p;
    char             err[8192];
    uint64_t         t2;
    int              reloaded = 0;

    if (t->conf == NULL && kngx_ctl_job_final(s, err, sizeof(err)) != 0) {
        s->stats.reload_errors_render++;
        kngx_ctl_log("error: sync: %s; the running config stays", err);
        return -1;
    }

    kngx_ctl_served(s, t->m, p, t->nexclude);

    if (s->have_applied && memcmp(t->hash, s->applied_hash, 32) == 0) {
        /* a bisection found the running config again */
        s->stats.syncs_unchanged++;
        s->have_failed = 0;
        kngx_ctl_log("sync: %zu Ingresses served, config unchanged; no "
                     "reload", p->ningresses);
        kngx_ctl_status_sync(s->status);
        return 0;
    }

    if (kngx_ctl_stream_write(s, err, sizeof(err)) != 0
        || kngx_ctl_settings_apply(s) != 0
        || kngx_output_write(s->conf.conf_dir, t->conf, t->len, p, err,
                             sizeof(err)) != 0)
    {
        s->stats.reload_errors_write++;
        kngx_ctl_log("error: sync: write: %s; the running config stays",
                     err);
        return -1;
    }

    memcpy(s->applied_hash, t->hash, 32);
    s->have_applied = 1;
    kngx_ctl_ssl_record(s, p);
    s->have_failed = 0;

    if (kngx_ctl_nginx_running(s->nginx)) {
        if (kngx_ctl_nginx_reload(s->nginx) != 0) {
            s->stats.reload_errors_signal++;
            return 0;
        }
        reloaded = 1;
    }

    t2 = kngx_ctl_now();

    if (reloaded) {
        s->stats.reloads++;
        s->stats.reload_seconds_last = (double) (t2 - t->t1) / 1000.0;
        s->stats.reload_seconds_sum += s->stats.reload_seconds_last;
    }

    s->stats.last_reload_success = kngx_ctl_wall();
    s->applied = 1;

    kngx_ctl_log("sync: %zu Ingresses served, %zu servers, %zu upstreams, "
                 "%zu certificates%s; config written%s (render %.3fs, "
                 "test+write %.3fs)", p->ningresses, p->nservers,
                 p->nupstreams, p->ncerts,
                 kngx_ctl_exclude_count(s->exclude) ? ", some left out" : "",
                 reloaded ? ", nginx reloaded" : "",
                 s->stats.render_seconds_last,
                 (double) (t2 - t->t1) / 1000.0);

    kngx_ctl_status_sync(s->status);

    return 0;
}


/* end the job: apply the candidate (it passed), or the full config's
 * rejection (err) stands */

static void
kngx_ctl_sync_end(kngx_ctl_sync_t *s, int apply, const char *err)
{
    kngx_ctl_job_t  *t = &s->job;

    if (apply && kngx_ctl_apply(s) == 0) {
        json_decref(t->changed);
        t->changed = NULL;

    } else if (!apply) {
        s->stats.reload_errors_test++;
        memcpy(s->failed_hash, t->full_hash, 32);
        s->have_failed = 1;
        kngx_ctl_log("error: sync: new config rejected, the running one "
                     "stays: %s", err);
        kngx_ctl_report_rejected(s, err);
    }

    if (t->changed) {
        /* not applied: still changed since the last accepted config */
        json_object_update_missing(s->changed, t->changed);
        json_decref(t->changed);
    }

    t->changed = NULL;

    kngx_ctl_bisect_free(s);
    kngx_ctl_job_free_candidate(s);
    kngx_model_free(t->m);
    t->m = NULL;
    t->active = 0;
}


/*
 * Render; when the text changed, start nginx -t on it (the model, plan
 * and text go to the job until kngx_ctl_sync_io() has an answer).
 */

static void
kngx_ctl_sync_run(kngx_ctl_sync_t *s)
{
    kngx_ctl_job_t  *t = &s->job;
    kngx_model_t    *m;
    char             err[8192];
    uint64_t         t0;

    s->stats.syncs++;
    t0 = kngx_ctl_now();

    m = kngx_ctl_store_model(s->watch);
    if (m == NULL) {
        kngx_ctl_log("error: sync: out of memory");
        s->stats.reload_errors_render++;
        return;
    }

    kngx_diags_print(stderr, &m->diags, KNGX_DIAGS_PROBLEMS, NULL);
    kngx_ctl_exclude_refresh(s->exclude, m, s->changed);

    if (kngx_ctl_job_plan(s, m, NULL, 0, 1, err, sizeof(err)) != 0) {
        if (t->p) {
            kngx_diags_print(stderr, &t->p->diags, KNGX_DIAGS_PROBLEMS,
                             NULL);
        }
        kngx_ctl_log("error: sync: %s; nothing changed", err);
        s->stats.reload_errors_render++;
        goto done;
    }

    kngx_diags_print(stderr, &t->p->diags, KNGX_DIAGS_PROBLEMS, NULL);

    if (t->stream) {
        kngx_stream_print_diags(t->stream);
    }

    t->t1 = kngx_ctl_now();
    s->stats.renders++;
    s->stats.render_seconds_last = (double) (t->t1 - t0) / 1000.0;
    s->stats.render_seconds_sum += s->stats.render_seconds_last;

    kngx_ctl_events_from_plan(s->events, t->p);
    kngx_ctl_refused(s, m, t->p);

    if (s->have_applied && memcmp(t->hash, s->applied_hash, 32) == 0) {
        s->stats.syncs_unchanged++;
        kngx_ctl_served(s, m, t->p, t->nexclude);
        json_object_clear(s->changed);
        kngx_ctl_log("sync: %zu Ingresses served, config unchanged; no "
                     "reload", t->p->ningresses);
        kngx_ctl_status_sync(s->status);
        goto done;
    }

    if (s->have_failed && memcmp(t->hash, s->failed_hash, 32) == 0) {
        kngx_ctl_log("sync: same config as the one nginx -t rejected; "
                     "still not applied");
        goto done;
    }

    /* the job: changes from now on are the next sync's */

    t->changed = s->changed;
    s->changed = json_object();
    if (s->changed == NULL) {
        s->changed = t->changed;
        t->changed = NULL;
        kngx_ctl_log("error: sync: out of memory");
        goto done;
    }

    t->m = m;
    t->active = 1;
    memcpy(t->full_hash, t->hash, 32);

    if (kngx_ctl_job_start(s, err, sizeof(err)) != 0) {
        kngx_ctl_sync_end(s, 0, err);
    }

    return;

done:

    kngx_ctl_job_free_candidate(s);
    kngx_model_free(m);
}
