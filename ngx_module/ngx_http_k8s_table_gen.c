
/*
 * kubengx: configuration generations, and freeing what no configuration
 * names any more.
 *
 * Every load of the configuration (nginx start, each nginx -s reload;
 * ngx_http_k8s_table_init_zone() in the master) is a generation, and
 * stamps the entries it names with its number.  Worker processes register
 * their generation in the zone (pid and generation, sh->procs) when they
 * start and remove it when they exit.  After a reload, workers of older
 * generations keep serving their requests through their configuration's
 * entries (key->entry pointers, references on versions) until they exit;
 * so an entry is freed only when its stamp is below every generation a
 * live process runs (the bound, ngx_http_k8s_gen_bound_locked()).  A
 * process killed with SIGKILL never removes its record: a record whose
 * pid no longer exists (kill(pid, 0) fails with ESRCH) is dropped when the
 * bound is computed; the master respawns such a worker in the same
 * generation, and it registers again.  A process that cannot register
 * (the zone is full) sets sh->floor_gen: its generation's entries are
 * then never freed.
 *
 * Who frees: the master when it loads a configuration (before the new
 * configuration's entries are created, so they find the room), and worker
 * 0 (or the single process) every NGX_HTTP_K8S_SWEEP_INTERVAL while the
 * zone holds entries its configuration does not name, i.e. once the old
 * workers are gone.  A freed entry's versions go with it, even those
 * still counted as referenced by a process killed in the middle of a
 * request.  Once no older process is alive, worker 0 also removes from
 * the watcher's slice cache (ngx_http_k8s_slices.h) the slices of
 * Services its configuration does not name, and their Services from the
 * cache's Service set: it is then the only possible writer of the cache.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_table.h"
#include "ngx_http_k8s_scache.h"


#define NGX_HTTP_K8S_SWEEP_INTERVAL  1000


typedef struct {
    uint64_t                    *names;      /* sorted Service hashes */
    ngx_uint_t                   n;
    ngx_uint_t                   removed;
} ngx_http_k8s_prune_ctx_t;


static ngx_uint_t ngx_http_k8s_gen_bound_locked(ngx_http_k8s_table_t *table);
static ngx_int_t ngx_http_k8s_gen_register(ngx_http_k8s_table_t *table,
    ngx_log_t *log);
static void ngx_http_k8s_gen_forget_locked(ngx_http_k8s_sh_t *sh,
    ngx_pid_t pid);
static ngx_uint_t ngx_http_k8s_gen_sweep(ngx_http_k8s_table_t *table,
    ngx_uint_t bound, ngx_log_t *log);
static void ngx_http_k8s_gen_handler(ngx_event_t *ev);
static void ngx_http_k8s_gen_prune_scache(ngx_http_k8s_table_t *table,
    ngx_log_t *log);
static void ngx_http_k8s_gen_prune_kind(ngx_http_k8s_table_t *table,
    ngx_uint_t kind, ngx_http_k8s_prune_ctx_t *ctx, ngx_log_t *log);
static ngx_int_t ngx_http_k8s_gen_prune_object(void *data, ngx_str_t *service,
    ngx_str_t *json);
static int ngx_libc_cdecl ngx_http_k8s_gen_hash_cmp(const void *one,
    const void *two);


static ngx_event_t       ngx_http_k8s_gen_event;
static ngx_connection_t  ngx_http_k8s_gen_conn;
static ngx_uint_t        ngx_http_k8s_gen_pruned;


/* the master (or the single process) loads a configuration */

ngx_int_t
ngx_http_k8s_gen_zone_init(ngx_http_k8s_table_t *table, ngx_log_t *log)
{
    ngx_uint_t  bound;

    ngx_http_k8s_table_lock(table);
    bound = ngx_http_k8s_gen_bound_locked(table);
    ngx_http_k8s_table_unlock(table);

    (void) ngx_http_k8s_gen_sweep(table, bound, log);

    return NGX_OK;
}


/*
 * Under the mutex: the oldest generation a live process may run (entries
 * stamped below it are unused), 0 when nothing may be freed.  Records of
 * processes that no longer exist are dropped.
 */

