
/*
 * kubengx: k8s_status as Prometheus text (?format=prometheus), written
 * with bounds (ngx_http_k8s_out.h).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_table.h"
#include "ngx_http_k8s_scache.h"
#include "ngx_http_k8s_out.h"
#include "ngx_http_k8s_status.h"


static void ngx_http_k8s_prom_table(ngx_http_k8s_out_t *out,
    ngx_http_k8s_table_t *t, ngx_uint_t n);
static void ngx_http_k8s_prom_services(ngx_http_k8s_out_t *out,
    ngx_http_k8s_view_t *view, ngx_uint_t n);
static void ngx_http_k8s_prom_endpoints(ngx_http_k8s_out_t *out,
    ngx_http_k8s_view_t *view, ngx_uint_t n);
static void ngx_http_k8s_prom_histogram(ngx_http_k8s_out_t *out,
    const char *source, ngx_http_k8s_histogram_t *h);


void
ngx_http_k8s_status_prometheus(ngx_http_k8s_out_t *out,
    ngx_http_k8s_table_t *t, ngx_http_k8s_view_t *view, ngx_uint_t n,
    ngx_uint_t endpoints)
{
    ngx_uint_t  i, s;

    ngx_http_k8s_prom_table(out, t, n);
    ngx_http_k8s_prom_services(out, view, n);

    if (endpoints) {
        ngx_http_k8s_prom_endpoints(out, view, n);
    }

    ngx_http_k8s_out_printf(out,
                            "# TYPE kubengx_service_balance_info gauge\n");

    for (i = 0; i < n; i++) {
        for (s = 0; s < NGX_HTTP_K8S_BALANCE_N; s++) {
            if (view[i].entry->balance & NGX_HTTP_K8S_BALANCE_BIT(s)) {
                ngx_http_k8s_out_printf(out, "kubengx_service_balance_info"
                                        "{service=\"%V\",method=\"%V\"} 1\n",
                                        &view[i].entry->key,
                                        &ngx_http_k8s_balance_names[s]);
            }
        }
    }

    ngx_http_k8s_out_printf(out,
                       "# TYPE kubengx_propagation_lag_seconds histogram\n");
    ngx_http_k8s_prom_histogram(out, "receive", &t->sh->lag_receive);
    ngx_http_k8s_prom_histogram(out, "trigger", &t->sh->lag_trigger);
}


static void
ngx_http_k8s_prom_table(ngx_http_k8s_out_t *out, ngx_http_k8s_table_t *t,
    ngx_uint_t n)
{
    ngx_str_t               rv, state;
    ngx_http_k8s_sh_t      *sh;
    ngx_http_k8s_scache_t  *sc;

    sh = t->sh;

    ngx_http_k8s_status_watch(sh, &rv, &state);

    ngx_http_k8s_out_printf(out,
            "# TYPE kubengx_table_generation gauge\n"
            "kubengx_table_generation %uA\n"
            "# TYPE kubengx_table_updates_total counter\n"
            "kubengx_table_updates_total %uA\n"
            "# TYPE kubengx_table_nomem_total counter\n"
            "kubengx_table_nomem_total %uA\n"
            "# TYPE kubengx_table_services gauge\n"
            "kubengx_table_services %ui\n"
            "# TYPE kubengx_table_zone_services gauge\n"
            "kubengx_table_zone_services %uA\n"
            "# TYPE kubengx_table_services_freed_total counter\n"
            "kubengx_table_services_freed_total %uA\n",
            sh->generation, sh->updates, sh->nomem, n, sh->nentries,
            sh->freed);

    ngx_http_k8s_out_printf(out,
            "# TYPE kubengx_table_apply_last_seconds gauge\n"
            "kubengx_table_apply_last_seconds %uA.%06uA\n"
            "# TYPE kubengx_table_apply_max_seconds gauge\n"
            "kubengx_table_apply_max_seconds %uA.%06uA\n"
            "# TYPE kubengx_table_lock_waits_total counter\n"
            "kubengx_table_lock_waits_total{lock=\"entry\"} %uA\n"
            "kubengx_table_lock_waits_total{lock=\"mutex\"} %uA\n"
            "# TYPE kubengx_table_lock_wait_max_seconds gauge\n"
            "kubengx_table_lock_wait_max_seconds{lock=\"entry\"} %uA.%06uA\n"
            "kubengx_table_lock_wait_max_seconds{lock=\"mutex\"} %uA.%06uA\n",
            sh->apply_last_us / 1000000, sh->apply_last_us % 1000000,
            sh->apply_max_us / 1000000, sh->apply_max_us % 1000000,
            sh->entry_locks.waits, sh->mutex.waits,
            sh->entry_locks.wait_max / 1000000,
            sh->entry_locks.wait_max % 1000000,
            sh->mutex.wait_max / 1000000, sh->mutex.wait_max % 1000000);

    ngx_http_k8s_out_printf(out,
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
            sh->synced, sh->relists, sh->errors, sh->last_ok_sync);

    ngx_http_k8s_out_prom(out, &state);
    ngx_http_k8s_out_printf(out, "\",resource_version=\"");
    ngx_http_k8s_out_prom(out, &rv);
    ngx_http_k8s_out_printf(out, "\"} 1\n");

    sc = ngx_http_k8s_status_scache(sh, NGX_HTTP_K8S_RES_SLICES);

    ngx_http_k8s_out_printf(out,
            "# TYPE kubengx_slice_cache_slices gauge\n"
            "kubengx_slice_cache_slices %ui\n"
            "# TYPE kubengx_snapshot_loaded_services gauge\n"
            "kubengx_snapshot_loaded_services %uA\n"
            "# TYPE kubengx_snapshot_errors_total counter\n"
            "kubengx_snapshot_errors_total %uA\n",
            sc ? sc->nobjects : 0, sh->snapshot_loaded, sh->snapshot_errors);
}


static void
ngx_http_k8s_prom_services(ngx_http_k8s_out_t *out,
    ngx_http_k8s_view_t *view, ngx_uint_t n)
{
    ngx_uint_t             i, s;
    ngx_http_k8s_entry_t  *entry;

    ngx_http_k8s_out_printf(out, "# TYPE kubengx_service_endpoints gauge\n");

    for (i = 0; i < n; i++) {
        ngx_http_k8s_out_printf(out, "kubengx_service_endpoints"
                                "{service=\"%V\"} %ui\n",
                                &view[i].entry->key,
                                view[i].peers ? view[i].peers->number : 0);
    }

    ngx_http_k8s_out_printf(out, "# TYPE kubengx_service_state gauge\n");

    for (i = 0; i < n; i++) {
        for (s = 0; s < 4; s++) {
            ngx_http_k8s_out_printf(out, "kubengx_service_state"
                                    "{service=\"%V\",state=\"%s\"} %d\n",
                                    &view[i].entry->key,
                                    ngx_http_k8s_state_names[s],
                                    view[i].state == s);
        }
    }

    ngx_http_k8s_out_printf(out, "# TYPE kubengx_service_generation gauge\n");

    for (i = 0; i < n; i++) {
        ngx_http_k8s_out_printf(out, "kubengx_service_generation"
                                "{service=\"%V\"} %ui\n",
                                &view[i].entry->key, view[i].generation);
    }

    ngx_http_k8s_out_printf(out,
                            "# TYPE kubengx_service_last_change_timestamp_"
                            "seconds gauge\n");

    for (i = 0; i < n; i++) {
        ngx_http_k8s_out_printf(out, "kubengx_service_last_change_timestamp"
                                "_seconds{service=\"%V\"} %L.%03L\n",
                                &view[i].entry->key,
                                view[i].last_change / 1000,
                                view[i].last_change % 1000);
    }

    ngx_http_k8s_out_printf(out,
                         "# TYPE kubengx_service_unavailable_total counter\n");

    for (i = 0; i < n; i++) {
        entry = view[i].entry;
        ngx_http_k8s_out_printf(out, "kubengx_service_unavailable_total"
                                "{service=\"%V\"} %uA\n",
                                &entry->key, entry->unavailable);
    }
}


static void
ngx_http_k8s_prom_endpoints(ngx_http_k8s_out_t *out,
    ngx_http_k8s_view_t *view, ngx_uint_t n)
{
    ngx_str_t             *key;
    ngx_uint_t             i, j;
    ngx_http_k8s_slot_t   *slot;
    ngx_http_k8s_peer_t   *peer;

    ngx_http_k8s_out_printf(out,
            "# TYPE kubengx_endpoint_ready gauge\n"
            "# TYPE kubengx_endpoint_active_connections gauge\n"
            "# TYPE kubengx_endpoint_fails gauge\n"
            "# TYPE kubengx_endpoint_failures_total counter\n"
            "# TYPE kubengx_endpoint_requests_total counter\n"
            "# TYPE kubengx_endpoint_ewma_seconds gauge\n");

    for (i = 0; i < n; i++) {
        key = &view[i].entry->key;

        for (j = 0; view[i].peers && j < view[i].peers->number; j++) {
            slot = &view[i].peers->slot[j];
            peer = slot->peer;

            ngx_http_k8s_out_printf(out, "kubengx_endpoint_ready"
                                    "{service=\"%V\",endpoint=\"%V\","
                                    "target=\"", key, &peer->name);
            ngx_http_k8s_out_prom(out, &peer->target);
            ngx_http_k8s_out_printf(out, "\"} %d\n", slot->ready ? 1 : 0);

            ngx_http_k8s_out_printf(out,
                    "kubengx_endpoint_active_connections{service=\"%V\","
                    "endpoint=\"%V\"} %ui\n"
                    "kubengx_endpoint_fails{service=\"%V\","
                    "endpoint=\"%V\"} %ui\n"
                    "kubengx_endpoint_failures_total{service=\"%V\","
                    "endpoint=\"%V\"} %ui\n"
                    "kubengx_endpoint_requests_total{service=\"%V\","
                    "endpoint=\"%V\"} %ui\n"
                    "kubengx_endpoint_ewma_seconds{service=\"%V\","
                    "endpoint=\"%V\"} %.6f\n",
                    key, &peer->name, peer->conns,
                    key, &peer->name, peer->fails,
                    key, &peer->name, peer->failures,
                    key, &peer->name, peer->requests,
                    key, &peer->name, peer->ewma / 1000);
        }
    }
}


static void
ngx_http_k8s_prom_histogram(ngx_http_k8s_out_t *out, const char *source,
    ngx_http_k8s_histogram_t *h)
{
    ngx_uint_t  i, cum;

    cum = 0;

    for (i = 0; i < NGX_HTTP_K8S_LAG_BUCKETS - 1; i++) {
        cum += h->bucket[i];
        ngx_http_k8s_out_printf(out, "kubengx_propagation_lag_seconds_bucket"
                                "{source=\"%s\",le=\"%M.%03M\"} %ui\n",
                                source, ngx_http_k8s_lag_bounds[i] / 1000,
                                ngx_http_k8s_lag_bounds[i] % 1000, cum);
    }

    cum += h->bucket[i];

    ngx_http_k8s_out_printf(out,
                            "kubengx_propagation_lag_seconds_bucket"
                            "{source=\"%s\",le=\"+Inf\"} %ui\n"
                            "kubengx_propagation_lag_seconds_sum"
                            "{source=\"%s\"} %uA.%03uA\n"
                            "kubengx_propagation_lag_seconds_count"
                            "{source=\"%s\"} %uA\n",
                            source, cum, source, h->sum / 1000,
                            h->sum % 1000, source, h->count);
}
