
/*
 * kubengx: k8s_status, the endpoint table as JSON, or as Prometheus text
 * with ?format=prometheus (ngx_http_k8s_status_prom.c).  Both are written
 * with bounds into a chain of buffers (ngx_http_k8s_out.h), never into a
 * buffer sized by estimate.  Only the Services of this configuration are
 * shown.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_table.h"
#include "ngx_http_k8s_scache.h"
#include "ngx_http_k8s_out.h"
#include "ngx_http_k8s_status.h"
#include "ngx_http_k8s_canary.h"


static ngx_int_t ngx_http_k8s_status_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_k8s_status_args(ngx_http_request_t *r,
    ngx_uint_t *prometheus, ngx_uint_t *endpoints);
static void ngx_http_k8s_status_json(ngx_http_k8s_out_t *out,
    ngx_http_k8s_table_t *t, ngx_http_k8s_view_t *view, ngx_uint_t n,
    ngx_uint_t endpoints);
static void ngx_http_k8s_json_table(ngx_http_k8s_out_t *out,
    ngx_http_k8s_table_t *t, ngx_uint_t n);
static void ngx_http_k8s_json_service(ngx_http_k8s_out_t *out,
    ngx_http_k8s_view_t *v, ngx_uint_t endpoints);
static void ngx_http_k8s_json_histogram(ngx_http_k8s_out_t *out,
    ngx_http_k8s_histogram_t *h);
static void ngx_http_k8s_json_lockstat(ngx_http_k8s_out_t *out,
    const char *name, ngx_http_k8s_lockstat_t *ls);
static void ngx_http_k8s_json_balance(ngx_http_k8s_out_t *out,
    ngx_uint_t balance);


const char  *ngx_http_k8s_state_names[] = {
    "unsynced", "absent", "empty", "ready"
};

const char  *ngx_http_k8s_scache_states[] = {
    "incomplete", "filling", "complete"
};


/* the watcher's cache of one resource kind, or NULL (none in the zone) */

ngx_http_k8s_scache_t *
ngx_http_k8s_status_scache(ngx_http_k8s_sh_t *sh, ngx_uint_t kind)
{
    ngx_http_k8s_scaches_t  *scs;

    scs = sh->scache;

    return scs ? &scs->cache[kind] : NULL;
}


char *
ngx_http_k8s_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        return "is duplicate";
    }

    clcf->handler = ngx_http_k8s_status_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_k8s_status_handler(ngx_http_request_t *r)
{
    ngx_int_t              rc;
    ngx_uint_t             n, prometheus, endpoints;
    ngx_http_k8s_out_t     out;
    ngx_http_k8s_view_t   *view;
    ngx_http_k8s_table_t  *table;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    table = ngx_http_k8s_table_get((ngx_cycle_t *) ngx_cycle);

    if (table == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "k8s_status: no \"k8s_zone\" configured");
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    if (ngx_http_k8s_status_args(r, &prometheus, &endpoints) != NGX_OK) {
        return NGX_HTTP_BAD_REQUEST;
    }

    ngx_http_k8s_table_gc(table);

    view = ngx_http_k8s_table_view(table, r->pool, &n);
    if (view == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_k8s_out_init(&out, r->pool);

    if (prometheus) {
        ngx_http_k8s_status_prometheus(&out, table, view, n, endpoints);

    } else {
        ngx_http_k8s_status_json(&out, table, view, n, endpoints);
    }

    ngx_http_k8s_table_view_release(view, n);

    return ngx_http_k8s_status_send(r, &out, prometheus);
}


/* the body written into out as the response (k8s_status, k8s_metrics) */

ngx_int_t
ngx_http_k8s_status_send(ngx_http_request_t *r, ngx_http_k8s_out_t *out,
    ngx_uint_t prometheus)
{
    ngx_int_t     rc;
    ngx_chain_t  *cl, *last;

    cl = ngx_http_k8s_out_chain(out);

    if (cl == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "k8s_status: out of memory");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (last = cl; last->next; last = last->next) { /* void */ }

    last->buf->last_buf = (r == r->main) ? 1 : 0;
    last->buf->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = out->size;

    if (prometheus) {
        ngx_str_set(&r->headers_out.content_type,
                    "text/plain; version=0.0.4");

    } else {
        ngx_str_set(&r->headers_out.content_type, "application/json");
    }

    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, cl);
}


