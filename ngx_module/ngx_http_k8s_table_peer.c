
/*
 * kubengx: the peer objects of the endpoint table (see
 * ngx_http_k8s_table.h): creating them, and finding the peer of the
 * current version that a new endpoint keeps (same address, port and
 * names), through an index of the version sorted by address.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_table.h"
#include "kube_affinity.h"


#if (NGX_HAVE_INET6)
#define ngx_http_k8s_peer_addr(peer)                                          \
    ((peer)->u.sockaddr.sa_family == AF_INET6                                 \
     ? (const u_char *) &(peer)->u.sin6.sin6_addr                             \
     : (const u_char *) &(peer)->u.sin.sin_addr)
#else
#define ngx_http_k8s_peer_addr(peer)                                          \
    ((const u_char *) &(peer)->u.sin.sin_addr)
#endif

/* sin_port and sin6_port are at the same offset */
#define ngx_http_k8s_peer_port(peer)  ntohs((peer)->u.sin.sin_port)


static int ngx_http_k8s_addr_key_cmp(int fa, const u_char *aa, in_port_t pa,
    int fb, const u_char *ab, in_port_t pb);
static int ngx_libc_cdecl ngx_http_k8s_peer_cmp(const void *one,
    const void *two);
static u_char *ngx_http_k8s_peer_str(ngx_str_t *dst, u_char *p,
    const ngx_str_t *src);
static ngx_uint_t ngx_http_k8s_str_eq(const ngx_str_t *a,
    const ngx_str_t *b);
static ngx_uint_t ngx_http_k8s_hints_match(ngx_str_t *hints,
    const ngx_http_k8s_endpoint_t *ep);
static size_t ngx_http_k8s_hints_len(const ngx_http_k8s_endpoint_t *ep);


/* 1 when the endpoints are in strictly increasing address order (as the
 * watcher's lists are: kube/kube_svc_endpoints.c sorts them alike) */

ngx_uint_t
ngx_http_k8s_eps_sorted(const ngx_http_k8s_endpoint_t *eps, ngx_uint_t n)
{
    ngx_uint_t  i;

    for (i = 1; i < n; i++) {
        if (ngx_http_k8s_addr_key_cmp(eps[i - 1].family, eps[i - 1].addr,
                                      eps[i - 1].port, eps[i].family,
                                      eps[i].addr, eps[i].port)
            >= 0)
        {
            return 0;
        }
    }

    return 1;
}


/*
 * Both lists in address order: the peer of cur, from slot *j on, that ep
 * keeps (*j moves past it), or NULL (*j stays at the first slot not
 * below ep).  A whole list costs one pass over both.
 */

ngx_http_k8s_peer_t *
ngx_http_k8s_peer_next(ngx_http_k8s_peers_t *cur, ngx_uint_t *j,
    const ngx_http_k8s_endpoint_t *ep)
{
    int                   rc;
    ngx_http_k8s_peer_t  *peer;

    while (*j < cur->number) {
        peer = cur->slot[*j].peer;

        rc = ngx_http_k8s_addr_key_cmp(peer->u.sockaddr.sa_family,
                                       ngx_http_k8s_peer_addr(peer),
                                       ngx_http_k8s_peer_port(peer),
                                       ep->family, ep->addr, ep->port);
        if (rc < 0) {
            (*j)++;
            continue;
        }

        if (rc == 0 && ngx_http_k8s_peer_matches(peer, ep)) {
            (*j)++;
            return peer;
        }

        return NULL;
    }

    return NULL;
}


/* the peers of a version sorted by address (heap memory: ngx_free()) */

ngx_http_k8s_peer_t **
ngx_http_k8s_peer_index(ngx_http_k8s_peers_t *peers, ngx_log_t *log)
{
    ngx_uint_t             i;
    ngx_http_k8s_peer_t  **index;

    index = ngx_alloc(peers->number * sizeof(ngx_http_k8s_peer_t *), log);
    if (index == NULL) {
        return NULL;
    }

    for (i = 0; i < peers->number; i++) {
        index[i] = peers->slot[i].peer;
    }

    ngx_qsort(index, peers->number, sizeof(ngx_http_k8s_peer_t *),
              ngx_http_k8s_peer_cmp);

    return index;
}


