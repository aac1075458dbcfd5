
/*
 * kubengx generator: the settings as nginx text.
 *
 * Where each goes, so that an Ingress's own (location-level) directives
 * override them by nginx's inheritance, and so that the rendered file
 * can be included in a stock nginx.conf (Debian's sets ssl_protocols,
 * ssl_prefer_server_ciphers and gzip in http { }: a second one at the
 * same level would be refused as a duplicate):
 *
 *   http level (kngx_settings_http): server_tokens, the access log and
 *       its format, real IP, client and proxy buffers and timeouts,
 *       keepalive, proxy_next_upstream, gzip (only when use-gzip is
 *       set), block-cidrs (deny) and the maps of block-user-agents and
 *       block-referers;
 *   each server (kngx_settings_server): the 403 of a blocked user agent
 *       or referer, custom-http-errors (their named locations, to
 *       --default-backend: annotations/errors.c);
 *   each TLS server (kngx_settings_tls): ssl_protocols (TLSv1.2 TLSv1.3
 *       unless set), ciphers, session cache, tickets and timeout, and
 *       Strict-Transport-Security (its value a map of $https at http
 *       level, empty on http: a server may listen on both; the map is
 *       written with hsts off too, empty, since a location that writes
 *       its own add_header inherits none and writes this one itself,
 *       annotations.h's KNGX_ANN_HSTS);
 *   listen parameters: http2 on the TLS listeners, proxy_protocol with
 *       use-proxy-protocol;
 *   upstream blocks: keepalive, keepalive_timeout, keepalive_requests;
 *   the main config (kngx_settings_main: the controller's nginx.conf):
 *       worker_processes, worker_connections, worker_shutdown_timeout,
 *       the error_log level.
 */

#include <stdio.h>
#include <string.h>

#include "settings.h"


/* ingress-nginx's log-format-upstream (its $proxy_upstream_name is
 * nginx's $proxy_host here, its $req_id $request_id; no canary, so the
 * alternative upstream is always empty) */
#define KNGX_SET_LOG_FORMAT                                                  \
    "$remote_addr - $remote_user [$time_local] \"$request\" $status "        \
    "$body_bytes_sent \"$http_referer\" \"$http_user_agent\" "               \
    "$request_length $request_time [$proxy_host] [] $upstream_addr "         \
    "$upstream_response_length $upstream_response_time $upstream_status "    \
    "$request_id"

/* ingress-nginx's gzip-types */
#define KNGX_SET_GZIP_TYPES                                                  \
    "application/atom+xml application/javascript application/x-javascript " \
    "application/json application/rss+xml application/vnd.ms-fontobject "   \
    "application/x-font-ttf application/x-web-app-manifest+json "            \
    "application/xhtml+xml application/xml font/opentype image/svg+xml "    \
    "image/x-icon text/css text/javascript text/plain text/x-component"

#define KNGX_SET_ACCESS_LOG     "/dev/stdout"
#define KNGX_SET_HSTS_MAX_AGE   31536000


/* s as an nginx string in quotes q ('"' or '\''): \ and q escaped */
static void
kngx_set_quoted(kngx_buf_t *b, const char *s, char q)
{
    kngx_buf_printf(b, "%c", q);

    for ( /* void */ ; *s; s++) {
        kngx_buf_printf(b, (*s == q || *s == '\\') ? "\\%c" : "%c", *s);
    }

    kngx_buf_printf(b, "%c", q);
}


static void
kngx_set_str(kngx_buf_t *b, const char *directive, const char *v)
{
    if (v) {
        kngx_buf_printf(b, "%s %s;\n", directive, v);
    }
}


static void
kngx_set_num(kngx_buf_t *b, const char *directive, int v)
{
    if (v != KNGX_SET_UNSET) {
        kngx_buf_printf(b, "%s %d;\n", directive, v);
    }
}


static void
kngx_set_flag(kngx_buf_t *b, const char *directive, int v)
{
    if (v != KNGX_SET_UNSET) {
        kngx_buf_printf(b, "%s %s;\n", directive, v ? "on" : "off");
    }
}


static void
kngx_set_logs(kngx_buf_t *b, const kngx_settings_t *s)
{
    if (s->disable_access_log == 1) {
        kngx_buf_printf(b, "access_log off;\n");
        return;
    }

    kngx_buf_printf(b, "log_format upstreaminfo%s\n    ",
                    s->log_format_escape_json == 1 ? " escape=json" : "");
    kngx_set_quoted(b, s->log_format_upstream ? s->log_format_upstream
                                              : KNGX_SET_LOG_FORMAT, '\'');
    kngx_buf_printf(b, ";\naccess_log %s upstreaminfo;\n",
                    s->access_log_path ? s->access_log_path
                                       : KNGX_SET_ACCESS_LOG);
}


/*
 * A client address from the PROXY header or forwarded-for-header only
 * from proxy-real-ip-cidr: without it nothing is trusted.
 */
