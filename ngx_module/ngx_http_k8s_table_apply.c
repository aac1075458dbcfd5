
/*
 * kubengx: building and publishing an entry's endpoint list (see
 * ngx_http_k8s_table.h).
 *
 * A new version is built outside every lock: each new endpoint finds the
 * peer of the current version it keeps in one pass over both lists when
 * both are in address order (the watcher's are), else by binary search
 * in the current peers sorted once (O(n log n)); only endpoints that are
 * new get a peer object (ngx_http_k8s_table_peer.c); the slab mutex is
 * taken for each allocation only.  The
 * version is published by one pointer swap under the entry's write lock,
 * and the old one is retired (the mutex for the list insert).  Derived
 * per-version data (the consistent hash ring, the topology hints parsed
 * for the local zone) is built before the swap, so the request path never
 * parses or sorts.  Freeing a version decrements its peers' counts
 * without the mutex, and frees under it only the peers no version holds
 * any more.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_table.h"


#define NGX_HTTP_K8S_WORD_BITS  (8 * sizeof(uintptr_t))


static ngx_uint_t ngx_http_k8s_table_unchanged(ngx_http_k8s_entry_t *entry,
    const ngx_http_k8s_endpoint_t *eps, ngx_uint_t n, ngx_uint_t state);
static ngx_http_k8s_peers_t *ngx_http_k8s_version_build(
    ngx_http_k8s_table_t *table, ngx_http_k8s_entry_t *entry,
    const ngx_http_k8s_endpoint_t *eps, ngx_uint_t n, ngx_log_t *log);
static void ngx_http_k8s_version_derive(ngx_http_k8s_table_t *table,
    ngx_http_k8s_entry_t *entry, ngx_http_k8s_peers_t *peers,
    ngx_log_t *log);
static void ngx_http_k8s_set_once(ngx_http_k8s_table_t *table,
    ngx_atomic_t *p, void *data);
static void ngx_http_k8s_version_publish(ngx_http_k8s_table_t *table,
    ngx_http_k8s_entry_t *entry, ngx_http_k8s_peers_t *peers, ngx_uint_t n,
    ngx_uint_t state, int64_t last_change);
static void ngx_http_k8s_apply_stats(ngx_http_k8s_sh_t *sh, uint64_t start,
    ngx_uint_t n);
static ngx_http_k8s_ring_t *ngx_http_k8s_ring_build(
    ngx_http_k8s_table_t *table, ngx_http_k8s_peers_t *peers);
static int ngx_libc_cdecl ngx_http_k8s_point_cmp(const void *one,
    const void *two);
static ngx_http_k8s_excl_t *ngx_http_k8s_excl_build(
    ngx_http_k8s_table_t *table, ngx_http_k8s_peers_t *peers,
    ngx_str_t *zone);


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
    uint64_t                  start;
    ngx_int_t                 kept;
    ngx_http_k8s_peers_t     *peers;
    ngx_http_k8s_endpoint_t  *copy;

    start = ngx_http_k8s_now_us();

    /* addresses that must never be proxied to */

    copy = NULL;

    kept = ngx_http_k8s_addr_filter(table, entry, eps, n, &copy, log);
    if (kept == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (copy) {
        eps = copy;
    }

    n = (ngx_uint_t) kept;

    if (n == 0 && state == NGX_HTTP_K8S_READY) {
        state = NGX_HTTP_K8S_EMPTY;
    }

    if (ngx_http_k8s_table_unchanged(entry, eps, n, state)) {
        if (copy) {
            ngx_free(copy);
        }

        return NGX_DECLINED;
    }

    peers = NULL;

    if (n) {
        peers = ngx_http_k8s_version_build(table, entry, eps, n, log);
    }

    if (copy) {
        ngx_free(copy);
    }

    if (n && peers == NULL) {
        (void) ngx_atomic_fetch_add(&entry->nomem, 1);
        (void) ngx_atomic_fetch_add(&table->sh->nomem, 1);

        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "k8s_zone \"%V\" is full: service \"%V\" keeps its old "
                      "endpoints (%ui new ones not applied); "
                      "increase the zone size",
                      &table->name, &entry->key, n);

        return NGX_ERROR;
    }

    ngx_http_k8s_version_publish(table, entry, peers, n, state, last_change);

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "k8s: service \"%V\" now has %ui endpoint(s), "
                  "generation %uA", &entry->key, n, entry->generation);

    ngx_http_k8s_table_gc(table);

    ngx_http_k8s_apply_stats(table->sh, start, n);

    return NGX_OK;
}


