
/*
 * kubengx generator: the settings ConfigMap's keys, one row each (the
 * value readers are in settings_values.c, what each key writes in
 * settings_render.c), and the reading of a ConfigMap into
 * kngx_settings_t.  Key names are ingress-nginx's where the meaning is
 * the same.
 */

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings_values.h"
#include "load.h"
#include "stream.h"


static const char *const  kngx_set_next_upstream_words[] = {
    "error", "timeout", "invalid_header", "http_500", "http_502",
    "http_503", "http_504", "http_403", "http_404", "http_429",
    "non_idempotent", "off", NULL
};

static const char *const  kngx_set_balance_words[] = {
    "round_robin", "least_conn", "ewma", NULL
};

static const char *const  kngx_set_log_levels[] = {
    "debug", "info", "notice", "warn", "error", "crit", "alert", "emerg",
    NULL
};

static const char *const  kngx_set_ciphers_chars[] = {
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:!+@._-",
    "letters, digits and :!+@._- (OpenSSL's cipher list)", NULL
};

static const char *const  kngx_set_header_chars[] = {
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-",
    "letters, digits and - (a header name)", NULL
};

static const char *const  kngx_set_mime_chars[] = {
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+*/- ",
    "MIME types separated by spaces", NULL
};

static const char *const  kngx_set_path_chars[] = {
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-",
    "letters, digits and ._/-", NULL
};


#define F  KNGX_SET_FIELD

static const kngx_set_key_t  kngx_set_keys[] = {
    { "access-log-path", F(access_log_path), kngx_set_chars, 1, 0,
      kngx_set_path_chars },
    { "allow-snippet-annotations", F(allow_snippet_annotations),
      kngx_set_snippets, 0, 0, NULL },
    { "block-cidrs", F(block_cidrs), kngx_set_cidrs, 0, 0, NULL },
    { "block-referers", F(block_referers), kngx_set_patterns, 0, 0, NULL },
    { "block-user-agents", F(block_user_agents), kngx_set_patterns, 0, 0,
      NULL },
    { "client-body-buffer-size", F(client_body_buffer_size), kngx_set_size,
      0, 0, NULL },
    { "client-header-buffer-size", F(client_header_buffer_size),
      kngx_set_size, 0, 0, NULL },
    { "compute-full-forwarded-for", F(compute_full_forwarded_for),
      kngx_set_bool, 0, 0, NULL },
    { "custom-http-errors", 0, kngx_set_codes, 0, 0, NULL },
    { "default-ssl-certificate", F(default_ssl_certificate),
      kngx_set_secret, 0, 0, NULL },
    { "disable-access-log", F(disable_access_log), kngx_set_bool, 0, 0,
      NULL },
    { "enable-real-ip", F(enable_real_ip), kngx_set_bool, 0, 0, NULL },
    { "error-log-level", F(error_log_level), kngx_set_words, 0, 0,
      kngx_set_log_levels },
    { "forwarded-for-header", F(forwarded_for_header), kngx_set_chars, 0, 0,
      kngx_set_header_chars },
    { "gzip-level", F(gzip_level), kngx_set_int, 1, 9, NULL },
    { "gzip-min-length", F(gzip_min_length), kngx_set_int, 0, 1 << 30,
      NULL },
    { "gzip-types", F(gzip_types), kngx_set_chars, 0, 0,
      kngx_set_mime_chars },
    { "hsts", F(hsts), kngx_set_bool, 0, 0, NULL },
    { "hsts-include-subdomains", F(hsts_include_subdomains), kngx_set_bool,
      0, 0, NULL },
    { "hsts-max-age", F(hsts_max_age), kngx_set_int, 0, 1 << 30, NULL },
    { "hsts-preload", F(hsts_preload), kngx_set_bool, 0, 0, NULL },
    { "keep-alive", F(keep_alive), kngx_set_time, 0, 0, NULL },
    { "keep-alive-requests", F(keep_alive_requests), kngx_set_int, 1,
      1 << 30, NULL },
    { "large-client-header-buffers", F(large_client_header_buffers),
      kngx_set_buffers, 0, 0, NULL },
    { "load-balance", F(load_balance), kngx_set_words, 0, 0,
      kngx_set_balance_words },
    { "log-format-escape-json", F(log_format_escape_json), kngx_set_bool, 0,
      0, NULL },
    { "log-format-upstream", F(log_format_upstream), kngx_set_log_format, 0,
      0, NULL },
    { "max-worker-connections", F(max_worker_connections), kngx_set_int,
      64, 1 << 20, NULL },
    { "proxy-body-size", F(proxy_body_size), kngx_set_size, 0, 0, NULL },
    { "proxy-buffer-size", F(proxy_buffer_size), kngx_set_size, 0, 0,
      NULL },
    { "proxy-buffering", F(proxy_buffering), kngx_set_words, 0, 0,
      NULL },
    { "proxy-connect-timeout", F(proxy_connect_timeout), kngx_set_time, 0,
      0, NULL },
    { "proxy-next-upstream", F(proxy_next_upstream), kngx_set_words, 0, 0,
      kngx_set_next_upstream_words },
    { "proxy-read-timeout", F(proxy_read_timeout), kngx_set_time, 0, 0,
      NULL },
    { "proxy-real-ip-cidr", F(proxy_real_ip_cidr), kngx_set_cidrs, 0, 0,
      NULL },
    { "proxy-send-timeout", F(proxy_send_timeout), kngx_set_time, 0, 0,
      NULL },
    { "server-tokens", F(server_tokens), kngx_set_bool, 0, 0, NULL },
    { "ssl-ciphers", F(ssl_ciphers), kngx_set_ciphers, 0, 0,
      kngx_set_ciphers_chars },
    { "ssl-prefer-server-ciphers", F(ssl_prefer_server_ciphers),
      kngx_set_bool, 0, 0, NULL },
    { "ssl-protocols", F(ssl_protocols), kngx_set_protocols, 0, 0, NULL },
    { "ssl-redirect", F(ssl_redirect), kngx_set_bool, 0, 0, NULL },
    { "ssl-session-cache", F(ssl_session_cache), kngx_set_bool, 0, 0,
      NULL },
    { "ssl-session-tickets", F(ssl_session_tickets), kngx_set_bool, 0, 0,
      NULL },
    { "ssl-session-timeout", F(ssl_session_timeout), kngx_set_time, 0, 0,
      NULL },
    { "upstream-keepalive-connections", F(upstream_keepalive_connections),
      kngx_set_int, 0, 1 << 20, NULL },
    { "upstream-keepalive-requests", F(upstream_keepalive_requests),
      kngx_set_int, 1, 1 << 30, NULL },
    { "upstream-keepalive-timeout", F(upstream_keepalive_timeout),
      kngx_set_time, 0, 0, NULL },
    { "use-forwarded-headers", F(use_forwarded_headers), kngx_set_bool, 0,
      0, NULL },
    { "use-gzip", F(use_gzip), kngx_set_bool, 0, 0, NULL },
    { "use-http2", F(use_http2), kngx_set_bool, 0, 0, NULL },
    { "use-proxy-protocol", F(use_proxy_protocol), kngx_set_bool, 0, 0,
      NULL },
    { "worker-processes", F(worker_processes), kngx_set_workers, 0, 0,
      NULL },
    { "worker-shutdown-timeout", F(worker_shutdown_timeout), kngx_set_time,
      0, 0, NULL },
};

