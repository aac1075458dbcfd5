
/*
 * kubengx generator: the typed model of the loaded manifests and the route
 * plan built from it.  Shared by `kubengx render` and `kubengx lint`.
 *
 *   kngx_model_t *m = kngx_model_create("default");
 *   kngx_model_load_path(m, "dir/");      (files, dirs, "-" for stdin)
 *   kngx_model_finish(m);                 (sort, digest)
 *   if (kngx_model_nerrors(m)) ... print m->diags, exit 2
 *   kngx_plan_t *p = kngx_plan_build(m, &opts);
 *   ... p->servers, p->upstreams, p->diags (warnings)
 *   kngx_plan_free(p); kngx_model_free(m);
 *
 * Ownership: every string and array of a model lives in the model's arena
 * and is released by kngx_model_free(); a plan points into its model (the
 * model must outlive the plan) and owns the rest in its own arena.
 *
 * Strings are NULL when the field is absent unless documented otherwise.
 * "field" members are the dotted path of the object's field, e.g.
 * "spec.rules[0].http.paths[1]", for messages.
 */

#ifndef KNGX_MODEL_H
#define KNGX_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kube_arena.h"
#include "kube_endpointslice.h"


/* ---- diagnostics --------------------------------------------------------- */

typedef enum {
    KNGX_DIAG_INFO = 0,      /* -v only: skipped kinds, ignored objects */
    KNGX_DIAG_WARNING,       /* rendered anyway, something not served */
    KNGX_DIAG_ERROR          /* bad input: render exits 2, writes nothing */
} kngx_severity_e;


/* where an object came from */
typedef struct {
    const char          *file;       /* as given ("-" for stdin) */
    unsigned             doc;        /* 1-based document index in file;
                                        for a List, the document holding it */
    unsigned             item;       /* 1-based index in a List, 0 if none */
    unsigned             line;       /* 1-based line of the object, 0 if
                                        unknown */
} kngx_source_t;


typedef struct {
    kngx_severity_e      severity;
    kngx_source_t        src;        /* file NULL: not tied to input */
    unsigned             line;       /* line of the field, 0 if unknown */
    const char          *object;     /* "ns/name" ("name" if cluster-scoped)
                                        or NULL */
    const char          *field;      /* "spec.rules[0].host" or NULL */
    const char          *code;       /* short stable id, e.g. "no-service" */
    const char          *message;
} kngx_diag_t;


typedef struct {
    kngx_diag_t         *items;
    size_t               n;
    size_t               cap;
} kngx_diags_t;


/*
 * "kubengx: warning: FILE:DOC[:LINE]: OBJECT: FIELD: message\n"
 * (parts that are NULL/0 are left out).
 */
void kngx_diag_print(FILE *out, const kngx_diag_t *d);

/* those of ds whose severity is in show (KNGX_DIAGS_* bits), but none
 * with code skip (may be NULL) */
#define KNGX_DIAGS_INFO      (1u << KNGX_DIAG_INFO)
#define KNGX_DIAGS_PROBLEMS  ((1u << KNGX_DIAG_WARNING)                      \
                              | (1u << KNGX_DIAG_ERROR))
void kngx_diags_print(FILE *out, const kngx_diags_t *ds, unsigned show,
    const char *skip);


/* ---- objects ------------------------------------------------------------- */

typedef struct {
    const char          *key;
    const char          *value;      /* non-string values: JSON text */
} kngx_kv_t;


/* common metadata of every object */
typedef struct {
    kngx_source_t        src;
    const char          *api_version;   /* never NULL ("" if absent) */
    const char          *kind;          /* never NULL */
    const char          *ns;            /* never NULL: default applied;
                                           "" for cluster-scoped kinds */
    const char          *name;          /* never NULL, never "" */
    const char          *uid;
    const char          *creation_timestamp;  /* as written */
    unsigned             has_creation:1;
    int64_t              creation_ms;   /* when has_creation */
    kngx_kv_t           *labels;        /* sorted by key */
    size_t               nlabels;
    kngx_kv_t           *annotations;   /* sorted by key */
    size_t               nannotations;
} kngx_meta_t;

