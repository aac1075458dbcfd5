/*
 * kubengx kube/: where the API server is and how to authenticate to it.
 *
 * Sources: in-cluster (KUBERNETES_SERVICE_HOST/PORT and the service
 * account files, here) or a kubeconfig (kube_kubeconfig.h).
 *
 * Ownership: every pointer in kube_auth_t is malloc'ed and released by
 * kube_auth_free(); absent values are NULL.
 *
 * Tokens: the bearer token must be re-read from its file at most every
 * 60 s and at once after a 401 (client-go's cached file token source);
 * kube_token_t implements that policy.  Reading files here is small,
 * blocking I/O: do it at startup or from a timer, not per request.
 */

#ifndef KUBE_AUTH_H
#define KUBE_AUTH_H

#include "kube_common.h"


#define KUBE_SA_DIR  "/var/run/secrets/kubernetes.io/serviceaccount"
#define KUBE_TOKEN_MAX_AGE_MS  60000

/* kube_auth_in_cluster(): the environment says "not in a cluster" */
#define KUBE_AUTH_NOT_IN_CLUSTER  (-2)


typedef struct {
    char            *server;           /* "https://host:port", no "/" end */
    char            *ca_file;          /* path, NULL if none */
    unsigned char   *ca_pem;           /* certificate-authority-data */
    size_t           ca_pem_len;
    int              insecure_skip_tls_verify;
    char            *tls_server_name;
    char            *proxy_url;

    char            *token;            /* a literal token */
    char            *token_file;       /* re-read with kube_token_t */
    char            *client_cert_file;
    char            *client_key_file;
    unsigned char   *client_cert_pem;  /* client-certificate-data */
    size_t           client_cert_pem_len;
    unsigned char   *client_key_pem;   /* client-key-data */
    size_t           client_key_pem_len;
    char            *username;         /* basic auth, rarely used */
    char            *password;

    char            *ns;               /* default namespace, NULL if none */
    char            *context;          /* kubeconfig names, NULL in-cluster */
    char            *cluster;
    char            *user;
    int              in_cluster;
} kube_auth_t;


typedef struct {
    const char      *host;      /* NULL: $KUBERNETES_SERVICE_HOST */
    const char      *port;      /* NULL: $KUBERNETES_SERVICE_PORT */
    const char      *sa_dir;    /* NULL: KUBE_SA_DIR */
} kube_incluster_opts_t;


/*
 * In-cluster config: server https://HOST:PORT (IPv6 bracketed), token
 * file SA_DIR/token (must be readable), ca_file SA_DIR/ca.crt (if it
 * exists), ns from SA_DIR/namespace (if it exists).  Returns 0,
 * KUBE_AUTH_NOT_IN_CLUSTER when host or port is unset, -1 on other errors.
 */
int kube_auth_in_cluster(kube_auth_t *auth, const kube_incluster_opts_t *opts,
    kube_err_t *err);

void kube_auth_free(kube_auth_t *auth);


typedef struct {
    char            *value;      /* NULL until loaded */
    uint64_t         read_ms;
    unsigned         invalid:1;  /* set after a 401 */
} kube_token_t;

/* 1 if the token must be (re-)read: never read, older than 60 s, or 401 */
int kube_token_stale(const kube_token_t *t, uint64_t now_ms);

/*
 * Read the token file (trailing whitespace trimmed).  On failure the old
 * value is kept (a request may still succeed with it) and -1 returned;
 * read_ms is updated either way so a missing file is retried once a
 * minute, not per request.
 */
int kube_token_load(kube_token_t *t, const char *path, uint64_t now_ms,
    kube_err_t *err);

void kube_token_invalidate(kube_token_t *t);
void kube_token_free(kube_token_t *t);


/* malloc'ed copy of s, NULL on allocation failure */
char *kube_auth_dup(const char *s);

#endif /* KUBE_AUTH_H */