static void
kngx_set_real_ip(kngx_buf_t *b, const kngx_settings_t *s)
{
    size_t  i;

    if (s->proxy_real_ip_cidr.n == 0
        || (s->use_proxy_protocol != 1 && s->use_forwarded_headers != 1
            && s->enable_real_ip != 1))
    {
        return;
    }

    for (i = 0; i < s->proxy_real_ip_cidr.n; i++) {
        kngx_buf_printf(b, "set_real_ip_from %s;\n",
                        s->proxy_real_ip_cidr.items[i]);
    }

    kngx_buf_printf(b, "real_ip_header %s;\nreal_ip_recursive on;\n",
                    s->use_proxy_protocol == 1 ? "proxy_protocol"
                    : s->forwarded_for_header ? s->forwarded_for_header
                    : "X-Forwarded-For");
}


static void
kngx_set_gzip(kngx_buf_t *b, const kngx_settings_t *s)
{
    const char  *t, *e;
    size_t       n;

    if (s->use_gzip != 1) {
        return;
    }

    kngx_buf_printf(b, "gzip on;\ngzip_comp_level %d;\ngzip_min_length %d;\n"
                    "gzip_proxied any;\ngzip_vary on;\ngzip_types",
                    s->gzip_level != KNGX_SET_UNSET ? s->gzip_level : 1,
                    s->gzip_min_length != KNGX_SET_UNSET
                    ? s->gzip_min_length : 256);

    /* text/html is always compressed: nginx warns when it is listed */

    for (t = s->gzip_types ? s->gzip_types : KNGX_SET_GZIP_TYPES; *t;
         t = e)
    {
        t += strspn(t, " ");
        n = strcspn(t, " ");
        e = t + n;

        if (n && !(n == 9 && strncmp(t, "text/html", 9) == 0)) {
            kngx_buf_printf(b, " %.*s", (int) n, t);
        }
    }

    kngx_buf_printf(b, ";\n");
}


static void
kngx_set_block_map(kngx_buf_t *b, const kngx_set_list_t *l,
    const char *from, const char *to)
{
    size_t  i;

    if (l->n == 0) {
        return;
    }

    kngx_buf_printf(b, "map %s %s {\n    default 0;\n", from, to);

    for (i = 0; i < l->n; i++) {
        kngx_buf_printf(b, "    ");
        kngx_set_quoted(b, l->items[i], '"');
        kngx_buf_printf(b, " 1;\n");
    }

    kngx_buf_printf(b, "}\n");
}


/* Strict-Transport-Security for https requests only */
static void
kngx_set_hsts(kngx_buf_t *b, const kngx_settings_t *s)
{
    if (s->hsts == 0) {
        /* defined all the same: a location with its own add_header
         * writes the header too (annotations.h, KNGX_ANN_HSTS) */
        kngx_buf_printf(b, "map $https $kubengx_hsts {\n"
                        "    default \"\";\n"
                        "}\n");
        return;
    }

    kngx_buf_printf(b, "map $https $kubengx_hsts {\n"
                    "    on      \"max-age=%d%s%s\";\n"
                    "    default \"\";\n"
                    "}\n",
                    s->hsts_max_age != KNGX_SET_UNSET ? s->hsts_max_age
                                                      : KNGX_SET_HSTS_MAX_AGE,
                    s->hsts_include_subdomains == 0 ? ""
                    : "; includeSubDomains",
                    s->hsts_preload == 1 ? "; preload" : "");
}


void
kngx_settings_http(kngx_buf_t *b, const kngx_settings_t *s)
{
    size_t  i;

    kngx_buf_printf(b, "# settings%s%s (edge defaults where not set)\n",
                    s->configmap ? ": ConfigMap " : "",
                    s->configmap ? s->configmap : "");

    kngx_buf_printf(b, "server_tokens %s;\n",
                    s->server_tokens == 1 ? "on" : "off");
    kngx_set_logs(b, s);
    kngx_set_real_ip(b, s);

    kngx_set_str(b, "client_max_body_size", s->proxy_body_size);
    kngx_set_str(b, "client_body_buffer_size", s->client_body_buffer_size);
    kngx_set_str(b, "client_header_buffer_size",
                 s->client_header_buffer_size);
    kngx_set_str(b, "large_client_header_buffers",
                 s->large_client_header_buffers);
    kngx_set_str(b, "keepalive_timeout", s->keep_alive);
    kngx_set_num(b, "keepalive_requests", s->keep_alive_requests);
    kngx_set_str(b, "proxy_connect_timeout", s->proxy_connect_timeout);
    kngx_set_str(b, "proxy_read_timeout", s->proxy_read_timeout);
    kngx_set_str(b, "proxy_send_timeout", s->proxy_send_timeout);
    if (s->proxy_buffer_size) {
        /* as ingress-nginx: 4 buffers of that size, or nginx refuses a
         * proxy_buffer_size past its default busy buffers */
        kngx_buf_printf(b, "proxy_buffer_size %s;\nproxy_buffers 4 %s;\n",
                        s->proxy_buffer_size, s->proxy_buffer_size);
    }

    kngx_set_flag(b, "proxy_buffering", s->proxy_buffering);
    kngx_set_str(b, "proxy_next_upstream", s->proxy_next_upstream);
    kngx_set_gzip(b, s);

    for (i = 0; i < s->block_cidrs.n; i++) {
        kngx_buf_printf(b, "deny %s;\n", s->block_cidrs.items[i]);
    }

    kngx_set_block_map(b, &s->block_user_agents, "$http_user_agent",
                       "$kubengx_block_ua");
    kngx_set_block_map(b, &s->block_referers, "$http_referer",
                       "$kubengx_block_referer");
    kngx_set_hsts(b, s);

    kngx_buf_printf(b, "\n");
}


