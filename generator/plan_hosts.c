
/*
 * kubengx generator: servers by host, and who may add routes to a host.
 *
 * Host ownership (--host-ownership, kngx_host_ownership_e): in namespace
 * mode (the default) the namespace of the oldest served Ingress with a
 * rule for a host owns the host (kngx_plan_claims, before any rule is
 * planned).  Rules, tls entries and default backends for the host from
 * other namespaces are refused with a warning, unless an Ingress of the
 * owner's namespace that routes the host lists their namespace in the
 * annotation kubengx.io/host-shared-with ("ns-b,ns-c").  Rules without
 * host are merged into a named host only when their namespace may add
 * routes to it; they always serve the catch-all server.  In merge mode
 * every namespace may add routes to every host.  Exact hosts and
 * wildcards are different hosts: owning "*.example.com" gives no say
 * over "a.example.com", which wins over the wildcard in nginx.  The
 * names of server-alias annotations are claims too, after the rule
 * hosts (kngx_plan_aliases()).
 */

#include <stdlib.h>
#include <string.h>

#include "plan_parts.h"


/* ---- servers by host ----------------------------------------------------- */

static int
kngx_host_index_grow(kngx_plan_t *p)
{
    size_t   size, i, j, *idx;

    size = p->host_index_size ? p->host_index_size * 2 : 256;
    idx = calloc(size, sizeof(size_t));
    if (idx == NULL) {
        return -1;
    }

    for (i = 0; i < p->nservers; i++) {
        j = kngx_plan_hash(p->servers[i].host) & (size - 1);
        while (idx[j]) {
            j = (j + 1) & (size - 1);
        }
        idx[j] = i + 1;
    }

    free(p->host_index);
    p->host_index = idx;
    p->host_index_size = size;

    return 0;
}


/* the slot of host in the index: its server's, or the empty one */
static size_t
kngx_host_slot(const kngx_plan_t *p, const char *host)
{
    const size_t  *idx = p->host_index;
    size_t         j;

    j = kngx_plan_hash(host) & (p->host_index_size - 1);

    while (idx[j] && strcmp(p->servers[idx[j] - 1].host, host) != 0) {
        j = (j + 1) & (p->host_index_size - 1);
    }

    return j;
}


/* the server of a (valid, lowercased) host; NULL on out of memory */
kngx_server_t *
kngx_plan_server(kngx_plan_t *p, const char *host)
{
    kngx_server_t  *srv;
    size_t          j, *idx, cap;

    if (p->nservers * 2 >= p->host_index_size) {
        if (kngx_host_index_grow(p) != 0) {
            return NULL;
        }
    }

    idx = p->host_index;
    j = kngx_host_slot(p, host);

    if (idx[j]) {
        return &p->servers[idx[j] - 1];
    }

    if (p->nservers == p->servers_cap) {
        cap = p->servers_cap ? p->servers_cap * 2 : 16;
        srv = realloc(p->servers, cap * sizeof(kngx_server_t));
        if (srv == NULL) {
            return NULL;
        }
        p->servers = srv;
        p->servers_cap = cap;
    }

    srv = &p->servers[p->nservers];
    memset(srv, 0, sizeof(kngx_server_t));

    srv->host = kube_arena_strdup(p->arena, host);
    if (srv->host == NULL) {
        return NULL;
    }

    srv->wildcard = (host[0] == '*');
    idx[j] = ++p->nservers;

    return srv;
}


/* the server of a host if there is one (no new server) */
kngx_server_t *
kngx_plan_server_find(kngx_plan_t *p, const char *host)
{
    size_t  j;

    if (p->host_index_size == 0) {
        return NULL;
    }

    j = kngx_host_slot(p, host);

    return ((size_t *) p->host_index)[j]
           ? &p->servers[((size_t *) p->host_index)[j] - 1] : NULL;
}


/* ---- ownership ----------------------------------------------------------- */

static int kngx_plan_aliases(kngx_plan_t *p);


