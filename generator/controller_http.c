
/*
 * kubengx controller: /healthz, /readyz and /metrics on --metrics-port.
 *
 * A tiny HTTP/1.0-style server on the main loop: non-blocking accept, the
 * request head read as it arrives, one response, close.  At most 16
 * clients at once; a client silent for 5 s is dropped.
 *
 *   /healthz   200 while the controller runs and nginx is up (or not
 *              started yet: the first lists are still arriving)
 *   /readyz    200 once a config was applied and nginx is up
 *   /metrics   Prometheus text format 0.0.4
 */

#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "controller.h"


#define KNGX_HTTP_MAX_CLIENTS  16
#define KNGX_HTTP_MAX_HEAD     4096
#define KNGX_HTTP_TIMEOUT_MS   5000


int
kngx_ctl_http_init(kngx_ctl_t *ctl)
{
    struct sockaddr_in6  sin6;
    struct sockaddr_in   sin;
    const char          *addr = ctl->conf.metrics_address;
    int                  fd, on = 1, i, v6;

    ctl->listen_fd = -1;
    for (i = 0; i < KNGX_HTTP_MAX_CLIENTS; i++) {
        ctl->clients[i] = -1;
    }

    if (ctl->conf.metrics_port == 0) {
        return 0;
    }

    v6 = strchr(addr, ':') != NULL;

    fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK
                | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        kngx_ctl_log("error: metrics: socket: %s", strerror(errno));
        return -1;
    }

    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));

    if (v6) {
        memset(&sin6, 0, sizeof(sin6));
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons((uint16_t) ctl->conf.metrics_port);
        if (inet_pton(AF_INET6, addr, &sin6.sin6_addr) != 1) {
            goto bad_addr;
        }
        if (bind(fd, (struct sockaddr *) &sin6, sizeof(sin6)) != 0) {
            goto failed;
        }

    } else {
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_port = htons((uint16_t) ctl->conf.metrics_port);
        if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
            goto bad_addr;
        }
        if (bind(fd, (struct sockaddr *) &sin, sizeof(sin)) != 0) {
            goto failed;
        }
    }

    if (listen(fd, 64) != 0) {
        goto failed;
    }

    ctl->listen_fd = fd;
    kngx_ctl_log("health and metrics on %s%s%s:%d", v6 ? "[" : "", addr,
                 v6 ? "]" : "", ctl->conf.metrics_port);

    return 0;

bad_addr:

    kngx_ctl_log("error: --metrics-address \"%s\" is not an IP address",
                 addr);
    close(fd);
    return -1;

failed:

    kngx_ctl_log("error: metrics: %s:%d: %s", addr, ctl->conf.metrics_port,
                 strerror(errno));
    close(fd);
    return -1;
}


int
kngx_ctl_http_fds(kngx_ctl_t *ctl, struct curl_waitfd *fds, int max)
{
    int  i, n = 0;

    if (ctl->listen_fd >= 0 && n < max) {
        fds[n].fd = ctl->listen_fd;
        fds[n].events = CURL_WAIT_POLLIN;
        fds[n].revents = 0;
        n++;
    }

    for (i = 0; i < KNGX_HTTP_MAX_CLIENTS && n < max; i++) {
        if (ctl->clients[i] >= 0) {
            fds[n].fd = ctl->clients[i];
            fds[n].events = CURL_WAIT_POLLIN;
            fds[n].revents = 0;
            n++;
        }
    }

    return n;
}


static void
kngx_ctl_client_close(kngx_ctl_t *ctl, int i)
{
    close(ctl->clients[i]);
    ctl->clients[i] = -1;
    free(ctl->client_buf[i]);
    ctl->client_buf[i] = NULL;
    ctl->client_len[i] = 0;
}


/* the list/watch counters, one series per watched kind */

typedef struct {
    const char  *name;
    const char  *help;
    size_t       offset;        /* of a uint64_t in kube_lw_stats_t */
} kngx_ctl_counter_t;

