
/*
 * kubengx controller: the clock and the log.
 */

#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <string.h>
#include <time.h>

#include "controller_log.h"


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


static const char  *kngx_ctl_log_who;


void
kngx_ctl_log_as(const char *who)
{
    kngx_ctl_log_who = who;
}


void
kngx_ctl_log(const char *fmt, ...)
{
    va_list    ap;
    char       ts[32];
    time_t     t = time(NULL);
    struct tm  tm;

    if (kngx_ctl_log_who) {
        if (strncmp(fmt, "error", 5) != 0 && strncmp(fmt, "warning", 7) != 0)
        {
            return;
        }

        fprintf(stderr, "%s: ", kngx_ctl_log_who);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return;
    }

    gmtime_r(&t, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);

    fprintf(stderr, "%s kubengx controller: ", ts);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}
