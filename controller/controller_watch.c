
/*
 * kubengx controller: one kube/ list/watch machine per kind, its
 * transfers on the API's multi handle (controller_api.c), and the object
 * store they fill.
 *
 * Store: per kind a JSON object "ns/name" -> the object (kind and
 * apiVersion set, since list items carry neither).  A list is received
 * into a private view and swapped in at list_end, so a failed list keeps
 * the old objects.  Every change is told to the handler (the sync marks
 * itself dirty and decides whether the text changed).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller_log.h"
#include "controller_watch.h"


/* one watched kind: its list/watch machine, transfer and objects */
typedef struct {
    kngx_ctl_xfer_t      xfer;          /* first: CURLOPT_PRIVATE */
    kngx_ctl_watch_t    *w;
    const char          *kind;          /* "Ingress" */
    const char          *label;         /* for /metrics: the kind, or
                                           "ConfigMap NS/NAME" when more
                                           than one is watched */
    char                 label_buf[400];
    const char          *api_version;   /* "networking.k8s.io/v1" */
    const char          *resource;
    unsigned             enabled:1;
    unsigned             in_flight:1;
    unsigned             aborted:1;
    unsigned             got_status:1;

    kube_lw_t           *lw;
    CURL                *easy;
    struct curl_slist   *headers;
    char                *url;
    char                 errbuf[CURL_ERROR_SIZE];  /* libcurl's detail */

    json_t              *objects;       /* "ns/name" -> object */
    json_t              *pending;       /* the list being received */
} kngx_ctl_kind_t;


struct kngx_ctl_watch_s {
    kngx_ctl_api_t            *api;
    kngx_ctl_watch_handler_t   handler;
    kngx_ctl_kind_t            kinds[KNGX_CTL_NKINDS];
    json_t                    *cm_named;    /* "ns/name" of the ConfigMaps
                                               the Ingresses name */
};


/* the annotations whose value names a ConfigMap ("NAME" or "NS/NAME" of
 * the Ingress's namespace: generator/annotations/headers.c) */
static const char *const  kngx_ctl_cm_annotations[] = {
    "nginx.ingress.kubernetes.io/auth-proxy-set-headers",
    "nginx.ingress.kubernetes.io/custom-headers",
    NULL
};


static const struct {
    const char  *kind;
    const char  *api_version;
    const char  *api_prefix;
    const char  *resource;
    const char  *field_selector;
} kngx_ctl_kind_defs[KNGX_CTL_NKINDS] = {
    { "Ingress", "networking.k8s.io/v1", "/apis/networking.k8s.io/v1",
      "ingresses", NULL },
    { "Service", "v1", "/api/v1", "services", NULL },
    { "IngressClass", "networking.k8s.io/v1", "/apis/networking.k8s.io/v1",
      "ingressclasses", NULL },
    /* every type: basic authentication reads Opaque ones
     * (annotations/auth_basic.c) */
    { "Secret", "v1", "/api/v1", "secrets", NULL },
    { "EndpointSlice", "discovery.k8s.io/v1", "/apis/discovery.k8s.io/v1",
      "endpointslices", NULL },
    { "ConfigMap", "v1", "/api/v1", "configmaps", NULL },
    { "ConfigMap", "v1", "/api/v1", "configmaps", NULL },
    { "ConfigMap", "v1", "/api/v1", "configmaps", NULL },
    { "ConfigMap", "v1", "/api/v1", "configmaps", NULL },
};


/* ---- store --------------------------------------------------------------- */

static int
kngx_ctl_obj_key(json_t *obj, char *key, size_t size)
{
    json_t      *md = json_object_get(obj, "metadata");
    const char  *ns = json_string_value(json_object_get(md, "namespace"));
    const char  *name = json_string_value(json_object_get(md, "name"));

    if (name == NULL) {
        return -1;
    }

    snprintf(key, size, "%s/%s", ns ? ns : "", name);
    return 0;
}


