
/*
 * kubengx: the balancer of k8s_service and k8s_dispatch upstreams, the
 * part common to every method (balance=, ngx_http_k8s_balance_*.c):
 * options, peer init/get/free, nginx's passive health checks (max_fails,
 * fail_timeout), retries onto other endpoints, zone preference
 * (k8s_local_zone) and the EWMA samples.
 *
 * init_peer takes a reference on the current version and registers a
 * request pool cleanup that drops it; the version is immutable, so the
 * "tried" bitmap sized for it and the peer names given to nginx (as
 * $upstream_addr) stay valid for the whole request, whatever the writer
 * publishes meanwhile.  The per-request cost: an rwlock round trip to
 * take the reference, one for the pick and one for the result.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_table.h"
#include "ngx_http_k8s_balancer.h"


static ngx_int_t ngx_http_k8s_init_peer(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us);
static ngx_int_t ngx_http_k8s_get_peer(ngx_peer_connection_t *pc,
    void *data);
static void ngx_http_k8s_free_peer(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state);
static void ngx_http_k8s_peer_cleanup(void *data);
static void ngx_http_k8s_log_unavailable(ngx_log_t *log,
    ngx_http_k8s_key_t *key, ngx_uint_t state);
static ngx_int_t ngx_http_k8s_zone_exclude(ngx_http_k8s_peer_data_t *kpd,
    ngx_str_t *zone, ngx_pool_t *pool);

#if (NGX_HTTP_SSL)
static ngx_int_t ngx_http_k8s_set_session(ngx_peer_connection_t *pc,
    void *data);
static void ngx_http_k8s_save_session(ngx_peer_connection_t *pc,
    void *data);
#endif


static ngx_str_t  ngx_http_k8s_no_backend = ngx_string("k8s-no-backend");


/* indexed by NGX_HTTP_K8S_BALANCE_* */

ngx_str_t  ngx_http_k8s_balance_names[] = {
    ngx_string("round_robin"),
    ngx_string("least_conn"),
    ngx_string("random"),
    ngx_string("random_two"),
    ngx_string("ewma"),
    ngx_string("hash"),
    ngx_string("consistent_hash"),
    ngx_null_string
};


static ngx_http_k8s_pick_pt  ngx_http_k8s_picks[] = {
    ngx_http_k8s_pick_rr,
    ngx_http_k8s_pick_least_conn,
    ngx_http_k8s_pick_random,
    ngx_http_k8s_pick_random_two,
    ngx_http_k8s_pick_ewma,
    ngx_http_k8s_pick_hash,
    ngx_http_k8s_pick_chash
};


