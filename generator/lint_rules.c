
/*
 * kubengx lint: the rules.  Each rule walks the finished model and adds
 * findings; none changes the model.  Severity: error when the input is
 * wrong on its face (a backend names what does not exist, a value render
 * refuses, a broken TLS Secret); warning when it may be deliberate or
 * depends on objects outside the input (IngressClasses, Secrets and
 * EndpointSlices often live only in the cluster).
 */

#define _GNU_SOURCE                  /* memmem */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "escape.h"
#include "lint.h"
#include "annotations/annotations.h"


#define KNGX_ADD(args)  if (kngx_lint_add args != 0) return -1


/* ---- classes ------------------------------------------------------------- */

static int
kngx_any_default_class(const kngx_model_t *m)
{
    size_t  i;

    for (i = 0; i < m->nclasses; i++) {
        if (m->classes[i].is_default) {
            return 1;
        }
    }

    return 0;
}


static int
kngx_rule_class(kngx_lint_t *l, const kngx_model_t *m,
    const kngx_lint_opts_t *o, const kngx_ingress_t *ing)
{
    const char                  *cls, *field;
    const kngx_ingress_class_t  *ic;
    char                         hint[300];

    if (kngx_ingress_is_ours(m, &o->class, ing, NULL)) {
        return 0;
    }

    if (ing->class_name) {
        cls = ing->class_name;
        field = "spec.ingressClassName";

    } else if (ing->legacy_class) {
        cls = ing->legacy_class;
        field = "metadata.annotations[kubernetes.io/ingress.class]";

    } else {
        cls = NULL;
        field = NULL;
    }

    if (cls) {
        ic = kngx_model_class(m, cls);
        if (ic) {
            /* another controller's class, declared: not our business */
            return 0;
        }

        KNGX_ADD((l, KNGX_DIAG_WARNING, &ing->meta, "no-controller", field,
                  "class %s: no IngressClass of that name in the input, "
                  "and kubengx serves class %s: unless the cluster has "
                  "such a class, no controller serves this Ingress and it "
                  "does nothing (%s would make kubengx serve it)",
                  kngx_msg_quote(cls), kngx_msg_quote(o->class.class_name),
                  kngx_ingress_class_hint(m, ing, hint, sizeof(hint))));
        return 0;
    }

    if (kngx_any_default_class(m)) {
        /* the default class (another controller's) takes it */
        return 0;
    }

    KNGX_ADD((l, KNGX_DIAG_WARNING, &ing->meta, "no-controller", NULL,
              "no spec.ingressClassName and no default IngressClass: no "
              "controller serves this Ingress and it does nothing (set "
              "ingressClassName: %s, or run kubengx with "
              "--watch-without-class)", o->class.class_name));
    return 0;
}


/* ---- backends ------------------------------------------------------------ */

static int
kngx_port_list(const kngx_service_t *svc, char *buf, size_t size)
{
    size_t  i, n = 0;
    int     w;

    buf[0] = '\0';

    for (i = 0; i < svc->nports && n < size; i++) {
        if (svc->ports[i].name[0]) {
            w = snprintf(buf + n, size - n, "%s%d (%s)", i ? ", " : "",
                         svc->ports[i].port, svc->ports[i].name);
        } else {
            w = snprintf(buf + n, size - n, "%s%d", i ? ", " : "",
                         svc->ports[i].port);
        }

        if (w < 0) {
            break;
        }

        n += (size_t) w;
    }

    if (svc->nports == 0) {
        snprintf(buf, size, "none");
    }

    return 0;
}


