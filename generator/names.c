
/*
 * kubengx generator: the names kubengx makes from namespace, name and
 * port, and the API server's rules for object names.
 *
 * Generated names are injective: distinct inputs give distinct names,
 * also to nginx, which compares upstream names without case.  Each part
 * is escaped on its own: "a"-"z", "0"-"9" and "-" stay, every other byte
 * becomes "." and two lowercase hex digits; parts are joined with "_",
 * which no escaped part contains.  Splitting a name on "_" and undoing
 * the escapes gives the parts back.
 *
 *   upstream    NS_SVC_PORT                  default_web_http
 *               NS_SVC_PORT__VARIANT         default_web_80__lb-ewma
 *               PORT is the Service port's name, or the number of an
 *               unnamed port; a name made of digits only gets its first
 *               digit escaped (port named "80": ".380"), so that it never
 *               reads as a number.
 *   dispatch    kubengx_dispatch__VARIANT: two parts before the empty
 *               one, where Service upstreams have three.
 *   variant     lb-ewma, lb-least-conn, lb-hash-KEY with KEY escaped
 *               (the whole key: two keys never share a name); then
 *               p-https, p-grpc, p-grpcs, p-https-ca-CAFILE (escaped)
 *               for backends not spoken to in plain HTTP/1.1, so that
 *               keepalive connections (and TLS sessions) are never
 *               shared between protocols or verification settings; then
 *               p-svc for service-upstream (the ClusterIP); then
 *               cc-CERTFILE (escaped) for a client certificate
 *               (proxy-ssl-secret).  Each of these follows "__", which
 *               no escaped part holds: the segments read back apart.
 *   error page  @kubengx_custom_CODE_UPSTREAM, @kubengx_defbe_UPSTREAM
 *               (annotations/errors.c): a fixed prefix, a three-digit
 *               code and an upstream name stay injective.
 *   cert file   NS_SECRET.  File names hold at most 255 bytes: a longer
 *               name is cut to KNGX_NAME_CUT bytes and ends with "__"
 *               and the SHA-256 of "NS/SECRET" in hex; "__" never occurs
 *               in a name of two non-empty parts, so a cut name is never
 *               the full name of other input.
 */

#include <stdio.h>
#include <string.h>

#include "digest.h"
#include "escape.h"


#define KNGX_NAME_CUT  120


static int
kngx_name_put(char *out, size_t size, size_t *n, const char *s, size_t len)
{
    if (*n + len >= size) {
        return -1;
    }

    memcpy(out + *n, s, len);
    *n += len;
    out[*n] = '\0';

    return 0;
}


/* append s escaped; first_digit: escape a leading digit too */
static int
kngx_name_part(char *out, size_t size, size_t *n, const char *s,
    int first_digit)
{
    static const char  hex[] = "0123456789abcdef";
    char               esc[3];
    unsigned char      c;
    int                plain;

    for ( /* void */ ; *s; s++) {
        c = (unsigned char) *s;

        plain = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';

        if (first_digit && c >= '0' && c <= '9') {
            plain = 0;
        }

        first_digit = 0;

        if (plain) {
            if (kngx_name_put(out, size, n, (const char *) &c, 1) != 0) {
                return -1;
            }
            continue;
        }

        esc[0] = '.';
        esc[1] = hex[c >> 4];
        esc[2] = hex[c & 0xf];

        if (kngx_name_put(out, size, n, esc, 3) != 0) {
            return -1;
        }
    }

    return 0;
}


static int
kngx_all_digits(const char *s)
{
    if (*s == '\0') {
        return 0;
    }

    for ( /* void */ ; *s; s++) {
        if (*s < '0' || *s > '9') {
            return 0;
        }
    }

    return 1;
}


int
kngx_name_variant(char *out, size_t size, const char *balance,
    const char *hash_by)
{
    size_t  n = 0;

    out[0] = '\0';

    if (hash_by) {
        return (kngx_name_put(out, size, &n, "__lb-hash-", 10) == 0
                && kngx_name_part(out, size, &n, hash_by, 0) == 0)
               ? 0 : -1;
    }

    if (balance == NULL) {
        return 0;
    }

    if (kngx_name_put(out, size, &n, "__lb-", 5) != 0) {
        return -1;
    }

    if (strcmp(balance, "least_conn") == 0) {
        return kngx_name_put(out, size, &n, "least-conn", 10);
    }

    if (strcmp(balance, "round_robin") == 0) {
        return kngx_name_put(out, size, &n, "round-robin", 11);
    }

    return kngx_name_part(out, size, &n, balance, 0);
}


int
kngx_name_variant_proto(char *out, size_t size, const char *proto,
    const char *ca)
{
    size_t  n = strlen(out);

    if (kngx_name_put(out, size, &n, "__p-", 4) != 0
        || kngx_name_part(out, size, &n, proto, 0) != 0)
    {
        return -1;
    }

    if (ca == NULL) {
        return 0;
    }

    return (kngx_name_put(out, size, &n, "-ca-", 4) == 0
            && kngx_name_part(out, size, &n, ca, 0) == 0) ? 0 : -1;
}


