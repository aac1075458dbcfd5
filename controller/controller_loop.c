
/*
 * kubengx controller: the main loop, signals and children.
 *
 * One thread, one poll (the API's libcurl multi handle, waited on with
 * our own fds: the signal pipe, the health/metrics sockets, the webhook's
 * sockets and its reviews' nginx -t output, the running nginx -t's output
 * and the nginx readiness probe).  Each turn: start
 * the list/watch requests that are due, run the leader election step,
 * run a sync when its hold-off has passed (controller_sync.c), start
 * nginx after the first sync, handle signals and children, feed
 * transfers, answer HTTP, follow nginx -t and the probe.
 *
 * Startup: nginx starts after the first sync (every kind listed once), so
 * it never serves an empty config when the API is reachable.
 * SIGTERM/SIGQUIT/SIGINT: graceful nginx quit (a second one: fast), the
 * status cleared if asked, the Lease released; exit once nginx is gone.
 * SIGHUP: sync again, retrying the config nginx -t rejected and every
 * Ingress left out.  nginx dying on its own is fatal (exit 1).  The
 * controller may be PID 1: every child is reaped here.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "controller_int.h"
#include "controller_log.h"


static int  kngx_ctl_sig_fd = -1;


static void
kngx_ctl_on_signal(int signo)
{
    unsigned char  c = (unsigned char) signo;
    int            saved = errno;

    if (kngx_ctl_sig_fd >= 0) {
        (void) !write(kngx_ctl_sig_fd, &c, 1);
    }

    errno = saved;
}


int
kngx_ctl_signals(kngx_ctl_t *ctl)
{
    struct sigaction  sa;
    int               sigs[] = { SIGTERM, SIGQUIT, SIGINT, SIGCHLD, SIGHUP };
    size_t            i;

    if (pipe2(ctl->sig_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        kngx_ctl_log("error: pipe: %s", strerror(errno));
        return -1;
    }

    kngx_ctl_sig_fd = ctl->sig_pipe[1];

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = kngx_ctl_on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);

    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        sigaction(sigs[i], &sa, NULL);
    }

    signal(SIGPIPE, SIG_IGN);

    return 0;
}


static void
kngx_ctl_stop(kngx_ctl_t *ctl, int signo)
{
    ctl->stop_signals++;

    if (ctl->stop_signals == 1) {
        kngx_ctl_log("signal %d: stopping", signo);

        kngx_ctl_status_stop(ctl->status);
        kngx_ctl_leader_release(ctl->leader);
        kngx_ctl_sync_stop(ctl->sync);
        ctl->stopping = 1;
        kngx_ctl_nginx_quit(ctl->nginx, 0);

    } else {
        kngx_ctl_nginx_quit(ctl->nginx, 1);
    }
}


/* reap children; 1 if nginx exited */
static int
kngx_ctl_reap(kngx_ctl_t *ctl)
{
    pid_t  pid;
    int    status, exited = 0;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (kngx_ctl_nginx_reaped(ctl->nginx, pid, status)) {
            exited = 1;

        } else if (!kngx_ctl_webhook_reaped(ctl->webhook, pid, status)) {
            /* nginx -t of a sync, or an orphan adopted as PID 1 */
            kngx_ctl_sync_reaped(ctl->sync, pid, status);
        }
    }

    return exited;
}


/* returns -1 to go on, else the exit code */
static int
kngx_ctl_signals_read(kngx_ctl_t *ctl)
{
    unsigned char  buf[64];
    ssize_t        n, i;

    while ((n = read(ctl->sig_pipe[0], buf, sizeof(buf))) > 0) {
        for (i = 0; i < n; i++) {
            switch (buf[i]) {
            case SIGTERM:
            case SIGQUIT:
            case SIGINT:
                kngx_ctl_stop(ctl, buf[i]);
                break;
            case SIGHUP:
                kngx_ctl_sync_retry(ctl->sync);
                break;
            default:
                break;
            }
        }
    }

    if (kngx_ctl_reap(ctl)) {
        if (ctl->stopping) {
            kngx_ctl_log("nginx stopped; exiting");
            return 0;
        }

        kngx_ctl_log("error: nginx died; exiting");
        return 1;
    }

    if (ctl->stopping && !kngx_ctl_nginx_running(ctl->nginx)) {
        return 0;
    }

    return -1;
}