static int
kngx_rule_endpoints(kngx_lint_t *l, const kngx_model_t *m,
    const kngx_service_t *svc, const kngx_service_port_t *sp)
{
    kngx_endpoints_t  eps;
    char              pname[80];

    if (m->nslices == 0 || svc->type == KNGX_SVC_EXTERNAL_NAME) {
        return 0;
    }

    if (kngx_service_endpoints(m, svc, sp, l->arena, &eps) != 0) {
        return -1;
    }

    if (sp->name[0]) {
        snprintf(pname, sizeof(pname), "port %d (%s)", sp->port, sp->name);
    } else {
        snprintf(pname, sizeof(pname), "port %d", sp->port);
    }

    if (eps.nslices == 0) {
        KNGX_ADD((l, KNGX_DIAG_WARNING, &svc->meta, "no-endpoints", NULL,
                  "an Ingress routes to %s, but no EndpointSlice labelled "
                  "kubernetes.io/service-name=%s is in the input: no "
                  "endpoints, requests get 503", pname,
                  kngx_msg_quote(svc->meta.name)));
        return 0;
    }

    if (eps.n == 0) {
        KNGX_ADD((l, KNGX_DIAG_WARNING, &svc->meta, "no-endpoints", NULL,
                  "an Ingress routes to %s, but its %u EndpointSlice%s "
                  "hold no ready endpoint for it: requests get 503", pname,
                  eps.nslices, eps.nslices == 1 ? "" : "s"));
        return 0;
    }

    if (eps.fallback) {
        KNGX_ADD((l, KNGX_DIAG_WARNING, &svc->meta,
                  "terminating-endpoints", NULL,
                  "%s has no ready endpoint; only %zu serving but "
                  "terminating one%s will be used", pname, eps.n,
                  eps.n == 1 ? "" : "s"));
    }

    return 0;
}


static int
kngx_rule_backend(kngx_lint_t *l, const kngx_model_t *m,
    const kngx_ingress_t *ing, const kngx_backend_t *be)
{
    const kngx_service_t       *svc;
    const kngx_service_port_t  *sp;
    char                        ports[256], want[96];
    size_t                      i;

    if (be->kind == KNGX_BACKEND_NONE) {
        return 0;
    }

    if (be->kind == KNGX_BACKEND_RESOURCE) {
        KNGX_ADD((l, KNGX_DIAG_WARNING, &ing->meta, "resource-backend",
                  be->field,
                  "resource backend %s %s: kubengx serves only Service "
                  "backends; this is not served",
                  kngx_msg_quote(be->resource_kind ? be->resource_kind
                                                   : ""),
                  kngx_msg_quote(be->resource_name ? be->resource_name
                                                   : "")));
        return 0;
    }

    if (!kngx_dns_label_ok(be->service, strlen(be->service))) {
        KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "bad-name", be->field,
                  "service name %s is not a valid Service name (a DNS "
                  "label: lowercase letters, digits, '-'): requests get "
                  "503", kngx_msg_quote(be->service)));
        return 0;
    }

    if (!kngx_dns_label_ok(ing->meta.ns, strlen(ing->meta.ns))) {
        KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "bad-name", be->field,
                  "namespace %s is not a valid name: requests get 503",
                  kngx_msg_quote(ing->meta.ns)));
        return 0;
    }

    svc = kngx_model_service(m, ing->meta.ns, be->service);
    if (svc == NULL) {
        snprintf(want, sizeof(want), "%s/%s", ing->meta.ns, be->service);
        KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "no-service", be->field,
                  "Service %s does not exist in the input (a backend "
                  "Service must be in the Ingress's namespace): requests "
                  "get 503", kngx_msg_quote(want)));
        return 0;
    }

    sp = kngx_service_find_port(svc, be);

    if (sp == NULL && svc->type == KNGX_SVC_EXTERNAL_NAME
        && be->port_name == NULL)
    {
        /* an ExternalName needs no ports: the number is used as is */
        return 0;
    }

    if (sp == NULL) {
        kngx_port_list(svc, ports, sizeof(ports));

        if (be->port_name) {
            snprintf(want, sizeof(want), "named %s",
                     kngx_msg_quote(be->port_name));
        } else {
            snprintf(want, sizeof(want), "%d", be->port_number);
        }

        /* the classic: the Ingress names the targetPort */
        for (i = 0; be->port_name == NULL && i < svc->nports; i++) {
            if (svc->ports[i].target_port == be->port_number) {
                KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "no-port",
                          be->field,
                          "Service %s/%s has no port %s (ports: %s); %d "
                          "is the targetPort of port %d: an Ingress names "
                          "the Service port, not the container port",
                          svc->meta.ns, svc->meta.name, want, ports,
                          be->port_number, svc->ports[i].port));
                return 0;
            }
        }

        KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "no-port", be->field,
                  "Service %s/%s has no port %s (ports: %s): requests get "
                  "503", svc->meta.ns, svc->meta.name, want, ports));
        return 0;
    }

    if (sp->name[0] && !kngx_dns_label_ok(sp->name, strlen(sp->name))) {
        KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "bad-name", be->field,
                  "Service %s/%s port name %s is not valid: requests get "
                  "503", svc->meta.ns, svc->meta.name,
                  kngx_msg_quote(sp->name)));
        return 0;
    }

    return kngx_rule_endpoints(l, m, svc, sp);
}


