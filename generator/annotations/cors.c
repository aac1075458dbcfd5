
/*
 * kubengx generator: ingress-nginx's CORS annotations, answered by nginx
 * in each location of the Ingress (ingress-nginx's defaults):
 *
 *   enable-cors             "true" turns the rest on
 *   cors-allow-origin       "*" (default), or origins separated by "," or
 *                           " ": SCHEME://host[:port], the host's first
 *                           label may be "*"; a request's Origin is
 *                           echoed when it matches one (case-
 *                           insensitively), else no CORS header is sent
 *   cors-allow-methods      tokens of [A-Za-z] (default GET, PUT, POST,
 *                           DELETE, PATCH, OPTIONS)
 *   cors-allow-headers      tokens of [A-Za-z0-9_-] (default DNT,
 *                           Keep-Alive, User-Agent, X-Requested-With,
 *                           If-Modified-Since, Cache-Control,
 *                           Content-Type, Range, Authorization)
 *   cors-expose-headers     tokens as above and "*" (default none)
 *   cors-allow-credentials  "true" (default) or "false"
 *   cors-max-age            seconds (default 1728000)
 *
 * A preflight (OPTIONS) is answered 204 by nginx with the headers and
 * never reaches the backend; other responses get the headers "always"
 * (error statuses too).  The origin is chosen in $kubengx_cors_origin.
 */

#include <stdio.h>
#include <string.h>

#include "annotations.h"


#define KNGX_CORS_METHODS  "GET, PUT, POST, DELETE, PATCH, OPTIONS"
#define KNGX_CORS_HEADERS  "DNT,Keep-Alive,User-Agent,X-Requested-With," \
                           "If-Modified-Since,Cache-Control,Content-Type," \
                           "Range,Authorization"


typedef struct {
    unsigned       enable:1;
    unsigned       no_creds:1;
    char           origin[1024];     /* "" : "*"; else the regex */
    char           methods[256];
    char           headers[512];
    char           expose[512];
    long           max_age;
    unsigned       max_age_set:1;
} kngx_ann_cors_t;


/* "A, B,C" -> "A, B, C" of tokens of alphabet; "*" if star */
static int
kngx_ann_tokens(kngx_ann_ctx_t *ctx, const char *v, const char *extra,
    int star, char *out, size_t size)
{
    const char  *s = v;
    size_t       n = 0;
    int          tok = 0;

    for ( /* void */ ; *s; s++) {
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
            || strchr(extra, *s) || (star && *s == '*'))
        {
            if (n + 3 >= size) {
                goto bad;
            }
            if (tok == 2) {
                out[n++] = ',';
                out[n++] = ' ';
            }
            out[n++] = *s;
            tok = 1;

        } else if (*s == ',' || *s == ' ') {
            if (tok == 1) {
                tok = 2;
            }

        } else {
            goto bad;
        }
    }

    if (n == 0) {
        goto bad;
    }

    out[n] = '\0';

    return KNGX_ANN_OK;

bad:

    ctx->why = "must be a list of tokens separated by \",\", not";
    return KNGX_ANN_BAD;
}


/* one origin as a regex alternative appended to out */
static int
kngx_ann_origin(const char *s, size_t len, char *out, size_t size,
    size_t *n)
{
    size_t  i = 0, host;

    /* a scheme: a letter, then letters, digits or "-" */
    while (i < len && ((s[i] >= 'a' && s[i] <= 'z')
                       || (s[i] >= 'A' && s[i] <= 'Z')
                       || (i && ((s[i] >= '0' && s[i] <= '9')
                                 || s[i] == '-'))))
    {
        i++;
    }

    if (i == 0 || len < i + 4 || strncmp(s + i, "://", 3) != 0) {
        return -1;
    }

    i += 3;

    if (*n + len * 2 + 20 >= size) {
        return -1;
    }

    if (*n) {
        out[(*n)++] = '|';
    }

    memcpy(out + *n, s, i);
    *n += i;
    host = i;

    if (len - i > 2 && s[i] == '*' && s[i + 1] == '.') {
        memcpy(out + *n, "[^.]+\\.", 7);
        *n += 7;
        i += 2;
    }

    for ( /* void */ ; i < len; i++) {
        if (s[i] == '.') {
            out[(*n)++] = '\\';
            out[(*n)++] = '.';

        } else if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
                   || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'
                   || (s[i] == ':' && i > host))
        {
            out[(*n)++] = s[i];

        } else {
            return -1;
        }
    }

    out[*n] = '\0';

    return 0;
}


