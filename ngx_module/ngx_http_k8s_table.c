
/*
 * kubengx: the shared-memory Service endpoint table (see
 * ngx_http_k8s_table.h for the layout, the locking and the write API).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_table.h"


static ngx_http_k8s_entry_t *ngx_http_k8s_table_create_entry(
    ngx_http_k8s_table_t *table, ngx_http_k8s_key_t *key, ngx_log_t *log);
static ngx_uint_t ngx_http_k8s_table_unchanged(ngx_http_k8s_entry_t *entry,
    const ngx_http_k8s_endpoint_t *eps, ngx_uint_t n, ngx_uint_t state);
static ngx_uint_t ngx_http_k8s_peer_matches(ngx_http_k8s_peer_t *peer,
    const ngx_http_k8s_endpoint_t *ep);
static u_char *ngx_http_k8s_peer_str(ngx_str_t *dst, u_char *p,
    const ngx_str_t *src);
static ngx_uint_t ngx_http_k8s_str_eq(const ngx_str_t *a,
    const ngx_str_t *b);
static ngx_http_k8s_peer_t *ngx_http_k8s_peer_create(ngx_slab_pool_t *shpool,
    const ngx_http_k8s_endpoint_t *ep);
static void ngx_http_k8s_peers_free_locked(ngx_slab_pool_t *shpool,
    ngx_http_k8s_peers_t *peers, ngx_uint_t n);
static void ngx_http_k8s_table_gc_locked(ngx_http_k8s_table_t *table);
static ngx_uint_t ngx_http_k8s_hints_match(ngx_str_t *hints,
    const ngx_http_k8s_endpoint_t *ep);
static size_t ngx_http_k8s_hints_len(const ngx_http_k8s_endpoint_t *ep);
static ngx_http_k8s_ring_t *ngx_http_k8s_ring_alloc_locked(
    ngx_slab_pool_t *shpool, ngx_uint_t n);
static void ngx_http_k8s_ring_fill(ngx_http_k8s_ring_t *ring,
    ngx_http_k8s_peers_t *peers);
static int ngx_libc_cdecl ngx_http_k8s_point_cmp(const void *one,
    const void *two);
static void ngx_http_k8s_table_ensure_ring(ngx_http_k8s_table_t *table,
    ngx_http_k8s_entry_t *entry, ngx_log_t *log);
static void ngx_http_k8s_histogram_add(ngx_http_k8s_histogram_t *h,
    ngx_msec_t ms);
static int64_t ngx_http_k8s_now_ms(void);


ngx_msec_t  ngx_http_k8s_lag_bounds[NGX_HTTP_K8S_LAG_BUCKETS - 1] = {
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000
};


ngx_int_t
ngx_http_k8s_table_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_k8s_table_t *otable = data;

    size_t                     len;
    ngx_uint_t                 i, cold;
    ngx_http_k8s_sh_t         *sh;
    ngx_http_k8s_key_t       **keys;
    ngx_http_k8s_table_t      *table;
    ngx_http_k8s_entry_t      *entry;
    ngx_http_k8s_main_conf_t  *kmcf;

    table = shm_zone->data;
    kmcf = table->kmcf;
    cold = 0;

    if (otable) {
        /* nginx -s reload: same name and size, adopt the old table */
        table->sh = otable->sh;
        table->shpool = otable->shpool;

    } else {
        table->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

        if (shm_zone->shm.exists) {
            table->sh = table->shpool->data;

        } else {
            sh = ngx_slab_calloc(table->shpool, sizeof(ngx_http_k8s_sh_t));
            if (sh == NULL) {
                return NGX_ERROR;
            }

            table->sh = sh;
            table->shpool->data = sh;

            ngx_rbtree_init(&sh->rbtree, &sh->sentinel,
                            ngx_str_rbtree_insert_value);
            ngx_queue_init(&sh->entries);
            ngx_memcpy(sh->watch_state, "init", sizeof("init"));

            len = sizeof(" in k8s_zone \"\"") + shm_zone->shm.name.len;

            table->shpool->log_ctx = ngx_slab_alloc(table->shpool, len);
            if (table->shpool->log_ctx == NULL) {
                return NGX_ERROR;
            }

            ngx_sprintf(table->shpool->log_ctx, " in k8s_zone \"%V\"%Z",
                        &shm_zone->shm.name);

            cold = 1;
        }
    }

    /* an entry for every registered key: the request path never looks
     * anything up */

    keys = kmcf->keys.elts;

    for (i = 0; i < kmcf->keys.nelts; i++) {
        entry = ngx_http_k8s_table_create_entry(table, keys[i],
                                                shm_zone->shm.log);
        if (entry == NULL) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "k8s_zone \"%V\" is too small for %ui services",
                          &shm_zone->shm.name, kmcf->keys.nelts);
            return NGX_ERROR;
        }

        keys[i]->entry = entry;

        /* the methods of this configuration; the writer builds the
         * per-version data they need (the consistent hash ring) */

        entry->balance = keys[i]->balance | kmcf->dispatch_balance;

        if (entry->balance
            & NGX_HTTP_K8S_BALANCE_BIT(NGX_HTTP_K8S_BALANCE_CHASH))
        {
            ngx_http_k8s_table_ensure_ring(table, entry, shm_zone->shm.log);
        }
    }

    kmcf->table = table;

    if (cold && kmcf->snapshot.len) {
        (void) ngx_http_k8s_snapshot_load(table, &kmcf->snapshot,
                                          shm_zone->shm.log);
    }

    return NGX_OK;
}


