
/*
 * kubengx: k8s_status, the endpoint table as JSON, or as Prometheus text
 * with ?format=prometheus.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_table.h"


static ngx_int_t ngx_http_k8s_status_handler(ngx_http_request_t *r);
static size_t ngx_http_k8s_status_size(ngx_http_k8s_view_t *view,
    ngx_uint_t n);
static u_char *ngx_http_k8s_status_json(u_char *p, ngx_http_k8s_table_t *t,
    ngx_http_k8s_view_t *view, ngx_uint_t n);
static u_char *ngx_http_k8s_status_prometheus(u_char *p,
    ngx_http_k8s_table_t *t, ngx_http_k8s_view_t *view, ngx_uint_t n);
static u_char *ngx_http_k8s_json_histogram(u_char *p,
    ngx_http_k8s_histogram_t *h);
static u_char *ngx_http_k8s_prom_histogram(u_char *p, const char *source,
    ngx_http_k8s_histogram_t *h);
static u_char *ngx_http_k8s_prom_escape(u_char *p, ngx_str_t *s);
static u_char *ngx_http_k8s_json_balance(u_char *p, ngx_uint_t balance);


static const char  *ngx_http_k8s_state_names[] = {
    "unsynced", "absent", "empty", "ready"
};


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
    size_t                 size;
    u_char                *last;
    ngx_int_t              rc;
    ngx_buf_t             *b;
    ngx_str_t              format;
    ngx_uint_t             n, prometheus;
    ngx_chain_t            out;
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

    prometheus = 0;

    if (ngx_http_arg(r, (u_char *) "format", 6, &format) == NGX_OK) {
        if (format.len == 10
            && ngx_strncmp(format.data, "prometheus", 10) == 0)
        {
            prometheus = 1;

        } else if (format.len != 4
                   || ngx_strncmp(format.data, "json", 4) != 0)
        {
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    ngx_http_k8s_table_gc(table);

    view = ngx_http_k8s_table_view(table, r->pool, &n);
    if (view == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    size = ngx_http_k8s_status_size(view, n);

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        ngx_http_k8s_table_view_release(view, n);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (prometheus) {
        last = ngx_http_k8s_status_prometheus(b->last, table, view, n);

    } else {
        last = ngx_http_k8s_status_json(b->last, table, view, n);
    }

    ngx_http_k8s_table_view_release(view, n);

    if (last > b->end) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "k8s_status: buffer overflow");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = last;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;

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

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static size_t
ngx_http_k8s_status_size(ngx_http_k8s_view_t *view, ngx_uint_t n)
{
    size_t                i, j, size;
    ngx_http_k8s_peer_t  *peer;

    size = 8192;

    for (i = 0; i < n; i++) {
        size += 1024 + 8 * view[i].entry->key.len;

        if (view[i].peers == NULL) {
            continue;
        }

        for (j = 0; j < view[i].peers->number; j++) {
            peer = view[i].peers->slot[j].peer;

            size += 2560 + 8 * view[i].entry->key.len
                    + 8 * (peer->zone.len + peer->node_name.len
                           + peer->target.len + peer->hints.len);
        }
    }

    return size;
}


static u_char *
ngx_http_k8s_status_json(u_char *p, ngx_http_k8s_table_t *t,
    ngx_http_k8s_view_t *view, ngx_uint_t n)
{
    ngx_str_t             rv, state;
    ngx_uint_t            i, j;
    ngx_http_k8s_sh_t    *sh;
    ngx_http_k8s_slot_t  *slot;
    ngx_http_k8s_peer_t  *peer;

    sh = t->sh;

    rv.data = sh->rv;
    rv.len = ngx_min(sh->rv_len, NGX_HTTP_K8S_RV_LEN);
    state.data = sh->watch_state;
    state.len = ngx_strnlen(sh->watch_state, NGX_HTTP_K8S_STATE_LEN);

    p = ngx_sprintf(p, "{\"zone\":\"%V\",\"generation\":%uA,"
                    "\"services_total\":%uA,\"updates\":%uA,"
                    "\"nomem\":%uA,\"retired\":%uA,",
                    &t->name, sh->generation, sh->nentries, sh->updates,
                    sh->nomem, sh->nretired);

    p = ngx_sprintf(p, "\"watch\":{\"state\":\"");
    p = (u_char *) ngx_escape_json(p, state.data, state.len);
    p = ngx_sprintf(p, "\",\"resource_version\":\"");
    p = (u_char *) ngx_escape_json(p, rv.data, rv.len);
    p = ngx_sprintf(p, "\",\"synced\":%s,\"last_ok_sync\":%T,"
                    "\"relists\":%uA,\"errors\":%uA,\"lease_pid\":%uA},",
                    sh->synced ? "true" : "false", sh->last_ok_sync,
                    sh->relists, sh->errors, sh->lease_pid);

    p = ngx_sprintf(p, "\"snapshot\":{\"loaded\":%uA,"
                    "\"written_generation\":%uA,\"errors\":%uA},",
                    sh->snapshot_loaded, sh->snapshot_written,
                    sh->snapshot_errors);

    p = ngx_sprintf(p, "\"lag\":{\"receive\":");
    p = ngx_http_k8s_json_histogram(p, &sh->lag_receive);
    p = ngx_sprintf(p, ",\"trigger\":");
    p = ngx_http_k8s_json_histogram(p, &sh->lag_trigger);
    p = ngx_sprintf(p, "},\"services\":{");

    for (i = 0; i < n; i++) {

        p = ngx_sprintf(p, "%s\"%V\":{\"state\":\"%s\",\"generation\":%ui,"
                        "\"last_change\":%L,\"unavailable\":%uA,"
                        "\"nomem\":%uA,",
                        i ? "," : "", &view[i].entry->key,
                        ngx_http_k8s_state_names[view[i].state & 3],
                        view[i].generation, view[i].last_change,
                        view[i].entry->unavailable, view[i].entry->nomem);

        p = ngx_http_k8s_json_balance(p, view[i].entry->balance);

        p = ngx_sprintf(p, "\"ring\":%ui,\"endpoints\":[",
                        (view[i].peers && view[i].peers->ring)
                        ? ((ngx_http_k8s_ring_t *) (uintptr_t)
                           view[i].peers->ring)->number
                        : 0);

        for (j = 0; view[i].peers && j < view[i].peers->number; j++) {
            slot = &view[i].peers->slot[j];
            peer = slot->peer;

            p = ngx_sprintf(p, "%s{\"address\":\"%V\",\"ready\":%s,"
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
            p = (u_char *) ngx_escape_json(p, peer->target.data,
                                           peer->target.len);
            p = ngx_sprintf(p, "\",\"node\":\"");
            p = (u_char *) ngx_escape_json(p, peer->node_name.data,
                                           peer->node_name.len);
            p = ngx_sprintf(p, "\",\"zone\":\"");
            p = (u_char *) ngx_escape_json(p, peer->zone.data,
                                           peer->zone.len);
            p = ngx_sprintf(p, "\",\"hints\":\"");
            p = (u_char *) ngx_escape_json(p, peer->hints.data,
                                           peer->hints.len);
            p = ngx_sprintf(p, "\",\"ewma_ms\":%.3f}", peer->ewma);
        }

        p = ngx_sprintf(p, "]}");
    }

    return ngx_sprintf(p, "}}\n");
}


static u_char *
ngx_http_k8s_json_histogram(u_char *p, ngx_http_k8s_histogram_t *h)
{
    ngx_uint_t  i;

    p = ngx_sprintf(p, "{\"count\":%uA,\"sum_ms\":%uA,\"buckets\":{",
                    h->count, h->sum);

    for (i = 0; i < NGX_HTTP_K8S_LAG_BUCKETS - 1; i++) {
        p = ngx_sprintf(p, "\"%M\":%uA,", ngx_http_k8s_lag_bounds[i],
                        h->bucket[i]);
    }

    return ngx_sprintf(p, "\"+Inf\":%uA}}", h->bucket[i]);
}


static u_char *
ngx_http_k8s_status_prometheus(u_char *p, ngx_http_k8s_table_t *t,
    ngx_http_k8s_view_t *view, ngx_uint_t n)
{
    ngx_str_t             rv, state;
    ngx_uint_t            i, j, s;
    ngx_http_k8s_sh_t    *sh;
    ngx_http_k8s_slot_t  *slot;
    ngx_http_k8s_peer_t  *peer;
    ngx_http_k8s_entry_t *entry;

    sh = t->sh;

    rv.data = sh->rv;
    rv.len = ngx_min(sh->rv_len, NGX_HTTP_K8S_RV_LEN);
    state.data = sh->watch_state;
    state.len = ngx_strnlen(sh->watch_state, NGX_HTTP_K8S_STATE_LEN);

    p = ngx_sprintf(p,
            "# TYPE kubengx_table_generation gauge\n"
            "kubengx_table_generation %uA\n"
            "# TYPE kubengx_table_updates_total counter\n"
            "kubengx_table_updates_total %uA\n"
            "# TYPE kubengx_table_nomem_total counter\n"
            "kubengx_table_nomem_total %uA\n"
            "# TYPE kubengx_watch_synced gauge\n"
            "kubengx_watch_synced %uA\n"
            "# TYPE kubengx_watch_relists_total counter\n"
            "kubengx_watch_relists_total %uA\n"
            "# TYPE kubengx_watch_errors_total counter\n"
            "kubengx_watch_errors_total %uA\n"
            "# TYPE kubengx_watch_last_sync_timestamp_seconds gauge\n"
            "kubengx_watch_last_sync_timestamp_seconds %T\n"
            "# TYPE kubengx_watch_info gauge\n"
            "kubengx_watch_info{state=\"",
            sh->generation, sh->updates, sh->nomem, sh->synced,
            sh->relists, sh->errors, sh->last_ok_sync);

    p = ngx_http_k8s_prom_escape(p, &state);
    p = ngx_sprintf(p, "\",resource_version=\"");
    p = ngx_http_k8s_prom_escape(p, &rv);
    p = ngx_sprintf(p, "\"} 1\n");

    p = ngx_sprintf(p,
            "# TYPE kubengx_snapshot_loaded_services gauge\n"
            "kubengx_snapshot_loaded_services %uA\n"
            "# TYPE kubengx_snapshot_errors_total counter\n"
            "kubengx_snapshot_errors_total %uA\n",
            sh->snapshot_loaded, sh->snapshot_errors);

    p = ngx_sprintf(p, "# TYPE kubengx_service_endpoints gauge\n");

    for (i = 0; i < n; i++) {
        p = ngx_sprintf(p, "kubengx_service_endpoints{service=\"%V\"} %ui\n",
                        &view[i].entry->key,
                        view[i].peers ? view[i].peers->number : 0);
    }

    p = ngx_sprintf(p, "# TYPE kubengx_service_state gauge\n");

    for (i = 0; i < n; i++) {
        for (s = 0; s < 4; s++) {
            p = ngx_sprintf(p, "kubengx_service_state{service=\"%V\","
                            "state=\"%s\"} %d\n",
                            &view[i].entry->key,
                            ngx_http_k8s_state_names[s],
                            view[i].state == s);
        }
    }

    p = ngx_sprintf(p, "# TYPE kubengx_service_generation gauge\n");

    for (i = 0; i < n; i++) {
        p = ngx_sprintf(p, "kubengx_service_generation{service=\"%V\"} %ui\n",
                        &view[i].entry->key, view[i].generation);
    }

    p = ngx_sprintf(p,
                    "# TYPE kubengx_service_last_change_timestamp_seconds "
                    "gauge\n");

    for (i = 0; i < n; i++) {
        p = ngx_sprintf(p, "kubengx_service_last_change_timestamp_seconds"
                        "{service=\"%V\"} %L.%03L\n",
                        &view[i].entry->key, view[i].last_change / 1000,
                        view[i].last_change % 1000);
    }

    p = ngx_sprintf(p,
                    "# TYPE kubengx_service_unavailable_total counter\n");

    for (i = 0; i < n; i++) {
        entry = view[i].entry;
        p = ngx_sprintf(p, "kubengx_service_unavailable_total"
                        "{service=\"%V\"} %uA\n",
                        &entry->key, entry->unavailable);
    }

    p = ngx_sprintf(p,
            "# TYPE kubengx_endpoint_ready gauge\n"
            "# TYPE kubengx_endpoint_active_connections gauge\n"
            "# TYPE kubengx_endpoint_fails gauge\n"
            "# TYPE kubengx_endpoint_failures_total counter\n"
            "# TYPE kubengx_endpoint_requests_total counter\n"
            "# TYPE kubengx_endpoint_ewma_seconds gauge\n");

    for (i = 0; i < n; i++) {
        for (j = 0; view[i].peers && j < view[i].peers->number; j++) {
            slot = &view[i].peers->slot[j];
            peer = slot->peer;

            p = ngx_sprintf(p, "kubengx_endpoint_ready{service=\"%V\","
                            "endpoint=\"%V\",target=\"",
                            &view[i].entry->key, &peer->name);
            p = ngx_http_k8s_prom_escape(p, &peer->target);
            p = ngx_sprintf(p, "\"} %d\n", slot->ready ? 1 : 0);

            p = ngx_sprintf(p,
                    "kubengx_endpoint_active_connections{service=\"%V\","
                    "endpoint=\"%V\"} %ui\n"
                    "kubengx_endpoint_fails{service=\"%V\","
                    "endpoint=\"%V\"} %ui\n"
                    "kubengx_endpoint_failures_total{service=\"%V\","
                    "endpoint=\"%V\"} %ui\n"
                    "kubengx_endpoint_requests_total{service=\"%V\","
                    "endpoint=\"%V\"} %ui\n",
                    &view[i].entry->key, &peer->name, peer->conns,
                    &view[i].entry->key, &peer->name, peer->fails,
                    &view[i].entry->key, &peer->name, peer->failures,
                    &view[i].entry->key, &peer->name, peer->requests);

            p = ngx_sprintf(p, "kubengx_endpoint_ewma_seconds{service=\"%V\","
                            "endpoint=\"%V\"} %.6f\n",
                            &view[i].entry->key, &peer->name,
                            peer->ewma / 1000);
        }
    }

    p = ngx_sprintf(p, "# TYPE kubengx_service_balance_info gauge\n");

    for (i = 0; i < n; i++) {
        for (s = 0; s < NGX_HTTP_K8S_BALANCE_N; s++) {
            if (view[i].entry->balance & NGX_HTTP_K8S_BALANCE_BIT(s)) {
                p = ngx_sprintf(p, "kubengx_service_balance_info"
                                "{service=\"%V\",method=\"%V\"} 1\n",
                                &view[i].entry->key,
                                &ngx_http_k8s_balance_names[s]);
            }
        }
    }

    p = ngx_sprintf(p, "# TYPE kubengx_propagation_lag_seconds histogram\n");
    p = ngx_http_k8s_prom_histogram(p, "receive", &sh->lag_receive);
    p = ngx_http_k8s_prom_histogram(p, "trigger", &sh->lag_trigger);

    return p;
}


static u_char *
ngx_http_k8s_prom_histogram(u_char *p, const char *source,
    ngx_http_k8s_histogram_t *h)
{
    ngx_uint_t  i, cum;

    cum = 0;

    for (i = 0; i < NGX_HTTP_K8S_LAG_BUCKETS - 1; i++) {
        cum += h->bucket[i];
        p = ngx_sprintf(p, "kubengx_propagation_lag_seconds_bucket"
                        "{source=\"%s\",le=\"%M.%03M\"} %ui\n",
                        source, ngx_http_k8s_lag_bounds[i] / 1000,
                        ngx_http_k8s_lag_bounds[i] % 1000, cum);
    }

    cum += h->bucket[i];

    return ngx_sprintf(p,
                       "kubengx_propagation_lag_seconds_bucket"
                       "{source=\"%s\",le=\"+Inf\"} %ui\n"
                       "kubengx_propagation_lag_seconds_sum"
                       "{source=\"%s\"} %uA.%03uA\n"
                       "kubengx_propagation_lag_seconds_count"
                       "{source=\"%s\"} %uA\n",
                       source, cum, source, h->sum / 1000, h->sum % 1000,
                       source, h->count);
}


static u_char *
ngx_http_k8s_prom_escape(u_char *p, ngx_str_t *s)
{
    u_char      ch;
    ngx_uint_t  i;

    for (i = 0; i < s->len; i++) {
        ch = s->data[i];

        if (ch == '\\' || ch == '"') {
            *p++ = '\\';
            *p++ = ch;

        } else if (ch == '\n') {
            *p++ = '\\';
            *p++ = 'n';

        } else {
            *p++ = ch;
        }
    }

    return p;
}


/* "balance":["least_conn",...]: the methods of the upstreams using it */

static u_char *
ngx_http_k8s_json_balance(u_char *p, ngx_uint_t balance)
{
    ngx_uint_t  m, first;

    p = ngx_sprintf(p, "\"balance\":[");

    first = 1;

    for (m = 0; m < NGX_HTTP_K8S_BALANCE_N; m++) {
        if (balance & NGX_HTTP_K8S_BALANCE_BIT(m)) {
            p = ngx_sprintf(p, "%s\"%V\"", first ? "" : ",",
                            &ngx_http_k8s_balance_names[m]);
            first = 0;
        }
    }

    return ngx_sprintf(p, "],");
}
