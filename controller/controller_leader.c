
/*
 * kubengx controller: leader election with a coordination.k8s.io/v1
 * Lease, and the Ingress status only the leader writes.
 *
 * The algorithm of client-go's leader election: every retry
 * period GET the Lease; absent: create it holding it; held by another
 * and not expired: follow, where "expired" is judged by the LOCAL time
 * this replica last saw the record change (observed_ms), so clock skew
 * does not matter; expired, free or ours: PUT it with our identity and
 * the read resourceVersion (a 409 means another replica won).  A leader
 * that cannot renew within the renew deadline stops leading.  On
 * shutdown the leader releases the Lease (empty holder, 1 s duration).
 *
 * Status: the leader sets status.loadBalancer.ingress of every served
 * Ingress to the --publish-address list or the load balancer addresses
 * of the --publish-service Service (merge PATCH on /status), only when
 * they differ, and clears it on Ingresses it stopped serving that still
 * carry exactly that list.
 */

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "controller.h"


#define KNGX_LEASES  "/apis/coordination.k8s.io/v1/namespaces/"


static void
kngx_ctl_micro_time(char *buf, size_t size)
{
    struct timeval  tv;
    struct tm       tm;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (long) tv.tv_usec);
}


static void
kngx_ctl_lead(kngx_ctl_t *ctl, int leader, const char *why)
{
    if (ctl->leader == (unsigned) leader) {
        return;
    }

    ctl->leader = leader ? 1 : 0;
    ctl->m.lease_transitions_seen++;

    kngx_ctl_log("leader election: %s (%s)", leader ? "became the leader"
                 : "stopped leading", why);

    if (leader) {
        kngx_ctl_status_sync(ctl);

        /* only the leader posts Events: a sync now turns the warnings of
         * the current objects into Events (unchanged text: no reload) */
        kngx_ctl_mark_dirty(ctl, "became the leader");
    }
}


static json_t *
kngx_ctl_lease_spec(kngx_ctl_t *ctl, const char *acquire, long transitions)
{
    char  now[64];

    kngx_ctl_micro_time(now, sizeof(now));

    return json_pack("{s:s, s:I, s:s, s:s, s:I}",
                     "holderIdentity", ctl->conf.identity,
                     "leaseDurationSeconds",
                     (json_int_t) (ctl->conf.lease_ms / 1000),
                     "acquireTime", acquire ? acquire : now,
                     "renewTime", now,
                     "leaseTransitions", (json_int_t) transitions);
}


static void
kngx_ctl_lease_observe(kngx_ctl_t *ctl, json_t *spec, uint64_t now)
{
    char        *rec;
    const char  *holder;

    rec = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
    if (rec == NULL) {
        return;
    }

    if (ctl->observed == NULL || strcmp(rec, ctl->observed) != 0) {
        free(ctl->observed);
        ctl->observed = rec;
        ctl->observed_ms = now;

        holder = json_string_value(json_object_get(spec, "holderIdentity"));
        if (holder && holder[0] && strcmp(holder, ctl->conf.identity) != 0
            && (ctl->holder == NULL || strcmp(ctl->holder, holder) != 0))
        {
            free(ctl->holder);
            ctl->holder = strdup(holder);
            kngx_ctl_log("leader election: the Lease is held by %s",
                         holder);
        }

    } else {
        free(rec);
    }
}


/*
 * One round, asynchronous: GET the Lease (kngx_ctl_lease_got), then
 * POST or PUT it (kngx_ctl_lease_written); lease_busy is set meanwhile
 * and the next round starts a retry period after this one ended.
 */

typedef struct {
    json_t      *spec;          /* the spec written */
    unsigned     ours:1;        /* we held it before */
    unsigned     created:1;
} kngx_ctl_lease_write_t;


/* a leader that has not renewed within the renew deadline stops */

static void
kngx_ctl_lease_deadline(kngx_ctl_t *ctl, uint64_t now)
{
    if (ctl->leader && now - ctl->renewed_ms > ctl->conf.renew_ms) {
        kngx_ctl_lead(ctl, 0, "could not renew within the renew deadline");
    }
}


