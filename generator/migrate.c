
/*
 * kubengx migrate: what kubengx would do with the Ingresses another
 * controller (ingress-nginx) serves, from what `kubectl get
 * ingress,service,secret -A -o yaml` prints (a kind: List), files or
 * stdin:
 *
 *   - per Ingress of the old class (--from-class, default nginx; and those
 *     without a class): the class change, and per
 *     nginx.ingress.kubernetes.io/ annotation what kubengx does with it
 *     (annotations/registry.c): honoured, honoured with a stated
 *     difference, handled elsewhere, not supported, or not supported and
 *     failing closed; bad values and regex paths kubengx refuses;
 *   - a summary table;
 *   - --write DIR: each such Ingress as DIR/NAMESPACE_NAME.json with
 *     spec.ingressClassName set to --class (default kubengx), the legacy
 *     class annotation dropped, and the fields the API server owns
 *     (status, uid, resourceVersion, ...) left out, for kubectl apply.
 *
 * Exit status: 0 every Ingress would be served, 1 one would not (fails
 * closed, or a bad value), 2 bad input or usage.  `kubengx migrate
 * --annotations` prints the registry as the README's table rows.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate.h"
#include "load.h"
#include "escape.h"
#include "render.h"
#include "annotations/annotations.h"


#define KNGX_LEGACY_CLASS  "kubernetes.io/ingress.class"


typedef struct {
    const char      *from;
    const char      *to;
    const char      *dir;
    size_t           nmigrated, nserved, nclosed, nrefused, nother;
} kngx_migrate_t;


typedef struct {
    const char      *name;
    char            *data;
    size_t           len;
} kngx_input_t;


static int
kngx_migrate_read(kngx_input_t *in)
{
    FILE    *f;
    char    *p;
    size_t   cap = 64 * 1024, n;

    f = strcmp(in->name, "-") == 0 ? stdin : fopen(in->name, "r");
    if (f == NULL) {
        fprintf(stderr, "kubengx migrate: %s: cannot open\n", in->name);
        return -1;
    }

    in->data = malloc(cap);
    in->len = 0;

    while (in->data) {
        n = fread(in->data + in->len, 1, cap - in->len - 1, f);
        in->len += n;

        if (n == 0) {
            break;
        }

        if (in->len + 1 == cap) {
            cap *= 2;
            p = realloc(in->data, cap);
            if (p == NULL) {
                free(in->data);
                in->data = NULL;
                break;
            }
            in->data = p;
        }
    }

    if (in->data) {
        in->data[in->len] = '\0';
    }

    if (f != stdin) {
        fclose(f);
    }

    if (in->data == NULL) {
        fprintf(stderr, "kubengx migrate: out of memory\n");
        return -1;
    }

    return 0;
}


/* "FILE item N" or "FILE document N": where the object is */
static const char *
kngx_migrate_where(const kngx_source_t *src, char *buf, size_t size)
{
    if (src->item) {
        snprintf(buf, size, "%s, List item %u", src->file, src->item);
    } else {
        snprintf(buf, size, "%s, document %u", src->file, src->doc);
    }

    return buf;
}


static const char *
kngx_migrate_class(const kngx_ingress_t *ing)
{
    return ing->class_name ? ing->class_name : ing->legacy_class;
}


/* the Ingress's annotations, one line each; counts in n[status] */
static void
kngx_migrate_keys(const kngx_ingress_t *ing, size_t *n)
{
    const kngx_ann_key_t  *k;
    const char            *key, *near;
    size_t                 i;

    for (i = 0; i < ing->meta.nannotations; i++) {
        key = ing->meta.annotations[i].key;

        if (strncmp(key, KNGX_ANN_PREFIX, KNGX_ANN_PREFIX_LEN) != 0) {
            continue;
        }

        k = kngx_ann_key(key + KNGX_ANN_PREFIX_LEN);

        if (k == NULL) {
            near = kngx_ann_suggest(key + KNGX_ANN_PREFIX_LEN);
            printf("  %-52s unknown%s%s%s%s\n", key,
                   near ? " (did you mean " : "",
                   near ? KNGX_ANN_PREFIX : "", near ? near : "",
                   near ? "?)" : "");
            n[KNGX_ANN_UNSUPPORTED]++;
            continue;
        }

        n[k->status]++;

        printf("  %-52s %s%s%s\n", key, kngx_ann_status_name(k->status),
               k->note ? ": " : "", k->note ? k->note : "");
    }
}


/* the problems kubengx render would report about values and paths: 0
 * served, 1 a value refused, 2 only Secrets or ConfigMaps missing, -1
 * out of memory */
