
/*
 * kubengx: the watcher's object caches in the k8s_zone (see
 * ngx_http_k8s_scache.h).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_table.h"
#include "ngx_http_k8s_scache.h"


static ngx_http_k8s_scache_t *ngx_http_k8s_scache_get(
    ngx_http_k8s_table_t *table, ngx_uint_t kind, ngx_uint_t create);
static void ngx_http_k8s_scache_remove_locked(ngx_http_k8s_table_t *table,
    ngx_http_k8s_scache_t *sc, ngx_str_node_t *node);
static void ngx_http_k8s_scache_clear_locked(ngx_http_k8s_table_t *table,
    ngx_http_k8s_scache_t *sc);
static int ngx_libc_cdecl ngx_http_k8s_scache_hash_cmp(const void *one,
    const void *two);


/* what the "why" of ngx_http_k8s_scache_usable() calls each cache */
static const char  *ngx_http_k8s_scache_why[][3] = {
    { "no slice cache in the zone (a new zone)",
      "the slice cache was left half-written",
      "the slice cache is incomplete" },
    { "no Service cache in the zone (a new zone)",
      "the Service cache was left half-written",
      "the Service cache is incomplete" },
};


uint64_t
ngx_http_k8s_scache_hash(u_char *data, size_t len)
{
    return ((uint64_t) ngx_crc32_long(data, len) << 32)
           | ngx_murmur_hash2(data, len);
}


/* a cache; the caches' header is created (zeroed: INCOMPLETE) on demand */

static ngx_http_k8s_scache_t *
ngx_http_k8s_scache_get(ngx_http_k8s_table_t *table, ngx_uint_t kind,
    ngx_uint_t create)
{
    ngx_uint_t               i;
    ngx_http_k8s_scaches_t  *scs;

    scs = table->sh->scache;

    if (scs != NULL || !create) {
        return scs ? &scs->cache[kind] : NULL;
    }

    ngx_shmtx_lock(&table->shpool->mutex);

    scs = ngx_slab_calloc_locked(table->shpool,
                                 sizeof(ngx_http_k8s_scaches_t));

    if (scs != NULL) {
        for (i = 0; i < NGX_HTTP_K8S_RES_N; i++) {
            ngx_rbtree_init(&scs->cache[i].rbtree, &scs->cache[i].sentinel,
                            ngx_str_rbtree_insert_value);
        }

        table->sh->scache = scs;
    }

    ngx_shmtx_unlock(&table->shpool->mutex);

    return scs ? &scs->cache[kind] : NULL;
}


ngx_int_t
ngx_http_k8s_scache_usable(ngx_http_k8s_table_t *table, ngx_uint_t kind,
    uint64_t *names, ngx_uint_t n, uint64_t server,
    ngx_http_k8s_scache_info_t *info, const char **why)
{
    ngx_uint_t              i;
    ngx_http_k8s_scache_t  *sc;

    sc = ngx_http_k8s_scache_get(table, kind, 0);

    if (sc == NULL) {
        *why = ngx_http_k8s_scache_why[kind][0];
        return NGX_DECLINED;
    }

    if (sc->writing) {
        *why = ngx_http_k8s_scache_why[kind][1];
        return NGX_DECLINED;
    }

    if (sc->state != NGX_HTTP_K8S_SCACHE_COMPLETE) {
        *why = ngx_http_k8s_scache_why[kind][2];
        return NGX_DECLINED;
    }

    if (sc->rv_len == 0 || sc->rv_len >= NGX_HTTP_K8S_RV_LEN) {
        *why = "no resourceVersion stored";
        return NGX_DECLINED;
    }

    if (sc->server != server) {
        *why = "the API server changed";
        return NGX_DECLINED;
    }

    for (i = 0; i < n; i++) {
        if (sc->names == NULL
            || bsearch(&names[i], sc->names, sc->nnames, sizeof(uint64_t),
                       ngx_http_k8s_scache_hash_cmp)
               == NULL)
        {
            *why = "a Service was not watched before";
            return NGX_DECLINED;
        }
    }

    ngx_memcpy(info->rv, sc->rv, sc->rv_len);
    info->rv[sc->rv_len] = '\0';
    info->nobjects = sc->nobjects;

    return NGX_OK;
}


