/*
 * Unit tests: kube/kube_framer.c
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kube_framer.h"


#define MAX_LINES  64

typedef struct {
    char    *lines[MAX_LINES];
    size_t   lens[MAX_LINES];
    size_t   n;
    int      stop_after;      /* >0: return 7 after that many lines */
} collect_t;


static int
collect_cb(void *ctx, const char *line, size_t len)
{
    collect_t  *c = ctx;

    assert_true(c->n < MAX_LINES);
    c->lines[c->n] = malloc(len + 1);
    assert_non_null(c->lines[c->n]);
    memcpy(c->lines[c->n], line, len);
    c->lines[c->n][len] = '\0';
    c->lens[c->n] = len;
    c->n++;

    if (c->stop_after && (int) c->n == c->stop_after) {
        return 7;
    }

    return 0;
}


static void
collect_free(collect_t *c)
{
    size_t  i;

    for (i = 0; i < c->n; i++) {
        free(c->lines[i]);
    }

    memset(c, 0, sizeof(collect_t));
}


static const char *stream =
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":"
    "{\"resourceVersion\":\"1\"}}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\\nb\"}}}\r\n"
    "\n"
    "{\"type\":\"BOOKMARK\",\"object\":{}}\n"
    "\r\n"
    "{\"type\":\"DELETED\",\"object\":{}}\n";

static const char *expected_lines[] = {
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":"
    "{\"resourceVersion\":\"1\"}}}",
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\\nb\"}}}",
    "{\"type\":\"BOOKMARK\",\"object\":{}}",
    "{\"type\":\"DELETED\",\"object\":{}}",
};


static void
check_lines(collect_t *c)
{
    size_t  i;

    assert_int_equal(c->n, 4);
    for (i = 0; i < 4; i++) {
        assert_string_equal(c->lines[i], expected_lines[i]);
    }
}


static void
test_whole(void **state)
{
    kube_err_t      err;
    collect_t       c;
    kube_framer_t  *f;

    (void) state;
    memset(&c, 0, sizeof(c));

    f = kube_framer_create(0);
    assert_non_null(f);
    assert_int_equal(kube_framer_max_line(f), KUBE_FRAMER_DEFAULT_MAX);
    assert_int_equal(kube_framer_feed(f, stream, strlen(stream), collect_cb,
                                      &c, &err), 0);
    check_lines(&c);
    assert_int_equal(kube_framer_pending(f), 0);
    collect_free(&c);
    kube_framer_destroy(f);
}


static void
test_every_split(void **state)
{
    size_t          len, i, j;
    kube_err_t      err;
    collect_t       c;
    kube_framer_t  *f;

    (void) state;
    memset(&c, 0, sizeof(c));

    len = strlen(stream);
    f = kube_framer_create(0);
    assert_non_null(f);

    /* every pair of split points: three chunks */
    for (i = 0; i <= len; i++) {
        for (j = i; j <= len; j++) {
            assert_int_equal(kube_framer_feed(f, stream, i, collect_cb, &c,
                                              &err), 0);
            assert_int_equal(kube_framer_feed(f, stream + i, j - i,
                                              collect_cb, &c, &err), 0);
            assert_int_equal(kube_framer_feed(f, stream + j, len - j,
                                              collect_cb, &c, &err), 0);
            check_lines(&c);
            assert_int_equal(kube_framer_pending(f), 0);
            collect_free(&c);
        }
    }

    kube_framer_destroy(f);
}


static void
test_one_byte(void **state)
{
    size_t          len, i, n;
    const char     *line;
    kube_err_t      err;
    collect_t       c;
    kube_framer_t  *f;

    (void) state;
    memset(&c, 0, sizeof(c));

    len = strlen(stream);
    f = kube_framer_create(0);
    assert_non_null(f);

    /* pull API, one byte at a time */
    for (i = 0; i < len; i++) {
        assert_int_equal(kube_framer_push(f, stream + i, 1, &err), 0);
        while (kube_framer_next(f, &line, &n)) {
            collect_cb(&c, line, n);
        }
    }

    check_lines(&c);
    collect_free(&c);
    kube_framer_destroy(f);
}


static void
test_big_line(void **state)
{
    size_t          big, off, chunk, n;
    char           *buf;
    const char     *line;
    kube_err_t      err;
    kube_framer_t  *f;
    int             got;

    (void) state;

    big = 5 * 1024 * 1024;
    buf = malloc(big + 64);
    assert_non_null(buf);

    memset(buf, 'x', big);
    buf[0] = '{';
    buf[big - 1] = '}';
    memcpy(buf + big, "\n{\"a\":1}\n{\"b\"", 13);

    f = kube_framer_create(0);
    assert_non_null(f);

    got = 0;
    /* odd chunk sizes, like a TLS/HTTP-2 stream */
    for (off = 0, chunk = 1; off < big + 13; off += chunk) {
        chunk = chunk * 3 + 1;
        if (chunk > 16384) {
            chunk = 16381;
        }
        if (off + chunk > big + 13) {
            chunk = big + 13 - off;
        }

        assert_int_equal(kube_framer_push(f, buf + off, chunk, &err), 0);

        while (kube_framer_next(f, &line, &n)) {
            if (got == 0) {
                assert_int_equal(n, big);
                assert_int_equal(line[0], '{');
                assert_int_equal(line[n - 1], '}');
            } else {
                assert_int_equal(n, 7);
                assert_memory_equal(line, "{\"a\":1}", 7);
            }
            got++;
        }
    }

    assert_int_equal(got, 2);
    assert_int_equal(kube_framer_pending(f), 4);

    /* end of stream: the unterminated tail */
    assert_int_equal(kube_framer_finish(f, &line, &n), 1);
    assert_int_equal(n, 4);
    assert_memory_equal(line, "{\"b\"", 4);
    assert_int_equal(kube_framer_finish(f, &line, &n), 0);
    assert_int_equal(kube_framer_pending(f), 0);

    kube_framer_destroy(f);
    free(buf);
}


