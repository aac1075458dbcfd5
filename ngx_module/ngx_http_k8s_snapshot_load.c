
/*
 * kubengx: k8s_snapshot, loading the file (the format is described in
 * ngx_http_k8s_snapshot.c, which writes it).
 *
 * When the zone is created (cold start, in the master), the table is
 * filled from PATH, so a restarted nginx serves the last-known endpoints
 * before the API answers.  A garbled, truncated or foreign file is
 * rejected as a whole, with a log line; nginx starts anyway, with an
 * empty table.  Services in the file that the configuration does not name
 * are ignored; endpoint lists go through ngx_http_k8s_table_apply(), so
 * refused addresses (ngx_http_k8s_addr.c) are dropped as from the API.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_table.h"
#include "ngx_http_k8s_snapshot.h"


typedef struct {
    ngx_http_k8s_entry_t        *entry;
    ngx_uint_t                   state;
    int64_t                      last_change;
    ngx_array_t                  eps;        /* ngx_http_k8s_endpoint_t */
    ngx_uint_t                   count;
} ngx_http_k8s_snapshot_service_t;


static const char *ngx_http_k8s_snapshot_verify(u_char *buf, size_t size,
    u_char **crc_line);
static ngx_uint_t ngx_http_k8s_snapshot_apply(ngx_http_k8s_table_t *table,
    ngx_array_t *services, ngx_log_t *log);
static ngx_int_t ngx_http_k8s_snapshot_parse(ngx_http_k8s_table_t *table,
    ngx_pool_t *pool, u_char *start, u_char *end, ngx_array_t *services,
    ngx_uint_t *line, const char **err);
static ngx_http_k8s_snapshot_service_t *ngx_http_k8s_snapshot_service(
    ngx_http_k8s_table_t *table, ngx_pool_t *pool, ngx_str_t *w,
    ngx_uint_t nw, ngx_array_t *services, const char **err);
static ngx_int_t ngx_http_k8s_snapshot_words(u_char *p, u_char *end,
    ngx_str_t *words, ngx_uint_t max, ngx_uint_t *n);
static ngx_int_t ngx_http_k8s_snapshot_endpoint(ngx_str_t *w,
    ngx_http_k8s_endpoint_t *ep);