json_t *
kngx_ctl_store_get(kngx_ctl_watch_t *w, int kind, const char *ns,
    const char *name)
{
    char  key[1024];

    snprintf(key, sizeof(key), "%s/%s", ns ? ns : "", name);
    return json_object_get(w->kinds[kind].objects, key);
}


json_t *
kngx_ctl_store_objects(kngx_ctl_watch_t *w, int kind)
{
    return w->kinds[kind].objects;
}


void
kngx_ctl_ingress_configmaps(json_t *ing, json_t *set)
{
    json_t      *md = json_object_get(ing, "metadata");
    json_t      *ann = json_object_get(md, "annotations");
    const char  *ns = json_string_value(json_object_get(md, "namespace"));
    const char  *v, *slash;
    char         key[600];
    size_t       i;

    for (i = 0; ns && kngx_ctl_cm_annotations[i]; i++) {
        v = json_string_value(json_object_get(ann,
                                              kngx_ctl_cm_annotations[i]));
        if (v == NULL) {
            continue;
        }

        slash = strchr(v, '/');

        if (slash) {
            if ((size_t) (slash - v) != strlen(ns)
                || strncmp(v, ns, slash - v) != 0)
            {
                continue;       /* refused: another namespace's */
            }
            v = slash + 1;
        }

        snprintf(key, sizeof(key), "%s/%s", ns, v);
        json_object_set_new(set, key, json_true());
    }
}


/* the ConfigMaps the stored Ingresses name, again */
static void
kngx_ctl_cm_named_update(kngx_ctl_watch_t *w)
{
    const char  *key;
    json_t      *ing, *set;

    set = json_object();
    if (set == NULL) {
        return;         /* the old set stays */
    }

    json_object_foreach(w->kinds[KNGX_KIND_INGRESS].objects, key, ing) {
        kngx_ctl_ingress_configmaps(ing, set);
    }

    json_decref(w->cm_named);
    w->cm_named = set;
}


int
kngx_ctl_configmap_named(kngx_ctl_watch_t *w, const char *key)
{
    return json_object_get(w->cm_named, key) != NULL;
}


/* whether a change of k's object key matters: every kind's does, a
 * ConfigMap's of KNGX_KIND_CMREF only when an Ingress names it */
static int
kngx_ctl_counts(kngx_ctl_kind_t *k, const char *key)
{
    return k != &k->w->kinds[KNGX_KIND_CMREF]
           || kngx_ctl_configmap_named(k->w, key);
}


static void
kngx_ctl_changed(kngx_ctl_kind_t *k, const char *key)
{
    char  buf[1100];

    snprintf(buf, sizeof(buf), "%s/%s", k->kind, key);
    k->w->handler.changed(k->w->handler.data, buf);
}


/* a copy with kind and apiVersion set; NULL on out of memory */
static json_t *
kngx_ctl_obj_copy(kngx_ctl_kind_t *k, json_t *obj)
{
    json_t  *c;

    c = json_deep_copy(obj);
    if (c == NULL) {
        return NULL;
    }

    if (json_object_set_new(c, "kind", json_string(k->kind)) != 0
        || json_object_set_new(c, "apiVersion", json_string(k->api_version))
           != 0)
    {
        json_decref(c);
        return NULL;
    }

    return c;
}


static void
kngx_ctl_list_begin(void *ctx)
{
    kngx_ctl_kind_t  *k = ctx;

    json_decref(k->pending);
    k->pending = json_object();
}


static int
kngx_ctl_list_item(void *ctx, json_t *item)
{
    kngx_ctl_kind_t  *k = ctx;
    json_t           *c;
    char              key[1024];

    if (k->pending == NULL || kngx_ctl_obj_key(item, key, sizeof(key)) != 0)
    {
        return k->pending == NULL ? -1 : 0;
    }

    c = kngx_ctl_obj_copy(k, item);
    if (c == NULL || json_object_set_new(k->pending, key, c) != 0) {
        return -1;
    }

    return 0;
}


