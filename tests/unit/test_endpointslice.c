/*
 * Unit tests: kube/kube_endpointslice.c
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

#include "kube_endpointslice.h"


static kube_endpointslice_t *
decode(const char *text, kube_err_t *err)
{
    return kube_endpointslice_decode_text(text, strlen(text), NULL, err);
}


static int
has_warning(const kube_endpointslice_t *es, const char *needle)
{
    size_t  i;

    for (i = 0; i < es->nwarnings; i++) {
        if (strstr(es->warnings[i], needle) != NULL) {
            return 1;
        }
    }

    return 0;
}


/* a slice as the EndpointSlice controller writes it, with hints */
static const char *full_slice =
    "{\"kind\":\"EndpointSlice\",\"apiVersion\":\"discovery.k8s.io/v1\","
    "\"metadata\":{\"name\":\"web-7xk2p\",\"generateName\":\"web-\","
    "\"namespace\":\"shop\",\"uid\":\"3c1f\",\"resourceVersion\":\"2501\","
    "\"generation\":7,\"creationTimestamp\":\"2026-03-01T10:00:00Z\","
    "\"labels\":{\"endpointslice.kubernetes.io/managed-by\":"
    "\"endpointslice-controller.k8s.io\","
    "\"kubernetes.io/service-name\":\"web\",\"app\":\"web\"},"
    "\"annotations\":{\"endpoints.kubernetes.io/last-change-trigger-time\":"
    "\"2026-03-01T10:05:12Z\"}},"
    "\"addressType\":\"IPv4\","
    "\"endpoints\":["
    "{\"addresses\":[\"10.244.1.17\"],\"conditions\":{\"ready\":true,"
    "\"serving\":true,\"terminating\":false},\"targetRef\":{\"kind\":\"Pod\","
    "\"namespace\":\"shop\",\"name\":\"web-5d8f9-abcde\",\"uid\":\"d41c\"},"
    "\"nodeName\":\"node-a\",\"zone\":\"eu-west-1a\","
    "\"hints\":{\"forZones\":[{\"name\":\"eu-west-1a\"}]}},"
    "{\"addresses\":[\"10.244.2.9\"],\"conditions\":{\"ready\":false,"
    "\"serving\":true,\"terminating\":true},\"nodeName\":\"node-b\","
    "\"zone\":\"eu-west-1b\"}],"
    "\"ports\":[{\"name\":\"http\",\"protocol\":\"TCP\",\"port\":8080,"
    "\"appProtocol\":\"http\"}]}";


static void
test_full(void **state)
{
    kube_err_t             err;
    kube_endpointslice_t  *es;

    (void) state;

    es = decode(full_slice, &err);
    assert_non_null(es);
    assert_string_equal(err.msg, "");

    assert_string_equal(es->ns, "shop");
    assert_string_equal(es->name, "web-7xk2p");
    assert_string_equal(es->service_name, "web");
    assert_string_equal(es->resource_version, "2501");
    assert_int_equal(es->address_type, KUBE_ADDR_IPV4);
    assert_true(es->has_trigger_time);
    /* 2026-03-01T10:05:12Z */
    assert_true(es->trigger_time_ms == INT64_C(1772359512000));

    assert_int_equal(es->nports, 1);
    assert_string_equal(es->ports[0].name, "http");
    assert_string_equal(es->ports[0].protocol, "TCP");
    assert_int_equal(es->ports[0].proto, KUBE_PROTO_TCP);
    assert_true(es->ports[0].has_port);
    assert_int_equal(es->ports[0].port, 8080);
    assert_string_equal(es->ports[0].app_protocol, "http");

    assert_int_equal(es->nendpoints, 2);
    assert_int_equal(es->endpoints[0].naddresses, 1);
    assert_string_equal(es->endpoints[0].addresses[0].text, "10.244.1.17");
    assert_int_equal(es->endpoints[0].addresses[0].family, AF_INET);
    assert_memory_equal(es->endpoints[0].addresses[0].bin,
                        "\x0a\xf4\x01\x11", 4);
    assert_true(es->endpoints[0].ready);
    assert_true(es->endpoints[0].serving);
    assert_false(es->endpoints[0].terminating);
    assert_string_equal(es->endpoints[0].node_name, "node-a");
    assert_string_equal(es->endpoints[0].zone, "eu-west-1a");
    assert_null(es->endpoints[0].hostname);
    assert_string_equal(es->endpoints[0].target_kind, "Pod");
    assert_string_equal(es->endpoints[0].target_name, "web-5d8f9-abcde");
    assert_int_equal(es->endpoints[0].nfor_zones, 1);
    assert_string_equal(es->endpoints[0].for_zones[0], "eu-west-1a");

    assert_false(es->endpoints[1].ready);
    assert_true(es->endpoints[1].serving);
    assert_true(es->endpoints[1].terminating);
    assert_int_equal(es->endpoints[1].nfor_zones, 0);
    assert_null(es->endpoints[1].target_kind);

    assert_int_equal(es->nwarnings, 0);

    kube_endpointslice_free(es);
}


