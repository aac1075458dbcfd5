
/*
 * kubengx generator: YAML (libyaml events) -> jansson json_t trees, so
 * YAML and JSON input share one decoding path.
 *
 * Scalars: quoted, literal, folded and !!str-tagged scalars are strings.
 * Plain scalars are typed as YAML 1.1 (what Kubernetes' YAML decoder
 * does): "", ~, null -> null; true/false/yes/no/on/off (any of the three
 * usual casings) -> boolean; decimal, 0x, 0o and leading-zero octal
 * integers -> integer; decimal floats, .inf, .nan -> real; the rest are
 * strings.  Mapping keys must be scalars and unique.  Aliases are allowed
 * but what they expand to is bounded in nodes (a "billion laughs"
 * document is refused) and in bytes of scalar text (KNGX_YAML_MAX_ALIAS_
 * BYTES per document: a 1 MB string repeated by aliases is refused
 * before it is copied).  Every node's line is recorded in a side table.
 */

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "load.h"


#define KNGX_YAML_MAX_DEPTH   256
#define KNGX_YAML_MAX_NODES   (4 * 1024 * 1024)
#define KNGX_YAML_MAX_ALIAS_BYTES  (16 * 1024 * 1024)


typedef struct {
    json_t              *node;
    json_t              *key;       /* mapping: pending key, or NULL */
    char                *anchor;
    size_t               nodes0;    /* node count when opened */
    size_t               bytes0;    /* scalar bytes when opened */
} kngx_yframe_t;


typedef struct {
    char                *name;
    json_t              *node;
    size_t               size;      /* nodes in the subtree */
    size_t               bytes;     /* scalar bytes in the subtree */
} kngx_yanchor_t;


typedef struct {
    kngx_yframe_t        stack[KNGX_YAML_MAX_DEPTH];
    int                  depth;
    json_t              *root;
    kngx_lines_t        *lines;

    kngx_yanchor_t      *anchors;
    size_t               nanchors;
    size_t               anchors_cap;
    size_t               nodes;     /* expanded node count of the doc */
    size_t               bytes;     /* expanded scalar bytes of the doc */
    size_t               alias_bytes;   /* of them, copied by aliases */

    char                *err;
    size_t               err_size;
    unsigned             err_line;
} kngx_yctx_t;


/* ---- line side table ----------------------------------------------------- */

static int
kngx_lines_add(kngx_lines_t *lines, const json_t *node, unsigned line)
{
    kngx_line_t  *items;
    size_t        cap;

    if (lines->n == lines->cap) {
        cap = lines->cap ? lines->cap * 2 : 256;
        items = realloc(lines->items, cap * sizeof(kngx_line_t));
        if (items == NULL) {
            return -1;
        }
        lines->items = items;
        lines->cap = cap;
    }

    lines->items[lines->n].node = node;
    lines->items[lines->n].line = line;
    lines->n++;
    lines->sorted = 0;

    return 0;
}


static int
kngx_line_cmp(const void *a, const void *b)
{
    const kngx_line_t  *x = a, *y = b;

    if (x->node != y->node) {
        return (uintptr_t) x->node < (uintptr_t) y->node ? -1 : 1;
    }

    /*
     * A freed node's address may be reused by a later node: the later
     * entry (the larger line) is the live one; it sorts first.
     */
    return (x->line < y->line) - (x->line > y->line);
}


unsigned
kngx_lines_get(kngx_lines_t *lines, const json_t *node)
{
    size_t  lo, hi, mid;

    if (lines == NULL || node == NULL || lines->n == 0) {
        return 0;
    }

    if (!lines->sorted) {
        qsort(lines->items, lines->n, sizeof(kngx_line_t), kngx_line_cmp);
        lines->sorted = 1;
    }

    lo = 0;
    hi = lines->n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if ((uintptr_t) lines->items[mid].node < (uintptr_t) node) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }

    if (lo < lines->n && lines->items[lo].node == node) {
        return lines->items[lo].line;
    }

    return 0;
}


