
/*
 * kubengx: balance=round_robin (the default).
 *
 * Smooth weighted round robin as nginx's ngx_http_upstream_round_robin.c:
 * every usable endpoint's current_weight grows by its effective_weight,
 * the largest wins and pays back the total.  All weights are 1; a failure
 * lowers effective_weight (see the common free), and it recovers by one
 * per pick.  Also the fallback of the random and hash methods.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_balancer.h"


ngx_uint_t
ngx_http_k8s_pick_rr(ngx_http_k8s_peer_data_t *kpd)
{
    ngx_int_t              total;
    ngx_uint_t             i, p;
    ngx_http_k8s_peer_t   *peer, *best;
    ngx_http_k8s_peers_t  *peers;

    peers = kpd->peers;
    best = NULL;
    total = 0;
    p = NGX_HTTP_K8S_NONE;

    for (i = 0; i < peers->number; i++) {

        if (!ngx_http_k8s_balancer_usable(kpd, i)) {
            continue;
        }

        peer = peers->slot[i].peer;

        peer->current_weight += peer->effective_weight;
        total += peer->effective_weight;

        if (peer->effective_weight < 1) {
            peer->effective_weight++;
        }

        if (best == NULL || peer->current_weight > best->current_weight) {
            best = peer;
            p = i;
        }
    }

    if (best == NULL) {
        return NGX_HTTP_K8S_NONE;
    }

    best->current_weight -= total;

    return p;
}
