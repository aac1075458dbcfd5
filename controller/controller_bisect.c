
/*
 * kubengx controller: nginx -t rejected the config; which Ingresses are
 * to blame?  One bad object must not freeze everyone's config: the
 * config without the Ingresses found here is applied, and they are
 * reported (an ExcludedFromConfig Event each, a log line, metrics) and
 * left out until they or what they name change (controller_exclude.c).
 *
 * Every step is a candidate config planned from the sync's model without
 * some Ingresses and tested with nginx -t, asynchronously like the sync's
 * own test (controller_job.c); changes arriving meanwhile are synced
 * after it.  A round, with the complaint of the config that failed last:
 *
 *   1. the Ingresses the error points at (controller_blame.c).  When the
 *      error is in one block that each of them brings back alone (an
 *      upstream, a server, a certificate, a location), they are all to
 *      blame if the config without them passes (done: that config is
 *      applied) or fails with another complaint (nginx -t got further:
 *      the next round starts with that one);
 *   2. otherwise a start set S whose absence makes nginx -t pass, trying
 *      in turn the Ingresses the error points at, those changed since
 *      the last accepted config (every one for a fresh pod), then all of
 *      them (known to pass after the first time);
 *   3. binary search in S: leave out the first half H; passes: look in H
 *      only; fails: keep H out (innocent or not, the problem is in the
 *      rest too) and look in the rest.  It ends with one Ingress I whose
 *      absence makes the difference: I is to blame;
 *   4. confirm: the config without every Ingress found so far (and
 *      nothing else); passes: apply it; fails: another round.
 *
 * An error nginx places in an Ingress's block costs one test; a broken
 * Service shared by many Ingresses one test; one bad Ingress among N
 * that nothing points at about log2(N) + 2.  At most
 * KNGX_BISECT_MAX_TESTS tests: then, or when even the config without any
 * Ingress fails (the problem is elsewhere), nothing is left out and the
 * rejection stands as before (the running config stays, RejectedConfig
 * Events).  Each test is logged: which Ingresses it left out, and what
 * nginx said.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller_log.h"
#include "controller_sync_int.h"


#define KNGX_BISECT_MAX_TESTS  48

#define KNGX_CULPRIT  0x01      /* to blame */
#define KNGX_BASE     0x02      /* kept out while searching the rest */
#define KNGX_HINT     0x04      /* the error points at it */
#define KNGX_SUSPECT  0x08      /* changed since the last accepted config */

/* kngx_bisect_*() results: KNGX_BISECT_* (controller_sync_int.h) */
#define KNGX_DONE     KNGX_BISECT_APPLY
#define KNGX_RUNNING  KNGX_BISECT_TESTING
#define KNGX_GIVE_UP  KNGX_BISECT_GAVE_UP


enum {
    KNGX_PHASE_HINT = 0,
    KNGX_PHASE_SUSPECTS,
    KNGX_PHASE_ALL,
    KNGX_PHASE_SEARCH,
    KNGX_PHASE_CONFIRM
};

static const char  *kngx_phase_name[] = {
    "the Ingresses the error points at", "the Ingresses changed",
    "every Ingress", "search", "confirm"
};


struct kngx_ctl_bisect_s {
    unsigned                phase;
    size_t                  n;          /* Ingresses of the full config */
    const kngx_ingress_t  **ing;        /* in the job's model */
    char                  **key;        /* "ns/name", sorted */
    unsigned char          *flag;
    char                  **why;        /* nginx's message, culprits */
    size_t                 *list;       /* the start set, then the part
                                           searched */
    size_t                  nlist;
    size_t                  ntry;       /* list[0..ntry) out in the test */
    const char            **out;        /* the candidate's extra */
    char                   *err;        /* the last failure's message */
    char                   *first;      /* the full config's complaint */
    unsigned                tests;
    unsigned                none_ok:1;  /* passed without any Ingress */
    unsigned                joint:1;    /* the hint: all to blame */
    size_t                  nout;       /* left out in the running test */
};


static int kngx_bisect_next(kngx_ctl_sync_t *s);


void
kngx_ctl_bisect_free(kngx_ctl_sync_t *s)
{
    kngx_ctl_bisect_t         *b = s->bisect;
    size_t                     i;

    if (b == NULL) {
        return;
    }

    for (i = 0; i < b->n; i++) {
        free(b->key[i]);
        free(b->why[i]);
    }

    free(b->ing);
    free(b->key);
    free(b->flag);
    free(b->why);
    free(b->list);
    free(b->out);
    free(b->err);
    free(b->first);
    free(b);
    s->bisect = NULL;
}