static ngx_uint_t
ngx_http_k8s_gen_bound_locked(ngx_http_k8s_table_t *table)
{
    ngx_uint_t            i, bound;
    ngx_http_k8s_sh_t    *sh;
    ngx_http_k8s_proc_t  *proc;

    sh = table->sh;

    /* no worker started yet: nothing was used but what is named now */
    bound = sh->active_gen;

    if (sh->floor_gen && sh->floor_gen < bound) {
        bound = sh->floor_gen;
    }

    proc = sh->procs;
    i = 0;

    while (i < sh->nprocs) {

        if (kill(proc[i].pid, 0) == -1 && ngx_errno == NGX_ESRCH) {
            proc[i] = proc[--sh->nprocs];
            continue;
        }

        if (proc[i].gen < bound) {
            bound = proc[i].gen;
        }

        i++;
    }

    return bound;
}


/*
 * Frees the entries stamped below bound (no live process uses them) with
 * every version of theirs; returns how many.
 */

static ngx_uint_t
ngx_http_k8s_gen_sweep(ngx_http_k8s_table_t *table, ngx_uint_t bound,
    ngx_log_t *log)
{
    ngx_uint_t             n;
    ngx_queue_t           *q, *next, dead;
    ngx_http_k8s_sh_t     *sh;
    ngx_http_k8s_entry_t  *entry;
    ngx_http_k8s_peers_t  *peers, **pp, *list;

    sh = table->sh;

    if (bound == 0) {
        return 0;
    }

    ngx_queue_init(&dead);
    list = NULL;
    n = 0;

    ngx_http_k8s_table_lock(table);

    for (q = ngx_queue_head(&sh->entries);
         q != ngx_queue_sentinel(&sh->entries);
         q = next)
    {
        next = ngx_queue_next(q);
        entry = ngx_queue_data(q, ngx_http_k8s_entry_t, queue);

        if (entry->named >= bound) {
            continue;
        }

        ngx_rbtree_delete(&sh->rbtree, &entry->node);
        ngx_queue_remove(q);
        ngx_queue_insert_tail(&dead, q);
        sh->nentries--;
        n++;

        /* 0 marks it for the retired list below: no generation is 0 */
        entry->named = 0;

        if (entry->current) {
            entry->current->next = list;
            list = entry->current;
            entry->current = NULL;
        }
    }

    if (n) {
        pp = &sh->retired;

        while (*pp) {
            peers = *pp;

            if (peers->entry->named != 0) {
                pp = &peers->next;
                continue;
            }

            *pp = peers->next;
            sh->nretired--;

            peers->next = list;
            list = peers;
        }
    }

    ngx_http_k8s_table_unlock(table);

    if (n == 0) {
        return 0;
    }

    /* nobody can reference them: counts left by killed processes too */

    ngx_http_k8s_table_free_versions(table, list);

    ngx_http_k8s_table_lock(table);

    while (!ngx_queue_empty(&dead)) {
        q = ngx_queue_head(&dead);
        ngx_queue_remove(q);
        ngx_slab_free_locked(table->shpool,
                             ngx_queue_data(q, ngx_http_k8s_entry_t, queue));
    }

    ngx_http_k8s_table_unlock(table);

    (void) ngx_atomic_fetch_add(&sh->freed, n);

    /* the snapshot no longer lists them */
    (void) ngx_atomic_fetch_add(&sh->generation, 1);

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "k8s_zone \"%V\": %ui service(s) that no configuration "
                  "names freed", &table->name, n);

    return n;
}


/* every worker (and the single process) registers; worker 0 sweeps */

ngx_int_t
ngx_http_k8s_gen_init_process(ngx_cycle_t *cycle)
{
    ngx_http_k8s_table_t      *table;
    ngx_http_k8s_main_conf_t  *kmcf;

    kmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_k8s_module);
    table = kmcf->table;

    if (table == NULL
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        return NGX_OK;
    }

    ngx_http_k8s_lock_sh = table->sh;

    if (ngx_http_k8s_gen_register(table, cycle->log) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_process == NGX_PROCESS_WORKER && ngx_worker != 0) {
        return NGX_OK;
    }

    ngx_http_k8s_timer_init(&ngx_http_k8s_gen_event, &ngx_http_k8s_gen_conn,
                            ngx_http_k8s_gen_handler, cycle->log);
    ngx_add_timer(&ngx_http_k8s_gen_event, NGX_HTTP_K8S_SWEEP_INTERVAL);

    return NGX_OK;
}


