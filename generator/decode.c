
/*
 * kubengx generator: json_t objects -> the typed model (model.h).
 *
 * Structural problems (a wrong type, a missing required field, an unknown
 * enum value, an unsupported apiVersion, a namespace or object name the
 * API server would refuse) are errors naming the field:
 * `kubengx render` then exits 2 and writes nothing.  Values that are well
 * formed but cannot be served (a bad host, a path with `;`) are not
 * judged here: the route plan warns and skips them.
 *
 * Strings are copied into the model's arena.  A NUL byte inside a string
 * (JSON "\u0000") is replaced by 0x01, so that validation later refuses the
 * value instead of silently cutting it short.
 *
 * This file holds the helpers of every decoder, metadata and the
 * dispatch by kind; the kinds are in decode_ingress.c and decode_kinds.c
 * (decode.h).
 */

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "stream.h"


void
kngx_dec_error(kngx_dec_t *d, json_t *node, const char *field,
    const char *fmt, ...)
{
    char     buf[512];
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);

    d->failed = 1;

    if (kngx_diag_add(&d->m->diags, d->m->arena, KNGX_DIAG_ERROR, d->src,
                      kngx_lines_get(d->lines, node),
                      d->object[0] ? d->object : NULL, field, "bad-input",
                      "%s", buf) != 0)
    {
        d->nomem = 1;
    }
}


const char *
kngx_json_type(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:  return "an object";
    case JSON_ARRAY:   return "a list";
    case JSON_STRING:  return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL:    return "a number";
    case JSON_TRUE:
    case JSON_FALSE:   return "a boolean";
    default:           return "null";
    }
}


char *
kngx_dec_strdup(kngx_dec_t *d, json_t *v)
{
    size_t   len = json_string_length(v), i;
    char    *s;

    s = kube_arena_strndup(d->m->arena, json_string_value(v), len);
    if (s == NULL) {
        d->nomem = 1;
        return NULL;
    }

    for (i = 0; i < len; i++) {
        if (s[i] == '\0') {
            s[i] = '\x01';
        }
    }

    return s;
}


/* ---- field paths --------------------------------------------------------- */

static size_t
kngx_dec_put(char *out, size_t at, const char *s)
{
    size_t  len = strlen(s);

    if (at + len >= KNGX_FIELD_SIZE) {
        len = KNGX_FIELD_SIZE - 1 - at;
    }

    memmove(out + at, s, len);      /* s may be out itself */
    out[at + len] = '\0';

    return at + len;
}


const char *
kngx_dec_sub(char *out, const char *base, const char *suffix)
{
    kngx_dec_put(out, kngx_dec_put(out, 0, base), suffix);

    return out;
}


const char *
kngx_dec_idx(char *out, const char *base, size_t i)
{
    char   num[24], *p;
    size_t at;

    p = num + sizeof(num) - 1;
    *p = '\0';
    *--p = ']';

    do {
        *--p = (char) ('0' + i % 10);
        i /= 10;
    } while (i);

    *--p = '[';

    at = kngx_dec_put(out, 0, base);
    kngx_dec_put(out, at, p);

    return out;
}


const char *
kngx_dec_keep(kngx_dec_t *d, const char *field)
{
    char  *s;

    s = kube_arena_strdup(d->m->arena, field);
    if (s == NULL) {
        d->nomem = 1;
        return "";
    }

    return s;
}


json_t *
kngx_dec_get(kngx_dec_t *d, json_t *obj, const char *key, json_type type,
    const char *field, int required)
{
    json_t  *v;

    v = obj ? json_object_get(obj, key) : NULL;

    if (v == NULL || json_is_null(v)) {
        if (required) {
            kngx_dec_error(d, obj, field, "required field is missing");
        }
        return NULL;
    }

    if (json_typeof(v) != type
        && !(type == JSON_TRUE && json_is_boolean(v)))
    {
        kngx_dec_error(d, v, field, "must be %s, not %s",
                       type == JSON_OBJECT ? "an object"
                       : type == JSON_ARRAY ? "a list"
                       : type == JSON_STRING ? "a string"
                       : type == JSON_INTEGER ? "an integer" : "a boolean",
                       kngx_json_type(v));
        return NULL;
    }

    return v;
}


const char *
kngx_dec_str(kngx_dec_t *d, json_t *obj, const char *key, const char *field,
    int required)
{
    json_t  *v;

    v = kngx_dec_get(d, obj, key, JSON_STRING, field, required);

    return v ? kngx_dec_strdup(d, v) : NULL;
}


