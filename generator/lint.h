
/*
 * kubengx lint: findings and the rules that produce them.
 */

#ifndef KNGX_LINT_H
#define KNGX_LINT_H

#include <stddef.h>
#include <stdio.h>

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

/* kngx_lint_add() or return -1 (out of memory) */
#define KNGX_ADD(args)  if (kngx_lint_add args != 0) return -1


/* the rules, each -1 on out of memory: lint_services.c */
int kngx_lint_rule_backend(kngx_lint_t *l, const kngx_model_t *m,
    const kngx_ingress_t *ing, const kngx_backend_t *be);
int kngx_lint_rule_services(kngx_lint_t *l, const kngx_model_t *m);

/* lint_conflicts.c */
int kngx_lint_rule_conflicts(kngx_lint_t *l, const kngx_model_t *m,
    const kngx_lint_opts_t *o);

/* lint_plan.c: findings from the route plan; -1 out of memory */
int kngx_lint_rule_plan(kngx_lint_t *l, const kngx_model_t *m,
    const kngx_lint_opts_t *o);

/* run every rule on a finished model without errors; -1 out of memory */
int kngx_lint_run(kngx_lint_t *l, const kngx_model_t *m,
    const kngx_lint_opts_t *o);

/* sort for stable output and drop exact repeats */
void kngx_lint_sort(kngx_lint_t *l);

/*
 * One line per finding,
 *   FILE:DOC: warning|error: KIND NAMESPACE/NAME: [FIELD: ]MESSAGE
 * or a JSON array (-1: out of memory).
 */
void kngx_lint_print_text(FILE *out, const kngx_lint_t *l);
int kngx_lint_print_json(FILE *out, const kngx_lint_t *l);

#endif /* KNGX_LINT_H */