static int
kngx_migrate_values(const kngx_model_t *m, const kngx_ingress_t *ing,
    kngx_ann_t **ann)
{
    kube_arena_t  *arena;
    kngx_diags_t   diags;
    const char    *why;
    unsigned       groups;
    size_t         i, j;
    int            bad = 0, other = 0;

    memset(&diags, 0, sizeof(diags));

    arena = kube_arena_create(NULL, 0);
    if (arena == NULL || kngx_ann_parse(arena, &diags, m, ing, 1, ann) != 0)
    {
        goto nomem;
    }

    for (i = 0; i < diags.n; i++) {
        if (strcmp(diags.items[i].code, "bad-annotation") == 0) {
            other = 1;

        } else if (strcmp(diags.items[i].code, KNGX_ANN_MISSING) != 0) {
            continue;
        }

        printf("  ! %s: %s\n", diags.items[i].field,
               diags.items[i].message);
    }

    bad = (*ann)->refused ? (other ? 1 : 2) : 0;

    for (i = 0; i < ing->nrules; i++) {
        for (j = 0; kngx_ann_wants_regex(ing) && j < ing->rules[i].npaths;
             j++)
        {
            const kngx_ingress_path_t  *p = &ing->rules[i].paths[j];

            if (p->type != KNGX_PATH_EXACT
                && kngx_ann_regex_check(p->path, &groups, &why) != 0)
            {
                printf("  ! %s: regex path %s %s: that path would not be "
                       "served\n", p->field, kngx_msg_quote(p->path), why);
            }
        }
    }

    *ann = NULL;            /* in the arena */
    kngx_diags_free(&diags);
    kube_arena_destroy(arena);

    return bad;

nomem:

    kngx_diags_free(&diags);
    if (arena) {
        kube_arena_destroy(arena);
    }

    return -1;
}


/*
 * ingress-nginx turned every path of a host into a regex once one
 * Ingress of the host asked (use-regex, rewrite-target); kubengx only
 * the paths of that Ingress: say so for the other Ingresses of the host.
 */
static void
kngx_migrate_regex_note(const kngx_model_t *m, const kngx_ingress_t *ing)
{
    const kngx_ingress_t  *o;
    size_t                 i, j, k;

    if (kngx_ann_wants_regex(ing)) {
        return;
    }

    for (i = 0; i < ing->nrules; i++) {
        if (ing->rules[i].host == NULL || ing->rules[i].npaths == 0) {
            continue;
        }

        for (j = 0; j < m->ningresses; j++) {
            o = &m->ingresses[j];

            if (o == ing || !kngx_ann_wants_regex(o)) {
                continue;
            }

            for (k = 0; k < o->nrules; k++) {
                if (o->rules[k].host
                    && strcmp(o->rules[k].host, ing->rules[i].host) == 0)
                {
                    printf("  note: host %s: ingress-nginx made this "
                           "Ingress's paths regexes too (use-regex or "
                           "rewrite-target on %s/%s); kubengx keeps them "
                           "Prefix and Exact\n",
                           kngx_msg_quote(ing->rules[i].host), o->meta.ns,
                           o->meta.name);
                    k = o->nrules;
                    j = m->ningresses;
                }
            }
        }
    }
}


typedef struct {
    char             name[320];
    char             result[64];
    size_t           n[KNGX_ANN_SNIPPET + 1];
} kngx_migrate_row_t;


static int
kngx_migrate_ingress(kngx_migrate_t *mg, const kngx_model_t *m,
    const kngx_ingress_t *ing, kngx_migrate_row_t *row)
{
    const kngx_ann_key_t  *k;
    kngx_ann_t            *ann;
    const char            *cls = kngx_migrate_class(ing);
    char                   where[600];
    size_t                 i;
    int                    bad, closed = 0;

    snprintf(row->name, sizeof(row->name), "%s/%s", ing->meta.ns,
             ing->meta.name);

    printf("Ingress %s (%s):\n", row->name,
           kngx_migrate_where(&ing->meta.src, where, sizeof(where)));

    if (cls && strcmp(cls, mg->from) != 0) {
        printf("  class %s is not %s: left alone\n\n", cls, mg->from);
        snprintf(row->result, sizeof(row->result), "left alone (%s)",
                 cls);
        mg->nother++;
        return 0;
    }

    mg->nmigrated++;

    printf("  class: %s%s -> ingressClassName %s\n",
           cls ? cls : "none",
           ing->class_name ? "" : cls ? " (annotation " KNGX_LEGACY_CLASS
                                        ")" : "", mg->to);

    kngx_migrate_keys(ing, row->n);
    kngx_migrate_regex_note(m, ing);

    bad = kngx_migrate_values(m, ing, &ann);
    if (bad < 0) {
        return -1;
    }

    for (i = 0; i < ing->meta.nannotations; i++) {
        if (strncmp(ing->meta.annotations[i].key, KNGX_ANN_PREFIX,
                    KNGX_ANN_PREFIX_LEN) == 0
            && (k = kngx_ann_key(ing->meta.annotations[i].key
                                 + KNGX_ANN_PREFIX_LEN))
            && k->status == KNGX_ANN_ACCESS)
        {
            closed = 1;
        }
    }

    if (closed) {
        mg->nclosed++;
        snprintf(row->result, sizeof(row->result),
                 "NOT SERVED: fails closed");
        printf("  => not served: access control kubengx does not "
               "implement (fails closed; --unsupported-annotations=ignore "
               "serves it without)\n\n");

    } else if (bad == 2) {
        mg->nrefused++;
        snprintf(row->result, sizeof(row->result),
                 "NOT SERVED: object missing");
        printf("  => not served: a Secret or ConfigMap its annotations "
               "name is not in the input (served once it exists)\n\n");

    } else if (bad) {
        mg->nrefused++;
        snprintf(row->result, sizeof(row->result), "NOT SERVED: bad value");
        printf("  => not served: a value kubengx refuses\n\n");

    } else {
        mg->nserved++;
        snprintf(row->result, sizeof(row->result), "served");
        printf("  => served%s\n\n", row->n[KNGX_ANN_UNSUPPORTED]
                                    + row->n[KNGX_ANN_SNIPPET]
                                    ? " (without the unsupported "
                                      "annotations)" : "");
    }

    return 0;
}