void
kngx_lines_free(kngx_lines_t *lines)
{
    free(lines->items);
    lines->items = NULL;
    lines->n = 0;
    lines->cap = 0;
}


/* ---- scalars ------------------------------------------------------------- */

static int
kngx_yaml_word(const char *s, const char *const *words)
{
    for ( /* void */ ; *words; words++) {
        if (strcmp(s, *words) == 0) {
            return 1;
        }
    }

    return 0;
}


static int
kngx_yaml_int(const char *s, json_int_t *out)
{
    const char  *p = s;
    int          neg = 0, base = 10;
    char        *end;
    long long    v;

    if (*p == '-' || *p == '+') {
        neg = (*p == '-');
        p++;
    }

    if (!isdigit((unsigned char) *p)) {
        return 0;
    }

    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
        if (!isxdigit((unsigned char) *p)) {
            return 0;
        }

    } else if (p[0] == '0' && p[1] == 'o') {
        base = 8;
        p += 2;

    } else if (p[0] == '0' && p[1] != '\0') {
        base = 8;
        p += 1;
    }

    /* strtoll accepts leading spaces and signs: check the digits first */
    for (end = (char *) p; *end; end++) {
        if (base == 16 ? !isxdigit((unsigned char) *end)
            : base == 8 ? (*end < '0' || *end > '7')
            : !isdigit((unsigned char) *end))
        {
            return 0;
        }
    }

    if (*p == '\0') {
        return 0;
    }

    errno = 0;
    v = strtoll(p, &end, base);
    if (errno || *end) {
        return 0;                       /* out of range: a string */
    }

    *out = neg ? -v : v;

    return 1;
}


static int
kngx_yaml_float(const char *s, double *out)
{
    const char  *p = s;
    char        *end;
    int          digits = 0;

    if (strcmp(s, ".inf") == 0 || strcmp(s, "+.inf") == 0
        || strcmp(s, ".Inf") == 0 || strcmp(s, ".INF") == 0)
    {
        *out = INFINITY;
        return 1;
    }

    if (strcmp(s, "-.inf") == 0 || strcmp(s, "-.Inf") == 0
        || strcmp(s, "-.INF") == 0)
    {
        *out = -INFINITY;
        return 1;
    }

    if (strcmp(s, ".nan") == 0 || strcmp(s, ".NaN") == 0
        || strcmp(s, ".NAN") == 0)
    {
        *out = NAN;
        return 1;
    }

    /* [-+]? ( \.[0-9]+ | [0-9]+ ( \.[0-9]* )? ) ( [eE][-+]?[0-9]+ )? */
    if (*p == '-' || *p == '+') {
        p++;
    }

    while (isdigit((unsigned char) *p)) {
        p++;
        digits++;
    }

    if (*p == '.') {
        p++;
        while (isdigit((unsigned char) *p)) {
            p++;
            digits++;
        }

    } else {
        return 0;       /* no dot: an int or a string (1e5 is a string) */
    }

    if (digits == 0) {
        return 0;
    }

    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '-' || *p == '+') {
            p++;
        }
        if (!isdigit((unsigned char) *p)) {
            return 0;
        }
        while (isdigit((unsigned char) *p)) {
            p++;
        }
    }

    if (*p != '\0') {
        return 0;
    }

    *out = strtod(s, &end);

    return *end == '\0';
}