/* value of a label or annotation, NULL if absent */
const char *kngx_meta_label(const kngx_meta_t *meta, const char *key);
const char *kngx_meta_annotation(const kngx_meta_t *meta, const char *key);


typedef enum {
    KNGX_PATH_EXACT = 0,
    KNGX_PATH_PREFIX,
    KNGX_PATH_IMPLEMENTATION_SPECIFIC
} kngx_path_type_e;

const char *kngx_path_type_name(kngx_path_type_e t);


typedef enum {
    KNGX_BACKEND_NONE = 0,      /* absent (defaultBackend not given) */
    KNGX_BACKEND_SERVICE,
    KNGX_BACKEND_RESOURCE
} kngx_backend_kind_e;


typedef struct {
    kngx_backend_kind_e  kind;
    const char          *field;         /* "spec.rules[0]...backend" */
    unsigned             line;

    /* KNGX_BACKEND_SERVICE */
    const char          *service;       /* service.name */
    const char          *port_name;     /* service.port.name, or NULL */
    int                  port_number;   /* service.port.number, 0 if none */

    /* KNGX_BACKEND_RESOURCE */
    const char          *resource_api_group;
    const char          *resource_kind;
    const char          *resource_name;
} kngx_backend_t;


typedef struct {
    const char          *path;          /* as written; never NULL */
    kngx_path_type_e     type;
    kngx_backend_t       backend;
    const char          *field;         /* "spec.rules[0].http.paths[1]" */
    unsigned             line;
} kngx_ingress_path_t;


typedef struct {
    const char          *host;          /* as written; NULL: every host */
    kngx_ingress_path_t *paths;
    size_t               npaths;
    const char          *field;         /* "spec.rules[0]" */
    unsigned             line;
} kngx_ingress_rule_t;


typedef struct {
    const char         **hosts;         /* as written */
    size_t               nhosts;
    const char          *secret_name;   /* NULL if absent */
    const char          *field;         /* "spec.tls[0]" */
    unsigned             line;
} kngx_ingress_tls_t;


typedef struct {
    kngx_meta_t          meta;
    const char          *class_name;    /* spec.ingressClassName or NULL */
    const char          *legacy_class;  /* annotation
                                           kubernetes.io/ingress.class */
    kngx_backend_t       default_backend;   /* kind NONE if absent */
    kngx_ingress_rule_t *rules;
    size_t               nrules;
    kngx_ingress_tls_t  *tls;
    size_t               ntls;
} kngx_ingress_t;

/* annotation nginx.ingress.kubernetes.io/canary is "true" (plan_canary.c):
 * the Ingress is the canary of other Ingresses' routes */
int kngx_ingress_is_canary(const kngx_ingress_t *ing);


typedef enum {
    KNGX_SVC_CLUSTER_IP = 0,
    KNGX_SVC_NODE_PORT,
    KNGX_SVC_LOAD_BALANCER,
    KNGX_SVC_EXTERNAL_NAME
} kngx_service_type_e;


typedef struct {
    const char          *name;          /* "" if unnamed */
    const char          *protocol;      /* "TCP" if absent */
    int                  port;
    int                  target_port;   /* numeric targetPort; = port when
                                           absent; 0 when named */
    const char          *target_port_name;  /* named targetPort, or NULL */
    int                  node_port;     /* 0 if none */
} kngx_service_port_t;


typedef struct {
    kngx_meta_t          meta;
    kngx_service_type_e  type;
    const char          *type_name;     /* "ClusterIP" etc. */
    const char          *cluster_ip;    /* NULL if absent, "None" headless */
    unsigned             headless:1;    /* clusterIP None */
    const char          *external_name; /* ExternalName only */
    kngx_kv_t           *selector;      /* sorted */
    size_t               nselector;
    kngx_service_port_t *ports;
    size_t               nports;
} kngx_service_t;