static int
kngx_ann_origins(kngx_ann_ctx_t *ctx, const char *v, char *out, size_t size)
{
    const char  *s = v, *e;
    size_t       n = 0;

    out[0] = '\0';

    if (strcmp(v, "*") == 0) {
        return KNGX_ANN_OK;
    }

    while (*s) {
        while (*s == ' ' || *s == ',') {
            s++;
        }

        for (e = s; *e && *e != ' ' && *e != ','; e++) { /* void */ }

        if (e > s && kngx_ann_origin(s, (size_t) (e - s), out, size, &n)
                     != 0)
        {
            ctx->why = "must be \"*\" or origins (scheme://host[:port], "
                       "the first label may be \"*\"), not";
            return KNGX_ANN_BAD;
        }

        s = e;
    }

    if (n == 0) {
        ctx->why = "names no origin:";
        return KNGX_ANN_BAD;
    }

    return KNGX_ANN_OK;
}


static int
kngx_ann_cors_parse(kngx_ann_ctx_t *ctx, void *conf, int id, const char *v)
{
    kngx_ann_cors_t  *c = conf;
    unsigned          on;

    switch (id) {

    case KNGX_CO_ENABLE:
        if (kngx_ann_bool(ctx, v, &on) != KNGX_ANN_OK) {
            return KNGX_ANN_BAD;
        }
        c->enable = on;
        return KNGX_ANN_OK;

    case KNGX_CO_CREDS:
        if (kngx_ann_bool(ctx, v, &on) != KNGX_ANN_OK) {
            return KNGX_ANN_BAD;
        }
        c->no_creds = !on;
        return KNGX_ANN_OK;

    case KNGX_CO_ORIGIN:
        return kngx_ann_origins(ctx, v, c->origin, sizeof(c->origin));

    case KNGX_CO_METHODS:
        return kngx_ann_tokens(ctx, v, "", 0, c->methods,
                               sizeof(c->methods));

    case KNGX_CO_HEADERS:
        return kngx_ann_tokens(ctx, v, "0123456789_-", 0, c->headers,
                               sizeof(c->headers));

    case KNGX_CO_EXPOSE:
        return kngx_ann_tokens(ctx, v, "0123456789_-", 1, c->expose,
                               sizeof(c->expose));

    default:    /* KNGX_CO_MAXAGE */
        c->max_age_set = 1;
        return kngx_ann_int(ctx, v, 0, 999999999, &c->max_age);
    }
}


static void
kngx_ann_cors_headers(kngx_buf_t *b, const kngx_ann_cors_t *c,
    const char *in)
{
    kngx_buf_printf(b, "%sadd_header Access-Control-Allow-Origin "
                    "$kubengx_cors_origin always;\n", in);

    if (!c->no_creds) {
        kngx_buf_printf(b, "%sadd_header Access-Control-Allow-Credentials "
                        "\"true\" always;\n", in);
    }

    if (c->expose[0]) {
        kngx_buf_printf(b, "%sadd_header Access-Control-Expose-Headers "
                        "\"%s\" always;\n", in, c->expose);
    }
}


static void
kngx_ann_cors_emit(kngx_buf_t *b, const void *conf, const kngx_route_t *r,
    const char *certs)
{
    const kngx_ann_cors_t  *c = conf;

    if (!c->enable) {
        return;
    }

    if (c->origin[0]) {
        kngx_buf_printf(b, "        set $kubengx_cors_origin \"\";\n"
                        "        if ($http_origin ~* \"^(%s)$\") {\n"
                        "            set $kubengx_cors_origin "
                        "$http_origin;\n"
                        "        }\n", c->origin);
    } else {
        kngx_buf_printf(b, "        set $kubengx_cors_origin \"*\";\n");
    }

    kngx_buf_printf(b, "        if ($request_method = OPTIONS) {\n");
    kngx_ann_cors_headers(b, c, "            ");
    kngx_buf_printf(b,
        "            add_header Access-Control-Allow-Methods \"%s\" "
        "always;\n"
        "            add_header Access-Control-Allow-Headers \"%s\" "
        "always;\n"
        "            add_header Access-Control-Max-Age %ld always;\n"
        "            " KNGX_ANN_HSTS
        "            return 204;\n"
        "        }\n",
        c->methods[0] ? c->methods : KNGX_CORS_METHODS,
        c->headers[0] ? c->headers : KNGX_CORS_HEADERS,
        c->max_age_set ? c->max_age : 1728000L);

    kngx_ann_cors_headers(b, c, "        ");
}


const kngx_ann_family_t  kngx_ann_cors_family = {
    "cors", 0, sizeof(kngx_ann_cors_t),
    kngx_ann_cors_parse, NULL, kngx_ann_cors_emit, NULL
};
