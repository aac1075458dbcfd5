/*
 * kubengx: the k8s_api directive and libcurl easy handles for the API.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_api.h"
#include "kube_kubeconfig.h"


static char *ngx_http_k8s_api_strdup(const char *s, size_t len);
static char *ngx_http_k8s_api_getenv(const char *name);
static ngx_int_t ngx_http_k8s_api_in_cluster(ngx_http_k8s_api_t *api);
static ngx_int_t ngx_http_k8s_api_kubeconfig(ngx_http_k8s_api_t *api,
    ngx_str_t *path);
static ngx_int_t ngx_http_k8s_api_set(char **dst, ngx_str_t *value);
static ngx_int_t ngx_http_k8s_api_read_token(ngx_http_k8s_api_t *api);
static ngx_int_t ngx_http_k8s_api_set_header(ngx_http_k8s_api_t *api,
    const char *token, size_t len);


char *
ngx_http_k8s_api_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_k8s_main_conf_t  *kmcf = conf;

    size_t       n;
    ngx_str_t   *value, *dst, s;
    ngx_uint_t   i;

    if (kmcf->api_set == 1) {
        return "is duplicate";
    }

    kmcf->api_set = 1;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "kubeconfig=", 11) == 0) {
            dst = &kmcf->kubeconfig;
            s.data = value[i].data + 11;
            s.len = value[i].len - 11;

        } else if (ngx_strncmp(value[i].data, "token_file=", 11) == 0) {
            dst = &kmcf->token_file;
            s.data = value[i].data + 11;
            s.len = value[i].len - 11;

        } else if (ngx_strncmp(value[i].data, "ca_file=", 8) == 0) {
            dst = &kmcf->ca_file;
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

        } else if (ngx_strncmp(value[i].data, "watch_idle_timeout=", 19)
                   == 0)
        {
            s.data = value[i].data + 19;
            s.len = value[i].len - 19;

            if (kmcf->watch_idle_timeout != 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "duplicate k8s_api parameter \"%V\"",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            kmcf->watch_idle_timeout = ngx_parse_time(&s, 0);

            if (kmcf->watch_idle_timeout == (ngx_msec_t) NGX_ERROR
                || kmcf->watch_idle_timeout < 1000)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid k8s_api parameter \"%V\": "
                                   "expected a time of 1s or more",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;

        } else if (i == 1
                   && (ngx_strncmp(value[i].data, "http://", 7) == 0
                       || ngx_strncmp(value[i].data, "https://", 8) == 0))
        {
            s = value[i];
            n = (s.data[4] == 's') ? 8 : 7;

            while (s.len > n && s.data[s.len - 1] == '/') {
                s.len--;
            }

            if (s.len == n
                || ngx_strlchr(s.data + n, s.data + s.len, '/') != NULL
                || ngx_strlchr(s.data, s.data + s.len, '?') != NULL)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid k8s_api URL \"%V\": expected "
                                   "http(s)://HOST[:PORT] with no path",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            kmcf->api_url = s;
            continue;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid k8s_api parameter \"%V\"",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        if (s.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "empty path in \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        if (dst->data != NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate k8s_api parameter \"%V\"",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        *dst = s;

        if (ngx_conf_full_name(cf->cycle, dst, 1) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    /* no URL and no kubeconfig: the in-cluster server, read now */

    if (ngx_http_k8s_api_conf_default(cf, kmcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_k8s_api_strdup(const char *s, size_t len)
{
    char  *p;

    p = malloc(len + 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, s, len);
    p[len] = '\0';

    return p;
}


/*
 * Workers run with an environment reduced to TZ and the "env" directive's
 * variables (and nginx reuses the original environment's memory for the
 * process title), so the in-cluster variables are read at configuration
 * time, in the master, by ngx_http_k8s_api_conf_default(); a worker only
 * sees them itself with "env KUBERNETES_SERVICE_HOST;" and "env
 * KUBERNETES_SERVICE_PORT;".
 */

static char *
ngx_http_k8s_api_getenv(const char *name)
{
    char  *v;

    v = getenv(name);
    if (v == NULL || v[0] == '\0') {
        return NULL;
    }

    return ngx_http_k8s_api_strdup(v, ngx_strlen(v));
}


ngx_int_t
ngx_http_k8s_api_conf_default(ngx_conf_t *cf,
    ngx_http_k8s_main_conf_t *kmcf)
{
    u_char      *p;
    size_t       len;
    ngx_str_t    sa;
    const char  *host, *port;

    if (kmcf->api_url.data != NULL || kmcf->kubeconfig.data != NULL) {
        return NGX_OK;
    }

    host = getenv("KUBERNETES_SERVICE_HOST");
    port = getenv("KUBERNETES_SERVICE_PORT");

    if (host == NULL || port == NULL || host[0] == '\0' || port[0] == '\0') {
        /* resolved (and reported) in the worker */
        return NGX_OK;
    }

    len = sizeof("https://[]:") - 1 + ngx_strlen(host) + ngx_strlen(port);

    p = ngx_pnalloc(cf->pool, len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    kmcf->api_url.data = p;
    kmcf->api_url.len = ngx_sprintf(p, ngx_strchr(host, ':')
                                       ? "https://[%s]:%s" : "https://%s:%s",
                                    host, port)
                        - p;
    p[kmcf->api_url.len] = '\0';

    if (kmcf->token_file.data == NULL) {
        ngx_str_set(&sa, NGX_HTTP_K8S_SA_TOKEN);
        kmcf->token_file = sa;
    }

    if (kmcf->ca_file.data == NULL) {
        ngx_str_set(&sa, NGX_HTTP_K8S_SA_CA);
        kmcf->ca_file = sa;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_k8s_api_in_cluster(ngx_http_k8s_api_t *api)
{
    char    *host, *port;
    size_t   len;

    host = ngx_http_k8s_api_getenv("KUBERNETES_SERVICE_HOST");
    port = ngx_http_k8s_api_getenv("KUBERNETES_SERVICE_PORT");

    if (host == NULL || port == NULL) {
        ngx_log_error(NGX_LOG_ERR, api->log, 0,
                      "k8s api: no API server: KUBERNETES_SERVICE_HOST and "
                      "KUBERNETES_SERVICE_PORT are not set (not in a "
                      "cluster); give \"k8s_api\" a URL or kubeconfig=");
        free(host);
        free(port);
        return NGX_ERROR;
    }

    len = sizeof("https://[]:") + ngx_strlen(host) + ngx_strlen(port);

    api->server = malloc(len);
    if (api->server == NULL) {
        free(host);
        free(port);
        return NGX_ERROR;
    }

    /* JoinHostPort: bracket IPv6 literals */

    ngx_sprintf((u_char *) api->server,
                ngx_strchr(host, ':') ? "https://[%s]:%s%Z"
                                      : "https://%s:%s%Z", host, port);
    free(host);
    free(port);

    if (api->token_file == NULL) {
        api->token_file = ngx_http_k8s_api_strdup(NGX_HTTP_K8S_SA_TOKEN,
                                          sizeof(NGX_HTTP_K8S_SA_TOKEN) - 1);
        if (api->token_file == NULL) {
            return NGX_ERROR;
        }
    }

    if (api->ca_file == NULL && api->ca_data == NULL) {
        api->ca_file = ngx_http_k8s_api_strdup(NGX_HTTP_K8S_SA_CA,
                                          sizeof(NGX_HTTP_K8S_SA_CA) - 1);
        if (api->ca_file == NULL) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_k8s_api_kubeconfig(ngx_http_k8s_api_t *api, ngx_str_t *path)
{
    kube_err_t   err;
    kube_auth_t  kc;

    ngx_memzero(&kc, sizeof(kube_auth_t));

    if (kube_kubeconfig_load(&kc, (const char *) path->data, NULL, &err)
        != 0)
    {
        ngx_log_error(NGX_LOG_ERR, api->log, 0,
                      "k8s api: kubeconfig \"%V\": %s", path, err.msg);
        kube_auth_free(&kc);
        return NGX_ERROR;
    }

#define ngx_http_k8s_api_dup(dst, src)                                        \
    if ((src) != NULL && (dst) == NULL) {                                     \
        (dst) = ngx_http_k8s_api_strdup((src), ngx_strlen(src));              \
        if ((dst) == NULL) {                                                  \
            goto failed;                                                      \
        }                                                                     \
    }

#define ngx_http_k8s_api_dupb(dst, dlen, src, slen)                           \
    if ((src) != NULL && (dst) == NULL) {                                     \
        (dst) = ngx_http_k8s_api_strdup((const char *) (src), (slen));        \
        if ((dst) == NULL) {                                                  \
            goto failed;                                                      \
        }                                                                     \
        (dlen) = (slen);                                                      \
    }

    ngx_http_k8s_api_dup(api->server, kc.server);
    ngx_http_k8s_api_dup(api->ca_file, kc.ca_file);
    ngx_http_k8s_api_dupb(api->ca_data, api->ca_data_len, kc.ca_pem,
                          kc.ca_pem_len);
    ngx_http_k8s_api_dup(api->token_file, kc.token_file);
    ngx_http_k8s_api_dup(api->token, kc.token);
    ngx_http_k8s_api_dup(api->cert_file, kc.client_cert_file);
    ngx_http_k8s_api_dupb(api->cert_data, api->cert_data_len,
                          kc.client_cert_pem, kc.client_cert_pem_len);
    ngx_http_k8s_api_dup(api->key_file, kc.client_key_file);
    ngx_http_k8s_api_dupb(api->key_data, api->key_data_len,
                          kc.client_key_pem, kc.client_key_pem_len);

#undef ngx_http_k8s_api_dup
#undef ngx_http_k8s_api_dupb

    if (kc.insecure_skip_tls_verify) {
        api->insecure = 1;
    }

    kube_auth_free(&kc);

    if (api->server == NULL) {
        ngx_log_error(NGX_LOG_ERR, api->log, 0,
                      "k8s api: kubeconfig \"%V\" names no server", path);
        return NGX_ERROR;
    }

    return NGX_OK;

failed:

    kube_auth_free(&kc);
    return NGX_ERROR;
}


static ngx_int_t
ngx_http_k8s_api_set(char **dst, ngx_str_t *value)
{
    if (value == NULL || value->len == 0) {
        return NGX_OK;
    }

    *dst = ngx_http_k8s_api_strdup((char *) value->data, value->len);

    return *dst ? NGX_OK : NGX_ERROR;
}


ngx_int_t
ngx_http_k8s_api_init(ngx_http_k8s_api_t *api, ngx_str_t *url,
    ngx_str_t *kubeconfig, ngx_str_t *token_file, ngx_str_t *ca_file,
    ngx_log_t *log)
{
    ngx_memzero(api, sizeof(ngx_http_k8s_api_t));
    api->log = log;

    /* explicit values first: the kubeconfig only fills what is unset */

    if (ngx_http_k8s_api_set(&api->server, url) != NGX_OK
        || ngx_http_k8s_api_set(&api->token_file, token_file) != NGX_OK
        || ngx_http_k8s_api_set(&api->ca_file, ca_file) != NGX_OK)
    {
        goto nomem;
    }

    if (kubeconfig != NULL && kubeconfig->len) {
        if (ngx_http_k8s_api_kubeconfig(api, kubeconfig) != NGX_OK) {
            goto failed;
        }

    } else if (api->server == NULL) {
        if (ngx_http_k8s_api_in_cluster(api) != NGX_OK) {
            goto failed;
        }
    }

    if (api->ca_file && api->ca_data) {
        /* an explicit ca_file= wins over certificate-authority-data */
        free(api->ca_data);
        api->ca_data = NULL;
    }

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "k8s api: server %s, ca %s, token %s%s%s",
                  api->server,
                  api->ca_file ? api->ca_file
                               : (api->ca_data ? "(kubeconfig data)"
                                               : "(system)"),
                  api->token_file ? api->token_file
                                  : (api->token ? "(kubeconfig)" : "none"),
                  (api->cert_file || api->cert_data) ? ", client cert" : "",
                  api->insecure ? ", TLS NOT VERIFIED" : "");

    return NGX_OK;

nomem:

    ngx_log_error(NGX_LOG_ALERT, log, 0, "k8s api: out of memory");

failed:

    ngx_http_k8s_api_cleanup(api);
    return NGX_ERROR;
}


void
ngx_http_k8s_api_cleanup(ngx_http_k8s_api_t *api)
{
    free(api->server);
    free(api->ca_file);
    free(api->ca_data);
    free(api->token_file);

    if (api->token) {
        explicit_bzero(api->token, ngx_strlen(api->token));
        free(api->token);
    }

    free(api->cert_file);
    free(api->cert_data);
    free(api->key_file);

    if (api->key_data) {
        explicit_bzero(api->key_data, api->key_data_len);
        free(api->key_data);
    }

    if (api->headers) {
        curl_slist_free_all(api->headers);
    }

    kube_token_free(&api->tok);

    ngx_memzero(api, sizeof(ngx_http_k8s_api_t));
}


void
ngx_http_k8s_api_token_invalidate(ngx_http_k8s_api_t *api)
{
    kube_token_invalidate(&api->tok);
}


static ngx_int_t
ngx_http_k8s_api_set_header(ngx_http_k8s_api_t *api, const char *token,
    size_t len)
{
    u_char              *p;
    struct curl_slist   *h, *next;
    u_char               buf[8192];

    h = curl_slist_append(NULL, "Accept: application/json");
    if (h == NULL) {
        return NGX_ERROR;
    }

    if (token != NULL && len > 0) {
        if (len > sizeof(buf) - sizeof("Authorization: Bearer ")) {
            ngx_log_error(NGX_LOG_ERR, api->log, 0,
                          "k8s api: bearer token too long (%uz bytes)", len);
            curl_slist_free_all(h);
            return NGX_ERROR;
        }

        p = ngx_sprintf(buf, "Authorization: Bearer %*s%Z", len, token);

        next = curl_slist_append(h, (char *) buf);
        explicit_bzero(buf, p - buf);

        if (next == NULL) {
            curl_slist_free_all(h);
            return NGX_ERROR;
        }

        h = next;
    }

    if (api->headers) {
        curl_slist_free_all(api->headers);
    }

    api->headers = h;

    return NGX_OK;
}


static ngx_int_t
ngx_http_k8s_api_read_token(ngx_http_k8s_api_t *api)
{
    uint64_t    now;
    kube_err_t  err;

    if (api->token_file == NULL) {
        if (api->headers != NULL) {
            return NGX_OK;
        }

        return ngx_http_k8s_api_set_header(api, api->token,
                               api->token ? ngx_strlen(api->token) : 0);
    }

    now = ngx_current_msec;

    if (api->headers != NULL && !kube_token_stale(&api->tok, now)) {
        return NGX_OK;
    }

    /* a small local file: read synchronously, as nginx reads its own */

    if (kube_token_load(&api->tok, api->token_file, now, &err) != 0) {
        ngx_log_error(NGX_LOG_ERR, api->log, 0, "k8s api: %s", err.msg);

        if (api->tok.value == NULL) {
            return NGX_ERROR;
        }

        /* the old token may still work */
    }

    api->token_reads++;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, api->log, 0,
                   "k8s api: token read from \"%s\"", api->token_file);

    return ngx_http_k8s_api_set_header(api, api->tok.value,
                                       ngx_strlen(api->tok.value));
}


CURL *
ngx_http_k8s_api_easy(ngx_http_k8s_api_t *api, const char *path_query,
    long timeout_ms)
{
    CURL               *e;
    size_t              len;
    char               *url;
    CURLcode            rc;
    struct curl_blob    blob;

    if (ngx_http_k8s_api_read_token(api) != NGX_OK) {
        return NULL;
    }

    len = ngx_strlen(api->server) + ngx_strlen(path_query) + 1;

    url = malloc(len);
    if (url == NULL) {
        return NULL;
    }

    ngx_sprintf((u_char *) url, "%s%s%Z", api->server, path_query);

    e = curl_easy_init();
    if (e == NULL) {
        free(url);
        ngx_log_error(NGX_LOG_ALERT, api->log, 0,
                      "k8s api: curl_easy_init() failed");
        return NULL;
    }

#define ngx_http_k8s_api_opt(opt, val)                                        \
    rc = curl_easy_setopt(e, opt, val);                                       \
    if (rc != CURLE_OK) {                                                     \
        ngx_log_error(NGX_LOG_ALERT, api->log, 0,                             \
                      "k8s api: curl_easy_setopt(" #opt ") failed: %s",       \
                      curl_easy_strerror(rc));                                \
        goto failed;                                                          \
    }

    ngx_http_k8s_api_opt(CURLOPT_URL, url);
    ngx_http_k8s_api_opt(CURLOPT_NOSIGNAL, 1L);
    ngx_http_k8s_api_opt(CURLOPT_PROTOCOLS_STR, "http,https");
    ngx_http_k8s_api_opt(CURLOPT_HTTPHEADER, api->headers);
    ngx_http_k8s_api_opt(CURLOPT_USERAGENT, "kubengx-module");
    ngx_http_k8s_api_opt(CURLOPT_HTTP_VERSION,
                         (long) CURL_HTTP_VERSION_2TLS);
    ngx_http_k8s_api_opt(CURLOPT_ACCEPT_ENCODING, "");
    ngx_http_k8s_api_opt(CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    ngx_http_k8s_api_opt(CURLOPT_TCP_KEEPALIVE, 1L);
    ngx_http_k8s_api_opt(CURLOPT_TCP_KEEPIDLE, 30L);
    ngx_http_k8s_api_opt(CURLOPT_TCP_KEEPINTVL, 10L);
    ngx_http_k8s_api_opt(CURLOPT_TCP_NODELAY, 1L);

    if (timeout_ms > 0) {
        ngx_http_k8s_api_opt(CURLOPT_TIMEOUT_MS, timeout_ms);
    }

    if (api->insecure) {
        ngx_http_k8s_api_opt(CURLOPT_SSL_VERIFYPEER, 0L);
        ngx_http_k8s_api_opt(CURLOPT_SSL_VERIFYHOST, 0L);

    } else if (api->ca_file) {
        ngx_http_k8s_api_opt(CURLOPT_CAINFO, api->ca_file);

    } else if (api->ca_data) {
        blob.data = api->ca_data;
        blob.len = api->ca_data_len;
        blob.flags = CURL_BLOB_COPY;
        ngx_http_k8s_api_opt(CURLOPT_CAINFO_BLOB, &blob);
    }

    if (api->cert_file) {
        ngx_http_k8s_api_opt(CURLOPT_SSLCERT, api->cert_file);

    } else if (api->cert_data) {
        blob.data = api->cert_data;
        blob.len = api->cert_data_len;
        blob.flags = CURL_BLOB_COPY;
        ngx_http_k8s_api_opt(CURLOPT_SSLCERT_BLOB, &blob);
        ngx_http_k8s_api_opt(CURLOPT_SSLCERTTYPE, "PEM");
    }

    if (api->key_file) {
        ngx_http_k8s_api_opt(CURLOPT_SSLKEY, api->key_file);

    } else if (api->key_data) {
        blob.data = api->key_data;
        blob.len = api->key_data_len;
        blob.flags = CURL_BLOB_COPY;
        ngx_http_k8s_api_opt(CURLOPT_SSLKEY_BLOB, &blob);
        ngx_http_k8s_api_opt(CURLOPT_SSLKEYTYPE, "PEM");
    }

#undef ngx_http_k8s_api_opt

    /* CURLOPT_URL is copied by libcurl */
    free(url);

    return e;

failed:

    free(url);
    curl_easy_cleanup(e);
    return NULL;
}