typedef struct {
    kngx_meta_t          meta;          /* ns "" */
    const char          *controller;    /* spec.controller, "" if absent */
    unsigned             is_default:1;  /* is-default-class annotation
                                           is "true" */
} kngx_ingress_class_t;


typedef struct {
    kngx_meta_t          meta;
    const char          *type;          /* "" if absent */
    const char          *cert;          /* decoded tls.crt, NULL if none */
    size_t               cert_len;
    const char          *key;           /* decoded tls.key, NULL if none */
    size_t               key_len;
    const char          *ca;            /* decoded ca.crt, NULL if none */
    size_t               ca_len;
    kngx_kv_t           *data;          /* the other keys of data and
                                           stringData (stringData wins),
                                           decoded; value NULL when it
                                           holds a NUL byte (annotations/
                                           auth_basic.c reads them) */
    size_t               ndata;
} kngx_secret_t;


/*
 * es: decoded by kube/ and copied into the model's arena with only what
 * the generator reads: ns, name, service_name, address type, ports, and
 * each endpoint's addresses and ready/serving/terminating (hostname,
 * nodeName, zone, targetRef, hints and warnings are left out: NULL, 0).
 * Not for kube_endpointslice_free().
 */
typedef struct {
    kngx_meta_t            meta;
    const char            *service_name;   /* label, NULL if absent */
    kube_endpointslice_t  *es;
} kngx_slice_t;


/* ---- the model ----------------------------------------------------------- */

typedef struct {
    kube_arena_t          *arena;
    const char            *default_ns;

    /* after kngx_model_finish(): sorted by (ns, name) */
    kngx_ingress_t        *ingresses;
    size_t                 ningresses;
    kngx_service_t        *services;
    size_t                 nservices;
    kngx_ingress_class_t  *classes;      /* by name */
    size_t                 nclasses;
    kngx_secret_t         *secrets;
    size_t                 nsecrets;
    kngx_slice_t          *slices;
    size_t                 nslices;
    /* slices with a service-name label, by namespace and Service
     * (built by kngx_model_finish) */
    kngx_slice_t         **by_service;
    size_t                 nby_service;

    /* ConfigMaps, for --tcp/udp-services-configmap (stream_configmap.c) */
    struct kngx_configmap_s *configmaps;

    size_t                 nobjects;     /* objects kept (the kinds above) */
    size_t                 nskipped;     /* objects of other kinds */
    size_t                 nfiles;
    size_t                 ndocs;

    unsigned char          digest[32];   /* sha256 of the canonical form */
    char                   digest_hex[65];

    kngx_diags_t           diags;        /* load errors, warnings, infos */

    /* private */
    size_t                 caps[5];
    void                  *canon;        /* per-object canonical texts */
    size_t                 ncanon;
    size_t                 canon_cap;
    kube_arena_t          *canon_arena;  /* their bytes */
    char                  *scratch;      /* one text while it is dumped */
    size_t                 scratch_len;
    size_t                 scratch_cap;
} kngx_model_t;


/* default_ns NULL means "default".  NULL if out of memory. */
kngx_model_t *kngx_model_create(const char *default_ns);
void kngx_model_free(kngx_model_t *m);

/*
 * Load a file, a directory (recursive *.yaml, *.yml, *.json, sorted by
 * name) or "-" (stdin).  Bad input adds KNGX_DIAG_ERROR diags and goes on
 * with the next object or file.  Returns -1 only when memory runs out.
 */
int kngx_model_load_path(kngx_model_t *m, const char *path);

/* Load from memory; name is used in messages. */
int kngx_model_load_buffer(kngx_model_t *m, const char *name,
    const char *data, size_t len);

/* Sort the objects and compute the digest.  -1 on out of memory. */
int kngx_model_finish(kngx_model_t *m);

/*
 * create + load_path for each of paths + finish: the model of the
 * command-line inputs (check kngx_model_nerrors).  NULL only when memory
 * runs out.
 */
