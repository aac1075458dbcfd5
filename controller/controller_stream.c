
/*
 * kubengx controller: TCP/UDP services and TLS passthrough (stream.h).
 *
 *   kngx_ctl_stream_conf()    after the options: the hop directory (the
 *                             conf dir), the ports ConfigMaps may not
 *                             take (http, https, health, h2c, and
 *                             --status-port with the module), the
 *                             ConfigMaps' watches
 *                             (controller.c)
 *   kngx_ctl_stream_build()   a job's stream config from its model and
 *                             plan; kngx_ctl_stream_final() folds its
 *                             text into the job's hash;
 *                             kngx_ctl_stream_check() adds it to the
 *                             job's nginx -t, kngx_ctl_stream_write()
 *                             writes it before kubengx.conf is applied
 *                             (controller_job.c, controller_sync.c)
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller_int.h"
#include "controller_log.h"
#include "controller_sync_int.h"
#include "digest.h"


int
kngx_ctl_stream_conf(kngx_ctl_conf_t *c, const kngx_stream_opts_t *so)
{
    static char  hop[4200];

    c->sync.stream = *so;

    if (kngx_stream_opts_finish(&c->sync.stream, c->nginx.conf_dir,
                                "controller")
        != 0)
    {
        return -1;
    }

    c->sync.stream.reserved[0] = c->sync.ro.http_port;
    c->sync.stream.reserved[1] = c->sync.ro.https_port;
    c->sync.stream.reserved[2] = c->http.port;
    c->sync.stream.reserved[3] = c->sync.ro.h2c_port;
    /* the module's status server (controller_nginx.c) */
    c->sync.stream.reserved[4] = c->nginx.module ? c->nginx.status_port
                                                 : 0;
    c->sync.ro.https_hop = kngx_stream_https_hop(&c->sync.stream, hop,
                                                 sizeof(hop));
    c->nginx.stream = &c->sync.stream;

    if (so->tcp_configmap) {
        kngx_ctl_watch_configmap(&c->watch, so->tcp_configmap);
    }

    if (so->udp_configmap) {
        kngx_ctl_watch_configmap(&c->watch, so->udp_configmap);
    }

    return 0;
}


int
kngx_ctl_stream_build(kngx_ctl_sync_t *s)
{
    kngx_ctl_job_t      *t = &s->job;
    kngx_render_opts_t   ro;

    if (t->stream) {
        return 0;
    }

    /* built also without the flags: it warns about the annotation; the
     * job's settings (use-proxy-protocol on the https port) */

    ro = s->conf.ro;
    ro.settings = t->settings;

    t->stream = kngx_stream_build(t->p->model, t->p, &s->conf.stream, &ro);

    return t->stream ? 0 : -1;
}


/* after the job's hash of its http text: its stream text folded in */
int
kngx_ctl_stream_final(kngx_ctl_sync_t *s)
{
    kngx_ctl_job_t  *t = &s->job;
    kngx_sha256_t    c;

    if (kngx_ctl_stream_build(s) != 0) {
        return -1;
    }

    if (!kngx_stream_enabled(&s->conf.stream)) {
        return 0;
    }

    kngx_sha256_init(&c);
    kngx_sha256_update(&c, t->hash, 32);
    kngx_sha256_update(&c, "\0stream\0", 8);
    kngx_sha256_update(&c, t->stream->text, t->stream->len);
    kngx_sha256_final(&c, t->hash);

    return 0;
}


void
kngx_ctl_stream_check(kngx_ctl_sync_t *s, kngx_check_opts_t *co,
    char *loads, size_t size)
{
    kngx_ctl_job_t  *t = &s->job;
    char             block[8];

    if (t->stream == NULL || !kngx_stream_enabled(&s->conf.stream)
        || kngx_stream_main_lines(&s->conf.stream, co->module, "", loads,
                                  size, block, sizeof(block)) != 0)
    {
        return;
    }

    co->stream_loads = loads;
    co->stream_conf = t->stream->text;
    co->stream_len = t->stream->len;
}


int
kngx_ctl_stream_write(kngx_ctl_sync_t *s, char *err, size_t size)
{
    kngx_ctl_job_t  *t = &s->job;

    if (t->stream == NULL || !kngx_stream_enabled(&s->conf.stream)) {
        return 0;
    }

    return kngx_output_write_file(s->conf.conf_dir, KNGX_STREAM_CONF,
                                  t->stream->text, t->stream->len, err,
                                  size);
}