static ngx_http_k8s_entry_t *
ngx_http_k8s_table_create_entry(ngx_http_k8s_table_t *table,
    ngx_http_k8s_key_t *key, ngx_log_t *log)
{
    ngx_slab_pool_t       *shpool;
    ngx_http_k8s_sh_t     *sh;
    ngx_http_k8s_entry_t  *entry;

    sh = table->sh;
    shpool = table->shpool;

    ngx_shmtx_lock(&shpool->mutex);

    entry = ngx_http_k8s_table_lookup(table, &key->key, key->hash);

    if (entry) {
        ngx_shmtx_unlock(&shpool->mutex);
        return entry;
    }

    entry = ngx_slab_calloc_locked(shpool, sizeof(ngx_http_k8s_entry_t)
                                           + key->key.len);
    if (entry == NULL) {
        ngx_shmtx_unlock(&shpool->mutex);
        return NULL;
    }

    entry->key.len = key->key.len;
    entry->key.data = (u_char *) entry + sizeof(ngx_http_k8s_entry_t);
    ngx_memcpy(entry->key.data, key->key.data, key->key.len);

    entry->node.key = key->hash;
    entry->state = NGX_HTTP_K8S_UNSYNCED;

    ngx_rbtree_insert(&sh->rbtree, &entry->node);
    ngx_queue_insert_tail(&sh->entries, &entry->queue);

    sh->nentries++;

    ngx_shmtx_unlock(&shpool->mutex);

    return entry;
}


/* under the slab mutex */

ngx_http_k8s_entry_t *
ngx_http_k8s_table_lookup(ngx_http_k8s_table_t *table, ngx_str_t *key,
    uint32_t hash)
{
    ngx_int_t           rc;
    ngx_rbtree_node_t  *node, *sentinel;

    node = table->sh->rbtree.root;
    sentinel = table->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        /* hash == node->key */

        rc = ngx_memn2cmp(key->data,
                          ((ngx_http_k8s_entry_t *) node)->key.data,
                          key->len,
                          ((ngx_http_k8s_entry_t *) node)->key.len);

        if (rc == 0) {
            return (ngx_http_k8s_entry_t *) node;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


ngx_http_k8s_table_t *
ngx_http_k8s_table_get(ngx_cycle_t *cycle)
{
    ngx_http_k8s_main_conf_t  *kmcf;

    kmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_k8s_module);

    return kmcf ? kmcf->table : NULL;
}


ngx_http_k8s_key_t **
ngx_http_k8s_table_keys(ngx_cycle_t *cycle, ngx_uint_t *n)
{
    ngx_http_k8s_main_conf_t  *kmcf;

    kmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_k8s_module);

    if (kmcf == NULL) {
        *n = 0;
        return NULL;
    }

    *n = kmcf->keys.nelts;

    return kmcf->keys.elts;
}


