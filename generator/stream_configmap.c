
/*
 * kubengx generator: ConfigMaps, and ingress-nginx's tcp-services and
 * udp-services format in them.
 *
 * Every ConfigMap of the input is kept in the model (decode.c hands them
 * here): the command line names the ones to read only later.  Of a
 * ConfigMap only its namespace, name and data are kept; a data value
 * that is not a string is kept as NULL and refused when used.  A
 * ConfigMap that is not v1 or has no valid name, or repeats one kept
 * already, is skipped as kinds kubengx does not read are (an info line
 * with -v): ConfigMaps nobody names must not fail a render.
 *
 * An entry is "PORT": "NAMESPACE/SERVICE:SERVICEPORT[:PROXY[:PROXY]]"
 * (ingress-nginx's docs/user-guide/exposing-tcp-udp-services.md):
 *
 *   PORT         the port nginx listens on: 1-65535, written without a
 *                sign or leading zeros, not one of kubengx's own (the
 *                http, https and health ports);
 *   SERVICEPORT  the Service port's number (spec.ports[].port) or name,
 *                of protocol TCP (tcp-services) or UDP (udp-services);
 *   PROXY        the first: decode the PROXY protocol from clients
 *                (listen ... proxy_protocol); the second: send it to the
 *                backend (proxy_protocol on); case-insensitive, either
 *                may be empty; TCP only (for UDP ingress-nginx ignores
 *                them with a warning, and so does kubengx).  The first
 *                without proxy-real-ip-cidr in the settings: a warning
 *                (every sender's header is believed, stream_render.c).
 *
 * The Service must be in the input (or watched) and not an ExternalName.
 * A bad entry is refused alone, with a warning naming the ConfigMap and
 * the key; the others are served.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stream.h"
#include "escape.h"
#include "settings/settings.h"


/* kngx_stream_opts_t.reserved, in this order */
static const char  *kngx_reserved_names[KNGX_STREAM_RESERVED] = {
    "http", "https", "health", "h2c", "status"
};


static int
kngx_kv_cmp(const void *a, const void *b)
{
    return strcmp(((const kngx_kv_t *) a)->key, ((const kngx_kv_t *) b)->key);
}


static int
kngx_cm_error(kngx_model_t *m, const kngx_source_t *src, unsigned line,
    const char *obj, const char *field, const char *msg)
{
    m->nskipped++;

    return kngx_diag_add(&m->diags, m->arena, KNGX_DIAG_INFO, src, line,
                         obj, field, "skipped-kind", "skipped ConfigMap: %s",
                         msg);
}


/* metadata.namespace and .name of a ConfigMap: 0, or 1 when refused */
static int
kngx_cm_meta(kngx_model_t *m, const kngx_source_t *src, json_t *obj,
    kngx_lines_t *lines, kngx_configmap_t *cm, int *nomem)
{
    json_t      *md, *v;
    const char  *why, *s;
    unsigned     line;

    line = kngx_lines_get(lines, obj);
    md = json_object_get(obj, "metadata");

    s = json_string_value(json_object_get(obj, "apiVersion"));
    if (s == NULL || strcmp(s, "v1") != 0) {
        *nomem = kngx_cm_error(m, src, line, NULL, "apiVersion",
                               "not v1") != 0;
        return 1;
    }

    v = json_object_get(md, "name");
    s = json_string_value(v);
    if (!json_is_object(md) || s == NULL
        || kngx_name_check(KNGX_NAME_SUBDOMAIN, s, &why) != 0)
    {
        *nomem = kngx_cm_error(m, src, line, NULL, "metadata.name",
                               "no valid name") != 0;
        return 1;
    }

    cm->name = kube_arena_strdup(m->arena, s);

    v = json_object_get(md, "namespace");
    s = json_string_value(v);
    if (s == NULL || s[0] == '\0') {
        s = m->default_ns;

    } else if (kngx_name_check(KNGX_NAME_LABEL, s, &why) != 0) {
        *nomem = kngx_cm_error(m, src, kngx_lines_get(lines, v), cm->name,
                               "metadata.namespace", why) != 0;
        return 1;
    }

    cm->ns = kube_arena_strdup(m->arena, s);

    if (cm->name == NULL || cm->ns == NULL) {
        *nomem = 1;
        return 1;
    }

    return 0;
}


