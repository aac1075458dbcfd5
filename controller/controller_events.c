
/*
 * kubengx controller: warnings about Ingresses as core v1 Events.
 *
 * Two limits keep the API and `kubectl describe` readable: the same
 * warning (Ingress, reason, message) is posted at most once per
 * --event-interval, and a token bucket (burst --event-burst, one token
 * per --event-refill) caps the rate overall.  What the limits drop is
 * counted.  Plan warnings are posted by the leader only (every replica
 * computes the same ones); a config rejected by nginx -t, and the
 * Ingresses left out for it (controller_bisect.c), by each replica that
 * saw them: a replica may find them before any replica leads.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "controller_events.h"
#include "controller_log.h"


typedef struct {
    char                *key;           /* "ns/name reason message" */
    uint64_t             last_ms;
} kngx_ctl_event_seen_t;


struct kngx_ctl_events_s {
    kngx_ctl_events_conf_t    conf;
    kngx_ctl_api_t           *api;
    kngx_ctl_watch_t         *watch;
    kngx_ctl_leader_t        *leader;

    kngx_ctl_event_seen_t    *seen;
    size_t                    nseen;
    double                    tokens;
    uint64_t                  tokens_ms;
    kngx_ctl_events_stats_t   stats;
};


kngx_ctl_events_t *
kngx_ctl_events_create(const kngx_ctl_events_conf_t *conf,
    kngx_ctl_api_t *api, kngx_ctl_watch_t *watch, kngx_ctl_leader_t *leader)
{
    kngx_ctl_events_t  *ev;

    ev = calloc(1, sizeof(kngx_ctl_events_t));
    if (ev == NULL) {
        kngx_ctl_log("error: out of memory");
        return NULL;
    }

    ev->conf = *conf;
    ev->api = api;
    ev->watch = watch;
    ev->leader = leader;

    return ev;
}


void
kngx_ctl_events_destroy(kngx_ctl_events_t *ev)
{
    if (ev == NULL) {
        return;
    }

    while (ev->nseen) {
        free(ev->seen[--ev->nseen].key);
    }

    free(ev->seen);
    free(ev);
}


const kngx_ctl_events_stats_t *
kngx_ctl_events_stats(kngx_ctl_events_t *ev)
{
    return &ev->stats;
}


static int
kngx_ctl_event_allowed(kngx_ctl_events_t *ev, const char *key, uint64_t now)
{
    kngx_ctl_event_seen_t  *s;
    size_t                  i, j;
    double                  add;

    /* forget old entries */
    for (i = 0, j = 0; i < ev->nseen; i++) {
        if (now - ev->seen[i].last_ms < ev->conf.interval_ms) {
            ev->seen[j++] = ev->seen[i];
        } else {
            free(ev->seen[i].key);
        }
    }
    ev->nseen = j;

    for (i = 0; i < ev->nseen; i++) {
        if (strcmp(ev->seen[i].key, key) == 0) {
            return 0;
        }
    }

    /* token bucket */
    if (ev->tokens_ms == 0) {
        ev->tokens = ev->conf.burst;
        ev->tokens_ms = now;
    }

    add = (double) (now - ev->tokens_ms)
          / (double) (ev->conf.refill_ms ? ev->conf.refill_ms : 1);
    ev->tokens += add;
    if (ev->tokens > ev->conf.burst) {
        ev->tokens = ev->conf.burst;
    }
    ev->tokens_ms = now;

    if (ev->tokens < 1.0) {
        return 0;
    }

    s = realloc(ev->seen, (ev->nseen + 1) * sizeof(*s));
    if (s == NULL) {
        return 0;
    }
    ev->seen = s;

    s[ev->nseen].key = strdup(key);
    if (s[ev->nseen].key == NULL) {
        return 0;
    }
    s[ev->nseen].last_ms = now;
    ev->nseen++;

    ev->tokens -= 1.0;

    return 1;
}


static void
kngx_ctl_event_posted(void *data, long st, json_t *resp)
{
    kngx_ctl_events_t  *ev = data;

    if (st >= 200 && st < 300) {
        ev->stats.sent++;
    } else {
        ev->stats.failed++;
    }
}


/* a Warning Event on obj (kind, apiVersion, ns/name; uid from the
 * stored object, which may be NULL) */
