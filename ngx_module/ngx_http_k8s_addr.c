
/*
 * kubengx: endpoint addresses that are never proxied to.
 *
 * An EndpointSlice names pod addresses, and whoever may write
 * EndpointSlices (or a Service's selector) could otherwise make nginx
 * connect to its own host: the unspecified address (0.0.0.0/8, ::),
 * loopback (127/8, ::1), link-local (169.254/16, fe80::/10, where cloud
 * metadata services answer), multicast (224/4, ff00::/8) and the IPv4
 * broadcast address, also written as IPv4-mapped IPv6 (::ffff:a.b.c.d).
 * Every endpoint list enters the table through
 * ngx_http_k8s_table_apply() (the watcher and the snapshot loader alike),
 * which drops such endpoints here.  Loopback is allowed with
 * "k8s_allow_loopback_endpoints on" (tests, single-host setups).
 *
 * Each refused address is logged once per process (at most
 * NGX_HTTP_K8S_ADDR_WARN_MAX addresses, then one line saying that further
 * ones are not logged).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_table.h"


#define NGX_HTTP_K8S_ADDR_WARN_MAX  4096


typedef struct {
    ngx_rbtree_node_t            node;       /* key: crc32 of the bytes */
    u_char                       addr[17];   /* family byte, address */
} ngx_http_k8s_warned_t;


static const char *ngx_http_k8s_addr_refused(int family, const u_char *a,
    ngx_flag_t allow_loopback);
static const char *ngx_http_k8s_addr4_refused(const u_char *a,
    ngx_flag_t allow_loopback);
static ngx_uint_t ngx_http_k8s_addr_first_warning(
    const ngx_http_k8s_endpoint_t *ep, ngx_log_t *log);
static void ngx_http_k8s_warned_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);


/* the addresses this process has warned about */
static ngx_rbtree_t       ngx_http_k8s_warned;
static ngx_rbtree_node_t  ngx_http_k8s_warned_sentinel;
static ngx_uint_t         ngx_http_k8s_nwarned;


ngx_int_t
ngx_http_k8s_addr_filter(ngx_http_k8s_table_t *table,
    ngx_http_k8s_entry_t *entry, const ngx_http_k8s_endpoint_t *eps,
    ngx_uint_t n, ngx_http_k8s_endpoint_t **kept, ngx_log_t *log)
{
    u_char                    text[NGX_INET6_ADDRSTRLEN];
    size_t                    len;
    ngx_uint_t                i, k;
    ngx_flag_t                allow;
    const char               *why;
    ngx_http_k8s_endpoint_t  *copy;

    *kept = NULL;
    allow = table->kmcf->allow_loopback;

    for (i = 0; i < n; i++) {
        if (ngx_http_k8s_addr_refused(eps[i].family, eps[i].addr, allow)) {
            break;
        }
    }

    if (i == n) {
        return (ngx_int_t) n;
    }

    copy = ngx_alloc(n * sizeof(ngx_http_k8s_endpoint_t), log);
    if (copy == NULL) {
        return NGX_ERROR;
    }

    k = 0;

    for (i = 0; i < n; i++) {
        why = ngx_http_k8s_addr_refused(eps[i].family, eps[i].addr, allow);

        if (why == NULL) {
            copy[k++] = eps[i];
            continue;
        }

        if (!ngx_http_k8s_addr_first_warning(&eps[i], log)) {
            continue;
        }

        len = ngx_inet_ntop(eps[i].family, (void *) eps[i].addr, text,
                            sizeof(text));

        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "k8s: service \"%V\": endpoint address %*s refused "
                      "(%s)%s", &entry->key, len, text, why,
                      ngx_strcmp(why, "loopback") == 0
                      ? "; \"k8s_allow_loopback_endpoints on\" allows it"
                      : "");
    }

    *kept = copy;

    return (ngx_int_t) k;
}


/* why the address is refused, or NULL */

