/*
 * Unit tests: kube/kube_svc_endpoints.c
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "kube_svc_endpoints.h"


#define MAX_SLICES  8


typedef struct {
    kube_endpointslice_t  *es[MAX_SLICES];
    size_t                 n;
} slices_t;


static void
add(slices_t *s, const char *text)
{
    kube_err_t  err;

    assert_true(s->n < MAX_SLICES);
    s->es[s->n] = kube_endpointslice_decode_text(text, strlen(text), NULL,
                                                 &err);
    if (s->es[s->n] == NULL) {
        fail_msg("decode: %s\n%s", err.msg, text);
    }
    s->n++;
}


static void
release(slices_t *s)
{
    size_t  i;

    for (i = 0; i < s->n; i++) {
        kube_endpointslice_free(s->es[i]);
    }
    s->n = 0;
}


static char *run_proto(slices_t *s, const char *selector, kube_proto_e proto,
    kube_svc_endpoints_t *out);


/* compute with a selector string, return "a,b,c" of endpoint texts */
static char *
run(slices_t *s, const char *selector, kube_svc_endpoints_t *out)
{
    return run_proto(s, selector, KUBE_PROTO_TCP, out);
}


/* the same among the ports of protocol proto */
static char *
run_proto(slices_t *s, const char *selector, kube_proto_e proto,
    kube_svc_endpoints_t *out)
{
    static char           buf[4096];
    size_t                i;
    kube_err_t            err;
    kube_port_selector_t  sel;

    assert_int_equal(kube_port_selector_parse(selector, strlen(selector),
                                              &sel, &err), 0);
    sel.proto = proto;
    assert_int_equal(kube_svc_endpoints_compute(
                         (const kube_endpointslice_t *const *) s->es, s->n,
                         &sel, out, &err), 0);

    buf[0] = '\0';

    for (i = 0; i < out->n; i++) {
        if (i) {
            strcat(buf, ",");
        }
        strcat(buf, out->endpoints[i].text);
    }

    return buf;
}


#define SLICE(name, svc, type, endpoints, ports)                              \
    "{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"shop\","            \
    "\"labels\":{\"kubernetes.io/service-name\":\"" svc "\"}},"               \
    "\"addressType\":\"" type "\",\"endpoints\":" endpoints ","               \
    "\"ports\":" ports "}"

#define EP(addr, cond)                                                        \
    "{\"addresses\":[\"" addr "\"],\"conditions\":" cond "}"

#define READY     "{\"ready\":true}"
#define NOTREADY  "{\"ready\":false,\"serving\":false}"
#define TERMSERV  "{\"ready\":false,\"serving\":true,\"terminating\":true}"
#define TERMDOWN  "{\"ready\":false,\"serving\":false,\"terminating\":true}"
#define HTTP8080  "[{\"name\":\"http\",\"port\":8080}]"


static void
test_ready_only(void **state)
{
    slices_t              s = { .n = 0 };
    kube_svc_endpoints_t  out;

    (void) state;

    add(&s, SLICE("web-a", "web", "IPv4",
                  "[" EP("10.0.0.2", READY) "," EP("10.0.0.1", READY) ","
                  EP("10.0.0.3", NOTREADY) "," EP("10.0.0.4", TERMSERV) "]",
                  HTTP8080));

    assert_string_equal(run(&s, "http", &out),
                        "10.0.0.1:8080,10.0.0.2:8080");
    assert_false(out.fallback);
    assert_int_equal(out.candidates, 4);
    assert_true(out.endpoints[0].ready);
    assert_int_equal(out.endpoints[0].port, 8080);
    assert_ptr_equal(out.endpoints[0].src, &s.es[0]->endpoints[1]);
    assert_int_equal(out.endpoints[0].family, AF_INET);

    kube_svc_endpoints_free(&out);
    release(&s);
}


static void
test_conditions_default_ready(void **state)
{
    slices_t              s = { .n = 0 };
    kube_svc_endpoints_t  out;

    (void) state;

    /* nil conditions: ready */
    add(&s, "{\"metadata\":{\"name\":\"web-a\",\"namespace\":\"shop\"},"
            "\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":"
            "[\"10.0.0.9\"]}],\"ports\":" HTTP8080 "}");

    assert_string_equal(run(&s, "http", &out), "10.0.0.9:8080");
    kube_svc_endpoints_free(&out);
    release(&s);
}