char *
ngx_http_k8s_service(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_k8s_srv_conf_t *kscf = conf;

    char                          *rv;
    ngx_str_t                     *value;
    ngx_uint_t                     i;
    ngx_http_upstream_srv_conf_t  *uscf;

    if (kscf->key || kscf->dispatch) {
        return "is duplicate";
    }

    value = cf->args->elts;

    kscf->key = ngx_http_k8s_register_key(cf, value, cf->args->nelts, &i);
    if (kscf->key == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_k8s_balancer_options(cf, value, i, kscf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    uscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_upstream_module);

    rv = ngx_http_k8s_upstream_prepare(cf, uscf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    return NGX_CONF_OK;
}


/*
 * max_fails=N fail_timeout=T balance=METHOD hash=KEY consistent, from
 * value[i] on
 */

ngx_int_t
ngx_http_k8s_balancer_options(ngx_conf_t *cf, ngx_str_t *value, ngx_uint_t i,
    ngx_http_k8s_srv_conf_t *kscf)
{
    time_t                             t;
    ngx_int_t                          n;
    ngx_str_t                          s;
    ngx_uint_t                         m, balance, consistent;
    ngx_http_compile_complex_value_t   ccv;

    balance = NGX_CONF_UNSET_UINT;
    consistent = 0;

    for ( /* void */ ; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "max_fails=", 10) == 0) {

            n = ngx_atoi(value[i].data + 10, value[i].len - 10);

            if (n == NGX_ERROR) {
                goto invalid;
            }

            kscf->max_fails = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "fail_timeout=", 13) == 0) {

            s.len = value[i].len - 13;
            s.data = &value[i].data[13];

            t = ngx_parse_time(&s, 1);

            if (t == (time_t) NGX_ERROR) {
                goto invalid;
            }

            kscf->fail_timeout = t;
            continue;
        }

        if (ngx_strncmp(value[i].data, "balance=", 8) == 0) {

            s.len = value[i].len - 8;
            s.data = &value[i].data[8];

            for (m = 0; m < NGX_HTTP_K8S_BALANCE_CHASH; m++) {
                if (s.len == ngx_http_k8s_balance_names[m].len
                    && ngx_strncmp(s.data, ngx_http_k8s_balance_names[m].data,
                                   s.len) == 0)
                {
                    break;
                }
            }

            if (m == NGX_HTTP_K8S_BALANCE_CHASH) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "unsupported balancing method \"%V\": "
                                   "round_robin, least_conn, random, "
                                   "random_two, ewma or hash", &value[i]);
                return NGX_ERROR;
            }

            if (balance != NGX_CONF_UNSET_UINT) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "duplicate \"balance=\"");
                return NGX_ERROR;
            }

            balance = m;
            continue;
        }

        if (ngx_strncmp(value[i].data, "hash=", 5) == 0) {

            if (kscf->hash) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "duplicate \"hash=\"");
                return NGX_ERROR;
            }

            s.len = value[i].len - 5;
            s.data = &value[i].data[5];

            if (s.len == 0) {
                goto invalid;
            }

            kscf->hash = ngx_palloc(cf->pool,
                                    sizeof(ngx_http_complex_value_t));
            if (kscf->hash == NULL) {
                return NGX_ERROR;
            }

            ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

            ccv.cf = cf;
            ccv.value = &s;
            ccv.complex_value = kscf->hash;

            if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
                return NGX_ERROR;
            }

            continue;
        }

        if (value[i].len == 10
            && ngx_strncmp(value[i].data, "consistent", 10) == 0)
        {
            consistent = 1;
            continue;
        }

        if (ngx_strncmp(value[i].data, "port=", 5) == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"port=\" must follow the service name");
            return NGX_ERROR;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_ERROR;
    }

    /* hash=KEY alone means balance=hash */

    if (balance == NGX_CONF_UNSET_UINT) {
        balance = kscf->hash ? NGX_HTTP_K8S_BALANCE_HASH
                             : NGX_HTTP_K8S_BALANCE_RR;
    }

    if (balance == NGX_HTTP_K8S_BALANCE_HASH && kscf->hash == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"balance=hash\" requires \"hash=KEY\"");
        return NGX_ERROR;
    }

    if (balance != NGX_HTTP_K8S_BALANCE_HASH && kscf->hash) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"hash=\" requires \"balance=hash\"");
        return NGX_ERROR;
    }

    if (consistent) {
        if (balance != NGX_HTTP_K8S_BALANCE_HASH) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"consistent\" requires \"hash=KEY\"");
            return NGX_ERROR;
        }

        balance = NGX_HTTP_K8S_BALANCE_CHASH;
    }

    kscf->balance = balance;

    return NGX_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\"", &value[i]);
    return NGX_ERROR;
}


/*
 * Makes the upstream block ours: our init_upstream, and one placeholder
 * server, because nginx refuses an upstream {} without one ("no servers
 * are inside upstream") and the zone module needs round robin data.
 */

