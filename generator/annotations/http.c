
/*
 * kubengx generator: what the annotations of the served Ingresses need
 * at the http level of the rendered file (render.c writes it after its
 * own maps):
 *
 *   map $request_uri $kubengx_escaped_request_uri   external auth
 *                                                   (auth_external.c)
 *   geo, map, limit_req_zone, limit_conn_zone       rate limits
 *                                                   (limits.c)
 *
 * nginx has no function that escapes a value for a query string; the
 * map gives the request URI as it is when it holds none of "&", "#",
 * "+", "%" and ";" (which a query value cannot hold raw), else its path
 * up to the first of them or "?", else "/".
 */

#include "annotations.h"


void
kngx_ann_http(kngx_buf_t *b, const kngx_plan_t *p)
{
    if (kngx_ann_ext_escapes(p)) {
        kngx_buf_printf(b,
            "map $request_uri $kubengx_escaped_request_uri {\n"
            "    \"~^[^&#+%%;]*$\"                          $request_uri;\n"
            "    \"~^(?<kubengx_eru>/[^?&#+%%;]*)\"         $kubengx_eru;\n"
            "    default                                  \"/\";\n"
            "}\n\n");
    }

    kngx_ann_limits_http(b, p);
}


void
kngx_ann_emit_access(kngx_buf_t *b, const kngx_ann_t *ann, const char *dir)
{
    kngx_ann_tls_checks(b, ann);
    kngx_ann_auth_emit(b, ann, dir);
}


const kngx_ann_file_t *
kngx_ann_file(const kngx_ann_t *ann, unsigned n)
{
    switch (n) {
    case 0:
        return kngx_ann_auth_file(ann);
    case 1:
        return kngx_ann_tls_file(ann);
    default:
        return NULL;
    }
}


int
kngx_ann_upstream_headers(kngx_buf_t *b, const kngx_ann_t *ann,
    const char *in)
{
    int  n;

    n = kngx_ann_ext_upstream_headers(b, ann, in);
    n += kngx_ann_tls_upstream_headers(b, ann, in);

    return n;
}
