/*
 * Unit tests: kube/kube_service.c (a Service's ports, and the
 * EndpointSlice port that serves a Service port).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kube_service.h"


/* the commonest Service: one unnamed port, targetPort != port */
static const char *unnamed =
    "{\"apiVersion\":\"v1\",\"kind\":\"Service\","
    "\"metadata\":{\"name\":\"backend\",\"namespace\":\"default\"},"
    "\"spec\":{\"selector\":{\"app\":\"backend\"},"
    "\"ports\":[{\"port\":80,\"targetPort\":8080}]}}";

/* several named ports, a UDP one with the same number as a TCP one */
static const char *named =
    "{\"metadata\":{\"name\":\"dns\",\"namespace\":\"kube-system\"},"
    "\"spec\":{\"ports\":["
    "{\"name\":\"dns\",\"port\":53,\"protocol\":\"UDP\",\"targetPort\":53},"
    "{\"name\":\"dns-tcp\",\"port\":53,\"protocol\":\"TCP\","
    "\"targetPort\":\"dns-tcp\"},"
    "{\"name\":\"metrics\",\"port\":9153,\"protocol\":\"TCP\"},"
    "{\"name\":\"broken\",\"port\":0}]}}";


static kube_service_t *
decode(const char *text)
{
    kube_err_t       err;
    kube_service_t  *svc;

    svc = kube_service_decode_text(text, strlen(text), NULL, &err);
    if (svc == NULL) {
        fail_msg("decode: %s", err.msg);
    }

    return svc;
}


/* the slice port name a selector text resolves to, or "(none)" */
static const char *
resolve(kube_service_t *svc, const char *selector)
{
    kube_err_t            err;
    kube_port_selector_t  sel, out;

    assert_int_equal(kube_port_selector_parse(selector, strlen(selector),
                                              &sel, &err), 0);

    if (kube_service_resolve(svc, &sel, &out) != 0) {
        return "(none)";
    }

    assert_int_equal(out.kind, KUBE_PORTSEL_NAME);

    return out.name;
}


static void
test_unnamed_port(void **state)
{
    kube_service_t  *svc;

    (void) state;

    svc = decode(unnamed);

    assert_string_equal(svc->name, "backend");
    assert_string_equal(svc->ns, "default");
    assert_int_equal(svc->nports, 1);
    assert_int_equal(svc->ports[0].port, 80);
    assert_string_equal(svc->ports[0].name, "");
    assert_string_equal(svc->ports[0].protocol, "TCP");

    /* port=80 (an Ingress port.number) and no port= both mean "" */
    assert_string_equal(resolve(svc, "80"), "");
    assert_string_equal(resolve(svc, ""), "");

    /* the targetPort is not a Service port */
    assert_string_equal(resolve(svc, "8080"), "(none)");
    assert_string_equal(resolve(svc, "http"), "(none)");

    kube_service_free(svc);
}


static void
test_named_ports(void **state)
{
    kube_service_t  *svc;

    (void) state;

    svc = decode(named);

    /* the entry without a valid port is left out */
    assert_int_equal(svc->nports, 3);

    assert_string_equal(resolve(svc, "53"), "dns-tcp");
    assert_string_equal(resolve(svc, "dns-tcp"), "dns-tcp");
    assert_string_equal(resolve(svc, "9153"), "metrics");
    assert_string_equal(resolve(svc, "metrics"), "metrics");

    /* UDP only with sel.proto UDP; a multi-port Service has no unnamed
     * port */
    assert_string_equal(resolve(svc, "dns"), "(none)");
    assert_string_equal(resolve(svc, ""), "(none)");
    assert_string_equal(resolve(svc, "broken"), "(none)");

    kube_service_free(svc);
}


/* protocol=udp (the stream module): the UDP ports only */
static void
test_udp_ports(void **state)
{
    kube_err_t            err;
    kube_service_t       *svc;
    kube_port_selector_t  sel, out;

    (void) state;

    svc = decode(named);

    assert_int_equal(kube_port_selector_parse("53", 2, &sel, &err), 0);
    sel.proto = KUBE_PROTO_UDP;
    assert_int_equal(kube_service_resolve(svc, &sel, &out), 0);
    assert_string_equal(out.name, "dns");
    assert_int_equal(out.proto, KUBE_PROTO_UDP);

    assert_int_equal(kube_port_selector_parse("dns", 3, &sel, &err), 0);
    sel.proto = KUBE_PROTO_UDP;
    assert_int_equal(kube_service_resolve(svc, &sel, &out), 0);
    assert_string_equal(out.name, "dns");

    /* a TCP port is not a UDP one, whatever its number or name */
    assert_int_equal(kube_port_selector_parse("dns-tcp", 7, &sel, &err), 0);
    sel.proto = KUBE_PROTO_UDP;
    assert_int_equal(kube_service_resolve(svc, &sel, &out), -1);
    assert_int_equal(kube_port_selector_parse("9153", 4, &sel, &err), 0);
    sel.proto = KUBE_PROTO_UDP;
    assert_int_equal(kube_service_resolve(svc, &sel, &out), -1);

    /* the default stays TCP */
    assert_int_equal(kube_port_selector_parse("53", 2, &sel, &err), 0);
    assert_int_equal(kube_service_resolve(svc, &sel, &out), 0);
    assert_int_equal(out.proto, KUBE_PROTO_TCP);

    kube_service_free(svc);
}


static void
test_encode_roundtrip(void **state)
{
    char            *text;
    size_t           len, i;
    kube_service_t  *a, *b;

    (void) state;

    a = decode(named);

    text = kube_service_encode(a, &len);
    assert_non_null(text);
    assert_int_equal(len, strlen(text));

    b = decode(text);
    free(text);

    assert_string_equal(b->name, a->name);
    assert_string_equal(b->ns, a->ns);
    assert_int_equal(b->nports, a->nports);

    for (i = 0; i < a->nports; i++) {
        assert_string_equal(b->ports[i].name, a->ports[i].name);
        assert_string_equal(b->ports[i].protocol, a->ports[i].protocol);
        assert_int_equal(b->ports[i].port, a->ports[i].port);
        assert_int_equal(b->ports[i].proto, a->ports[i].proto);
    }

    kube_service_free(a);
    kube_service_free(b);
}


static void
test_errors(void **state)
{
    kube_err_t  err;

    (void) state;

    assert_null(kube_service_decode_text("[]", 2, NULL, &err));
    assert_non_null(strstr(err.msg, "metadata.name"));
    assert_null(kube_service_decode_text("{\"metadata\":{}}", 15, NULL,
                                         &err));
    assert_null(kube_service_decode_text("{", 1, NULL, &err));
    assert_non_null(strstr(err.msg, "invalid JSON"));
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unnamed_port),
        cmocka_unit_test(test_named_ports),
        cmocka_unit_test(test_udp_ports),
        cmocka_unit_test(test_encode_roundtrip),
        cmocka_unit_test(test_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