static void
test_terminating_fallback(void **state)
{
    slices_t              s = { .n = 0 };
    kube_svc_endpoints_t  out;

    (void) state;

    add(&s, SLICE("web-a", "web", "IPv4",
                  "[" EP("10.0.0.3", NOTREADY) "," EP("10.0.0.4", TERMSERV)
                  "," EP("10.0.0.5", TERMDOWN) "]", HTTP8080));
    add(&s, SLICE("web-b", "web", "IPv4",
                  "[" EP("10.0.0.6", TERMSERV) "]", HTTP8080));

    assert_string_equal(run(&s, "http", &out),
                        "10.0.0.4:8080,10.0.0.6:8080");
    assert_true(out.fallback);
    assert_false(out.endpoints[0].ready);
    assert_true(out.endpoints[0].terminating);
    kube_svc_endpoints_free(&out);

    /* one ready endpoint in another slice ends the fallback */
    add(&s, SLICE("web-c", "web", "IPv4", "[" EP("10.0.0.7", READY) "]",
                  HTTP8080));
    assert_string_equal(run(&s, "http", &out), "10.0.0.7:8080");
    assert_false(out.fallback);
    kube_svc_endpoints_free(&out);

    release(&s);
}


static void
test_none(void **state)
{
    slices_t              s = { .n = 0 };
    kube_svc_endpoints_t  out;

    (void) state;

    assert_string_equal(run(&s, "http", &out), "");
    assert_null(out.endpoints);

    add(&s, SLICE("web-a", "web", "IPv4",
                  "[" EP("10.0.0.3", NOTREADY) "," EP("10.0.0.5", TERMDOWN)
                  "]", HTTP8080));
    add(&s, SLICE("web-b", "web", "IPv4", "null", "null"));
    add(&s, SLICE("web-c", "web", "IPv4", "[]", "[]"));

    assert_string_equal(run(&s, "http", &out), "");
    assert_int_equal(out.n, 0);
    assert_false(out.fallback);
    assert_int_equal(out.candidates, 2);
    kube_svc_endpoints_free(&out);

    release(&s);
}


static void
test_union_dedupe(void **state)
{
    slices_t              s = { .n = 0 };
    kube_svc_endpoints_t  out;

    (void) state;

    add(&s, SLICE("web-a", "web", "IPv4",
                  "[" EP("10.0.0.1", READY) "," EP("10.0.0.2", READY) "]",
                  HTTP8080));
    add(&s, SLICE("web-b", "web", "IPv4",
                  "[" EP("10.0.0.2", READY) "," EP("10.0.0.3", READY) "]",
                  HTTP8080));
    /* same address, other target port (named targetPort): both kept */
    add(&s, SLICE("web-c", "web", "IPv4",
                  "[" EP("10.0.0.1", READY) "]",
                  "[{\"name\":\"http\",\"port\":9090}]"));
    /* a not-ready duplicate does not hide the ready one */
    add(&s, SLICE("web-d", "web", "IPv4",
                  "[" EP("10.0.0.3", NOTREADY) "]", HTTP8080));

    assert_string_equal(run(&s, "http", &out),
                        "10.0.0.1:8080,10.0.0.1:9090,10.0.0.2:8080,"
                        "10.0.0.3:8080");
    kube_svc_endpoints_free(&out);
    release(&s);
}


static void
test_order_independent(void **state)
{
    slices_t              s1 = { .n = 0 }, s2 = { .n = 0 };
    kube_svc_endpoints_t  a, b;
    const char           *x, *y;

    (void) state;

    x = SLICE("web-a", "web", "IPv4", "[" EP("10.0.0.9", READY) ","
              EP("10.0.0.1", READY) "]", HTTP8080);
    y = SLICE("web-b", "web", "IPv6", "[" EP("fd00::2", READY) "]",
              HTTP8080);

    add(&s1, x);
    add(&s1, y);
    add(&s2, y);
    add(&s2, x);

    run(&s1, "http", &a);
    run(&s2, "http", &b);
    assert_true(kube_svc_endpoints_equal(&a, &b));
    kube_svc_endpoints_free(&b);

    release(&s2);
    add(&s2, x);
    run(&s2, "http", &b);
    assert_false(kube_svc_endpoints_equal(&a, &b));

    kube_svc_endpoints_free(&a);
    kube_svc_endpoints_free(&b);
    release(&s1);
    release(&s2);
}


/* a change of zone, pod or hints alone is a change (k8s_local_zone) */
static void
test_metadata_change_is_a_change(void **state)
{
    slices_t              s1 = { .n = 0 }, s2 = { .n = 0 };
    kube_svc_endpoints_t  a, b;

    (void) state;

    add(&s1, SLICE("web-a", "web", "IPv4", "[{\"addresses\":[\"10.0.0.1\"],"
                   "\"zone\":\"z1\",\"hints\":{\"forZones\":"
                   "[{\"name\":\"z1\"}]}}]", HTTP8080));
    add(&s2, SLICE("web-a", "web", "IPv4", "[{\"addresses\":[\"10.0.0.1\"],"
                   "\"zone\":\"z1\"}]", HTTP8080));

    run(&s1, "http", &a);
    run(&s2, "http", &b);
    release(&s1);
    release(&s2);           /* the digest outlives the slices */

    assert_int_equal(a.n, 1);
    assert_int_equal(b.n, 1);
    assert_false(kube_svc_endpoints_equal(&a, &b));
    assert_true(kube_svc_endpoints_equal(&a, &a));

    kube_svc_endpoints_free(&a);
    kube_svc_endpoints_free(&b);
}


