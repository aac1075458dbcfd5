
/*
 * kubengx controller: does nginx answer on its http port
 * (controller_probe.c)?
 */

#ifndef KNGX_CONTROLLER_PROBE_H
#define KNGX_CONTROLLER_PROBE_H

#include <stdint.h>

#include <curl/curl.h>


typedef struct kngx_ctl_probe_s  kngx_ctl_probe_t;

/* nginx's --listen-address (may be NULL) and --http-port */
kngx_ctl_probe_t *kngx_ctl_probe_create(const char *listen_address,
    int http_port);
void kngx_ctl_probe_destroy(kngx_ctl_probe_t *pr);

/* start an attempt when due and active (a config applied, nginx
 * running); returns when to be woken (0: no need) */
uint64_t kngx_ctl_probe_step(kngx_ctl_probe_t *pr, uint64_t now,
    int active);
int kngx_ctl_probe_fds(kngx_ctl_probe_t *pr, struct curl_waitfd *fds,
    int max);
void kngx_ctl_probe_handle(kngx_ctl_probe_t *pr);
/* nginx answered on its http port since it started */
int kngx_ctl_probe_ok(kngx_ctl_probe_t *pr);

#endif /* KNGX_CONTROLLER_PROBE_H */
