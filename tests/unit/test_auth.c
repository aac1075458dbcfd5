/*
 * Unit tests: kube/kube_auth.c, kube/kube_kubeconfig.c, kube/kube_yaml.c
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "kube_auth.h"
#include "kube_base64.h"
#include "kube_kubeconfig.h"
#include "kube_yaml.h"


static char  tmpdir[256];


static void
write_file(const char *dir, const char *name, const char *text)
{
    char   path[512];
    FILE  *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}


static int
setup(void **state)
{
    (void) state;

    snprintf(tmpdir, sizeof(tmpdir), "/tmp/kube-auth-test-XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        return -1;
    }

    return 0;
}


static int
teardown(void **state)
{
    char  cmd[300];

    (void) state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}


static void
test_in_cluster(void **state)
{
    char                   sa[300], path[400];
    kube_err_t             err;
    kube_auth_t            auth;
    kube_incluster_opts_t  opts;

    (void) state;

    snprintf(sa, sizeof(sa), "%s/sa", tmpdir);
    assert_int_equal(mkdir(sa, 0700), 0);
    write_file(sa, "token", "eyJhbGciOi.tok\n");
    write_file(sa, "ca.crt", "-----BEGIN CERTIFICATE-----\n");
    write_file(sa, "namespace", "shop\n");

    memset(&opts, 0, sizeof(opts));
    opts.host = "10.96.0.1";
    opts.port = "443";
    opts.sa_dir = sa;

    assert_int_equal(kube_auth_in_cluster(&auth, &opts, &err), 0);
    assert_string_equal(auth.server, "https://10.96.0.1:443");
    snprintf(path, sizeof(path), "%s/token", sa);
    assert_string_equal(auth.token_file, path);
    snprintf(path, sizeof(path), "%s/ca.crt", sa);
    assert_string_equal(auth.ca_file, path);
    assert_string_equal(auth.ns, "shop");
    assert_true(auth.in_cluster);
    assert_null(auth.token);
    kube_auth_free(&auth);

    /* IPv6 host is bracketed */
    opts.host = "fd00:10:96::1";
    assert_int_equal(kube_auth_in_cluster(&auth, &opts, &err), 0);
    assert_string_equal(auth.server, "https://[fd00:10:96::1]:443");
    kube_auth_free(&auth);

    /* from the environment */
    opts.host = NULL;
    opts.port = NULL;
    setenv("KUBERNETES_SERVICE_HOST", "kubernetes.default.svc", 1);
    setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
    assert_int_equal(kube_auth_in_cluster(&auth, &opts, &err), 0);
    assert_string_equal(auth.server, "https://kubernetes.default.svc:6443");
    kube_auth_free(&auth);

    unsetenv("KUBERNETES_SERVICE_PORT");
    assert_int_equal(kube_auth_in_cluster(&auth, &opts, &err),
                     KUBE_AUTH_NOT_IN_CLUSTER);
    assert_non_null(strstr(err.msg, "KUBERNETES_SERVICE_PORT"));
    assert_null(auth.server);
    unsetenv("KUBERNETES_SERVICE_HOST");

    opts.host = "10.0.0.1";
    opts.port = "https";
    assert_int_equal(kube_auth_in_cluster(&auth, &opts, &err), -1);
    assert_non_null(strstr(err.msg, "not a port number"));

    /* no ca.crt, no namespace: fine; no token: an error */
    snprintf(path, sizeof(path), "%s/ca.crt", sa);
    assert_int_equal(unlink(path), 0);
    snprintf(path, sizeof(path), "%s/namespace", sa);
    assert_int_equal(unlink(path), 0);
    opts.port = "443";
    assert_int_equal(kube_auth_in_cluster(&auth, &opts, &err), 0);
    assert_null(auth.ca_file);
    assert_null(auth.ns);
    kube_auth_free(&auth);

    snprintf(path, sizeof(path), "%s/token", sa);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(kube_auth_in_cluster(&auth, &opts, &err), -1);
    assert_non_null(strstr(err.msg, "token file"));
    assert_null(auth.server);
}