ngx_int_t
ngx_http_k8s_scache_load(ngx_http_k8s_table_t *table, ngx_uint_t kind,
    ngx_http_k8s_scache_handler_pt handler, void *ctx)
{
    ngx_int_t                    rc;
    ngx_rbtree_node_t           *node, *next, *root, *sentinel;
    ngx_http_k8s_scache_t       *sc;
    ngx_http_k8s_scache_node_t  *sn;

    sc = ngx_http_k8s_scache_get(table, kind, 0);

    if (sc == NULL) {
        return NGX_ERROR;
    }

    root = sc->rbtree.root;
    sentinel = sc->rbtree.sentinel;

    if (root == sentinel) {
        return NGX_OK;
    }

    /* only the writer changes the tree, and the writer is the caller */

    for (node = ngx_rbtree_min(root, sentinel); node; node = next) {
        sn = (ngx_http_k8s_scache_node_t *) node;

        /* the delete relinks nodes but does not move them */
        next = ngx_rbtree_next(&sc->rbtree, node);

        rc = handler(ctx, &sn->service, &sn->json);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            ngx_shmtx_lock(&table->shpool->mutex);
            ngx_http_k8s_scache_remove_locked(table, sc, &sn->sn);
            ngx_shmtx_unlock(&table->shpool->mutex);
        }
    }

    return NGX_OK;
}


void
ngx_http_k8s_scache_begin(ngx_http_k8s_table_t *table, ngx_uint_t kind)
{
    ngx_http_k8s_scache_t  *sc;

    sc = ngx_http_k8s_scache_get(table, kind, 0);

    if (sc != NULL) {
        sc->writing = 1;
        ngx_memory_barrier();
    }
}


void
ngx_http_k8s_scache_end(ngx_http_k8s_table_t *table, ngx_uint_t kind,
    const char *rv)
{
    size_t                  len;
    ngx_http_k8s_scache_t  *sc;

    sc = ngx_http_k8s_scache_get(table, kind, 0);

    if (sc == NULL) {
        return;
    }

    if (rv != NULL) {
        len = ngx_strlen(rv);

        if (len > 0 && len < NGX_HTTP_K8S_RV_LEN) {
            ngx_memcpy(sc->rv, rv, len);
            sc->rv_len = len;

        } else if (len > 0) {
            /* cannot be stored: not resumable */
            sc->rv_len = 0;
        }
    }

    ngx_memory_barrier();
    sc->writing = 0;
}


ngx_int_t
ngx_http_k8s_scache_refill(ngx_http_k8s_table_t *table, ngx_uint_t kind,
    ngx_log_t *log)
{
    ngx_http_k8s_scache_t  *sc;

    sc = ngx_http_k8s_scache_get(table, kind, 1);

    if (sc == NULL) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "k8s_zone \"%V\" is full: no EndpointSlice or "
                      "Service cache, the next watcher start relists",
                      &table->name);
        return NGX_ERROR;
    }

    sc->writing = 1;
    ngx_memory_barrier();

    ngx_shmtx_lock(&table->shpool->mutex);
    ngx_http_k8s_scache_clear_locked(table, sc);
    ngx_shmtx_unlock(&table->shpool->mutex);

    sc->state = NGX_HTTP_K8S_SCACHE_FILLING;

    return NGX_OK;
}


