
/*
 * kubengx controller: the Ingress status, written by the leader only.
 *
 * The leader sets status.loadBalancer.ingress of every served Ingress to
 * the --publish-address list or the load balancer addresses of the
 * --publish-service Service (merge PATCH on /status), only when they
 * differ, and clears it on Ingresses it stopped serving that still carry
 * exactly that list.  With --update-status-on-shutdown it clears the
 * status of the served Ingresses when it stops.
 */

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller_log.h"
#include "controller_status.h"


struct kngx_ctl_status_s {
    kngx_ctl_status_conf_t   conf;
    kngx_ctl_api_t          *api;
    kngx_ctl_watch_t        *watch;
    kngx_ctl_leader_t       *leader;

    json_t                  *served;    /* array of "ns/name" */
    unsigned                 busy;      /* patches out */
    unsigned                 again:1;   /* compare again once answered */
    unsigned                 stopping:1;
    kngx_ctl_status_stats_t  stats;
};


kngx_ctl_status_t *
kngx_ctl_status_create(const kngx_ctl_status_conf_t *conf,
    kngx_ctl_api_t *api, kngx_ctl_watch_t *watch, kngx_ctl_leader_t *leader)
{
    kngx_ctl_status_t  *st;

    st = calloc(1, sizeof(kngx_ctl_status_t));
    if (st == NULL) {
        kngx_ctl_log("error: out of memory");
        return NULL;
    }

    st->conf = *conf;
    st->api = api;
    st->watch = watch;
    st->leader = leader;

    return st;
}


void
kngx_ctl_status_destroy(kngx_ctl_status_t *st)
{
    if (st) {
        json_decref(st->served);
        free(st);
    }
}


const kngx_ctl_status_stats_t *
kngx_ctl_status_stats(kngx_ctl_status_t *st)
{
    return &st->stats;
}


