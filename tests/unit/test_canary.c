/*
 * Unit tests: kube/kube_canary.c (a canary Ingress's annotations, the
 * per-request decision in ingress-nginx's order) and kube/kube_affinity.c
 * (cookie values, endpoint identities, rendezvous hashing).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kube_canary.h"
#include "kube_affinity.h"


#define P  KUBE_CANARY_PREFIX


/* annotations as NULL-terminated key, value pairs */
static const char *
get(void *ctx, const char *key)
{
    const char  **kv = ctx;

    for ( /* void */ ; kv[0]; kv += 2) {
        if (strcmp(kv[0], key) == 0) {
            return kv[1];
        }
    }

    return NULL;
}


static kube_canary_t
parse(const char **kv, int bad)
{
    kube_err_t     err;
    kube_canary_t  c;

    assert_int_equal(kube_canary_parse(&c, get, (void *) kv, &err), bad);

    if (bad == 0) {
        assert_string_equal(err.msg, "");
    }

    return c;
}


static void
test_parse_defaults(void **state)
{
    const char     *kv[] = { P "canary", "true", NULL };
    kube_canary_t   c;

    (void) state;

    c = parse(kv, 0);
    assert_int_equal(c.canary, 1);
    assert_int_equal(c.weight, 0);
    assert_int_equal(c.weight_total, 100);
    assert_string_equal(c.header, "");
    assert_string_equal(c.cookie, "");
}


static void
test_parse_all(void **state)
{
    const char     *kv[] = {
        P "canary", "true",
        P "canary-weight", "20",
        P "canary-weight-total", "1000",
        P "canary-by-header", "X-Canary",
        P "canary-by-header-value", "yes please",
        P "canary-by-header-pattern", "^eu-.*$",
        P "canary-by-cookie", "use_canary",
        NULL
    };
    kube_canary_t   c;

    (void) state;

    c = parse(kv, 0);
    assert_int_equal(c.weight, 20);
    assert_int_equal(c.weight_total, 1000);
    assert_string_equal(c.header, "X-Canary");
    assert_string_equal(c.header_value, "yes please");
    assert_string_equal(c.header_pattern, "^eu-.*$");
    assert_string_equal(c.cookie, "use_canary");
}


static void
test_parse_invalid_left_out(void **state)
{
    kube_err_t      err;
    kube_canary_t   c;
    const char     *weight_over[] = { P "canary", "true",
                                      P "canary-weight", "101", NULL };
    const char     *weight_text[] = { P "canary-weight", "ten", NULL };
    const char     *total_zero[] = { P "canary-weight-total", "0",
                                     P "canary-weight", "5", NULL };
    const char     *header[] = { P "canary-by-header", "X Canary",
                                 P "canary-by-cookie", "a;b", NULL };
    const char     *ctl[] = { P "canary-by-header-value", "a\nb", NULL };
    const char     *off[] = { P "canary", "True", NULL };

    (void) state;

    c = parse(weight_over, 1);
    assert_int_equal(c.weight, 0);
    assert_int_equal(c.canary, 1);

    assert_int_equal(kube_canary_parse(&c, get, (void *) weight_text, &err),
                     1);
    assert_non_null(strstr(err.msg, "canary-weight is not a number"));

    c = parse(total_zero, 1);
    assert_int_equal(c.weight_total, 100);
    assert_int_equal(c.weight, 5);

    c = parse(header, 2);
    assert_string_equal(c.header, "");
    assert_string_equal(c.cookie, "");

    c = parse(ctl, 1);
    assert_string_equal(c.header_value, "");

    c = parse(off, 0);
    assert_int_equal(c.canary, 0);
}


