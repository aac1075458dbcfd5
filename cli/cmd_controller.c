
/*
 * kubengx controller: the options checked, then the controller runs
 * (controller/controller.h) until a stop signal or nginx's death.
 *
 * Exit codes: 0 after a requested stop, 1 if nginx died or a fatal
 * error, 2 bad usage.
 */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kubengx.h"


static int kngx_controller_cmd(kngx_options_t *o);


const kngx_command_t  kngx_cmd_controller = {
    "controller", KNGX_CMD_CONTROLLER, "watch the API, run and reload nginx",

"Usage: kubengx controller [OPTIONS]\n"
"\n"
"Watch Ingresses, Services, IngressClasses and Secrets (TLS, and the\n"
"basic authentication users of auth-secret), and EndpointSlices with\n"
"--endpoints static, render them into nginx\n"
"config like `kubengx render`, and run nginx as a child.  Only when the\n"
"text or a certificate changed is the config tested with nginx -t,\n"
"written atomically and nginx reloaded.  When nginx -t rejects it, more\n"
"tests find the Ingresses to blame; the config without them is applied\n"
"and each gets an ExcludedFromConfig Event, until it or a Service or\n"
"Secret it names changes (SIGHUP: try them all again).  When none is to\n"
"blame, the running config stays (RejectedConfig Events).\n"
"\n"
"With --validating-webhook it is also the Ingresses' validating admission\n"
"webhook: an Ingress of its class that it would refuse, or with which\n"
"nginx -t refuses the config, is rejected with the field and the reason.\n",

"DUR: a number with ms, s, m or h (\"500ms\", \"15s\"); plain numbers are\n"
"seconds.  Exit status: 0 after a requested stop, 1 if nginx died or a\n"
"fatal error, 2 bad usage.\n",

    kngx_controller_cmd
};


/* what no single option can check; the conf dir made absolute */

static int
kngx_controller_check(kngx_options_t *o, char *conf_dir)
{
    kngx_ctl_conf_t  *c = &o->ctl;
    const char       *slash;

    if (c->leader.elect
        && !(c->leader.lease_ms > c->leader.renew_ms
             && (double) c->leader.renew_ms
                > 1.2 * (double) c->leader.retry_ms
             && c->leader.lease_ms >= 1000))
    {
        fprintf(stderr, "kubengx controller: need --lease-duration > "
                "--renew-deadline > 1.2 x --retry-period, lease >= 1s\n");
        return -1;
    }

    slash = c->status.publish_service
            ? strchr(c->status.publish_service, '/') : NULL;

    if (c->status.publish_service
        && (slash == NULL || slash == c->status.publish_service
            || slash[1] == '\0'))
    {
        fprintf(stderr, "kubengx controller: --publish-service needs "
                "NAMESPACE/NAME\n");
        return -1;
    }

    if (c->webhook.listen
        && (c->webhook.certificate == NULL || c->webhook.key == NULL))
    {
        fprintf(stderr, "kubengx controller: --validating-webhook needs "
                "--validating-webhook-certificate and "
                "--validating-webhook-key\n");
        return -1;
    }

    if (c->sync.max_delay_ms < c->sync.holdoff_ms) {
        c->sync.max_delay_ms = c->sync.holdoff_ms;
    }

    if (mkdir(c->nginx.conf_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "kubengx controller: --conf-dir %s: %s\n",
                c->nginx.conf_dir, strerror(errno));
        return -1;
    }

    if (realpath(c->nginx.conf_dir, conf_dir) == NULL) {
        fprintf(stderr, "kubengx controller: --conf-dir %s: %s\n",
                c->nginx.conf_dir, strerror(errno));
        return -1;
    }

    c->nginx.conf_dir = conf_dir;

    if (kngx_options_module(o) != 0) {
        fprintf(stderr, "kubengx controller: --endpoints module and "
                "--metrics-routes need the kubengx nginx module; give "
                "--module PATH\n");
        return -1;
    }

    return 0;
}


static int
kngx_controller_cmd(kngx_options_t *o)
{
    char  conf_dir[PATH_MAX];

    if (kngx_controller_check(o, conf_dir) != 0) {
        return KNGX_EXIT_USAGE;
    }

    return kngx_ctl_run(&o->ctl, &o->po, &o->ro, &o->co, &o->stream);
}
