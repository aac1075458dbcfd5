
/*
 * kubengx generator: the hosts of TLS passthrough.
 *
 * ingress-nginx's annotation nginx.ingress.kubernetes.io/ssl-passthrough
 * (a boolean, as Go's strconv.ParseBool reads it), honoured only with
 * --enable-ssl-passthrough, as in ingress-nginx: TLS connections whose
 * SNI names the host are sent to the Service of the host's path "/"
 * untouched (the backend terminates TLS with its own certificate).  The
 * host comes from the route plan, so everything the plan checks holds
 * here too: a valid DNS name, owned by the Ingress's namespace
 * (--host-ownership), a Service and port that exist.  A host is passed
 * through when the Ingress that routes its "/" has the annotation; the
 * other paths of such an Ingress are not used over https (a warning),
 * and a rule without host cannot be (no name to match the SNI with).
 * An ExternalName backend is refused (connections would need a DNS
 * lookup per session).
 */

#include <stdlib.h>
#include <string.h>

#include "stream.h"


#define KNGX_PASSTHROUGH_ANNOTATION                                          \
    "nginx.ingress.kubernetes.io/ssl-passthrough"


/* strconv.ParseBool's true */
static int
kngx_passthrough_on(const kngx_ingress_t *ing)
{
    static const char  *yes[] = { "1", "t", "T", "true", "TRUE", "True" };
    const char         *v;
    size_t              i;

    v = kngx_meta_annotation(&ing->meta, KNGX_PASSTHROUGH_ANNOTATION);

    for (i = 0; v && i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(v, yes[i]) == 0) {
            return 1;
        }
    }

    return 0;
}


static int
kngx_passthrough_warn(kngx_stream_t *s, const kngx_ingress_t *ing,
    const char *code, const char *msg, const char *host)
{
    char  obj[320];

    snprintf(obj, sizeof(obj), "%s/%s", ing->meta.ns, ing->meta.name);

    return kngx_diag_add(&s->diags, s->arena, KNGX_DIAG_WARNING,
                         &ing->meta.src, 0, obj, "metadata.annotations["
                         KNGX_PASSTHROUGH_ANNOTATION "]", code, "%s%s%s",
                         msg, host ? " " : "", host ? host : "");
}


/* what the annotation cannot do for this Ingress, once each */
static int
kngx_passthrough_ingress(kngx_stream_t *s, const kngx_ingress_t *ing,
    const kngx_stream_opts_t *so)
{
    const kngx_ingress_rule_t  *rule;
    size_t                      i, j;
    int                         hostless = 0, other = 0;

    if (!so->passthrough) {
        return kngx_passthrough_warn(s, ing, "passthrough-off",
                   "ssl-passthrough is ignored: kubengx runs without "
                   "--enable-ssl-passthrough", NULL);
    }

    for (i = 0; i < ing->nrules; i++) {
        rule = &ing->rules[i];

        if (rule->host == NULL) {
            hostless = 1;
            continue;
        }

        for (j = 0; j < rule->npaths; j++) {
            if (strcmp(rule->paths[j].path, "/") != 0) {
                other = 1;
            }
        }
    }

    if (hostless
        && kngx_passthrough_warn(s, ing, "passthrough-hostless",
               "ssl-passthrough: a rule without host is not passed "
               "through (the TLS server name picks the backend)", NULL)
           != 0)
    {
        return -1;
    }

    if (other
        && kngx_passthrough_warn(s, ing, "passthrough-paths",
               "ssl-passthrough: only path / picks the backend of TLS "
               "connections; the other paths are served over http only",
               NULL)
           != 0)
    {
        return -1;
    }

    return 0;
}


/* the route "/" of a host, if any */
static const kngx_route_t *
kngx_passthrough_root(const kngx_server_t *srv)
{
    size_t  i;

    for (i = 0; i < srv->nroutes; i++) {
        if (srv->routes[i].type == KNGX_PATH_PREFIX
            && strcmp(srv->routes[i].path, "/") == 0)
        {
            return &srv->routes[i];
        }
    }

    return NULL;
}


int
kngx_stream_passthrough(kngx_stream_t *s, const kngx_plan_t *p,
    const kngx_stream_opts_t *so)
{
    const kngx_server_t    *srv;
    const kngx_route_t     *root;
    const kngx_upstream_t  *u;
    const kngx_ingress_t   *ing;
    size_t                  i;

    for (i = 0; i < p->ningresses; i++) {
        if (kngx_passthrough_on(p->ingresses[i])
            && kngx_passthrough_ingress(s, p->ingresses[i], so) != 0)
        {
            return -1;
        }
    }

    if (!so->passthrough || p->nservers == 0) {
        return 0;
    }

    s->passthrough = kube_arena_calloc(s->arena, p->nservers,
                                       sizeof(kngx_passthrough_t));
    if (s->passthrough == NULL) {
        return -1;
    }

    for (i = 0; i < p->nservers; i++) {
        srv = &p->servers[i];
        root = kngx_passthrough_root(srv);
        ing = root ? root->target.ingress : NULL;

        if (ing == NULL || !kngx_passthrough_on(ing)) {
            continue;
        }

        u = root->target.upstream;

        if (root->target.action != KNGX_ACTION_PROXY
            || u->kind == KNGX_UPSTREAM_EXTERNAL)
        {
            if (kngx_passthrough_warn(s, ing, "passthrough-backend",
                    "ssl-passthrough: the backend of / is missing or an "
                    "ExternalName; not passed through:", srv->host)
                != 0)
            {
                return -1;
            }

            continue;
        }

        s->passthrough[s->npassthrough].server = srv;
        s->passthrough[s->npassthrough].upstream = u;
        s->npassthrough++;
    }

    return 0;
}
