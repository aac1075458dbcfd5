/*
 * kubengx kube/: bump allocator.
 */

#include <string.h>

#include "kube_arena.h"


#define KUBE_ARENA_ALIGN  16
#define kube_arena_align(n)                                                   \
    (((n) + (KUBE_ARENA_ALIGN - 1)) & ~((size_t) KUBE_ARENA_ALIGN - 1))


typedef struct kube_arena_chunk_s  kube_arena_chunk_t;

struct kube_arena_chunk_s {
    kube_arena_chunk_t  *next;
    size_t               size;      /* usable bytes after the header */
    size_t               used;
};

struct kube_arena_s {
    kube_allocator_t     allocator;
    int                  has_allocator;
    size_t               chunk_size;
    size_t               total;
    kube_arena_chunk_t  *chunks;    /* newest first */
};


#define KUBE_CHUNK_HDR  kube_arena_align(sizeof(kube_arena_chunk_t))


static const kube_allocator_t *
kube_arena_allocator(const kube_arena_t *arena)
{
    return arena->has_allocator ? &arena->allocator : NULL;
}


kube_arena_t *
kube_arena_create(const kube_allocator_t *allocator, size_t chunk_size)
{
    kube_arena_t  *arena;

    arena = kube_alloc(allocator, sizeof(kube_arena_t));
    if (arena == NULL) {
        return NULL;
    }

    memset(arena, 0, sizeof(kube_arena_t));

    if (allocator != NULL) {
        arena->allocator = *allocator;
        arena->has_allocator = 1;
    }

    arena->chunk_size = chunk_size ? chunk_size : 4096;
    arena->total = sizeof(kube_arena_t);

    return arena;
}


void
kube_arena_destroy(kube_arena_t *arena)
{
    kube_arena_chunk_t      *c, *next;
    const kube_allocator_t  *a;

    if (arena == NULL) {
        return;
    }

    a = kube_arena_allocator(arena);

    for (c = arena->chunks; c != NULL; c = next) {
        next = c->next;
        kube_free(a, c);
    }

    kube_free(a, arena);
}


void *
kube_arena_alloc(kube_arena_t *arena, size_t size)
{
    size_t               need, csize;
    unsigned char       *p;
    kube_arena_chunk_t  *c;

    if (size > ((size_t) -1) / 2) {
        return NULL;
    }

    need = kube_arena_align(size ? size : 1);
    c = arena->chunks;

    if (c == NULL || c->size - c->used < need) {
        csize = need > arena->chunk_size ? need : arena->chunk_size;

        c = kube_alloc(kube_arena_allocator(arena), KUBE_CHUNK_HDR + csize);
        if (c == NULL) {
            return NULL;
        }

        c->size = csize;
        c->used = 0;
        arena->total += KUBE_CHUNK_HDR + csize;

        if (arena->chunks != NULL && need > arena->chunk_size) {
            /* a big one-off block: keep filling the current chunk */
            c->next = arena->chunks->next;
            arena->chunks->next = c;

        } else {
            c->next = arena->chunks;
            arena->chunks = c;
        }
    }

    p = (unsigned char *) c + KUBE_CHUNK_HDR + c->used;
    c->used += need;

    return p;
}


void *
kube_arena_calloc(kube_arena_t *arena, size_t n, size_t size)
{
    void  *p;

    if (size != 0 && n > ((size_t) -1) / 2 / size) {
        return NULL;
    }

    p = kube_arena_alloc(arena, n * size);
    if (p != NULL) {
        memset(p, 0, n * size);
    }

    return p;
}


char *
kube_arena_strndup(kube_arena_t *arena, const char *s, size_t len)
{
    char  *p;

    p = kube_arena_alloc(arena, len + 1);
    if (p == NULL) {
        return NULL;
    }

    memcpy(p, s, len);
    p[len] = '\0';

    return p;
}


char *
kube_arena_strdup(kube_arena_t *arena, const char *s)
{
    return kube_arena_strndup(arena, s, strlen(s));
}


size_t
kube_arena_size(const kube_arena_t *arena)
{
    return arena->total;
}
