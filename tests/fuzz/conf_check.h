/*
 * A crude tokenizer of nginx configuration syntax (after
 * src/core/ngx_conf_file.c ngx_conf_read_token) that checks a rendered
 * kubengx.conf against what the renderer (generator/render.c,
 * emit_upstream.c) makes:
 *
 *   - braces balance, quotes close, every directive ends with ";" or a
 *     block, a quoted string is followed by a separator;
 *   - no control bytes anywhere (but "\n" between tokens and "\t" in
 *     comments), unquoted words only from a conservative set of bytes;
 *   - every directive name is on an allow-list for its context (top
 *     level, map, upstream, server, location) with the argument counts
 *     and shapes the renderer writes;
 *   - every proxy_pass names an upstream block defined in the text, or
 *     is the ExternalName form (set $kubengx_external "NAME:PORT";
 *     proxy_pass http://$kubengx_external; resolver in the server).
 *
 * Used by fuzz_render.c (in the fuzzer) and by its corpus checker.
 * Header-only: static functions.  Returns 0, or -1 with a reason.
 */

#ifndef KNGX_CONF_CHECK_H
#define KNGX_CONF_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define CC_MAX_ARGS   8
#define CC_MAX_TOKEN  4096
#define CC_MAX_DEPTH  8
#define CC_MAX_NAMES  1024

enum { CC_MAIN = 0, CC_MAP, CC_UPSTREAM, CC_SERVER, CC_LOCATION };

typedef struct {
    char        args[CC_MAX_ARGS][CC_MAX_TOKEN];
    size_t      nargs;
    int         quoted[CC_MAX_ARGS];
    int         stack[CC_MAX_DEPTH];
    size_t      depth;
    uint64_t   *upstreams;      /* names by their FNV-1a hash */
    size_t      nupstreams;
    uint64_t   *passes;
    size_t      npasses;
    size_t      line;
    char       *why;
    size_t      why_size;
} cc_t;


static int
cc_fail(cc_t *c, const char *fmt, const char *arg)
{
    char  m[256];

    snprintf(m, sizeof(m), fmt, arg ? arg : "");
    snprintf(c->why, c->why_size, "line %zu: %s", c->line, m);
    return -1;
}


static int
cc_is_word_byte(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
           || (ch >= '0' && ch <= '9') || strchr("_$:/.[]=-~^*,+%@", ch);
}


/* a generated name (generator/names.c): [a-z0-9_.-] */
static int
cc_is_ident(const char *s, int allow_empty)
{
    if (*s == '\0') {
        return allow_empty;
    }
    for ( ; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')
              || *s == '_' || *s == '-' || *s == '.'))
        {
            return 0;
        }
    }
    return 1;
}


static uint64_t
cc_hash(const char *s)
{
    uint64_t  h = 1469598103934665603ULL;

    for ( ; *s; s++) {
        h = (h ^ (unsigned char) *s) * 1099511628211ULL;
    }
    return h;
}


/* k8s_service / k8s_dispatch balancing options */
static int
cc_balance_args(cc_t *c, size_t from)
{
    size_t  i;

    for (i = from; i < c->nargs; i++) {
        if (strncmp(c->args[i], "balance=", 8) != 0
            && strncmp(c->args[i], "hash=", 5) != 0
            && strcmp(c->args[i], "consistent") != 0)
        {
            return -1;
        }
    }
    return 0;
}


static int
cc_is_number(const char *s)
{
    if (*s == '\0') {
        return 0;
    }
    for ( ; *s; s++) {
        if (*s < '0' || *s > '9') {
            return 0;
        }
    }
    return 1;
}


static int
cc_in(const char *s, const char *const *set)
{
    for ( ; *set; set++) {
        if (strcmp(s, *set) == 0) {
            return 1;
        }
    }
    return 0;
}