static void
kngx_migrate_summary(kngx_migrate_t *mg, const kngx_migrate_row_t *rows,
    size_t n)
{
    size_t  i;

    printf("Summary (class %s -> %s):\n"
           "%-40s %9s %9s %9s %11s  %s\n", mg->from, mg->to, "INGRESS",
           "HONOURED", "DIFFERENT", "ELSEWHERE", "UNSUPPORTED", "RESULT");

    for (i = 0; i < n; i++) {
        printf("%-40s %9zu %9zu %9zu %11zu  %s\n", rows[i].name,
               rows[i].n[KNGX_ANN_HONOURED], rows[i].n[KNGX_ANN_DIFFERENT],
               rows[i].n[KNGX_ANN_ELSEWHERE],
               rows[i].n[KNGX_ANN_UNSUPPORTED] + rows[i].n[KNGX_ANN_ACCESS]
               + rows[i].n[KNGX_ANN_SNIPPET], rows[i].result);
    }

    printf("\n%zu Ingress%s to move: %zu served, %zu fail closed, %zu "
           "refused for a bad value; %zu of other classes left alone\n",
           mg->nmigrated, mg->nmigrated == 1 ? "" : "es", mg->nserved,
           mg->nclosed, mg->nrefused, mg->nother);
}


static void
kngx_migrate_table(void)
{
    const kngx_ann_key_t  *k;
    size_t                 n, i;

    k = kngx_ann_keys(&n);

    for (i = 0; i < n; i++) {
        printf("| `%s` | %s | %s |\n", k[i].name,
               kngx_ann_status_name(k[i].status), k[i].note ? k[i].note : "");
    }
}


/* ---- --write ------------------------------------------------------------- */

static int
kngx_migrate_one_write(kngx_migrate_t *mg, json_t *obj)
{
    json_t      *md, *spec, *ann;
    const char  *kind, *ns, *name, *cls;
    char         fname[600], err[512], *text;
    int          rc;

    kind = json_string_value(json_object_get(obj, "kind"));
    md = json_object_get(obj, "metadata");
    spec = json_object_get(obj, "spec");

    if (kind == NULL || strcmp(kind, "Ingress") != 0 || !json_is_object(md)
        || !json_is_object(spec))
    {
        return 0;
    }

    ann = json_object_get(md, "annotations");
    cls = json_string_value(json_object_get(spec, "ingressClassName"));
    if (cls == NULL) {
        cls = json_string_value(json_object_get(ann, KNGX_LEGACY_CLASS));
    }

    if (cls && strcmp(cls, mg->from) != 0) {
        return 0;
    }

    ns = json_string_value(json_object_get(md, "namespace"));
    name = json_string_value(json_object_get(md, "name"));

    /* names the API server checked: DNS labels and subdomains, no "_" */
    if (name == NULL || strchr(name, '/') || strchr(name, '_')
        || (ns && (strchr(ns, '/') || strchr(ns, '_'))))
    {
        return 0;
    }

    json_object_set_new(spec, "ingressClassName", json_string(mg->to));

    if (json_is_object(ann)) {
        json_object_del(ann, KNGX_LEGACY_CLASS);
    }

    json_object_del(obj, "status");
    json_object_del(md, "uid");
    json_object_del(md, "resourceVersion");
    json_object_del(md, "generation");
    json_object_del(md, "creationTimestamp");
    json_object_del(md, "managedFields");
    json_object_del(md, "selfLink");

    snprintf(fname, sizeof(fname), "%s_%s.json", ns ? ns : "default", name);

    text = json_dumps(obj, JSON_INDENT(2));
    if (text == NULL) {
        return -1;
    }

    rc = kngx_output_write_file(mg->dir, fname, text, strlen(text), err,
                                sizeof(err));
    free(text);

    if (rc != 0) {
        fprintf(stderr, "kubengx migrate: %s\n", err);
        return -1;
    }

    printf("wrote %s/%s\n", mg->dir, fname);

    return 0;
}