/* endpoints ordered by family, address, port */

static int
ngx_http_k8s_addr_key_cmp(int fa, const u_char *aa, in_port_t pa, int fb,
    const u_char *ab, in_port_t pb)
{
    int  rc;

    if (fa != fb) {
        return (fa < fb) ? -1 : 1;
    }

    rc = ngx_memcmp(aa, ab, (fa == AF_INET) ? 4 : 16);

    if (rc != 0) {
        return rc;
    }

    return (pa < pb) ? -1 : (pa > pb);
}




static int ngx_libc_cdecl
ngx_http_k8s_peer_cmp(const void *one, const void *two)
{
    ngx_http_k8s_peer_t  *a = *(ngx_http_k8s_peer_t **) one;
    ngx_http_k8s_peer_t  *b = *(ngx_http_k8s_peer_t **) two;

    return ngx_http_k8s_addr_key_cmp(a->u.sockaddr.sa_family,
                                     ngx_http_k8s_peer_addr(a),
                                     ngx_http_k8s_peer_port(a),
                                     b->u.sockaddr.sa_family,
                                     ngx_http_k8s_peer_addr(b),
                                     ngx_http_k8s_peer_port(b));
}


/* the peer of the sorted index that ep keeps: same address and names */

ngx_http_k8s_peer_t *
ngx_http_k8s_peer_find(ngx_http_k8s_peer_t **index, ngx_uint_t n,
    const ngx_http_k8s_endpoint_t *ep)
{
    ngx_uint_t            lo, hi, mid;
    ngx_http_k8s_peer_t  *peer;

    lo = 0;
    hi = n;

    /* the first peer not below ep */

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        peer = index[mid];

        if (ngx_http_k8s_addr_key_cmp(peer->u.sockaddr.sa_family,
                                      ngx_http_k8s_peer_addr(peer),
                                      ngx_http_k8s_peer_port(peer),
                                      ep->family, ep->addr, ep->port)
            < 0)
        {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    for ( /* void */ ; lo < n; lo++) {
        peer = index[lo];

        if (ngx_http_k8s_addr_key_cmp(peer->u.sockaddr.sa_family,
                                      ngx_http_k8s_peer_addr(peer),
                                      ngx_http_k8s_peer_port(peer),
                                      ep->family, ep->addr, ep->port)
            != 0)
        {
            break;
        }

        if (ngx_http_k8s_peer_matches(peer, ep)) {
            return peer;
        }
    }

    return NULL;
}


ngx_uint_t
ngx_http_k8s_peer_matches(ngx_http_k8s_peer_t *peer,
    const ngx_http_k8s_endpoint_t *ep)
{
    if (ngx_http_k8s_addr_key_cmp(peer->u.sockaddr.sa_family,
                                  ngx_http_k8s_peer_addr(peer),
                                  ngx_http_k8s_peer_port(peer),
                                  ep->family, ep->addr, ep->port)
        != 0)
    {
        return 0;
    }

    return ngx_http_k8s_str_eq(&peer->target, &ep->target)
           && ngx_http_k8s_hints_match(&peer->hints, ep)
           && ngx_http_k8s_str_eq(&peer->zone, &ep->zone)
           && ngx_http_k8s_str_eq(&peer->node_name, &ep->node_name);
}


/* a new peer (refs 0): allocated under the mutex, filled outside it */

ngx_http_k8s_peer_t *
ngx_http_k8s_peer_create(ngx_http_k8s_table_t *table,
    const ngx_http_k8s_endpoint_t *ep)
{
    u_char               *p;
    size_t                len;
    ngx_uint_t            i;
    ngx_http_k8s_peer_t  *peer;

    /*
     * The names go into an allocation of their own: the slab rounds every
     * chunk up to a power of two, and the peer alone fits 256 bytes, while
     * peer and names together would take 512.
     */

    len = ep->zone.len + ep->node_name.len + ep->target.len
          + ngx_http_k8s_hints_len(ep);

    p = NULL;

    ngx_http_k8s_table_lock(table);

    peer = ngx_slab_calloc_locked(table->shpool, sizeof(ngx_http_k8s_peer_t));

    if (peer != NULL && len) {
        p = ngx_slab_alloc_locked(table->shpool, len);

        if (p == NULL) {
            ngx_slab_free_locked(table->shpool, peer);
            peer = NULL;
        }
    }

    ngx_http_k8s_table_unlock(table);

    if (peer == NULL) {
        return NULL;
    }

    switch (ep->family) {

#if (NGX_HAVE_INET6)
    case AF_INET6:
        peer->u.sin6.sin6_family = AF_INET6;
        peer->u.sin6.sin6_port = htons(ep->port);
        ngx_memcpy(&peer->u.sin6.sin6_addr, ep->addr, 16);
        peer->socklen = sizeof(struct sockaddr_in6);
        break;
#endif

    default: /* AF_INET */
        peer->u.sin.sin_family = AF_INET;
        peer->u.sin.sin_port = htons(ep->port);
        ngx_memcpy(&peer->u.sin.sin_addr, ep->addr, 4);
        peer->socklen = sizeof(struct sockaddr_in);
    }

    peer->name.data = peer->name_data;
    peer->name.len = ngx_sock_ntop(&peer->u.sockaddr, peer->socklen,
                                   peer->name_data, NGX_HTTP_K8S_ADDR_LEN, 1);
    peer->affinity_id = kube_affinity_id((char *) peer->name.data,
                                         peer->name.len, 0);

    peer->effective_weight = 1;

    peer->names = p;

    if (p == NULL) {
        return peer;            /* no names: the ngx_str_t's stay empty */
    }

    p = ngx_http_k8s_peer_str(&peer->zone, p, &ep->zone);
    p = ngx_http_k8s_peer_str(&peer->node_name, p, &ep->node_name);
    p = ngx_http_k8s_peer_str(&peer->target, p, &ep->target);

    peer->hints.data = p;

    for (i = 0; i < ep->nfor_zones; i++) {
        if (i) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, ep->for_zones[i], ngx_strlen(ep->for_zones[i]));
    }

    peer->hints.len = p - peer->hints.data;

    return peer;
}