/* the namespaces of ing's kubengx.io/host-shared-with; warns once */
static int
kngx_plan_shared_list(kngx_plan_t *p, const kngx_ingress_t *ing,
    kngx_shared_t **list)
{
    kngx_shared_t  *sh;
    const char     *v, *l, *s, *why;
    char            ns[64];
    size_t          len;

    *list = NULL;

    v = kngx_meta_annotation(&ing->meta, KNGX_ANN_SHARED_WITH);
    if (v == NULL) {
        return 0;
    }

    for (l = v; kngx_ann_list_next(&l, &s, &len); /* void */ ) {
        if (len == 0) {
            continue;
        }

        if (len >= sizeof(ns)) {
            why = "is longer than 63 characters";

        } else {
            memcpy(ns, s, len);
            ns[len] = '\0';

            if (kngx_name_check(KNGX_NAME_LABEL, ns, &why) == 0) {
                sh = kube_arena_calloc(p->arena, 1, sizeof(kngx_shared_t));
                if (sh == NULL) {
                    return -1;
                }

                sh->ns = kube_arena_strdup(p->arena, ns);
                if (sh->ns == NULL) {
                    return -1;
                }

                sh->next = *list;
                *list = sh;
                continue;
            }
        }

        if (kngx_plan_warn(p, ing, "metadata.annotations", 0,
                "bad-annotation", "%s: %s %s; that entry is ignored",
                KNGX_ANN_SHARED_WITH, kngx_msg_quote(v), why) != 0)
        {
            return -1;
        }
    }

    return 0;
}


static int
kngx_plan_share(kngx_plan_t *p, kngx_server_t *srv,
    const kngx_shared_t *list)
{
    kngx_shared_t  *sh;

    for ( /* void */ ; list; list = list->next) {
        if (kngx_plan_host_allowed(p, srv, list->ns)) {
            continue;
        }

        sh = kube_arena_calloc(p->arena, 1, sizeof(kngx_shared_t));
        if (sh == NULL) {
            return -1;
        }

        sh->ns = list->ns;
        sh->next = srv->shared;
        srv->shared = sh;
    }

    return 0;
}


/*
 * Before any rule is planned: the owner of every host (the served
 * Ingresses are sorted oldest first) and whom it shares the host with.
 */
int
kngx_plan_claims(kngx_plan_t *p)
{
    const kngx_ingress_t  *ing;
    kngx_shared_t         *list;
    kngx_server_t         *srv;
    const char            *why;
    char                   host[256];
    size_t                 i, j;
    int                    parsed;

    for (i = 0; i < p->ningresses; i++) {
        ing = p->ingresses[i];
        parsed = 0;
        list = NULL;

        for (j = 0; j < ing->nrules; j++) {
            if (ing->rules[j].host == NULL
                || kngx_host_check(ing->rules[j].host, host, sizeof(host),
                                   &why) != 0)
            {
                continue;
            }

            srv = kngx_plan_server(p, host);
            if (srv == NULL) {
                return -1;
            }

            if (srv->owner_ns == NULL) {
                srv->owner_ns = ing->meta.ns;
                srv->owner = ing;
            }

            if (strcmp(srv->owner_ns, ing->meta.ns) != 0) {
                continue;
            }

            if (!parsed) {
                if (kngx_plan_shared_list(p, ing, &list) != 0) {
                    return -1;
                }
                parsed = 1;
            }

            if (kngx_plan_share(p, srv, list) != 0) {
                return -1;
            }
        }
    }

    return kngx_plan_aliases(p);
}


/* whether an Ingress of namespace ns may add to srv's host */
int
kngx_plan_host_allowed(const kngx_plan_t *p, const kngx_server_t *srv,
    const char *ns)
{
    const kngx_shared_t  *sh;

    if (p->opts.host_ownership == KNGX_HOST_OWNERSHIP_MERGE
        || srv->owner_ns == NULL || strcmp(srv->owner_ns, ns) == 0)
    {
        return 1;
    }

    for (sh = srv->shared; sh; sh = sh->next) {
        if (strcmp(sh->ns, ns) == 0) {
            return 1;
        }
    }

    return 0;
}


int
kngx_plan_refuse_host(kngx_plan_t *p, const kngx_ingress_t *ing,
    const kngx_server_t *srv, const char *field, unsigned line)
{
    return kngx_plan_warn(p, ing, field, line, "host-owned",
               "host %s belongs to namespace %s (its oldest Ingress, "
               "%s/%s, routes it); namespace %s may add to it only if an "
               "Ingress of %s lists it in the annotation %s; refused",
               srv->host, srv->owner_ns, srv->owner->meta.ns,
               srv->owner->meta.name, ing->meta.ns, srv->owner_ns,
               KNGX_ANN_SHARED_WITH);
}