/* a complete simple directive (name + args, ended by ";") */
static int
cc_simple(cc_t *c)
{
    static const char *const  headers[] = { "Host", "Upgrade", "Connection",
        "X-Real-IP", "X-Forwarded-For", "X-Forwarded-Proto",
        "X-Forwarded-Host", "X-Forwarded-Port", NULL };
    static const char *const  listen_flags[] = { "ssl", "default_server",
        NULL };
    const char  *name = c->args[0];
    size_t       n = c->nargs - 1, i;
    int          ctx = c->stack[c->depth - 1];

    if (c->quoted[0] && ctx != CC_MAP) {
        return cc_fail(c, "quoted directive name \"%s\"", name);
    }

    switch (ctx) {

    case CC_MAIN:
        if (strcmp(name, "server_names_hash_bucket_size") == 0) {
            return (n == 1 && (strcmp(c->args[1], "128") == 0
                               || strcmp(c->args[1], "256") == 0
                               || strcmp(c->args[1], "512") == 0))
                   ? 0 : cc_fail(c, "bad server_names_hash_bucket_size",
                                 NULL);
        }
        return cc_fail(c, "directive \"%s\" at top level", name);

    case CC_MAP:
        if (n != 1) {
            return cc_fail(c, "map entry \"%s\" with other than 2 parts",
                           name);
        }
        return 0;

    case CC_UPSTREAM:
        if (strcmp(name, "k8s_service") == 0) {
            if (n < 2 || n > 5 || strncmp(c->args[2], "port=", 5) != 0
                || strchr(c->args[1], '/') == NULL
                || cc_balance_args(c, 3) != 0)
            {
                return cc_fail(c, "bad k8s_service arguments", NULL);
            }
            return 0;
        }
        if (strcmp(name, "k8s_dispatch") == 0) {
            return (n <= 3 && cc_balance_args(c, 1) == 0) ? 0
                   : cc_fail(c, "bad k8s_dispatch arguments", NULL);
        }
        if (strcmp(name, "least_conn") == 0) {
            return n == 0 ? 0 : cc_fail(c, "bad least_conn", NULL);
        }
        if (strcmp(name, "hash") == 0) {
            return (n == 2 && strcmp(c->args[2], "consistent") == 0) ? 0
                   : cc_fail(c, "bad hash", NULL);
        }
        if (strcmp(name, "keepalive") == 0) {
            return (n == 1 && cc_is_number(c->args[1])) ? 0
                   : cc_fail(c, "bad keepalive", NULL);
        }
        if (strcmp(name, "server") == 0) {
            return n == 1 ? 0 : cc_fail(c, "upstream server with other "
                                        "than one argument", NULL);
        }
        return cc_fail(c, "directive \"%s\" in upstream", name);

    case CC_SERVER:
        if (strcmp(name, "listen") == 0) {
            if (n < 1 || n > 3) {
                return cc_fail(c, "bad listen", NULL);
            }
            for (i = 2; i <= n; i++) {
                if (!cc_in(c->args[i], listen_flags)) {
                    return cc_fail(c, "listen flag \"%s\"", c->args[i]);
                }
            }
            return 0;
        }
        if (strcmp(name, "server_name") == 0) {
            return n == 1 ? 0 : cc_fail(c, "server_name with other than one "
                                        "name", NULL);
        }
        if (strcmp(name, "proxy_http_version") == 0) {
            return (n == 1 && strcmp(c->args[1], "1.1") == 0) ? 0
                   : cc_fail(c, "bad proxy_http_version", NULL);
        }
        if (strcmp(name, "proxy_set_header") == 0) {
            return (n == 2 && cc_in(c->args[1], headers)) ? 0
                   : cc_fail(c, "proxy_set_header \"%s\"", c->args[1]);
        }
        if (strcmp(name, "ssl_certificate") == 0
            || strcmp(name, "ssl_certificate_key") == 0)
        {
            return (n == 1 && c->quoted[1]) ? 0
                   : cc_fail(c, "bad %s", name);
        }
        if (strcmp(name, "ssl_reject_handshake") == 0) {
            return (n == 1 && strcmp(c->args[1], "on") == 0) ? 0
                   : cc_fail(c, "bad ssl_reject_handshake", NULL);
        }
        if (strcmp(name, "resolver_timeout") == 0) {
            return (n == 1 && strcmp(c->args[1], "5s") == 0) ? 0
                   : cc_fail(c, "bad resolver_timeout", NULL);
        }
        if (strcmp(name, "resolver") == 0) {
            for (i = 1; i <= n; i++) {
                if (c->quoted[i] || strspn(c->args[i], "0123456789abcdef"
                                           "ABCDEF.:[]") != strlen(c->args[i]))
                {
                    return cc_fail(c, "resolver \"%s\"", c->args[i]);
                }
            }
            return n >= 1 ? 0 : cc_fail(c, "resolver without address", NULL);
        }
        if (strcmp(name, "return") == 0) {
            if (n == 2 && strcmp(c->args[1], "308") == 0
                && strncmp(c->args[2], "https://$host", 13) == 0)
            {
                return 0;
            }
            return cc_fail(c, "server-level return \"%s\"", c->args[1]);
        }
        return cc_fail(c, "directive \"%s\" in server", name);

    case CC_LOCATION:
        if (strcmp(name, "return") == 0) {
            return (n == 1 && (strcmp(c->args[1], "404") == 0
                               || strcmp(c->args[1], "503") == 0))
                   ? 0 : cc_fail(c, "location return \"%s\"", c->args[1]);
        }
        if (strcmp(name, "set") == 0) {
            return (n == 2 && strcmp(c->args[1], "$kubengx_external") == 0
                    && c->quoted[2] && strchr(c->args[2], '$') == NULL
                    && strchr(c->args[2], '\\') == NULL)
                   ? 0 : cc_fail(c, "set \"%s\"", c->args[1]);
        }
        if (strcmp(name, "k8s_backend") == 0) {
            return (n == 2 && strchr(c->args[1], '/') != NULL
                    && strncmp(c->args[2], "port=", 5) == 0)
                   ? 0 : cc_fail(c, "bad k8s_backend", NULL);
        }
        if (strcmp(name, "proxy_pass") == 0) {
            if (n == 1 && strcmp(c->args[1], "http://$kubengx_external") == 0
                && !c->quoted[1])
            {
                return 0;
            }
            if (n != 1 || strncmp(c->args[1], "http://", 7) != 0
                || !cc_is_ident(c->args[1] + 7, 0))
            {
                return cc_fail(c, "proxy_pass \"%s\"", c->args[1]);
            }
            if (c->npasses < CC_MAX_NAMES) {
                c->passes[c->npasses++] = cc_hash(c->args[1] + 7);
            }
            return 0;
        }
        return cc_fail(c, "directive \"%s\" in location", name);
    }

    return cc_fail(c, "bad context", NULL);
}


