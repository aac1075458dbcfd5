/*
 * Unit tests: generator/annotations/ and generator/nearest.c.  The regex
 * path check accepts the shapes of ingress-nginx's documented examples
 * and what PCRE2 compiles, refuses what nginx -t would refuse (and named
 * groups, spaces, bytes outside ASCII), counting capture groups as PCRE2
 * does; the registry is sorted and finds each key;
 * near-miss keys find their neighbour; one Ingress's annotations parse
 * into the families, bad values refuse it, access control fails closed;
 * comma lists (server-alias, custom-http-errors) come apart trimmed.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "annotations/annotations.h"


static void
test_regex_accepted(void **state)
{
    static const struct {
        const char  *re;
        unsigned     groups;
    } good[] = {
        { "/something(/|$)(.*)", 2 },
        { "/api/v[0-9]+/users", 0 },
        { "/(?:a|b)/(x)?", 1 },
        { "/a.*?b", 0 },
        { "/[^/]+/\\.well-known", 0 },
        { "/((a)(b))", 3 },
        { "/$", 0 },
        { "/x|/y", 0 },
        { "/a()", 1 },
        { "/a{2}", 0 },                 /* PCRE: what nginx compiles */
        { "/v[0-9]{1,3}/(.*)", 1 },
        { "/(?i)x", 0 },
        { "/(?=x)", 0 },
        { "/a\\Qb", 0 },
        { "/a\\\\", 0 },
        { "/a\"b;c'd", 0 },            /* written double-quoted, escaped */
        { "/((((((((((((((((((x))))))))))))))))))", 18 },
    };
    const char  *why;
    unsigned     g;
    size_t       i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        why = NULL;
        if (kngx_ann_regex_check(good[i].re, &g, &why) != 0) {
            fail_msg("%s refused: %s", good[i].re, why);
        }
        assert_int_equal(g, good[i].groups);
    }
}


static void
test_regex_refused(void **state)
{
    static const char *const  bad[] = {
        "a(b)", "/a(b", "/a)", "/a(*)", "/a|+", "/a[z-a]", "/a[]",
        "/a[b", "/a\\", "/a b", "/\x01", "/\xc3\xa9",
        "/(?<host>x)", "/(?P<n>x)", "/(?'n'x)",  /* named: a variable */
        "/a{2,1}", "/(?<=a+)b",
    };
    const char  *why;
    unsigned     g;
    size_t       i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        if (kngx_ann_regex_check(bad[i], &g, &why) == 0) {
            fail_msg("%s accepted", bad[i]);
        }
        assert_non_null(why);
    }
}


static void
test_family_indexes(void **state)
{
    const kngx_ann_family_t *const  *f;
    const kngx_ann_key_t            *k;
    size_t                           n, i, nk;

    f = kngx_ann_family_list(&n);
    assert_int_equal(n, KNGX_ANN_NFAMILIES);

    for (i = 0; i < n; i++) {
        if (f[i]->index != i) {
            fail_msg("family %s has index %zu at position %zu", f[i]->name,
                     (size_t) f[i]->index, i);
        }
    }

    /* every family the table names is in the list */
    k = kngx_ann_keys(&nk);
    for (i = 0; i < nk; i++) {
        if (k[i].family) {
            assert_true(k[i].family->index < n);
            assert_ptr_equal(f[k[i].family->index], k[i].family);
        }
    }
}


