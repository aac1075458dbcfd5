
/*
 * kubengx controller: where the API is and how to talk to it.
 *
 * In-cluster config by default, --kubeconfig otherwise (kube/kube_auth).
 * kngx_ctl_api_prepare() sets a libcurl handle up with the server's CA,
 * client certificate and bearer token (re-read from its file at most
 * once a minute and after a 401).
 *
 * Leases, status patches and Events go through kngx_ctl_api_start(): an
 * asynchronous request on the main loop's multi handle, with a callback,
 * so a slow or unreachable API never stalls the loop (health probes,
 * watches, syncs).  At most KNGX_API_CALLS_MAX run at once, the rest
 * wait in order; Lease requests (urgent) go first and never wait.
 * kngx_ctl_api_call() blocks, for the last requests at shutdown only.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller.h"
#include "kube_kubeconfig.h"


#define KNGX_API_TIMEOUT_MS  5000
#define KNGX_API_CALLS_MAX   4        /* running at once */
#define KNGX_API_QUEUE_MAX   1000     /* queued and running */


int
kngx_ctl_api_init(kngx_ctl_t *ctl)
{
    kube_err_t  err;
    int         rc;

    kube_err_clear(&err);

    if (ctl->conf.kubeconfig) {
        rc = kube_kubeconfig_load(&ctl->auth, ctl->conf.kubeconfig,
                                  ctl->conf.context, &err);
        if (rc != 0) {
            kngx_ctl_log("error: kubeconfig: %s", err.msg);
            return -1;
        }

    } else {
        rc = kube_auth_in_cluster(&ctl->auth, NULL, &err);
        if (rc == KUBE_AUTH_NOT_IN_CLUSTER) {
            kngx_ctl_log("error: not running in a cluster "
                         "(KUBERNETES_SERVICE_HOST/PORT unset); give "
                         "--kubeconfig FILE");
            return -1;
        }
        if (rc != 0) {
            kngx_ctl_log("error: in-cluster config: %s", err.msg);
            return -1;
        }
    }

    ctl->server = ctl->auth.server;

    if (ctl->auth.token_file
        && kube_token_load(&ctl->token, ctl->auth.token_file, kngx_ctl_now(),
                           &err) != 0)
    {
        kngx_ctl_log("warning: token: %s", err.msg);
    }

    kngx_ctl_log("API server %s (%s)", ctl->server,
                 ctl->auth.in_cluster ? "in-cluster" : ctl->conf.kubeconfig);

    return 0;
}


void
kngx_ctl_api_free(kngx_ctl_t *ctl)
{
    kube_auth_free(&ctl->auth);
    kube_token_free(&ctl->token);
}


int
kngx_ctl_api_prepare(kngx_ctl_t *ctl, CURL *easy,
    struct curl_slist **headers, const char *content_type)
{
    kube_auth_t         *a = &ctl->auth;
    struct curl_slist   *h = NULL, *t;
    const char          *token = NULL;
    kube_err_t           err;
    char                 line[8192];
    uint64_t             now = kngx_ctl_now();

    if (a->token_file && kube_token_stale(&ctl->token, now)) {
        if (kube_token_load(&ctl->token, a->token_file, now, &err) != 0) {
            kngx_ctl_log("warning: token: %s", err.msg);
        }
    }

    token = a->token_file ? ctl->token.value : a->token;

    if (a->ca_file) {
        curl_easy_setopt(easy, CURLOPT_CAINFO, a->ca_file);
    }

    if (a->ca_pem) {
        struct curl_blob  blob;

        blob.data = a->ca_pem;
        blob.len = a->ca_pem_len;
        blob.flags = CURL_BLOB_COPY;
        curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &blob);
    }

    if (a->insecure_skip_tls_verify) {
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
    }

    if (a->client_cert_file) {
        curl_easy_setopt(easy, CURLOPT_SSLCERT, a->client_cert_file);
    }

    if (a->client_key_file) {
        curl_easy_setopt(easy, CURLOPT_SSLKEY, a->client_key_file);
    }

    if (a->client_cert_pem) {
        struct curl_blob  blob;

        blob.data = a->client_cert_pem;
        blob.len = a->client_cert_pem_len;
        blob.flags = CURL_BLOB_COPY;
        curl_easy_setopt(easy, CURLOPT_SSLCERT_BLOB, &blob);
        curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
    }

    if (a->client_key_pem) {
        struct curl_blob  blob;

        blob.data = a->client_key_pem;
        blob.len = a->client_key_pem_len;
        blob.flags = CURL_BLOB_COPY;
        curl_easy_setopt(easy, CURLOPT_SSLKEY_BLOB, &blob);
        curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
    }

    if (a->username && a->password) {
        curl_easy_setopt(easy, CURLOPT_USERNAME, a->username);
        curl_easy_setopt(easy, CURLOPT_PASSWORD, a->password);
    }

    if (a->proxy_url) {
        curl_easy_setopt(easy, CURLOPT_PROXY, a->proxy_url);
    }

    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "kubengx/" KUBENGX_VERSION);

    t = curl_slist_append(h, "Accept: application/json");
    if (t == NULL) {
        goto nomem;
    }
    h = t;

    if (token && token[0]) {
        snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
        t = curl_slist_append(h, line);
        if (t == NULL) {
            goto nomem;
        }
        h = t;
    }

    if (content_type) {
        snprintf(line, sizeof(line), "Content-Type: %s", content_type);
        t = curl_slist_append(h, line);
        if (t == NULL) {
            goto nomem;
        }
        h = t;
    }

    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, h);
    *headers = h;

    return 0;

