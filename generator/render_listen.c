
/*
 * kubengx generator: the addresses the rendered servers listen on
 * (render.c writes them after "listen"), from --listen-address and the
 * ports, with the parameters the settings ask for:
 *
 *   http    PORT | ADDR:PORT | [ADDR]:PORT      [proxy_protocol]
 *   https   the same with --https-port          [proxy_protocol]
 *           (the caller adds "ssl" and "http2"), or, behind the stream
 *           config's SNI reader (--enable-ssl-passthrough, stream.h),
 *           unix:HOP proxy_protocol
 *   h2c     the same with --h2c-port, "http2"   [proxy_protocol]
 *
 * h2c: nginx 1.22's "listen ... http2" without "ssl" makes the port
 * HTTP/2 only (prior knowledge: a request in HTTP/1.1 there is refused),
 * so h2c has a port of its own and every http server listens on it too.
 * nginx 1.25.1 and later read the same text, with a deprecation warning
 * for "listen ... http2" (their "http2 on;" is per server, not per port).
 */

#include <stdio.h>
#include <string.h>

#include "render.h"
#include "escape.h"
#include "settings/settings.h"


void
kngx_listen_addr(const char *addr, int port, char *out, size_t size)
{
    if (addr == NULL) {
        snprintf(out, size, "%d", port);

    } else {
        snprintf(out, size, strchr(addr, ':') && addr[0] != '['
                 ? "[%s]:%d" : "%s:%d", addr, port);
    }
}


/* --listen-address: an IP address (IPv6 in brackets or not) or a name */
static const char *
kngx_listen_check(const char *addr)
{
    size_t  i;
    char    c;

    if (addr == NULL) {
        return NULL;
    }

    if (strlen(addr) > 253) {
        return "--listen-address is longer than 253 characters";
    }

    for (i = 0; addr[i]; i++) {
        c = addr[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == ':'
              || c == '[' || c == ']' || c == '-'))
        {
            return "--listen-address must be an IP address or a name";
        }
    }

    return NULL;
}


const char *
kngx_render_listens(const kngx_render_opts_t *o, const kngx_settings_t *s,
    char *http, char *https, char *h2c)
{
    const char  *err, *pp;

    err = kngx_listen_check(o->listen_address);
    if (err) {
        return err;
    }

    pp = kngx_settings_listen(s);

    kngx_listen_addr(o->listen_address, o->http_port, http,
                     KNGX_LISTEN_SIZE);
    strcat(http, pp);

    h2c[0] = '\0';

    if (o->h2c_port) {
        kngx_listen_addr(o->listen_address, o->h2c_port, h2c,
                         KNGX_LISTEN_SIZE);
        strcat(h2c, " http2");
        strcat(h2c, pp);
    }

    if (o->https_hop == NULL) {
        kngx_listen_addr(o->listen_address, o->https_port, https,
                         KNGX_LISTEN_HTTPS_SIZE);
        strcat(https, pp);
        return NULL;
    }

    if (!kngx_ngx_safe(o->https_hop) || strpbrk(o->https_hop, "\"\\ ")
        || o->https_hop[0] != '/' || strlen(o->https_hop) > 1024)
    {
        return "the https hop socket path must be absolute, without "
               "quotes, backslashes, spaces, $, {, }, ;, control or "
               "non-ASCII bytes";
    }

    snprintf(https, KNGX_LISTEN_HTTPS_SIZE, "unix:%s proxy_protocol",
             o->https_hop);

    return NULL;
}
