
/*
 * kubengx: k8s_canary (see ngx_http_k8s_canary.h).
 *
 *     location / {
 *         k8s_canary shop/web-canary shop/web-v2 port=80;
 *         proxy_pass http://shop_web_80;
 *     }
 *
 * Requests of the location go to the upstream's Service unless the
 * settings of the canary Ingress "shop/web-canary" (its
 * nginx.ingress.kubernetes.io/canary* annotations, watched by worker 0,
 * ngx_http_k8s_canary_watch.c) send them to the canary Service port,
 * which is then balanced by the same upstream (its method, max_fails,
 * keepalive).  The decision is kube/kube_canary.c's, per request, with
 * an ngx_random() draw for the weight: nothing shared is written on the
 * request path.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_canary.h"
#include "ngx_http_k8s_out.h"


/* a worker's copy of a slot, with the compiled header pattern */
typedef struct {
    ngx_atomic_uint_t            seq;
    ngx_uint_t                   state;
    kube_canary_t                settings;
    ngx_pool_t                  *pool;      /* of re */
    ngx_regex_t                 *re;
    unsigned                     valid:1;
} ngx_http_k8s_canary_copy_t;


static ngx_int_t ngx_http_k8s_canary_ing(ngx_conf_t *cf,
    ngx_http_k8s_canary_conf_t *kcc, ngx_str_t *value);
static ngx_http_k8s_canary_conf_t *ngx_http_k8s_canary_conf(
    ngx_conf_t *cf);
static ngx_int_t ngx_http_k8s_canary_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_uint_t ngx_http_k8s_canary_claim(ngx_http_k8s_canary_conf_t *kcc,
    ngx_http_k8s_canary_ing_t *ing);
static ngx_http_k8s_canary_copy_t *ngx_http_k8s_canary_read(
    ngx_http_k8s_canary_slot_t *slot, ngx_uint_t n, ngx_log_t *log);
static ngx_table_elt_t *ngx_http_k8s_canary_header(ngx_http_request_t *r,
    const char *name);
static int ngx_http_k8s_canary_match(void *ctx, const char *s, size_t len);


static ngx_str_t  ngx_http_k8s_canary_zone_name = ngx_string("k8s_canary");

static ngx_http_k8s_canary_copy_t  *ngx_http_k8s_canary_copies;


