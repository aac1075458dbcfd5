
/*
 * kubengx generator: ingress-nginx's server-alias annotation, and the
 * server_name line of a server with its aliases.
 *
 *   server-alias   "a.example.com, *.b.example.com": more names for the
 *                  server of the Ingress's first host (the first rule host
 *                  its namespace may add to), as ingress-nginx adds them
 *                  to that server's server_name
 *
 * Each name is checked as a rule host is (kngx_host_check(): a DNS name,
 * "*." only before two labels or more); a bad one is left out with a
 * warning, the others and the Ingress are served.  An alias is a host
 * claim: which alias wins, and that a rule host wins over every alias,
 * is decided with the rule hosts' ownership (plan_hosts.c).
 */

#include <string.h>

#include "annotations.h"
#include "escape.h"


#define KNGX_ANN_ALIASES_MAX  64


typedef struct {
    const char    **names;          /* lowercased, checked */
    size_t          n;
} kngx_ann_hosts_t;


int
kngx_ann_list_next(const char **s, const char **item, size_t *len)
{
    const char  *p = *s, *e;
    size_t       n;

    if (*p == '\0') {
        return 0;
    }

    e = strchr(p, ',');
    if (e == NULL) {
        e = p + strlen(p);
    }

    *s = *e ? e + 1 : e;

    p += strspn(p, " \t");             /* stops at the comma */
    n = (size_t) (e - p);

    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) {
        n--;
    }

    *item = p;
    *len = n;

    return 1;
}


static int
kngx_ann_hosts_parse(kngx_ann_ctx_t *ctx, void *conf, int id,
    const char *v)
{
    kngx_ann_hosts_t  *c = conf;
    const char        *s, *why;
    char               one[256], host[256];
    size_t             len, i;

    c->names = kube_arena_calloc(ctx->arena, KNGX_ANN_ALIASES_MAX,
                                 sizeof(char *));
    if (c->names == NULL) {
        return KNGX_ANN_NOMEM;
    }

    c->n = 0;

    while (kngx_ann_list_next(&v, &s, &len)) {
        if (len == 0) {
            continue;
        }

        if (len >= sizeof(one)) {
            why = "is longer than 253 characters";
            memcpy(one, s, 40);
            strcpy(one + 40, "...");

        } else {
            memcpy(one, s, len);
            one[len] = '\0';

            if (c->n == KNGX_ANN_ALIASES_MAX) {
                why = "is past the 64 names kubengx takes";

            } else if (kngx_host_check(one, host, sizeof(host), &why) == 0) {
                for (i = 0; i < c->n; i++) {
                    if (strcmp(c->names[i], host) == 0) {
                        break;
                    }
                }

                if (i < c->n) {
                    continue;       /* twice in the list */
                }

                c->names[c->n] = kube_arena_strdup(ctx->arena, host);
                if (c->names[c->n] == NULL) {
                    return KNGX_ANN_NOMEM;
                }

                c->n++;
                continue;
            }
        }

        if (kngx_ann_warn(ctx, "bad-alias", "alias %s %s; that alias is "
                          "left out", kngx_msg_quote(one), why)
            != 0)
        {
            return KNGX_ANN_NOMEM;
        }
    }

    return KNGX_ANN_OK;
}


const char *const *
kngx_ann_aliases(const kngx_ann_t *ann, size_t *n)
{
    const kngx_ann_hosts_t  *c;

    c = ann ? ann->conf[kngx_ann_hosts_family.index] : NULL;

    *n = c ? c->n : 0;

    return c ? c->names : NULL;
}


/* one name: exact quoted, "*.foo.com" as "~^[^.]+\.foo\.com$" (nginx's
 * own "*.foo.com" would also match a.b.foo.com; labels are [a-z0-9-]) */
static void
kngx_ann_server_name_one(kngx_buf_t *b, const char *host)
{
    const char  *s;

    if (host[0] != '*') {
        kngx_buf_printf(b, " \"%s\"", host);
        return;
    }

    kngx_buf_printf(b, " \"~^[^.]+");

    for (s = host + 1; *s; s++) {
        kngx_buf_printf(b, *s == '.' ? "\\." : "%c", *s);
    }

    kngx_buf_printf(b, "$\"");
}


void
kngx_ann_server_name(kngx_buf_t *b, const kngx_server_t *srv)
{
    size_t  i;

    kngx_buf_printf(b, "    server_name");
    kngx_ann_server_name_one(b, srv->host);

    for (i = 0; i < srv->naliases; i++) {
        kngx_ann_server_name_one(b, srv->aliases[i]);
    }

    kngx_buf_printf(b, ";\n");
}


const kngx_ann_family_t  kngx_ann_hosts_family = {
    "hosts", 16, sizeof(kngx_ann_hosts_t),
    kngx_ann_hosts_parse, NULL, NULL, NULL
};
