
/*
 * kubengx: the shared-memory Service endpoint table.
 *
 * One entry per registered Service port (ngx_http_k8s_key_t).  The zone
 * is initialized once per configuration (in the master at start and on
 * every nginx -s reload; ngx_http_k8s_table.c), and every such load is a
 * configuration generation: the entries it names are stamped with its
 * number.  An entry that no configuration of a live process names any
 * more is freed (ngx_http_k8s_table_gen.c): workers register their
 * generation in the zone, and an entry is freed only once no process of
 * a generation that named it is alive, so a pointer to an entry stays
 * valid in every process whose configuration names it.
 *
 * An entry's endpoints are published as immutable versions
 * (ngx_http_k8s_peers_t): a request takes a reference on the current
 * version in init_peer and drops it when its pool is destroyed, so the
 * list and the "tried" bitmap sized for it stay valid through every
 * retry, whatever the writer does meanwhile.  The writer builds a new
 * version outside any lock (ngx_http_k8s_table_apply.c), publishes it
 * with one pointer swap under the entry's rwlock and retires the old
 * one; retired versions are freed once unreferenced.  Per-endpoint state
 * (failures, active connections, weights) lives in peer objects shared by
 * the versions that contain the endpoint, so it survives updates that
 * keep the endpoint.
 *
 * Locks: sh->shpool->mutex (ngx_shmtx) guards the slab, the rbtree, the
 * entry queue, the retired list and the process registry, and is held
 * only for those (never while a list is built or parsed);
 * entry->lock (ngx_rwlock) guards the current pointer and the balancing
 * state of the entry's peers.  They are only nested as mutex, then an
 * entry lock; the request path never takes the mutex.  Nothing parses,
 * allocates from the heap or does I/O while holding either.  The time a
 * process waited for either is counted (k8s_status "locks").
 *
 * Write API: one writer at a time (the lease holder: the watcher in
 * worker 0; at zone initialization, the snapshot loader in the master).
 */


#ifndef _NGX_HTTP_K8S_TABLE_H_INCLUDED_
#define _NGX_HTTP_K8S_TABLE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"


/* entry states */
#define NGX_HTTP_K8S_UNSYNCED       0   /* no data yet (not synced) */
#define NGX_HTTP_K8S_ABSENT         1   /* synced: no EndpointSlice */
#define NGX_HTTP_K8S_EMPTY          2   /* slices, no usable endpoint */
#define NGX_HTTP_K8S_READY          3   /* at least one endpoint */

/* a writer lease is stale after this many milliseconds without heartbeat */
#define NGX_HTTP_K8S_LEASE_TIMEOUT  5000

#define NGX_HTTP_K8S_ADDR_LEN       48  /* "[ffff:...:ffff]:65535" */
#define NGX_HTTP_K8S_RV_LEN         128
#define NGX_HTTP_K8S_STATE_LEN      32

/* propagation-lag histogram buckets, milliseconds (last one is +Inf) */
#define NGX_HTTP_K8S_LAG_BUCKETS    12

/* ngx_rwlock's "write locked" value (nginx's src/core/ngx_rwlock.c) */
#define NGX_HTTP_K8S_RWLOCK_WLOCK   ((ngx_atomic_uint_t) -1)


/* an endpoint as given to ngx_http_k8s_table_set() */
typedef struct {
    int                          family;     /* AF_INET or AF_INET6 */
    u_char                       addr[16];   /* network order */
    in_port_t                    port;       /* host order */
    unsigned                     ready:1;
    unsigned                     serving:1;
    unsigned                     terminating:1;
    ngx_str_t                    zone;       /* may be empty */
    ngx_str_t                    node_name;  /* may be empty */
    ngx_str_t                    target;     /* targetRef name (the pod) */

    /* hints.forZones[].name (topology aware routing); nfor_zones == 0:
     * no hints */
    const char *const           *for_zones;
    ngx_uint_t                   nfor_zones;
} ngx_http_k8s_endpoint_t;


/* consistent hash: points per endpoint on the ring (as nginx's chash) */
#define NGX_HTTP_K8S_RING_POINTS    160

/* EWMA decay time constant, milliseconds */
#define NGX_HTTP_K8S_EWMA_DECAY     10000


