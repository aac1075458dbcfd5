/*
 * Unit tests: bugs found by the fuzzers (tests/fuzz/), one test each, so
 * that they stay fixed under `make unit` and `make unit SAN=1` (UBSan
 * turns the undefined behaviour below into a report).  The reproducers
 * themselves are replayed by tests/fuzz/run.sh --replay.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kube_listwatch.h"


typedef struct {
    int     begins, ends, items;
} lw_count_t;


static void
count_begin(void *ctx)
{
    ((lw_count_t *) ctx)->begins++;
}


static int
count_item(void *ctx, json_t *item)
{
    ((lw_count_t *) ctx)->items++;
    return 0;
}


static int
count_end(void *ctx, const char *rv)
{
    ((lw_count_t *) ctx)->ends++;
    return 0;
}


/*
 * fuzz_listwatch, regressions/listwatch/empty-body-chunk-null-plus-zero:
 * a zero-length body chunk before any body byte made kube_lw_body_add()
 * compute "NULL + 0" (lw->body not allocated yet): undefined behaviour,
 * reported by UBSan at kube_listwatch.c memcpy(lw->body + lw->body_len).
 * libcurl may well call its write callback with 0 bytes.
 */
static void
test_listwatch_empty_body_chunk(void **state)
{
    static const char   body[] =
        "{\"kind\":\"EndpointSliceList\",\"metadata\":{\"resourceVersion\":"
        "\"10\"},\"items\":[{\"metadata\":{\"name\":\"a\"}}]}";
    kube_lw_conf_t      conf;
    kube_lw_request_t   req;
    kube_err_t          err;
    kube_lw_t          *lw;
    lw_count_t          c;
    uint64_t            wake;

    (void) state;
    memset(&c, 0, sizeof(c));
    memset(&conf, 0, sizeof(conf));
    conf.api_prefix = "/apis/discovery.k8s.io/v1";
    conf.resource = "endpointslices";
    conf.handler.list_begin = count_begin;
    conf.handler.list_item = count_item;
    conf.handler.list_end = count_end;
    conf.ctx = &c;

    lw = kube_lw_create(&conf, &err);
    assert_non_null(lw);

    assert_int_equal(kube_lw_next(lw, 1000, &req, &wake), KUBE_LW_REQUEST);
    assert_false(req.is_watch);
    kube_lw_on_status(lw, 1000, 200);
    assert_int_equal(kube_lw_on_body(lw, 1000, "", 0), KUBE_LW_CONTINUE);
    assert_int_equal(kube_lw_on_body(lw, 1000, body, sizeof(body) - 1),
                     KUBE_LW_CONTINUE);
    assert_int_equal(kube_lw_on_body(lw, 1000, body, 0), KUBE_LW_CONTINUE);
    kube_lw_on_done(lw, 1000, KUBE_LW_XFER_OK, NULL);

    assert_int_equal(c.begins, 1);
    assert_int_equal(c.items, 1);
    assert_int_equal(c.ends, 1);

    /* the watch that follows: an empty chunk first, too */
    assert_int_equal(kube_lw_next(lw, 1000, &req, &wake), KUBE_LW_REQUEST);
    assert_true(req.is_watch);
    kube_lw_on_status(lw, 1000, 200);
    assert_int_equal(kube_lw_on_body(lw, 1000, "", 0), KUBE_LW_CONTINUE);
    kube_lw_on_done(lw, 1000, KUBE_LW_XFER_OK, NULL);

    kube_lw_destroy(lw);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listwatch_empty_body_chunk),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