static int
kngx_bisect_key_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}


static size_t
kngx_bisect_find(kngx_ctl_bisect_t *b, const char *key)
{
    char  **k;

    k = bsearch(&key, b->key, b->n, sizeof(char *), kngx_bisect_key_cmp);

    return k ? (size_t) (k - b->key) : b->n;
}


/* the Ingresses of the full config, sorted by "ns/name" */

static int
kngx_bisect_init(kngx_ctl_bisect_t *b, const kngx_plan_t *p,
    json_t *changed)
{
    char     key[1024];
    size_t   i, j;

    b->n = p->ningresses;
    b->ing = calloc(b->n, sizeof(*b->ing));
    b->key = calloc(b->n, sizeof(char *));
    b->flag = calloc(b->n, 1);
    b->why = calloc(b->n, sizeof(char *));
    b->list = calloc(b->n, sizeof(size_t));
    b->out = calloc(b->n, sizeof(char *));

    if (!b->ing || !b->key || !b->flag || !b->why || !b->list || !b->out) {
        return -1;
    }

    for (i = 0; i < b->n; i++) {
        snprintf(key, sizeof(key), "%s/%s", p->ingresses[i]->meta.ns,
                 p->ingresses[i]->meta.name);
        b->key[i] = strdup(key);
        if (b->key[i] == NULL) {
            return -1;
        }
    }

    qsort(b->key, b->n, sizeof(char *), kngx_bisect_key_cmp);

    for (i = 0; i < b->n; i++) {
        snprintf(key, sizeof(key), "%s/%s", p->ingresses[i]->meta.ns,
                 p->ingresses[i]->meta.name);
        j = kngx_bisect_find(b, key);
        b->ing[j] = p->ingresses[i];

        if (kngx_ctl_ingress_involved(changed, p->ingresses[i])) {
            b->flag[j] |= KNGX_SUSPECT;
        }
    }

    return 0;
}


/* "a/b, c/d and 3 more" */

static void
kngx_bisect_names(kngx_ctl_bisect_t *b, const size_t *idx, size_t n,
    char *out, size_t size)
{
    size_t  i, len = 0;

    out[0] = '\0';

    for (i = 0; i < n && i < 4 && len < size; i++) {
        len += (size_t) snprintf(out + len, size - len, "%s%s",
                                 i ? ", " : "", b->key[idx[i]]);
    }

    if (i < n && len < size) {
        snprintf(out + len, size - len, " and %zu more", n - i);
    }
}


/* test the config without the culprits, the base and list[0..ntry) */

static int
kngx_bisect_test(kngx_ctl_sync_t *s)
{
    kngx_ctl_bisect_t         *b = s->bisect;
    char                       err[1024], names[512];
    size_t                     i, n = 0, nnew = 0;

    if (b->tests == KNGX_BISECT_MAX_TESTS) {
        kngx_ctl_log("bisect: no answer after %u tests; giving up",
                     b->tests);
        return KNGX_GIVE_UP;
    }

    for (i = 0; i < b->n; i++) {
        if (b->flag[i] & (KNGX_CULPRIT | KNGX_BASE)) {
            b->out[n++] = b->key[i];
        }
    }

    for (i = 0; i < b->ntry; i++) {
        b->out[n++] = b->key[b->list[i]];
        nnew++;
    }

    b->tests++;
    b->nout = n;
    s->stats.bisection_tests++;

    kngx_bisect_names(b, b->list, b->ntry, names, sizeof(names));
    kngx_ctl_log("bisect: test %u (%s): without %zu of %zu Ingresses%s%s",
                 b->tests, kngx_phase_name[b->phase], n, b->n,
                 nnew ? ", trying without " : "", names);

    if (kngx_ctl_job_candidate(s, b->out, n, err, sizeof(err)) != 0) {
        kngx_ctl_log("error: bisect: %s; giving up", err);
        return KNGX_GIVE_UP;
    }

    return KNGX_RUNNING;
}


/* the candidate passed: apply it, report what it leaves out */