static void
kngx_ctl_lease_round_end(kngx_ctl_t *ctl, int ok)
{
    uint64_t  now, jitter;

    now = kngx_ctl_now();

    if (!ok) {
        kngx_ctl_lease_deadline(ctl, now);
    }

    jitter = ctl->leader ? 0
             : (uint64_t) ((double) ctl->conf.retry_ms * 0.2
                           * ((double) rand() / RAND_MAX));

    ctl->lease_busy = 0;
    ctl->leader_next_ms = now + ctl->conf.retry_ms + jitter;
}


static void
kngx_ctl_lease_written(kngx_ctl_t *ctl, long st, json_t *resp, void *data)
{
    kngx_ctl_lease_write_t  *w = data;
    uint64_t                 now;

    if (ctl->calls_closing || ctl->stopping) {
        ctl->lease_busy = 0;
        goto done;
    }

    now = kngx_ctl_now();

    if (w->created ? (st >= 200 && st < 300) : st == 200) {
        ctl->renewed_ms = now;
        kngx_ctl_lease_observe(ctl, w->spec, now);
        kngx_ctl_lead(ctl, 1, w->created ? "created the Lease"
                              : w->ours ? "renewed" : "acquired the Lease");
        kngx_ctl_lease_round_end(ctl, 1);
        goto done;
    }

    /* 409: another replica wrote it first */

    kngx_ctl_lease_round_end(ctl, 0);

done:

    json_decref(w->spec);
    free(w);
}


static int
kngx_ctl_lease_write(kngx_ctl_t *ctl, const char *method, const char *path,
    json_t *body, json_t *spec, int ours, int created)
{
    kngx_ctl_lease_write_t  *w;

    w = calloc(1, sizeof(kngx_ctl_lease_write_t));
    if (w == NULL) {
        return -1;
    }

    w->spec = json_incref(spec);
    w->ours = ours ? 1 : 0;
    w->created = created ? 1 : 0;

    if (kngx_ctl_api_start(ctl, method, path, body, NULL, 1,
                           kngx_ctl_lease_written, w)
        != 0)
    {
        json_decref(w->spec);
        free(w);
        return -1;
    }

    return 0;
}


static void
kngx_ctl_lease_got(kngx_ctl_t *ctl, long st, json_t *lease, void *data)
{
    json_t      *spec, *nspec, *body;
    const char  *holder, *acquire;
    char         path[2048], coll[1024];
    long         transitions;
    json_int_t   dur;
    uint64_t     now;
    int          ours, rc;

    if (ctl->calls_closing || ctl->stopping) {
        ctl->lease_busy = 0;
        return;
    }

    now = kngx_ctl_now();

    snprintf(coll, sizeof(coll), KNGX_LEASES "%s/leases",
             ctl->conf.election_ns);
    snprintf(path, sizeof(path), "%s/%s", coll, ctl->conf.election_id);

    if (st == 404) {
        nspec = kngx_ctl_lease_spec(ctl, NULL, 0);
        body = json_pack("{s:s, s:s, s:{s:s, s:s}, s:O}",
                         "apiVersion", "coordination.k8s.io/v1",
                         "kind", "Lease",
                         "metadata", "name", ctl->conf.election_id,
                         "namespace", ctl->conf.election_ns,
                         "spec", nspec);
        rc = body ? kngx_ctl_lease_write(ctl, "POST", coll, body, nspec, 0,
                                         1)
                  : -1;
        json_decref(body);
        json_decref(nspec);

        if (rc != 0) {
            kngx_ctl_lease_round_end(ctl, 0);
        }
        return;
    }

    if (st != 200 || !json_is_object(lease)) {
        kngx_ctl_lease_round_end(ctl, 0);
        return;
    }

    spec = json_object_get(lease, "spec");
    if (!json_is_object(spec)) {
        spec = json_object();
        json_object_set_new(lease, "spec", spec);
    }

    kngx_ctl_lease_observe(ctl, spec, now);

    holder = json_string_value(json_object_get(spec, "holderIdentity"));
    ours = holder && strcmp(holder, ctl->conf.identity) == 0;
    dur = json_integer_value(json_object_get(spec, "leaseDurationSeconds"));
    if (dur <= 0) {
        dur = (json_int_t) (ctl->conf.lease_ms / 1000);
    }

    if (!ours && holder && holder[0]
        && now < ctl->observed_ms + (uint64_t) dur * 1000)
    {
        kngx_ctl_lead(ctl, 0, "another replica holds the Lease");
        kngx_ctl_lease_round_end(ctl, 1);
        return;
    }

    transitions = (long) json_integer_value(json_object_get(spec,
                                            "leaseTransitions"));
    acquire = json_string_value(json_object_get(spec, "acquireTime"));

    nspec = kngx_ctl_lease_spec(ctl, ours ? acquire : NULL,
                                ours ? transitions : transitions + 1);
    if (nspec == NULL) {
        kngx_ctl_lease_round_end(ctl, 0);
        return;
    }

    /* the read object with the new spec: its resourceVersion guards it */

    json_object_set(lease, "spec", nspec);

    rc = kngx_ctl_lease_write(ctl, "PUT", path, lease, nspec, ours, 0);
    json_decref(nspec);

    if (rc != 0) {
        kngx_ctl_lease_round_end(ctl, 0);
    }
}