static void
test_token_policy(void **state)
{
    char          path[400];
    kube_err_t    err;
    kube_token_t  t;

    (void) state;
    memset(&t, 0, sizeof(t));

    snprintf(path, sizeof(path), "%s/tok", tmpdir);
    write_file(tmpdir, "tok", "first\r\n");

    assert_true(kube_token_stale(&t, 1000));
    assert_int_equal(kube_token_load(&t, path, 1000, &err), 0);
    assert_string_equal(t.value, "first");
    assert_false(kube_token_stale(&t, 1000));
    assert_false(kube_token_stale(&t, 60999));
    assert_true(kube_token_stale(&t, 61000));

    /* after a 401: stale at once */
    kube_token_invalidate(&t);
    assert_true(kube_token_stale(&t, 2000));

    /* kubelet rotated the file */
    write_file(tmpdir, "tok", "second");
    assert_int_equal(kube_token_load(&t, path, 2000, &err), 0);
    assert_string_equal(t.value, "second");
    assert_false(kube_token_stale(&t, 2000));

    /* file gone: keep the old token, retry in a minute */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(kube_token_load(&t, path, 70000, &err), -1);
    assert_non_null(strstr(err.msg, "No such file"));
    assert_string_equal(t.value, "second");
    assert_false(kube_token_stale(&t, 70000));
    assert_true(kube_token_stale(&t, 130000));

    write_file(tmpdir, "tok", "\n");
    assert_int_equal(kube_token_load(&t, path, 130000, &err), -1);
    assert_non_null(strstr(err.msg, "empty token"));

    kube_token_free(&t);
    assert_null(t.value);
}


/* "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" */
#define CA_B64                                                                \
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNB"  \
    "VEUtLS0tLQo="
#define CA_PEM                                                                \
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

static const char *kind_yaml =
    "apiVersion: v1\n"
    "kind: Config\n"
    "preferences: {}\n"
    "current-context: kind-kind\n"
    "clusters:\n"
    "- cluster:\n"
    "    certificate-authority-data: " CA_B64 "\n"
    "    server: https://127.0.0.1:36443/\n"
    "  name: kind-kind\n"
    "- name: prod\n"
    "  cluster:\n"
    "    server: https://prod.example.com\n"
    "    certificate-authority: certs/prod-ca.crt\n"
    "    insecure-skip-tls-verify: false\n"
    "    tls-server-name: api.prod.internal\n"
    "contexts:\n"
    "- context:\n"
    "    cluster: kind-kind\n"
    "    user: kind-kind\n"
    "  name: kind-kind\n"
    "- name: prod\n"
    "  context: {cluster: prod, user: ci, namespace: shop}\n"
    "users:\n"
    "- name: kind-kind\n"
    "  user:\n"
    "    client-certificate-data: " CA_B64 "\n"
    "    client-key-data: a2V5\n"
    "- name: ci\n"
    "  user:\n"
    "    tokenFile: ci.token\n"
    "    client-certificate: /abs/ci.crt\n"
    "    client-key: keys/ci.key\n";


static void
test_kubeconfig_yaml(void **state)
{
    kube_err_t   err;
    kube_auth_t  auth;

    (void) state;

    assert_int_equal(kube_kubeconfig_parse(&auth, kind_yaml,
                                           strlen(kind_yaml), "kind.yaml",
                                           "/home/u/.kube", NULL, &err), 0);
    assert_string_equal(auth.context, "kind-kind");
    assert_string_equal(auth.cluster, "kind-kind");
    assert_string_equal(auth.user, "kind-kind");
    assert_string_equal(auth.server, "https://127.0.0.1:36443");
    assert_int_equal(auth.ca_pem_len, strlen(CA_PEM));
    assert_memory_equal(auth.ca_pem, CA_PEM, strlen(CA_PEM));
    assert_null(auth.ca_file);
    assert_false(auth.insecure_skip_tls_verify);
    assert_int_equal(auth.client_cert_pem_len, strlen(CA_PEM));
    assert_int_equal(auth.client_key_pem_len, 3);
    assert_memory_equal(auth.client_key_pem, "key", 3);
    assert_null(auth.token);
    assert_null(auth.ns);
    assert_false(auth.in_cluster);
    kube_auth_free(&auth);

    /* another context; relative paths resolved against the base dir */
    assert_int_equal(kube_kubeconfig_parse(&auth, kind_yaml,
                                           strlen(kind_yaml), "kind.yaml",
                                           "/home/u/.kube", "prod", &err), 0);
    assert_string_equal(auth.server, "https://prod.example.com");
    assert_string_equal(auth.ca_file, "/home/u/.kube/certs/prod-ca.crt");
    assert_string_equal(auth.tls_server_name, "api.prod.internal");
    assert_string_equal(auth.ns, "shop");
    assert_string_equal(auth.token_file, "/home/u/.kube/ci.token");
    assert_string_equal(auth.client_cert_file, "/abs/ci.crt");
    assert_string_equal(auth.client_key_file, "/home/u/.kube/keys/ci.key");
    assert_null(auth.ca_pem);
    kube_auth_free(&auth);
}


static const char *json_cfg =
    "{\"kind\":\"Config\",\"apiVersion\":\"v1\",\"current-context\":\"dev\","
    "\"clusters\":[{\"name\":\"dev\",\"cluster\":{\"server\":"
    "\"https://[fd00::1]:6443\",\"insecure-skip-tls-verify\":true,"
    "\"certificate-authority-data\":\"" CA_B64 "\"}}],"
    "\"contexts\":[{\"name\":\"dev\",\"context\":{\"cluster\":\"dev\","
    "\"user\":\"admin\",\"namespace\":\"default\"}}],"
    "\"users\":[{\"name\":\"admin\",\"user\":{\"token\":\"s3cr3t\"}}]}";


