/*
 * kubengx kube/: kubeconfig decoding (YAML or JSON, clientcmd v1); see
 * kube_kubeconfig.h.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kube_base64.h"
#include "kube_file.h"
#include "kube_kubeconfig.h"
#include "kube_yaml.h"


#define KUBE_KC_MAX_SIZE  (16 * 1024 * 1024)

static const char  *kube_kc_lists[] = { "clusters", "contexts", "users" };


static const char *
kube_kc_str(json_t *obj, const char *key)
{
    const char  *s;

    s = json_string_value(json_object_get(obj, key));

    return (s != NULL && s[0] != '\0') ? s : NULL;
}


/* the "inner" object of the entry named name in root[list] */
static json_t *
kube_kc_find(json_t *root, const char *list, const char *name,
    const char *inner, int *found)
{
    size_t       i;
    json_t      *item;
    const char  *n;

    *found = 0;

    json_array_foreach(json_object_get(root, list), i, item) {
        n = json_string_value(json_object_get(item, "name"));

        if (n != NULL && strcmp(n, name) == 0) {
            *found = 1;
            return json_object_get(item, inner);
        }
    }

    return NULL;
}


static json_t *
kube_kc_decode_text(const char *data, size_t len, const char *name,
    kube_err_t *err)
{
    size_t        i;
    json_t       *root;
    json_error_t  jerr;
    kube_err_t    yerr;

    for (i = 0; i < len && (data[i] == ' ' || data[i] == '\n'
                            || data[i] == '\r' || data[i] == '\t'); i++)
    {
        /* void */
    }

    if (i < len && data[i] == '{') {
        root = json_loadb(data, len, 0, &jerr);
        if (root == NULL) {
            kube_err_set(err, "kubeconfig %s: invalid JSON at line %d "
                         "column %d: %s", name, jerr.line, jerr.column,
                         jerr.text);
            return NULL;
        }

    } else {
        root = kube_yaml_to_json(data, len, &yerr);
        if (root == NULL) {
            kube_err_set(err, "kubeconfig %s: %s", name, yerr.msg);
            return NULL;
        }
    }

    if (json_is_null(root)) {
        json_decref(root);
        root = json_object();
        if (root == NULL) {
            kube_err_set(err, "kubeconfig %s: out of memory", name);
        }
        return root;
    }

    if (!json_is_object(root)) {
        kube_err_set(err, "kubeconfig %s: not a mapping", name);
        json_decref(root);
        return NULL;
    }

    for (i = 0; i < sizeof(kube_kc_lists) / sizeof(char *); i++) {
        json_t  *l = json_object_get(root, kube_kc_lists[i]);

        if (l != NULL && !json_is_null(l) && !json_is_array(l)) {
            kube_err_set(err, "kubeconfig %s: \"%s\" is not a list", name,
                         kube_kc_lists[i]);
            json_decref(root);
            return NULL;
        }
    }

    return root;
}


/* make a relative path field absolute against dir */
static int
kube_kc_resolve(json_t *obj, const char *key, const char *dir)
{
    size_t       dl, pl;
    char        *full;
    const char  *p;
    int          rc;

    p = kube_kc_str(obj, key);
    if (p == NULL || p[0] == '/' || dir == NULL || dir[0] == '\0') {
        return 0;
    }

    dl = strlen(dir);
    pl = strlen(p);

    full = malloc(dl + pl + 2);
    if (full == NULL) {
        return -1;
    }

    memcpy(full, dir, dl);
    full[dl] = '/';
    memcpy(full + dl + 1, p, pl + 1);

    rc = json_object_set_new(obj, key, json_string(full));
    free(full);

    return rc;
}


static int
kube_kc_resolve_all(json_t *root, const char *dir)
{
    size_t   i;
    json_t  *item, *c, *u;

    json_array_foreach(json_object_get(root, "clusters"), i, item) {
        c = json_object_get(item, "cluster");
        if (json_is_object(c)
            && kube_kc_resolve(c, "certificate-authority", dir) != 0)
        {
            return -1;
        }
    }

    json_array_foreach(json_object_get(root, "users"), i, item) {
        u = json_object_get(item, "user");
        if (json_is_object(u)
            && (kube_kc_resolve(u, "client-certificate", dir) != 0
                || kube_kc_resolve(u, "client-key", dir) != 0
                || kube_kc_resolve(u, "tokenFile", dir) != 0))
        {
            return -1;
        }
    }

    return 0;
}


