
/*
 * kubengx: the balancer of k8s_service and k8s_dispatch upstreams, the
 * part common to every method (balance=, ngx_http_k8s_balance_*.c): peer
 * init/get/free, nginx's passive health checks (max_fails,
 * fail_timeout), retries onto other endpoints, zone preference
 * (k8s_local_zone) and the EWMA samples.  The options and the upstream
 * set-up are ngx_http_k8s_balancer_conf.c.
 *
 * init_peer takes a reference on the current version and registers a
 * request pool cleanup that drops it; the version is immutable, so the
 * "tried" bitmap sized for it and the peer names given to nginx (as
 * $upstream_addr) stay valid for the whole request, whatever the writer
 * publishes meanwhile.  The per-request cost: an rwlock round trip to
 * take the reference, one for the pick and one for the result; the zone
 * hints come parsed with the version.  A Service without endpoints makes
 * get_peer answer "no peer" and marks the request, which
 * ngx_http_k8s_unavailable.c turns into a 503.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_table.h"
#include "ngx_http_k8s_balancer.h"
#include "ngx_http_k8s_canary.h"


static ngx_int_t ngx_http_k8s_get_peer(ngx_peer_connection_t *pc,
    void *data);
static void ngx_http_k8s_free_peer(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state);
static void ngx_http_k8s_peer_cleanup(void *data);
static ngx_int_t ngx_http_k8s_zone_prefer(ngx_http_k8s_peer_data_t *kpd,
    ngx_str_t *zone, ngx_pool_t *pool);
static ngx_int_t ngx_http_k8s_zone_exclude(ngx_http_k8s_peer_data_t *kpd,
    ngx_str_t *zone, ngx_pool_t *pool);



static ngx_str_t  ngx_http_k8s_no_backend = ngx_string("k8s-no-backend");


ngx_http_k8s_pick_pt  ngx_http_k8s_picks[] = {
    ngx_http_k8s_pick_rr,
    ngx_http_k8s_pick_least_conn,
    ngx_http_k8s_pick_random,
    ngx_http_k8s_pick_random_two,
    ngx_http_k8s_pick_ewma,
    ngx_http_k8s_pick_hash,
    ngx_http_k8s_pick_chash
};


ngx_int_t
ngx_http_k8s_init_peer(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us)
{
    ngx_http_k8s_key_t        *key, *primary;
    ngx_http_k8s_loc_conf_t   *klcf;
    ngx_http_k8s_srv_conf_t   *kscf;
    ngx_http_k8s_main_conf_t  *kmcf;
    ngx_http_k8s_peer_data_t  *kpd;

    kscf = ngx_http_conf_upstream_srv_conf(us, ngx_http_k8s_module);
    klcf = ngx_http_get_module_loc_conf(r, ngx_http_k8s_module);

    if (kscf->dispatch) {
        key = klcf->backend;

    } else {
        key = kscf->key;
    }

    /* k8s_canary: the canary Service port instead, if the settings say */

    primary = key;

    if (klcf->canary && key) {
        key = ngx_http_k8s_canary_route(r, key);
    }

    kpd = ngx_pcalloc(r->pool, sizeof(ngx_http_k8s_peer_data_t));
    if (kpd == NULL) {
        return NGX_ERROR;
    }

    kpd->conf = kscf;
    kpd->key = key;
    kpd->request = r;
    kpd->pick = ngx_http_k8s_picks[kscf->balance];

    r->upstream->peer.data = kpd;
    r->upstream->peer.get = ngx_http_k8s_get_peer;
    r->upstream->peer.free = ngx_http_k8s_free_peer;
    r->upstream->peer.tries = 1;

#if (NGX_HTTP_SSL)
    r->upstream->peer.set_session = ngx_http_k8s_set_session;
    r->upstream->peer.save_session = ngx_http_k8s_save_session;
#endif

    if (key == NULL || key->entry == NULL) {
        return NGX_OK;
    }

    /* the key is evaluated before the version is referenced */

    if (kscf->hash
        && ngx_http_complex_value(r, kscf->hash, &kpd->hash_key) != NGX_OK)
    {
        return NGX_ERROR;
    }

    kmcf = ngx_http_get_module_main_conf(r, ngx_http_k8s_module);

    if (ngx_http_k8s_balancer_acquire(kpd, r->pool, &kmcf->local_zone)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (kpd->peers) {
        r->upstream->peer.tries = kpd->peers->number;

        if (klcf->affinity) {
            ngx_http_k8s_affinity_init(kpd, klcf->affinity, key != primary);
        }
    }

    return NGX_OK;
}


/*
 * The part of init_peer common to HTTP and stream (ngx_stream_k8s_*.c):
 * kpd's conf, key (with an entry), pick and hash_key are set.  Takes a
 * reference on the key's current version for the life of pool (NGX_OK
 * with kpd->peers NULL when the Service has no list), sizes the "tried"
 * bitmap, and prepares the consistent hash and the zone preference.
 */

