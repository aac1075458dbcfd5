
/*
 * kubengx: k8s_snapshot, the endpoint table on disk.
 *
 * Worker 0 writes the table after changes (a cancelable 1 s timer checks
 * the table generation): the whole file is written to PATH.PID.tmp and
 * renamed over PATH, so a reader sees the old or the new file, never a
 * partial one.  There is no fsync(): it could block the worker's event
 * loop for as long as the disk likes, and the file serves a restarted
 * nginx on a running machine (the page cache has it); after a power loss
 * a torn file fails its checksum and the table starts empty, as without
 * a snapshot.  When the zone is created (cold start, in the master),
 * the table is filled from PATH, so a restarted nginx serves the
 * last-known endpoints before the API answers.  A garbled, truncated or
 * foreign file is rejected as a whole, with a log line; nginx starts
 * anyway, with an empty table.
 *
 * Format (text, one record per line, fields separated by one space):
 *
 *     kubengx-snapshot 1
 *     generation N
 *     rv RESOURCEVERSION|-
 *     service KEY STATE LAST_CHANGE_MS COUNT      STATE: absent|empty|ready
 *     endpoint ADDR:PORT FLAGS ZONE|- NODE|- TARGET|-   FLAGS: [r][s][t]|-
 *     ...
 *     end NSERVICES
 *     checksum CRC32
 *
 * CRC32 is 8 lowercase hex digits of the CRC-32 (as zlib's) of every byte
 * before the "checksum" line.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_table.h"


#define NGX_HTTP_K8S_SNAPSHOT_MAGIC     "kubengx-snapshot 1"
#define NGX_HTTP_K8S_SNAPSHOT_INTERVAL  1000
#define NGX_HTTP_K8S_SNAPSHOT_MAX       (64 * 1024 * 1024)


typedef struct {
    ngx_http_k8s_entry_t        *entry;
    ngx_uint_t                   state;
    int64_t                      last_change;
    ngx_array_t                  eps;        /* ngx_http_k8s_endpoint_t */
    ngx_uint_t                   count;
} ngx_http_k8s_snapshot_service_t;


static ngx_int_t ngx_http_k8s_snapshot_parse(ngx_http_k8s_table_t *table,
    ngx_pool_t *pool, u_char *start, u_char *end, ngx_array_t *services,
    ngx_uint_t *line, const char **err);
static ngx_int_t ngx_http_k8s_snapshot_words(u_char *p, u_char *end,
    ngx_str_t *words, ngx_uint_t max, ngx_uint_t *n);
static ngx_int_t ngx_http_k8s_snapshot_endpoint(ngx_str_t *w,
    ngx_http_k8s_endpoint_t *ep);
static void ngx_http_k8s_snapshot_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_k8s_snapshot_write(ngx_http_k8s_table_t *table,
    ngx_str_t *path, ngx_log_t *log);
static u_char *ngx_http_k8s_snapshot_word(u_char *p, ngx_str_t *s);


static ngx_event_t       ngx_http_k8s_snapshot_event;
static ngx_connection_t  ngx_http_k8s_snapshot_conn;

/* after a failed write, further failures are logged at debug level only */
static ngx_uint_t        ngx_http_k8s_snapshot_level = NGX_LOG_ERR;


