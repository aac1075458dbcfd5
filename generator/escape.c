
/*
 * kubengx generator: validation of the manifest values that reach nginx
 * text, and quoting.
 *
 * Policy (ingress-nginx's CVE history is config injection):
 * - hosts: DNS-1123 subdomains (lowercased), "*." allowed only as the
 *   whole first label and before at least two labels ("*.com" would take
 *   a whole top-level domain); IP addresses refused (as the API server
 *   does);
 * - paths: start with "/", at most 1024 bytes, only the RFC 3986 path
 *   characters that need no escaping in nginx: letters, digits and
 *   / - . _ ~ ! & ( ) * + , = : @ ; everything else (control bytes,
 *   space, non-ASCII, " ' \ ` { } ; $ # % ? < > [ ] ^ |) is refused, and
 *   so are "." / ".." segments and "//", which nginx normalises away
 *   before matching (such a location could never match);
 * - a refused value is a warning and the path (or rule) is not served;
 * - every manifest string that reaches nginx text is also written inside
 *   double quotes with \ and " escaped (kngx_ngx_quote), as a second
 *   line of defence; identifiers (upstream names, file names) are
 *   generated, never copied.
 */

#include <stdio.h>
#include <string.h>

#include "escape.h"


const char *
kngx_msg_quote(const char *s)
{
    static char      bufs[8][128];
    static unsigned  next;
    char            *b, *p, *end;

    b = bufs[next++ % 8];
    p = b;
    end = b + sizeof(bufs[0]);

    if (s == NULL) {
        snprintf(b, sizeof(bufs[0]), "(null)");
        return b;
    }

    *p++ = '"';

    for ( /* void */ ; *s; s++) {
        unsigned char  c = (unsigned char) *s;

        if (end - p < 10) {
            memcpy(p, "...", 3);
            p += 3;
            break;
        }

        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char) c;

        } else if (c < 0x20 || c >= 0x7f) {
            p += snprintf(p, (size_t) (end - p), "\\x%02x", c);

        } else {
            *p++ = (char) c;
        }
    }

    *p++ = '"';
    *p = '\0';

    return b;
}


int
kngx_ngx_safe(const char *s)
{
    for ( /* void */ ; *s; s++) {
        unsigned char  c = (unsigned char) *s;

        if (c < 0x20 || c >= 0x7f || c == '$' || c == '{' || c == '}'
            || c == ';')
        {
            return 0;
        }
    }

    return 1;
}


/* s as a double-quoted string, \ and " escaped; printable ASCII only */
static int
kngx_quote_printable(const char *s, char *out, size_t size)
{
    size_t  n = 0;

    if (size < 3) {
        return -1;
    }

    out[n++] = '"';

    for ( /* void */ ; *s; s++) {
        if ((unsigned char) *s < 0x20 || (unsigned char) *s > 0x7e
            || n + 4 > size)
        {
            return -1;
        }

        if (*s == '"' || *s == '\\') {
            out[n++] = '\\';
        }

        out[n++] = *s;
    }

    out[n++] = '"';
    out[n] = '\0';

    return (int) n;
}


int
kngx_ngx_quote(const char *s, char *out, size_t size)
{
    return kngx_ngx_safe(s) ? kngx_quote_printable(s, out, size) : -1;
}


int
kngx_ngx_quote_vars(const char *s, char *out, size_t size)
{
    return kngx_quote_printable(s, out, size);
}


int
kngx_dns_label_ok(const char *s, size_t len)
{
    size_t  i;

    if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-') {
        return 0;
    }

    for (i = 0; i < len; i++) {
        char  c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return 0;
        }
    }

    return 1;
}


