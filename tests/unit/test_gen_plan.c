/*
 * Unit tests: the route planner (generator/plan*.c) on small manifests:
 * the exact twins that keep nginx from redirecting, host ownership
 * between namespaces, tls entries only for routed hosts, injective
 * upstream names, refused hash keys and ExternalNames, the class hint,
 * and the loader's limits (names, YAML alias bytes).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "model.h"


#define ING(ns, name, created, extra, rules)                                  \
    "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\n"                  \
    "metadata: {name: " name ", namespace: " ns ", creationTimestamp: "       \
    created extra "}\n"                                                       \
    "spec:\n  ingressClassName: kubengx\n" rules

#define SVC(ns, name)                                                         \
    "---\napiVersion: v1\nkind: Service\n"                                    \
    "metadata: {name: " name ", namespace: " ns "}\n"                         \
    "spec: {ports: [{port: 80, targetPort: 8080}]}\n"

#define RULE(host, paths)  "  - host: " host "\n    http:\n      paths:\n"   \
                           paths
#define HOSTLESS(paths)    "  - http:\n      paths:\n" paths
#define PATH(p, type, svc)                                                    \
    "      - {path: \"" p "\", pathType: " type ", backend: {service: "       \
    "{name: " svc ", port: {number: 80}}}}\n"

#define T1  "\"2020-01-01T00:00:00Z\""
#define T2  "\"2021-01-01T00:00:00Z\""

/* two namespaces, a Service and an Ingress routing "/" of host each */
#define TWO(ns1, svc1, host1, t1, ns2, svc2, host2, t2)                       \
    SVC(ns1, svc1) SVC(ns2, svc2)                                             \
    ING(ns1, "i1", t1, "", "  rules:\n" RULE(host1,                          \
                                             PATH("/", "Prefix", svc1)))     \
    ING(ns2, "i2", t2, "", "  rules:\n" RULE(host2,                          \
                                             PATH("/", "Prefix", svc2)))


typedef struct {
    kngx_model_t  *m;
    kngx_plan_t   *p;
} built_t;


static void
build_opts(built_t *b, const char *yaml, const kngx_plan_opts_t *o)
{
    size_t  i;

    b->m = kngx_model_create(NULL);
    assert_non_null(b->m);
    assert_int_equal(kngx_model_load_buffer(b->m, "t.yaml", yaml,
                                            strlen(yaml)), 0);
    assert_int_equal(kngx_model_finish(b->m), 0);

    for (i = 0; i < b->m->diags.n; i++) {
        if (b->m->diags.items[i].severity == KNGX_DIAG_ERROR) {
            fail_msg("load: %s: %s", b->m->diags.items[i].field,
                     b->m->diags.items[i].message);
        }
    }

    b->p = kngx_plan_build(b->m, o);
    assert_non_null(b->p);
}


static void
build(built_t *b, const char *yaml)
{
    kngx_plan_opts_t  o;

    memset(&o, 0, sizeof(o));
    o.resolver = "127.0.0.1";
    build_opts(b, yaml, &o);
}


static void
release(built_t *b)
{
    kngx_plan_free(b->p);
    kngx_model_free(b->m);
}


static const kngx_server_t *
server(const built_t *b, const char *host)
{
    size_t  i;

    if (host == NULL) {
        return &b->p->catch_all;
    }

    for (i = 0; i < b->p->nservers; i++) {
        if (strcmp(b->p->servers[i].host, host) == 0) {
            return &b->p->servers[i];
        }
    }

    fail_msg("no server %s", host);
    return NULL;
}


static const kngx_route_t *
route(const kngx_server_t *srv, const char *path, kngx_path_type_e type)
{
    size_t  i;

    for (i = 0; i < srv->nroutes; i++) {
        if (srv->routes[i].type == type
            && strcmp(srv->routes[i].path, path) == 0)
        {
            return &srv->routes[i];
        }
    }

    return NULL;
}


/* the Service a target proxies to, "404", "503" */
static const char *
target_of(const kngx_target_t *t)
{
    switch (t->action) {
    case KNGX_ACTION_PROXY:
        return t->upstream->service->meta.name;
    case KNGX_ACTION_UNAVAILABLE:
        return "503";
    default:
        return "404";
    }
}


static size_t
count_code(const built_t *b, const char *code)
{
    size_t  i, n = 0;

    for (i = 0; i < b->p->diags.n; i++) {
        if (strcmp(b->p->diags.items[i].code, code) == 0) {
            n++;
        }
    }

    return n;
}


