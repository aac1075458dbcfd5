
/*
 * kubengx controller: the Ingresses an nginx -t error points at.
 *
 * nginx names the line of most errors ("[emerg] ... in DIR/kubengx.conf:
 * 123"); for others it names a value in quotes instead
 * (SSL_CTX_use_PrivateKey("DIR/certs/NAME.pem") failed, unknown "name"
 * variable).  That line, or every line holding the quoted value (at most
 * KNGX_BLAME_LINES of them), is traced to the block it is in, as
 * generator/render.c and generator/emit_upstream.c write them:
 *
 *   a location with "# Ingress ns/name"       that Ingress (the default
 *                                             "location /" has none:
 *                                             nothing)
 *   a line naming "certs/NAME.pem"            the Ingresses whose spec.tls
 *                                             names that Secret
 *   another line of a server { }              the Ingresses whose rules
 *                                             name its host (found by its
 *                                             server_name); none for the
 *                                             catch-all, which is always
 *                                             there
 *   upstream NAME { }                         the Ingresses routed to it
 *
 * Each of these Ingresses alone makes the block exist, so when the error
 * is in one block, all of them are to blame: the answer is then "joint".
 * When a value is on several lines, they are only candidates.  Anything
 * else (a line outside these blocks, a form this does not know) points
 * at nothing.  controller_bisect.c tests a config without them before it
 * believes any of it.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller_sync_int.h"


#define KNGX_BLAME_LINES  16


typedef struct {
    const kngx_plan_t   *p;
    const char          *conf;
    size_t               len;
    size_t              *line;          /* offsets of line starts */
    size_t               nlines;
    json_t              *out;
} kngx_blame_t;


static void
kngx_blame_add(kngx_blame_t *b, const kngx_ingress_t *ing)
{
    char  key[1024];

    if (ing) {
        snprintf(key, sizeof(key), "%s/%s", ing->meta.ns, ing->meta.name);
        json_object_set_new(b->out, key, json_true());
    }
}


/* line n (0-based) as pointer and length, without the newline */

static const char *
kngx_blame_line(kngx_blame_t *b, size_t n, size_t *len)
{
    size_t  end;

    end = n + 1 < b->nlines ? b->line[n + 1] - 1 : b->len;
    if (end > b->line[n] && b->conf[end - 1] == '\n') {
        end--;
    }
    *len = end - b->line[n];

    return b->conf + b->line[n];
}


static int
kngx_blame_starts(kngx_blame_t *b, size_t n, const char *prefix)
{
    size_t       len;
    const char  *s = kngx_blame_line(b, n, &len);

    return len >= strlen(prefix) && memcmp(s, prefix, strlen(prefix)) == 0;
}


/* the Ingresses whose spec.tls names the Secret behind certs/NAME.pem */

static int
kngx_blame_cert(kngx_blame_t *b, const char *s, size_t len)
{
    const kngx_secret_t  *sec = NULL;
    const char           *c, *e;
    size_t                i, j, n;

    for (c = s; c + 6 <= s + len; c++) {
        if (memcmp(c, "certs/", 6) == 0) {
            break;
        }
    }

    if (c + 6 > s + len) {
        return 0;
    }

    c += 6;
    for (e = c; e + 4 <= s + len && memcmp(e, ".pem", 4) != 0; e++) {
        /* void */
    }

    if (e + 4 > s + len) {
        return 0;
    }

    n = (size_t) (e - c);

    for (i = 0; i < b->p->ncerts; i++) {
        if (strlen(b->p->certs[i].name) == n
            && memcmp(b->p->certs[i].name, c, n) == 0)
        {
            sec = b->p->certs[i].secret;
        }
    }

    if (sec == NULL) {
        return 0;
    }

    for (i = 0; i < b->p->ningresses; i++) {
        const kngx_ingress_t  *ing = b->p->ingresses[i];

        if (strcmp(ing->meta.ns, sec->meta.ns) != 0) {
            continue;
        }

        for (j = 0; j < ing->ntls; j++) {
            if (ing->tls[j].secret_name
                && strcmp(ing->tls[j].secret_name, sec->meta.name) == 0)
            {
                kngx_blame_add(b, ing);
            }
        }
    }

    return 1;
}


