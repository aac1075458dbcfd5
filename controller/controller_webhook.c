
/*
 * kubengx controller: the validating admission webhook's HTTPS server
 * (--validating-webhook [ADDR]:PORT), on the main loop.
 *
 * The API server POSTs an AdmissionReview to /networking/v1/ingresses
 * (the path of the chart's ValidatingWebhookConfiguration; a query such
 * as ?timeout=10s is ignored) and waits at most the webhook's
 * timeoutSeconds.  Each connection: the TLS handshake, the request head
 * and its Content-Length body read as they arrive, the review
 * (controller_webhook_review.c: answered at once, or after an nginx -t
 * whose output is polled with the connection's), the answer written as
 * the socket takes it, close.  Nothing waits on a client: OpenSSL's
 * WANT_READ/WANT_WRITE decide what the connection is polled for; at most
 * KNGX_WH_CLIENTS connections (a new one evicts the oldest), each with a
 * deadline for its request (KNGX_WH_READ_MS) and its answer.
 *
 * The certificate and key (--validating-webhook-certificate, -key: PEM
 * files, as the Secret the chart mounts) are loaded at start, where a
 * bad pair is fatal, and again when either file changes (looked at once
 * a second, on a connection): a bad new pair is logged and the old one
 * kept.  Connections already open keep the context they started with.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "controller_http.h"
#include "controller_log.h"
#include "controller_webhook_int.h"


#define KNGX_WH_CLIENTS   ((KNGX_CTL_WEBHOOK_MAX_FDS - 1) / 2)
#define KNGX_WH_MAX_BODY  (4 * 1024 * 1024)
#define KNGX_WH_MAX_HEAD  8192
#define KNGX_WH_READ_MS   10000
#define KNGX_WH_WRITE_MS  5000
#define KNGX_WH_PATH      "/networking/v1/ingresses"


enum {
    KNGX_WH_HANDSHAKE = 0,
    KNGX_WH_READING,
    KNGX_WH_REVIEWING,
    KNGX_WH_WRITING
};


typedef struct {
    int                  fd;            /* -1: free */
    SSL                 *ssl;
    int                  state;
    int                  want;          /* CURL_WAIT_POLLIN / POLLOUT */
    int                  poll;          /* index in the last fds, or -1 */
    int                  poll_test;     /* its review's nginx -t's */
    uint64_t             since;
    uint64_t             deadline;
    char                *in;            /* head and body */
    size_t               in_len;
    size_t               head_len;      /* 0: head not complete */
    size_t               body_len;
    const char          *error;         /* the answer to the request */
    kngx_buf_t           out;
    size_t               sent;
    kngx_ctl_review_t   *review;
} kngx_wh_client_t;


typedef struct {
    struct timespec      mtime;
    off_t                size;
    ino_t                ino;
} kngx_wh_stamp_t;


struct kngx_ctl_webhook_s {
    kngx_ctl_review_ctx_t    ctx;
    int                      fd;
    int                      poll;
    SSL_CTX                 *ssl_ctx;
    kngx_wh_stamp_t          stamps[2];     /* certificate, key */
    uint64_t                 checked;       /* files looked at */
    kngx_wh_client_t         clients[KNGX_WH_CLIENTS];
};


/* ---- the certificate ----------------------------------------------------- */

static void
kngx_wh_stamp(const char *path, kngx_wh_stamp_t *st)
{
    struct stat  sb;

    memset(st, 0, sizeof(kngx_wh_stamp_t));

    if (stat(path, &sb) == 0) {
        st->mtime = sb.st_mtim;
        st->size = sb.st_size;
        st->ino = sb.st_ino;
    }
}


static const char *
kngx_wh_ssl_error(char *buf, size_t size)
{
    unsigned long  e = ERR_get_error();

    ERR_clear_error();

    if (e == 0) {
        return "unknown error";
    }

    ERR_error_string_n(e, buf, size);
    return buf;
}