/* name + args, then "{" */
static int
cc_block(cc_t *c)
{
    const char  *name = c->args[0];
    size_t       n = c->nargs - 1;
    int          ctx = c->stack[c->depth - 1], inner;

    if (c->quoted[0]) {
        return cc_fail(c, "quoted block name \"%s\"", name);
    }

    if (c->depth >= CC_MAX_DEPTH) {
        return cc_fail(c, "blocks nested too deep", NULL);
    }

    if (ctx == CC_MAIN && strcmp(name, "map") == 0) {
        if (n != 2 || c->args[1][0] != '$' || c->args[2][0] != '$') {
            return cc_fail(c, "bad map", NULL);
        }
        inner = CC_MAP;

    } else if (ctx == CC_MAIN && strcmp(name, "upstream") == 0) {
        if (n != 1 || !cc_is_ident(c->args[1], 0)) {
            return cc_fail(c, "upstream name \"%s\"", c->args[1]);
        }
        if (c->nupstreams < CC_MAX_NAMES) {
            c->upstreams[c->nupstreams++] = cc_hash(c->args[1]);
        }
        inner = CC_UPSTREAM;

    } else if (ctx == CC_MAIN && strcmp(name, "server") == 0) {
        if (n != 0) {
            return cc_fail(c, "server block with arguments", NULL);
        }
        inner = CC_SERVER;

    } else if (ctx == CC_SERVER && strcmp(name, "location") == 0) {
        if (n == 2 && strcmp(c->args[1], "=") == 0 && !c->quoted[1]) {
            if (c->args[2][0] != '/') {
                return cc_fail(c, "location = \"%s\"", c->args[2]);
            }
        } else if (n != 1 || c->args[1][0] != '/') {
            return cc_fail(c, "location \"%s\"", c->args[1]);
        }
        inner = CC_LOCATION;

    } else {
        return cc_fail(c, "block \"%s\" not made by the renderer here", name);
    }

    c->stack[c->depth++] = inner;
    return 0;
}