static json_t *
kngx_yaml_scalar(const yaml_event_t *ev)
{
    static const char *const  nulls[] = { "~", "null", "Null", "NULL", "",
                                          NULL };
    static const char *const  trues[] = { "true", "True", "TRUE", "yes",
                                          "Yes", "YES", "on", "On", "ON",
                                          "y", "Y", NULL };
    static const char *const  falses[] = { "false", "False", "FALSE", "no",
                                           "No", "NO", "off", "Off", "OFF",
                                           "n", "N", NULL };
    const char                *s = (const char *) ev->data.scalar.value;
    size_t                     len = ev->data.scalar.length;
    const char                *tag = (const char *) ev->data.scalar.tag;
    json_int_t                 i;
    double                     d;

    if (tag && strcmp(tag, YAML_STR_TAG) == 0) {
        return json_stringn(s, len);
    }

    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE
        || strlen(s) != len)
    {
        return json_stringn(s, len);
    }

    if (tag && strcmp(tag, YAML_NULL_TAG) == 0) {
        return json_null();
    }

    if (kngx_yaml_word(s, nulls)) {
        return json_null();
    }

    /*
     * y/n are YAML 1.1 booleans too, but Kubernetes' decoder leaves them
     * strings; so do we.
     */
    if (kngx_yaml_word(s, trues) && strcmp(s, "y") && strcmp(s, "Y")) {
        return json_true();
    }

    if (kngx_yaml_word(s, falses) && strcmp(s, "n") && strcmp(s, "N")) {
        return json_false();
    }

    if (kngx_yaml_int(s, &i)) {
        return json_integer(i);
    }

    if (kngx_yaml_float(s, &d)) {
        /*
         * JSON has no infinities or NaN and json_real() refuses them (its
         * NULL would read as out of memory): .inf, .nan, 1.0e999 stay text
         */
        return isfinite(d) ? json_real(d) : json_stringn(s, len);
    }

    return json_stringn(s, len);
}


/* ---- tree building ------------------------------------------------------- */

static int
kngx_yaml_error(kngx_yctx_t *c, unsigned line, const char *msg)
{
    snprintf(c->err, c->err_size, "%s", msg);
    c->err_line = line;
    return -1;
}


static kngx_yanchor_t *
kngx_yaml_anchor_find(kngx_yctx_t *c, const char *name)
{
    size_t  i;

    for (i = c->nanchors; i-- > 0; /* void */) {
        if (strcmp(c->anchors[i].name, name) == 0) {
            return &c->anchors[i];
        }
    }

    return NULL;
}


static int
kngx_yaml_anchor_add(kngx_yctx_t *c, const char *name, json_t *node,
    size_t size, size_t bytes)
{
    kngx_yanchor_t  *a;
    size_t           cap;

    if (c->nanchors == c->anchors_cap) {
        cap = c->anchors_cap ? c->anchors_cap * 2 : 8;
        a = realloc(c->anchors, cap * sizeof(kngx_yanchor_t));
        if (a == NULL) {
            return -1;
        }
        c->anchors = a;
        c->anchors_cap = cap;
    }

    a = &c->anchors[c->nanchors];
    a->name = strdup(name);
    if (a->name == NULL) {
        return -1;
    }
    a->node = node;
    a->size = size;
    a->bytes = bytes;
    c->nanchors++;

    return 0;
}


static void
kngx_yaml_anchors_free(kngx_yctx_t *c)
{
    size_t  i;

    for (i = 0; i < c->nanchors; i++) {
        free(c->anchors[i].name);
        json_decref(c->anchors[i].node);
    }

    c->nanchors = 0;
}


/* attach a finished node (reference stolen) to its parent */
static int
kngx_yaml_attach(kngx_yctx_t *c, json_t *node, unsigned line)
{
    kngx_yframe_t  *f;
    const char     *key;

    if (c->depth == 0) {
        c->root = node;
        return 0;
    }

    f = &c->stack[c->depth - 1];

    if (json_is_array(f->node)) {
        if (json_array_append_new(f->node, node) != 0) {
            return kngx_yaml_error(c, line, "out of memory");
        }
        return 0;
    }

    /* mapping */

    if (f->key == NULL) {
        if (!json_is_string(node)) {
            json_decref(node);
            return kngx_yaml_error(c, line, "mapping key must be a scalar");
        }

        f->key = node;
        return 0;
    }

    key = json_string_value(f->key);

    if (strlen(key) != json_string_length(f->key)) {
        json_decref(node);
        return kngx_yaml_error(c, line, "mapping key contains a NUL byte");
    }

    if (json_object_get(f->node, key) != NULL) {
        char  buf[160];

        snprintf(buf, sizeof(buf), "duplicate mapping key \"%.100s\"", key);
        json_decref(node);
        return kngx_yaml_error(c, line, buf);
    }

    if (json_object_set_new(f->node, key, node) != 0) {
        return kngx_yaml_error(c, line, "out of memory");
    }

    json_decref(f->key);
    f->key = NULL;

    return 0;
}


