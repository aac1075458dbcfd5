
/*
 * kubengx: the watcher's writer lease and what taking it starts (see
 * ngx_http_k8s_watcher.h).
 *
 * The lease (a pid and a heartbeat in the zone, ngx_http_k8s_table.c)
 * makes one process the table's writer, so that the old and the new
 * worker 0 never write at the same time during a reload.  The watcher
 * retries it every NGX_HTTP_K8S_LEASE_RETRY ms for the first
 * NGX_HTTP_K8S_LEASE_FAST ms of waiting (the old worker 0 hands it over
 * as it starts shutting down), then every NGX_HTTP_K8S_WATCH_TICK, and
 * heartbeats it at least every half tick while it holds it; a writer
 * that lost it (a stalled worker whose lease expired) stops its transfers
 * and will relist.
 *
 * When the lease is first taken (not at process start: during a reload
 * the old worker 0 may still be writing until it hands the lease over),
 * the watcher resumes each resource (EndpointSlices, Services) from its
 * cache in the zone when it can: the cache is complete, not half-written,
 * for the same API server and covers every Service of this
 * configuration.  Then the private cache is rebuilt from it and that
 * list/watch machine starts at the WATCH stage from the stored
 * resourceVersion (kube_lw_resume()); otherwise that resource is listed.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_watcher.h"


static void ngx_http_k8s_lease_acquired(ngx_http_k8s_watcher_t *w);
static void ngx_http_k8s_lease_resume(ngx_http_k8s_watcher_t *w);


/* NGX_OK while this process holds the lease, NGX_DECLINED otherwise */

ngx_int_t
ngx_http_k8s_lease_keep(ngx_http_k8s_watcher_t *w)
{
    ngx_uint_t  i;

    if (!w->leader) {
        if (ngx_http_k8s_table_lease_acquire(w->table, ngx_pid,
                                             ngx_current_msec)
            != NGX_OK)
        {
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, w->log, 0,
                           "k8s watcher: lease held by another process");
            ngx_http_k8s_watch_publish(w, NULL);
            return NGX_DECLINED;
        }

        w->leader = 1;
        w->last_heartbeat = ngx_current_msec;

        ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                      "k8s watcher: writer lease acquired by pid %P",
                      ngx_pid);

        ngx_http_k8s_lease_acquired(w);

        return NGX_OK;
    }

    if (ngx_current_msec - w->last_heartbeat < NGX_HTTP_K8S_WATCH_TICK / 2) {
        return NGX_OK;
    }

    if (ngx_http_k8s_table_lease_heartbeat(w->table, ngx_pid,
                                           ngx_current_msec)
        != NGX_OK)
    {
        /* lost it (a stalled worker whose lease expired) */
        ngx_log_error(NGX_LOG_WARN, w->log, 0,
                      "k8s watcher: writer lease lost, stopping");
        w->leader = 0;

        for (i = 0; i < NGX_HTTP_K8S_RES_N; i++) {
            ngx_http_k8s_watch_stop(&w->watch[i]);
            kube_lw_relist(w->watch[i].lw, ngx_current_msec);
        }

        return NGX_DECLINED;
    }

    w->last_heartbeat = ngx_current_msec;

    return NGX_OK;
}


/* the writer lease was just taken */

static void
ngx_http_k8s_lease_acquired(ngx_http_k8s_watcher_t *w)
{
    ngx_uint_t  relists, errors, own_relists, own_errors;

    /*
     * The counters stored so far include ours, if we held the lease
     * before: the base is the rest (earlier generations).
     */

    ngx_http_k8s_table_watch_counters(w->table, &relists, &errors);
    ngx_http_k8s_watch_counters(w, &own_relists, &own_errors);

    w->relists_base = relists > own_relists ? relists - own_relists : 0;
    w->errors_base = errors > own_errors ? errors - own_errors : 0;

    if (!w->started) {
        w->started = 1;
        ngx_http_k8s_lease_resume(w);
    }
}


/* what a resume takes from the zone, per resource */
typedef struct {
    const char                  *what;      /* in the log */
    ngx_int_t                  (*load)(ngx_http_k8s_watcher_t *w);
    void                       (*free)(ngx_http_k8s_wsvc_t *svc);
} ngx_http_k8s_lease_res_t;


/* in NGX_HTTP_K8S_RES_* order */
static ngx_http_k8s_lease_res_t  ngx_http_k8s_lease_res[] = {
    { "EndpointSlice", ngx_http_k8s_slices_load, ngx_http_k8s_slices_free },
    { "Service", ngx_http_k8s_services_load, ngx_http_k8s_services_free },
};


/*
 * At the first lease, per resource: if the zone holds a complete cache
 * for all our Services (written by the previous worker 0 of this zone),
 * rebuild the private cache from it and watch from its resourceVersion;
 * else that resource is listed as usual.  Under the lease, so the
 * previous writer is gone or stopped.  The table is written once both
 * resources are listed or resumed (ngx_http_k8s_endpoints_listed()).
 */

static void
ngx_http_k8s_lease_resume(ngx_http_k8s_watcher_t *w)
{
    ngx_uint_t                  res, i;
    const char                 *why;
    ngx_http_k8s_lease_res_t   *r;
    ngx_http_k8s_scache_info_t  info;

    for (res = 0; res < NGX_HTTP_K8S_RES_N; res++) {
        r = &ngx_http_k8s_lease_res[res];

        if (ngx_http_k8s_scache_usable(w->table, res, w->names, w->nsvcs,
                                       w->server, &info, &why)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                          "k8s watcher: listing %ss: %s", r->what, why);
            continue;
        }

        if (r->load(w) != NGX_OK
            || kube_lw_resume(w->watch[res].lw, (char *) info.rv) != 0)
        {
            ngx_log_error(NGX_LOG_WARN, w->log, 0,
                          "k8s watcher: the %s cache in the zone is "
                          "unusable, listing", r->what);

            for (i = 0; i < w->nsvcs; i++) {
                r->free(&w->svcs[i]);
            }

            continue;
        }

        /* the cache now covers exactly our Services (ours may be fewer) */

        ngx_http_k8s_scache_begin(w->table, res);
        (void) ngx_http_k8s_scache_commit(w->table, res, w->names, w->nsvcs,
                                          w->server, w->log);
        ngx_http_k8s_scache_end(w->table, res, NULL);

        ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                      "k8s watcher: %ui %s(s) taken from the zone, "
                      "watching from resourceVersion %s without a list",
                      info.nobjects, r->what, info.rv);

        /* the table has these lists already: only differences are written */

        ngx_http_k8s_endpoints_listed(w, res);
    }
}
