/*
 * Unit tests: kube/kube_listwatch*.c, driven through scenarios with an
 * injected clock and random source.
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


#define NAMES  32
#define LOGS   64

/* a consumer that keeps a committed view and a private one */
typedef struct {
    char      view[NAMES][32];
    size_t    nview;
    char      pending[NAMES][32];
    size_t    npending;
    int       building;

    int       begins, ends, aborts, items;
    char      end_rv[64];

    int       events[8];           /* per kube_event_type_e */
    char      last_event_rv[64];
    int       reject_events;

    char      logs[LOGS][KUBE_ERR_LEN];
    size_t    nlogs;

    uint32_t  rnd;
} consumer_t;


static const char *
obj_name(json_t *obj)
{
    const char  *s;

    s = json_string_value(json_object_get(json_object_get(obj, "metadata"),
                                          "name"));
    return s ? s : "";
}


static void
on_list_begin(void *ctx)
{
    consumer_t  *c = ctx;

    assert_false(c->building);
    c->begins++;
    c->building = 1;
    c->npending = 0;
}


static int
on_list_item(void *ctx, json_t *item)
{
    consumer_t  *c = ctx;

    assert_true(c->building);
    assert_true(c->npending < NAMES);
    snprintf(c->pending[c->npending++], 32, "%s", obj_name(item));
    c->items++;
    return 0;
}


static int
on_list_end(void *ctx, const char *rv)
{
    consumer_t  *c = ctx;

    assert_true(c->building);
    c->ends++;
    c->building = 0;
    memcpy(c->view, c->pending, sizeof(c->view));
    c->nview = c->npending;
    snprintf(c->end_rv, sizeof(c->end_rv), "%s", rv);
    return 0;
}


static void
on_list_abort(void *ctx)
{
    consumer_t  *c = ctx;

    c->aborts++;
    c->building = 0;
    c->npending = 0;
}


static int
on_watch_event(void *ctx, kube_event_type_e type, json_t *obj,
    const char *rv)
{
    consumer_t  *c = ctx;

    (void) obj;
    c->events[type]++;
    snprintf(c->last_event_rv, sizeof(c->last_event_rv), "%s", rv);
    return c->reject_events;
}


static void
on_log(void *ctx, kube_log_level_e level, const char *msg)
{
    consumer_t  *c = ctx;

    (void) level;
    if (c->nlogs < LOGS) {
        snprintf(c->logs[c->nlogs++], KUBE_ERR_LEN, "%s", msg);
    }
}


static int
logged(consumer_t *c, const char *needle)
{
    size_t  i;

    for (i = 0; i < c->nlogs; i++) {
        if (strstr(c->logs[i], needle) != NULL) {
            return 1;
        }
    }

    return 0;
}


static uint32_t
fixed_random(void *ctx)
{
    return ((consumer_t *) ctx)->rnd;
}


static kube_lw_t *
make_lw(consumer_t *c, const char *ns, const char *ls, const char *fs)
{
    kube_lw_conf_t  conf;
    kube_lw_t      *lw;
    kube_err_t      err;

    memset(c, 0, sizeof(consumer_t));
    memset(&conf, 0, sizeof(conf));

    conf.api_prefix = "/apis/discovery.k8s.io/v1";
    conf.resource = "endpointslices";
    conf.ns = ns;
    conf.label_selector = ls;
    conf.field_selector = fs;
    conf.random = fixed_random;
    conf.random_ctx = c;
    conf.handler.list_begin = on_list_begin;
    conf.handler.list_item = on_list_item;
    conf.handler.list_end = on_list_end;
    conf.handler.list_abort = on_list_abort;
    conf.handler.watch_event = on_watch_event;
    conf.handler.log = on_log;
    conf.ctx = c;

    lw = kube_lw_create(&conf, &err);
    assert_non_null(lw);

    return lw;
}


#define LIST0  "/apis/discovery.k8s.io/v1/endpointslices?limit=500"
#define WATCH(rv)                                                            \
    "/apis/discovery.k8s.io/v1/endpointslices?allowWatchBookmarks=true"      \
    "&resourceVersion=" rv "&timeoutSeconds=300&watch=true"


