
/*
 * kubengx: the watcher's EndpointSlice cache in the k8s_zone (see
 * ngx_http_k8s_slices.h).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <jansson.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_table.h"
#include "ngx_http_k8s_slices.h"


static ngx_http_k8s_scache_t *ngx_http_k8s_scache_get(
    ngx_http_k8s_table_t *table, ngx_uint_t create);
static void ngx_http_k8s_scache_clear_locked(ngx_http_k8s_table_t *table,
    ngx_http_k8s_scache_t *sc);
static char *ngx_http_k8s_scache_encode(const kube_endpointslice_t *es,
    size_t *len);
static int ngx_http_k8s_scache_set_str(json_t *obj, const char *key,
    const char *value);
static int ngx_libc_cdecl ngx_http_k8s_scache_hash_cmp(const void *one,
    const void *two);


uint64_t
ngx_http_k8s_scache_hash(u_char *data, size_t len)
{
    return ((uint64_t) ngx_crc32_long(data, len) << 32)
           | ngx_murmur_hash2(data, len);
}


/* the cache header; created (zeroed: INCOMPLETE) by the writer */

static ngx_http_k8s_scache_t *
ngx_http_k8s_scache_get(ngx_http_k8s_table_t *table, ngx_uint_t create)
{
    ngx_http_k8s_scache_t  *sc;

    sc = table->sh->scache;

    if (sc != NULL || !create) {
        return sc;
    }

    ngx_shmtx_lock(&table->shpool->mutex);

    sc = ngx_slab_calloc_locked(table->shpool, sizeof(ngx_http_k8s_scache_t));

    if (sc != NULL) {
        ngx_rbtree_init(&sc->rbtree, &sc->sentinel,
                        ngx_str_rbtree_insert_value);
        table->sh->scache = sc;
    }

    ngx_shmtx_unlock(&table->shpool->mutex);

    return sc;
}


ngx_int_t
ngx_http_k8s_scache_usable(ngx_http_k8s_table_t *table, uint64_t *names,
    ngx_uint_t n, uint64_t server, ngx_http_k8s_scache_info_t *info,
    const char **why)
{
    ngx_uint_t              i;
    ngx_http_k8s_scache_t  *sc;

    sc = ngx_http_k8s_scache_get(table, 0);

    if (sc == NULL) {
        *why = "no slice cache in the zone (a new zone)";
        return NGX_DECLINED;
    }

    if (sc->writing) {
        *why = "the slice cache was left half-written";
        return NGX_DECLINED;
    }

    if (sc->state != NGX_HTTP_K8S_SCACHE_COMPLETE) {
        *why = "the slice cache is incomplete";
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
    info->nslices = sc->nslices;

    return NGX_OK;
}


ngx_int_t
ngx_http_k8s_scache_load(ngx_http_k8s_table_t *table,
    ngx_http_k8s_scache_handler_pt handler, void *ctx)
{
    ngx_int_t                    rc;
    ngx_rbtree_node_t           *node, *next, *root, *sentinel;
    ngx_http_k8s_scache_t       *sc;
    ngx_http_k8s_scache_node_t  *sn;

    sc = ngx_http_k8s_scache_get(table, 0);

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

            ngx_rbtree_delete(&sc->rbtree, node);
            sc->nslices--;
            sc->bytes -= sizeof(ngx_http_k8s_scache_node_t) + sn->sn.str.len
                         + sn->service.len + sn->json.len;
            ngx_slab_free_locked(table->shpool, sn);

            ngx_shmtx_unlock(&table->shpool->mutex);
        }
    }

    return NGX_OK;
}


void
ngx_http_k8s_scache_begin(ngx_http_k8s_table_t *table)
{
    ngx_http_k8s_scache_t  *sc;

    sc = ngx_http_k8s_scache_get(table, 0);

    if (sc != NULL) {
        sc->writing = 1;
        ngx_memory_barrier();
    }
}