/*
 * The table's Prometheus text (k8s_metrics): NGX_DECLINED without a
 * k8s_zone, NGX_ERROR without memory.
 */

ngx_int_t
ngx_http_k8s_status_prometheus_table(ngx_http_k8s_out_t *out,
    ngx_pool_t *pool, ngx_uint_t endpoints)
{
    ngx_uint_t             n;
    ngx_http_k8s_view_t   *view;
    ngx_http_k8s_table_t  *table;

    table = ngx_http_k8s_table_get((ngx_cycle_t *) ngx_cycle);

    if (table == NULL) {
        return NGX_DECLINED;
    }

    ngx_http_k8s_table_gc(table);

    view = ngx_http_k8s_table_view(table, pool, &n);
    if (view == NULL) {
        return NGX_ERROR;
    }

    ngx_http_k8s_status_prometheus(out, table, view, n, endpoints);

    ngx_http_k8s_table_view_release(view, n);

    return NGX_OK;
}


/* ?format=json|prometheus, ?endpoints=0 (no per-endpoint data) */

static ngx_int_t
ngx_http_k8s_status_args(ngx_http_request_t *r, ngx_uint_t *prometheus,
    ngx_uint_t *endpoints)
{
    ngx_str_t  value;

    *prometheus = 0;
    *endpoints = 1;

    if (ngx_http_arg(r, (u_char *) "format", 6, &value) == NGX_OK) {
        if (value.len == 10
            && ngx_strncmp(value.data, "prometheus", 10) == 0)
        {
            *prometheus = 1;

        } else if (value.len != 4
                   || ngx_strncmp(value.data, "json", 4) != 0)
        {
            return NGX_ERROR;
        }
    }

    if (ngx_http_arg(r, (u_char *) "endpoints", 9, &value) == NGX_OK) {
        if (value.len != 1 || (value.data[0] != '0' && value.data[0] != '1'))
        {
            return NGX_ERROR;
        }

        *endpoints = (value.data[0] == '1');
    }

    return NGX_OK;
}


static void
ngx_http_k8s_status_json(ngx_http_k8s_out_t *out, ngx_http_k8s_table_t *t,
    ngx_http_k8s_view_t *view, ngx_uint_t n, ngx_uint_t endpoints)
{
    ngx_uint_t  i;

    ngx_http_k8s_json_table(out, t, n);

    ngx_http_k8s_out_printf(out, "\"services\":{");

    for (i = 0; i < n; i++) {
        if (i) {
            ngx_http_k8s_out_printf(out, ",");
        }

        ngx_http_k8s_json_service(out, &view[i], endpoints);
    }

    ngx_http_k8s_out_printf(out, "}");

    /* the canary Ingresses' settings (ngx_http_k8s_canary.c) */
    ngx_http_k8s_canary_json(out);

    ngx_http_k8s_out_printf(out, "}\n");
}


/* the watch state and resourceVersion stored in the zone */

void
ngx_http_k8s_status_watch(ngx_http_k8s_sh_t *sh, ngx_str_t *rv,
    ngx_str_t *state)
{
    rv->data = sh->rv;
    rv->len = ngx_min(sh->rv_len, NGX_HTTP_K8S_RV_LEN);
    state->data = sh->watch_state;
    state->len = ngx_strnlen(sh->watch_state, NGX_HTTP_K8S_STATE_LEN);
}


/* everything before "services" */

