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


char *
kube_read_file(const char *path, size_t max, size_t *len, kube_err_t *err)
{
    int          fd;
    char        *buf, *nb;
    size_t       n, cap;
    ssize_t      r;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        kube_err_set(err, "%s: %s", path, strerror(errno));
        return NULL;
    }

    cap = 4096;
    n = 0;
    buf = malloc(cap);
    if (buf == NULL) {
        goto nomem;
    }

    for ( ;; ) {
        if (cap - n < 2) {
            if (cap >= max + 1) {
                kube_err_set(err, "%s: larger than %zu bytes", path, max);
                goto failed;
            }

            cap *= 2;
            nb = realloc(buf, cap);
            if (nb == NULL) {
                goto nomem;
            }
            buf = nb;
        }

        r = read(fd, buf + n, cap - n - 1);

        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            kube_err_set(err, "%s: %s", path, strerror(errno));
            goto failed;
        }

        if (r == 0) {
            break;
        }

        n += (size_t) r;

        if (n > max) {
            kube_err_set(err, "%s: larger than %zu bytes", path, max);
            goto failed;
        }
    }

    close(fd);
    buf[n] = '\0';

    if (len != NULL) {
        *len = n;
    }

    return buf;

nomem:

    kube_err_set(err, "%s: out of memory", path);

failed:

    free(buf);
    close(fd);
    return NULL;
}


static int
kube_b64_value(int c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '+' || c == '-') {
        return 62;
    }

    if (c == '/' || c == '_') {
        return 63;
    }

    return -1;
}


unsigned char *
kube_base64_decode(const char *s, size_t len, size_t *out_len,
    kube_err_t *err)
{
    int             v, pad;
    size_t          i, n, bits_n;
    uint32_t        bits;
    unsigned char  *out;

    out = malloc(len / 4 * 3 + 4);
    if (out == NULL) {
        kube_err_set(err, "base64: out of memory");
        return NULL;
    }

    n = 0;
    bits = 0;
    bits_n = 0;
    pad = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t') {
            continue;
        }

        if (s[i] == '=') {
            pad++;
            continue;
        }

        v = kube_b64_value((unsigned char) s[i]);
        if (v < 0 || pad) {
            kube_err_set(err, "base64: invalid character at offset %zu", i);
            free(out);
            return NULL;
        }

        bits = (bits << 6) | (uint32_t) v;
        bits_n += 6;

        if (bits_n >= 8) {
            bits_n -= 8;
            out[n++] = (unsigned char) (bits >> bits_n);
        }
    }

    if (bits_n >= 6 || pad > 2) {
        kube_err_set(err, "base64: truncated input");
        free(out);
        return NULL;
    }

    out[n] = '\0';
    *out_len = n;

    return out;
}


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