static void
test_over_max(void **state)
{
    char            buf[200];
    size_t          n;
    const char     *line;
    kube_err_t      err;
    collect_t       c;
    kube_framer_t  *f;

    (void) state;
    memset(&c, 0, sizeof(c));

    f = kube_framer_create(100);
    assert_non_null(f);

    /* exactly max, with \r\n: fine */
    memset(buf, 'a', 100);
    memcpy(buf + 100, "\r\n", 2);
    assert_int_equal(kube_framer_feed(f, buf, 102, collect_cb, &c, &err), 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.lens[0], 100);
    collect_free(&c);

    /* unterminated, growing past max in pieces */
    assert_int_equal(kube_framer_push(f, buf, 60, &err), 0);
    assert_int_equal(kube_framer_next(f, &line, &n), 0);
    assert_int_equal(kube_framer_push(f, buf, 60, &err), -1);
    assert_non_null(strstr(err.msg, "longer than 100 bytes"));
    assert_true(kube_framer_failed(f));

    /* stays failed */
    assert_int_equal(kube_framer_push(f, "\n", 1, &err), -1);
    assert_int_equal(kube_framer_next(f, &line, &n), 0);

    kube_framer_reset(f);
    assert_false(kube_framer_failed(f));
    assert_int_equal(kube_framer_feed(f, "ok\n", 3, collect_cb, &c, &err),
                     0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.lines[0], "ok");
    collect_free(&c);

    /* a complete over-max line inside one chunk, with lines around it */
    memset(buf, 'b', sizeof(buf));
    memcpy(buf, "x\n", 2);
    buf[150] = '\n';
    memcpy(buf + 151, "y\n", 2);
    assert_int_equal(kube_framer_feed(f, buf, 153, collect_cb, &c, &err),
                     -1);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.lines[0], "x");
    assert_non_null(strstr(err.msg, "longer than 100 bytes"));
    collect_free(&c);

    kube_framer_reset(f);
    assert_int_equal(kube_framer_feed(f, "z\n", 2, collect_cb, &c, &err), 0);
    assert_string_equal(c.lines[0], "z");
    collect_free(&c);

    kube_framer_destroy(f);
}


static void
test_empty_lines(void **state)
{
    kube_err_t      err;
    collect_t       c;
    kube_framer_t  *f;
    size_t          n;
    const char     *line;

    (void) state;
    memset(&c, 0, sizeof(c));

    f = kube_framer_create(0);
    assert_non_null(f);

    assert_int_equal(kube_framer_feed(f, "\n\n\r\n\n", 5, collect_cb, &c,
                                      &err), 0);
    assert_int_equal(c.n, 0);
    assert_int_equal(kube_framer_pending(f), 0);
    assert_int_equal(kube_framer_finish(f, &line, &n), 0);

    assert_int_equal(kube_framer_feed(f, "\r", 1, collect_cb, &c, &err), 0);
    assert_int_equal(kube_framer_finish(f, &line, &n), 0);

    assert_int_equal(kube_framer_feed(f, "a\n\nb\n", 5, collect_cb, &c,
                                      &err), 0);
    assert_int_equal(c.n, 2);
    collect_free(&c);
    kube_framer_destroy(f);
}


static void
test_callback_stop(void **state)
{
    kube_err_t      err;
    collect_t       c;
    kube_framer_t  *f;
    const char     *line;
    size_t          n;

    (void) state;
    memset(&c, 0, sizeof(c));
    c.stop_after = 1;

    f = kube_framer_create(0);
    assert_non_null(f);

    assert_int_equal(kube_framer_feed(f, "a\nb\nc", 5, collect_cb, &c, &err),
                     7);
    assert_int_equal(c.n, 1);
    /* the rest stays buffered and comes out on the next call */
    assert_int_equal(kube_framer_next(f, &line, &n), 1);
    assert_memory_equal(line, "b", 1);
    assert_int_equal(kube_framer_next(f, &line, &n), 0);
    assert_int_equal(kube_framer_pending(f), 1);
    collect_free(&c);
    kube_framer_destroy(f);
}


/* many events packed into few pushes, many times over: no growth leak */
static void
test_packed_many(void **state)
{
    char            buf[4096];
    size_t          len, i, total, n;
    int             round;
    const char     *line;
    kube_err_t      err;
    kube_framer_t  *f;

    (void) state;

    len = 0;
    for (i = 0; i < 100; i++) {
        len += (size_t) snprintf(buf + len, sizeof(buf) - len,
                                 "{\"i\":%zu}\n", i);
    }

    f = kube_framer_create(0);
    assert_non_null(f);

    total = 0;
    for (round = 0; round < 50; round++) {
        /* push it in two uneven pieces so a partial line carries over */
        assert_int_equal(kube_framer_push(f, buf, 333, &err), 0);
        while (kube_framer_next(f, &line, &n)) {
            total++;
        }
        assert_int_equal(kube_framer_push(f, buf + 333, len - 333, &err), 0);
        while (kube_framer_next(f, &line, &n)) {
            assert_int_equal(line[0], '{');
            assert_int_equal(line[n - 1], '}');
            total++;
        }
    }

    assert_int_equal(total, 5000);
    kube_framer_destroy(f);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole),
        cmocka_unit_test(test_every_split),
        cmocka_unit_test(test_one_byte),
        cmocka_unit_test(test_big_line),
        cmocka_unit_test(test_over_max),
        cmocka_unit_test(test_empty_lines),
        cmocka_unit_test(test_callback_stop),
        cmocka_unit_test(test_packed_many),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
