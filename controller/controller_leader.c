
/*
 * kubengx controller: leader election with a coordination.k8s.io/v1
 * Lease.
 *
 * The algorithm of client-go's leader election: every retry
 * period GET the Lease; absent: create it holding it; held by another
 * and not expired: follow, where "expired" is judged by the LOCAL time
 * this replica last saw the record change (observed_ms), so clock skew
 * does not matter; expired, free or ours: PUT it with our identity and
 * the read resourceVersion (a 409 means another replica won).  A leader
 * that cannot renew within the renew deadline stops leading.  On
 * shutdown the leader releases the Lease (empty holder, 1 s duration).
 * The owner hears when this replica becomes or stops being the leader
 * (the Ingress status, controller_status.c, and the Events of plan
 * warnings, controller_events.c, are the leader's).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "controller_leader.h"
#include "controller_log.h"


#define KNGX_LEASES  "/apis/coordination.k8s.io/v1/namespaces/"


struct kngx_ctl_leader_s {
    kngx_ctl_leader_conf_t   conf;
    kngx_ctl_api_t          *api;
    kngx_ctl_lead_pt         lead;
    void                    *data;

    unsigned                 leader:1;
    unsigned                 busy:1;        /* a Lease request is out */
    unsigned                 stopping:1;
    uint64_t                 next_ms;       /* the next round */
    uint64_t                 renewed_ms;
    uint64_t                 observed_ms;
    char                    *observed;      /* spec as JSON text */
    char                    *holder;
};


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
kngx_ctl_lead(kngx_ctl_leader_t *l, int leader, const char *why)
{
    if (l->leader == (unsigned) leader) {
        return;
    }

    l->leader = leader ? 1 : 0;

    kngx_ctl_log("leader election: %s (%s)", leader ? "became the leader"
                 : "stopped leading", why);

    l->lead(l->data, leader);
}


static json_t *
kngx_ctl_lease_spec(kngx_ctl_leader_t *l, const char *acquire,
    long transitions)
{
    char  now[64];

    kngx_ctl_micro_time(now, sizeof(now));

    return json_pack("{s:s, s:I, s:s, s:s, s:I}",
                     "holderIdentity", l->conf.identity,
                     "leaseDurationSeconds",
                     (json_int_t) (l->conf.lease_ms / 1000),
                     "acquireTime", acquire ? acquire : now,
                     "renewTime", now,
                     "leaseTransitions", (json_int_t) transitions);
}


static void
kngx_ctl_lease_observe(kngx_ctl_leader_t *l, json_t *spec, uint64_t now)
{
    char        *rec;
    const char  *holder;

    rec = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
    if (rec == NULL) {
        return;
    }

    if (l->observed == NULL || strcmp(rec, l->observed) != 0) {
        free(l->observed);
        l->observed = rec;
        l->observed_ms = now;

        holder = json_string_value(json_object_get(spec, "holderIdentity"));
        if (holder && holder[0] && strcmp(holder, l->conf.identity) != 0
            && (l->holder == NULL || strcmp(l->holder, holder) != 0))
        {
            free(l->holder);
            l->holder = strdup(holder);
            kngx_ctl_log("leader election: the Lease is held by %s",
                         holder);
        }

    } else {
        free(rec);
    }
}


/*
 * One round, asynchronous: GET the Lease (kngx_ctl_lease_got), then
 * POST or PUT it (kngx_ctl_lease_written); busy is set meanwhile and the
 * next round starts a retry period after this one ended.
 */

typedef struct {
    kngx_ctl_leader_t  *l;
    json_t             *spec;       /* the spec written */
    unsigned            ours:1;     /* we held it before */
    unsigned            created:1;
} kngx_ctl_lease_write_t;


/* a leader that has not renewed within the renew deadline stops */

static void
kngx_ctl_lease_deadline(kngx_ctl_leader_t *l, uint64_t now)
{
    if (l->leader && now - l->renewed_ms > l->conf.renew_ms) {
        kngx_ctl_lead(l, 0, "could not renew within the renew deadline");
    }
}