static const kngx_ctl_counter_t  kngx_ctl_watch_counters[] = {
    { "kubengx_watch_lists_total", "complete lists",
      offsetof(kube_lw_stats_t, lists) },
    { "kubengx_watch_relists_total",
      "returns from watch to list (410, errors)",
      offsetof(kube_lw_stats_t, relists) },
    { "kubengx_watch_restarts_total", "watch requests issued",
      offsetof(kube_lw_stats_t, watches) },
    { "kubengx_watch_errors_total", "failed list/watch requests",
      offsetof(kube_lw_stats_t, errors) },
};


static void
kngx_ctl_metrics(kngx_ctl_t *ctl, kngx_buf_t *b)
{
    int                        i;
    size_t                     k;
    kube_lw_stats_t            st;
    kngx_ctl_metrics_t        *m = &ctl->m;
    const kngx_ctl_counter_t  *c;

#define KNGX_HELP(name, type, help)                                           \
    kngx_buf_printf(b, "# HELP " name " " help "\n# TYPE " name " " type "\n")

    KNGX_HELP("kubengx_reloads_total", "counter",
              "nginx reloads after a changed config");
    kngx_buf_printf(b, "kubengx_reloads_total %llu\n",
                    (unsigned long long) m->reloads);

    KNGX_HELP("kubengx_reload_errors_total", "counter",
              "configs not applied, by reason");
    kngx_buf_printf(b, "kubengx_reload_errors_total{reason=\"nginx-test\"} "
                    "%llu\n", (unsigned long long) m->reload_errors_test);
    kngx_buf_printf(b, "kubengx_reload_errors_total{reason=\"write\"} %llu\n",
                    (unsigned long long) m->reload_errors_write);
    kngx_buf_printf(b, "kubengx_reload_errors_total{reason=\"render\"} "
                    "%llu\n", (unsigned long long) m->reload_errors_render);
    kngx_buf_printf(b, "kubengx_reload_errors_total{reason=\"signal\"} "
                    "%llu\n", (unsigned long long) m->reload_errors_signal);

    KNGX_HELP("kubengx_reload_duration_seconds", "summary",
              "nginx -t, write and signal of each reload");
    kngx_buf_printf(b, "kubengx_reload_duration_seconds_sum %.6f\n"
                    "kubengx_reload_duration_seconds_count %llu\n",
                    m->reload_seconds_sum, (unsigned long long) m->reloads);

    KNGX_HELP("kubengx_last_reload_duration_seconds", "gauge",
              "duration of the last reload");
    kngx_buf_printf(b, "kubengx_last_reload_duration_seconds %.6f\n",
                    m->reload_seconds_last);

    KNGX_HELP("kubengx_last_reload_success_timestamp_seconds", "gauge",
              "when a config was last applied (unix time)");
    kngx_buf_printf(b, "kubengx_last_reload_success_timestamp_seconds %.3f\n",
                    m->last_reload_success);

    KNGX_HELP("kubengx_render_duration_seconds", "summary",
              "model, plan and text of each sync");
    kngx_buf_printf(b, "kubengx_render_duration_seconds_sum %.6f\n"
                    "kubengx_render_duration_seconds_count %llu\n",
                    m->render_seconds_sum, (unsigned long long) m->renders);

    KNGX_HELP("kubengx_last_render_duration_seconds", "gauge",
              "duration of the last render");
    kngx_buf_printf(b, "kubengx_last_render_duration_seconds %.6f\n",
                    m->render_seconds_last);

    KNGX_HELP("kubengx_syncs_total", "counter", "syncs run");
    kngx_buf_printf(b, "kubengx_syncs_total %llu\n",
                    (unsigned long long) m->syncs);

    KNGX_HELP("kubengx_syncs_unchanged_total", "counter",
              "syncs whose config equalled the running one (no reload)");
    kngx_buf_printf(b, "kubengx_syncs_unchanged_total %llu\n",
                    (unsigned long long) m->syncs_unchanged);

    KNGX_HELP("kubengx_ingresses", "gauge",
              "Ingresses known, by whether this controller serves them");
    kngx_buf_printf(b, "kubengx_ingresses{state=\"served\"} %zu\n"
                    "kubengx_ingresses{state=\"ignored\"} %zu\n",
                    m->ingresses_served, m->ingresses_ignored);

    KNGX_HELP("kubengx_watched_objects", "gauge", "objects in the store");
    for (i = 0; i < KNGX_CTL_NKINDS; i++) {
        if (ctl->kinds[i].enabled) {
            kngx_buf_printf(b, "kubengx_watched_objects{kind=\"%s\"} %zu\n",
                            ctl->kinds[i].kind,
                            json_object_size(ctl->kinds[i].objects));
        }
    }

    for (k = 0; k < sizeof(kngx_ctl_watch_counters)
                    / sizeof(kngx_ctl_watch_counters[0]); k++)
    {
        c = &kngx_ctl_watch_counters[k];

        kngx_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n", c->name,
                        c->help, c->name);

        for (i = 0; i < KNGX_CTL_NKINDS; i++) {
            if (ctl->kinds[i].enabled) {
                kube_lw_stats(ctl->kinds[i].lw, kngx_ctl_now(), &st);
                kngx_buf_printf(b, "%s{kind=\"%s\"} %llu\n", c->name,
                                ctl->kinds[i].kind, (unsigned long long)
                                *(uint64_t *) ((char *) &st + c->offset));
            }
        }
    }

    KNGX_HELP("kubengx_leader", "gauge",
              "1 while this replica holds the leader Lease");
    kngx_buf_printf(b, "kubengx_leader %d\n", ctl->leader ? 1 : 0);

    KNGX_HELP("kubengx_status_updates_total", "counter",
              "Ingress status writes");
    kngx_buf_printf(b, "kubengx_status_updates_total %llu\n",
                    (unsigned long long) m->status_updates);

    KNGX_HELP("kubengx_events_total", "counter",
              "Kubernetes Events, by outcome");
    kngx_buf_printf(b, "kubengx_events_total{outcome=\"sent\"} %llu\n"
                    "kubengx_events_total{outcome=\"rate-limited\"} %llu\n"
                    "kubengx_events_total{outcome=\"failed\"} %llu\n",
                    (unsigned long long) m->events_sent,
                    (unsigned long long) m->events_dropped,
                    (unsigned long long) m->events_failed);

    KNGX_HELP("kubengx_nginx_up", "gauge", "1 while the nginx child runs");
    kngx_buf_printf(b, "kubengx_nginx_up %d\n", ctl->nginx_pid > 0 ? 1 : 0);

    KNGX_HELP("kubengx_ready", "gauge", "1 once a config was applied");
    kngx_buf_printf(b, "kubengx_ready %d\n", ctl->ready ? 1 : 0);