static void
test_kubeconfig_json(void **state)
{
    kube_err_t   err;
    kube_auth_t  auth;

    (void) state;

    assert_int_equal(kube_kubeconfig_parse(&auth, json_cfg, strlen(json_cfg),
                                           NULL, NULL, NULL, &err), 0);
    assert_string_equal(auth.server, "https://[fd00::1]:6443");
    assert_true(auth.insecure_skip_tls_verify);
    assert_string_equal(auth.token, "s3cr3t");
    assert_string_equal(auth.ns, "default");
    assert_memory_equal(auth.ca_pem, CA_PEM, strlen(CA_PEM));
    kube_auth_free(&auth);
}


static void
expect_error(const char *cfg, const char *context, const char *needle)
{
    kube_err_t   err;
    kube_auth_t  auth;

    assert_int_equal(kube_kubeconfig_parse(&auth, cfg, strlen(cfg), "cfg",
                                           NULL, context, &err), -1);
    if (strstr(err.msg, needle) == NULL) {
        fail_msg("error \"%s\" lacks \"%s\"", err.msg, needle);
    }
    assert_null(auth.server);
    assert_null(auth.context);
}


static void
test_kubeconfig_errors(void **state)
{
    (void) state;

    expect_error(kind_yaml, "staging",
                 "kubeconfig cfg: context \"staging\" not found");
    expect_error("apiVersion: v1\nclusters: []\n", NULL,
                 "no current-context set and no context given");
    expect_error("current-context: x\ncontexts:\n- name: x\n  context:\n"
                 "    cluster: c\n", NULL,
                 "cluster \"c\" (context \"x\") not found");
    expect_error("current-context: x\ncontexts:\n- name: x\n  context:\n"
                 "    user: u\n", NULL, "context \"x\" has no \"cluster\"");
    expect_error("current-context: x\ncontexts:\n- name: x\n  context:\n"
                 "    cluster: c\n    user: u\nclusters:\n- name: c\n"
                 "  cluster: {server: https://a}\n", NULL,
                 "user \"u\" (context \"x\") not found");
    expect_error("current-context: x\ncontexts:\n- name: x\n  context:\n"
                 "    cluster: c\nclusters:\n- name: c\n  cluster: {}\n",
                 NULL, "cluster \"c\" has no \"server\"");
    expect_error("current-context: x\ncontexts:\n- name: x\n  context:\n"
                 "    cluster: c\nclusters:\n- name: c\n  cluster:\n"
                 "    server: https://a\n"
                 "    certificate-authority-data: '%%%'\n", NULL,
                 "clusters[c].cluster.certificate-authority-data: base64");
    expect_error("current-context: x\ncontexts:\n- name: x\n  context:\n"
                 "    cluster: c\n    user: u\nclusters:\n- name: c\n"
                 "  cluster: {server: https://a}\nusers:\n- name: u\n"
                 "  user:\n    exec:\n      command: aws\n", NULL,
                 "exec and auth-provider credentials are not supported");
    expect_error("current-context: x\ncontexts:\n- name: x\n  context:\n"
                 "    cluster: c\n    user: u\nclusters:\n- name: c\n"
                 "  cluster: {server: https://a}\nusers:\n- name: u\n"
                 "  user:\n    client-certificate: a.crt\n", NULL,
                 "needs a client key");
    expect_error("clusters: {a: 1}\n", NULL, "\"clusters\" is not a list");
    expect_error("- a\n- b\n", NULL, "not a mapping");
    expect_error("a: [b\n", NULL, "kubeconfig cfg: YAML: line");
    expect_error("{\"a\":", NULL, "invalid JSON");
}