static void
test_parse_json(void **state)
{
    json_t         *ing;
    kube_err_t      err;
    kube_canary_t   c;

    (void) state;

    ing = json_loads("{\"metadata\":{\"name\":\"x\",\"annotations\":{"
                     "\"nginx.ingress.kubernetes.io/canary\":\"true\","
                     "\"nginx.ingress.kubernetes.io/canary-weight\":\"30\""
                     "}}}", 0, NULL);
    assert_non_null(ing);
    assert_int_equal(kube_canary_parse_json(&c, ing, &err), 0);
    assert_int_equal(c.canary, 1);
    assert_int_equal(c.weight, 30);
    json_decref(ing);

    /* no annotations at all: no canary */
    ing = json_loads("{\"metadata\":{\"name\":\"x\"}}", 0, NULL);
    assert_int_equal(kube_canary_parse_json(&c, ing, &err), 0);
    assert_int_equal(c.canary, 0);
    json_decref(ing);
}


static int
match_eu(void *ctx, const char *s, size_t len)
{
    (void) ctx;

    if (len == 0) {
        return -1;
    }

    return len >= 3 && memcmp(s, "eu-", 3) == 0;
}


static int
decide(const kube_canary_t *c, const char *header, const char *cookie,
    int sticky, uint32_t draw)
{
    kube_canary_req_t  req;

    memset(&req, 0, sizeof(req));

    req.header = header;
    req.header_len = header ? strlen(header) : 0;
    req.cookie = cookie;
    req.cookie_len = cookie ? strlen(cookie) : 0;
    req.sticky = sticky;
    req.draw = draw;
    req.match = match_eu;

    return kube_canary_decide(c, &req);
}


static void
test_decide_order(void **state)
{
    kube_canary_t  c;

    (void) state;

    memset(&c, 0, sizeof(c));
    c.canary = 1;
    c.weight_total = 100;
    strcpy(c.header, "X-Canary");
    strcpy(c.cookie, "canary");

    /* header always/never win over cookie, affinity and weight */
    c.weight = 100;
    assert_int_equal(decide(&c, "never", "always", 1, 0), 0);
    c.weight = 0;
    assert_int_equal(decide(&c, "always", "never", 0, 0), 1);

    /* another header value falls through to the cookie */
    assert_int_equal(decide(&c, "Always", "always", -1, 0), 1);
    c.weight = 100;
    assert_int_equal(decide(&c, "maybe", "never", -1, 0), 0);

    /* a cookie value other than always/never falls through */
    c.weight = 0;
    assert_int_equal(decide(&c, NULL, "1", -1, 0), 0);

    /* then the affinity side, then the weight */
    assert_int_equal(decide(&c, NULL, NULL, 1, 0), 1);
    c.weight = 100;
    assert_int_equal(decide(&c, NULL, NULL, 0, 0), 0);
    assert_int_equal(decide(&c, NULL, NULL, -1, 12345), 1);

    /* not a canary: nothing routes to it */
    c.canary = 0;
    assert_int_equal(decide(&c, "always", "always", 1, 0), 0);
}


static void
test_decide_value_and_pattern(void **state)
{
    kube_canary_t  c;

    (void) state;

    memset(&c, 0, sizeof(c));
    c.canary = 1;
    c.weight_total = 100;
    strcpy(c.header, "X-Region");
    strcpy(c.header_value, "eu-west");
    strcpy(c.header_pattern, "^eu-");

    /* the value is exact and replaces always/never and the pattern */
    assert_int_equal(decide(&c, "eu-west", NULL, -1, 0), 1);
    assert_int_equal(decide(&c, "eu-west-1", NULL, -1, 0), 0);
    assert_int_equal(decide(&c, "always", NULL, -1, 0), 0);

    c.header_value[0] = '\0';
    assert_int_equal(decide(&c, "eu-north", NULL, -1, 0), 1);
    assert_int_equal(decide(&c, "us-east", NULL, -1, 0), 0);
    assert_int_equal(decide(&c, "always", NULL, -1, 0), 0);

    /* a match error counts as no match */
    assert_int_equal(decide(&c, "", NULL, -1, 0), 0);
}


