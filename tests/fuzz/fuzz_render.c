/*
 * libFuzzer target: the renderer.  Any decoded object set must render
 * either an error (load errors, a failed plan, kngx_render() NULL) or a
 * config that contains only what the renderer makes (conf_check.h:
 * balanced braces and quotes, allow-listed directives per context), the
 * same bytes on a second render.
 *
 * Input: byte 0 chooses the options (below), the rest is a manifest
 * (YAML or JSON, as for fuzz_manifest).
 *
 *   bits 0-1  endpoints: 0 module, 1 cluster-ip, 2 static, 3 module
 *   bit  2    watch Ingresses without a class
 *   bit  3    --default-backend default/web:80
 *   bit  4    --default-certificate default/tls
 *   bit  5    https port 8443, http port 8080, h2c port 8082,
 *             X-Forwarded-For appended
 *   bit  6    listen address 127.0.0.1 (else all)
 *   bit  7    class "other"
 *
 * The settings ConfigMap is default/kubengx-settings when the input
 * holds one (as --configmap default/kubengx-settings).
 *
 * Built with -DKNGX_RENDER_MAIN instead, this file is the corpus checker
 * of run.sh --check-corpus: `render-corpus [--nginx-t MODULE] FILE...`
 * renders each file as the fuzzer would and prints one line per file:
 * "FILE error" (rejected), "FILE bad REASON" (conf_check failed),
 * "FILE ok", or with --nginx-t "FILE nginx-t-ok" / "FILE nginx-t-fail
 * MESSAGE" after nginx -t on it (generator/check.c, as render --check).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "render.h"
#include "settings/settings.h"
#include "conf_check.h"


typedef struct {
    kngx_model_t        *m;
    kngx_plan_t         *p;
    kngx_settings_t     *set;
    kngx_plan_opts_t     po;
    kngx_render_opts_t   ro;
    char                *conf;
    size_t               len;
} fr_t;


static void
fr_free(fr_t *r)
{
    free(r->conf);
    kngx_plan_free(r->p);
    kngx_settings_free(r->set);
    kngx_model_free(r->m);
    memset(r, 0, sizeof(fr_t));
}


/* 0: rendered (r->conf); 1: refused with an error; -1 out of memory */
static int
fr_render(fr_t *r, const uint8_t *data, size_t size)
{
    unsigned     o;
    const char  *err;

    memset(r, 0, sizeof(fr_t));

    if (size < 1) {
        return 1;
    }

    o = data[0];
    data++;
    size--;

    r->po.class_name = (o & 0x80) ? "other" : "kubengx";
    r->po.controller = "kubengx.io/ingress-controller";
    switch (o & 3) {
    case 1:
        r->po.endpoints = KNGX_ENDPOINTS_CLUSTER_IP;
        break;
    case 2:
        r->po.endpoints = KNGX_ENDPOINTS_STATIC;
        break;
    default:
        r->po.endpoints = KNGX_ENDPOINTS_MODULE;
    }
    r->po.watch_without_class = (o >> 2) & 1;
    r->po.default_backend = (o & 8) ? "default/web:80" : NULL;
    r->po.default_certificate = (o & 0x10) ? "default/tls" : NULL;

    r->ro.version = "0.0.0-fuzz";
    r->ro.http_port = (o & 0x20) ? 8080 : 80;
    r->ro.https_port = (o & 0x20) ? 8443 : 443;
    r->ro.h2c_port = (o & 0x20) ? 8082 : 0;
    r->ro.forwarded_for_append = (o >> 5) & 1;
    r->ro.listen_address = (o & 0x40) ? "127.0.0.1" : NULL;
    r->ro.certs_dir = "/etc/kubengx/certs";

    r->m = kngx_model_create(NULL);
    if (r->m == NULL) {
        return -1;
    }

    if (kngx_model_load_buffer(r->m, "fuzz.yaml", (const char *) data, size)
        != 0 || kngx_model_finish(r->m) != 0)
    {
        return -1;
    }

    if (kngx_model_nerrors(r->m)) {
        return 1;
    }

    /* as cli/cmd_render.c: before the plan (default-ssl-certificate) */
    r->ro.settings_configmap = "default/kubengx-settings";
    r->set = kngx_settings_build(r->m, r->ro.settings_configmap);
    if (r->set == NULL) {
        return -1;
    }
    r->ro.settings = r->set;
    if (r->po.default_certificate == NULL) {
        r->po.default_certificate = r->set->default_ssl_certificate;
    }

    r->p = kngx_plan_build(r->m, &r->po);
    if (r->p == NULL) {
        return -1;
    }

    if (r->p->failed) {
        return 1;
    }

    r->conf = kngx_render(r->p, &r->ro, &r->len, &err);
    if (r->conf == NULL) {
        return 1;
    }

    if (strlen(r->conf) != r->len) {
        fprintf(stderr, "render: NUL byte inside the config\n");
        abort();
    }

    return 0;
}