/* ---- hosts, paths, TLS --------------------------------------------------- */

static int
kngx_rule_paths(kngx_lint_t *l, const kngx_model_t *m,
    const kngx_ingress_t *ing)
{
    const kngx_ingress_rule_t  *r;
    const kngx_ingress_path_t  *p;
    const char                 *why;
    char                        host[256];
    size_t                      i, k;
    unsigned                    groups;
    int                         regex = kngx_ann_wants_regex(ing);

    for (i = 0; i < ing->nrules; i++) {
        r = &ing->rules[i];

        if (r->host && r->host[0]
            && kngx_host_check(r->host, host, sizeof(host), &why) != 0)
        {
            KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "bad-host", r->field,
                      "host %s %s: kubengx render refuses the rule",
                      kngx_msg_quote(r->host), why));
        }

        for (k = 0; k < r->npaths; k++) {
            p = &r->paths[k];

            if (regex && p->type != KNGX_PATH_EXACT) {
                /* use-regex, rewrite-target (annotations/rewrite.c) */
                if (kngx_ann_regex_check(p->path, &groups, &why) != 0) {
                    KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "bad-path",
                              p->field, "regex path %s %s: kubengx render "
                              "refuses it", kngx_msg_quote(p->path), why));
                }

            } else if (kngx_path_check(p->path, &why) != 0) {
                KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "bad-path",
                          p->field, "path %s %s: kubengx render refuses "
                          "it", kngx_msg_quote(p->path), why));
            }

            if (p->type == KNGX_PATH_IMPLEMENTATION_SPECIFIC && !regex) {
                KNGX_ADD((l, KNGX_DIAG_WARNING, &ing->meta,
                          "implementation-specific", p->field,
                          "path %s is ImplementationSpecific: its meaning "
                          "depends on the controller (kubengx and "
                          "ingress-nginx: Prefix; others: regex or exact); "
                          "say Prefix or Exact", kngx_msg_quote(p->path)));
            }

            if (kngx_rule_backend(l, m, ing, &p->backend) != 0) {
                return -1;
            }
        }
    }

    return kngx_rule_backend(l, m, ing, &ing->default_backend);
}


static int
kngx_rule_tls(kngx_lint_t *l, const kngx_model_t *m,
    const kngx_ingress_t *ing)
{
    const kngx_ingress_tls_t  *t;
    const kngx_secret_t       *s;
    const char                *why;
    char                       host[256], reason[512];
    size_t                     i, k;

    for (i = 0; i < ing->ntls; i++) {
        t = &ing->tls[i];

        for (k = 0; k < t->nhosts; k++) {
            if (kngx_host_check(t->hosts[k], host, sizeof(host), &why)
                != 0)
            {
                KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "bad-host",
                          t->field, "TLS host %s %s",
                          kngx_msg_quote(t->hosts[k]), why));
            }
        }

        if (t->secret_name == NULL) {
            continue;
        }

        s = kngx_model_secret(m, ing->meta.ns, t->secret_name);
        if (s == NULL) {
            snprintf(host, sizeof(host), "%s/%s", ing->meta.ns,
                     t->secret_name);
            KNGX_ADD((l, KNGX_DIAG_WARNING, &ing->meta, "no-secret",
                      t->field, "TLS Secret %s is not in the input: "
                      "unless it exists in the cluster, the default "
                      "certificate is served for these hosts",
                      kngx_msg_quote(host)));
            continue;
        }

        if (strcmp(s->type, "kubernetes.io/tls") != 0) {
            KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "bad-secret",
                      t->field, "TLS Secret %s/%s has type %s, not "
                      "kubernetes.io/tls", s->meta.ns, s->meta.name,
                      kngx_msg_quote(s->type[0] ? s->type : "Opaque")));
            continue;
        }

        if (s->cert == NULL || s->key == NULL || s->cert_len == 0
            || s->key_len == 0)
        {
            KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "bad-secret",
                      t->field, "TLS Secret %s/%s lacks %s", s->meta.ns,
                      s->meta.name,
                      (s->cert == NULL || s->cert_len == 0) ? "tls.crt"
                                                            : "tls.key"));
            continue;
        }

        if (memmem(s->cert, s->cert_len, "-----BEGIN CERTIFICATE-----", 27)
            == NULL
            || memmem(s->key, s->key_len, "PRIVATE KEY-----", 16) == NULL)
        {
            KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "bad-secret",
                      t->field, "TLS Secret %s/%s: tls.crt or tls.key is "
                      "not PEM", s->meta.ns, s->meta.name));
            continue;
        }

        if (kngx_tls_check(s->cert, s->cert_len, s->key, s->key_len, reason,
                           sizeof(reason)) != 0)
        {
            KNGX_ADD((l, KNGX_DIAG_ERROR, &ing->meta, "bad-secret",
                      t->field, "TLS Secret %s/%s: %s; nginx would refuse "
                      "the whole config, so kubengx render leaves it out",
                      s->meta.ns, s->meta.name, reason));
        }
    }

    return 0;
}