ngx_int_t
ngx_http_k8s_table_set(ngx_http_k8s_table_t *table, ngx_http_k8s_key_t *key,
    const ngx_http_k8s_endpoint_t *eps, ngx_uint_t n, int64_t trigger_ms,
    ngx_msec_t received, ngx_log_t *log)
{
    int64_t    now;
    ngx_int_t  rc;

    if (key->entry == NULL) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "k8s: service \"%V\" has no table entry", &key->key);
        return NGX_ERROR;
    }

    now = ngx_http_k8s_now_ms();

    rc = ngx_http_k8s_table_apply(table, key->entry, eps, n,
                                  n ? NGX_HTTP_K8S_READY : NGX_HTTP_K8S_EMPTY,
                                  now, log);

    if (rc != NGX_OK) {
        return (rc == NGX_DECLINED) ? NGX_OK : NGX_ERROR;
    }

    ngx_http_k8s_histogram_add(&table->sh->lag_receive,
                               received ? ngx_current_msec - received : 0);

    if (trigger_ms > 0) {
        ngx_http_k8s_histogram_add(&table->sh->lag_trigger,
                           now > trigger_ms ? (ngx_msec_t) (now - trigger_ms)
                                            : 0);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_k8s_table_remove(ngx_http_k8s_table_t *table,
    ngx_http_k8s_key_t *key, ngx_log_t *log)
{
    ngx_int_t  rc;

    if (key->entry == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_k8s_table_apply(table, key->entry, NULL, 0,
                                  NGX_HTTP_K8S_ABSENT, ngx_http_k8s_now_ms(),
                                  log);

    return (rc == NGX_ERROR) ? NGX_ERROR : NGX_OK;
}


/*
 * Publishes a new version of an entry's list.  Returns NGX_OK,
 * NGX_DECLINED when nothing changed, or NGX_ERROR when the zone is full
 * (the old list stays).  Only the writer calls this, so entry->current
 * and its peers may be read here without the entry lock: nobody else
 * changes them, and they cannot be freed while current.
 */

ngx_int_t
ngx_http_k8s_table_apply(ngx_http_k8s_table_t *table,
    ngx_http_k8s_entry_t *entry, const ngx_http_k8s_endpoint_t *eps,
    ngx_uint_t n, ngx_uint_t state, int64_t last_change, ngx_log_t *log)
{
    size_t                 size;
    ngx_uint_t             i, j, hinted;
    ngx_slab_pool_t       *shpool;
    ngx_http_k8s_ring_t   *ring;
    ngx_http_k8s_peer_t   *peer;
    ngx_http_k8s_peers_t  *cur, *peers, *old;

    shpool = table->shpool;
    cur = entry->current;
    ring = NULL;
    hinted = 0;

    if (ngx_http_k8s_table_unchanged(entry, eps, n, state)) {
        return NGX_DECLINED;
    }

    peers = NULL;

    if (n) {
        size = offsetof(ngx_http_k8s_peers_t, slot)
               + n * sizeof(ngx_http_k8s_slot_t);

        ngx_shmtx_lock(&shpool->mutex);

        peers = ngx_slab_calloc_locked(shpool, size);
        if (peers == NULL) {
            goto nomem;
        }

        for (i = 0; i < n; i++) {

            peer = NULL;

            /* carry the state of an endpoint the list keeps */

            for (j = 0; cur && j < cur->number; j++) {
                if (ngx_http_k8s_peer_matches(cur->slot[j].peer, &eps[i])) {
                    peer = cur->slot[j].peer;
                    break;
                }
            }

            if (peer == NULL) {
                peer = ngx_http_k8s_peer_create(shpool, &eps[i]);
                if (peer == NULL) {
                    ngx_http_k8s_peers_free_locked(shpool, peers, i);
                    goto nomem;
                }
            }

            peer->refs++;

            peers->slot[i].peer = peer;
            peers->slot[i].ready = eps[i].ready;
            peers->slot[i].serving = eps[i].serving;
            peers->slot[i].terminating = eps[i].terminating;

            if (eps[i].nfor_zones) {
                hinted++;
            }
        }

        if (entry->balance
            & NGX_HTTP_K8S_BALANCE_BIT(NGX_HTTP_K8S_BALANCE_CHASH))
        {
            /* without it, hashing falls back to the plain hash: the
             * endpoints matter more than the ring */

            ring = ngx_http_k8s_ring_alloc_locked(shpool, n);
        }

        peers->refs = 1;
        peers->number = n;
        peers->generation = entry->generation + 1;
        peers->all_hinted = (hinted == n);

        ngx_shmtx_unlock(&shpool->mutex);

        /* the version is still private: derived data is built unlocked */

        if (ring) {
            ngx_http_k8s_ring_fill(ring, peers);
            peers->ring = (ngx_atomic_uint_t) (uintptr_t) ring;

        } else if (entry->balance
                   & NGX_HTTP_K8S_BALANCE_BIT(NGX_HTTP_K8S_BALANCE_CHASH))
        {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "k8s_zone \"%V\" is full: no consistent hash ring "
                          "for service \"%V\" (plain hash used)",
                          &table->name, &entry->key);
        }
    }

    /* publish: one pointer swap */

    ngx_rwlock_wlock(&entry->lock);

    old = entry->current;
    entry->current = peers;
    entry->state = state;
    entry->number = n;
    entry->generation++;
    entry->last_change = last_change;

    ngx_rwlock_unlock(&entry->lock);

    (void) ngx_atomic_fetch_add(&table->sh->generation, 1);
    (void) ngx_atomic_fetch_add(&table->sh->updates, 1);

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "k8s: service \"%V\" now has %ui endpoint(s), "
                  "generation %uA", &entry->key, n, entry->generation);

    /* retire the old version; requests may still hold it */

    ngx_shmtx_lock(&shpool->mutex);

    if (old) {
        old->next = table->sh->retired;
        table->sh->retired = old;
        table->sh->nretired++;
        (void) ngx_atomic_fetch_add(&old->refs, (ngx_atomic_int_t) -1);
    }

    ngx_http_k8s_table_gc_locked(table);

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;

nomem:

    ngx_shmtx_unlock(&shpool->mutex);

    (void) ngx_atomic_fetch_add(&entry->nomem, 1);
    (void) ngx_atomic_fetch_add(&table->sh->nomem, 1);

    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "k8s_zone \"%V\" is full: service \"%V\" keeps its old "
                  "endpoints (%ui new ones not applied); "
                  "increase the zone size",
                  &table->name, &entry->key, n);

    return NGX_ERROR;
}