int
kngx_dec_int(kngx_dec_t *d, json_t *obj, const char *key, const char *field,
    int required, int lo, int hi)
{
    json_t      *v;
    json_int_t   i;

    v = kngx_dec_get(d, obj, key, JSON_INTEGER, field, required);
    if (v == NULL) {
        return 0;
    }

    i = json_integer_value(v);

    if (i < lo || i > hi) {
        kngx_dec_error(d, v, field, "%lld is not in %d..%d", (long long) i,
                       lo, hi);
        return 0;
    }

    return (int) i;
}


static int
kngx_kv_cmp(const void *a, const void *b)
{
    return strcmp(((const kngx_kv_t *) a)->key, ((const kngx_kv_t *) b)->key);
}


kngx_kv_t *
kngx_dec_map(kngx_dec_t *d, json_t *obj, const char *key, const char *field,
    size_t *n)
{
    json_t      *map, *v;
    const char  *k;
    kngx_kv_t   *kv;
    size_t       i = 0;
    char         f[KNGX_FIELD_SIZE], sub[104];

    *n = 0;

    map = kngx_dec_get(d, obj, key, JSON_OBJECT, field, 0);
    if (map == NULL || json_object_size(map) == 0) {
        return NULL;
    }

    kv = kube_arena_calloc(d->m->arena, json_object_size(map),
                           sizeof(kngx_kv_t));
    if (kv == NULL) {
        d->nomem = 1;
        return NULL;
    }

    json_object_foreach(map, k, v) {
        if (!json_is_string(v)) {
            snprintf(sub, sizeof(sub), ".%.100s", k);
            kngx_dec_error(d, v, kngx_dec_sub(f, field, sub),
                           "must be a string, not %s (quote it)",
                           kngx_json_type(v));
            continue;
        }

        kv[i].key = kube_arena_strdup(d->m->arena, k);
        kv[i].value = kngx_dec_strdup(d, v);
        if (kv[i].key == NULL || kv[i].value == NULL) {
            d->nomem = 1;
            return NULL;
        }
        i++;
    }

    qsort(kv, i, sizeof(kngx_kv_t), kngx_kv_cmp);
    *n = i;

    return kv;
}


/*
 * Names as the API server checks them: objects read from files were not
 * checked by one, and a name reaches file names and identifiers
 * (names.c).  namespaced: 0 cluster-scoped.
 */
static void
kngx_dec_names(kngx_dec_t *d, json_t *md, const kngx_meta_t *meta,
    kngx_name_rule_e rule, int namespaced)
{
    json_t      *ns;
    const char  *why;

    if (meta->name[0] && kngx_name_check(rule, meta->name, &why) != 0) {
        kngx_dec_error(d, json_object_get(md, "name"), "metadata.name",
                       "%s name %s %s", meta->kind,
                       kngx_msg_quote(meta->name), why);
    }

    if (!namespaced
        || kngx_name_check(KNGX_NAME_LABEL, meta->ns, &why) == 0)
    {
        return;
    }

    ns = json_object_get(md, "namespace");

    kngx_dec_error(d, ns ? ns : md, "metadata.namespace",
                   "namespace %s%s %s", kngx_msg_quote(meta->ns),
                   ns ? "" : " (from -n)", why);
}


void
kngx_dec_meta(kngx_dec_t *d, json_t *obj, kngx_meta_t *meta,
    kngx_name_rule_e rule, int namespaced)
{
    json_t      *md;
    const char  *s;

    meta->src = *d->src;
    meta->src.line = kngx_lines_get(d->lines, obj);

    s = json_string_value(json_object_get(obj, "apiVersion"));
    meta->api_version = kube_arena_strdup(d->m->arena, s ? s : "");
    meta->kind = kube_arena_strdup(d->m->arena,
                     json_string_value(json_object_get(obj, "kind")));

    md = kngx_dec_get(d, obj, "metadata", JSON_OBJECT, "metadata", 1);

    meta->name = kngx_dec_str(d, md, "name", "metadata.name", md != NULL);
    if (meta->name && meta->name[0] == '\0') {
        kngx_dec_error(d, json_object_get(md, "name"), "metadata.name",
                       "must not be empty");
    }
    if (meta->name == NULL) {
        meta->name = "";
    }

    if (namespaced) {
        meta->ns = kngx_dec_str(d, md, "namespace", "metadata.namespace", 0);
        if (meta->ns == NULL || meta->ns[0] == '\0') {
            meta->ns = d->m->default_ns;
        }
        snprintf(d->object, sizeof(d->object), "%s/%s", meta->ns,
                 meta->name);

    } else {
        meta->ns = "";
        snprintf(d->object, sizeof(d->object), "%s", meta->name);
    }

    if (!d->object[0] || !meta->name[0]) {
        d->object[0] = '\0';
    }

    kngx_dec_fields(d, md, "metadata", kngx_fields_meta);

    d->ns = meta->ns;
    d->name = meta->name;

    meta->uid = kngx_dec_str(d, md, "uid", "metadata.uid", 0);

    meta->creation_timestamp = kngx_dec_str(d, md, "creationTimestamp",
                                            "metadata.creationTimestamp", 0);
    if (meta->creation_timestamp) {
        if (kube_parse_rfc3339_ms(meta->creation_timestamp,
                                  &meta->creation_ms) != 0)
        {
            kngx_dec_error(d, json_object_get(md, "creationTimestamp"),
                           "metadata.creationTimestamp",
                           "is not an RFC 3339 time");
        } else {
            meta->has_creation = 1;
        }
    }

    meta->labels = kngx_dec_map(d, md, "labels", "metadata.labels",
                                &meta->nlabels);
    meta->annotations = kngx_dec_map(d, md, "annotations",
                                     "metadata.annotations",
                                     &meta->nannotations);

    if (meta->kind == NULL || meta->api_version == NULL) {
        d->nomem = 1;
        return;
    }

    kngx_dec_names(d, md, meta, rule, namespaced);
}


