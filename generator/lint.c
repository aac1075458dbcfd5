
/*
 * kubengx lint: the mistakes the Service/Ingress split invites, found in
 * manifest files before they reach a cluster.
 *
 * It loads the input with the generator's loader (model.h) and checks:
 * Ingresses no controller serves, backends naming a Service or port that
 * does not exist, Services without ready endpoints, several LoadBalancer
 * Services exposing HTTP, NodePort Services, missing or bad TLS Secrets,
 * host/path conflicts, ImplementationSpecific paths and values `kubengx
 * render` refuses.  The rules live in lint_rules.c and the files it
 * names; this file has the finding list and its output.  The command
 * (options, exit status) is cli/cmd_lint.c.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lint.h"


static const char  *kngx_lint_severity[] = { "info", "warning", "error" };


/* ---- findings ------------------------------------------------------------ */

int
kngx_lint_add(kngx_lint_t *l, kngx_severity_e sev, const kngx_meta_t *meta,
    const char *code, const char *field, const char *fmt, ...)
{
    char              buf[1024];
    va_list           ap;
    kngx_finding_t   *f, *items;
    size_t            cap;

    if (l->n == l->cap) {
        cap = l->cap ? l->cap * 2 : 32;
        items = realloc(l->items, cap * sizeof(kngx_finding_t));
        if (items == NULL) {
            return -1;
        }
        l->items = items;
        l->cap = cap;
    }

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);

    f = &l->items[l->n];
    memset(f, 0, sizeof(kngx_finding_t));

    f->severity = sev;
    f->code = code;
    f->field = field;

    if (meta) {
        f->src = meta->src;
        f->kind = meta->kind;
        f->ns = meta->ns;
        f->name = meta->name;
    }

    f->message = kube_arena_strdup(l->arena, buf);
    if (f->message == NULL) {
        return -1;
    }

    l->n++;

    if (sev == KNGX_DIAG_ERROR) {
        l->nerrors++;

    } else if (sev == KNGX_DIAG_WARNING) {
        l->nwarnings++;
    }

    return 0;
}


static int
kngx_strcmp0(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}


static int
kngx_finding_cmp(const void *x, const void *y)
{
    const kngx_finding_t  *a = x, *b = y;
    int                    rc;

    rc = kngx_strcmp0(a->src.file, b->src.file);
    if (rc) {
        return rc;
    }

    if (a->src.doc != b->src.doc) {
        return a->src.doc < b->src.doc ? -1 : 1;
    }

    if (a->src.item != b->src.item) {
        return a->src.item < b->src.item ? -1 : 1;
    }

    rc = kngx_strcmp0(a->kind, b->kind);
    if (rc) {
        return rc;
    }

    rc = kngx_strcmp0(a->ns, b->ns);
    if (rc) {
        return rc;
    }

    rc = kngx_strcmp0(a->name, b->name);
    if (rc) {
        return rc;
    }

    if (a->severity != b->severity) {
        return a->severity > b->severity ? -1 : 1;
    }

    rc = kngx_strcmp0(a->field, b->field);
    if (rc) {
        return rc;
    }

    rc = kngx_strcmp0(a->code, b->code);
    if (rc) {
        return rc;
    }

    return strcmp(a->message, b->message);
}


void
kngx_lint_sort(kngx_lint_t *l)
{
    size_t  i, k;

    if (l->n < 2) {
        return;
    }

    qsort(l->items, l->n, sizeof(kngx_finding_t), kngx_finding_cmp);

    for (i = 1, k = 1; i < l->n; i++) {
        if (kngx_finding_cmp(&l->items[k - 1], &l->items[i]) == 0) {
            if (l->items[i].severity == KNGX_DIAG_ERROR) {
                l->nerrors--;

            } else if (l->items[i].severity == KNGX_DIAG_WARNING) {
                l->nwarnings--;
            }

            continue;
        }

        l->items[k++] = l->items[i];
    }

    l->n = k;
}


/* ---- output -------------------------------------------------------------- */

/*
 * Names come from the input unvalidated: control bytes are written as
 * \xNN so that a name cannot forge lines of the report.
 */
static void
kngx_lint_puts(FILE *out, const char *s)
{
    for ( /* void */ ; s && *s; s++) {
        unsigned char  c = (unsigned char) *s;

        if (c < 0x20 || c == 0x7f) {
            fprintf(out, "\\x%02x", c);

        } else {
            fputc(c, out);
        }
    }
}


void
kngx_lint_print_text(FILE *out, const kngx_lint_t *l)
{
    const kngx_finding_t  *f;
    size_t                 i;

    for (i = 0; i < l->n; i++) {
        f = &l->items[i];

        if (f->src.file) {
            kngx_lint_puts(out, f->src.file);
            fprintf(out, ":%u: ", f->src.doc);
        }

        fprintf(out, "%s: ", kngx_lint_severity[f->severity]);

        if (f->kind) {
            kngx_lint_puts(out, f->kind);
            fputc(' ', out);
            if (f->ns && f->ns[0]) {
                kngx_lint_puts(out, f->ns);
                fputc('/', out);
            }
            kngx_lint_puts(out, f->name);
            fputs(": ", out);
        }

        if (f->field) {
            kngx_lint_puts(out, f->field);
            fputs(": ", out);
        }

        kngx_lint_puts(out, f->message);
        fputc('\n', out);
    }
}


static json_t *
kngx_json_str(const char *s)
{
    json_t  *j;

    if (s == NULL) {
        return json_null();
    }

    j = json_string(s);

    /* not UTF-8: the loader only passes UTF-8, but never print garbage */
    return j ? j : json_string("(not UTF-8)");
}


int
kngx_lint_print_json(FILE *out, const kngx_lint_t *l)
{
    const kngx_finding_t  *f;
    json_t                *arr, *o;
    size_t                 i;
    int                    rc;

    arr = json_array();
    if (arr == NULL) {
        return -1;
    }

    for (i = 0; i < l->n; i++) {
        f = &l->items[i];

        o = json_object();
        if (o == NULL) {
            json_decref(arr);
            return -1;
        }

        rc = json_object_set_new(o, "file", kngx_json_str(f->src.file))
             | json_object_set_new(o, "document",
                                   f->src.file ? json_integer(f->src.doc)
                                               : json_null())
             | json_object_set_new(o, "severity",
                     json_string(kngx_lint_severity[f->severity]))
             | json_object_set_new(o, "kind", kngx_json_str(f->kind))
             | json_object_set_new(o, "namespace",
                     kngx_json_str((f->ns && f->ns[0]) ? f->ns : NULL))
             | json_object_set_new(o, "name", kngx_json_str(f->name))
             | json_object_set_new(o, "code", kngx_json_str(f->code))
             | json_object_set_new(o, "field", kngx_json_str(f->field))
             | json_object_set_new(o, "message", kngx_json_str(f->message));

        if (rc != 0 || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return -1;
        }
    }

    rc = json_dumpf(arr, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(arr);

    if (rc != 0) {
        return -1;
    }

    fputc('\n', out);

    return 0;
}
