
/*
 * kubengx generator: ingress-nginx's redirect annotations.
 *
 * permanent-redirect URL (code: permanent-redirect-code, 301 by
 * default) and temporal-redirect URL (temporal-redirect-code, 302 by
 * default; it wins over permanent-redirect, as in ingress-nginx): every
 * route of the Ingress answers "return CODE URL" and proxies nothing.
 * URL: http or https, a DNS name or IPv4 address, an optional :PORT and
 * a path and query of [A-Za-z0-9/_~!&,=:@%.+?#-]; no "$" (nginx would
 * expand it).
 *
 * ssl-redirect, force-ssl-redirect: read by the plan per host
 * (kngx_ann_ssl_redirect()): "false" on the Ingress that owns a host's
 * tls entry serves http as well as https on that host; force-ssl-redirect
 * "true" on the Ingress that owns a host redirects http to https even
 * when kubengx has no certificate for it (TLS ends before kubengx).
 *
 * preserve-trailing-slash: "true"/"false", checked.  kubengx's https
 * redirect always keeps the request URI as sent ($request_uri), which is
 * what "true" asks; ingress-nginx without it drops one trailing "/".
 */

#include <string.h>

#include "annotations.h"
#include "escape.h"


typedef struct {
    const char  *perm;
    long         perm_code;
    const char  *temp;
    long         temp_code;
    int          ssl;           /* -1 unset, 0, 1 */
    unsigned     force:1;
    unsigned     ssl_set:1;
} kngx_ann_redirect_t;


static int
kngx_ann_url_check(kngx_ann_ctx_t *ctx, const char *v)
{
    const char  *s, *host;
    long         port;

    if (strncmp(v, "https://", 8) == 0) {
        host = v + 8;
    } else if (strncmp(v, "http://", 7) == 0) {
        host = v + 7;
    } else {
        goto bad;
    }

    if (strlen(v) > 2048) {
        goto bad;
    }

    for (s = host; (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
                   || (*s >= '0' && *s <= '9') || *s == '.' || *s == '-';
         s++)
    {
        /* void */
    }

    if (s == host || host[0] == '.' || host[0] == '-') {
        goto bad;
    }

    if (*s == ':') {
        port = 0;
        for (s++; *s >= '0' && *s <= '9'; s++) {
            port = port * 10 + (*s - '0');
            if (port > 65535) {
                goto bad;
            }
        }
        if (port == 0) {
            goto bad;
        }
    }

    if (*s && *s != '/' && *s != '?') {
        goto bad;
    }

    for ( /* void */ ; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
              || (*s >= '0' && *s <= '9') || strchr("/_~!&,=:@%.+?#-", *s)))
        {
            goto bad;
        }
    }

    return KNGX_ANN_OK;

bad:

    ctx->why = "must be an http or https URL of a DNS name (no \"$\", "
               "quotes, spaces or braces), not";
    return KNGX_ANN_BAD;
}


static int
kngx_ann_redirect_parse(kngx_ann_ctx_t *ctx, void *conf, int id,
    const char *v)
{
    kngx_ann_redirect_t  *c = conf;
    unsigned              on;

    switch (id) {

    case KNGX_RD_PERM:
        if (kngx_ann_url_check(ctx, v) != KNGX_ANN_OK) {
            return KNGX_ANN_BAD;
        }
        c->perm = v;
        return KNGX_ANN_OK;

    case KNGX_RD_TEMP:
        if (kngx_ann_url_check(ctx, v) != KNGX_ANN_OK) {
            return KNGX_ANN_BAD;
        }
        c->temp = v;
        return KNGX_ANN_OK;

    case KNGX_RD_PERM_CODE:
    case KNGX_RD_TEMP_CODE:
        if (kngx_ann_int(ctx, v, 300, 308, id == KNGX_RD_PERM_CODE
                                           ? &c->perm_code : &c->temp_code)
            != KNGX_ANN_OK
            || (id == KNGX_RD_TEMP_CODE
                && c->temp_code != 301 && c->temp_code != 302
                && c->temp_code != 303 && c->temp_code != 307)
            || (id == KNGX_RD_PERM_CODE
                && (c->perm_code == 304 || c->perm_code == 305
                    || c->perm_code == 306)))
        {
            ctx->why = "must be a redirect status (300-303, 307, 308; "
                       "temporal: 301, 302, 303, 307), not";
            return KNGX_ANN_BAD;
        }
        return KNGX_ANN_OK;

    case KNGX_RD_SSL:
        if (kngx_ann_bool(ctx, v, &on) != KNGX_ANN_OK) {
            return KNGX_ANN_BAD;
        }
        c->ssl = (int) on;
        c->ssl_set = 1;
        return KNGX_ANN_OK;

    case KNGX_RD_TRAILING:
        /* the https redirect keeps $request_uri as sent (render.c):
         * "true" is what it does; checked, nothing to write */
        return kngx_ann_bool(ctx, v, &on);

    default:    /* KNGX_RD_FORCE_SSL */
        if (kngx_ann_bool(ctx, v, &on) != KNGX_ANN_OK) {
            return KNGX_ANN_BAD;
        }
        c->force = on;
        return KNGX_ANN_OK;
    }
}


static void
kngx_ann_redirect_emit(kngx_buf_t *b, const void *conf,
    const kngx_route_t *r, const char *certs)
{
    const kngx_ann_redirect_t  *c = conf;
    char                        q[4200];
    const char                 *url;
    long                        code;

    if (c->temp) {
        url = c->temp;
        code = c->temp_code ? c->temp_code : 302;

    } else if (c->perm) {
        url = c->perm;
        code = c->perm_code ? c->perm_code : 301;

    } else {
        return;
    }

    if (kngx_ann_quote(url, q, sizeof(q)) < 0) {
        return;         /* not reached: checked and bounded */
    }

    kngx_buf_printf(b, "        return %ld %s;\n", code, q);
}


int
kngx_ann_redirects(const kngx_ann_t *ann)
{
    const kngx_ann_redirect_t  *c;

    c = ann ? ann->conf[kngx_ann_redirect_family.index] : NULL;

    return c && (c->perm || c->temp);
}


int
kngx_ann_ssl_redirect(const kngx_ann_t *ann)
{
    const kngx_ann_redirect_t  *c;

    c = ann ? ann->conf[kngx_ann_redirect_family.index] : NULL;

    if (c == NULL) {
        return -1;
    }

    if (c->force) {
        return 2;
    }

    return c->ssl_set ? c->ssl : -1;
}


const kngx_ann_family_t  kngx_ann_redirect_family = {
    "redirect", 1, sizeof(kngx_ann_redirect_t),
    kngx_ann_redirect_parse, NULL, kngx_ann_redirect_emit, NULL
};
