
/*
 * kubengx generator: what the object decoders share (not for other
 * files; they use load.h).
 *
 *   decode.c          the helpers, metadata, the dispatch by kind
 *   decode_ingress.c  Ingress
 *   decode_kinds.c    Service, IngressClass, Secret, EndpointSlice
 *
 * Field paths ("spec.rules[0].http.paths[1]") name a field in messages.
 * Those an object keeps (model.h "field" members) are copied into the
 * model's arena (kngx_dec_keep); those only an error would name are built
 * in a caller's buffer of KNGX_FIELD_SIZE bytes (kngx_dec_sub,
 * kngx_dec_idx), without formatting or allocating when there is none.
 */

#ifndef KNGX_DECODE_H
#define KNGX_DECODE_H

#include "load.h"
#include "escape.h"


#define KNGX_FIELD_SIZE  256


typedef struct {
    kngx_model_t        *m;
    const kngx_source_t *src;
    kngx_lines_t        *lines;
    char                 object[320];
    const char          *ns;
    const char          *name;
    int                  failed;
    int                  nomem;
} kngx_dec_t;


void kngx_dec_error(kngx_dec_t *d, json_t *node, const char *field,
    const char *fmt, ...) KNGX_PRINTF(4, 5);
const char *kngx_json_type(json_t *v);

/* base + suffix, base + "[i]"; into out (KNGX_FIELD_SIZE), cut to fit */
const char *kngx_dec_sub(char *out, const char *base, const char *suffix);
const char *kngx_dec_idx(char *out, const char *base, size_t i);
/* a field path the model keeps: copied into the model's arena */
const char *kngx_dec_keep(kngx_dec_t *d, const char *field);

/* a string's value in the model's arena, NUL bytes made 0x01 */
char *kngx_dec_strdup(kngx_dec_t *d, json_t *v);

/* member of type; NULL if absent or null; an error if of another type
 * (or absent and required) */
json_t *kngx_dec_get(kngx_dec_t *d, json_t *obj, const char *key,
    json_type type, const char *field, int required);
const char *kngx_dec_str(kngx_dec_t *d, json_t *obj, const char *key,
    const char *field, int required);
/* integer in [lo, hi]; 0 if absent */
int kngx_dec_int(kngx_dec_t *d, json_t *obj, const char *key,
    const char *field, int required, int lo, int hi);
/* a map of strings, sorted by key */
kngx_kv_t *kngx_dec_map(kngx_dec_t *d, json_t *obj, const char *key,
    const char *field, size_t *n);
void kngx_dec_meta(kngx_dec_t *d, json_t *obj, kngx_meta_t *meta,
    kngx_name_rule_e rule, int namespaced);
int kngx_dec_head(kngx_dec_t *d, json_t *obj, kngx_meta_t *meta,
    kngx_name_rule_e rule, int namespaced, const char *api,
    const char *note);

/* decode_fields.c: a warning for each member of obj (at field, NULL at
 * the top) not in known (NULL-terminated) */
void kngx_dec_fields(kngx_dec_t *d, json_t *obj, const char *field,
    const char *const *known);

extern const char *const  kngx_fields_object[];
extern const char *const  kngx_fields_secret[];
extern const char *const  kngx_fields_meta[];
extern const char *const  kngx_fields_ingress_spec[];
extern const char *const  kngx_fields_rule[];
extern const char *const  kngx_fields_http[];
extern const char *const  kngx_fields_path[];
extern const char *const  kngx_fields_backend[];
extern const char *const  kngx_fields_svc_backend[];
extern const char *const  kngx_fields_port_ref[];
extern const char *const  kngx_fields_resource[];
extern const char *const  kngx_fields_tls[];
extern const char *const  kngx_fields_service_spec[];
extern const char *const  kngx_fields_service_port[];
extern const char *const  kngx_fields_class_spec[];

/* decode_ingress.c */
void kngx_dec_ingress(kngx_dec_t *d, json_t *obj);

/* decode_kinds.c */
void kngx_dec_service(kngx_dec_t *d, json_t *obj);
void kngx_dec_class(kngx_dec_t *d, json_t *obj);
void kngx_dec_secret(kngx_dec_t *d, json_t *obj);
void kngx_dec_slice(kngx_dec_t *d, json_t *obj);

#endif /* KNGX_DECODE_H */