ngx_int_t
ngx_http_k8s_snapshot_load(ngx_http_k8s_table_t *table, ngx_str_t *path,
    ngx_log_t *log)
{
    u_char                           *buf, *crc_line, *end;
    size_t                            size;
    ssize_t                           n;
    uint32_t                          crc, want;
    ngx_fd_t                          fd;
    ngx_err_t                         err;
    ngx_int_t                         rc, hex;
    ngx_uint_t                        i, line, loaded;
    ngx_pool_t                       *pool;
    ngx_array_t                       services;
    ngx_file_info_t                   fi;
    const char                       *reason;
    ngx_http_k8s_snapshot_service_t  *svc;

    fd = ngx_open_file(path->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        err = ngx_errno;

        if (err == NGX_ENOENT) {
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "k8s_snapshot \"%V\" does not exist yet, "
                          "the table starts empty", path);
            return NGX_DECLINED;
        }

        ngx_log_error(NGX_LOG_ERR, log, err,
                      ngx_open_file_n " \"%V\" failed", path);
        table->sh->snapshot_errors++;
        return NGX_ERROR;
    }

    pool = NULL;
    rc = NGX_ERROR;
    line = 0;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      ngx_fd_info_n " \"%V\" failed", path);
        goto done;
    }

    size = (size_t) ngx_file_size(&fi);

    if (size > NGX_HTTP_K8S_SNAPSHOT_MAX) {
        reason = "file too large";
        goto rejected;
    }

    pool = ngx_create_pool(ngx_max(2 * size, 16384), log);
    if (pool == NULL) {
        goto done;
    }

    buf = ngx_pnalloc(pool, size + 1);
    if (buf == NULL) {
        goto done;
    }

    n = ngx_read_fd(fd, buf, size);

    if (n == -1) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      ngx_read_fd_n " \"%V\" failed", path);
        goto done;
    }

    if ((size_t) n != size) {
        reason = "short read";
        goto rejected;
    }

    end = buf + size;

    /* the checksum line: "checksum XXXXXXXX\n", last in the file */

    if (size < sizeof("checksum 00000000\n") - 1
        || end[-1] != '\n')
    {
        reason = "truncated (no checksum line)";
        goto rejected;
    }

    crc_line = end - (sizeof("checksum 00000000\n") - 1);

    if (ngx_strncmp(crc_line, "checksum ", 9) != 0
        || (crc_line != buf && crc_line[-1] != '\n'))
    {
        reason = "truncated (no checksum line)";
        goto rejected;
    }

    hex = ngx_hextoi(crc_line + 9, 8);

    if (hex == NGX_ERROR) {
        reason = "invalid checksum line";
        goto rejected;
    }

    want = (uint32_t) hex;
    crc = ngx_crc32_long(buf, crc_line - buf);

    if (crc != want) {
        reason = "checksum mismatch";
        goto rejected;
    }

    if (ngx_array_init(&services, pool, 16,
                       sizeof(ngx_http_k8s_snapshot_service_t))
        != NGX_OK)
    {
        goto done;
    }

    if (ngx_http_k8s_snapshot_parse(table, pool, buf, crc_line, &services,
                                    &line, &reason)
        != NGX_OK)
    {
        goto rejected;
    }

    /* the whole file is valid: apply it */

    svc = services.elts;
    loaded = 0;

    for (i = 0; i < services.nelts; i++) {
        if (svc[i].entry == NULL) {
            continue;       /* a Service no longer configured */
        }

        if (ngx_http_k8s_table_apply(table, svc[i].entry, svc[i].eps.elts,
                                     svc[i].eps.nelts, svc[i].state,
                                     svc[i].last_change, log)
            == NGX_ERROR)
        {
            continue;
        }

        loaded++;
    }

    table->sh->snapshot_loaded = loaded;

    /* the file holds what the table holds now */
    table->sh->snapshot_written = table->sh->generation;

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "k8s_snapshot \"%V\": loaded %ui service(s)",
                  path, loaded);

    rc = NGX_OK;
    goto done;

rejected:

    table->sh->snapshot_errors++;

    if (line) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "k8s_snapshot \"%V\" rejected: line %ui: %s; "
                      "the table starts empty", path, line, reason);
    } else {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "k8s_snapshot \"%V\" rejected: %s; "
                      "the table starts empty", path, reason);
    }

done:

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", path);
    }

    if (pool) {
        ngx_destroy_pool(pool);
    }

    return rc;
}


