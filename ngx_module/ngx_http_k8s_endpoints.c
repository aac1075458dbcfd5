

/*
 * kubengx: the endpoint list of each registered Service port, computed
 * from the watcher's Services and slices, and written to the shm table
 * when it changed (see ngx_http_k8s_watcher.h).
 *
 * port= names a Service port, as an Ingress backend does: a number is the
 * Service's spec.ports[].port, a name its name, none the unnamed port.
 * It is resolved through the Service (kube_service_resolve()) to the
 * name of the EndpointSlice port that serves it ("" for the unnamed
 * port), and the endpoints are those of that slice port, each with its
 * own slice's number (kube/kube_svc_endpoints.c).
 *
 * Nothing is written until both the Services and the EndpointSlices were
 * listed completely (or resumed): until then the table keeps what it had
 * (unsynced, or the snapshot's lists).  Then, per registered port:
 *
 *   - no such Service: removed from the table ("absent"), logged;
 *   - the Service has no such port: an empty list ("empty"), logged;
 *   - no EndpointSlice: removed from the table ("absent");
 *   - otherwise the port's list, empty or not.
 *
 * What was written last is kept per port, so an event that changes
 * nothing for a port writes nothing, and each of the log lines above is
 * written once per change.  When the zone is full, the zone's caches are
 * dropped and the write retried: the table needs the room more.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_watcher.h"


static void ngx_http_k8s_endpoints_unresolved(ngx_http_k8s_watcher_t *w,
    ngx_http_k8s_wsvc_t *svc, ngx_http_k8s_wkey_t *k, ngx_uint_t state);
static void ngx_http_k8s_endpoints_list(ngx_http_k8s_watcher_t *w,
    ngx_http_k8s_wsvc_t *svc, ngx_http_k8s_wkey_t *k,
    kube_port_selector_t *sel);
static ngx_int_t ngx_http_k8s_endpoints_write(ngx_http_k8s_watcher_t *w,
    ngx_http_k8s_key_t *key, kube_svc_endpoints_t *eps);
static void ngx_http_k8s_endpoints_str(ngx_str_t *dst, const char *s);


/*
 * A complete list of resource res was applied (or resumed): once every
 * resource has one, every registered port is computed and written, and
 * the table is marked synced (ports never written become "absent").
 */

void
ngx_http_k8s_endpoints_listed(ngx_http_k8s_watcher_t *w, ngx_uint_t res)
{
    ngx_uint_t  i;

    w->listed |= (ngx_uint_t) 1 << res;
    w->last_ok_sync = ngx_time();

    if (w->listed != ((ngx_uint_t) 1 << NGX_HTTP_K8S_RES_N) - 1) {
        return;
    }

    for (i = 0; i < w->nsvcs; i++) {
        ngx_http_k8s_endpoints_update(w, &w->svcs[i]);
    }

    ngx_http_k8s_table_mark_synced(w->table, w->log);
}


/* recompute every registered port of a Service; write what changed */

void
ngx_http_k8s_endpoints_update(ngx_http_k8s_watcher_t *w,
    ngx_http_k8s_wsvc_t *svc)
{
    ngx_uint_t             i;
    ngx_http_k8s_wkey_t   *k;
    kube_port_selector_t   sel;

    if (w->listed != ((ngx_uint_t) 1 << NGX_HTTP_K8S_RES_N) - 1) {
        return;
    }

    for (i = 0; i < svc->nkeys; i++) {
        k = &svc->keys[i];

        if (svc->service == NULL) {
            ngx_http_k8s_endpoints_unresolved(w, svc, k,
                                              NGX_HTTP_K8S_WKEY_NO_SERVICE);
            continue;
        }

        if (kube_service_resolve(svc->service, &k->key->sel, &sel) != 0) {
            ngx_http_k8s_endpoints_unresolved(w, svc, k,
                                              NGX_HTTP_K8S_WKEY_NO_PORT);
            continue;
        }

        if (svc->slices.nelts == 0) {

            /* no EndpointSlice at all (deleted, or not in a full list) */

            if (k->state == NGX_HTTP_K8S_WKEY_NO_SLICES) {
                continue;
            }

            if (ngx_http_k8s_table_remove(w->table, k->key, w->log)
                == NGX_OK)
            {
                ngx_log_error(NGX_LOG_INFO, w->log, 0,
                              "k8s watcher: %V: no EndpointSlice",
                              &k->key->key);

                kube_svc_endpoints_free(&k->last);
                k->state = NGX_HTTP_K8S_WKEY_NO_SLICES;
            }

            continue;
        }

        ngx_http_k8s_endpoints_list(w, svc, k, &sel);
    }
}


void
ngx_http_k8s_endpoints_free(ngx_http_k8s_wsvc_t *svc)
{
    ngx_uint_t  i;

    for (i = 0; i < svc->nkeys; i++) {
        kube_svc_endpoints_free(&svc->keys[i].last);
    }
}


/* the Service or its port does not exist: 503, and one log line */

