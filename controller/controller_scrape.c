
/*
 * kubengx controller: nginx's own metrics in the controller's /metrics,
 * so that one port of the pod serves them all.
 *
 * With the module loaded, our nginx.conf has a server on a loopback port
 * picked at start (kngx_ctl_scrape_conf: the kernel's free port, given
 * to nginx) answering /metrics with k8s_metrics: the per-request metrics
 * (nginx_ingress_controller_*) and the endpoint table's (kubengx_*).
 * GET /metrics on the health port starts one fetch of it on the API's
 * curl multi and the answer waits for it (the connection parked,
 * controller_http.c); when it ends every waiting scrape is answered with
 * the controller's metrics, then nginx's text as it came.  The loop
 * never waits: a fetch has KNGX_SCRAPE_TIMEOUT_MS, a failed one leaves
 * nginx's part out (counted in kubengx_nginx_scrape_errors_total).
 *
 * Why the controller and not nginx on the metrics port: /healthz and
 * /readyz must answer while nginx is down or reloading, and the
 * controller's metrics tell why.
 */

#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "controller_int.h"
#include "controller_log.h"


#define KNGX_SCRAPE_TIMEOUT_MS  2500


struct kngx_ctl_scrape_s {
    kngx_ctl_xfer_t      xfer;          /* first: CURLOPT_PRIVATE */
    kngx_ctl_api_t      *api;
    kngx_ctl_http_t     *http;
    CURL                *easy;
    char                 url[64];
    kngx_buf_t           body;
    long                 status;
    unsigned             in_flight:1;
    unsigned             ended:1;       /* answering the waiting ones */
    unsigned             ok:1;
    uint64_t             errors;
};


/* a loopback port the kernel says is free, for nginx's metrics server */
int
kngx_ctl_scrape_conf(kngx_ctl_conf_t *c)
{
    struct sockaddr_in  sin;
    socklen_t           len = sizeof(sin);
    int                 fd;

    if (c->nginx.module == NULL || c->nginx.nginx_conf) {
        return 0;
    }

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (bind(fd, (struct sockaddr *) &sin, sizeof(sin)) != 0
        || getsockname(fd, (struct sockaddr *) &sin, &len) != 0)
    {
        close(fd);
        kngx_ctl_log("error: no loopback port for nginx's metrics");
        return -1;
    }

    close(fd);
    c->nginx.metrics_port = ntohs(sin.sin_port);

    return 0;
}


static size_t
kngx_ctl_scrape_write(char *ptr, size_t size, size_t n, void *data)
{
    kngx_ctl_scrape_t  *sc = data;

    kngx_buf_printf(&sc->body, "%.*s", (int) (size * n), ptr);

    return sc->body.nomem ? 0 : size * n;
}


static void
kngx_ctl_scrape_done(kngx_ctl_xfer_t *x, CURLcode rc)
{
    kngx_ctl_scrape_t  *sc = (kngx_ctl_scrape_t *) x;

    curl_easy_getinfo(sc->easy, CURLINFO_RESPONSE_CODE, &sc->status);
    kngx_ctl_api_remove(sc->api, sc->easy);
    curl_easy_cleanup(sc->easy);
    sc->easy = NULL;
    sc->in_flight = 0;

    sc->ok = rc == CURLE_OK && sc->status == 200 && !sc->body.nomem;
    if (!sc->ok) {
        sc->errors++;
        kngx_ctl_log("warning: /metrics: nginx's metrics: %s",
                     rc != CURLE_OK ? curl_easy_strerror(rc)
                     : "not 200 OK");
    }

    /* every waiting scrape is answered with this text */

    sc->ended = 1;
    kngx_ctl_http_resume(sc->http);
    sc->ended = 0;

    kngx_buf_free(&sc->body);
}