void
kngx_ctl_status_served(kngx_ctl_status_t *st, const kngx_plan_t *p)
{
    char    key[1024];
    size_t  i;

    json_decref(st->served);
    st->served = json_array();
    if (st->served == NULL) {
        return;
    }

    for (i = 0; i < p->ningresses; i++) {
        snprintf(key, sizeof(key), "%s/%s", p->ingresses[i]->meta.ns,
                 p->ingresses[i]->meta.name);
        json_array_append_new(st->served, json_string(key));
    }
}


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
kngx_ctl_status_desired(kngx_ctl_status_t *st)
{
    json_t      *arr, *svc, *lb, *item, *ips;
    const char  *ip, *host;
    char         buf[1024], *p, *save = NULL, *tok;
    size_t       i;

    arr = json_array();
    if (arr == NULL) {
        return NULL;
    }

    if (st->conf.publish_address) {
        snprintf(buf, sizeof(buf), "%s", st->conf.publish_address);

        for (p = buf; (tok = strtok_r(p, ",", &save)) != NULL; p = NULL) {
            while (*tok == ' ') {
                tok++;
            }
            if (*tok) {
                json_array_append_new(arr, kngx_ctl_addr_item(tok));
            }
        }

    } else if (st->conf.publish_service) {
        snprintf(buf, sizeof(buf), "%s", st->conf.publish_service);
        p = strchr(buf, '/');
        *p++ = '\0';

        svc = kngx_ctl_store_get(st->watch, KNGX_KIND_SERVICE, buf, p);
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
    kngx_ctl_status_t  *st;
    char               *key;            /* "ns/name" */
    unsigned            published:1;
} kngx_ctl_status_call_t;


static void
kngx_ctl_status_logged(kngx_ctl_status_t *st, long status, const char *key,
    int published)
{
    if (status == 200) {
        st->stats.updates++;
        kngx_ctl_log("status: Ingress %s %s", key,
                     published ? "address published" : "address cleared");
    } else {
        st->stats.errors++;
    }
}


static void
kngx_ctl_status_patched(void *data, long status, json_t *resp)
{
    kngx_ctl_status_call_t  *c = data;
    kngx_ctl_status_t       *st = c->st;
    int                      closing = kngx_ctl_api_closing(st->api);

    if (!closing) {
        kngx_ctl_status_logged(st, status, c->key, c->published);
    }

    free(c->key);
    free(c);

    st->busy--;

    /* what changed while these were out is done now */

    if (st->busy == 0 && st->again && !closing) {
        st->again = 0;
        kngx_ctl_status_sync(st);
    }
}


/*
 * Merge-PATCH status.loadBalancer.ingress of ns/name; asynchronous, or
 * blocking when sync (at shutdown: the first SIGTERM, the loop then only
 * waits for nginx to quit).
 */

static void
kngx_ctl_status_patch(kngx_ctl_status_t *st, const char *ns,
    const char *name, json_t *ingress, int sync)
{
    json_t                  *body;
    char                     path[1024], key[1024];
    long                     status;
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
        status = kngx_ctl_api_call(st->api, "PATCH", path, body,
                                   "application/merge-patch+json", NULL);
        kngx_ctl_status_logged(st, status, key, ingress != NULL);
        json_decref(body);
        return;
    }

    c = calloc(1, sizeof(kngx_ctl_status_call_t));
    if (c == NULL || (c->key = strdup(key)) == NULL) {
        free(c);
        json_decref(body);
        return;
    }

    c->st = st;
    c->published = ingress ? 1 : 0;

    if (kngx_ctl_api_start(st->api, "PATCH", path, body,
                           "application/merge-patch+json", 0,
                           kngx_ctl_status_patched, c)
        != 0)
    {
        st->stats.errors++;
        free(c->key);
        free(c);

    } else {
        st->busy++;
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
kngx_ctl_is_served(kngx_ctl_status_t *st, const char *key)
{
    json_t  *v;
    size_t   i;

    json_array_foreach(st->served, i, v) {
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
kngx_ctl_status_sync(kngx_ctl_status_t *st)
{
    json_t      *want, *ing, *cur, *empty;
    const char  *key, *name;
    char         ns[512];

    if (!kngx_ctl_leader_is(st->leader) || st->served == NULL
        || st->stopping
        || (st->conf.publish_address == NULL
            && st->conf.publish_service == NULL))
    {
        return;
    }

    /* patches still out: compare again once they are answered */

    if (st->busy) {
        st->again = 1;
        return;
    }

    want = kngx_ctl_status_desired(st);
    if (want == NULL) {
        return;
    }

    empty = json_array();

    json_object_foreach(kngx_ctl_store_objects(st->watch, KNGX_KIND_INGRESS),
                        key, ing)
    {
        cur = kngx_ctl_status_current(ing);
        kngx_ctl_split(key, ns, sizeof(ns), &name);

        if (kngx_ctl_is_served(st, key)) {
            if (!json_equal(cur ? cur : empty, want)) {
                kngx_ctl_status_patch(st, ns, name, want, 0);
            }

        } else if (cur && json_array_size(cur) && json_equal(cur, want)) {
            kngx_ctl_status_patch(st, ns, name, NULL, 0);
        }
    }

    json_decref(empty);
    json_decref(want);
}


void
kngx_ctl_status_stop(kngx_ctl_status_t *st)
{
    json_t      *v, *ing;
    const char  *name;
    char         ns[512];
    size_t       i;

    st->stopping = 1;

    if (!st->conf.on_shutdown || !kngx_ctl_leader_is(st->leader)
        || st->served == NULL)
    {
        return;
    }

    json_array_foreach(st->served, i, v) {
        kngx_ctl_split(json_string_value(v), ns, sizeof(ns), &name);
        ing = kngx_ctl_store_get(st->watch, KNGX_KIND_INGRESS, ns, name);

        if (json_array_size(kngx_ctl_status_current(ing))) {
            kngx_ctl_status_patch(st, ns, name, NULL, 1);
        }
    }
}
