
/*
 * kubengx generator: ingress-nginx's TLS server annotations, in the https
 * server of the Ingress's hosts:
 *
 *   ssl-ciphers                an OpenSSL cipher list (the TLSv1.2 and
 *                              older ciphers; TLSv1.3 suites are
 *                              OpenSSL's): ssl_ciphers
 *   ssl-prefer-server-ciphers  "true"/"false": ssl_prefer_server_ciphers
 *
 * A host is one server with one TLS configuration: the Ingress that owns
 * the host's tls entry (plan_tls.c: the oldest that routes the host and
 * names it under tls) decides, as for ssl-redirect; the same keys on the
 * other Ingresses of the host are not used.  Its values replace the
 * settings ConfigMap's for that server (render.c calls
 * kngx_ann_ssl_tls() where it would call kngx_settings_tls()).
 *
 * A cipher list is checked by OpenSSL itself (SSL_CTX_set_cipher_list,
 * which also refuses a list that selects no cipher), after a check of
 * its alphabet, so that nginx never gets a list it refuses (which would
 * fail the whole config).  proxy-ssl-ciphers (backend.c) is checked the
 * same way: kngx_ann_ciphers().
 */

#include <string.h>

#include "annotations.h"
#include "escape.h"


typedef struct {
    char           ciphers[KNGX_ANN_CIPHERS_LEN];
    int            prefer;          /* 0 unset, 1 "false", 2 "true" */
} kngx_ann_ssl_t;


static const kngx_ann_ssl_t *
kngx_ann_ssl(const kngx_ann_t *ann)
{
    return ann ? ann->conf[kngx_ann_ssl_family.index] : NULL;
}


int
kngx_ann_ciphers(kngx_ann_ctx_t *ctx, const char *v, char *out,
    size_t size)
{
    const char  *s;
    int          ok;

    for (s = v; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
              || (*s >= '0' && *s <= '9') || strchr(":+!@._-", *s)))
        {
            break;
        }
    }

    if (*s || s == v || (size_t) (s - v) >= size) {
        ctx->why = "must be an OpenSSL cipher list ([A-Za-z0-9:+!@._-]), "
                   "not";
        return KNGX_ANN_BAD;
    }

    ok = kngx_tls_ciphers_ok(v);

    if (ok < 0) {
        return KNGX_ANN_NOMEM;
    }

    if (!ok) {
        ctx->why = "selects no cipher OpenSSL knows:";
        return KNGX_ANN_BAD;
    }

    memcpy(out, v, (size_t) (s - v) + 1);

    return KNGX_ANN_OK;
}


static int
kngx_ann_ssl_parse(kngx_ann_ctx_t *ctx, void *conf, int id, const char *v)
{
    kngx_ann_ssl_t  *c = conf;
    unsigned         on;

    if (id == KNGX_SL_CIPHERS) {
        return kngx_ann_ciphers(ctx, v, c->ciphers, sizeof(c->ciphers));
    }

    /* KNGX_SL_PREFER */

    if (kngx_ann_bool(ctx, v, &on) != KNGX_ANN_OK) {
        return KNGX_ANN_BAD;
    }

    c->prefer = on ? 2 : 1;

    return KNGX_ANN_OK;
}


void
kngx_ann_ssl_tls(kngx_buf_t *b, const kngx_plan_t *p,
    const kngx_server_t *srv, const kngx_settings_t *s)
{
    const kngx_ann_ssl_t  *c;
    kngx_settings_t        tmp;

    c = srv ? kngx_ann_ssl(kngx_plan_ann(p, srv->tls_owner)) : NULL;

    if (c == NULL) {
        kngx_settings_tls(b, s);
        return;
    }

    tmp = *s;

    if (c->ciphers[0]) {
        tmp.ssl_ciphers = c->ciphers;
    }

    if (c->prefer) {
        tmp.ssl_prefer_server_ciphers = c->prefer - 1;
    }

    kngx_settings_tls(b, &tmp);
}


const kngx_ann_family_t  kngx_ann_ssl_family = {
    "ssl", 13, sizeof(kngx_ann_ssl_t),
    kngx_ann_ssl_parse, NULL, NULL, NULL
};
