
/*
 * kubengx generator: canary Ingresses and cookie affinity annotations
 * (ingress-nginx's nginx.ingress.kubernetes.io/canary* and affinity /
 * session-cookie-* annotations), read here on their own (the general
 * annotation handling is elsewhere).
 *
 * - A canary Ingress (canary: "true") adds no route: each of its paths
 *   becomes the canary of the route with the same host, path and type
 *   (plan.c plans canary Ingresses after all others).  A path without
 *   such a route, a second canary for a route, a canary or primary that
 *   is not a Service port with endpoints (a module upstream; in static
 *   modes a servers upstream): a warning, the canary is not served.
 * - --endpoints module: the route renders "k8s_canary NS/INGRESS NS/SVC
 *   port=P;" (render_canary.c); the module reads the canary annotations
 *   (weight, header, cookie) from the Ingress itself through the
 *   Kubernetes API, so changing them needs no new config and no reload.
 *   static and cluster-ip: the settings are written into the config
 *   (kngx_plan_canary_static()); changing them changes the config.
 * - affinity: "cookie" on an Ingress: its routes render "k8s_affinity
 *   cookie ..." (module mode; a warning otherwise).  Values that cannot
 *   be written safely are left out with a warning.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_parts.h"
#include "kube_canary.h"


#define KNGX_ANN_NGINX  "nginx.ingress.kubernetes.io/"

#define KNGX_AFFINITY_ARGS_LEN  1024

/* what nginx reads as a variable name */
#define KNGX_VAR_CHARS                                                        \
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"

/* a cookie's Path as written in k8s_affinity: nothing nginx's parser or
 * a Set-Cookie header would read as syntax */
#define KNGX_COOKIE_PATH_CHARS                                                \
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-~/"


static const char *kngx_canary_get(void *ctx, const char *key);
static int kngx_plan_canary_static(kngx_plan_t *p, const kngx_ingress_t *ing,
    const kube_canary_t *c, const struct kube_canary_s **out);
static int kngx_affinity_args(kngx_plan_t *p, const kngx_ingress_t *ing,
    const char *affinity);
static int kngx_affinity_flag(const kngx_ingress_t *ing, const char *name);
static int kngx_affinity_value(kngx_plan_t *p, const kngx_ingress_t *ing,
    const char *name, const char *allowed, size_t max, const char **value);
static int kngx_affinity_append(char *buf, size_t *len, const char *s,
    const char *arg);


int
kngx_ingress_is_canary(const kngx_ingress_t *ing)
{
    const char  *v;

    v = kngx_meta_annotation(&ing->meta, KNGX_ANN_NGINX "canary");

    return v != NULL && strcmp(v, "true") == 0;
}


int
kngx_plan_canary(kngx_plan_t *p, const kngx_ingress_t *ing,
    const kngx_ingress_path_t *ip, kngx_route_t *primary, const char *host)
{
    kngx_target_t         t;
    kube_canary_t         c;
    kube_err_t            err;
    kngx_upstream_kind_e  kind;
    int                   rc;

    if (primary->canary) {
        return kngx_plan_warn(p, ing, ip->field, ip->line, "conflict",
                   "%s path %s on %s already has the canary Ingress %s/%s; "
                   "ignored", kngx_path_type_name(primary->type),
                   kngx_msg_quote(primary->path),
                   host ? host : "every host", primary->canary->meta.ns,
                   primary->canary->meta.name);
    }

    rc = kngx_plan_target(p, ing, ing->meta.ns, &ip->backend, &t);
    if (rc != 0) {
        return rc < 0 ? -1 : 0;
    }

    kind = p->opts.endpoints == KNGX_ENDPOINTS_MODULE
           ? KNGX_UPSTREAM_MODULE : KNGX_UPSTREAM_SERVERS;

    if (t.action != KNGX_ACTION_PROXY
        || t.upstream->kind != kind
        || primary->target.action != KNGX_ACTION_PROXY
        || primary->target.upstream->kind != kind)
    {
        return kngx_plan_warn(p, ing, ip->field, ip->line, "canary",
                   "the canary and its primary must both be Service "
                   "ports; the primary serves every request of %s on %s",
                   kngx_msg_quote(primary->path),
                   host ? host : "every host");
    }

    /* the module ignores invalid values the same way: say it here */

    if (kube_canary_parse(&c, kngx_canary_get, (void *) ing, &err) != 0
        && kngx_plan_warn(p, ing, "metadata.annotations", 0,
                          "bad-annotation", "%s", err.msg) != 0)
    {
        return -1;
    }

    if (kind == KNGX_UPSTREAM_SERVERS) {
        rc = kngx_plan_canary_static(p, ing, &c, &primary->canary_static);
        if (rc != 0) {
            return rc;
        }
    }

    primary->canary = ing;
    primary->canary_target = t;

    return 0;
}