static void
test_ipv6(void **state)
{
    slices_t              s = { .n = 0 };
    kube_svc_endpoints_t  out;

    (void) state;

    add(&s, SLICE("web-v6", "web", "IPv6",
                  "[" EP("fd00::10", READY) "," EP("::1", READY) ","
                  EP("FD00:0:0::10", READY) "]", HTTP8080));
    add(&s, SLICE("web-v4", "web", "IPv4",
                  "[" EP("127.0.0.1", READY) "]", HTTP8080));

    /* IPv4 first; fd00::10 written twice is deduplicated */
    assert_string_equal(run(&s, "http", &out),
                        "127.0.0.1:8080,[::1]:8080,[fd00::10]:8080");
    assert_int_equal(out.endpoints[1].family, AF_INET6);
    assert_int_equal(out.endpoints[1].bin[15], 1);
    kube_svc_endpoints_free(&out);
    release(&s);
}


static void
test_port_selectors(void **state)
{
    slices_t              s = { .n = 0 };
    kube_svc_endpoints_t  out;

    (void) state;

    add(&s, SLICE("web-a", "web", "IPv4",
                  "[" EP("10.0.0.1", READY) "]",
                  "[{\"name\":\"http\",\"port\":8080},"
                  "{\"name\":\"metrics\",\"port\":9100},"
                  "{\"name\":\"dns\",\"protocol\":\"UDP\",\"port\":53},"
                  "{\"name\":\"noport\"}]"));
    add(&s, SLICE("web-b", "web", "IPv4",
                  "[" EP("10.0.0.2", READY) "]",
                  "[{\"name\":\"\",\"port\":7000}]"));

    assert_string_equal(run(&s, "http", &out), "10.0.0.1:8080");
    kube_svc_endpoints_free(&out);
    assert_string_equal(run(&s, "metrics", &out), "10.0.0.1:9100");
    kube_svc_endpoints_free(&out);
    assert_string_equal(run(&s, "9100", &out), "10.0.0.1:9100");
    kube_svc_endpoints_free(&out);
    assert_string_equal(run(&s, "7000", &out), "10.0.0.2:7000");
    kube_svc_endpoints_free(&out);
    assert_string_equal(run(&s, "", &out), "10.0.0.2:7000");
    kube_svc_endpoints_free(&out);

    /* UDP ports are not TCP ones; ports without a number never count */
    assert_string_equal(run(&s, "dns", &out), "");
    kube_svc_endpoints_free(&out);
    assert_string_equal(run(&s, "53", &out), "");
    kube_svc_endpoints_free(&out);

    /* with a UDP selector (the stream module's protocol=udp) */
    assert_string_equal(run_proto(&s, "dns", KUBE_PROTO_UDP, &out),
                        "10.0.0.1:53");
    kube_svc_endpoints_free(&out);
    assert_string_equal(run_proto(&s, "53", KUBE_PROTO_UDP, &out),
                        "10.0.0.1:53");
    kube_svc_endpoints_free(&out);
    assert_string_equal(run_proto(&s, "http", KUBE_PROTO_UDP, &out), "");
    kube_svc_endpoints_free(&out);
    assert_string_equal(run(&s, "noport", &out), "");
    kube_svc_endpoints_free(&out);
    assert_string_equal(run(&s, "other", &out), "");
    kube_svc_endpoints_free(&out);

    release(&s);
}


static void
test_selector_parse(void **state)
{
    kube_err_t            err;
    kube_port_selector_t  sel;

    (void) state;

    assert_int_equal(kube_port_selector_parse("http", 4, &sel, &err), 0);
    assert_int_equal(sel.kind, KUBE_PORTSEL_NAME);
    assert_int_equal(kube_port_selector_parse("65535", 5, &sel, &err), 0);
    assert_int_equal(sel.kind, KUBE_PORTSEL_NUMBER);
    assert_int_equal(sel.number, 65535);
    assert_int_equal(kube_port_selector_parse("", 0, &sel, &err), 0);
    assert_int_equal(sel.kind, KUBE_PORTSEL_UNNAMED);
    assert_int_equal(kube_port_selector_parse("h-2", 3, &sel, &err), 0);

    assert_int_equal(kube_port_selector_parse("0", 1, &sel, &err), -1);
    assert_non_null(strstr(err.msg, "1..65535"));
    assert_int_equal(kube_port_selector_parse("65536", 5, &sel, &err), -1);
    assert_int_equal(kube_port_selector_parse("99999999999", 11, &sel,
                                              &err), -1);
    assert_int_equal(kube_port_selector_parse("HTTP", 4, &sel, &err), -1);
    assert_int_equal(kube_port_selector_parse("-a", 2, &sel, &err), -1);
    assert_int_equal(kube_port_selector_parse("a b", 3, &sel, &err), -1);
}


