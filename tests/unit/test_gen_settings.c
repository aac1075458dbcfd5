/*
 * Unit tests: generator/settings/, the settings ConfigMap read into typed
 * fields.  Good values of each reader land normalized (a timeout in
 * seconds gets its "s", words single-spaced, round_robin is nginx's own);
 * every bad value is a warning naming the key and leaves its field
 * unset while the others apply; an absent ConfigMap is one warning and
 * the defaults; the edge defaults in the text.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "load.h"
#include "settings/settings.h"


static kngx_model_t *
model_of(const char *data_yaml)
{
    kngx_model_t  *m;
    char           doc[8192];
    int            n;

    n = snprintf(doc, sizeof(doc),
                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                 "  name: cfg\n  namespace: ing\ndata:\n%s", data_yaml);
    assert_true(n > 0 && (size_t) n < sizeof(doc));

    m = kngx_model_create(NULL);
    assert_non_null(m);
    assert_int_equal(kngx_model_load_buffer(m, "cm.yaml", doc, (size_t) n),
                     0);
    assert_int_equal(kngx_model_finish(m), 0);
    assert_int_equal(kngx_model_nerrors(m), 0);

    return m;
}


/* the warnings' fields, joined by spaces */
static void
warned(const kngx_settings_t *s, char *out, size_t size)
{
    size_t  i, len = 0;

    out[0] = '\0';

    for (i = 0; i < s->diags.n; i++) {
        assert_int_equal(s->diags.items[i].severity, KNGX_DIAG_WARNING);
        assert_string_equal(s->diags.items[i].object, "ing/cfg");
        len += (size_t) snprintf(out + len, size - len, "%s ",
                                 s->diags.items[i].field);
    }
}


static void
test_good_values_normalized(void **state)
{
    kngx_model_t     *m;
    kngx_settings_t  *s;

    m = model_of("  proxy-read-timeout: \"120\"\n"
                 "  proxy-send-timeout: \"500ms\"\n"
                 "  proxy-body-size: \"8M\"\n"
                 "  proxy-buffering: \"off\"\n"
                 "  hsts: \"False\"\n"
                 "  gzip-level: \"9\"\n"
                 "  ssl-protocols: \" TLSv1.3  TLSv1.2 \"\n"
                 "  proxy-next-upstream: \"error   timeout\"\n"
                 "  proxy-real-ip-cidr: \"10.0.0.0/8, fd00::/8,1.2.3.4\"\n"
                 "  custom-http-errors: \"404, 503\"\n"
                 "  load-balance: \"round_robin\"\n"
                 "  worker-processes: \"auto\"\n");
    s = kngx_settings_build(m, "ing/cfg");
    assert_non_null(s);

    assert_int_equal(s->diags.n, 0);
    assert_string_equal(s->proxy_read_timeout, "120s");
    assert_string_equal(s->proxy_send_timeout, "500ms");
    assert_string_equal(s->proxy_body_size, "8M");
    assert_int_equal(s->proxy_buffering, 0);
    assert_int_equal(s->hsts, 0);
    assert_int_equal(s->gzip_level, 9);
    assert_int_equal(s->ssl_protocols, KNGX_SSL_TLS12 | KNGX_SSL_TLS13);
    assert_string_equal(s->proxy_next_upstream, "error timeout");
    assert_int_equal(s->proxy_real_ip_cidr.n, 3);
    assert_string_equal(s->proxy_real_ip_cidr.items[1], "fd00::/8");
    assert_int_equal(s->ncustom_http_errors, 2);
    assert_int_equal(s->custom_http_errors[1], 503);
    assert_null(s->load_balance);
    assert_string_equal(s->worker_processes, "auto");
    /* not set */
    assert_int_equal(s->use_gzip, KNGX_SET_UNSET);
    assert_null(s->keep_alive);

    kngx_settings_free(s);
    kngx_model_free(m);
}