/* lowercase DNS-1123 subdomain check of s (already lowercased) */
static int
kngx_subdomain_ok(const char *s, const char **why)
{
    const char  *label, *dot;
    int          all_numeric = 1;
    size_t       i;

    if (*s == '\0') {
        *why = "is empty";
        return 0;
    }

    if (strlen(s) > 253) {
        *why = "is longer than 253 characters";
        return 0;
    }

    for (label = s; /* void */ ; label = dot + 1) {
        dot = strchr(label, '.');
        i = dot ? (size_t) (dot - label) : strlen(label);

        if (!kngx_dns_label_ok(label, i)) {
            *why = "is not a DNS name (lowercase letters, digits, '-' "
                   "and '.'; labels of 1 to 63 characters)";
            return 0;
        }

        while (i-- > 0) {
            if (label[i] < '0' || label[i] > '9') {
                all_numeric = 0;
            }
        }

        if (dot == NULL) {
            break;
        }
    }

    if (all_numeric) {
        *why = "is an IP address; Ingress hosts must be DNS names";
        return 0;
    }

    return 1;
}


int
kngx_host_check(const char *host, char *out, size_t size, const char **why)
{
    size_t  len = strlen(host), i;

    if (len + 1 > size || len > 253) {
        *why = "is longer than 253 characters";
        return -1;
    }

    for (i = 0; i <= len; i++) {
        char  c = host[i];

        out[i] = (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
    }

    if (out[0] == '*') {
        if (out[1] != '.') {
            *why = "may use \"*\" only as the whole first label "
                   "(*.example.com)";
            return -1;
        }

        if (!kngx_subdomain_ok(out + 2, why)) {
            return -1;
        }

        if (strchr(out + 2, '.') == NULL) {
            *why = "is a wildcard over a whole top-level domain; a "
                   "wildcard needs two labels after \"*.\" "
                   "(*.example.com)";
            return -1;
        }

        return 0;
    }

    if (strchr(out, '*')) {
        *why = "may use \"*\" only as the whole first label (*.example.com)";
        return -1;
    }

    return kngx_subdomain_ok(out, why) ? 0 : -1;
}


int
kngx_dns_name_check(const char *name, const char **why)
{
    char  buf[256];

    if (strchr(name, '*')) {
        *why = "must not be a wildcard";
        return -1;
    }

    /* a trailing dot (fully qualified) is fine for a resolver */
    if (kngx_host_check(name, buf, sizeof(buf), why) != 0) {
        size_t  len = strlen(name);

        if (len > 1 && len < sizeof(buf) && name[len - 1] == '.') {
            memcpy(buf, name, len - 1);
            buf[len - 1] = '\0';
            return kngx_host_check(buf, buf, sizeof(buf), why);
        }

        return -1;
    }

    return 0;
}


int
kngx_path_check(const char *path, const char **why)
{
    const char  *p, *seg;
    size_t       len = strlen(path), n;

    if (path[0] != '/') {
        *why = "must start with \"/\"";
        return -1;
    }

    if (len > 1024) {
        *why = "is longer than 1024 bytes";
        return -1;
    }

    for (p = path; *p; p++) {
        unsigned char  c = (unsigned char) *p;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9'))
        {
            continue;
        }

        if (strchr("/-._~!&()*+,=:@", c) && c != '\0') {
            continue;
        }

        if (c < 0x20 || c == 0x7f) {
            *why = "contains a control character";
        } else if (c >= 0x80) {
            *why = "contains a non-ASCII byte (use a plain ASCII path)";
        } else if (c == ' ') {
            *why = "contains a space";
        } else {
            static char  buf[64];

            snprintf(buf, sizeof(buf),
                     "contains '%c', which kubengx does not accept in paths",
                     c);
            *why = buf;
        }

        return -1;
    }

    /* segments nginx normalises away before matching */
    for (seg = path + 1; /* void */ ; seg = p + 1) {
        p = strchr(seg, '/');
        n = p ? (size_t) (p - seg) : strlen(seg);

        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.'
                                          && seg[1] == '.'))
        {
            *why = "contains a \".\" or \"..\" segment (nginx normalises "
                   "request paths, so it could never match)";
            return -1;
        }

        if (n == 0 && p != NULL) {
            *why = "contains \"//\" (nginx merges slashes in request "
                   "paths, so it could never match)";
            return -1;
        }

        if (p == NULL) {
            break;
        }
    }

    return 0;
}
