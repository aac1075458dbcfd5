
/*
 * kubengx generator: ingress-nginx's from-to-www-redirect.
 *
 *   from-to-www-redirect  "true": requests for www.HOST are redirected
 *                         (308) to HOST, keeping the scheme and the
 *                         request URI; for a rule host www.HOST, HOST is
 *                         redirected to www.HOST.  Wildcard hosts get no
 *                         redirect (a warning).
 *
 * The other name (the alias) is a host claim, so it is checked against
 * every host the plan serves (kngx_ann_www_plan(), after the rules):
 *
 *   - the Ingress must route HOST (its namespace may add routes to it,
 *     plan_hosts.c), so a namespace never redirects a name for a host it
 *     cannot serve;
 *   - the alias must not be a host any served Ingress routes, nor match
 *     a wildcard host one routes (the redirect would capture names the
 *     wildcard's Ingress serves): ingress-nginx too leaves the redirect
 *     out when a rule names the alias;
 *   - two hosts can want one alias (example.com and www.www.example.com
 *     both want www.example.com): the oldest Ingress's host keeps it.
 *
 * A conflict loses only the redirect, with a warning.  The alias is
 * written as a second server_name in each server block of HOST (same
 * listeners, same certificate: the certificate must name the alias for
 * https, as with ingress-nginx) with an "if ($host = ALIAS)" that
 * returns 308 before any route is looked at.
 */

#include <stdio.h>
#include <string.h>

#include "annotations.h"
#include "plan_parts.h"


#define KNGX_WWW_FIELD  "metadata.annotations[" KNGX_ANN_PREFIX \
                        "from-to-www-redirect]"


typedef struct {
    unsigned       on:1;
} kngx_ann_www_t;


static int
kngx_ann_www_parse(kngx_ann_ctx_t *ctx, void *conf, int id, const char *v)
{
    kngx_ann_www_t  *c = conf;
    unsigned         on;

    if (kngx_ann_bool(ctx, v, &on) != KNGX_ANN_OK) {
        return KNGX_ANN_BAD;
    }

    c->on = on;

    return KNGX_ANN_OK;
}


static int
kngx_ann_www_on(const kngx_ann_t *ann)
{
    const kngx_ann_www_t  *c;

    c = ann ? ann->conf[kngx_ann_www_family.index] : NULL;

    return c && c->on;
}


/* the server having name as a server-alias (dot: name's first ".", for
 * a wildcard alias), or NULL */
static const kngx_server_t *
kngx_www_alias_of(const kngx_plan_t *p, const char *name, const char *dot)
{
    size_t  i, k;

    for (i = 0; i < p->nservers; i++) {
        for (k = 0; k < p->servers[i].naliases; k++) {
            if (strcmp(p->servers[i].aliases[k], name) == 0
                || (dot && p->servers[i].aliases[k][0] == '*'
                    && strcmp(p->servers[i].aliases[k] + 1, dot) == 0))
            {
                return &p->servers[i];
            }
        }
    }

    return NULL;
}


/*
 * Why alias (of host, asked by ing) cannot be claimed, or NULL: a served
 * host, a wildcard host matching it, a server-alias, or the alias of
 * another host.
 */
static const char *
kngx_ann_www_taken(kngx_plan_t *p, const char *host, const char *alias,
    char *why, size_t size)
{
    const kngx_server_t  *srv;
    const char           *dot;
    char                  other[300];

    srv = kngx_plan_server_find(p, alias);
    if (srv) {
        snprintf(why, size, "%s is a host of its own (%s/%s)", alias,
                 srv->owner ? srv->owner->meta.ns : "",
                 srv->owner ? srv->owner->meta.name : "");
        return why;
    }

    dot = strchr(alias, '.');
    if (dot) {
        snprintf(other, sizeof(other), "*%s", dot);
        srv = kngx_plan_server_find(p, other);
        if (srv) {
            snprintf(why, size, "the wildcard host %s serves it (%s/%s)",
                     other, srv->owner ? srv->owner->meta.ns : "",
                     srv->owner ? srv->owner->meta.name : "");
            return why;
        }
    }

    /* a server-alias of a host (annotations/hosts.c), or one of its
     * wildcard aliases matching it */
    srv = kngx_www_alias_of(p, alias, dot);
    if (srv) {
        snprintf(why, size, "%s has it as a server-alias (%s/%s)", srv->host,
                 srv->owner ? srv->owner->meta.ns : "",
                 srv->owner ? srv->owner->meta.name : "");
        return why;
    }

    /* the one other host whose alias this can be */
    if (strncmp(host, "www.", 4) == 0) {
        if (strncmp(alias, "www.", 4) != 0) {
            return NULL;
        }
        snprintf(other, sizeof(other), "%s", alias + 4);

    } else {
        snprintf(other, sizeof(other), "www.%s", alias);
    }

    srv = kngx_plan_server_find(p, other);
    if (srv && srv->www_from && strcmp(srv->www_from, alias) == 0) {
        snprintf(why, size, "it already redirects to %s", other);
        return why;
    }

    return NULL;
}