static ngx_int_t
ngx_http_k8s_gen_register(ngx_http_k8s_table_t *table, ngx_log_t *log)
{
    ngx_uint_t            size;
    ngx_atomic_uint_t     active;
    ngx_http_k8s_sh_t    *sh;
    ngx_http_k8s_proc_t  *procs;

    sh = table->sh;

    ngx_http_k8s_table_lock(table);

    /* a record with our pid is a dead predecessor's */

    ngx_http_k8s_gen_forget_locked(sh, ngx_pid);

    if (sh->nprocs == sh->procs_size) {
        size = sh->procs_size ? 2 * sh->procs_size : 16;

        procs = ngx_slab_alloc_locked(table->shpool,
                                      size * sizeof(ngx_http_k8s_proc_t));

        if (procs != NULL) {
            if (sh->procs) {
                ngx_memcpy(procs, sh->procs,
                           sh->nprocs * sizeof(ngx_http_k8s_proc_t));
                ngx_slab_free_locked(table->shpool, sh->procs);
            }

            sh->procs = procs;
            sh->procs_size = size;
        }
    }

    if (sh->nprocs < sh->procs_size) {
        sh->procs[sh->nprocs].pid = ngx_pid;
        sh->procs[sh->nprocs].gen = table->gen;
        sh->nprocs++;

    } else if (sh->floor_gen == 0 || table->gen < sh->floor_gen) {
        sh->floor_gen = table->gen;

        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "k8s_zone \"%V\" is full: process %P is not "
                      "registered, services of its configuration are never "
                      "freed; increase the zone size", &table->name, ngx_pid);
    }

    ngx_http_k8s_table_unlock(table);

    for ( ;; ) {
        active = sh->active_gen;

        if (table->gen <= active
            || ngx_atomic_cmp_set(&sh->active_gen, active, table->gen))
        {
            return NGX_OK;
        }
    }
}


/* under the mutex: the record of pid goes */

static void
ngx_http_k8s_gen_forget_locked(ngx_http_k8s_sh_t *sh, ngx_pid_t pid)
{
    ngx_uint_t  i;

    for (i = 0; i < sh->nprocs; i++) {
        if (sh->procs[i].pid == pid) {
            sh->procs[i] = sh->procs[--sh->nprocs];
            return;
        }
    }
}


void
ngx_http_k8s_gen_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_k8s_sh_t         *sh;
    ngx_http_k8s_table_t      *table;
    ngx_http_k8s_main_conf_t  *kmcf;

    if (ngx_http_k8s_gen_event.timer_set) {
        ngx_del_timer(&ngx_http_k8s_gen_event);
    }

    kmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_k8s_module);
    table = kmcf->table;

    if (table == NULL
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        return;
    }

    sh = table->sh;

    ngx_http_k8s_table_lock(table);
    ngx_http_k8s_gen_forget_locked(sh, ngx_pid);
    ngx_http_k8s_table_unlock(table);
}


static void
ngx_http_k8s_gen_handler(ngx_event_t *ev)
{
    ngx_uint_t                 bound;
    ngx_http_k8s_sh_t         *sh;
    ngx_http_k8s_table_t      *table;
    ngx_http_k8s_main_conf_t  *kmcf;

    kmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_k8s_module);
    table = kmcf->table;
    sh = table->sh;

    /* work only while entries of other configurations exist, or until
     * the slice cache was checked once */

    if (sh->nentries > kmcf->keys.nelts || !ngx_http_k8s_gen_pruned) {

        ngx_http_k8s_table_lock(table);
        bound = ngx_http_k8s_gen_bound_locked(table);
        ngx_http_k8s_table_unlock(table);

        (void) ngx_http_k8s_gen_sweep(table, bound, ev->log);

        if (!ngx_http_k8s_gen_pruned
            && bound >= table->gen && sh->active_gen == table->gen)
        {
            ngx_http_k8s_gen_prune_scache(table, ev->log);
            ngx_http_k8s_gen_pruned = 1;
        }
    }

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    ngx_add_timer(ev, NGX_HTTP_K8S_SWEEP_INTERVAL);
}


/*
 * No older process is alive, and this is worker 0 of the newest
 * configuration: the watcher's slice cache loses the slices of Services
 * this configuration does not name, and its Service set those Services
 * (a later configuration naming one again relists it).
 */