static void
kngx_ctl_lease_round_end(kngx_ctl_leader_t *l, int ok)
{
    uint64_t  now, jitter;

    now = kngx_ctl_now();

    if (!ok) {
        kngx_ctl_lease_deadline(l, now);
    }

    jitter = l->leader ? 0
             : (uint64_t) ((double) l->conf.retry_ms * 0.2
                           * ((double) rand() / RAND_MAX));

    l->busy = 0;
    l->next_ms = now + l->conf.retry_ms + jitter;
}


static void
kngx_ctl_lease_written(void *data, long st, json_t *resp)
{
    kngx_ctl_lease_write_t  *w = data;
    kngx_ctl_leader_t       *l = w->l;
    uint64_t                 now;

    if (kngx_ctl_api_closing(l->api) || l->stopping) {
        l->busy = 0;
        goto done;
    }

    now = kngx_ctl_now();

    if (w->created ? (st >= 200 && st < 300) : st == 200) {
        l->renewed_ms = now;
        kngx_ctl_lease_observe(l, w->spec, now);
        kngx_ctl_lead(l, 1, w->created ? "created the Lease"
                            : w->ours ? "renewed" : "acquired the Lease");
        kngx_ctl_lease_round_end(l, 1);
        goto done;
    }

    /* 409: another replica wrote it first */

    kngx_ctl_lease_round_end(l, 0);

done:

    json_decref(w->spec);
    free(w);
}