/* a server context with the files' certificate and key, or NULL (said) */
static SSL_CTX *
kngx_wh_ssl_ctx(const kngx_ctl_webhook_conf_t *conf)
{
    SSL_CTX  *ctx;
    char      buf[256];

    ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        kngx_ctl_log("error: webhook: %s", kngx_wh_ssl_error(buf,
                                                               sizeof(buf)));
        return NULL;
    }

    (void) SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE
                          | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

    if (SSL_CTX_use_certificate_chain_file(ctx, conf->certificate) != 1) {
        kngx_ctl_log("error: webhook: --validating-webhook-certificate %s: "
                     "%s", conf->certificate,
                     kngx_wh_ssl_error(buf, sizeof(buf)));
        goto failed;
    }

    if (SSL_CTX_use_PrivateKey_file(ctx, conf->key, SSL_FILETYPE_PEM) != 1) {
        kngx_ctl_log("error: webhook: --validating-webhook-key %s: %s",
                     conf->key, kngx_wh_ssl_error(buf, sizeof(buf)));
        goto failed;
    }

    if (SSL_CTX_check_private_key(ctx) != 1) {
        kngx_ctl_log("error: webhook: --validating-webhook-key %s does not "
                     "match --validating-webhook-certificate %s: %s",
                     conf->key, conf->certificate,
                     kngx_wh_ssl_error(buf, sizeof(buf)));
        goto failed;
    }

    return ctx;

failed:

    SSL_CTX_free(ctx);
    return NULL;
}


/* the files changed: a new context (a bad one: the old stays) */
static void
kngx_wh_reload(kngx_ctl_webhook_t *wh, uint64_t now)
{
    kngx_wh_stamp_t   st[2];
    SSL_CTX          *ctx;

    if (now < wh->checked + 1000) {
        return;
    }

    wh->checked = now;

    kngx_wh_stamp(wh->ctx.conf.certificate, &st[0]);
    kngx_wh_stamp(wh->ctx.conf.key, &st[1]);

    if (memcmp(st, wh->stamps, sizeof(st)) == 0) {
        return;
    }

    ctx = kngx_wh_ssl_ctx(&wh->ctx.conf);
    if (ctx == NULL) {
        kngx_ctl_log("webhook: the certificate files changed but cannot be "
                     "used; the previous certificate stays");
        memcpy(wh->stamps, st, sizeof(st));
        return;
    }

    SSL_CTX_free(wh->ssl_ctx);
    wh->ssl_ctx = ctx;
    memcpy(wh->stamps, st, sizeof(st));

    kngx_ctl_log("webhook: certificate %s reloaded", wh->ctx.conf.certificate);
}


/* ---- start and stop ------------------------------------------------------ */

/* "[ADDR]:PORT", "ADDR:PORT", ":PORT" -> addr (NULL: every address) */
static int
kngx_wh_parse_listen(const char *s, char *addr, size_t size,
    const char **a, int *port)
{
    const char  *colon = strrchr(s, ':');
    char        *end;
    long         n;
    size_t       len;

    if (colon == NULL) {
        return -1;
    }

    n = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || n < 1 || n > 65535) {
        return -1;
    }

    *port = (int) n;
    len = (size_t) (colon - s);

    if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
        s++;
        len -= 2;
    }

    if (len == 0) {
        *a = NULL;
        return 0;
    }

    if (len >= size) {
        return -1;
    }

    memcpy(addr, s, len);
    addr[len] = '\0';
    *a = addr;

    return 0;
}


kngx_ctl_webhook_t *
kngx_ctl_webhook_create(const kngx_ctl_webhook_conf_t *conf,
    const kngx_ctl_sync_conf_t *sync_conf, kngx_ctl_watch_t *watch,
    kngx_ctl_sync_t *sync, int *failed)
{
    kngx_ctl_webhook_t  *wh;
    const char          *addr, *bound;
    char                 buf[256];
    int                  port, i;

    *failed = 0;

    if (conf->listen == NULL) {
        return NULL;
    }

    *failed = 1;

    if (kngx_wh_parse_listen(conf->listen, buf, sizeof(buf), &addr, &port)
        != 0)
    {
        kngx_ctl_log("error: webhook: --validating-webhook \"%s\" is not "
                     "[ADDRESS]:PORT", conf->listen);
        return NULL;
    }

    wh = calloc(1, sizeof(kngx_ctl_webhook_t));
    if (wh == NULL) {
        kngx_ctl_log("error: webhook: out of memory");
        return NULL;
    }

    wh->ctx.conf = *conf;
    wh->ctx.po = sync_conf->po;
    wh->ctx.ro = sync_conf->ro;
    wh->ctx.co = sync_conf->co;
    wh->ctx.watch = watch;
    wh->ctx.sync = sync;
    wh->fd = -1;

    for (i = 0; i < KNGX_WH_CLIENTS; i++) {
        wh->clients[i].fd = -1;
    }

    kngx_wh_stamp(conf->certificate, &wh->stamps[0]);
    kngx_wh_stamp(conf->key, &wh->stamps[1]);
    wh->checked = kngx_ctl_now();

    wh->ssl_ctx = kngx_wh_ssl_ctx(conf);
    if (wh->ssl_ctx == NULL) {
        kngx_ctl_webhook_destroy(wh);
        return NULL;
    }

    wh->fd = kngx_ctl_http_bind(addr, port, &bound);
    if (wh->fd < 0) {
        kngx_ctl_log("error: webhook: --validating-webhook %s: %s",
                     conf->listen,
                     errno == EINVAL ? "not an IP address" : strerror(errno));
        kngx_ctl_webhook_destroy(wh);
        return NULL;
    }

    kngx_ctl_log("validating webhook on https://%s%s%s:%d%s",
                 strchr(bound, ':') ? "[" : "", bound,
                 strchr(bound, ':') ? "]" : "", port, KNGX_WH_PATH);

    *failed = 0;
    return wh;
}