static ngx_int_t
ngx_http_k8s_snapshot_parse(ngx_http_k8s_table_t *table, ngx_pool_t *pool,
    u_char *start, u_char *end, ngx_array_t *services, ngx_uint_t *line,
    const char **err)
{
    u_char                           *p, *nl;
    ngx_int_t                         num;
    ngx_str_t                         w[8];
    ngx_uint_t                        i, nw, nkeys, ended;
    ngx_http_k8s_key_t              **keys;
    ngx_http_k8s_endpoint_t          *ep;
    ngx_http_k8s_snapshot_service_t  *svc;

    keys = table->kmcf->keys.elts;
    nkeys = table->kmcf->keys.nelts;

    svc = NULL;
    ended = 0;
    *line = 0;

    for (p = start; p < end; p = nl + 1) {

        (*line)++;

        nl = ngx_strlchr(p, end, '\n');
        if (nl == NULL) {
            *err = "unterminated line";
            return NGX_ERROR;
        }

        if (ended) {
            *err = "data after \"end\"";
            return NGX_ERROR;
        }

        if (ngx_http_k8s_snapshot_words(p, nl, w, 8, &nw) != NGX_OK) {
            *err = "too many fields";
            return NGX_ERROR;
        }

        if (*line == 1) {
            if (nl - p != sizeof(NGX_HTTP_K8S_SNAPSHOT_MAGIC) - 1
                || ngx_strncmp(p, NGX_HTTP_K8S_SNAPSHOT_MAGIC, nl - p) != 0)
            {
                *err = "not a kubengx snapshot (version 1)";
                return NGX_ERROR;
            }

            continue;
        }

        if (nw == 0) {
            *err = "empty line";
            return NGX_ERROR;
        }

        if (svc && svc->eps.nelts < svc->count
            && !(w[0].len == 8 && ngx_strncmp(w[0].data, "endpoint", 8) == 0))
        {
            *err = "fewer endpoints than announced";
            return NGX_ERROR;
        }

        if (w[0].len == 10 && ngx_strncmp(w[0].data, "generation", 10) == 0) {
            if (nw != 2 || ngx_atoi(w[1].data, w[1].len) == NGX_ERROR) {
                *err = "invalid generation";
                return NGX_ERROR;
            }

            continue;
        }

        if (w[0].len == 2 && ngx_strncmp(w[0].data, "rv", 2) == 0) {
            if (nw != 2) {
                *err = "invalid rv";
                return NGX_ERROR;
            }

            continue;
        }

        if (w[0].len == 7 && ngx_strncmp(w[0].data, "service", 7) == 0) {

            if (nw != 5) {
                *err = "invalid service line";
                return NGX_ERROR;
            }

            svc = ngx_array_push(services);
            if (svc == NULL) {
                *err = "out of memory";
                return NGX_ERROR;
            }

            ngx_memzero(svc, sizeof(ngx_http_k8s_snapshot_service_t));

            for (i = 0; i < nkeys; i++) {
                if (keys[i]->key.len == w[1].len
                    && ngx_strncmp(keys[i]->key.data, w[1].data, w[1].len)
                       == 0)
                {
                    svc->entry = keys[i]->entry;
                    break;
                }
            }

            if (w[2].len == 6 && ngx_strncmp(w[2].data, "absent", 6) == 0) {
                svc->state = NGX_HTTP_K8S_ABSENT;

            } else if (w[2].len == 5
                       && ngx_strncmp(w[2].data, "empty", 5) == 0)
            {
                svc->state = NGX_HTTP_K8S_EMPTY;

            } else if (w[2].len == 5
                       && ngx_strncmp(w[2].data, "ready", 5) == 0)
            {
                svc->state = NGX_HTTP_K8S_READY;

            } else {
                *err = "invalid service state";
                return NGX_ERROR;
            }

            num = ngx_atoof(w[3].data, w[3].len);
            if (num == NGX_ERROR) {
                *err = "invalid last change time";
                return NGX_ERROR;
            }

            svc->last_change = num;

            num = ngx_atoi(w[4].data, w[4].len);
            if (num == NGX_ERROR || num > 1000000
                || (num == 0) != (svc->state != NGX_HTTP_K8S_READY))
            {
                *err = "invalid endpoint count";
                return NGX_ERROR;
            }

            svc->count = num;

            if (ngx_array_init(&svc->eps, pool, num ? num : 1,
                               sizeof(ngx_http_k8s_endpoint_t))
                != NGX_OK)
            {
                *err = "out of memory";
                return NGX_ERROR;
            }

            continue;
        }

        if (w[0].len == 8 && ngx_strncmp(w[0].data, "endpoint", 8) == 0) {

            if (svc == NULL || svc->eps.nelts >= svc->count) {
                *err = "unexpected endpoint";
                return NGX_ERROR;
            }

            if (nw != 6) {
                *err = "invalid endpoint line";
                return NGX_ERROR;
            }

            ep = ngx_array_push(&svc->eps);
            if (ep == NULL) {
                *err = "out of memory";
                return NGX_ERROR;
            }

            if (ngx_http_k8s_snapshot_endpoint(w, ep) != NGX_OK) {
                *err = "invalid endpoint";
                return NGX_ERROR;
            }

            continue;
        }

        if (w[0].len == 3 && ngx_strncmp(w[0].data, "end", 3) == 0) {
            num = (nw == 2) ? ngx_atoi(w[1].data, w[1].len) : NGX_ERROR;

            if (num == NGX_ERROR || (ngx_uint_t) num != services->nelts) {
                *err = "service count mismatch";
                return NGX_ERROR;
            }

            ended = 1;
            continue;
        }

        *err = "unknown record";
        return NGX_ERROR;
    }

    if (!ended) {
        (*line)++;
        *err = "missing \"end\"";
        return NGX_ERROR;
    }

    *line = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_k8s_snapshot_words(u_char *p, u_char *end, ngx_str_t *words,
    ngx_uint_t max, ngx_uint_t *n)
{
    u_char  *sp;

    *n = 0;

    while (p < end) {
        if (*n == max) {
            return NGX_ERROR;
        }

        sp = ngx_strlchr(p, end, ' ');
        if (sp == NULL) {
            sp = end;
        }

        words[*n].data = p;
        words[*n].len = sp - p;
        (*n)++;

        p = sp + 1;
    }

    return NGX_OK;
}


/* "endpoint ADDR:PORT FLAGS ZONE NODE TARGET" */

static ngx_int_t
ngx_http_k8s_snapshot_endpoint(ngx_str_t *w, ngx_http_k8s_endpoint_t *ep)
{
    u_char      *colon, *host, *host_end;
    in_addr_t    in;
    ngx_int_t    port;
    ngx_uint_t   i;

    ngx_memzero(ep, sizeof(ngx_http_k8s_endpoint_t));

    colon = NULL;

    for (i = w[1].len; i > 0; i--) {
        if (w[1].data[i - 1] == ':') {
            colon = &w[1].data[i - 1];
            break;
        }
    }

    if (colon == NULL) {
        return NGX_ERROR;
    }

    port = ngx_atoi(colon + 1, w[1].data + w[1].len - colon - 1);
    if (port < 1 || port > 65535) {
        return NGX_ERROR;
    }

    ep->port = (in_port_t) port;

    host = w[1].data;
    host_end = colon;

    if (host < host_end && *host == '[') {
#if (NGX_HAVE_INET6)
        if (host_end - host < 3 || host_end[-1] != ']') {
            return NGX_ERROR;
        }

        if (ngx_inet6_addr(host + 1, host_end - host - 2, ep->addr)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        ep->family = AF_INET6;
#else
        return NGX_ERROR;
#endif

    } else {
        in = ngx_inet_addr(host, host_end - host);
        if (in == INADDR_NONE) {
            return NGX_ERROR;
        }

        ngx_memcpy(ep->addr, &in, 4);
        ep->family = AF_INET;
    }

    if (!(w[2].len == 1 && w[2].data[0] == '-')) {
        for (i = 0; i < w[2].len; i++) {
            switch (w[2].data[i]) {
            case 'r':
                ep->ready = 1;
                break;
            case 's':
                ep->serving = 1;
                break;
            case 't':
                ep->terminating = 1;
                break;
            default:
                return NGX_ERROR;
            }
        }
    }

    for (i = 3; i < 6; i++) {
        if (w[i].len == 0 || w[i].len > 253) {
            return NGX_ERROR;
        }

        if (w[i].len == 1 && w[i].data[0] == '-') {
            w[i].len = 0;
        }
    }

    ep->zone = w[3];
    ep->node_name = w[4];
    ep->target = w[5];

    return NGX_OK;
}


ngx_int_t
ngx_http_k8s_snapshot_init_process(ngx_cycle_t *cycle)
{
    ngx_event_t               *ev;
    ngx_http_k8s_main_conf_t  *kmcf;

    kmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_k8s_module);

    if (kmcf->snapshot.len == 0 || kmcf->table == NULL) {
        return NGX_OK;
    }

    if (!((ngx_process == NGX_PROCESS_WORKER && ngx_worker == 0)
          || ngx_process == NGX_PROCESS_SINGLE))
    {
        return NGX_OK;
    }

    ngx_http_k8s_snapshot_conn.fd = (ngx_socket_t) -1;

    ev = &ngx_http_k8s_snapshot_event;
    ngx_memzero(ev, sizeof(ngx_event_t));

    ev->handler = ngx_http_k8s_snapshot_handler;
    ev->data = &ngx_http_k8s_snapshot_conn;
    ev->log = cycle->log;
    ev->cancelable = 1;

    ngx_add_timer(ev, NGX_HTTP_K8S_SNAPSHOT_INTERVAL);

    return NGX_OK;
}


void
ngx_http_k8s_snapshot_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_k8s_main_conf_t  *kmcf;

    if (ngx_http_k8s_snapshot_event.handler == NULL) {
        return;
    }

    if (ngx_http_k8s_snapshot_event.timer_set) {
        ngx_del_timer(&ngx_http_k8s_snapshot_event);
    }

    kmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_k8s_module);

    if (kmcf->table
        && kmcf->table->sh->snapshot_written != kmcf->table->sh->generation)
    {
        (void) ngx_http_k8s_snapshot_write(kmcf->table, &kmcf->snapshot,
                                           cycle->log);
    }
}