static void
expect_request(kube_lw_t *lw, uint64_t now, const char *path)
{
    kube_lw_request_t  req;
    uint64_t           wake = 0;

    assert_int_equal(kube_lw_next(lw, now, &req, &wake), KUBE_LW_REQUEST);
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.path, path);
    assert_int_equal(req.is_watch, strstr(path, "watch=true") != NULL);
    assert_int_equal(kube_lw_next(lw, now, &req, &wake), KUBE_LW_BUSY);
}


static void
expect_wait(kube_lw_t *lw, uint64_t now, uint64_t until)
{
    kube_lw_request_t  req;
    uint64_t           wake = 0;

    assert_int_equal(kube_lw_next(lw, now, &req, &wake), KUBE_LW_WAIT);
    assert_int_equal(wake, until);
    assert_int_equal(kube_lw_next(lw, until - 1, &req, &wake),
                     KUBE_LW_WAIT);
}


/* a whole response in one go, body split in two pieces */
static int
respond(kube_lw_t *lw, uint64_t now, int status, const char *hdr,
    const char *body)
{
    size_t  len, half;
    int     rc;

    if (hdr != NULL) {
        kube_lw_on_header(lw, hdr, strlen(hdr));
    }
    kube_lw_on_header(lw, "Content-Type: application/json\r\n", 32);
    kube_lw_on_status(lw, now, status);

    len = strlen(body);
    half = len / 2;
    rc = kube_lw_on_body(lw, now, body, half);
    if (rc == KUBE_LW_CONTINUE) {
        rc = kube_lw_on_body(lw, now, body + half, len - half);
    }

    kube_lw_on_done(lw, now, KUBE_LW_XFER_OK, NULL);
    return rc;
}


static void
page(kube_lw_t *lw, uint64_t now, const char *items, const char *cont)
{
    char  body[1024];

    snprintf(body, sizeof(body), "{\"kind\":\"EndpointSliceList\","
             "\"metadata\":{\"resourceVersion\":\"100\",\"continue\":\"%s\"},"
             "\"items\":[%s]}", cont, items);
    assert_int_equal(respond(lw, now, 200, NULL, body), KUBE_LW_CONTINUE);
}


#define ITEM(n)  "{\"metadata\":{\"name\":\"" n "\"}}"


static void
full_list(kube_lw_t *lw, uint64_t now)
{
    expect_request(lw, now, LIST0);
    page(lw, now, ITEM("a") "," ITEM("b"), "c1");
    expect_request(lw, now, LIST0 "&continue=c1");
    page(lw, now, ITEM("c"), "c%2");
    expect_request(lw, now, LIST0 "&continue=c%252");
    page(lw, now, "", "");
}


static void
test_list_three_pages(void **state)
{
    consumer_t       c;
    kube_lw_t       *lw;
    kube_lw_stats_t  st;

    (void) state;
    lw = make_lw(&c, NULL, NULL, NULL);

    kube_lw_stats(lw, 0, &st);
    assert_string_equal(st.state, "list-pending");
    assert_false(st.synced);

    full_list(lw, 1000);

    assert_int_equal(c.begins, 1);
    assert_int_equal(c.ends, 1);
    assert_int_equal(c.aborts, 0);
    assert_int_equal(c.nview, 3);
    assert_string_equal(c.view[2], "c");
    assert_string_equal(c.end_rv, "100");

    kube_lw_stats(lw, 1000, &st);
    assert_true(st.synced);
    assert_int_equal(st.lists, 1);
    assert_int_equal(st.last_sync_ms, 1000);
    assert_string_equal(st.rv, "100");
    assert_string_equal(st.state, "watch-pending");

    expect_request(lw, 1000, WATCH("100"));
    kube_lw_stats(lw, 1000, &st);
    assert_string_equal(st.state, "watching");
    assert_int_equal(st.watches, 1);

    kube_lw_destroy(lw);
}


