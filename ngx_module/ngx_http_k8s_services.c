
/*
 * kubengx: the watcher's Service cache (see ngx_http_k8s_watcher.h).
 *
 * port= names a Service port (ngx_http_k8s_endpoints.c), so the watcher
 * lists and watches core/v1 Services, with the same list/watch machine,
 * curl multi, backoff, 410 relists, idle timeout and resume as the
 * EndpointSlices, and keeps, per watched Service, its ports (name, port,
 * protocol): in worker memory (wsvc->service; NULL while the Service
 * does not exist) and as compact JSON in the zone
 * (ngx_http_k8s_scache.c), for the next worker 0.  Services that no
 * k8s_service / k8s_backend names are ignored.
 *
 *   - a watch event replaces or removes one Service and recomputes its
 *     registered ports (a renumbered or renamed port re-resolves them,
 *     without a reload), then stores the change and the event's
 *     resourceVersion in the zone;
 *   - a list gathers the Services aside and swaps them in only when the
 *     whole list arrived, so a failed or partial list changes nothing;
 *     then the zone's cache becomes that list;
 *   - a resume (ngx_http_k8s_lease.c) fills them from the zone.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_watcher.h"


static void ngx_http_k8s_services_list_reset(void *ctx);
static int ngx_http_k8s_services_list_item(void *ctx, json_t *item);
static int ngx_http_k8s_services_list_end(void *ctx, const char *rv);
static int ngx_http_k8s_services_event(void *ctx, kube_event_type_e type,
    json_t *object, const char *rv);
static void ngx_http_k8s_services_apply(ngx_http_k8s_watcher_t *w,
    kube_event_type_e type, json_t *object);
static ngx_http_k8s_wsvc_t *ngx_http_k8s_services_lookup(
    ngx_http_k8s_watcher_t *w, json_t *obj);
static ngx_int_t ngx_http_k8s_services_store(ngx_http_k8s_watcher_t *w,
    kube_service_t *service);
static void ngx_http_k8s_services_store_all(ngx_http_k8s_watcher_t *w,
    const char *rv);
static ngx_int_t ngx_http_k8s_services_load_one(void *ctx,
    ngx_str_t *service, ngx_str_t *json);
static void ngx_http_k8s_services_set(kube_service_t **dst,
    kube_service_t *service);


void
ngx_http_k8s_services_handler(kube_lw_handler_t *handler)
{
    /* a list starting or failing drops the Services gathered so far */
    handler->list_begin = ngx_http_k8s_services_list_reset;
    handler->list_item = ngx_http_k8s_services_list_item;
    handler->list_end = ngx_http_k8s_services_list_end;
    handler->list_abort = ngx_http_k8s_services_list_reset;
    handler->watch_event = ngx_http_k8s_services_event;
}


void
ngx_http_k8s_services_free(ngx_http_k8s_wsvc_t *svc)
{
    ngx_http_k8s_services_set(&svc->service, NULL);
    ngx_http_k8s_services_set(&svc->pending_service, NULL);
}


/* the list/watch machine's callbacks */

static void
ngx_http_k8s_services_list_reset(void *ctx)
{
    ngx_uint_t               i;
    ngx_http_k8s_watcher_t  *w = ctx;

    for (i = 0; i < w->nsvcs; i++) {
        ngx_http_k8s_services_set(&w->svcs[i].pending_service, NULL);
    }
}


static int
ngx_http_k8s_services_list_item(void *ctx, json_t *item)
{
    kube_err_t               err;
    kube_service_t          *service;
    ngx_http_k8s_wsvc_t     *svc;
    ngx_http_k8s_watcher_t  *w = ctx;

    svc = ngx_http_k8s_services_lookup(w, item);
    if (svc == NULL) {
        return 0;
    }

    service = kube_service_decode(item, NULL, &err);
    if (service == NULL) {
        ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                      "k8s watcher: Service \"%s/%s\" while listing: %s",
                      svc->ns, svc->name, err.msg);
        return -1;
    }

    ngx_http_k8s_services_set(&svc->pending_service, service);

    return 0;
}


static int
ngx_http_k8s_services_list_end(void *ctx, const char *rv)
{
    ngx_uint_t               i;
    ngx_http_k8s_wsvc_t     *svc;
    ngx_http_k8s_watcher_t  *w = ctx;

    /* the whole list arrived: swap every Service, then diff */

    for (i = 0; i < w->nsvcs; i++) {
        svc = &w->svcs[i];

        ngx_http_k8s_services_set(&svc->service, svc->pending_service);
        svc->pending_service = NULL;
    }

    ngx_http_k8s_endpoints_listed(w, NGX_HTTP_K8S_RES_SERVICES);

    /* the table first; then the zone's cache, for the next worker 0 */

    ngx_http_k8s_services_store_all(w, rv);

    ngx_log_error(NGX_LOG_INFO, w->log, 0,
                  "k8s watcher: Services synced at resourceVersion %s", rv);

    return 0;
}


static int
ngx_http_k8s_services_event(void *ctx, kube_event_type_e type,
    json_t *object, const char *rv)
{
    ngx_http_k8s_watcher_t  *w = ctx;

    w->last_ok_sync = ngx_time();

    /* the zone's cache follows; rv is stored after the change */

    ngx_http_k8s_scache_begin(w->table, NGX_HTTP_K8S_RES_SERVICES);

    ngx_http_k8s_services_apply(w, type, object);

    ngx_http_k8s_scache_end(w->table, NGX_HTTP_K8S_RES_SERVICES, rv);

    return 0;
}