static int
kngx_ctl_list_end(void *ctx, const char *rv)
{
    kngx_ctl_kind_t  *k = ctx;
    const char       *key;
    json_t           *v, *old;
    int               changed = 0;

    if (k->pending == NULL) {
        return -1;
    }

    /* what the new list changes: additions, edits, deletions */

    json_object_foreach(k->pending, key, v) {
        old = json_object_get(k->objects, key);
        if ((old == NULL || !json_equal(old, v)) && kngx_ctl_counts(k, key))
        {
            kngx_ctl_changed(k, key);
            changed = 1;
        }
    }

    json_object_foreach(k->objects, key, v) {
        if (json_object_get(k->pending, key) == NULL
            && kngx_ctl_counts(k, key))
        {
            kngx_ctl_changed(k, key);
            changed = 1;
        }
    }

    json_decref(k->objects);
    k->objects = k->pending;
    k->pending = NULL;

    if (k == &k->w->kinds[KNGX_KIND_INGRESS]) {
        kngx_ctl_cm_named_update(k->w);
    }

    kngx_ctl_log("listed %zu %s (resourceVersion %s)",
                 json_object_size(k->objects), k->resource, rv ? rv : "");

    if (changed) {
        k->w->handler.dirty(k->w->handler.data, k->resource);
    }

    return 0;
}


static void
kngx_ctl_list_abort(void *ctx)
{
    kngx_ctl_kind_t  *k = ctx;

    json_decref(k->pending);
    k->pending = NULL;
}


static int
kngx_ctl_watch_event(void *ctx, kube_event_type_e type, json_t *object,
    const char *rv)
{
    kngx_ctl_kind_t  *k = ctx;
    json_t           *c, *old;
    char              key[1024], why[1200];

    if (type != KUBE_EVENT_ADDED && type != KUBE_EVENT_MODIFIED
        && type != KUBE_EVENT_DELETED)
    {
        return 0;
    }

    if (kngx_ctl_obj_key(object, key, sizeof(key)) != 0) {
        return 0;
    }

    old = json_object_get(k->objects, key);

    if (type == KUBE_EVENT_DELETED) {
        if (old == NULL) {
            return 0;
        }
        json_object_del(k->objects, key);

    } else {
        c = kngx_ctl_obj_copy(k, object);
        if (c == NULL) {
            return -1;
        }

        if (old && json_equal(old, c)) {
            json_decref(c);
            return 0;
        }

        if (json_object_set_new(k->objects, key, c) != 0) {
            return -1;
        }
    }

    if (k == &k->w->kinds[KNGX_KIND_INGRESS]) {
        kngx_ctl_cm_named_update(k->w);

    } else if (!kngx_ctl_counts(k, key)) {
        return 0;       /* a ConfigMap no Ingress names: kept, quiet */
    }

    kngx_ctl_changed(k, key);

    snprintf(why, sizeof(why), "%s %s %s", kube_event_type_name(type),
             k->kind, key);
    k->w->handler.dirty(k->w->handler.data, why);

    return 0;
}


static void
kngx_ctl_lw_log(void *ctx, kube_log_level_e level, const char *msg)
{
    if (level == KUBE_LOG_DEBUG) {
        return;
    }

    /* the machine's messages name the resource themselves */

    kngx_ctl_log("%s%s",
                 level == KUBE_LOG_ERR ? "error: "
                 : level == KUBE_LOG_WARN ? "warning: " : "",
                 msg);
}


/* ---- transfers ----------------------------------------------------------- */

