
/*
 * kubengx lint: the rules.  Each rule walks the finished model and adds
 * findings; none changes the model.  Severity: error when the input is
 * wrong on its face (a backend names what does not exist, a value render
 * refuses, a broken TLS Secret); warning when it may be deliberate or
 * depends on objects outside the input (IngressClasses, Secrets and
 * EndpointSlices often live only in the cluster).
 *
 * Here: the classes, hosts and paths, TLS entries and the loader's
 * warnings, and kngx_lint_run() with every rule.  The backends and the
 * Services are lint_services.c's, conflicting routes lint_conflicts.c's,
 * what the route planner refuses lint_plan.c's.
 */

#define _GNU_SOURCE                  /* memmem */

#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "lint.h"
#include "annotations/annotations.h"


/* ---- classes ------------------------------------------------------------- */

static int
kngx_any_default_class(const kngx_model_t *m)
{
    size_t  i;

    for (i = 0; i < m->nclasses; i++) {
        if (m->classes[i].is_default) {
            return 1;
        }
    }

    return 0;
}


static int
kngx_rule_class(kngx_lint_t *l, const kngx_model_t *m,
    const kngx_lint_opts_t *o, const kngx_ingress_t *ing)
{
    const char                  *cls, *field;
    const kngx_ingress_class_t  *ic;
    char                         hint[300];

    if (kngx_ingress_is_ours(m, &o->class, ing, NULL)) {
        return 0;
    }

    if (ing->class_name) {
        cls = ing->class_name;
        field = "spec.ingressClassName";

    } else if (ing->legacy_class) {
        cls = ing->legacy_class;
        field = "metadata.annotations[kubernetes.io/ingress.class]";

    } else {
        cls = NULL;
        field = NULL;
    }

    if (cls) {
        ic = kngx_model_class(m, cls);
        if (ic) {
            /* another controller's class, declared: not our business */
            return 0;
        }

        KNGX_ADD((l, KNGX_DIAG_WARNING, &ing->meta, "no-controller", field,
                  "class %s: no IngressClass of that name in the input, "
                  "and kubengx serves class %s: unless the cluster has "
                  "such a class, no controller serves this Ingress and it "
                  "does nothing (%s would make kubengx serve it)",
                  kngx_msg_quote(cls), kngx_msg_quote(o->class.class_name),
                  kngx_ingress_class_hint(m, ing, hint, sizeof(hint))));
        return 0;
    }

    if (kngx_any_default_class(m)) {
        /* the default class (another controller's) takes it */
        return 0;
    }

    KNGX_ADD((l, KNGX_DIAG_WARNING, &ing->meta, "no-controller", NULL,
              "no spec.ingressClassName and no default IngressClass: no "
              "controller serves this Ingress and it does nothing (set "
              "ingressClassName: %s, or run kubengx with "
              "--watch-without-class)", o->class.class_name));
    return 0;
}


/* ---- hosts, paths, TLS --------------------------------------------------- */

static int
kngx_rule_paths(kngx_lint_t *l, const kngx_model_t *m,
    const kngx_ingress_t *ing)
{
    const kngx_ingress_rule_t  *r;
    const kngx_ingress_path_t  *p;
    const char                 *why;
    char                        host[256];
    size_t                      i, k;
    unsigned                    groups;
    int                         regex = kngx_ann_wants_regex(ing);

    for (i = 0; i < ing->nrules; i++) {
        r = &ing->rules[i];

        if (r->host && r->host[0]
            && kngx_host_check(r->host, host, sizeof(host), &why) != 0)
        {
            KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "bad-host", r->field,
                      "host %s %s: kubengx render refuses the rule",
                      kngx_msg_quote(r->host), why));
        }

        for (k = 0; k < r->npaths; k++) {
            p = &r->paths[k];

            if (regex && p->type != KNGX_PATH_EXACT) {
                /* use-regex, rewrite-target (annotations/rewrite.c) */
                if (kngx_ann_regex_check(p->path, &groups, &why) != 0) {
                    KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "bad-path",
                              p->field, "regex path %s %s: kubengx render "
                              "refuses it", kngx_msg_quote(p->path), why));
                }

            } else if (kngx_path_check(p->path, &why) != 0) {
                KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "bad-path",
                          p->field, "path %s %s: kubengx render refuses "
                          "it", kngx_msg_quote(p->path), why));
            }

            if (p->type == KNGX_PATH_IMPLEMENTATION_SPECIFIC && !regex) {
                KNGX_ADD((l, KNGX_DIAG_WARNING, &ing->meta,
                          "implementation-specific", p->field,
                          "path %s is ImplementationSpecific: its meaning "
                          "depends on the controller (kubengx and "
                          "ingress-nginx: Prefix; others: regex or exact); "
                          "say Prefix or Exact", kngx_msg_quote(p->path)));
            }

            if (kngx_lint_rule_backend(l, m, ing, &p->backend) != 0) {
                return -1;
            }
        }
    }

    return kngx_lint_rule_backend(l, m, ing, &ing->default_backend);
}