static void
test_registry(void **state)
{
    const kngx_ann_key_t  *k;
    size_t                 n, i;

    k = kngx_ann_keys(&n);
    assert_true(n > 100);

    for (i = 0; i < n; i++) {
        if (i > 0) {
            assert_true(strcmp(k[i - 1].name, k[i].name) < 0);
        }
        assert_ptr_equal(kngx_ann_key(k[i].name), &k[i]);
        assert_true((k[i].family != NULL)
                    == (k[i].status == KNGX_ANN_HONOURED
                        || k[i].status == KNGX_ANN_DIFFERENT));
        assert_true(k[i].status == KNGX_ANN_HONOURED || k[i].note != NULL);
    }

    assert_null(kngx_ann_key("load-balanse"));
    assert_string_equal(kngx_ann_suggest("load-balanse"), "load-balance");
    assert_string_equal(kngx_ann_suggest("proxy-body-sise"),
                        "proxy-body-size");
    assert_string_equal(kngx_ann_suggest("rewite-target"), "rewrite-target");
    assert_null(kngx_ann_suggest("completely-different"));
    assert_int_equal(kngx_edit_distance("kitten", "sitting"), 3);
    assert_int_equal(kngx_edit_distance("", "abc"), 3);
}


static kngx_ann_t *
parse(kube_arena_t *a, kngx_diags_t *d, kngx_kv_t *kv, size_t n,
    int ignore)
{
    kngx_ingress_t  ing;
    kngx_ann_t     *ann;

    memset(&ing, 0, sizeof(ing));
    ing.meta.ns = "default";
    ing.meta.name = "t";
    ing.meta.annotations = kv;
    ing.meta.nannotations = n;

    assert_int_equal(kngx_ann_parse(a, d, NULL, &ing, ignore, &ann), 0);
    assert_non_null(ann);

    return ann;
}


static void
test_list_next(void **state)
{
    static const struct {
        const char  *v;
        const char  *want;      /* the items, "|" after each */
    } cases[] = {
        { "a.example.com, *.b.example.com",
          "a.example.com|*.b.example.com|" },
        { " 404 ,503,", "404|503|" },
        { ",x", "|x|" },
        { "a,,b", "a||b|" },
        { "\t \t", "|" },
        { "", "" },
    };
    const char  *s, *item;
    char         got[128];
    size_t       i, len, n;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        s = cases[i].v;
        n = 0;
        got[0] = '\0';

        while (kngx_ann_list_next(&s, &item, &len)) {
            assert_true(n + len + 2 < sizeof(got));
            memcpy(got + n, item, len);
            n += len;
            got[n++] = '|';
            got[n] = '\0';
        }

        assert_string_equal(got, cases[i].want);
    }
}


static void
test_parse(void **state)
{
    kngx_kv_t      good[] = {
        { KNGX_ANN_PREFIX "load-balance", "ewma" },
        { KNGX_ANN_PREFIX "proxy-body-size", "8m" },
        { KNGX_ANN_PREFIX "use-regex", "true" },
    };
    kngx_kv_t      bad[] = { { KNGX_ANN_PREFIX "proxy-body-size", "8m;" } };
    kngx_kv_t      auth[] = { { KNGX_ANN_PREFIX "satisfy", "any" } };
    kngx_diags_t   d;
    kube_arena_t  *a;
    kngx_ann_t    *ann;
    const char    *lb, *hash;

    a = kube_arena_create(NULL, 0);
    assert_non_null(a);
    memset(&d, 0, sizeof(d));

    ann = parse(a, &d, good, 3, 0);
    assert_false(ann->refused || ann->fail_closed);
    assert_int_equal(d.n, 0);
    kngx_ann_balance(ann, &lb, &hash);
    assert_string_equal(lb, "ewma");
    assert_true(kngx_ann_regex(ann));

    ann = parse(a, &d, bad, 1, 0);
    assert_true(ann->refused);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.items[0].code, "bad-annotation");

    ann = parse(a, &d, auth, 1, 0);
    assert_true(ann->fail_closed);
    assert_string_equal(d.items[1].code, "fail-closed");

    ann = parse(a, &d, auth, 1, 1);
    assert_false(ann->fail_closed);
    assert_string_equal(d.items[2].code, "unsupported-annotation");

    kngx_diags_free(&d);
    kube_arena_destroy(a);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_regex_accepted),
        cmocka_unit_test(test_regex_refused),
        cmocka_unit_test(test_family_indexes),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_list_next),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
