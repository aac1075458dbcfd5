
/*
 * kubengx generator: the value readers of the settings keys
 * (settings_values.c), for settings.c only.
 */

#ifndef KNGX_SETTINGS_VALUES_H
#define KNGX_SETTINGS_VALUES_H

#include "settings.h"


typedef struct kngx_set_key_s  kngx_set_key_t;

/*
 * Read value into field (of s).  NULL when good; else why not (a static
 * text, or written into buf).
 */
typedef const char *(*kngx_set_read_pt)(const kngx_set_key_t *k,
    const char *value, void *field, kngx_settings_t *s, char *buf,
    size_t size);

struct kngx_set_key_s {
    const char          *name;          /* ingress-nginx's key */
    size_t               offset;        /* in kngx_settings_t */
    kngx_set_read_pt     read;
    long                 min;           /* numbers */
    long                 max;
    const char *const   *choices;       /* words, NULL-terminated */
};

#define KNGX_SET_FIELD(f)  offsetof(kngx_settings_t, f)


const char *kngx_set_bool(const kngx_set_key_t *k, const char *v,
    void *field, kngx_settings_t *s, char *buf, size_t size);
const char *kngx_set_int(const kngx_set_key_t *k, const char *v,
    void *field, kngx_settings_t *s, char *buf, size_t size);
const char *kngx_set_size(const kngx_set_key_t *k, const char *v,
    void *field, kngx_settings_t *s, char *buf, size_t size);
const char *kngx_set_time(const kngx_set_key_t *k, const char *v,
    void *field, kngx_settings_t *s, char *buf, size_t size);
const char *kngx_set_words(const kngx_set_key_t *k, const char *v,
    void *field, kngx_settings_t *s, char *buf, size_t size);
const char *kngx_set_cidrs(const kngx_set_key_t *k, const char *v,
    void *field, kngx_settings_t *s, char *buf, size_t size);
const char *kngx_set_patterns(const kngx_set_key_t *k, const char *v,
    void *field, kngx_settings_t *s, char *buf, size_t size);
const char *kngx_set_codes(const kngx_set_key_t *k, const char *v,
    void *field, kngx_settings_t *s, char *buf, size_t size);
const char *kngx_set_protocols(const kngx_set_key_t *k, const char *v,
    void *field, kngx_settings_t *s, char *buf, size_t size);
const char *kngx_set_chars(const kngx_set_key_t *k, const char *v,
    void *field, kngx_settings_t *s, char *buf, size_t size);
const char *kngx_set_ciphers(const kngx_set_key_t *k, const char *v,
    void *field, kngx_settings_t *s, char *buf, size_t size);
const char *kngx_set_log_format(const kngx_set_key_t *k, const char *v,
    void *field, kngx_settings_t *s, char *buf, size_t size);
const char *kngx_set_buffers(const kngx_set_key_t *k, const char *v,
    void *field, kngx_settings_t *s, char *buf, size_t size);
const char *kngx_set_workers(const kngx_set_key_t *k, const char *v,
    void *field, kngx_settings_t *s, char *buf, size_t size);
const char *kngx_set_secret(const kngx_set_key_t *k, const char *v,
    void *field, kngx_settings_t *s, char *buf, size_t size);
const char *kngx_set_snippets(const kngx_set_key_t *k, const char *v,
    void *field, kngx_settings_t *s, char *buf, size_t size);

#endif /* KNGX_SETTINGS_VALUES_H */
