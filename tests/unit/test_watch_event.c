/*
 * Unit tests: kube/kube_watch_event.c
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "kube_watch_event.h"


static int
decode(const char *line, kube_watch_event_t *ev, kube_err_t *err)
{
    return kube_watch_event_decode(line, strlen(line), ev, err);
}


static void
test_types(void **state)
{
    kube_err_t          err;
    kube_watch_event_t  ev;

    (void) state;

    assert_int_equal(decode("{\"type\":\"ADDED\",\"object\":{\"kind\":"
                            "\"EndpointSlice\",\"metadata\":{\"name\":\"w\","
                            "\"resourceVersion\":\"2501\"}}}", &ev, &err), 0);
    assert_int_equal(ev.type, KUBE_EVENT_ADDED);
    assert_string_equal(ev.rv, "2501");
    assert_string_equal(json_string_value(json_object_get(ev.object,
                                                          "kind")),
                        "EndpointSlice");
    assert_int_equal(ev.code, 0);
    kube_watch_event_free(&ev);
    assert_null(ev.root);

    assert_int_equal(decode("{\"type\":\"MODIFIED\",\"object\":{\"metadata\":"
                            "{\"resourceVersion\":\"7\"}}}", &ev, &err), 0);
    assert_int_equal(ev.type, KUBE_EVENT_MODIFIED);
    assert_string_equal(ev.rv, "7");
    kube_watch_event_free(&ev);

    /* object before type; no RV */
    assert_int_equal(decode("{\"object\":{\"metadata\":{}},"
                            "\"type\":\"DELETED\"}", &ev, &err), 0);
    assert_int_equal(ev.type, KUBE_EVENT_DELETED);
    assert_string_equal(ev.rv, "");
    kube_watch_event_free(&ev);

    assert_string_equal(kube_event_type_name(KUBE_EVENT_BOOKMARK),
                        "BOOKMARK");
    assert_string_equal(kube_event_type_name((kube_event_type_e) 99),
                        "UNKNOWN");
}


static void
test_bookmark(void **state)
{
    kube_err_t          err;
    kube_watch_event_t  ev;

    (void) state;

    assert_int_equal(decode("{\"type\":\"BOOKMARK\",\"object\":{\"kind\":"
                            "\"EndpointSlice\",\"apiVersion\":"
                            "\"discovery.k8s.io/v1\",\"metadata\":"
                            "{\"resourceVersion\":\"2600\","
                            "\"creationTimestamp\":null},\"addressType\":\"\","
                            "\"endpoints\":null,\"ports\":null}}",
                            &ev, &err), 0);
    assert_int_equal(ev.type, KUBE_EVENT_BOOKMARK);
    assert_string_equal(ev.rv, "2600");
    assert_false(ev.initial_events_end);
    kube_watch_event_free(&ev);

    assert_int_equal(decode("{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":"
                            "{\"resourceVersion\":\"9\",\"annotations\":"
                            "{\"k8s.io/initial-events-end\":\"true\"}}}}",
                            &ev, &err), 0);
    assert_true(ev.initial_events_end);
    kube_watch_event_free(&ev);
}


static void
test_error_event(void **state)
{
    kube_err_t          err;
    kube_watch_event_t  ev;

    (void) state;

    assert_int_equal(decode("{\"type\":\"ERROR\",\"object\":{\"kind\":"
                            "\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                            "\"status\":\"Failure\",\"message\":"
                            "\"too old resource version: 1000 (2500)\","
                            "\"reason\":\"Expired\",\"code\":410}}",
                            &ev, &err), 0);
    assert_int_equal(ev.type, KUBE_EVENT_ERROR);
    assert_int_equal(ev.code, 410);
    assert_string_equal(ev.reason, "Expired");
    assert_string_equal(ev.message,
                        "too old resource version: 1000 (2500)");
    assert_string_equal(ev.rv, "");
    kube_watch_event_free(&ev);

    assert_int_equal(decode("{\"type\":\"ERROR\",\"object\":{\"code\":429,"
                            "\"reason\":\"TooManyRequests\",\"details\":"
                            "{\"retryAfterSeconds\":3}}}", &ev, &err), 0);
    assert_int_equal(ev.code, 429);
    assert_int_equal(ev.retry_after, 3);
    assert_string_equal(ev.message, "");
    kube_watch_event_free(&ev);

    /* a Status without code */
    assert_int_equal(decode("{\"type\":\"ERROR\",\"object\":{}}", &ev, &err),
                     0);
    assert_int_equal(ev.code, 0);
    assert_string_equal(ev.reason, "");
    kube_watch_event_free(&ev);
}


static void
test_bad(void **state)
{
    kube_err_t          err;
    kube_watch_event_t  ev;

    (void) state;

    assert_int_equal(decode("{\"type\":\"RENAMED\",\"object\":{}}", &ev,
                            &err), -1);
    assert_string_equal(err.msg, "watch event: unknown \"type\" \"RENAMED\"");
    assert_null(ev.root);

    assert_int_equal(decode("{\"object\":{}}", &ev, &err), -1);
    assert_non_null(strstr(err.msg, "\"type\" missing"));

    assert_int_equal(decode("{\"type\":1,\"object\":{}}", &ev, &err), -1);
    assert_non_null(strstr(err.msg, "\"type\""));

    assert_int_equal(decode("{\"type\":\"ADDED\"}", &ev, &err), -1);
    assert_non_null(strstr(err.msg, "without an \"object\""));

    assert_int_equal(decode("{\"type\":\"ADDED\",\"object\":null}", &ev,
                            &err), -1);

    assert_int_equal(decode("[]", &ev, &err), -1);
    assert_non_null(strstr(err.msg, "not a JSON object"));

    assert_int_equal(decode("{\"type\":\"ADDED\",", &ev, &err), -1);
    assert_non_null(strstr(err.msg, "invalid JSON"));

    /* a line that is two objects is not one event */
    assert_int_equal(decode("{\"type\":\"ADDED\",\"object\":{}}{}", &ev,
                            &err), -1);

    /* decode() frees nothing on error: free is still safe */
    kube_watch_event_free(&ev);
}


static void
test_from_json(void **state)
{
    json_t              *root;
    kube_err_t           err;
    kube_watch_event_t   ev;

    (void) state;

    root = json_pack("{s:s, s:{s:{s:s}}}", "type", "ADDED", "object",
                     "metadata", "resourceVersion", "5");
    assert_non_null(root);
    assert_int_equal(kube_watch_event_from_json(root, &ev, &err), 0);
    json_decref(root);
    /* the event keeps its own reference */
    assert_string_equal(ev.rv, "5");
    kube_watch_event_free(&ev);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_bookmark),
        cmocka_unit_test(test_error_event),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_from_json),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
