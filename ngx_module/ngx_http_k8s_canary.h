
/*
 * kubengx: canary routes and cookie affinity (k8s_canary, k8s_affinity).
 *
 *   ngx_http_k8s_canary.c        k8s_canary: the directive, the
 *                                "k8s_canary" shm zone of settings, the
 *                                per-request decision
 *   ngx_http_k8s_canary_watch.c  the watcher's list/watch of the canary
 *                                Ingresses, writing the settings
 *   ngx_http_k8s_affinity.c      k8s_affinity: the cookie, the endpoint
 *                                it names, the pick
 *
 * The settings of each canary Ingress the configuration names live in
 * one slot of the zone.  One writer: the watcher (worker 0 while it
 * holds the table's lease) writes a slot under a sequence counter (odd
 * while it writes); readers (every worker) compare the counter with the
 * one of their private copy per request and copy the slot again only
 * when it moved.  The master assigns slots to Ingresses when it loads a
 * configuration (the zone is kept across reloads: same name, fixed
 * size).
 */


#ifndef _NGX_HTTP_K8S_CANARY_H_INCLUDED_
#define _NGX_HTTP_K8S_CANARY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_out.h"
#include "kube_canary.h"


#define NGX_HTTP_K8S_CANARY_SLOTS     256
#define NGX_HTTP_K8S_CANARY_NAME_LEN  254     /* "ns/name" */
#define NGX_HTTP_K8S_CANARY_ZONE_SIZE (512 * 1024)

/* a slot's state */
#define NGX_HTTP_K8S_CANARY_FREE      0
#define NGX_HTTP_K8S_CANARY_UNSYNCED  1       /* not listed yet */
#define NGX_HTTP_K8S_CANARY_PRESENT   2       /* the Ingress's settings */
#define NGX_HTTP_K8S_CANARY_ABSENT    3       /* no such Ingress: off */


typedef struct {
    ngx_atomic_t                 seq;       /* odd while written */
    ngx_atomic_t                 state;
    size_t                       name_len;
    u_char                       name[NGX_HTTP_K8S_CANARY_NAME_LEN];
    kube_canary_t                settings;
} ngx_http_k8s_canary_slot_t;


typedef struct {
    ngx_http_k8s_canary_slot_t   slot[NGX_HTTP_K8S_CANARY_SLOTS];
} ngx_http_k8s_canary_sh_t;


/* a canary Ingress the configuration names (main conf, one per name) */
typedef struct {
    ngx_str_t                    ns;        /* NUL-terminated */
    ngx_str_t                    name;      /* NUL-terminated */
    ngx_str_t                    key;       /* "ns/name" */
    ngx_uint_t                   slot;
} ngx_http_k8s_canary_ing_t;


/* the canaries of a configuration (kmcf->canary) */
struct ngx_http_k8s_canary_conf_s {
    ngx_array_t                  ings;      /* ngx_http_k8s_canary_ing_t */
    ngx_shm_zone_t              *shm_zone;
    ngx_http_k8s_canary_sh_t    *sh;
};


/* k8s_canary in a location */
struct ngx_http_k8s_canary_loc_s {
    ngx_uint_t                   ing;       /* index into ings */
    ngx_http_k8s_key_t          *key;       /* the canary Service port */
};


/* k8s_affinity in a location */
struct ngx_http_k8s_affinity_s {
    ngx_str_t                    name;      /* the cookie's */
    ngx_str_t                    attrs;     /* "; Path=/; ...; HttpOnly" */
    size_t                       attrs_samesite;    /* the length of attrs
                                                       with "; SameSite=" */
    time_t                       expires;   /* 0: none */
    unsigned                     balanced:1;
    unsigned                     change_on_failure:1;
    unsigned                     legacy:1;  /* canary=legacy */
    unsigned                     samesite_none_cond:1;
};


/* ngx_http_k8s_canary.c */
char *ngx_http_k8s_canary(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_http_k8s_key_t *ngx_http_k8s_canary_route(ngx_http_request_t *r,
    ngx_http_k8s_key_t *primary);
void ngx_http_k8s_canary_write(ngx_http_k8s_canary_conf_t *kcc,
    ngx_uint_t ing, ngx_uint_t state, kube_canary_t *settings);
void ngx_http_k8s_canary_json(ngx_http_k8s_out_t *out);

/* ngx_http_k8s_canary_watch.c (the watcher's) */
struct ngx_http_k8s_watcher_s;
ngx_int_t ngx_http_k8s_canary_watch_init(struct ngx_http_k8s_watcher_s *w,
    ngx_http_k8s_main_conf_t *kmcf);
void ngx_http_k8s_canary_watch_free(struct ngx_http_k8s_watcher_s *w);

/* ngx_http_k8s_affinity.c */
char *ngx_http_k8s_affinity(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
/*
 * ngx_http_k8s_affinity.c: the value of cookie name in r's Cookie header
 * lines: NGX_OK, or NGX_DECLINED when there is none (nginx 1.23.0 keeps
 * the lines in a list and reads them with ngx_http_parse_cookie_lines())
 */
ngx_int_t ngx_http_k8s_cookie(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value);

int ngx_http_k8s_affinity_side(ngx_http_request_t *r,
    ngx_http_k8s_affinity_t *af);


#endif /* _NGX_HTTP_K8S_CANARY_H_INCLUDED_ */
