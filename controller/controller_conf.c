
/*
 * kubengx controller: GET /conf on the health server (--metrics-port):
 * the config nginx runs, for `kubectl kubengx conf` through the API
 * server's pod proxy.  The files of the conf dir as the last applied sync
 * wrote them (written atomically, so never half of one): nginx.conf (the
 * main config; --nginx-conf's file instead when given), kubengx.conf
 * and, when there is one, kubengx-stream.conf, each after a line
 * "# ---- NAME".  Certificates and keys are separate files, never shown.
 * Reading them is small local-file I/O, done at once like the metrics.
 */

#include <stdio.h>
#include <string.h>

#include "controller_int.h"


static void
kngx_ctl_conf_file(kngx_buf_t *body, const char *dir, const char *name,
    int optional)
{
    FILE    *f;
    char     path[4200], buf[16384];
    size_t   n;

    if (name[0] == '/') {
        snprintf(path, sizeof(path), "%s", name);
    } else {
        snprintf(path, sizeof(path), "%s/%s", dir, name);
    }

    f = fopen(path, "r");
    if (f == NULL) {
        if (!optional) {
            kngx_buf_printf(body, "# ---- %s: not written yet\n", name);
        }
        return;
    }

    kngx_buf_printf(body, "# ---- %s\n", name);

    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        kngx_buf_printf(body, "%.*s", (int) n, buf);
    }

    fclose(f);
}


const char *
kngx_ctl_conf_answer(kngx_ctl_t *ctl, kngx_buf_t *body,
    const char **content_type)
{
    const kngx_ctl_nginx_conf_t  *c = ctl->nginx_conf;

    kngx_ctl_conf_file(body, c->conf_dir,
                       c->nginx_conf ? c->nginx_conf : "nginx.conf", 0);
    kngx_ctl_conf_file(body, c->conf_dir, "kubengx.conf", 0);
    kngx_ctl_conf_file(body, c->conf_dir, KNGX_STREAM_CONF, 1);

    return "200 OK";
}