ngx_int_t
ngx_http_k8s_scache_commit(ngx_http_k8s_table_t *table, ngx_uint_t kind,
    uint64_t *names, ngx_uint_t n, uint64_t server, ngx_log_t *log)
{
    uint64_t               *set, *old;
    ngx_http_k8s_scache_t  *sc;

    sc = ngx_http_k8s_scache_get(table, kind, 0);

    if (sc == NULL || sc->state == NGX_HTTP_K8S_SCACHE_INCOMPLETE) {
        return NGX_ERROR;
    }

    set = NULL;

    ngx_shmtx_lock(&table->shpool->mutex);

    if (n) {
        set = ngx_slab_alloc_locked(table->shpool, n * sizeof(uint64_t));
    }

    ngx_shmtx_unlock(&table->shpool->mutex);

    if (n && set == NULL) {
        (void) ngx_http_k8s_scache_drop(table, log,
                                        "no room for its Service set");
        return NGX_ERROR;
    }

    if (n) {
        ngx_memcpy(set, names, n * sizeof(uint64_t));
        ngx_qsort(set, n, sizeof(uint64_t), ngx_http_k8s_scache_hash_cmp);
    }

    old = sc->names;
    sc->names = set;
    sc->nnames = n;
    sc->server = server;
    sc->state = NGX_HTTP_K8S_SCACHE_COMPLETE;

    if (old) {
        ngx_shmtx_lock(&table->shpool->mutex);
        ngx_slab_free_locked(table->shpool, old);
        ngx_shmtx_unlock(&table->shpool->mutex);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_k8s_scache_put(ngx_http_k8s_table_t *table, ngx_uint_t kind,
    const char *ns, const char *name, const char *service_name,
    const char *json, size_t len, ngx_log_t *log)
{
    u_char                      *p;
    size_t                       klen, slen, nlen, size;
    uint32_t                     hash;
    ngx_str_t                    key;
    ngx_str_node_t              *old;
    ngx_http_k8s_scache_t       *sc;
    ngx_http_k8s_scache_node_t  *sn;

    sc = ngx_http_k8s_scache_get(table, kind, 0);

    if (sc == NULL || sc->state == NGX_HTTP_K8S_SCACHE_INCOMPLETE) {
        return NGX_OK;
    }

    /* lay the node out before taking the lock */

    nlen = ngx_strlen(ns);
    klen = nlen + 1 + ngx_strlen(name);
    slen = nlen + 1 + ngx_strlen(service_name);
    size = sizeof(ngx_http_k8s_scache_node_t) + klen + slen + len;

    ngx_shmtx_lock(&table->shpool->mutex);
    sn = ngx_slab_alloc_locked(table->shpool, size);
    ngx_shmtx_unlock(&table->shpool->mutex);

    if (sn == NULL) {
        (void) ngx_http_k8s_scache_drop(table, log, "the zone is full");
        return NGX_ERROR;
    }

    ngx_memzero(sn, sizeof(ngx_http_k8s_scache_node_t));

    p = (u_char *) sn + sizeof(ngx_http_k8s_scache_node_t);

    sn->sn.str.data = p;
    sn->sn.str.len = klen;
    p = ngx_sprintf(p, "%s/%s", ns, name);

    sn->service.data = p;
    sn->service.len = slen;
    p = ngx_sprintf(p, "%s/%s", ns, service_name);

    sn->json.data = p;
    sn->json.len = len;
    ngx_memcpy(p, json, len);

    hash = ngx_crc32_long(sn->sn.str.data, klen);
    sn->sn.node.key = hash;

    key = sn->sn.str;

    /* swap it in */

    ngx_shmtx_lock(&table->shpool->mutex);

    old = ngx_str_rbtree_lookup(&sc->rbtree, &key, hash);

    if (old != NULL) {
        ngx_http_k8s_scache_remove_locked(table, sc, old);
    }

    ngx_rbtree_insert(&sc->rbtree, &sn->sn.node);
    sc->nobjects++;
    sc->bytes += size;

    ngx_shmtx_unlock(&table->shpool->mutex);

    return NGX_OK;
}


void
ngx_http_k8s_scache_delete(ngx_http_k8s_table_t *table, ngx_uint_t kind,
    const char *ns, const char *name)
{
    u_char                  buf[512];
    uint32_t                hash;
    ngx_str_t               key;
    ngx_str_node_t         *old;
    ngx_http_k8s_scache_t  *sc;

    sc = ngx_http_k8s_scache_get(table, kind, 0);

    if (sc == NULL || sc->state == NGX_HTTP_K8S_SCACHE_INCOMPLETE) {
        return;
    }

    /* namespace (63) and object name (253) always fit */

    key.data = buf;
    key.len = ngx_snprintf(buf, sizeof(buf), "%s/%s", ns, name) - buf;

    hash = ngx_crc32_long(key.data, key.len);

    ngx_shmtx_lock(&table->shpool->mutex);

    old = ngx_str_rbtree_lookup(&sc->rbtree, &key, hash);

    if (old != NULL) {
        ngx_http_k8s_scache_remove_locked(table, sc, old);
    }

    ngx_shmtx_unlock(&table->shpool->mutex);
}


ngx_uint_t
ngx_http_k8s_scache_drop(ngx_http_k8s_table_t *table, ngx_log_t *log,
    const char *reason)
{
    size_t                  bytes;
    ngx_uint_t              had, was, kind;
    ngx_http_k8s_scache_t  *sc;

    had = 0;
    was = 0;
    bytes = 0;

    for (kind = 0; kind < NGX_HTTP_K8S_RES_N; kind++) {
        sc = ngx_http_k8s_scache_get(table, kind, 0);

        if (sc == NULL) {
            return 0;
        }

        had |= (sc->rbtree.root != sc->rbtree.sentinel || sc->names != NULL);
        was |= (sc->state != NGX_HTTP_K8S_SCACHE_INCOMPLETE);
        bytes += sc->bytes;

        sc->state = NGX_HTTP_K8S_SCACHE_INCOMPLETE;

        ngx_shmtx_lock(&table->shpool->mutex);

        ngx_http_k8s_scache_clear_locked(table, sc);

        if (sc->names) {
            ngx_slab_free_locked(table->shpool, sc->names);
            sc->names = NULL;
            sc->nnames = 0;
        }

        ngx_shmtx_unlock(&table->shpool->mutex);
    }

    if (had || was) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "k8s_zone \"%V\": EndpointSlice cache dropped with "
                      "the Service cache (%s, %uz bytes freed); the next "
                      "watcher start relists",
                      &table->name, reason, bytes);
    }

    return had;
}


