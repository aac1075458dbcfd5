
/*
 * kubengx generator: TCP and UDP Services and TLS passthrough, rendered
 * into a stream-context file (kubengx-stream.conf) next to the http one.
 *
 *   stream_configmap.c  ConfigMaps kept in the model; ingress-nginx's
 *                       tcp-services / udp-services entries parsed and
 *                       checked, each refused alone with a warning
 *   stream_passthrough.c  the hosts of the ssl-passthrough annotation
 *   stream_render.c     the stream text: upstreams, servers, SNI maps
 *   stream_options.c    the options after the command line (cli/),
 *                       the main-config lines that load the modules and
 *                       include the file, and the check's own lines
 *
 * Flags (render and controller):
 *   --tcp-services-configmap NS/NAME   ingress-nginx's ConfigMap format:
 *   --udp-services-configmap NS/NAME   data key = the port nginx listens
 *       on, value = "NS/SVC:PORT[:PROXY[:PROXY]]" (PORT: the Service
 *       port's number or name; the first PROXY: decode the PROXY
 *       protocol from clients, the second: send it to the backend; TCP
 *       only, ignored with a warning for UDP)
 *   --enable-ssl-passthrough           honour the annotation
 *       nginx.ingress.kubernetes.io/ssl-passthrough: "true": the https
 *       port reads SNI (ssl_preread); passthrough hosts go to their
 *       Service untouched, every other host to the https servers over a
 *       local hop with the PROXY protocol (render.c: the https servers
 *       listen there, with the client address taken from it)
 */

#ifndef KNGX_STREAM_H
#define KNGX_STREAM_H

#include <stddef.h>

#include "load.h"
#include "model.h"
#include "render.h"


#define KNGX_STREAM_CONF       "kubengx-stream.conf"
#define KNGX_STREAM_MODULE_SO  "ngx_stream_k8s_module.so"

/* the local hops of --enable-ssl-passthrough, in the hop directory */
#define KNGX_HOP_HTTPS         "kubengx-https.sock"
#define KNGX_HOP_PASSTHROUGH   "kubengx-passthrough.sock"

#define KNGX_STREAM_RESERVED   5


/* Debian's stream module (libnginx-mod-stream) */
#define KNGX_NGX_STREAM_MODULE "/usr/lib/nginx/modules/ngx_stream_module.so"


typedef struct {
    const char          *tcp_configmap;   /* "NS/NAME" or NULL */
    const char          *udp_configmap;
    int                  passthrough;     /* --enable-ssl-passthrough */
    const char          *hop_dir;         /* absolute, for the sockets */
    const char          *ngx_stream_module;   /* NULL or "": none */
    int                  reserved[KNGX_STREAM_RESERVED];  /* the http,
                                             https, health, h2c and
                                             status ports (0: none):
                                             not for ConfigMaps */
} kngx_stream_opts_t;


/* a ConfigMap of the input (any namespace), its data sorted by key */
typedef struct kngx_configmap_s  kngx_configmap_t;

struct kngx_configmap_s {
    kngx_source_t        src;
    const char          *ns;
    const char          *name;
    kngx_kv_t           *data;            /* values that are not strings:
                                             NULL */
    unsigned            *lines;           /* line of each value, 0 */
    size_t               ndata;
    kngx_configmap_t    *next;
};


/* one served entry of a tcp-services or udp-services ConfigMap */
typedef struct {
    int                         listen;     /* the data key */
    int                         udp;
    unsigned                    decode:1;   /* first PROXY */
    unsigned                    encode:1;   /* second PROXY */
    const kngx_service_t       *service;
    const kngx_service_port_t  *port;
} kngx_stream_entry_t;


/* a host of --enable-ssl-passthrough and its Service port */
typedef struct {
    const kngx_server_t        *server;
    const kngx_upstream_t      *upstream;
} kngx_passthrough_t;


typedef struct {
    kube_arena_t         *arena;
    kngx_diags_t          diags;          /* warnings */

    kngx_stream_entry_t  *entries;        /* by (udp, listen) */
    size_t                nentries;
    kngx_passthrough_t   *passthrough;    /* by host, as p->servers */
    size_t                npassthrough;

    char                 *text;           /* the stream-context file */
    size_t                len;
} kngx_stream_t;


/* whether any of the three flags is given: a stream file is written */
int kngx_stream_enabled(const kngx_stream_opts_t *so);

/*
 * The stream config of the model and plan (p was planned from m), as
 * kngx_render() writes the http one with ro.  NULL only when memory runs
 * out; bad entries and hosts become warnings in ->diags.
 */
kngx_stream_t *kngx_stream_build(const kngx_model_t *m,
    const kngx_plan_t *p, const kngx_stream_opts_t *so,
    const kngx_render_opts_t *ro);
void kngx_stream_free(kngx_stream_t *s);

/* print the warnings as render prints the plan's */
void kngx_stream_print_diags(const kngx_stream_t *s);


/* stream_configmap.c */

/* decode.c: keep a ConfigMap; 0 (also when refused: an ERROR diag), -1
 * when memory runs out */
int kngx_configmap_keep(kngx_model_t *m, const kngx_source_t *src,
    json_t *obj, kngx_lines_t *lines);
const kngx_configmap_t *kngx_configmap_find(const kngx_model_t *m,
    const char *ns_name);
/* set: the settings (proxy-real-ip-cidr: whose PROXY header is
 * believed) */
int kngx_stream_configmap(kngx_stream_t *s, const kngx_model_t *m,
    const kngx_stream_opts_t *so, const struct kngx_settings_s *set,
    const char *ns_name, int udp);

/* "NS/NAME" of a ConfigMap flag, checked; 0, or -1 with *why */
int kngx_stream_configmap_arg(const char *arg, const char **why);


/* stream_passthrough.c */
int kngx_stream_passthrough(kngx_stream_t *s, const kngx_plan_t *p,
    const kngx_stream_opts_t *so);


/* stream_options.c */

int kngx_stream_opts_finish(kngx_stream_opts_t *so, const char *default_dir,
    const char *cmd);
const char *kngx_stream_https_hop(const kngx_stream_opts_t *so, char *buf,
    size_t size);
int kngx_stream_main_lines(const kngx_stream_opts_t *so,
    const char *http_module, const char *conf, char *loads, size_t lsize,
    char *block, size_t bsize);


/* stream_render.c */
int kngx_stream_render(kngx_stream_t *s, const kngx_plan_t *p,
    const kngx_stream_opts_t *so, const kngx_render_opts_t *ro);

/* ngx_stream_k8s_module.so next to the http module path given */
int kngx_stream_module_path(const char *http_module, char *out,
    size_t size);

#endif /* KNGX_STREAM_H */
