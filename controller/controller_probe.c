
/*
 * kubengx controller: does nginx answer on its http port?
 *
 * /readyz says ready only once it has: a config written and nginx
 * started are not enough, nginx may still be reading a large config,
 * opening its sockets or forking its workers, and a pod that gets
 * traffic then drops it.
 *
 * From the main loop, never blocking: once a config was applied and
 * nginx started, a non-blocking connect to the http port (on
 * --listen-address when it is an IP address, else the loopback address)
 * and "GET / HTTP/1.1" without a Host header, which nginx answers with
 * 400 by itself whatever the routes (no backend sees it).  A PROXY
 * protocol line comes first: with use-proxy-protocol the listener needs
 * it, without it nginx answers it alone with its 400.  Any "HTTP/" status
 * line counts.  An attempt has KNGX_PROBE_TIMEOUT_MS; the next starts
 * KNGX_PROBE_INTERVAL_MS after a failure.  One answer is enough: nginx
 * keeps its listening sockets across reloads, and the controller exits
 * when nginx does.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "controller_log.h"
#include "controller_probe.h"


#define KNGX_PROBE_TIMEOUT_MS   1000
#define KNGX_PROBE_INTERVAL_MS  100


struct kngx_ctl_probe_s {
    int                      fd;        /* -1: no attempt running */
    unsigned                 sent:1;
    unsigned                 ok:1;
    uint64_t                 deadline;
    uint64_t                 next;      /* the next attempt */
    unsigned                 attempts;
    size_t                   got;
    char                     buf[8];
    struct sockaddr_storage  addr;
    socklen_t                addrlen;
    char                     name[80];
};


/* --listen-address if it is an IP address ("[::1]" too), else loopback */

static void
kngx_ctl_probe_addr(kngx_ctl_probe_t *pr, const char *a, int http_port)
{
    struct sockaddr_in6  *sin6 = (struct sockaddr_in6 *) &pr->addr;
    struct sockaddr_in   *sin = (struct sockaddr_in *) &pr->addr;
    char                  ip[64];
    size_t                n;
    uint16_t              port = (uint16_t) http_port;

    ip[0] = '\0';

    if (a) {
        n = strlen(a);
        if (n >= 2 && a[0] == '[' && a[n - 1] == ']' && n < sizeof(ip)) {
            memcpy(ip, a + 1, n - 2);
            ip[n - 2] = '\0';
        } else {
            snprintf(ip, sizeof(ip), "%s", a);
        }
    }

    memset(&pr->addr, 0, sizeof(pr->addr));

    if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
        if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr)) {
            sin6->sin6_addr = in6addr_loopback;
            snprintf(ip, sizeof(ip), "::1");
        }
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        pr->addrlen = sizeof(*sin6);
        snprintf(pr->name, sizeof(pr->name), "[%s]:%d", ip, port);
        return;
    }

    if (inet_pton(AF_INET, ip, &sin->sin_addr) != 1
        || sin->sin_addr.s_addr == htonl(INADDR_ANY))
    {
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        snprintf(ip, sizeof(ip), "127.0.0.1");
    }

    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    pr->addrlen = sizeof(*sin);
    snprintf(pr->name, sizeof(pr->name), "%s:%d", ip, port);
}


kngx_ctl_probe_t *
kngx_ctl_probe_create(const char *listen_address, int http_port)
{
    kngx_ctl_probe_t  *pr;

    pr = calloc(1, sizeof(kngx_ctl_probe_t));
    if (pr == NULL) {
        kngx_ctl_log("error: out of memory");
        return NULL;
    }

    pr->fd = -1;
    kngx_ctl_probe_addr(pr, listen_address, http_port);

    return pr;
}


static void
kngx_ctl_probe_close(kngx_ctl_probe_t *pr, uint64_t now)
{
    if (pr->fd >= 0) {
        close(pr->fd);
        pr->fd = -1;
    }

    pr->next = now + KNGX_PROBE_INTERVAL_MS;
}


uint64_t
kngx_ctl_probe_step(kngx_ctl_probe_t *pr, uint64_t now, int active)
{
    if (pr->ok || !active) {
        return 0;
    }

    if (pr->fd >= 0) {
        if (now < pr->deadline) {
            return pr->deadline;
        }
        kngx_ctl_probe_close(pr, now);
    }

    if (now < pr->next) {
        return pr->next;
    }

    pr->fd = socket(pr->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK
                    | SOCK_CLOEXEC, 0);

    if (pr->fd < 0
        || (connect(pr->fd, (struct sockaddr *) &pr->addr, pr->addrlen) != 0
            && errno != EINPROGRESS))
    {
        kngx_ctl_probe_close(pr, now);
        return pr->next;
    }

    pr->attempts++;
    pr->sent = 0;
    pr->got = 0;
    pr->deadline = now + KNGX_PROBE_TIMEOUT_MS;

    return pr->deadline;
}


int
kngx_ctl_probe_fds(kngx_ctl_probe_t *pr, struct curl_waitfd *fds, int max)
{
    if (pr->fd < 0 || max < 1) {
        return 0;
    }

    fds[0].fd = pr->fd;
    fds[0].events = pr->sent ? CURL_WAIT_POLLIN : CURL_WAIT_POLLOUT;
    fds[0].revents = 0;

    return 1;
}


/* the attempt's progress; a poll of its own, for the error and hang-up
 * events libcurl does not pass on */

void
kngx_ctl_probe_handle(kngx_ctl_probe_t *pr)
{
    static const char         req[] = "PROXY UNKNOWN\r\n"
                                      "GET / HTTP/1.1\r\n"
                                      "Connection: close\r\n\r\n";
    struct pollfd             pfd;
    uint64_t                  now;
    ssize_t                   r;
    socklen_t                 len;
    int                       err;

    if (pr->fd < 0) {
        return;
    }

    pfd.fd = pr->fd;
    pfd.events = pr->sent ? POLLIN : POLLOUT;
    pfd.revents = 0;

    if (poll(&pfd, 1, 0) <= 0) {
        return;
    }

    now = kngx_ctl_now();

    if (!pr->sent) {
        err = 0;
        len = sizeof(err);

        if (getsockopt(pr->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0
            || err != 0
            || send(pr->fd, req, sizeof(req) - 1, MSG_NOSIGNAL)
               != (ssize_t) sizeof(req) - 1)
        {
            kngx_ctl_probe_close(pr, now);
            return;
        }

        pr->sent = 1;
        return;
    }

    r = read(pr->fd, pr->buf + pr->got, 5 - pr->got);

    if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }

    if (r <= 0) {
        kngx_ctl_probe_close(pr, now);
        return;
    }

    pr->got += (size_t) r;

    if (pr->got < 5) {
        return;
    }

    if (memcmp(pr->buf, "HTTP/", 5) == 0) {
        pr->ok = 1;
        kngx_ctl_log("nginx answers on %s (attempt %u): ready", pr->name,
                     pr->attempts);
    }

    kngx_ctl_probe_close(pr, now);
}


int
kngx_ctl_probe_ok(kngx_ctl_probe_t *pr)
{
    return pr->ok;
}


void
kngx_ctl_probe_destroy(kngx_ctl_probe_t *pr)
{
    if (pr == NULL) {
        return;
    }

    if (pr->fd >= 0) {
        close(pr->fd);
    }

    free(pr);
}