static void
ngx_http_k8s_snapshot_handler(ngx_event_t *ev)
{
    ngx_http_k8s_table_t      *table;
    ngx_http_k8s_main_conf_t  *kmcf;

    kmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_k8s_module);
    table = kmcf->table;

    if (table->sh->snapshot_written != table->sh->generation) {
        (void) ngx_http_k8s_snapshot_write(table, &kmcf->snapshot, ev->log);
    }

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    ngx_add_timer(ev, NGX_HTTP_K8S_SNAPSHOT_INTERVAL);
}


static ngx_int_t
ngx_http_k8s_snapshot_write(ngx_http_k8s_table_t *table, ngx_str_t *path,
    ngx_log_t *log)
{
    u_char               *buf, *p, *tmp;
    size_t                size;
    ssize_t               n;
    ngx_fd_t              fd;
    ngx_str_t             rv;
    ngx_int_t             rc;
    ngx_uint_t            i, j, nv, nsvc, gen;
    ngx_pool_t           *pool;
    ngx_http_k8s_view_t  *view;
    ngx_http_k8s_slot_t  *slot;
    ngx_http_k8s_peer_t  *peer;

    static const char    *states[] = { "", "absent", "empty", "ready" };

    gen = table->sh->generation;

    pool = ngx_create_pool(16384, log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_ERROR;
    fd = NGX_INVALID_FILE;
    tmp = NULL;

    view = ngx_http_k8s_table_view(table, pool, &nv);
    if (view == NULL) {
        goto done;
    }

    size = 1024 + NGX_HTTP_K8S_RV_LEN;

    for (i = 0; i < nv; i++) {
        size += 128 + view[i].entry->key.len;

        for (j = 0; view[i].peers && j < view[i].peers->number; j++) {
            peer = view[i].peers->slot[j].peer;
            size += 128 + peer->zone.len + peer->node_name.len
                    + peer->target.len;
        }
    }

    buf = ngx_pnalloc(pool, size);
    if (buf == NULL) {
        ngx_http_k8s_table_view_release(view, nv);
        goto done;
    }

    rv.data = ngx_pnalloc(pool, NGX_HTTP_K8S_RV_LEN);
    if (rv.data == NULL) {
        ngx_http_k8s_table_view_release(view, nv);
        goto done;
    }

    rv.len = ngx_http_k8s_table_resource_version(table, rv.data,
                                                 NGX_HTTP_K8S_RV_LEN);

    p = ngx_sprintf(buf, NGX_HTTP_K8S_SNAPSHOT_MAGIC "\ngeneration %ui\nrv ",
                    gen);
    p = ngx_http_k8s_snapshot_word(p, &rv);
    *p++ = '\n';

    nsvc = 0;

    for (i = 0; i < nv; i++) {
        if (view[i].state == NGX_HTTP_K8S_UNSYNCED) {
            continue;
        }

        nsvc++;

        p = ngx_sprintf(p, "service %V %s %L %ui\n", &view[i].entry->key,
                        states[view[i].state & 3], view[i].last_change,
                        view[i].peers ? view[i].peers->number : 0);

        for (j = 0; view[i].peers && j < view[i].peers->number; j++) {
            slot = &view[i].peers->slot[j];
            peer = slot->peer;

            p = ngx_sprintf(p, "endpoint %V ", &peer->name);

            if (!(slot->ready || slot->serving || slot->terminating)) {
                *p++ = '-';
            }

            if (slot->ready) {
                *p++ = 'r';
            }

            if (slot->serving) {
                *p++ = 's';
            }

            if (slot->terminating) {
                *p++ = 't';
            }

            *p++ = ' ';
            p = ngx_http_k8s_snapshot_word(p, &peer->zone);
            *p++ = ' ';
            p = ngx_http_k8s_snapshot_word(p, &peer->node_name);
            *p++ = ' ';
            p = ngx_http_k8s_snapshot_word(p, &peer->target);
            *p++ = '\n';
        }
    }

    ngx_http_k8s_table_view_release(view, nv);

    p = ngx_sprintf(p, "end %ui\n", nsvc);
    p = ngx_sprintf(p, "checksum %08xD\n", ngx_crc32_long(buf, p - buf));

    /* PATH.PID.tmp, then rename */

    tmp = ngx_pnalloc(pool, path->len + NGX_INT64_LEN + sizeof(".tmp") + 1);
    if (tmp == NULL) {
        goto done;
    }

    (void) ngx_sprintf(tmp, "%V.%P.tmp%Z", path, ngx_pid);

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE,
                       NGX_FILE_DEFAULT_ACCESS);

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(ngx_http_k8s_snapshot_level, log, ngx_errno,
                      ngx_open_file_n " \"%s\" failed", tmp);
        tmp = NULL;
        goto done;
    }

    n = ngx_write_fd(fd, buf, p - buf);

    if (n != p - buf) {
        ngx_log_error(ngx_http_k8s_snapshot_level, log, ngx_errno,
                      ngx_write_fd_n " \"%s\" failed", tmp);
        goto done;
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      ngx_close_file_n " \"%s\" failed", tmp);
    }

    fd = NGX_INVALID_FILE;

    if (ngx_rename_file(tmp, path->data) == NGX_FILE_ERROR) {
        ngx_log_error(ngx_http_k8s_snapshot_level, log, ngx_errno,
                      ngx_rename_file_n " \"%s\" to \"%V\" failed",
                      tmp, path);
        goto done;
    }

    tmp = NULL;
    table->sh->snapshot_written = gen;
    rc = NGX_OK;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "k8s_snapshot: wrote %ui services, generation %ui",
                   nsvc, gen);

