
/*
 * kubengx controller: where the API is and how to talk to it.
 *
 * In-cluster config by default, --kubeconfig otherwise (kube/kube_auth.h,
 * kube/kube_kubeconfig.h).  kngx_ctl_api_prepare() sets a libcurl handle
 * up with the server's CA, client certificate and bearer token (re-read
 * from its file at most once a minute and after a 401).
 *
 * Every transfer of the controller runs on the one multi handle here;
 * kngx_ctl_api_perform() hands each that ended to its kngx_ctl_xfer_t.
 *
 * Leases, status patches and Events go through kngx_ctl_api_start(): an
 * asynchronous request on the multi handle, with a callback, so a slow
 * or unreachable API never stalls the loop (health probes, watches,
 * syncs).  At most KNGX_API_CALLS_MAX run at once, the rest wait in
 * order; Lease requests (urgent) go first and never wait.
 * kngx_ctl_api_call() blocks, for the last requests at the first stop
 * signal only.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller_api.h"
#include "controller_log.h"
#include "kube_kubeconfig.h"


#define KNGX_API_TIMEOUT_MS  5000
#define KNGX_API_CALLS_MAX   4        /* running at once */
#define KNGX_API_QUEUE_MAX   1000     /* queued and running */


typedef struct kngx_ctl_call_s  kngx_ctl_call_t;

struct kngx_ctl_api_s {
    kube_auth_t          auth;
    kube_token_t         token;
    CURLM               *multi;
    kngx_ctl_call_t     *calls;         /* asynchronous requests */
    unsigned             calls_queued;  /* incl. running */
    unsigned             calls_running;
    unsigned             closing:1;
};


