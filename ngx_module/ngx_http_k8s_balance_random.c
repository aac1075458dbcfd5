
/*
 * kubengx: balance=random and balance=random_two.
 *
 * random: a uniformly random usable endpoint (nginx's "random").
 * random_two: two distinct random usable endpoints, the one with fewer
 * active connections wins (nginx's "random two least_conn"; the counts
 * are shared by all workers).  Both give up after NGX_HTTP_K8S_PICK_TRIES
 * random draws that hit tried or failed endpoints and fall back to round
 * robin, as nginx does.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_balancer.h"


ngx_uint_t
ngx_http_k8s_random_usable(ngx_http_k8s_peer_data_t *kpd, ngx_uint_t except)
{
    ngx_uint_t  i, n;

    for (n = 0; n < NGX_HTTP_K8S_PICK_TRIES; n++) {

        i = (ngx_uint_t) ngx_random() % kpd->peers->number;

        if (i != except && ngx_http_k8s_balancer_usable(kpd, i)) {
            return i;
        }
    }

    return NGX_HTTP_K8S_NONE;
}


ngx_uint_t
ngx_http_k8s_pick_random(ngx_http_k8s_peer_data_t *kpd)
{
    ngx_uint_t  p;

    p = ngx_http_k8s_random_usable(kpd, NGX_HTTP_K8S_NONE);

    if (p == NGX_HTTP_K8S_NONE) {
        return ngx_http_k8s_pick_rr(kpd);
    }

    return p;
}


ngx_uint_t
ngx_http_k8s_pick_random_two(ngx_http_k8s_peer_data_t *kpd)
{
    ngx_uint_t             a, b;
    ngx_http_k8s_peers_t  *peers;

    a = ngx_http_k8s_random_usable(kpd, NGX_HTTP_K8S_NONE);

    if (a == NGX_HTTP_K8S_NONE) {
        return ngx_http_k8s_pick_rr(kpd);
    }

    b = ngx_http_k8s_random_usable(kpd, a);

    if (b == NGX_HTTP_K8S_NONE) {
        return a;
    }

    peers = kpd->peers;

    return (peers->slot[b].peer->conns < peers->slot[a].peer->conns) ? b : a;
}