static int
kngx_ctl_lease_write(kngx_ctl_leader_t *l, const char *method,
    const char *path, json_t *body, json_t *spec, int ours, int created)
{
    kngx_ctl_lease_write_t  *w;

    w = calloc(1, sizeof(kngx_ctl_lease_write_t));
    if (w == NULL) {
        return -1;
    }

    w->l = l;
    w->spec = json_incref(spec);
    w->ours = ours ? 1 : 0;
    w->created = created ? 1 : 0;

    if (kngx_ctl_api_start(l->api, method, path, body, NULL, 1,
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
kngx_ctl_lease_got(void *data, long st, json_t *lease)
{
    kngx_ctl_leader_t  *l = data;
    json_t      *spec, *nspec, *body;
    const char  *holder, *acquire;
    char         path[2048], coll[1024];
    long         transitions;
    json_int_t   dur;
    uint64_t     now;
    int          ours, rc;

    if (kngx_ctl_api_closing(l->api) || l->stopping) {
        l->busy = 0;
        return;
    }

    now = kngx_ctl_now();

    snprintf(coll, sizeof(coll), KNGX_LEASES "%s/leases",
             l->conf.ns);
    snprintf(path, sizeof(path), "%s/%s", coll, l->conf.id);

    if (st == 404) {
        nspec = kngx_ctl_lease_spec(l, NULL, 0);
        body = json_pack("{s:s, s:s, s:{s:s, s:s}, s:O}",
                         "apiVersion", "coordination.k8s.io/v1",
                         "kind", "Lease",
                         "metadata", "name", l->conf.id,
                         "namespace", l->conf.ns,
                         "spec", nspec);
        rc = body ? kngx_ctl_lease_write(l, "POST", coll, body, nspec, 0,
                                         1)
                  : -1;
        json_decref(body);
        json_decref(nspec);

        if (rc != 0) {
            kngx_ctl_lease_round_end(l, 0);
        }
        return;
    }

    if (st != 200 || !json_is_object(lease)) {
        kngx_ctl_lease_round_end(l, 0);
        return;
    }

    spec = json_object_get(lease, "spec");
    if (!json_is_object(spec)) {
        spec = json_object();
        json_object_set_new(lease, "spec", spec);
    }

    kngx_ctl_lease_observe(l, spec, now);

    holder = json_string_value(json_object_get(spec, "holderIdentity"));
    ours = holder && strcmp(holder, l->conf.identity) == 0;
    dur = json_integer_value(json_object_get(spec, "leaseDurationSeconds"));
    if (dur <= 0) {
        dur = (json_int_t) (l->conf.lease_ms / 1000);
    }

    if (!ours && holder && holder[0]
        && now < l->observed_ms + (uint64_t) dur * 1000)
    {
        kngx_ctl_lead(l, 0, "another replica holds the Lease");
        kngx_ctl_lease_round_end(l, 1);
        return;
    }

    transitions = (long) json_integer_value(json_object_get(spec,
                                            "leaseTransitions"));
    acquire = json_string_value(json_object_get(spec, "acquireTime"));

    nspec = kngx_ctl_lease_spec(l, ours ? acquire : NULL,
                                ours ? transitions : transitions + 1);
    if (nspec == NULL) {
        kngx_ctl_lease_round_end(l, 0);
        return;
    }

    /* the read object with the new spec: its resourceVersion guards it */

    json_object_set(lease, "spec", nspec);

    rc = kngx_ctl_lease_write(l, "PUT", path, lease, nspec, ours, 0);
    json_decref(nspec);

    if (rc != 0) {
        kngx_ctl_lease_round_end(l, 0);
    }
}


uint64_t
kngx_ctl_leader_step(kngx_ctl_leader_t *l, uint64_t now)
{
    char  path[2048];

    if (!l->conf.elect) {
        if (!l->leader) {
            kngx_ctl_lead(l, 1, "leader election disabled");
        }
        return 0;
    }

    if (l->stopping) {
        return 0;
    }

    if (l->busy) {
        /* a round that hangs: the deadline still applies */

        kngx_ctl_lease_deadline(l, now);

        return l->leader ? l->renewed_ms + l->conf.renew_ms + 1 : 0;
    }

    if (now < l->next_ms) {
        return l->next_ms;
    }

    snprintf(path, sizeof(path), KNGX_LEASES "%s/leases/%s",
             l->conf.ns, l->conf.id);

    if (kngx_ctl_api_start(l->api, "GET", path, NULL, NULL, 1,
                           kngx_ctl_lease_got, l)
        != 0)
    {
        kngx_ctl_lease_round_end(l, 0);
        return l->next_ms;
    }

    l->busy = 1;

    return 0;
}


void
kngx_ctl_leader_release(kngx_ctl_leader_t *l)
{
    json_t      *lease = NULL, *spec;
    const char  *holder;
    char         path[1024], now[64];

    l->stopping = 1;

    if (!l->conf.elect || !l->leader) {
        return;
    }

    snprintf(path, sizeof(path), KNGX_LEASES "%s/leases/%s",
             l->conf.ns, l->conf.id);

    if (kngx_ctl_api_call(l->api, "GET", path, NULL, NULL, &lease) != 200
        || lease == NULL)
    {
        goto done;
    }

    spec = json_object_get(lease, "spec");
    holder = json_string_value(json_object_get(spec, "holderIdentity"));

    if (holder == NULL || strcmp(holder, l->conf.identity) != 0) {
        goto done;
    }

    kngx_ctl_micro_time(now, sizeof(now));
    json_object_set_new(spec, "holderIdentity", json_string(""));
    json_object_set_new(spec, "leaseDurationSeconds", json_integer(1));
    json_object_set_new(spec, "renewTime", json_string(now));

    if (kngx_ctl_api_call(l->api, "PUT", path, lease, NULL, NULL) == 200) {
        kngx_ctl_log("leader election: released the Lease");
    }

done:

    l->leader = 0;
    json_decref(lease);
}


int
kngx_ctl_leader_is(kngx_ctl_leader_t *l)
{
    return l->leader;
}


kngx_ctl_leader_t *
kngx_ctl_leader_create(const kngx_ctl_leader_conf_t *conf,
    kngx_ctl_api_t *api, kngx_ctl_lead_pt lead, void *data)
{
    kngx_ctl_leader_t  *l;

    l = calloc(1, sizeof(kngx_ctl_leader_t));
    if (l == NULL) {
        kngx_ctl_log("error: out of memory");
        return NULL;
    }

    l->conf = *conf;
    l->api = api;
    l->lead = lead;
    l->data = data;

    return l;
}


void
kngx_ctl_leader_destroy(kngx_ctl_leader_t *l)
{
    if (l == NULL) {
        return;
    }

    free(l->observed);
    free(l->holder);
    free(l);
}