static int
kngx_blame_target_is(const kngx_plan_t *p, const kngx_target_t *t,
    const char *name, size_t n)
{
    const kngx_upstream_t  *u = t->upstream;
    size_t                  d = sizeof(KNGX_DISPATCH_NAME) - 1;

    if (t->action != KNGX_ACTION_PROXY || u == NULL) {
        return 0;
    }

    if (strlen(u->name) == n && memcmp(u->name, name, n) == 0) {
        return 1;
    }

    return p->dispatch && u->kind == KNGX_UPSTREAM_MODULE
           && n == d + strlen(u->variant)
           && memcmp(name, KNGX_DISPATCH_NAME, d) == 0
           && memcmp(name + d, u->variant, n - d) == 0;
}


/*
 * upstream: the Ingresses of srv's routes (and default) to it; NULL: those
 * whose own rules name srv's host (routes of rules without host are
 * merged into every server; they do not make it exist)
 */

static void
kngx_blame_server_routes(kngx_blame_t *b, const kngx_server_t *srv,
    const char *upstream, size_t n)
{
    const kngx_route_t  *rt;
    size_t               i;

    for (i = 0; i < srv->nroutes; i++) {
        rt = &srv->routes[i];

        if (upstream ? kngx_blame_target_is(b->p, &rt->target, upstream, n)
                     : !rt->hostless)
        {
            kngx_blame_add(b, rt->target.ingress);
        }
    }

    if (upstream
        && kngx_blame_target_is(b->p, &srv->default_target, upstream, n))
    {
        kngx_blame_add(b, srv->default_target.ingress);
    }
}


/* "upstream NAME {": every route to it */

static void
kngx_blame_upstream(kngx_blame_t *b, const char *s, size_t len)
{
    const char  *name = s + 9;
    size_t       n, i;

    for (n = 0; name + n < s + len && name[n] != ' '; n++) { /* void */ }

    kngx_blame_server_routes(b, &b->p->catch_all, name, n);

    for (i = 0; i < b->p->nservers; i++) {
        kngx_blame_server_routes(b, &b->p->servers[i], name, n);
    }
}


/*
 * server_name "host" or "~^[^.]+\.rest\.of\.it$" (generator/render.c's
 * form of "*.rest.of.it"), or "_" for the catch-all: the plan's server
 */

static const kngx_server_t *
kngx_blame_server(kngx_blame_t *b, const char *s, size_t len)
{
    static const char  re[] = "\"~^[^.]+";
    char               host[300];
    const char        *q, *end = s + len;
    size_t             n = 0, i;
    int                wildcard = 0;

    q = memchr(s, '"', len);
    if (q == NULL) {
        /* the catch-all's "server_name _;" */
        return len >= 3 && memcmp(end - 3, " _;", 3) == 0
               ? &b->p->catch_all : NULL;
    }

    if ((size_t) (end - q) > sizeof(re) - 1
        && memcmp(q, re, sizeof(re) - 1) == 0)
    {
        wildcard = 1;
        host[n++] = '*';
        q += sizeof(re) - 1;
    } else {
        q++;
    }

    for ( /* void */ ; q < end && *q != '"' && n < sizeof(host) - 1; q++) {
        if (*q != '\\' && !(wildcard && *q == '$')) {
            host[n++] = *q;
        }
    }
    host[n] = '\0';

    for (i = 0; i < b->p->nservers; i++) {
        if ((unsigned) wildcard == b->p->servers[i].wildcard
            && strcmp(b->p->servers[i].host, host) == 0)
        {
            return &b->p->servers[i];
        }
    }

    return NULL;
}


/* line n (0-based): the block it is in */

