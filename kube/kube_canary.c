/*
 * kubengx kube/: canary settings and the per-request decision (see
 * kube_canary.h).
 */

#include <stdlib.h>
#include <string.h>

#include "kube_canary.h"


static int kube_canary_token(const char *s);
static int kube_canary_printable(const char *s);
static int kube_canary_number(const char *s, uint32_t max, uint32_t *out);
static int kube_canary_copy(char *dst, size_t size, const char *s);
static int kube_canary_bad(kube_err_t *err, int bad, const char *key,
    const char *why);
static const char *kube_canary_json_get(void *ctx, const char *key);


int
kube_canary_parse(kube_canary_t *c, kube_annotation_get_pt get, void *ctx,
    kube_err_t *err)
{
    int          bad;
    uint32_t     n;
    const char  *v;

    memset(c, 0, sizeof(kube_canary_t));
    kube_err_clear(err);

    c->weight_total = 100;
    bad = 0;

    v = get(ctx, KUBE_CANARY_PREFIX "canary");
    c->canary = (v != NULL && strcmp(v, "true") == 0);

    v = get(ctx, KUBE_CANARY_PREFIX "canary-weight-total");
    if (v != NULL) {
        if (kube_canary_number(v, KUBE_CANARY_TOTAL_MAX, &n) != 0 || n == 0) {
            bad = kube_canary_bad(err, bad, "canary-weight-total",
                                  "is not a number from 1 to 1000000");
        } else {
            c->weight_total = n;
        }
    }

    v = get(ctx, KUBE_CANARY_PREFIX "canary-weight");
    if (v != NULL) {
        if (kube_canary_number(v, c->weight_total, &n) != 0) {
            bad = kube_canary_bad(err, bad, "canary-weight",
                                  "is not a number from 0 to "
                                  "canary-weight-total");
        } else {
            c->weight = n;
        }
    }

    v = get(ctx, KUBE_CANARY_PREFIX "canary-by-header");
    if (v != NULL) {
        if (!kube_canary_token(v)
            || kube_canary_copy(c->header, sizeof(c->header), v) != 0)
        {
            bad = kube_canary_bad(err, bad, "canary-by-header",
                                  "is not an HTTP header name");
        }
    }

    v = get(ctx, KUBE_CANARY_PREFIX "canary-by-header-value");
    if (v != NULL) {
        if (!kube_canary_printable(v)
            || kube_canary_copy(c->header_value, sizeof(c->header_value), v)
               != 0)
        {
            bad = kube_canary_bad(err, bad, "canary-by-header-value",
                                  "is too long or not printable");
        }
    }

    v = get(ctx, KUBE_CANARY_PREFIX "canary-by-header-pattern");
    if (v != NULL) {
        if (!kube_canary_printable(v)
            || kube_canary_copy(c->header_pattern, sizeof(c->header_pattern),
                                v) != 0)
        {
            bad = kube_canary_bad(err, bad, "canary-by-header-pattern",
                                  "is too long or not printable");
        }
    }

    v = get(ctx, KUBE_CANARY_PREFIX "canary-by-cookie");
    if (v != NULL) {
        if (!kube_canary_token(v)
            || kube_canary_copy(c->cookie, sizeof(c->cookie), v) != 0)
        {
            bad = kube_canary_bad(err, bad, "canary-by-cookie",
                                  "is not a cookie name");
        }
    }

    return bad;
}


int
kube_canary_parse_json(kube_canary_t *c, json_t *ingress, kube_err_t *err)
{
    json_t  *ann;

    ann = json_object_get(json_object_get(ingress, "metadata"),
                          "annotations");

    return kube_canary_parse(c, kube_canary_json_get, ann, err);
}


static const char *
kube_canary_json_get(void *ctx, const char *key)
{
    json_t  *ann = ctx;

    if (!json_is_object(ann)) {
        return NULL;
    }

    return json_string_value(json_object_get(ann, key));
}


int
kube_canary_decide(const kube_canary_t *c, const kube_canary_req_t *req)
{
    int  m;

    if (!c->canary) {
        return 0;
    }

    if (c->header[0] != '\0' && req->header != NULL) {

        if (c->header_value[0] != '\0') {
            if (strlen(c->header_value) == req->header_len
                && memcmp(c->header_value, req->header, req->header_len)
                   == 0)
            {
                return 1;
            }

        } else if (c->header_pattern[0] != '\0') {
            m = req->match ? req->match(req->match_ctx, req->header,
                                        req->header_len)
                           : -1;
            if (m == 1) {
                return 1;
            }

        } else if (req->header_len == 6
                   && memcmp(req->header, "always", 6) == 0)
        {
            return 1;

        } else if (req->header_len == 5
                   && memcmp(req->header, "never", 5) == 0)
        {
            return 0;
        }
    }

    if (c->cookie[0] != '\0' && req->cookie != NULL) {

        if (req->cookie_len == 6 && memcmp(req->cookie, "always", 6) == 0) {
            return 1;
        }

        if (req->cookie_len == 5 && memcmp(req->cookie, "never", 5) == 0) {
            return 0;
        }
    }

    if (req->sticky >= 0) {
        return req->sticky;
    }

    if (c->weight == 0) {
        return 0;
    }

    return req->draw % c->weight_total < c->weight;
}


/* RFC 7230 token */
static int
kube_canary_token(const char *s)
{
    if (*s == '\0') {
        return 0;
    }

    for ( /* void */ ; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
              || (*s >= '0' && *s <= '9') || strchr("!#$%&'*+-.^_`|~", *s)))
        {
            return 0;
        }
    }

    return 1;
}


static int
kube_canary_printable(const char *s)
{
    for ( /* void */ ; *s; s++) {
        if ((unsigned char) *s < 0x20 || *s == 0x7f) {
            return 0;
        }
    }

    return 1;
}


static int
kube_canary_number(const char *s, uint32_t max, uint32_t *out)
{
    uint64_t  n;

    if (*s == '\0') {
        return -1;
    }

    for (n = 0; *s; s++) {
        if (*s < '0' || *s > '9') {
            return -1;
        }

        n = n * 10 + (uint64_t) (*s - '0');

        if (n > max) {
            return -1;
        }
    }

    *out = (uint32_t) n;

    return 0;
}


static int
kube_canary_copy(char *dst, size_t size, const char *s)
{
    size_t  len;

    len = strlen(s);

    if (len >= size) {
        return -1;
    }

    memcpy(dst, s, len + 1);

    return 0;
}


static int
kube_canary_bad(kube_err_t *err, int bad, const char *key, const char *why)
{
    if (bad == 0) {
        kube_err_set(err, KUBE_CANARY_PREFIX "%s %s; ignored", key, why);
    }

    return bad + 1;
}