static const char *
ngx_http_k8s_addr_refused(int family, const u_char *a,
    ngx_flag_t allow_loopback)
{
    static const u_char  zero[15] = { 0 };
    static const u_char  mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                        0xff, 0xff };

    if (family != AF_INET6) {
        return ngx_http_k8s_addr4_refused(a, allow_loopback);
    }

    if (ngx_memcmp(a, zero, 15) == 0) {

        if (a[15] == 0) {
            return "unspecified";
        }

        if (a[15] == 1 && !allow_loopback) {
            return "loopback";
        }

        return NULL;
    }

    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) {
        return "link-local";
    }

    if (a[0] == 0xff) {
        return "multicast";
    }

    if (ngx_memcmp(a, mapped, 12) == 0) {
        return ngx_http_k8s_addr4_refused(a + 12, allow_loopback);
    }

    return NULL;
}


static const char *
ngx_http_k8s_addr4_refused(const u_char *a, ngx_flag_t allow_loopback)
{
    if (a[0] == 0) {
        return "unspecified";
    }

    if (a[0] == 127) {
        return allow_loopback ? NULL : "loopback";
    }

    if (a[0] == 169 && a[1] == 254) {
        return "link-local";
    }

    if ((a[0] & 0xf0) == 224) {
        return "multicast";
    }

    if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255) {
        return "broadcast";
    }

    return NULL;
}


/* 1 the first time this process sees the address refused */

static ngx_uint_t
ngx_http_k8s_addr_first_warning(const ngx_http_k8s_endpoint_t *ep,
    ngx_log_t *log)
{
    u_char                  key[17];
    size_t                  len;
    uint32_t                hash;
    ngx_rbtree_node_t      *node, *sentinel;
    ngx_http_k8s_warned_t  *w;

    if (ngx_http_k8s_warned.root == NULL) {
        ngx_rbtree_init(&ngx_http_k8s_warned, &ngx_http_k8s_warned_sentinel,
                        ngx_http_k8s_warned_insert);
    }

    len = (ep->family == AF_INET6) ? 16 : 4;

    ngx_memzero(key, sizeof(key));
    key[0] = (u_char) ep->family;
    ngx_memcpy(&key[1], ep->addr, len);

    hash = ngx_crc32_short(key, sizeof(key));

    node = ngx_http_k8s_warned.root;
    sentinel = ngx_http_k8s_warned.sentinel;

    while (node != sentinel) {
        w = (ngx_http_k8s_warned_t *) node;

        if (hash == node->key && ngx_memcmp(w->addr, key, sizeof(key)) == 0) {
            return 0;
        }

        node = (hash < node->key
                || (hash == node->key
                    && ngx_memcmp(key, w->addr, sizeof(key)) < 0))
               ? node->left : node->right;
    }

    if (ngx_http_k8s_nwarned >= NGX_HTTP_K8S_ADDR_WARN_MAX) {
        return 0;
    }

    if (++ngx_http_k8s_nwarned == NGX_HTTP_K8S_ADDR_WARN_MAX) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "k8s: %d refused endpoint addresses logged, further "
                      "ones are not", NGX_HTTP_K8S_ADDR_WARN_MAX);
    }

    /* process memory, kept for the process's life */

    w = ngx_alloc(sizeof(ngx_http_k8s_warned_t), log);
    if (w == NULL) {
        return 1;
    }

    w->node.key = hash;
    ngx_memcpy(w->addr, key, sizeof(key));

    ngx_rbtree_insert(&ngx_http_k8s_warned, &w->node);

    return 1;
}


static void
ngx_http_k8s_warned_insert(ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t     **p;
    ngx_http_k8s_warned_t  *n, *t;

    for ( ;; ) {

        n = (ngx_http_k8s_warned_t *) node;
        t = (ngx_http_k8s_warned_t *) temp;

        if (node->key != temp->key) {
            p = (node->key < temp->key) ? &temp->left : &temp->right;

        } else {
            p = (ngx_memcmp(n->addr, t->addr, sizeof(n->addr)) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}