static void
kngx_wh_close(kngx_ctl_webhook_t *wh, kngx_wh_client_t *c)
{
    if (c->ssl) {
        SSL_free(c->ssl);
    }

    close(c->fd);
    kngx_ctl_review_free(&wh->ctx, c->review);
    free(c->in);
    kngx_buf_free(&c->out);

    memset(c, 0, sizeof(kngx_wh_client_t));
    c->fd = -1;
    c->poll = -1;
    c->poll_test = -1;
}


void
kngx_ctl_webhook_destroy(kngx_ctl_webhook_t *wh)
{
    int  i;

    if (wh == NULL) {
        return;
    }

    for (i = 0; i < KNGX_WH_CLIENTS; i++) {
        if (wh->clients[i].fd >= 0) {
            kngx_wh_close(wh, &wh->clients[i]);
        }
    }

    if (wh->fd >= 0) {
        close(wh->fd);
    }

    SSL_CTX_free(wh->ssl_ctx);
    free(wh);
}


/* ---- a connection -------------------------------------------------------- */

/* an SSL call's result: 1 done, 0 again when c->want, -1 failed */
static int
kngx_wh_ssl_result(kngx_wh_client_t *c, int r)
{
    int  e;

    if (r > 0) {
        return 1;
    }

    e = SSL_get_error(c->ssl, r);

    if (e == SSL_ERROR_WANT_READ) {
        c->want = CURL_WAIT_POLLIN;
        return 0;
    }

    if (e == SSL_ERROR_WANT_WRITE) {
        c->want = CURL_WAIT_POLLOUT;
        return 0;
    }

    ERR_clear_error();
    return -1;
}


static void
kngx_wh_reply(kngx_wh_client_t *c, const char *status, kngx_buf_t *body)
{
    kngx_buf_printf(&c->out, "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
                    "Content-Length: %zu\r\nConnection: close\r\n\r\n%.*s",
                    status, status[0] == '2' ? "application/json"
                                             : "text/plain; charset=utf-8",
                    body->len, (int) body->len, body->data ? body->data : "");

    if (body->nomem) {
        c->out.nomem = 1;
    }

    kngx_buf_free(body);

    c->state = KNGX_WH_WRITING;
    c->sent = 0;
    c->want = CURL_WAIT_POLLOUT;
    c->deadline = kngx_ctl_now() + KNGX_WH_WRITE_MS;
}


/*
 * The head is complete: 0 the body follows (c->error: the answer then,
 * read first so that closing does not reset the connection under it),
 * -1 answered at once.
 */
static int
kngx_wh_head(kngx_wh_client_t *c)
{
    kngx_buf_t   body = { NULL, 0, 0, 0 };
    const char  *cl, *status = NULL;
    char         method[16], path[256];
    long         n;

    cl = strcasestr(c->in, "\ncontent-length:");
    n = cl && cl < c->in + c->head_len ? strtol(cl + 16, NULL, 10) : -1;

    if (sscanf(c->in, "%15s %255s", method, path) != 2) {
        c->error = "400 Bad Request";

    } else if (strcmp(method, "POST") != 0) {
        c->error = "405 Method Not Allowed";

    } else if (strncmp(path, KNGX_WH_PATH, sizeof(KNGX_WH_PATH) - 1) != 0
               || (path[sizeof(KNGX_WH_PATH) - 1] != '\0'
                   && path[sizeof(KNGX_WH_PATH) - 1] != '?'))
    {
        c->error = "404 Not Found";
    }

    if (n < 0) {
        status = c->error ? c->error : "411 Length Required";

    } else if (n > KNGX_WH_MAX_BODY) {
        status = "413 Content Too Large";

    } else {
        c->body_len = (size_t) n;
        return 0;
    }

    kngx_buf_printf(&body, "%s\n", status + 4);
    kngx_wh_reply(c, status, &body);

    return -1;
}


