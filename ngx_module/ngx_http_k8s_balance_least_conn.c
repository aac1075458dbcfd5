
/*
 * kubengx: balance=least_conn.
 *
 * As nginx's least_conn: the usable endpoint with the fewest active
 * connections (conns / weight, all weights 1), ties broken by smooth
 * weighted round robin among the tied ones.  The connection counts live
 * in the shared table, so every worker sees the connections of all.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_balancer.h"


ngx_uint_t
ngx_http_k8s_pick_least_conn(ngx_http_k8s_peer_data_t *kpd)
{
    ngx_int_t              total;
    ngx_uint_t             i, p, many;
    ngx_http_k8s_peer_t   *peer, *best;
    ngx_http_k8s_peers_t  *peers;

    peers = kpd->peers;
    best = NULL;
    many = 0;
    p = NGX_HTTP_K8S_NONE;

    for (i = 0; i < peers->number; i++) {

        if (!ngx_http_k8s_balancer_usable(kpd, i)) {
            continue;
        }

        peer = peers->slot[i].peer;

        if (best == NULL || peer->conns < best->conns) {
            best = peer;
            many = 0;
            p = i;

        } else if (peer->conns == best->conns) {
            many = 1;
        }
    }

    if (best == NULL || !many) {
        return p;
    }

    /* several with the fewest connections: smooth round robin among them */

    total = 0;

    for (i = p; i < peers->number; i++) {

        if (!ngx_http_k8s_balancer_usable(kpd, i)) {
            continue;
        }

        peer = peers->slot[i].peer;

        if (peer->conns != best->conns) {
            continue;
        }

        peer->current_weight += peer->effective_weight;
        total += peer->effective_weight;

        if (peer->effective_weight < 1) {
            peer->effective_weight++;
        }

        if (peer->current_weight > peers->slot[p].peer->current_weight) {
            p = i;
        }
    }

    peers->slot[p].peer->current_weight -= total;

    return p;
}
