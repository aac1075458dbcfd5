/*
 * kubengx kube/: YAML to jansson (libyaml document API).
 *
 * An alias is one node in libyaml's document and a copy in the JSON tree,
 * so what aliases expand to is bounded: in nodes (KUBE_YAML_MAX_NODES)
 * and in bytes of scalar text beyond the input's own length
 * (KUBE_YAML_MAX_ALIAS_BYTES), checked before each scalar is copied.
 */

#include <string.h>
#include <yaml.h>

#include "kube_yaml.h"


#define KUBE_YAML_MAX_DEPTH  64
#define KUBE_YAML_MAX_NODES  200000
#define KUBE_YAML_MAX_ALIAS_BYTES  (16 * 1024 * 1024)


typedef struct {
    yaml_document_t  *doc;
    size_t            budget;
    size_t            bytes;        /* scalar bytes left to copy */
    kube_err_t       *err;
} kube_yaml_ctx_t;


static json_t *
kube_yaml_scalar(yaml_node_t *node)
{
    const char  *s;
    size_t       len;

    s = (const char *) node->data.scalar.value;
    len = node->data.scalar.length;

    if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        if (len == 0 || (len == 1 && s[0] == '~')
            || (len == 4 && kube_strncasecmp(s, "null", 4) == 0))
        {
            return json_null();
        }

        if (len == 4 && kube_strncasecmp(s, "true", 4) == 0) {
            return json_true();
        }

        if (len == 5 && kube_strncasecmp(s, "false", 5) == 0) {
            return json_false();
        }
    }

    return json_stringn(s, len);
}


/* the text of a scalar node out of the byte budget */
static int
kube_yaml_take(kube_yaml_ctx_t *ctx, yaml_node_t *node)
{
    if (node->data.scalar.length > ctx->bytes) {
        kube_err_set(ctx->err, "YAML: line %lu: aliases expand to more "
                     "than 16 MiB of text",
                     (unsigned long) node->start_mark.line + 1);
        return -1;
    }

    ctx->bytes -= node->data.scalar.length;

    return 0;
}


static json_t *
kube_yaml_node(kube_yaml_ctx_t *ctx, yaml_node_t *node, int depth)
{
    json_t            *v, *k, *item;
    yaml_node_t       *kn, *vn;
    yaml_node_item_t  *it;
    yaml_node_pair_t  *pair;

    if (node == NULL) {
        kube_err_set(ctx->err, "YAML: dangling node reference");
        return NULL;
    }

    if (depth > KUBE_YAML_MAX_DEPTH || ctx->budget-- == 0) {
        kube_err_set(ctx->err, "YAML: line %lu: nested too deep or too many "
                     "nodes (alias expansion?)",
                     (unsigned long) node->start_mark.line + 1);
        return NULL;
    }

    switch (node->type) {

    case YAML_SCALAR_NODE:
        if (kube_yaml_take(ctx, node) != 0) {
            return NULL;
        }

        v = kube_yaml_scalar(node);
        if (v == NULL) {
            kube_err_set(ctx->err, "YAML: line %lu: invalid UTF-8 or out "
                         "of memory",
                         (unsigned long) node->start_mark.line + 1);
        }
        return v;

    case YAML_SEQUENCE_NODE:
        v = json_array();
        if (v == NULL) {
            goto nomem;
        }

        for (it = node->data.sequence.items.start;
             it < node->data.sequence.items.top;
             it++)
        {
            item = kube_yaml_node(ctx, yaml_document_get_node(ctx->doc, *it),
                                  depth + 1);
            if (item == NULL || json_array_append_new(v, item) != 0) {
                json_decref(v);
                return NULL;
            }
        }

        return v;

    case YAML_MAPPING_NODE:
        v = json_object();
        if (v == NULL) {
            goto nomem;
        }

        for (pair = node->data.mapping.pairs.start;
             pair < node->data.mapping.pairs.top;
             pair++)
        {
            kn = yaml_document_get_node(ctx->doc, pair->key);
            vn = yaml_document_get_node(ctx->doc, pair->value);

            if (kn == NULL || kn->type != YAML_SCALAR_NODE) {
                kube_err_set(ctx->err, "YAML: line %lu: mapping key is not "
                             "a scalar",
                             (unsigned long) node->start_mark.line + 1);
                json_decref(v);
                return NULL;
            }

            if (kube_yaml_take(ctx, kn) != 0) {
                json_decref(v);
                return NULL;
            }

            k = json_stringn((const char *) kn->data.scalar.value,
                             kn->data.scalar.length);
            if (k == NULL) {
                kube_err_set(ctx->err, "YAML: line %lu: bad mapping key",
                             (unsigned long) kn->start_mark.line + 1);
                json_decref(v);
                return NULL;
            }

            item = kube_yaml_node(ctx, vn, depth + 1);
            if (item == NULL
                || json_object_set_new(v, json_string_value(k), item) != 0)
            {
                json_decref(k);
                json_decref(v);
                return NULL;
            }

            json_decref(k);
        }

        return v;

    default:
        return json_null();
    }

nomem:

    kube_err_set(ctx->err, "YAML: out of memory");
    return NULL;
}


json_t *
kube_yaml_to_json(const char *data, size_t len, kube_err_t *err)
{
    json_t           *v;
    yaml_node_t      *root;
    yaml_parser_t     parser;
    yaml_document_t   doc;
    kube_yaml_ctx_t   ctx;

    if (!yaml_parser_initialize(&parser)) {
        kube_err_set(err, "YAML: out of memory");
        return NULL;
    }

    yaml_parser_set_input_string(&parser, (const unsigned char *) data, len);

    if (!yaml_parser_load(&parser, &doc)) {
        kube_err_set(err, "YAML: line %lu column %lu: %s",
                     (unsigned long) parser.problem_mark.line + 1,
                     (unsigned long) parser.problem_mark.column + 1,
                     parser.problem ? parser.problem : "parse error");
        yaml_parser_delete(&parser);
        return NULL;
    }

    root = yaml_document_get_root_node(&doc);

    if (root == NULL) {
        v = json_null();

    } else {
        ctx.doc = &doc;
        ctx.budget = KUBE_YAML_MAX_NODES;
        ctx.bytes = len + KUBE_YAML_MAX_ALIAS_BYTES;
        ctx.err = err;
        v = kube_yaml_node(&ctx, root, 0);
    }

    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);

    return v;
}
