
/*
 * kubengx generator: TLS.  spec.tls hosts get an https server with the
 * certificate of the oldest Ingress that names them and routes them (a
 * tls entry for a host the Ingress has no rule for is ignored with a
 * warning, in every --host-ownership mode; in namespace mode the owner's
 * namespace and those it shares the host with may give it).  The Secret
 * must hold PEM tls.crt and tls.key that nginx loads (tls_check.c); when
 * it is missing or unusable, or secretName is absent, the
 * --default-certificate is used (with a warning when a named Secret was
 * not usable); with no default certificate, https is not served for that
 * host (warning) and http is not redirected.  Hosts served over https get
 * an http -> https 308 redirect.  Certificate files are named by names.c.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_parts.h"


/*
 * What the plan knows of each Secret of the model (by its index in
 * m->secrets), so that 100,000 tls entries naming one Secret load it
 * once and find its certificate in constant time.
 */
typedef struct {
    const char            *why;       /* refused: the reason */
    size_t                 cert;      /* index in p->certs + 1, or 0 */
    unsigned               checked:1;
} kngx_secret_info_t;


static kngx_secret_info_t *
kngx_plan_secret_info(kngx_plan_t *p, const kngx_secret_t *sec)
{
    if (p->secret_info == NULL) {
        p->secret_info = calloc(p->model->nsecrets,
                                sizeof(kngx_secret_info_t));
        if (p->secret_info == NULL) {
            return NULL;
        }
    }

    return (kngx_secret_info_t *) p->secret_info
           + (sec - p->model->secrets);
}


kngx_cert_t *
kngx_plan_cert_add(kngx_plan_t *p, const kngx_secret_t *sec,
    const char *name, unsigned ca)
{
    kngx_cert_t  *c;
    size_t        cap;

    if (p->ncerts == p->certs_cap) {
        cap = p->certs_cap ? p->certs_cap * 2 : 8;
        c = realloc(p->certs, cap * sizeof(kngx_cert_t));
        if (c == NULL) {
            return NULL;
        }
        p->certs = c;
        p->certs_cap = cap;
    }

    c = &p->certs[p->ncerts];
    memset(c, 0, sizeof(kngx_cert_t));
    c->secret = sec;
    c->ca = ca;
    c->name = kube_arena_strdup(p->arena, name);
    if (c->name == NULL) {
        return NULL;
    }

    p->ncerts++;

    return c;
}


static const kngx_cert_t *
kngx_plan_cert(kngx_plan_t *p, const kngx_secret_t *sec)
{
    kngx_secret_info_t  *si;
    kngx_cert_t         *c;
    char                 name[KNGX_NAME_CERT_MAX + 1];

    si = kngx_plan_secret_info(p, sec);
    if (si == NULL) {
        return NULL;
    }

    if (si->cert) {
        return &p->certs[si->cert - 1];
    }

    if (kngx_name_cert(name, sizeof(name), sec->meta.ns, sec->meta.name)
        != 0)
    {
        return NULL;
    }

    c = kngx_plan_cert_add(p, sec, name, 0);
    if (c == NULL) {
        return NULL;
    }

    si->cert = p->ncerts;

    return c;
}


/*
 * Whether nginx can load sec (tls_check.c), once per Secret: NULL, or
 * the reason.  nomem set when out of memory.
 */
static const char *
kngx_plan_secret_usable(kngx_plan_t *p, const kngx_secret_t *sec,
    int *nomem)
{
    kngx_secret_info_t  *si;
    char                 reason[256], why[300];

    si = kngx_plan_secret_info(p, sec);
    if (si == NULL) {
        *nomem = 1;
        return "";
    }

    if (si->checked) {
        return si->why;
    }

    si->checked = 1;

    if (sec->cert == NULL || sec->key == NULL) {
        si->why = "has no tls.crt and tls.key";

    } else if (strncmp(sec->cert, "-----BEGIN ", 11) != 0
               || strstr(sec->key, "-----BEGIN ") == NULL
               || strlen(sec->cert) != sec->cert_len
               || strlen(sec->key) != sec->key_len)
    {
        si->why = "does not hold PEM data in tls.crt and tls.key";

    } else if (kngx_tls_check(sec->cert, sec->cert_len, sec->key,
                              sec->key_len, reason, sizeof(reason)) != 0)
    {
        snprintf(why, sizeof(why), "is not usable by nginx: %s", reason);

        si->why = kube_arena_strdup(p->arena, why);
        if (si->why == NULL) {
            *nomem = 1;
            return "";
        }
    }

    return si->why;
}