/*
 * Without the module, the settings are written into the config (a
 * change reloads nginx): split_clients for the weight, "if" on $http_
 * and $cookie_ variables (render_canary.c).  What nginx's variables and
 * strings cannot carry is left out with a warning: a header name other
 * than A-Za-z0-9-_, a cookie name other than A-Za-z0-9_, a header value
 * that kngx_ngx_safe() refuses; canary-by-header-pattern always (it
 * would be a regex in the config).
 */

static int
kngx_plan_canary_static(kngx_plan_t *p, const kngx_ingress_t *ing,
    const kube_canary_t *c, const struct kube_canary_s **out)
{
    kube_canary_t  *s;
    const char     *why;

    s = kube_arena_alloc(p->arena, sizeof(kube_canary_t));
    if (s == NULL) {
        return -1;
    }

    *s = *c;
    why = NULL;

    if (s->header_pattern[0]) {
        s->header_pattern[0] = '\0';
        why = "canary-by-header-pattern needs --endpoints module";
    }

    if (s->header[0] && strspn(s->header, KNGX_VAR_CHARS "-")
                        != strlen(s->header))
    {
        s->header[0] = '\0';
        why = "canary-by-header: only A-Za-z0-9-_ without the module";
    }

    if (s->header_value[0] && !kngx_ngx_safe(s->header_value)) {
        s->header_value[0] = '\0';
        s->header[0] = '\0';
        why = "canary-by-header-value: no $, {, }, ; without the module";
    }

    if (s->cookie[0] && strspn(s->cookie, KNGX_VAR_CHARS)
                        != strlen(s->cookie))
    {
        s->cookie[0] = '\0';
        why = "canary-by-cookie: only A-Za-z0-9_ without the module";
    }

    *out = s;

    if (why == NULL) {
        return 0;
    }

    return kngx_plan_warn(p, ing, "metadata.annotations", 0,
                          "bad-annotation", "%s; ignored", why) ? -1 : 0;
}


static const char *
kngx_canary_get(void *ctx, const char *key)
{
    const kngx_ingress_t  *ing = ctx;

    return kngx_meta_annotation(&ing->meta, key);
}


/*
 * The k8s_affinity arguments of ing's routes (NULL: no affinity): those
 * of the Ingress, read (and warned about) once per Ingress, then the
 * route's path as the cookie's unless session-cookie-path says (as
 * ingress-nginx; paths are validated).
 */

int
kngx_plan_affinity(kngx_plan_t *p, const kngx_ingress_t *ing,
    const char *path, const char **args)
{
    char         buf[KNGX_AFFINITY_ARGS_LEN];
    size_t       len;
    const char  *v;

    *args = NULL;

    v = kngx_meta_annotation(&ing->meta, KNGX_ANN_NGINX "affinity");

    if (v == NULL) {
        return 0;
    }

    if (p->affinity_ing != ing) {
        p->affinity_ing = ing;
        p->affinity_args = NULL;

        if (kngx_affinity_args(p, ing, v) != 0) {
            return -1;
        }
    }

    if (p->affinity_args == NULL) {
        return 0;
    }

    if (strstr(p->affinity_args, " path=") != NULL) {
        *args = p->affinity_args;
        return 0;
    }

    len = strlen(p->affinity_args);
    memcpy(buf, p->affinity_args, len + 1);

    if (strspn(path, KNGX_COOKIE_PATH_CHARS) != strlen(path)) {
        /* a ',' (allowed in paths, not in a cookie's Path) */
        path = "/";
    }

    if (kngx_affinity_append(buf, &len, " path=", path) != 0) {
        /* not reached: paths are at most KNGX_PATH_MAX */
        return 0;
    }

    *args = kube_arena_strdup(p->arena, buf);

    return *args ? 0 : -1;
}


/* the Ingress's k8s_affinity arguments into p->affinity_args */