/* one pointer swap under the entry lock; the old version is retired */

static void
ngx_http_k8s_version_publish(ngx_http_k8s_table_t *table,
    ngx_http_k8s_entry_t *entry, ngx_http_k8s_peers_t *peers, ngx_uint_t n,
    ngx_uint_t state, int64_t last_change)
{
    ngx_http_k8s_sh_t     *sh;
    ngx_http_k8s_peers_t  *old;

    sh = table->sh;

    ngx_http_k8s_entry_wlock(entry);

    old = entry->current;
    entry->current = peers;
    entry->state = state;
    entry->number = n;
    entry->generation++;
    entry->last_change = last_change;

    ngx_http_k8s_entry_unlock(entry);

    (void) ngx_atomic_fetch_add(&sh->generation, 1);
    (void) ngx_atomic_fetch_add(&sh->updates, 1);

    if (old == NULL) {
        return;
    }

    /* requests may still hold it */

    ngx_http_k8s_table_lock(table);

    old->next = sh->retired;
    sh->retired = old;
    sh->nretired++;

    ngx_http_k8s_table_unlock(table);

    (void) ngx_atomic_fetch_add(&old->refs, (ngx_atomic_int_t) -1);
}


static void
ngx_http_k8s_apply_stats(ngx_http_k8s_sh_t *sh, uint64_t start, ngx_uint_t n)
{
    ngx_atomic_uint_t  us;

    us = (ngx_atomic_uint_t) (ngx_http_k8s_now_us() - start);

    /* one writer: plain stores */

    sh->apply_count++;
    sh->apply_last_us = us;
    sh->apply_last_n = n;

    if (us > sh->apply_max_us) {
        sh->apply_max_us = us;
        sh->apply_max_n = n;
    }
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


/*
 * The new version, private until published: the peers of the current
 * version that the list keeps (found through a sorted index), new peers
 * for the others, and the derived data.  NULL when the zone is full.
 */

static ngx_http_k8s_peers_t *
ngx_http_k8s_version_build(ngx_http_k8s_table_t *table,
    ngx_http_k8s_entry_t *entry, const ngx_http_k8s_endpoint_t *eps,
    ngx_uint_t n, ngx_log_t *log)
{
    ngx_uint_t             i, j, m, hinted, sorted;
    ngx_http_k8s_peer_t   *peer, **index;
    ngx_http_k8s_peers_t  *cur, *peers;

    cur = entry->current;
    index = NULL;
    m = cur ? cur->number : 0;
    j = 0;

    /*
     * The watcher's lists are in address order: then one pass over both
     * lists matches them (O(n)); else the current peers are sorted once
     * and each endpoint is looked up (O(n log n)).
     */

    sorted = ngx_http_k8s_eps_sorted(eps, n);

    if (m && !(sorted && cur->sorted)) {
        index = ngx_http_k8s_peer_index(cur, log);
        if (index == NULL) {
            return NULL;
        }
    }

    ngx_http_k8s_table_lock(table);
    peers = ngx_slab_calloc_locked(table->shpool,
                                   offsetof(ngx_http_k8s_peers_t, slot)
                                   + n * sizeof(ngx_http_k8s_slot_t));
    ngx_http_k8s_table_unlock(table);

    if (peers == NULL) {
        goto failed;
    }

    hinted = 0;

    for (i = 0; i < n; i++) {

        /* carry the state of an endpoint the list keeps */

        if (index) {
            peer = ngx_http_k8s_peer_find(index, m, &eps[i]);

        } else {
            peer = m ? ngx_http_k8s_peer_next(cur, &j, &eps[i]) : NULL;
        }

        if (peer == NULL) {
            peer = ngx_http_k8s_peer_create(table, &eps[i]);

            if (peer == NULL) {
                peers->number = i;
                peers->next = NULL;
                ngx_http_k8s_table_free_versions(table, peers);
                peers = NULL;
                goto failed;
            }
        }

        (void) ngx_atomic_fetch_add(&peer->refs, 1);

        peers->slot[i].peer = peer;
        peers->slot[i].ready = eps[i].ready;
        peers->slot[i].serving = eps[i].serving;
        peers->slot[i].terminating = eps[i].terminating;

        if (eps[i].nfor_zones) {
            hinted++;
        }
    }

    if (index) {
        ngx_free(index);
    }

    peers->refs = 1;
    peers->entry = entry;
    peers->number = n;
    peers->generation = entry->generation + 1;
    peers->all_hinted = (hinted == n);
    peers->sorted = sorted;

    ngx_http_k8s_version_derive(table, entry, peers, log);

    return peers;

failed:

    if (index) {
        ngx_free(index);
    }

    return NULL;
}


/*
 * A configuration that uses consistent hashing or k8s_local_zone for an
 * entry whose current version was published without that data (nginx -s
 * reload, a zone filled before): build it now, holding a reference so
 * the version cannot be freed meanwhile.
 */

void
ngx_http_k8s_table_derive(ngx_http_k8s_table_t *table,
    ngx_http_k8s_entry_t *entry, ngx_log_t *log)
{
    ngx_http_k8s_peers_t  *peers;

    peers = ngx_http_k8s_table_acquire(entry);

    if (peers == NULL) {
        return;
    }

    ngx_http_k8s_version_derive(table, entry, peers, log);

    ngx_http_k8s_table_release(peers);
}


/* whoever sets a derived pointer first wins; each is set once */

static void
ngx_http_k8s_version_derive(ngx_http_k8s_table_t *table,
    ngx_http_k8s_entry_t *entry, ngx_http_k8s_peers_t *peers,
    ngx_log_t *log)
{
    ngx_str_t             *zone;
    ngx_http_k8s_ring_t   *ring;
    ngx_http_k8s_excl_t   *excl;

    if ((entry->balance
         & NGX_HTTP_K8S_BALANCE_BIT(NGX_HTTP_K8S_BALANCE_CHASH))
        && peers->ring == 0)
    {
        /* without it, hashing falls back to the plain hash: the
         * endpoints matter more than the ring */

        ring = ngx_http_k8s_ring_build(table, peers);

        if (ring == NULL) {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "k8s_zone \"%V\" is full: no consistent hash ring "
                          "for service \"%V\" (plain hash used)",
                          &table->name, &entry->key);

        } else {
            ngx_http_k8s_set_once(table, &peers->ring, ring);
        }
    }

    zone = &table->kmcf->local_zone;

    if (zone->len && peers->all_hinted && peers->number > 1
        && peers->excl == 0)
    {
        excl = ngx_http_k8s_excl_build(table, peers, zone);

        if (excl == NULL) {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "k8s_zone \"%V\" is full: the zone hints of "
                          "service \"%V\" are read per request",
                          &table->name, &entry->key);

        } else {
            ngx_http_k8s_set_once(table, &peers->excl, excl);
        }
    }
}