static size_t
kngx_ctl_header_cb(char *ptr, size_t size, size_t n, void *data)
{
    kngx_ctl_kind_t  *k = data;
    size_t            len = size * n;
    long              status = 0;

    if (k->aborted) {
        return len;
    }

    if (len <= 2 && (ptr[0] == '\r' || ptr[0] == '\n')) {
        /* end of a header block */
        curl_easy_getinfo(k->easy, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && !k->got_status) {
            k->got_status = 1;
            if (status == 401) {
                kngx_ctl_api_token_invalidate(k->w->api);
            }
            kube_lw_on_status(k->lw, kngx_ctl_now(), (int) status);
        }
        return len;
    }

    kube_lw_on_header(k->lw, ptr, len);

    return len;
}


static size_t
kngx_ctl_write_cb(char *ptr, size_t size, size_t n, void *data)
{
    kngx_ctl_kind_t  *k = data;
    size_t            len = size * n;
    long              status = 0;

    if (k->aborted) {
        return 0;
    }

    if (!k->got_status) {
        curl_easy_getinfo(k->easy, CURLINFO_RESPONSE_CODE, &status);
        k->got_status = 1;
        kube_lw_on_status(k->lw, kngx_ctl_now(), (int) status);
    }

    if (kube_lw_on_body(k->lw, kngx_ctl_now(), ptr, len) == KUBE_LW_ABORT) {
        k->aborted = 1;
        return 0;
    }

    return len;
}


static void
kngx_ctl_xfer_end(kngx_ctl_kind_t *k)
{
    if (k->easy) {
        kngx_ctl_api_remove(k->w->api, k->easy);
        curl_easy_cleanup(k->easy);
        k->easy = NULL;
    }

    curl_slist_free_all(k->headers);
    k->headers = NULL;
    free(k->url);
    k->url = NULL;
    k->in_flight = 0;
}