static void
test_list_410_on_continue(void **state)
{
    consumer_t  c;
    kube_lw_t  *lw;

    (void) state;
    lw = make_lw(&c, NULL, NULL, NULL);

    expect_request(lw, 0, LIST0);
    page(lw, 0, ITEM("a"), "tok");
    assert_int_equal(c.begins, 1);

    expect_request(lw, 10, LIST0 "&continue=tok");
    respond(lw, 10, 410, NULL, "{\"kind\":\"Status\",\"code\":410,"
            "\"reason\":\"Expired\",\"message\":\"continue expired\"}");
    assert_int_equal(c.aborts, 1);
    assert_true(logged(&c, "continue token expired"));

    /* restarted at once, without continue */
    expect_request(lw, 10, LIST0);
    page(lw, 10, ITEM("x"), "");
    assert_int_equal(c.begins, 2);
    assert_int_equal(c.ends, 1);
    assert_int_equal(c.nview, 1);
    assert_string_equal(c.view[0], "x");

    expect_request(lw, 10, WATCH("100"));
    kube_lw_destroy(lw);
}


static const char *events =
    "{\"type\":\"ADDED\",\"object\":{\"kind\":\"EndpointSlice\","
    "\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"101\"}}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\","
    "\"resourceVersion\":\"102\"}}}\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":"
    "{\"resourceVersion\":\"103\"}}}\n"
    "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"a\","
    "\"resourceVersion\":\"104\"}}}\n";


static void
feed_bytewise(kube_lw_t *lw, uint64_t now, const char *s)
{
    size_t  i, len;

    len = strlen(s);
    for (i = 0; i < len; i += 7) {
        assert_int_equal(kube_lw_on_body(lw, now, s + i,
                                         len - i < 7 ? len - i : 7),
                         KUBE_LW_CONTINUE);
    }
}


static void
test_watch_events_and_rewatch(void **state)
{
    consumer_t       c;
    kube_lw_t       *lw;
    kube_lw_stats_t  st;

    (void) state;
    lw = make_lw(&c, NULL, NULL, NULL);
    full_list(lw, 0);

    expect_request(lw, 0, WATCH("100"));
    kube_lw_on_status(lw, 0, 200);
    feed_bytewise(lw, 100, events);

    assert_int_equal(c.events[KUBE_EVENT_ADDED], 1);
    assert_int_equal(c.events[KUBE_EVENT_MODIFIED], 1);
    assert_int_equal(c.events[KUBE_EVENT_BOOKMARK], 1);
    assert_int_equal(c.events[KUBE_EVENT_DELETED], 1);
    assert_string_equal(c.last_event_rv, "104");

    kube_lw_stats(lw, 100, &st);
    assert_int_equal(st.events, 4);
    assert_string_equal(st.rv, "104");
    assert_int_equal(st.last_sync_ms, 100);

    /* the server ends the watch at timeoutSeconds: re-watch, no relist */
    kube_lw_on_done(lw, 300000, KUBE_LW_XFER_OK, NULL);
    expect_request(lw, 300000, WATCH("104"));

    /* a bookmark alone advances the RV; the last line lacks "\n" */
    kube_lw_on_status(lw, 300000, 200);
    feed_bytewise(lw, 300000, "{\"type\":\"BOOKMARK\",\"object\":"
                  "{\"metadata\":{\"resourceVersion\":\"200\"}}}");
    assert_int_equal(c.events[KUBE_EVENT_BOOKMARK], 1);
    kube_lw_on_done(lw, 600000, KUBE_LW_XFER_OK, NULL);
    assert_int_equal(c.events[KUBE_EVENT_BOOKMARK], 2);
    expect_request(lw, 600000, WATCH("200"));

    kube_lw_stats(lw, 600000, &st);
    assert_int_equal(st.lists, 1);
    assert_int_equal(st.relists, 0);
    assert_int_equal(st.errors, 0);
    assert_int_equal(st.watches, 3);
    assert_int_equal(c.begins, 1);

    /* a stream broken mid-way after events: re-watch at once */
    kube_lw_on_status(lw, 600000, 200);
    feed_bytewise(lw, 600000, events);
    kube_lw_on_done(lw, 700000, KUBE_LW_XFER_ERROR, "Connection reset");
    expect_request(lw, 700000, WATCH("104"));

    kube_lw_destroy(lw);
}