/* the turn's steps, lowering *wake to when one is due; -1: nginx did
 * not start */
static int
kngx_ctl_steps(kngx_ctl_t *ctl, uint64_t now, uint64_t *wake)
{
    uint64_t  w;

    w = kngx_ctl_watch_step(ctl->watch, now);
    if (w && w < *wake) {
        *wake = w;
    }

    if (!ctl->listed && kngx_ctl_watch_synced(ctl->watch)) {
        ctl->listed = 1;
        kngx_ctl_sync_listed(ctl->sync);
    }

    w = kngx_ctl_leader_step(ctl->leader, now);
    if (w && w < *wake) {
        *wake = w;
    }

    w = kngx_ctl_sync_step(ctl->sync, kngx_ctl_now());
    if (w && w < *wake) {
        *wake = w;
    }

    /* nginx starts once the first sync ended, whatever it gave */

    if (kngx_ctl_sync_stats(ctl->sync)->syncs
        && !kngx_ctl_sync_busy(ctl->sync)
        && !kngx_ctl_nginx_running(ctl->nginx)
        && !kngx_ctl_nginx_exited(ctl->nginx)
        && kngx_ctl_nginx_start(ctl->nginx) != 0)
    {
        return -1;
    }

    w = kngx_ctl_probe_step(ctl->probe, kngx_ctl_now(),
                            kngx_ctl_sync_applied(ctl->sync)
                            && kngx_ctl_nginx_running(ctl->nginx));
    if (w && w < *wake) {
        *wake = w;
    }

    return 0;
}


int
kngx_ctl_loop(kngx_ctl_t *ctl)
{
    struct curl_waitfd  fds[KNGX_CTL_HTTP_MAX_FDS + KNGX_CTL_WEBHOOK_MAX_FDS
                            + 3];
    uint64_t            now, wake;
    int                 n, rc, timeout, nhttp, nwh;

    for ( ;; ) {
        now = kngx_ctl_now();
        wake = now + 1000;

        if (!ctl->stopping && kngx_ctl_steps(ctl, now, &wake) != 0) {
            return 1;
        }

        now = kngx_ctl_now();
        timeout = wake > now ? (int) (wake - now) : 0;

        fds[0].fd = ctl->sig_pipe[0];
        fds[0].events = CURL_WAIT_POLLIN;
        fds[0].revents = 0;
        nhttp = kngx_ctl_http_fds(ctl->http, fds + 1, KNGX_CTL_HTTP_MAX_FDS);
        nwh = kngx_ctl_webhook_fds(ctl->webhook, fds + 1 + nhttp,
                                   KNGX_CTL_WEBHOOK_MAX_FDS);
        n = 1 + nhttp + nwh;

        if (kngx_ctl_sync_fd(ctl->sync) != -1) {
            fds[n].fd = kngx_ctl_sync_fd(ctl->sync);
            fds[n].events = CURL_WAIT_POLLIN;
            fds[n].revents = 0;
            n++;
        }

        n += kngx_ctl_probe_fds(ctl->probe, fds + n, 1);

        kngx_ctl_api_wait(ctl->api, fds, (unsigned) n, timeout);

        rc = kngx_ctl_signals_read(ctl);
        if (rc >= 0) {
            return rc;
        }

        kngx_ctl_api_perform(ctl->api);
        kngx_ctl_http_handle(ctl->http, fds + 1, nhttp);
        kngx_ctl_webhook_handle(ctl->webhook, fds + 1 + nhttp, nwh);
        kngx_ctl_sync_io(ctl->sync);
        kngx_ctl_probe_handle(ctl->probe);
    }
}