/* ---- server-alias -------------------------------------------------------- */

/*
 * The names of server-alias (annotations/hosts.c) are host claims, after
 * every rule host: a name that a served Ingress's rule routes belongs to
 * that rule (an alias must not give a second server the same name, and
 * must not capture a host another namespace owns); of the Ingresses that
 * ask for the same alias, the oldest gets it.  An alias joins the server
 * of its Ingress's first host that the Ingress's namespace may add to.
 * A name that its own Ingress routes is left out silently; every other
 * alias left out gets a warning naming the Ingress and the annotation.
 */

#define KNGX_ALIAS_FIELD  "metadata.annotations[" KNGX_ANN_PREFIX          \
                          "server-alias]"

typedef struct {
    const char            *host;
    const kngx_ingress_t  *ing;
    size_t                 order;       /* the Ingress's age, then the
                                           alias's place in its list */
} kngx_alias_claim_t;


static int
kngx_alias_claim_cmp(const void *a, const void *b)
{
    const kngx_alias_claim_t  *x = a, *y = b;
    int                        rc = strcmp(x->host, y->host);

    if (rc) {
        return rc;
    }

    return x->order < y->order ? -1 : x->order > y->order;
}


/* whether ing has a rule for host (lowercased), and the server of its
 * first host its namespace may add to in *first (NULL: none) */
static int
kngx_plan_alias_hosts(kngx_plan_t *p, const kngx_ingress_t *ing,
    const char *alias, kngx_server_t **first)
{
    kngx_server_t  *srv;
    const char     *why;
    char            host[256];
    size_t          i;
    int             own = 0;

    *first = NULL;

    for (i = 0; i < ing->nrules; i++) {
        if (ing->rules[i].host == NULL
            || kngx_host_check(ing->rules[i].host, host, sizeof(host),
                               &why) != 0)
        {
            continue;
        }

        own |= (strcmp(host, alias) == 0);

        srv = kngx_plan_server_find(p, host);

        if (*first == NULL && srv
            && kngx_plan_host_allowed(p, srv, ing->meta.ns))
        {
            *first = srv;
        }
    }

    return own;
}


/* the claims sorted by name are added in that order: each server's
 * aliases come out sorted */
static int
kngx_plan_alias_add(kngx_plan_t *p, kngx_server_t *srv, const char *host)
{
    const char  **a;
    size_t        cap;

    if (srv->naliases == srv->aliases_cap) {
        cap = srv->aliases_cap ? srv->aliases_cap * 2 : 4;
        a = kube_arena_calloc(p->arena, cap, sizeof(char *));
        if (a == NULL) {
            return -1;
        }

        if (srv->naliases) {
            memcpy(a, srv->aliases, srv->naliases * sizeof(char *));
        }

        srv->aliases = a;
        srv->aliases_cap = cap;
    }

    srv->aliases[srv->naliases++] = host;

    return 0;
}


static int
kngx_plan_alias_claim(kngx_plan_t *p, const kngx_alias_claim_t *c,
    const kngx_alias_claim_t **won)
{
    kngx_server_t  *srv, *to;
    int             own;

    own = kngx_plan_alias_hosts(p, c->ing, c->host, &to);
    srv = kngx_plan_server_find(p, c->host);

    if (srv) {
        if (own) {
            return 0;       /* its own host: the server has the name */
        }

        return kngx_plan_warn(p, c->ing, KNGX_ALIAS_FIELD, 0,
                   "alias-conflict", "alias %s is a host that Ingress "
                   "%s/%s routes (namespace %s owns it); a rule host wins "
                   "over an alias; that alias is left out", c->host,
                   srv->owner->meta.ns, srv->owner->meta.name,
                   srv->owner_ns);
    }

    if (*won) {
        return kngx_plan_warn(p, c->ing, KNGX_ALIAS_FIELD, 0,
                   "alias-conflict", "alias %s is already an alias of the "
                   "older Ingress %s/%s; that alias is left out", c->host,
                   (*won)->ing->meta.ns, (*won)->ing->meta.name);
    }

    if (to == NULL) {
        return kngx_plan_warn(p, c->ing, KNGX_ALIAS_FIELD, 0,
                   "alias-conflict", "alias %s: the Ingress has no rule "
                   "host of its own that the alias could name; that alias "
                   "is left out", c->host);
    }

    *won = c;

    return kngx_plan_alias_add(p, to, c->host);
}