/* *p = data unless another process set it first (then data is freed) */

static void
ngx_http_k8s_set_once(ngx_http_k8s_table_t *table, ngx_atomic_t *p,
    void *data)
{
    if (ngx_atomic_cmp_set(p, 0, (ngx_atomic_uint_t) (uintptr_t) data)) {
        return;
    }

    ngx_http_k8s_table_lock(table);
    ngx_slab_free_locked(table->shpool, data);
    ngx_http_k8s_table_unlock(table);
}


/* free retired versions nobody references any more */

void
ngx_http_k8s_table_gc(ngx_http_k8s_table_t *table)
{
    ngx_http_k8s_peers_t  *peers, **pp, *list;

    if (table->sh->retired == NULL) {
        return;
    }

    /*
     * A retired version cannot gain references (only the current one is
     * handed out, under the entry lock), so once its count is zero it
     * stays zero: it is taken off the list, then freed.
     */

    list = NULL;

    ngx_http_k8s_table_lock(table);

    pp = &table->sh->retired;

    while (*pp) {
        peers = *pp;

        if (peers->refs != 0) {
            pp = &peers->next;
            continue;
        }

        *pp = peers->next;
        table->sh->nretired--;

        peers->next = list;
        list = peers;
    }

    ngx_http_k8s_table_unlock(table);

    ngx_http_k8s_table_free_versions(table, list);
}


/*
 * Frees a list of versions (linked by next) that no process references:
 * their peers' counts are decremented without the mutex; the peers that
 * no version holds any more, the derived data and the versions are freed
 * under it.
 */

