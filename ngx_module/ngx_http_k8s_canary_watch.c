
/*
 * kubengx: the watcher's list/watch of the canary Ingresses (see
 * ngx_http_k8s_canary.h and WATCHER.md, "Canary Ingresses").
 *
 * When k8s_canary names Ingresses, worker 0 lists and watches
 * networking.k8s.io/v1 ingresses (one namespace when they all are in
 * one, by name when there is one), with the same list/watch machine,
 * curl multi, backoff and 410 relists as the Services, and only while it
 * holds the table's lease.  Of each named Ingress it reads the
 * nginx.ingress.kubernetes.io/canary* annotations (kube/kube_canary.c)
 * and writes them into the Ingress's slot of the k8s_canary zone:
 *
 *   - a list gathers the settings aside and writes every slot when the
 *     whole list arrived (an Ingress not in it: ABSENT, no canary); a
 *     failed or partial list changes nothing;
 *   - ADDED / MODIFIED write one slot, DELETED makes it ABSENT;
 *   - an invalid annotation is left out (logged), as ingress-nginx does;
 *     a canary-by-header-pattern that is not a valid PCRE too.
 *
 * While the API is unreachable the slots keep the last settings written;
 * a new worker 0 (reload, respawn) lists again, the slots keeping the
 * earlier settings until its list completes.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_watcher.h"
#include "ngx_http_k8s_canary.h"


typedef struct {
    kube_canary_t                settings;
    unsigned                     seen:1;
} ngx_http_k8s_cpending_t;


typedef struct {
    ngx_http_k8s_canary_conf_t  *kcc;
    ngx_http_k8s_cpending_t     *pending;   /* per Ingress, a list */
} ngx_http_k8s_cwatch_t;


static ngx_int_t ngx_http_k8s_canary_watch_selectors(ngx_http_k8s_watcher_t *w,
    ngx_http_k8s_canary_conf_t *kcc, kube_lw_conf_t *conf);
static void ngx_http_k8s_canary_list_reset(void *ctx);
static int ngx_http_k8s_canary_list_item(void *ctx, json_t *item);
static int ngx_http_k8s_canary_list_end(void *ctx, const char *rv);
static int ngx_http_k8s_canary_event(void *ctx, kube_event_type_e type,
    json_t *object, const char *rv);
static ngx_int_t ngx_http_k8s_canary_lookup(ngx_http_k8s_cwatch_t *cw,
    json_t *obj);
static void ngx_http_k8s_canary_parse(ngx_http_k8s_watcher_t *w,
    ngx_http_k8s_canary_ing_t *ing, json_t *obj, kube_canary_t *c);


ngx_int_t
ngx_http_k8s_canary_watch_init(ngx_http_k8s_watcher_t *w,
    ngx_http_k8s_main_conf_t *kmcf)
{
    kube_lw_conf_t               conf;
    ngx_http_k8s_cwatch_t       *cw;
    ngx_http_k8s_canary_conf_t  *kcc;

    kcc = kmcf->canary;

    if (kcc == NULL || kcc->ings.nelts == 0 || kcc->sh == NULL) {
        return NGX_OK;
    }

    cw = ngx_pcalloc(w->cycle->pool, sizeof(ngx_http_k8s_cwatch_t));
    if (cw == NULL) {
        return NGX_ERROR;
    }

    cw->kcc = kcc;
    cw->pending = ngx_pcalloc(w->cycle->pool,
                              kcc->ings.nelts
                              * sizeof(ngx_http_k8s_cpending_t));
    if (cw->pending == NULL) {
        return NGX_ERROR;
    }

    w->canary = cw;

    ngx_memzero(&conf, sizeof(kube_lw_conf_t));

    conf.api_prefix = "/apis/networking.k8s.io/v1";
    conf.resource = "ingresses";
    conf.watch_idle_timeout_ms = kmcf->watch_idle_timeout;
    conf.handler.list_begin = ngx_http_k8s_canary_list_reset;
    conf.handler.list_item = ngx_http_k8s_canary_list_item;
    conf.handler.list_end = ngx_http_k8s_canary_list_end;
    conf.handler.list_abort = ngx_http_k8s_canary_list_reset;
    conf.handler.watch_event = ngx_http_k8s_canary_event;

    if (ngx_http_k8s_canary_watch_selectors(w, kcc, &conf) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                  "k8s watcher: %ui canary Ingress(es), watching ingresses "
                  "in %s%s%s%s", kcc->ings.nelts,
                  conf.ns ? "namespace " : "all namespaces",
                  conf.ns ? conf.ns : "",
                  conf.field_selector ? " with fieldSelector " : "",
                  conf.field_selector ? conf.field_selector : "");

    return ngx_http_k8s_watch_init(&w->ingresses, w, &conf);
}