int
kngx_name_variant_cert(char *out, size_t size, const char *cert)
{
    size_t  n = strlen(out);

    return (kngx_name_put(out, size, &n, "__cc-", 5) == 0
            && kngx_name_part(out, size, &n, cert, 0) == 0) ? 0 : -1;
}


int
kngx_name_upstream(char *out, size_t size, const char *ns, const char *svc,
    const char *port_name, int port, const char *variant)
{
    char    num[16];
    size_t  n = 0;

    if (size == 0) {
        return -1;
    }

    out[0] = '\0';

    if (kngx_name_part(out, size, &n, ns, 0) != 0
        || kngx_name_put(out, size, &n, "_", 1) != 0
        || kngx_name_part(out, size, &n, svc, 0) != 0
        || kngx_name_put(out, size, &n, "_", 1) != 0)
    {
        return -1;
    }

    if (port_name && port_name[0]) {
        if (kngx_name_part(out, size, &n, port_name,
                           kngx_all_digits(port_name)) != 0)
        {
            return -1;
        }

    } else {
        snprintf(num, sizeof(num), "%d", port);
        if (kngx_name_put(out, size, &n, num, strlen(num)) != 0) {
            return -1;
        }
    }

    return kngx_name_put(out, size, &n, variant, strlen(variant));
}


int
kngx_name_cert(char *out, size_t size, const char *ns, const char *name)
{
    kngx_sha256_t  sha;
    unsigned char  md[32];
    char           full[KNGX_NAME_CERT_MAX + 1];
    size_t         n = 0, i;

    if (size <= KNGX_NAME_CERT_MAX) {
        return -1;
    }

    if (kngx_name_part(full, sizeof(full), &n, ns, 0) == 0
        && kngx_name_put(full, sizeof(full), &n, "_", 1) == 0
        && kngx_name_part(full, sizeof(full), &n, name, 0) == 0)
    {
        memcpy(out, full, n + 1);
        return 0;
    }

    /* too long for a file name: a cut and a digest of the whole */

    if (kngx_sha256_init(&sha) != 0) {
        return -1;
    }

    kngx_sha256_update(&sha, ns, strlen(ns));
    kngx_sha256_update(&sha, "/", 1);
    kngx_sha256_update(&sha, name, strlen(name));
    kngx_sha256_final(&sha, md);

    memcpy(out, full, KNGX_NAME_CUT);
    n = KNGX_NAME_CUT;
    out[n++] = '_';
    out[n++] = '_';

    for (i = 0; i < sizeof(md); i++) {
        snprintf(out + n, 3, "%02x", md[i]);
        n += 2;
    }

    out[n] = '\0';

    return 0;
}


/* ---- the API server's name rules ----------------------------------------- */

static int
kngx_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}


int
kngx_name_check(kngx_name_rule_e rule, const char *s, const char **why)
{
    size_t  len = strlen(s), i, label;
    int     letter;

    if (len == 0) {
        *why = "must not be empty";
        return -1;
    }

    switch (rule) {

    case KNGX_NAME_SUBDOMAIN:
        if (len > 253) {
            *why = "is longer than 253 characters";
            return -1;
        }

        label = 0;

        for (i = 0; i < len; i++) {
            if (s[i] == '.') {
                if (label == 0 || s[i - 1] == '-') {
                    goto subdomain;
                }
                label = 0;
                continue;
            }

            if (!kngx_alnum(s[i]) && !(s[i] == '-' && label > 0)) {
                goto subdomain;
            }

            label++;
        }

        if (s[len - 1] == '-' || s[len - 1] == '.') {
            goto subdomain;
        }

        return 0;

    subdomain:
        *why = "is not a DNS-1123 subdomain (lowercase letters, digits, "
               "'-' and '.', starting and ending with a letter or digit)";
        return -1;

    case KNGX_NAME_PORT:
        /* IANA service name: 15 characters, a letter, no "--" */
        letter = 0;

        for (i = 0; i < len; i++) {
            if (s[i] >= 'a' && s[i] <= 'z') {
                letter = 1;
            }

            if (i > 0 && s[i] == '-' && s[i - 1] == '-') {
                letter = -1;
                break;
            }
        }

        if (len > 15 || letter != 1 || !kngx_dns_label_ok(s, len)) {
            *why = "is not a valid port name (at most 15 lowercase letters, "
                   "digits and '-', with a letter, no \"--\")";
            return -1;
        }

        return 0;

    case KNGX_NAME_LABEL_1035:
        if (!(s[0] >= 'a' && s[0] <= 'z')) {
            *why = "must start with a lowercase letter (a DNS-1035 label)";
            return -1;
        }

        /* fall through */

    default:
        if (!kngx_dns_label_ok(s, len)) {
            *why = "is not a DNS label (at most 63 lowercase letters, "
                   "digits and '-', starting and ending with a letter or "
                   "digit)";
            return -1;
        }

        return 0;
    }
}