/* one endpoint in shm; shared by the versions that contain it */
typedef struct {
    union {
        struct sockaddr          sockaddr;
        struct sockaddr_in       sin;
#if (NGX_HAVE_INET6)
        struct sockaddr_in6      sin6;
#endif
    } u;
    socklen_t                    socklen;
    ngx_str_t                    name;       /* "10.0.0.1:8080" */
    uint64_t                     affinity_id;    /* kube_affinity_id() of
                                                    name, side 0: the
                                                    cookie's identity */

    /* balancing state: under the entry's rwlock */
    ngx_int_t                    current_weight;
    ngx_int_t                    effective_weight;
    ngx_uint_t                   conns;
    ngx_uint_t                   fails;
    time_t                       accessed;
    time_t                       checked;
    ngx_uint_t                   requests;
    ngx_uint_t                   failures;   /* total, for status */
    double                       ewma;       /* peak EWMA of the response
                                                time, ms; 0: no sample */
    ngx_msec_t                   ewma_stamp; /* ngx_current_msec of it */

    /* versions referencing this peer (atomic); freed at 0 */
    ngx_atomic_t                 refs;

    ngx_str_t                    zone;
    ngx_str_t                    node_name;
    ngx_str_t                    target;
    ngx_str_t                    hints;      /* forZones: "a,b"; "": none */
    u_char                      *names;      /* the bytes of zone,
                                                node_name, target and hints
                                                (a slab allocation of their
                                                own); NULL: all empty */
    u_char                       name_data[NGX_HTTP_K8S_ADDR_LEN];
} ngx_http_k8s_peer_t;


typedef struct {
    ngx_http_k8s_peer_t         *peer;
    unsigned                     ready:1;
    unsigned                     serving:1;
    unsigned                     terminating:1;
} ngx_http_k8s_slot_t;


/* a point of the consistent hash ring */
typedef struct {
    uint32_t                     hash;
    uint32_t                     slot;       /* index into peers->slot */
} ngx_http_k8s_point_t;


/* the consistent hash ring of one version, sorted by hash */
typedef struct {
    ngx_uint_t                   number;
    ngx_http_k8s_point_t         point[1];
} ngx_http_k8s_ring_t;


/*
 * Topology hints of one version, parsed once for one local zone
 * (k8s_local_zone): bit i of excluded is set when slot i's hints do not
 * name the zone; local counts the slots that do (0: none, every endpoint
 * is used).  The zone name follows the bitmap.
 */
typedef struct {
    ngx_str_t                    zone;
    ngx_uint_t                   local;
    uintptr_t                    excluded[1];
} ngx_http_k8s_excl_t;


/* an immutable endpoint list */
typedef struct ngx_http_k8s_peers_s  ngx_http_k8s_peers_t;

struct ngx_http_k8s_peers_s {
    ngx_atomic_t                 refs;       /* 1 while current, +1/request */
    ngx_http_k8s_peers_t        *next;       /* retired list */
    ngx_http_k8s_entry_t        *entry;      /* whose version it is */
    ngx_uint_t                   generation;
    ngx_uint_t                   number;

    /*
     * Derived data, built once per version: ring (ngx_http_k8s_ring_t *)
     * when an upstream of the entry uses consistent hashing, excl
     * (ngx_http_k8s_excl_t *) when k8s_local_zone is set and every
     * endpoint has hints.  Each is set once from 0, never changed
     * afterwards, and freed with the version.  all_hinted: every endpoint
     * has hints.forZones.
     */
    ngx_atomic_t                 ring;
    ngx_atomic_t                 excl;
    unsigned                     all_hinted:1;
    unsigned                     sorted:1;   /* slots in address order */

    ngx_http_k8s_slot_t          slot[1];
};


struct ngx_http_k8s_entry_s {
    ngx_rbtree_node_t            node;       /* key: key hash */
    ngx_queue_t                  queue;      /* sh->entries, by creation */
    ngx_str_t                    key;

    ngx_atomic_t                 lock;
    ngx_http_k8s_peers_t        *current;    /* NULL: no list */

    ngx_atomic_t                 state;      /* NGX_HTTP_K8S_UNSYNCED ... */
    ngx_atomic_t                 number;     /* endpoints in current */
    ngx_atomic_t                 generation; /* bumped per change */
    int64_t                      last_change;    /* epoch ms, 0: never */

    /* the newest configuration generation naming it (under the mutex) */
    ngx_uint_t                   named;

    ngx_atomic_t                 balance;        /* methods using it: bits */
    ngx_atomic_t                 unavailable;    /* 503 answered */
    ngx_atomic_t                 nomem;          /* updates refused */
    /* key bytes follow */
};


typedef struct {
    ngx_atomic_t                 bucket[NGX_HTTP_K8S_LAG_BUCKETS];
    ngx_atomic_t                 count;
    ngx_atomic_t                 sum;        /* milliseconds */
} ngx_http_k8s_histogram_t;


