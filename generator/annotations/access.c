
/*
 * kubengx generator: ingress-nginx's source address annotations, nginx's
 * access module in each location of the Ingress:
 *
 *   whitelist-source-range   "allow CIDR;" for each, then "deny all;"
 *   allowlist-source-range   the same (ingress-nginx's newer name; both
 *                            lists are joined)
 *   denylist-source-range    "deny CIDR;" for each, written first: a
 *                            denied address stays denied when an allowed
 *                            range holds it (as ingress-nginx)
 *
 * A list is IPv4 or IPv6 addresses with an optional prefix length,
 * separated by "," (spaces around them allowed), e.g. "10.0.0.0/8,
 * 2001:db8::/32, 192.168.1.7".  Each is parsed (inet_pton) and written
 * back in canonical form with the host bits cleared (nginx would warn
 * about them); nothing is copied as text.  A bad entry refuses the
 * Ingress.  nginx answers a refused address with 403.  The address is
 * $remote_addr, the client's after the real-IP settings of the server
 * (render.c: the PROXY header behind the passthrough hop).
 */

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "annotations.h"


#define KNGX_ACCESS_MAX  256             /* entries in each list */


typedef struct {
    kngx_ann_cidrs_t   allow;
    kngx_ann_cidrs_t   deny;
} kngx_ann_access_t;


/* one "ADDR[/LEN]" of len bytes -> canonical "ADDR/LEN" in out */
static int
kngx_ann_cidr(const char *s, size_t len, char *out, size_t size)
{
    unsigned char  addr[16];
    char           text[64], a[INET6_ADDRSTRLEN];
    const char    *slash;
    long           bits, max;
    size_t         i, alen;
    int            family;

    if (len == 0 || len >= sizeof(text)) {
        return -1;
    }

    memcpy(text, s, len);
    text[len] = '\0';

    slash = strchr(text, '/');
    alen = slash ? (size_t) (slash - text) : len;
    text[alen] = '\0';

    family = strchr(text, ':') ? AF_INET6 : AF_INET;
    max = family == AF_INET6 ? 128 : 32;

    if (inet_pton(family, text, addr) != 1) {
        return -1;
    }

    bits = max;

    if (slash) {
        if (slash[1] == '\0' || strlen(slash + 1) > 3) {
            return -1;
        }

        bits = 0;
        for (i = 1; slash[i]; i++) {
            if (slash[i] < '0' || slash[i] > '9') {
                return -1;
            }
            bits = bits * 10 + (slash[i] - '0');
        }

        if (bits > max) {
            return -1;
        }
    }

    /* clear the host bits */
    for (i = 0; i < (size_t) max / 8; i++) {
        if ((long) (i * 8) >= bits) {
            addr[i] = 0;

        } else if ((long) (i * 8 + 8) > bits) {
            addr[i] &= (unsigned char) (0xff << (8 - (bits - (long) i * 8)));
        }
    }

    if (inet_ntop(family, addr, a, sizeof(a)) == NULL) {
        return -1;
    }

    return snprintf(out, size, "%s/%ld", a, bits) < (int) size ? 0 : -1;
}


int
kngx_ann_cidrs(kngx_ann_ctx_t *ctx, const char *v, kngx_ann_cidrs_t *list)
{
    const char  *s = v, *e;   /* every piece between "," is a range */
    size_t       n;
    char         one[KNGX_ANN_CIDR_LEN];

    for ( ;; ) {
        while (*s == ' ' || *s == '\t') {
            s++;
        }

        for (e = s; *e && *e != ','; e++) { /* void */ }

        n = (size_t) (e - s);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
            n--;
        }

        if (kngx_ann_cidr(s, n, one, sizeof(one)) != 0) {
            ctx->why = "must be IPv4 or IPv6 addresses with an optional "
                       "/prefix length, separated by \",\", not";
            return KNGX_ANN_BAD;
        }

        if (list->n == list->cap) {
            kngx_ann_cidr_t  *a;

            if (list->n >= KNGX_ACCESS_MAX) {
                ctx->why = "has more than 256 ranges:";
                return KNGX_ANN_BAD;
            }

            list->cap = list->cap ? list->cap * 2 : 8;
            a = kube_arena_alloc(ctx->arena,
                                 list->cap * sizeof(kngx_ann_cidr_t));
            if (a == NULL) {
                return KNGX_ANN_NOMEM;
            }

            if (list->n) {
                memcpy(a, list->a, list->n * sizeof(kngx_ann_cidr_t));
            }

            list->a = a;
        }

        memcpy(list->a[list->n++].s, one, sizeof(one));

        if (*e == '\0') {
            break;
        }

        s = e + 1;
    }

    return KNGX_ANN_OK;
}


static int
kngx_ann_access_parse(kngx_ann_ctx_t *ctx, void *conf, int id,
    const char *v)
{
    kngx_ann_access_t  *c = conf;

    return kngx_ann_cidrs(ctx, v, id == KNGX_AC_DENY ? &c->deny : &c->allow);
}


static void
kngx_ann_access_emit(kngx_buf_t *b, const void *conf, const kngx_route_t *r,
    const char *certs)
{
    const kngx_ann_access_t  *c = conf;
    size_t                    i;

    for (i = 0; i < c->deny.n; i++) {
        kngx_buf_printf(b, "        deny %s;\n", c->deny.a[i].s);
    }

    for (i = 0; i < c->allow.n; i++) {
        kngx_buf_printf(b, "        allow %s;\n", c->allow.a[i].s);
    }

    if (c->allow.n) {
        kngx_buf_printf(b, "        deny all;\n");
    }
}


const kngx_ann_family_t  kngx_ann_access_family = {
    "access", 8, sizeof(kngx_ann_access_t),
    kngx_ann_access_parse, NULL, kngx_ann_access_emit, NULL
};