static void
test_fqdn_skipped_and_trigger_time(void **state)
{
    slices_t              s = { .n = 0 };
    kube_svc_endpoints_t  out;

    (void) state;

    add(&s, SLICE("web-f", "web", "FQDN",
                  "[" EP("db.example.com", READY) "]", HTTP8080));
    add(&s, "{\"metadata\":{\"name\":\"web-a\",\"namespace\":\"shop\","
            "\"annotations\":{\"endpoints.kubernetes.io/"
            "last-change-trigger-time\":\"2026-03-01T10:05:12Z\"}},"
            "\"addressType\":\"IPv4\",\"endpoints\":["
            EP("10.0.0.1", READY) "],\"ports\":" HTTP8080 "}");
    add(&s, "{\"metadata\":{\"name\":\"web-b\",\"namespace\":\"shop\","
            "\"annotations\":{\"endpoints.kubernetes.io/"
            "last-change-trigger-time\":\"2026-03-01T10:05:13Z\"}},"
            "\"addressType\":\"IPv4\",\"endpoints\":[],\"ports\":[]}");

    assert_string_equal(run(&s, "http", &out), "10.0.0.1:8080");
    assert_true(out.has_trigger_time);
    assert_int_equal(out.trigger_time_ms, 1772359513000LL);
    kube_svc_endpoints_free(&out);
    release(&s);
}


static void
test_null_entries(void **state)
{
    slices_t              s = { .n = 0 };
    kube_svc_endpoints_t  out;

    (void) state;

    add(&s, SLICE("web-a", "web", "IPv4", "[" EP("10.0.0.1", READY) "]",
                  HTTP8080));
    s.es[1] = NULL;
    s.n = 2;
    assert_string_equal(run(&s, "http", &out), "10.0.0.1:8080");
    kube_svc_endpoints_free(&out);
    s.n = 1;
    release(&s);
}


/*
 * A named targetPort resolves per pod: the EndpointSlice controller
 * writes one slice per port number, with the same port name.  Each
 * endpoint keeps its own slice's number; an unnamed Service port's slice
 * port may carry the name "" or no name at all.
 */
static void
test_named_target_port_per_slice(void **state)
{
    slices_t              s = { .n = 0 };
    kube_svc_endpoints_t  out;
    kube_port_selector_t  sel;

    (void) state;

    add(&s, SLICE("web-a", "web", "IPv4",
                  "[" EP("10.0.0.1", READY) "," EP("10.0.0.2", READY) "]",
                  "[{\"name\":\"http\",\"port\":8080}]"));
    add(&s, SLICE("web-b", "web", "IPv4",
                  "[" EP("10.0.0.3", READY) "]",
                  "[{\"name\":\"http\",\"port\":9090}]"));

    assert_string_equal(run(&s, "http", &out),
                        "10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:9090");
    kube_svc_endpoints_free(&out);
    release(&s);

    add(&s, SLICE("api-a", "api", "IPv4",
                  "[" EP("10.0.1.1", READY) "]",
                  "[{\"name\":\"\",\"port\":8080,\"protocol\":\"TCP\"}]"));
    add(&s, SLICE("api-b", "api", "IPv4",
                  "[" EP("10.0.1.2", READY) "]",
                  "[{\"port\":8081}]"));

    /* what kube_service_resolve() gives for an unnamed Service port */
    memset(&sel, 0, sizeof(sel));
    sel.kind = KUBE_PORTSEL_NAME;
    sel.name = "";

    assert_int_equal(kube_svc_endpoints_compute(
                         (const kube_endpointslice_t *const *) s.es, s.n,
                         &sel, &out, NULL), 0);
    assert_int_equal(out.n, 2);
    assert_string_equal(out.endpoints[0].text, "10.0.1.1:8080");
    assert_string_equal(out.endpoints[1].text, "10.0.1.2:8081");
    kube_svc_endpoints_free(&out);
    release(&s);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ready_only),
        cmocka_unit_test(test_conditions_default_ready),
        cmocka_unit_test(test_terminating_fallback),
        cmocka_unit_test(test_none),
        cmocka_unit_test(test_union_dedupe),
        cmocka_unit_test(test_order_independent),
        cmocka_unit_test(test_metadata_change_is_a_change),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_port_selectors),
        cmocka_unit_test(test_selector_parse),
        cmocka_unit_test(test_fqdn_skipped_and_trigger_time),
        cmocka_unit_test(test_null_entries),
        cmocka_unit_test(test_named_target_port_per_slice),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
