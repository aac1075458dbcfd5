
/*
 * kubengx generator: the server name hash that nginx needs for the
 * rendered hosts (render.c writes the directives).
 *
 * nginx keeps the exact server names of each listen address in a hash
 * (ngx_hash_init() in nginx's src/core/ngx_hash.c, 1.22): each name
 * takes sizeof(void *) + its length + 2 rounded up to a pointer, a bucket
 * of server_names_hash_bucket_size bytes (64 by default on x86-64) ends
 * with a pointer, and nginx tries table sizes up to
 * server_names_hash_max_size (512 by default) until every bucket holds
 * its names (a name goes to bucket ngx_hash_key(name) % size).
 *
 * - A name of 47 characters or more fits no default bucket, and nginx
 *   refuses the whole config: the bucket size is raised to the power of
 *   two the longest exact host needs.
 * - A default bucket holds one name of 15 characters or more, so nginx
 *   needs a table of at most 512 buckets in which no two such names
 *   meet: likely for 50 names, unlikely for 100, impossible past 512.
 *   Without one nginx warns ("could not build optimal
 *   server_names_hash") and puts the names in 512 buckets of any size,
 *   so that every request scans about names/512 of them.
 *   kngx_names_hash() then finds, the way nginx searches, a table size
 *   and a bucket size that hold these
 *   names (the sizes of n to n + 63 buckets, buckets of 256 bytes and
 *   more), which render.c writes as server_names_hash_max_size and
 *   _bucket_size: nginx finds a table of at most that size without a
 *   warning, for the names of every listen address (each holds a subset
 *   of them).  Names of the user's own servers on the same addresses are
 *   not counted.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"


#define KNGX_NGX_PTR          sizeof(void *)
#define KNGX_NAMES_MAX_SIZE   512      /* nginx's defaults */
#define KNGX_NAMES_BUCKET     64
#define KNGX_NAMES_TRIES      64


typedef struct {
    uintptr_t    hash;        /* ngx_hash_key(): key * 31 + c */
    size_t       size;        /* NGX_HASH_ELT_SIZE() */
} kngx_hname_t;


static size_t
kngx_names_elt(size_t len)
{
    return KNGX_NGX_PTR + ((len + 2 + KNGX_NGX_PTR - 1)
                           & ~(KNGX_NGX_PTR - 1));
}


static void
kngx_names_add(kngx_hname_t *n, const char *name)
{
    uintptr_t  key = 0;
    size_t     len;

    for (len = 0; name[len]; len++) {
        key = key * 31 + (unsigned char) name[len];
    }

    n->hash = key;
    n->size = kngx_names_elt(len);
}


/* whether a table of size buckets of bucket bytes holds the names */
static int
kngx_names_fit(const kngx_hname_t *names, size_t n, size_t size,
    size_t bucket, unsigned short *test)
{
    size_t  i, key, len;

    memset(test, 0, size * sizeof(unsigned short));

    for (i = 0; i < n; i++) {
        key = names[i].hash % size;
        len = test[key] + names[i].size;

        if (len > bucket - KNGX_NGX_PTR) {
            return 0;
        }

        test[key] = (unsigned short) len;
    }

    return 1;
}


/* nginx's search with the default max_size: any size from its start */
static int
kngx_names_fit_default(const kngx_hname_t *names, size_t n, size_t bucket,
    unsigned short *test)
{
    size_t  size, start;

    start = n / ((bucket - KNGX_NGX_PTR) / (2 * KNGX_NGX_PTR));

    for (size = start ? start : 1; size <= KNGX_NAMES_MAX_SIZE; size++) {
        if (kngx_names_fit(names, n, size, bucket, test)) {
            return 1;
        }
    }

    return 0;
}


int
kngx_names_hash(const kngx_plan_t *p, size_t *max_size, size_t *bucket)
{
    kngx_hname_t    *names;
    unsigned short  *test;
    const char      *h;
    size_t           i, a, n, longest, need, size, b;
    int              rc = 0;

    *max_size = 0;
    *bucket = 0;

    for (i = 0, n = p->nservers + 1; i < p->nservers; i++) {
        n += p->servers[i].naliases;
    }

    names = malloc(n * sizeof(kngx_hname_t));
    if (names == NULL) {
        return -1;
    }

    /* the exact hosts and aliases, and "_" of the default servers */
    n = 0;
    longest = 1;
    kngx_names_add(&names[n++], "_");

    for (i = 0; i < p->nservers; i++) {
        for (a = 0; a <= p->servers[i].naliases; a++) {
            h = a ? p->servers[i].aliases[a - 1] : p->servers[i].host;

            if (h[0] != '*') {
                kngx_names_add(&names[n++], h);
                longest = names[n - 1].size > longest ? names[n - 1].size
                                                      : longest;
            }
        }
    }

    need = KNGX_NAMES_BUCKET;
    while (need < longest + KNGX_NGX_PTR) {
        need *= 2;
    }

    test = malloc((n + KNGX_NAMES_TRIES + KNGX_NAMES_MAX_SIZE)
                  * sizeof(unsigned short));
    if (test == NULL) {
        free(names);
        return -1;
    }

    if (kngx_names_fit_default(names, n, need, test)) {
        *bucket = need > KNGX_NAMES_BUCKET ? need : 0;
        goto done;
    }

    for (b = need > 256 ? need : 256; b <= 32768; b *= 2) {
        for (size = n; size < n + KNGX_NAMES_TRIES; size++) {
            if (kngx_names_fit(names, n, size, b, test)) {
                *max_size = size;
                *bucket = b;
                goto done;
            }
        }
    }

    rc = -1;    /* not reached: 32 KiB buckets hold 100s of names each */

done:

    free(test);
    free(names);

    return rc;
}