int
kngx_configmap_keep(kngx_model_t *m, const kngx_source_t *src, json_t *obj,
    kngx_lines_t *lines)
{
    kngx_configmap_t  *cm, *c;
    json_t            *data, *v;
    const char        *key;
    char               where[200];
    size_t             i;
    int                nomem = 0;

    cm = kube_arena_calloc(m->arena, 1, sizeof(kngx_configmap_t));
    if (cm == NULL) {
        return -1;
    }

    cm->src = *src;
    cm->src.line = kngx_lines_get(lines, obj);

    if (kngx_cm_meta(m, src, obj, lines, cm, &nomem) != 0) {
        return nomem ? -1 : 0;
    }

    for (c = m->configmaps; c; c = c->next) {
        if (strcmp(c->ns, cm->ns) == 0 && strcmp(c->name, cm->name) == 0) {
            snprintf(where, sizeof(where), "defined twice (the one in "
                     "%s:%u is read)", c->src.file, c->src.doc);
            return kngx_cm_error(m, src, cm->src.line, NULL, NULL, where);
        }
    }

    data = json_object_get(obj, "data");
    cm->ndata = json_is_object(data) ? json_object_size(data) : 0;

    if (cm->ndata) {
        cm->data = kube_arena_calloc(m->arena, cm->ndata, sizeof(kngx_kv_t));
        if (cm->data == NULL) {
            return -1;
        }

        i = 0;
        json_object_foreach(data, key, v) {
            cm->data[i].key = kube_arena_strdup(m->arena, key);
            cm->data[i].value = json_is_string(v)
                ? kube_arena_strdup(m->arena, json_string_value(v)) : NULL;
            if (cm->data[i].key == NULL
                || (json_is_string(v) && cm->data[i].value == NULL))
            {
                return -1;
            }
            i++;
        }

        qsort(cm->data, cm->ndata, sizeof(kngx_kv_t), kngx_kv_cmp);

        cm->lines = kube_arena_calloc(m->arena, cm->ndata, sizeof(unsigned));
        if (cm->lines == NULL) {
            return -1;
        }

        for (i = 0; i < cm->ndata; i++) {
            cm->lines[i] = kngx_lines_get(lines,
                               json_object_get(data, cm->data[i].key));
        }
    }

    cm->next = m->configmaps;
    m->configmaps = cm;
    m->nobjects++;

    return kngx_model_canon_add(m, "ConfigMap", cm->ns, cm->name, obj);
}


const kngx_configmap_t *
kngx_configmap_find(const kngx_model_t *m, const char *ns_name)
{
    const kngx_configmap_t  *cm;
    size_t                   len;

    for (cm = m->configmaps; cm; cm = cm->next) {
        len = strlen(cm->ns);

        if (strncmp(ns_name, cm->ns, len) == 0 && ns_name[len] == '/'
            && strcmp(ns_name + len + 1, cm->name) == 0)
        {
            return cm;
        }
    }

    return NULL;
}


int
kngx_stream_configmap_arg(const char *arg, const char **why)
{
    const char  *slash;
    char         ns[64];

    slash = strchr(arg, '/');

    if (slash == NULL || (size_t) (slash - arg) >= sizeof(ns)) {
        *why = "expected NAMESPACE/NAME";
        return -1;
    }

    memcpy(ns, arg, (size_t) (slash - arg));
    ns[slash - arg] = '\0';

    if (kngx_name_check(KNGX_NAME_LABEL, ns, why) != 0
        || kngx_name_check(KNGX_NAME_SUBDOMAIN, slash + 1, why) != 0)
    {
        return -1;
    }

    return 0;
}


/* ---- entries ------------------------------------------------------------- */

typedef struct {
    kngx_stream_t           *s;
    const kngx_stream_opts_t *so;
    const kngx_settings_t   *set;
    const kngx_configmap_t  *cm;
    const kngx_model_t      *m;
    const char              *key;
    unsigned                 line;
    int                      udp;
} kngx_cm_ctx_t;


