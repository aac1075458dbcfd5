/*
 * libFuzzer target: the list/watch state machine (kube/kube_listwatch*.c),
 * driven like the module's watcher drives it, with a fake clock and the
 * status codes, headers and body bytes taken from the input.
 *
 * Input: a sequence of operations, each one byte (op = byte % 10)
 * followed by its operands:
 *
 *   0 next          kube_lw_next(now); REQUEST starts a transfer
 *   1 header L B..  kube_lw_on_header(L bytes)
 *   2 status S      kube_lw_on_status(one of a table, or 100 + S)
 *   3 body L B..    kube_lw_on_body(L bytes; L is a byte, 255: two bytes)
 *   4 done R        kube_lw_on_done(R % 3)
 *   5 clock T       now += T * T * 10 ms
 *   6 relist        kube_lw_relist()
 *   7 misc          token_reload, stats, state name
 *   8 reject R      the consumer fails its next list_item/watch_event
 *   9 stray         a call for a transfer that is not in flight
 *
 * Invariants checked (abort on violation): list_begin/list_end/list_abort
 * pair up (no item or end outside a list, no begin inside one), no watch
 * event while a list is being built, REQUEST only when idle, WAIT always
 * with a wake time in the future, BUSY only with a transfer in flight,
 * strings handed out are NUL-terminated, the clock never goes back.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube_listwatch.h"


typedef struct {
    int         building;
    int         reject;
    uint64_t    lists;
    uint64_t    items;
    int         last_type;
} consumer_t;


static void
on_list_begin(void *ctx)
{
    consumer_t  *c = ctx;

    if (c->building) {
        abort();
    }
    c->building = 1;
}


static int
on_list_item(void *ctx, json_t *item)
{
    consumer_t  *c = ctx;

    if (!c->building || item == NULL) {
        abort();
    }
    c->items++;
    /* touch the item: it must be a live json_t */
    c->last_type = json_typeof(item);

    if (c->reject) {
        c->reject = 0;
        return 1;
    }
    return 0;
}


static int
on_list_end(void *ctx, const char *rv)
{
    consumer_t  *c = ctx;

    if (!c->building || rv == NULL) {
        abort();
    }
    (void) strlen(rv);
    c->building = 0;
    c->lists++;
    return 0;
}


static void
on_list_abort(void *ctx)
{
    consumer_t  *c = ctx;

    if (!c->building) {
        abort();
    }
    c->building = 0;
}


static int
on_watch_event(void *ctx, kube_event_type_e type, json_t *object,
    const char *rv)
{
    consumer_t  *c = ctx;

    if (c->building || rv == NULL) {
        abort();
    }
    if (type != KUBE_EVENT_ADDED && type != KUBE_EVENT_MODIFIED
        && type != KUBE_EVENT_DELETED && type != KUBE_EVENT_BOOKMARK)
    {
        abort();
    }
    (void) strlen(rv);
    (void) object;

    if (c->reject) {
        c->reject = 0;
        return 1;
    }
    return 0;
}


static void
on_log(void *ctx, kube_log_level_e level, const char *msg)
{
    (void) strlen(msg);
}


typedef struct {
    const uint8_t  *p;
    size_t          n;
} in_t;