static void
check_empty(const char *text)
{
    kube_err_t             err;
    kube_endpointslice_t  *es;

    es = decode(text, &err);
    assert_non_null(es);
    assert_int_equal(es->nendpoints, 0);
    assert_int_equal(es->nports, 0);
    assert_int_equal(es->nwarnings, 0);
    kube_endpointslice_free(es);
}


static void
test_null_absent_empty(void **state)
{
    (void) state;

    check_empty("{\"metadata\":{\"name\":\"a\",\"namespace\":\"n\"},"
                "\"addressType\":\"IPv4\",\"endpoints\":null,"
                "\"ports\":null}");
    check_empty("{\"metadata\":{\"name\":\"a\",\"namespace\":\"n\"},"
                "\"addressType\":\"IPv4\"}");
    check_empty("{\"metadata\":{\"name\":\"a\",\"namespace\":\"n\"},"
                "\"addressType\":\"IPv4\",\"endpoints\":[],\"ports\":[]}");
    /* a BOOKMARK-like shape: addressType "" */
    check_empty("{\"metadata\":{\"name\":\"a\"},\"addressType\":\"\","
                "\"endpoints\":null,\"ports\":null}");
}


static void
test_defaults(void **state)
{
    kube_err_t             err;
    kube_endpointslice_t  *es;

    (void) state;

    es = decode("{\"metadata\":{\"name\":\"a\"},\"addressType\":\"IPv4\","
                "\"endpoints\":[{\"addresses\":[\"10.0.0.1\"]},"
                "{\"addresses\":[\"10.0.0.2\"],\"conditions\":{}},"
                "{\"addresses\":[\"10.0.0.3\"],\"conditions\":"
                "{\"ready\":null,\"serving\":null,\"terminating\":null}}],"
                "\"ports\":[{\"port\":80},{\"name\":\"x\"},"
                "{\"name\":\"u\",\"protocol\":\"UDP\",\"port\":53,"
                "\"appProtocol\":null}]}", &err);
    assert_non_null(es);

    assert_string_equal(es->ns, "");
    assert_string_equal(es->resource_version, "");
    assert_null(es->service_name);
    assert_false(es->has_trigger_time);

    assert_int_equal(es->nendpoints, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_true(es->endpoints[i].ready);
        assert_true(es->endpoints[i].serving);
        assert_false(es->endpoints[i].terminating);
        assert_null(es->endpoints[i].node_name);
        assert_null(es->endpoints[i].zone);
        assert_null(es->endpoints[i].hostname);
    }

    assert_int_equal(es->nports, 3);
    assert_string_equal(es->ports[0].name, "");
    assert_string_equal(es->ports[0].protocol, "TCP");
    assert_int_equal(es->ports[0].port, 80);
    assert_true(es->ports[0].has_port);
    assert_null(es->ports[0].app_protocol);

    assert_string_equal(es->ports[1].name, "x");
    assert_false(es->ports[1].has_port);

    assert_string_equal(es->ports[2].protocol, "UDP");
    assert_int_equal(es->ports[2].proto, KUBE_PROTO_UDP);
    assert_null(es->ports[2].app_protocol);

    assert_int_equal(es->nwarnings, 0);
    kube_endpointslice_free(es);
}