static void
kngx_blame_at(kngx_blame_t *b, size_t n)
{
    const kngx_server_t  *srv;
    const char           *s, *c;
    size_t                len, top, i;

    /* the top-level block: a line "WORD ... {" at column 0 */

    for (top = n + 1; top-- > 0; ) {
        s = kngx_blame_line(b, top, &len);

        if (len && s[0] == '}' && top != n) {
            return;                     /* n is outside any block */
        }

        if (len && s[0] != ' ' && s[0] != '#' && s[len - 1] == '{') {
            break;
        }
    }

    if (top == (size_t) -1) {
        return;
    }

    s = kngx_blame_line(b, n, &len);

    if (kngx_blame_starts(b, top, "upstream ")) {
        s = kngx_blame_line(b, top, &len);
        kngx_blame_upstream(b, s, len);
        return;
    }

    if (!kngx_blame_starts(b, top, "server {")) {
        return;
    }

    if (kngx_blame_cert(b, s, len)) {
        return;
    }

    /* in a location: its "# Ingress ns/name" line */

    for (i = n + 1; i-- > top; ) {
        if (kngx_blame_starts(b, i, "    }") && i != n) {
            break;
        }

        if (kngx_blame_starts(b, i, "    location ")) {
            if (i + 1 < b->nlines
                && kngx_blame_starts(b, i + 1, "        # Ingress "))
            {
                char   key[1024];
                size_t k;

                s = kngx_blame_line(b, i + 1, &len);
                c = s + 18;
                for (k = 0; c + k < s + len && c[k] != ' '
                            && k < sizeof(key) - 1; k++)
                {
                    key[k] = c[k];
                }
                key[k] = '\0';
                json_object_set_new(b->out, key, json_true());
            }

            /* else the server's default location: no Ingress of its own */
            return;
        }
    }

    /* elsewhere in the server: every Ingress routed in it */

    for (i = top + 1; i < b->nlines && !kngx_blame_starts(b, i, "}"); i++) {
        if (kngx_blame_starts(b, i, "    server_name ")) {
            s = kngx_blame_line(b, i, &len);
            srv = kngx_blame_server(b, s, len);
            if (srv && srv != &b->p->catch_all) {
                kngx_blame_server_routes(b, srv, NULL, 0);
            }
            return;
        }
    }
}


/* "... in /dir/kubengx.conf:123": 123, else 0 */

static size_t
kngx_blame_line_number(const char *msg, size_t len)
{
    static const char  file[] = "kubengx.conf:";
    const char        *s;
    size_t             i, n = 0;

    for (i = 0; i + sizeof(file) - 1 <= len; i++) {
        if (memcmp(msg + i, file, sizeof(file) - 1) == 0) {
            s = msg + i + sizeof(file) - 1;
            for (n = 0; s < msg + len && *s >= '0' && *s <= '9'; s++) {
                n = n * 10 + (size_t) (*s - '0');
            }
        }
    }

    return n;
}


/* every line holding the quoted value v (if few enough do): how many */

static size_t
kngx_blame_value(kngx_blame_t *b, const char *v, size_t vlen)
{
    const char  *s;
    size_t       len, i, j, found[KNGX_BLAME_LINES], nfound = 0;

    if (vlen < 2) {
        return 0;
    }

    if (kngx_blame_cert(b, v, vlen)) {
        return 1;
    }

    for (i = 0; i < b->nlines; i++) {
        s = kngx_blame_line(b, i, &len);

        for (j = 0; j + vlen <= len; j++) {
            if (memcmp(s + j, v, vlen) == 0) {
                break;
            }
        }

        if (j + vlen > len) {
            continue;
        }

        if (nfound == KNGX_BLAME_LINES) {
            return 0;                   /* too common to point anywhere */
        }

        found[nfound++] = i;
    }

    for (i = 0; i < nfound; i++) {
        kngx_blame_at(b, found[i]);
    }

    return nfound;
}


int
kngx_ctl_blame(const kngx_plan_t *p, const char *conf, size_t len,
    const char *err, json_t *out)
{
    kngx_blame_t   b;
    const char    *msg, *end, *q, *q2;
    size_t         i, n, lines = 0;

    /* the first [emerg] (or the first) line of nginx's complaint */

    msg = strstr(err, "[emerg]");
    if (msg == NULL) {
        msg = err;
    }
    end = strchr(msg, '\n');
    if (end == NULL) {
        end = msg + strlen(msg);
    }

    memset(&b, 0, sizeof(b));
    b.p = p;
    b.conf = conf;
    b.len = len;
    b.out = out;

    for (i = 0, n = 1; i < len; i++) {
        n += conf[i] == '\n';
    }

    b.line = malloc(n * sizeof(size_t));
    if (b.line == NULL) {
        return 0;
    }

    b.line[b.nlines++] = 0;
    for (i = 0; i < len; i++) {
        if (conf[i] == '\n' && i + 1 < len) {
            b.line[b.nlines++] = i + 1;
        }
    }

    n = kngx_blame_line_number(msg, (size_t) (end - msg));

    if (n >= 1 && n <= b.nlines) {
        kngx_blame_at(&b, n - 1);
        lines = 1;

    } else {
        for (q = memchr(msg, '"', (size_t) (end - msg)); q && q < end;
             q = q2 + 1)
        {
            q2 = memchr(q + 1, '"', (size_t) (end - q - 1));
            if (q2 == NULL) {
                break;
            }
            lines += kngx_blame_value(&b, q + 1, (size_t) (q2 - q - 1));
        }
    }

    free(b.line);

    return lines == 1 && json_object_size(out) > 0;
}
