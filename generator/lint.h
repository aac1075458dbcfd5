
/*
 * kubengx lint: findings and the rules that produce them.
 */

#ifndef KNGX_LINT_H
#define KNGX_LINT_H

#include <stddef.h>

#include "model.h"


typedef struct {
    kngx_severity_e      severity;  /* WARNING or ERROR */
    kngx_source_t        src;       /* file NULL: not tied to an object */
    const char          *kind;      /* the object's, or NULL */
    const char          *ns;        /* "" for cluster-scoped, or NULL */
    const char          *name;
    const char          *code;      /* stable id: "no-service", ... */
    const char          *field;     /* "spec.rules[0].host" or NULL;
                                       owned by the model */
    const char          *message;   /* in the lint arena */
} kngx_finding_t;


typedef struct {
    kube_arena_t        *arena;
    kngx_finding_t      *items;
    size_t               n;
    size_t               cap;
    size_t               nerrors;
    size_t               nwarnings;
    unsigned             none_served:1;  /* the input has Ingresses and
                                            kubengx serves none */
} kngx_lint_t;


typedef struct {
    kngx_class_opts_t      class;
    kngx_host_ownership_e  host_ownership;
    int                    unsupported_ignore;  /* --unsupported-
                                                   annotations ignore */
    int                    strict;              /* --strict: unknown
                                                   fields are errors */
} kngx_lint_opts_t;


/* a finding about the object of meta (may be NULL); -1 out of memory */
int kngx_lint_add(kngx_lint_t *l, kngx_severity_e sev,
    const kngx_meta_t *meta, const char *code, const char *field,
    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

/* lint_plan.c: findings from the route plan; -1 out of memory */
int kngx_lint_rule_plan(kngx_lint_t *l, const kngx_model_t *m,
    const kngx_lint_opts_t *o);

/* run every rule on a finished model without errors; -1 out of memory */
int kngx_lint_run(kngx_lint_t *l, const kngx_model_t *m,
    const kngx_lint_opts_t *o);

int kngx_lint_main(int argc, char **argv);

#endif /* KNGX_LINT_H */
