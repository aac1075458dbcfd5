
/*
 * kubengx controller: nginx_ingress_controller_ssl_expire_time_seconds
 * {host}: when the certificate each TLS host is served with expires
 * (notAfter, Unix time), as ingress-nginx exports it.  Recorded from the
 * plan of each applied config (the certificates it wrote), read from
 * the Secret's PEM with OpenSSL; a host whose certificate cannot be
 * read is left out.
 */

#define _GNU_SOURCE

#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "controller_log.h"
#include "controller_sync_int.h"


static const kngx_cert_t *
kngx_ctl_ssl_cert(const kngx_plan_t *p, const char *name)
{
    size_t  i;

    for (i = 0; i < p->ncerts; i++) {
        if (strcmp(p->certs[i].name, name) == 0) {
            return &p->certs[i];
        }
    }

    return NULL;
}


/* notAfter of the first certificate of pem, or -1 */
static long long
kngx_ctl_ssl_not_after(const char *pem, size_t len)
{
    BIO        *bio;
    X509       *x;
    struct tm   tm;
    long long   t = -1;

    bio = BIO_new_mem_buf(pem, (int) len);
    if (bio == NULL) {
        return -1;
    }

    x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);

    if (x == NULL) {
        return -1;
    }

    memset(&tm, 0, sizeof(tm));
    if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1) {
        t = (long long) timegm(&tm);
    }

    X509_free(x);

    return t;
}


void
kngx_ctl_ssl_record(kngx_ctl_sync_t *s, const kngx_plan_t *p)
{
    const kngx_server_t  *srv;
    const kngx_cert_t    *cert;
    long long             t;
    size_t                i;

    kngx_buf_free(&s->ssl_expiry);

    for (i = 0; i < p->nservers; i++) {
        srv = &p->servers[i];

        if (!srv->tls || srv->cert_name == NULL) {
            continue;
        }

        cert = kngx_ctl_ssl_cert(p, srv->cert_name);
        if (cert == NULL || cert->secret == NULL || cert->secret->cert == NULL)
        {
            continue;
        }

        t = kngx_ctl_ssl_not_after(cert->secret->cert,
                                   cert->secret->cert_len);
        if (t < 0) {
            continue;
        }

        kngx_buf_printf(&s->ssl_expiry,
                        "nginx_ingress_controller_ssl_expire_time_seconds"
                        "{host=\"%s\"} %lld\n", srv->host, t);
    }
}


void
kngx_ctl_sync_ssl_metrics(kngx_ctl_sync_t *s, kngx_buf_t *b)
{
    kngx_buf_printf(b, "# HELP nginx_ingress_controller_ssl_expire_time_"
                    "seconds when the certificate a TLS host is served "
                    "with expires (notAfter, Unix time)\n"
                    "# TYPE nginx_ingress_controller_ssl_expire_time_"
                    "seconds gauge\n%.*s", (int) s->ssl_expiry.len,
                    s->ssl_expiry.data ? s->ssl_expiry.data : "");
}
