
/*
 * kubengx controller: start and stop.
 *
 * kngx_ctl_run() derives what the parts share from the configuration,
 * creates them in the order they use each other (the API; the store;
 * the leader, the status and the Events; the health server and the
 * probe; nginx's main config; the sync; the webhook), runs
 * controller_loop.c until a stop signal or nginx's death, and takes them
 * down in reverse.  The parts hear of each other only through what they
 * are given here: the store tells the sync what changed, the leader
 * tells whoever cares that it leads.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "controller_int.h"
#include "controller_log.h"


/* the store's handler */

static void
kngx_ctl_on_changed(void *data, const char *what)
{
    kngx_ctl_t  *ctl = data;

    kngx_ctl_sync_changed(ctl->sync, what);
}


static void
kngx_ctl_on_dirty(void *data, const char *why)
{
    kngx_ctl_t  *ctl = data;

    kngx_ctl_sync_dirty(ctl->sync, why);
}


static void
kngx_ctl_on_lead(void *data, int leader)
{
    kngx_ctl_t  *ctl = data;

    if (!leader) {
        return;
    }

    kngx_ctl_status_sync(ctl->status);

    /* only the leader posts Events: a sync now turns the warnings of the
     * current objects into Events (unchanged text: no reload) */
    kngx_ctl_sync_dirty(ctl->sync, "became the leader");
}


/* the fields of conf filled here */

static void
kngx_ctl_derive(kngx_ctl_conf_t *c, kngx_ctl_api_t *api, char *idbuf,
    size_t size, const kngx_plan_opts_t *po, const kngx_render_opts_t *ro,
    const kngx_check_opts_t *co)
{
    const kube_auth_t  *auth = kngx_ctl_api_auth(api);
    const char         *env;
    char                host[256];

    if (c->leader.identity == NULL) {
        env = getenv("POD_NAME");
        if (env == NULL || env[0] == '\0') {
            if (gethostname(host, sizeof(host)) != 0) {
                snprintf(host, sizeof(host), "kubengx");
            }
            host[sizeof(host) - 1] = '\0';
            env = host;
        }
        snprintf(idbuf, size, "%s_%ld", env, (long) getpid());
        c->leader.identity = idbuf;
    }

    if (c->leader.ns == NULL) {
        env = getenv("POD_NAMESPACE");
        c->leader.ns = env && env[0] ? env
                       : auth->ns ? auth->ns : "default";
    }

    c->events.identity = c->leader.identity;

    /* endpoints are the module's business unless rendered statically */
    c->watch.slices = po->endpoints == KNGX_ENDPOINTS_STATIC;

    c->nginx.nginx = co->nginx;
    /* loaded for endpoints, or for the per-request metrics alone */
    c->nginx.module = po->endpoints == KNGX_ENDPOINTS_MODULE
                      || po->metrics_routes ? co->module : NULL;
    c->nginx.allow_loopback = co->allow_loopback;
    c->nginx.status_address = ro->listen_address;
    c->nginx.kubeconfig = c->api.kubeconfig;
    c->nginx.metrics_class = po->class_name;

    c->sync.po = *po;
    c->sync.ro = *ro;
    c->sync.co = *co;
    c->sync.co.module = c->nginx.module;
    c->sync.conf_dir = c->nginx.conf_dir;
}


