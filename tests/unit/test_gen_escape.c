/*
 * Unit tests: the generator's quoting and validation helpers
 * (generator/escape.c, names.c name rules, variables.c, addr.c,
 * resolver.c).  Each check is tested at the edge where it is written, so
 * that loosening one fails here, not only in an end-to-end render.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "escape.h"


static char *
rep(char c, size_t n)
{
    static char  buf[8][2048];
    static int   next;
    char        *b = buf[next++ % 8];

    assert_true(n < sizeof(buf[0]));
    memset(b, c, n);
    b[n] = '\0';

    return b;
}


/* every string of good passes check, every one of bad fails, saying why */
typedef int (*check_pt)(const char *s, const char **why);

static void
expect(check_pt check, const char *const *good, const char *const *bad)
{
    const char  *why;
    int          i;

    for (i = 0; good && good[i]; i++) {
        why = NULL;
        if (check(good[i], &why) != 0) {
            fail_msg("\"%s\" refused: %s", good[i], why);
        }
    }

    for (i = 0; bad && bad[i]; i++) {
        why = NULL;
        if (check(bad[i], &why) == 0) {
            fail_msg("\"%s\" accepted", bad[i]);
        }
        assert_non_null(why);
    }
}


static int
host_check(const char *s, const char **why)
{
    char  out[256];

    return kngx_host_check(s, out, sizeof(out), why);
}


/* ---- nginx quoting -------------------------------------------------------- */

static void
test_ngx_quote_escapes(void **state)
{
    char  out[64];

    (void) state;

    assert_int_equal(kngx_ngx_quote("/a", out, sizeof(out)), 4);
    assert_string_equal(out, "\"/a\"");

    /* the quote and the backslash are escaped, nothing else is */
    assert_int_equal(kngx_ngx_quote("a\"b", out, sizeof(out)), 6);
    assert_string_equal(out, "\"a\\\"b\"");
    assert_int_equal(kngx_ngx_quote("a\\b", out, sizeof(out)), 6);
    assert_string_equal(out, "\"a\\\\b\"");
    assert_int_equal(kngx_ngx_quote("\"\\\"", out, sizeof(out)), 8);
    assert_string_equal(out, "\"\\\"\\\\\\\"\"");
    assert_int_equal(kngx_ngx_quote("'", out, sizeof(out)), 3);
    assert_string_equal(out, "\"'\"");
    assert_int_equal(kngx_ngx_quote("", out, sizeof(out)), 2);
    assert_string_equal(out, "\"\"");
}


static void
test_ngx_quote_refuses(void **state)
{
    static const char  *bad[] = {
        "$host", "a{", "a}", "a;b", "a\nb", "a\rb", "a\tb", "\x7f",
        "\x80", "caf\xc3\xa9", "\x01", NULL
    };
    char                out[64];
    int                 i;

    (void) state;

    for (i = 0; bad[i]; i++) {
        assert_false(kngx_ngx_safe(bad[i]));
        assert_int_equal(kngx_ngx_quote(bad[i], out, sizeof(out)), -1);
    }

    assert_true(kngx_ngx_safe("a \"b\" \\ # ' ( ) * ~"));

    /* too small: refused, never cut, never written past size */
    memset(out, 'X', sizeof(out));
    assert_int_equal(kngx_ngx_quote("abcd", out, 6), -1);
    assert_int_equal(out[6], 'X');
    assert_int_equal(kngx_ngx_quote("abc", out, 8), 5);
    assert_string_equal(out, "\"abc\"");
    assert_int_equal(kngx_ngx_quote("a\"\"\"", out, 8), -1);
    assert_int_equal(out[8], 'X');
    assert_int_equal(kngx_ngx_quote("a", out, 2), -1);
}