void
ngx_http_k8s_scache_end(ngx_http_k8s_table_t *table, const char *rv)
{
    size_t                  len;
    ngx_http_k8s_scache_t  *sc;

    sc = ngx_http_k8s_scache_get(table, 0);

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
ngx_http_k8s_scache_refill(ngx_http_k8s_table_t *table, ngx_log_t *log)
{
    ngx_http_k8s_scache_t  *sc;

    sc = ngx_http_k8s_scache_get(table, 1);

    if (sc == NULL) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "k8s_zone \"%V\" is full: no EndpointSlice cache, "
                      "the next watcher start relists", &table->name);
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
ngx_http_k8s_scache_commit(ngx_http_k8s_table_t *table, uint64_t *names,
    ngx_uint_t n, uint64_t server, ngx_log_t *log)
{
    uint64_t               *set, *old;
    ngx_http_k8s_scache_t  *sc;

    sc = ngx_http_k8s_scache_get(table, 0);

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
ngx_http_k8s_scache_put(ngx_http_k8s_table_t *table,
    const kube_endpointslice_t *es, const char *service_name,
    ngx_log_t *log)
{
    char                        *json;
    u_char                      *p;
    size_t                       len, klen, slen, nlen, size;
    uint32_t                     hash;
    ngx_str_t                    key;
    ngx_str_node_t              *old;
    ngx_http_k8s_scache_t       *sc;
    ngx_http_k8s_scache_node_t  *sn;

    sc = ngx_http_k8s_scache_get(table, 0);

    if (sc == NULL || sc->state == NGX_HTTP_K8S_SCACHE_INCOMPLETE) {
        return NGX_OK;
    }

    /* encode, and lay the node out, before taking the lock */

    json = ngx_http_k8s_scache_encode(es, &len);
    if (json == NULL) {
        (void) ngx_http_k8s_scache_drop(table, log,
                                        "out of memory encoding a slice");
        return NGX_ERROR;
    }

    nlen = ngx_strlen(es->ns);
    klen = nlen + 1 + ngx_strlen(es->name);
    slen = nlen + 1 + ngx_strlen(service_name);
    size = sizeof(ngx_http_k8s_scache_node_t) + klen + slen + len;

    ngx_shmtx_lock(&table->shpool->mutex);
    sn = ngx_slab_alloc_locked(table->shpool, size);
    ngx_shmtx_unlock(&table->shpool->mutex);

    if (sn == NULL) {
        free(json);
        (void) ngx_http_k8s_scache_drop(table, log, "the zone is full");
        return NGX_ERROR;
    }

    ngx_memzero(sn, sizeof(ngx_http_k8s_scache_node_t));

    p = (u_char *) sn + sizeof(ngx_http_k8s_scache_node_t);

    sn->sn.str.data = p;
    sn->sn.str.len = klen;
    p = ngx_sprintf(p, "%s/%s", es->ns, es->name);

    sn->service.data = p;
    sn->service.len = slen;
    p = ngx_sprintf(p, "%s/%s", es->ns, service_name);

    sn->json.data = p;
    sn->json.len = len;
    ngx_memcpy(p, json, len);

    free(json);

    hash = ngx_crc32_long(sn->sn.str.data, klen);
    sn->sn.node.key = hash;

    key = sn->sn.str;

    /* swap it in */

    ngx_shmtx_lock(&table->shpool->mutex);

    old = ngx_str_rbtree_lookup(&sc->rbtree, &key, hash);

    if (old != NULL) {
        ngx_rbtree_delete(&sc->rbtree, &old->node);
        sc->nslices--;
        sc->bytes -= sizeof(ngx_http_k8s_scache_node_t) + old->str.len
                     + ((ngx_http_k8s_scache_node_t *) old)->service.len
                     + ((ngx_http_k8s_scache_node_t *) old)->json.len;
        ngx_slab_free_locked(table->shpool, old);
    }

    ngx_rbtree_insert(&sc->rbtree, &sn->sn.node);
    sc->nslices++;
    sc->bytes += size;

    ngx_shmtx_unlock(&table->shpool->mutex);

    return NGX_OK;
}


void
ngx_http_k8s_scache_delete(ngx_http_k8s_table_t *table, const char *ns,
    const char *name)
{
    u_char                       buf[512];
    uint32_t                     hash;
    ngx_str_t                    key;
    ngx_str_node_t              *old;
    ngx_http_k8s_scache_t       *sc;

    sc = ngx_http_k8s_scache_get(table, 0);

    if (sc == NULL || sc->state == NGX_HTTP_K8S_SCACHE_INCOMPLETE) {
        return;
    }

    /* namespace (63) and slice name (253) always fit */

    key.data = buf;
    key.len = ngx_snprintf(buf, sizeof(buf), "%s/%s", ns, name) - buf;

    hash = ngx_crc32_long(key.data, key.len);

    ngx_shmtx_lock(&table->shpool->mutex);

    old = ngx_str_rbtree_lookup(&sc->rbtree, &key, hash);

    if (old != NULL) {
        ngx_rbtree_delete(&sc->rbtree, &old->node);
        sc->nslices--;
        sc->bytes -= sizeof(ngx_http_k8s_scache_node_t) + old->str.len
                     + ((ngx_http_k8s_scache_node_t *) old)->service.len
                     + ((ngx_http_k8s_scache_node_t *) old)->json.len;
        ngx_slab_free_locked(table->shpool, old);
    }

    ngx_shmtx_unlock(&table->shpool->mutex);
}


ngx_uint_t
ngx_http_k8s_scache_drop(ngx_http_k8s_table_t *table, ngx_log_t *log,
    const char *reason)
{
    size_t                  bytes;
    ngx_uint_t              had, was;
    ngx_http_k8s_scache_t  *sc;

    sc = ngx_http_k8s_scache_get(table, 0);

    if (sc == NULL) {
        return 0;
    }

    had = (sc->rbtree.root != sc->rbtree.sentinel || sc->names != NULL);
    was = (sc->state != NGX_HTTP_K8S_SCACHE_INCOMPLETE);
    bytes = sc->bytes;

    sc->state = NGX_HTTP_K8S_SCACHE_INCOMPLETE;

    ngx_shmtx_lock(&table->shpool->mutex);

    ngx_http_k8s_scache_clear_locked(table, sc);

    if (sc->names) {
        ngx_slab_free_locked(table->shpool, sc->names);
        sc->names = NULL;
        sc->nnames = 0;
    }

    ngx_shmtx_unlock(&table->shpool->mutex);

    if (had || was) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "k8s_zone \"%V\": EndpointSlice cache dropped (%s, "
                      "%uz bytes freed); the next watcher start relists",
                      &table->name, reason, bytes);
    }

    return had;
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

    sc->nslices = 0;
    sc->bytes = 0;
}