static int
kube_kc_set(char **dst, const char *s)
{
    if (s == NULL) {
        return 0;
    }

    *dst = kube_auth_dup(s);

    return *dst == NULL ? -1 : 0;
}


static int
kube_kc_data(unsigned char **dst, size_t *len, json_t *obj, const char *key,
    const char *what, const char *name, kube_err_t *err)
{
    const char  *s;
    kube_err_t   berr;

    s = kube_kc_str(obj, key);
    if (s == NULL) {
        return 0;
    }

    *dst = kube_base64_decode(s, strlen(s), len, &berr);
    if (*dst == NULL) {
        kube_err_set(err, "kubeconfig %s: %s.%s: %s", name, what, key,
                     berr.msg);
        return -1;
    }

    return 0;
}


static int
kube_kc_bool(json_t *obj, const char *key)
{
    json_t      *v;
    const char  *s;

    v = json_object_get(obj, key);

    if (json_is_true(v)) {
        return 1;
    }

    s = json_string_value(v);

    return s != NULL && (kube_strncasecmp(s, "true", 5) == 0
                         || kube_strncasecmp(s, "yes", 4) == 0
                         || kube_strncasecmp(s, "on", 3) == 0
                         || strcmp(s, "1") == 0);
}


/* the user's credentials; -1 with err set */
static int
kube_kc_decode_user(kube_auth_t *auth, json_t *user, const char *uname,
    const char *name, kube_err_t *err)
{
    char  what[320];

    if (kube_kc_set(&auth->token, kube_kc_str(user, "token")) != 0
        || kube_kc_set(&auth->token_file, kube_kc_str(user, "tokenFile"))
           != 0
        || kube_kc_set(&auth->client_cert_file,
                       kube_kc_str(user, "client-certificate")) != 0
        || kube_kc_set(&auth->client_key_file,
                       kube_kc_str(user, "client-key")) != 0
        || kube_kc_set(&auth->username, kube_kc_str(user, "username")) != 0
        || kube_kc_set(&auth->password, kube_kc_str(user, "password")) != 0)
    {
        kube_err_set(err, "kubeconfig %s: out of memory", name);
        return -1;
    }

    snprintf(what, sizeof(what), "users[%s].user", uname);

    if (kube_kc_data(&auth->client_cert_pem, &auth->client_cert_pem_len,
                     user, "client-certificate-data", what, name, err) != 0
        || kube_kc_data(&auth->client_key_pem, &auth->client_key_pem_len,
                        user, "client-key-data", what, name, err) != 0)
    {
        return -1;
    }

    if (auth->token == NULL && auth->token_file == NULL
        && auth->client_cert_file == NULL
        && auth->client_cert_pem == NULL && auth->username == NULL
        && (json_object_get(user, "exec") != NULL
            || json_object_get(user, "auth-provider") != NULL))
    {
        kube_err_set(err, "kubeconfig %s: user \"%.64s\": exec and "
                     "auth-provider credentials are not supported; use "
                     "a token, tokenFile or client certificate", name,
                     uname);
        return -1;
    }

    if ((auth->client_cert_file || auth->client_cert_pem)
        != (auth->client_key_file || auth->client_key_pem))
    {
        kube_err_set(err, "kubeconfig %s: user \"%.64s\": a client "
                     "certificate needs a client key and vice versa",
                     name, uname);
        return -1;
    }

    return 0;
}