/* read what TLS gives; 1 when the request is complete, -1 to close */
static int
kngx_wh_read(kngx_wh_client_t *c)
{
    size_t   cap;
    char    *p, *end;
    int      r;

    for ( ;; ) {
        cap = c->head_len ? c->head_len + c->body_len : KNGX_WH_MAX_HEAD;

        if (c->head_len && c->in_len >= cap) {
            return 1;
        }

        if (c->in == NULL) {
            c->in = malloc(KNGX_WH_MAX_HEAD + 1);
            if (c->in == NULL) {
                return -1;
            }
        }

        if (c->in_len == KNGX_WH_MAX_HEAD && !c->head_len) {
            return -1;          /* no head in 8k */
        }

        r = SSL_read(c->ssl, c->in + c->in_len, (int) (cap - c->in_len));

        if (r <= 0) {
            return kngx_wh_ssl_result(c, r) == 0 ? 0 : -1;
        }

        c->in_len += (size_t) r;
        c->in[c->in_len] = '\0';

        if (c->head_len) {
            continue;
        }

        end = strstr(c->in, "\r\n\r\n");
        if (end == NULL) {
            continue;
        }

        c->head_len = (size_t) (end + 4 - c->in);

        if (kngx_wh_head(c) != 0) {
            return 0;           /* answered */
        }

        if (c->in_len > c->head_len + c->body_len) {
            c->in_len = c->head_len + c->body_len;      /* no pipelining */
        }

        p = realloc(c->in, c->head_len + c->body_len + 1);
        if (p == NULL) {
            return -1;
        }
        c->in = p;
    }
}


/* the request is complete: the review starts */
static int
kngx_wh_review(kngx_ctl_webhook_t *wh, kngx_wh_client_t *c)
{
    kngx_buf_t   body = { NULL, 0, 0, 0 };
    const char  *status;
    int          rc;

    if (c->error) {
        kngx_buf_printf(&body, "%s\n", c->error + 4);
        kngx_wh_reply(c, c->error, &body);
        return 0;
    }

    rc = kngx_ctl_review_start(&wh->ctx, c->in + c->head_len, c->body_len,
                               kngx_ctl_now(), &c->review, &status, &body);
    if (rc < 0) {
        kngx_buf_free(&body);
        kngx_ctl_log("error: webhook: out of memory");
        return -1;
    }

    if (rc == 1) {
        kngx_wh_reply(c, status, &body);
        return 0;
    }

    c->state = KNGX_WH_REVIEWING;
    c->want = 0;

    return 0;
}


/* go as far as the socket (and the review) let; -1 to close */
static int
kngx_wh_io(kngx_ctl_webhook_t *wh, kngx_wh_client_t *c)
{
    kngx_buf_t  body = { NULL, 0, 0, 0 };
    int         r;

    if (c->state == KNGX_WH_HANDSHAKE) {
        r = kngx_wh_ssl_result(c, SSL_accept(c->ssl));
        if (r <= 0) {
            return r;
        }

        c->state = KNGX_WH_READING;
    }

    if (c->state == KNGX_WH_READING) {
        r = kngx_wh_read(c);
        if (r <= 0) {
            return r;
        }

        if (kngx_wh_review(wh, c) != 0) {
            return -1;
        }
    }

    if (c->state == KNGX_WH_REVIEWING) {
        r = kngx_ctl_review_step(&wh->ctx, c->review, kngx_ctl_now(), &body);
        if (r <= 0) {
            kngx_buf_free(&body);
            return r;
        }

        kngx_ctl_review_free(&wh->ctx, c->review);
        c->review = NULL;
        kngx_wh_reply(c, "200 OK", &body);
    }

    if (c->out.nomem) {
        return -1;
    }

    while (c->sent < c->out.len) {
        r = SSL_write(c->ssl, c->out.data + c->sent,
                      (int) (c->out.len - c->sent));
        if (r <= 0) {
            return kngx_wh_ssl_result(c, r) == 0 ? 0 : -1;
        }

        c->sent += (size_t) r;
    }

    (void) SSL_shutdown(c->ssl);
    return -1;
}