static int
kngx_plan_aliases(kngx_plan_t *p)
{
    const kngx_alias_claim_t  *won = NULL;
    kngx_alias_claim_t        *claims;
    const char *const         *names;
    size_t                     i, j, n, total = 0;
    int                        rc = 0;

    for (i = 0; i < p->ningresses; i++) {
        if (!kngx_ingress_is_canary(p->ingresses[i])) {
            (void) kngx_ann_aliases(kngx_plan_ann(p, p->ingresses[i]), &n);
            total += n;
        }
    }

    if (total == 0) {
        return 0;
    }

    claims = malloc(total * sizeof(kngx_alias_claim_t));
    if (claims == NULL) {
        return -1;
    }

    for (i = 0, total = 0; i < p->ningresses; i++) {
        if (kngx_ingress_is_canary(p->ingresses[i])) {
            continue;       /* a canary serves its primaries' hosts */
        }

        names = kngx_ann_aliases(kngx_plan_ann(p, p->ingresses[i]), &n);

        for (j = 0; j < n; j++) {
            claims[total].host = names[j];
            claims[total].ing = p->ingresses[i];
            claims[total].order = total;
            total++;
        }
    }

    qsort(claims, total, sizeof(kngx_alias_claim_t), kngx_alias_claim_cmp);

    for (i = 0; i < total && rc == 0; i++) {
        if (i > 0 && strcmp(claims[i].host, claims[i - 1].host) != 0) {
            won = NULL;
        }

        rc = kngx_plan_alias_claim(p, &claims[i], &won);
    }

    free(claims);

    return rc;
}


/* ---- host-less routes into named hosts ----------------------------------- */

/*
 * Whether one of srv's own routes (sorted, routes[0..n)) matches a
 * request that the host-less route (path, type) matches: an own route of
 * the same path and type, or an own Prefix route at or above path
 * (element-wise: "/", and path cut before each "/", and path itself).
 * Lookups by binary search: O(depth log n), not a scan of the host's
 * routes for each host-less route.
 */
static int
kngx_plan_shadowed(const kngx_server_t *srv, size_t n, const char *path,
    kngx_path_type_e type)
{
    char    q[KNGX_PATH_MAX + 1];
    size_t  i, len = strlen(path);

    if (kngx_route_lookup(srv, n, path, type)
        || kngx_route_lookup(srv, n, "/", KNGX_PATH_PREFIX))
    {
        return 1;
    }

    if (len > KNGX_PATH_MAX) {
        return 0;       /* not reached: paths are validated */
    }

    memcpy(q, path, len + 1);

    for (i = len; i > 0; i--) {
        if (i < len && q[i] != '/') {
            continue;
        }

        q[i] = '\0';

        if (kngx_route_lookup(srv, n, q, KNGX_PATH_PREFIX)) {
            return 1;
        }

        if (i < len) {
            q[i] = '/';
        }
    }

    return 0;
}


int
kngx_plan_merge_hostless(kngx_plan_t *p, kngx_server_t *srv)
{
    const kngx_route_t  *r;
    size_t               i, nown = srv->nroutes;

    if (p->catch_all.nroutes == 0) {
        return 0;
    }

    /* the host's own routes, sorted for kngx_plan_shadowed() (the plan
     * sorts them again with the host-less ones added) */
    if (nown > 1) {
        qsort(srv->routes, nown, sizeof(kngx_route_t), kngx_route_cmp);
    }

    for (i = 0; i < p->catch_all.nroutes; i++) {
        r = &p->catch_all.routes[i];

        /* a regex route would take requests from the host's own
         * prefixes (nginx tries regexes first): catch-all only */
        if (r->type == KNGX_PATH_IMPLEMENTATION_SPECIFIC
            || kngx_plan_shadowed(srv, nown, r->path, r->type))
        {
            continue;
        }

        if (!kngx_plan_host_allowed(p, srv, r->target.ingress->meta.ns)) {
            /* not the owner's: served by the catch-all server only */
            continue;
        }

        if (kngx_route_append(srv, r) != 0) {
            return -1;
        }
    }

    return 0;
}