static int
kngx_bisect_done(kngx_ctl_sync_t *s)
{
    kngx_ctl_bisect_t         *b = s->bisect;
    char                       msg[1024];
    size_t                     i, n = 0;
    int                        stale;

    for (i = 0; i < b->n; i++) {
        if (!(b->flag[i] & KNGX_CULPRIT)) {
            continue;
        }

        /* changed during the tests: retried at the next sync */
        stale = kngx_ctl_ingress_involved(s->changed, b->ing[i]);

        if (kngx_ctl_exclude_add(s->exclude, b->ing[i], stale) != 0) {
            kngx_ctl_log("error: bisect: out of memory");
        }

        snprintf(msg, sizeof(msg), "nginx -t rejects the configuration "
                 "with this Ingress, so it is left out (its routes are not "
                 "served) until it or a Service or Secret it names "
                 "changes: %s", b->why[i]);

        kngx_ctl_log("bisect: Ingress %s left out: %s", b->key[i],
                     b->why[i]);
        kngx_ctl_event(s->events, b->ing[i]->meta.ns, b->ing[i]->meta.name,
                       "ExcludedFromConfig", msg);
        n++;
    }

    kngx_ctl_log("bisect: %zu Ingress%s left out after %u tests; applying "
                 "the config without %s", n, n == 1 ? "" : "es", b->tests,
                 n == 1 ? "it" : "them");

    s->stats.bisections_applied++;

    return KNGX_DONE;
}


/* list[0..nlist) are to blame, for b->err */

static void
kngx_bisect_blame(kngx_ctl_bisect_t *b)
{
    size_t  i;

    for (i = 0; i < b->nlist; i++) {
        b->flag[b->list[i]] |= KNGX_CULPRIT;
        b->why[b->list[i]] = strdup(b->err ? b->err : "");
    }
}


/* list narrowed to one: it is to blame */

static int
kngx_bisect_narrowed(kngx_ctl_sync_t *s, int passed)
{
    kngx_ctl_bisect_t         *b = s->bisect;
    size_t                     i;
    int                        base = 0;

    if (b->nlist > 1) {
        b->phase = KNGX_PHASE_SEARCH;
        b->ntry = b->nlist / 2;
        return kngx_bisect_test(s);
    }

    kngx_bisect_blame(b);

    for (i = 0; i < b->n; i++) {
        base |= b->flag[i] & KNGX_BASE;
        b->flag[i] &= ~KNGX_BASE;
    }

    /* the test that passed left out exactly the culprits: it is the one */
    if (passed && !base && b->ntry == 1) {
        return kngx_bisect_done(s);
    }

    b->phase = KNGX_PHASE_CONFIRM;
    b->ntry = 0;

    return kngx_bisect_test(s);
}


/* a round: hint from the failing candidate's text, then the start sets */

static int
kngx_bisect_round(kngx_ctl_sync_t *s)
{
    kngx_ctl_bisect_t         *b = s->bisect;
    const char                *key;
    json_t                    *hint, *v;
    size_t                     i;

    for (i = 0; i < b->n; i++) {
        b->flag[i] &= ~KNGX_HINT;
    }

    hint = json_object();
    if (hint) {
        b->joint = kngx_ctl_blame(s->job.p, s->job.tconf,
                                  s->job.tlen, b->err ? b->err : "",
                                  hint);

        json_object_foreach(hint, key, v) {
            i = kngx_bisect_find(b, key);
            if (i < b->n) {
                b->flag[i] |= KNGX_HINT;
            }
        }

        json_decref(hint);
    }

    b->phase = KNGX_PHASE_HINT;

    return kngx_bisect_next(s);
}


/* the next start set worth a test */

static int
kngx_bisect_next(kngx_ctl_sync_t *s)
{
    kngx_ctl_bisect_t         *b = s->bisect;
    size_t                     i, left = 0, same = 1;
    unsigned                   want;

    for ( ;; ) {
        want = b->phase == KNGX_PHASE_HINT ? KNGX_HINT
               : b->phase == KNGX_PHASE_SUSPECTS ? KNGX_SUSPECT : 0;

        b->nlist = 0;

        for (i = 0; i < b->n; i++) {
            if (b->flag[i] & KNGX_CULPRIT) {
                continue;
            }

            left++;
            same &= !(b->flag[i] & KNGX_HINT) == !(b->flag[i] & KNGX_SUSPECT);

            if (want == 0 || (b->flag[i] & want)) {
                b->list[b->nlist++] = i;
            }
        }

        if (b->nlist == 0 && b->phase == KNGX_PHASE_ALL) {
            return KNGX_GIVE_UP;
        }

        /* the config without any Ingress passed in an earlier round */
        if (b->phase == KNGX_PHASE_ALL && b->none_ok) {
            return kngx_bisect_narrowed(s, 0);
        }

        /* nothing, or the same set as the previous or next phase */

        if (b->nlist == 0 || (b->phase != KNGX_PHASE_ALL && b->nlist == left)
            || (b->phase == KNGX_PHASE_SUSPECTS && same))
        {
            b->phase++;
            left = 0;
            same = 1;
            continue;
        }

        b->ntry = b->nlist;

        return kngx_bisect_test(s);
    }
}