static int
kngx_rule_tls(kngx_lint_t *l, const kngx_model_t *m,
    const kngx_ingress_t *ing)
{
    const kngx_ingress_tls_t  *t;
    const kngx_secret_t       *s;
    const char                *why;
    char                       host[256], reason[512];
    size_t                     i, k;

    for (i = 0; i < ing->ntls; i++) {
        t = &ing->tls[i];

        for (k = 0; k < t->nhosts; k++) {
            if (kngx_host_check(t->hosts[k], host, sizeof(host), &why)
                != 0)
            {
                KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "bad-host",
                          t->field, "TLS host %s %s",
                          kngx_msg_quote(t->hosts[k]), why));
            }
        }

        if (t->secret_name == NULL) {
            continue;
        }

        s = kngx_model_secret(m, ing->meta.ns, t->secret_name);
        if (s == NULL) {
            snprintf(host, sizeof(host), "%s/%s", ing->meta.ns,
                     t->secret_name);
            KNGX_ADD((l, KNGX_DIAG_WARNING, &ing->meta, "no-secret",
                      t->field, "TLS Secret %s is not in the input: "
                      "unless it exists in the cluster, the default "
                      "certificate is served for these hosts",
                      kngx_msg_quote(host)));
            continue;
        }

        if (strcmp(s->type, "kubernetes.io/tls") != 0) {
            KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "bad-secret",
                      t->field, "TLS Secret %s/%s has type %s, not "
                      "kubernetes.io/tls", s->meta.ns, s->meta.name,
                      kngx_msg_quote(s->type[0] ? s->type : "Opaque")));
            continue;
        }

        if (s->cert == NULL || s->key == NULL || s->cert_len == 0
            || s->key_len == 0)
        {
            KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "bad-secret",
                      t->field, "TLS Secret %s/%s lacks %s", s->meta.ns,
                      s->meta.name,
                      (s->cert == NULL || s->cert_len == 0) ? "tls.crt"
                                                            : "tls.key"));
            continue;
        }

        if (memmem(s->cert, s->cert_len, "-----BEGIN CERTIFICATE-----", 27)
            == NULL
            || memmem(s->key, s->key_len, "PRIVATE KEY-----", 16) == NULL)
        {
            KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "bad-secret",
                      t->field, "TLS Secret %s/%s: tls.crt or tls.key is "
                      "not PEM", s->meta.ns, s->meta.name));
            continue;
        }

        if (kngx_tls_check(s->cert, s->cert_len, s->key, s->key_len, reason,
                           sizeof(reason)) != 0)
        {
            KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "bad-secret",
                      t->field, "TLS Secret %s/%s: %s; nginx would refuse "
                      "the whole config, so kubengx render leaves it out",
                      s->meta.ns, s->meta.name, reason));
        }
    }

    return 0;
}


/* ---- loader warnings ----------------------------------------------------- */

static int
kngx_rule_loader(kngx_lint_t *l, const kngx_model_t *m,
    const kngx_lint_opts_t *o)
{
    kngx_severity_e     sev;
    const kngx_diag_t  *d;
    kngx_finding_t     *f;
    size_t              i;

    for (i = 0; i < m->diags.n; i++) {
        d = &m->diags.items[i];

        if (d->severity != KNGX_DIAG_WARNING) {
            continue;
        }

        /* --strict: an unknown field is an error */
        sev = o->strict && d->code && strcmp(d->code, "unknown-field") == 0
              ? KNGX_DIAG_ERROR : KNGX_DIAG_WARNING;

        KNGX_ADD((l, sev, NULL, d->code, d->field, "%s%s%s",
                  d->object ? d->object : "", d->object ? ": " : "",
                  d->message));

        f = &l->items[l->n - 1];
        f->src = d->src;
    }

    return 0;
}


/* ---- all rules ----------------------------------------------------------- */

int
kngx_lint_run(kngx_lint_t *l, const kngx_model_t *m,
    const kngx_lint_opts_t *o)
{
    const kngx_ingress_t  *ing;
    size_t                 i;

    if (kngx_rule_loader(l, m, o) != 0) {
        return -1;
    }

    for (i = 0; i < m->ningresses; i++) {
        ing = &m->ingresses[i];

        if (kngx_rule_class(l, m, o, ing) != 0
            || kngx_rule_paths(l, m, ing) != 0
            || kngx_rule_tls(l, m, ing) != 0)
        {
            return -1;
        }
    }

    if (kngx_lint_rule_conflicts(l, m, o) != 0
        || kngx_lint_rule_services(l, m) != 0
        || kngx_lint_rule_plan(l, m, o) != 0)
    {
        return -1;
    }

    return 0;
}