/* ---- conflicts ----------------------------------------------------------- */

typedef struct {
    const char              *cls;       /* class key */
    char                    *host;      /* lowercased, "" for none */
    char                    *path;      /* trailing slash dropped */
    int                      type;      /* EXACT or PREFIX */
    const kngx_ingress_t    *ing;
    const kngx_ingress_path_t *p;
} kngx_route_key_t;


/* oldest first: creationTimestamp (absent: newest), then ns/name */
static int
kngx_ing_age_cmp(const kngx_ingress_t *a, const kngx_ingress_t *b)
{
    int  rc;

    if (a->meta.has_creation != b->meta.has_creation) {
        return a->meta.has_creation ? -1 : 1;
    }

    if (a->meta.has_creation && a->meta.creation_ms != b->meta.creation_ms) {
        return a->meta.creation_ms < b->meta.creation_ms ? -1 : 1;
    }

    rc = strcmp(a->meta.ns, b->meta.ns);
    if (rc) {
        return rc;
    }

    return strcmp(a->meta.name, b->meta.name);
}


static int
kngx_route_key_same(const kngx_route_key_t *a, const kngx_route_key_t *b)
{
    return strcmp(a->cls, b->cls) == 0 && strcmp(a->host, b->host) == 0
           && strcmp(a->path, b->path) == 0 && a->type == b->type;
}


static int
kngx_route_key_cmp(const void *x, const void *y)
{
    const kngx_route_key_t  *a = x, *b = y;
    int                      rc;

    rc = strcmp(a->cls, b->cls);
    if (rc) {
        return rc;
    }

    rc = strcmp(a->host, b->host);
    if (rc) {
        return rc;
    }

    rc = strcmp(a->path, b->path);
    if (rc) {
        return rc;
    }

    if (a->type != b->type) {
        return a->type < b->type ? -1 : 1;
    }

    rc = kngx_ing_age_cmp(a->ing, b->ing);
    if (rc) {
        return rc;
    }

    /* one Ingress repeating a path: keep source order */
    return a->p < b->p ? -1 : (a->p > b->p);
}


