
/*
 * kubengx: balance=hash hash=KEY [consistent].
 *
 * hash=KEY (a complex value, evaluated once per request in init_peer):
 * as nginx's "hash KEY": the endpoint at (crc32-derived hash) % number,
 * rehashed with a counter prefix when it is tried or failed, the
 * expression of Cache::Memcached.  Adding or removing an endpoint remaps
 * most keys.
 *
 * hash=KEY consistent: as nginx's "hash KEY consistent" (ketama): the
 * version's ring holds NGX_HTTP_K8S_RING_POINTS points per endpoint,
 * derived from the endpoint's address only and built once per published
 * version by the writer (ngx_http_k8s_table.c); the key's crc32 starts at
 * the first point at or after it, and a tried or failed endpoint passes
 * on to the next points.  Removing one of N endpoints moves only the keys
 * that mapped to it (about 1/N).
 *
 * An empty key, or NGX_HTTP_K8S_PICK_TRIES misses, fall back to round
 * robin, as nginx does.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_balancer.h"


ngx_uint_t
ngx_http_k8s_pick_hash(ngx_http_k8s_peer_data_t *kpd)
{
    u_char      buf[NGX_INT_T_LEN];
    size_t      size;
    uint32_t    hash;
    ngx_uint_t  i;

    if (kpd->hash_key.len == 0 || kpd->hash_tries > NGX_HTTP_K8S_PICK_TRIES)
    {
        return ngx_http_k8s_pick_rr(kpd);
    }

    for ( ;; ) {

        /*
         * as nginx: ((crc32([REHASH] KEY) >> 16) & 0x7fff) + PREV_HASH,
         * REHASH omitted at the first iteration
         */

        ngx_crc32_init(hash);

        if (kpd->rehash > 0) {
            size = ngx_sprintf(buf, "%ui", kpd->rehash) - buf;
            ngx_crc32_update(&hash, buf, size);
        }

        ngx_crc32_update(&hash, kpd->hash_key.data, kpd->hash_key.len);
        ngx_crc32_final(hash);

        hash = (hash >> 16) & 0x7fff;

        kpd->hash += hash;
        kpd->rehash++;

        i = kpd->hash % kpd->peers->number;

        if (ngx_http_k8s_balancer_usable(kpd, i)) {
            return i;
        }

        if (++kpd->hash_tries > NGX_HTTP_K8S_PICK_TRIES) {
            return ngx_http_k8s_pick_rr(kpd);
        }
    }
}


/* init_peer, no lock: the ring is immutable while the request holds the
 * version */

void
ngx_http_k8s_chash_start(ngx_http_k8s_peer_data_t *kpd,
    ngx_http_k8s_ring_t *ring)
{
    uint32_t    hash;
    ngx_uint_t  i, j, k;

    hash = ngx_crc32_long(kpd->hash_key.data, kpd->hash_key.len);

    /* the first point at or after hash */

    i = 0;
    j = ring->number;

    while (i < j) {
        k = (i + j) / 2;

        if (hash > ring->point[k].hash) {
            i = k + 1;

        } else {
            j = k;
        }
    }

    kpd->hash = (uint32_t) (i % ring->number);
}


ngx_uint_t
ngx_http_k8s_pick_chash(ngx_http_k8s_peer_data_t *kpd)
{
    ngx_uint_t            i;
    ngx_http_k8s_ring_t  *ring;

    ring = (ngx_http_k8s_ring_t *) (uintptr_t) kpd->peers->ring;

    if (kpd->hash_key.len == 0 || kpd->hash_tries > NGX_HTTP_K8S_PICK_TRIES)
    {
        return ngx_http_k8s_pick_rr(kpd);
    }

    for ( ;; ) {

        i = ring->point[kpd->hash % ring->number].slot;

        kpd->hash++;

        if (ngx_http_k8s_balancer_usable(kpd, i)) {
            return i;
        }

        if (++kpd->hash_tries > NGX_HTTP_K8S_PICK_TRIES) {
            return ngx_http_k8s_pick_rr(kpd);
        }
    }
}
