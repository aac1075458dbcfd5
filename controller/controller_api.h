
/*
 * kubengx controller: the API client (controller_api.c).
 *
 * It owns where the API is and how to authenticate, the libcurl multi
 * handle every transfer of the controller runs on (the watches of
 * controller_watch.c and its own requests), and the queue of one-shot
 * requests (leases, status patches, Events).
 */

#ifndef KNGX_CONTROLLER_API_H
#define KNGX_CONTROLLER_API_H

#include <curl/curl.h>
#include <jansson.h>

#include "kube_auth.h"


typedef struct kngx_ctl_api_s  kngx_ctl_api_t;

typedef struct {
    const char          *kubeconfig;    /* NULL: in-cluster config */
    const char          *context;       /* NULL: current-context */
} kngx_ctl_api_conf_t;


/*
 * A transfer on the multi handle: its easy handle's CURLOPT_PRIVATE
 * points at one, whose done kngx_ctl_api_perform() calls when it ended.
 */
typedef struct kngx_ctl_xfer_s  kngx_ctl_xfer_t;

struct kngx_ctl_xfer_s {
    void               (*done)(kngx_ctl_xfer_t *x, CURLcode rc);
};


/*
 * A request's end: the HTTP status, -1 without a response (a transport
 * error, or cancelled: kngx_ctl_api_closing() then says so), and the
 * parsed body (NULL if none or not JSON; a reference is needed to keep
 * it).
 */
typedef void (*kngx_ctl_api_done_pt)(void *data, long status, json_t *resp);


/* NULL (logged) when there is no usable configuration */
kngx_ctl_api_t *kngx_ctl_api_create(const kngx_ctl_api_conf_t *conf);
void kngx_ctl_api_destroy(kngx_ctl_api_t *api);

const kube_auth_t *kngx_ctl_api_auth(kngx_ctl_api_t *api);

/* a transfer of another part: set easy up for the API, and its URL */
int kngx_ctl_api_prepare(kngx_ctl_api_t *api, CURL *easy,
    struct curl_slist **headers, const char *content_type);
char *kngx_ctl_api_url(kngx_ctl_api_t *api, const char *path);
int kngx_ctl_api_add(kngx_ctl_api_t *api, CURL *easy);
void kngx_ctl_api_remove(kngx_ctl_api_t *api, CURL *easy);
/* a 401, or the list/watch machine asks: re-read the token first */
void kngx_ctl_api_token_invalidate(kngx_ctl_api_t *api);

/* the main loop's wait (fds: the loop's own) and progress */
void kngx_ctl_api_wait(kngx_ctl_api_t *api, struct curl_waitfd *fds,
    unsigned nfds, int timeout_ms);
void kngx_ctl_api_perform(kngx_ctl_api_t *api);

/*
 * Queue a request; done (may be NULL) is called once it ended.  Urgent
 * ones (Lease requests) start at once, ahead of the queue.  -1: not
 * queued, done is not called.
 */
int kngx_ctl_api_start(kngx_ctl_api_t *api, const char *method,
    const char *path, json_t *body, const char *content_type, int urgent,
    kngx_ctl_api_done_pt done, void *data);

/*
 * Blocking request, for the last ones at the first stop signal only (the
 * loop then only waits for nginx to quit); *resp (may be NULL) gets the
 * parsed body if JSON.
 */
long kngx_ctl_api_call(kngx_ctl_api_t *api, const char *method,
    const char *path, json_t *body, const char *content_type,
    json_t **resp);

/*
 * Blocking GET for a command-line client (kubectl kubengx): the status
 * and the raw body (malloc'ed, NUL-terminated; NULL on -1), or -1 with
 * err (a transport error).  Nothing is logged.
 */
long kngx_ctl_api_get(kngx_ctl_api_t *api, const char *path, char **body,
    size_t *len, char *err, size_t err_size);

/* drop every queued request (their done sees status -1) and refuse more */
void kngx_ctl_api_cancel_all(kngx_ctl_api_t *api);
int kngx_ctl_api_closing(kngx_ctl_api_t *api);

#endif /* KNGX_CONTROLLER_API_H */