static ngx_uint_t
ngx_http_k8s_table_unchanged(ngx_http_k8s_entry_t *entry,
    const ngx_http_k8s_endpoint_t *eps, ngx_uint_t n, ngx_uint_t state)
{
    ngx_uint_t             i;
    ngx_http_k8s_slot_t   *slot;
    ngx_http_k8s_peers_t  *cur;

    if (entry->state != state) {
        return 0;
    }

    cur = entry->current;

    if (cur == NULL) {
        return n == 0;
    }

    if (cur->number != n) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        slot = &cur->slot[i];

        if (!ngx_http_k8s_peer_matches(slot->peer, &eps[i])
            || slot->ready != eps[i].ready
            || slot->serving != eps[i].serving
            || slot->terminating != eps[i].terminating)
        {
            return 0;
        }
    }

    return 1;
}


static ngx_uint_t
ngx_http_k8s_peer_matches(ngx_http_k8s_peer_t *peer,
    const ngx_http_k8s_endpoint_t *ep)
{
    if (peer->u.sockaddr.sa_family != ep->family) {
        return 0;
    }

    switch (ep->family) {

#if (NGX_HAVE_INET6)
    case AF_INET6:
        if (ntohs(peer->u.sin6.sin6_port) != ep->port
            || ngx_memcmp(&peer->u.sin6.sin6_addr, ep->addr, 16) != 0)
        {
            return 0;
        }
        break;
#endif

    default: /* AF_INET */
        if (ntohs(peer->u.sin.sin_port) != ep->port
            || ngx_memcmp(&peer->u.sin.sin_addr, ep->addr, 4) != 0)
        {
            return 0;
        }
    }

    return ngx_http_k8s_str_eq(&peer->target, &ep->target)
           && ngx_http_k8s_hints_match(&peer->hints, ep)
           && ngx_http_k8s_str_eq(&peer->zone, &ep->zone)
           && ngx_http_k8s_str_eq(&peer->node_name, &ep->node_name);
}


/* under the slab mutex */

