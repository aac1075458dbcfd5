
/*
 * kubengx generator: route plan -> nginx text (render.c, emit_upstream.c),
 * output files (output.c), nginx -t (check.c).
 */

#ifndef KNGX_RENDER_H
#define KNGX_RENDER_H

#include <sys/types.h>

#include <stddef.h>

#include "model.h"


/* a growable text buffer */
typedef struct {
    char                *data;
    size_t               len;
    size_t               cap;
    int                  nomem;
} kngx_buf_t;

void kngx_buf_printf(kngx_buf_t *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* the strings up to a NULL, appended as they are */
void kngx_buf_cat(kngx_buf_t *b, ...)
#if defined(__GNUC__)
    __attribute__((sentinel))
#endif
    ;
void kngx_buf_free(kngx_buf_t *b);


typedef struct {
    const char          *version;         /* KUBENGX_VERSION */
    int                  http_port;       /* 80 */
    int                  https_port;      /* 443 */
    int                  h2c_port;        /* --h2c-port: every http server
                                             also speaks HTTP/2 without TLS
                                             (prior knowledge) there; 0:
                                             off */
    const char          *listen_address;  /* NULL: all IPv4 addresses */
    const char          *certs_dir;       /* written in ssl_certificate;
                                             absolute; NULL: "certs" */
    int                  forwarded_for_append;  /* trust the client's
                                                   X-Forwarded-For */
    const char          *https_hop;       /* --enable-ssl-passthrough: the
                                             unix socket the https servers
                                             listen on, behind the stream
                                             config (stream.h); NULL: the
                                             https port */
    const char          *settings_configmap;  /* --configmap NS/NAME */
    const struct kngx_settings_s *settings;   /* the settings ConfigMap
                                             (settings/settings.h);
                                             NULL: the edge defaults */
} kngx_render_opts_t;


/* "replace" (0) or "append" (1); -1 for anything else */
int kngx_forwarded_for_parse(const char *s);


/*
 * Render the http-context text.  Returns a malloc'd NUL-terminated string
 * (length in *len), or NULL on out of memory or when an option value
 * cannot be written safely (err says which).
 */
char *kngx_render(const kngx_plan_t *p, const kngx_render_opts_t *o,
    size_t *len, const char **err);

/*
 * render_hash.c: the server name hash the plan's exact hosts need:
 * *bucket 0 and *max_size 0 when nginx's defaults hold them; -1 when out
 * of memory.
 */
int kngx_names_hash(const kngx_plan_t *p, size_t *max_size, size_t *bucket);

/* render_listen.c: the listen addresses of the http, https and h2c
 * servers (KNGX_LISTEN_SIZE each, https KNGX_LISTEN_HTTPS_SIZE) with
 * their parameters from s; an error or NULL */
#define KNGX_LISTEN_SIZE        300
#define KNGX_LISTEN_HTTPS_SIZE  1100

const char *kngx_render_listens(const kngx_render_opts_t *o,
    const struct kngx_settings_s *s, char *http, char *https, char *h2c);

/* "PORT", "ADDR:PORT" or "[ADDR]:PORT" of --listen-address (addr NULL:
 * every IPv4 address) */
void kngx_listen_addr(const char *addr, int port, char *out, size_t size);

/* render_http.c: the http-level text before the servers */
void kngx_render_http(kngx_buf_t *b, const kngx_plan_t *p,
    const kngx_render_opts_t *o, const struct kngx_settings_s *s);

/* render_forwarded.c: whether use-forwarded-headers is believed (from
 * proxy-real-ip-cidr); its geo and maps at http level
 * ($kubengx_forwarded_proto, _host, _port) */
int kngx_render_forwarded(const struct kngx_settings_s *s);
void kngx_render_forwarded_http(kngx_buf_t *b, const kngx_render_opts_t *o,
    const struct kngx_settings_s *s);

/* render_canary.c: a route's canary (1: it wrote the proxy_pass) and
 * k8s_affinity; the split_clients of the canary weights (static modes) */
int kngx_render_canary(kngx_buf_t *b, const kngx_plan_t *p,
    const kngx_route_t *route, const char *indent);
void kngx_render_canary_splits(kngx_buf_t *b, const kngx_plan_t *p);

/* metrics_route.c: k8s_metrics_route in a location of route rt (module
 * mode, routes of an Ingress); host NULL: a rule without host */
void kngx_render_metrics_route(kngx_buf_t *b, const kngx_plan_t *p,
    const char *host, const kngx_route_t *rt, const char *indent);

/* emit_upstream.c: the upstream { } blocks (keepalive from s) */
void kngx_emit_upstreams(kngx_buf_t *b, const kngx_plan_t *p,
    const struct kngx_settings_s *s);


/* output.c: write DIR/kubengx.conf and DIR/certs/NAME.pem atomically */
int kngx_output_write(const char *dir, const char *conf, size_t len,
    const kngx_plan_t *p, char *err, size_t err_size);


/* output.c: whether p's annotations need files beside the certificates
 * (basic-auth users, client certificate CAs: annotations/) */
int kngx_render_ann_files(const kngx_plan_t *p);


/* write DIR/NAME atomically, mode 0644 (DIR made when missing) */
int kngx_output_write_file(const char *dir, const char *name,
    const char *text, size_t len, char *err, size_t err_size);


/* write only DIR/certs (mode 0700) and its .pem files (0600) */
int kngx_output_write_certs(const char *certs, const kngx_plan_t *p,
    char *err, size_t err_size);


/* check.c: nginx -t on a complete config including conf (text);
 * certs_dir: where the certificates are (may be a temp dir) */
typedef struct {
    const char          *nginx;           /* binary, "nginx" via PATH */
    const char          *module;          /* .so to load, or NULL */
    int                  allow_loopback;  /* k8s_allow_loopback_endpoints
                                             on, as the controller's
                                             nginx.conf says */
    const char          *stream_loads;    /* load_module lines of the
                                             stream modules, after the
                                             module's (stream_options.c) */
    const char          *stream_conf;     /* the stream-context text
                                             (stream.h), or NULL */
    size_t               stream_len;
} kngx_check_opts_t;

int kngx_check(const kngx_check_opts_t *o, const char *conf, size_t len,
    const kngx_plan_t *p, const char *certs_dir_in_conf, char *err,
    size_t err_size);

/* the same in steps, for a caller with an event loop */
typedef struct {
    pid_t                pid;             /* nginx -t; -1 when reaped */
    int                  fd;              /* its stdout and stderr */
    int                  exited;          /* the caller reaped it: */
    int                  status;          /* waitpid()'s status */
    size_t               got;
    char                 out[4096];
} kngx_check_run_t;

int kngx_check_start(const kngx_check_opts_t *o, const char *conf,
    size_t len, const char *tmpdir, kngx_check_run_t *run, char *err,
    size_t err_size);
/* read what the pipe has (make it O_NONBLOCK first); 1 at its end */
int kngx_check_read(kngx_check_run_t *run);
/* reap nginx -t (unless run->exited); 0 if it accepted the config */
int kngx_check_finish(kngx_check_run_t *run, char *err, size_t err_size);

int kngx_check_tmpdir(char *out, size_t size);
void kngx_check_cleanup(const char *dir);

#endif /* KNGX_RENDER_H */
