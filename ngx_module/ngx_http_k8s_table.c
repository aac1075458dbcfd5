
/*
 * kubengx: the shared-memory Service endpoint table (see
 * ngx_http_k8s_table.h for the layout, the locking and the write API):
 * zone initialization, entries, consistent readings, the writer lease
 * and the lock accounting.  Building and publishing a list is
 * ngx_http_k8s_table_apply.c; freeing what no configuration names,
 * ngx_http_k8s_table_gen.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_table.h"


static ngx_int_t ngx_http_k8s_table_create_sh(ngx_shm_zone_t *shm_zone,
    ngx_http_k8s_table_t *table);
static ngx_uint_t ngx_http_k8s_table_stamp(ngx_http_k8s_table_t *table);
static ngx_http_k8s_entry_t *ngx_http_k8s_table_create_entry(
    ngx_http_k8s_table_t *table, ngx_http_k8s_key_t *key);
static void ngx_http_k8s_histogram_add(ngx_http_k8s_histogram_t *h,
    ngx_msec_t ms);
static void ngx_http_k8s_lockstat_add(ngx_http_k8s_lockstat_t *ls,
    uint64_t us);


ngx_msec_t  ngx_http_k8s_lag_bounds[NGX_HTTP_K8S_LAG_BUCKETS - 1] = {
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000
};


/* where this process counts its entry lock waits (the zone of its
 * configuration; set in init_process) */
ngx_http_k8s_sh_t  *ngx_http_k8s_lock_sh;


/*
 * Called once per configuration load (in the master, or the single
 * process), with the previous configuration's table when nginx reuses the
 * zone (nginx -s reload, same name and size).  Order: a new generation,
 * the entries this configuration names are stamped with it, the entries
 * no live process can use any more are freed (so that they make room),
 * then the missing entries are created.
 */