static ngx_http_k8s_peer_t *
ngx_http_k8s_peer_create(ngx_slab_pool_t *shpool,
    const ngx_http_k8s_endpoint_t *ep)
{
    u_char               *p;
    size_t                len;
    ngx_uint_t            i;
    ngx_http_k8s_peer_t  *peer;

    /*
     * The names go into an allocation of their own: the slab rounds every
     * chunk up to a power of two, and the peer alone fits 256 bytes, while
     * peer and names together would take 512.
     */

    len = ep->zone.len + ep->node_name.len + ep->target.len
          + ngx_http_k8s_hints_len(ep);

    peer = ngx_slab_calloc_locked(shpool, sizeof(ngx_http_k8s_peer_t));
    if (peer == NULL) {
        return NULL;
    }

    p = NULL;

    if (len) {
        p = ngx_slab_alloc_locked(shpool, len);
        if (p == NULL) {
            ngx_slab_free_locked(shpool, peer);
            return NULL;
        }
    }

    switch (ep->family) {

#if (NGX_HAVE_INET6)
    case AF_INET6:
        peer->u.sin6.sin6_family = AF_INET6;
        peer->u.sin6.sin6_port = htons(ep->port);
        ngx_memcpy(&peer->u.sin6.sin6_addr, ep->addr, 16);
        peer->socklen = sizeof(struct sockaddr_in6);
        break;
#endif

    default: /* AF_INET */
        peer->u.sin.sin_family = AF_INET;
        peer->u.sin.sin_port = htons(ep->port);
        ngx_memcpy(&peer->u.sin.sin_addr, ep->addr, 4);
        peer->socklen = sizeof(struct sockaddr_in);
    }

    peer->name.data = peer->name_data;
    peer->name.len = ngx_sock_ntop(&peer->u.sockaddr, peer->socklen,
                                   peer->name_data, NGX_HTTP_K8S_ADDR_LEN, 1);

    peer->effective_weight = 1;

    peer->names = p;

    if (p == NULL) {
        return peer;            /* no names: the ngx_str_t's stay empty */
    }

    p = ngx_http_k8s_peer_str(&peer->zone, p, &ep->zone);
    p = ngx_http_k8s_peer_str(&peer->node_name, p, &ep->node_name);
    p = ngx_http_k8s_peer_str(&peer->target, p, &ep->target);

    peer->hints.data = p;

    for (i = 0; i < ep->nfor_zones; i++) {
        if (i) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, ep->for_zones[i], ngx_strlen(ep->for_zones[i]));
    }

    peer->hints.len = p - peer->hints.data;

    return peer;
}


/* empty strings may have NULL data: never passed to ngx_strncmp() */

static ngx_uint_t
ngx_http_k8s_str_eq(const ngx_str_t *a, const ngx_str_t *b)
{
    return a->len == b->len
           && (a->len == 0 || ngx_strncmp(a->data, b->data, a->len) == 0);
}


/* dst = src copied to p (nothing copied when empty); returns the end */

static u_char *
ngx_http_k8s_peer_str(ngx_str_t *dst, u_char *p, const ngx_str_t *src)
{
    dst->len = src->len;
    dst->data = p;

    return src->len ? ngx_cpymem(p, src->data, src->len) : p;
}


/* under the slab mutex: drops the first n slots' peers, frees the list */

static void
ngx_http_k8s_peers_free_locked(ngx_slab_pool_t *shpool,
    ngx_http_k8s_peers_t *peers, ngx_uint_t n)
{
    ngx_uint_t            i;
    ngx_http_k8s_peer_t  *peer;

    for (i = 0; i < n; i++) {
        peer = peers->slot[i].peer;

        if (--peer->refs == 0) {
            if (peer->names) {
                ngx_slab_free_locked(shpool, peer->names);
            }

            ngx_slab_free_locked(shpool, peer);
        }
    }

    if (peers->ring) {
        ngx_slab_free_locked(shpool, (void *) (uintptr_t) peers->ring);
    }

    ngx_slab_free_locked(shpool, peers);
}


void
ngx_http_k8s_table_gc(ngx_http_k8s_table_t *table)
{
    if (table->sh->retired == NULL) {
        return;
    }

    ngx_shmtx_lock(&table->shpool->mutex);
    ngx_http_k8s_table_gc_locked(table);
    ngx_shmtx_unlock(&table->shpool->mutex);
}


/*
 * A retired version cannot gain references (only the current one is
 * handed out, under the entry lock), so once its count is zero it stays
 * zero and may be freed.
 */

static void
ngx_http_k8s_table_gc_locked(ngx_http_k8s_table_t *table)
{
    ngx_http_k8s_peers_t  *peers, **pp;

    pp = &table->sh->retired;

    while (*pp) {
        peers = *pp;

        if (peers->refs != 0) {
            pp = &peers->next;
            continue;
        }

        *pp = peers->next;
        table->sh->nretired--;
        ngx_http_k8s_peers_free_locked(table->shpool, peers, peers->number);
    }
}