static void
ngx_http_k8s_json_table(ngx_http_k8s_out_t *out, ngx_http_k8s_table_t *t,
    ngx_uint_t n)
{
    ngx_str_t               rv, state;
    ngx_http_k8s_sh_t      *sh;
    ngx_http_k8s_scache_t  *sc;

    sh = t->sh;

    ngx_http_k8s_status_watch(sh, &rv, &state);

    ngx_http_k8s_out_printf(out, "{\"zone\":\"%V\",\"generation\":%uA,"
                            "\"services_total\":%ui,\"zone_services\":%uA,"
                            "\"services_freed\":%uA,"
                            "\"config_generation\":%ui,"
                            "\"active_generation\":%uA,"
                            "\"updates\":%uA,\"nomem\":%uA,\"retired\":%uA,",
                            &t->name, sh->generation, n, sh->nentries,
                            sh->freed, t->gen, sh->active_gen, sh->updates,
                            sh->nomem, sh->nretired);

    ngx_http_k8s_out_printf(out, "\"apply\":{\"count\":%uA,\"last_us\":%uA,"
                            "\"last_endpoints\":%uA,\"max_us\":%uA,"
                            "\"max_endpoints\":%uA},\"locks\":{",
                            sh->apply_count, sh->apply_last_us,
                            sh->apply_last_n, sh->apply_max_us,
                            sh->apply_max_n);
    ngx_http_k8s_json_lockstat(out, "entry", &sh->entry_locks);
    ngx_http_k8s_out_printf(out, ",");
    ngx_http_k8s_json_lockstat(out, "mutex", &sh->mutex);
    ngx_http_k8s_out_printf(out, "},");

    ngx_http_k8s_out_printf(out, "\"watch\":{\"state\":\"");
    ngx_http_k8s_out_json(out, &state);
    ngx_http_k8s_out_printf(out, "\",\"resource_version\":\"");
    ngx_http_k8s_out_json(out, &rv);
    ngx_http_k8s_out_printf(out, "\",\"synced\":%s,\"last_ok_sync\":%T,"
                            "\"relists\":%uA,\"errors\":%uA,"
                            "\"lease_pid\":%uA},",
                            sh->synced ? "true" : "false", sh->last_ok_sync,
                            sh->relists, sh->errors, sh->lease_pid);

    sc = ngx_http_k8s_status_scache(sh, NGX_HTTP_K8S_RES_SLICES);

    if (sc) {
        ngx_http_k8s_out_printf(out, "\"slice_cache\":{\"state\":\"%s\","
                                "\"slices\":%ui,\"services\":%ui,"
                                "\"bytes\":%uz},",
                                ngx_http_k8s_scache_states[sc->state % 3],
                                sc->nobjects, sc->nnames, sc->bytes);

    } else {
        ngx_http_k8s_out_printf(out, "\"slice_cache\":null,");
    }

    sc = ngx_http_k8s_status_scache(sh, NGX_HTTP_K8S_RES_SERVICES);

    if (sc) {
        ngx_http_k8s_out_printf(out, "\"service_cache\":{\"state\":\"%s\","
                                "\"services\":%ui,\"bytes\":%uz},",
                                ngx_http_k8s_scache_states[sc->state % 3],
                                sc->nobjects, sc->bytes);

    } else {
        ngx_http_k8s_out_printf(out, "\"service_cache\":null,");
    }

    ngx_http_k8s_out_printf(out, "\"snapshot\":{\"loaded\":%uA,"
                            "\"written_generation\":%uA,\"errors\":%uA},",
                            sh->snapshot_loaded, sh->snapshot_written,
                            sh->snapshot_errors);

    ngx_http_k8s_out_printf(out, "\"lag\":{\"receive\":");
    ngx_http_k8s_json_histogram(out, &sh->lag_receive);
    ngx_http_k8s_out_printf(out, ",\"trigger\":");
    ngx_http_k8s_json_histogram(out, &sh->lag_trigger);
    ngx_http_k8s_out_printf(out, "},");
}