static void
test_msg_quote(void **state)
{
    const char  *q;

    (void) state;

    assert_string_equal(kngx_msg_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
    assert_string_equal(kngx_msg_quote("x\ny\x7f\xff"),
                        "\"x\\x0ay\\x7f\\xff\"");
    assert_string_equal(kngx_msg_quote(NULL), "(null)");

    q = kngx_msg_quote(rep('a', 500));
    assert_true(strlen(q) < 128);
    assert_non_null(strstr(q, "...\""));

    /* rotating buffers: several in one printf */
    q = kngx_msg_quote("one");
    assert_string_equal(kngx_msg_quote("two"), "\"two\"");
    assert_string_equal(q, "\"one\"");
}


/* ---- hosts, paths, DNS names ---------------------------------------------- */

static void
test_host_check(void **state)
{
    static const char  *good[] = {
        "a.example.com", "x", "*.example.com", "*.a.b.c", "a-b.c-d",
        "123.example.com", "xn--bcher-kva.example", NULL
    };
    static const char  *bad[] = {
        "", "*", "*.com", "*.x", "**.example.com", "a.*.example.com",
        "*a.example.com", "a*.example.com", ".a.com", "a..com", "a.com.",
        "-a.com", "a-.com", "a_b.com", "a b.com", "a;b.com", "a\"b.com",
        "a\\b.com", "a{b}.com", "$host", "~^x$", "1.2.3.4", "10.0.0.1",
        "a.com:80", "caf\xc3\xa9.com", "a\nb.com", NULL
    };
    char                out[256], want[300];
    const char         *why;

    (void) state;

    expect(host_check, good, bad);

    assert_int_equal(kngx_host_check("A.Example.COM", out, sizeof(out),
                                     &why), 0);
    assert_string_equal(out, "a.example.com");

    assert_int_equal(kngx_host_check("*.com", out, sizeof(out), &why), -1);
    assert_non_null(strstr(why, "two labels"));

    /* labels of 63, names of 253 */
    snprintf(want, sizeof(want), "%s.com", rep('a', 63));
    assert_int_equal(kngx_host_check(want, out, sizeof(out), &why), 0);
    snprintf(want, sizeof(want), "%s.com", rep('a', 64));
    assert_int_equal(kngx_host_check(want, out, sizeof(out), &why), -1);
    snprintf(want, sizeof(want), "%s.%s.%s.%s", rep('a', 63), rep('b', 63),
             rep('c', 63), rep('d', 61));
    assert_int_equal(strlen(want), 253);
    assert_int_equal(kngx_host_check(want, out, sizeof(out), &why), 0);
    snprintf(want, sizeof(want), "%s.%s.%s.%s", rep('a', 63), rep('b', 63),
             rep('c', 63), rep('d', 62));
    assert_int_equal(kngx_host_check(want, out, sizeof(out), &why), -1);
}


static void
test_path_check(void **state)
{
    static const char  *good[] = {
        "/", "/a", "/a/", "/a/b", "/A-Z_a.z~0!&()*+,=:@", "/a.b/c..d",
        "/...", "/.well-known/x", NULL
    };
    static const char  *bad[] = {
        "", "a", "//", "/a//b", "/a/./b", "/a/../b", "/.", "/..", "/a/.",
        "/a b", "/a\tb", "/a\nb", "/a\"b", "/a'b", "/a\\b", "/a;b",
        "/a{b", "/a}b", "/a$b", "/a#b", "/a%2fb", "/a?b", "/a<b", "/a>b",
        "/a[b", "/a]b", "/a^b", "/a|b", "/a`b", "/caf\xc3\xa9", "/\x01",
        "/\x7f", NULL
    };
    const char         *why;
    char                p[1100];

    (void) state;

    expect(kngx_path_check, good, bad);

    p[0] = '/';
    memcpy(p + 1, rep('a', 1023), 1024);
    assert_int_equal(kngx_path_check(p, &why), 0);
    memcpy(p + 1, rep('a', 1024), 1025);
    assert_int_equal(kngx_path_check(p, &why), -1);
}


static void
test_dns_name_check(void **state)
{
    const char  *why;

    (void) state;

    assert_int_equal(kngx_dns_name_check("db.example.com", &why), 0);
    assert_int_equal(kngx_dns_name_check("db.example.com.", &why), 0);
    assert_int_equal(kngx_dns_name_check("DB.Example.com", &why), 0);
    assert_int_equal(kngx_dns_name_check("*.example.com", &why), -1);
    assert_int_equal(kngx_dns_name_check("db..example.com", &why), -1);
    assert_int_equal(kngx_dns_name_check("db.example.com..", &why), -1);
    assert_int_equal(kngx_dns_name_check("a b", &why), -1);
    assert_int_equal(kngx_dns_name_check("", &why), -1);
}


/* ---- the API server's name rules ------------------------------------------ */

static void
test_name_rules(void **state)
{
    const char  *why;
    char         buf[300];

    (void) state;

    /* namespaces: DNS-1123 labels */
    assert_int_equal(kngx_name_check(KNGX_NAME_LABEL, "team-a", &why), 0);
    assert_int_equal(kngx_name_check(KNGX_NAME_LABEL, "0team", &why), 0);
    assert_int_equal(kngx_name_check(KNGX_NAME_LABEL, rep('a', 63), &why),
                     0);
    assert_int_equal(kngx_name_check(KNGX_NAME_LABEL, rep('a', 64), &why),
                     -1);
    assert_int_equal(kngx_name_check(KNGX_NAME_LABEL, "", &why), -1);
    assert_int_equal(kngx_name_check(KNGX_NAME_LABEL, "a.b", &why), -1);
    assert_int_equal(kngx_name_check(KNGX_NAME_LABEL, "a_b", &why), -1);
    assert_int_equal(kngx_name_check(KNGX_NAME_LABEL, "Ab", &why), -1);
    assert_int_equal(kngx_name_check(KNGX_NAME_LABEL, "-a", &why), -1);
    assert_int_equal(kngx_name_check(KNGX_NAME_LABEL, "a-", &why), -1);
    assert_int_equal(kngx_name_check(KNGX_NAME_LABEL, "a\nb", &why), -1);

    /* Services: DNS-1035 labels (a letter first) */
    assert_int_equal(kngx_name_check(KNGX_NAME_LABEL_1035, "web-1", &why),
                     0);
    assert_int_equal(kngx_name_check(KNGX_NAME_LABEL_1035, "1web", &why),
                     -1);
    assert_int_equal(kngx_name_check(KNGX_NAME_LABEL_1035, rep('w', 64),
                                     &why), -1);

    /* most objects: DNS-1123 subdomains */
    assert_int_equal(kngx_name_check(KNGX_NAME_SUBDOMAIN, "tls.example.com",
                                     &why), 0);
    assert_int_equal(kngx_name_check(KNGX_NAME_SUBDOMAIN, "123", &why), 0);
    assert_int_equal(kngx_name_check(KNGX_NAME_SUBDOMAIN, "a-.b", &why),
                     -1);
    assert_int_equal(kngx_name_check(KNGX_NAME_SUBDOMAIN, "a.-b", &why),
                     -1);
    assert_int_equal(kngx_name_check(KNGX_NAME_SUBDOMAIN, "a..b", &why),
                     -1);
    assert_int_equal(kngx_name_check(KNGX_NAME_SUBDOMAIN, ".a", &why), -1);
    assert_int_equal(kngx_name_check(KNGX_NAME_SUBDOMAIN, "a.", &why), -1);
    assert_int_equal(kngx_name_check(KNGX_NAME_SUBDOMAIN, "A", &why), -1);
    snprintf(buf, sizeof(buf), "%s.%s.%s.%s", rep('a', 63), rep('b', 63),
             rep('c', 63), rep('d', 61));
    assert_int_equal(kngx_name_check(KNGX_NAME_SUBDOMAIN, buf, &why), 0);
    strcat(buf, "d");
    assert_int_equal(kngx_name_check(KNGX_NAME_SUBDOMAIN, buf, &why), -1);
    /* a subdomain label may be longer than 63 (IsDNS1123Subdomain) */
    assert_int_equal(kngx_name_check(KNGX_NAME_SUBDOMAIN, rep('s', 100),
                                     &why), 0);

    /* named ports: IANA service names */
    assert_int_equal(kngx_name_check(KNGX_NAME_PORT, "http", &why), 0);
    assert_int_equal(kngx_name_check(KNGX_NAME_PORT, "h2c-1", &why), 0);
    assert_int_equal(kngx_name_check(KNGX_NAME_PORT, rep('p', 15), &why), 0);
    assert_int_equal(kngx_name_check(KNGX_NAME_PORT, rep('p', 16), &why),
                     -1);
    assert_int_equal(kngx_name_check(KNGX_NAME_PORT, "80", &why), -1);
    assert_int_equal(kngx_name_check(KNGX_NAME_PORT, "a--b", &why), -1);
    assert_int_equal(kngx_name_check(KNGX_NAME_PORT, "-http", &why), -1);
}


/* ---- nginx variables ------------------------------------------------------ */

static void
test_variables(void **state)
{
    static const char  *good[] = {
        "$request_uri", "$remote_addr", "$host$uri", "tenant-$arg_t",
        "$cookie_session", "$http_x_user", "$HTTP_X_USER", "$Request_URI",
        "$binary_remote_addr", "$ssl_client_s_dn", "$sent_http_x",
        "$upstream_http_x", "$kubengx_host", "a.b:c/d-e_f", "$realip_remote_addr",
        "$args", "$arg_a$arg_b", NULL
    };
    static const char  *bad[] = {
        "", "$", "$1", "$1abc", "${uri}", "$uri;", "$uri x", "$uri\"",
        "'$uri'", "$uri\\n", "a{b}", "$nosuchvar", "$http_", "$cookie_",
        "$arg_", "$geoip_country_code", "$kubengx_external", "$request_urix",
        "$upstream_queue_time", "$proxy_protocol_tlv_x", NULL
    };
    const char         *why;
    char                key[300];

    (void) state;

    expect(kngx_hash_key_check, good, bad);

    assert_int_equal(kngx_hash_key_check("$nosuchvar", &why), -1);
    assert_non_null(strstr(why, "$nosuchvar"));

    assert_true(kngx_ngx_variable_known("uri", 3));
    assert_false(kngx_ngx_variable_known("ur", 2));
    assert_true(kngx_ngx_variable_known("http_host", 9));
    assert_true(kngx_ngx_variable_known("http_x", 6));
    assert_false(kngx_ngx_variable_known("http_", 5));

    memcpy(key, rep('a', 256), 257);
    assert_int_equal(kngx_hash_key_check(key, &why), 0);
    memcpy(key, rep('a', 257), 258);
    assert_int_equal(kngx_hash_key_check(key, &why), -1);
}


/* ---- addresses ------------------------------------------------------------ */

static void
test_external_name_addresses(void **state)
{
    static const char  *loopback[] = {
        "127.0.0.1", "127.1", "0x7f.0.0.1", "0x7f.1", "0X7F.1",
        "2130706433", "0177.0.0.1", "0177.1", "0x7f000001",
        "017700000001", "127.255.255.254", "0x7f.0x0.0x0.0x1",
        "127.0.0.1.", "0x7f.1.", NULL
    };
    static const char  *other[] = {
        "0", "0.0.0.0", "0x0", "169.254.169.254", "0xa9.0xfe.0xa9.0xfe",
        "2852039166", "224.0.0.1", "239.255.255.250", "255.255.255.255",
        "0xffffffff", "4294967295", "10.0.0.1", "0xa.1", NULL
    };
    static const char  *names[] = {
        "localhost", "LOCALHOST", "localhost.", "a.localhost",
        "foo.bar.localhost", "Foo.LocalHost.", "ip6-localhost",
        "ip6-loopback", "localhost.localdomain", NULL
    };
    static const char  *fine[] = {
        "db.example.com", "DB.Example.COM", "db.example.com.",
        "localhost.example.com", "mylocalhost", "x127.0.0.1", "cafe.be",
        "0x7f.example.com", "1.example.com", NULL
    };
    const char         *why;
    int                 i;

    (void) state;

    for (i = 0; loopback[i]; i++) {
        why = NULL;
        if (kngx_external_name_check(loopback[i], &why) == 0) {
            fail_msg("%s accepted", loopback[i]);
        }
        if (strstr(why, "127.") == NULL || strstr(why, "loopback") == NULL) {
            fail_msg("%s: %s", loopback[i], why);
        }
    }

    for (i = 0; other[i]; i++) {
        why = NULL;
        if (kngx_external_name_check(other[i], &why) == 0) {
            fail_msg("%s accepted", other[i]);
        }
        assert_non_null(strstr(why, "IPv4 address"));
    }

    assert_int_equal(kngx_external_name_check("0x0a.1", &why), -1);
    assert_non_null(strstr(why, "10.0.0.1"));
    assert_null(strstr(why, "loopback"));
    assert_int_equal(kngx_external_name_check("169.254.169.254", &why), -1);
    assert_non_null(strstr(why, "link-local"));

    for (i = 0; names[i]; i++) {
        why = NULL;
        if (kngx_external_name_check(names[i], &why) == 0) {
            fail_msg("%s accepted", names[i]);
        }
        assert_non_null(strstr(why, "localhost"));
    }

    expect(kngx_external_name_check, fine, NULL);

    assert_int_equal(kngx_external_name_check("*.example.com", &why), -1);
    assert_int_equal(kngx_external_name_check("a b.com", &why), -1);
    assert_int_equal(kngx_external_name_check("", &why), -1);
}


static void
test_addr_forbidden(void **state)
{
    static const struct {
        int          family;
        const char  *addr;
        int          forbidden;
    } t[] = {
        { AF_INET, "127.0.0.1", 1 }, { AF_INET, "127.9.9.9", 1 },
        { AF_INET, "0.0.0.0", 1 }, { AF_INET, "0.1.2.3", 1 },
        { AF_INET, "169.254.0.1", 1 }, { AF_INET, "224.0.0.1", 1 },
        { AF_INET, "239.1.1.1", 1 }, { AF_INET, "240.0.0.1", 1 },
        { AF_INET, "255.255.255.255", 1 }, { AF_INET, "10.0.0.1", 0 },
        { AF_INET, "169.253.0.1", 0 }, { AF_INET, "126.255.255.255", 0 },
        { AF_INET, "223.255.255.255", 0 }, { AF_INET, "1.1.1.1", 0 },
        { AF_INET6, "::", 1 }, { AF_INET6, "::1", 1 },
        { AF_INET6, "fe80::1", 1 }, { AF_INET6, "febf::1", 1 },
        { AF_INET6, "ff02::1", 1 }, { AF_INET6, "::ffff:127.0.0.1", 1 },
        { AF_INET6, "::ffff:169.254.169.254", 1 },
        { AF_INET6, "::127.0.0.1", 1 }, { AF_INET6, "::ffff:10.0.0.1", 0 },
        { AF_INET6, "fd00::1", 0 }, { AF_INET6, "fec0::1", 0 },
        { AF_INET6, "2001:db8::1", 0 },
    };
    unsigned char  a[16];
    size_t         i;

    (void) state;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        assert_int_equal(inet_pton(t[i].family, t[i].addr, a), 1);
        if (kngx_addr_forbidden(t[i].family, a) != t[i].forbidden) {
            fail_msg("%s: expected %d", t[i].addr, t[i].forbidden);
        }
    }
}