static void
test_ipv6(void **state)
{
    kube_err_t             err;
    kube_endpointslice_t  *es;

    (void) state;

    es = decode("{\"metadata\":{\"name\":\"web-v6\",\"namespace\":\"shop\","
                "\"labels\":{\"kubernetes.io/service-name\":\"web\"}},"
                "\"addressType\":\"IPv6\",\"endpoints\":["
                "{\"addresses\":[\"fd00:10:244::11\"],\"hostname\":\"p0\"},"
                "{\"addresses\":[\"10.0.0.1\"]},"
                "{\"addresses\":[\"::ffff:10.0.0.1\"]}],"
                "\"ports\":[{\"name\":\"http\",\"port\":8080}]}", &err);
    assert_non_null(es);
    assert_int_equal(es->address_type, KUBE_ADDR_IPV6);

    /* an IPv4 address in an IPv6 slice is skipped */
    assert_int_equal(es->nendpoints, 2);
    assert_string_equal(es->endpoints[0].addresses[0].text,
                        "fd00:10:244::11");
    assert_int_equal(es->endpoints[0].addresses[0].family, AF_INET6);
    assert_int_equal(es->endpoints[0].addresses[0].bin[0], 0xfd);
    assert_int_equal(es->endpoints[0].addresses[0].bin[15], 0x11);
    assert_string_equal(es->endpoints[0].hostname, "p0");
    assert_string_equal(es->endpoints[1].addresses[0].text,
                        "::ffff:10.0.0.1");

    assert_true(has_warning(es, "endpoints[1].addresses[0]"));
    assert_true(has_warning(es, "not a valid IPv6 address"));
    assert_true(has_warning(es, "endpoints[1] has no valid address"));
    kube_endpointslice_free(es);
}


static void
test_invalid_ip(void **state)
{
    kube_err_t             err;
    kube_endpointslice_t  *es;

    (void) state;

    es = decode("{\"metadata\":{\"name\":\"a\"},\"addressType\":\"IPv4\","
                "\"endpoints\":[{\"addresses\":[\"10.0.0.300\"]},"
                "{\"addresses\":[\"fd00::1\"]},"
                "{\"addresses\":[\"10.0.0.1 \"]},"
                "{\"addresses\":[42]},"
                "{\"addresses\":[]},"
                "{\"addresses\":null},"
                "\"junk\","
                "{\"addresses\":[\"10.0.0.9\"]}]}", &err);
    assert_non_null(es);
    assert_int_equal(es->nendpoints, 1);
    assert_string_equal(es->endpoints[0].addresses[0].text, "10.0.0.9");
    assert_true(has_warning(es, "\"10.0.0.300\" is not a valid IPv4"));
    assert_true(has_warning(es, "\"fd00::1\" is not a valid IPv4"));
    assert_true(has_warning(es, "endpoints[3].addresses[0] is not a string"));
    assert_true(has_warning(es, "endpoints[4].addresses is empty"));
    assert_true(has_warning(es, "endpoints[5].addresses is empty"));
    assert_true(has_warning(es, "endpoints[6] is not an object"));
    kube_endpointslice_free(es);
}


static void
test_port_range(void **state)
{
    kube_err_t             err;
    kube_endpointslice_t  *es;

    (void) state;

    es = decode("{\"metadata\":{\"name\":\"a\"},\"addressType\":\"IPv4\","
                "\"ports\":[{\"name\":\"zero\",\"port\":0},"
                "{\"name\":\"big\",\"port\":65536},"
                "{\"name\":\"neg\",\"port\":-1},"
                "{\"name\":\"str\",\"port\":\"80\"},"
                "{\"name\":\"max\",\"port\":65535},"
                "{\"name\":\"min\",\"port\":1},"
                "{\"name\":\"null\",\"port\":null},"
                "{\"name\":\"sctp\",\"protocol\":\"SCTP\",\"port\":9}]}",
                &err);
    assert_non_null(es);
    assert_int_equal(es->nports, 4);
    assert_string_equal(es->ports[0].name, "max");
    assert_int_equal(es->ports[0].port, 65535);
    assert_string_equal(es->ports[1].name, "min");
    assert_int_equal(es->ports[1].port, 1);
    assert_string_equal(es->ports[2].name, "null");
    assert_false(es->ports[2].has_port);
    assert_int_equal(es->ports[3].proto, KUBE_PROTO_SCTP);

    assert_true(has_warning(es, "ports[0].port 0 is out of range"));
    assert_true(has_warning(es, "ports[1].port 65536 is out of range"));
    assert_true(has_warning(es, "ports[2].port -1 is out of range"));
    assert_true(has_warning(es, "ports[3].port is not an integer"));
    assert_int_equal(es->nwarnings, 4);
    kube_endpointslice_free(es);
}