done:

    if (rc != NGX_OK) {
        table->sh->snapshot_errors++;

        if (ngx_http_k8s_snapshot_level != NGX_LOG_DEBUG) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "k8s_snapshot \"%V\" not written; retrying "
                          "quietly every %d ms (is its directory writable "
                          "by the worker user?)",
                          path, NGX_HTTP_K8S_SNAPSHOT_INTERVAL);
            ngx_http_k8s_snapshot_level = NGX_LOG_DEBUG;
        }

    } else if (ngx_http_k8s_snapshot_level == NGX_LOG_DEBUG) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "k8s_snapshot \"%V\" written again", path);
        ngx_http_k8s_snapshot_level = NGX_LOG_ERR;
    }

    if (fd != NGX_INVALID_FILE) {
        (void) ngx_close_file(fd);
    }

    if (tmp) {
        (void) ngx_delete_file(tmp);
    }

    ngx_destroy_pool(pool);

    return rc;
}


/* a field: "-" when empty, bytes that would break the format as '_' */

static u_char *
ngx_http_k8s_snapshot_word(u_char *p, ngx_str_t *s)
{
    ngx_uint_t  i;

    if (s->len == 0) {
        *p++ = '-';
        return p;
    }

    for (i = 0; i < s->len; i++) {
        *p++ = (s->data[i] <= ' ' || s->data[i] >= 0x7f) ? '_' : s->data[i];
    }

    return p;
}
