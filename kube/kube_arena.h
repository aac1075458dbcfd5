/*
 * kubengx kube/: a bump allocator so that a decoded object (and every
 * string and array in it) is released with one call.
 */

#ifndef KUBE_ARENA_H
#define KUBE_ARENA_H

#include "kube_common.h"


typedef struct kube_arena_s  kube_arena_t;

/* chunk_size 0 means 4 KiB; allocator NULL means malloc/free */
kube_arena_t *kube_arena_create(const kube_allocator_t *allocator,
    size_t chunk_size);
void kube_arena_destroy(kube_arena_t *arena);

/* 16-byte aligned; NULL on allocation failure or overflow */
void *kube_arena_alloc(kube_arena_t *arena, size_t size);
void *kube_arena_calloc(kube_arena_t *arena, size_t n, size_t size);
char *kube_arena_strdup(kube_arena_t *arena, const char *s);
char *kube_arena_strndup(kube_arena_t *arena, const char *s, size_t len);

/* total bytes requested from the allocator */
size_t kube_arena_size(const kube_arena_t *arena);

#endif /* KUBE_ARENA_H */