static int
kngx_migrate_doc(void *ctx, unsigned doc, json_t *root, kngx_lines_t *lines)
{
    json_t  *items, *it;
    size_t   i;

    items = json_object_get(root, "items");

    if (json_is_array(items)) {
        json_array_foreach(items, i, it) {
            if (kngx_migrate_one_write(ctx, it) != 0) {
                return -1;
            }
        }
        return 0;
    }

    return kngx_migrate_one_write(ctx, root);
}


static int
kngx_migrate_write(kngx_migrate_t *mg, kngx_input_t *in, size_t n)
{
    char      err[512];
    unsigned  edoc, eline;
    size_t    i;

    for (i = 0; i < n; i++) {
        if (kngx_yaml_parse(in[i].data, in[i].len, kngx_migrate_doc, mg,
                            err, sizeof(err), &edoc, &eline) != 0)
        {
            return -1;
        }
    }

    return 0;
}


/* ---- main ---------------------------------------------------------------- */

static int
kngx_migrate_run(kngx_migrate_t *mg, kngx_input_t *in, size_t nin)
{
    kngx_model_t        *m;
    kngx_migrate_row_t  *rows;
    size_t               i;
    int                  rc = KNGX_MIGRATE_USAGE;

    m = kngx_model_create(NULL);
    if (m == NULL) {
        return KNGX_MIGRATE_USAGE;
    }

    for (i = 0; i < nin; i++) {
        if (kngx_model_load_buffer(m, in[i].name, in[i].data, in[i].len)
            != 0)
        {
            goto done;
        }
    }

    if (kngx_model_finish(m) != 0) {
        goto done;
    }

    for (i = 0; i < m->diags.n; i++) {
        if (m->diags.items[i].severity != KNGX_DIAG_INFO) {
            kngx_diag_print(stderr, &m->diags.items[i]);
        }
    }

    if (kngx_model_nerrors(m)) {
        fprintf(stderr, "kubengx migrate: the input has errors\n");
        goto done;
    }

    rows = calloc(m->ningresses + 1, sizeof(kngx_migrate_row_t));
    if (rows == NULL) {
        goto done;
    }

    for (i = 0; i < m->ningresses; i++) {
        if (kngx_migrate_ingress(mg, m, &m->ingresses[i], &rows[i]) != 0) {
            free(rows);
            goto done;
        }
    }

    kngx_migrate_summary(mg, rows, m->ningresses);
    free(rows);

    if (mg->dir && kngx_migrate_write(mg, in, nin) != 0) {
        goto done;
    }

    rc = mg->nclosed || mg->nrefused ? KNGX_MIGRATE_CLOSED : KNGX_MIGRATE_OK;

done:

    kngx_model_free(m);

    return rc;
}


int
kngx_migrate(const kngx_migrate_opts_t *o)
{
    kngx_migrate_t   mg;
    kngx_input_t    *in;
    size_t           i;
    int              rc = KNGX_MIGRATE_USAGE;

    if (o->table) {
        kngx_migrate_table();
        return KNGX_MIGRATE_OK;
    }

    if (o->nfiles == 0) {
        fprintf(stderr, "kubengx migrate: give the input with -f FILE|- "
                "(see kubengx migrate --help)\n");
        return KNGX_MIGRATE_USAGE;
    }

    memset(&mg, 0, sizeof(mg));
    mg.from = o->from_class;
    mg.to = o->class_name;
    mg.dir = o->dir;

    in = calloc(o->nfiles, sizeof(kngx_input_t));
    if (in == NULL) {
        fprintf(stderr, "kubengx migrate: out of memory\n");
        return KNGX_MIGRATE_USAGE;
    }

    for (i = 0; i < o->nfiles; i++) {
        in[i].name = o->files[i];

        if (kngx_migrate_read(&in[i]) != 0) {
            goto done;
        }
    }

    rc = kngx_migrate_run(&mg, in, o->nfiles);

done:

    for (i = 0; i < o->nfiles; i++) {
        free(in[i].data);
    }
    free(in);

    return rc;
}