ngx_int_t
ngx_http_k8s_table_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_k8s_table_t *otable = data;

    ngx_uint_t                 i, cold, missing;
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
            if (ngx_http_k8s_table_create_sh(shm_zone, table) != NGX_OK) {
                return NGX_ERROR;
            }

            cold = 1;
        }
    }

    table->gen = ngx_atomic_fetch_add(&table->sh->config_gen, 1) + 1;

    missing = ngx_http_k8s_table_stamp(table);

    if (ngx_http_k8s_gen_zone_init(table, shm_zone->shm.log) != NGX_OK) {
        return NGX_ERROR;
    }

    /* an entry for every registered key: the request path never looks
     * anything up */

    keys = kmcf->keys.elts;

    for (i = 0; missing && i < kmcf->keys.nelts; i++) {

        if (keys[i]->entry) {
            continue;
        }

        entry = ngx_http_k8s_table_create_entry(table, keys[i]);
        if (entry == NULL) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "k8s_zone \"%V\" is too small for %ui services",
                          &shm_zone->shm.name, kmcf->keys.nelts);
            return NGX_ERROR;
        }

        keys[i]->entry = entry;
    }

    for (i = 0; i < kmcf->keys.nelts; i++) {
        entry = keys[i]->entry;

        /* the methods of this configuration; the per-version data they
         * need (consistent hash ring, zone hints) is built by the writer,
         * and here for the current version */

        entry->balance = keys[i]->balance | kmcf->dispatch_balance;

        ngx_http_k8s_table_derive(table, entry, shm_zone->shm.log);
    }

    kmcf->table = table;

    if (otable) {
        /* the snapshot writer rewrites the file for this configuration */
        (void) ngx_atomic_fetch_add(&table->sh->generation, 1);
    }

    if (cold && kmcf->snapshot.len) {
        (void) ngx_http_k8s_snapshot_load(table, &kmcf->snapshot,
                                          shm_zone->shm.log);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_k8s_table_create_sh(ngx_shm_zone_t *shm_zone,
    ngx_http_k8s_table_t *table)
{
    size_t              len;
    ngx_http_k8s_sh_t  *sh;

    sh = ngx_slab_calloc(table->shpool, sizeof(ngx_http_k8s_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    table->sh = sh;
    table->shpool->data = sh;

    ngx_rbtree_init(&sh->rbtree, &sh->sentinel, ngx_str_rbtree_insert_value);
    ngx_queue_init(&sh->entries);
    ngx_memcpy(sh->watch_state, "init", sizeof("init"));

    len = sizeof(" in k8s_zone \"\"") + shm_zone->shm.name.len;

    table->shpool->log_ctx = ngx_slab_alloc(table->shpool, len);
    if (table->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(table->shpool->log_ctx, " in k8s_zone \"%V\"%Z",
                &shm_zone->shm.name);

    return NGX_OK;
}


/*
 * The entries this configuration names get its generation, and the keys
 * their entry; returns the number of keys without an entry yet.
 */

static ngx_uint_t
ngx_http_k8s_table_stamp(ngx_http_k8s_table_t *table)
{
    ngx_uint_t             i, missing;
    ngx_http_k8s_key_t   **keys;
    ngx_http_k8s_entry_t  *entry;

    keys = table->kmcf->keys.elts;
    missing = 0;

    ngx_http_k8s_table_lock(table);

    for (i = 0; i < table->kmcf->keys.nelts; i++) {
        entry = ngx_http_k8s_table_lookup(table, &keys[i]->key,
                                          keys[i]->hash);
        keys[i]->entry = entry;

        if (entry) {
            entry->named = table->gen;

        } else {
            missing++;
        }
    }

    ngx_http_k8s_table_unlock(table);

    return missing;
}


static ngx_http_k8s_entry_t *
ngx_http_k8s_table_create_entry(ngx_http_k8s_table_t *table,
    ngx_http_k8s_key_t *key)
{
    ngx_http_k8s_sh_t     *sh;
    ngx_http_k8s_entry_t  *entry;

    sh = table->sh;

    ngx_http_k8s_table_lock(table);

    entry = ngx_http_k8s_table_lookup(table, &key->key, key->hash);

    if (entry) {
        ngx_http_k8s_table_unlock(table);
        return entry;
    }

    entry = ngx_slab_calloc_locked(table->shpool,
                                   sizeof(ngx_http_k8s_entry_t)
                                   + key->key.len);
    if (entry == NULL) {
        ngx_http_k8s_table_unlock(table);
        return NULL;
    }

    entry->key.len = key->key.len;
    entry->key.data = (u_char *) entry + sizeof(ngx_http_k8s_entry_t);
    ngx_memcpy(entry->key.data, key->key.data, key->key.len);

    entry->node.key = key->hash;
    entry->state = NGX_HTTP_K8S_UNSYNCED;
    entry->named = table->gen;

    ngx_rbtree_insert(&sh->rbtree, &entry->node);
    ngx_queue_insert_tail(&sh->entries, &entry->queue);

    sh->nentries++;

    ngx_http_k8s_table_unlock(table);

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


/* the request path: a reference on the current version, or NULL */

ngx_http_k8s_peers_t *
ngx_http_k8s_table_acquire(ngx_http_k8s_entry_t *entry)
{
    ngx_http_k8s_peers_t  *peers;

    ngx_http_k8s_entry_rlock(entry);

    peers = entry->current;

    if (peers) {
        (void) ngx_atomic_fetch_add(&peers->refs, 1);
    }

    ngx_http_k8s_entry_unlock(entry);

    return peers;
}


void
ngx_http_k8s_table_release(ngx_http_k8s_peers_t *peers)
{
    (void) ngx_atomic_fetch_add(&peers->refs, (ngx_atomic_int_t) -1);
}


/*
 * The entries of this configuration (the Services it names, in the order
 * it names them), each read under its lock with a reference on its list:
 * the caller may then read the lists without any lock and must call
 * ngx_http_k8s_table_view_release().  The entries stay valid: they are
 * not freed while this configuration runs.
 */

ngx_http_k8s_view_t *
ngx_http_k8s_table_view(ngx_http_k8s_table_t *table, ngx_pool_t *pool,
    ngx_uint_t *n)
{
    ngx_uint_t             i, k, nkeys;
    ngx_http_k8s_key_t   **keys;
    ngx_http_k8s_view_t   *view;
    ngx_http_k8s_entry_t  *entry;

    keys = table->kmcf->keys.elts;
    nkeys = table->kmcf->keys.nelts;

    view = ngx_palloc(pool, (nkeys ? nkeys : 1) * sizeof(ngx_http_k8s_view_t));
    if (view == NULL) {
        return NULL;
    }

    k = 0;

    for (i = 0; i < nkeys; i++) {
        entry = keys[i]->entry;

        if (entry == NULL) {
            continue;
        }

        view[k].entry = entry;

        ngx_http_k8s_entry_rlock(entry);

        view[k].peers = entry->current;
        view[k].state = entry->state;
        view[k].generation = entry->generation;
        view[k].last_change = entry->last_change;

        if (view[k].peers) {
            (void) ngx_atomic_fetch_add(&view[k].peers->refs, 1);
        }

        ngx_http_k8s_entry_unlock(entry);

        k++;
    }

    *n = k;

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
    ngx_uint_t             i;
    ngx_http_k8s_key_t   **keys;
    ngx_http_k8s_entry_t  *entry;

    keys = table->kmcf->keys.elts;

    for (i = 0; i < table->kmcf->keys.nelts; i++) {
        entry = keys[i]->entry;

        if (entry != NULL && entry->current == NULL) {
            (void) ngx_atomic_cmp_set(&entry->state, NGX_HTTP_K8S_UNSYNCED,
                                      NGX_HTTP_K8S_ABSENT);
        }
    }

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

    ngx_http_k8s_table_lock(table);

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

    ngx_http_k8s_table_unlock(table);
}


void
ngx_http_k8s_table_watch_counters(ngx_http_k8s_table_t *table,
    ngx_uint_t *relists, ngx_uint_t *errors)
{
    ngx_http_k8s_table_lock(table);

    *relists = table->sh->relists;
    *errors = table->sh->errors;

    ngx_http_k8s_table_unlock(table);
}


size_t
ngx_http_k8s_table_resource_version(ngx_http_k8s_table_t *table,
    u_char *buf, size_t size)
{
    size_t  len;

    ngx_http_k8s_table_lock(table);

    len = ngx_min(table->sh->rv_len, size);
    ngx_memcpy(buf, table->sh->rv, len);

    ngx_http_k8s_table_unlock(table);

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


/*
 * The zone's mutex, taken at once when it is free (ngx_shmtx_trylock());
 * a wait is timed and counted in sh->mutex.
 */

void
ngx_http_k8s_table_lock(ngx_http_k8s_table_t *table)
{
    uint64_t  start;

    if (ngx_shmtx_trylock(&table->shpool->mutex)) {
        return;
    }

    start = ngx_http_k8s_now_us();

    ngx_shmtx_lock(&table->shpool->mutex);

    ngx_http_k8s_lockstat_add(&table->sh->mutex,
                              ngx_http_k8s_now_us() - start);
}


/* an entry lock that was not free at once: wait for it, timed */

void
ngx_http_k8s_lock_waited(ngx_atomic_t *lock, ngx_uint_t write)
{
    uint64_t  start;

    start = ngx_http_k8s_now_us();

    if (write) {
        ngx_rwlock_wlock(lock);

    } else {
        ngx_rwlock_rlock(lock);
    }

    if (ngx_http_k8s_lock_sh) {
        ngx_http_k8s_lockstat_add(&ngx_http_k8s_lock_sh->entry_locks,
                                  ngx_http_k8s_now_us() - start);
    }
}


static void
ngx_http_k8s_lockstat_add(ngx_http_k8s_lockstat_t *ls, uint64_t us)
{
    ngx_uint_t         i;
    ngx_atomic_uint_t  max;

    for (i = 0; i < NGX_HTTP_K8S_LOCK_BUCKETS - 1; i++) {
        if (us <= ((uint64_t) 1 << i)) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&ls->bucket[i], 1);
    (void) ngx_atomic_fetch_add(&ls->waits, 1);
    (void) ngx_atomic_fetch_add(&ls->wait_total, (ngx_atomic_int_t) us);

    for ( ;; ) {
        max = ls->wait_max;

        if ((ngx_atomic_uint_t) us <= max
            || ngx_atomic_cmp_set(&ls->wait_max, max,
                                  (ngx_atomic_uint_t) us))
        {
            return;
        }
    }
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


int64_t
ngx_http_k8s_now_ms(void)
{
    ngx_time_t  *tp;

    ngx_time_update();
    tp = ngx_timeofday();

    return (int64_t) tp->sec * 1000 + tp->msec;
}


/* a monotonic clock in microseconds, for durations */

uint64_t
ngx_http_k8s_now_us(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
