
/*
 * kubengx generator: the value readers of the settings keys.  Each checks
 * a ConfigMap value completely before it is kept: what reaches nginx text
 * is made of the characters a reader lets through, and a value nginx
 * would refuse (a bad regex, an unknown variable, an unknown word) is
 * refused here, alone, with the reason.
 */

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "settings_values.h"
#include "escape.h"
#include "regex_check.h"


/* Go's strconv.ParseBool, as ingress-nginx reads its flags */
const char *
kngx_set_bool(const kngx_set_key_t *k, const char *v, void *field,
    kngx_settings_t *s, char *buf, size_t size)
{
    static const char  *yes[] = { "1", "t", "T", "TRUE", "true", "True" };
    static const char  *no[] = { "0", "f", "F", "FALSE", "false", "False" };
    size_t              i;

    for (i = 0; i < 6; i++) {
        if (strcmp(v, yes[i]) == 0 || strcmp(v, no[i]) == 0) {
            *(int *) field = strcmp(v, yes[i]) == 0;
            return NULL;
        }
    }

    return "is not true or false";
}


static int
kngx_set_number(const char *v, long *n)
{
    char  *end;

    if (!isdigit((unsigned char) v[0]) || strlen(v) > 9) {
        return -1;
    }

    *n = strtol(v, &end, 10);

    return *end == '\0' ? 0 : -1;
}


const char *
kngx_set_int(const kngx_set_key_t *k, const char *v, void *field,
    kngx_settings_t *s, char *buf, size_t size)
{
    long  n;

    if (kngx_set_number(v, &n) != 0 || n < k->min || n > k->max) {
        snprintf(buf, size, "is not a number from %ld to %ld", k->min,
                 k->max);
        return buf;
    }

    *(int *) field = (int) n;
    return NULL;
}


/* nginx's size: digits, then k, m or g (either case) or nothing */
const char *
kngx_set_size(const kngx_set_key_t *k, const char *v, void *field,
    kngx_settings_t *s, char *buf, size_t size)
{
    size_t  n = strspn(v, "0123456789");

    if (n == 0 || n > 9 || (v[n] != '\0' && (strchr("kKmMgG", v[n]) == NULL
                                             || v[n + 1] != '\0')))
    {
        return "is not a size (digits, then k, m or g)";
    }

    *(const char **) field = kube_arena_strdup(s->arena, v);
    return NULL;
}


/* nginx's time: digits, then ms, s, m, h or d; plain digits: seconds
 * (ingress-nginx's timeouts are numbers of seconds) */
const char *
kngx_set_time(const kngx_set_key_t *k, const char *v, void *field,
    kngx_settings_t *s, char *buf, size_t size)
{
    static const char  *units[] = { "", "ms", "s", "m", "h", "d" };
    size_t              n = strspn(v, "0123456789"), i;
    char                t[32];

    for (i = 0; n && n <= 9 && i < 6; i++) {
        if (strcmp(v + n, units[i]) == 0) {
            snprintf(t, sizeof(t), "%s%s", v, i == 0 ? "s" : "");
            *(const char **) field = kube_arena_strdup(s->arena, t);
            return NULL;
        }
    }

    return "is not a time (seconds, or digits then ms, s, m, h or d)";
}


/*
 * Words separated by spaces, each one of k->choices, kept as one text
 * with single spaces.
 */