static void
test_error_410_event_relists(void **state)
{
    consumer_t       c;
    kube_lw_t       *lw;
    kube_lw_stats_t  st;
    const char      *err410 =
        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":"
        "\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":"
        "\"too old resource version: 1000 (2500)\",\"reason\":\"Expired\","
        "\"code\":410}}\n";

    (void) state;
    lw = make_lw(&c, NULL, NULL, NULL);
    full_list(lw, 0);

    expect_request(lw, 0, WATCH("100"));
    kube_lw_on_status(lw, 0, 200);
    assert_int_equal(kube_lw_on_body(lw, 5, err410, strlen(err410)),
                     KUBE_LW_ABORT);
    /* on_done after the abort is ignored */
    kube_lw_on_done(lw, 5, KUBE_LW_XFER_ERROR, "aborted");

    assert_int_equal(c.events[KUBE_EVENT_ERROR], 0);
    assert_true(logged(&c, "too old resource version"));

    /* first 410: relist at once; old view intact until list_end */
    expect_request(lw, 5, LIST0);
    assert_int_equal(c.nview, 3);
    page(lw, 5, ITEM("b"), "");
    assert_int_equal(c.nview, 1);
    assert_string_equal(c.view[0], "b");

    kube_lw_stats(lw, 5, &st);
    assert_int_equal(st.relists, 1);
    assert_int_equal(st.lists, 2);

    /* a second 410 in a row, with no event between: back off */
    expect_request(lw, 5, WATCH("100"));
    kube_lw_on_status(lw, 5, 200);
    assert_int_equal(kube_lw_on_body(lw, 6, err410, strlen(err410)),
                     KUBE_LW_ABORT);
    expect_wait(lw, 6, 6 + 800);
    expect_request(lw, 806, LIST0);

    kube_lw_destroy(lw);
}


static void
test_http_410_on_watch(void **state)
{
    consumer_t  c;
    kube_lw_t  *lw;

    (void) state;
    lw = make_lw(&c, NULL, NULL, NULL);
    full_list(lw, 0);

    expect_request(lw, 0, WATCH("100"));
    respond(lw, 1, 410, NULL, "{\"kind\":\"Status\",\"code\":410,"
            "\"reason\":\"Gone\",\"message\":\"gone\"}");
    assert_true(logged(&c, "HTTP 410: gone"));
    expect_request(lw, 1, LIST0);
    kube_lw_destroy(lw);
}