char *
ngx_http_k8s_canary(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_k8s_loc_conf_t *klcf = conf;

    ngx_int_t                    ing;
    ngx_str_t                   *value;
    ngx_uint_t                   used;
    ngx_http_k8s_canary_conf_t  *kcc;

    if (klcf->canary != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    kcc = ngx_http_k8s_canary_conf(cf);
    if (kcc == NULL) {
        return NGX_CONF_ERROR;
    }

    ing = ngx_http_k8s_canary_ing(cf, kcc, &value[1]);
    if (ing == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    klcf->canary = ngx_palloc(cf->pool, sizeof(ngx_http_k8s_canary_loc_t));
    if (klcf->canary == NULL) {
        return NGX_CONF_ERROR;
    }

    klcf->canary->ing = (ngx_uint_t) ing;

    /* "NS/NAME [port=]" of the canary Service, from value[2] */

    klcf->canary->key = ngx_http_k8s_register_key(cf, value + 1,
                                                  cf->args->nelts - 1,
                                                  &used);
    if (klcf->canary->key == NULL) {
        return NGX_CONF_ERROR;
    }

    if (used + 1 < cf->args->nelts) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[used + 1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* the Ingress "NS/NAME" of value, its index in kcc->ings */

static ngx_int_t
ngx_http_k8s_canary_ing(ngx_conf_t *cf, ngx_http_k8s_canary_conf_t *kcc,
    ngx_str_t *value)
{
    u_char                     *slash;
    ngx_str_t                   ns, name;
    ngx_uint_t                  i;
    ngx_http_k8s_canary_ing_t  *ing;

    slash = ngx_strlchr(value->data, value->data + value->len, '/');

    if (slash == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid Ingress \"%V\": expected NAMESPACE/NAME",
                           value);
        return NGX_ERROR;
    }

    ns.data = value->data;
    ns.len = slash - value->data;
    name.data = slash + 1;
    name.len = value->data + value->len - name.data;

    if (ngx_http_k8s_valid_name(&ns, 63) != NGX_OK
        || ngx_http_k8s_valid_subdomain(&name) != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid Ingress \"%V\": expected NAMESPACE/NAME",
                           value);
        return NGX_ERROR;
    }

    ing = kcc->ings.elts;

    for (i = 0; i < kcc->ings.nelts; i++) {
        if (ing[i].key.len == value->len
            && ngx_strncmp(ing[i].key.data, value->data, value->len) == 0)
        {
            return (ngx_int_t) i;
        }
    }

    if (kcc->ings.nelts == NGX_HTTP_K8S_CANARY_SLOTS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "more than %d canary Ingresses",
                           NGX_HTTP_K8S_CANARY_SLOTS);
        return NGX_ERROR;
    }

    ing = ngx_array_push(&kcc->ings);
    if (ing == NULL) {
        return NGX_ERROR;
    }

    /* NUL-terminated copies: the watcher compares them as C strings */

    ing->key.data = ngx_pnalloc(cf->pool, value->len + 1);
    if (ing->key.data == NULL) {
        return NGX_ERROR;
    }

    ing->key.len = value->len;
    ngx_memcpy(ing->key.data, value->data, value->len);
    ing->key.data[value->len] = '\0';

    ing->ns.data = ngx_pnalloc(cf->pool, ns.len + 1);
    ing->name.data = ngx_pnalloc(cf->pool, name.len + 1);
    if (ing->ns.data == NULL || ing->name.data == NULL) {
        return NGX_ERROR;
    }

    ing->ns.len = ns.len;
    *ngx_cpymem(ing->ns.data, ns.data, ns.len) = '\0';
    ing->name.len = name.len;
    *ngx_cpymem(ing->name.data, name.data, name.len) = '\0';

    ing->slot = 0;

    return (ngx_int_t) (kcc->ings.nelts - 1);
}


/* the configuration's canaries and their zone, created by the first */

static ngx_http_k8s_canary_conf_t *
ngx_http_k8s_canary_conf(ngx_conf_t *cf)
{
    ngx_http_k8s_canary_conf_t  *kcc;
    ngx_http_k8s_main_conf_t    *kmcf;

    kmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_k8s_module);

    if (kmcf->canary) {
        return kmcf->canary;
    }

    kcc = ngx_pcalloc(cf->pool, sizeof(ngx_http_k8s_canary_conf_t));
    if (kcc == NULL) {
        return NULL;
    }

    if (ngx_array_init(&kcc->ings, cf->pool, 4,
                       sizeof(ngx_http_k8s_canary_ing_t))
        != NGX_OK)
    {
        return NULL;
    }

    /* a fixed name and size: nginx keeps the zone across reloads */

    kcc->shm_zone = ngx_shared_memory_add(cf, &ngx_http_k8s_canary_zone_name,
                                          NGX_HTTP_K8S_CANARY_ZONE_SIZE,
                                          &ngx_http_k8s_module);
    if (kcc->shm_zone == NULL) {
        return NULL;
    }

    kcc->shm_zone->init = ngx_http_k8s_canary_init_zone;
    kcc->shm_zone->data = kcc;

    kmcf->canary = kcc;

    return kcc;
}


