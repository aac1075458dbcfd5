
/*
 * kubengx controller: /healthz, /readyz and /metrics on --metrics-port.
 *
 * A small HTTP/1.1 server on the main loop that never waits on a client:
 * accept, read the request head as it arrives, answer (written as the
 * socket takes it), close.  Idle and slow clients cannot starve the
 * probes:
 *
 *   - at most KNGX_HTTP_MAX_CLIENTS connections; when all are taken, a
 *     new one evicts the oldest.  kubelet and Prometheus send their
 *     request as soon as they are connected and are answered within a
 *     loop turn, so only idle or slow connections ever get old;
 *   - a new connection is read at once (its request is usually there
 *     already), and at most KNGX_HTTP_ACCEPTS are accepted per turn, so
 *     that a flood of connections cannot push a probe out before it is
 *     read;
 *   - the whole request head must arrive within KNGX_HTTP_READ_MS of the
 *     accept (a slowloris client sending a byte at a time is cut), and
 *     the answer be taken within KNGX_HTTP_WRITE_MS;
 *   - the listen backlog is the kernel's maximum.
 *
 * Address: --metrics-address, or every address of the pod, IPv6 and
 * IPv4 ("::" dual-stack, "0.0.0.0" where IPv6 is off): kubelet probes and
 * Prometheus come to the pod IP, of either family.
 *
 * GET and HEAD only; what a path answers is the owner's (/healthz,
 * /readyz and /metrics: controller_metrics.c).  The owner may answer
 * later (/metrics waits for nginx's own metrics): the connection is
 * then parked, not polled, until kngx_ctl_http_resume() or its write
 * deadline.
 */

#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "controller_http.h"
#include "controller_log.h"


#define KNGX_HTTP_MAX_CLIENTS  (KNGX_CTL_HTTP_MAX_FDS - 1)
#define KNGX_HTTP_MAX_HEAD     4096
#define KNGX_HTTP_ACCEPTS      32
#define KNGX_HTTP_READ_MS      3000
#define KNGX_HTTP_WRITE_MS     3000


typedef struct {
    int                  fd;            /* -1: free */
    int                  poll;          /* index in the last fds, or -1 */
    unsigned             writing:1;
    unsigned             pending:1;     /* the answer comes later */
    uint64_t             deadline;
    uint64_t             since;         /* accepted at */
    size_t               len;           /* head read, or answer sent */
    kngx_buf_t           out;           /* the answer */
    char                 head[KNGX_HTTP_MAX_HEAD + 1];
} kngx_ctl_client_t;


struct kngx_ctl_http_s {
    kngx_ctl_http_conf_t     conf;
    kngx_ctl_http_answer_pt  answer;
    void                    *data;
    int                      fd;
    int                      poll;
    uint64_t                 paused;    /* no accept before (EMFILE) */
    size_t                   nclients;
    kngx_ctl_http_stats_t    stats;
    kngx_ctl_client_t        clients[KNGX_HTTP_MAX_CLIENTS];
};


static int
kngx_ctl_http_listen(const char *addr, int port16, int v6only)
{
    struct sockaddr_in6  sin6;
    struct sockaddr_in   sin;
    int                  fd, on = 1, v6;
    uint16_t             port = (uint16_t) port16;

    v6 = strchr(addr, ':') != NULL;

    fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK
                | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }

    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));

    if (v6) {
        if (v6only >= 0) {
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
                       sizeof(v6only));
        }

        memset(&sin6, 0, sizeof(sin6));
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(port);
        if (inet_pton(AF_INET6, addr, &sin6.sin6_addr) != 1) {
            errno = EINVAL;
            goto failed;
        }
        if (bind(fd, (struct sockaddr *) &sin6, sizeof(sin6)) != 0) {
            goto failed;
        }

    } else {
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_port = htons(port);
        if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
            errno = EINVAL;
            goto failed;
        }
        if (bind(fd, (struct sockaddr *) &sin, sizeof(sin)) != 0) {
            goto failed;
        }
    }

    if (listen(fd, SOMAXCONN) != 0) {
        goto failed;
    }

    return fd;

failed:

    close(fd);
    return -1;
}


int
kngx_ctl_http_bind(const char *addr, int port, const char **bound)
{
    int  fd;

    if (addr) {
        fd = kngx_ctl_http_listen(addr, port, -1);

    } else {
        /* every address: dual-stack, or IPv4 where IPv6 is off */
        addr = "::";
        fd = kngx_ctl_http_listen(addr, port, 0);

        if (fd < 0 && (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL
                       || errno == EINVAL))
        {
            addr = "0.0.0.0";
            fd = kngx_ctl_http_listen(addr, port, -1);
        }
    }

    *bound = addr;

    return fd;
}


