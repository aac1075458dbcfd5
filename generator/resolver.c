
/*
 * kubengx generator: the nameservers of nginx's "resolver".
 *
 * ExternalName Services are proxied to by name, resolved by nginx when a
 * request comes (render.c), so that DNS never decides whether a config
 * loads.  The nameservers come from --resolver ADDR[,ADDR] or, without
 * it, from the "nameserver" lines of /etc/resolv.conf (in a pod: the
 * cluster DNS).  Only IP addresses are taken (a name would be resolved
 * when nginx loads the config); the text written is nginx's: IPv6 in
 * brackets, an optional ":PORT".
 */

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"


/* one address, "1.2.3.4", "1.2.3.4:53", "fd00::1", "[fd00::1]:53" */
static int
kngx_resolver_addr(const char *s, size_t len, char *out, size_t size,
    size_t *n)
{
    char             buf[80], text[INET6_ADDRSTRLEN], pbuf[8], *end;
    const char      *host, *port = NULL, *rb;
    unsigned char    a[16];
    long             p = 0;
    int              fam, w;

    if (len == 0 || len >= sizeof(buf)) {
        return -1;
    }

    memcpy(buf, s, len);
    buf[len] = '\0';
    host = buf;

    if (buf[0] == '[') {
        rb = strchr(buf, ']');
        if (rb == NULL || (rb[1] != '\0' && rb[1] != ':')) {
            return -1;
        }
        buf[rb - buf] = '\0';
        host = buf + 1;
        port = rb[1] ? rb + 2 : NULL;

    } else if (strchr(buf, ':') == strrchr(buf, ':')
               && strchr(buf, ':') != NULL)
    {
        /* one ":": IPv4 with a port */
        port = strchr(buf, ':') + 1;
        buf[port - buf - 1] = '\0';
    }

    if (port) {
        p = strtol(port, &end, 10);
        if (*port < '0' || *port > '9' || *end != '\0' || p < 1
            || p > 65535)
        {
            return -1;
        }
    }

    if (inet_pton(AF_INET, host, a) == 1) {
        fam = AF_INET;

    } else if (inet_pton(AF_INET6, host, a) == 1) {
        fam = AF_INET6;

    } else {
        return -1;
    }

    if (inet_ntop(fam, a, text, sizeof(text)) == NULL) {
        return -1;
    }

    if (port) {
        snprintf(pbuf, sizeof(pbuf), ":%ld", p);
    } else {
        pbuf[0] = '\0';
    }

    w = snprintf(out + *n, size - *n, "%s%s%s%s%s", *n ? " " : "",
                 fam == AF_INET6 ? "[" : "", text,
                 fam == AF_INET6 ? "]" : "", pbuf);

    if (w < 0 || (size_t) w >= size - *n) {
        return -1;
    }

    *n += (size_t) w;

    return 0;
}


int
kngx_resolver_parse(const char *flag, char *out, size_t size,
    const char **why)
{
    const char  *s, *comma;
    size_t       n = 0, len;

    out[0] = '\0';

    for (s = flag; /* void */ ; s = comma + 1) {
        comma = strchr(s, ',');
        len = comma ? (size_t) (comma - s) : strlen(s);

        if (kngx_resolver_addr(s, len, out, size, &n) != 0) {
            *why = "expected IP addresses separated by commas, each with "
                   "an optional :PORT (IPv6 with a port in brackets)";
            return -1;
        }

        if (comma == NULL) {
            break;
        }
    }

    return 0;
}


int
kngx_resolv_conf_parse(const char *text, char *out, size_t size)
{
    const char  *line, *eol, *p, *end;
    size_t       n = 0;

    out[0] = '\0';

    for (line = text; *line; line = *eol ? eol + 1 : eol) {
        eol = strchr(line, '\n');
        if (eol == NULL) {
            eol = line + strlen(line);
        }

        if (strncmp(line, "nameserver", 10) != 0
            || (line[10] != ' ' && line[10] != '\t'))
        {
            continue;
        }

        for (p = line + 10; p < eol && (*p == ' ' || *p == '\t'); p++) {
            /* void */
        }

        for (end = p; end < eol && *end != ' ' && *end != '\t'
                      && *end != '\r' && *end != '#' && *end != ';'; end++)
        {
            /* void */
        }

        /* scoped (fe80::1%eth0) and other unusable entries are skipped */
        (void) kngx_resolver_addr(p, (size_t) (end - p), out, size, &n);
    }

    return n ? 0 : -1;
}


int
kngx_resolv_conf_read(const char *path, char *out, size_t size)
{
    FILE    *f;
    char     text[8192];
    size_t   len;

    out[0] = '\0';

    f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }

    len = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[len] = '\0';

    return kngx_resolv_conf_parse(text, out, size);
}