#undef KNGX_HELP
}


static void
kngx_ctl_respond(kngx_ctl_t *ctl, int fd, const char *head)
{
    kngx_buf_t   body = { NULL, 0, 0, 0 };
    char         hdr[256];
    const char  *status = "200 OK";
    const char  *ctype = "text/plain; charset=utf-8";
    char         path[256];
    int          n, up;
    size_t       off;
    ssize_t      w;
    struct pollfd pfd;

    if (sscanf(head, "%*s %255s", path) != 1) {
        snprintf(path, sizeof(path), "/");
    }

    /* nginx runs, or has not been started yet (waiting for the lists) */
    up = (ctl->nginx_pid > 0 || !ctl->nginx_exited) && !ctl->stopping;

    if (strncmp(head, "GET ", 4) != 0 && strncmp(head, "HEAD ", 5) != 0) {
        status = "405 Method Not Allowed";
        kngx_buf_printf(&body, "method not allowed\n");

    } else if (strcmp(path, "/healthz") == 0) {
        if (!up) {
            status = "503 Service Unavailable";
            kngx_buf_printf(&body, "nginx is not running\n");
        } else {
            kngx_buf_printf(&body, "ok\n");
        }

    } else if (strcmp(path, "/readyz") == 0) {
        if (!up || !ctl->ready || ctl->nginx_pid <= 0) {
            status = "503 Service Unavailable";
            kngx_buf_printf(&body, "%s\n", ctl->ready
                            ? "nginx is not running"
                            : "no config applied yet");
        } else {
            kngx_buf_printf(&body, "ok\n");
        }

    } else if (strcmp(path, "/metrics") == 0) {
        ctype = "text/plain; version=0.0.4; charset=utf-8";
        kngx_ctl_metrics(ctl, &body);

    } else {
        status = "404 Not Found";
        kngx_buf_printf(&body, "not found; try /healthz, /readyz, "
                        "/metrics\n");
    }

    if (body.nomem) {
        kngx_buf_free(&body);
        return;
    }

    n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
                 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                 status, ctype, body.len);

    /* small responses: write with a short poll for room */
    for (off = 0; off < (size_t) n; ) {
        w = write(fd, hdr + off, (size_t) n - off);
        if (w < 0 && errno == EAGAIN) {
            pfd.fd = fd;
            pfd.events = POLLOUT;
            if (poll(&pfd, 1, 1000) <= 0) {
                goto done;
            }
            continue;
        }
        if (w <= 0) {
            goto done;
        }
        off += (size_t) w;
    }

    if (strncmp(head, "HEAD ", 5) == 0) {
        goto done;
    }

    for (off = 0; off < body.len; ) {
        w = write(fd, body.data + off, body.len - off);
        if (w < 0 && errno == EAGAIN) {
            pfd.fd = fd;
            pfd.events = POLLOUT;
            if (poll(&pfd, 1, 1000) <= 0) {
                goto done;
            }
            continue;
        }
        if (w <= 0) {
            goto done;
        }
        off += (size_t) w;
    }