/* decode the merged document into auth */
static int
kube_kc_decode(kube_auth_t *auth, json_t *root, const char *name,
    const char *context, kube_err_t *err)
{
    int          found;
    json_t      *ctx, *cluster, *user;
    const char  *cname, *clname, *uname, *server;
    char         what[320];
    size_t       len;

    memset(auth, 0, sizeof(kube_auth_t));

    cname = (context != NULL && context[0] != '\0')
            ? context : kube_kc_str(root, "current-context");

    if (cname == NULL) {
        kube_err_set(err, "kubeconfig %s: no current-context set and no "
                     "context given", name);
        return -1;
    }

    ctx = kube_kc_find(root, "contexts", cname, "context", &found);
    if (!found) {
        kube_err_set(err, "kubeconfig %s: context \"%.64s\" not found in "
                     "contexts", name, cname);
        return -1;
    }

    clname = kube_kc_str(ctx, "cluster");
    if (clname == NULL) {
        kube_err_set(err, "kubeconfig %s: context \"%.64s\" has no "
                     "\"cluster\"", name, cname);
        return -1;
    }

    cluster = kube_kc_find(root, "clusters", clname, "cluster", &found);
    if (!found || !json_is_object(cluster)) {
        kube_err_set(err, "kubeconfig %s: cluster \"%.64s\" (context "
                     "\"%.64s\") not found in clusters", name, clname,
                     cname);
        return -1;
    }

    server = kube_kc_str(cluster, "server");
    if (server == NULL) {
        kube_err_set(err, "kubeconfig %s: cluster \"%.64s\" has no "
                     "\"server\"", name, clname);
        return -1;
    }

    uname = kube_kc_str(ctx, "user");
    user = NULL;

    if (uname != NULL) {
        user = kube_kc_find(root, "users", uname, "user", &found);
        if (!found) {
            kube_err_set(err, "kubeconfig %s: user \"%.64s\" (context "
                         "\"%.64s\") not found in users", name, uname,
                         cname);
            return -1;
        }
    }

    if (kube_kc_set(&auth->context, cname) != 0
        || kube_kc_set(&auth->cluster, clname) != 0
        || kube_kc_set(&auth->user, uname) != 0
        || kube_kc_set(&auth->server, server) != 0
        || kube_kc_set(&auth->ns, kube_kc_str(ctx, "namespace")) != 0
        || kube_kc_set(&auth->ca_file,
                       kube_kc_str(cluster, "certificate-authority")) != 0
        || kube_kc_set(&auth->tls_server_name,
                       kube_kc_str(cluster, "tls-server-name")) != 0
        || kube_kc_set(&auth->proxy_url,
                       kube_kc_str(cluster, "proxy-url")) != 0)
    {
        goto nomem;
    }

    len = strlen(auth->server);
    while (len > 0 && auth->server[len - 1] == '/') {
        auth->server[--len] = '\0';
    }

    auth->insecure_skip_tls_verify = kube_kc_bool(cluster,
                                                  "insecure-skip-tls-verify");

    snprintf(what, sizeof(what), "clusters[%s].cluster", clname);
    if (kube_kc_data(&auth->ca_pem, &auth->ca_pem_len, cluster,
                     "certificate-authority-data", what, name, err) != 0)
    {
        goto failed;
    }

    if (json_is_object(user)
        && kube_kc_decode_user(auth, user, uname, name, err) != 0)
    {
        goto failed;
    }

    kube_err_clear(err);
    return 0;

nomem:

    kube_err_set(err, "kubeconfig %s: out of memory", name);

failed:

    kube_auth_free(auth);
    return -1;
}


int
kube_kubeconfig_parse(kube_auth_t *auth, const char *data, size_t len,
    const char *name, const char *base_dir, const char *context,
    kube_err_t *err)
{
    int      rc;
    json_t  *root;

    memset(auth, 0, sizeof(kube_auth_t));
    name = name ? name : "(memory)";

    root = kube_kc_decode_text(data, len, name, err);
    if (root == NULL) {
        return -1;
    }

    if (kube_kc_resolve_all(root, base_dir) != 0) {
        json_decref(root);
        kube_err_set(err, "kubeconfig %s: out of memory", name);
        return -1;
    }

    rc = kube_kc_decode(auth, root, name, context, err);
    json_decref(root);

    return rc;
}