static void
test_bad_values_alone(void **state)
{
    kngx_model_t     *m;
    kngx_settings_t  *s;
    char              w[1024];

    m = model_of("  proxy-read-timeout: \"2 minutes\"\n"
                 "  proxy-body-size: \"1m\"\n"
                 "  gzip-level: \"0\"\n"
                 "  ssl-protocols: \"SSLv3\"\n"
                 "  ssl-ciphers: \"HIGH;evil\"\n"
                 "  block-user-agents: \"~([a-z\"\n"
                 "  log-format-upstream: \"$remote_addr $secret\"\n"
                 "  proxy-real-ip-cidr: \"10.0.0.0/8,300.0.0.1\"\n"
                 "  allow-snippet-annotations: \"true\"\n"
                 "  custom-http-errors: \"404,abc\"\n"
                 "  what-is-this: \"1\"\n"
                 "  hsts: 1\n");
    s = kngx_settings_build(m, "ing/cfg");
    assert_non_null(s);

    warned(s, w, sizeof(w));
    assert_int_equal(s->diags.n, 11);
    assert_non_null(strstr(w, "data.proxy-read-timeout "));
    assert_non_null(strstr(w, "data.what-is-this "));
    assert_non_null(strstr(w, "data.hsts "));      /* not a string */
    assert_null(strstr(w, "data.proxy-body-size "));

    /* the good one applies, the bad ones are unset */
    assert_string_equal(s->proxy_body_size, "1m");
    assert_null(s->proxy_read_timeout);
    assert_int_equal(s->gzip_level, KNGX_SET_UNSET);
    assert_int_equal(s->ssl_protocols, 0);
    assert_null(s->ssl_ciphers);
    assert_int_equal(s->block_user_agents.n, 0);
    assert_null(s->log_format_upstream);
    assert_int_equal(s->proxy_real_ip_cidr.n, 0);
    assert_int_equal(s->allow_snippet_annotations, 0);
    assert_int_equal(s->ncustom_http_errors, 0);
    assert_int_equal(s->hsts, KNGX_SET_UNSET);

    kngx_settings_free(s);
    kngx_model_free(m);
}


static void
test_absent_configmap_and_defaults(void **state)
{
    kngx_model_t     *m;
    kngx_settings_t  *s;
    kngx_buf_t        b;

    m = model_of("  proxy-body-size: \"1m\"\n");
    s = kngx_settings_build(m, "ing/other");
    assert_non_null(s);
    assert_int_equal(s->diags.n, 1);
    assert_non_null(strstr(s->diags.items[0].message, "is not there"));
    assert_null(s->proxy_body_size);

    memset(&b, 0, sizeof(b));
    kngx_settings_http(&b, s);
    kngx_settings_tls(&b, s);
    assert_false(b.nomem);
    assert_non_null(strstr(b.data, "server_tokens off;\n"));
    assert_non_null(strstr(b.data, "access_log /dev/stdout upstreaminfo;"));
    assert_non_null(strstr(b.data, "ssl_protocols TLSv1.2 TLSv1.3;\n"));
    assert_non_null(strstr(b.data, "map $https $kubengx_hsts {\n    on      "
                                   "\"max-age=31536000; includeSubDomains"
                                   "\";\n"));
    assert_non_null(strstr(b.data, "add_header Strict-Transport-Security "
                                   "$kubengx_hsts always;\n"));
    assert_null(strstr(b.data, "real_ip"));
    assert_null(strstr(b.data, "gzip"));
    assert_string_equal(kngx_settings_tls_listen(s), " http2");
    assert_string_equal(kngx_settings_listen(s), "");
    kngx_buf_free(&b);

    kngx_settings_free(s);
    kngx_model_free(m);
}


static void
test_quoting_in_the_text(void **state)
{
    kngx_model_t     *m;
    kngx_settings_t  *s;
    kngx_buf_t        b;

    m = model_of("  log-format-upstream: \"it's \\\\ $status\"\n"
                 "  block-referers: \"~*a\\\\.b$\"\n");
    s = kngx_settings_build(m, "ing/cfg");
    assert_non_null(s);
    assert_int_equal(s->diags.n, 0);

    memset(&b, 0, sizeof(b));
    kngx_settings_http(&b, s);
    assert_non_null(strstr(b.data, "'it\\'s \\\\ $status';"));
    assert_non_null(strstr(b.data, "\"~*a\\\\.b$\" 1;"));
    kngx_buf_free(&b);

    kngx_settings_free(s);
    kngx_model_free(m);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_good_values_normalized),
        cmocka_unit_test(test_bad_values_alone),
        cmocka_unit_test(test_absent_configmap_and_defaults),
        cmocka_unit_test(test_quoting_in_the_text),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