int
kngx_ctl_bisect_begin(kngx_ctl_sync_t *s, const char *err)
{
    kngx_ctl_bisect_t         *b;
    char                       msg[800];
    int                        rc;

    if (s->job.p == NULL || s->job.p->ningresses == 0) {
        return KNGX_GIVE_UP;
    }

    b = calloc(1, sizeof(*b));
    if (b == NULL) {
        return KNGX_GIVE_UP;
    }

    s->bisect = b;

    kngx_ctl_job_message(err, msg, sizeof(msg));
    b->err = strdup(msg);
    b->first = strdup(err);

    if (b->err == NULL || b->first == NULL
        || kngx_bisect_init(b, s->job.p, s->job.changed) != 0)
    {
        kngx_ctl_log("error: bisect: out of memory");
        kngx_ctl_bisect_free(s);
        return KNGX_GIVE_UP;
    }

    kngx_ctl_log("nginx -t rejected the new config (%s); looking for the "
                 "Ingresses to blame among %zu", msg, b->n);

    rc = kngx_bisect_round(s);

    if (rc == KNGX_GIVE_UP) {
        s->stats.bisections_failed++;
        kngx_ctl_bisect_free(s);
    }

    return rc;
}


int
kngx_ctl_bisect_result(kngx_ctl_sync_t *s, int rc, char *err, size_t size)
{
    kngx_ctl_bisect_t         *b = s->bisect;
    char                       msg[800];
    size_t                     i;
    int                        r;

    if (rc != 0) {
        kngx_ctl_job_message(err, msg, sizeof(msg));

    } else if (b->nout == b->n) {
        b->none_ok = 1;
    }

    kngx_ctl_log("bisect: test %u: %s%s", b->tests,
                 rc == 0 ? "accepted" : "rejected: ", rc == 0 ? "" : msg);

    if (rc != 0 && b->phase != KNGX_PHASE_HINT
        && b->phase != KNGX_PHASE_SUSPECTS && b->phase != KNGX_PHASE_ALL)
    {
        free(b->err);
        b->err = strdup(msg);
    }

    switch (b->phase) {

    case KNGX_PHASE_HINT:
    case KNGX_PHASE_SUSPECTS:
    case KNGX_PHASE_ALL:
        if (rc == 0 && b->phase == KNGX_PHASE_HINT && b->joint) {
            /* the test left out exactly the culprits and them */
            kngx_bisect_blame(b);
            r = kngx_bisect_done(s);

        } else if (rc == 0) {
            r = kngx_bisect_narrowed(s, 1);

        } else if (b->phase == KNGX_PHASE_HINT && b->joint
                   && strcmp(msg, b->err ? b->err : "") != 0)
        {
            /* without them, nginx -t got further: another problem */
            kngx_bisect_blame(b);
            free(b->err);
            b->err = strdup(msg);
            r = kngx_bisect_round(s);

        } else if (b->phase == KNGX_PHASE_ALL) {
            kngx_ctl_log("bisect: nginx -t rejects the config even without "
                         "any Ingress; nothing to leave out");
            r = KNGX_GIVE_UP;

        } else {
            b->phase++;
            r = kngx_bisect_next(s);
        }
        break;

    case KNGX_PHASE_SEARCH:
        if (rc == 0) {
            b->nlist = b->ntry;

        } else {
            for (i = 0; i < b->ntry; i++) {
                b->flag[b->list[i]] |= KNGX_BASE;
            }
            memmove(b->list, b->list + b->ntry,
                    (b->nlist - b->ntry) * sizeof(size_t));
            b->nlist -= b->ntry;
        }

        r = kngx_bisect_narrowed(s, rc == 0);
        break;

    default: /* KNGX_PHASE_CONFIRM */
        r = rc == 0 ? kngx_bisect_done(s) : kngx_bisect_round(s);
        break;
    }

    if (r == KNGX_GIVE_UP) {
        s->stats.bisections_failed++;
        snprintf(err, size, "%s", b->first ? b->first : "nginx -t failed");
    }

    return r;
}
