
/*
 * kubengx: the balancer of stream k8s_service upstreams: peer
 * init/get/free for a TCP connection or a UDP session.
 *
 * The methods, the passive health checks (max_fails, fail_timeout), the
 * retries onto endpoints not tried yet (proxy_next_upstream), the zone
 * preference and the reference on an immutable endpoint list are the
 * http module's (ngx_http_k8s_balancer.c); only what a stream session
 * differs in is here: the hash key is a stream complex value, the
 * reference lives as long as the session's connection pool, and a
 * Service without usable endpoints fails the session with nginx's "no
 * live upstreams" after the module's own log line (there is no status to
 * answer with).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "ngx_stream_k8s_module.h"
#include "ngx_http_k8s_table.h"
#include "ngx_http_k8s_balancer.h"


static ngx_int_t ngx_stream_k8s_get_peer(ngx_peer_connection_t *pc,
    void *data);
static void ngx_stream_k8s_free_peer(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state);


ngx_int_t
ngx_stream_k8s_init_peer(ngx_stream_session_t *s,
    ngx_stream_upstream_srv_conf_t *us)
{
    ngx_stream_upstream_t       *u;
    ngx_http_k8s_key_t          *key;
    ngx_http_k8s_peer_data_t    *kpd;
    ngx_stream_k8s_srv_conf_t   *sscf;
    ngx_stream_k8s_main_conf_t  *smcf;

    sscf = ngx_stream_conf_upstream_srv_conf(us, ngx_stream_k8s_module);
    key = sscf->k8s.key;

    kpd = ngx_pcalloc(s->connection->pool, sizeof(ngx_http_k8s_peer_data_t));
    if (kpd == NULL) {
        return NGX_ERROR;
    }

    kpd->conf = &sscf->k8s;
    kpd->key = key;
    kpd->pick = ngx_http_k8s_picks[sscf->k8s.balance];

    u = s->upstream;

    u->peer.data = kpd;
    u->peer.get = ngx_stream_k8s_get_peer;
    u->peer.free = ngx_stream_k8s_free_peer;
    u->peer.tries = 1;

#if (NGX_STREAM_SSL)
    /* proxy_ssl: no session cached per endpoint, as in http */
    u->peer.set_session = ngx_http_k8s_set_session;
    u->peer.save_session = ngx_http_k8s_save_session;
#endif

    if (key == NULL || key->entry == NULL) {
        return NGX_OK;
    }

    /* the key is evaluated before the version is referenced */

    if (sscf->hash
        && ngx_stream_complex_value(s, sscf->hash, &kpd->hash_key) != NGX_OK)
    {
        return NGX_ERROR;
    }

    smcf = ngx_stream_get_module_main_conf(s, ngx_stream_k8s_module);

    if (ngx_http_k8s_balancer_acquire(kpd, s->connection->pool,
                                      &smcf->kmcf->local_zone)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (kpd->peers) {
        u->peer.tries = kpd->peers->number;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_stream_k8s_get_peer(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_k8s_peer_data_t  *kpd = data;

    ngx_http_k8s_entry_t  *entry;

    pc->cached = 0;
    pc->connection = NULL;
    kpd->current = NULL;

    if (kpd->peers == NULL) {
        entry = kpd->key ? kpd->key->entry : NULL;

        if (kpd->key) {
            ngx_http_k8s_unavailable_log(pc->log, kpd->key,
                                         entry ? entry->state
                                               : NGX_HTTP_K8S_UNSYNCED);
            pc->name = &kpd->key->key;
        }

        return NGX_BUSY;
    }

    return ngx_http_k8s_balancer_pick(kpd, pc);
}


static void
ngx_stream_k8s_free_peer(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state)
{
    ngx_http_k8s_peer_data_t  *kpd = data;

    if (kpd->current == NULL) {
        pc->tries = 0;
        return;
    }

    ngx_http_k8s_balancer_done(kpd, pc, state, NGX_HTTP_K8S_NO_RTT);
}

