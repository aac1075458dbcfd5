
/*
 * kubengx controller: the health and metrics server (controller_http.c).
 */

#ifndef KNGX_CONTROLLER_HTTP_H
#define KNGX_CONTROLLER_HTTP_H

#include <stdint.h>

#include <curl/curl.h>

#include "render.h"


#define KNGX_CTL_HTTP_MAX_FDS  129      /* the listener and the clients */

typedef struct kngx_ctl_http_s  kngx_ctl_http_t;

typedef struct {
    const char          *address;       /* NULL: [::] and 0.0.0.0 */
    int                  port;          /* 0: off */
} kngx_ctl_http_conf_t;

typedef struct {
    uint64_t             evicted;       /* connections closed unanswered */
    uint64_t             timed_out;
} kngx_ctl_http_stats_t;

/* the answer to GET path: the body and its type; returns the status
 * ("200 OK"), or NULL: later (the owner calls kngx_ctl_http_resume(),
 * which asks again) */
typedef const char *(*kngx_ctl_http_answer_pt)(void *data, const char *path,
    kngx_buf_t *body, const char **content_type);


kngx_ctl_http_t *kngx_ctl_http_create(const kngx_ctl_http_conf_t *conf,
    kngx_ctl_http_answer_pt answer, void *data);
void kngx_ctl_http_destroy(kngx_ctl_http_t *h);

/* fds to poll: returns how many were written to fds */
int kngx_ctl_http_fds(kngx_ctl_http_t *h, struct curl_waitfd *fds, int max);
void kngx_ctl_http_handle(kngx_ctl_http_t *h, struct curl_waitfd *fds,
    int n);

/* ask the owner again for the answers it put off */
void kngx_ctl_http_resume(kngx_ctl_http_t *h);
/* a non-blocking listening socket on addr (NULL: every address, IPv6
 * and IPv4) and port; *bound: the address used; -1 (errno) on error */
int kngx_ctl_http_bind(const char *addr, int port, const char **bound);

const kngx_ctl_http_stats_t *kngx_ctl_http_stats(kngx_ctl_http_t *h);

#endif /* KNGX_CONTROLLER_HTTP_H */