#undef F

#define KNGX_SET_NKEYS  (sizeof(kngx_set_keys) / sizeof(kngx_set_keys[0]))


static void
kngx_settings_init(kngx_settings_t *s)
{
    memset(s, 0, sizeof(kngx_settings_t));

    s->proxy_buffering = KNGX_SET_UNSET;
    s->keep_alive_requests = KNGX_SET_UNSET;
    s->upstream_keepalive_connections = KNGX_SET_UNSET;
    s->upstream_keepalive_requests = KNGX_SET_UNSET;
    s->hsts = KNGX_SET_UNSET;
    s->hsts_max_age = KNGX_SET_UNSET;
    s->hsts_include_subdomains = KNGX_SET_UNSET;
    s->hsts_preload = KNGX_SET_UNSET;
    s->ssl_prefer_server_ciphers = KNGX_SET_UNSET;
    s->ssl_session_cache = KNGX_SET_UNSET;
    s->ssl_session_tickets = KNGX_SET_UNSET;
    s->ssl_redirect = KNGX_SET_UNSET;
    s->use_http2 = KNGX_SET_UNSET;
    s->use_forwarded_headers = KNGX_SET_UNSET;
    s->compute_full_forwarded_for = KNGX_SET_UNSET;
    s->use_proxy_protocol = KNGX_SET_UNSET;
    s->enable_real_ip = KNGX_SET_UNSET;
    s->log_format_escape_json = KNGX_SET_UNSET;
    s->disable_access_log = KNGX_SET_UNSET;
    s->server_tokens = KNGX_SET_UNSET;
    s->use_gzip = KNGX_SET_UNSET;
    s->gzip_level = KNGX_SET_UNSET;
    s->gzip_min_length = KNGX_SET_UNSET;
    s->max_worker_connections = KNGX_SET_UNSET;
    s->allow_snippet_annotations = KNGX_SET_UNSET;
}