static int
kngx_ctl_http_open(kngx_ctl_http_t *h)
{
    const char  *addr;
    int          port = h->conf.port;

    h->fd = kngx_ctl_http_bind(h->conf.address, port, &addr);

    if (h->fd < 0) {
        kngx_ctl_log("error: metrics: %s port %d: %s", addr, port,
                     errno == EINVAL ? "not an IP address" : strerror(errno));
        return -1;
    }

    kngx_ctl_log("health and metrics on %s%s%s:%d%s",
                 strchr(addr, ':') ? "[" : "", addr,
                 strchr(addr, ':') ? "]" : "", port,
                 h->conf.address ? "" : " (every address)");

    return 0;
}


kngx_ctl_http_t *
kngx_ctl_http_create(const kngx_ctl_http_conf_t *conf,
    kngx_ctl_http_answer_pt answer, void *data)
{
    kngx_ctl_http_t  *h;
    size_t            i;

    h = calloc(1, sizeof(kngx_ctl_http_t));
    if (h == NULL) {
        kngx_ctl_log("error: metrics: out of memory");
        return NULL;
    }

    h->conf = *conf;
    h->answer = answer;
    h->data = data;
    h->fd = -1;
    for (i = 0; i < KNGX_HTTP_MAX_CLIENTS; i++) {
        h->clients[i].fd = -1;
    }

    if (conf->port != 0 && kngx_ctl_http_open(h) != 0) {
        free(h);
        return NULL;
    }

    return h;
}


const kngx_ctl_http_stats_t *
kngx_ctl_http_stats(kngx_ctl_http_t *h)
{
    return &h->stats;
}


int
kngx_ctl_http_fds(kngx_ctl_http_t *h, struct curl_waitfd *fds, int max)
{
    kngx_ctl_client_t       *c;
    size_t                   i;
    int                      n = 0;

    h->poll = -1;

    if (h->fd >= 0 && n < max && kngx_ctl_now() >= h->paused) {
        fds[n].fd = h->fd;
        fds[n].events = CURL_WAIT_POLLIN;
        fds[n].revents = 0;
        h->poll = n++;
    }

    for (i = 0; i < KNGX_HTTP_MAX_CLIENTS; i++) {
        c = &h->clients[i];
        c->poll = -1;

        if (c->fd >= 0 && !c->pending && n < max) {
            fds[n].fd = c->fd;
            fds[n].events = c->writing ? CURL_WAIT_POLLOUT : CURL_WAIT_POLLIN;
            fds[n].revents = 0;
            c->poll = n++;
        }
    }

    return n;
}


static void
kngx_ctl_client_close(kngx_ctl_http_t *h, kngx_ctl_client_t *c)
{
    close(c->fd);
    c->fd = -1;
    c->poll = -1;
    c->writing = 0;
    c->pending = 0;
    c->len = 0;
    kngx_buf_free(&c->out);
    h->nclients--;
}


static void
kngx_ctl_respond(kngx_ctl_http_t *h, kngx_ctl_client_t *c)
{
    kngx_buf_t   body = { NULL, 0, 0, 0 };
    const char  *status;
    const char  *ctype = "text/plain; charset=utf-8";
    const char  *head = c->head;
    char         path[256];
    int          head_only;

    if (sscanf(head, "%*s %255s", path) != 1) {
        snprintf(path, sizeof(path), "/");
    }

    head_only = strncmp(head, "HEAD ", 5) == 0;

    if (strncmp(head, "GET ", 4) != 0 && !head_only) {
        status = "405 Method Not Allowed";
        kngx_buf_printf(&body, "method not allowed\n");

    } else {
        status = h->answer(h->data, path, &body, &ctype);

        if (status == NULL) {
            /* the owner answers later: kngx_ctl_http_resume() */
            c->pending = 1;
            c->deadline = kngx_ctl_now() + KNGX_HTTP_WRITE_MS;
            kngx_buf_free(&body);
            return;
        }
    }

    c->pending = 0;

    kngx_buf_printf(&c->out, "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
                    "Content-Length: %zu\r\nConnection: close\r\n\r\n%.*s",
                    status, ctype, body.len, head_only ? 0 : (int) body.len,
                    body.data ? body.data : "");

    c->writing = 1;
    c->len = 0;
    c->deadline = kngx_ctl_now() + KNGX_HTTP_WRITE_MS;

    if (body.nomem || c->out.nomem) {
        c->out.len = 0;         /* closed unanswered */
    }

    kngx_buf_free(&body);
}