uint64_t
kngx_ctl_leader_step(kngx_ctl_t *ctl, uint64_t now)
{
    char  path[2048];

    if (!ctl->conf.leader_elect) {
        if (!ctl->leader) {
            kngx_ctl_lead(ctl, 1, "leader election disabled");
        }
        return 0;
    }

    if (ctl->stopping) {
        return 0;
    }

    if (ctl->lease_busy) {
        /* a round that hangs: the deadline still applies */

        kngx_ctl_lease_deadline(ctl, now);

        return ctl->leader ? ctl->renewed_ms + ctl->conf.renew_ms + 1 : 0;
    }

    if (now < ctl->leader_next_ms) {
        return ctl->leader_next_ms;
    }

    snprintf(path, sizeof(path), KNGX_LEASES "%s/leases/%s",
             ctl->conf.election_ns, ctl->conf.election_id);

    if (kngx_ctl_api_start(ctl, "GET", path, NULL, NULL, 1,
                           kngx_ctl_lease_got, NULL)
        != 0)
    {
        kngx_ctl_lease_round_end(ctl, 0);
        return ctl->leader_next_ms;
    }

    ctl->lease_busy = 1;

    return 0;
}


void
kngx_ctl_leader_release(kngx_ctl_t *ctl)
{
    json_t      *lease = NULL, *spec;
    const char  *holder;
    char         path[1024], now[64];

    if (!ctl->conf.leader_elect || !ctl->leader) {
        return;
    }

    snprintf(path, sizeof(path), KNGX_LEASES "%s/leases/%s",
             ctl->conf.election_ns, ctl->conf.election_id);

    if (kngx_ctl_api_call(ctl, "GET", path, NULL, NULL, &lease) != 200
        || lease == NULL)
    {
        goto done;
    }

    spec = json_object_get(lease, "spec");
    holder = json_string_value(json_object_get(spec, "holderIdentity"));

    if (holder == NULL || strcmp(holder, ctl->conf.identity) != 0) {
        goto done;
    }

    kngx_ctl_micro_time(now, sizeof(now));
    json_object_set_new(spec, "holderIdentity", json_string(""));
    json_object_set_new(spec, "leaseDurationSeconds", json_integer(1));
    json_object_set_new(spec, "renewTime", json_string(now));

    if (kngx_ctl_api_call(ctl, "PUT", path, lease, NULL, NULL) == 200) {
        kngx_ctl_log("leader election: released the Lease");
    }

done:

    ctl->leader = 0;
    json_decref(lease);
}


/* ---- status -------------------------------------------------------------- */