/* the request path: a reference on the current version, or NULL */

ngx_http_k8s_peers_t *
ngx_http_k8s_table_acquire(ngx_http_k8s_entry_t *entry)
{
    ngx_http_k8s_peers_t  *peers;

    ngx_rwlock_rlock(&entry->lock);

    peers = entry->current;

    if (peers) {
        (void) ngx_atomic_fetch_add(&peers->refs, 1);
    }

    ngx_rwlock_unlock(&entry->lock);

    return peers;
}


void
ngx_http_k8s_table_release(ngx_http_k8s_peers_t *peers)
{
    (void) ngx_atomic_fetch_add(&peers->refs, (ngx_atomic_int_t) -1);
}


/*
 * Every entry, each read under its lock with a reference on its list:
 * the caller may then read the lists without any lock and must call
 * ngx_http_k8s_table_view_release().  Nothing is allocated under a lock.
 */

ngx_http_k8s_view_t *
ngx_http_k8s_table_view(ngx_http_k8s_table_t *table, ngx_pool_t *pool,
    ngx_uint_t *n)
{
    ngx_uint_t             i, room;
    ngx_queue_t           *q;
    ngx_http_k8s_view_t   *view;
    ngx_http_k8s_entry_t  *entry;

    for ( ;; ) {
        room = table->sh->nentries + 8;

        view = ngx_palloc(pool, room * sizeof(ngx_http_k8s_view_t));
        if (view == NULL) {
            return NULL;
        }

        ngx_shmtx_lock(&table->shpool->mutex);

        if (table->sh->nentries <= room) {
            break;
        }

        ngx_shmtx_unlock(&table->shpool->mutex);
    }

    i = 0;

    for (q = ngx_queue_head(&table->sh->entries);
         q != ngx_queue_sentinel(&table->sh->entries);
         q = ngx_queue_next(q))
    {
        entry = ngx_queue_data(q, ngx_http_k8s_entry_t, queue);

        view[i].entry = entry;

        ngx_rwlock_rlock(&entry->lock);

        view[i].peers = entry->current;
        view[i].state = entry->state;
        view[i].generation = entry->generation;
        view[i].last_change = entry->last_change;

        if (view[i].peers) {
            (void) ngx_atomic_fetch_add(&view[i].peers->refs, 1);
        }

        ngx_rwlock_unlock(&entry->lock);

        i++;
    }

    ngx_shmtx_unlock(&table->shpool->mutex);

    *n = i;

    return view;
}


void
ngx_http_k8s_table_view_release(ngx_http_k8s_view_t *view, ngx_uint_t n)
{
    ngx_uint_t  i;

    for (i = 0; i < n; i++) {
        if (view[i].peers) {
            ngx_http_k8s_table_release(view[i].peers);
        }
    }
}


void
ngx_http_k8s_table_mark_synced(ngx_http_k8s_table_t *table, ngx_log_t *log)
{
    ngx_queue_t           *q;
    ngx_http_k8s_entry_t  *entry;

    ngx_shmtx_lock(&table->shpool->mutex);

    for (q = ngx_queue_head(&table->sh->entries);
         q != ngx_queue_sentinel(&table->sh->entries);
         q = ngx_queue_next(q))
    {
        entry = ngx_queue_data(q, ngx_http_k8s_entry_t, queue);

        if (entry->current == NULL) {
            (void) ngx_atomic_cmp_set(&entry->state, NGX_HTTP_K8S_UNSYNCED,
                                      NGX_HTTP_K8S_ABSENT);
        }
    }

    ngx_shmtx_unlock(&table->shpool->mutex);

    if (!table->sh->synced) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "k8s: endpoint table \"%V\" synced", &table->name);
    }

    table->sh->synced = 1;
    (void) ngx_atomic_fetch_add(&table->sh->generation, 1);
}


void
ngx_http_k8s_table_set_watch_state(ngx_http_k8s_table_t *table,
    const char *state, ngx_str_t *rv, ngx_uint_t relists, ngx_uint_t errors,
    time_t last_ok_sync)
{
    size_t              len;
    ngx_http_k8s_sh_t  *sh;

    sh = table->sh;

    ngx_shmtx_lock(&table->shpool->mutex);

    if (state) {
        len = ngx_min(ngx_strlen(state), NGX_HTTP_K8S_STATE_LEN - 1);
        ngx_memcpy(sh->watch_state, state, len);
        sh->watch_state[len] = '\0';
    }

    if (rv) {
        len = ngx_min(rv->len, NGX_HTTP_K8S_RV_LEN);
        ngx_memcpy(sh->rv, rv->data, len);
        sh->rv_len = len;
    }

    sh->relists = relists;
    sh->errors = errors;
    sh->last_ok_sync = last_ok_sync;

    ngx_shmtx_unlock(&table->shpool->mutex);
}