const char *
kngx_set_words(const kngx_set_key_t *k, const char *v, void *field,
    kngx_settings_t *s, char *buf, size_t size)
{
    char                 out[512], word[64];
    const char          *p = v;
    const char *const   *c;
    size_t               n, len = 0;

    out[0] = '\0';

    for ( ;; ) {
        p += strspn(p, " ");
        n = strcspn(p, " ");
        if (n == 0) {
            break;
        }

        if (n >= sizeof(word) || len + n + 2 > sizeof(out)) {
            return "is too long";
        }

        memcpy(word, p, n);
        word[n] = '\0';

        for (c = k->choices; *c && strcmp(*c, word) != 0; c++) { /* void */ }

        if (*c == NULL) {
            len = 0;
            snprintf(buf, size, "has %s, which is not one of", word);
            for (c = k->choices; *c; c++) {
                len = strlen(buf);
                snprintf(buf + len, size - len, " %s", *c);
            }
            return buf;
        }

        len += (size_t) snprintf(out + len, sizeof(out) - len, "%s%s",
                                 len ? " " : "", word);
        p += n;
    }

    if (len == 0) {
        return "is empty";
    }

    *(const char **) field = kube_arena_strdup(s->arena, out);
    return NULL;
}


/* comma-separated items, blanks around them trimmed, into list */
static const char *
kngx_set_split(const char *v, kngx_set_list_t *list, kngx_settings_t *s)
{
    const char  *p = v, *e;
    size_t       n;

    list->n = 0;

    while (*p) {
        p += strspn(p, " \t");
        n = strcspn(p, ",");
        e = p + n;

        while (e > p && (e[-1] == ' ' || e[-1] == '\t')) {
            e--;
        }

        if (e > p) {
            if (list->n == KNGX_SET_MAX_LIST) {
                return "has more than 64 items";
            }

            list->items[list->n] = kube_arena_strndup(s->arena, p,
                                                      (size_t) (e - p));
            if (list->items[list->n] == NULL) {
                return "cannot be kept: out of memory";
            }
            list->n++;
        }

        p += n;
        if (*p == ',') {
            p++;
        }
    }

    return list->n ? NULL : "is empty";
}


/* IPv4 or IPv6 addresses with an optional /PREFIX: "10.0.0.0/8" */
const char *
kngx_set_cidrs(const kngx_set_key_t *k, const char *v, void *field,
    kngx_settings_t *s, char *buf, size_t size)
{
    kngx_set_list_t  *list = field;
    unsigned char     a[16];
    char              addr[64];
    const char       *why, *slash;
    long              bits;
    size_t            i, n;
    int               v6;

    why = kngx_set_split(v, list, s);
    if (why) {
        return why;
    }

    for (i = 0; i < list->n; i++) {
        slash = strchr(list->items[i], '/');
        n = slash ? (size_t) (slash - list->items[i])
                  : strlen(list->items[i]);

        if (n >= sizeof(addr)) {
            goto bad;
        }

        memcpy(addr, list->items[i], n);
        addr[n] = '\0';
        v6 = strchr(addr, ':') != NULL;

        if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, a) != 1) {
            goto bad;
        }

        if (slash && (kngx_set_number(slash + 1, &bits) != 0
                      || bits > (v6 ? 128 : 32)))
        {
            goto bad;
        }
    }

    return NULL;

bad:

    list->n = 0;
    snprintf(buf, size, "has %s, which is not an address or CIDR",
             kngx_msg_quote(list->items[i]));
    return buf;
}


/*
 * Exact strings or "~REGEX" / "~*REGEX" (ingress-nginx's block-user-agents
 * and block-referers), written in double quotes: printable ASCII without
 * double quotes; a regex must compile as nginx compiles it (regex_check.c:
 * PCRE2, no spaces, no named groups), not fail at nginx -t.
 */
const char *
kngx_set_patterns(const kngx_set_key_t *k, const char *v, void *field,
    kngx_settings_t *s, char *buf, size_t size)
{
    kngx_set_list_t  *list = field;
    const char       *why, *p;
    unsigned          groups;
    size_t            i;

    why = kngx_set_split(v, list, s);
    if (why) {
        return why;
    }

    for (i = 0; i < list->n; i++) {
        for (p = list->items[i]; *p; p++) {
            if (*p < 0x20 || *p > 0x7e || *p == '"') {
                goto bad;
            }
        }

        if (list->items[i][0] == '~') {
            p = list->items[i] + 1 + (list->items[i][1] == '*');

            if (*p == '\0'
                || kngx_regex_check(p, list->items[i][1] == '*', &groups,
                                    &why) != 0)
            {
                goto bad;
            }
        }
    }

    return NULL;

bad:

    snprintf(buf, size, "has %s: printable ASCII without \" (a ~regex "
             "must compile)", kngx_msg_quote(list->items[i]));
    list->n = 0;
    return buf;
}


