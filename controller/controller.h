
/*
 * kubengx controller: watch the API, re-render, run nginx.
 *
 * kngx_ctl_run() composes the parts, each of which owns its state behind
 * its own header:
 *
 *   controller_api.h      the API: endpoint, auth, the libcurl multi
 *                         handle, one-shot requests (leases, status,
 *                         events)
 *   controller_watch.h    one list/watch machine per kind, and the
 *                         object store it fills (controller_model.c:
 *                         the store as a generator model)
 *   controller_sync.h     model -> plan -> text; only when the text or a
 *                         certificate changed: nginx -t, write, reload;
 *                         when nginx -t rejects it, the Ingresses to
 *                         blame are left out (controller_sync_int.h)
 *   controller_nginx.h    nginx as a child: start, reload, quit, reap
 *   controller_probe.h    does nginx answer on its http port (readiness)
 *   controller_leader.h   Lease leader election
 *   controller_status.h   the Ingress status the leader writes
 *   controller_events.h   warnings -> rate-limited core v1 Events
 *   controller_http.h     the /healthz, /readyz, /metrics server
 *                         (controller_metrics.c: what they answer)
 *   controller_webhook.h  the validating admission webhook (HTTPS):
 *                         the store with the reviewed Ingress, planned
 *                         and tested like a sync's config
 *   controller_log.h      the clock and the log
 *
 * and controller_loop.c runs them until a stop signal or nginx's death.
 *
 * One thread.  Everything runs from the main loop and nothing in it
 * blocks: API requests (watches, lease, status, events) are transfers
 * on one libcurl multi handle, nginx -t is a child whose output is read
 * as it comes, health clients are served without waiting on them.  Only
 * the last requests, at the first stop signal (the status cleared, the
 * Lease released), block: the loop then only waits for nginx to quit.
 */

#ifndef KNGX_CONTROLLER_H
#define KNGX_CONTROLLER_H

#include "controller_api.h"
#include "controller_events.h"
#include "controller_http.h"
#include "controller_leader.h"
#include "controller_nginx.h"
#include "controller_status.h"
#include "controller_sync.h"
#include "controller_watch.h"
#include "controller_webhook.h"
#include "model.h"
#include "render.h"
#include "stream.h"


/*
 * What each part is configured with.  The fields marked "filled by
 * kngx_ctl_run()" are derived from the others and from the options the
 * controller shares with kubengx render.
 */
typedef struct {
    kngx_ctl_api_conf_t      api;
    kngx_ctl_watch_conf_t    watch;
    kngx_ctl_nginx_conf_t    nginx;
    kngx_ctl_sync_conf_t     sync;
    kngx_ctl_http_conf_t     http;
    kngx_ctl_leader_conf_t   leader;
    kngx_ctl_status_conf_t   status;
    kngx_ctl_events_conf_t   events;
    kngx_ctl_webhook_conf_t  webhook;
} kngx_ctl_conf_t;


/*
 * Run the controller: the config is planned, rendered and tested as
 * kubengx render does with po, ro and co (ro.certs_dir and co.module are
 * the controller's: CONF_DIR/certs, and the module only with
 * --endpoints module).  Returns 0 after a requested stop, 1 if nginx
 * died or the start failed.
 */
int kngx_ctl_run(const kngx_ctl_conf_t *conf, const kngx_plan_opts_t *po,
    const kngx_render_opts_t *ro, const kngx_check_opts_t *co,
    const kngx_stream_opts_t *so);

#endif /* KNGX_CONTROLLER_H */
