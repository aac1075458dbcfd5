
/*
 * kubengx: libcurl's multi-socket interface on nginx's event loop (see
 * ngx_http_k8s_curl.h).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_k8s_curl.h"


static void ngx_http_k8s_curl_handler(ngx_event_t *ev);
static void ngx_http_k8s_curl_action(ngx_http_k8s_curl_t *c,
    curl_socket_t s, int flags);
static void ngx_http_k8s_curl_check_done(ngx_http_k8s_curl_t *c);
static int ngx_http_k8s_curl_socket_cb(CURL *e, curl_socket_t s, int what,
    void *userp, void *socketp);
static int ngx_http_k8s_curl_timer_cb(CURLM *multi, long timeout_ms,
    void *userp);
static void ngx_http_k8s_curl_release(ngx_connection_t *conn);


ngx_int_t
ngx_http_k8s_curl_init(ngx_http_k8s_curl_t *c, ngx_log_t *log)
{
    c->log = log;

    c->dummy.fd = (ngx_socket_t) -1;
    c->dummy.data = c;

    c->timer.handler = ngx_http_k8s_curl_handler;
    c->timer.data = &c->dummy;
    c->timer.log = log;
    c->timer.cancelable = 1;

    c->multi = curl_multi_init();
    if (c->multi == NULL) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "k8s watcher: curl_multi_init() failed");
        return NGX_ERROR;
    }

    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION,
                      ngx_http_k8s_curl_socket_cb);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION,
                      ngx_http_k8s_curl_timer_cb);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);

    return NGX_OK;
}


ngx_int_t
ngx_http_k8s_curl_start(ngx_http_k8s_curl_t *c, ngx_http_k8s_xfer_t *x,
    CURL *e)
{
    CURLMcode  mrc;

    x->errbuf[0] = '\0';

    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);

    mrc = curl_multi_add_handle(c->multi, e);
    if (mrc != CURLM_OK) {
        ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                      "k8s watcher: curl_multi_add_handle() failed: %s",
                      curl_multi_strerror(mrc));
        curl_easy_cleanup(e);
        return NGX_ERROR;
    }

    x->easy = e;

    /* curl's timer callback has been asked for a 0 ms timeout */

    return NGX_OK;
}


void
ngx_http_k8s_curl_stop(ngx_http_k8s_curl_t *c, ngx_http_k8s_xfer_t *x)
{
    CURL  *e;

    e = x->easy;

    if (e == NULL) {
        return;
    }

    x->easy = NULL;

    /* REMOVE callbacks free the connections */
    curl_multi_remove_handle(c->multi, e);
    curl_easy_cleanup(e);
}


void
ngx_http_k8s_curl_cleanup(ngx_http_k8s_curl_t *c)
{
    if (c->multi) {
        /* REMOVE callbacks for cached connections may still arrive */
        curl_multi_cleanup(c->multi);
        c->multi = NULL;
    }

    if (c->timer.timer_set) {
        ngx_del_timer(&c->timer);
    }
}


void
ngx_http_k8s_arm_timer(ngx_event_t *ev, ngx_msec_t ms)
{
    /* del first: ngx_add_timer() keeps a timer less than 300 ms off */

    if (ev->timer_set) {
        ngx_del_timer(ev);
    }

    ngx_add_timer(ev, ms);
}


/*
 * curl's timer, and read/write events of its sockets: ev->data is a
 * connection (the dummy one for the timer) whose data is the curl state
 */

static void
ngx_http_k8s_curl_handler(ngx_event_t *ev)
{
    ngx_connection_t     *conn;
    ngx_http_k8s_curl_t  *c;

    conn = ev->data;
    c = conn->data;

    if (c->multi == NULL) {
        return;
    }

    if (conn == &c->dummy) {
        ngx_http_k8s_curl_action(c, CURL_SOCKET_TIMEOUT, 0);
        return;
    }

    if (ev->write) {
        ngx_http_k8s_curl_action(c, conn->fd, CURL_CSELECT_OUT);
        return;
    }

    if (conn->close) {
        /* graceful shutdown (ngx_close_idle_connections) */
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "k8s watcher: shutting down, watch stopped");

        /*
         * no more events for this socket even if libcurl keeps it cached
         * without a REMOVE (it is then released in exit_process)
         */

        if (conn->read->active) {
            ngx_del_event(conn->read, NGX_READ_EVENT, 0);
        }

        if (conn->write->active) {
            ngx_del_event(conn->write, NGX_WRITE_EVENT, 0);
        }

        c->shutdown(c->data);

        /* conn was freed through the REMOVE callback: do not touch it */
        return;
    }

    ngx_http_k8s_curl_action(c, conn->fd, CURL_CSELECT_IN);
}