#ifndef KNGX_RENDER_MAIN

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fr_t     r;
    int      rc;
    char     why[512];
    char    *again;
    size_t   len2;
    const char  *err;

    rc = fr_render(&r, data, size);
    if (rc < 0) {
        /* a fuzz input cannot exhaust memory: libFuzzer reports that */
        fprintf(stderr, "render: out of memory reported\n");
        abort();
    }

    if (rc == 0) {
        if (cc_check(r.conf, r.len, why, sizeof(why)) != 0) {
            fprintf(stderr, "render: config check: %s\n--- config ---\n"
                    "%s\n--- end ---\n", why, r.conf);
            abort();
        }

        again = kngx_render(r.p, &r.ro, &len2, &err);
        if (again == NULL || len2 != r.len
            || memcmp(again, r.conf, r.len) != 0)
        {
            fprintf(stderr, "render: a second render differs\n");
            abort();
        }
        free(again);
    }

    fr_free(&r);

    return 0;
}

#else

static char *
read_all(const char *path, size_t *len)
{
    FILE    *f;
    char    *buf = NULL, *nb;
    size_t   cap = 0, n;

    *len = 0;
    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    for ( ;; ) {
        if (*len + 65536 > cap) {
            cap = cap ? cap * 2 : 65536;
            nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        n = fread(buf + *len, 1, cap - *len, f);
        if (n == 0) {
            break;
        }
        *len += n;
    }

    fclose(f);
    return buf;
}


int
main(int argc, char **argv)
{
    kngx_check_opts_t   co;
    fr_t                r;
    char                why[512], err[8192], tmp[4096], certs[4200], *data;
    char               *cconf, *nl;
    const char         *rerr;
    size_t              len, clen;
    int                 i = 1, nginx_t = 0, rc;

    memset(&co, 0, sizeof(co));
    co.nginx = "nginx";

    if (argc > 2 && strcmp(argv[1], "--nginx-t") == 0) {
        nginx_t = 1;
        co.module = argv[2][0] ? argv[2] : NULL;
        i = 3;
    }

    for ( ; i < argc; i++) {
        data = read_all(argv[i], &len);
        if (data == NULL) {
            printf("%s unreadable\n", argv[i]);
            continue;
        }

        rc = fr_render(&r, (const uint8_t *) data, len);
        free(data);

        if (rc != 0) {
            printf("%s %s\n", argv[i], rc < 0 ? "nomem" : "error");
            fr_free(&r);
            continue;
        }

        if (cc_check(r.conf, r.len, why, sizeof(why)) != 0) {
            printf("%s bad %s\n", argv[i], why);
            fr_free(&r);
            continue;
        }

        if (!nginx_t) {
            printf("%s ok\n", argv[i]);
            fr_free(&r);
            continue;
        }

        if (r.po.endpoints == KNGX_ENDPOINTS_MODULE && co.module == NULL) {
            printf("%s skipped (module mode, no module)\n", argv[i]);
            fr_free(&r);
            continue;
        }

        if (kngx_check_tmpdir(tmp, sizeof(tmp)) != 0) {
            printf("%s tmpdir-failed\n", argv[i]);
            fr_free(&r);
            continue;
        }

        snprintf(certs, sizeof(certs), "%s/certs", tmp);
        r.ro.certs_dir = certs;
        cconf = kngx_render(r.p, &r.ro, &clen, &rerr);

        err[0] = '\0';
        if (cconf == NULL
            || kngx_output_write_certs(certs, r.p, err, sizeof(err)) != 0
            || kngx_check(&co, cconf, clen, r.p, tmp, err, sizeof(err)) != 0)
        {
            for (nl = err; *nl; nl++) {
                if (*nl == '\n') {
                    *nl = ' ';
                }
            }
            printf("%s nginx-t-fail %s\n", argv[i], err);
        } else {
            printf("%s nginx-t-ok\n", argv[i]);
        }

        fflush(stdout);
        kngx_check_cleanup(tmp);
        free(cconf);
        fr_free(&r);
    }

    return 0;
}

#endif
