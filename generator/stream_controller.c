
/*
 * kubengx controller: TCP/UDP services and TLS passthrough (stream.h).
 *
 * The hooks the controller calls:
 *
 *   controller.c          kngx_stream_ctl_conf(): after the options, the
 *                         hop directory (the conf dir), the reserved ports
 *   controller_watch.c    kngx_stream_ctl_watch(): the ConfigMap watch
 *                         (kind KNGX_KIND_CONFIGMAP): off without the
 *                         ConfigMap flags; in the ConfigMaps' namespace
 *                         (cluster-wide when the two differ), for the one
 *                         name when there is one
 *   controller_sync.c     kngx_stream_ctl_build() per candidate (its
 *                         model and plan), kngx_stream_ctl_rehash() into
 *                         the candidate's hash, kngx_stream_ctl_check()
 *                         for its nginx -t, kngx_stream_ctl_write() before
 *                         kubengx.conf when it is applied
 *   controller_nginx.c    kngx_stream_ctl_main(): nginx.conf's load_module
 *                         lines and stream { include }, and an empty
 *                         stream file until the first sync;
 *                         kngx_stream_ctl_prestart(): hop sockets left by
 *                         an nginx that was killed are removed before
 *                         nginx starts (it could not bind them)
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "controller.h"
#include "digest.h"


int
kngx_stream_ctl_conf(kngx_ctl_t *ctl)
{
    static char       hop[4200];
    kngx_ctl_conf_t  *c = &ctl->conf;

    if (kngx_stream_opts_finish(&c->stream, c->conf_dir, "controller") != 0)
    {
        return -1;
    }

    c->stream.reserved[0] = c->ro.http_port;
    c->stream.reserved[1] = c->ro.https_port;
    c->stream.reserved[2] = c->metrics_port;
    c->ro.https_hop = kngx_stream_https_hop(&c->stream, hop, sizeof(hop));

    return 0;
}


/* "NS/NAME" -> the namespace into ns; the name */
static const char *
kngx_stream_ctl_split(const char *arg, char *ns, size_t size)
{
    const char  *slash = strchr(arg, '/');

    snprintf(ns, size, "%.*s", (int) (slash - arg), arg);

    return slash + 1;
}


int
kngx_stream_ctl_watch(kngx_ctl_t *ctl, const char **ns,
    const char **field_selector)
{
    static char                tns[64], uns[64], sel[300];
    const kngx_stream_opts_t  *so = &ctl->conf.stream;
    const char                *tname = NULL, *uname = NULL, *name;

    if (so->tcp_configmap) {
        tname = kngx_stream_ctl_split(so->tcp_configmap, tns, sizeof(tns));
    }

    if (so->udp_configmap) {
        uname = kngx_stream_ctl_split(so->udp_configmap, uns, sizeof(uns));
    }

    if (tname == NULL && uname == NULL) {
        return 0;
    }

    *ns = tname ? tns : uns;
    *field_selector = NULL;

    if (tname && uname && strcmp(tns, uns) != 0) {
        *ns = NULL;
        return 1;
    }

    name = tname ? tname : uname;

    if (tname && uname && strcmp(tname, uname) != 0) {
        return 1;
    }

    snprintf(sel, sizeof(sel), "metadata.name=%s", name);
    *field_selector = sel;

    return 1;
}


int
kngx_stream_ctl_build(kngx_ctl_t *ctl)
{
    kngx_ctl_test_t  *t = &ctl->test;

    if (t->stream) {
        return 0;
    }

    /* built also without the flags: it warns about the annotation */

    t->stream = kngx_stream_build(t->p->model, t->p, &ctl->conf.stream,
                                  &ctl->conf.ro);

    return t->stream ? 0 : -1;
}


/* the candidate's hash over its stream text too */
void
kngx_stream_ctl_rehash(kngx_ctl_t *ctl)
{
    kngx_ctl_test_t  *t = &ctl->test;
    kngx_sha256_t     c;

    if (t->stream == NULL || !kngx_stream_enabled(&ctl->conf.stream)) {
        return;
    }

    kngx_sha256_init(&c);
    kngx_sha256_update(&c, t->hash, 32);
    kngx_sha256_update(&c, "\0stream\0", 8);
    kngx_sha256_update(&c, t->stream->text, t->stream->len);
    kngx_sha256_final(&c, t->hash);
}


void
kngx_stream_ctl_check(kngx_ctl_t *ctl, kngx_check_opts_t *co, char *loads,
    size_t size)
{
    kngx_ctl_test_t  *t = &ctl->test;
    char              block[8];

    if (t->stream == NULL || !kngx_stream_enabled(&ctl->conf.stream)
        || kngx_stream_main_lines(&ctl->conf.stream, co->module, "", loads,
                                  size, block, sizeof(block)) != 0)
    {
        return;
    }

    co->stream_loads = loads;
    co->stream_conf = t->stream->text;
    co->stream_len = t->stream->len;
}


int
kngx_stream_ctl_write(kngx_ctl_t *ctl, char *err, size_t size)
{
    kngx_ctl_test_t  *t = &ctl->test;

    if (t->stream == NULL || !kngx_stream_enabled(&ctl->conf.stream)) {
        return 0;
    }

    return kngx_output_write_file(ctl->conf.conf_dir, KNGX_STREAM_CONF,
                                  t->stream->text, t->stream->len, err,
                                  size);
}


int
kngx_stream_ctl_main(kngx_ctl_t *ctl, int module, char *loads, size_t lsize,
    char *block, size_t bsize)
{
    kngx_ctl_conf_t  *c = &ctl->conf;
    char              path[4200], err[4400];
    struct stat       st;

    snprintf(path, sizeof(path), "%s/" KNGX_STREAM_CONF, c->conf_dir);

    if (kngx_stream_main_lines(&c->stream, module ? c->module : NULL, path,
                               loads, lsize, block, bsize) != 0)
    {
        kngx_ctl_log("error: nginx.conf: paths too long");
        return -1;
    }

    /* an empty stream-context file until the first sync */

    if (kngx_stream_enabled(&c->stream) && stat(path, &st) != 0
        && kngx_output_write_file(c->conf_dir, KNGX_STREAM_CONF,
                                  "# no sync yet\n", 14, err, sizeof(err))
           != 0)
    {
        kngx_ctl_log("error: %s", err);
        return -1;
    }

    return 0;
}


void
kngx_stream_ctl_prestart(kngx_ctl_t *ctl)
{
    const kngx_stream_opts_t  *so = &ctl->conf.stream;
    char                       path[4200];

    if (!so->passthrough) {
        return;
    }

    snprintf(path, sizeof(path), "%s/" KNGX_HOP_HTTPS, so->hop_dir);
    (void) unlink(path);
    snprintf(path, sizeof(path), "%s/" KNGX_HOP_PASSTHROUGH, so->hop_dir);
    (void) unlink(path);
}
