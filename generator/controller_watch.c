
/*
 * kubengx controller: one kube/ list/watch machine per kind, driven by a
 * libcurl multi handle from the main loop, and the object store they
 * fill.
 *
 * Store: per kind a JSON object "ns/name" -> the object (kind and
 * apiVersion set, since list items carry neither).  A list is received
 * into a private view and swapped in at list_end, so a failed list keeps
 * the old objects.  Every change marks the controller dirty; the sync
 * decides whether the text changed.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller.h"


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
kngx_ctl_store_get(kngx_ctl_t *ctl, int kind, const char *ns,
    const char *name)
{
    char  key[1024];

    snprintf(key, sizeof(key), "%s/%s", ns ? ns : "", name);
    return json_object_get(ctl->kinds[kind].objects, key);
}


static void
kngx_ctl_changed(kngx_ctl_kind_t *k, const char *key)
{
    char  buf[1100];

    snprintf(buf, sizeof(buf), "%s/%s", k->kind, key);
    json_object_set_new(k->ctl->changed, buf, json_true());
    k->changes++;
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
        if (old == NULL || !json_equal(old, v)) {
            kngx_ctl_changed(k, key);
            changed = 1;
        }
    }

    json_object_foreach(k->objects, key, v) {
        if (json_object_get(k->pending, key) == NULL) {
            kngx_ctl_changed(k, key);
            changed = 1;
        }
    }

    json_decref(k->objects);
    k->objects = k->pending;
    k->pending = NULL;

    kngx_ctl_log("listed %zu %s (resourceVersion %s)",
                 json_object_size(k->objects), k->resource, rv ? rv : "");

    if (changed || !k->ctl->synced) {
        kngx_ctl_mark_dirty(k->ctl, k->resource);
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

    kngx_ctl_changed(k, key);

    snprintf(why, sizeof(why), "%s %s %s", kube_event_type_name(type),
             k->kind, key);
    kngx_ctl_mark_dirty(k->ctl, why);

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
                kube_token_invalidate(&k->ctl->token);
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
        curl_multi_remove_handle(k->ctl->multi, k->easy);
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
    kngx_ctl_t  *ctl = k->ctl;
    size_t       len;

    if (kube_lw_token_reload(k->lw)) {
        kube_token_invalidate(&ctl->token);
    }

    k->easy = curl_easy_init();
    if (k->easy == NULL) {
        return -1;
    }

    len = strlen(ctl->server) + strlen(req->path) + 1;
    k->url = malloc(len);
    if (k->url == NULL) {
        return -1;
    }
    snprintf(k->url, len, "%s%s", ctl->server, req->path);

    if (kngx_ctl_api_prepare(ctl, k->easy, &k->headers, NULL) != 0) {
        return -1;
    }

    curl_easy_setopt(k->easy, CURLOPT_URL, k->url);
    curl_easy_setopt(k->easy, CURLOPT_HEADERFUNCTION, kngx_ctl_header_cb);
    curl_easy_setopt(k->easy, CURLOPT_HEADERDATA, k);
    curl_easy_setopt(k->easy, CURLOPT_WRITEFUNCTION, kngx_ctl_write_cb);
    curl_easy_setopt(k->easy, CURLOPT_WRITEDATA, k);
    curl_easy_setopt(k->easy, CURLOPT_PRIVATE, k);
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

    if (curl_multi_add_handle(ctl->multi, k->easy) != CURLM_OK) {
        return -1;
    }

    k->in_flight = 1;

    return 0;
}


uint64_t
kngx_ctl_watch_step(kngx_ctl_t *ctl, uint64_t now)
{
    kngx_ctl_kind_t    *k;
    kube_lw_request_t   req;
    kube_lw_action_e    a;
    uint64_t            wake, next = 0;
    int                 i;

    for (i = 0; i < KNGX_CTL_NKINDS; i++) {
        k = &ctl->kinds[i];

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


void
kngx_ctl_watch_perform(kngx_ctl_t *ctl)
{
    CURLMsg          *msg;
    kngx_ctl_kind_t  *k;
    int               running, left;
    char             *priv;
    kube_lw_xfer_e    res;
    long              status;

    curl_multi_perform(ctl->multi, &running);

    while ((msg = curl_multi_info_read(ctl->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }

        priv = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        if (priv == NULL) {
            continue;
        }

        if (kngx_ctl_api_is_call(ctl, priv)) {
            kngx_ctl_api_done(ctl, priv, msg->data.result);
            continue;
        }

        k = (kngx_ctl_kind_t *) priv;

        if (!k->aborted) {
            if (!k->got_status && msg->data.result == CURLE_OK) {
                status = 0;
                curl_easy_getinfo(k->easy, CURLINFO_RESPONSE_CODE, &status);
                kube_lw_on_status(k->lw, kngx_ctl_now(), (int) status);
            }

            res = msg->data.result == CURLE_OK ? KUBE_LW_XFER_OK
                  : msg->data.result == CURLE_COULDNT_CONNECT
                    ? KUBE_LW_XFER_CONN_REFUSED : KUBE_LW_XFER_ERROR;

            kube_lw_on_done(k->lw, kngx_ctl_now(), res,
                            k->errbuf[0] ? k->errbuf
                            : curl_easy_strerror(msg->data.result));
        }

        kngx_ctl_xfer_end(k);
    }
}


int
kngx_ctl_watch_synced(kngx_ctl_t *ctl)
{
    kube_lw_stats_t  st;
    int              i;

    for (i = 0; i < KNGX_CTL_NKINDS; i++) {
        if (!ctl->kinds[i].enabled) {
            continue;
        }
        kube_lw_stats(ctl->kinds[i].lw, kngx_ctl_now(), &st);
        if (!st.synced) {
            return 0;
        }
    }

    return 1;
}


int
kngx_ctl_watch_init(kngx_ctl_t *ctl)
{
    kngx_ctl_kind_t  *k;
    kube_lw_conf_t    lc;
    kube_err_t        err;
    const char       *ns;
    int               i;

    ctl->multi = curl_multi_init();
    ctl->changed = json_object();
    if (ctl->multi == NULL || ctl->changed == NULL) {
        kngx_ctl_log("error: out of memory");
        return -1;
    }

    for (i = 0; i < KNGX_CTL_NKINDS; i++) {
        k = &ctl->kinds[i];
        k->ctl = ctl;
        k->idx = i;
        k->kind = kngx_ctl_kind_defs[i].kind;
        k->api_version = kngx_ctl_kind_defs[i].api_version;
        k->api_prefix = kngx_ctl_kind_defs[i].api_prefix;
        k->resource = kngx_ctl_kind_defs[i].resource;
        k->field_selector = kngx_ctl_kind_defs[i].field_selector;
        k->objects = json_object();
        if (k->objects == NULL) {
            kngx_ctl_log("error: out of memory");
            return -1;
        }

        /* endpoints are the module's business unless rendered statically */
        k->enabled = (i != KNGX_KIND_SLICE
                      || ctl->conf.po.endpoints == KNGX_ENDPOINTS_STATIC);

        ns = i == KNGX_KIND_CLASS ? NULL : ctl->conf.watch_namespace;

        if (i == KNGX_KIND_CONFIGMAP) {
            k->enabled = kngx_stream_ctl_watch(ctl, &ns, &k->field_selector);
        }

        if (!k->enabled) {
            continue;
        }

        memset(&lc, 0, sizeof(lc));
        lc.api_prefix = k->api_prefix;
        lc.resource = k->resource;
        lc.ns = ns;
        lc.field_selector = k->field_selector;
        lc.watch_idle_timeout_ms = ctl->conf.watch_idle_ms;
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
    }

    return 0;
}


void
kngx_ctl_watch_free(kngx_ctl_t *ctl)
{
    kngx_ctl_kind_t  *k;
    int               i;

    kngx_ctl_api_cancel_all(ctl);

    for (i = 0; i < KNGX_CTL_NKINDS; i++) {
        k = &ctl->kinds[i];
        kngx_ctl_xfer_end(k);
        if (k->lw) {
            kube_lw_destroy(k->lw);
            k->lw = NULL;
        }
        json_decref(k->objects);
        json_decref(k->pending);
        k->objects = NULL;
        k->pending = NULL;
    }

    if (ctl->multi) {
        curl_multi_cleanup(ctl->multi);
        ctl->multi = NULL;
    }

    json_decref(ctl->changed);
    ctl->changed = NULL;
}