const kngx_settings_t *
kngx_settings_default(void)
{
    static kngx_settings_t  dflt;
    static int              done;

    if (!done) {
        kngx_settings_init(&dflt);
        done = 1;
    }

    return &dflt;
}


static int
kngx_settings_warn(kngx_settings_t *s, const kngx_configmap_t *cm,
    unsigned line, const char *key, const char *why)
{
    char  field[300];

    snprintf(field, sizeof(field), "data.%s", key);

    return kngx_diag_add(&s->diags, s->arena, KNGX_DIAG_WARNING, &cm->src,
                         line, s->configmap, field, "settings", "%s", why);
}


static const kngx_set_key_t *
kngx_settings_key(const char *name)
{
    size_t  i;

    for (i = 0; i < KNGX_SET_NKEYS; i++) {
        if (strcmp(kngx_set_keys[i].name, name) == 0) {
            return &kngx_set_keys[i];
        }
    }

    return NULL;
}


/* "proxy-buffering": on or off in ingress-nginx; read as words */
static const char *const  kngx_set_on_off[] = { "on", "off", NULL };


static const char *
kngx_settings_read(kngx_settings_t *s, const kngx_set_key_t *k,
    const char *value, char *buf, size_t size)
{
    kngx_set_key_t   row;
    const char      *why, *word = NULL;

    if (value == NULL) {
        return "is not a string";
    }

    if (k->offset == KNGX_SET_FIELD(proxy_buffering)) {
        row = *k;
        row.choices = kngx_set_on_off;
        why = kngx_set_words(&row, value, &word, s, buf, size);
        if (why == NULL) {
            s->proxy_buffering = strcmp(word, "on") == 0;
        }
        return why;
    }

    why = k->read(k, value, (char *) s + k->offset, s, buf, size);

    /* load-balance: one method; round robin is nginx's own */

    if (why == NULL && k->offset == KNGX_SET_FIELD(load_balance)) {
        if (strchr(s->load_balance, ' ')) {
            s->load_balance = NULL;
            return "is not one of round_robin, least_conn, ewma";
        }

        if (strcmp(s->load_balance, "round_robin") == 0) {
            s->load_balance = NULL;
        }
    }

    return why;
}


kngx_settings_t *
kngx_settings_build(const kngx_model_t *m, const char *ns_name)
{
    kngx_settings_t          *s;
    const kngx_configmap_t   *cm;
    const kngx_set_key_t     *k;
    kngx_source_t             none;
    const char               *why;
    char                      buf[512];
    size_t                    i;

    s = calloc(1, sizeof(kngx_settings_t));
    if (s == NULL) {
        return NULL;
    }

    kngx_settings_init(s);

    s->arena = kube_arena_create(NULL, 4096);
    if (s->arena == NULL) {
        free(s);
        return NULL;
    }

    if (ns_name == NULL) {
        return s;
    }

    s->configmap = kube_arena_strdup(s->arena, ns_name);

    cm = kngx_configmap_find(m, ns_name);
    if (cm == NULL) {
        memset(&none, 0, sizeof(none));
        if (kngx_diag_add(&s->diags, s->arena, KNGX_DIAG_WARNING, &none, 0,
                          s->configmap, NULL, "settings", "the settings "
                          "ConfigMap %s is not there: the defaults apply",
                          s->configmap) != 0)
        {
            goto nomem;
        }
        return s;
    }

    for (i = 0; i < cm->ndata; i++) {
        k = kngx_settings_key(cm->data[i].key);

        why = k ? kngx_settings_read(s, k, cm->data[i].value, buf,
                                     sizeof(buf))
                : "is not a key kubengx knows (left out)";

        if (why && kngx_settings_warn(s, cm, cm->lines[i], cm->data[i].key,
                                      why) != 0)
        {
            goto nomem;
        }
    }

    /* combinations */

    if ((s->use_forwarded_headers == 1 || s->enable_real_ip == 1
         || s->use_proxy_protocol == 1)
        && s->proxy_real_ip_cidr.n == 0
        && kngx_settings_warn(s, cm, 0, "proxy-real-ip-cidr", "is not set: "
                              "no client address from a header or the "
                              "PROXY protocol is trusted ($remote_addr "
                              "stays the peer's)") != 0)
    {
        goto nomem;
    }

    return s;

nomem:

    kngx_settings_free(s);
    return NULL;
}


void
kngx_settings_free(kngx_settings_t *s)
{
    if (s == NULL) {
        return;
    }

    kngx_diags_free(&s->diags);
    kube_arena_destroy(s->arena);
    free(s);
}
