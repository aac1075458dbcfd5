
/*
 * kubengx: k8s_snapshot, the endpoint table on disk: writing it
 * (loading is ngx_http_k8s_snapshot_load.c).
 *
 * Worker 0 of the newest configuration writes the table after changes
 * (a cancelable timer checks the table generation every second, and once
 * at once when the worker starts, so a reload that drops Services drops
 * them from the file too): the whole file is written to PATH.PID.tmp and
 * renamed over PATH, so a reader sees the old or the new file, never a
 * partial one.  The file lists the Services of that configuration only.
 * There is no fsync(): it could block the worker's event loop for as long
 * as the disk likes, and the file serves a restarted nginx on a running
 * machine (the page cache has it); after a power loss a torn file fails
 * its checksum and the table starts empty, as without a snapshot.  The
 * text is written with bounds into a chain of buffers
 * (ngx_http_k8s_out.h), never into a buffer sized by estimate.
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
#include "ngx_http_k8s_out.h"
#include "ngx_http_k8s_snapshot.h"


#define NGX_HTTP_K8S_SNAPSHOT_INTERVAL  1000


static void ngx_http_k8s_snapshot_handler(ngx_event_t *ev);
static ngx_uint_t ngx_http_k8s_snapshot_due(ngx_http_k8s_table_t *table);
static ngx_int_t ngx_http_k8s_snapshot_write(ngx_http_k8s_table_t *table,
    ngx_str_t *path, ngx_log_t *log);
static ngx_uint_t ngx_http_k8s_snapshot_text(ngx_http_k8s_out_t *out,
    ngx_http_k8s_table_t *table, ngx_uint_t gen);
static void ngx_http_k8s_snapshot_service(ngx_http_k8s_out_t *out,
    ngx_http_k8s_view_t *v);
static ngx_int_t ngx_http_k8s_snapshot_file(ngx_chain_t *cl, u_char *tmp,
    ngx_str_t *path, ngx_log_t *log);


static ngx_event_t       ngx_http_k8s_snapshot_event;
static ngx_connection_t  ngx_http_k8s_snapshot_conn;

/* after a failed write, further failures are logged at debug level only */
static ngx_uint_t        ngx_http_k8s_snapshot_level = NGX_LOG_ERR;


ngx_int_t
ngx_http_k8s_snapshot_init_process(ngx_cycle_t *cycle)
{
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

    ngx_http_k8s_timer_init(&ngx_http_k8s_snapshot_event,
                            &ngx_http_k8s_snapshot_conn,
                            ngx_http_k8s_snapshot_handler, cycle->log);

    /* the first check right away: a new configuration rewrites the file */
    ngx_add_timer(&ngx_http_k8s_snapshot_event, 1);

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

    if (kmcf->table && ngx_http_k8s_snapshot_due(kmcf->table)) {
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

    if (ngx_http_k8s_snapshot_due(table)) {
        (void) ngx_http_k8s_snapshot_write(table, &kmcf->snapshot, ev->log);
    }

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    ngx_add_timer(ev, NGX_HTTP_K8S_SNAPSHOT_INTERVAL);
}


/*
 * Only the newest configuration writes (an old worker 0 still finishing
 * its requests after a reload would write the Services of its own), when
 * the table changed or the file was written by another configuration.
 */

static ngx_uint_t
ngx_http_k8s_snapshot_due(ngx_http_k8s_table_t *table)
{
    ngx_http_k8s_sh_t  *sh;

    sh = table->sh;

    if (sh->active_gen != table->gen) {
        return 0;
    }

    return sh->snapshot_written != sh->generation
           || sh->snapshot_gen != table->gen;
}


static ngx_int_t
ngx_http_k8s_snapshot_write(ngx_http_k8s_table_t *table, ngx_str_t *path,
    ngx_log_t *log)
{
    u_char              *tmp;
    ngx_int_t            rc;
    ngx_uint_t           nsvc, gen;
    ngx_pool_t          *pool;
    ngx_chain_t         *cl;
    ngx_http_k8s_out_t   out;

    gen = table->sh->generation;

    pool = ngx_create_pool(16384, log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    ngx_http_k8s_out_init(&out, pool);

    nsvc = ngx_http_k8s_snapshot_text(&out, table, gen);

    cl = ngx_http_k8s_out_chain(&out);

    /* PATH.PID.tmp, then rename */

    tmp = ngx_pnalloc(pool, path->len + NGX_INT64_LEN + sizeof(".tmp") + 1);

    if (cl == NULL || tmp == NULL) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "k8s_snapshot: out of memory");
        goto done;
    }

    (void) ngx_sprintf(tmp, "%V.%P.tmp%Z", path, ngx_pid);

    if (ngx_http_k8s_snapshot_file(cl, tmp, path, log) != NGX_OK) {
        goto done;
    }

    table->sh->snapshot_written = gen;
    table->sh->snapshot_gen = table->gen;
    rc = NGX_OK;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "k8s_snapshot: wrote %ui services, generation %ui",
                   nsvc, gen);

#if !(NGX_DEBUG)
    (void) nsvc;            /* without --with-debug the line above is gone */