/* ---- twins ---------------------------------------------------------------- */

static void
test_twin_of_exact_slash(void **state)
{
    built_t               b;
    const kngx_server_t  *srv;
    const kngx_route_t   *r;

    (void) state;

    /* Exact /foo/ alone: /foo is not matched, the default (404) */
    build(&b, SVC("default", "a") SVC("default", "root")
              ING("default", "i", T1, "",
                  "  rules:\n"
                  RULE("a.example.com", PATH("/foo/", "Exact", "a"))
                  RULE("b.example.com", PATH("/bar/", "Exact", "a")
                                        PATH("/", "Prefix", "root"))
                  RULE("c.example.com", PATH("/x/y/", "Exact", "a")
                                        PATH("/x", "Prefix", "root"))
                  RULE("d.example.com", PATH("/p/", "Exact", "a")
                                        PATH("/p", "Exact", "root"))
                  RULE("e.example.com", PATH("/q/", "Exact", "a")
                                        PATH("/q", "Prefix", "root"))
                  RULE("f.example.com", PATH("/", "Exact", "a"))));

    srv = server(&b, "a.example.com");
    r = route(srv, "/foo", KNGX_PATH_EXACT);
    assert_non_null(r);
    assert_true(r->twin);
    assert_string_equal(target_of(&r->target), "404");
    assert_int_equal(srv->nroutes, 2);

    /* the longest Prefix that covers it: / */
    r = route(server(&b, "b.example.com"), "/bar", KNGX_PATH_EXACT);
    assert_non_null(r);
    assert_string_equal(target_of(&r->target), "root");

    /* element-wise: /x covers /x/y */
    r = route(server(&b, "c.example.com"), "/x/y", KNGX_PATH_EXACT);
    assert_non_null(r);
    assert_string_equal(target_of(&r->target), "root");

    /* an Exact or Prefix /p of its own: no twin */
    srv = server(&b, "d.example.com");
    assert_int_equal(srv->nroutes, 2);
    assert_false(route(srv, "/p", KNGX_PATH_EXACT)->twin);
    assert_int_equal(server(&b, "e.example.com")->nroutes, 2);

    /* "/" has nothing shorter */
    assert_int_equal(server(&b, "f.example.com")->nroutes, 1);

    /* routes stay sorted by (path, type) */
    srv = server(&b, "b.example.com");
    assert_string_equal(srv->routes[0].path, "/");
    assert_string_equal(srv->routes[1].path, "/bar");
    assert_string_equal(srv->routes[2].path, "/bar/");

    release(&b);
}


static void
test_twin_with_hostless_and_default(void **state)
{
    built_t              b;
    const kngx_route_t  *r;

    (void) state;

    build(&b, SVC("default", "a") SVC("default", "h") SVC("default", "d")
              ING("default", "i", T1, "",
                  "  defaultBackend: {service: {name: d, port: {number: "
                  "80}}}\n"
                  "  rules:\n"
                  RULE("a.example.com", PATH("/foo/", "Exact", "a"))
                  HOSTLESS(PATH("/bar/", "Exact", "h")
                           PATH("/baz", "Prefix", "h"))));

    /* the host's default backend answers /foo */
    r = route(server(&b, "a.example.com"), "/foo", KNGX_PATH_EXACT);
    assert_non_null(r);
    assert_string_equal(target_of(&r->target), "d");

    /* host-less Exact /bar/ merged into the host: its twin too */
    r = route(server(&b, "a.example.com"), "/bar", KNGX_PATH_EXACT);
    assert_non_null(r);
    assert_true(r->twin);
    assert_string_equal(target_of(&r->target), "d");

    r = route(server(&b, NULL), "/bar", KNGX_PATH_EXACT);
    assert_non_null(r);
    assert_string_equal(target_of(&r->target), "d");

    release(&b);
}


/* ---- names ---------------------------------------------------------------- */

