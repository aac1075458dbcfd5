
/*
 * kubengx controller: the clock and the log, for every part.
 */

#ifndef KNGX_CONTROLLER_LOG_H
#define KNGX_CONTROLLER_LOG_H

#include <stdint.h>


/* milliseconds of the monotonic clock */
uint64_t kngx_ctl_now(void);

/* unix time, for what is reported as a timestamp */
double kngx_ctl_wall(void);

/* a command that is not the controller (kubectl kubengx): lines are
 * "WHO: MESSAGE", errors and warnings only */
void kngx_ctl_log_as(const char *who);

/* one line on stderr: "TIME kubengx controller: MESSAGE" */
void kngx_ctl_log(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

#endif /* KNGX_CONTROLLER_LOG_H */