static void
ngx_http_k8s_services_apply(ngx_http_k8s_watcher_t *w,
    kube_event_type_e type, json_t *object)
{
    kube_err_t            err;
    kube_service_t       *service;
    ngx_http_k8s_wsvc_t  *svc;

    if (type != KUBE_EVENT_ADDED && type != KUBE_EVENT_MODIFIED
        && type != KUBE_EVENT_DELETED)
    {
        return;    /* BOOKMARK: only the resourceVersion moves */
    }

    svc = ngx_http_k8s_services_lookup(w, object);
    if (svc == NULL) {
        return;
    }

    if (type == KUBE_EVENT_DELETED) {
        if (svc->service != NULL) {
            ngx_http_k8s_services_set(&svc->service, NULL);
            ngx_http_k8s_endpoints_update(w, svc);
            ngx_http_k8s_scache_delete(w->table, NGX_HTTP_K8S_RES_SERVICES,
                                       svc->ns, svc->name);
        }

        return;
    }

    service = kube_service_decode(object, NULL, &err);
    if (service == NULL) {
        ngx_log_error(NGX_LOG_WARN, w->log, 0,
                      "k8s watcher: Service \"%s/%s\" ignored: %s",
                      svc->ns, svc->name, err.msg);
        return;
    }

    ngx_http_k8s_services_set(&svc->service, service);
    ngx_http_k8s_endpoints_update(w, svc);

    /* a failure drops the zone's caches (logged): the next start relists */
    (void) ngx_http_k8s_services_store(w, service);
}


/* the watched Service a Service object is, if any */

static ngx_http_k8s_wsvc_t *
ngx_http_k8s_services_lookup(ngx_http_k8s_watcher_t *w, json_t *obj)
{
    json_t      *meta;
    const char  *ns, *name;

    meta = json_object_get(obj, "metadata");

    ns = json_string_value(json_object_get(meta, "namespace"));
    name = json_string_value(json_object_get(meta, "name"));

    if (ns == NULL || name == NULL) {
        return NULL;
    }

    return ngx_http_k8s_watcher_find(w, ns, name);
}


/* the zone's copy */

static ngx_int_t
ngx_http_k8s_services_store(ngx_http_k8s_watcher_t *w,
    kube_service_t *service)
{
    char       *json;
    size_t      len;
    ngx_int_t   rc;

    json = kube_service_encode(service, &len);
    if (json == NULL) {
        (void) ngx_http_k8s_scache_drop(w->table, w->log,
                                        "out of memory encoding a Service");
        return NGX_ERROR;
    }

    rc = ngx_http_k8s_scache_put(w->table, NGX_HTTP_K8S_RES_SERVICES,
                                 service->ns, service->name, service->name,
                                 json, len, w->log);

    free(json);

    return rc;
}


/* a complete list was applied: the zone's cache becomes that list */

static void
ngx_http_k8s_services_store_all(ngx_http_k8s_watcher_t *w, const char *rv)
{
    ngx_uint_t  i;

    if (ngx_http_k8s_scache_refill(w->table, NGX_HTTP_K8S_RES_SERVICES,
                                   w->log)
        != NGX_OK)
    {
        return;
    }

    for (i = 0; i < w->nsvcs; i++) {
        if (w->svcs[i].service != NULL
            && ngx_http_k8s_services_store(w, w->svcs[i].service) != NGX_OK)
        {
            /* dropped and logged */
            goto done;
        }
    }

    (void) ngx_http_k8s_scache_commit(w->table, NGX_HTTP_K8S_RES_SERVICES,
                                      w->names, w->nsvcs, w->server,
                                      w->log);

done:

    ngx_http_k8s_scache_end(w->table, NGX_HTTP_K8S_RES_SERVICES, rv);
}


/*
 * A resume: the zone's Services into worker memory; Services no longer
 * named leave the zone's cache.  NGX_ERROR (all forgotten) when a cached
 * Service is unreadable.
 */

ngx_int_t
ngx_http_k8s_services_load(ngx_http_k8s_watcher_t *w)
{
    ngx_uint_t  i;

    if (ngx_http_k8s_scache_load(w->table, NGX_HTTP_K8S_RES_SERVICES,
                                 ngx_http_k8s_services_load_one, w)
        == NGX_OK)
    {
        return NGX_OK;
    }

    for (i = 0; i < w->nsvcs; i++) {
        ngx_http_k8s_services_free(&w->svcs[i]);
    }

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_k8s_services_load_one(void *ctx, ngx_str_t *service,
    ngx_str_t *json)
{
    kube_err_t               err;
    kube_service_t          *s;
    ngx_http_k8s_wsvc_t     *svc;
    ngx_http_k8s_watcher_t  *w = ctx;

    s = kube_service_decode_text((char *) json->data, json->len, NULL, &err);
    if (s == NULL) {
        ngx_log_error(NGX_LOG_WARN, w->log, 0,
                      "k8s watcher: the cached Service \"%V\" is "
                      "unreadable: %s", service, err.msg);
        return NGX_ERROR;
    }

    svc = ngx_http_k8s_watcher_find(w, s->ns, s->name);

    if (svc == NULL) {
        /* a Service this configuration no longer names */
        kube_service_free(s);
        return NGX_DECLINED;
    }

    ngx_http_k8s_services_set(&svc->service, s);

    return NGX_OK;
}


static void
ngx_http_k8s_services_set(kube_service_t **dst, kube_service_t *service)
{
    if (*dst != NULL) {
        kube_service_free(*dst);
    }

    *dst = service;
}