void
kngx_settings_server(kngx_buf_t *b, const kngx_settings_t *s)
{
    size_t  i;

    if (s->block_user_agents.n) {
        kngx_buf_printf(b, "    if ($kubengx_block_ua) { return 403; }\n");
    }

    if (s->block_referers.n) {
        kngx_buf_printf(b, "    if ($kubengx_block_referer) "
                        "{ return 403; }\n");
    }

    if (s->ncustom_http_errors == 0) {
        return;
    }

    /* the backend's answer with such a status is replaced by the
     * default backend's or nginx's (annotations/errors.c) */

    kngx_buf_printf(b, "    proxy_intercept_errors on;\n");

    for (i = 0; i < s->ncustom_http_errors; i++) {
        kngx_buf_printf(b, "    error_page %d @kubengx_error_%d;\n",
                        s->custom_http_errors[i], s->custom_http_errors[i]);
    }
}


void
kngx_settings_tls(kngx_buf_t *b, const kngx_settings_t *s)
{
    static const char  *names[] = { "TLSv1", "TLSv1.1", "TLSv1.2",
                                    "TLSv1.3" };
    unsigned            bits, i;

    bits = s->ssl_protocols ? s->ssl_protocols
                            : KNGX_SSL_TLS12 | KNGX_SSL_TLS13;

    kngx_buf_printf(b, "    ssl_protocols");
    for (i = 0; i < 4; i++) {
        if (bits & (1u << i)) {
            kngx_buf_printf(b, " %s", names[i]);
        }
    }
    kngx_buf_printf(b, ";\n");

    if (s->ssl_ciphers) {
        kngx_buf_printf(b, "    ssl_ciphers %s;\n", s->ssl_ciphers);
    }

    if (s->ssl_prefer_server_ciphers != KNGX_SET_UNSET) {
        kngx_buf_printf(b, "    ssl_prefer_server_ciphers %s;\n",
                        s->ssl_prefer_server_ciphers ? "on" : "off");
    }

    if (s->ssl_session_cache != KNGX_SET_UNSET) {
        kngx_buf_printf(b, "    ssl_session_cache %s;\n",
                        s->ssl_session_cache ? "shared:kubengx_ssl:10m"
                                             : "off");
    }

    if (s->ssl_session_tickets != KNGX_SET_UNSET) {
        kngx_buf_printf(b, "    ssl_session_tickets %s;\n",
                        s->ssl_session_tickets ? "on" : "off");
    }

    if (s->ssl_session_timeout) {
        kngx_buf_printf(b, "    ssl_session_timeout %s;\n",
                        s->ssl_session_timeout);
    }

    if (s->hsts != 0) {
        /* $kubengx_hsts is empty on http: no header there (a server
         * may listen on both) */
        kngx_buf_printf(b, "    add_header Strict-Transport-Security "
                        "$kubengx_hsts always;\n");
    }
}


const char *
kngx_settings_tls_listen(const kngx_settings_t *s)
{
    return s->use_http2 == 0 ? "" : " http2";
}


const char *
kngx_settings_listen(const kngx_settings_t *s)
{
    return s->use_proxy_protocol == 1 ? " proxy_protocol" : "";
}


void
kngx_settings_upstream(kngx_buf_t *b, const kngx_settings_t *s, int dflt)
{
    int  n;

    n = s->upstream_keepalive_connections != KNGX_SET_UNSET
        ? s->upstream_keepalive_connections : dflt;

    if (n == 0) {
        return;
    }

    kngx_buf_printf(b, "    keepalive %d;\n", n);

    if (s->upstream_keepalive_timeout) {
        kngx_buf_printf(b, "    keepalive_timeout %s;\n",
                        s->upstream_keepalive_timeout);
    }

    if (s->upstream_keepalive_requests != KNGX_SET_UNSET) {
        kngx_buf_printf(b, "    keepalive_requests %d;\n",
                        s->upstream_keepalive_requests);
    }
}


void
kngx_settings_main(const kngx_settings_t *s, kngx_settings_main_t *m)
{
    if (s->worker_processes) {
        m->worker_processes = s->worker_processes;
    }

    if (s->max_worker_connections != KNGX_SET_UNSET) {
        m->worker_connections = s->max_worker_connections;
    }

    if (s->worker_shutdown_timeout) {
        m->worker_shutdown_timeout = s->worker_shutdown_timeout;
    }

    if (s->error_log_level) {
        m->error_log_level = s->error_log_level;
    }
}