/* ---- the resolver --------------------------------------------------------- */

static void
test_resolver(void **state)
{
    char         out[256];
    const char  *why;

    (void) state;

    assert_int_equal(kngx_resolver_parse("10.0.0.10", out, sizeof(out),
                                         &why), 0);
    assert_string_equal(out, "10.0.0.10");
    assert_int_equal(kngx_resolver_parse("10.0.0.10:5353,fd00::a,"
                                         "[fd00::b]:53,[::1]", out,
                                         sizeof(out), &why), 0);
    assert_string_equal(out, "10.0.0.10:5353 [fd00::a] [fd00::b]:53 [::1]");

    assert_int_equal(kngx_resolver_parse("dns.example.com", out,
                                         sizeof(out), &why), -1);
    assert_int_equal(kngx_resolver_parse("10.0.0.10;", out, sizeof(out),
                                         &why), -1);
    assert_int_equal(kngx_resolver_parse("10.0.0.10:0", out, sizeof(out),
                                         &why), -1);
    assert_int_equal(kngx_resolver_parse("10.0.0.10:65536", out,
                                         sizeof(out), &why), -1);
    assert_int_equal(kngx_resolver_parse("10.0.0.10:", out, sizeof(out),
                                         &why), -1);
    assert_int_equal(kngx_resolver_parse("", out, sizeof(out), &why), -1);
    assert_int_equal(kngx_resolver_parse("1.2.3.4,", out, sizeof(out),
                                         &why), -1);
    assert_int_equal(kngx_resolver_parse("[fd00::1", out, sizeof(out),
                                         &why), -1);
    assert_int_equal(kngx_resolver_parse("0x7f.1", out, sizeof(out), &why),
                     -1);

    assert_int_equal(kngx_resolv_conf_parse(
        "# comment\nsearch svc.cluster.local\n"
        "nameserver 10.96.0.10\n"
        "nameserver\tfd00::10 # trailing\n"
        "nameserver fe80::1%eth0\n"
        "nameserver dns.example\n"
        "nameservers 1.1.1.1\n"
        "options ndots:5\n", out, sizeof(out)), 0);
    assert_string_equal(out, "10.96.0.10 [fd00::10]");

    assert_int_equal(kngx_resolv_conf_parse("search x\n", out, sizeof(out)),
                     -1);
    assert_int_equal(kngx_resolv_conf_read("/nonexistent/resolv.conf", out,
                                           sizeof(out)), -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_ngx_quote_escapes),
        cmocka_unit_test(test_ngx_quote_refuses),
        cmocka_unit_test(test_msg_quote),
        cmocka_unit_test(test_host_check),
        cmocka_unit_test(test_path_check),
        cmocka_unit_test(test_dns_name_check),
        cmocka_unit_test(test_name_rules),
        cmocka_unit_test(test_variables),
        cmocka_unit_test(test_external_name_addresses),
        cmocka_unit_test(test_addr_forbidden),
        cmocka_unit_test(test_resolver),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