static void
ngx_http_k8s_curl_action(ngx_http_k8s_curl_t *c, curl_socket_t s,
    int flags)
{
    int        running;
    CURLMcode  mrc;

    mrc = curl_multi_socket_action(c->multi, s, flags, &running);

    if (mrc != CURLM_OK) {
        ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                      "k8s watcher: curl_multi_socket_action() failed: %s",
                      curl_multi_strerror(mrc));
    }

    ngx_http_k8s_curl_check_done(c);
}


static void
ngx_http_k8s_curl_check_done(ngx_http_k8s_curl_t *c)
{
    int                   left;
    char                 *p;
    CURLMsg              *msg;
    ngx_http_k8s_xfer_t  *x;

    while (c->multi != NULL
           && (msg = curl_multi_info_read(c->multi, &left)) != NULL)
    {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }

        p = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p);
        x = (ngx_http_k8s_xfer_t *) p;

        if (x == NULL || x->easy != msg->easy_handle) {
            continue;
        }

        /* msg is invalid once the handler stopped the transfer */
        x->done(x, msg->data.result);
    }
}


/* libcurl callbacks: never call libcurl from these */

static int
ngx_http_k8s_curl_socket_cb(CURL *e, curl_socket_t s, int what, void *userp,
    void *socketp)
{
    ngx_connection_t     *conn;
    ngx_http_k8s_curl_t  *c;

    c = userp;
    conn = socketp;

    if (what == CURL_POLL_REMOVE) {
        if (conn != NULL) {
            ngx_http_k8s_curl_release(conn);
            c->sockets--;
            curl_multi_assign(c->multi, s, NULL);
        }

        return 0;
    }

    if (conn == NULL) {
        conn = ngx_get_connection(s, c->log);
        if (conn == NULL) {
            return -1;
        }

        conn->data = c;
        conn->read->handler = ngx_http_k8s_curl_handler;
        conn->write->handler = ngx_http_k8s_curl_handler;
        conn->read->log = c->log;
        conn->write->log = c->log;
        conn->log = c->log;

        /* closed by ngx_close_idle_connections() on graceful shutdown */
        conn->idle = 1;

        c->sockets++;
        curl_multi_assign(c->multi, s, conn);
    }

    /* read and write separately, level-triggered (NGX_LEVEL_EVENT) */

    if (what & CURL_POLL_IN) {
        if (!conn->read->active
            && ngx_add_event(conn->read, NGX_READ_EVENT, NGX_LEVEL_EVENT)
               != NGX_OK)
        {
            return -1;
        }

    } else if (conn->read->active) {
        ngx_del_event(conn->read, NGX_READ_EVENT, 0);
    }

    if (what & CURL_POLL_OUT) {
        if (!conn->write->active
            && ngx_add_event(conn->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
               != NGX_OK)
        {
            return -1;
        }

    } else if (conn->write->active) {
        ngx_del_event(conn->write, NGX_WRITE_EVENT, 0);
    }

    return 0;
}


static void
ngx_http_k8s_curl_release(ngx_connection_t *conn)
{
    /* a real delete: the fd stays open (curl may cache it) */

    if (conn->read->active) {
        ngx_del_event(conn->read, NGX_READ_EVENT, 0);
    }

    if (conn->write->active) {
        ngx_del_event(conn->write, NGX_WRITE_EVENT, 0);
    }

    if (conn->read->posted) {
        ngx_delete_posted_event(conn->read);
    }

    if (conn->write->posted) {
        ngx_delete_posted_event(conn->write);
    }

    if (conn->read->timer_set) {
        ngx_del_timer(conn->read);
    }

    if (conn->write->timer_set) {
        ngx_del_timer(conn->write);
    }

    ngx_free_connection(conn);

    /* ngx_free_connection() leaves fd; never close curl's socket */
    conn->fd = (ngx_socket_t) -1;
}


static int
ngx_http_k8s_curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    ngx_http_k8s_curl_t  *c = userp;

    if (timeout_ms < 0) {
        if (c->timer.timer_set) {
            ngx_del_timer(&c->timer);
        }

        return 0;
    }

    ngx_http_k8s_arm_timer(&c->timer, (ngx_msec_t) timeout_ms);

    return 0;
}