/* resume: straight to WATCH from a known RV; 410 relists as usual */
static void
test_resume_from_rv(void **state)
{
    consumer_t       c;
    kube_lw_t       *lw;
    kube_lw_stats_t  st;
    char             big[200];
    const char      *added, *gone;

    added = "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":"
            "\"x\",\"resourceVersion\":\"44\"}}}\n";
    gone = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\","
           "\"code\":410,\"reason\":\"Expired\",\"message\":\"too old\"}}\n";

    (void) state;
    lw = make_lw(&c, NULL, NULL, NULL);

    memset(big, '7', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(kube_lw_resume(lw, ""), -1);
    assert_int_equal(kube_lw_resume(lw, NULL), -1);
    assert_int_equal(kube_lw_resume(lw, big), -1);

    assert_int_equal(kube_lw_resume(lw, "42"), 0);
    assert_true(logged(&c, "resourceVersion 42 without a list"));

    kube_lw_stats(lw, 0, &st);
    assert_string_equal(st.state, "watch-pending");
    assert_string_equal(st.rv, "42");
    assert_true(st.synced);

    /* no list: the watch from 42, events applied as usual */
    expect_request(lw, 0, WATCH("42"));
    assert_int_equal(c.begins, 0);
    assert_int_equal(kube_lw_resume(lw, "43"), -1);

    kube_lw_on_status(lw, 1, 200);
    assert_int_equal(kube_lw_on_body(lw, 1, added, strlen(added)),
                     KUBE_LW_CONTINUE);
    assert_int_equal(c.events[KUBE_EVENT_ADDED], 1);
    assert_string_equal(c.last_event_rv, "44");

    /* history compacted meanwhile: 410 -> a list, counted as a relist */
    kube_lw_on_status(lw, 2, 200);
    kube_lw_on_body(lw, 2, gone, strlen(gone));
    kube_lw_on_done(lw, 2, KUBE_LW_XFER_OK, NULL);
    kube_lw_stats(lw, 2, &st);
    assert_int_equal(st.relists, 1);
    expect_request(lw, 2, LIST0);
    page(lw, 3, ITEM("a"), "");
    assert_int_equal(c.ends, 1);
    expect_request(lw, 3, WATCH("100"));

    /* a machine that already made a request cannot be resumed */
    assert_int_equal(kube_lw_resume(lw, "7"), -1);

    kube_lw_destroy(lw);
}


static void
test_429_retry_after(void **state)
{
    consumer_t       c;
    kube_lw_t       *lw;
    kube_lw_stats_t  st;

    (void) state;
    lw = make_lw(&c, NULL, NULL, NULL);

    /* on a list page: retried with the same continue token */
    expect_request(lw, 0, LIST0);
    page(lw, 0, ITEM("a"), "t1");
    expect_request(lw, 0, LIST0 "&continue=t1");
    respond(lw, 0, 429, "retry-after:  7\r\n", "{\"code\":429}");
    expect_wait(lw, 0, 7000);
    kube_lw_stats(lw, 10, &st);
    assert_string_equal(st.state, "backoff");
    assert_int_equal(st.next_attempt_ms, 7000);
    expect_request(lw, 7000, LIST0 "&continue=t1");
    page(lw, 7000, ITEM("b"), "");
    assert_int_equal(c.aborts, 0);
    assert_int_equal(c.begins, 1);
    assert_int_equal(c.nview, 2);

    /* on a watch: re-watch from the same RV after Retry-After */
    expect_request(lw, 7000, WATCH("100"));
    respond(lw, 7000, 429, "Retry-After: 3\r\n", "{\"code\":429}");
    expect_wait(lw, 7000, 10000);
    expect_request(lw, 10000, WATCH("100"));

    /* no header: details.retryAfterSeconds from the Status body */
    respond(lw, 10000, 429, NULL, "{\"kind\":\"Status\",\"code\":429,"
            "\"details\":{\"retryAfterSeconds\":2}}");
    expect_wait(lw, 10000, 12000);
    expect_request(lw, 12000, WATCH("100"));

    /* neither: the backoff (Retry-After delays did not advance it) */
    respond(lw, 12000, 429, "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT",
            "");
    expect_wait(lw, 12000, 12000 + 800);

    kube_lw_stats(lw, 12000, &st);
    assert_int_equal(st.relists, 0);
    assert_int_equal(st.errors, 4);

    kube_lw_destroy(lw);
}


static void
test_500_backoff(void **state)
{
    static const uint64_t  expect[] = {
        800, 1600, 3200, 6400, 12800, 25600, 30000, 30000
    };
    consumer_t       c;
    kube_lw_t       *lw;
    kube_lw_stats_t  st;
    uint64_t         now;
    size_t           i;

    (void) state;
    lw = make_lw(&c, NULL, NULL, NULL);

    now = 1000;
    for (i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        expect_request(lw, now, LIST0);
        respond(lw, now, 500, NULL, "{\"kind\":\"Status\",\"code\":500,"
                "\"message\":\"etcd unavailable\"}");
        expect_wait(lw, now, now + expect[i]);
        now += expect[i];
    }

    kube_lw_stats(lw, now, &st);
    assert_int_equal(st.errors, 8);
    assert_int_equal(st.backoff_ms, 30000);
    assert_true(logged(&c, "HTTP 500: etcd unavailable"));
    assert_string_equal(st.last_error,
                        "list endpointslices: HTTP 500: etcd unavailable; "
                        "restarting the list in 30000 ms");

    /* jitter: half the random range adds half the base */
    c.rnd = 0x80000000u;
    expect_request(lw, now, LIST0);
    respond(lw, now, 503, NULL, "");
    expect_wait(lw, now, now + 45000);
    now += 45000;

    /* succeed, stay healthy for 2 minutes, fail: back to 800 ms */
    c.rnd = 0;
    full_list(lw, now);
    expect_request(lw, now, WATCH("100"));
    kube_lw_on_status(lw, now, 200);
    feed_bytewise(lw, now, events);
    now += 120000;
    respond(lw, now, 200, NULL, "");   /* ends the watch normally */
    expect_request(lw, now, WATCH("104"));
    respond(lw, now, 500, NULL, "");
    expect_wait(lw, now, now + 800);

    kube_lw_destroy(lw);
}


static void
test_401_token_flag(void **state)
{
    consumer_t  c;
    kube_lw_t  *lw;

    (void) state;
    lw = make_lw(&c, NULL, NULL, NULL);

    assert_int_equal(kube_lw_token_reload(lw), 0);
    expect_request(lw, 0, LIST0);
    respond(lw, 0, 401, NULL, "{\"kind\":\"Status\",\"code\":401,"
            "\"reason\":\"Unauthorized\",\"message\":\"Unauthorized\"}");
    assert_int_equal(kube_lw_token_reload(lw), 1);
    assert_int_equal(kube_lw_token_reload(lw), 0);
    expect_wait(lw, 0, 800);

    full_list(lw, 800);
    expect_request(lw, 800, WATCH("100"));
    respond(lw, 800, 401, NULL, "");
    assert_int_equal(kube_lw_token_reload(lw), 1);
    /* a failed watch relists after the backoff (client-go) */
    expect_wait(lw, 800, 800 + 1600);
    expect_request(lw, 2400, LIST0);

    kube_lw_destroy(lw);
}


static void
test_old_view_intact(void **state)
{
    consumer_t  c;
    kube_lw_t  *lw;

    (void) state;
    lw = make_lw(&c, NULL, NULL, NULL);
    full_list(lw, 0);
    assert_int_equal(c.nview, 3);

    kube_lw_relist(lw, 10);
    expect_request(lw, 10, LIST0);
    page(lw, 10, ITEM("a"), "p2");
    /* the committed view is untouched while pages arrive */
    assert_int_equal(c.nview, 3);
    assert_int_equal(c.npending, 1);

    /* the list fails mid-way: the consumer drops its private view */
    expect_request(lw, 10, LIST0 "&continue=p2");
    respond(lw, 10, 500, NULL, "");
    assert_int_equal(c.aborts, 1);
    assert_int_equal(c.nview, 3);
    assert_string_equal(c.view[1], "b");

    /* the retry starts over; only the whole list replaces the view */
    expect_request(lw, 810, LIST0);
    page(lw, 810, ITEM("a"), "p2");
    assert_int_equal(c.nview, 3);
    expect_request(lw, 810, LIST0 "&continue=p2");
    page(lw, 810, ITEM("d"), "");
    assert_int_equal(c.nview, 2);
    assert_string_equal(c.view[0], "a");
    assert_string_equal(c.view[1], "d");
    assert_int_equal(c.begins, 3);
    assert_int_equal(c.ends, 2);

    kube_lw_destroy(lw);
}


static void
test_short_watch_and_transport(void **state)
{
    consumer_t       c;
    kube_lw_t       *lw;
    kube_lw_stats_t  st;

    (void) state;
    lw = make_lw(&c, NULL, NULL, NULL);
    full_list(lw, 0);

    /* closed at once without events: back off, then re-watch */
    expect_request(lw, 0, WATCH("100"));
    respond(lw, 50, 200, NULL, "");
    assert_true(logged(&c, "without events"));
    expect_wait(lw, 50, 850);
    expect_request(lw, 850, WATCH("100"));

    /* connection refused: re-watch after backoff */
    kube_lw_on_done(lw, 900, KUBE_LW_XFER_CONN_REFUSED, "refused");
    expect_wait(lw, 900, 900 + 1600);
    expect_request(lw, 2500, WATCH("100"));

    /* another transport failure before any status: relist */
    kube_lw_on_done(lw, 2600, KUBE_LW_XFER_ERROR, "TLS handshake failed");
    assert_true(logged(&c, "transport error: TLS handshake failed"));
    expect_wait(lw, 2600, 2600 + 3200);
    expect_request(lw, 5800, LIST0);

    kube_lw_stats(lw, 5800, &st);
    assert_int_equal(st.relists, 1);
    assert_int_equal(st.errors, 3);
    kube_lw_destroy(lw);
}


static void
test_bad_stream(void **state)
{
    consumer_t  c;
    kube_lw_t  *lw;

    (void) state;
    lw = make_lw(&c, NULL, NULL, NULL);
    full_list(lw, 0);

    /* an undecodable line: relist after backoff */
    expect_request(lw, 0, WATCH("100"));
    kube_lw_on_status(lw, 0, 200);
    assert_int_equal(kube_lw_on_body(lw, 0, "{\"type\":\"NOPE\","
                                     "\"object\":{}}\n", 29),
                     KUBE_LW_ABORT);
    assert_true(logged(&c, "unknown \"type\""));
    expect_wait(lw, 0, 800);
    full_list(lw, 800);

    /* the consumer rejects an event: relist */
    c.reject_events = 1;
    expect_request(lw, 800, WATCH("100"));
    kube_lw_on_status(lw, 800, 200);
    assert_int_equal(kube_lw_on_body(lw, 800, events, strlen(events)),
                     KUBE_LW_ABORT);
    assert_int_equal(c.events[KUBE_EVENT_ADDED], 1);
    assert_int_equal(c.events[KUBE_EVENT_MODIFIED], 0);
    expect_wait(lw, 800, 800 + 1600);

    /* a list body that is not a list */
    c.reject_events = 0;
    expect_request(lw, 2400, LIST0);
    respond(lw, 2400, 200, NULL, "{\"items\":[]}");
    assert_true(logged(&c, "not a list"));
    expect_wait(lw, 2400, 2400 + 3200);

    kube_lw_destroy(lw);
}


static void
test_paths(void **state)
{
    consumer_t         c;
    kube_lw_t         *lw;
    kube_lw_request_t  req;
    char               buf[64];

    (void) state;

    assert_int_equal(kube_url_escape(buf, sizeof(buf),
                                     "kubernetes.io/service-name=web"), 34);
    assert_string_equal(buf, "kubernetes.io%2Fservice-name%3Dweb");

    lw = make_lw(&c, "shop", "kubernetes.io/service-name=web",
                 "metadata.name!=x");
    assert_int_equal(kube_lw_next(lw, 0, &req, NULL), KUBE_LW_REQUEST);
    assert_string_equal(req.path, "/apis/discovery.k8s.io/v1/namespaces/"
                        "shop/endpointslices?limit=500&labelSelector="
                        "kubernetes.io%2Fservice-name%3Dweb&fieldSelector="
                        "metadata.name%21%3Dx");
    assert_int_equal(req.timeout_ms, 60000);
    assert_int_equal(req.idle_timeout_s, 0);    /* lists: none */
    page(lw, 0, "", "");

    c.rnd = 299;
    assert_int_equal(kube_lw_next(lw, 0, &req, NULL), KUBE_LW_REQUEST);
    assert_string_equal(req.path, "/apis/discovery.k8s.io/v1/namespaces/"
                        "shop/endpointslices?allowWatchBookmarks=true&"
                        "fieldSelector=metadata.name%21%3Dx&labelSelector="
                        "kubernetes.io%2Fservice-name%3Dweb&resourceVersion"
                        "=100&timeoutSeconds=599&watch=true");
    assert_int_equal(req.watch_timeout_s, 599);
    assert_int_equal(req.timeout_ms, 629000);
    assert_int_equal(req.idle_timeout_s, 180);  /* the default */
    assert_true(req.is_watch);

    kube_lw_destroy(lw);
}


/* random statuses, bodies, chunking and transport results: invariants */
static uint32_t  rs = 12345;

static uint32_t
rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 17;
    rs ^= rs << 5;
    return rs;
}


