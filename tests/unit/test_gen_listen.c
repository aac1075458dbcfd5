
/*
 * Unit tests: generator/render_listen.c.  The http, https and h2c listen
 * addresses for every --listen-address form (none, IPv4, IPv6 with and
 * without brackets, a name), h2c only when asked and with "http2",
 * proxy_protocol from use-proxy-protocol on every TCP listener, the
 * https hop of --enable-ssl-passthrough, and the addresses refused.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "render.h"
#include "settings/settings.h"


typedef struct {
    char  http[KNGX_LISTEN_SIZE];
    char  https[KNGX_LISTEN_HTTPS_SIZE];
    char  h2c[KNGX_LISTEN_SIZE];
} listens_t;


static const char *
listens(const char *addr, int h2c, const char *hop, int pp, listens_t *l)
{
    kngx_render_opts_t  o;
    kngx_settings_t     s;

    memset(&o, 0, sizeof(o));
    o.http_port = 8080;
    o.https_port = 8443;
    o.h2c_port = h2c;
    o.listen_address = addr;
    o.https_hop = hop;

    s = *kngx_settings_default();
    s.use_proxy_protocol = pp ? 1 : s.use_proxy_protocol;

    return kngx_render_listens(&o, &s, l->http, l->https, l->h2c);
}


static void
test_forms(void **state)
{
    static const struct {
        const char  *addr;
        const char  *http, *https, *h2c;
    } t[] = {
        { NULL, "8080", "8443", "8081 http2" },
        { "10.0.0.1", "10.0.0.1:8080", "10.0.0.1:8443",
          "10.0.0.1:8081 http2" },
        { "::", "[::]:8080", "[::]:8443", "[::]:8081 http2" },
        { "[::1]", "[::1]:8080", "[::1]:8443", "[::1]:8081 http2" },
        { "edge.example.com", "edge.example.com:8080",
          "edge.example.com:8443", "edge.example.com:8081 http2" },
    };
    listens_t  l;
    size_t     i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        assert_null(listens(t[i].addr, 8081, NULL, 0, &l));
        assert_string_equal(l.http, t[i].http);
        assert_string_equal(l.https, t[i].https);
        assert_string_equal(l.h2c, t[i].h2c);
    }

    /* no --h2c-port: no h2c listener */
    assert_null(listens("::", 0, NULL, 0, &l));
    assert_string_equal(l.h2c, "");
}


static void
test_proxy_protocol_and_hop(void **state)
{
    listens_t  l;

    assert_null(listens(NULL, 8081, NULL, 1, &l));
    assert_string_equal(l.http, "8080 proxy_protocol");
    assert_string_equal(l.https, "8443 proxy_protocol");
    assert_string_equal(l.h2c, "8081 http2 proxy_protocol");

    /* passthrough: the https servers behind the stream config's hop */
    assert_null(listens(NULL, 8081, "/run/k/kubengx-https.sock", 1, &l));
    assert_string_equal(l.https,
                        "unix:/run/k/kubengx-https.sock proxy_protocol");
    assert_string_equal(l.h2c, "8081 http2 proxy_protocol");

    assert_non_null(listens(NULL, 0, "run/relative.sock", 0, &l));
    assert_non_null(listens(NULL, 0, "/run/a b.sock", 0, &l));
}


static void
test_bad_addresses(void **state)
{
    static const char *const  bad[] = {
        "10.0.0.1;", "a b", "$host", "10.0.0.1 http2", "x\"y", "{",
    };
    char       longer[300];
    listens_t  l;
    size_t     i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_non_null(listens(bad[i], 8081, NULL, 0, &l));
    }

    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_non_null(listens(longer, 8081, NULL, 0, &l));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_proxy_protocol_and_hop),
        cmocka_unit_test(test_bad_addresses),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