static void
test_decide_weight(void **state)
{
    uint32_t       draw, hits;
    kube_canary_t  c;

    (void) state;

    memset(&c, 0, sizeof(c));
    c.canary = 1;
    c.weight = 20;
    c.weight_total = 100;

    /* exactly weight out of every weight_total draws */
    hits = 0;
    for (draw = 0; draw < 100000; draw++) {
        hits += decide(&c, NULL, NULL, -1, draw);
    }
    assert_int_equal(hits, 20000);

    c.weight = 1;
    c.weight_total = 1000;
    hits = 0;
    for (draw = 0; draw < 100000; draw++) {
        hits += decide(&c, NULL, NULL, -1, draw);
    }
    assert_int_equal(hits, 100);

    c.weight = 0;
    assert_int_equal(decide(&c, NULL, NULL, -1, 0), 0);
}


static void
test_affinity_values(void **state)
{
    char      buf[KUBE_AFFINITY_VALUE_LEN];
    uint64_t  v, id, id2;

    (void) state;

    id = kube_affinity_id("10.0.0.1:8080", 13, 0);
    assert_int_equal(id & 1, 0);
    assert_true(id == kube_affinity_id("10.0.0.1:8080", 13, 0));
    assert_int_equal(kube_affinity_id("10.0.0.1:8080", 13, 1), id | 1);

    /* the port and the address count */
    id2 = kube_affinity_id("10.0.0.1:8081", 13, 0);
    assert_true(id != id2);
    assert_true(id != kube_affinity_id("10.0.0.2:8080", 13, 0));

    kube_affinity_format(id, buf);
    assert_int_equal(kube_affinity_parse(buf, sizeof(buf), &v), 0);
    assert_true(v == id);

    assert_int_equal(kube_affinity_parse("0123456789abcdeF", 16, &v), -1);
    assert_int_equal(kube_affinity_parse("0123456789abcde", 15, &v), -1);
    assert_int_equal(kube_affinity_parse("0123456789abcdef0", 17, &v), -1);
    assert_int_equal(kube_affinity_parse("0123456789abcdeg", 16, &v), -1);
    assert_int_equal(kube_affinity_parse("ffffffffffffffff", 16, &v), 0);
    assert_true(v == UINT64_MAX);
}


/* the endpoint of key among ids[0..n) by the highest score */
static size_t
winner(uint64_t key, const uint64_t *ids, size_t n)
{
    size_t    i, best;
    uint64_t  s, bs;

    best = 0;
    bs = kube_affinity_score(key, ids[0]);

    for (i = 1; i < n; i++) {
        s = kube_affinity_score(key, ids[i]);
        if (s > bs) {
            best = i;
            bs = s;
        }
    }

    return best;
}


static void
test_affinity_rendezvous(void **state)
{
    char      name[32];
    size_t    i, k, w5, w6, moved, count[6];
    uint64_t  ids[6], key;

    (void) state;

    for (i = 0; i < 6; i++) {
        snprintf(name, sizeof(name), "10.1.0.%zu:8080", i + 1);
        ids[i] = kube_affinity_id(name, strlen(name), 0);
    }

    memset(count, 0, sizeof(count));
    moved = 0;

    for (k = 0; k < 60000; k++) {
        key = kube_affinity_id((char *) &k, sizeof(k), 0);

        w5 = winner(key, ids, 5);
        w6 = winner(key, ids, 6);
        count[w5]++;

        /* adding endpoint 5 moves a key only to it */
        if (w5 != w6) {
            assert_int_equal(w6, 5);
            moved++;
        }
    }

    /* about 1/6 move; each of 5 endpoints gets about 1/5 */
    assert_true(moved > 9000 && moved < 11000);

    for (i = 0; i < 5; i++) {
        assert_true(count[i] > 11000 && count[i] < 13000);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_parse_defaults),
        cmocka_unit_test(test_parse_all),
        cmocka_unit_test(test_parse_invalid_left_out),
        cmocka_unit_test(test_parse_json),
        cmocka_unit_test(test_decide_order),
        cmocka_unit_test(test_decide_value_and_pattern),
        cmocka_unit_test(test_decide_weight),
        cmocka_unit_test(test_affinity_values),
        cmocka_unit_test(test_affinity_rendezvous),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
