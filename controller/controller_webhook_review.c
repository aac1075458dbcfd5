
/*
 * kubengx controller: one AdmissionReview (admission.k8s.io/v1) of the
 * webhook (controller_webhook.c serves them).
 *
 * Allowed untouched: anything but an Ingress, DELETE and CONNECT, and an
 * Ingress of another class (kngx_ingress_is_ours() on the object's own
 * class fields, with the store's IngressClasses).  Allowed with a
 * warning: everything before the store was listed once (the pod is not
 * ready then, and the Service sends the API server elsewhere).
 *
 * Else the store (controller_model.c) with this Ingress added or
 * replaced is planned with the controller's options, leaving out the
 * Ingresses the sync leaves out (but this one).  Every problem the
 * decoder or the plan reports about THIS Ingress rejects it, with its
 * field: a value kubengx refuses (bad host, path, annotation), a route
 * another Ingress already has, a host another namespace owns
 * (--host-ownership namespace), and whatever the plan comes to refuse
 * later, but those a later write of another object fixes
 * (kngx_review_later: a Service, its port or endpoints, a Secret, not
 * there yet, and a Secret or ConfigMap an annotation names,
 * KNGX_ANN_MISSING): those allow it with a warning each (kubectl prints
 * them), so that `kubectl apply -f dir/` may send the Ingress first.
 * Problems of other Ingresses do not count.
 *
 * Then the config rendered from that plan is tested with nginx -t, as a
 * child whose output is read from the loop (the way controller_job.c
 * tests a sync's candidate), at most KNGX_REVIEW_TESTS at once.  nginx
 * -t rejects it: rejected, with nginx's complaint.  No answer within
 * --validating-webhook-test-timeout (the API server gives up after the
 * webhook's timeoutSeconds, 10 by default): allowed with a warning; the
 * sync tests the config again before it applies it, and leaves the
 * Ingress out if nginx -t rejects it then (controller_bisect.c).
 */

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller_log.h"
#include "controller_sync_int.h"    /* kngx_ctl_job_message() */
#include "controller_webhook_int.h"
#include "load.h"
#include "annotations/annotations.h"    /* KNGX_ANN_MISSING */


#define KNGX_REVIEW_SRC  "AdmissionReview"

/* at most this many warnings in an answer (kube-apiserver keeps 4 KB of
 * them) */
#define KNGX_REVIEW_WARNINGS  8


struct kngx_ctl_review_s {
    json_t              *uid;
    json_t              *warnings;      /* the later problems, strings */
    char                 key[512];      /* "ns/name" */
    uint64_t             deadline;
    unsigned             running:1;
    kngx_check_run_t     run;
    char                 tmp[4096];
    char                *conf;
    size_t               len;
};


/* plan warnings about what another object's write fixes: not refused, a
 * warning each in the answer */
static const char  *kngx_review_later[] = {
    "no-service", "no-port", "no-endpoints", "no-cluster-ip", "terminating",
    "no-secret", "bad-external", "no-resolver", "tls-not-routed",
    KNGX_ANN_MISSING, NULL
};


/* ---- the answer ---------------------------------------------------------- */

/* allowed: with rv's warnings and warning (NULL: none) */
static int
kngx_review_answer(kngx_ctl_review_t *rv, int allowed, const char *message,
    const char *warning, kngx_buf_t *out)
{
    json_t  *resp, *review, *st, *warnings;
    char    *text;

    resp = json_pack("{s:O?,s:b}", "uid", rv->uid, "allowed", allowed);
    if (resp == NULL) {
        return -1;
    }

    if (!allowed) {
        st = json_pack("{s:i,s:s,s:s}", "code", 400, "reason", "BadRequest",
                       "message", message);
        json_object_set_new(resp, "status", st);

    } else if (warning || json_array_size(rv->warnings)) {
        warnings = rv->warnings ? json_copy(rv->warnings) : json_array();
        if (warnings == NULL
            || (warning
                && json_array_append_new(warnings, json_string(warning))
                   != 0))
        {
            json_decref(warnings);
            json_decref(resp);
            return -1;
        }

        json_object_set_new(resp, "warnings", warnings);
    }

    review = json_pack("{s:s,s:s,s:o}", "apiVersion", "admission.k8s.io/v1",
                       "kind", "AdmissionReview", "response", resp);
    if (review == NULL) {
        return -1;
    }

    text = json_dumps(review, JSON_COMPACT);
    json_decref(review);
    if (text == NULL) {
        return -1;
    }

    kngx_buf_printf(out, "%s", text);
    free(text);

    return out->nomem ? -1 : 0;
}


/* ---- what is reviewed ---------------------------------------------------- */