static int kngx_cm_warn(kngx_cm_ctx_t *c, const char *code,
    const char *fmt, ...) KNGX_PRINTF(3, 4);


static int
kngx_cm_warn(kngx_cm_ctx_t *c, const char *code, const char *fmt, ...)
{
    char     obj[320], field[128], msg[600];
    va_list  ap;

    snprintf(obj, sizeof(obj), "%s/%s", c->cm->ns, c->cm->name);
    snprintf(field, sizeof(field), "data[%s]", kngx_msg_quote(c->key));

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    return kngx_diag_add(&c->s->diags, c->s->arena, KNGX_DIAG_WARNING,
                         &c->cm->src, c->line, obj, field, code, "%s%s",
                         msg, strncmp(code, "proxy-", 6) == 0 ? ""
                                                              : "; not served");
}


/* "1".."65535" without sign or leading zeros; 0 when not */
static int
kngx_port_number(const char *s)
{
    int     n = 0;
    size_t  i;

    for (i = 0; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9' || i >= 5 || (i == 0 && s[i] == '0')) {
            return 0;
        }
        n = n * 10 + (s[i] - '0');
    }

    return (i && n <= 65535) ? n : 0;
}


/* the Service port of field "PORT" (number or name) and the protocol */
static const kngx_service_port_t *
kngx_cm_port(const kngx_service_t *svc, const char *spec, int udp)
{
    const char  *proto = udp ? "UDP" : "TCP";
    int          n = kngx_port_number(spec);
    size_t       i;

    for (i = 0; i < svc->nports; i++) {
        if (strcmp(svc->ports[i].protocol, proto) != 0) {
            continue;
        }

        if (n ? svc->ports[i].port == n
              : strcmp(svc->ports[i].name, spec) == 0)
        {
            return &svc->ports[i];
        }
    }

    return NULL;
}


/* the value's fields: 2 to 4, split at ':' into f (copied into buf) */
static int
kngx_cm_fields(char *buf, size_t size, const char *value, char **f)
{
    char    *p;
    size_t   n = 1;

    if (strlen(value) >= size) {
        return 0;
    }

    strcpy(buf, value);
    f[0] = buf;

    for (p = buf; *p; p++) {
        if (*p == ':') {
            if (n == 4) {
                return 5;
            }
            *p = '\0';
            f[n++] = p + 1;
        }
    }

    return (int) n;
}


