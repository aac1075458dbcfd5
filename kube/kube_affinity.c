/*
 * kubengx kube/: cookie affinity values (see kube_affinity.h).
 */

#include "kube_affinity.h"


/* splitmix64's finalizer: every input bit moves every output bit */
static uint64_t
kube_affinity_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;

    return x;
}


uint64_t
kube_affinity_id(const char *name, size_t len, unsigned side)
{
    size_t    i;
    uint64_t  h;

    /* FNV-1a, then mixed */

    h = 0xcbf29ce484222325ULL;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char) name[i];
        h *= 0x100000001b3ULL;
    }

    return (kube_affinity_mix(h) & ~(uint64_t) 1) | (side & 1);
}


uint64_t
kube_affinity_score(uint64_t key, uint64_t id)
{
    return kube_affinity_mix(key ^ kube_affinity_mix(id));
}


void
kube_affinity_format(uint64_t v, char *out)
{
    int                      i;
    static const char  hex[] = "0123456789abcdef";

    for (i = KUBE_AFFINITY_VALUE_LEN - 1; i >= 0; i--) {
        out[i] = hex[v & 0xf];
        v >>= 4;
    }
}


int
kube_affinity_parse(const char *s, size_t len, uint64_t *v)
{
    size_t    i;
    uint64_t  n;
    char      c;

    if (len != KUBE_AFFINITY_VALUE_LEN) {
        return -1;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        c = s[i];

        if (c >= '0' && c <= '9') {
            n = n << 4 | (uint64_t) (c - '0');

        } else if (c >= 'a' && c <= 'f') {
            n = n << 4 | (uint64_t) (c - 'a' + 10);

        } else {
            return -1;
        }
    }

    *v = n;

    return 0;
}