char *
ngx_http_k8s_upstream_prepare(ngx_conf_t *cf,
    ngx_http_upstream_srv_conf_t *uscf)
{
    ngx_url_t                    u;
    ngx_http_upstream_server_t  *us;

    if (uscf->peer.init_upstream) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must come first in the upstream block: "
                           "another balancer or \"keepalive\" is already "
                           "set (put \"keepalive\" after it)",
                           &((ngx_str_t *) cf->args->elts)[0]);
        return NGX_CONF_ERROR;
    }

    if (uscf->servers == NULL || uscf->servers->nelts) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" cannot be combined with \"server\"",
                           &((ngx_str_t *) cf->args->elts)[0]);
        return NGX_CONF_ERROR;
    }

    uscf->peer.init_upstream = ngx_http_k8s_init_upstream;

    /* no weight=, backup= ... on "server": those are refused anyway */
    uscf->flags = NGX_HTTP_UPSTREAM_CREATE;

    ngx_memzero(&u, sizeof(ngx_url_t));

    ngx_str_set(&u.url, "127.0.0.1:1");
    u.default_port = 80;
    u.no_resolve = 1;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    us = ngx_array_push(uscf->servers);
    if (us == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(us, sizeof(ngx_http_upstream_server_t));

    us->name = u.url;
    us->addrs = u.addrs;
    us->naddrs = u.naddrs;
    us->weight = 1;
    us->max_fails = 1;
    us->fail_timeout = 10;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_k8s_init_upstream(ngx_conf_t *cf, ngx_http_upstream_srv_conf_t *us)
{
    ngx_http_k8s_srv_conf_t   *kscf;
    ngx_http_k8s_main_conf_t  *kmcf;

    kscf = ngx_http_conf_upstream_srv_conf(us, ngx_http_k8s_module);

    if (us->servers->nelts != 1) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"server\" cannot be used in upstream \"%V\" "
                      "with \"k8s_service\" or \"k8s_dispatch\" in %s:%ui",
                      &us->host, us->file_name, us->line);
        return NGX_ERROR;
    }

    /* round robin data for the placeholder keeps "zone" working */

    if (ngx_http_upstream_init_round_robin(cf, us) != NGX_OK) {
        return NGX_ERROR;
    }

    us->peer.init = ngx_http_k8s_init_peer;

    ngx_conf_init_uint_value(kscf->max_fails, 1);
    ngx_conf_init_value(kscf->fail_timeout, 10);

    /* tell the table which per-version data the methods need */

    if (kscf->dispatch) {
        kmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_k8s_module);
        kmcf->dispatch_balance |= NGX_HTTP_K8S_BALANCE_BIT(kscf->balance);

    } else if (kscf->key) {
        kscf->key->balance |= NGX_HTTP_K8S_BALANCE_BIT(kscf->balance);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_k8s_init_peer(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us)
{
    ngx_uint_t                 n;
    ngx_pool_cleanup_t        *cln;
    ngx_http_k8s_key_t        *key;
    ngx_http_k8s_ring_t       *ring;
    ngx_http_k8s_loc_conf_t   *klcf;
    ngx_http_k8s_srv_conf_t   *kscf;
    ngx_http_k8s_main_conf_t  *kmcf;
    ngx_http_k8s_peer_data_t  *kpd;

    kscf = ngx_http_conf_upstream_srv_conf(us, ngx_http_k8s_module);

    if (kscf->dispatch) {
        klcf = ngx_http_get_module_loc_conf(r, ngx_http_k8s_module);
        key = klcf->backend;

    } else {
        key = kscf->key;
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

    /* the cleanup first: nothing may fail once the reference is taken */

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    kpd->peers = ngx_http_k8s_table_acquire(key->entry);

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

        kpd->tried = ngx_pcalloc(r->pool, n * sizeof(uintptr_t));
        if (kpd->tried == NULL) {
            return NGX_ERROR;
        }
    }

    r->upstream->peer.tries = kpd->peers->number;

    if (kscf->balance == NGX_HTTP_K8S_BALANCE_CHASH) {
        ring = (ngx_http_k8s_ring_t *) (uintptr_t) kpd->peers->ring;

        if (ring == NULL) {
            /* the zone had no room for the ring */
            kpd->pick = ngx_http_k8s_pick_hash;

        } else if (kpd->hash_key.len) {
            ngx_http_k8s_chash_start(kpd, ring);
        }
    }

    kmcf = ngx_http_get_module_main_conf(r, ngx_http_k8s_module);

    if (kmcf->local_zone.len
        && kpd->peers->all_hinted
        && kpd->peers->number > 1)
    {
        if (ngx_http_k8s_zone_exclude(kpd, &kmcf->local_zone, r->pool)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * Topology aware routing, kube-proxy's rule: when every endpoint carries
 * hints.forZones and some name the local zone, only those are used; the
 * others are excluded until none of those is usable any more (all tried
 * or failed), then every endpoint is.
 */

static ngx_int_t
ngx_http_k8s_zone_exclude(ngx_http_k8s_peer_data_t *kpd, ngx_str_t *zone,
    ngx_pool_t *pool)
{
    u_char                *p, *last, *comma;
    ngx_uint_t             i, n, local;
    ngx_http_k8s_peer_t   *peer;
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
        peer = peers->slot[i].peer;

        p = peer->hints.data;
        last = p + peer->hints.len;

        while (p < last) {
            comma = ngx_strlchr(p, last, ',');
            if (comma == NULL) {
                comma = last;
            }

            if ((size_t) (comma - p) == zone->len
                && ngx_strncmp(p, zone->data, zone->len) == 0)
            {
                break;
            }

            p = comma + 1;
        }

        if (p < last) {
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

    ngx_uint_t                 p;
    ngx_http_k8s_peer_t       *best;
    ngx_http_k8s_entry_t      *entry;
    ngx_http_k8s_peers_t      *peers;

    pc->cached = 0;
    pc->connection = NULL;
    kpd->current = NULL;

    peers = kpd->peers;

    if (peers == NULL) {
        if (kpd->key == NULL) {
            ngx_log_error(NGX_LOG_ERR, pc->log, 0,
                          "k8s: no \"k8s_backend\" in this location for "
                          "the \"k8s_dispatch\" upstream");
            pc->name = &ngx_http_k8s_no_backend;

        } else {
            entry = kpd->key->entry;
            ngx_http_k8s_log_unavailable(pc->log, kpd->key,
                                         entry ? entry->state
                                               : NGX_HTTP_K8S_UNSYNCED);
            pc->name = &kpd->key->key;
        }

        return NGX_BUSY;
    }

    entry = kpd->key->entry;

    ngx_rwlock_wlock(&entry->lock);

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
            ngx_rwlock_unlock(&entry->lock);
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

    ngx_rwlock_unlock(&entry->lock);

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

    time_t                     now;
    ngx_msec_t                 rtt;
    ngx_uint_t                 max_fails, ewma;
    ngx_http_upstream_t       *u;
    ngx_http_k8s_peer_t       *peer;
    ngx_http_k8s_entry_t      *entry;

    peer = kpd->current;

    if (peer == NULL) {
        pc->tries = 0;
        return;
    }

    kpd->current = NULL;
    entry = kpd->key->entry;
    max_fails = kpd->conf->max_fails;

    /*
     * the EWMA sample: the time to the response header; without one (a
     * failure, or free before the header), the time of this try so far
     */

    ewma = (kpd->conf->balance == NGX_HTTP_K8S_BALANCE_EWMA);
    rtt = 0;

    if (ewma) {
        u = kpd->request->upstream;

        if (u->state && u->state->header_time != (ngx_msec_t) -1) {
            rtt = u->state->header_time;

        } else {
            rtt = ngx_current_msec - u->start_time;
        }
    }

    ngx_rwlock_wlock(&entry->lock);

    if (ewma) {
        ngx_http_k8s_ewma_update(peer, rtt, ngx_current_msec);
    }

    if (kpd->peers->number == 1) {
        peer->conns--;
        ngx_rwlock_unlock(&entry->lock);

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

    ngx_rwlock_unlock(&entry->lock);

    if (pc->tries) {
        pc->tries--;
    }
}


#if (NGX_HTTP_SSL)

/*
 * nginx calls these unconditionally with proxy_ssl_session_reuse (the
 * default); sessions are not cached per endpoint yet.
 */

static ngx_int_t
ngx_http_k8s_set_session(ngx_peer_connection_t *pc, void *data)
{
    return NGX_OK;
}


static void
ngx_http_k8s_save_session(ngx_peer_connection_t *pc, void *data)
{
    return;
}

#endif


/*
 * Precontent phase: answer 503 for a location whose Service has no
 * endpoint, instead of letting the balancer make nginx answer 502.
 */

ngx_int_t
ngx_http_k8s_unavailable_handler(ngx_http_request_t *r)
{
    ngx_uint_t                state;
    ngx_http_k8s_key_t       *key;
    ngx_http_k8s_entry_t     *entry;
    ngx_http_k8s_loc_conf_t  *klcf;

    klcf = ngx_http_get_module_loc_conf(r, ngx_http_k8s_module);

    key = klcf->check;

    if (key == NULL || key->entry == NULL) {
        return NGX_DECLINED;
    }

    entry = key->entry;
    state = entry->state;

    if (state == NGX_HTTP_K8S_READY && entry->number) {
        return NGX_DECLINED;
    }

    (void) ngx_atomic_fetch_add(&entry->unavailable, 1);

    ngx_http_k8s_log_unavailable(r->connection->log, key, state);

    return NGX_HTTP_SERVICE_UNAVAILABLE;
}


static void
ngx_http_k8s_log_unavailable(ngx_log_t *log, ngx_http_k8s_key_t *key,
    ngx_uint_t state)
{
    switch (state) {

    case NGX_HTTP_K8S_UNSYNCED:
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "k8s: service \"%V\" is not synced yet",
                      &key->key);
        break;

    case NGX_HTTP_K8S_ABSENT:
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "k8s: service \"%V\" is unknown (no EndpointSlice)",
                      &key->key);
        break;

    default:
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "k8s: service \"%V\" has no ready endpoints",
                      &key->key);
    }
}


/* k8s_local_zone ZONE: the zone this nginx runs in (topology hints) */

char *
ngx_http_k8s_local_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_k8s_main_conf_t *kmcf = conf;

    u_char      ch;
    ngx_str_t  *value;
    ngx_uint_t  i;

    if (kmcf->local_zone.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* a label value: alphanumerics, '-', '_', '.', up to 63 */

    if (value[1].len == 0 || value[1].len > 63) {
        goto invalid;
    }

    for (i = 0; i < value[1].len; i++) {
        ch = value[1].data[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
              || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'
              || ch == '.'))
        {
            goto invalid;
        }
    }

    kmcf->local_zone = value[1];

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid zone name \"%V\"", &value[1]);
    return NGX_CONF_ERROR;
}
