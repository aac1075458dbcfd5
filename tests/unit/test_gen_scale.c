/*
 * Unit tests: what the planner and the renderer do without scanning
 * (issue 14), where it is written: the conflict of a path found among
 * thousands of one host's routes, host-less routes shadowed element by
 * element (binary search over a host's routes), and the server name hash
 * sized the way nginx's ngx_hash_init() searches (checked here against a
 * separate reading of nginx's rule).
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
#include "render.h"


typedef struct {
    kngx_model_t  *m;
    kngx_plan_t   *p;
} built_t;


static void
build(built_t *b, const char *text)
{
    kngx_plan_opts_t  o;

    memset(&o, 0, sizeof(o));

    b->m = kngx_model_create(NULL);
    assert_non_null(b->m);
    assert_int_equal(kngx_model_load_buffer(b->m, "t.json", text,
                                            strlen(text)), 0);
    assert_int_equal(kngx_model_finish(b->m), 0);
    assert_int_equal(kngx_model_nerrors(b->m), 0);

    b->p = kngx_plan_build(b->m, &o);
    assert_non_null(b->p);
}


static void
release(built_t *b)
{
    kngx_plan_free(b->p);
    kngx_model_free(b->m);
}


/* a growable JSON text */
typedef struct {
    char    *s;
    size_t   len, cap;
} text_t;


