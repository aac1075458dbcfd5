
/*
 * kubengx generator: what a trusted proxy in front says about the
 * request (the settings ConfigMap's use-forwarded-headers, as in
 * ingress-nginx): X-Forwarded-Proto, -Host and -Port are believed only
 * from a peer in proxy-real-ip-cidr (the address the connection came
 * from, $realip_remote_addr, before real-IP replaced it), and then
 *
 *   - sent on to the backends instead of what nginx saw (a load
 *     balancer that ends TLS forwards "X-Forwarded-Proto: https");
 *   - they decide the https redirects (ssl-redirect, force-ssl-redirect):
 *     a request that reached the balancer over https is served, not
 *     redirected again and again.
 *
 * Without proxy-real-ip-cidr nothing is believed (settings.c warns) and
 * the variables below are not written: callers test
 * kngx_render_forwarded().
 */

#include "render.h"
#include "settings/settings.h"


int
kngx_render_forwarded(const kngx_settings_t *s)
{
    return s->use_forwarded_headers == 1 && s->proxy_real_ip_cidr.n > 0;
}


void
kngx_render_forwarded_http(kngx_buf_t *b, const kngx_render_opts_t *o,
    const kngx_settings_t *s)
{
    size_t  i;

    if (!kngx_render_forwarded(s)) {
        return;
    }

    kngx_buf_printf(b, "# use-forwarded-headers: X-Forwarded-Proto, -Host "
                    "and -Port from\n# proxy-real-ip-cidr only\n"
                    "geo $realip_remote_addr $kubengx_forwarded_trusted {\n"
                    "    default 0;\n");

    for (i = 0; i < s->proxy_real_ip_cidr.n; i++) {
        kngx_buf_printf(b, "    %s 1;\n", s->proxy_real_ip_cidr.items[i]);
    }

    kngx_buf_printf(b,
        "}\n\n"
        "map $kubengx_forwarded_trusted$http_x_forwarded_proto "
        "$kubengx_forwarded_proto {\n"
        "    default $scheme;\n"
        "    1http   http;\n"
        "    1https  https;\n"
        "}\n\n"
        "map $kubengx_forwarded_trusted$http_x_forwarded_host "
        "$kubengx_forwarded_host {\n"
        "    default $kubengx_host;\n"
        "    \"~^1([A-Za-z0-9.:_\\[\\]-]{1,255})$\" $1;\n"
        "}\n\n"
        "map $kubengx_forwarded_trusted$http_x_forwarded_port "
        "$kubengx_forwarded_port {\n"
        "    default %s;\n"
        "    \"~^1([0-9]{1,5})$\" $1;\n"
        "}\n\n",
        o->https_hop ? "$kubengx_server_port" : "$server_port");
}
