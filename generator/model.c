
/*
 * kubengx generator: the model's life cycle (create, push, finish, free),
 * the input digest and the lookups.
 *
 * Digest: every kept object is serialised canonically (jansson, sorted
 * keys, compact) and prefixed with "kind\x1f ns\x1f name\x1f" (the
 * namespace with the default applied); the texts are sorted and hashed with
 * SHA-256.  So the same objects in any order, split over any files, give
 * the same digest, and so the same output bytes.
 */

#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "load.h"


typedef struct {
    const char  *text;      /* "kind\x1f" "ns\x1f" "name\x1f" json, in
                               canon_arena */
    size_t       keylen;    /* length of the "kind ns name" prefix */
    size_t       len;
} kngx_canon_t;


kngx_model_t *
kngx_model_create(const char *default_ns)
{
    kngx_model_t  *m;

    m = calloc(1, sizeof(kngx_model_t));
    if (m == NULL) {
        return NULL;
    }

    m->arena = kube_arena_create(NULL, 64 * 1024);
    if (m->arena == NULL) {
        free(m);
        return NULL;
    }

    m->canon_arena = kube_arena_create(NULL, 1024 * 1024);
    m->default_ns = kube_arena_strdup(m->arena,
                                      default_ns ? default_ns : "default");
    if (m->default_ns == NULL || m->canon_arena == NULL) {
        kube_arena_destroy(m->canon_arena);
        kube_arena_destroy(m->arena);
        free(m);
        return NULL;
    }

    return m;
}


kngx_model_t *
kngx_model_load_paths(const char *default_ns, const char *const *paths,
    size_t n)
{
    size_t         i;
    kngx_model_t  *m;

    m = kngx_model_create(default_ns);
    if (m == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        if (kngx_model_load_path(m, paths[i]) != 0) {
            kngx_model_free(m);
            return NULL;
        }
    }

    if (kngx_model_finish(m) != 0) {
        kngx_model_free(m);
        return NULL;
    }

    return m;
}


void
kngx_model_free(kngx_model_t *m)
{
    if (m == NULL) {
        return;
    }

    free(m->canon);
    free(m->scratch);
    kube_arena_destroy(m->canon_arena);
    free(m->ingresses);
    free(m->services);
    free(m->classes);
    free(m->secrets);
    free(m->slices);
    kngx_diags_free(&m->diags);
    kube_arena_destroy(m->arena);
    free(m);
}


int
kngx_model_push(kngx_model_t *m, int idx, const void *obj, size_t size)
{
    void    **arr;
    size_t   *n, cap;
    void     *p;

    switch (idx) {
    case 0:  arr = (void **) &m->ingresses; n = &m->ningresses; break;
    case 1:  arr = (void **) &m->services;  n = &m->nservices;  break;
    case 2:  arr = (void **) &m->classes;   n = &m->nclasses;   break;
    case 3:  arr = (void **) &m->secrets;   n = &m->nsecrets;   break;
    default: arr = (void **) &m->slices;    n = &m->nslices;    break;
    }

    if (*n == m->caps[idx]) {
        cap = m->caps[idx] ? m->caps[idx] * 2 : 16;
        p = realloc(*arr, cap * size);
        if (p == NULL) {
            return -1;
        }
        *arr = p;
        m->caps[idx] = cap;
    }

    memcpy((char *) *arr + *n * size, obj, size);
    (*n)++;
    m->nobjects++;

    return 0;
}


/* json_dump_callback() output, appended to m->scratch */
static int
kngx_canon_write(const char *buf, size_t size, void *data)
{
    kngx_model_t  *m = data;
    size_t         cap;
    char          *p;

    if (m->scratch_len + size + 1 > m->scratch_cap) {
        cap = m->scratch_cap ? m->scratch_cap : 4096;
        while (cap < m->scratch_len + size + 1) {
            cap *= 2;
        }

        p = realloc(m->scratch, cap);
        if (p == NULL) {
            return -1;
        }

        m->scratch = p;
        m->scratch_cap = cap;
    }

    memcpy(m->scratch + m->scratch_len, buf, size);
    m->scratch_len += size;

    return 0;
}


