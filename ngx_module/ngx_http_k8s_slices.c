
/*
 * kubengx: the watcher's EndpointSlice cache (see ngx_http_k8s_watcher.h).
 *
 * Per watched Service (namespace/name), the decoded slices that carry its
 * kubernetes.io/service-name label, in worker memory, and the same slices
 * as compact JSON in the zone (ngx_http_k8s_scache.c), written after the
 * table, for the next worker 0.  Every change goes to both:
 *
 *   - a watch event replaces, adds or removes one slice, recomputes that
 *     Service's registered ports (ngx_http_k8s_endpoints.c), then stores
 *     the change and the event's resourceVersion in the zone;
 *   - a list builds a private set of slices per Service and swaps it in
 *     only when the whole list arrived (list_end), so a failed or partial
 *     list never removes anything; then the zone's cache becomes that
 *     list as a whole;
 *   - a resume (ngx_http_k8s_lease.c) fills the private sets from the
 *     zone.
 *
 * When the zone is full the zone's copy is dropped (the endpoint table
 * needs the room more); the private sets stay and keep serving.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_watcher.h"


static void ngx_http_k8s_slices_list_reset(void *ctx);
static int ngx_http_k8s_slices_list_item(void *ctx, json_t *item);
static int ngx_http_k8s_slices_list_end(void *ctx, const char *rv);
static int ngx_http_k8s_slices_event(void *ctx, kube_event_type_e type,
    json_t *object, const char *rv);
static int ngx_http_k8s_slices_apply(ngx_http_k8s_watcher_t *w,
    kube_event_type_e type, json_t *object);
static ngx_http_k8s_wsvc_t *ngx_http_k8s_slices_lookup(
    ngx_http_k8s_watcher_t *w, json_t *obj, const char **ns,
    const char **name);
static void ngx_http_k8s_slices_warn_skipped(ngx_http_k8s_watcher_t *w,
    const char *ns, kube_endpointslice_t *es);
static void ngx_http_k8s_slices_remove(ngx_http_k8s_watcher_t *w,
    ngx_http_k8s_wsvc_t *svc, const char *ns, const char *slice);
static ngx_int_t ngx_http_k8s_slices_store(ngx_http_k8s_watcher_t *w,
    kube_endpointslice_t *es, const char *service_name);
static void ngx_http_k8s_slices_store_all(ngx_http_k8s_watcher_t *w,
    const char *rv);
static ngx_int_t ngx_http_k8s_slices_load_one(void *ctx, ngx_str_t *service,
    ngx_str_t *json);

static ngx_int_t ngx_http_k8s_slices_set_put(ngx_http_k8s_slices_t *s,
    kube_endpointslice_t *es);
static ngx_int_t ngx_http_k8s_slices_set_remove(ngx_http_k8s_slices_t *s,
    const char *name);
static void ngx_http_k8s_slices_set_free(ngx_http_k8s_slices_t *s);


void
ngx_http_k8s_slices_handler(kube_lw_handler_t *handler)
{
    /* a list starting or failing drops the slices gathered so far */
    handler->list_begin = ngx_http_k8s_slices_list_reset;
    handler->list_item = ngx_http_k8s_slices_list_item;
    handler->list_end = ngx_http_k8s_slices_list_end;
    handler->list_abort = ngx_http_k8s_slices_list_reset;
    handler->watch_event = ngx_http_k8s_slices_event;
}


void
ngx_http_k8s_slices_free(ngx_http_k8s_wsvc_t *svc)
{
    ngx_http_k8s_slices_set_free(&svc->slices);
    ngx_http_k8s_slices_set_free(&svc->pending);
}


/* the list/watch machine's callbacks */

static void
ngx_http_k8s_slices_list_reset(void *ctx)
{
    ngx_uint_t               i;
    ngx_http_k8s_watcher_t  *w = ctx;

    for (i = 0; i < w->nsvcs; i++) {
        ngx_http_k8s_slices_set_free(&w->svcs[i].pending);
    }
}