static int
kngx_affinity_args(kngx_plan_t *p, const kngx_ingress_t *ing,
    const char *affinity)
{
    const char  *v, *mode, *name, *cpath, *domain, *samesite, *expires,
                *max_age;
    char         buf[KNGX_AFFINITY_ARGS_LEN];
    size_t       len;

    if (strcmp(affinity, "cookie") != 0) {
        return kngx_plan_warn(p, ing, "metadata.annotations", 0,
                   "bad-annotation", KNGX_ANN_NGINX "affinity %s: only "
                   "\"cookie\" is supported; ignored",
                   kngx_msg_quote(affinity));
    }

    if (p->opts.endpoints != KNGX_ENDPOINTS_MODULE) {
        return kngx_plan_warn(p, ing, "metadata.annotations", 0,
                   "affinity", "cookie affinity needs --endpoints module; "
                   "ignored");
    }

    if (kngx_affinity_value(p, ing, "session-cookie-name",
                            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST"
                            "UVWXYZ0123456789_.-", 128, &name) != 0
        || kngx_affinity_value(p, ing, "session-cookie-path",
                               KNGX_COOKIE_PATH_CHARS, 512, &cpath) != 0
        || kngx_affinity_value(p, ing, "session-cookie-domain",
                               "abcdefghijklmnopqrstuvwxyz0123456789.-",
                               253, &domain) != 0
        || kngx_affinity_value(p, ing, "session-cookie-expires",
                               "0123456789", 9, &expires) != 0
        || kngx_affinity_value(p, ing, "session-cookie-max-age",
                               "0123456789", 9, &max_age) != 0)
    {
        return -1;
    }

    mode = kngx_meta_annotation(&ing->meta, KNGX_ANN_NGINX "affinity-mode");
    mode = (mode && strcmp(mode, "persistent") == 0) ? "persistent"
                                                      : "balanced";

    samesite = kngx_meta_annotation(&ing->meta,
                                    KNGX_ANN_NGINX "session-cookie-samesite");
    if (samesite && strcmp(samesite, "None") != 0
        && strcmp(samesite, "Lax") != 0 && strcmp(samesite, "Strict") != 0)
    {
        if (kngx_plan_warn(p, ing, "metadata.annotations", 0,
                "bad-annotation", KNGX_ANN_NGINX "session-cookie-samesite "
                "%s is not None, Lax or Strict; ignored",
                kngx_msg_quote(samesite)) != 0)
        {
            return -1;
        }

        samesite = NULL;
    }

    len = 0;
    buf[0] = '\0';

    /* every value is checked above and short: nothing is cut off */

    kngx_affinity_append(buf, &len, "cookie name=",
                         name ? name : "INGRESSCOOKIE");
    kngx_affinity_append(buf, &len, " mode=", mode);

    if (cpath) {
        kngx_affinity_append(buf, &len, " path=", cpath);
    }

    if (domain) {
        kngx_affinity_append(buf, &len, " domain=", domain);
    }

    if (samesite) {
        kngx_affinity_append(buf, &len, " samesite=", samesite);
    }

    if (kngx_affinity_flag(ing, "session-cookie-conditional-samesite-none")) {
        kngx_affinity_append(buf, &len, " conditional_samesite_none", NULL);
    }

    if (kngx_affinity_flag(ing, "session-cookie-secure")) {
        kngx_affinity_append(buf, &len, " secure", NULL);
    }

    if (kngx_affinity_flag(ing, "session-cookie-change-on-failure")) {
        kngx_affinity_append(buf, &len, " change_on_failure", NULL);
    }

    if (expires) {
        kngx_affinity_append(buf, &len, " expires=", expires);
    }

    if (max_age) {
        kngx_affinity_append(buf, &len, " max_age=", max_age);
    }

    v = kngx_meta_annotation(&ing->meta,
                             KNGX_ANN_NGINX "affinity-canary-behavior");
    if (v && strcmp(v, "legacy") == 0) {
        kngx_affinity_append(buf, &len, " canary=", "legacy");
    }

    p->affinity_args = kube_arena_strdup(p->arena, buf);

    return p->affinity_args ? 0 : -1;
}


static int
kngx_affinity_flag(const kngx_ingress_t *ing, const char *name)
{
    char         key[128];
    const char  *v;

    snprintf(key, sizeof(key), KNGX_ANN_NGINX "%s", name);

    v = kngx_meta_annotation(&ing->meta, key);

    return v != NULL && strcmp(v, "true") == 0;
}


/* an annotation's value made of allowed bytes only, else a warning */

static int
kngx_affinity_value(kngx_plan_t *p, const kngx_ingress_t *ing,
    const char *name, const char *allowed, size_t max, const char **value)
{
    char         key[128];
    const char  *v;
    size_t       len;

    snprintf(key, sizeof(key), KNGX_ANN_NGINX "%s", name);

    v = kngx_meta_annotation(&ing->meta, key);
    *value = NULL;

    if (v == NULL) {
        return 0;
    }

    len = strlen(v);

    if (len == 0 || len > max || strspn(v, allowed) != len) {
        return kngx_plan_warn(p, ing, "metadata.annotations", 0,
                   "bad-annotation", "%s %s is not a valid value; ignored",
                   key, kngx_msg_quote(v)) ? -1 : 0;
    }

    *value = v;

    return 0;
}


/* s, then arg (if any), at buf + *len; -1 when it does not fit */

static int
kngx_affinity_append(char *buf, size_t *len, const char *s, const char *arg)
{
    size_t  n, m;

    n = strlen(s);
    m = arg ? strlen(arg) : 0;

    if (*len + n + m >= KNGX_AFFINITY_ARGS_LEN) {
        return -1;
    }

    memcpy(buf + *len, s, n);
    memcpy(buf + *len + n, arg ? arg : "", m);
    *len += n + m;
    buf[*len] = '\0';

    return 0;
}