/*
 * The Secret ns/name if nginx can serve it: a kubernetes.io/tls-shaped
 * Secret whose certificate and key nginx loads (tls_check.c).  NULL and
 * the reason in why otherwise (and *nomem when out of memory).
 */
static const kngx_secret_t *
kngx_plan_secret(kngx_plan_t *p, const char *ns, const char *name,
    char *why, size_t size, int *nomem)
{
    const kngx_secret_t  *sec;
    const char           *w;

    if (kngx_name_check(KNGX_NAME_LABEL, ns, &w) != 0) {
        snprintf(why, size, "has an invalid namespace");
        return NULL;
    }

    if (kngx_name_check(KNGX_NAME_SUBDOMAIN, name, &w) != 0) {
        snprintf(why, size, "is not a valid Secret name");
        return NULL;
    }

    sec = kngx_model_secret(p->model, ns, name);
    if (sec == NULL) {
        snprintf(why, size, "was not found in the input");
        return NULL;
    }

    w = kngx_plan_secret_usable(p, sec, nomem);
    if (w) {
        snprintf(why, size, "%s", w);
        return NULL;
    }

    return sec;
}


/*
 * Whether ing may put a certificate on srv: only an Ingress that routes
 * the host (one of its rules for the host was accepted; the rules of an
 * Ingress are planned right before its tls entries), in namespace mode of
 * the owner's namespace or one it shares the host with.  Warns if not.
 * 1 yes, 0 no, -1 out of memory.
 */
static int
kngx_plan_tls_host(kngx_plan_t *p, const kngx_ingress_t *ing,
    const kngx_ingress_tls_t *t, const kngx_server_t *srv, const char *host)
{
    if (srv && srv->routed_by == ing) {
        return 1;
    }

    if (srv && !kngx_plan_host_allowed(p, srv, ing->meta.ns)) {
        return kngx_plan_refuse_host(p, ing, srv, t->field, t->line) ? -1 : 0;
    }

    return kngx_plan_warn(p, ing, t->field, t->line, "tls-not-routed",
               "TLS host %s has no rule in this Ingress; a certificate "
               "serves only hosts its Ingress routes; ignored", host)
           ? -1 : 0;
}


