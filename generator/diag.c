
/*
 * kubengx generator: diagnostics (errors, warnings, infos) and how they
 * are printed.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"


int
kngx_diag_add(kngx_diags_t *ds, kube_arena_t *arena, kngx_severity_e sev,
    const kngx_source_t *src, unsigned line, const char *object,
    const char *field, const char *code, const char *fmt, ...)
{
    char          buf[1024];
    va_list       ap;
    kngx_diag_t  *d, *items;
    size_t        cap;

    if (ds->n == ds->cap) {
        cap = ds->cap ? ds->cap * 2 : 16;
        items = realloc(ds->items, cap * sizeof(kngx_diag_t));
        if (items == NULL) {
            return -1;
        }
        ds->items = items;
        ds->cap = cap;
    }

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);

    d = &ds->items[ds->n];
    memset(d, 0, sizeof(kngx_diag_t));

    d->severity = sev;
    if (src) {
        d->src = *src;
    }
    d->line = line;
    d->code = code;

    d->message = kube_arena_strdup(arena, buf);
    if (d->message == NULL) {
        return -1;
    }

    if (object) {
        d->object = kube_arena_strdup(arena, object);
        if (d->object == NULL) {
            return -1;
        }
    }

    if (field) {
        d->field = kube_arena_strdup(arena, field);
        if (d->field == NULL) {
            return -1;
        }
    }

    ds->n++;

    return 0;
}


void
kngx_diags_free(kngx_diags_t *ds)
{
    free(ds->items);
    ds->items = NULL;
    ds->n = 0;
    ds->cap = 0;
}


static int
kngx_diag_cmp(const void *a, const void *b)
{
    const kngx_diag_t  *x = a, *y = b;
    int                 rc;

    rc = strcmp(x->src.file ? x->src.file : "", y->src.file ? y->src.file
                                                            : "");
    if (rc) {
        return rc;
    }

    if (x->src.doc != y->src.doc) {
        return x->src.doc < y->src.doc ? -1 : 1;
    }

    if (x->src.item != y->src.item) {
        return x->src.item < y->src.item ? -1 : 1;
    }

    rc = strcmp(x->object ? x->object : "", y->object ? y->object : "");
    if (rc) {
        return rc;
    }

    rc = strcmp(x->field ? x->field : "", y->field ? y->field : "");
    if (rc) {
        return rc;
    }

    return strcmp(x->message, y->message);
}


void
kngx_diags_sort(kngx_diags_t *ds)
{
    if (ds->n > 1) {
        qsort(ds->items, ds->n, sizeof(kngx_diag_t), kngx_diag_cmp);
    }
}


/* print s with control bytes as \xNN */

static void
kngx_diag_put(FILE *out, const char *s)
{
    unsigned char  c;

    for ( /* void */ ; *s; s++) {
        c = (unsigned char) *s;

        if (c < 0x20 || c == 0x7f) {
            fprintf(out, "\\x%02x", c);

        } else {
            fputc(c, out);
        }
    }
}


static void
kngx_diag_format(FILE *out, const kngx_diag_t *d)
{
    static const char  *sev[] = { "info", "warning", "error" };

    /*
     * Every part may carry manifest text (names, fields, values): control
     * bytes are printed as \xNN so that no input can start a line of its
     * own on stderr or in a log.
     */

    fprintf(out, "kubengx: %s: ", sev[d->severity]);

    if (d->src.file) {
        kngx_diag_put(out, d->src.file);

        if (d->src.doc) {
            fprintf(out, ":%u", d->src.doc);
        }

        if (d->src.doc && (d->line || d->src.line)) {
            fprintf(out, ":%u", d->line ? d->line : d->src.line);
        }

        fputs(": ", out);
    }

    if (d->object) {
        kngx_diag_put(out, d->object);
        fputs(": ", out);
    }

    if (d->field) {
        kngx_diag_put(out, d->field);
        fputs(": ", out);
    }

    kngx_diag_put(out, d->message);
    fputc('\n', out);
}


/*
 * One write per line: stderr is unbuffered, and a line written byte by
 * byte cost a system call per byte (30,000 warnings: 5 million write()s,
 * seconds of system time), and could interleave with another writer's.
 */
void
kngx_diag_print(FILE *out, const kngx_diag_t *d)
{
    FILE    *line;
    char    *text = NULL;
    size_t   len = 0;

    line = open_memstream(&text, &len);
    if (line == NULL) {
        kngx_diag_format(out, d);
        return;
    }

    kngx_diag_format(line, d);

    if (fclose(line) != 0 || text == NULL) {
        free(text);
        kngx_diag_format(out, d);
        return;
    }

    fwrite(text, 1, len, out);
    free(text);
}


void
kngx_diags_print(FILE *out, const kngx_diags_t *ds, unsigned show,
    const char *skip)
{
    const kngx_diag_t  *d;
    size_t              i;

    for (i = 0; i < ds->n; i++) {
        d = &ds->items[i];

        if (!(show & (1u << d->severity))
            || (skip && d->code && strcmp(d->code, skip) == 0))
        {
            continue;
        }

        kngx_diag_print(out, d);
    }
}