kngx_model_t *kngx_model_load_paths(const char *default_ns,
    const char *const *paths, size_t n);

size_t kngx_model_nerrors(const kngx_model_t *m);

/* lookups (after finish); NULL if absent */
const kngx_service_t *kngx_model_service(const kngx_model_t *m,
    const char *ns, const char *name);
const kngx_secret_t *kngx_model_secret(const kngx_model_t *m,
    const char *ns, const char *name);
const kngx_ingress_class_t *kngx_model_class(const kngx_model_t *m,
    const char *name);

/* the Service port a backend names (by number: port; by name: name) */
const kngx_service_port_t *kngx_service_find_port(const kngx_service_t *svc,
    const kngx_backend_t *be);


/* ---- endpoints of a Service ---------------------------------------------- */

typedef struct {
    const char          *addr;          /* "10.0.0.1", "fd00::1" (bare) */
    int                  family;        /* AF_INET, AF_INET6 */
    int                  port;
} kngx_endpoint_t;


typedef struct {
    kngx_endpoint_t     *items;         /* sorted, deduplicated */
    size_t               n;
    unsigned             nslices;       /* slices found for the Service */
    unsigned             fallback:1;    /* none ready: serving&&terminating */
} kngx_endpoints_t;


/*
 * Endpoints of svc's port sp: the union of the slices labelled with the
 * Service's name in its namespace; the slice port named like sp (or, when
 * a slice has no ports, sp's numeric targetPort); ready endpoints, or
 * serving && terminating ones when none is ready.  Arrays are allocated in
 * arena.  Returns -1 on out of memory.
 */
int kngx_service_endpoints(const kngx_model_t *m, const kngx_service_t *svc,
    const kngx_service_port_t *sp, kube_arena_t *arena,
    kngx_endpoints_t *out);

/* the same among the slice ports of protocol proto (TCP above) */
int kngx_service_endpoints_proto(const kngx_model_t *m,
    const kngx_service_t *svc, const kngx_service_port_t *sp,
    kube_proto_e proto, kube_arena_t *arena, kngx_endpoints_t *out);


/* ---- classes ------------------------------------------------------------- */

typedef struct {
    const char          *class_name;    /* --class, default "kubengx" */
    const char          *controller;    /* --controller, default
                                           "kubengx.io/ingress-controller" */
    unsigned             watch_without_class:1;
} kngx_class_opts_t;


/*
 * Whether we serve this Ingress.  why (may be NULL) gets a static reason:
 * "ingressClassName kubengx", "no class; default class", ... or why not.
 */
int kngx_ingress_is_ours(const kngx_model_t *m, const kngx_class_opts_t *o,
    const kngx_ingress_t *ing, const char **why);

/*
 * For an Ingress kngx_ingress_is_ours() refuses: the flag that would make
 * kubengx serve it ("--watch-without-class", "--class NAME",
 * "--controller NAME"), written into buf.
 */
const char *kngx_ingress_class_hint(const kngx_model_t *m,
    const kngx_ingress_t *ing, char *buf, size_t size);


struct kube_canary_s;

/* ---- the route plan ------------------------------------------------------ */

typedef enum {
    KNGX_ENDPOINTS_MODULE = 0,   /* upstream { k8s_service ns/name port=P; } */
    KNGX_ENDPOINTS_CLUSTER_IP,   /* upstream { server CLUSTERIP:PORT; } */
    KNGX_ENDPOINTS_STATIC        /* upstream { server EP:PORT; ... } */
} kngx_endpoints_mode_e;


typedef enum {
    KNGX_UPSTREAM_MODULE = 0,
    KNGX_UPSTREAM_SERVERS,       /* servers[] (endpoints or ClusterIP) */
    KNGX_UPSTREAM_EXTERNAL       /* ExternalName: one DNS name */
} kngx_upstream_kind_e;