int
kngx_plan_tls(kngx_plan_t *p, const kngx_ingress_t *ing)
{
    const kngx_ingress_tls_t  *t;
    const kngx_secret_t       *sec;
    const kngx_cert_t         *c;
    const char                *cert;
    kngx_server_t             *srv;
    const char                *why;
    char                       host[256], reason[512];
    char                       name[KNGX_NAME_CERT_MAX + 1];
    size_t                     i, j;
    int                        rc, nomem = 0;

    for (i = 0; i < ing->ntls; i++) {
        t = &ing->tls[i];
        cert = NULL;
        sec = NULL;

        if (t->secret_name) {
            sec = kngx_plan_secret(p, ing->meta.ns, t->secret_name, reason,
                                   sizeof(reason), &nomem);
            if (nomem) {
                return -1;
            }

            if (sec == NULL) {
                if (kngx_plan_warn(p, ing, t->field, t->line, "no-secret",
                        "TLS Secret %s in %s %s; %s",
                        kngx_msg_quote(t->secret_name), ing->meta.ns, reason,
                        p->default_cert_name ? "using the default certificate"
                        : "https is not served for its hosts (no "
                          "--default-certificate)") != 0)
                {
                    return -1;
                }
            }
        }

        if (sec) {
            /* the file is written only if a host gets it (below) */
            if (kngx_name_cert(name, sizeof(name), sec->meta.ns,
                               sec->meta.name) != 0)
            {
                return -1;
            }
            cert = name;

        } else {
            cert = p->default_cert_name;

            if (cert == NULL && t->secret_name == NULL && t->nhosts) {
                if (kngx_plan_warn(p, ing, t->field, t->line, "no-secret",
                        "no secretName and no --default-certificate; "
                        "https is not served for its hosts") != 0)
                {
                    return -1;
                }
            }
        }

        for (j = 0; j < t->nhosts; j++) {
            if (kngx_host_check(t->hosts[j], host, sizeof(host), &why) != 0)
            {
                if (kngx_plan_warn(p, ing, t->field, t->line, "bad-host",
                        "TLS host %s %s; ignored",
                        kngx_msg_quote(t->hosts[j]), why) != 0)
                {
                    return -1;
                }
                continue;
            }

            srv = kngx_plan_server_find(p, host);

            rc = kngx_plan_tls_host(p, ing, t, srv, host);
            if (rc <= 0) {
                if (rc < 0) {
                    return -1;
                }
                continue;
            }

            if (srv->tls_owner) {
                if (srv->tls_owner != ing && srv->cert_name
                    && (cert == NULL || strcmp(cert, srv->cert_name) != 0))
                {
                    if (kngx_plan_warn(p, ing, t->field, t->line,
                            "conflict", "TLS for %s is already configured "
                            "by the older Ingress %s/%s; ignored", host,
                            srv->tls_owner->meta.ns,
                            srv->tls_owner->meta.name) != 0)
                    {
                        return -1;
                    }
                }
                continue;
            }

            srv->tls_owner = ing;

            if (sec) {
                c = kngx_plan_cert(p, sec);
                if (c == NULL) {
                    return -1;
                }
                cert = c->name;
            }

            if (cert) {
                srv->tls = 1;
                srv->redirect = 1;
                srv->cert_name = cert;
            }
        }
    }

    return 0;
}


/*
 * The key-and-chain file of sec for another use than a TLS host (the
 * client certificate of a proxy-ssl-secret, plan_backend.c): the same
 * checks and the same file as a TLS Secret.  Its name, or NULL with the
 * reason in *why (or *nomem set when out of memory).
 */
const char *
kngx_plan_cert_file(kngx_plan_t *p, const kngx_secret_t *sec,
    const char **why, int *nomem)
{
    const kngx_cert_t  *c;

    *why = kngx_plan_secret_usable(p, sec, nomem);
    if (*why) {
        return NULL;
    }

    c = kngx_plan_cert(p, sec);
    if (c == NULL) {
        *nomem = 1;
        return NULL;
    }

    return c->name;
}


int
kngx_plan_default_cert(kngx_plan_t *p)
{
    const char           *s = p->opts.default_certificate;
    const char           *slash;
    const kngx_secret_t  *sec;
    char                 *ns, why[512];
    int                   nomem = 0;

    if (s == NULL) {
        return 0;
    }

    slash = strchr(s, '/');
    if (slash == NULL || slash == s || slash[1] == '\0') {
        return kngx_plan_error(p, "--default-certificate %s: expected "
                               "NAMESPACE/SECRET", kngx_msg_quote(s));
    }

    ns = kube_arena_strndup(p->arena, s, (size_t) (slash - s));
    if (ns == NULL) {
        return -1;
    }

    sec = kngx_plan_secret(p, ns, slash + 1, why, sizeof(why), &nomem);
    if (nomem) {
        return -1;
    }

    if (sec == NULL) {
        return kngx_plan_error(p, "--default-certificate: Secret %s %s",
                               kngx_msg_quote(s), why);
    }

    p->default_cert = kngx_plan_cert(p, sec);
    if (p->default_cert == NULL) {
        return -1;
    }

    p->default_cert_name = p->default_cert->name;

    return 0;
}