static int
kngx_yaml_open(kngx_yctx_t *c, json_t *node, const yaml_char_t *anchor,
    unsigned line)
{
    kngx_yframe_t  *f;

    if (node == NULL) {
        return kngx_yaml_error(c, line, "out of memory");
    }

    if (c->depth == KNGX_YAML_MAX_DEPTH) {
        json_decref(node);
        return kngx_yaml_error(c, line, "nesting too deep");
    }

    if (kngx_lines_add(c->lines, node, line) != 0) {
        json_decref(node);
        return kngx_yaml_error(c, line, "out of memory");
    }

    f = &c->stack[c->depth++];
    f->node = node;
    f->key = NULL;
    f->anchor = anchor ? strdup((const char *) anchor) : NULL;
    f->nodes0 = c->nodes;
    f->bytes0 = c->bytes;
    c->nodes++;

    if (anchor && f->anchor == NULL) {
        return kngx_yaml_error(c, line, "out of memory");
    }

    return 0;
}


static int
kngx_yaml_close(kngx_yctx_t *c, unsigned line)
{
    kngx_yframe_t  *f;
    json_t         *node;
    int             rc = 0;

    f = &c->stack[--c->depth];
    node = f->node;

    if (f->key) {
        json_decref(f->key);
        f->key = NULL;
    }

    if (f->anchor) {
        json_incref(node);      /* the anchor table's reference */
        rc = kngx_yaml_anchor_add(c, f->anchor, node, c->nodes - f->nodes0,
                                  c->bytes - f->bytes0);
        free(f->anchor);
        f->anchor = NULL;
        if (rc != 0) {
            json_decref(node);
            json_decref(node);
            return kngx_yaml_error(c, line, "out of memory");
        }
    }

    return kngx_yaml_attach(c, node, line);
}


static void
kngx_yaml_reset(kngx_yctx_t *c)
{
    while (c->depth > 0) {
        kngx_yframe_t  *f = &c->stack[--c->depth];

        json_decref(f->node);
        json_decref(f->key);
        free(f->anchor);
    }

    json_decref(c->root);
    c->root = NULL;
    kngx_yaml_anchors_free(c);
    c->nodes = 0;
    c->bytes = 0;
    c->alias_bytes = 0;
}