static void
test_upstreams_of_the_namespace_pair(void **state)
{
    built_t  b;

    (void) state;

    build(&b, TWO("team", "a-web", "victim.example.com", T1,
                  "team-a", "web", "attacker.example.com", T2));

    assert_int_equal(b.p->nupstreams, 2);
    assert_string_not_equal(b.p->upstreams[0]->name,
                            b.p->upstreams[1]->name);
    assert_string_equal(route(server(&b, "victim.example.com"), "/",
                              KNGX_PATH_PREFIX)->target.upstream->service
                        ->meta.ns, "team");
    assert_string_equal(route(server(&b, "attacker.example.com"), "/",
                              KNGX_PATH_PREFIX)->target.upstream->service
                        ->meta.ns, "team-a");

    release(&b);
}


/* ---- host ownership ------------------------------------------------------- */

#define OWNER_INPUT(extra)                                                    \
    SVC("a", "web") SVC("b", "evil")                                          \
    ING("a", "site", T1, extra,                                               \
        "  rules:\n" RULE("shop.example.com", PATH("/app", "Prefix",        \
                                                   "web")))                   \
    ING("b", "grab", T2, "",                                                  \
        "  rules:\n" RULE("shop.example.com", PATH("/login", "Prefix",       \
                                                   "evil")                    \
                                              PATH("/", "Exact", "evil"))     \
        HOSTLESS(PATH("/static", "Prefix", "evil")))


static void
test_ownership_namespace(void **state)
{
    built_t               b;
    const kngx_server_t  *srv;

    (void) state;

    build(&b, OWNER_INPUT(""));

    srv = server(&b, "shop.example.com");
    assert_string_equal(srv->owner_ns, "a");
    assert_null(route(srv, "/login", KNGX_PATH_PREFIX));
    assert_null(route(srv, "/", KNGX_PATH_EXACT));
    /* host-less routes of b serve unknown hosts only */
    assert_null(route(srv, "/static", KNGX_PATH_PREFIX));
    assert_non_null(route(server(&b, NULL), "/static", KNGX_PATH_PREFIX));
    assert_int_equal(srv->nroutes, 1);
    assert_int_equal(count_code(&b, "host-owned"), 1);

    release(&b);
}


static void
test_ownership_shared_and_merge(void **state)
{
    built_t               b;
    const kngx_server_t  *srv;
    kngx_plan_opts_t      o;

    (void) state;

    build(&b, OWNER_INPUT(", annotations: {kubengx.io/host-shared-with: "
                          "\" c, b ,Bad_NS\"}"));
    srv = server(&b, "shop.example.com");
    assert_non_null(route(srv, "/login", KNGX_PATH_PREFIX));
    assert_non_null(route(srv, "/", KNGX_PATH_EXACT));
    assert_non_null(route(srv, "/static", KNGX_PATH_PREFIX));
    assert_int_equal(count_code(&b, "host-owned"), 0);
    assert_int_equal(count_code(&b, "bad-annotation"), 1);
    release(&b);

    memset(&o, 0, sizeof(o));
    o.host_ownership = KNGX_HOST_OWNERSHIP_MERGE;
    build_opts(&b, OWNER_INPUT(""), &o);
    srv = server(&b, "shop.example.com");
    assert_non_null(route(srv, "/login", KNGX_PATH_PREFIX));
    assert_int_equal(count_code(&b, "host-owned"), 0);
    release(&b);

    assert_int_equal(kngx_host_ownership_parse("merge", &o.host_ownership),
                     0);
    assert_int_equal(o.host_ownership, KNGX_HOST_OWNERSHIP_MERGE);
    assert_int_equal(kngx_host_ownership_parse("namespace",
                                               &o.host_ownership), 0);
    assert_int_equal(o.host_ownership, KNGX_HOST_OWNERSHIP_NAMESPACE);
    assert_int_equal(kngx_host_ownership_parse("x", &o.host_ownership), -1);
}


static void
test_ownership_goes_to_the_oldest(void **state)
{
    built_t  b;

    (void) state;

    /* b's Ingress is older: b owns the host, a's rule is refused */
    build(&b, TWO("a", "web", "shop.example.com", T2,
                  "b", "evil", "shop.example.com", T1));

    assert_string_equal(server(&b, "shop.example.com")->owner_ns, "b");
    assert_string_equal(target_of(&route(server(&b, "shop.example.com"), "/",
                                         KNGX_PATH_PREFIX)->target), "evil");

    release(&b);
}


/* ---- TLS ------------------------------------------------------------------ */