void
ngx_http_k8s_table_watch_counters(ngx_http_k8s_table_t *table,
    ngx_uint_t *relists, ngx_uint_t *errors)
{
    ngx_shmtx_lock(&table->shpool->mutex);

    *relists = table->sh->relists;
    *errors = table->sh->errors;

    ngx_shmtx_unlock(&table->shpool->mutex);
}


size_t
ngx_http_k8s_table_resource_version(ngx_http_k8s_table_t *table,
    u_char *buf, size_t size)
{
    size_t  len;

    ngx_shmtx_lock(&table->shpool->mutex);

    len = ngx_min(table->sh->rv_len, size);
    ngx_memcpy(buf, table->sh->rv, len);

    ngx_shmtx_unlock(&table->shpool->mutex);

    return len;
}


ngx_int_t
ngx_http_k8s_table_lease_acquire(ngx_http_k8s_table_t *table, ngx_pid_t pid,
    ngx_msec_t now)
{
    ngx_pid_t           holder;
    ngx_http_k8s_sh_t  *sh;

    sh = table->sh;
    holder = (ngx_pid_t) sh->lease_pid;

    if (holder == pid) {
        sh->lease_heartbeat = now;
        return NGX_OK;
    }

    if (holder != 0
        && (ngx_msec_int_t) (now - sh->lease_heartbeat)
           < NGX_HTTP_K8S_LEASE_TIMEOUT
        && (kill(holder, 0) == 0 || ngx_errno != NGX_ESRCH))
    {
        return NGX_BUSY;
    }

    if (!ngx_atomic_cmp_set(&sh->lease_pid, (ngx_atomic_uint_t) holder,
                            (ngx_atomic_uint_t) pid))
    {
        return NGX_BUSY;
    }

    sh->lease_heartbeat = now;

    ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                  "k8s: process %P holds the endpoint table writer lease "
                  "(previous holder: %P)", pid, holder);

    return NGX_OK;
}


ngx_int_t
ngx_http_k8s_table_lease_heartbeat(ngx_http_k8s_table_t *table,
    ngx_pid_t pid, ngx_msec_t now)
{
    if ((ngx_pid_t) table->sh->lease_pid != pid) {
        return NGX_BUSY;
    }

    table->sh->lease_heartbeat = now;

    return NGX_OK;
}


void
ngx_http_k8s_table_lease_release(ngx_http_k8s_table_t *table, ngx_pid_t pid)
{
    (void) ngx_atomic_cmp_set(&table->sh->lease_pid,
                              (ngx_atomic_uint_t) pid, 0);
}


static void
ngx_http_k8s_histogram_add(ngx_http_k8s_histogram_t *h, ngx_msec_t ms)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_K8S_LAG_BUCKETS - 1; i++) {
        if (ms <= ngx_http_k8s_lag_bounds[i]) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&h->bucket[i], 1);
    (void) ngx_atomic_fetch_add(&h->count, 1);
    (void) ngx_atomic_fetch_add(&h->sum, ms);
}


static int64_t
ngx_http_k8s_now_ms(void)
{
    ngx_time_t  *tp;

    ngx_time_update();
    tp = ngx_timeofday();

    return (int64_t) tp->sec * 1000 + tp->msec;
}


/* hints.forZones as stored in a peer ("a,b") vs. an endpoint's list */

static ngx_uint_t
ngx_http_k8s_hints_match(ngx_str_t *hints, const ngx_http_k8s_endpoint_t *ep)
{
    u_char      *p, *last;
    size_t       len;
    ngx_uint_t   i;

    if (hints->len == 0) {
        return ep->nfor_zones == 0;     /* data may be NULL */
    }

    p = hints->data;
    last = hints->data + hints->len;

    for (i = 0; i < ep->nfor_zones; i++) {

        if (i) {
            if (p == last || *p++ != ',') {
                return 0;
            }
        }

        len = ngx_strlen(ep->for_zones[i]);

        if ((size_t) (last - p) < len
            || ngx_strncmp(p, ep->for_zones[i], len) != 0)
        {
            return 0;
        }

        p += len;
    }

    return p == last;
}