ngx_int_t
ngx_http_k8s_snapshot_load(ngx_http_k8s_table_t *table, ngx_str_t *path,
    ngx_log_t *log)
{
    u_char           *buf, *crc_line;
    size_t            size;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_err_t         err;
    ngx_int_t         rc;
    ngx_uint_t        line, loaded;
    ngx_pool_t       *pool;
    ngx_array_t       services;
    ngx_file_info_t   fi;
    const char       *reason;

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

    reason = ngx_http_k8s_snapshot_verify(buf, size, &crc_line);

    if (reason) {
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

    loaded = ngx_http_k8s_snapshot_apply(table, &services, log);

    table->sh->snapshot_loaded = loaded;

    /* the file holds what the table holds now, unless it had Services
     * this configuration does not name (then it is written again) */

    if (loaded == services.nelts) {
        table->sh->snapshot_written = table->sh->generation;
        table->sh->snapshot_gen = table->gen;
    }

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


/* the checksum line, last in the file; NULL when it matches, else why */

static const char *
ngx_http_k8s_snapshot_verify(u_char *buf, size_t size, u_char **crc_line)
{
    u_char     *end, *line;
    ngx_int_t   hex;

    end = buf + size;

    /* "checksum XXXXXXXX\n" */

    if (size < sizeof("checksum 00000000\n") - 1 || end[-1] != '\n') {
        return "truncated (no checksum line)";
    }

    line = end - (sizeof("checksum 00000000\n") - 1);

    if (ngx_strncmp(line, "checksum ", 9) != 0
        || (line != buf && line[-1] != '\n'))
    {
        return "truncated (no checksum line)";
    }

    hex = ngx_hextoi(line + 9, 8);

    if (hex == NGX_ERROR) {
        return "invalid checksum line";
    }

    if (ngx_crc32_long(buf, line - buf) != (uint32_t) hex) {
        return "checksum mismatch";
    }

    *crc_line = line;

    return NULL;
}


/* the parsed Services into the table; returns how many were loaded */

static ngx_uint_t
ngx_http_k8s_snapshot_apply(ngx_http_k8s_table_t *table,
    ngx_array_t *services, ngx_log_t *log)
{
    ngx_uint_t                        i, loaded;
    ngx_http_k8s_snapshot_service_t  *svc;

    svc = services->elts;
    loaded = 0;

    for (i = 0; i < services->nelts; i++) {
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

    return loaded;
}


static ngx_int_t
ngx_http_k8s_snapshot_parse(ngx_http_k8s_table_t *table, ngx_pool_t *pool,
    u_char *start, u_char *end, ngx_array_t *services, ngx_uint_t *line,
    const char **err)
{
    u_char                           *p, *nl;
    ngx_int_t                         num;
    ngx_str_t                         w[8];
    ngx_uint_t                        nw, ended;
    ngx_http_k8s_endpoint_t          *ep;
    ngx_http_k8s_snapshot_service_t  *svc;

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

            svc = ngx_http_k8s_snapshot_service(table, pool, w, nw,
                                                services, err);
            if (svc == NULL) {
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


/* "service KEY STATE LAST_CHANGE_MS COUNT": a new element of services */

static ngx_http_k8s_snapshot_service_t *
ngx_http_k8s_snapshot_service(ngx_http_k8s_table_t *table, ngx_pool_t *pool,
    ngx_str_t *w, ngx_uint_t nw, ngx_array_t *services, const char **err)
{
    ngx_int_t                         num;
    ngx_http_k8s_entry_t             *entry;
    ngx_http_k8s_snapshot_service_t  *svc;

    if (nw != 5) {
        *err = "invalid service line";
        return NULL;
    }

    svc = ngx_array_push(services);
    if (svc == NULL) {
        *err = "out of memory";
        return NULL;
    }

    ngx_memzero(svc, sizeof(ngx_http_k8s_snapshot_service_t));

    /* an entry this configuration names, or NULL */

    ngx_http_k8s_table_lock(table);

    entry = ngx_http_k8s_table_lookup(table, &w[1],
                                      ngx_crc32_short(w[1].data,
                                                      w[1].len));
    if (entry && entry->named == table->gen) {
        svc->entry = entry;
    }

    ngx_http_k8s_table_unlock(table);

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
        return NULL;
    }

    num = ngx_atoof(w[3].data, w[3].len);
    if (num == NGX_ERROR) {
        *err = "invalid last change time";
        return NULL;
    }

    svc->last_change = num;

    num = ngx_atoi(w[4].data, w[4].len);
    if (num == NGX_ERROR || num > 1000000
        || (num == 0) != (svc->state != NGX_HTTP_K8S_READY))
    {
        *err = "invalid endpoint count";
        return NULL;
    }

    svc->count = num;

    if (ngx_array_init(&svc->eps, pool, num ? num : 1,
                       sizeof(ngx_http_k8s_endpoint_t))
        != NGX_OK)
    {
        *err = "out of memory";
        return NULL;
    }

    return svc;
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
    u_char       text[NGX_INET6_ADDRSTRLEN + 1];
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

    /*
     * inet_pton(), not ngx_inet_addr() / ngx_inet6_addr(): their error
     * value is 255.255.255.255, which must parse (to be refused with a
     * warning, ngx_http_k8s_addr.c, instead of the whole file)
     */

    ep->family = AF_INET;

    if (host < host_end && *host == '[') {
        if (host_end - host < 3 || host_end[-1] != ']') {
            return NGX_ERROR;
        }

        host++;
        host_end--;
        ep->family = AF_INET6;
    }

    if ((size_t) (host_end - host) > NGX_INET6_ADDRSTRLEN) {
        return NGX_ERROR;
    }

    *ngx_cpymem(text, host, host_end - host) = '\0';

    if (inet_pton(ep->family, (char *) text, ep->addr) != 1) {
        return NGX_ERROR;
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