static void
test_missing_service_label(void **state)
{
    kube_err_t             err;
    kube_endpointslice_t  *es;

    (void) state;

    es = decode("{\"metadata\":{\"name\":\"a\",\"namespace\":\"n\","
                "\"labels\":{\"app\":\"x\"}},\"addressType\":\"IPv4\"}",
                &err);
    assert_non_null(es);
    assert_null(es->service_name);
    kube_endpointslice_free(es);

    es = decode("{\"metadata\":{\"name\":\"a\",\"labels\":"
                "{\"kubernetes.io/service-name\":\"\"}}}", &err);
    assert_non_null(es);
    assert_null(es->service_name);
    assert_int_equal(es->address_type, KUBE_ADDR_UNKNOWN);
    kube_endpointslice_free(es);
}


static void
test_multi_address(void **state)
{
    kube_err_t             err;
    kube_endpointslice_t  *es;

    (void) state;

    es = decode("{\"metadata\":{\"name\":\"a\"},\"addressType\":\"IPv4\","
                "\"endpoints\":[{\"addresses\":[\"10.0.0.1\",\"bogus\","
                "\"10.0.0.2\",\"10.0.0.3\"],\"conditions\":"
                "{\"ready\":false,\"serving\":false}}]}", &err);
    assert_non_null(es);
    assert_int_equal(es->nendpoints, 1);
    assert_int_equal(es->endpoints[0].naddresses, 3);
    assert_string_equal(es->endpoints[0].addresses[0].text, "10.0.0.1");
    assert_string_equal(es->endpoints[0].addresses[1].text, "10.0.0.2");
    assert_string_equal(es->endpoints[0].addresses[2].text, "10.0.0.3");
    assert_false(es->endpoints[0].ready);
    assert_false(es->endpoints[0].serving);
    assert_false(es->endpoints[0].terminating);
    assert_true(has_warning(es, "addresses[1] \"bogus\""));
    kube_endpointslice_free(es);
}


static void
test_fqdn(void **state)
{
    kube_err_t             err;
    kube_endpointslice_t  *es;

    (void) state;

    es = decode("{\"metadata\":{\"name\":\"a\"},\"addressType\":\"FQDN\","
                "\"endpoints\":[{\"addresses\":[\"db.example.com\"]},"
                "{\"addresses\":[\"bad name\"]}]}", &err);
    assert_non_null(es);
    assert_int_equal(es->address_type, KUBE_ADDR_FQDN);
    assert_int_equal(es->nendpoints, 1);
    assert_int_equal(es->endpoints[0].addresses[0].family, 0);
    assert_true(has_warning(es, "\"bad name\" is not a valid FQDN"));
    kube_endpointslice_free(es);
}


static void
test_errors(void **state)
{
    kube_err_t  err;

    (void) state;

    assert_null(decode("[1,2]", &err));
    assert_string_equal(err.msg, "EndpointSlice: not a JSON object");

    assert_null(decode("{\"addressType\":\"IPv4\"}", &err));
    assert_non_null(strstr(err.msg, "\"metadata\""));

    assert_null(decode("{\"metadata\":{\"namespace\":\"x\"}}", &err));
    assert_non_null(strstr(err.msg, "metadata.name"));

    assert_null(decode("{\"metadata\":{\"name\":\"\"}}", &err));
    assert_non_null(strstr(err.msg, "metadata.name"));

    assert_null(decode("{\"metadata\":{\"name\":7}}", &err));
    assert_non_null(strstr(err.msg, "metadata.name"));

    assert_null(decode("{\"metadata\":", &err));
    assert_non_null(strstr(err.msg, "invalid JSON"));

    assert_null(kube_endpointslice_decode(NULL, NULL, &err));
    kube_endpointslice_free(NULL);
}


