/*
 * kubengx kube/: the values of cookie session affinity (the module's
 * k8s_affinity, ngx_module/ngx_http_k8s_affinity.c).
 *
 * A cookie value is 16 lowercase hex digits, a 64-bit number whose
 * lowest bit says the side (0: the primary Service, 1: the canary) and
 * whose other bits are, in mode "persistent", the endpoint's identity
 * (a hash of its "address:port", the same in every table version, every
 * worker and after a reload or restart), in mode "balanced" a session
 * key that rendezvous hashing (highest score over the endpoints) maps
 * to an endpoint: adding an endpoint moves only the sessions it wins
 * (about 1/(n+1) of them), removing one moves only its own.
 */

#ifndef KUBE_AFFINITY_H
#define KUBE_AFFINITY_H

#include <stddef.h>
#include <stdint.h>


#define KUBE_AFFINITY_VALUE_LEN  16

/* the identity of an endpoint "address:port" on side (0 or 1) */
uint64_t kube_affinity_id(const char *name, size_t len, unsigned side);

/* the score of an endpoint identity for a session key */
uint64_t kube_affinity_score(uint64_t key, uint64_t id);

/* 16 hex digits into out (not NUL-terminated) */
void kube_affinity_format(uint64_t v, char *out);

/* 0 and *v, or -1 when s is not 16 hex digits */
int kube_affinity_parse(const char *s, size_t len, uint64_t *v);


#endif /* KUBE_AFFINITY_H */
