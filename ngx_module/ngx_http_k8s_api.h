/*
 * kubengx: how the module reaches the Kubernetes API.
 *
 *   k8s_api [URL] [kubeconfig=PATH] [token_file=PATH] [ca_file=PATH]
 *           [watch_idle_timeout=TIME];
 *
 * watch_idle_timeout (default 180s) cuts a watch that has delivered no
 * byte for that long (the API server sends a BOOKMARK about once a
 * minute), and the watch resumes from its resourceVersion.
 *
 * Without k8s_api the in-cluster default applies: https://HOST:PORT from
 * KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT (read at configuration
 * time in the master, whose environment nginx leaves intact; workers
 * see them only through "env" directives), the service account
 * token and ca.crt from /var/run/secrets/kubernetes.io/serviceaccount/;
 * "k8s_api token_file=... ca_file=...;" with no URL keeps the in-cluster
 * server and overrides the files.  With kubeconfig= the
 * current context's cluster and user are used (server,
 * certificate-authority(-data), insecure-skip-tls-verify, token, tokenFile,
 * client-certificate(-data), client-key(-data)), and an explicit URL,
 * token_file= or ca_file= still win.
 *
 * Everything below runs in the watching worker only: the resolved
 * settings live in worker memory, the token is re-read from its file at
 * least once a minute and after every 401.
 */

#ifndef NGX_HTTP_K8S_API_H
#define NGX_HTTP_K8S_API_H


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <curl/curl.h>

#include "kube_auth.h"
#include "ngx_http_k8s_module.h"


#define NGX_HTTP_K8S_SA_DIR    "/var/run/secrets/kubernetes.io/serviceaccount"
#define NGX_HTTP_K8S_SA_TOKEN  NGX_HTTP_K8S_SA_DIR "/token"
#define NGX_HTTP_K8S_SA_CA     NGX_HTTP_K8S_SA_DIR "/ca.crt"

typedef struct {
    /* all strings NUL-terminated, heap (malloc) owned; NULL when unset */
    char               *server;        /* "https://host:port", no '/' */
    char               *ca_file;
    char               *ca_data;       /* PEM */
    size_t              ca_data_len;
    char               *token_file;
    char               *token;         /* static token from kubeconfig */
    char               *cert_file;
    char               *cert_data;
    size_t              cert_data_len;
    char               *key_file;
    char               *key_data;
    size_t              key_data_len;
    unsigned            insecure:1;

    /* the bearer token currently used ("Authorization: Bearer ...") */
    struct curl_slist  *headers;
    kube_token_t        tok;           /* the token_file's, with its age */
    ngx_uint_t          token_reads;

    ngx_log_t          *log;
} ngx_http_k8s_api_t;


/*
 * The k8s_api directive; stores into the main conf's api_url, kubeconfig,
 * token_file and ca_file.
 */
char *ngx_http_k8s_api_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * The in-cluster default, read from the environment at configuration time
 * (the master's environment): when neither a URL nor kubeconfig= is set,
 * sets api_url to https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT
 * and token_file/ca_file to the service account files unless given.
 * Called by k8s_api; the main conf's init should call it too, for the
 * case without any k8s_api line.  NGX_ERROR only when out of memory.
 */
ngx_int_t ngx_http_k8s_api_conf_default(ngx_conf_t *cf,
    ngx_http_k8s_main_conf_t *kmcf);

/*
 * Resolve the settings from the directive's values (empty strings when
 * not given): kubeconfig, in-cluster default, explicit overrides.
 * Returns NGX_OK or NGX_ERROR (logged, with the reason).
 */
ngx_int_t ngx_http_k8s_api_init(ngx_http_k8s_api_t *api, ngx_str_t *url,
    ngx_str_t *kubeconfig, ngx_str_t *token_file, ngx_str_t *ca_file,
    ngx_log_t *log);

void ngx_http_k8s_api_cleanup(ngx_http_k8s_api_t *api);

/*
 * A new easy handle for GET server + path_query (path_query starts with
 * '/'), with TLS, auth, NOSIGNAL, keepalive and timeouts set; the caller
 * sets the write/header callbacks.  timeout_ms 0: no overall limit.
 * NULL on failure (logged).
 */
CURL *ngx_http_k8s_api_easy(ngx_http_k8s_api_t *api, const char *path_query,
    long timeout_ms);

/* forget the cached token: the next request re-reads the file (401) */
void ngx_http_k8s_api_token_invalidate(ngx_http_k8s_api_t *api);


#endif /* NGX_HTTP_K8S_API_H */