/* HTTP status codes 400-599 ("404,503") */
const char *
kngx_set_codes(const kngx_set_key_t *k, const char *v, void *field,
    kngx_settings_t *s, char *buf, size_t size)
{
    kngx_set_list_t  list;
    const char      *why;
    long             code;
    size_t           i;

    why = kngx_set_split(v, &list, s);
    if (why) {
        return why;
    }

    for (i = 0; i < list.n; i++) {
        if (kngx_set_number(list.items[i], &code) != 0 || code < 400
            || code > 599)
        {
            snprintf(buf, size, "has %s, which is not a status from 400 to "
                     "599", kngx_msg_quote(list.items[i]));
            return buf;
        }

        s->custom_http_errors[i] = (int) code;
    }

    s->ncustom_http_errors = list.n;
    return NULL;
}


/* "TLSv1.2 TLSv1.3": SSLv2 and SSLv3 are refused (nginx 1.22's OpenSSL
 * has neither) */
const char *
kngx_set_protocols(const kngx_set_key_t *k, const char *v, void *field,
    kngx_settings_t *s, char *buf, size_t size)
{
    static const char  *names[] = { "TLSv1", "TLSv1.1", "TLSv1.2",
                                    "TLSv1.3" };
    const char         *p = v;
    unsigned            bits = 0;
    size_t              n, i;

    for ( ;; ) {
        p += strspn(p, " ");
        n = strcspn(p, " ");
        if (n == 0) {
            break;
        }

        for (i = 0; i < 4; i++) {
            if (strlen(names[i]) == n && strncmp(p, names[i], n) == 0) {
                bits |= 1u << i;
                break;
            }
        }

        if (i == 4) {
            return "is not a list of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3";
        }

        p += n;
    }

    if (bits == 0) {
        return "is empty";
    }

    *(unsigned *) field = bits;
    return NULL;
}


/*
 * A value of the characters in k->choices[0] only (ssl-ciphers: OpenSSL's
 * cipher list syntax; forwarded-for-header: a header name; gzip-types:
 * MIME types; access-log-path: an absolute path)
 */
const char *
kngx_set_chars(const kngx_set_key_t *k, const char *v, void *field,
    kngx_settings_t *s, char *buf, size_t size)
{
    const char  *allowed = k->choices[0];
    size_t       n = strlen(v);

    if (n == 0 || n > 1024 || strspn(v, allowed) != n
        || (k->min && v[0] != '/'))
    {
        snprintf(buf, size, "must be made of %s%s", k->choices[1],
                 k->min ? ", starting with /" : "");
        return buf;
    }

    *(const char **) field = kube_arena_strdup(s->arena, v);
    return NULL;
}


/* ssl-ciphers: OpenSSL's alphabet, then a list OpenSSL takes */
const char *
kngx_set_ciphers(const kngx_set_key_t *k, const char *v, void *field,
    kngx_settings_t *s, char *buf, size_t size)
{
    const char  *why;

    why = kngx_set_chars(k, v, field, s, buf, size);
    if (why) {
        return why;
    }

    switch (kngx_tls_ciphers_ok(v)) {
    case 1:
        return NULL;
    case 0:
        *(const char **) field = NULL;
        return "selects no cipher OpenSSL knows";
    default:
        *(const char **) field = NULL;
        return "could not be checked: out of memory";
    }
}


/*
 * log-format-upstream: printable ASCII; every $variable one nginx
 * defines (variables.c), else nginx -t would refuse the whole config
 */