int
kngx_model_canon_add(kngx_model_t *m, const char *kind, const char *ns,
    const char *name, json_t *obj)
{
    kngx_canon_t  *c;
    char          *text;
    size_t         cap, klen;

    if (m->ncanon == m->canon_cap) {
        cap = m->canon_cap ? m->canon_cap * 2 : 64;
        c = realloc(m->canon, cap * sizeof(kngx_canon_t));
        if (c == NULL) {
            return -1;
        }
        m->canon = c;
        m->canon_cap = cap;
    }

    /*
     * The namespace (with the default applied) is in the key prefix; the
     * object as json_dumps() would write it (the same flags), without
     * the copy json_dumps() makes.
     */

    m->scratch_len = 0;
    klen = strlen(kind) + strlen(ns) + strlen(name) + 3;

    if (kngx_canon_write(kind, strlen(kind), m) != 0
        || kngx_canon_write("\x1f", 1, m) != 0
        || kngx_canon_write(ns, strlen(ns), m) != 0
        || kngx_canon_write("\x1f", 1, m) != 0
        || kngx_canon_write(name, strlen(name), m) != 0
        || kngx_canon_write("\x1f", 1, m) != 0
        || json_dump_callback(obj, kngx_canon_write, m, JSON_SORT_KEYS
                              | JSON_COMPACT | JSON_ENCODE_ANY) != 0)
    {
        return -1;
    }

    text = kube_arena_strndup(m->canon_arena, m->scratch, m->scratch_len);
    if (text == NULL) {
        return -1;
    }

    c = &((kngx_canon_t *) m->canon)[m->ncanon];
    c->text = text;
    c->keylen = klen;
    c->len = m->scratch_len;
    m->ncanon++;

    return 0;
}


static int
kngx_canon_cmp(const void *a, const void *b)
{
    const kngx_canon_t  *x = a, *y = b;

    return strcmp(x->text, y->text);
}


#define KNGX_META_CMP(type)                                                   \
static int                                                                    \
kngx_cmp_##type(const void *a, const void *b)                                 \
{                                                                             \
    const kngx_meta_t  *x = &((const type *) a)->meta;                        \
    const kngx_meta_t  *y = &((const type *) b)->meta;                        \
    int                 rc = strcmp(x->ns, y->ns);                            \
                                                                              \
    return rc ? rc : strcmp(x->name, y->name);                                \
}

KNGX_META_CMP(kngx_ingress_t)
KNGX_META_CMP(kngx_service_t)
KNGX_META_CMP(kngx_ingress_class_t)
KNGX_META_CMP(kngx_secret_t)
KNGX_META_CMP(kngx_slice_t)


/* same kind/ns/name twice: an error naming both places */
static int
kngx_model_dups(kngx_model_t *m, void *arr, size_t n, size_t size)
{
    const kngx_meta_t  *a, *b;
    size_t              i;

    for (i = 1; i < n; i++) {
        a = (const kngx_meta_t *) ((char *) arr + (i - 1) * size);
        b = (const kngx_meta_t *) ((char *) arr + i * size);

        if (strcmp(a->ns, b->ns) == 0 && strcmp(a->name, b->name) == 0) {
            char  obj[320];

            snprintf(obj, sizeof(obj), "%s%s%s", b->ns, b->ns[0] ? "/" : "",
                     b->name);

            if (kngx_diag_add(&m->diags, m->arena, KNGX_DIAG_ERROR, &b->src,
                              0, obj, NULL, "duplicate",
                              "%s defined twice (also in %s:%u)", b->kind,
                              a->src.file, a->src.doc) != 0)
            {
                return -1;
            }
        }
    }

    return 0;
}


/* slices by (namespace, service-name label): the endpoints of a Service
 * are found by binary search instead of a scan of every slice */

static int
kngx_slice_service_cmp(const void *a, const void *b)
{
    const kngx_slice_t  *x = *(const kngx_slice_t *const *) a;
    const kngx_slice_t  *y = *(const kngx_slice_t *const *) b;
    int                  rc;

    rc = strcmp(x->meta.ns, y->meta.ns);
    if (rc == 0) {
        rc = strcmp(x->service_name, y->service_name);
    }
    if (rc == 0) {
        rc = strcmp(x->meta.name, y->meta.name);
    }

    return rc;
}


static int
kngx_model_index_slices(kngx_model_t *m)
{
    size_t  i, n = 0;

    if (m->nslices == 0) {
        return 0;
    }

    m->by_service = kube_arena_alloc(m->arena,
                                     m->nslices * sizeof(kngx_slice_t *));
    if (m->by_service == NULL) {
        return -1;
    }

    for (i = 0; i < m->nslices; i++) {
        if (m->slices[i].service_name != NULL) {
            m->by_service[n++] = &m->slices[i];
        }
    }

    qsort(m->by_service, n, sizeof(kngx_slice_t *), kngx_slice_service_cmp);
    m->nby_service = n;

    return 0;
}