static size_t
ngx_http_k8s_hints_len(const ngx_http_k8s_endpoint_t *ep)
{
    size_t      len;
    ngx_uint_t  i;

    len = 0;

    for (i = 0; i < ep->nfor_zones; i++) {
        len += ngx_strlen(ep->for_zones[i]) + 1;
    }

    return len;
}


/*
 * The consistent hash ring of a version: NGX_HTTP_K8S_RING_POINTS points
 * per endpoint, derived from its "address:port" only (as nginx's
 * "hash ... consistent" derives them from the server's host and port), so
 * an endpoint keeps its points in every version that contains it and a
 * key moves only when the endpoint it maps to goes away.
 */

static ngx_http_k8s_ring_t *
ngx_http_k8s_ring_alloc_locked(ngx_slab_pool_t *shpool, ngx_uint_t n)
{
    return ngx_slab_alloc_locked(shpool,
                                 offsetof(ngx_http_k8s_ring_t, point)
                                 + n * NGX_HTTP_K8S_RING_POINTS
                                   * sizeof(ngx_http_k8s_point_t));
}


static void
ngx_http_k8s_ring_fill(ngx_http_k8s_ring_t *ring, ngx_http_k8s_peers_t *peers)
{
    uint32_t               base, hash;
    ngx_uint_t             i, j, k;
    ngx_http_k8s_peer_t   *peer;
    union {
        uint32_t           value;
        u_char             byte[4];
    } prev;

    k = 0;

    for (i = 0; i < peers->number; i++) {
        peer = peers->slot[i].peer;

        ngx_crc32_init(base);
        ngx_crc32_update(&base, peer->name.data, peer->name.len);

        prev.value = 0;

        for (j = 0; j < NGX_HTTP_K8S_RING_POINTS; j++) {
            hash = base;

            ngx_crc32_update(&hash, prev.byte, 4);
            ngx_crc32_final(hash);

            ring->point[k].hash = hash;
            ring->point[k].slot = (uint32_t) i;
            k++;

            prev.value = hash;
        }
    }

    ring->number = k;

    ngx_qsort(ring->point, k, sizeof(ngx_http_k8s_point_t),
              ngx_http_k8s_point_cmp);
}


static int ngx_libc_cdecl
ngx_http_k8s_point_cmp(const void *one, const void *two)
{
    const ngx_http_k8s_point_t  *a = one, *b = two;

    if (a->hash != b->hash) {
        return (a->hash < b->hash) ? -1 : 1;
    }

    return (a->slot < b->slot) ? -1 : (a->slot > b->slot);
}


/*
 * A configuration that starts using consistent hashing for an entry whose
 * current version was published without a ring (nginx -s reload, or a
 * zone filled before): build it now, holding a reference so the version
 * cannot be freed meanwhile.  Whoever sets the ring first wins.
 */

static void
ngx_http_k8s_table_ensure_ring(ngx_http_k8s_table_t *table,
    ngx_http_k8s_entry_t *entry, ngx_log_t *log)
{
    ngx_http_k8s_ring_t   *ring;
    ngx_http_k8s_peers_t  *peers;

    peers = ngx_http_k8s_table_acquire(entry);

    if (peers == NULL) {
        return;
    }

    if (peers->ring) {
        ngx_http_k8s_table_release(peers);
        return;
    }

    ngx_shmtx_lock(&table->shpool->mutex);
    ring = ngx_http_k8s_ring_alloc_locked(table->shpool, peers->number);
    ngx_shmtx_unlock(&table->shpool->mutex);

    if (ring == NULL) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "k8s_zone \"%V\" is full: no consistent hash ring for "
                      "service \"%V\" until its next update",
                      &table->name, &entry->key);
        ngx_http_k8s_table_release(peers);
        return;
    }

    ngx_http_k8s_ring_fill(ring, peers);

    if (!ngx_atomic_cmp_set(&peers->ring, 0,
                            (ngx_atomic_uint_t) (uintptr_t) ring))
    {
        ngx_shmtx_lock(&table->shpool->mutex);
        ngx_slab_free_locked(table->shpool, ring);
        ngx_shmtx_unlock(&table->shpool->mutex);
    }

    ngx_http_k8s_table_release(peers);
}