static void
test_tls_only_for_routed_hosts(void **state)
{
    built_t  b;

    (void) state;

    /* no Secret in the input: the entries are judged before the Secret */
    build(&b, SVC("a", "web") SVC("b", "evil")
              ING("a", "site", T1, "",
                  "  rules:\n" RULE("shop.example.com",
                                    PATH("/", "Prefix", "web")))
              ING("b", "grab", T2, "",
                  "  tls: [{hosts: [shop.example.com, other.example.com], "
                  "secretName: s}]\n"
                  "  rules:\n" RULE("b.example.com",
                                    PATH("/", "Prefix", "evil"))));

    assert_int_equal(count_code(&b, "host-owned"), 1);
    assert_int_equal(count_code(&b, "tls-not-routed"), 1);
    assert_false(server(&b, "shop.example.com")->tls);

    release(&b);
}


/* ---- values nginx would refuse -------------------------------------------- */

static void
test_refused_values(void **state)
{
    built_t              b;
    const kngx_route_t  *r;
    size_t               i;

    (void) state;

    build(&b, SVC("default", "web")
              "---\napiVersion: v1\nkind: Service\n"
              "metadata: {name: loop, namespace: default}\n"
              "spec: {type: ExternalName, externalName: \"0x7f.1\"}\n"
              "---\napiVersion: v1\nkind: Service\n"
              "metadata: {name: ext, namespace: default}\n"
              "spec: {type: ExternalName, externalName: db.example.com}\n"
              ING("default", "i", T1, ", annotations: {nginx.ingress."
                  "kubernetes.io/upstream-hash-by: \"$nosuchvar\"}",
                  "  rules:\n"
                  RULE("a.example.com", PATH("/", "Prefix", "web")
                                        PATH("/loop", "Prefix", "loop")
                                        PATH("/ext", "Prefix", "ext"))
                  RULE("\"*.com\"", PATH("/", "Prefix", "web"))));

    /* an unknown variable: warned, round robin */
    assert_int_equal(count_code(&b, "bad-annotation"), 1);
    r = route(server(&b, "a.example.com"), "/", KNGX_PATH_PREFIX);
    assert_null(r->target.upstream->hash_by);
    assert_null(r->target.upstream->balance);

    /* loopback in hex: 503 and a warning */
    assert_int_equal(count_code(&b, "bad-external"), 1);
    r = route(server(&b, "a.example.com"), "/loop", KNGX_PATH_PREFIX);
    assert_string_equal(target_of(&r->target), "503");

    /* a DNS name: one server, resolved per request with the resolver */
    r = route(server(&b, "a.example.com"), "/ext", KNGX_PATH_PREFIX);
    assert_int_equal(r->target.upstream->kind, KNGX_UPSTREAM_EXTERNAL);
    assert_string_equal(r->target.upstream->servers[0].addr,
                        "db.example.com:80");
    assert_true(server(&b, "a.example.com")->external);
    assert_string_equal(b.p->resolver, "127.0.0.1");

    /* *.com: no server */
    assert_int_equal(count_code(&b, "bad-host"), 1);
    for (i = 0; i < b.p->nservers; i++) {
        assert_string_not_equal(b.p->servers[i].host, "*.com");
    }

    release(&b);
}


static void
test_bad_resolver_flag(void **state)
{
    built_t           b;
    kngx_plan_opts_t  o;

    (void) state;

    memset(&o, 0, sizeof(o));
    o.resolver = "dns.example.com";
    build_opts(&b, SVC("default", "web"), &o);
    assert_true(b.p->failed);
    release(&b);
}


/* ---- classes -------------------------------------------------------------- */

static void
test_class_hint(void **state)
{
    kngx_model_t  *m;
    char           buf[128];
    const char    *y =
        "---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\n"
        "metadata: {name: theirs}\nspec: {controller: example.com/x}\n"
        "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\n"
        "metadata: {name: none}\nspec: {}\n"
        "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\n"
        "metadata: {name: named}\nspec: {ingressClassName: nginx}\n"
        "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\n"
        "metadata: {name: theirs}\nspec: {ingressClassName: theirs}\n";

    (void) state;

    m = kngx_model_create(NULL);
    assert_int_equal(kngx_model_load_buffer(m, "t.yaml", y, strlen(y)), 0);
    assert_int_equal(kngx_model_finish(m), 0);
    assert_int_equal(m->ningresses, 3);

    /* sorted by name: named, none, theirs */
    assert_string_equal(kngx_ingress_class_hint(m, &m->ingresses[0], buf,
                                                sizeof(buf)),
                        "--class nginx");
    assert_string_equal(kngx_ingress_class_hint(m, &m->ingresses[1], buf,
                                                sizeof(buf)),
                        "--watch-without-class");
    assert_string_equal(kngx_ingress_class_hint(m, &m->ingresses[2], buf,
                                                sizeof(buf)),
                        "--controller example.com/x");

    kngx_model_free(m);
}