/*
 * How --endpoints module upstreams are written (--upstreams): one block
 * per Service port, each named by proxy_pass, or the dispatch form: one
 * "upstream kubengx_dispatch { k8s_dispatch; }" (one per balancing
 * method) and "k8s_backend NS/SVC port=P;" in each location.  nginx finds
 * every proxy_pass name by a linear scan over all upstream blocks, so
 * nginx -t grows quadratically with per-Service blocks; auto switches to
 * dispatch above KNGX_DISPATCH_THRESHOLD Service-port upstreams (the
 * measurement is in emit_upstream.c).  Other endpoint modes have no
 * dispatch.
 */
typedef enum {
    KNGX_UPSTREAMS_AUTO = 0,
    KNGX_UPSTREAMS_PER_SERVICE,
    KNGX_UPSTREAMS_DISPATCH
} kngx_upstreams_mode_e;

#define KNGX_DISPATCH_THRESHOLD  2000
#define KNGX_DISPATCH_NAME       "kubengx_dispatch"

/* "per-service", "dispatch", "auto" -> *mode; -1 for anything else */
int kngx_upstreams_mode_parse(const char *s, kngx_upstreams_mode_e *mode);


typedef struct {
    const char          *addr;      /* "10.0.0.1:8080", "[fd00::1]:8080" or
                                       "db.example.com:80" (validated) */
} kngx_upstream_server_t;


typedef struct {
    const char            *name;        /* generated, injective in
                                           (ns, Service, port, variant):
                                           names.c */
    kngx_upstream_kind_e   kind;
    const kngx_service_t  *service;
    const kngx_service_port_t *port;
    const char            *module_port; /* port name, or number as text */
    const char            *variant;     /* balancing suffix of the name:
                                           "", "__lb-ewma",
                                           "__lb-hash-KEY" (names.c) */
    kngx_upstream_server_t *servers;    /* sorted; EXTERNAL: one
                                           "NAME:PORT", resolved by nginx
                                           per request */
    size_t                 nservers;
    const char            *balance;     /* NULL: round robin;
                                           "least_conn", "ewma", "hash" */
    const char            *hash_by;     /* "hash": the key (validated:
                                           $variables and [A-Za-z0-9_.:/-]) */
    unsigned               fallback:1;  /* terminating endpoints used */
    unsigned               empty:1;     /* nothing to proxy to: routes
                                           to it answer 503; not rendered */
} kngx_upstream_t;


typedef enum {
    KNGX_ACTION_PROXY = 0,          /* proxy_pass http://upstream */
    KNGX_ACTION_UNAVAILABLE,        /* return 503 */
    KNGX_ACTION_NOT_FOUND           /* return 404 */
} kngx_action_e;


/* an Ingress's parsed annotations (annotations/annotations.h) */
struct kngx_ann_s;

typedef struct {
    kngx_action_e           action;
    const kngx_upstream_t  *upstream;     /* PROXY */
    const kngx_ingress_t   *ingress;      /* NULL: --default-backend or
                                             the built-in 404 */
    const kngx_backend_t   *backend;      /* NULL with ingress NULL */
    const struct kngx_ann_s *ann;         /* the Ingress's annotations,
                                             NULL with ingress NULL */
} kngx_target_t;


typedef struct {
    const char            *path;      /* normalised: no trailing slash
                                         except "/"; validated */
    kngx_path_type_e       type;      /* EXACT, PREFIX, or
                                         IMPLEMENTATION_SPECIFIC: a regex
                                         (use-regex, rewrite-target;
                                         annotations/rewrite.c), path as
                                         written */
    kngx_target_t          target;
    const kngx_ingress_path_t *src;   /* NULL for synthesised routes */
    const kngx_ingress_t  *canary;    /* the canary Ingress of the same
                                         host and path (plan_canary.c),
                                         or NULL */
    kngx_target_t          canary_target;  /* its backend: a module
                                              upstream, or (static and
                                              cluster-ip) a servers one */
    const struct kube_canary_s *canary_static;  /* static and cluster-ip:
                                                   the settings, checked
                                                   for nginx's variables
                                                   and strings */
    const char            *affinity;  /* k8s_affinity arguments from the
                                         Ingress's affinity annotations
                                         (module mode), or NULL */
    unsigned               hostless:1;    /* from a rule without host */
    unsigned               twin:1;        /* synthesised: the Exact path
                                             without the trailing slash of
                                             an Exact "/p/", with what the
                                             spec gives "/p" (no redirect
                                             to "/p/") */
} kngx_route_t;


