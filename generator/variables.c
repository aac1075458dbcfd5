
/*
 * kubengx generator: the nginx variables a manifest value may name.
 *
 * An upstream-hash-by key is written into the config ("hash KEY
 * consistent;", "k8s_service ... hash=KEY"), and nginx refuses the whole
 * config when KEY names a variable it does not define.  So a key may name
 * only the variables that Debian's nginx 1.22 defines with the modules it
 * is built with (nginx -V: the default http modules plus ssl, v2,
 * realip, stub_status, secure_link, slice, ...; not the dynamic geoip
 * and perl ones), the prefixed families ($http_NAME, $cookie_NAME, ...),
 * and the ones the generated config defines.  nginx compares variable
 * names without case.
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "escape.h"


static const char  *kngx_ngx_vars[] = {
    /* core (ngx_http_variables.c) */
    "args", "binary_remote_addr", "body_bytes_sent", "bytes_sent",
    "connection", "connection_requests", "connection_time",
    "content_length", "content_type", "document_root", "document_uri",
    "host", "hostname", "http_cookie", "http_host", "http_referer",
    "http_user_agent", "http_via", "http_x_forwarded_for", "https",
    "is_args", "limit_rate", "msec", "nginx_version", "pid", "pipe",
    "proxy_protocol_addr", "proxy_protocol_port",
    "proxy_protocol_server_addr", "proxy_protocol_server_port",
    "query_string", "realpath_root", "remote_addr", "remote_port",
    "remote_user", "request", "request_body", "request_body_file",
    "request_completion", "request_filename", "request_id",
    "request_length", "request_method", "request_time", "request_uri",
    "scheme", "server_addr", "server_name", "server_port",
    "server_protocol", "status", "tcpinfo_rcv_space", "tcpinfo_rtt",
    "tcpinfo_rttvar", "tcpinfo_snd_cwnd", "time_iso8601", "time_local",
    "uri",

    /* upstream */
    "upstream_addr", "upstream_bytes_received", "upstream_bytes_sent",
    "upstream_cache_etag", "upstream_cache_last_modified",
    "upstream_cache_status", "upstream_connect_time",
    "upstream_header_time", "upstream_response_length",
    "upstream_response_time", "upstream_status",

    /* ssl */
    "ssl_alpn_protocol", "ssl_cipher", "ssl_ciphers", "ssl_client_cert",
    "ssl_client_escaped_cert", "ssl_client_fingerprint", "ssl_client_i_dn",
    "ssl_client_i_dn_legacy", "ssl_client_raw_cert", "ssl_client_s_dn",
    "ssl_client_s_dn_legacy", "ssl_client_serial", "ssl_client_v_end",
    "ssl_client_v_remain", "ssl_client_v_start", "ssl_client_verify",
    "ssl_curve", "ssl_curves", "ssl_early_data", "ssl_protocol",
    "ssl_server_name", "ssl_session_id", "ssl_session_reused",

    /* other built-in modules */
    "ancient_browser", "connections_active", "connections_reading",
    "connections_waiting", "connections_writing", "date_gmt", "date_local",
    "fastcgi_path_info", "fastcgi_script_name", "gzip_ratio", "http2",
    "invalid_referer", "limit_conn_status", "limit_req_status",
    "modern_browser", "msie", "proxy_add_x_forwarded_for", "proxy_host",
    "proxy_internal_body_length", "proxy_internal_chunked", "proxy_port",
    "realip_remote_addr", "realip_remote_port", "secure_link",
    "secure_link_expires", "slice_range", "uid_got", "uid_reset",
    "uid_set",

    /* defined by the generated config (render.c) */
    "kubengx_connection_upgrade", "kubengx_host",

    NULL
};


/* families: the prefix and at least one more character */
static const char  *kngx_ngx_var_prefixes[] = {
    "arg_", "cookie_", "http_", "sent_http_", "sent_trailer_",
    "upstream_cookie_", "upstream_http_", "upstream_trailer_",
    NULL
};


int
kngx_ngx_variable_known(const char *name, size_t len)
{
    const char  **v;
    size_t        n;

    for (v = kngx_ngx_vars; *v; v++) {
        if (strlen(*v) == len && strncasecmp(*v, name, len) == 0) {
            return 1;
        }
    }

    for (v = kngx_ngx_var_prefixes; *v; v++) {
        n = strlen(*v);
        if (len > n && strncasecmp(*v, name, n) == 0) {
            return 1;
        }
    }

    return 0;
}


int
kngx_hash_key_check(const char *key, const char **why)
{
    static char   buf[160];
    const char   *q, *name;
    size_t        len;

    len = strlen(key);

    if (len == 0 || len > 256) {
        *why = len ? "is longer than 256 characters" : "is empty";
        return -1;
    }

    for (q = key; *q; /* void */) {
        if (*q != '$') {
            if (!(isalnum((unsigned char) *q) || strchr("_.:/-", *q))) {
                *why = "may hold only $variables and letters, digits, "
                       "\"_.:/-\"";
                return -1;
            }
            q++;
            continue;
        }

        /* a variable name as nginx's script compiler reads it */

        name = ++q;

        if (!(isalpha((unsigned char) *q) || *q == '_')) {
            *why = "has a \"$\" that does not start a variable name";
            return -1;
        }

        while (isalnum((unsigned char) *q) || *q == '_') {
            q++;
        }

        if (!kngx_ngx_variable_known(name, (size_t) (q - name))) {
            snprintf(buf, sizeof(buf), "names the variable $%.*s, which "
                     "nginx does not define", (int) (q - name > 64 ? 64
                                                     : q - name), name);
            *why = buf;
            return -1;
        }
    }

    return 0;
}