static void
test_random_drive(void **state)
{
    static const int   statuses[] = { 200, 200, 200, 200, 410, 429, 500,
                                      401, 403, 503 };
    static const char *lines[] = {
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\","
        "\"resourceVersion\":\"5\"}}}\n",
        "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":"
        "{\"resourceVersion\":\"6\"}}}\r\n",
        "{\"type\":\"ERROR\",\"object\":{\"code\":410}}\n",
        "{\"type\":\"ERROR\",\"object\":{\"code\":500}}\n",
        "garbage\n",
        "\n",
        "{\"type\":\"DELETED\",\"object\":{\"metadata\":{}}}",
    };
    consumer_t         c;
    kube_lw_t         *lw;
    kube_lw_request_t  req;
    kube_lw_stats_t    st;
    uint64_t           now, wake;
    int                i, k, n, status, rc;
    char               body[4096];
    size_t             len, off, chunk;

    (void) state;
    lw = make_lw(&c, NULL, NULL, NULL);
    now = 0;

    for (i = 0; i < 20000; i++) {
        c.rnd = rnd();

        switch (kube_lw_next(lw, now, &req, &wake)) {

        case KUBE_LW_WAIT:
            assert_true(wake > now);
            assert_true(wake - now <= 60000 || wake - now == 3600000);
            now = wake;
            continue;

        case KUBE_LW_BUSY:
            fail_msg("busy without a transfer");
            break;

        case KUBE_LW_REQUEST:
            break;
        }

        status = statuses[rnd() % 10];
        if (rnd() % 4 == 0) {
            kube_lw_on_header(lw, "Retry-After: 1\r\n", 16);
        }

        if (rnd() % 20 == 0) {
            kube_lw_on_done(lw, now, (kube_lw_xfer_e) (1 + rnd() % 2),
                            "boom");
            now += rnd() % 3000;
            continue;
        }

        kube_lw_on_status(lw, now, status);

        if (!req.is_watch) {
            snprintf(body, sizeof(body), "{\"metadata\":{\"resourceVersion\""
                     ":\"%d\",\"continue\":\"%s\"},\"items\":[%s]}", i,
                     rnd() % 3 ? "" : "more",
                     rnd() % 2 ? ITEM("a") "," ITEM("b") : "");
        } else {
            body[0] = '\0';
            n = (int) (rnd() % 6);
            for (k = 0; k < n; k++) {
                strcat(body, lines[rnd() % 7]);
            }
        }

        len = strlen(body);
        rc = KUBE_LW_CONTINUE;
        for (off = 0; off < len && rc == KUBE_LW_CONTINUE; off += chunk) {
            chunk = 1 + rnd() % 40;
            if (chunk > len - off) {
                chunk = len - off;
            }
            rc = kube_lw_on_body(lw, now, body + off, chunk);
        }

        now += rnd() % 5000;
        kube_lw_on_done(lw, now, rnd() % 10 ? KUBE_LW_XFER_OK
                                             : KUBE_LW_XFER_ERROR, NULL);
    }

    kube_lw_stats(lw, now, &st);
    assert_true(st.lists > 0);
    assert_true(st.relists > 0);
    assert_true(st.events > 0);
    assert_int_equal(c.begins, c.ends + c.aborts + c.building);

    kube_lw_destroy(lw);
}


static void
test_bad_conf(void **state)
{
    kube_lw_conf_t  conf;
    kube_err_t      err;

    (void) state;
    memset(&conf, 0, sizeof(conf));
    conf.resource = "services";
    assert_null(kube_lw_create(&conf, &err));
    assert_non_null(strstr(err.msg, "api_prefix"));
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_three_pages),
        cmocka_unit_test(test_list_410_on_continue),
        cmocka_unit_test(test_watch_events_and_rewatch),
        cmocka_unit_test(test_error_410_event_relists),
        cmocka_unit_test(test_http_410_on_watch),
        cmocka_unit_test(test_resume_from_rv),
        cmocka_unit_test(test_429_retry_after),
        cmocka_unit_test(test_500_backoff),
        cmocka_unit_test(test_401_token_flag),
        cmocka_unit_test(test_old_view_intact),
        cmocka_unit_test(test_short_watch_and_transport),
        cmocka_unit_test(test_bad_stream),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_random_drive),
        cmocka_unit_test(test_bad_conf),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