/* a process using the zone, and the configuration generation it runs */
typedef struct {
    ngx_pid_t                    pid;
    ngx_uint_t                   gen;
} ngx_http_k8s_proc_t;


/* lock wait histogram buckets: up to 1, 2, 4, ... 2^20 us, then +Inf */
#define NGX_HTTP_K8S_LOCK_BUCKETS   22

/* how long processes waited for the table's locks, microseconds */
typedef struct {
    ngx_atomic_t                 waits;      /* lock not free at once */
    ngx_atomic_t                 wait_max;
    ngx_atomic_t                 wait_total;
    ngx_atomic_t                 bucket[NGX_HTTP_K8S_LOCK_BUCKETS];
} ngx_http_k8s_lockstat_t;


typedef struct {
    ngx_rbtree_t                 rbtree;
    ngx_rbtree_node_t            sentinel;
    ngx_queue_t                  entries;
    ngx_http_k8s_peers_t        *retired;
    ngx_atomic_t                 nretired;   /* under the slab mutex */

    ngx_atomic_t                 generation; /* bumped per applied change */
    ngx_atomic_t                 nentries;
    ngx_atomic_t                 updates;
    ngx_atomic_t                 nomem;

    /*
     * Configuration generations (ngx_http_k8s_table_gen.c): config_gen is
     * bumped by every zone initialization; active_gen is the newest
     * generation whose worker processes started; procs (under the
     * mutex) the registered processes; floor_gen, when not 0, the oldest
     * generation of a process that could not register (its entries are
     * never freed); freed counts the entries freed.
     */
    ngx_atomic_t                 config_gen;
    ngx_atomic_t                 active_gen;
    ngx_atomic_t                 floor_gen;
    ngx_http_k8s_proc_t         *procs;
    ngx_uint_t                   nprocs;
    ngx_uint_t                   procs_size;
    ngx_atomic_t                 freed;

    /* writer lease */
    ngx_atomic_t                 lease_pid;
    ngx_atomic_t                 lease_heartbeat;    /* ngx_current_msec */

    /* watch state (written by the lease holder) */
    ngx_atomic_t                 synced;
    ngx_atomic_t                 relists;
    ngx_atomic_t                 errors;
    time_t                       last_ok_sync;
    size_t                       rv_len;
    u_char                       rv[NGX_HTTP_K8S_RV_LEN];
    u_char                       watch_state[NGX_HTTP_K8S_STATE_LEN];

    /* snapshot */
    ngx_atomic_t                 snapshot_loaded;    /* entries loaded */
    ngx_atomic_t                 snapshot_written;   /* generation */
    ngx_atomic_t                 snapshot_gen;       /* config generation
                                                        that wrote it */
    ngx_atomic_t                 snapshot_errors;

    ngx_http_k8s_histogram_t     lag_receive;    /* received -> applied */
    ngx_http_k8s_histogram_t     lag_trigger;    /* trigger -> applied */

    /* ngx_http_k8s_table_apply(): count, last and worst duration (us) */
    ngx_atomic_t                 apply_count;
    ngx_atomic_t                 apply_last_us;
    ngx_atomic_t                 apply_last_n;
    ngx_atomic_t                 apply_max_us;
    ngx_atomic_t                 apply_max_n;

    ngx_http_k8s_lockstat_t      entry_locks;    /* request path */
    ngx_http_k8s_lockstat_t      mutex;          /* the zone's mutex */

    /* the watcher's slice cache (ngx_http_k8s_scache_t *), NULL: none */
    void                        *scache;
} ngx_http_k8s_sh_t;


/* per-process handle of one configuration, the shm_zone's data */
struct ngx_http_k8s_table_s {
    ngx_http_k8s_sh_t           *sh;
    ngx_slab_pool_t             *shpool;
    ngx_http_k8s_main_conf_t    *kmcf;
    ngx_str_t                    name;       /* the zone's name */
    ngx_uint_t                   gen;        /* configuration generation */
};


extern ngx_msec_t          ngx_http_k8s_lag_bounds[NGX_HTTP_K8S_LAG_BUCKETS
                                                  - 1];
extern ngx_http_k8s_sh_t  *ngx_http_k8s_lock_sh;


/* the table of the current cycle, or NULL (no k8s_zone) */
ngx_http_k8s_table_t *ngx_http_k8s_table_get(ngx_cycle_t *cycle);

/*
 * Registered keys: returns the array (elements ngx_http_k8s_key_t *) and
 * stores their count in *n.  The watcher keeps only these Services.
 */