/* read or write what the socket allows; close when done or failed */

static void
kngx_ctl_client_io(kngx_ctl_http_t *h, kngx_ctl_client_t *c)
{
    ssize_t  r;

    if (!c->writing) {
        r = read(c->fd, c->head + c->len, KNGX_HTTP_MAX_HEAD - c->len);

        if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }

        if (r <= 0) {
            kngx_ctl_client_close(h, c);
            return;
        }

        c->len += (size_t) r;
        c->head[c->len] = '\0';

        if (strstr(c->head, "\r\n\r\n") == NULL
            && strstr(c->head, "\n\n") == NULL
            && c->len < KNGX_HTTP_MAX_HEAD)
        {
            return;
        }

        kngx_ctl_respond(h, c);

        if (c->pending) {
            return;
        }
    }

    while (c->len < c->out.len) {
        r = send(c->fd, c->out.data + c->len, c->out.len - c->len,
                 MSG_NOSIGNAL);

        if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }

        if (r <= 0) {
            break;
        }

        c->len += (size_t) r;
    }

    kngx_ctl_client_close(h, c);
}


/* a free slot; evict: the oldest connection's, even if one is free */

static kngx_ctl_client_t *
kngx_ctl_client_slot(kngx_ctl_http_t *h, int evict)
{
    kngx_ctl_client_t       *c, *oldest = NULL;
    size_t                   i;

    for (i = 0; i < KNGX_HTTP_MAX_CLIENTS; i++) {
        c = &h->clients[i];

        if (c->fd < 0) {
            if (!evict) {
                return c;
            }
            continue;
        }

        if (oldest == NULL || c->since < oldest->since) {
            oldest = c;
        }
    }

    if (oldest) {
        h->stats.evicted++;
        kngx_ctl_client_close(h, oldest);
    }

    return oldest;
}


static void
kngx_ctl_http_accept(kngx_ctl_http_t *h, uint64_t now)
{
    kngx_ctl_client_t       *c;
    int                      fd, i;

    for (i = 0; i < KNGX_HTTP_ACCEPTS; i++) {
        fd = accept4(h->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EMFILE && errno != ENFILE) {
                return;
            }

            /* no descriptor left: free one, or listen again later */

            if (kngx_ctl_client_slot(h, 1) == NULL) {
                h->paused = now + 100;
                return;
            }

            continue;
        }

        c = kngx_ctl_client_slot(h, 0);
        c->fd = fd;
        c->poll = -1;
        c->since = now;
        c->deadline = now + KNGX_HTTP_READ_MS;
        c->len = 0;
        c->writing = 0;
        h->nclients++;

        kngx_ctl_client_io(h, c);
    }
}


void
kngx_ctl_http_handle(kngx_ctl_http_t *h, struct curl_waitfd *fds, int n)
{
    kngx_ctl_client_t       *c;
    uint64_t                 now = kngx_ctl_now();
    size_t                   i;

    for (i = 0; i < KNGX_HTTP_MAX_CLIENTS; i++) {
        c = &h->clients[i];

        if (c->fd >= 0 && c->poll >= 0 && c->poll < n
            && fds[c->poll].fd == c->fd && fds[c->poll].revents)
        {
            kngx_ctl_client_io(h, c);
        }

        if (c->fd >= 0 && now >= c->deadline) {
            h->stats.timed_out++;
            kngx_ctl_client_close(h, c);
        }
    }

    if (h->poll >= 0 && h->poll < n && fds[h->poll].fd == h->fd
        && fds[h->poll].revents)
    {
        kngx_ctl_http_accept(h, now);
    }
}


void
kngx_ctl_http_resume(kngx_ctl_http_t *h)
{
    kngx_ctl_client_t  *c;
    size_t              i;

    for (i = 0; i < KNGX_HTTP_MAX_CLIENTS; i++) {
        c = &h->clients[i];

        if (c->fd >= 0 && c->pending) {
            kngx_ctl_respond(h, c);

            if (!c->pending) {
                kngx_ctl_client_io(h, c);
            }
        }
    }
}


void
kngx_ctl_http_destroy(kngx_ctl_http_t *h)
{
    size_t                   i;

    if (h == NULL) {
        return;
    }

    for (i = 0; i < KNGX_HTTP_MAX_CLIENTS; i++) {
        if (h->clients[i].fd >= 0) {
            kngx_ctl_client_close(h, &h->clients[i]);
        }
    }

    if (h->fd >= 0) {
        close(h->fd);
    }

    free(h);
}