/* the alias of ing's rule host (lowercased, valid); 0, or -1 no memory */
static int
kngx_ann_www_host(kngx_plan_t *p, const kngx_ingress_t *ing,
    const char *host)
{
    kngx_server_t  *srv;
    const char     *why;
    char            alias[300], out[256], reason[600];

    if (host[0] == '*') {
        return kngx_plan_warn(p, ing, KNGX_WWW_FIELD, 0, "alias-conflict",
                              "the wildcard host %s gets no www redirect",
                              host);
    }

    srv = kngx_plan_server_find(p, host);

    if (srv == NULL || srv->www_from
        || !kngx_plan_host_allowed(p, srv, ing->meta.ns))
    {
        /* the rule was refused (warned), or the alias is set */
        return 0;
    }

    if (strncmp(host, "www.", 4) == 0) {
        snprintf(alias, sizeof(alias), "%s", host + 4);
    } else {
        snprintf(alias, sizeof(alias), "www.%s", host);
    }

    if (kngx_host_check(alias, out, sizeof(out), &why) != 0) {
        return kngx_plan_warn(p, ing, KNGX_WWW_FIELD, 0, "alias-conflict",
                              "no www redirect for %s: %s %s", host,
                              alias, why);
    }

    if (kngx_ann_www_taken(p, host, out, reason, sizeof(reason))) {
        return kngx_plan_warn(p, ing, KNGX_WWW_FIELD, 0, "alias-conflict",
                              "no redirect from %s to %s: %s", out, host,
                              reason);
    }

    srv->www_from = kube_arena_strdup(p->arena, out);

    return srv->www_from ? 0 : -1;
}


int
kngx_ann_www_plan(kngx_plan_t *p)
{
    const kngx_ingress_t  *ing;
    const char            *why;
    char                   host[256];
    size_t                 i, j;

    /* oldest first: the oldest Ingress's host keeps a contested alias */
    for (i = 0; i < p->ningresses; i++) {
        ing = p->ingresses[i];

        if (!kngx_ann_www_on(kngx_plan_ann(p, ing))
            || kngx_ingress_is_canary(ing))
        {
            continue;
        }

        for (j = 0; j < ing->nrules; j++) {
            if (ing->rules[j].host == NULL
                || kngx_host_check(ing->rules[j].host, host, sizeof(host),
                                   &why) != 0)
            {
                continue;
            }

            if (kngx_ann_www_host(p, ing, host) != 0) {
                return -1;
            }
        }
    }

    return 0;
}


void
kngx_ann_www_server(kngx_buf_t *b, const kngx_server_t *srv,
    const kngx_render_opts_t *o)
{
    if (srv->www_from == NULL) {
        return;
    }

    kngx_buf_printf(b, "    server_name \"%s\";\n"
                    "    if ($host = \"%s\") {\n", srv->www_from,
                    srv->www_from);

    if (o->http_port == 80 && o->https_port == 443) {
        kngx_buf_printf(b, "        return 308 $scheme://%s$request_uri;\n",
                        srv->host);

    } else {
        /* the port the request came to */
        kngx_buf_printf(b, "        return 308 "
                        "$scheme://%s:$server_port$request_uri;\n",
                        srv->host);
    }

    kngx_buf_printf(b, "    }\n");
}


const kngx_ann_family_t  kngx_ann_www_family = {
    "www", 14, sizeof(kngx_ann_www_t),
    kngx_ann_www_parse, NULL, NULL, NULL
};
