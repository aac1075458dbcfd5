
/*
 * kubengx generator: reading manifest files, directories and stdin.
 *
 * - a directory is walked recursively; files ending in .yaml, .yml or
 *   .json are read in byte order of their paths (hidden entries, names
 *   starting with ".", are skipped: editors' and Kubernetes' ..data
 *   links);
 * - text starting with "{" or "[" that jansson parses is JSON; anything
 *   else goes through libyaml (which also reads JSON, and YAML flow style);
 * - a document whose kind is "List" or ends in "List" with an "items"
 *   list (kubectl get -o json|yaml) is flattened: each item is an object
 *   whose source is FILE:DOC with item index;
 * - documents that are empty or null are skipped.
 */

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "load.h"
#include "escape.h"


#define KNGX_MAX_INPUT  (256 * 1024 * 1024)


typedef struct {
    kngx_model_t  *m;
    const char    *file;
} kngx_load_ctx_t;


/*
 * While a file is parsed and decoded, jansson allocates from one arena
 * (json_set_alloc_funcs()), and the file's trees are dropped with it
 * instead of by json_decref(): a tree is thousands of small blocks, and
 * malloc() and free() of each, and the walk of json_decref(), cost about
 * as much as parsing the text.  Nothing decoded points into a tree
 * (decode.c copies into the model's arena).  The CLI runs one thread.
 */

#define KNGX_JSON_ARENA_CHUNK  (1024 * 1024)

static kube_arena_t  *kngx_json_arena;


static void *
kngx_json_alloc(size_t size)
{
    return kube_arena_alloc(kngx_json_arena, size);
}


static void
kngx_json_free(void *p)
{
    /* the arena releases everything at once */
}


static int kngx_load_error(kngx_model_t *m, const char *file, unsigned doc,
    unsigned line, const char *fmt, ...) KNGX_PRINTF(5, 6);


static int
kngx_load_error(kngx_model_t *m, const char *file, unsigned doc,
    unsigned line, const char *fmt, ...)
{
    kngx_source_t  src;
    char           buf[512];
    va_list        ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);

    memset(&src, 0, sizeof(src));
    src.file = file;
    src.doc = doc;

    return kngx_diag_add(&m->diags, m->arena, KNGX_DIAG_ERROR,
                         file ? &src : NULL, line, NULL, NULL, "bad-input",
                         "%s", buf);
}


static int
kngx_load_doc(void *data, unsigned doc, json_t *root, kngx_lines_t *lines)
{
    kngx_load_ctx_t  *ctx = data;
    kngx_model_t     *m = ctx->m;
    kngx_source_t     src;
    json_t           *kind, *items, *item;
    const char       *k;
    size_t            i, klen;

    memset(&src, 0, sizeof(src));
    src.file = ctx->file;
    src.doc = doc;
    src.line = kngx_lines_get(lines, root);

    m->ndocs++;

    kind = json_object_get(root, "kind");
    items = json_object_get(root, "items");
    k = json_string_value(kind);
    klen = k ? strlen(k) : 0;

    if (k && klen >= 4 && strcmp(k + klen - 4, "List") == 0
        && json_is_array(items))
    {
        json_array_foreach(items, i, item) {
            src.item = (unsigned) i + 1;
            src.line = kngx_lines_get(lines, item);

            if (kngx_decode_object(m, &src, item, lines) != 0) {
                return -1;
            }
        }

        return 0;
    }

    if (k && strcmp(k, "List") == 0) {
        return kngx_diag_add(&m->diags, m->arena, KNGX_DIAG_ERROR, &src,
                             src.line, NULL, "items", "bad-input",
                             "a List needs an items list");
    }

    return kngx_decode_object(m, &src, root, lines) != 0 ? -1 : 0;
}


static int
kngx_load_text(kngx_load_ctx_t *ctx, const char *data, size_t len)
{
    kngx_model_t  *m = ctx->m;
    json_t        *root, *item;
    json_error_t   jerr;
    char           err[512];
    unsigned       err_doc = 0, err_line = 0;
    size_t         i;
    int            rc;

    for (i = 0; i < len; i++) {
        if (data[i] != ' ' && data[i] != '\t' && data[i] != '\n'
            && data[i] != '\r')
        {
            break;
        }
    }

    if (i < len && (data[i] == '{' || data[i] == '[')) {
        root = json_loadb(data, len, JSON_REJECT_DUPLICATES
                          | JSON_ALLOW_NUL, &jerr);
        if (root) {
            if (!json_is_array(root)) {
                return kngx_load_doc(ctx, 1, root, NULL);
            }

            /* a JSON array of objects: each is a document */

            json_array_foreach(root, i, item) {
                rc = kngx_load_doc(ctx, (unsigned) i + 1, item, NULL);
                if (rc != 0) {
                    return rc;
                }
            }

            return 0;
        }

        /* not JSON: YAML flow style, multi-document, ...: libyaml */
    }

    rc = kngx_yaml_parse(data, len, kngx_load_doc, ctx, err, sizeof(err),
                         &err_doc, &err_line);

    if (rc == -2) {
        return -1;
    }

    if (rc == -1) {
        if (strcmp(err, "out of memory") == 0) {
            return -1;
        }

        return kngx_load_error(m, ctx->file, err_doc, err_line, "%s", err);
    }

    return 0;
}