/* whether the reviewed object is of kubengx's classes, from its fields */
static int
kngx_review_ours(const kngx_ctl_review_ctx_t *ctx, const kngx_model_t *m,
    json_t *obj)
{
    kngx_ingress_t     ing;
    kngx_class_opts_t  co;
    json_t            *ann;

    memset(&ing, 0, sizeof(ing));

    ing.class_name = json_string_value(json_object_get(
                         json_object_get(obj, "spec"), "ingressClassName"));
    ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
    ing.legacy_class = json_string_value(json_object_get(ann,
                                             "kubernetes.io/ingress.class"));

    co.class_name = ctx->po.class_name;
    co.controller = ctx->po.controller;
    co.watch_without_class = ctx->po.watch_without_class;

    return kngx_ingress_is_ours(m, &co, &ing, NULL);
}


static int
kngx_review_is_later(const char *code)
{
    size_t  i;

    for (i = 0; code && kngx_review_later[i]; i++) {
        if (strcmp(code, kngx_review_later[i]) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * The problems about the reviewed Ingress, "field: message [code]; ...",
 * and those a later write fixes, one warning each; -1 out of memory.
 */
static int
kngx_review_problems(const kngx_diags_t *ds, kngx_buf_t *msg,
    json_t *warnings)
{
    const kngx_diag_t  *d;
    json_t             *js;
    kngx_buf_t          w = { NULL, 0, 0, 0 };
    size_t              i;
    int                 rc = 0;

    for (i = 0; i < ds->n && rc == 0; i++) {
        d = &ds->items[i];

        if (d->severity == KNGX_DIAG_INFO || d->src.file == NULL
            || strcmp(d->src.file, KNGX_REVIEW_SRC) != 0)
        {
            continue;
        }

        if (!kngx_review_is_later(d->code)) {
            kngx_buf_printf(msg, "%s%s%s%s [%s]", msg->len ? "; " : "",
                            d->field ? d->field : "",
                            d->field ? ": " : "", d->message,
                            d->code ? d->code : "error");
            continue;
        }

        if (json_array_size(warnings) >= KNGX_REVIEW_WARNINGS) {
            continue;
        }

        w.len = 0;
        kngx_buf_printf(&w, "%s%s%s [%s]", d->field ? d->field : "",
                        d->field ? ": " : "", d->message, d->code);

        if (w.nomem) {
            rc = -1;
            break;
        }

        /* NULL (bytes that are not UTF-8): that warning is left out */
        js = json_string(w.data);

        if (js && json_array_append_new(warnings, js) != 0) {
            rc = -1;
        }
    }

    kngx_buf_free(&w);

    return rc;
}


static int
kngx_review_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}


/* the store with obj as the Ingress key, planned as the sync plans it */
static kngx_plan_t *
kngx_review_plan(kngx_ctl_review_ctx_t *ctx, kngx_model_t *m,
    const char *key, const char ***exclude)
{
    kngx_ctl_exclude_t  *ex = kngx_ctl_sync_excluded(ctx->sync);
    kngx_plan_opts_t     po;
    const char          *k;
    size_t               i, n = 0, nex = kngx_ctl_exclude_count(ex);

    *exclude = NULL;

    if (nex) {
        *exclude = malloc(nex * sizeof(char *));
        if (*exclude == NULL) {
            return NULL;
        }

        for (i = 0; i < nex; i++) {
            k = kngx_ctl_exclude_key(ex, i);
            if (strcmp(k, key) != 0) {
                (*exclude)[n++] = k;
            }
        }

        qsort(*exclude, n, sizeof(char *), kngx_review_cmp);
    }

    po = ctx->po;
    po.exclude = *exclude;
    po.nexclude = n;

    return kngx_plan_build(m, &po);
}


/* "ns/name" of the object (namespace and name from the request if it
 * has none); -1 if there is no name */
static int
kngx_review_key(json_t *req, json_t *obj, char *key, size_t size)
{
    json_t      *md = json_object_get(obj, "metadata");
    const char  *ns, *name;

    if (!json_is_object(md)) {
        return -1;
    }

    ns = json_string_value(json_object_get(md, "namespace"));
    if (ns == NULL || ns[0] == '\0') {
        ns = json_string_value(json_object_get(req, "namespace"));
        if (ns == NULL) {
            return -1;
        }
        json_object_set_new(md, "namespace", json_string(ns));
    }

    name = json_string_value(json_object_get(md, "name"));
    if (name == NULL || name[0] == '\0') {
        name = json_string_value(json_object_get(req, "name"));
        if (name == NULL) {
            return -1;
        }
        json_object_set_new(md, "name", json_string(name));
    }

    snprintf(key, size, "%s/%s", ns, name);
    return 0;
}


/*
 * The plan's verdict on the request's Ingress: 1 answered (out), 0 its
 * config to test in rv->conf, -1 out of memory.
 */
static int
kngx_review_check(kngx_ctl_review_ctx_t *ctx, kngx_ctl_review_t *rv,
    json_t *obj, kngx_buf_t *out)
{
    kngx_model_t        *m;
    kngx_plan_t         *p = NULL;
    kngx_render_opts_t   ro;
    kngx_source_t        src;
    kngx_buf_t           msg = { NULL, 0, 0, 0 };
    const char         **exclude = NULL, *rerr;
    char                 certs[4200], err[1024];
    int                  rc = -1;

    memset(&src, 0, sizeof(src));
    src.file = KNGX_REVIEW_SRC;
    src.doc = 1;

    m = kngx_ctl_store_model_with(ctx->watch, rv->key, obj, &src);
    if (m == NULL) {
        return -1;
    }

    if (!kngx_review_ours(ctx, m, obj)) {
        rc = kngx_review_answer(rv, 1, NULL, NULL, out) ? -1 : 1;
        goto done;
    }

    p = kngx_review_plan(ctx, m, rv->key, &exclude);
    if (p == NULL) {
        goto done;
    }

    if (kngx_review_problems(&m->diags, &msg, rv->warnings) != 0
        || kngx_review_problems(&p->diags, &msg, rv->warnings) != 0
        || msg.nomem)
    {
        goto done;
    }

    if (msg.len) {
        kngx_ctl_log("webhook: Ingress %s rejected: %.*s", rv->key,
                     (int) msg.len, msg.data);
        rc = kngx_review_answer(rv, 0, msg.data, NULL, out) ? -1 : 1;
        goto done;
    }

    if (p->failed) {
        /* the options, not this Ingress (the sync logs them) */
        rc = kngx_review_answer(rv, 1, NULL, NULL, out) ? -1 : 1;
        goto done;
    }

    if (kngx_check_tmpdir(rv->tmp, sizeof(rv->tmp)) != 0) {
        rv->tmp[0] = '\0';
        kngx_ctl_log("error: webhook: cannot create a temporary directory");
        goto done;
    }

    snprintf(certs, sizeof(certs), "%s/certs", rv->tmp);
    ro = ctx->ro;
    ro.certs_dir = certs;

    rv->conf = kngx_render(p, &ro, &rv->len, &rerr);

    if (rv->conf == NULL
        || kngx_output_write_certs(certs, p, err, sizeof(err)) != 0)
    {
        kngx_ctl_log("error: webhook: %s: %s", rv->key,
                     rv->conf ? err : rerr);
        goto done;
    }

    rc = 0;

done:

    kngx_buf_free(&msg);
    kngx_plan_free(p);
    free(exclude);
    kngx_model_free(m);

    return rc;
}


int
kngx_ctl_review_start(kngx_ctl_review_ctx_t *ctx, const char *body,
    size_t len, uint64_t now, kngx_ctl_review_t **rv, const char **status,
    kngx_buf_t *out)
{
    kngx_ctl_review_t  *r;
    json_t             *review, *req, *obj;
    const char         *op, *kind;
    int                 rc;

    *rv = NULL;
    *status = "200 OK";

    review = json_loadb(body, len, 0, NULL);
    req = json_object_get(review, "request");

    if (!json_is_string(json_object_get(req, "uid"))
        || strcmp(json_string_value(json_object_get(review, "apiVersion"))
                  ? json_string_value(json_object_get(review, "apiVersion"))
                  : "", "admission.k8s.io/v1") != 0)
    {
        json_decref(review);
        *status = "400 Bad Request";
        kngx_buf_printf(out, "not an AdmissionReview admission.k8s.io/v1 "
                        "with request.uid\n");
        return out->nomem ? -1 : 1;
    }

    r = calloc(1, sizeof(kngx_ctl_review_t));
    if (r == NULL) {
        json_decref(review);
        return -1;
    }

    r->uid = json_incref(json_object_get(req, "uid"));
    r->warnings = json_array();
    if (r->warnings == NULL) {
        kngx_ctl_review_free(ctx, r);
        json_decref(review);
        return -1;
    }
    r->run.pid = -1;
    r->run.fd = -1;
    r->deadline = now + ctx->conf.test_ms;

    op = json_string_value(json_object_get(req, "operation"));
    kind = json_string_value(json_object_get(json_object_get(req, "kind"),
                                             "kind"));
    obj = json_object_get(req, "object");

    if (kind == NULL || strcmp(kind, "Ingress") != 0
        || op == NULL || strcmp(op, "DELETE") == 0
        || strcmp(op, "CONNECT") == 0)
    {
        rc = kngx_review_answer(r, 1, NULL, NULL, out) ? -1 : 1;

    } else if (!kngx_ctl_watch_synced(ctx->watch)) {
        /* nothing to compare with yet (the pod is not ready either) */
        rc = kngx_review_answer(r, 1, NULL, "kubengx has not listed "
                                "the cluster yet; the Ingress was not "
                                "checked", out) ? -1 : 1;

    } else if (kngx_review_key(req, obj, r->key, sizeof(r->key)) != 0) {
        rc = kngx_review_answer(r, 0, "metadata.name: an Ingress needs "
                                "a name and a namespace", NULL, out)
             ? -1 : 1;

    } else {
        rc = kngx_review_check(ctx, r, obj, out);
    }

    json_decref(review);

    if (rc == 0) {
        *rv = r;
    } else {
        kngx_ctl_review_free(ctx, r);
    }

    return rc;
}


/* ---- its nginx -t -------------------------------------------------------- */

int
kngx_ctl_review_fd(kngx_ctl_review_t *rv)
{
    return rv->running ? rv->run.fd : -1;
}


int
kngx_ctl_review_reaped(kngx_ctl_review_t *rv, pid_t pid, int status)
{
    if (!rv->running || pid != rv->run.pid) {
        return 0;
    }

    rv->run.exited = 1;
    rv->run.status = status;

    return 1;
}


static void
kngx_review_stop(kngx_ctl_review_ctx_t *ctx, kngx_ctl_review_t *rv)
{
    char  err[64];

    if (!rv->running) {
        return;
    }

    if (!rv->run.exited) {
        kill(rv->run.pid, SIGKILL);
    }

    (void) kngx_check_finish(&rv->run, err, sizeof(err));
    rv->running = 0;
    ctx->testing--;
}


int
kngx_ctl_review_step(kngx_ctl_review_ctx_t *ctx, kngx_ctl_review_t *rv,
    uint64_t now, kngx_buf_t *out)
{
    kngx_check_opts_t  co;
    kngx_buf_t         msg = { NULL, 0, 0, 0 };
    char               err[8192], line[800];
    int                rc;

    if (!rv->running && now < rv->deadline && ctx->testing < KNGX_REVIEW_TESTS)
    {
        co = ctx->co;
        co.stream_loads = NULL;
        co.stream_conf = NULL;

        if (kngx_check_start(&co, rv->conf, rv->len, rv->tmp, &rv->run, err,
                             sizeof(err)) != 0)
        {
            kngx_ctl_log("error: webhook: nginx -t: %s", err);
            rv->deadline = now;

        } else {
            (void) fcntl(rv->run.fd, F_SETFL,
                         fcntl(rv->run.fd, F_GETFL) | O_NONBLOCK);
            rv->running = 1;
            ctx->testing++;
        }
    }

    if (rv->running && kngx_check_read(&rv->run)) {
        rc = kngx_check_finish(&rv->run, err, sizeof(err));
        rv->running = 0;
        ctx->testing--;

        if (rc == 0) {
            return kngx_review_answer(rv, 1, NULL, NULL, out) ? -1 : 1;
        }

        kngx_ctl_job_message(err, line, sizeof(line));
        kngx_buf_printf(&msg, "nginx -t rejects the configuration with this "
                        "Ingress: %s", line);
        kngx_ctl_log("webhook: Ingress %s rejected: %s", rv->key, line);

        rc = msg.nomem
             || kngx_review_answer(rv, 0, msg.data, NULL, out) ? -1 : 1;
        kngx_buf_free(&msg);
        return rc;
    }

    if (now < rv->deadline) {
        return 0;
    }

    /* the documented policy: allowed, the sync tests it again */

    kngx_review_stop(ctx, rv);
    kngx_ctl_log("webhook: Ingress %s: nginx -t did not finish in time; "
                 "allowed", rv->key);

    return kngx_review_answer(rv, 1, NULL, "kubengx could not test "
                              "the configuration with nginx -t in time; "
                              "the controller tests it before applying it",
                              out) ? -1 : 1;
}


void
kngx_ctl_review_free(kngx_ctl_review_ctx_t *ctx, kngx_ctl_review_t *rv)
{
    if (rv == NULL) {
        return;
    }

    kngx_review_stop(ctx, rv);

    if (rv->tmp[0]) {
        kngx_check_cleanup(rv->tmp);
    }

    free(rv->conf);
    json_decref(rv->uid);
    json_decref(rv->warnings);
    free(rv);
}