static int
kngx_rule_conflicts(kngx_lint_t *l, const kngx_model_t *m,
    const kngx_lint_opts_t *o)
{
    kngx_route_key_t           *keys;
    const kngx_ingress_t       *ing;
    const kngx_ingress_rule_t  *r;
    const char                 *why;
    char                        host[256], *s;
    size_t                      n = 0, cap = 0, i, j, k, len;
    int                         rc = -1;

    for (i = 0; i < m->ningresses; i++) {
        for (j = 0; j < m->ingresses[i].nrules; j++) {
            cap += m->ingresses[i].rules[j].npaths;
        }
    }

    if (cap == 0) {
        return 0;
    }

    keys = calloc(cap, sizeof(kngx_route_key_t));
    if (keys == NULL) {
        return -1;
    }

    for (i = 0; i < m->ningresses; i++) {
        ing = &m->ingresses[i];

        for (j = 0; j < ing->nrules; j++) {
            r = &ing->rules[j];

            if (r->host && r->host[0]) {
                if (kngx_host_check(r->host, host, sizeof(host), &why)
                    != 0)
                {
                    continue;
                }

            } else {
                host[0] = '\0';
            }

            for (k = 0; k < r->npaths; k++) {
                if (kngx_path_check(r->paths[k].path, &why) != 0) {
                    continue;
                }

                keys[n].cls = kngx_ingress_is_ours(m, &o->class, ing, NULL)
                              ? "\001ours"
                              : ing->class_name ? ing->class_name
                              : ing->legacy_class ? ing->legacy_class : "";
                keys[n].host = kube_arena_strdup(l->arena, host);
                s = kube_arena_strdup(l->arena, r->paths[k].path);
                if (keys[n].host == NULL || s == NULL) {
                    goto done;
                }

                len = strlen(s);
                while (len > 1 && s[len - 1] == '/') {
                    s[--len] = '\0';
                }

                keys[n].path = s;
                keys[n].type = r->paths[k].type == KNGX_PATH_EXACT
                               ? KNGX_PATH_EXACT : KNGX_PATH_PREFIX;
                keys[n].ing = ing;
                keys[n].p = &r->paths[k];
                n++;
            }
        }
    }

    if (n > 1) {
        qsort(keys, n, sizeof(kngx_route_key_t), kngx_route_key_cmp);
    }

    for (i = 0; i < n; i = j) {
        for (j = i + 1; j < n && kngx_route_key_same(&keys[i], &keys[j]);
             j++)
        {
            if (keys[j].ing == keys[i].ing) {
                if (kngx_lint_add(l, KNGX_DIAG_WARNING, &keys[j].ing->meta,
                        "conflict", keys[j].p->field,
                        "host %s path %s (%s) is routed twice in this "
                        "Ingress; the first one wins",
                        keys[j].host[0] ? kngx_msg_quote(keys[j].host)
                                        : "(any)",
                        kngx_msg_quote(keys[j].path),
                        kngx_path_type_name(keys[j].type)) != 0)
                {
                    goto done;
                }

                continue;
            }

            if (kngx_lint_add(l, KNGX_DIAG_WARNING, &keys[j].ing->meta,
                    "conflict", keys[j].p->field,
                    "host %s path %s (%s) is also routed by the older "
                    "Ingress %s/%s, which wins: this route is ignored",
                    keys[j].host[0] ? kngx_msg_quote(keys[j].host)
                                    : "(any)",
                    kngx_msg_quote(keys[j].path),
                    kngx_path_type_name(keys[j].type),
                    keys[i].ing->meta.ns, keys[i].ing->meta.name) != 0)
            {
                goto done;
            }
        }
    }

    rc = 0;

done:

    free(keys);
    return rc;
}


/* ---- Services ------------------------------------------------------------ */

static int
kngx_port_is_http(const kngx_service_port_t *sp, const char *app_protocol)
{
    static const char  *protos[] = {
        "http", "https", "kubernetes.io/h2c", "kubernetes.io/ws",
        "kubernetes.io/wss", NULL
    };
    size_t              i;

    if (sp->protocol && strcmp(sp->protocol, "TCP") != 0) {
        return 0;
    }

    if (app_protocol) {
        for (i = 0; protos[i]; i++) {
            if (strcasecmp(app_protocol, protos[i]) == 0) {
                return 1;
            }
        }
    }

    return sp->port == 80 || sp->port == 443 || sp->port == 8080
           || sp->port == 8443;
}


/*
 * model.h keeps no appProtocol for Service ports; the EndpointSlice ports
 * carry it (the control plane copies it there).
 */
static const char *
kngx_app_protocol(const kngx_model_t *m, const kngx_service_t *svc,
    const kngx_service_port_t *sp)
{
    const kngx_slice_t  *sl;
    size_t               i, k;

    for (i = 0; i < m->nslices; i++) {
        sl = &m->slices[i];

        if (sl->service_name == NULL
            || strcmp(sl->meta.ns, svc->meta.ns) != 0
            || strcmp(sl->service_name, svc->meta.name) != 0)
        {
            continue;
        }

        for (k = 0; k < sl->es->nports; k++) {
            if (strcmp(sl->es->ports[k].name, sp->name) == 0
                && sl->es->ports[k].app_protocol)
            {
                return sl->es->ports[k].app_protocol;
            }
        }
    }

    return NULL;
}


