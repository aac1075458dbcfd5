
/*
 * kubengx generator: the http-level text of the rendered file, before its
 * servers (render.c): the maps every server uses (and those of
 * use-forwarded-headers, render_forwarded.c), what the annotations
 * need at http level (annotations/http.c), the server name hash sized
 * for the hosts (render_hash.c), the settings ConfigMap's http directives
 * (settings/), the upstream blocks (emit_upstream.c), the canaries'
 * split_clients (render_canary.c) and the annotations' zones.
 */

#include <string.h>

#include "render.h"
#include "settings/settings.h"
#include "annotations/annotations.h"


void
kngx_render_http(kngx_buf_t *b, const kngx_plan_t *p,
    const kngx_render_opts_t *o, const kngx_settings_t *s)
{
    size_t  i, bucket, names_max;

    kngx_buf_printf(b,
        "map $http_upgrade $kubengx_connection_upgrade {\n"
        "    default upgrade;\n"
        "    \"\"      \"\";\n"
        "}\n\n"
        "map $http_host $kubengx_host {\n"
        "    \"\"      $host;\n"
        "    default $http_host;\n"
        "}\n\n");

    if (o->https_hop) {
        kngx_buf_printf(b,
            "map $proxy_protocol_server_port $kubengx_server_port {\n"
            "    \"\"      $server_port;\n"
            "    default $proxy_protocol_server_port;\n"
            "}\n\n");
    }

    kngx_render_forwarded_http(b, o, s);
    kngx_ann_http(b, p);

    if (kngx_names_hash(p, &names_max, &bucket) != 0) {
        b->nomem = 1;

    } else if (names_max) {
        kngx_buf_printf(b,
            "# more host names than nginx's default server name hash (at\n"
            "# most 512 buckets) holds without a warning\n"
            "server_names_hash_max_size %zu;\n"
            "server_names_hash_bucket_size %zu;\n\n", names_max, bucket);

    } else if (bucket) {
        kngx_buf_printf(b,
            "# a host name longer than nginx's default server name hash\n"
            "# bucket (64 bytes) holds\n"
            "server_names_hash_bucket_size %zu;\n\n", bucket);
    }

    kngx_settings_http(b, s);
    kngx_emit_upstreams(b, p, s);
    kngx_render_canary_splits(b, p);

    /* the annotations' zones (limits.c), by Ingress */
    for (i = 0; i < p->ningresses; i++) {
        kngx_ann_emit_http(b, kngx_plan_ann(p, p->ingresses[i]),
                           p->ingresses[i]);
    }
}