/*
 * The start of every kind's decoder: metadata, then the one apiVersion
 * kubengx reads (note: said after "is not supported").  0 when the
 * object may be decoded further.
 */
int
kngx_dec_head(kngx_dec_t *d, json_t *obj, kngx_meta_t *meta,
    kngx_name_rule_e rule, int namespaced, const char *api, const char *note)
{
    kngx_dec_meta(d, obj, meta, rule, namespaced);

    if (meta->api_version == NULL || strcmp(meta->api_version, api) == 0) {
        return meta->api_version == NULL ? -1 : 0;
    }

    kngx_dec_error(d, json_object_get(obj, "apiVersion"), "apiVersion",
                   "%s %s is not supported%s; use %s", meta->kind,
                   kngx_msg_quote(meta->api_version), note, api);

    return -1;
}


/* ---- dispatch by kind ---------------------------------------------------- */

int
kngx_decode_object(kngx_model_t *m, const kngx_source_t *src, json_t *obj,
    kngx_lines_t *lines)
{
    kngx_dec_t   d;
    const char  *kind;
    json_t      *v;

    memset(&d, 0, sizeof(d));
    d.m = m;
    d.src = src;
    d.lines = lines;

    if (!json_is_object(obj)) {
        kngx_dec_error(&d, obj, NULL, "a manifest must be an object, not %s",
                       kngx_json_type(obj));
        return 0;
    }

    v = kngx_dec_get(&d, obj, "kind", JSON_STRING, "kind", 1);
    kngx_dec_get(&d, obj, "apiVersion", JSON_STRING, "apiVersion", 1);
    if (d.failed) {
        return d.nomem ? -1 : 0;
    }

    kind = json_string_value(v);

    if (strcmp(kind, "Ingress") == 0) {
        kngx_dec_ingress(&d, obj);

    } else if (strcmp(kind, "Service") == 0) {
        kngx_dec_service(&d, obj);

    } else if (strcmp(kind, "IngressClass") == 0) {
        kngx_dec_class(&d, obj);

    } else if (strcmp(kind, "Secret") == 0) {
        kngx_dec_secret(&d, obj);

    } else if (strcmp(kind, "EndpointSlice") == 0) {
        kngx_dec_slice(&d, obj);

    } else if (strcmp(kind, "ConfigMap") == 0) {
        /* TCP/UDP services (stream_configmap.c) */
        return kngx_configmap_keep(m, src, obj, lines);

    } else {
        json_t      *md = json_object_get(obj, "metadata");
        const char  *name = json_string_value(json_object_get(md, "name"));

        m->nskipped++;

        if (kngx_diag_add(&m->diags, m->arena, KNGX_DIAG_INFO, src,
                          kngx_lines_get(lines, obj), NULL, NULL,
                          "skipped-kind", "skipped %s %s (not a kind "
                          "kubengx reads)", kngx_msg_quote(kind),
                          kngx_msg_quote(name ? name : "")) != 0)
        {
            return -1;
        }

        return 0;
    }

    if (d.nomem) {
        return -1;
    }

    if (!d.failed) {
        if (kngx_model_canon_add(m, kind, d.ns, d.name, obj) != 0) {
            return -1;
        }
    }

    return 0;
}