static void
ngx_http_k8s_json_service(ngx_http_k8s_out_t *out, ngx_http_k8s_view_t *v,
    ngx_uint_t endpoints)
{
    ngx_uint_t             j;
    ngx_http_k8s_slot_t   *slot;
    ngx_http_k8s_peer_t   *peer;
    ngx_http_k8s_entry_t  *entry;

    entry = v->entry;

    ngx_http_k8s_out_printf(out, "\"");
    ngx_http_k8s_out_json(out, &entry->key);
    ngx_http_k8s_out_printf(out, "\":{\"state\":\"%s\",\"generation\":%ui,"
                            "\"last_change\":%L,\"unavailable\":%uA,"
                            "\"nomem\":%uA,",
                            ngx_http_k8s_state_names[v->state & 3],
                            v->generation, v->last_change,
                            entry->unavailable, entry->nomem);

    ngx_http_k8s_json_balance(out, entry->balance);

    ngx_http_k8s_out_printf(out, "\"ring\":%ui,\"endpoint_count\":%ui",
                            (v->peers && v->peers->ring)
                            ? ((ngx_http_k8s_ring_t *) (uintptr_t)
                               v->peers->ring)->number
                            : 0,
                            v->peers ? v->peers->number : 0);

    if (!endpoints) {
        ngx_http_k8s_out_printf(out, "}");
        return;
    }

    ngx_http_k8s_out_printf(out, ",\"endpoints\":[");

    for (j = 0; v->peers && j < v->peers->number; j++) {
        slot = &v->peers->slot[j];
        peer = slot->peer;

        ngx_http_k8s_out_printf(out, "%s{\"address\":\"%V\",\"ready\":%s,"
                                "\"serving\":%s,\"terminating\":%s,"
                                "\"fails\":%ui,\"failures\":%ui,"
                                "\"active\":%ui,\"requests\":%ui,"
                                "\"target\":\"",
                                j ? "," : "", &peer->name,
                                slot->ready ? "true" : "false",
                                slot->serving ? "true" : "false",
                                slot->terminating ? "true" : "false",
                                peer->fails, peer->failures, peer->conns,
                                peer->requests);
        ngx_http_k8s_out_json(out, &peer->target);
        ngx_http_k8s_out_printf(out, "\",\"node\":\"");
        ngx_http_k8s_out_json(out, &peer->node_name);
        ngx_http_k8s_out_printf(out, "\",\"zone\":\"");
        ngx_http_k8s_out_json(out, &peer->zone);
        ngx_http_k8s_out_printf(out, "\",\"hints\":\"");
        ngx_http_k8s_out_json(out, &peer->hints);
        ngx_http_k8s_out_printf(out, "\",\"ewma_ms\":%.3f}", peer->ewma);
    }

    ngx_http_k8s_out_printf(out, "]}");
}


static void
ngx_http_k8s_json_histogram(ngx_http_k8s_out_t *out,
    ngx_http_k8s_histogram_t *h)
{
    ngx_uint_t  i;

    ngx_http_k8s_out_printf(out, "{\"count\":%uA,\"sum_ms\":%uA,"
                            "\"buckets\":{", h->count, h->sum);

    for (i = 0; i < NGX_HTTP_K8S_LAG_BUCKETS - 1; i++) {
        ngx_http_k8s_out_printf(out, "\"%M\":%uA,",
                                ngx_http_k8s_lag_bounds[i], h->bucket[i]);
    }

    ngx_http_k8s_out_printf(out, "\"+Inf\":%uA}}", h->bucket[i]);
}


static void
ngx_http_k8s_json_lockstat(ngx_http_k8s_out_t *out, const char *name,
    ngx_http_k8s_lockstat_t *ls)
{
    ngx_uint_t  i;

    ngx_http_k8s_out_printf(out, "\"%s\":{\"waits\":%uA,\"wait_max_us\":%uA,"
                            "\"wait_total_us\":%uA,\"buckets_us\":{",
                            name, ls->waits, ls->wait_max, ls->wait_total);

    for (i = 0; i < NGX_HTTP_K8S_LOCK_BUCKETS - 1; i++) {
        ngx_http_k8s_out_printf(out, "\"%ui\":%uA,", (ngx_uint_t) 1 << i,
                                ls->bucket[i]);
    }

    ngx_http_k8s_out_printf(out, "\"+Inf\":%uA}}", ls->bucket[i]);
}


/* "balance":["least_conn",...]: the methods of the upstreams using it */

static void
ngx_http_k8s_json_balance(ngx_http_k8s_out_t *out, ngx_uint_t balance)
{
    ngx_uint_t  m, first;

    ngx_http_k8s_out_printf(out, "\"balance\":[");

    first = 1;

    for (m = 0; m < NGX_HTTP_K8S_BALANCE_N; m++) {
        if (balance & NGX_HTTP_K8S_BALANCE_BIT(m)) {
            ngx_http_k8s_out_printf(out, "%s\"%V\"", first ? "" : ",",
                                    &ngx_http_k8s_balance_names[m]);
            first = 0;
        }
    }

    ngx_http_k8s_out_printf(out, "],");
}