static void
ngx_http_k8s_scache_remove_locked(ngx_http_k8s_table_t *table,
    ngx_http_k8s_scache_t *sc, ngx_str_node_t *node)
{
    ngx_http_k8s_scache_node_t  *sn;

    sn = (ngx_http_k8s_scache_node_t *) node;

    ngx_rbtree_delete(&sc->rbtree, &node->node);
    sc->nobjects--;
    sc->bytes -= sizeof(ngx_http_k8s_scache_node_t) + node->str.len
                 + sn->service.len + sn->json.len;
    ngx_slab_free_locked(table->shpool, sn);
}


static void
ngx_http_k8s_scache_clear_locked(ngx_http_k8s_table_t *table,
    ngx_http_k8s_scache_t *sc)
{
    ngx_rbtree_node_t  *node;

    while (sc->rbtree.root != sc->rbtree.sentinel) {
        node = ngx_rbtree_min(sc->rbtree.root, sc->rbtree.sentinel);
        ngx_rbtree_delete(&sc->rbtree, node);
        ngx_slab_free_locked(table->shpool, node);
    }

    sc->nobjects = 0;
    sc->bytes = 0;
}


static int ngx_libc_cdecl
ngx_http_k8s_scache_hash_cmp(const void *one, const void *two)
{
    uint64_t  a, b;

    a = *(const uint64_t *) one;
    b = *(const uint64_t *) two;

    return (a < b) ? -1 : (a > b);
}