static int
kngx_cm_entry(kngx_cm_ctx_t *c, const char *value)
{
    const kngx_service_t  *svc;
    kngx_stream_entry_t   *e;
    const char            *why;
    char                   buf[600], *f[4], *slash;
    int                    listen, n, i, proxy[2];
    size_t                 k;

    listen = kngx_port_number(c->key);
    if (listen == 0) {
        return kngx_cm_warn(c, "stream-port", "key %s is not a port number "
                            "(1-65535, no sign or leading zeros)",
                            kngx_msg_quote(c->key));
    }

    for (k = 0; k < KNGX_STREAM_RESERVED; k++) {
        if (c->so->reserved[k] == listen) {
            return kngx_cm_warn(c, "stream-port", "port %d is kubengx's own "
                                "%s port", listen, kngx_reserved_names[k]);
        }
    }

    if (value == NULL) {
        return kngx_cm_warn(c, "stream-value", "the value is not a string");
    }

    n = kngx_cm_fields(buf, sizeof(buf), value, f);
    if (n < 2 || n > 4) {
        return kngx_cm_warn(c, "stream-value", "value %s is not "
                            "NAMESPACE/SERVICE:PORT[:PROXY[:PROXY]]",
                            kngx_msg_quote(value));
    }

    for (i = 0; i < 2; i++) {
        proxy[i] = (2 + i < n && strcasecmp(f[2 + i], "PROXY") == 0);

        if (2 + i < n && !proxy[i] && f[2 + i][0] != '\0') {
            return kngx_cm_warn(c, "stream-value", "%s is neither PROXY "
                                "nor empty", kngx_msg_quote(f[2 + i]));
        }
    }

    slash = strchr(f[0], '/');
    if (slash == NULL) {
        return kngx_cm_warn(c, "stream-value", "%s is not NAMESPACE/SERVICE",
                            kngx_msg_quote(f[0]));
    }

    *slash++ = '\0';

    if (kngx_name_check(KNGX_NAME_LABEL, f[0], &why) != 0
        || kngx_name_check(KNGX_NAME_LABEL_1035, slash, &why) != 0
        || (kngx_port_number(f[1]) == 0
            && kngx_name_check(KNGX_NAME_PORT, f[1], &why) != 0))
    {
        return kngx_cm_warn(c, "stream-value", "value %s: %s",
                            kngx_msg_quote(value), why);
    }

    svc = kngx_model_service(c->m, f[0], slash);
    if (svc == NULL || svc->type == KNGX_SVC_EXTERNAL_NAME) {
        return kngx_cm_warn(c, "stream-service", "Service %s/%s %s",
                            f[0], slash,
                            svc ? "is an ExternalName (not served over "
                                  "TCP/UDP)" : "not found");
    }

    e = &c->s->entries[c->s->nentries];
    memset(e, 0, sizeof(kngx_stream_entry_t));

    e->port = kngx_cm_port(svc, f[1], c->udp);
    if (e->port == NULL) {
        return kngx_cm_warn(c, "stream-service", "Service %s/%s has no %s "
                            "port %s", svc->meta.ns, svc->meta.name,
                            c->udp ? "UDP" : "TCP", kngx_msg_quote(f[1]));
    }

    if (e->port->name[0]
        && !kngx_dns_label_ok(e->port->name, strlen(e->port->name)))
    {
        return kngx_cm_warn(c, "stream-service", "Service %s/%s port name "
                            "%s is not valid", svc->meta.ns, svc->meta.name,
                            kngx_msg_quote(e->port->name));
    }

    if (c->udp && (proxy[0] || proxy[1])) {
        if (kngx_cm_warn(c, "proxy-udp", "PROXY is ignored for a UDP "
                         "service (as ingress-nginx does)") != 0)
        {
            return -1;
        }

        proxy[0] = proxy[1] = 0;
    }

    if (proxy[0] && c->set->proxy_real_ip_cidr.n == 0
        && kngx_cm_warn(c, "proxy-trust", "PROXY: proxy-real-ip-cidr is not "
                        "set in the settings ConfigMap: the PROXY header of "
                        "every sender is believed (as ingress-nginx does)")
           != 0)
    {
        return -1;
    }

    e->listen = listen;
    e->udp = c->udp;
    e->decode = proxy[0];
    e->encode = proxy[1];
    e->service = svc;
    c->s->nentries++;

    return 0;
}


/*
 * The entries of ConfigMap ns_name (a flag's value) into s->entries
 * (room for them is made here); warnings for each refused one.
 */
int
kngx_stream_configmap(kngx_stream_t *s, const kngx_model_t *m,
    const kngx_stream_opts_t *so, const kngx_settings_t *set,
    const char *ns_name, int udp)
{
    const kngx_configmap_t  *cm;
    kngx_stream_entry_t     *entries;
    kngx_cm_ctx_t            c;
    size_t                   i;

    cm = kngx_configmap_find(m, ns_name);

    if (cm == NULL) {
        return kngx_diag_add(&s->diags, s->arena, KNGX_DIAG_WARNING, NULL, 0,
                             ns_name, NULL, "no-configmap", "ConfigMap "
                             "(--%s-services-configmap) not found: no %s "
                             "services", udp ? "udp" : "tcp",
                             udp ? "UDP" : "TCP");
    }

    entries = realloc(s->entries, (s->nentries + cm->ndata + 1)
                                  * sizeof(kngx_stream_entry_t));
    if (entries == NULL) {
        return -1;
    }

    s->entries = entries;

    memset(&c, 0, sizeof(c));
    c.s = s;
    c.so = so;
    c.set = set;
    c.cm = cm;
    c.m = m;
    c.udp = udp;

    for (i = 0; i < cm->ndata; i++) {
        c.key = cm->data[i].key;
        c.line = cm->lines[i];

        if (kngx_cm_entry(&c, cm->data[i].value) != 0) {
            return -1;
        }
    }

    return 0;
}