static void
kngx_wh_accept(kngx_ctl_webhook_t *wh, uint64_t now)
{
    kngx_wh_client_t  *c, *oldest;
    int                fd, i, n;

    kngx_wh_reload(wh, now);

    for (n = 0; n < 8; n++) {
        fd = accept4(wh->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            return;
        }

        c = NULL;
        oldest = NULL;

        for (i = 0; i < KNGX_WH_CLIENTS && c == NULL; i++) {
            if (wh->clients[i].fd < 0) {
                c = &wh->clients[i];
            } else if (oldest == NULL || wh->clients[i].since < oldest->since)
            {
                oldest = &wh->clients[i];
            }
        }

        if (c == NULL) {
            kngx_ctl_log("webhook: too many connections; the oldest closed");
            kngx_wh_close(wh, oldest);
            c = oldest;
        }

        c->fd = fd;
        c->since = now;
        c->deadline = now + KNGX_WH_READ_MS;
        c->state = KNGX_WH_HANDSHAKE;
        c->ssl = SSL_new(wh->ssl_ctx);

        if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1
            || kngx_wh_io(wh, c) != 0)
        {
            kngx_wh_close(wh, c);
        }
    }
}


int
kngx_ctl_webhook_fds(kngx_ctl_webhook_t *wh, struct curl_waitfd *fds,
    int max)
{
    kngx_wh_client_t  *c;
    int                i, n = 0, tfd;

    if (wh == NULL) {
        return 0;
    }

    wh->poll = -1;

    if (n < max) {
        fds[n].fd = wh->fd;
        fds[n].events = CURL_WAIT_POLLIN;
        fds[n].revents = 0;
        wh->poll = n++;
    }

    for (i = 0; i < KNGX_WH_CLIENTS; i++) {
        c = &wh->clients[i];
        c->poll = -1;
        c->poll_test = -1;

        if (c->fd < 0) {
            continue;
        }

        if (c->want && n < max) {
            fds[n].fd = c->fd;
            fds[n].events = (short) c->want;
            fds[n].revents = 0;
            c->poll = n++;
        }

        tfd = c->review ? kngx_ctl_review_fd(c->review) : -1;

        if (tfd >= 0 && n < max) {
            fds[n].fd = tfd;
            fds[n].events = CURL_WAIT_POLLIN;
            fds[n].revents = 0;
            c->poll_test = n++;
        }
    }

    return n;
}


void
kngx_ctl_webhook_handle(kngx_ctl_webhook_t *wh, struct curl_waitfd *fds,
    int n)
{
    kngx_wh_client_t  *c;
    uint64_t           now = kngx_ctl_now();
    int                i, ready;

    if (wh == NULL) {
        return;
    }

    for (i = 0; i < KNGX_WH_CLIENTS; i++) {
        c = &wh->clients[i];

        if (c->fd < 0) {
            continue;
        }

        /* a review waiting for a free nginx -t slot or its deadline is
         * stepped every turn */
        ready = (c->poll >= 0 && c->poll < n && fds[c->poll].revents)
                || (c->poll_test >= 0 && c->poll_test < n
                    && fds[c->poll_test].revents)
                || c->state == KNGX_WH_REVIEWING;

        if (ready && kngx_wh_io(wh, c) != 0) {
            kngx_wh_close(wh, c);
            continue;
        }

        if (c->state != KNGX_WH_REVIEWING && now >= c->deadline) {
            kngx_wh_close(wh, c);
        }
    }

    if (wh->poll >= 0 && wh->poll < n && fds[wh->poll].revents) {
        kngx_wh_accept(wh, now);
    }
}


int
kngx_ctl_webhook_reaped(kngx_ctl_webhook_t *wh, pid_t pid, int status)
{
    int  i;

    for (i = 0; wh && i < KNGX_WH_CLIENTS; i++) {
        if (wh->clients[i].review
            && kngx_ctl_review_reaped(wh->clients[i].review, pid, status))
        {
            return 1;
        }
    }

    return 0;
}