/*
 * The slice as compact JSON with what kube_endpointslice_decode() reads
 * and endpoint selection uses; heap memory (free()), NULL on no memory.
 */

static char *
ngx_http_k8s_scache_encode(const kube_endpointslice_t *es, size_t *len)
{
    char                      *text;
    u_char                     buf[64];
    size_t                     i, j;
    json_t                    *obj, *meta, *o, *arr, *ep, *a, *z;
    ngx_tm_t                   tm;
    kube_es_port_t            *port;
    kube_es_endpoint_t        *e;

    text = NULL;

    obj = json_object();
    if (obj == NULL) {
        return NULL;
    }

    /* json_*_set_new() and _append_new() consume the value even on error */

    meta = json_object();
    if (meta == NULL || json_object_set_new(obj, "metadata", meta) != 0) {
        goto done;
    }

    if (ngx_http_k8s_scache_set_str(meta, "name", es->name) != 0
        || ngx_http_k8s_scache_set_str(meta, "namespace", es->ns) != 0
        || ngx_http_k8s_scache_set_str(obj, "addressType",
                                       es->address_type_str) != 0)
    {
        goto done;
    }

    if (es->service_name) {
        o = json_object();
        if (o == NULL || json_object_set_new(meta, "labels", o) != 0
            || ngx_http_k8s_scache_set_str(o, KUBE_ES_SERVICE_NAME_LABEL,
                                           es->service_name) != 0)
        {
            goto done;
        }
    }

    if (es->has_trigger_time && es->trigger_time_ms >= 0) {
        ngx_gmtime((time_t) (es->trigger_time_ms / 1000), &tm);

        *ngx_sprintf(buf, "%4d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                     tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                     tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec,
                     (int) (es->trigger_time_ms % 1000)) = '\0';

        o = json_object();
        if (o == NULL || json_object_set_new(meta, "annotations", o) != 0
            || ngx_http_k8s_scache_set_str(o,
                                           KUBE_ES_TRIGGER_TIME_ANNOTATION,
                                           (char *) buf) != 0)
        {
            goto done;
        }
    }

    arr = json_array();
    if (arr == NULL || json_object_set_new(obj, "ports", arr) != 0) {
        goto done;
    }

    for (i = 0; i < es->nports; i++) {
        port = &es->ports[i];

        o = json_object();
        if (o == NULL || json_array_append_new(arr, o) != 0
            || ngx_http_k8s_scache_set_str(o, "name", port->name) != 0
            || ngx_http_k8s_scache_set_str(o, "protocol", port->protocol)
               != 0
            || ngx_http_k8s_scache_set_str(o, "appProtocol",
                                           port->app_protocol) != 0
            || (port->has_port
                && json_object_set_new(o, "port",
                                       json_integer(port->port)) != 0))
        {
            goto done;
        }
    }

    arr = json_array();
    if (arr == NULL || json_object_set_new(obj, "endpoints", arr) != 0) {
        goto done;
    }

    for (i = 0; i < es->nendpoints; i++) {
        e = &es->endpoints[i];

        ep = json_object();
        a = json_array();
        o = json_object();

        if (ep == NULL || json_array_append_new(arr, ep) != 0) {
            json_decref(a);
            json_decref(o);
            goto done;
        }

        if (a == NULL || json_object_set_new(ep, "addresses", a) != 0) {
            json_decref(o);
            goto done;
        }

        if (o == NULL || json_object_set_new(ep, "conditions", o) != 0
            || json_object_set_new(o, "ready", json_boolean(e->ready)) != 0
            || json_object_set_new(o, "serving", json_boolean(e->serving))
               != 0
            || json_object_set_new(o, "terminating",
                                   json_boolean(e->terminating)) != 0)
        {
            goto done;
        }

        for (j = 0; j < e->naddresses; j++) {
            if (json_array_append_new(a, json_string(e->addresses[j].text))
                != 0)
            {
                goto done;
            }
        }

        if (ngx_http_k8s_scache_set_str(ep, "hostname", e->hostname) != 0
            || ngx_http_k8s_scache_set_str(ep, "nodeName", e->node_name)
               != 0
            || ngx_http_k8s_scache_set_str(ep, "zone", e->zone) != 0)
        {
            goto done;
        }

        if (e->target_kind || e->target_name) {
            o = json_object();
            if (o == NULL || json_object_set_new(ep, "targetRef", o) != 0
                || ngx_http_k8s_scache_set_str(o, "kind", e->target_kind)
                   != 0
                || ngx_http_k8s_scache_set_str(o, "name", e->target_name)
                   != 0)
            {
                goto done;
            }
        }

        if (e->nfor_zones) {
            o = json_object();
            a = json_array();

            if (o == NULL || json_object_set_new(ep, "hints", o) != 0) {
                json_decref(a);
                goto done;
            }

            if (a == NULL || json_object_set_new(o, "forZones", a) != 0) {
                goto done;
            }

            for (j = 0; j < e->nfor_zones; j++) {
                z = json_object();
                if (z == NULL || json_array_append_new(a, z) != 0
                    || ngx_http_k8s_scache_set_str(z, "name",
                                                   e->for_zones[j]) != 0)
                {
                    goto done;
                }
            }
        }
    }

    text = json_dumps(obj, JSON_COMPACT);

    if (text != NULL) {
        *len = ngx_strlen(text);
    }

done:

    json_decref(obj);

    return text;
}


/* obj[key] = value; nothing when value is NULL; 0 or -1 */

static int
ngx_http_k8s_scache_set_str(json_t *obj, const char *key, const char *value)
{
    if (value == NULL) {
        return 0;
    }

    return json_object_set_new(obj, key, json_string(value));
}


static int ngx_libc_cdecl
ngx_http_k8s_scache_hash_cmp(const void *one, const void *two)
{
    uint64_t  a, b;

    a = *(const uint64_t *) one;
    b = *(const uint64_t *) two;

    return (a < b) ? -1 : (a > b);
}
