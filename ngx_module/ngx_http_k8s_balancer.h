
/*
 * kubengx: the balancer's internals, shared by ngx_http_k8s_balancer.c
 * (peer init/get/free common to all methods) and the methods,
 * ngx_http_k8s_balance_{rr,least_conn,random,ewma,hash}.c.
 *
 * The stream module (ngx_stream_k8s_balancer.c) uses the same peer data,
 * methods and common parts, with request NULL.
 *
 * A method's pick function runs under the entry's write lock with a
 * version of at least two endpoints; it returns the index of the chosen
 * slot, or NGX_HTTP_K8S_NONE when every endpoint is tried, failed or
 * excluded.  It must only choose slots for which
 * ngx_http_k8s_balancer_usable() is true; the common code then marks the
 * slot tried, counts the connection and fills in the peer connection.
 */


#ifndef _NGX_HTTP_K8S_BALANCER_H_INCLUDED_
#define _NGX_HTTP_K8S_BALANCER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_table.h"


#define NGX_HTTP_K8S_NONE           ((ngx_uint_t) -1)

/* random and hash methods: random or rehashed picks before they fall back
 * to round robin (nginx's limit) */
#define NGX_HTTP_K8S_PICK_TRIES     20

#define ngx_http_k8s_bit_word(i)    ((i) / (8 * sizeof(uintptr_t)))
#define ngx_http_k8s_bit_mask(i)                                              \
    ((uintptr_t) 1 << (i) % (8 * sizeof(uintptr_t)))


typedef struct ngx_http_k8s_peer_data_s  ngx_http_k8s_peer_data_t;

typedef ngx_uint_t (*ngx_http_k8s_pick_pt)(ngx_http_k8s_peer_data_t *kpd);


struct ngx_http_k8s_peer_data_s {
    ngx_http_k8s_pick_pt         pick;
    ngx_http_k8s_srv_conf_t     *conf;
    ngx_http_k8s_key_t          *key;
    ngx_http_request_t          *request;    /* NULL: a stream session */
    ngx_http_k8s_peers_t        *peers;      /* referenced by this request */
    ngx_http_k8s_peer_t         *current;
    uintptr_t                   *tried;
    uintptr_t                   *excluded;   /* other zones; NULL: none */
    time_t                       now;        /* of this pick */

    /* hash methods */
    ngx_str_t                    hash_key;
    uint32_t                     hash;       /* hash: sum; chash: point */
    ngx_uint_t                   rehash;
    ngx_uint_t                   hash_tries;

    uintptr_t                    data;
    uintptr_t                    excluded_data;

    /* k8s_affinity (ngx_http_k8s_affinity.c); affinity NULL: none */
    ngx_http_k8s_affinity_t     *affinity;
    ngx_http_k8s_pick_pt         method;     /* the upstream's pick */
    uint64_t                     cookie;     /* kube/kube_affinity.h */
    ngx_table_elt_t             *cookie_header;  /* Set-Cookie sent */
    ngx_uint_t                   side;       /* 1: the canary Service */
    unsigned                     has_cookie:1;
    unsigned                     client_cookie:1;    /* the request's */
    unsigned                     set_cookie:1;
};


/* not tried, not excluded by zone, not failed (max_fails/fail_timeout) */

static ngx_inline ngx_uint_t
ngx_http_k8s_balancer_usable(ngx_http_k8s_peer_data_t *kpd, ngx_uint_t i)
{
    uintptr_t             m;
    ngx_uint_t            n;
    ngx_http_k8s_peer_t  *peer;

    n = ngx_http_k8s_bit_word(i);
    m = ngx_http_k8s_bit_mask(i);

    if ((kpd->tried[n] & m)
        || (kpd->excluded != NULL && (kpd->excluded[n] & m)))
    {
        return 0;
    }

    peer = kpd->peers->slot[i].peer;

    if (kpd->conf->max_fails
        && peer->fails >= kpd->conf->max_fails
        && kpd->now - peer->checked <= kpd->conf->fail_timeout)
    {
        return 0;
    }

    return 1;
}


/* indexed by NGX_HTTP_K8S_BALANCE_* */
extern ngx_http_k8s_pick_pt  ngx_http_k8s_picks[];

/* ngx_http_k8s_balancer.c: the parts of init/get/free common to the http
 * and stream modules */
#define NGX_HTTP_K8S_NO_RTT         ((ngx_msec_t) -1)

ngx_int_t ngx_http_k8s_balancer_acquire(ngx_http_k8s_peer_data_t *kpd,
    ngx_pool_t *pool, ngx_str_t *local_zone);
ngx_int_t ngx_http_k8s_balancer_pick(ngx_http_k8s_peer_data_t *kpd,
    ngx_peer_connection_t *pc);
void ngx_http_k8s_balancer_done(ngx_http_k8s_peer_data_t *kpd,
    ngx_peer_connection_t *pc, ngx_uint_t state, ngx_msec_t rtt);
ngx_int_t ngx_http_k8s_set_session(ngx_peer_connection_t *pc, void *data);
void ngx_http_k8s_save_session(ngx_peer_connection_t *pc, void *data);

ngx_uint_t ngx_http_k8s_pick_rr(ngx_http_k8s_peer_data_t *kpd);
ngx_uint_t ngx_http_k8s_pick_least_conn(ngx_http_k8s_peer_data_t *kpd);
ngx_uint_t ngx_http_k8s_pick_random(ngx_http_k8s_peer_data_t *kpd);
ngx_uint_t ngx_http_k8s_pick_random_two(ngx_http_k8s_peer_data_t *kpd);
ngx_uint_t ngx_http_k8s_pick_ewma(ngx_http_k8s_peer_data_t *kpd);
ngx_uint_t ngx_http_k8s_pick_hash(ngx_http_k8s_peer_data_t *kpd);
ngx_uint_t ngx_http_k8s_pick_chash(ngx_http_k8s_peer_data_t *kpd);

/* ngx_http_k8s_balance_random.c: a random usable slot other than except,
 * or NGX_HTTP_K8S_NONE after NGX_HTTP_K8S_PICK_TRIES misses */
ngx_uint_t ngx_http_k8s_random_usable(ngx_http_k8s_peer_data_t *kpd,
    ngx_uint_t except);

/* ngx_http_k8s_balance_hash.c: the ring point where the key starts */
void ngx_http_k8s_chash_start(ngx_http_k8s_peer_data_t *kpd,
    ngx_http_k8s_ring_t *ring);

/* ngx_http_k8s_affinity.c */
void ngx_http_k8s_affinity_init(ngx_http_k8s_peer_data_t *kpd,
    ngx_http_k8s_affinity_t *af, ngx_uint_t side);
ngx_uint_t ngx_http_k8s_pick_affinity(ngx_http_k8s_peer_data_t *kpd);
ngx_int_t ngx_http_k8s_affinity_done(ngx_http_k8s_peer_data_t *kpd);

/* ngx_http_k8s_balance_ewma.c */
void ngx_http_k8s_ewma_update(ngx_http_k8s_peer_t *peer, ngx_msec_t rtt,
    ngx_msec_t now);
double ngx_http_k8s_ewma_decayed(ngx_http_k8s_peer_t *peer, ngx_msec_t now);


#endif /* _NGX_HTTP_K8S_BALANCER_H_INCLUDED_ */