static json_t *
kngx_ctl_addr_item(const char *a)
{
    unsigned char  buf[16];

    if (inet_pton(AF_INET, a, buf) == 1 || inet_pton(AF_INET6, a, buf) == 1)
    {
        return json_pack("{s:s}", "ip", a);
    }

    return json_pack("{s:s}", "hostname", a);
}


/* the addresses to publish; NULL if none is known */
static json_t *
kngx_ctl_status_desired(kngx_ctl_t *ctl)
{
    json_t      *arr, *svc, *lb, *item, *ips;
    const char  *ip, *host;
    char         buf[1024], *p, *save = NULL, *tok;
    size_t       i;

    arr = json_array();
    if (arr == NULL) {
        return NULL;
    }

    if (ctl->conf.publish_address) {
        snprintf(buf, sizeof(buf), "%s", ctl->conf.publish_address);

        for (p = buf; (tok = strtok_r(p, ",", &save)) != NULL; p = NULL) {
            while (*tok == ' ') {
                tok++;
            }
            if (*tok) {
                json_array_append_new(arr, kngx_ctl_addr_item(tok));
            }
        }

    } else if (ctl->conf.publish_service) {
        snprintf(buf, sizeof(buf), "%s", ctl->conf.publish_service);
        p = strchr(buf, '/');
        *p++ = '\0';

        svc = kngx_ctl_store_get(ctl, KNGX_KIND_SERVICE, buf, p);
        lb = json_object_get(json_object_get(json_object_get(svc, "status"),
                                             "loadBalancer"), "ingress");

        json_array_foreach(lb, i, item) {
            ip = json_string_value(json_object_get(item, "ip"));
            host = json_string_value(json_object_get(item, "hostname"));
            if (ip) {
                json_array_append_new(arr, json_pack("{s:s}", "ip", ip));
            } else if (host) {
                json_array_append_new(arr,
                                      json_pack("{s:s}", "hostname", host));
            }
        }

        if (json_array_size(arr) == 0) {
            ips = json_object_get(json_object_get(svc, "spec"),
                                  "externalIPs");
            json_array_foreach(ips, i, item) {
                if (json_is_string(item)) {
                    json_array_append_new(arr, json_pack("{s:s}", "ip",
                                          json_string_value(item)));
                }
            }
        }
    }

    if (json_array_size(arr) == 0) {
        json_decref(arr);
        return NULL;
    }

    return arr;
}


typedef struct {
    char        *key;           /* "ns/name" */
    unsigned     published:1;
} kngx_ctl_status_call_t;


static void
kngx_ctl_status_logged(kngx_ctl_t *ctl, long st, const char *key,
    int published)
{
    if (st == 200) {
        ctl->m.status_updates++;
        kngx_ctl_log("status: Ingress %s %s", key,
                     published ? "address published" : "address cleared");
    } else {
        ctl->m.status_errors++;
    }
}


static void
kngx_ctl_status_patched(kngx_ctl_t *ctl, long st, json_t *resp, void *data)
{
    kngx_ctl_status_call_t  *c = data;

    if (!ctl->calls_closing) {
        kngx_ctl_status_logged(ctl, st, c->key, c->published);
    }

    free(c->key);
    free(c);

    ctl->status_busy--;

    /* what changed while these were out is done now */

    if (ctl->status_busy == 0 && ctl->status_again && !ctl->calls_closing) {
        ctl->status_again = 0;
        kngx_ctl_status_sync(ctl);
    }
}


/*
 * Merge-PATCH status.loadBalancer.ingress of ns/name; asynchronous, or
 * blocking when sync (at shutdown: the first SIGTERM, the loop then only
 * waits for nginx to quit).
 */