static ngx_int_t
ngx_http_k8s_canary_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_k8s_canary_conf_t *okcc = data;

    ngx_uint_t                   i;
    ngx_slab_pool_t             *shpool;
    ngx_http_k8s_canary_ing_t   *ing;
    ngx_http_k8s_canary_conf_t  *kcc;

    kcc = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (okcc) {
        kcc->sh = okcc->sh;

    } else if (shm_zone->shm.exists) {
        kcc->sh = shpool->data;

    } else {
        kcc->sh = ngx_slab_calloc(shpool, sizeof(ngx_http_k8s_canary_sh_t));
        if (kcc->sh == NULL) {
            return NGX_ERROR;
        }

        shpool->data = kcc->sh;
    }

    /* this configuration's Ingresses find their slots (the master) */

    ngx_shmtx_lock(&shpool->mutex);

    ing = kcc->ings.elts;

    for (i = 0; i < kcc->ings.nelts; i++) {
        ing[i].slot = ngx_http_k8s_canary_claim(kcc, &ing[i]);
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


/*
 * The slot of ing: its own from an earlier configuration (the settings
 * are kept), else a free one, else one this configuration does not name
 * (workers of an older configuration still reading it then see
 * "not synced": every request to the primary).
 */

static ngx_uint_t
ngx_http_k8s_canary_claim(ngx_http_k8s_canary_conf_t *kcc,
    ngx_http_k8s_canary_ing_t *ing)
{
    ngx_uint_t                   i, j, pick;
    ngx_http_k8s_canary_ing_t   *ings;
    ngx_http_k8s_canary_slot_t  *slot;

    slot = kcc->sh->slot;
    pick = NGX_HTTP_K8S_CANARY_SLOTS;

    for (i = 0; i < NGX_HTTP_K8S_CANARY_SLOTS; i++) {
        if (slot[i].state != NGX_HTTP_K8S_CANARY_FREE
            && slot[i].name_len == ing->key.len
            && ngx_strncmp(slot[i].name, ing->key.data, ing->key.len) == 0)
        {
            return i;
        }

        if (pick == NGX_HTTP_K8S_CANARY_SLOTS
            && slot[i].state == NGX_HTTP_K8S_CANARY_FREE)
        {
            pick = i;
        }
    }

    ings = kcc->ings.elts;

    for (i = 0; pick == NGX_HTTP_K8S_CANARY_SLOTS; i++) {
        for (j = 0; j < kcc->ings.nelts; j++) {
            if (slot[i].name_len == ings[j].key.len
                && ngx_strncmp(slot[i].name, ings[j].key.data,
                               ings[j].key.len) == 0)
            {
                break;
            }
        }

        if (j == kcc->ings.nelts) {
            pick = i;
        }
    }

    slot = &slot[pick];

    slot->seq++;
    ngx_memory_barrier();

    slot->state = NGX_HTTP_K8S_CANARY_UNSYNCED;
    slot->name_len = ing->key.len;
    ngx_memcpy(slot->name, ing->key.data, ing->key.len);
    ngx_memzero(&slot->settings, sizeof(kube_canary_t));

    ngx_memory_barrier();
    slot->seq++;

    return pick;
}


/* the watcher: an Ingress's settings (state PRESENT) or ABSENT */

void
ngx_http_k8s_canary_write(ngx_http_k8s_canary_conf_t *kcc, ngx_uint_t n,
    ngx_uint_t state, kube_canary_t *settings)
{
    ngx_http_k8s_canary_ing_t   *ing;
    ngx_http_k8s_canary_slot_t  *slot;

    ing = &((ngx_http_k8s_canary_ing_t *) kcc->ings.elts)[n];
    slot = &kcc->sh->slot[ing->slot];

    if (slot->name_len != ing->key.len
        || ngx_strncmp(slot->name, ing->key.data, ing->key.len) != 0)
    {
        /* a newer configuration took the slot */
        return;
    }

    slot->seq++;
    ngx_memory_barrier();

    slot->state = state;

    if (settings) {
        slot->settings = *settings;

    } else {
        ngx_memzero(&slot->settings, sizeof(kube_canary_t));
    }

    ngx_memory_barrier();
    slot->seq++;
}


/*
 * The Service port a request of a location goes to: its k8s_canary's
 * canary Service when the settings say so, else primary.
 */

ngx_http_k8s_key_t *
ngx_http_k8s_canary_route(ngx_http_request_t *r, ngx_http_k8s_key_t *primary)
{
    ngx_str_t                    cookie, name;
    ngx_table_elt_t             *h;
    kube_canary_req_t            req;
    ngx_http_k8s_canary_ing_t   *ing;
    ngx_http_k8s_loc_conf_t     *klcf;
    ngx_http_k8s_main_conf_t    *kmcf;
    ngx_http_k8s_canary_copy_t  *c;

    klcf = ngx_http_get_module_loc_conf(r, ngx_http_k8s_module);

    if (klcf->canary == NULL) {
        return primary;
    }

    kmcf = ngx_http_get_module_main_conf(r, ngx_http_k8s_module);

    if (kmcf->canary == NULL || kmcf->canary->sh == NULL) {
        return primary;
    }

    ing = &((ngx_http_k8s_canary_ing_t *) kmcf->canary->ings.elts)
              [klcf->canary->ing];

    c = ngx_http_k8s_canary_read(kmcf->canary->sh->slot, ing->slot,
                                 r->connection->log);

    if (c == NULL
        || c->state != NGX_HTTP_K8S_CANARY_PRESENT
        || !c->settings.canary)
    {
        return primary;
    }

    ngx_memzero(&req, sizeof(kube_canary_req_t));

    req.sticky = -1;
    req.draw = (uint32_t) ngx_random();
    req.match = ngx_http_k8s_canary_match;
    req.match_ctx = c;

    if (c->settings.header[0]) {
        h = ngx_http_k8s_canary_header(r, c->settings.header);

        if (h) {
            req.header = (const char *) h->value.data;
            req.header_len = h->value.len;
        }
    }

    if (c->settings.cookie[0]) {
        name.data = (u_char *) c->settings.cookie;
        name.len = ngx_strlen(c->settings.cookie);

        if (ngx_http_k8s_cookie(r, &name, &cookie) == NGX_OK) {
            req.cookie = (const char *) cookie.data;
            req.cookie_len = cookie.len;
        }
    }

    if (klcf->affinity && !klcf->affinity->legacy) {
        req.sticky = ngx_http_k8s_affinity_side(r, klcf->affinity);
    }

    if (kube_canary_decide(&c->settings, &req)) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "k8s: canary \"%V\"", &klcf->canary->key->key);
        return klcf->canary->key;
    }

    return primary;
}