nomem:

    curl_slist_free_all(h);
    kngx_ctl_log("error: out of memory");
    return -1;
}


typedef struct {
    char    *data;
    size_t   len;
    size_t   cap;
} kngx_ctl_body_t;


/* one asynchronous request on the main loop's multi handle */
struct kngx_ctl_call_s {
    kngx_ctl_call_t        *next;
    CURL                   *easy;
    struct curl_slist      *headers;
    char                   *url;
    char                   *text;          /* the request body */
    const char             *method;        /* a literal */
    char                   *path;
    kngx_ctl_body_t         body;
    kngx_ctl_api_done_pt    done;
    void                   *data;
    unsigned                started:1;
    char                    errbuf[CURL_ERROR_SIZE];
};


static size_t
kngx_ctl_api_write(char *ptr, size_t size, size_t n, void *data)
{
    kngx_ctl_body_t  *b = data;
    size_t            len = size * n;
    char             *p;

    if (b->len + len + 1 > b->cap) {
        size_t  cap = (b->len + len + 1) * 2;

        if (cap > 64 * 1024 * 1024) {
            return 0;
        }

        p = realloc(b->data, cap);
        if (p == NULL) {
            return 0;
        }
        b->data = p;
        b->cap = cap;
    }

    memcpy(b->data + b->len, ptr, len);
    b->len += len;
    b->data[b->len] = '\0';

    return len;
}


/* a handle for METHOD path with body; *url and *text are the caller's */

static CURL *
kngx_ctl_api_easy(kngx_ctl_t *ctl, const char *method, const char *path,
    json_t *body, const char *content_type, struct curl_slist **headers,
    char **url, char **text, kngx_ctl_body_t *b)
{
    CURL    *easy;
    size_t   len;

    easy = curl_easy_init();
    if (easy == NULL) {
        return NULL;
    }

    len = strlen(ctl->server) + strlen(path) + 1;
    *url = malloc(len);
    if (*url == NULL) {
        goto failed;
    }
    snprintf(*url, len, "%s%s", ctl->server, path);

    if (kngx_ctl_api_prepare(ctl, easy, headers,
                             body ? (content_type ? content_type
                                     : "application/json") : NULL) != 0)
    {
        goto failed;
    }

    if (body) {
        *text = json_dumps(body, JSON_COMPACT);
        if (*text == NULL) {
            goto failed;
        }
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, *text);
    }

    curl_easy_setopt(easy, CURLOPT_URL, *url);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long) KNGX_API_TIMEOUT_MS);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, kngx_ctl_api_write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, b);

    return easy;

failed:

    curl_easy_cleanup(easy);
    return NULL;
}


/* the status (-1: no response), logged when it is an error */

static long
kngx_ctl_api_result(kngx_ctl_t *ctl, CURL *easy, CURLcode rc,
    const char *errbuf, const char *method, const char *path,
    kngx_ctl_body_t *b, json_t **resp)
{
    long         status = -1;
    json_t      *st;
    const char  *msg;

    if (rc != CURLE_OK) {
        kngx_ctl_log("warning: %s %s: %s", method, path,
                     errbuf && errbuf[0] ? errbuf : curl_easy_strerror(rc));
        return -1;
    }

    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);

    if (status == 401) {
        kube_token_invalidate(&ctl->token);
    }

    if (resp && b->data) {
        *resp = json_loadb(b->data, b->len, 0, NULL);
    }

    if (status >= 300 && status != 404 && status != 409) {
        st = b->data ? json_loadb(b->data, b->len, 0, NULL) : NULL;
        msg = json_string_value(json_object_get(st, "message"));

        kngx_ctl_log("warning: %s %s: HTTP %ld%s%s", method, path, status,
                     msg ? ": " : "", msg ? msg : "");
        json_decref(st);
    }

    return status;
}


long
kngx_ctl_api_call(kngx_ctl_t *ctl, const char *method, const char *path,
    json_t *body, const char *content_type, json_t **resp)
{
    CURL               *easy;
    CURLcode            rc;
    struct curl_slist  *headers = NULL;
    kngx_ctl_body_t     b = { NULL, 0, 0 };
    char               *url = NULL, *text = NULL;
    char                errbuf[CURL_ERROR_SIZE];
    long                status = -1;

    if (resp) {
        *resp = NULL;
    }

    easy = kngx_ctl_api_easy(ctl, method, path, body, content_type,
                             &headers, &url, &text, &b);
    if (easy == NULL) {
        goto done;
    }

    errbuf[0] = '\0';
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);

    rc = curl_easy_perform(easy);
    status = kngx_ctl_api_result(ctl, easy, rc, errbuf, method, path, &b,
                                 resp);