static void
kngx_ctl_status_patch(kngx_ctl_t *ctl, const char *ns, const char *name,
    json_t *ingress, int sync)
{
    json_t                  *body;
    char                     path[1024], key[1024];
    long                     st;
    kngx_ctl_status_call_t  *c;

    snprintf(path, sizeof(path), "/apis/networking.k8s.io/v1/namespaces/%s/"
             "ingresses/%s/status", ns, name);
    snprintf(key, sizeof(key), "%s/%s", ns, name);

    body = json_pack("{s:{s:{s:O}}}", "status", "loadBalancer", "ingress",
                     ingress ? ingress : json_null());
    if (body == NULL) {
        return;
    }

    if (sync) {
        st = kngx_ctl_api_call(ctl, "PATCH", path, body,
                               "application/merge-patch+json", NULL);
        kngx_ctl_status_logged(ctl, st, key, ingress != NULL);
        json_decref(body);
        return;
    }

    c = calloc(1, sizeof(kngx_ctl_status_call_t));
    if (c == NULL || (c->key = strdup(key)) == NULL) {
        free(c);
        json_decref(body);
        return;
    }

    c->published = ingress ? 1 : 0;

    if (kngx_ctl_api_start(ctl, "PATCH", path, body,
                           "application/merge-patch+json", 0,
                           kngx_ctl_status_patched, c)
        != 0)
    {
        ctl->m.status_errors++;
        free(c->key);
        free(c);

    } else {
        ctl->status_busy++;
    }

    json_decref(body);
}


static json_t *
kngx_ctl_status_current(json_t *ing)
{
    return json_object_get(json_object_get(json_object_get(ing, "status"),
                                           "loadBalancer"), "ingress");
}


static int
kngx_ctl_is_served(kngx_ctl_t *ctl, const char *key)
{
    json_t  *v;
    size_t   i;

    json_array_foreach(ctl->served, i, v) {
        if (strcmp(json_string_value(v), key) == 0) {
            return 1;
        }
    }

    return 0;
}


static void
kngx_ctl_split(const char *key, char *ns, size_t size, const char **name)
{
    const char  *slash = strchr(key, '/');
    size_t       n = slash ? (size_t) (slash - key) : 0;

    if (n >= size) {
        n = size - 1;
    }

    memcpy(ns, key, n);
    ns[n] = '\0';
    *name = slash ? slash + 1 : key;
}


void
kngx_ctl_status_sync(kngx_ctl_t *ctl)
{
    json_t      *want, *ing, *cur, *empty;
    const char  *key, *name;
    char         ns[512];

    if (!ctl->leader || ctl->served == NULL || ctl->stopping
        || (ctl->conf.publish_address == NULL
            && ctl->conf.publish_service == NULL))
    {
        return;
    }

    /* patches still out: compare again once they are answered */

    if (ctl->status_busy) {
        ctl->status_again = 1;
        return;
    }

    want = kngx_ctl_status_desired(ctl);
    if (want == NULL) {
        return;
    }

    empty = json_array();

    json_object_foreach(ctl->kinds[KNGX_KIND_INGRESS].objects, key, ing) {
        cur = kngx_ctl_status_current(ing);
        kngx_ctl_split(key, ns, sizeof(ns), &name);

        if (kngx_ctl_is_served(ctl, key)) {
            if (!json_equal(cur ? cur : empty, want)) {
                kngx_ctl_status_patch(ctl, ns, name, want, 0);
            }

        } else if (cur && json_array_size(cur) && json_equal(cur, want)) {
            kngx_ctl_status_patch(ctl, ns, name, NULL, 0);
        }
    }

    json_decref(empty);
    json_decref(want);
}


void
kngx_ctl_status_clear(kngx_ctl_t *ctl)
{
    json_t      *v, *ing;
    const char  *name;
    char         ns[512];
    size_t       i;

    if (!ctl->leader || ctl->served == NULL) {
        return;
    }

    json_array_foreach(ctl->served, i, v) {
        kngx_ctl_split(json_string_value(v), ns, sizeof(ns), &name);
        ing = kngx_ctl_store_get(ctl, KNGX_KIND_INGRESS, ns, name);

        if (json_array_size(kngx_ctl_status_current(ing))) {
            kngx_ctl_status_patch(ctl, ns, name, NULL, 1);
        }
    }
}