static void
ngx_http_k8s_endpoints_unresolved(ngx_http_k8s_watcher_t *w,
    ngx_http_k8s_wsvc_t *svc, ngx_http_k8s_wkey_t *k, ngx_uint_t state)
{
    ngx_int_t              rc;
    kube_port_selector_t  *sel;

    if (k->state == state) {
        return;
    }

    if (state == NGX_HTTP_K8S_WKEY_NO_SERVICE) {
        rc = ngx_http_k8s_table_remove(w->table, k->key, w->log);

    } else {
        rc = ngx_http_k8s_table_set(w->table, k->key, NULL, 0, 0,
                                    ngx_current_msec, w->log);
    }

    if (rc != NGX_OK) {
        /* logged (zone full): the old list stays */
        return;
    }

    kube_svc_endpoints_free(&k->last);
    k->state = state;

    sel = &k->key->sel;

    if (state == NGX_HTTP_K8S_WKEY_NO_SERVICE) {
        ngx_log_error(NGX_LOG_WARN, w->log, 0,
                      "k8s watcher: %V: Service %s/%s does not exist, "
                      "answering 503", &k->key->key, svc->ns, svc->name);

    } else if (sel->kind == KUBE_PORTSEL_NUMBER) {
        ngx_log_error(NGX_LOG_WARN, w->log, 0,
                      "k8s watcher: %V: Service %s/%s has no port %ui, "
                      "answering 503", &k->key->key, svc->ns, svc->name,
                      (ngx_uint_t) sel->number);

    } else if (sel->kind == KUBE_PORTSEL_NAME) {
        ngx_log_error(NGX_LOG_WARN, w->log, 0,
                      "k8s watcher: %V: Service %s/%s has no port %s, "
                      "answering 503", &k->key->key, svc->ns, svc->name,
                      sel->name);

    } else {
        ngx_log_error(NGX_LOG_WARN, w->log, 0,
                      "k8s watcher: %V: Service %s/%s has no unnamed port, "
                      "answering 503", &k->key->key, svc->ns, svc->name);
    }
}


/* the endpoints of slice port sel; written when they changed */

static void
ngx_http_k8s_endpoints_list(ngx_http_k8s_watcher_t *w,
    ngx_http_k8s_wsvc_t *svc, ngx_http_k8s_wkey_t *k,
    kube_port_selector_t *sel)
{
    ngx_int_t             rc;
    kube_err_t            err;
    kube_svc_endpoints_t  eps;

    if (kube_svc_endpoints_compute(
            (const kube_endpointslice_t *const *) svc->slices.elts,
            svc->slices.nelts, sel, &eps, &err)
        != 0)
    {
        ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                      "k8s watcher: %V: %s, keeping the old list",
                      &k->key->key, err.msg);
        return;
    }

    if (k->state == NGX_HTTP_K8S_WKEY_LIST
        && kube_svc_endpoints_equal(&k->last, &eps))
    {
        kube_svc_endpoints_free(&eps);
        return;
    }

    rc = ngx_http_k8s_endpoints_write(w, k->key, &eps);

    if (rc != NGX_OK
        && ngx_http_k8s_scache_drop(w->table, w->log,
                                    "the endpoint table needs the room"))
    {
        rc = ngx_http_k8s_endpoints_write(w, k->key, &eps);
    }

    if (rc != NGX_OK) {
        /* logged (zone full): the old list stays */
        kube_svc_endpoints_free(&eps);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, w->log, 0,
                  "k8s watcher: %V: %uz endpoint(s)%s", &k->key->key, eps.n,
                  eps.fallback ? " (serving+terminating fallback)" : "");

    kube_svc_endpoints_free(&k->last);
    k->last = eps;
    k->state = NGX_HTTP_K8S_WKEY_LIST;
}


/* kube_svc_endpoints_t -> the table's endpoint array */

static ngx_int_t
ngx_http_k8s_endpoints_write(ngx_http_k8s_watcher_t *w,
    ngx_http_k8s_key_t *key, kube_svc_endpoints_t *eps)
{
    size_t                      size;
    ngx_int_t                   rc;
    ngx_uint_t                  i;
    ngx_http_k8s_endpoint_t    *out, *o;
    const kube_svc_endpoint_t  *e;
    ngx_http_k8s_endpoint_t     one[8];

    size = eps->n * sizeof(ngx_http_k8s_endpoint_t);

    if (eps->n <= 8) {
        out = one;

    } else {
        out = malloc(size);
        if (out == NULL) {
            ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                          "k8s watcher: %V: out of memory for %uz "
                          "endpoints", &key->key, eps->n);
            return NGX_ERROR;
        }
    }

    for (i = 0; i < eps->n; i++) {
        e = &eps->endpoints[i];
        o = &out[i];

        ngx_memzero(o, sizeof(ngx_http_k8s_endpoint_t));

        o->family = e->family;
        ngx_memcpy(o->addr, e->bin, e->family == AF_INET ? 4 : 16);
        o->port = e->port;
        o->ready = e->ready;
        o->serving = e->serving;
        o->terminating = e->terminating;

        if (e->src != NULL) {
            ngx_http_k8s_endpoints_str(&o->zone, e->src->zone);
            ngx_http_k8s_endpoints_str(&o->node_name, e->src->node_name);
            ngx_http_k8s_endpoints_str(&o->target, e->src->target_name);

            /* hints.forZones, for k8s_local_zone; valid during the set */
            o->for_zones = (const char *const *) e->src->for_zones;
            o->nfor_zones = e->src->nfor_zones;
        }
    }

    rc = ngx_http_k8s_table_set(w->table, key, out, eps->n,
                                eps->has_trigger_time ? eps->trigger_time_ms
                                                      : 0,
                                ngx_current_msec, w->log);

    if (out != one) {
        free(out);
    }

    return rc;
}


static void
ngx_http_k8s_endpoints_str(ngx_str_t *dst, const char *s)
{
    if (s == NULL) {
        ngx_str_null(dst);
        return;
    }

    dst->data = (u_char *) s;
    dst->len = ngx_strlen(s);
}
