/*
 * kubengx kube/: in-cluster config, token re-read policy, helpers.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kube_auth.h"
#include "kube_file.h"


static char *
kube_auth_strdup(const char *s)
{
    size_t   len;
    char    *p;

    len = strlen(s) + 1;
    p = malloc(len);
    if (p != NULL) {
        memcpy(p, s, len);
    }

    return p;
}


static char *
kube_auth_path(const char *dir, const char *file)
{
    size_t   dl, fl;
    char    *p;

    dl = strlen(dir);
    fl = strlen(file);

    p = malloc(dl + fl + 2);
    if (p != NULL) {
        memcpy(p, dir, dl);
        p[dl] = '/';
        memcpy(p + dl + 1, file, fl + 1);
    }

    return p;
}


static void
kube_trim(char *s)
{
    size_t  n;

    n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '
                     || s[n - 1] == '\t'))
    {
        s[--n] = '\0';
    }
}


int
kube_auth_in_cluster(kube_auth_t *auth, const kube_incluster_opts_t *opts,
    kube_err_t *err)
{
    int          v6;
    size_t       len;
    char        *ns, *p;
    const char  *host, *port, *dir, *q;

    memset(auth, 0, sizeof(kube_auth_t));

    host = (opts && opts->host) ? opts->host
                                : getenv("KUBERNETES_SERVICE_HOST");
    port = (opts && opts->port) ? opts->port
                                : getenv("KUBERNETES_SERVICE_PORT");
    dir = (opts && opts->sa_dir) ? opts->sa_dir : KUBE_SA_DIR;

    if (host == NULL || host[0] == '\0' || port == NULL || port[0] == '\0') {
        kube_err_set(err, "in-cluster config: KUBERNETES_SERVICE_HOST and "
                     "KUBERNETES_SERVICE_PORT must be set (not running in "
                     "a pod?)");
        return KUBE_AUTH_NOT_IN_CLUSTER;
    }

    for (q = port; *q; q++) {
        if (*q < '0' || *q > '9' || q - port >= 5) {
            kube_err_set(err, "in-cluster config: KUBERNETES_SERVICE_PORT "
                         "\"%.16s\" is not a port number", port);
            return -1;
        }
    }

    v6 = (strchr(host, ':') != NULL && host[0] != '[');
    len = sizeof("https://[]:") + strlen(host) + strlen(port);

    auth->server = malloc(len);
    if (auth->server == NULL) {
        goto nomem;
    }

    snprintf(auth->server, len, v6 ? "https://[%s]:%s" : "https://%s:%s",
             host, port);

    auth->in_cluster = 1;
    auth->token_file = kube_auth_path(dir, "token");
    auth->ca_file = kube_auth_path(dir, "ca.crt");
    if (auth->token_file == NULL || auth->ca_file == NULL) {
        goto nomem;
    }

    if (access(auth->token_file, R_OK) != 0) {
        kube_err_set(err, "in-cluster config: token file %s: %s",
                     auth->token_file, strerror(errno));
        kube_auth_free(auth);
        return -1;
    }

    if (access(auth->ca_file, R_OK) != 0) {
        free(auth->ca_file);
        auth->ca_file = NULL;
    }

    p = kube_auth_path(dir, "namespace");
    if (p == NULL) {
        goto nomem;
    }

    ns = kube_read_file(p, 253, NULL, NULL);
    free(p);

    if (ns != NULL) {
        kube_trim(ns);
        if (ns[0] == '\0') {
            free(ns);
            ns = NULL;
        }
        auth->ns = ns;
    }

    kube_err_clear(err);
    return 0;

nomem:

    kube_auth_free(auth);
    kube_err_set(err, "in-cluster config: out of memory");
    return -1;
}


void
kube_auth_free(kube_auth_t *auth)
{
    if (auth == NULL) {
        return;
    }

    free(auth->server);
    free(auth->ca_file);
    free(auth->ca_pem);
    free(auth->tls_server_name);
    free(auth->proxy_url);
    free(auth->token);
    free(auth->token_file);
    free(auth->client_cert_file);
    free(auth->client_key_file);
    free(auth->client_cert_pem);
    free(auth->client_key_pem);
    free(auth->username);
    free(auth->password);
    free(auth->ns);
    free(auth->context);
    free(auth->cluster);
    free(auth->user);

    memset(auth, 0, sizeof(kube_auth_t));
}


int
kube_token_stale(const kube_token_t *t, uint64_t now_ms)
{
    return t->value == NULL || t->invalid
           || now_ms - t->read_ms >= KUBE_TOKEN_MAX_AGE_MS
           || now_ms < t->read_ms;
}


int
kube_token_load(kube_token_t *t, const char *path, uint64_t now_ms,
    kube_err_t *err)
{
    char  *v;

    t->read_ms = now_ms;

    v = kube_read_file(path, 64 * 1024, NULL, err);
    if (v == NULL) {
        return -1;
    }

    kube_trim(v);

    if (v[0] == '\0') {
        kube_err_set(err, "%s: empty token file", path);
        free(v);
        return -1;
    }

    free(t->value);
    t->value = v;
    t->invalid = 0;

    return 0;
}


void
kube_token_invalidate(kube_token_t *t)
{
    t->invalid = 1;
}


void
kube_token_free(kube_token_t *t)
{
    free(t->value);
    memset(t, 0, sizeof(kube_token_t));
}


char *
kube_auth_dup(const char *s)
{
    return kube_auth_strdup(s);
}