static int
kngx_ctl_xfer_start(kngx_ctl_kind_t *k, const kube_lw_request_t *req)
{
    kngx_ctl_api_t  *api = k->w->api;

    if (kube_lw_token_reload(k->lw)) {
        kngx_ctl_api_token_invalidate(api);
    }

    k->easy = curl_easy_init();
    if (k->easy == NULL) {
        return -1;
    }

    k->url = kngx_ctl_api_url(api, req->path);
    if (k->url == NULL) {
        return -1;
    }

    if (kngx_ctl_api_prepare(api, k->easy, &k->headers, NULL) != 0) {
        return -1;
    }

    curl_easy_setopt(k->easy, CURLOPT_URL, k->url);
    curl_easy_setopt(k->easy, CURLOPT_HEADERFUNCTION, kngx_ctl_header_cb);
    curl_easy_setopt(k->easy, CURLOPT_HEADERDATA, k);
    curl_easy_setopt(k->easy, CURLOPT_WRITEFUNCTION, kngx_ctl_write_cb);
    curl_easy_setopt(k->easy, CURLOPT_WRITEDATA, k);
    curl_easy_setopt(k->easy, CURLOPT_PRIVATE, &k->xfer);
    curl_easy_setopt(k->easy, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(k->easy, CURLOPT_ERRORBUFFER, k->errbuf);
    k->errbuf[0] = '\0';

    if (req->timeout_ms) {
        curl_easy_setopt(k->easy, CURLOPT_TIMEOUT_MS,
                         (long) (req->timeout_ms + 30000));
    }

    if (req->idle_timeout_s) {
        /* a stalled watch: fewer than 1 byte/s over the whole period */
        curl_easy_setopt(k->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(k->easy, CURLOPT_LOW_SPEED_TIME,
                         (long) req->idle_timeout_s);
    }

    k->aborted = 0;
    k->got_status = 0;

    if (kngx_ctl_api_add(api, k->easy) != 0) {
        return -1;
    }

    k->in_flight = 1;

    return 0;
}


uint64_t
kngx_ctl_watch_step(kngx_ctl_watch_t *w, uint64_t now)
{
    kngx_ctl_kind_t    *k;
    kube_lw_request_t   req;
    kube_lw_action_e    a;
    uint64_t            wake, next = 0;
    int                 i;

    for (i = 0; i < KNGX_CTL_NKINDS; i++) {
        k = &w->kinds[i];

        if (!k->enabled || k->in_flight) {
            continue;
        }

        a = kube_lw_next(k->lw, now, &req, &wake);

        if (a == KUBE_LW_REQUEST) {
            if (kngx_ctl_xfer_start(k, &req) != 0) {
                kngx_ctl_log("error: watch %s: cannot start a request",
                             k->resource);
                kngx_ctl_xfer_end(k);
                kube_lw_on_done(k->lw, now, KUBE_LW_XFER_ERROR,
                                "cannot start request");
                wake = now + 1000;
            } else {
                continue;
            }
        }

        if (a == KUBE_LW_WAIT || a == KUBE_LW_REQUEST) {
            if (next == 0 || wake < next) {
                next = wake;
            }
        }
    }

    return next;
}


/* a list or watch request ended */

static void
kngx_ctl_xfer_done(kngx_ctl_xfer_t *x, CURLcode rc)
{
    kngx_ctl_kind_t  *k = (kngx_ctl_kind_t *) x;
    kube_lw_xfer_e    res;
    long              status;

    if (!k->aborted) {
        if (!k->got_status && rc == CURLE_OK) {
            status = 0;
            curl_easy_getinfo(k->easy, CURLINFO_RESPONSE_CODE, &status);
            kube_lw_on_status(k->lw, kngx_ctl_now(), (int) status);
        }

        res = rc == CURLE_OK ? KUBE_LW_XFER_OK
              : rc == CURLE_COULDNT_CONNECT ? KUBE_LW_XFER_CONN_REFUSED
              : KUBE_LW_XFER_ERROR;

        kube_lw_on_done(k->lw, kngx_ctl_now(), res,
                        k->errbuf[0] ? k->errbuf : curl_easy_strerror(rc));
    }

    kngx_ctl_xfer_end(k);
}


int
kngx_ctl_watch_synced(kngx_ctl_watch_t *w)
{
    kube_lw_stats_t  st;
    int              i;

    for (i = 0; i < KNGX_CTL_NKINDS; i++) {
        if (!w->kinds[i].enabled) {
            continue;
        }
        kube_lw_stats(w->kinds[i].lw, kngx_ctl_now(), &st);
        if (!st.synced) {
            return 0;
        }
    }

    return 1;
}


int
kngx_ctl_watch_kind(kngx_ctl_watch_t *w, int kind, const char **name,
    kube_lw_stats_t *st)
{
    kngx_ctl_kind_t  *k = &w->kinds[kind];

    if (!k->enabled) {
        return -1;
    }

    *name = k->label;

    if (st) {
        kube_lw_stats(k->lw, kngx_ctl_now(), st);
    }

    return 0;
}


static int
kngx_ctl_kind_init(kngx_ctl_watch_t *w, int i,
    const kngx_ctl_watch_conf_t *conf)
{
    kngx_ctl_kind_t  *k = &w->kinds[i];
    kube_lw_conf_t    lc;
    kube_err_t        err;
    int               cm;

    k->xfer.done = kngx_ctl_xfer_done;
    k->w = w;
    k->kind = kngx_ctl_kind_defs[i].kind;
    k->api_version = kngx_ctl_kind_defs[i].api_version;
    k->resource = kngx_ctl_kind_defs[i].resource;
    k->objects = json_object();
    if (k->objects == NULL) {
        kngx_ctl_log("error: out of memory");
        return -1;
    }

    k->label = k->kind;
    cm = i >= KNGX_KIND_CMREF ? -1 : i - KNGX_KIND_CONFIGMAP;

    /* endpoints are the module's business unless rendered statically */
    k->enabled = (i == KNGX_KIND_SLICE) ? conf->slices
                 : (cm >= 0) ? (size_t) cm < conf->nconfigmaps : 1;
    if (!k->enabled) {
        return 0;
    }

    memset(&lc, 0, sizeof(lc));
    lc.api_prefix = kngx_ctl_kind_defs[i].api_prefix;
    lc.resource = k->resource;
    lc.ns = i == KNGX_KIND_CLASS ? NULL
            : cm >= 0 ? conf->configmap_ns[cm] : conf->ns;
    lc.field_selector = cm >= 0 ? conf->configmap_selector[cm]
                        : kngx_ctl_kind_defs[i].field_selector;

    if (i == KNGX_KIND_CMREF) {
        k->label = "ConfigMap (annotations)";

    } else if (cm >= 0 && conf->nconfigmaps > 1) {
        snprintf(k->label_buf, sizeof(k->label_buf), "ConfigMap %s/%s",
                 conf->configmap_ns[cm], conf->configmap_selector[cm]
                                         + sizeof("metadata.name=") - 1);
        k->label = k->label_buf;
    }
    lc.watch_idle_timeout_ms = conf->idle_ms;
    lc.seed = (uint64_t) kngx_ctl_now() * 2654435761u + (uint64_t) i;
    lc.handler.list_begin = kngx_ctl_list_begin;
    lc.handler.list_item = kngx_ctl_list_item;
    lc.handler.list_end = kngx_ctl_list_end;
    lc.handler.list_abort = kngx_ctl_list_abort;
    lc.handler.watch_event = kngx_ctl_watch_event;
    lc.handler.log = kngx_ctl_lw_log;
    lc.ctx = k;

    kube_err_clear(&err);
    k->lw = kube_lw_create(&lc, &err);
    if (k->lw == NULL) {
        kngx_ctl_log("error: watch %s: %s", k->resource, err.msg);
        return -1;
    }

    return 0;
}


void
kngx_ctl_watch_configmap(kngx_ctl_watch_conf_t *conf, const char *ns_name)
{
    const char  *slash = strchr(ns_name, '/');
    char         ns[64], sel[300];
    size_t       i;

    /* flag values are checked: "NS/NAME" with DNS names */

    snprintf(ns, sizeof(ns), "%.*s", (int) (slash - ns_name), ns_name);
    snprintf(sel, sizeof(sel), "metadata.name=%s", slash + 1);

    for (i = 0; i < conf->nconfigmaps; i++) {
        if (strcmp(conf->configmap_ns[i], ns) == 0
            && strcmp(conf->configmap_selector[i], sel) == 0)
        {
            return;
        }
    }

    if (conf->nconfigmaps < KNGX_CTL_NCONFIGMAPS) {
        memcpy(conf->configmap_ns[i], ns, sizeof(ns));
        memcpy(conf->configmap_selector[i], sel, sizeof(sel));
        conf->nconfigmaps++;
    }
}


kngx_ctl_watch_t *
kngx_ctl_watch_create(const kngx_ctl_watch_conf_t *conf, kngx_ctl_api_t *api,
    const kngx_ctl_watch_handler_t *handler)
{
    kngx_ctl_watch_t  *w;
    int                i;

    w = calloc(1, sizeof(kngx_ctl_watch_t));
    if (w == NULL) {
        kngx_ctl_log("error: out of memory");
        return NULL;
    }

    w->api = api;
    w->handler = *handler;

    for (i = 0; i < KNGX_CTL_NKINDS; i++) {
        if (kngx_ctl_kind_init(w, i, conf) != 0) {
            kngx_ctl_watch_destroy(w);
            return NULL;
        }
    }

    return w;
}


void
kngx_ctl_watch_destroy(kngx_ctl_watch_t *w)
{
    kngx_ctl_kind_t  *k;
    int               i;

    if (w == NULL) {
        return;
    }

    for (i = 0; i < KNGX_CTL_NKINDS; i++) {
        k = &w->kinds[i];
        kngx_ctl_xfer_end(k);
        if (k->lw) {
            kube_lw_destroy(k->lw);
        }
        json_decref(k->objects);
        json_decref(k->pending);
    }

    json_decref(w->cm_named);
    free(w);
}