/*
 * This worker's copy of slot n, read again when its sequence moved (one
 * load per request otherwise); the old copy while the writer is busy.
 */

static ngx_http_k8s_canary_copy_t *
ngx_http_k8s_canary_read(ngx_http_k8s_canary_slot_t *slot, ngx_uint_t n,
    ngx_log_t *log)
{
    u_char                       errstr[NGX_MAX_CONF_ERRSTR];
    ngx_uint_t                   tries;
    ngx_atomic_uint_t            seq;
    ngx_regex_compile_t          rc;
    ngx_http_k8s_canary_copy_t  *c;

    if (ngx_http_k8s_canary_copies == NULL) {

        /*
         * for the life of the process: a reconfiguration without a
         * master (master_process off) keeps the copies, which the slots'
         * sequence numbers keep true
         */

        ngx_http_k8s_canary_copies = ngx_calloc(NGX_HTTP_K8S_CANARY_SLOTS
                                         * sizeof(ngx_http_k8s_canary_copy_t),
                                         log);
        if (ngx_http_k8s_canary_copies == NULL) {
            return NULL;
        }
    }

    c = &ngx_http_k8s_canary_copies[n];
    slot = &slot[n];

    seq = slot->seq;

    if (c->valid && c->seq == seq) {
        return c;
    }

    for (tries = 0; tries < 64; tries++) {
        seq = slot->seq;

        if (seq & 1) {
            continue;
        }

        ngx_memory_barrier();

        c->state = slot->state;
        c->settings = slot->settings;

        ngx_memory_barrier();

        if (slot->seq == seq) {
            break;
        }
    }

    if (tries == 64) {
        /* the writer is busy: the last copy (if any) meanwhile */
        return c->valid ? c : NULL;
    }

    c->seq = seq;
    c->valid = 1;
    c->re = NULL;

    if (c->pool) {
        ngx_destroy_pool(c->pool);
        c->pool = NULL;
    }

    if (c->settings.header_pattern[0] == '\0') {
        return c;
    }

    c->pool = ngx_create_pool(1024, log);
    if (c->pool == NULL) {
        return c;
    }

    ngx_memzero(&rc, sizeof(ngx_regex_compile_t));

    rc.pattern.data = (u_char *) c->settings.header_pattern;
    rc.pattern.len = ngx_strlen(c->settings.header_pattern);
    rc.pool = c->pool;
    rc.err.len = NGX_MAX_CONF_ERRSTR;
    rc.err.data = errstr;

    if (ngx_regex_compile(&rc) != NGX_OK) {
        /* the watcher refuses such patterns: not reached */
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "k8s: canary-by-header-pattern: %V", &rc.err);
        return c;
    }

    c->re = rc.regex;

    return c;
}