static int
kngx_rule_services(kngx_lint_t *l, const kngx_model_t *m)
{
    const kngx_service_t  *svc;
    char                   list[512], ports[256];
    size_t                 i, k, nlb = 0, len = 0;
    int                    w;
    unsigned char         *http_lb;

    http_lb = calloc(m->nservices ? m->nservices : 1, 1);
    if (http_lb == NULL) {
        return -1;
    }

    list[0] = '\0';

    for (i = 0; i < m->nservices; i++) {
        svc = &m->services[i];

        if (svc->type == KNGX_SVC_NODE_PORT) {
            kngx_port_list(svc, ports, sizeof(ports));
            if (kngx_lint_add(l, KNGX_DIAG_WARNING, &svc->meta, "node-port",
                    "spec.type",
                    "NodePort Service: its ports (%s) are open on every "
                    "node of the cluster; expose HTTP through an Ingress "
                    "and keep the Service ClusterIP", ports) != 0)
            {
                free(http_lb);
                return -1;
            }
        }

        if (svc->type != KNGX_SVC_LOAD_BALANCER) {
            continue;
        }

        for (k = 0; k < svc->nports; k++) {
            if (kngx_port_is_http(&svc->ports[k],
                                  kngx_app_protocol(m, svc, &svc->ports[k])))
            {
                http_lb[i] = 1;
                break;
            }
        }

        if (!http_lb[i]) {
            continue;
        }

        nlb++;

        if (len < sizeof(list) - 1) {
            w = snprintf(list + len, sizeof(list) - len, "%s%s/%s",
                         len ? ", " : "", svc->meta.ns, svc->meta.name);
            if (w > 0) {
                len += (size_t) w;
                if (len >= sizeof(list)) {
                    len = sizeof(list) - 1;
                    memcpy(list + len - 3, "...", 3);
                }
            }
        }
    }

    for (i = 0; nlb > 1 && i < m->nservices; i++) {
        if (!http_lb[i]) {
            continue;
        }

        if (kngx_lint_add(l, KNGX_DIAG_WARNING, &m->services[i].meta,
                "many-load-balancers", "spec.type",
                "one of %zu LoadBalancer Services exposing HTTP (%s): each "
                "gets its own cloud load balancer; one Ingress could route "
                "them all behind one", nlb, list) != 0)
        {
            free(http_lb);
            return -1;
        }
    }

    free(http_lb);
    return 0;
}


/* ---- loader warnings ----------------------------------------------------- */

static int
kngx_rule_loader(kngx_lint_t *l, const kngx_model_t *m,
    const kngx_lint_opts_t *o)
{
    kngx_severity_e     sev;
    const kngx_diag_t  *d;
    kngx_finding_t     *f;
    size_t              i;

    for (i = 0; i < m->diags.n; i++) {
        d = &m->diags.items[i];

        if (d->severity != KNGX_DIAG_WARNING) {
            continue;
        }

        /* --strict: an unknown field is an error */
        sev = o->strict && d->code && strcmp(d->code, "unknown-field") == 0
              ? KNGX_DIAG_ERROR : KNGX_DIAG_WARNING;

        KNGX_ADD((l, sev, NULL, d->code, d->field, "%s%s%s",
                  d->object ? d->object : "", d->object ? ": " : "",
                  d->message));

        f = &l->items[l->n - 1];
        f->src = d->src;
    }

    return 0;
}


/* ---- all rules ----------------------------------------------------------- */

int
kngx_lint_run(kngx_lint_t *l, const kngx_model_t *m,
    const kngx_lint_opts_t *o)
{
    const kngx_ingress_t  *ing;
    size_t                 i;

    if (kngx_rule_loader(l, m, o) != 0) {
        return -1;
    }

    for (i = 0; i < m->ningresses; i++) {
        ing = &m->ingresses[i];

        if (kngx_rule_class(l, m, o, ing) != 0
            || kngx_rule_paths(l, m, ing) != 0
            || kngx_rule_tls(l, m, ing) != 0)
        {
            return -1;
        }
    }

    if (kngx_rule_conflicts(l, m, o) != 0
        || kngx_rule_services(l, m) != 0
        || kngx_lint_rule_plan(l, m, o) != 0)
    {
        return -1;
    }

    return 0;
}