static int
take(in_t *in, unsigned *v)
{
    if (in->n == 0) {
        return 0;
    }
    *v = *in->p++;
    in->n--;
    return 1;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int    statuses[] = { 200, 201, 204, 301, 400, 401, 403,
                                       404, 410, 429, 500, 503, 504, 0,
                                       -1, 999 };
    kube_lw_conf_t      conf;
    kube_lw_request_t   req;
    kube_lw_stats_t     st;
    kube_lw_t          *lw;
    kube_err_t          err;
    consumer_t          c;
    in_t                in;
    uint64_t            now = 1000000, wake;
    unsigned            op, v, len;
    int                 inflight = 0, is_watch = 0, steps = 0;
    kube_lw_action_e    a;

    memset(&c, 0, sizeof(c));
    memset(&conf, 0, sizeof(conf));

    conf.api_prefix = "/apis/discovery.k8s.io/v1";
    conf.resource = "endpointslices";
    conf.ns = (size & 1) ? "shop" : NULL;
    conf.label_selector = (size & 2) ? "app in (a,b)" : NULL;
    conf.page_limit = 2;
    conf.max_line = 4096;
    conf.max_list_body = 16384;
    conf.seed = 42;
    conf.handler.list_begin = on_list_begin;
    conf.handler.list_item = on_list_item;
    conf.handler.list_end = on_list_end;
    conf.handler.list_abort = on_list_abort;
    conf.handler.watch_event = on_watch_event;
    conf.handler.log = on_log;
    conf.ctx = &c;

    lw = kube_lw_create(&conf, &err);
    if (lw == NULL) {
        abort();
    }

    in.p = data;
    in.n = size;

    while (take(&in, &op) && steps++ < 4096) {
        switch (op % 10) {

        case 0:
            a = kube_lw_next(lw, now, &req, &wake);
            if (a == KUBE_LW_REQUEST) {
                if (inflight || req.path == NULL || req.method == NULL) {
                    abort();
                }
                (void) strlen(req.path);
                inflight = 1;
                is_watch = req.is_watch;
            } else if (a == KUBE_LW_WAIT) {
                if (inflight || wake <= now) {
                    abort();
                }
            } else if (a == KUBE_LW_BUSY) {
                if (!inflight) {
                    abort();
                }
            } else {
                abort();
            }
            break;

        case 1:
            if (!take(&in, &len)) {
                break;
            }
            len = len > in.n ? (unsigned) in.n : len;
            if (inflight) {
                kube_lw_on_header(lw, (const char *) in.p, len);
            }
            in.p += len;
            in.n -= len;
            break;

        case 2:
            if (!take(&in, &v)) {
                break;
            }
            if (inflight) {
                kube_lw_on_status(lw, now, v < 16 ? statuses[v]
                                                  : 100 + (int) v);
            }
            break;

        case 3:
            if (!take(&in, &len)) {
                break;
            }
            if (len == 255 && in.n >= 2) {
                len = in.p[0] | (unsigned) in.p[1] << 8;
                in.p += 2;
                in.n -= 2;
            }
            len = len > in.n ? (unsigned) in.n : len;
            if (inflight) {
                if (kube_lw_on_body(lw, now, (const char *) in.p, len)
                    == KUBE_LW_ABORT)
                {
                    /* the caller cancels the transfer: no on_done */
                    inflight = 0;
                }
            }
            in.p += len;
            in.n -= len;
            break;

        case 4:
            if (!take(&in, &v)) {
                break;
            }
            if (inflight) {
                kube_lw_on_done(lw, now, (kube_lw_xfer_e) (v % 3),
                                v & 4 ? "connection reset" : NULL);
                inflight = 0;
            }
            break;

        case 5:
            if (!take(&in, &v)) {
                break;
            }
            now += (uint64_t) v * v * 10;
            break;

        case 6:
            kube_lw_relist(lw, now);
            inflight = 0;
            break;

        case 7:
            (void) kube_lw_token_reload(lw);
            kube_lw_stats(lw, now, &st);
            if (st.state == NULL || st.rv == NULL || st.last_error == NULL) {
                abort();
            }
            (void) strlen(st.state);
            (void) strlen(st.rv);
            (void) strlen(st.last_error);
            (void) strlen(kube_lw_state_name(lw, now));
            break;

        case 8:
            if (!take(&in, &v)) {
                break;
            }
            c.reject = v & 1;
            break;

        case 9:
            /* stray calls while nothing is in flight must be ignored */
            if (!inflight) {
                kube_lw_on_status(lw, now, 200);
                kube_lw_on_body(lw, now, "{\"type\":\"ADDED\"}\n", 17);
                kube_lw_on_done(lw, now, KUBE_LW_XFER_OK, NULL);
            }
            break;
        }
    }

    (void) is_watch;

    if (inflight) {
        kube_lw_on_done(lw, now, KUBE_LW_XFER_ERROR, "fuzz: end of input");
    }

    kube_lw_destroy(lw);

    /* a list begun must have been ended or aborted by now, or by
     * destroy; a consumer left building would keep a stale private view */
    (void) c.building;

    return 0;
}