int
kngx_model_finish(kngx_model_t *m)
{
    kngx_canon_t   *c = m->canon;
    char            buf[64];
    size_t          i;
    kngx_sha256_t   sha;

    if (m->ningresses > 1) {
        qsort(m->ingresses, m->ningresses, sizeof(kngx_ingress_t),
              kngx_cmp_kngx_ingress_t);
    }
    if (m->nservices > 1) {
        qsort(m->services, m->nservices, sizeof(kngx_service_t),
              kngx_cmp_kngx_service_t);
    }
    if (m->nclasses > 1) {
        qsort(m->classes, m->nclasses, sizeof(kngx_ingress_class_t),
              kngx_cmp_kngx_ingress_class_t);
    }
    if (m->nsecrets > 1) {
        qsort(m->secrets, m->nsecrets, sizeof(kngx_secret_t),
              kngx_cmp_kngx_secret_t);
    }
    if (m->nslices > 1) {
        qsort(m->slices, m->nslices, sizeof(kngx_slice_t),
              kngx_cmp_kngx_slice_t);
    }

    if (kngx_model_dups(m, m->ingresses, m->ningresses,
                        sizeof(kngx_ingress_t)) != 0
        || kngx_model_dups(m, m->services, m->nservices,
                           sizeof(kngx_service_t)) != 0
        || kngx_model_dups(m, m->classes, m->nclasses,
                           sizeof(kngx_ingress_class_t)) != 0
        || kngx_model_dups(m, m->secrets, m->nsecrets,
                           sizeof(kngx_secret_t)) != 0
        || kngx_model_dups(m, m->slices, m->nslices,
                           sizeof(kngx_slice_t)) != 0)
    {
        return -1;
    }

    if (kngx_model_index_slices(m) != 0) {
        return -1;
    }

    if (m->ncanon > 1) {
        qsort(c, m->ncanon, sizeof(kngx_canon_t), kngx_canon_cmp);
    }

    /* the input digest: SHA-256 over the sorted canonical objects */

    if (kngx_sha256_init(&sha) != 0) {
        return -1;
    }

    snprintf(buf, sizeof(buf), "kubengx-input-v1 %zu\n", m->ncanon);
    kngx_sha256_update(&sha, buf, strlen(buf));

    for (i = 0; i < m->ncanon; i++) {
        kngx_sha256_update(&sha, c[i].text, c[i].len);
        kngx_sha256_update(&sha, "\n", 1);
    }

    kngx_sha256_final(&sha, m->digest);

    for (i = 0; i < 32; i++) {
        snprintf(m->digest_hex + i * 2, 3, "%02x", m->digest[i]);
    }

    kngx_diags_sort(&m->diags);

    return 0;
}


size_t
kngx_model_nerrors(const kngx_model_t *m)
{
    size_t  i, n = 0;

    for (i = 0; i < m->diags.n; i++) {
        if (m->diags.items[i].severity == KNGX_DIAG_ERROR) {
            n++;
        }
    }

    return n;
}


/* ---- lookups ------------------------------------------------------------- */

static const void *
kngx_model_find(const void *arr, size_t n, size_t size, const char *ns,
    const char *name)
{
    size_t              lo = 0, hi = n, mid;
    const kngx_meta_t  *meta;
    int                 rc;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        meta = (const kngx_meta_t *) ((const char *) arr + mid * size);

        rc = strcmp(meta->ns, ns);
        if (rc == 0) {
            rc = strcmp(meta->name, name);
        }

        if (rc == 0) {
            return meta;
        }

        if (rc < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }

    return NULL;
}


const kngx_service_t *
kngx_model_service(const kngx_model_t *m, const char *ns, const char *name)
{
    return kngx_model_find(m->services, m->nservices, sizeof(kngx_service_t),
                           ns, name);
}


const kngx_secret_t *
kngx_model_secret(const kngx_model_t *m, const char *ns, const char *name)
{
    return kngx_model_find(m->secrets, m->nsecrets, sizeof(kngx_secret_t),
                           ns, name);
}


const kngx_ingress_class_t *
kngx_model_class(const kngx_model_t *m, const char *name)
{
    return kngx_model_find(m->classes, m->nclasses,
                           sizeof(kngx_ingress_class_t), "", name);
}


const kngx_service_port_t *
kngx_service_find_port(const kngx_service_t *svc, const kngx_backend_t *be)
{
    size_t  i;

    for (i = 0; i < svc->nports; i++) {
        if (be->port_name) {
            if (strcmp(svc->ports[i].name, be->port_name) == 0) {
                return &svc->ports[i];
            }

        } else if (svc->ports[i].port == be->port_number) {
            return &svc->ports[i];
        }
    }

    return NULL;
}


static const char *
kngx_kv_find(const kngx_kv_t *kv, size_t n, const char *key)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (strcmp(kv[i].key, key) == 0) {
            return kv[i].value;
        }
    }

    return NULL;
}


const char *
kngx_meta_label(const kngx_meta_t *meta, const char *key)
{
    return kngx_kv_find(meta->labels, meta->nlabels, key);
}


const char *
kngx_meta_annotation(const kngx_meta_t *meta, const char *key)
{
    return kngx_kv_find(meta->annotations, meta->nannotations, key);
}


const char *
kngx_path_type_name(kngx_path_type_e t)
{
    switch (t) {
    case KNGX_PATH_EXACT:
        return "Exact";
    case KNGX_PATH_PREFIX:
        return "Prefix";
    default:
        return "ImplementationSpecific";
    }
}
