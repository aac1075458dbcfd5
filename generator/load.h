
/*
 * kubengx generator: internals of manifest loading (not for lint; lint
 * uses model.h).
 */

#ifndef KNGX_LOAD_H
#define KNGX_LOAD_H

#include <jansson.h>

#include "digest.h"
#include "model.h"


/* ---- diagnostics (diag.c) ------------------------------------------------ */

#if defined(__GNUC__)
#define KNGX_PRINTF(a, b)  __attribute__((format(printf, a, b)))
#else
#define KNGX_PRINTF(a, b)
#endif

/*
 * Append a diagnostic; strings are copied into arena.  src, object and
 * field may be NULL.  Returns -1 on out of memory.
 */
int kngx_diag_add(kngx_diags_t *ds, kube_arena_t *arena,
    kngx_severity_e sev, const kngx_source_t *src, unsigned line,
    const char *object, const char *field, const char *code,
    const char *fmt, ...) KNGX_PRINTF(9, 10);

void kngx_diags_free(kngx_diags_t *ds);

/* sort by (file, doc, item, line, severity, message) for stable output */
void kngx_diags_sort(kngx_diags_t *ds);


/* ---- nearest.c ----------------------------------------------------------- */

/* Levenshtein distance; (size_t) -1 for names of 64 bytes or more */
size_t kngx_edit_distance(const char *a, const char *b);

/*
 * The name nearest to name (at most 2 edits) among n names, each the
 * first member (a const char *) of an element of stride bytes; NULL if
 * none is that near.
 */
const char *kngx_nearest(const char *name, const char *const *names,
    size_t stride, size_t n);


/* ---- YAML/JSON -> json_t (yaml2json.c) ----------------------------------- */

/* side table: json_t node -> 1-based source line */
typedef struct {
    const json_t        *node;
    unsigned             line;
} kngx_line_t;

typedef struct {
    kngx_line_t         *items;
    size_t               n;
    size_t               cap;
    unsigned             sorted:1;
} kngx_lines_t;

unsigned kngx_lines_get(kngx_lines_t *lines, const json_t *node);
void kngx_lines_free(kngx_lines_t *lines);


/* called once per document; root is borrowed (decref'd after the call) */
typedef int (*kngx_doc_handler_pt)(void *ctx, unsigned doc, json_t *root,
    kngx_lines_t *lines);

/*
 * Parse YAML text (one or more documents) into json_t trees.  Plain
 * scalars are typed YAML 1.1 style (null/~, true/false/yes/no/on/off,
 * ints, floats); quoted scalars and !!str stay strings.  Errors go to
 * err (with *err_doc / *err_line) and return -1; -2 when the handler
 * returned non-zero.
 */
int kngx_yaml_parse(const char *data, size_t len, kngx_doc_handler_pt h,
    void *ctx, char *err, size_t err_size, unsigned *err_doc,
    unsigned *err_line);


/* ---- objects (decode.c) -------------------------------------------------- */

/*
 * Decode one object (not a List) into the model.  Returns 0 (also when
 * the object was bad: an ERROR diag was added), -1 on out of memory.
 */
int kngx_decode_object(kngx_model_t *m, const kngx_source_t *src,
    json_t *obj, kngx_lines_t *lines);


/* model.c: append an object to array idx (0 ingresses, 1 services,
 * 2 classes, 3 secrets, 4 slices); the canonical text for the digest */
int kngx_model_push(kngx_model_t *m, int idx, const void *obj, size_t size);
int kngx_model_canon_add(kngx_model_t *m, const char *kind, const char *ns,
    const char *name, json_t *obj);


#endif /* KNGX_LOAD_H */