ngx_int_t
ngx_http_k8s_balancer_acquire(ngx_http_k8s_peer_data_t *kpd,
    ngx_pool_t *pool, ngx_str_t *local_zone)
{
    ngx_uint_t             n;
    ngx_pool_cleanup_t    *cln;
    ngx_http_k8s_ring_t   *ring;

    /* the cleanup first: nothing may fail once the reference is taken */

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    kpd->peers = ngx_http_k8s_table_acquire(kpd->key->entry);

    if (kpd->peers == NULL) {
        return NGX_OK;
    }

    cln->handler = ngx_http_k8s_peer_cleanup;
    cln->data = kpd->peers;

    n = kpd->peers->number;

    if (n <= 8 * sizeof(uintptr_t)) {
        kpd->tried = &kpd->data;

    } else {
        n = (n + (8 * sizeof(uintptr_t) - 1)) / (8 * sizeof(uintptr_t));

        kpd->tried = ngx_pcalloc(pool, n * sizeof(uintptr_t));
        if (kpd->tried == NULL) {
            return NGX_ERROR;
        }
    }

    if (kpd->conf->balance == NGX_HTTP_K8S_BALANCE_CHASH) {
        ring = (ngx_http_k8s_ring_t *) (uintptr_t) kpd->peers->ring;

        if (ring == NULL) {
            /* the zone had no room for the ring */
            kpd->pick = ngx_http_k8s_pick_hash;

        } else if (kpd->hash_key.len) {
            ngx_http_k8s_chash_start(kpd, ring);
        }
    }

    if (local_zone->len
        && kpd->peers->all_hinted
        && kpd->peers->number > 1)
    {
        if (ngx_http_k8s_zone_prefer(kpd, local_zone, pool) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * Topology aware routing, kube-proxy's rule: when every endpoint carries
 * hints.forZones and some name the local zone, only those are used; the
 * others are excluded until none of those is usable any more (all tried
 * or failed), then every endpoint is.  The hints are parsed once per
 * version, for the local zone of the configuration that published it
 * (ngx_http_k8s_excl_t); a configuration with another k8s_local_zone
 * (until the Service's next change after a reload) parses them per
 * request.
 */

static ngx_int_t
ngx_http_k8s_zone_prefer(ngx_http_k8s_peer_data_t *kpd, ngx_str_t *zone,
    ngx_pool_t *pool)
{
    ngx_http_k8s_excl_t  *excl;

    excl = (ngx_http_k8s_excl_t *) (uintptr_t) kpd->peers->excl;

    if (excl == NULL
        || excl->zone.len != zone->len
        || ngx_strncmp(excl->zone.data, zone->data, zone->len) != 0)
    {
        return ngx_http_k8s_zone_exclude(kpd, zone, pool);
    }

    /* no endpoint for this zone: all of them */

    kpd->excluded = excl->local ? excl->excluded : NULL;

    return NGX_OK;
}


static ngx_int_t
ngx_http_k8s_zone_exclude(ngx_http_k8s_peer_data_t *kpd, ngx_str_t *zone,
    ngx_pool_t *pool)
{
    ngx_uint_t             i, n, local;
    ngx_http_k8s_peers_t  *peers;

    peers = kpd->peers;
    n = peers->number;

    if (n <= 8 * sizeof(uintptr_t)) {
        kpd->excluded = &kpd->excluded_data;

    } else {
        kpd->excluded = ngx_pcalloc(pool, ((n + (8 * sizeof(uintptr_t) - 1))
                                           / (8 * sizeof(uintptr_t)))
                                          * sizeof(uintptr_t));
        if (kpd->excluded == NULL) {
            return NGX_ERROR;
        }
    }

    local = 0;

    for (i = 0; i < n; i++) {

        if (ngx_http_k8s_hints_name(&peers->slot[i].peer->hints, zone)) {
            local++;
            continue;
        }

        kpd->excluded[ngx_http_k8s_bit_word(i)] |= ngx_http_k8s_bit_mask(i);
    }

    if (local == 0) {
        /* no endpoint for this zone: all of them */
        kpd->excluded = NULL;
    }

    return NGX_OK;
}


static void
ngx_http_k8s_peer_cleanup(void *data)
{
    ngx_http_k8s_peers_t  *peers = data;

    ngx_http_k8s_table_release(peers);
}


static ngx_int_t
ngx_http_k8s_get_peer(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_k8s_peer_data_t  *kpd = data;

    ngx_int_t              rc;
    ngx_http_k8s_entry_t  *entry;

    pc->cached = 0;
    pc->connection = NULL;
    kpd->current = NULL;

    if (kpd->peers == NULL) {
        if (kpd->key == NULL) {
            ngx_log_error(NGX_LOG_ERR, pc->log, 0,
                          "k8s: no \"k8s_backend\" in this location for "
                          "the \"k8s_dispatch\" upstream");
            pc->name = &ngx_http_k8s_no_backend;

        } else {
            entry = kpd->key->entry;
            ngx_http_k8s_unavailable(kpd->request, pc->log, kpd->key,
                                     entry ? entry->state
                                           : NGX_HTTP_K8S_UNSYNCED);
            pc->name = &kpd->key->key;
        }

        return NGX_BUSY;
    }

    rc = ngx_http_k8s_balancer_pick(kpd, pc);

    if (rc == NGX_OK && kpd->affinity
        && ngx_http_k8s_affinity_done(kpd) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return rc;
}


/* get_peer with a version (kpd->peers): HTTP and stream */

ngx_int_t
ngx_http_k8s_balancer_pick(ngx_http_k8s_peer_data_t *kpd,
    ngx_peer_connection_t *pc)
{
    ngx_uint_t                 p;
    ngx_http_k8s_peer_t       *best;
    ngx_http_k8s_entry_t      *entry;
    ngx_http_k8s_peers_t      *peers;

    peers = kpd->peers;
    entry = kpd->key->entry;

    ngx_http_k8s_entry_wlock(entry);

    if (peers->number == 1) {

        /* like nginx, a single endpoint is never taken out */

        p = 0;
        best = peers->slot[0].peer;

    } else {

        kpd->now = ngx_time();

        p = kpd->pick(kpd);

        if (p == NGX_HTTP_K8S_NONE && kpd->excluded) {

            /* no usable endpoint in the local zone: any zone */

            kpd->excluded = NULL;
            p = kpd->pick(kpd);
        }

        if (p == NGX_HTTP_K8S_NONE) {
            ngx_http_k8s_entry_unlock(entry);
            pc->name = &kpd->key->key;
            return NGX_BUSY;
        }

        best = peers->slot[p].peer;

        if (kpd->now - best->checked > kpd->conf->fail_timeout) {
            best->checked = kpd->now;
        }
    }

    best->conns++;
    best->requests++;

    ngx_http_k8s_entry_unlock(entry);

    kpd->tried[ngx_http_k8s_bit_word(p)] |= ngx_http_k8s_bit_mask(p);

    kpd->current = best;

    /* immutable while this request holds its version */

    pc->sockaddr = &best->u.sockaddr;
    pc->socklen = best->socklen;
    pc->name = &best->name;

    return NGX_OK;
}


static void
ngx_http_k8s_free_peer(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state)
{
    ngx_http_k8s_peer_data_t  *kpd = data;

    ngx_msec_t                 rtt;
    ngx_http_upstream_t       *u;

    if (kpd->current == NULL) {
        pc->tries = 0;
        return;
    }

    /*
     * the EWMA sample: the time to the response header; without one (a
     * failure, or free before the header), the time of this try so far
     */

    rtt = NGX_HTTP_K8S_NO_RTT;

    if (kpd->conf->balance == NGX_HTTP_K8S_BALANCE_EWMA) {
        u = kpd->request->upstream;

        if (u->state && u->state->header_time != (ngx_msec_t) -1) {
            rtt = u->state->header_time;

        } else {
            rtt = ngx_current_msec - u->start_time;
        }
    }

    ngx_http_k8s_balancer_done(kpd, pc, state, rtt);
}


/*
 * free_peer with a current endpoint: HTTP and stream.  The passive health
 * checks (max_fails, fail_timeout) and, unless rtt is
 * NGX_HTTP_K8S_NO_RTT, an EWMA sample.
 */

void
ngx_http_k8s_balancer_done(ngx_http_k8s_peer_data_t *kpd,
    ngx_peer_connection_t *pc, ngx_uint_t state, ngx_msec_t rtt)
{
    time_t                     now;
    ngx_uint_t                 max_fails;
    ngx_http_k8s_peer_t       *peer;
    ngx_http_k8s_entry_t      *entry;

    peer = kpd->current;
    kpd->current = NULL;
    entry = kpd->key->entry;
    max_fails = kpd->conf->max_fails;

    ngx_http_k8s_entry_wlock(entry);

    if (rtt != NGX_HTTP_K8S_NO_RTT) {
        ngx_http_k8s_ewma_update(peer, rtt, ngx_current_msec);
    }

    if (kpd->peers->number == 1) {
        peer->conns--;
        ngx_http_k8s_entry_unlock(entry);

        pc->tries = 0;
        return;
    }

    if (state & NGX_PEER_FAILED) {
        now = ngx_time();

        peer->fails++;
        peer->failures++;
        peer->accessed = now;
        peer->checked = now;

        if (max_fails) {
            peer->effective_weight -= 1 / (ngx_int_t) max_fails;

            if (peer->effective_weight < 0) {
                peer->effective_weight = 0;
            }

            if (peer->fails == max_fails) {
                ngx_log_error(NGX_LOG_WARN, pc->log, 0,
                              "k8s: endpoint %V of service \"%V\" "
                              "temporarily disabled",
                              &peer->name, &kpd->key->key);
            }
        }

    } else if (peer->accessed < peer->checked) {
        peer->fails = 0;
    }

    peer->conns--;

    ngx_http_k8s_entry_unlock(entry);

    if (pc->tries) {
        pc->tries--;
    }
}


/*
 * nginx calls these unconditionally with proxy_ssl_session_reuse (the
 * default), in http and stream; sessions are not cached per endpoint yet.
 */

ngx_int_t
ngx_http_k8s_set_session(ngx_peer_connection_t *pc, void *data)
{
    return NGX_OK;
}


void
ngx_http_k8s_save_session(ngx_peer_connection_t *pc, void *data)
{
    return;
}