static int
kngx_ctl_start(kngx_ctl_t *ctl, kngx_ctl_conf_t *c, char *idbuf,
    size_t size, const kngx_plan_opts_t *po, const kngx_render_opts_t *ro,
    const kngx_check_opts_t *co, const kngx_stream_opts_t *so)
{
    kngx_ctl_watch_handler_t  h;
    int                       failed;

    ctl->api = kngx_ctl_api_create(&c->api);
    if (ctl->api == NULL) {
        return -1;
    }

    kngx_ctl_derive(c, ctl->api, idbuf, size, po, ro, co);

    if (kngx_ctl_stream_conf(c, so) != 0) {
        return -1;
    }

    kngx_ctl_settings_conf(c, ro);

    if (kngx_ctl_scrape_conf(c) != 0) {
        return -1;
    }

    h.changed = kngx_ctl_on_changed;
    h.dirty = kngx_ctl_on_dirty;
    h.data = ctl;

    ctl->watch = kngx_ctl_watch_create(&c->watch, ctl->api, &h);
    if (ctl->watch == NULL) {
        return -1;
    }

    ctl->leader = kngx_ctl_leader_create(&c->leader, ctl->api,
                                         kngx_ctl_on_lead, ctl);
    ctl->status = kngx_ctl_status_create(&c->status, ctl->api, ctl->watch,
                                         ctl->leader);
    ctl->events = kngx_ctl_events_create(&c->events, ctl->api, ctl->watch,
                                         ctl->leader);
    if (ctl->leader == NULL || ctl->status == NULL || ctl->events == NULL) {
        return -1;
    }

    ctl->http = kngx_ctl_http_create(&c->http, kngx_ctl_answer, ctl);
    if (ctl->http == NULL) {
        return -1;
    }

    ctl->scrape = kngx_ctl_scrape_create(c, ctl->api, ctl->http);

    ctl->probe = kngx_ctl_probe_create(ro->listen_address, ro->http_port);
    if (ctl->probe == NULL) {
        return -1;
    }

    ctl->nginx_conf = &c->nginx;
    ctl->nginx = kngx_ctl_nginx_create(&c->nginx, kngx_ctl_api_auth(ctl->api));
    if (ctl->nginx == NULL) {
        return -1;
    }

    ctl->sync = kngx_ctl_sync_create(&c->sync, ctl->watch, ctl->nginx,
                                     ctl->events, ctl->status);
    if (ctl->sync == NULL) {
        return -1;
    }

    ctl->webhook = kngx_ctl_webhook_create(&c->webhook, &c->sync, ctl->watch,
                                           ctl->sync, &failed);
    if (failed) {
        return -1;
    }

    kngx_ctl_log("started: identity %s, conf dir %s, endpoints %s%s",
                 c->leader.identity, c->nginx.conf_dir,
                 po->endpoints == KNGX_ENDPOINTS_MODULE ? "module"
                 : po->endpoints == KNGX_ENDPOINTS_STATIC ? "static"
                 : "cluster-ip",
                 c->leader.elect ? ", leader election on" : "");

    return 0;
}


static void
kngx_ctl_destroy(kngx_ctl_t *ctl)
{
    /* the requests still out call back into the parts: first */
    if (ctl->api) {
        kngx_ctl_api_cancel_all(ctl->api);
    }

    kngx_ctl_webhook_destroy(ctl->webhook);
    kngx_ctl_sync_destroy(ctl->sync);
    kngx_ctl_scrape_destroy(ctl->scrape);
    kngx_ctl_http_destroy(ctl->http);
    kngx_ctl_probe_destroy(ctl->probe);
    kngx_ctl_nginx_destroy(ctl->nginx);
    kngx_ctl_events_destroy(ctl->events);
    kngx_ctl_status_destroy(ctl->status);
    kngx_ctl_leader_destroy(ctl->leader);
    kngx_ctl_watch_destroy(ctl->watch);
    kngx_ctl_api_destroy(ctl->api);
}


int
kngx_ctl_run(const kngx_ctl_conf_t *conf, const kngx_plan_opts_t *po,
    const kngx_render_opts_t *ro, const kngx_check_opts_t *co,
    const kngx_stream_opts_t *so)
{
    kngx_ctl_t       ctl;
    kngx_ctl_conf_t  c;
    char             idbuf[512];
    int              rc = 1;

    memset(&ctl, 0, sizeof(ctl));
    c = *conf;

    srand((unsigned) (kngx_ctl_now() ^ (uint64_t) getpid()));

    curl_global_init(CURL_GLOBAL_DEFAULT);

    if (kngx_ctl_signals(&ctl) == 0
        && kngx_ctl_start(&ctl, &c, idbuf, sizeof(idbuf), po, ro, co, so)
           == 0)
    {
        rc = kngx_ctl_loop(&ctl);

        kngx_ctl_nginx_stop(ctl.nginx);
    }

    kngx_ctl_destroy(&ctl);
    curl_global_cleanup();

    return rc;
}
