
/*
 * kubengx generator: the Secret of an Ingress's proxy-ssl-secret
 * annotation (annotations/backend.c): its ca.crt, loaded with OpenSSL
 * the way nginx's proxy_ssl_trusted_certificate loads it, becomes the
 * file certs/ca+NAME.pem that verifies the backends.  A Secret not in
 * the input (code KNGX_ANN_MISSING: its later write fixes it), a ca.crt
 * nginx would not load (which would fail the whole config), or
 * proxy-ssl-verify "on" without a ca.crt refuse the Ingress with a
 * warning.  tls.crt and tls.key, when the Secret holds either, are
 * the client certificate nginx presents to the backend: checked and
 * written as a TLS Secret's are (plan_tls.c: certs/NAME.pem, the key and
 * the chain, mode 0600); one without the other, garbage, or a key that
 * does not match refuse the Ingress with a warning.
 */

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "plan_parts.h"


/* at least one certificate, and nothing OpenSSL cannot read */
static int
kngx_ca_check(const char *pem, size_t len, const char **why)
{
    STACK_OF(X509_INFO)  *infos;
    BIO                  *bio;
    int                   i, n = 0;

    ERR_clear_error();

    bio = BIO_new_mem_buf(pem, (int) len);
    if (bio == NULL) {
        *why = "out of memory";
        return -1;
    }

    infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
    BIO_free(bio);

    if (infos == NULL) {
        ERR_clear_error();
        *why = "is not PEM that OpenSSL reads";
        return -1;
    }

    for (i = 0; i < sk_X509_INFO_num(infos); i++) {
        n += sk_X509_INFO_value(infos, i)->x509 != NULL;
    }

    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    ERR_clear_error();

    if (n == 0) {
        *why = "holds no certificate";
        return -1;
    }

    return 0;
}


/* the CA file entry of sec in p->certs (created once) */
static const char *
kngx_plan_ca_file(kngx_plan_t *p, const kngx_secret_t *sec)
{
    kngx_cert_t  *c;
    char          name[KNGX_NAME_CERT_MAX + 1], full[KNGX_NAME_CERT_MAX + 8];
    size_t        i;

    for (i = 0; i < p->ncerts; i++) {
        if (p->certs[i].ca && p->certs[i].secret == sec) {
            return p->certs[i].name;
        }
    }

    if (kngx_name_cert(name, sizeof(name), sec->meta.ns, sec->meta.name)
        != 0)
    {
        return NULL;
    }

    /* "+" is in no certificate name: distinct from every one of them */
    snprintf(full, sizeof(full), "ca+%s", name);

    c = kngx_plan_cert_add(p, sec, full, 1);

    return c ? c->name : NULL;
}


/* sec's client certificate into c (none when sec holds neither tls.crt
 * nor tls.key): NULL, or why not; *nomem when out of memory */
static const char *
kngx_plan_client_cert(kngx_plan_t *p, const kngx_secret_t *sec,
    kngx_ann_backend_t *c, int *nomem)
{
    const char  *why;

    if (sec->cert == NULL && sec->key == NULL) {
        return NULL;
    }

    c->cert_file = kngx_plan_cert_file(p, sec, &why, nomem);

    return c->cert_file ? NULL : why;
}


/*
 * ing's proxy-ssl-secret.  Returns 0 usable (or none), 1 the Ingress is
 * refused (warned), -1 out of memory.
 */
int
kngx_plan_backend_ssl(kngx_plan_t *p, const kngx_ingress_t *ing,
    const kngx_ann_t *ann)
{
    kngx_ann_backend_t   *c = kngx_ann_backend(ann);
    const kngx_secret_t  *sec;
    const char           *why, *name, *code = "bad-annotation";
    int                   nomem = 0;

    if (c == NULL || c->secret == NULL) {
        return 0;
    }

    sec = kngx_model_secret(p->model, ing->meta.ns, c->secret);

    if (sec == NULL) {
        why = "is not in the input";
        code = KNGX_ANN_MISSING;

    } else if (sec->ca == NULL) {
        why = c->verify == 1 ? "has no ca.crt, which proxy-ssl-verify "
                               "\"on\" needs" : NULL;

    } else if (kngx_ca_check(sec->ca, sec->ca_len, &why) != 0) {
        /* why set */

    } else {
        name = kngx_plan_ca_file(p, sec);
        if (name == NULL) {
            return -1;
        }

        c->ca_file = name;
        why = NULL;
    }

    if (why == NULL && sec) {
        why = kngx_plan_client_cert(p, sec, c, &nomem);
        if (nomem) {
            return -1;
        }
    }

    if (why == NULL) {
        return 0;
    }

    return kngx_plan_warn(p, ing, "metadata.annotations["
                          KNGX_ANN_PREFIX "proxy-ssl-secret]", 0,
                          code, "Secret %s/%s %s; the Ingress is not "
                          "served%s", ing->meta.ns, kngx_msg_quote(c->secret),
                          why, sec ? "" : " until it exists") ? -1 : 1;
}