void
ngx_http_k8s_canary_watch_free(ngx_http_k8s_watcher_t *w)
{
    /* pool memory only */
    w->canary = NULL;
}


/* one namespace when every Ingress is in it; by name when there is one */

static ngx_int_t
ngx_http_k8s_canary_watch_selectors(ngx_http_k8s_watcher_t *w,
    ngx_http_k8s_canary_conf_t *kcc, kube_lw_conf_t *conf)
{
    u_char                     *p;
    ngx_uint_t                  i;
    ngx_http_k8s_canary_ing_t  *ing;

    ing = kcc->ings.elts;

    for (i = 1; i < kcc->ings.nelts; i++) {
        if (ngx_strcmp(ing[i].ns.data, ing[0].ns.data) != 0) {
            return NGX_OK;
        }
    }

    conf->ns = (const char *) ing[0].ns.data;

    if (kcc->ings.nelts == 1) {
        p = ngx_pnalloc(w->cycle->pool,
                        sizeof("metadata.name=") + ing[0].name.len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        *ngx_sprintf(p, "metadata.name=%V", &ing[0].name) = '\0';
        conf->field_selector = (const char *) p;
    }

    return NGX_OK;
}


static void
ngx_http_k8s_canary_list_reset(void *ctx)
{
    ngx_uint_t               i;
    ngx_http_k8s_cwatch_t   *cw;
    ngx_http_k8s_watcher_t  *w = ctx;

    cw = w->canary;

    for (i = 0; i < cw->kcc->ings.nelts; i++) {
        cw->pending[i].seen = 0;
    }
}


static int
ngx_http_k8s_canary_list_item(void *ctx, json_t *item)
{
    ngx_int_t                i;
    ngx_http_k8s_cwatch_t   *cw;
    ngx_http_k8s_watcher_t  *w = ctx;

    cw = w->canary;

    i = ngx_http_k8s_canary_lookup(cw, item);
    if (i == NGX_DECLINED) {
        return 0;
    }

    ngx_http_k8s_canary_parse(w,
        &((ngx_http_k8s_canary_ing_t *) cw->kcc->ings.elts)[i], item,
        &cw->pending[i].settings);

    cw->pending[i].seen = 1;

    return 0;
}


static int
ngx_http_k8s_canary_list_end(void *ctx, const char *rv)
{
    ngx_uint_t               i;
    ngx_http_k8s_cwatch_t   *cw;
    ngx_http_k8s_watcher_t  *w = ctx;

    cw = w->canary;

    for (i = 0; i < cw->kcc->ings.nelts; i++) {
        if (cw->pending[i].seen) {
            ngx_http_k8s_canary_write(cw->kcc, i, NGX_HTTP_K8S_CANARY_PRESENT,
                                      &cw->pending[i].settings);

        } else {
            ngx_http_k8s_canary_write(cw->kcc, i, NGX_HTTP_K8S_CANARY_ABSENT,
                                      NULL);
        }
    }

    ngx_log_error(NGX_LOG_INFO, w->log, 0,
                  "k8s watcher: canary Ingresses synced at "
                  "resourceVersion %s", rv);

    return 0;
}


static int
ngx_http_k8s_canary_event(void *ctx, kube_event_type_e type,
    json_t *object, const char *rv)
{
    ngx_int_t                i;
    kube_canary_t            c;
    ngx_http_k8s_cwatch_t   *cw;
    ngx_http_k8s_watcher_t  *w = ctx;

    if (type != KUBE_EVENT_ADDED && type != KUBE_EVENT_MODIFIED
        && type != KUBE_EVENT_DELETED)
    {
        return 0;    /* BOOKMARK */
    }

    cw = w->canary;

    i = ngx_http_k8s_canary_lookup(cw, object);
    if (i == NGX_DECLINED) {
        return 0;
    }

    if (type == KUBE_EVENT_DELETED) {
        ngx_http_k8s_canary_write(cw->kcc, i, NGX_HTTP_K8S_CANARY_ABSENT,
                                  NULL);
        return 0;
    }

    ngx_http_k8s_canary_parse(w,
        &((ngx_http_k8s_canary_ing_t *) cw->kcc->ings.elts)[i], object, &c);

    ngx_http_k8s_canary_write(cw->kcc, i, NGX_HTTP_K8S_CANARY_PRESENT, &c);

    return 0;
}


/* the index of the named Ingress obj is, or NGX_DECLINED */

static ngx_int_t
ngx_http_k8s_canary_lookup(ngx_http_k8s_cwatch_t *cw, json_t *obj)
{
    json_t                     *meta;
    ngx_uint_t                  i;
    const char                 *ns, *name;
    ngx_http_k8s_canary_ing_t  *ing;

    meta = json_object_get(obj, "metadata");

    ns = json_string_value(json_object_get(meta, "namespace"));
    name = json_string_value(json_object_get(meta, "name"));

    if (ns == NULL || name == NULL) {
        return NGX_DECLINED;
    }

    ing = cw->kcc->ings.elts;

    for (i = 0; i < cw->kcc->ings.nelts; i++) {
        if (ngx_strcmp(ing[i].ns.data, ns) == 0
            && ngx_strcmp(ing[i].name.data, name) == 0)
        {
            return (ngx_int_t) i;
        }
    }

    return NGX_DECLINED;
}


static void
ngx_http_k8s_canary_parse(ngx_http_k8s_watcher_t *w,
    ngx_http_k8s_canary_ing_t *ing, json_t *obj, kube_canary_t *c)
{
    u_char               errstr[NGX_MAX_CONF_ERRSTR];
    ngx_pool_t          *pool;
    kube_err_t           err;
    ngx_regex_compile_t  rc;

    if (kube_canary_parse_json(c, obj, &err) != 0) {
        ngx_log_error(NGX_LOG_WARN, w->log, 0,
                      "k8s watcher: Ingress \"%V\": %s", &ing->key, err.msg);
    }

    if (c->header_pattern[0] != '\0') {

        /* validated here, compiled again by each worker that uses it */

        pool = ngx_create_pool(1024, w->log);
        if (pool == NULL) {
            c->header_pattern[0] = '\0';
            return;
        }

        ngx_memzero(&rc, sizeof(ngx_regex_compile_t));

        rc.pattern.data = (u_char *) c->header_pattern;
        rc.pattern.len = ngx_strlen(c->header_pattern);
        rc.pool = pool;
        rc.err.len = NGX_MAX_CONF_ERRSTR;
        rc.err.data = errstr;

        if (ngx_regex_compile(&rc) != NGX_OK) {
            ngx_log_error(NGX_LOG_WARN, w->log, 0,
                          "k8s watcher: Ingress \"%V\": "
                          KUBE_CANARY_PREFIX "canary-by-header-pattern "
                          "is not a valid PCRE (%V); ignored",
                          &ing->key, &rc.err);
            c->header_pattern[0] = '\0';
        }

        ngx_destroy_pool(pool);
    }

    ngx_log_error(NGX_LOG_INFO, w->log, 0,
                  "k8s watcher: Ingress \"%V\": canary %s, weight %uD/%uD, "
                  "header \"%s\", cookie \"%s\"", &ing->key,
                  c->canary ? "on" : "off", c->weight, c->weight_total,
                  c->header, c->cookie);
}