ngx_http_k8s_key_t **ngx_http_k8s_table_keys(ngx_cycle_t *cycle,
    ngx_uint_t *n);

/*
 * Replace the endpoint list of a registered key (the final list: selection
 * already done by the writer).  n == 0 means the Service has slices but no
 * usable endpoint.  Endpoints whose address must never be proxied to are
 * dropped (ngx_http_k8s_addr.c).  trigger_ms is the slice's
 * last-change-trigger-time in epoch milliseconds (0: unknown); received
 * is ngx_current_msec when the event arrived (0: now).  An unchanged list
 * is not republished.  Returns NGX_OK, or NGX_ERROR when the zone is full
 * (logged; the old list stays).
 */
ngx_int_t ngx_http_k8s_table_set(ngx_http_k8s_table_t *table,
    ngx_http_k8s_key_t *key, const ngx_http_k8s_endpoint_t *eps,
    ngx_uint_t n, int64_t trigger_ms, ngx_msec_t received, ngx_log_t *log);

/* the Service has no EndpointSlice any more (deleted, or absent in a
 * complete list) */
ngx_int_t ngx_http_k8s_table_remove(ngx_http_k8s_table_t *table,
    ngx_http_k8s_key_t *key, ngx_log_t *log);

/* a complete list was applied: this configuration's keys never set
 * become ABSENT */
void ngx_http_k8s_table_mark_synced(ngx_http_k8s_table_t *table,
    ngx_log_t *log);

/* watcher state for k8s_status; state is a short word ("listing",
 * "watching", "backoff", ...); rv may be NULL (unchanged) */
void ngx_http_k8s_table_set_watch_state(ngx_http_k8s_table_t *table,
    const char *state, ngx_str_t *rv, ngx_uint_t relists, ngx_uint_t errors,
    time_t last_ok_sync);

/* the relists and errors counters last stored (by any generation) */
void ngx_http_k8s_table_watch_counters(ngx_http_k8s_table_t *table,
    ngx_uint_t *relists, ngx_uint_t *errors);

/* the stored resourceVersion (copied into buf, at most size bytes);
 * returns its length, 0 when none */
size_t ngx_http_k8s_table_resource_version(ngx_http_k8s_table_t *table,
    u_char *buf, size_t size);

/*
 * Writer lease.  acquire: NGX_OK when pid holds the lease (taken if free,
 * stale, or its holder is dead), NGX_BUSY when another live process holds
 * it.  heartbeat: NGX_OK while pid holds it, NGX_BUSY once lost.  Call
 * heartbeat at least every NGX_HTTP_K8S_LEASE_TIMEOUT / 3 ms; release in
 * exit_process.  now is ngx_current_msec.
 */
ngx_int_t ngx_http_k8s_table_lease_acquire(ngx_http_k8s_table_t *table,
    ngx_pid_t pid, ngx_msec_t now);
ngx_int_t ngx_http_k8s_table_lease_heartbeat(ngx_http_k8s_table_t *table,
    ngx_pid_t pid, ngx_msec_t now);
void ngx_http_k8s_table_lease_release(ngx_http_k8s_table_t *table,
    ngx_pid_t pid);

/* free retired versions nobody references any more (any process) */
void ngx_http_k8s_table_gc(ngx_http_k8s_table_t *table);


/* a consistent reading of one entry, holding a reference on its list */
typedef struct {
    ngx_http_k8s_entry_t        *entry;
    ngx_http_k8s_peers_t        *peers;      /* NULL: no list */
    ngx_uint_t                   state;
    ngx_uint_t                   generation;
    int64_t                      last_change;
} ngx_http_k8s_view_t;


/* module internals: ngx_http_k8s_table.c */
ngx_http_k8s_view_t *ngx_http_k8s_table_view(ngx_http_k8s_table_t *table,
    ngx_pool_t *pool, ngx_uint_t *n);
void ngx_http_k8s_table_view_release(ngx_http_k8s_view_t *view,
    ngx_uint_t n);
ngx_int_t ngx_http_k8s_table_init_zone(ngx_shm_zone_t *shm_zone, void *data);
ngx_http_k8s_entry_t *ngx_http_k8s_table_lookup(ngx_http_k8s_table_t *table,
    ngx_str_t *key, uint32_t hash);