static void
put(text_t *t, const char *fmt, ...)
{
    va_list  ap;
    int      n;

    for ( ;; ) {
        va_start(ap, fmt);
        n = vsnprintf(t->s ? t->s + t->len : NULL,
                      t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        assert_true(n >= 0);

        if (t->s && t->len + (size_t) n < t->cap) {
            t->len += (size_t) n;
            return;
        }

        t->cap = t->cap ? t->cap * 2 : 4096;
        while (t->cap <= t->len + (size_t) n) {
            t->cap *= 2;
        }
        t->s = realloc(t->s, t->cap);
        assert_non_null(t->s);
    }
}


#define SVC_JSON(name)                                                        \
    "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":"               \
    "{\"name\":\"" name "\"},\"spec\":{\"ports\":[{\"port\":80}]}},"

#define PATH_JSON  "{\"path\":\"%s\",\"pathType\":\"%s\",\"backend\":"       \
    "{\"service\":{\"name\":\"%s\",\"port\":{\"number\":80}}}}"


static void
ingress_open(text_t *t, const char *name, const char *ts)
{
    put(t, "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"Ingress\","
        "\"metadata\":{\"name\":\"%s\",\"creationTimestamp\":\"%s\"},"
        "\"spec\":{\"ingressClassName\":\"kubengx\",\"rules\":[", name, ts);
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


/* ---- conflicts among many paths of one host ------------------------------ */

static void
test_conflicts_among_many_paths(void **state)
{
    built_t               b;
    text_t                t = { NULL, 0, 0 };
    const kngx_server_t  *srv;
    const kngx_route_t   *r;
    char                  p[32];
    int                   i;

    (void) state;

    put(&t, "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
        SVC_JSON("old") SVC_JSON("new"));

    /* the older Ingress: /p0 .. /p2999, Prefix, and /e0.. Exact */
    ingress_open(&t, "old", "2020-01-01T00:00:00Z");
    put(&t, "{\"host\":\"a.example.com\",\"http\":{\"paths\":[");
    for (i = 0; i < 3000; i++) {
        snprintf(p, sizeof(p), "/p%d", i);
        put(&t, "%s" PATH_JSON, i ? "," : "", p, "Prefix", "old");
    }
    put(&t, "]}}]}},");

    /* the newer: every third of them again (the older wins), and the
     * same paths as Exact (no conflict: another type), and "/p5/" which
     * is "/p5" as a Prefix (a conflict) */
    ingress_open(&t, "new", "2021-01-01T00:00:00Z");
    put(&t, "{\"host\":\"a.example.com\",\"http\":{\"paths\":[");
    for (i = 0; i < 3000; i += 3) {
        snprintf(p, sizeof(p), "/p%d", i);
        put(&t, "%s" PATH_JSON "," PATH_JSON, i ? "," : "", p, "Prefix",
            "new", p, "Exact", "new");
    }
    put(&t, "," PATH_JSON, "/p5/", "Prefix", "new");
    put(&t, "]}}]}}]}");

    build(&b, t.s);
    srv = &b.p->servers[0];

    assert_int_equal(count_code(&b, "conflict"), 1000 + 1);
    assert_int_equal(srv->nroutes, 3000 + 1000);

    r = route(srv, "/p2997", KNGX_PATH_PREFIX);
    assert_non_null(r);
    assert_string_equal(r->target.ingress->meta.name, "old");

    r = route(srv, "/p2997", KNGX_PATH_EXACT);
    assert_non_null(r);
    assert_string_equal(r->target.ingress->meta.name, "new");

    assert_null(route(srv, "/p2998", KNGX_PATH_EXACT));

    release(&b);
    free(t.s);
}


/* ---- host-less routes shadowed element by element ------------------------ */

static void
test_hostless_shadowing_by_element(void **state)
{
    static const struct {
        const char  *path;
        const char  *type;
        int          merged;
    } any[] = {
        { "/a/b/c", "Prefix", 0 },      /* under the host's Prefix /a/b */
        { "/a/b", "Exact", 0 },         /* the Prefix covers its own path */
        { "/a/b/", "Exact", 0 },
        { "/a/bc", "Prefix", 1 },       /* not an element of /a/b */
        { "/a", "Prefix", 1 },          /* above it */
        { "/x/y/z", "Prefix", 1 },
        { "/x/y", "Exact", 0 },         /* the host's own Exact /x/y */
        { "/x/y", "Prefix", 1 },        /* another type */
        { "/x/y/", "Exact", 1 },
    };

    built_t               b;
    text_t                t = { NULL, 0, 0 };
    const kngx_server_t  *srv;
    const kngx_route_t   *r;
    size_t                i;

    (void) state;

    put(&t, "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
        SVC_JSON("own") SVC_JSON("any"));
    ingress_open(&t, "own", "2020-01-01T00:00:00Z");
    put(&t, "{\"host\":\"h.example.com\",\"http\":{\"paths\":["
        PATH_JSON "," PATH_JSON "]}}]}},", "/a/b", "Prefix", "own",
        "/x/y", "Exact", "own");
    ingress_open(&t, "any", "2021-01-01T00:00:00Z");
    put(&t, "{\"http\":{\"paths\":[");
    for (i = 0; i < sizeof(any) / sizeof(any[0]); i++) {
        put(&t, "%s" PATH_JSON, i ? "," : "", any[i].path, any[i].type,
            "any");
    }
    put(&t, "]}}]}}]}");

    build(&b, t.s);
    assert_int_equal(b.p->nservers, 1);
    srv = &b.p->servers[0];

    for (i = 0; i < sizeof(any) / sizeof(any[0]); i++) {
        kngx_path_type_e  type = strcmp(any[i].type, "Exact") == 0
                                 ? KNGX_PATH_EXACT : KNGX_PATH_PREFIX;

        r = route(srv, any[i].path, type);

        if (any[i].merged) {
            assert_non_null(r);
            assert_true(r->hostless);
        } else if (r != NULL) {
            assert_false(r->hostless);
        }
    }

    release(&b);
    free(t.s);
}


/* ---- the server name hash ------------------------------------------------- */

/*
 * nginx's rule, read separately from render_hash.c: a name takes
 * 8 + (len + 2 rounded up to 8) bytes, a bucket of B bytes holds names
 * up to B - 8 bytes, the name's bucket is (key * 31 + c ...) % size.
 */
static int
nginx_fits(const char **names, size_t n, size_t size, size_t bucket)
{
    unsigned  *used;
    uint64_t   key;
    size_t     i, len, k;
    int        ok = 1;

    used = calloc(size, sizeof(unsigned));
    assert_non_null(used);

    for (i = 0; i < n && ok; i++) {
        key = 0;
        for (k = 0; names[i][k]; k++) {
            key = key * 31 + (unsigned char) names[i][k];
        }

        len = 8 + ((k + 2 + 7) / 8) * 8;
        used[key % size] += len;
        ok = used[key % size] <= bucket - 8;
    }

    free(used);

    return ok;
}


static void
names_case(size_t n, unsigned seed, int expect_sized)
{
    built_t       b;
    text_t        t = { NULL, 0, 0 };
    const char  **names;
    size_t        i, max_size, bucket;
    char          host[80];

    srandom(seed);

    put(&t, "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
        SVC_JSON("web"));
    ingress_open(&t, "i", "2020-01-01T00:00:00Z");

    for (i = 0; i < n; i++) {
        /* random labels of random lengths: what a cluster has */
        snprintf(host, sizeof(host), "%lx-%zu.%.*s.example.com",
                 (unsigned long) random(), i,
                 (int) (random() % 20) + 1, "abcdefghijklmnopqrstu");
        put(&t, "%s{\"host\":\"%s\",\"http\":{\"paths\":[" PATH_JSON "]}}",
            i ? "," : "", host, "/", "Prefix", "web");
    }

    put(&t, "]}}]}");
    build(&b, t.s);

    assert_int_equal(kngx_names_hash(b.p, &max_size, &bucket), 0);

    if (!expect_sized) {
        assert_int_equal(max_size, 0);
        release(&b);
        free(t.s);
        return;
    }

    assert_true(max_size >= n);
    assert_true(bucket >= 256);

    names = calloc(b.p->nservers + 1, sizeof(char *));
    assert_non_null(names);
    names[0] = "_";
    for (i = 0; i < b.p->nservers; i++) {
        names[i + 1] = b.p->servers[i].host;
    }

    assert_true(nginx_fits(names, b.p->nservers + 1, max_size, bucket));

    free(names);
    release(&b);
    free(t.s);
}


static void
test_names_hash_few_hosts_keep_defaults(void **state)
{
    (void) state;
    names_case(10, 1, 0);
}


static void
test_names_hash_sized_for_many_hosts(void **state)
{
    (void) state;
    names_case(300, 2, 1);
    names_case(5000, 3, 1);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conflicts_among_many_paths),
        cmocka_unit_test(test_hostless_shadowing_by_element),
        cmocka_unit_test(test_names_hash_few_hosts_keep_defaults),
        cmocka_unit_test(test_names_hash_sized_for_many_hosts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
