
/*
 * kubengx generator: the settings ConfigMap (ingress-nginx's global
 * ConfigMap keys) and the edge defaults.
 *
 *   settings.c         the key table, parsing and validation into
 *                      kngx_settings_t
 *   settings_values.c  the value readers (sizes, times, CIDRs, lists)
 *   settings_render.c  the settings as nginx text: http-level, per
 *                      server, per TLS server, per upstream, main config
 *
 * A key not set keeps the edge default (the safer of ingress-nginx's and
 * nginx's: TLS 1.2 and 1.3, HSTS on TLS hosts, server_tokens off, HTTP/2
 * on the TLS listeners, an access log in ingress-nginx's upstreaminfo
 * format, PROXY protocol and real IP off) or nginx's own default.  An
 * unknown key or an invalid value is a warning naming the ConfigMap and
 * the key, and only that key is left out.
 */

#ifndef KNGX_SETTINGS_H
#define KNGX_SETTINGS_H

#include "render.h"


#define KNGX_SET_UNSET       -1
#define KNGX_SET_MAX_LIST    64          /* CIDRs, patterns, codes */

/* ssl-protocols, as bits */
#define KNGX_SSL_TLS1        0x01u
#define KNGX_SSL_TLS11       0x02u
#define KNGX_SSL_TLS12       0x04u
#define KNGX_SSL_TLS13       0x08u


typedef struct {
    const char          *items[KNGX_SET_MAX_LIST];
    size_t               n;
} kngx_set_list_t;


/*
 * Sizes and times are nginx's text ("1m", "60s"), validated; NULL: not
 * set.  Flags and numbers are KNGX_SET_UNSET when not set.
 */
typedef struct kngx_settings_s {
    /* proxying (http) */
    const char          *proxy_body_size;
    const char          *proxy_connect_timeout;
    const char          *proxy_read_timeout;
    const char          *proxy_send_timeout;
    const char          *proxy_buffer_size;
    int                  proxy_buffering;
    const char          *client_body_buffer_size;
    const char          *client_header_buffer_size;
    const char          *large_client_header_buffers;  /* "4 8k" */
    const char          *keep_alive;
    int                  keep_alive_requests;
    const char          *proxy_next_upstream;   /* "error timeout ..." */
    const char          *load_balance;  /* least_conn, ewma; NULL: round
                                           robin (emit_upstream.c) */

    /* upstream blocks */
    int                  upstream_keepalive_connections;
    const char          *upstream_keepalive_timeout;
    int                  upstream_keepalive_requests;

    /* TLS servers */
    int                  hsts;
    int                  hsts_max_age;
    int                  hsts_include_subdomains;
    int                  hsts_preload;
    unsigned             ssl_protocols;         /* 0: not set */
    const char          *ssl_ciphers;
    int                  ssl_prefer_server_ciphers;
    int                  ssl_session_cache;
    const char          *ssl_session_timeout;
    int                  ssl_session_tickets;
    int                  ssl_redirect;
    int                  use_http2;
    const char          *default_ssl_certificate;   /* "NS/NAME" */

    /* client addresses */
    int                  use_forwarded_headers;
    const char          *forwarded_for_header;
    int                  compute_full_forwarded_for;
    int                  use_proxy_protocol;
    kngx_set_list_t      proxy_real_ip_cidr;
    int                  enable_real_ip;

    /* logs */
    const char          *log_format_upstream;
    int                  log_format_escape_json;
    const char          *access_log_path;
    int                  disable_access_log;
    const char          *error_log_level;       /* main config */

    /* responses */
    int                  server_tokens;
    int                  use_gzip;
    int                  gzip_level;
    const char          *gzip_types;
    int                  gzip_min_length;
    kngx_set_list_t      block_cidrs;
    kngx_set_list_t      block_user_agents;
    kngx_set_list_t      block_referers;
    int                  custom_http_errors[KNGX_SET_MAX_LIST];
    size_t               ncustom_http_errors;

    /* the main config (the controller's nginx.conf) */
    const char          *worker_processes;
    int                  max_worker_connections;
    const char          *worker_shutdown_timeout;

    int                  allow_snippet_annotations;

    /* private */
    const char          *configmap;              /* "NS/NAME" */
    kube_arena_t        *arena;
    kngx_diags_t         diags;                  /* warnings */
} kngx_settings_t;


/*
 * The settings of ConfigMap ns_name ("NS/NAME", or NULL: the defaults)
 * in model m.  A missing ConfigMap, an unknown key and an invalid value
 * are warnings in ->diags (code "settings"), the key left out.  NULL
 * only when memory runs out.
 */
kngx_settings_t *kngx_settings_build(const kngx_model_t *m,
    const char *ns_name);
void kngx_settings_free(kngx_settings_t *s);

/* the defaults (no ConfigMap), static */
const kngx_settings_t *kngx_settings_default(void);


/* settings_render.c */

/* http-level: after the maps, before the upstreams */
void kngx_settings_http(kngx_buf_t *b, const kngx_settings_t *s);
/* in every server, after server_name */
void kngx_settings_server(kngx_buf_t *b, const kngx_settings_t *s);
/* in every server that listens with ssl */
void kngx_settings_tls(kngx_buf_t *b, const kngx_settings_t *s);
/* listen parameters after "ssl" (" http2"), and after a plain listen
 * (" proxy_protocol") */
const char *kngx_settings_tls_listen(const kngx_settings_t *s);
const char *kngx_settings_listen(const kngx_settings_t *s);
/* inside an upstream block: keepalive (dflt connections unless set;
 * none: 0), keepalive_timeout, keepalive_requests */
void kngx_settings_upstream(kngx_buf_t *b, const kngx_settings_t *s,
    int dflt);

/*
 * The main config's values: those the ConfigMap sets replace the ones
 * the caller filled in m (its flags' or defaults)
 */
typedef struct {
    const char          *worker_processes;
    int                  worker_connections;
    const char          *worker_shutdown_timeout;   /* NULL: none */
    const char          *error_log_level;
} kngx_settings_main_t;

void kngx_settings_main(const kngx_settings_t *s, kngx_settings_main_t *m);

#endif /* KNGX_SETTINGS_H */