static int
ngx_http_k8s_canary_match(void *ctx, const char *s, size_t len)
{
    ngx_http_k8s_canary_copy_t *c = ctx;

    ngx_int_t  rc;
    ngx_str_t  v;

    if (c->re == NULL) {
        return -1;
    }

    v.data = (u_char *) s;
    v.len = len;

    rc = ngx_regex_exec(c->re, &v, NULL, 0);

    if (rc >= 0) {
        return 1;
    }

    return rc == NGX_REGEX_NO_MATCHED ? 0 : -1;
}


/* the first request header named name (any case) */

static ngx_table_elt_t *
ngx_http_k8s_canary_header(ngx_http_request_t *r, const char *name)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}


/*
 * k8s_status: ',"canaries":{"NS/NAME":{"state":...,"weight":...}}' for
 * the configuration's canary Ingresses (this worker's copy of each slot:
 * what its requests are routed by).
 */

void
ngx_http_k8s_canary_json(ngx_http_k8s_out_t *out)
{
    ngx_str_t                    s;
    ngx_uint_t                   i;
    ngx_http_k8s_canary_ing_t   *ing;
    ngx_http_k8s_canary_conf_t  *kcc;
    ngx_http_k8s_main_conf_t    *kmcf;
    ngx_http_k8s_canary_copy_t  *c;

    static const char  *states[] = {
        "free", "unsynced", "present", "absent"
    };

    kmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_k8s_module);

    if (kmcf == NULL || kmcf->canary == NULL || kmcf->canary->sh == NULL) {
        return;
    }

    kcc = kmcf->canary;
    ing = kcc->ings.elts;

    ngx_http_k8s_out_printf(out, ",\"canaries\":{");

    for (i = 0; i < kcc->ings.nelts; i++) {
        c = ngx_http_k8s_canary_read(kcc->sh->slot, ing[i].slot,
                                     ngx_cycle->log);
        if (c == NULL) {
            continue;
        }

        ngx_http_k8s_out_printf(out, "%s\"", i ? "," : "");
        ngx_http_k8s_out_json(out, &ing[i].key);
        ngx_http_k8s_out_printf(out, "\":{\"state\":\"%s\",\"canary\":%s,"
                                "\"weight\":%uD,\"weight_total\":%uD,",
                                states[c->state & 3],
                                c->settings.canary ? "true" : "false",
                                c->settings.weight,
                                c->settings.weight_total);

#define NGX_HTTP_K8S_CANARY_JSON(name, field, sep)                            \
        s.data = (u_char *) c->settings.field;                                \
        s.len = ngx_strlen(c->settings.field);                                \
        ngx_http_k8s_out_printf(out, "\"" name "\":\"");                       \
        ngx_http_k8s_out_json(out, &s);                                       \
        ngx_http_k8s_out_printf(out, "\"" sep);

        NGX_HTTP_K8S_CANARY_JSON("header", header, ",")
        NGX_HTTP_K8S_CANARY_JSON("header_value", header_value, ",")
        NGX_HTTP_K8S_CANARY_JSON("header_pattern", header_pattern, ",")
        NGX_HTTP_K8S_CANARY_JSON("cookie", cookie, "}")

#undef NGX_HTTP_K8S_CANARY_JSON
    }

    ngx_http_k8s_out_printf(out, "}");
}