/* add src's named entries and current-context to dst, first one wins */
static int
kube_kc_merge(json_t *dst, json_t *src)
{
    int          found;
    size_t       i, l;
    json_t      *item, *arr;
    const char  *n;

    if (kube_kc_str(dst, "current-context") == NULL
        && kube_kc_str(src, "current-context") != NULL)
    {
        if (json_object_set(dst, "current-context",
                            json_object_get(src, "current-context")) != 0)
        {
            return -1;
        }
    }

    for (l = 0; l < sizeof(kube_kc_lists) / sizeof(char *); l++) {
        arr = json_object_get(dst, kube_kc_lists[l]);

        if (!json_is_array(arr)) {
            arr = json_array();
            if (arr == NULL
                || json_object_set_new(dst, kube_kc_lists[l], arr) != 0)
            {
                return -1;
            }
        }

        json_array_foreach(json_object_get(src, kube_kc_lists[l]), i, item) {
            n = json_string_value(json_object_get(item, "name"));
            if (n == NULL) {
                continue;
            }

            (void) kube_kc_find(dst, kube_kc_lists[l], n, "name", &found);
            if (!found && json_array_append(arr, item) != 0) {
                return -1;
            }
        }
    }

    return 0;
}


int
kube_kubeconfig_load(kube_auth_t *auth, const char *paths,
    const char *context, kube_err_t *err)
{
    int          rc, nfiles;
    char        *list, *path, *save, *data, *dir, *slash, *home_cfg;
    size_t       len;
    json_t      *merged, *root;
    const char  *home, *name;
    kube_err_t   ferr;

    memset(auth, 0, sizeof(kube_auth_t));
    home_cfg = NULL;

    if (paths == NULL || paths[0] == '\0') {
        paths = getenv("KUBECONFIG");
    }

    if (paths == NULL || paths[0] == '\0') {
        home = getenv("HOME");
        if (home == NULL || home[0] == '\0') {
            kube_err_set(err, "kubeconfig: no path given, KUBECONFIG and "
                         "HOME unset");
            return -1;
        }

        len = strlen(home) + sizeof("/.kube/config");
        home_cfg = malloc(len);
        if (home_cfg == NULL) {
            kube_err_set(err, "kubeconfig: out of memory");
            return -1;
        }

        snprintf(home_cfg, len, "%s/.kube/config", home);
        paths = home_cfg;
    }

    list = kube_auth_dup(paths);
    merged = json_object();

    if (list == NULL || merged == NULL) {
        free(list);
        free(home_cfg);
        json_decref(merged);
        kube_err_set(err, "kubeconfig: out of memory");
        return -1;
    }

    rc = -1;
    nfiles = 0;
    name = NULL;
    ferr.msg[0] = '\0';

    for (path = strtok_r(list, ":", &save);
         path != NULL;
         path = strtok_r(NULL, ":", &save))
    {
        data = kube_read_file(path, KUBE_KC_MAX_SIZE, &len, &ferr);
        if (data == NULL) {
            /* kubectl skips missing files in a KUBECONFIG list */
            continue;
        }

        root = kube_kc_decode_text(data, len, path, err);
        free(data);

        if (root == NULL) {
            goto done;
        }

        dir = kube_auth_dup(path);
        if (dir == NULL) {
            json_decref(root);
            kube_err_set(err, "kubeconfig: out of memory");
            goto done;
        }

        slash = strrchr(dir, '/');
        if (slash == NULL) {
            dir[0] = '\0';

        } else {
            slash[slash == dir ? 1 : 0] = '\0';
        }

        if (kube_kc_resolve_all(root, dir[0] ? dir : NULL) != 0
            || kube_kc_merge(merged, root) != 0)
        {
            free(dir);
            json_decref(root);
            kube_err_set(err, "kubeconfig: out of memory");
            goto done;
        }

        free(dir);
        json_decref(root);

        if (nfiles++ == 0) {
            name = paths;
        }
    }

    if (nfiles == 0) {
        kube_err_set(err, "kubeconfig: %s", ferr.msg[0] ? ferr.msg
                                                        : "no file given");
        goto done;
    }

    rc = kube_kc_decode(auth, merged, name, context, err);

done:

    json_decref(merged);
    free(list);
    free(home_cfg);

    return rc;
}