static int
kngx_yaml_event(kngx_yctx_t *c, yaml_event_t *ev)
{
    unsigned         line = (unsigned) ev->start_mark.line + 1;
    json_t          *node;
    kngx_yanchor_t  *a;

    switch (ev->type) {

    case YAML_SCALAR_EVENT:
        if (c->depth > 0 && json_is_object(c->stack[c->depth - 1].node)
            && c->stack[c->depth - 1].key == NULL)
        {
            /* a mapping key: its text, whatever it looks like */
            node = json_stringn((const char *) ev->data.scalar.value,
                                ev->data.scalar.length);

        } else {
            node = kngx_yaml_scalar(ev);
        }

        if (node == NULL) {
            return kngx_yaml_error(c, line, "out of memory");
        }

        if (json_is_object(c->depth ? c->stack[c->depth - 1].node : NULL)
            && c->stack[c->depth - 1].key == NULL)
        {
            /* a key: not looked up, and freed soon */

        } else if (kngx_lines_add(c->lines, node, line) != 0) {
            json_decref(node);
            return kngx_yaml_error(c, line, "out of memory");
        }

        if (++c->nodes > KNGX_YAML_MAX_NODES) {
            json_decref(node);
            return kngx_yaml_error(c, line, "document too large");
        }

        c->bytes += ev->data.scalar.length;

        if (ev->data.scalar.anchor) {
            /*
             * the anchor table owns a reference: an anchored mapping key
             * is freed once its value is attached, and a later alias
             * must not copy freed memory
             */
            json_incref(node);
            if (kngx_yaml_anchor_add(c, (const char *) ev->data.scalar.anchor,
                                     node, 1, ev->data.scalar.length) != 0)
            {
                json_decref(node);
                json_decref(node);
                return kngx_yaml_error(c, line, "out of memory");
            }
        }

        return kngx_yaml_attach(c, node, line);

    case YAML_SEQUENCE_START_EVENT:
        return kngx_yaml_open(c, json_array(),
                              ev->data.sequence_start.anchor, line);

    case YAML_MAPPING_START_EVENT:
        return kngx_yaml_open(c, json_object(),
                              ev->data.mapping_start.anchor, line);

    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return kngx_yaml_close(c, line);

    case YAML_ALIAS_EVENT:
        a = kngx_yaml_anchor_find(c, (const char *) ev->data.alias.anchor);
        if (a == NULL) {
            return kngx_yaml_error(c, line, "unknown alias");
        }

        c->nodes += a->size;
        if (c->nodes > KNGX_YAML_MAX_NODES) {
            return kngx_yaml_error(c, line,
                                   "aliases expand to too many nodes");
        }

        /* checked before the copy: the copy is what costs */
        c->bytes += a->bytes;
        c->alias_bytes += a->bytes;
        if (c->alias_bytes > KNGX_YAML_MAX_ALIAS_BYTES) {
            return kngx_yaml_error(c, line, "aliases expand to more than "
                                   "16 MiB of text");
        }

        /* a copy, so that the tree stays a tree (line table per node) */
        node = json_deep_copy(a->node);
        if (node == NULL) {
            return kngx_yaml_error(c, line, "out of memory");
        }

        return kngx_yaml_attach(c, node, line);

    default:
        return 0;
    }
}


int
kngx_yaml_parse(const char *data, size_t len, kngx_doc_handler_pt h,
    void *ctx, char *err, size_t err_size, unsigned *err_doc,
    unsigned *err_line)
{
    yaml_parser_t   parser;
    yaml_event_t    ev;
    kngx_yctx_t    *c;
    kngx_lines_t    lines;
    unsigned        doc = 0;
    int             rc = 0, done = 0, in_doc = 0;

    c = calloc(1, sizeof(kngx_yctx_t));
    if (c == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }

    memset(&lines, 0, sizeof(lines));
    c->lines = &lines;
    c->err = err;
    c->err_size = err_size;

    if (!yaml_parser_initialize(&parser)) {
        free(c);
        snprintf(err, err_size, "out of memory");
        return -1;
    }

    yaml_parser_set_input_string(&parser, (const unsigned char *) data, len);

    while (!done) {

        if (!yaml_parser_parse(&parser, &ev)) {
            snprintf(err, err_size, "YAML: %s%s%s",
                     parser.problem ? parser.problem : "syntax error",
                     parser.context ? " " : "",
                     parser.context ? parser.context : "");
            *err_doc = doc ? doc : 1;
            *err_line = (unsigned) parser.problem_mark.line + 1;
            rc = -1;
            break;
        }

        switch (ev.type) {

        case YAML_STREAM_END_EVENT:
            done = 1;
            break;

        case YAML_DOCUMENT_START_EVENT:
            doc++;
            in_doc = 1;
            break;

        case YAML_DOCUMENT_END_EVENT:
            in_doc = 0;
            if (c->root && !json_is_null(c->root)) {
                rc = h(ctx, doc, c->root, &lines);
                if (rc != 0) {
                    rc = -2;
                    done = 1;
                }
            }
            kngx_yaml_reset(c);
            kngx_lines_free(&lines);
            break;

        default:
            if (in_doc && kngx_yaml_event(c, &ev) != 0) {
                *err_doc = doc;
                *err_line = c->err_line;
                rc = -1;
                done = 1;
            }
            break;
        }

        yaml_event_delete(&ev);

        if (rc == -1) {
            break;
        }
    }

    kngx_yaml_reset(c);
    kngx_lines_free(&lines);
    free(c->anchors);
    free(c);
    yaml_parser_delete(&parser);

    return rc;
}