static int
ngx_http_k8s_slices_list_item(void *ctx, json_t *item)
{
    const char              *ns, *name;
    kube_err_t               err;
    ngx_http_k8s_wsvc_t     *svc;
    kube_endpointslice_t    *es;
    ngx_http_k8s_watcher_t  *w = ctx;

    svc = ngx_http_k8s_slices_lookup(w, item, &ns, &name);
    if (svc == NULL) {
        return 0;
    }

    es = kube_endpointslice_decode(item, NULL, &err);
    if (es == NULL) {
        ngx_log_error(NGX_LOG_WARN, w->log, 0,
                      "k8s watcher: EndpointSlice in \"%s\" of Service "
                      "\"%s\" skipped: %s", ns, name, err.msg);
        return 0;
    }

    ngx_http_k8s_slices_warn_skipped(w, ns, es);

    if (ngx_http_k8s_slices_set_put(&svc->pending, es) != NGX_OK) {
        kube_endpointslice_free(es);
        ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                      "k8s watcher: out of memory while listing");
        return -1;
    }

    return 0;
}


static int
ngx_http_k8s_slices_list_end(void *ctx, const char *rv)
{
    ngx_uint_t               i;
    ngx_http_k8s_wsvc_t     *svc;
    ngx_http_k8s_watcher_t  *w = ctx;

    /* the whole list arrived: swap every Service's view, then diff */

    for (i = 0; i < w->nsvcs; i++) {
        svc = &w->svcs[i];

        ngx_http_k8s_slices_set_free(&svc->slices);
        svc->slices = svc->pending;
        ngx_memzero(&svc->pending, sizeof(ngx_http_k8s_slices_t));
    }

    ngx_http_k8s_endpoints_listed(w, NGX_HTTP_K8S_RES_SLICES);

    /* the table first; then the zone's cache, for the next worker 0 */

    ngx_http_k8s_slices_store_all(w, rv);

    ngx_log_error(NGX_LOG_INFO, w->log, 0,
                  "k8s watcher: EndpointSlices synced at resourceVersion %s",
                  rv);

    return 0;
}


static int
ngx_http_k8s_slices_event(void *ctx, kube_event_type_e type, json_t *object,
    const char *rv)
{
    int                      rc;
    ngx_http_k8s_watcher_t  *w = ctx;

    w->last_ok_sync = ngx_time();

    /* the zone's cache follows; rv is stored after the change */

    ngx_http_k8s_scache_begin(w->table, NGX_HTTP_K8S_RES_SLICES);

    rc = ngx_http_k8s_slices_apply(w, type, object);

    /* an event not applied (a relist follows) must be replayed */

    ngx_http_k8s_scache_end(w->table, NGX_HTTP_K8S_RES_SLICES,
                            rc == 0 ? rv : NULL);

    return rc;
}


static int
ngx_http_k8s_slices_apply(ngx_http_k8s_watcher_t *w, kube_event_type_e type,
    json_t *object)
{
    int                      rc;
    ngx_uint_t               i;
    const char              *ns, *name, *slice;
    kube_err_t               err;
    ngx_http_k8s_wsvc_t     *svc, *other;
    kube_endpointslice_t    *es;

    if (type != KUBE_EVENT_ADDED && type != KUBE_EVENT_MODIFIED
        && type != KUBE_EVENT_DELETED)
    {
        return 0;    /* BOOKMARK: only the resourceVersion moves */
    }

    svc = ngx_http_k8s_slices_lookup(w, object, &ns, &name);

    slice = json_string_value(json_object_get(json_object_get(object,
                                                              "metadata"),
                                              "name"));
    if (slice == NULL || ns == NULL) {
        return 0;
    }

    /*
     * A slice whose service-name label changed (or was removed) leaves
     * the Service it was cached under: look in every Service of its
     * namespace (they are adjacent in the sorted array).
     */

    for (i = 0; i < w->nsvcs; i++) {
        other = &w->svcs[i];

        rc = ngx_strcmp(other->ns, ns);

        if (rc < 0 || other == svc) {
            continue;
        }

        if (rc > 0) {
            break;        /* sorted by namespace: past it */
        }

        ngx_http_k8s_slices_remove(w, other, ns, slice);
    }

    if (svc == NULL) {
        return 0;
    }

    if (type == KUBE_EVENT_DELETED) {
        ngx_http_k8s_slices_remove(w, svc, ns, slice);
        return 0;
    }

    es = kube_endpointslice_decode(object, NULL, &err);
    if (es == NULL) {
        ngx_log_error(NGX_LOG_WARN, w->log, 0,
                      "k8s watcher: EndpointSlice \"%s/%s\" of Service "
                      "\"%s\" ignored: %s", ns, slice, name, err.msg);
        return 0;
    }

    ngx_http_k8s_slices_warn_skipped(w, ns, es);

    if (ngx_http_k8s_slices_set_put(&svc->slices, es) != NGX_OK) {
        kube_endpointslice_free(es);
        ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                      "k8s watcher: out of memory, relisting");
        return -1;
    }

    ngx_http_k8s_endpoints_update(w, svc);

    /* a failure drops the zone's cache (logged): the next start relists */
    (void) ngx_http_k8s_slices_store(w, es, svc->name);

    return 0;
}