const char *
kngx_set_log_format(const kngx_set_key_t *k, const char *v, void *field,
    kngx_settings_t *s, char *buf, size_t size)
{
    const char  *p;
    size_t       n;

    for (p = v; *p; p++) {
        if (*p < 0x20 || *p > 0x7e) {
            return "has a byte that is not printable ASCII";
        }

        if (*p != '$') {
            continue;
        }

        n = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz"
                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

        if (n == 0 || !kngx_ngx_variable_known(p + 1, n)) {
            snprintf(buf, size, "names the variable $%.*s, which nginx does "
                     "not define (${...} is not read)", (int) (n ? n : 1),
                     n ? p + 1 : p + 1);
            return buf;
        }

        p += n;
    }

    if (p == v) {
        return "is empty";
    }

    *(const char **) field = kube_arena_strdup(s->arena, v);
    return NULL;
}


/* large-client-header-buffers: "NUMBER SIZE" */
const char *
kngx_set_buffers(const kngx_set_key_t *k, const char *v, void *field,
    kngx_settings_t *s, char *buf, size_t size)
{
    const char  *sp = strchr(v, ' ');
    const char  *sz = NULL;
    char         num[16];
    long         n;

    if (sp == NULL || (size_t) (sp - v) >= sizeof(num)) {
        return "is not \"NUMBER SIZE\" (e.g. \"4 8k\")";
    }

    memcpy(num, v, (size_t) (sp - v));
    num[sp - v] = '\0';

    if (kngx_set_number(num, &n) != 0 || n < 1 || n > 1024
        || kngx_set_size(k, sp + 1, &sz, s, buf, size) != NULL)
    {
        return "is not \"NUMBER SIZE\" (e.g. \"4 8k\")";
    }

    *(const char **) field = kube_arena_strdup(s->arena, v);
    return NULL;
}


/* worker-processes: auto or 1-1024 */
const char *
kngx_set_workers(const kngx_set_key_t *k, const char *v, void *field,
    kngx_settings_t *s, char *buf, size_t size)
{
    long  n;

    if (strcmp(v, "auto") != 0
        && (kngx_set_number(v, &n) != 0 || n < 1 || n > 1024))
    {
        return "is not auto or a number from 1 to 1024";
    }

    *(const char **) field = kube_arena_strdup(s->arena, v);
    return NULL;
}


/* default-ssl-certificate: "NAMESPACE/SECRET" */
const char *
kngx_set_secret(const kngx_set_key_t *k, const char *v, void *field,
    kngx_settings_t *s, char *buf, size_t size)
{
    const char  *slash = strchr(v, '/'), *why;
    char         ns[64];

    if (slash == NULL || (size_t) (slash - v) >= sizeof(ns)) {
        return "is not NAMESPACE/SECRET";
    }

    memcpy(ns, v, (size_t) (slash - v));
    ns[slash - v] = '\0';

    if (kngx_name_check(KNGX_NAME_LABEL, ns, &why) != 0
        || kngx_name_check(KNGX_NAME_SUBDOMAIN, slash + 1, &why) != 0)
    {
        snprintf(buf, size, "is not NAMESPACE/SECRET: %s", why);
        return buf;
    }

    *(const char **) field = kube_arena_strdup(s->arena, v);
    return NULL;
}


/*
 * allow-snippet-annotations: only false.  A snippet annotation copies an
 * Ingress author's text into the config every tenant shares (and it was
 * the way in for CVE-2021-25742 and CVE-2025-1974 in ingress-nginx);
 * kubengx has no snippet annotations to allow.
 */
const char *
kngx_set_snippets(const kngx_set_key_t *k, const char *v, void *field,
    kngx_settings_t *s, char *buf, size_t size)
{
    if (kngx_set_bool(k, v, field, s, buf, size) != NULL
        || *(int *) field != 0)
    {
        *(int *) field = 0;
        return "is accepted only as false: kubengx has no snippet "
               "annotations (they put an Ingress author's text into the "
               "config every tenant shares)";
    }

    return NULL;
}