static void
ngx_http_k8s_gen_prune_scache(ngx_http_k8s_table_t *table, ngx_log_t *log)
{
    u_char                    buf[128];
    u_char                   *p;
    ngx_uint_t                i, n, kind;
    ngx_http_k8s_key_t      **keys;
    ngx_http_k8s_prune_ctx_t  ctx;

    if (table->sh->scache == NULL) {
        return;
    }

    keys = table->kmcf->keys.elts;
    n = table->kmcf->keys.nelts;

    ctx.names = ngx_alloc(n * sizeof(uint64_t) + 1, log);
    if (ctx.names == NULL) {
        return;
    }

    for (i = 0; i < n; i++) {
        /* namespace and name are at most 63 bytes each */
        p = ngx_snprintf(buf, sizeof(buf), "%V/%V", &keys[i]->ns,
                         &keys[i]->name);
        ctx.names[i] = ngx_http_k8s_scache_hash(buf, p - buf);
    }

    ngx_qsort(ctx.names, n, sizeof(uint64_t), ngx_http_k8s_gen_hash_cmp);

    ctx.n = n;

    for (kind = 0; kind < NGX_HTTP_K8S_RES_N; kind++) {
        ngx_http_k8s_gen_prune_kind(table, kind, &ctx, log);
    }

    ngx_free(ctx.names);
}


/* one resource's cache: the objects and Services no key names go */

static void
ngx_http_k8s_gen_prune_kind(ngx_http_k8s_table_t *table, ngx_uint_t kind,
    ngx_http_k8s_prune_ctx_t *ctx, ngx_log_t *log)
{
    uint64_t                *set;
    ngx_int_t                rc;
    ngx_uint_t               i, nset;
    ngx_http_k8s_scache_t   *sc;
    ngx_http_k8s_scaches_t  *scs;

    scs = table->sh->scache;
    sc = &scs->cache[kind];

    if (sc->state != NGX_HTTP_K8S_SCACHE_COMPLETE || sc->writing) {
        return;
    }

    /* the set: the old one without the Services not named now */

    set = ngx_alloc(sc->nnames * sizeof(uint64_t) + 1, log);
    if (set == NULL) {
        return;
    }

    nset = 0;

    for (i = 0; i < sc->nnames; i++) {
        if (bsearch(&sc->names[i], ctx->names, ctx->n, sizeof(uint64_t),
                    ngx_http_k8s_gen_hash_cmp))
        {
            set[nset++] = sc->names[i];
        }
    }

    ctx->removed = 0;

    ngx_http_k8s_scache_begin(table, kind);

    rc = ngx_http_k8s_scache_load(table, kind, ngx_http_k8s_gen_prune_object,
                                  ctx);

    if (rc != NGX_OK) {
        (void) ngx_http_k8s_scache_drop(table, log, "unreadable");

    } else if (ctx->removed || nset != sc->nnames) {
        (void) ngx_http_k8s_scache_commit(table, kind, set, nset, sc->server,
                                          log);

        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "k8s_zone \"%V\": %ui %s of services no "
                      "configuration names removed from the watcher's cache",
                      &table->name, ctx->removed,
                      kind == NGX_HTTP_K8S_RES_SLICES
                      ? "EndpointSlice(s)" : "Service(s)");
    }

    ngx_http_k8s_scache_end(table, kind, NULL);

    ngx_free(set);
}


static ngx_int_t
ngx_http_k8s_gen_prune_object(void *data, ngx_str_t *service, ngx_str_t *json)
{
    ngx_http_k8s_prune_ctx_t *ctx = data;

    uint64_t  hash;

    hash = ngx_http_k8s_scache_hash(service->data, service->len);

    if (bsearch(&hash, ctx->names, ctx->n, sizeof(uint64_t),
                ngx_http_k8s_gen_hash_cmp))
    {
        return NGX_OK;
    }

    ctx->removed++;

    return NGX_DECLINED;
}


static int ngx_libc_cdecl
ngx_http_k8s_gen_hash_cmp(const void *one, const void *two)
{
    uint64_t  a, b;

    a = *(const uint64_t *) one;
    b = *(const uint64_t *) two;

    return (a < b) ? -1 : (a > b);
}