static int
cc_check(const char *text, size_t len, char *why, size_t why_size)
{
    cc_t            *c;
    size_t           i, tl = 0, j, k;
    unsigned char    ch;
    int              rc = -1, in_token = 0, dq = 0, need_space = 0;

    c = calloc(1, sizeof(cc_t));
    if (c == NULL) {
        return 0;
    }
    c->upstreams = calloc(CC_MAX_NAMES, sizeof(uint64_t));
    c->passes = calloc(CC_MAX_NAMES, sizeof(uint64_t));
    if (c->upstreams == NULL || c->passes == NULL) {
        rc = 0;
        goto done;
    }

    c->why = why;
    c->why_size = why_size;
    c->line = 1;
    c->stack[0] = CC_MAIN;
    c->depth = 1;

#define CC_END_TOKEN()                                                        \
    do {                                                                      \
        if (in_token) {                                                       \
            if (c->nargs >= CC_MAX_ARGS) {                                    \
                cc_fail(c, "too many arguments", NULL);                       \
                goto done;                                                    \
            }                                                                 \
            c->args[c->nargs][tl] = '\0';                                     \
            c->nargs++;                                                       \
            in_token = 0;                                                     \
            tl = 0;                                                           \
        }                                                                     \
    } while (0)

    for (i = 0; i < len; i++) {
        ch = (unsigned char) text[i];

        if (ch == '\0') {
            cc_fail(c, "NUL byte", NULL);
            goto done;
        }

        if (dq) {
            if (ch < 0x20 || ch == 0x7f) {
                cc_fail(c, "control byte inside a quoted string", NULL);
                goto done;
            }
            if (ch == '\\') {
                if (i + 1 >= len) {
                    cc_fail(c, "backslash at end", NULL);
                    goto done;
                }
                if (tl + 2 >= CC_MAX_TOKEN) {
                    cc_fail(c, "token too long", NULL);
                    goto done;
                }
                c->args[c->nargs][tl++] = text[i];
                c->args[c->nargs][tl++] = text[++i];
                continue;
            }
            if (ch == '"') {
                dq = 0;
                need_space = 1;
                CC_END_TOKEN();
                continue;
            }
            if (tl + 1 >= CC_MAX_TOKEN) {
                cc_fail(c, "token too long", NULL);
                goto done;
            }
            c->args[c->nargs][tl++] = (char) ch;
            continue;
        }

        if (need_space) {
            if (ch != ' ' && ch != '\t' && ch != '\n' && ch != ';'
                && ch != '{')
            {
                cc_fail(c, "no separator after a quoted string", NULL);
                goto done;
            }
            need_space = 0;
        }

        if (ch == '\n') {
            CC_END_TOKEN();
            c->line++;
            continue;
        }

        if (ch == ' ' || ch == '\t') {
            CC_END_TOKEN();
            continue;
        }

        if (ch < 0x20 || ch >= 0x7f) {
            cc_fail(c, "control or non-ASCII byte outside quotes", NULL);
            goto done;
        }

        if (ch == '#' && !in_token) {
            if (c->nargs) {
                cc_fail(c, "comment inside a directive", NULL);
                goto done;
            }
            for (i++; i < len && text[i] != '\n'; i++) {
                ch = (unsigned char) text[i];
                if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
                    cc_fail(c, "control byte in a comment", NULL);
                    goto done;
                }
            }
            c->line++;
            continue;
        }

        if (ch == ';' || ch == '{') {
            CC_END_TOKEN();
            if (c->nargs == 0) {
                cc_fail(c, "empty directive before \"%s\"",
                        ch == ';' ? ";" : "{");
                goto done;
            }
            if ((ch == ';' ? cc_simple(c) : cc_block(c)) != 0) {
                goto done;
            }
            c->nargs = 0;
            memset(c->quoted, 0, sizeof(c->quoted));
            continue;
        }

        if (ch == '}') {
            if (in_token || c->nargs) {
                cc_fail(c, "\"}\" inside a directive", NULL);
                goto done;
            }
            if (c->depth <= 1) {
                cc_fail(c, "unbalanced \"}\"", NULL);
                goto done;
            }
            c->depth--;
            continue;
        }

        if (ch == '"' && !in_token) {
            if (c->nargs >= CC_MAX_ARGS) {
                cc_fail(c, "too many arguments", NULL);
                goto done;
            }
            dq = 1;
            in_token = 1;
            c->quoted[c->nargs] = 1;
            continue;
        }

        if (!cc_is_word_byte(ch)) {
            cc_fail(c, "byte '%s' in an unquoted word",
                    (char[2]) { (char) ch, '\0' });
            goto done;
        }

        if (c->nargs >= CC_MAX_ARGS) {
            cc_fail(c, "too many arguments", NULL);
            goto done;
        }
        if (tl + 1 >= CC_MAX_TOKEN) {
            cc_fail(c, "token too long", NULL);
            goto done;
        }
        in_token = 1;
        c->args[c->nargs][tl++] = (char) ch;
    }

    if (dq) {
        cc_fail(c, "unterminated quoted string", NULL);
        goto done;
    }
    if (in_token || c->nargs) {
        cc_fail(c, "directive without \";\" at end", NULL);
        goto done;
    }
    if (c->depth != 1) {
        cc_fail(c, "unclosed block at end", NULL);
        goto done;
    }

    for (j = 0; j < c->npasses; j++) {
        for (k = 0; k < c->nupstreams; k++) {
            if (c->passes[j] == c->upstreams[k]) {
                break;
            }
        }
        if (k == c->nupstreams) {
            cc_fail(c, "a proxy_pass to an undefined upstream", NULL);
            goto done;
        }
    }

    rc = 0;

#undef CC_END_TOKEN

done:

    free(c->upstreams);
    free(c->passes);
    free(c);
    return rc;
}

#endif /* KNGX_CONF_CHECK_H */