/* a namespace a host's owner shares the host with */
typedef struct kngx_shared_s  kngx_shared_t;

struct kngx_shared_s {
    const char            *ns;
    kngx_shared_t         *next;
};


typedef struct {
    const char            *host;      /* lowercased; NULL: catch-all */
    unsigned               wildcard:1;    /* host is "*.rest" */
    kngx_route_t          *routes;    /* sorted by (path, type) */
    size_t                 nroutes;
    unsigned               has_default:1; /* default_target valid */
    kngx_target_t          default_target;  /* when no route matches */

    unsigned               tls:1;         /* https server rendered */
    const char            *cert_name;     /* file base under certs/
                                             (names.c), or NULL */
    unsigned               redirect:1;    /* http -> https 308 */
    const char            *www_from;      /* a name redirected (308) to
                                             this host: from-to-www-
                                             redirect (annotations/www.c),
                                             or NULL */
    unsigned               external:1;    /* a route proxies to an
                                             ExternalName: needs the
                                             resolver */
    const void            *client_verify; /* client certificates asked
                                             for (annotations/
                                             auth_tls.c), or NULL */

    const char            *owner_ns;      /* namespace of the oldest
                                             Ingress routing the host */
    const kngx_ingress_t  *owner;         /* that Ingress */
    kngx_shared_t         *shared;        /* namespaces the owner shares
                                             the host with */
    const char           **aliases;       /* server-alias names that
                                             won their claim, sorted
                                             (plan_hosts.c) */
    size_t                 naliases;

    /* private */
    size_t                 aliases_cap;
    size_t                 routes_cap;
    size_t                *route_index;   /* routes by (path, type) while
                                             rules are planned */
    size_t                 route_index_size;
    size_t                 route_indexed;
    const kngx_ingress_t  *default_owner;
    const kngx_ingress_t  *tls_owner;
    const kngx_ingress_t  *routed_by;     /* last Ingress whose rule for
                                             the host was accepted */
} kngx_server_t;


typedef struct {
    const char            *name;      /* file base (names.c): [a-z0-9_.-];
                                         "ca+" and that for a CA */
    const kngx_secret_t   *secret;
    unsigned               ca:1;      /* the file holds ca.crt
                                         (proxy-ssl-secret), not the
                                         key and chain */
} kngx_cert_t;


/*
 * --host-ownership: namespace (default): the namespace of the oldest
 * Ingress that routes a host owns it; rules and tls entries for it from
 * other namespaces are refused unless the owner names them in the
 * annotation kubengx.io/host-shared-with.  merge: every namespace may add
 * routes to any host (the oldest route wins each conflict).
 */
typedef enum {
    KNGX_HOST_OWNERSHIP_NAMESPACE = 0,
    KNGX_HOST_OWNERSHIP_MERGE
} kngx_host_ownership_e;

/* "namespace", "merge" -> *mode; -1 for anything else */
int kngx_host_ownership_parse(const char *s, kngx_host_ownership_e *mode);