void
ngx_http_k8s_table_free_versions(ngx_http_k8s_table_t *table,
    ngx_http_k8s_peers_t *list)
{
    ngx_uint_t             i, k;
    ngx_http_k8s_peer_t   *peer;
    ngx_http_k8s_peers_t  *peers;

    while (list) {
        peers = list;
        list = list->next;

        /* the version's own slots collect the peers to free */

        k = 0;

        for (i = 0; i < peers->number; i++) {
            peer = peers->slot[i].peer;

            if (ngx_atomic_fetch_add(&peer->refs, (ngx_atomic_int_t) -1)
                == 1)
            {
                peers->slot[k++].peer = peer;
            }
        }

        ngx_http_k8s_table_lock(table);

        for (i = 0; i < k; i++) {
            peer = peers->slot[i].peer;

            if (peer->names) {
                ngx_slab_free_locked(table->shpool, peer->names);
            }

            ngx_slab_free_locked(table->shpool, peer);
        }

        if (peers->ring) {
            ngx_slab_free_locked(table->shpool,
                                 (void *) (uintptr_t) peers->ring);
        }

        if (peers->excl) {
            ngx_slab_free_locked(table->shpool,
                                 (void *) (uintptr_t) peers->excl);
        }

        ngx_slab_free_locked(table->shpool, peers);

        ngx_http_k8s_table_unlock(table);
    }
}


/*
 * The consistent hash ring of a version: NGX_HTTP_K8S_RING_POINTS points
 * per endpoint, derived from its "address:port" only (as nginx's
 * "hash ... consistent" derives them from the server's host and port), so
 * an endpoint keeps its points in every version that contains it and a
 * key moves only when the endpoint it maps to goes away.  Allocated
 * under the mutex, filled and sorted outside it.
 */

static ngx_http_k8s_ring_t *
ngx_http_k8s_ring_build(ngx_http_k8s_table_t *table,
    ngx_http_k8s_peers_t *peers)
{
    uint32_t               base, hash;
    ngx_uint_t             i, j, k;
    ngx_http_k8s_peer_t   *peer;
    ngx_http_k8s_ring_t   *ring;
    union {
        uint32_t           value;
        u_char             byte[4];
    } prev;

    ngx_http_k8s_table_lock(table);
    ring = ngx_slab_alloc_locked(table->shpool,
                                 offsetof(ngx_http_k8s_ring_t, point)
                                 + peers->number * NGX_HTTP_K8S_RING_POINTS
                                   * sizeof(ngx_http_k8s_point_t));
    ngx_http_k8s_table_unlock(table);

    if (ring == NULL) {
        return NULL;
    }

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

    return ring;
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
 * The topology hints of a version parsed for the local zone: which slots
 * are excluded while endpoints of the zone are usable (kube-proxy's
 * rule, see ngx_http_k8s_balancer.c).
 */

static ngx_http_k8s_excl_t *
ngx_http_k8s_excl_build(ngx_http_k8s_table_t *table,
    ngx_http_k8s_peers_t *peers, ngx_str_t *zone)
{
    ngx_uint_t            i, n, words;
    ngx_http_k8s_excl_t  *excl;

    n = peers->number;
    words = (n + NGX_HTTP_K8S_WORD_BITS - 1) / NGX_HTTP_K8S_WORD_BITS;

    ngx_http_k8s_table_lock(table);
    excl = ngx_slab_calloc_locked(table->shpool,
                                  offsetof(ngx_http_k8s_excl_t, excluded)
                                  + words * sizeof(uintptr_t) + zone->len);
    ngx_http_k8s_table_unlock(table);

    if (excl == NULL) {
        return NULL;
    }

    excl->zone.len = zone->len;
    excl->zone.data = (u_char *) &excl->excluded[words];
    ngx_memcpy(excl->zone.data, zone->data, zone->len);

    for (i = 0; i < n; i++) {
        if (ngx_http_k8s_hints_name(&peers->slot[i].peer->hints, zone)) {
            excl->local++;
            continue;
        }

        excl->excluded[i / NGX_HTTP_K8S_WORD_BITS]
            |= (uintptr_t) 1 << (i % NGX_HTTP_K8S_WORD_BITS);
    }

    return excl;
}
