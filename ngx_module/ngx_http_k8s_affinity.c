
/*
 * kubengx: k8s_affinity, cookie session affinity (see
 * ngx_http_k8s_canary.h and kube/kube_affinity.h for the cookie value).
 *
 *     location / {
 *         k8s_affinity cookie name=route mode=persistent path=/
 *                      samesite=Lax max_age=3600;
 *         proxy_pass http://shop_web_80;
 *     }
 *
 * The balancer (ngx_http_k8s_balancer.c) asks ngx_http_k8s_pick_affinity()
 * instead of the upstream's method:
 *
 *   persistent  the cookie names an endpoint (a hash of "address:port"):
 *               it is used while it is in the list and usable; when it
 *               left the list, or there is no cookie, the upstream's
 *               method picks and a new cookie names the pick; when it
 *               failed (max_fails) or this request tried it already,
 *               the method picks another, with a new cookie only with
 *               change_on_failure (or when the cookie is this request's
 *               own: a retry of a new session names where it ended);
 *   balanced    the cookie is a session key; the endpoint with the
 *               highest kube_affinity_score() for it serves it, so an
 *               endpoint joining or leaving moves only the sessions it
 *               wins or had; when that one failed or was tried, the next
 *               highest; a new key (and cookie) without a cookie, and
 *               with change_on_failure when the key's endpoint failed.
 *
 * The session's endpoint wins over k8s_local_zone's preference (the
 * upstream's method, when it picks, keeps it).
 *
 * The Set-Cookie header is added when the endpoint is chosen (get_peer),
 * replaced when a retry chooses again.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_table.h"
#include "ngx_http_k8s_balancer.h"
#include "ngx_http_k8s_canary.h"
#include "kube_affinity.h"


static ngx_int_t ngx_http_k8s_affinity_attrs(ngx_conf_t *cf,
    ngx_http_k8s_affinity_t *af, ngx_str_t *path, ngx_str_t *domain,
    ngx_str_t *samesite, time_t max_age, ngx_uint_t secure);
static ngx_int_t ngx_http_k8s_affinity_attr(ngx_conf_t *cf, ngx_str_t *v,
    size_t skip, ngx_str_t *out);
static ngx_uint_t ngx_http_k8s_affinity_usable(
    ngx_http_k8s_peer_data_t *kpd, ngx_uint_t i);
static uint64_t ngx_http_k8s_affinity_id(ngx_http_k8s_peer_data_t *kpd,
    ngx_uint_t i);
static uint64_t ngx_http_k8s_affinity_key(ngx_http_k8s_peer_data_t *kpd);
static ngx_uint_t ngx_http_k8s_affinity_best(ngx_http_k8s_peer_data_t *kpd,
    uint64_t key, ngx_uint_t usable);
static ngx_uint_t ngx_http_k8s_affinity_samesite_none_ok(
    ngx_http_request_t *r);


char *
ngx_http_k8s_affinity(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_k8s_loc_conf_t *klcf = conf;

    u_char                   *p;
    time_t                    max_age;
    ngx_str_t                *value, path, domain, samesite;
    ngx_uint_t                i, secure;
    ngx_http_k8s_affinity_t  *af;

    if (klcf->affinity != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "cookie") != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid affinity \"%V\": only \"cookie\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    af = ngx_pcalloc(cf->pool, sizeof(ngx_http_k8s_affinity_t));
    if (af == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_str_set(&af->name, "INGRESSCOOKIE");
    ngx_str_set(&path, "/");
    ngx_str_null(&domain);
    ngx_str_null(&samesite);
    af->balanced = 1;
    max_age = 0;
    secure = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "name=", 5) == 0) {
            if (ngx_http_k8s_affinity_attr(cf, &value[i], 5, &af->name)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            for (p = af->name.data; p < af->name.data + af->name.len; p++) {
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                      || (*p >= '0' && *p <= '9')
                      || *p == '-' || *p == '_' || *p == '.'))
                {
                    goto invalid;
                }
            }

        } else if (ngx_strcmp(value[i].data, "mode=balanced") == 0) {
            af->balanced = 1;

        } else if (ngx_strcmp(value[i].data, "mode=persistent") == 0) {
            af->balanced = 0;

        } else if (ngx_strncmp(value[i].data, "path=", 5) == 0) {
            if (ngx_http_k8s_affinity_attr(cf, &value[i], 5, &path)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

        } else if (ngx_strncmp(value[i].data, "domain=", 7) == 0) {
            if (ngx_http_k8s_affinity_attr(cf, &value[i], 7, &domain)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

        } else if (ngx_strcmp(value[i].data, "samesite=None") == 0
                   || ngx_strcmp(value[i].data, "samesite=Lax") == 0
                   || ngx_strcmp(value[i].data, "samesite=Strict") == 0)
        {
            samesite.data = value[i].data + 9;
            samesite.len = value[i].len - 9;

        } else if (ngx_strcmp(value[i].data, "conditional_samesite_none")
                   == 0)
        {
            af->samesite_none_cond = 1;

        } else if (ngx_strcmp(value[i].data, "secure") == 0) {
            secure = 1;

        } else if (ngx_strncmp(value[i].data, "expires=", 8) == 0) {
            af->expires = ngx_atotm(value[i].data + 8, value[i].len - 8);
            if (af->expires == NGX_ERROR) {
                goto invalid;
            }

        } else if (ngx_strncmp(value[i].data, "max_age=", 8) == 0) {
            max_age = ngx_atotm(value[i].data + 8, value[i].len - 8);
            if (max_age == NGX_ERROR) {
                goto invalid;
            }

        } else if (ngx_strcmp(value[i].data, "change_on_failure") == 0) {
            af->change_on_failure = 1;

        } else if (ngx_strcmp(value[i].data, "canary=sticky") == 0) {
            af->legacy = 0;

        } else if (ngx_strcmp(value[i].data, "canary=legacy") == 0) {
            af->legacy = 1;

        } else {
            goto invalid;
        }
    }

    if (samesite.len != 4 || !af->samesite_none_cond) {
        af->samesite_none_cond = 0;
    }

    if (ngx_http_k8s_affinity_attrs(cf, af, &path, &domain, &samesite,
                                    max_age, secure)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    klcf->affinity = af;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


/* "; Path=P; Domain=D; Max-Age=N; Secure; HttpOnly; SameSite=S" */