#endif

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

    ngx_destroy_pool(pool);

    return rc;
}


/* the whole file into out; returns the number of Services written */

static ngx_uint_t
ngx_http_k8s_snapshot_text(ngx_http_k8s_out_t *out,
    ngx_http_k8s_table_t *table, ngx_uint_t gen)
{
    uint32_t              crc;
    ngx_str_t             rv;
    ngx_uint_t            i, nv, nsvc;
    ngx_chain_t          *cl;
    ngx_http_k8s_view_t  *view;
    u_char                buf[NGX_HTTP_K8S_RV_LEN];

    rv.data = buf;
    rv.len = ngx_http_k8s_table_resource_version(table, buf, sizeof(buf));

    view = ngx_http_k8s_table_view(table, out->pool, &nv);
    if (view == NULL) {
        out->error = 1;
        return 0;
    }

    ngx_http_k8s_out_printf(out, NGX_HTTP_K8S_SNAPSHOT_MAGIC
                            "\ngeneration %ui\nrv ", gen);
    ngx_http_k8s_out_word(out, &rv);
    ngx_http_k8s_out_printf(out, "\n");

    nsvc = 0;

    for (i = 0; i < nv; i++) {
        if (view[i].state == NGX_HTTP_K8S_UNSYNCED) {
            continue;
        }

        nsvc++;

        ngx_http_k8s_snapshot_service(out, &view[i]);
    }

    ngx_http_k8s_table_view_release(view, nv);

    ngx_http_k8s_out_printf(out, "end %ui\n", nsvc);

    /* the checksum of everything before it */

    ngx_crc32_init(crc);

    for (cl = ngx_http_k8s_out_chain(out); cl; cl = cl->next) {
        ngx_crc32_update(&crc, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }

    ngx_crc32_final(crc);

    ngx_http_k8s_out_printf(out, "checksum %08xD\n", crc);

    return nsvc;
}


static void
ngx_http_k8s_snapshot_service(ngx_http_k8s_out_t *out, ngx_http_k8s_view_t *v)
{
    static const char    *states[] = { "", "absent", "empty", "ready" };

    u_char                flags[4], *f;
    ngx_str_t             word;
    ngx_uint_t            j;
    ngx_http_k8s_slot_t  *slot;
    ngx_http_k8s_peer_t  *peer;

    ngx_http_k8s_out_printf(out, "service ");
    ngx_http_k8s_out_word(out, &v->entry->key);
    ngx_http_k8s_out_printf(out, " %s %L %ui\n", states[v->state & 3],
                            v->last_change,
                            v->peers ? v->peers->number : 0);

    for (j = 0; v->peers && j < v->peers->number; j++) {
        slot = &v->peers->slot[j];
        peer = slot->peer;

        f = flags;

        if (slot->ready) {
            *f++ = 'r';
        }

        if (slot->serving) {
            *f++ = 's';
        }

        if (slot->terminating) {
            *f++ = 't';
        }

        word.data = flags;
        word.len = f - flags;       /* empty: "-" */

        ngx_http_k8s_out_printf(out, "endpoint %V ", &peer->name);
        ngx_http_k8s_out_word(out, &word);
        ngx_http_k8s_out_printf(out, " ");
        ngx_http_k8s_out_word(out, &peer->zone);
        ngx_http_k8s_out_printf(out, " ");
        ngx_http_k8s_out_word(out, &peer->node_name);
        ngx_http_k8s_out_printf(out, " ");
        ngx_http_k8s_out_word(out, &peer->target);
        ngx_http_k8s_out_printf(out, "\n");
    }
}


/* the chain into tmp, renamed over path */

static ngx_int_t
ngx_http_k8s_snapshot_file(ngx_chain_t *cl, u_char *tmp, ngx_str_t *path,
    ngx_log_t *log)
{
    size_t    len;
    ssize_t   n;
    ngx_fd_t  fd;

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE,
                       NGX_FILE_DEFAULT_ACCESS);

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(ngx_http_k8s_snapshot_level, log, ngx_errno,
                      ngx_open_file_n " \"%s\" failed", tmp);
        return NGX_ERROR;
    }

    for ( /* void */ ; cl; cl = cl->next) {
        len = cl->buf->last - cl->buf->pos;

        n = ngx_write_fd(fd, cl->buf->pos, len);

        if (n == -1 || (size_t) n != len) {
            ngx_log_error(ngx_http_k8s_snapshot_level, log, ngx_errno,
                          ngx_write_fd_n " \"%s\" failed", tmp);
            (void) ngx_close_file(fd);
            (void) ngx_delete_file(tmp);
            return NGX_ERROR;
        }
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      ngx_close_file_n " \"%s\" failed", tmp);
    }

    if (ngx_rename_file(tmp, path->data) == NGX_FILE_ERROR) {
        ngx_log_error(ngx_http_k8s_snapshot_level, log, ngx_errno,
                      ngx_rename_file_n " \"%s\" to \"%V\" failed",
                      tmp, path);
        (void) ngx_delete_file(tmp);
        return NGX_ERROR;
    }

    return NGX_OK;
}
