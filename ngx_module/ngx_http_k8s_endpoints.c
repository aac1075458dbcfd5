
/*
 * kubengx: the endpoint list of each registered Service port, computed
 * from the watcher's slices (kube/kube_svc_endpoints.c), and written to
 * the shm table when it changed (see ngx_http_k8s_watcher.h).
 *
 * A Service without any EndpointSlice is removed from the table (state
 * "absent"); otherwise the port's list is written, empty or not.  The
 * last list written is kept per port, so an event that changes nothing
 * for a port writes nothing.  When the zone is full, the zone's slice
 * cache is dropped and the write retried: the table needs the room more.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_watcher.h"


static ngx_int_t ngx_http_k8s_endpoints_write(ngx_http_k8s_watcher_t *w,
    ngx_http_k8s_key_t *key, kube_svc_endpoints_t *eps);
static void ngx_http_k8s_endpoints_str(ngx_str_t *dst, const char *s);


/* recompute every registered port of a Service; write what changed */

void
ngx_http_k8s_endpoints_update(ngx_http_k8s_watcher_t *w,
    ngx_http_k8s_wsvc_t *svc)
{
    ngx_int_t              rc;
    ngx_uint_t             i;
    kube_err_t             err;
    ngx_http_k8s_wkey_t   *k;
    kube_svc_endpoints_t   eps;

    for (i = 0; i < svc->nkeys; i++) {
        k = &svc->keys[i];

        if (svc->slices.nelts == 0) {

            /* no EndpointSlice at all (deleted, or not in a full list) */

            if (k->written && k->absent) {
                continue;
            }

            if (ngx_http_k8s_table_remove(w->table, k->key, w->log)
                == NGX_OK)
            {
                ngx_log_error(NGX_LOG_INFO, w->log, 0,
                              "k8s watcher: %V: no EndpointSlice",
                              &k->key->key);

                kube_svc_endpoints_free(&k->last);
                k->written = 1;
                k->absent = 1;
            }

            continue;
        }

        if (kube_svc_endpoints_compute(
                (const kube_endpointslice_t *const *) svc->slices.elts,
                svc->slices.nelts, &k->key->sel, &eps, &err)
            != 0)
        {
            ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                          "k8s watcher: %V: %s, keeping the old list",
                          &k->key->key, err.msg);
            continue;
        }

        if (k->written && !k->absent
            && kube_svc_endpoints_equal(&k->last, &eps))
        {
            kube_svc_endpoints_free(&eps);
            continue;
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
            continue;
        }

        ngx_log_error(NGX_LOG_INFO, w->log, 0,
                      "k8s watcher: %V: %uz endpoint(s)%s",
                      &k->key->key, eps.n,
                      eps.fallback ? " (serving+terminating fallback)"
                                   : "");

        kube_svc_endpoints_free(&k->last);
        k->last = eps;
        k->written = 1;
        k->absent = 0;
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