static ngx_int_t
ngx_http_k8s_affinity_attrs(ngx_conf_t *cf, ngx_http_k8s_affinity_t *af,
    ngx_str_t *path, ngx_str_t *domain, ngx_str_t *samesite, time_t max_age,
    ngx_uint_t secure)
{
    u_char  *p;

    af->attrs.data = ngx_pnalloc(cf->pool,
                                 sizeof("; Path=") - 1 + path->len
                                 + sizeof("; Domain=") - 1 + domain->len
                                 + sizeof("; Max-Age=") - 1 + NGX_TIME_T_LEN
                                 + sizeof("; Secure; HttpOnly") - 1
                                 + sizeof("; SameSite=Strict") - 1);
    if (af->attrs.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(af->attrs.data, "; Path=%V", path);

    if (domain->len) {
        p = ngx_sprintf(p, "; Domain=%V", domain);
    }

    if (max_age) {
        p = ngx_sprintf(p, "; Max-Age=%T", max_age);
    }

    if (secure) {
        p = ngx_cpymem(p, "; Secure", sizeof("; Secure") - 1);
    }

    p = ngx_cpymem(p, "; HttpOnly", sizeof("; HttpOnly") - 1);

    af->attrs.len = p - af->attrs.data;

    if (samesite->len) {
        /* last, so that a conditional None can be cut off */
        p = ngx_sprintf(p, "; SameSite=%V", samesite);
    }

    af->attrs_samesite = p - af->attrs.data;

    return NGX_OK;
}


/* an attribute's value: no ';', ',', space or control characters */

static ngx_int_t
ngx_http_k8s_affinity_attr(ngx_conf_t *cf, ngx_str_t *v, size_t skip,
    ngx_str_t *out)
{
    u_char  *p;

    out->data = v->data + skip;
    out->len = v->len - skip;

    if (out->len == 0) {
        goto invalid;
    }

    for (p = out->data; p < out->data + out->len; p++) {
        if (*p <= ' ' || *p >= 0x7f || *p == ';' || *p == ',' || *p == '"'
            || *p == '\\')
        {
            goto invalid;
        }
    }

    return NGX_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", v);
    return NGX_ERROR;
}


/* the side (0 primary, 1 canary) the request's cookie names; -1: none */

ngx_int_t
ngx_http_k8s_cookie(ngx_http_request_t *r, ngx_str_t *name, ngx_str_t *value)
{
#if (nginx_version >= 1023000)
    return ngx_http_parse_cookie_lines(r, r->headers_in.cookie, name, value)
           ? NGX_OK : NGX_DECLINED;
#else
    return ngx_http_parse_multi_header_lines(&r->headers_in.cookies, name,
                                             value)
           == NGX_DECLINED ? NGX_DECLINED : NGX_OK;
#endif
}


int
ngx_http_k8s_affinity_side(ngx_http_request_t *r, ngx_http_k8s_affinity_t *af)
{
    uint64_t   v;
    ngx_str_t  value;

    if (ngx_http_k8s_cookie(r, &af->name, &value) != NGX_OK) {
        return -1;
    }

    if (kube_affinity_parse((char *) value.data, value.len, &v) != 0) {
        return -1;
    }

    return (int) (v & 1);
}


/* init_peer: the request's cookie; the pick goes through affinity */

void
ngx_http_k8s_affinity_init(ngx_http_k8s_peer_data_t *kpd,
    ngx_http_k8s_affinity_t *af, ngx_uint_t side)
{
    ngx_str_t  value;

    kpd->affinity = af;
    kpd->side = side;

    if (ngx_http_k8s_cookie(kpd->request, &af->name, &value) == NGX_OK
        && kube_affinity_parse((char *) value.data, value.len,
                               &kpd->cookie) == 0
        && (kpd->cookie & 1) == side)
    {
        kpd->has_cookie = 1;
        kpd->client_cookie = 1;
    }

    kpd->method = kpd->pick;
    kpd->pick = ngx_http_k8s_pick_affinity;
}


/* a method: under the entry's lock, at least two endpoints */

ngx_uint_t
ngx_http_k8s_pick_affinity(ngx_http_k8s_peer_data_t *kpd)
{
    ngx_uint_t                i, p, n;
    ngx_http_k8s_affinity_t  *af;

    af = kpd->affinity;
    n = kpd->peers->number;

    if (af->balanced) {
        if (!kpd->has_cookie) {
            kpd->cookie = ngx_http_k8s_affinity_key(kpd);
            kpd->has_cookie = 1;
            kpd->set_cookie = 1;
        }

        p = ngx_http_k8s_affinity_best(kpd, kpd->cookie, 0);

        if (ngx_http_k8s_affinity_usable(kpd, p)) {
            return p;
        }

        /* its endpoint failed or was tried: the next one for the key */

        if (af->change_on_failure || !kpd->client_cookie) {
            kpd->cookie = ngx_http_k8s_affinity_key(kpd);
            kpd->set_cookie = 1;
        }

        return ngx_http_k8s_affinity_best(kpd, kpd->cookie, 1);
    }

    if (kpd->has_cookie) {
        for (i = 0; i < n; i++) {
            if (ngx_http_k8s_affinity_id(kpd, i) != kpd->cookie) {
                continue;
            }

            if (ngx_http_k8s_affinity_usable(kpd, i)) {
                return i;
            }

            /* failed or tried: another one, the cookie stays unless */

            p = kpd->method(kpd);

            if (p != NGX_HTTP_K8S_NONE
                && (af->change_on_failure || !kpd->client_cookie))
            {
                kpd->cookie = ngx_http_k8s_affinity_id(kpd, p);
                kpd->set_cookie = 1;
            }

            return p;
        }
    }

    /* no cookie, or its endpoint left: a new one */

    p = kpd->method(kpd);

    if (p != NGX_HTTP_K8S_NONE) {
        kpd->cookie = ngx_http_k8s_affinity_id(kpd, p);
        kpd->has_cookie = 1;
        kpd->set_cookie = 1;
    }

    return p;
}


/*
 * get_peer chose kpd->current: with a single endpoint (no pick ran) the
 * cookie is checked here; then Set-Cookie when it is new.
 */

ngx_int_t
ngx_http_k8s_affinity_done(ngx_http_k8s_peer_data_t *kpd)
{
    u_char                   *p;
    size_t                    len;
    ngx_str_t                 attrs;
    ngx_table_elt_t          *h;
    ngx_http_request_t       *r;
    ngx_http_k8s_affinity_t  *af;

    af = kpd->affinity;
    r = kpd->request;

    if (kpd->peers->number == 1) {
        if (af->balanced) {
            if (!kpd->has_cookie) {
                kpd->cookie = ngx_http_k8s_affinity_key(kpd);
                kpd->has_cookie = 1;
                kpd->set_cookie = 1;
            }

        } else if (!kpd->has_cookie
                   || kpd->cookie != ngx_http_k8s_affinity_id(kpd, 0))
        {
            kpd->cookie = ngx_http_k8s_affinity_id(kpd, 0);
            kpd->has_cookie = 1;
            kpd->set_cookie = 1;
        }
    }

    if (!kpd->set_cookie) {
        return NGX_OK;
    }

    kpd->set_cookie = 0;

    attrs.data = af->attrs.data;
    attrs.len = af->attrs_samesite;

    if (af->samesite_none_cond && !ngx_http_k8s_affinity_samesite_none_ok(r))
    {
        attrs.len = af->attrs.len;
    }

    len = af->name.len + 1 + KUBE_AFFINITY_VALUE_LEN + attrs.len;

    if (af->expires) {
        len += sizeof("; Expires=Thu, 01-Jan-1970 00:00:00 GMT") - 1;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h = kpd->cookie_header;

    if (h == NULL) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        kpd->cookie_header = h;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Set-Cookie");
    h->value.data = p;

    p = ngx_cpymem(p, af->name.data, af->name.len);
    *p++ = '=';
    kube_affinity_format(kpd->cookie, (char *) p);
    p += KUBE_AFFINITY_VALUE_LEN;

    if (af->expires) {
        p = ngx_cpymem(p, "; Expires=", sizeof("; Expires=") - 1);
        p = ngx_http_cookie_time(p, ngx_time() + af->expires);
    }

    p = ngx_cpymem(p, attrs.data, attrs.len);

    h->value.len = p - h->value.data;

    return NGX_OK;
}


/*
 * Not tried by this request, not failed (max_fails): the session's
 * endpoint is kept even when k8s_local_zone prefers others.
 */

static ngx_uint_t
ngx_http_k8s_affinity_usable(ngx_http_k8s_peer_data_t *kpd, ngx_uint_t i)
{
    ngx_uint_t   usable;
    uintptr_t   *excluded;

    excluded = kpd->excluded;
    kpd->excluded = NULL;

    usable = ngx_http_k8s_balancer_usable(kpd, i);

    kpd->excluded = excluded;

    return usable;
}


static uint64_t
ngx_http_k8s_affinity_id(ngx_http_k8s_peer_data_t *kpd, ngx_uint_t i)
{
    ngx_http_k8s_peer_t  *peer;

    peer = kpd->peers->slot[i].peer;

    /* computed once, when the peer was made (ngx_http_k8s_table_peer.c) */
    return (peer->affinity_id & ~(uint64_t) 1) | kpd->side;
}


/* a new random session key of this side */

static uint64_t
ngx_http_k8s_affinity_key(ngx_http_k8s_peer_data_t *kpd)
{
    uint64_t  k;

    k = (uint64_t) ngx_random() << 33
        ^ (uint64_t) ngx_random() << 11
        ^ (uint64_t) ngx_random();

    return (k & ~(uint64_t) 1) | kpd->side;
}


/* the highest-scoring endpoint for key (only usable ones if usable) */

static ngx_uint_t
ngx_http_k8s_affinity_best(ngx_http_k8s_peer_data_t *kpd, uint64_t key,
    ngx_uint_t usable)
{
    uint64_t    s, best_score;
    ngx_uint_t  i, best;

    best = NGX_HTTP_K8S_NONE;
    best_score = 0;

    for (i = 0; i < kpd->peers->number; i++) {
        if (usable && !ngx_http_k8s_affinity_usable(kpd, i)) {
            continue;
        }

        s = kube_affinity_score(key, ngx_http_k8s_affinity_id(kpd, i));

        if (best == NGX_HTTP_K8S_NONE || s > best_score) {
            best = i;
            best_score = s;
        }
    }

    return best;
}


/*
 * Clients that reject or mishandle SameSite=None (the Chromium project's
 * list of incompatible clients, as ingress-nginx's
 * conditional-samesite-none): Chrome 51 to 66 and iOS 12 / macOS 10.14
 * Safari.
 */

static ngx_uint_t
ngx_http_k8s_affinity_samesite_none_ok(ngx_http_request_t *r)
{
    u_char           *p, *last;
    ngx_uint_t        v;
    ngx_table_elt_t  *ua;

    ua = r->headers_in.user_agent;

    if (ua == NULL) {
        return 1;
    }

    last = ua->value.data + ua->value.len;

    p = ngx_strnstr(ua->value.data, "Chrome/", ua->value.len);

    if (p != NULL) {
        p += sizeof("Chrome/") - 1;

        for (v = 0; p < last && *p >= '0' && *p <= '9'; p++) {
            v = v * 10 + (*p - '0');
        }

        if (v >= 51 && v <= 66) {
            return 0;
        }
    }

    if (ngx_strnstr(ua->value.data, "iPhone OS 12_", ua->value.len)
        || ngx_strnstr(ua->value.data, "iPad; CPU OS 12_", ua->value.len)
        || (ngx_strnstr(ua->value.data, "Mac OS X 10_14", ua->value.len)
            && ngx_strnstr(ua->value.data, "Safari", ua->value.len)
            && !ngx_strnstr(ua->value.data, "Chrome", ua->value.len)))
    {
        return 0;
    }

    return 1;
}
