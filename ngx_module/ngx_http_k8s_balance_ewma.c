
/*
 * kubengx: balance=ewma, peak EWMA of the response time with the power of
 * two choices (after Finagle's and ingress-nginx's "ewma").
 *
 * Per endpoint, in the shared table (so every worker sees the samples of
 * all): ewma, in milliseconds, and the time of its last sample.  A sample
 * (the time to the response header, or to the failure) above the current
 * value replaces it at once (the "peak"); a lower one is blended in with
 * the weight w = exp(-dt / 10 s), dt being the time since the previous
 * sample.  When choosing, the value is decayed towards 0 by the time since
 * the last sample (an endpoint that got no traffic for a while is tried
 * again) and multiplied by the active connections + 1.  An endpoint
 * without a sample scores 0 while idle, a large penalty per connection
 * once busy, so a new endpoint gets traffic without being flooded.
 *
 * Two distinct random usable endpoints are drawn; the lower score wins.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_balancer.h"


/* an endpoint without a sample, per active connection: ms */
#define NGX_HTTP_K8S_EWMA_PENALTY   10000.0


static double ngx_http_k8s_exp_neg(double x);
static double ngx_http_k8s_ewma_score(ngx_http_k8s_peer_t *peer,
    ngx_msec_t now);


ngx_uint_t
ngx_http_k8s_pick_ewma(ngx_http_k8s_peer_data_t *kpd)
{
    ngx_uint_t             a, b;
    ngx_msec_t             now;
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
    now = ngx_current_msec;

    return (ngx_http_k8s_ewma_score(peers->slot[b].peer, now)
            < ngx_http_k8s_ewma_score(peers->slot[a].peer, now)) ? b : a;
}


static double
ngx_http_k8s_ewma_score(ngx_http_k8s_peer_t *peer, ngx_msec_t now)
{
    if (peer->ewma == 0) {
        return peer->conns * NGX_HTTP_K8S_EWMA_PENALTY;
    }

    return ngx_http_k8s_ewma_decayed(peer, now) * (peer->conns + 1);
}


/* under the entry lock */

double
ngx_http_k8s_ewma_decayed(ngx_http_k8s_peer_t *peer, ngx_msec_t now)
{
    ngx_msec_int_t  dt;

    dt = (ngx_msec_int_t) (now - peer->ewma_stamp);

    if (dt <= 0 || peer->ewma == 0) {
        return peer->ewma;
    }

    return peer->ewma
           * ngx_http_k8s_exp_neg((double) dt / NGX_HTTP_K8S_EWMA_DECAY);
}


/* under the entry lock; rtt in milliseconds */

void
ngx_http_k8s_ewma_update(ngx_http_k8s_peer_t *peer, ngx_msec_t rtt,
    ngx_msec_t now)
{
    double          w, sample;
    ngx_msec_int_t  dt;

    /* 1 ms at least: 0 means "no sample" */

    sample = (rtt > 0) ? (double) rtt : 1.0;

    if (peer->ewma == 0 || sample >= peer->ewma) {
        peer->ewma = sample;

    } else {
        dt = (ngx_msec_int_t) (now - peer->ewma_stamp);
        w = (dt > 0) ? ngx_http_k8s_exp_neg((double) dt
                                            / NGX_HTTP_K8S_EWMA_DECAY)
                     : 1.0;

        peer->ewma = peer->ewma * w + sample * (1.0 - w);
    }

    peer->ewma_stamp = now;
}


/*
 * exp(-x) for x >= 0 without libm: (1 - x / 1024) ^ 1024 by ten
 * squarings; relative error below 1% for x <= 4, and exp(-x) < 0.02
 * beyond, where precision does not matter for a decay weight.
 */

static double
ngx_http_k8s_exp_neg(double x)
{
    double      y;
    ngx_uint_t  i;

    if (x >= 16.0) {
        return 0.0;
    }

    y = 1.0 - x / 1024.0;

    for (i = 0; i < 10; i++) {
        y *= y;
    }

    return y;
}