static void
kngx_ctl_event_post(kngx_ctl_events_t *ev, const char *kind,
    const char *api_version, json_t *obj, const char *ns, const char *name,
    const char *reason, const char *message)
{
    json_t      *md, *body;
    const char  *uid, *rv;
    char         key[2048], ename[512], ts[64], path[600];
    time_t       t;
    struct tm    tm;
    uint64_t     now = kngx_ctl_now();

    snprintf(key, sizeof(key), "%s/%s\n%s\n%s", ns, name, reason, message);

    if (!kngx_ctl_event_allowed(ev, key, now)) {
        ev->stats.dropped++;
        return;
    }

    md = json_object_get(obj, "metadata");
    uid = json_string_value(json_object_get(md, "uid"));
    rv = json_string_value(json_object_get(md, "resourceVersion"));

    t = time(NULL);
    gmtime_r(&t, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);

    snprintf(ename, sizeof(ename), "%.200s.%llx%04x", name,
             (unsigned long long) now * 1000003ULL
             ^ (unsigned long long) getpid(), (unsigned) rand() & 0xffff);

    body = json_pack("{s:s, s:s, s:{s:s, s:s},"
                     " s:{s:s, s:s, s:s, s:s, s:s, s:s},"
                     " s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:i,"
                     " s:s, s:s}",
                     "apiVersion", "v1", "kind", "Event",
                     "metadata", "name", ename, "namespace", ns,
                     "involvedObject",
                     "apiVersion", api_version,
                     "kind", kind, "namespace", ns, "name", name,
                     "uid", uid ? uid : "",
                     "resourceVersion", rv ? rv : "",
                     "reason", reason, "message", message,
                     "type", "Warning",
                     "source", "component", "kubengx-controller",
                     "host", ev->conf.identity,
                     "firstTimestamp", ts, "lastTimestamp", ts, "count", 1,
                     "reportingComponent", "kubengx.io/ingress-controller",
                     "reportingInstance", ev->conf.identity);
    if (body == NULL) {
        ev->stats.failed++;
        return;
    }

    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/events", ns);

    /* the line now; the API's answer only counts */

    kngx_ctl_log("event: Warning %s on %s %s/%s: %s", reason, kind, ns, name,
                 message);

    if (kngx_ctl_api_start(ev->api, "POST", path, body, NULL, 0,
                           kngx_ctl_event_posted, ev)
        != 0)
    {
        ev->stats.failed++;
    }

    json_decref(body);
}


void
kngx_ctl_event(kngx_ctl_events_t *ev, const char *ns, const char *name,
    const char *reason, const char *message)
{
    kngx_ctl_event_post(ev, "Ingress", "networking.k8s.io/v1",
                        kngx_ctl_store_get(ev->watch, KNGX_KIND_INGRESS, ns,
                                           name),
                        ns, name, reason, message);
}


void
kngx_ctl_event_configmap(kngx_ctl_events_t *ev, const char *ns,
    const char *name, const char *reason, const char *message)
{
    json_t  *obj = NULL;
    int      i;

    for (i = 0; obj == NULL && i < KNGX_CTL_NCONFIGMAPS; i++) {
        obj = kngx_ctl_store_get(ev->watch, KNGX_KIND_CONFIGMAP + i, ns,
                                 name);
    }

    kngx_ctl_event_post(ev, "ConfigMap", "v1", obj, ns, name, reason,
                        message);
}


int
kngx_ctl_events_leader(kngx_ctl_events_t *ev)
{
    return kngx_ctl_leader_is(ev->leader);
}


/* "no-service" -> "NoService" */
static void
kngx_ctl_reason(const char *code, char *out, size_t size)
{
    size_t  n = 0;
    int     up = 1;

    for ( ; code && *code && n + 1 < size; code++) {
        if (*code == '-' || *code == '_') {
            up = 1;
            continue;
        }
        out[n++] = up && *code >= 'a' && *code <= 'z'
                   ? (char) (*code - 'a' + 'A') : *code;
        up = 0;
    }

    out[n] = '\0';

    if (n == 0) {
        snprintf(out, size, "IngressWarning");
    }
}


void
kngx_ctl_events_from_plan(kngx_ctl_events_t *ev, const kngx_plan_t *p)
{
    const kngx_diag_t  *d;
    const char         *slash;
    char                ns[256], reason[128], msg[1024];
    size_t              i, n;

    if (!kngx_ctl_leader_is(ev->leader)) {
        return;
    }

    for (i = 0; i < p->diags.n; i++) {
        d = &p->diags.items[i];

        if (d->severity != KNGX_DIAG_WARNING || d->object == NULL
            || d->src.file == NULL || strcmp(d->src.file, "Ingress") != 0)
        {
            continue;
        }

        slash = strchr(d->object, '/');
        if (slash == NULL) {
            continue;
        }

        n = (size_t) (slash - d->object);
        if (n >= sizeof(ns)) {
            continue;
        }
        memcpy(ns, d->object, n);
        ns[n] = '\0';

        kngx_ctl_reason(d->code, reason, sizeof(reason));
        snprintf(msg, sizeof(msg), "%s%s%s", d->field ? d->field : "",
                 d->field ? ": " : "", d->message);

        kngx_ctl_event(ev, ns, slash + 1, reason, msg);
    }
}