static int
kngx_ctl_scrape_start(kngx_ctl_scrape_t *sc)
{
    sc->easy = curl_easy_init();
    if (sc->easy == NULL) {
        return -1;
    }

    curl_easy_setopt(sc->easy, CURLOPT_URL, sc->url);
    curl_easy_setopt(sc->easy, CURLOPT_WRITEFUNCTION, kngx_ctl_scrape_write);
    curl_easy_setopt(sc->easy, CURLOPT_WRITEDATA, sc);
    curl_easy_setopt(sc->easy, CURLOPT_PRIVATE, &sc->xfer);
    curl_easy_setopt(sc->easy, CURLOPT_TIMEOUT_MS,
                     (long) KNGX_SCRAPE_TIMEOUT_MS);
    curl_easy_setopt(sc->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(sc->easy, CURLOPT_NOPROXY, "*");

    if (kngx_ctl_api_add(sc->api, sc->easy) != 0) {
        curl_easy_cleanup(sc->easy);
        sc->easy = NULL;
        return -1;
    }

    sc->in_flight = 1;

    return 0;
}


kngx_ctl_scrape_t *
kngx_ctl_scrape_create(const kngx_ctl_conf_t *c, kngx_ctl_api_t *api,
    kngx_ctl_http_t *http)
{
    kngx_ctl_scrape_t  *sc;

    if (c->nginx.metrics_port == 0) {
        return NULL;
    }

    sc = calloc(1, sizeof(kngx_ctl_scrape_t));
    if (sc == NULL) {
        return NULL;
    }

    sc->xfer.done = kngx_ctl_scrape_done;
    sc->api = api;
    sc->http = http;
    snprintf(sc->url, sizeof(sc->url), "http://127.0.0.1:%d/metrics",
             c->nginx.metrics_port);

    return sc;
}


int
kngx_ctl_scrape_wait(kngx_ctl_scrape_t *sc, int nginx_up)
{
    if (sc == NULL || !nginx_up || sc->ended) {
        return 0;                       /* answer now */
    }

    if (!sc->in_flight && kngx_ctl_scrape_start(sc) != 0) {
        sc->errors++;
        return 0;
    }

    return 1;
}


/* the family a line of the text is about: "# TYPE NAME ...", "NAME{" */
static size_t
kngx_ctl_scrape_family(const char *line, size_t len, const char **name)
{
    const char  *p = line, *end = line + len;

    if (len > 7 && (strncmp(p, "# TYPE ", 7) == 0
                    || strncmp(p, "# HELP ", 7) == 0))
    {
        p += 7;
    }

    *name = p;

    while (p < end && *p != ' ' && *p != '{') {
        p++;
    }

    return (size_t) (p - *name);
}


/*
 * nginx's text after ours, less the families ours has already (the
 * module's watch counters: their values are in ours with kind="module",
 * kngx_ctl_scrape_value()); a family may appear only once in a scrape
 */
void
kngx_ctl_scrape_append(kngx_ctl_scrape_t *sc, kngx_buf_t *out)
{
    const char  *p, *nl, *name, *end;
    char         type[256];
    size_t       n, len, ours;

    if (sc == NULL || !sc->ended || !sc->ok || sc->body.len == 0) {
        return;
    }

    ours = out->len;
    p = sc->body.data;
    end = p + sc->body.len;

    for ( /* void */ ; p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t) (end - p));
        if (nl == NULL) {
            nl = end;
        }

        len = (size_t) (nl - p);
        n = kngx_ctl_scrape_family(p, len, &name);

        snprintf(type, sizeof(type), "# TYPE %.*s ", (int) n, name);

        if (out->data && n && n < 200
            && memmem(out->data, ours, type, strlen(type)) != NULL)
        {
            continue;
        }

        kngx_buf_printf(out, "%.*s\n", (int) len, p);
    }
}


/* the value of nginx's sample "NAME V" while answering; -1 if none */
int
kngx_ctl_scrape_value(kngx_ctl_scrape_t *sc, const char *name, double *v)
{
    const char  *p, *end;
    size_t       n = strlen(name);
    char        *e;

    if (sc == NULL || !sc->ended || !sc->ok || sc->body.len == 0) {
        return -1;
    }

    p = sc->body.data;
    end = p + sc->body.len;

    while (p && p + n + 1 < end) {
        if ((p == sc->body.data || p[-1] == '\n')
            && strncmp(p, name, n) == 0 && p[n] == ' ')
        {
            *v = strtod(p + n + 1, &e);
            return e == p + n + 1 ? -1 : 0;
        }

        p = memchr(p, '\n', (size_t) (end - p));
        p = p ? p + 1 : NULL;
    }

    return -1;
}


uint64_t
kngx_ctl_scrape_errors(kngx_ctl_scrape_t *sc)
{
    return sc ? sc->errors : 0;
}


void
kngx_ctl_scrape_destroy(kngx_ctl_scrape_t *sc)
{
    if (sc == NULL) {
        return;
    }

    if (sc->easy) {
        kngx_ctl_api_remove(sc->api, sc->easy);
        curl_easy_cleanup(sc->easy);
    }

    kngx_buf_free(&sc->body);
    free(sc);
}