int
kngx_model_load_buffer(kngx_model_t *m, const char *name, const char *data,
    size_t len)
{
    kngx_load_ctx_t      ctx;
    json_malloc_t        saved_alloc;
    json_free_t          saved_free;
    int                  rc;

    ctx.m = m;
    ctx.file = kube_arena_strdup(m->arena, name);
    if (ctx.file == NULL) {
        return -1;
    }

    m->nfiles++;

    kngx_json_arena = kube_arena_create(NULL, KNGX_JSON_ARENA_CHUNK);
    if (kngx_json_arena == NULL) {
        return -1;
    }

    json_get_alloc_funcs(&saved_alloc, &saved_free);
    json_set_alloc_funcs(kngx_json_alloc, kngx_json_free);

    rc = kngx_load_text(&ctx, data, len);

    json_set_alloc_funcs(saved_alloc, saved_free);
    kube_arena_destroy(kngx_json_arena);
    kngx_json_arena = NULL;

    return rc;
}


static int
kngx_load_fd(kngx_model_t *m, const char *name, FILE *f)
{
    char    *buf, *p;
    size_t   len = 0, cap = 64 * 1024, n;
    int      rc;

    buf = malloc(cap);
    if (buf == NULL) {
        return -1;
    }

    for ( ;; ) {
        if (len == cap) {
            if (cap >= KNGX_MAX_INPUT) {
                free(buf);
                return kngx_load_error(m, name, 0, 0, "%s",
                                       "input larger than 256 MiB");
            }
            cap *= 2;
            p = realloc(buf, cap);
            if (p == NULL) {
                free(buf);
                return -1;
            }
            buf = p;
        }

        n = fread(buf + len, 1, cap - len, f);
        len += n;

        if (n == 0) {
            break;
        }
    }

    if (ferror(f)) {
        free(buf);
        return kngx_load_error(m, name, 0, 0, "read error: %s",
                               strerror(errno));
    }

    rc = kngx_model_load_buffer(m, name, buf, len);
    free(buf);

    return rc;
}


static int
kngx_load_file(kngx_model_t *m, const char *path)
{
    FILE  *f;
    int    rc;

    f = fopen(path, "rb");
    if (f == NULL) {
        return kngx_load_error(m, path, 0, 0, "cannot open: %s",
                               strerror(errno));
    }

    rc = kngx_load_fd(m, path, f);
    fclose(f);

    return rc;
}


static int
kngx_has_ext(const char *name)
{
    size_t  len = strlen(name);

    return (len > 5 && strcmp(name + len - 5, ".yaml") == 0)
           || (len > 4 && strcmp(name + len - 4, ".yml") == 0)
           || (len > 5 && strcmp(name + len - 5, ".json") == 0);
}


static int
kngx_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}


static int
kngx_load_dir(kngx_model_t *m, const char *path, int depth)
{
    DIR            *dir;
    struct dirent  *de;
    struct stat     st;
    char          **names = NULL, **p, *full;
    size_t          n = 0, cap = 0, i, len;
    int             rc = 0;

    if (depth > 32) {
        return kngx_load_error(m, path, 0, 0, "%s",
                               "directories nested too deep");
    }

    dir = opendir(path);
    if (dir == NULL) {
        return kngx_load_error(m, path, 0, 0, "cannot open: %s",
                               strerror(errno));
    }

    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }

        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            p = realloc(names, cap * sizeof(char *));
            if (p == NULL) {
                rc = -1;
                goto done;
            }
            names = p;
        }

        names[n] = strdup(de->d_name);
        if (names[n] == NULL) {
            rc = -1;
            goto done;
        }
        n++;
    }

    if (n > 1) {
        qsort(names, n, sizeof(char *), kngx_name_cmp);
    }

    for (i = 0; i < n && rc == 0; i++) {
        len = strlen(path) + strlen(names[i]) + 2;
        full = malloc(len);
        if (full == NULL) {
            rc = -1;
            break;
        }

        snprintf(full, len, "%s%s%s", path,
                 path[strlen(path) - 1] == '/' ? "" : "/", names[i]);

        if (stat(full, &st) != 0) {
            rc = kngx_load_error(m, full, 0, 0, "cannot stat: %s",
                                 strerror(errno));

        } else if (S_ISDIR(st.st_mode)) {
            rc = kngx_load_dir(m, full, depth + 1);

        } else if (S_ISREG(st.st_mode) && kngx_has_ext(names[i])) {
            rc = kngx_load_file(m, full);
        }

        free(full);
    }

done:

    for (i = 0; i < n; i++) {
        free(names[i]);
    }

    free(names);
    closedir(dir);

    return rc;
}


int
kngx_model_load_path(kngx_model_t *m, const char *path)
{
    struct stat  st;

    if (strcmp(path, "-") == 0) {
        return kngx_load_fd(m, "-", stdin);
    }

    if (stat(path, &st) != 0) {
        return kngx_load_error(m, path, 0, 0, "cannot open: %s",
                               strerror(errno));
    }

    if (S_ISDIR(st.st_mode)) {
        return kngx_load_dir(m, path, 0);
    }

    return kngx_load_file(m, path);
}