static void
test_trigger_time(void **state)
{
    kube_err_t             err;
    kube_endpointslice_t  *es;
    int64_t                ms;

    (void) state;

    assert_int_equal(kube_parse_rfc3339_ms("1970-01-01T00:00:00Z", &ms), 0);
    assert_true(ms == 0);
    assert_int_equal(kube_parse_rfc3339_ms("1970-01-01T00:00:01.5Z", &ms),
                     0);
    assert_true(ms == 1500);
    assert_int_equal(kube_parse_rfc3339_ms("1970-01-01T02:00:00+02:00",
                                           &ms), 0);
    assert_true(ms == 0);
    assert_int_equal(kube_parse_rfc3339_ms("2000-02-29T12:00:00.123456789Z",
                                           &ms), 0);
    assert_true(ms == INT64_C(951825600123));
    assert_int_equal(kube_parse_rfc3339_ms("2000-02-29", &ms), -1);
    assert_int_equal(kube_parse_rfc3339_ms("2000-02-29T12:00:00", &ms), -1);
    assert_int_equal(kube_parse_rfc3339_ms("2000-13-01T00:00:00Z", &ms), -1);

    es = decode("{\"metadata\":{\"name\":\"a\",\"annotations\":{"
                "\"endpoints.kubernetes.io/last-change-trigger-time\":"
                "\"yesterday\"}}}", &err);
    assert_non_null(es);
    assert_false(es->has_trigger_time);
    assert_true(has_warning(es, "last-change-trigger-time"));
    kube_endpointslice_free(es);
}


static void
test_warning_cap(void **state)
{
    char                   buf[8192];
    size_t                 n, i;
    kube_err_t             err;
    kube_endpointslice_t  *es;

    (void) state;

    n = (size_t) snprintf(buf, sizeof(buf), "{\"metadata\":{\"name\":\"a\"},"
                          "\"addressType\":\"IPv4\",\"ports\":[");
    for (i = 0; i < 40; i++) {
        n += (size_t) snprintf(buf + n, sizeof(buf) - n, "%s{\"port\":0}",
                               i ? "," : "");
    }
    snprintf(buf + n, sizeof(buf) - n, "]}");

    es = decode(buf, &err);
    assert_non_null(es);
    assert_int_equal(es->nports, 0);
    assert_int_equal(es->nwarnings, KUBE_ES_MAX_WARNINGS);
    assert_int_equal(es->nwarnings_dropped, 40 - KUBE_ES_MAX_WARNINGS);
    kube_endpointslice_free(es);
}


/*
 * Type confusion: every value in the example replaced in turn by each
 * JSON type; decoding must either fail cleanly or give a sane result.
 */
static size_t  mutations;

static void
mutate_walk(json_t *root, json_t *node)
{
    size_t       i, k;
    json_t      *child, *saved, *repl[6];
    const char  *key;
    void        *tmp;

    repl[0] = json_null();
    repl[1] = json_integer(70000);
    repl[2] = json_string("::1");
    repl[3] = json_array();
    repl[4] = json_object();
    repl[5] = json_true();

    if (json_is_object(node)) {
        json_object_foreach_safe(node, tmp, key, child) {
            saved = json_incref(child);
            mutate_walk(root, child);
            for (k = 0; k < 6; k++) {
                kube_err_t             err;
                kube_endpointslice_t  *es;

                json_object_set(node, key, repl[k]);
                es = kube_endpointslice_decode(root, NULL, &err);
                if (es == NULL) {
                    assert_true(err.msg[0] != '\0');
                } else {
                    for (i = 0; i < es->nendpoints; i++) {
                        assert_true(es->endpoints[i].naddresses > 0);
                    }
                    for (i = 0; i < es->nports; i++) {
                        assert_true(!es->ports[i].has_port
                                    || es->ports[i].port > 0);
                    }
                }
                kube_endpointslice_free(es);
                mutations++;
            }
            json_object_set(node, key, saved);
            json_decref(saved);
        }

    } else if (json_is_array(node)) {
        json_array_foreach(node, i, child) {
            saved = json_incref(child);
            mutate_walk(root, child);
            for (k = 0; k < 6; k++) {
                kube_err_t             err;
                kube_endpointslice_t  *es;

                json_array_set(node, i, repl[k]);
                es = kube_endpointslice_decode(root, NULL, &err);
                kube_endpointslice_free(es);
                mutations++;
            }
            json_array_set(node, i, saved);
            json_decref(saved);
        }
    }

    for (k = 0; k < 6; k++) {
        json_decref(repl[k]);
    }
}


