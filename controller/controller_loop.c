
/*
 * kubengx controller: the main loop, signals, clock and log.
 *
 * One thread, one poll (curl_multi_wait with our own fds: the signal
 * pipe, the health/metrics sockets, the running nginx -t's output and
 * the nginx readiness probe).  Each turn: start the list/watch requests
 * that are due, run the leader election step, run a sync when the
 * hold-off has passed since the last change (or the maximum delay since
 * the first) and no test runs, start nginx after the first sync, handle
 * signals, feed transfers, answer HTTP, follow nginx -t and the probe.
 *
 * Startup: nginx starts after the first sync (every kind listed once), so
 * it never serves an empty config when the API is reachable.
 * SIGTERM/SIGQUIT/SIGINT: graceful nginx quit (a second one: fast), the
 * Lease released, status cleared if asked; exit once nginx is gone.
 * SIGHUP: sync again, retrying the config nginx -t rejected and every
 * Ingress left out.  nginx dying on its own is fatal (exit 1).
 */

#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "controller.h"


static int  kngx_ctl_sig_fd = -1;



uint64_t
kngx_ctl_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}


double
kngx_ctl_wall(void)
{
    struct timeval  tv;

    gettimeofday(&tv, NULL);
    return (double) tv.tv_sec + (double) tv.tv_usec / 1e6;
}


void
kngx_ctl_log(const char *fmt, ...)
{
    va_list    ap;
    char       ts[32];
    time_t     t = time(NULL);
    struct tm  tm;

    gmtime_r(&t, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);

    fprintf(stderr, "%s kubengx controller: ", ts);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}


void
kngx_ctl_mark_dirty(kngx_ctl_t *ctl, const char *why)
{
    uint64_t  now = kngx_ctl_now();

    if (!ctl->dirty) {
        ctl->dirty = 1;
        ctl->dirty_first_ms = now;
    }

    ctl->dirty_last_ms = now;

    if (ctl->synced && why && strchr(why, ' ')) {
        kngx_ctl_log("change: %s", why);
    }
}



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

        if (ctl->conf.status_on_shutdown) {
            kngx_ctl_status_clear(ctl);
        }

        kngx_ctl_leader_release(ctl);
        ctl->stopping = 1;
        kngx_ctl_nginx_quit(ctl, 0);

    } else {
        kngx_ctl_nginx_quit(ctl, 1);
    }
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
                kngx_ctl_log("SIGHUP: resync");
                ctl->have_failed = 0;
                ctl->exclude_reset = 1;
                kngx_ctl_mark_dirty(ctl, NULL);
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

    if (ctl->stopping && ctl->nginx_pid <= 0) {
        return 0;
    }

    return -1;
}


int
kngx_ctl_loop(kngx_ctl_t *ctl)
{
    struct curl_waitfd  fds[KNGX_CTL_HTTP_MAX_FDS + 3];
    uint64_t            now, wake, w, due;
    int                 n, rc, timeout;

    for ( ;; ) {
        now = kngx_ctl_now();
        wake = now + 1000;

        if (!ctl->stopping) {
            w = kngx_ctl_watch_step(ctl, now);
            if (w && w < wake) {
                wake = w;
            }

            if (!ctl->synced && kngx_ctl_watch_synced(ctl)) {
                ctl->synced = 1;
                kngx_ctl_log("every kind listed; first sync");
                kngx_ctl_mark_dirty(ctl, NULL);
                ctl->dirty_first_ms = 0;
                ctl->dirty_last_ms = 0;
            }

            w = kngx_ctl_leader_step(ctl, now);
            if (w && w < wake) {
                wake = w;
            }

            now = kngx_ctl_now();

            if (ctl->synced && ctl->dirty && !ctl->test.active) {
                due = ctl->dirty_last_ms + ctl->conf.holdoff_ms;
                if (ctl->dirty_first_ms + ctl->conf.max_delay_ms < due) {
                    due = ctl->dirty_first_ms + ctl->conf.max_delay_ms;
                }

                if (now >= due) {
                    ctl->dirty = 0;
                    kngx_ctl_sync(ctl);

                } else if (due < wake) {
                    wake = due;
                }
            }

            /* nginx starts once the first sync ended, whatever it gave */

            if (ctl->m.syncs && !ctl->test.active && ctl->nginx_pid <= 0
                && !ctl->nginx_exited && kngx_ctl_nginx_start(ctl) != 0)
            {
                return 1;
            }

            w = kngx_ctl_probe_step(ctl, kngx_ctl_now());
            if (w && w < wake) {
                wake = w;
            }
        }

        now = kngx_ctl_now();
        timeout = wake > now ? (int) (wake - now) : 0;

        fds[0].fd = ctl->sig_pipe[0];
        fds[0].events = CURL_WAIT_POLLIN;
        fds[0].revents = 0;
        n = 1 + kngx_ctl_http_fds(ctl, fds + 1, KNGX_CTL_HTTP_MAX_FDS);

        if (kngx_ctl_test_fd(ctl) != -1) {
            fds[n].fd = kngx_ctl_test_fd(ctl);
            fds[n].events = CURL_WAIT_POLLIN;
            fds[n].revents = 0;
            n++;
        }

        n += kngx_ctl_probe_fds(ctl, fds + n, 1);

        curl_multi_wait(ctl->multi, fds, (unsigned) n, timeout, NULL);

        rc = kngx_ctl_signals_read(ctl);
        if (rc >= 0) {
            return rc;
        }

        kngx_ctl_watch_perform(ctl);
        kngx_ctl_http_handle(ctl, fds + 1, n - 1);
        kngx_ctl_test_step(ctl);
        kngx_ctl_probe_handle(ctl);
    }
}