/* slice "ns/slice" leaves svc (deleted, or relabelled), if it was there */

static void
ngx_http_k8s_slices_remove(ngx_http_k8s_watcher_t *w,
    ngx_http_k8s_wsvc_t *svc, const char *ns, const char *slice)
{
    if (ngx_http_k8s_slices_set_remove(&svc->slices, slice) == NGX_OK) {
        ngx_http_k8s_endpoints_update(w, svc);
        ngx_http_k8s_scache_delete(w->table, NGX_HTTP_K8S_RES_SLICES, ns,
                                   slice);
    }
}


/* the Service an EndpointSlice object belongs to, if registered */

static ngx_http_k8s_wsvc_t *
ngx_http_k8s_slices_lookup(ngx_http_k8s_watcher_t *w, json_t *obj,
    const char **ns, const char **name)
{
    json_t  *meta;

    meta = json_object_get(obj, "metadata");

    *ns = json_string_value(json_object_get(meta, "namespace"));
    *name = json_string_value(json_object_get(json_object_get(meta,
                                                              "labels"),
                                              KUBE_ES_SERVICE_NAME_LABEL));

    if (*ns == NULL || *name == NULL) {
        return NULL;
    }

    return ngx_http_k8s_watcher_find(w, *ns, *name);
}


/* entries of a listed or watched slice that decoding skipped (bad
 * addresses, ports out of range): the first reason, once per slice */

static void
ngx_http_k8s_slices_warn_skipped(ngx_http_k8s_watcher_t *w, const char *ns,
    kube_endpointslice_t *es)
{
    if (es->nwarnings) {
        ngx_log_error(NGX_LOG_WARN, w->log, 0,
                      "k8s watcher: EndpointSlice \"%s/%s\": %s%s", ns,
                      es->name, es->warnings[0],
                      es->nwarnings > 1 ? " (and more)" : "");
    }
}


/* the zone's copy */

static ngx_int_t
ngx_http_k8s_slices_store(ngx_http_k8s_watcher_t *w,
    kube_endpointslice_t *es, const char *service_name)
{
    char       *json;
    size_t      len;
    ngx_int_t   rc;

    /* encoded before the zone's lock is taken */

    json = kube_endpointslice_encode(es, &len);
    if (json == NULL) {
        (void) ngx_http_k8s_scache_drop(w->table, w->log,
                                        "out of memory encoding a slice");
        return NGX_ERROR;
    }

    rc = ngx_http_k8s_scache_put(w->table, NGX_HTTP_K8S_RES_SLICES, es->ns,
                                 es->name, service_name, json, len, w->log);

    free(json);

    return rc;
}


/* a complete list was applied: the zone's cache becomes that list */

static void
ngx_http_k8s_slices_store_all(ngx_http_k8s_watcher_t *w, const char *rv)
{
    ngx_uint_t            i, j;
    ngx_http_k8s_wsvc_t  *svc;

    if (ngx_http_k8s_scache_refill(w->table, NGX_HTTP_K8S_RES_SLICES, w->log)
        != NGX_OK)
    {
        return;
    }

    for (i = 0; i < w->nsvcs; i++) {
        svc = &w->svcs[i];

        for (j = 0; j < svc->slices.nelts; j++) {
            if (ngx_http_k8s_slices_store(w, svc->slices.elts[j], svc->name)
                != NGX_OK)
            {
                /* dropped and logged */
                goto done;
            }
        }
    }

    (void) ngx_http_k8s_scache_commit(w->table, NGX_HTTP_K8S_RES_SLICES,
                                      w->names, w->nsvcs, w->server,
                                      w->log);

done:

    ngx_http_k8s_scache_end(w->table, NGX_HTTP_K8S_RES_SLICES, rv);
}