static void
test_type_confusion(void **state)
{
    json_t  *root;

    (void) state;

    root = json_loads(full_slice, 0, NULL);
    assert_non_null(root);
    mutate_walk(root, root);
    assert_true(mutations > 200);
    json_decref(root);
}


/* custom allocator: everything goes through it and comes back */
static size_t  live_blocks;

static void *
count_alloc(void *ctx, size_t size)
{
    (void) ctx;
    live_blocks++;
    return test_malloc(size);
}


static void
count_free(void *ctx, void *p)
{
    (void) ctx;
    live_blocks--;
    test_free(p);
}


static void
test_allocator(void **state)
{
    kube_err_t             err;
    kube_allocator_t       a = { count_alloc, count_free, NULL };
    kube_endpointslice_t  *es;

    (void) state;

    es = kube_endpointslice_decode_text(full_slice, strlen(full_slice), &a,
                                        &err);
    assert_non_null(es);
    assert_true(live_blocks > 0);
    assert_string_equal(es->endpoints[1].addresses[0].text, "10.244.2.9");
    kube_endpointslice_free(es);
    assert_int_equal(live_blocks, 0);
}


/*
 * kube_endpointslice_encode(): what endpoint selection and the status
 * read survives an encode/decode round trip (the zone's slice cache).
 */
static void
test_encode_roundtrip(void **state)
{
    char                  *text;
    size_t                 len, i;
    kube_err_t             err;
    kube_endpointslice_t  *a, *b;

    (void) state;

    a = decode(full_slice, &err);
    assert_non_null(a);

    text = kube_endpointslice_encode(a, &len);
    assert_non_null(text);
    assert_int_equal(len, strlen(text));

    b = kube_endpointslice_decode_text(text, len, NULL, &err);
    assert_non_null(b);
    free(text);

    assert_string_equal(b->name, "web-7xk2p");
    assert_string_equal(b->ns, "shop");
    assert_string_equal(b->service_name, "web");
    assert_int_equal(b->address_type, KUBE_ADDR_IPV4);
    assert_true(b->has_trigger_time);
    assert_int_equal(b->trigger_time_ms, a->trigger_time_ms);

    assert_int_equal(b->nports, 1);
    assert_string_equal(b->ports[0].name, "http");
    assert_string_equal(b->ports[0].protocol, "TCP");
    assert_string_equal(b->ports[0].app_protocol, "http");
    assert_int_equal(b->ports[0].port, 8080);

    assert_int_equal(b->nendpoints, a->nendpoints);

    for (i = 0; i < a->nendpoints; i++) {
        assert_string_equal(b->endpoints[i].addresses[0].text,
                            a->endpoints[i].addresses[0].text);
        assert_int_equal(b->endpoints[i].ready, a->endpoints[i].ready);
        assert_int_equal(b->endpoints[i].serving, a->endpoints[i].serving);
        assert_int_equal(b->endpoints[i].terminating,
                         a->endpoints[i].terminating);
        assert_string_equal(b->endpoints[i].node_name,
                            a->endpoints[i].node_name);
        assert_string_equal(b->endpoints[i].zone, a->endpoints[i].zone);
        assert_int_equal(b->endpoints[i].nfor_zones,
                         a->endpoints[i].nfor_zones);
    }

    assert_string_equal(b->endpoints[0].target_kind, "Pod");
    assert_string_equal(b->endpoints[0].target_name, "web-5d8f9-abcde");
    assert_string_equal(b->endpoints[0].for_zones[0], "eu-west-1a");
    assert_null(b->endpoints[1].target_name);

    kube_endpointslice_free(a);
    kube_endpointslice_free(b);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_null_absent_empty),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_invalid_ip),
        cmocka_unit_test(test_port_range),
        cmocka_unit_test(test_missing_service_label),
        cmocka_unit_test(test_multi_address),
        cmocka_unit_test(test_fqdn),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_trigger_time),
        cmocka_unit_test(test_warning_cap),
        cmocka_unit_test(test_type_confusion),
        cmocka_unit_test(test_allocator),
        cmocka_unit_test(test_encode_roundtrip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