static void
test_kubeconfig_files(void **state)
{
    char         list[1024], dir[300];
    kube_err_t   err;
    kube_auth_t  auth;

    (void) state;

    snprintf(dir, sizeof(dir), "%s/kc", tmpdir);
    assert_int_equal(mkdir(dir, 0700), 0);

    /* file 1: no current-context, a user and a cluster that shadow 2's */
    write_file(dir, "one",
               "clusters:\n- name: c\n  cluster:\n    server: https://one\n"
               "    certificate-authority: ca.pem\n"
               "users:\n- name: u\n  user: {token: one}\n");
    write_file(dir, "two",
               "current-context: x\n"
               "clusters:\n- name: c\n  cluster: {server: https://two}\n"
               "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
               "users:\n- name: u\n  user: {token: two}\n");

    snprintf(list, sizeof(list), "%s/missing:%s/one:%s/two", dir, dir, dir);
    assert_int_equal(kube_kubeconfig_load(&auth, list, NULL, &err), 0);
    assert_string_equal(auth.server, "https://one");
    assert_string_equal(auth.token, "one");
    snprintf(list, sizeof(list), "%s/ca.pem", dir);
    assert_string_equal(auth.ca_file, list);
    kube_auth_free(&auth);

    /* KUBECONFIG from the environment */
    snprintf(list, sizeof(list), "%s/two", dir);
    setenv("KUBECONFIG", list, 1);
    assert_int_equal(kube_kubeconfig_load(&auth, NULL, NULL, &err), 0);
    assert_string_equal(auth.server, "https://two");
    kube_auth_free(&auth);
    unsetenv("KUBECONFIG");

    /* only file one: no context at all */
    snprintf(list, sizeof(list), "%s/one", dir);
    assert_int_equal(kube_kubeconfig_load(&auth, list, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "no current-context"));

    /* nothing readable */
    snprintf(list, sizeof(list), "%s/nope", dir);
    assert_int_equal(kube_kubeconfig_load(&auth, list, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "No such file"));

    /* $HOME/.kube/config */
    snprintf(list, sizeof(list), "%s/.kube", dir);
    assert_int_equal(mkdir(list, 0700), 0);
    write_file(list, "config", json_cfg);
    setenv("HOME", dir, 1);
    assert_int_equal(kube_kubeconfig_load(&auth, NULL, NULL, &err), 0);
    assert_string_equal(auth.token, "s3cr3t");
    kube_auth_free(&auth);
}


static void
test_yaml(void **state)
{
    json_t      *v;
    kube_err_t   err;
    char        *s;
    const char  *y =
        "base: &b {server: 'https://x', flag: true}\n"
        "copy: *b\n"
        "list: [a, \"true\", ~, '', null, 10, False]\n"
        "text: |\n  line1\n  line2\n";
    const char  *bomb =
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
        "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
        "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
    char        *big;
    size_t       n;
    int          i;

    (void) state;

    v = kube_yaml_to_json(y, strlen(y), &err);
    assert_non_null(v);
    s = json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal(s,
        "{\"base\":{\"flag\":true,\"server\":\"https://x\"},"
        "\"copy\":{\"flag\":true,\"server\":\"https://x\"},"
        "\"list\":[\"a\",\"true\",null,\"\",null,\"10\",false],"
        "\"text\":\"line1\\nline2\\n\"}");
    free(s);
    json_decref(v);

    v = kube_yaml_to_json("", 0, &err);
    assert_true(json_is_null(v));
    json_decref(v);

    assert_null(kube_yaml_to_json(bomb, strlen(bomb), &err));
    assert_non_null(strstr(err.msg, "too many nodes"));

    assert_null(kube_yaml_to_json("a: b: c\n", 8, &err));
    assert_non_null(strstr(err.msg, "line 1"));

    /* few nodes, many bytes: a 1 MiB string repeated by aliases */
    big = malloc(1024 * 1024 + 1024);
    assert_non_null(big);
    n = (size_t) sprintf(big, "a: &a ");
    memset(big + n, 'x', 1024 * 1024);
    n += 1024 * 1024;
    for (i = 0; i < 20; i++) {
        n += (size_t) sprintf(big + n, "\nk%d: *a", i);
    }
    assert_null(kube_yaml_to_json(big, n, &err));
    assert_non_null(strstr(err.msg, "16 MiB"));

    /* a few copies are fine */
    n = (size_t) (strstr(big, "\nk5:") - big);
    v = kube_yaml_to_json(big, n, &err);
    assert_non_null(v);
    json_decref(v);
    free(big);
}


static void
test_base64(void **state)
{
    unsigned char  *p;
    size_t          n;
    kube_err_t      err;

    (void) state;

    p = kube_base64_decode("aGVsbG8=", 8, &n, &err);
    assert_non_null(p);
    assert_int_equal(n, 5);
    assert_memory_equal(p, "hello", 5);
    free(p);

    p = kube_base64_decode("aGVs\nbG8", 8, &n, &err);
    assert_non_null(p);
    assert_int_equal(n, 5);
    free(p);

    p = kube_base64_decode("", 0, &n, &err);
    assert_non_null(p);
    assert_int_equal(n, 0);
    free(p);

    assert_null(kube_base64_decode("aGV*", 4, &n, &err));
    assert_null(kube_base64_decode("a", 1, &n, &err));
    assert_null(kube_base64_decode("aG=V", 4, &n, &err));
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_cluster),
        cmocka_unit_test(test_token_policy),
        cmocka_unit_test(test_kubeconfig_yaml),
        cmocka_unit_test(test_kubeconfig_json),
        cmocka_unit_test(test_kubeconfig_errors),
        cmocka_unit_test(test_kubeconfig_files),
        cmocka_unit_test(test_yaml),
        cmocka_unit_test(test_base64),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
