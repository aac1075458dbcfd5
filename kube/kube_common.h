/*
 * kubengx kube/: shared helpers (errors, allocator hook).
 *
 * Plain C, no nginx types.  Nothing in kube/ prints: errors are written
 * into a caller-provided kube_err_t.
 */

#ifndef KUBE_COMMON_H
#define KUBE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>


#define KUBE_ERR_LEN  256

typedef struct {
    char    msg[KUBE_ERR_LEN];   /* NUL-terminated, "" when no error */
} kube_err_t;


/*
 * Pluggable allocator.  A NULL kube_allocator_t pointer means
 * malloc()/free().
 */
typedef struct {
    void   *(*alloc)(void *ctx, size_t size);
    void    (*free)(void *ctx, void *p);
    void    *ctx;
} kube_allocator_t;


#if defined(__GNUC__)
#define KUBE_PRINTF(a, b)  __attribute__((format(printf, a, b)))
#else
#define KUBE_PRINTF(a, b)
#endif


/* err may be NULL; the message is truncated to fit. */
void kube_err_set(kube_err_t *err, const char *fmt, ...) KUBE_PRINTF(2, 3);
void kube_err_clear(kube_err_t *err);

void *kube_alloc(const kube_allocator_t *a, size_t size);
void kube_free(const kube_allocator_t *a, void *p);

/* ASCII case-insensitive compare of n bytes, no locale. */
int kube_strncasecmp(const char *a, const char *b, size_t n);

/*
 * The JSON document in text (len bytes), or NULL with err set to
 * "WHAT: invalid JSON at line L column C: REASON".  json_decref() it.
 */
json_t *kube_json_loadb(const char *text, size_t len, const char *what,
    kube_err_t *err);

/*
 * Parse an RFC 3339 timestamp ("2026-03-01T10:05:12Z",
 * "2026-03-01T10:05:12.123456+02:00") into milliseconds since the epoch.
 * Returns 0 on success, -1 on a malformed string.
 */
int kube_parse_rfc3339_ms(const char *s, int64_t *ms);

#endif /* KUBE_COMMON_H */