/* ---- the loader ----------------------------------------------------------- */

static size_t
load_errors(const char *yaml, size_t len, const char **msg,
    const char **field)
{
    kngx_model_t  *m;
    size_t         i, n = 0;
    static char    first[512], ffield[64];

    m = kngx_model_create(NULL);
    assert_int_equal(kngx_model_load_buffer(m, "in.yaml", yaml, len), 0);
    assert_int_equal(kngx_model_finish(m), 0);

    first[0] = '\0';
    ffield[0] = '\0';

    for (i = 0; i < m->diags.n; i++) {
        if (m->diags.items[i].severity == KNGX_DIAG_ERROR) {
            if (n++ == 0) {
                snprintf(first, sizeof(first), "%s:%u %s",
                         m->diags.items[i].src.file,
                         m->diags.items[i].src.doc,
                         m->diags.items[i].message);
                snprintf(ffield, sizeof(ffield), "%s",
                         m->diags.items[i].field
                         ? m->diags.items[i].field : "");
            }
        }
    }

    kngx_model_free(m);
    *msg = first;
    *field = ffield;

    return n;
}


static void
test_names_refused_by_the_loader(void **state)
{
    const char  *msg, *field;
    const char  *bad_svc = "apiVersion: v1\nkind: Service\n"
                           "metadata: {name: 1web}\nspec: {}\n";
    const char  *bad_ns = "---\napiVersion: v1\nkind: Secret\n"
                          "metadata: {name: s, namespace: Team_A}\n";
    const char  *good = "apiVersion: v1\nkind: Secret\n"
                        "metadata: {name: tls.example.com, namespace: a}\n";

    (void) state;

    assert_int_equal(load_errors(bad_svc, strlen(bad_svc), &msg, &field), 1);
    assert_string_equal(field, "metadata.name");
    assert_non_null(strstr(msg, "in.yaml:1"));

    assert_int_equal(load_errors(bad_ns, strlen(bad_ns), &msg, &field), 1);
    assert_string_equal(field, "metadata.namespace");

    assert_int_equal(load_errors(good, strlen(good), &msg, &field), 0);
}


static void
test_yaml_alias_bytes(void **state)
{
    const char  *msg, *field;
    char        *y;
    size_t       big = 1024 * 1024, len, i;
    int          n;

    (void) state;

    /* a 1 MiB string repeated by aliases: refused before it is copied */
    y = malloc(big + 4096);
    assert_non_null(y);
    len = (size_t) sprintf(y, "---\napiVersion: v1\nkind: ConfigMap\n"
                           "---\napiVersion: v1\nkind: ConfigMap\n"
                           "metadata: {name: a}\ndata:\n  a: &a ");
    memset(y + len, 'x', big);
    len += big;

    for (i = 0; i < 40; i++) {
        n = sprintf(y + len, "\n  k%zu: *a", i);
        len += (size_t) n;
    }

    y[len++] = '\n';

    assert_int_equal(load_errors(y, len, &msg, &field), 1);
    assert_non_null(strstr(msg, "in.yaml:2 "));
    assert_non_null(strstr(msg, "16 MiB"));

    /* a few copies are fine */
    len = (size_t) (strstr(y, "\n  k10:") - y);
    y[len++] = '\n';
    assert_int_equal(load_errors(y, len, &msg, &field), 0);

    free(y);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_twin_of_exact_slash),
        cmocka_unit_test(test_twin_with_hostless_and_default),
        cmocka_unit_test(test_upstreams_of_the_namespace_pair),
        cmocka_unit_test(test_ownership_namespace),
        cmocka_unit_test(test_ownership_shared_and_merge),
        cmocka_unit_test(test_ownership_goes_to_the_oldest),
        cmocka_unit_test(test_tls_only_for_routed_hosts),
        cmocka_unit_test(test_refused_values),
        cmocka_unit_test(test_bad_resolver_flag),
        cmocka_unit_test(test_class_hint),
        cmocka_unit_test(test_names_refused_by_the_loader),
        cmocka_unit_test(test_yaml_alias_bytes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