static int
kngx_ctl_api_auth_load(kngx_ctl_api_t *api, const kngx_ctl_api_conf_t *conf)
{
    kube_err_t  err;
    int         rc;

    kube_err_clear(&err);

    if (conf->kubeconfig) {
        rc = kube_kubeconfig_load(&api->auth, conf->kubeconfig,
                                  conf->context, &err);
        if (rc != 0) {
            kngx_ctl_log("error: kubeconfig: %s", err.msg);
            return -1;
        }

    } else {
        rc = kube_auth_in_cluster(&api->auth, NULL, &err);
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

    if (api->auth.token_file
        && kube_token_load(&api->token, api->auth.token_file, kngx_ctl_now(),
                           &err) != 0)
    {
        kngx_ctl_log("warning: token: %s", err.msg);
    }

    kngx_ctl_log("API server %s (%s)", api->auth.server,
                 api->auth.in_cluster ? "in-cluster" : conf->kubeconfig);

    return 0;
}


kngx_ctl_api_t *
kngx_ctl_api_create(const kngx_ctl_api_conf_t *conf)
{
    kngx_ctl_api_t  *api;

    api = calloc(1, sizeof(kngx_ctl_api_t));
    if (api == NULL) {
        kngx_ctl_log("error: out of memory");
        return NULL;
    }

    if (kngx_ctl_api_auth_load(api, conf) != 0) {
        kngx_ctl_api_destroy(api);
        return NULL;
    }

    api->multi = curl_multi_init();
    if (api->multi == NULL) {
        kngx_ctl_log("error: out of memory");
        kngx_ctl_api_destroy(api);
        return NULL;
    }

    return api;
}


void
kngx_ctl_api_destroy(kngx_ctl_api_t *api)
{
    if (api == NULL) {
        return;
    }

    kngx_ctl_api_cancel_all(api);

    if (api->multi) {
        curl_multi_cleanup(api->multi);
    }

    kube_auth_free(&api->auth);
    kube_token_free(&api->token);
    free(api);
}


const kube_auth_t *
kngx_ctl_api_auth(kngx_ctl_api_t *api)
{
    return &api->auth;
}


void
kngx_ctl_api_token_invalidate(kngx_ctl_api_t *api)
{
    kube_token_invalidate(&api->token);
}


char *
kngx_ctl_api_url(kngx_ctl_api_t *api, const char *path)
{
    char    *url;
    size_t   len;

    len = strlen(api->auth.server) + strlen(path) + 1;

    url = malloc(len);
    if (url) {
        snprintf(url, len, "%s%s", api->auth.server, path);
    }

    return url;
}


int
kngx_ctl_api_add(kngx_ctl_api_t *api, CURL *easy)
{
    return curl_multi_add_handle(api->multi, easy) == CURLM_OK ? 0 : -1;
}


void
kngx_ctl_api_remove(kngx_ctl_api_t *api, CURL *easy)
{
    curl_multi_remove_handle(api->multi, easy);
}


void
kngx_ctl_api_wait(kngx_ctl_api_t *api, struct curl_waitfd *fds,
    unsigned nfds, int timeout_ms)
{
    curl_multi_wait(api->multi, fds, nfds, timeout_ms, NULL);
}


void
kngx_ctl_api_perform(kngx_ctl_api_t *api)
{
    CURLMsg          *msg;
    kngx_ctl_xfer_t  *x;
    char             *priv;
    int               running, left;

    curl_multi_perform(api->multi, &running);

    while ((msg = curl_multi_info_read(api->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }

        priv = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);

        x = (kngx_ctl_xfer_t *) priv;
        if (x) {
            x->done(x, msg->data.result);
        }
    }
}


/* PEM data from a kubeconfig, copied by libcurl */

static void
kngx_ctl_api_blob(CURL *easy, CURLoption opt, unsigned char *data,
    size_t len)
{
    struct curl_blob  blob;

    blob.data = data;
    blob.len = len;
    blob.flags = CURL_BLOB_COPY;
    curl_easy_setopt(easy, opt, &blob);
}


/* the server's CA, and the client certificate if there is one */

static void
kngx_ctl_api_tls(CURL *easy, const kube_auth_t *a)
{
    if (a->ca_file) {
        curl_easy_setopt(easy, CURLOPT_CAINFO, a->ca_file);
    }

    if (a->ca_pem) {
        kngx_ctl_api_blob(easy, CURLOPT_CAINFO_BLOB, a->ca_pem,
                          a->ca_pem_len);
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
        kngx_ctl_api_blob(easy, CURLOPT_SSLCERT_BLOB, a->client_cert_pem,
                          a->client_cert_pem_len);
        curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
    }

    if (a->client_key_pem) {
        kngx_ctl_api_blob(easy, CURLOPT_SSLKEY_BLOB, a->client_key_pem,
                          a->client_key_pem_len);
        curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
    }
}


int
kngx_ctl_api_prepare(kngx_ctl_api_t *api, CURL *easy,
    struct curl_slist **headers, const char *content_type)
{
    kube_auth_t         *a = &api->auth;
    struct curl_slist   *h = NULL, *t;
    const char          *token = NULL;
    kube_err_t           err;
    char                 line[8192];
    uint64_t             now = kngx_ctl_now();

    if (a->token_file && kube_token_stale(&api->token, now)) {
        if (kube_token_load(&api->token, a->token_file, now, &err) != 0) {
            kngx_ctl_log("warning: token: %s", err.msg);
        }
    }

    token = a->token_file ? api->token.value : a->token;

    kngx_ctl_api_tls(easy, a);

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


/* one asynchronous request on the multi handle */
struct kngx_ctl_call_s {
    kngx_ctl_xfer_t         xfer;          /* first: CURLOPT_PRIVATE */
    kngx_ctl_api_t         *api;
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


static void kngx_ctl_call_done(kngx_ctl_xfer_t *x, CURLcode rc);


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
kngx_ctl_api_easy(kngx_ctl_api_t *api, const char *method, const char *path,
    json_t *body, const char *content_type, struct curl_slist **headers,
    char **url, char **text, kngx_ctl_body_t *b)
{
    CURL  *easy;

    easy = curl_easy_init();
    if (easy == NULL) {
        return NULL;
    }

    *url = kngx_ctl_api_url(api, path);
    if (*url == NULL) {
        goto failed;
    }

    if (kngx_ctl_api_prepare(api, easy, headers,
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
kngx_ctl_api_result(kngx_ctl_api_t *api, CURL *easy, CURLcode rc,
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
        kube_token_invalidate(&api->token);
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


/*
 * A blocking request.  raw NULL: the status logged when it is an error,
 * *resp the JSON body.  Else nothing logged: raw gets the body (the
 * caller frees raw->data), err a transport error (status -1).
 */
static long
kngx_ctl_api_blocking(kngx_ctl_api_t *api, const char *method,
    const char *path, json_t *body, const char *content_type, json_t **resp,
    kngx_ctl_body_t *raw, char *err, size_t err_size)
{
    CURL               *easy;
    CURLcode            rc;
    struct curl_slist  *headers = NULL;
    kngx_ctl_body_t     b = { NULL, 0, 0 };
    char               *url = NULL, *text = NULL;
    char                errbuf[CURL_ERROR_SIZE];
    long                status = -1;

    if (raw) {
        snprintf(err, err_size, "out of memory");
    }

    easy = kngx_ctl_api_easy(api, method, path, body, content_type,
                             &headers, &url, &text, &b);
    if (easy == NULL) {
        goto done;
    }

    errbuf[0] = '\0';
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);

    rc = curl_easy_perform(easy);

    if (raw == NULL) {
        status = kngx_ctl_api_result(api, easy, rc, errbuf, method, path, &b,
                                     resp);

    } else if (rc != CURLE_OK) {
        snprintf(err, err_size, "%s", errbuf[0] ? errbuf
                                               : curl_easy_strerror(rc));

    } else {
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        *raw = b;
        b.data = NULL;
        err[0] = '\0';
    }

done:

    curl_slist_free_all(headers);
    curl_easy_cleanup(easy);
    free(b.data);
    free(url);
    free(text);

    return status;
}


long
kngx_ctl_api_call(kngx_ctl_api_t *api, const char *method, const char *path,
    json_t *body, const char *content_type, json_t **resp)
{
    if (resp) {
        *resp = NULL;
    }

    return kngx_ctl_api_blocking(api, method, path, body, content_type, resp,
                                 NULL, NULL, 0);
}


long
kngx_ctl_api_get(kngx_ctl_api_t *api, const char *path, char **body,
    size_t *len, char *err, size_t err_size)
{
    kngx_ctl_body_t  b = { NULL, 0, 0 };
    long             status;

    status = kngx_ctl_api_blocking(api, "GET", path, NULL, NULL, NULL, &b,
                                   err, err_size);

    *body = status < 0 ? NULL : b.data ? b.data : strdup("");
    *len = b.len;

    if (status >= 0 && *body == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }

    return status;
}


/* ---- asynchronous requests ----------------------------------------------- */

static void
kngx_ctl_call_free(kngx_ctl_call_t *c)
{
    if (c->easy) {
        if (c->started) {
            curl_multi_remove_handle(c->api->multi, c->easy);
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
kngx_ctl_api_run(kngx_ctl_api_t *api)
{
    kngx_ctl_call_t   *c, **pp;

    pp = &api->calls;

    while (*pp && api->calls_running < KNGX_API_CALLS_MAX) {
        c = *pp;

        if (c->started) {
            pp = &c->next;
            continue;
        }

        if (curl_multi_add_handle(api->multi, c->easy) == CURLM_OK) {
            c->started = 1;
            api->calls_running++;
            pp = &c->next;
            continue;
        }

        /* dropped: its callback hears of it as of a failure */

        kngx_ctl_log("error: %s %s: cannot start the request", c->method,
                     c->path);
        *pp = c->next;
        api->calls_queued--;

        if (c->done) {
            c->done(c->data, -1, NULL);
        }

        kngx_ctl_call_free(c);
    }
}


int
kngx_ctl_api_start(kngx_ctl_api_t *api, const char *method, const char *path,
    json_t *body, const char *content_type, int urgent,
    kngx_ctl_api_done_pt done, void *data)
{
    kngx_ctl_call_t  *c, **last;

    if (api->closing || api->calls_queued >= KNGX_API_QUEUE_MAX) {
        kngx_ctl_log("warning: %s %s: %s", method, path,
                     api->closing ? "stopping"
                     : "too many API requests queued; dropped");
        return -1;
    }

    c = calloc(1, sizeof(kngx_ctl_call_t));
    if (c == NULL) {
        kngx_ctl_log("error: out of memory");
        return -1;
    }

    c->xfer.done = kngx_ctl_call_done;
    c->api = api;
    c->method = method;
    c->done = done;
    c->data = data;
    c->path = strdup(path);

    if (c->path == NULL) {
        kngx_ctl_log("error: out of memory");
        kngx_ctl_call_free(c);
        return -1;
    }

    c->easy = kngx_ctl_api_easy(api, method, path, body, content_type,
                                &c->headers, &c->url, &c->text, &c->body);
    if (c->easy == NULL) {
        kngx_ctl_log("error: %s %s: cannot set the request up", method,
                     path);
        kngx_ctl_call_free(c);
        return -1;
    }

    curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(c->easy, CURLOPT_PRIVATE, &c->xfer);

    api->calls_queued++;

    if (urgent) {
        if (curl_multi_add_handle(api->multi, c->easy) != CURLM_OK) {
            kngx_ctl_log("error: %s %s: cannot start the request", method,
                         path);
            api->calls_queued--;
            kngx_ctl_call_free(c);
            return -1;
        }

        c->started = 1;
        api->calls_running++;
        c->next = api->calls;
        api->calls = c;

        return 0;
    }

    /* the others in order */

    for (last = &api->calls; *last; last = &(*last)->next) { /* void */ }
    *last = c;

    kngx_ctl_api_run(api);

    return 0;
}


static void
kngx_ctl_call_done(kngx_ctl_xfer_t *x, CURLcode rc)
{
    long               status;
    json_t            *resp = NULL;
    kngx_ctl_call_t   *c = (kngx_ctl_call_t *) x, **pp;
    kngx_ctl_api_t    *api = c->api;

    for (pp = &api->calls; *pp && *pp != c; pp = &(*pp)->next) { /* void */ }

    if (*pp == NULL) {
        return;
    }

    *pp = c->next;
    api->calls_queued--;
    api->calls_running--;

    status = kngx_ctl_api_result(api, c->easy, rc, c->errbuf, c->method,
                                 c->path, &c->body, &resp);

    if (c->done) {
        c->done(c->data, status, resp);
    }

    json_decref(resp);
    kngx_ctl_call_free(c);

    kngx_ctl_api_run(api);
}


void
kngx_ctl_api_cancel_all(kngx_ctl_api_t *api)
{
    kngx_ctl_call_t  *c;

    api->closing = 1;

    while (api->calls) {
        c = api->calls;
        api->calls = c->next;

        if (c->done) {
            c->done(c->data, -1, NULL);
        }

        kngx_ctl_call_free(c);
    }

    api->calls_queued = 0;
    api->calls_running = 0;
}


int
kngx_ctl_api_closing(kngx_ctl_api_t *api)
{
    return api->closing;
}