/*
 * A resume: every slice of the zone's cache into the private sets
 * (decoded here, on the writer's own data, under no lock); slices of
 * Services no longer named leave the zone's cache.  NGX_ERROR (the
 * private sets emptied) when a cached slice is unreadable.
 */

ngx_int_t
ngx_http_k8s_slices_load(ngx_http_k8s_watcher_t *w)
{
    ngx_uint_t  i;

    if (ngx_http_k8s_scache_load(w->table, NGX_HTTP_K8S_RES_SLICES,
                                 ngx_http_k8s_slices_load_one, w)
        == NGX_OK)
    {
        return NGX_OK;
    }

    for (i = 0; i < w->nsvcs; i++) {
        ngx_http_k8s_slices_set_free(&w->svcs[i].slices);
    }

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_k8s_slices_load_one(void *ctx, ngx_str_t *service, ngx_str_t *json)
{
    u_char                  *slash;
    kube_err_t               err;
    ngx_http_k8s_wsvc_t     *svc;
    kube_endpointslice_t    *es;
    ngx_http_k8s_watcher_t  *w = ctx;

    es = kube_endpointslice_decode_text((char *) json->data, json->len,
                                        NULL, &err);
    if (es == NULL || es->service_name == NULL) {
        ngx_log_error(NGX_LOG_WARN, w->log, 0,
                      "k8s watcher: a cached EndpointSlice of \"%V\" is "
                      "unreadable: %s", service,
                      es ? "no service name" : err.msg);

        if (es) {
            kube_endpointslice_free(es);
        }

        return NGX_ERROR;
    }

    slash = ngx_strlchr(service->data, service->data + service->len, '/');

    if (slash == NULL
        || (size_t) (slash - service->data) != ngx_strlen(es->ns)
        || ngx_strncmp(service->data, es->ns, slash - service->data) != 0)
    {
        kube_endpointslice_free(es);
        return NGX_ERROR;
    }

    svc = ngx_http_k8s_watcher_find(w, es->ns, es->service_name);

    if (svc == NULL) {
        /* a Service this configuration no longer names */
        kube_endpointslice_free(es);
        return NGX_DECLINED;
    }

    if (ngx_http_k8s_slices_set_put(&svc->slices, es) != NGX_OK) {
        kube_endpointslice_free(es);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the private sets */

static ngx_int_t
ngx_http_k8s_slices_set_put(ngx_http_k8s_slices_t *s,
    kube_endpointslice_t *es)
{
    ngx_uint_t              i, n;
    kube_endpointslice_t  **elts;

    for (i = 0; i < s->nelts; i++) {
        if (ngx_strcmp(s->elts[i]->name, es->name) == 0) {
            kube_endpointslice_free(s->elts[i]);
            s->elts[i] = es;
            return NGX_OK;
        }
    }

    if (s->nelts == s->nalloc) {
        n = s->nalloc ? s->nalloc * 2 : 4;

        elts = realloc(s->elts, n * sizeof(kube_endpointslice_t *));
        if (elts == NULL) {
            return NGX_ERROR;
        }

        s->elts = elts;
        s->nalloc = n;
    }

    s->elts[s->nelts++] = es;

    return NGX_OK;
}


static ngx_int_t
ngx_http_k8s_slices_set_remove(ngx_http_k8s_slices_t *s, const char *name)
{
    ngx_uint_t  i;

    for (i = 0; i < s->nelts; i++) {
        if (ngx_strcmp(s->elts[i]->name, name) == 0) {
            kube_endpointslice_free(s->elts[i]);
            s->elts[i] = s->elts[--s->nelts];
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


static void
ngx_http_k8s_slices_set_free(ngx_http_k8s_slices_t *s)
{
    ngx_uint_t  i;

    for (i = 0; i < s->nelts; i++) {
        kube_endpointslice_free(s->elts[i]);
    }

    free(s->elts);
    ngx_memzero(s, sizeof(ngx_http_k8s_slices_t));
}