done:

    kngx_buf_free(&body);
}


void
kngx_ctl_http_handle(kngx_ctl_t *ctl, struct curl_waitfd *fds, int n)
{
    int       i, j, fd;
    ssize_t   r;
    char     *p;
    uint64_t  now = kngx_ctl_now();

    for (j = 0; j < n; j++) {
        if (fds[j].fd != ctl->listen_fd || !fds[j].revents) {
            continue;
        }

        for ( ;; ) {
            fd = accept4(ctl->listen_fd, NULL, NULL,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                break;
            }

            for (i = 0; i < KNGX_HTTP_MAX_CLIENTS; i++) {
                if (ctl->clients[i] < 0) {
                    break;
                }
            }

            if (i == KNGX_HTTP_MAX_CLIENTS) {
                close(fd);
                continue;
            }

            ctl->clients[i] = fd;
            ctl->client_len[i] = 0;
            ctl->client_ms[i] = now;
            ctl->client_buf[i] = malloc(KNGX_HTTP_MAX_HEAD + 1);
            if (ctl->client_buf[i] == NULL) {
                kngx_ctl_client_close(ctl, i);
            }
        }
    }

    for (i = 0; i < KNGX_HTTP_MAX_CLIENTS; i++) {
        fd = ctl->clients[i];
        if (fd < 0) {
            continue;
        }

        r = read(fd, ctl->client_buf[i] + ctl->client_len[i],
                 KNGX_HTTP_MAX_HEAD - ctl->client_len[i]);

        if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (now - ctl->client_ms[i] > KNGX_HTTP_TIMEOUT_MS) {
                kngx_ctl_client_close(ctl, i);
            }
            continue;
        }

        if (r <= 0) {
            kngx_ctl_client_close(ctl, i);
            continue;
        }

        ctl->client_len[i] += (size_t) r;
        p = ctl->client_buf[i];
        p[ctl->client_len[i]] = '\0';

        if (strstr(p, "\r\n\r\n") || strstr(p, "\n\n")
            || ctl->client_len[i] == KNGX_HTTP_MAX_HEAD)
        {
            kngx_ctl_respond(ctl, fd, p);
            kngx_ctl_client_close(ctl, i);
        }
    }
}


void
kngx_ctl_http_close(kngx_ctl_t *ctl)
{
    int  i;

    for (i = 0; i < KNGX_HTTP_MAX_CLIENTS; i++) {
        if (ctl->clients[i] >= 0) {
            kngx_ctl_client_close(ctl, i);
        }
    }

    if (ctl->listen_fd >= 0) {
        close(ctl->listen_fd);
        ctl->listen_fd = -1;
    }
}
