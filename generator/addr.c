
/*
 * kubengx generator: addresses a manifest must not make nginx connect to.
 *
 * An ExternalName Service names a host that nginx proxies to.  A tenant
 * who can create a Service must not reach the ingress pod's own ports
 * (127.0.0.1), the node's link-local services (169.254.169.254), or
 * multicast and broadcast through it.  The resolver accepts more
 * spellings of an IPv4 address than the dotted quad: inet_aton() reads
 * "0x7f.1", "0177.0.0.1", "2130706433" and "127.1" as 127.0.0.1, and the
 * names "localhost" and "*.localhost" (RFC 6761) are this host.  Every
 * such spelling is refused; an ExternalName must be a DNS name.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "escape.h"


int
kngx_addr_forbidden(int family, const void *addr)
{
    const unsigned char  *b = addr;
    static const unsigned char  v4mapped[12] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
    };
    static const unsigned char  zero[16];

    if (family == AF_INET) {
        return b[0] == 0                             /* 0.0.0.0/8 */
               || b[0] == 127                        /* loopback */
               || (b[0] == 169 && b[1] == 254)       /* link-local */
               || b[0] >= 224;                       /* multicast,
                                                        reserved,
                                                        broadcast */
    }

    if (family != AF_INET6) {
        return 1;
    }

    if (memcmp(b, v4mapped, 12) == 0 || memcmp(b, zero, 12) == 0) {
        /* ::ffff:a.b.c.d and ::a.b.c.d (also :: and ::1) */
        return memcmp(b, zero, 15) == 0 || kngx_addr_forbidden(AF_INET,
                                                               b + 12);
    }

    return b[0] == 0xff                               /* multicast */
           || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80); /* fe80::/10 */
}


static int
kngx_is_localhost(const char *name)
{
    static const char  *names[] = {
        "localhost", "localhost.localdomain", "ip6-localhost",
        "ip6-loopback", NULL
    };
    size_t              i, len;

    for (i = 0; names[i]; i++) {
        if (strcmp(name, names[i]) == 0) {
            return 1;
        }
    }

    len = strlen(name);

    return len > 10 && strcmp(name + len - 10, ".localhost") == 0;
}


int
kngx_external_name_check(const char *name, const char **why)
{
    static char     buf[160];
    char            low[256];
    struct in_addr  a4;
    size_t          len, i;

    len = strlen(name);

    if (len == 0 || len >= sizeof(low)) {
        return kngx_dns_name_check(name, why);
    }

    for (i = 0; i <= len; i++) {
        low[i] = (name[i] >= 'A' && name[i] <= 'Z')
                 ? (char) (name[i] - 'A' + 'a') : name[i];
    }

    if (len > 1 && low[len - 1] == '.') {
        low[--len] = '\0';
    }

    if (strspn(low, "0123456789abcdefx.") == len
        && inet_aton(low, &a4) == 1)
    {
        snprintf(buf, sizeof(buf), "is the IPv4 address %s%s; an "
                 "ExternalName must be a DNS name", inet_ntoa(a4),
                 kngx_addr_forbidden(AF_INET, &a4)
                 ? " (loopback, unspecified, link-local, multicast or "
                   "broadcast)" : "");
        *why = buf;
        return -1;
    }

    if (kngx_is_localhost(low)) {
        *why = "names this host (localhost); an ExternalName must name "
               "another host";
        return -1;
    }

    return kngx_dns_name_check(name, why);
}