ngx_http_k8s_peers_t *ngx_http_k8s_table_acquire(ngx_http_k8s_entry_t *entry);
void ngx_http_k8s_table_release(ngx_http_k8s_peers_t *peers);
void ngx_http_k8s_table_lock(ngx_http_k8s_table_t *table);
void ngx_http_k8s_lock_waited(ngx_atomic_t *lock, ngx_uint_t write);
uint64_t ngx_http_k8s_now_us(void);
int64_t ngx_http_k8s_now_ms(void);

/* ngx_http_k8s_table_apply.c */
ngx_int_t ngx_http_k8s_table_apply(ngx_http_k8s_table_t *table,
    ngx_http_k8s_entry_t *entry, const ngx_http_k8s_endpoint_t *eps,
    ngx_uint_t n, ngx_uint_t state, int64_t last_change, ngx_log_t *log);
void ngx_http_k8s_table_free_versions(ngx_http_k8s_table_t *table,
    ngx_http_k8s_peers_t *list);
void ngx_http_k8s_table_derive(ngx_http_k8s_table_t *table,
    ngx_http_k8s_entry_t *entry, ngx_log_t *log);

/* ngx_http_k8s_table_peer.c */
ngx_uint_t ngx_http_k8s_eps_sorted(const ngx_http_k8s_endpoint_t *eps,
    ngx_uint_t n);
ngx_http_k8s_peer_t *ngx_http_k8s_peer_next(ngx_http_k8s_peers_t *cur,
    ngx_uint_t *j, const ngx_http_k8s_endpoint_t *ep);
ngx_http_k8s_peer_t **ngx_http_k8s_peer_index(ngx_http_k8s_peers_t *peers,
    ngx_log_t *log);
ngx_http_k8s_peer_t *ngx_http_k8s_peer_find(ngx_http_k8s_peer_t **index,
    ngx_uint_t n, const ngx_http_k8s_endpoint_t *ep);
ngx_uint_t ngx_http_k8s_peer_matches(ngx_http_k8s_peer_t *peer,
    const ngx_http_k8s_endpoint_t *ep);
ngx_http_k8s_peer_t *ngx_http_k8s_peer_create(ngx_http_k8s_table_t *table,
    const ngx_http_k8s_endpoint_t *ep);
ngx_uint_t ngx_http_k8s_hints_name(ngx_str_t *hints, ngx_str_t *zone);

/* ngx_http_k8s_table_gen.c: configuration generations */
ngx_int_t ngx_http_k8s_gen_zone_init(ngx_http_k8s_table_t *table,
    ngx_log_t *log);
ngx_int_t ngx_http_k8s_gen_init_process(ngx_cycle_t *cycle);
void ngx_http_k8s_gen_exit_process(ngx_cycle_t *cycle);

/*
 * ngx_http_k8s_addr.c: addresses never proxied to.  filter returns how
 * many of the n endpoints are kept (NGX_ERROR: no memory); when some are
 * refused, *kept is a heap copy of the others (ngx_free() it), else NULL.
 */
ngx_int_t ngx_http_k8s_addr_filter(ngx_http_k8s_table_t *table,
    ngx_http_k8s_entry_t *entry, const ngx_http_k8s_endpoint_t *eps,
    ngx_uint_t n, ngx_http_k8s_endpoint_t **kept, ngx_log_t *log);


/*
 * The entry locks of the request path, with a fast path: a lock taken at
 * once costs what ngx_rwlock_rlock()/wlock() cost; a wait is timed and
 * counted (ngx_http_k8s_lock_waited()).
 */

static ngx_inline void
ngx_http_k8s_entry_rlock(ngx_http_k8s_entry_t *entry)
{
    ngx_atomic_uint_t  readers;

    readers = entry->lock;

    if (readers != NGX_HTTP_K8S_RWLOCK_WLOCK
        && ngx_atomic_cmp_set(&entry->lock, readers, readers + 1))
    {
        return;
    }

    ngx_http_k8s_lock_waited(&entry->lock, 0);
}


static ngx_inline void
ngx_http_k8s_entry_wlock(ngx_http_k8s_entry_t *entry)
{
    if (entry->lock == 0
        && ngx_atomic_cmp_set(&entry->lock, 0, NGX_HTTP_K8S_RWLOCK_WLOCK))
    {
        return;
    }

    ngx_http_k8s_lock_waited(&entry->lock, 1);
}


#define ngx_http_k8s_entry_unlock(entry)  ngx_rwlock_unlock(&(entry)->lock)
#define ngx_http_k8s_table_unlock(table)                                      \
    ngx_shmtx_unlock(&(table)->shpool->mutex)


#endif /* _NGX_HTTP_K8S_TABLE_H_INCLUDED_ */