done:

    curl_slist_free_all(headers);
    curl_easy_cleanup(easy);
    free(b.data);
    free(url);
    free(text);

    return status;
}


/* ---- asynchronous requests ----------------------------------------------- */

static void
kngx_ctl_call_free(kngx_ctl_t *ctl, kngx_ctl_call_t *c)
{
    if (c->easy) {
        if (c->started) {
            curl_multi_remove_handle(ctl->multi, c->easy);
        }
        curl_easy_cleanup(c->easy);
    }

    curl_slist_free_all(c->headers);
    free(c->url);
    free(c->text);
    free(c->path);
    free(c->body.data);
    free(c);
}


/* start queued calls while fewer than KNGX_API_CALLS_MAX are running */

static void
kngx_ctl_api_run(kngx_ctl_t *ctl)
{
    kngx_ctl_call_t   *c, **pp;

    pp = &ctl->calls;

    while (*pp && ctl->calls_running < KNGX_API_CALLS_MAX) {
        c = *pp;

        if (c->started) {
            pp = &c->next;
            continue;
        }

        if (curl_multi_add_handle(ctl->multi, c->easy) == CURLM_OK) {
            c->started = 1;
            ctl->calls_running++;
            pp = &c->next;
            continue;
        }

        /* dropped: its callback hears of it as of a failure */

        kngx_ctl_log("error: %s %s: cannot start the request", c->method,
                     c->path);
        *pp = c->next;
        ctl->calls_queued--;

        if (c->done) {
            c->done(ctl, -1, NULL, c->data);
        }

        kngx_ctl_call_free(ctl, c);
    }
}


int
kngx_ctl_api_start(kngx_ctl_t *ctl, const char *method, const char *path,
    json_t *body, const char *content_type, int urgent,
    kngx_ctl_api_done_pt done, void *data)
{
    kngx_ctl_call_t  *c, **last;

    if (ctl->calls_closing || ctl->calls_queued >= KNGX_API_QUEUE_MAX) {
        kngx_ctl_log("warning: %s %s: %s", method, path,
                     ctl->calls_closing ? "stopping"
                     : "too many API requests queued; dropped");
        return -1;
    }

    c = calloc(1, sizeof(kngx_ctl_call_t));
    if (c == NULL) {
        kngx_ctl_log("error: out of memory");
        return -1;
    }

    c->method = method;
    c->done = done;
    c->data = data;
    c->path = strdup(path);

    if (c->path == NULL) {
        kngx_ctl_log("error: out of memory");
        kngx_ctl_call_free(ctl, c);
        return -1;
    }

    c->easy = kngx_ctl_api_easy(ctl, method, path, body, content_type,
                                &c->headers, &c->url, &c->text, &c->body);
    if (c->easy == NULL) {
        kngx_ctl_log("error: %s %s: cannot set the request up", method,
                     path);
        kngx_ctl_call_free(ctl, c);
        return -1;
    }

    curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);

    ctl->calls_queued++;

    if (urgent) {
        if (curl_multi_add_handle(ctl->multi, c->easy) != CURLM_OK) {
            kngx_ctl_log("error: %s %s: cannot start the request", method,
                         path);
            ctl->calls_queued--;
            kngx_ctl_call_free(ctl, c);
            return -1;
        }

        c->started = 1;
        ctl->calls_running++;
        c->next = ctl->calls;
        ctl->calls = c;

        return 0;
    }

    /* the others in order */

    for (last = &ctl->calls; *last; last = &(*last)->next) { /* void */ }
    *last = c;

    kngx_ctl_api_run(ctl);

    return 0;
}


int
kngx_ctl_api_is_call(kngx_ctl_t *ctl, void *priv)
{
    kngx_ctl_call_t  *c;

    for (c = ctl->calls; c; c = c->next) {
        if ((void *) c == priv) {
            return 1;
        }
    }

    return 0;
}


void
kngx_ctl_api_done(kngx_ctl_t *ctl, void *priv, CURLcode rc)
{
    long               status;
    json_t            *resp = NULL;
    kngx_ctl_call_t   *c = priv, **pp;

    for (pp = &ctl->calls; *pp && *pp != c; pp = &(*pp)->next) { /* void */ }

    if (*pp == NULL) {
        return;
    }

    *pp = c->next;
    ctl->calls_queued--;
    ctl->calls_running--;

    status = kngx_ctl_api_result(ctl, c->easy, rc, c->errbuf, c->method,
                                 c->path, &c->body, &resp);

    if (c->done) {
        c->done(ctl, status, resp, c->data);
    }

    json_decref(resp);
    kngx_ctl_call_free(ctl, c);

    kngx_ctl_api_run(ctl);
}


void
kngx_ctl_api_cancel_all(kngx_ctl_t *ctl)
{
    kngx_ctl_call_t  *c;

    ctl->calls_closing = 1;

    while (ctl->calls) {
        c = ctl->calls;
        ctl->calls = c->next;

        if (c->done) {
            c->done(ctl, -1, NULL, c->data);
        }

        kngx_ctl_call_free(ctl, c);
    }

    ctl->calls_queued = 0;
    ctl->calls_running = 0;
}