/* empty strings may have NULL data: never passed to ngx_strncmp() */

static ngx_uint_t
ngx_http_k8s_str_eq(const ngx_str_t *a, const ngx_str_t *b)
{
    return a->len == b->len
           && (a->len == 0 || ngx_strncmp(a->data, b->data, a->len) == 0);
}


/* dst = src copied to p (nothing copied when empty); returns the end */

static u_char *
ngx_http_k8s_peer_str(ngx_str_t *dst, u_char *p, const ngx_str_t *src)
{
    dst->len = src->len;
    dst->data = p;

    return src->len ? ngx_cpymem(p, src->data, src->len) : p;
}


/* hints.forZones as stored in a peer ("a,b") vs. an endpoint's list */

static ngx_uint_t
ngx_http_k8s_hints_match(ngx_str_t *hints, const ngx_http_k8s_endpoint_t *ep)
{
    u_char      *p, *last;
    size_t       len;
    ngx_uint_t   i;

    if (hints->len == 0) {
        return ep->nfor_zones == 0;     /* data may be NULL */
    }

    p = hints->data;
    last = hints->data + hints->len;

    for (i = 0; i < ep->nfor_zones; i++) {

        if (i) {
            if (p == last || *p++ != ',') {
                return 0;
            }
        }

        len = ngx_strlen(ep->for_zones[i]);

        if ((size_t) (last - p) < len
            || ngx_strncmp(p, ep->for_zones[i], len) != 0)
        {
            return 0;
        }

        p += len;
    }

    return p == last;
}


static size_t
ngx_http_k8s_hints_len(const ngx_http_k8s_endpoint_t *ep)
{
    size_t      len;
    ngx_uint_t  i;

    len = 0;

    for (i = 0; i < ep->nfor_zones; i++) {
        len += ngx_strlen(ep->for_zones[i]) + 1;
    }

    return len;
}


/* 1 when the hints ("a,b") name zone */

ngx_uint_t
ngx_http_k8s_hints_name(ngx_str_t *hints, ngx_str_t *zone)
{
    u_char  *p, *last, *comma;

    p = hints->data;
    last = p + hints->len;

    while (p < last) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        if ((size_t) (comma - p) == zone->len
            && ngx_strncmp(p, zone->data, zone->len) == 0)
        {
            return 1;
        }

        p = comma + 1;
    }

    return 0;
}