typedef struct {
    const char            *class_name;
    const char            *controller;
    unsigned               watch_without_class:1;
    kngx_endpoints_mode_e  endpoints;
    kngx_upstreams_mode_e  upstreams;            /* module only */
    int                    metrics_routes;       /* k8s_metrics_route also
                                                    without the module's
                                                    endpoints (the module
                                                    is loaded for metrics) */
    const char            *default_backend;      /* "NS/SVC:PORT" or NULL */
    const char            *default_certificate;  /* "NS/SECRET" or NULL */
    const char *const     *exclude;     /* "ns/name" of Ingresses to leave
                                           out, sorted (strcmp); kept by
                                           the caller for the plan's life */
    size_t                 nexclude;
    kngx_host_ownership_e  host_ownership;
    const char            *resolver;             /* "ADDR[,ADDR]" for
                                                    ExternalName; NULL:
                                                    /etc/resolv.conf */
    int                    unsupported_ignore;   /* serve Ingresses with
                                                    access-control
                                                    annotations kubengx
                                                    does not implement
                                                    (--unsupported-
                                                    annotations=ignore) */
} kngx_plan_opts_t;


typedef struct {
    kube_arena_t          *arena;
    const kngx_model_t    *model;
    kngx_plan_opts_t       opts;

    const kngx_ingress_t **ingresses;  /* the ones served, sorted oldest
                                          first */
    size_t                 ningresses;

    kngx_server_t         *servers;    /* named hosts: exact then wildcard,
                                          each sorted by name */
    size_t                 nservers;
    kngx_server_t          catch_all;  /* host NULL: hostless rules +
                                          default backend / 404 */

    kngx_upstream_t      **upstreams;  /* sorted by name */
    size_t                 nupstreams;
    size_t                 ups_cap;

    kngx_target_t          flag_default;   /* --default-backend (404
                                              without one) */

    kngx_cert_t           *certs;      /* sorted by name; includes the
                                          default certificate */
    size_t                 ncerts;
    const kngx_cert_t     *default_cert;   /* NULL: none given */

    const char            *resolver;   /* nginx's resolver arguments for
                                          ExternalName upstreams; NULL
                                          when none is used or known */

    kngx_diags_t           diags;      /* warnings */
    unsigned               failed:1;   /* an ERROR diag (bad flag value) */
    unsigned               dispatch:1; /* module upstreams in the dispatch
                                          form (opts.upstreams, or auto
                                          past the threshold) */
    size_t                 nservice_ports;  /* module upstreams (Service
                                               ports x methods) */

    /* private */
    const char            *default_cert_name;
    unsigned               resolver_read:1;
    const kngx_ingress_t  *balance_warned;  /* its annotations warned */
    const kngx_ingress_t  *affinity_ing;    /* affinity_args are its */
    const char            *affinity_args;
    void                  *anns;     /* kngx_ann_t * by model Ingress
                                        index (annotations/) */
    size_t                 servers_cap;
    size_t                 certs_cap;
    void                  *secret_info;   /* per model Secret (plan_tls.c) */
    void                  *host_index;
    size_t                 host_index_size;
    void                  *ups_index;
    size_t                 ups_index_size;
} kngx_plan_t;


/*
 * Build the route plan: select Ingresses by class, validate hosts and
 * paths, merge hosts, resolve backends and endpoints.  Values that cannot
 * be served become warnings in plan->diags; bad option values (e.g. a
 * malformed --default-backend) become errors and set plan->failed.
 * NULL only when memory runs out.
 */
kngx_plan_t *kngx_plan_build(const kngx_model_t *m,
    const kngx_plan_opts_t *o);
void kngx_plan_free(kngx_plan_t *p);


/* ---- validation (escape.c) ----------------------------------------------- */

/*
 * Host: DNS-1123 subdomain, optional "*." as the whole first label before
 * two labels or more.
 * Writes the lowercased host into out (size >= 254).  0 ok, -1 with a
 * static reason in *why.
 */
int kngx_host_check(const char *host, char *out, size_t size,
    const char **why);

/* Ingress path: starts with "/", no control chars, no {};"'\ `,
 * no whitespace, at most 1024 bytes.  0 ok, -1 with *why. */
int kngx_path_check(const char *path, const char **why);

/* DNS name for ExternalName (no wildcard).  0 ok. */
int kngx_dns_name_check(const char *name, const char **why);

#endif /* KNGX_MODEL_H */
