
/*
 * kubengx: libcurl's multi-socket interface driven by nginx's event loop,
 * for the watcher (worker 0 only).
 *
 * Rules it follows:
 *
 *   - one CURLM; CURLMOPT_SOCKETFUNCTION maps each curl socket to an
 *     nginx connection from ngx_get_connection(), with the read and write
 *     events added and deleted separately and always level-triggered;
 *     CURL_POLL_REMOVE does a real delete, drops posted events and frees
 *     the connection with fd = -1 (the fd is curl's);
 *   - CURLMOPT_TIMERFUNCTION drives one cancelable timer, deleted before
 *     it is re-added (ngx_add_timer keeps a timer that is < 300 ms off);
 *   - curl is never called from inside its own callbacks: a finished
 *     transfer is reported after curl_multi_socket_action() returned;
 *   - curl connections are c->idle, so a graceful shutdown closes them
 *     (the read handler sees c->close and calls the shutdown handler);
 *     everything is released by ngx_http_k8s_curl_cleanup().
 */


#ifndef _NGX_HTTP_K8S_CURL_H_INCLUDED_
#define _NGX_HTTP_K8S_CURL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <curl/curl.h>


typedef struct ngx_http_k8s_xfer_s  ngx_http_k8s_xfer_t;

/*
 * A transfer ended (rc: its result).  x->easy is still valid here; the
 * handler ends it with ngx_http_k8s_curl_stop().
 */
typedef void (*ngx_http_k8s_xfer_done_pt)(ngx_http_k8s_xfer_t *x,
    CURLcode rc);


/* one transfer: at most one in flight per ngx_http_k8s_xfer_t */
struct ngx_http_k8s_xfer_s {
    CURL                        *easy;      /* NULL: none in flight */
    ngx_http_k8s_xfer_done_pt    done;
    void                        *data;
    char                         errbuf[CURL_ERROR_SIZE];
};


typedef struct {
    CURLM                       *multi;
    ngx_log_t                   *log;

    /* a graceful shutdown closed one of curl's connections */
    void                       (*shutdown)(void *data);
    void                        *data;

    ngx_event_t                  timer;     /* curl's timer */
    ngx_connection_t             dummy;     /* ev->data of the timer */
    ngx_uint_t                   sockets;
} ngx_http_k8s_curl_t;


/* NGX_ERROR when curl_multi_init() fails (logged) */
ngx_int_t ngx_http_k8s_curl_init(ngx_http_k8s_curl_t *c, ngx_log_t *log);

/*
 * Starts the transfer e (set up by the caller, which keeps no other
 * reference to it): x->easy = e.  On failure (logged) e is cleaned up
 * and NGX_ERROR returned.
 */
ngx_int_t ngx_http_k8s_curl_start(ngx_http_k8s_curl_t *c,
    ngx_http_k8s_xfer_t *x, CURL *e);

/* ends the transfer of x, if any; its connections are released */
void ngx_http_k8s_curl_stop(ngx_http_k8s_curl_t *c, ngx_http_k8s_xfer_t *x);

/* curl_multi_cleanup() and the timer; transfers must be stopped first */
void ngx_http_k8s_curl_cleanup(ngx_http_k8s_curl_t *c);

/* (re)arms an nginx timer in ms (the watcher's step timer uses it too) */
void ngx_http_k8s_arm_timer(ngx_event_t *ev, ngx_msec_t ms);


#endif /* _NGX_HTTP_K8S_CURL_H_INCLUDED_ */
