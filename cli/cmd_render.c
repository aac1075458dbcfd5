
/*
 * kubengx render: the pipeline
 *   load -> model -> plan -> text -> [nginx -t] -> output.
 *
 * Exit codes: 0 rendered (warnings may have been printed), 2 bad input,
 * bad usage, a failed --check or an I/O error; nothing is written then.
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kubengx.h"
#include "settings/settings.h"


static int kngx_render_run(kngx_options_t *o);


const kngx_command_t  kngx_cmd_render = {
    "render", KNGX_CMD_RENDER, "turn manifests into nginx config",

"Usage: kubengx render -f PATH... [-o DIR|-] [OPTIONS]\n"
"\n"
"Render Ingress, Service, IngressClass, Secret and EndpointSlice manifests\n"
"into an nginx config file to include inside http { }.  The same objects\n"
"in any order, split over any files, give the same bytes.\n",

"An Ingress not served for its class is a warning naming the flag that\n"
"would serve it; so is an input none of whose Ingresses is served.\n"
"\n"
"Annotations: kubernetes.io/ingress.class (the legacy class field),\n"
"kubengx.io/host-shared-with (namespaces that may add to this Ingress's\n"
"hosts) and ingress-nginx's nginx.ingress.kubernetes.io/* as the README's\n"
"annotation table says (`kubengx migrate --annotations` prints it).  Each\n"
"value is parsed and checked, none is copied as text; a bad value leaves\n"
"its Ingress out (a warning); an unknown or unsupported key is a warning\n"
"(\"did you mean\" for a near miss); access control kubengx does not\n"
"implement fails closed (see --unsupported-annotations).  Canaries and\n"
"cookie affinity: with --endpoints module the module reads the canary\n"
"settings from the Ingress (a change needs no reload); without it they\n"
"are rendered (a change reloads) and affinity is not available.\n"
"\n"
"Exit status: 0 rendered (warnings go to stderr), 2 bad input or usage,\n"
"failed --check or write error (then nothing is written).\n",

    kngx_render_run
};


/*
 * Never render nothing silently: each Ingress not served for its class
 * is a warning naming the flag that would serve it, and an input none of
 * whose Ingresses is served says so.
 */
static void
kngx_print_class_warnings(const kngx_model_t *m, const kngx_plan_t *p,
    const kngx_plan_opts_t *po)
{
    const kngx_ingress_t  *ing;
    kngx_class_opts_t      co;
    kngx_diag_t            d;
    const char            *why;
    char                   obj[320], msg[512], hint[300];
    size_t                 i;

    co.class_name = po->class_name;
    co.controller = po->controller;
    co.watch_without_class = po->watch_without_class;

    for (i = 0; i < m->ningresses; i++) {
        ing = &m->ingresses[i];

        if (kngx_ingress_is_ours(m, &co, ing, &why)) {
            continue;
        }

        snprintf(obj, sizeof(obj), "%s/%s", ing->meta.ns, ing->meta.name);
        snprintf(msg, sizeof(msg), "Ingress not served: %s; %s would serve "
                 "it", why, kngx_ingress_class_hint(m, ing, hint,
                                                     sizeof(hint)));

        memset(&d, 0, sizeof(d));
        d.severity = KNGX_DIAG_WARNING;
        d.src = ing->meta.src;
        d.object = obj;
        d.field = ing->class_name ? "spec.ingressClassName"
                  : ing->legacy_class
                    ? "metadata.annotations[kubernetes.io/ingress.class]"
                    : NULL;
        d.code = "not-ours";
        d.message = msg;

        kngx_diag_print(stderr, &d);
    }

    if (m->ningresses && p->ningresses == 0) {
        fprintf(stderr, "kubengx: warning: none of the %zu Ingress%s in the "
                "input is served (class %s); the config routes nothing\n",
                m->ningresses, m->ningresses == 1 ? "" : "es",
                po->class_name);
    }
}


/* the diags the user sees: -v adds the infos; the plan's "not-ours"
 * notes are printed as warnings instead */

static void
kngx_render_diags(const kngx_diags_t *ds, const kngx_options_t *o)
{
    kngx_diags_print(stderr, ds,
                     KNGX_DIAGS_PROBLEMS | (o->verbose ? KNGX_DIAGS_INFO : 0),
                     "not-ours");
}


/* where the config says the certificates are: --certs-path, else
 * DIR/certs as an absolute path */

static const char *
kngx_render_certs_dir(const kngx_options_t *o, const kngx_plan_t *p,
    char *buf, size_t size)
{
    char    cwd[PATH_MAX];
    size_t  len;

    if (o->certs_path) {
        return o->certs_path;
    }

    if (strcmp(o->output, "-") == 0) {
        if (p->ncerts || kngx_render_ann_files(p)) {
            fprintf(stderr, "kubengx: warning: -o - writes no certificate "
                    "files (nor basic-auth users or client CAs); the config "
                    "names them under \"certs/\" (use -o DIR or "
                    "--certs-path)\n");
        }

        return NULL;
    }

    if (realpath(o->output, buf) == NULL) {
        /* not there yet: absolute from the current directory */

        if (o->output[0] == '/') {
            snprintf(buf, size, "%s", o->output);
        } else if (getcwd(cwd, sizeof(cwd)) != NULL) {
            snprintf(buf, size, "%s/%s", cwd, o->output);
        } else {
            snprintf(buf, size, "%s", o->output);
        }
    }

    len = strlen(buf);
    while (len > 1 && buf[len - 1] == '/') {
        buf[--len] = '\0';
    }

    snprintf(buf + len, size - len, "/certs");

    return buf;
}


/* --check: nginx -t on the config with the certificates in a temporary
 * directory; 0 if it passed (else said) */

static int
kngx_render_check(kngx_options_t *o, const kngx_model_t *m,
    const kngx_plan_t *p, int stream)
{
    kngx_render_opts_t   ro;
    kngx_check_opts_t    co;
    kngx_stream_opts_t   so;
    kngx_stream_t       *s = NULL;
    const char          *rerr;
    char                *conf;
    char                 err[8192], tmp[PATH_MAX], certs[PATH_MAX + 16];
    char                 hop[PATH_MAX + 64], loads[2 * PATH_MAX + 64];
    char                 block[64];
    size_t               len;
    int                  rc = -1;

    if (kngx_options_module(o) != 0) {
        fprintf(stderr, "kubengx render: --check with --endpoints module "
                "needs the kubengx nginx module; give --module PATH; "
                "nothing written\n");
        return -1;
    }

    if (kngx_check_tmpdir(tmp, sizeof(tmp)) != 0) {
        fprintf(stderr, "kubengx render: --check: cannot create a temporary "
                "directory\n");
        return -1;
    }

    snprintf(certs, sizeof(certs), "%s/certs", tmp);

    ro = o->ro;
    ro.certs_dir = certs;
    co = o->co;

    /* the hop sockets in the temporary directory too */
    so = o->stream;
    so.hop_dir = tmp;
    ro.https_hop = kngx_stream_https_hop(&so, hop, sizeof(hop));

    conf = kngx_render(p, &ro, &len, &rerr);

    if (conf && stream) {
        s = kngx_stream_build(m, p, &so, &ro);
        if (s == NULL
            || kngx_stream_main_lines(&so, co.module, "", loads,
                                      sizeof(loads), block, sizeof(block))
               != 0)
        {
            free(conf);
            conf = NULL;
            rerr = "out of memory";

        } else {
            co.stream_loads = loads;
            co.stream_conf = s->text;
            co.stream_len = s->len;
        }
    }

    if (conf == NULL
        || kngx_output_write_certs(certs, p, err, sizeof(err)) != 0
        || kngx_check(&co, conf, len, p, tmp, err, sizeof(err)) != 0)
    {
        fprintf(stderr, "kubengx render: --check: %s; nothing written\n",
                conf ? err : rerr);

    } else {
        rc = 0;
    }

    kngx_check_cleanup(tmp);
    kngx_stream_free(s);
    free(conf);

    return rc;
}


static int
kngx_render_output(const kngx_options_t *o, const kngx_plan_t *p,
    const char *conf, size_t len, const kngx_stream_t *s)
{
    char  err[8192];

    if (strcmp(o->output, "-") == 0) {
        if (fwrite(conf, 1, len, stdout) != len || fflush(stdout) != 0) {
            fprintf(stderr, "kubengx render: cannot write to stdout\n");
            return -1;
        }

        return 0;
    }

    if ((s && kngx_output_write_file(o->output, KNGX_STREAM_CONF, s->text,
                                     s->len, err, sizeof(err)) != 0)
        || kngx_output_write(o->output, conf, len, p, err, sizeof(err)) != 0)
    {
        fprintf(stderr, "kubengx render: %s\n", err);
        return -1;
    }

    return 0;
}


static void
kngx_render_summary(const kngx_options_t *o, const kngx_model_t *m,
    const kngx_plan_t *p)
{
    fprintf(stderr, "kubengx: rendered %zu Ingresses, %zu servers, "
            "%zu upstreams from %zu objects\n", p->ningresses, p->nservers,
            p->nupstreams, m->nobjects);

    if (o->po.endpoints == KNGX_ENDPOINTS_MODULE) {
        fprintf(stderr, "kubengx: %zu Service-port upstreams: %s form "
                "(--upstreams %s; auto: dispatch above %d)\n",
                p->nservice_ports, p->dispatch ? "dispatch" : "per-service",
                o->po.upstreams == KNGX_UPSTREAMS_DISPATCH ? "dispatch"
                : o->po.upstreams == KNGX_UPSTREAMS_PER_SERVICE
                ? "per-service" : "auto", KNGX_DISPATCH_THRESHOLD);
    }
}


/* plan, text, check, output: KNGX_EXIT_* */

static int
kngx_render_model(kngx_options_t *o, const kngx_model_t *m)
{
    kngx_plan_t      *p;
    kngx_stream_t    *s;
    kngx_settings_t  *set;
    const char       *rerr;
    char             *conf = NULL;
    char              certs[PATH_MAX + 16];
    size_t            len;
    int               rc = KNGX_EXIT_USAGE;

    /* the settings ConfigMap: before the plan (default-ssl-certificate) */

    set = kngx_settings_build(m, o->ro.settings_configmap);
    if (set == NULL) {
        fprintf(stderr, "kubengx render: out of memory\n");
        return KNGX_EXIT_USAGE;
    }

    kngx_diags_print(stderr, &set->diags, KNGX_DIAGS_PROBLEMS, NULL);
    o->ro.settings = set;

    if (o->po.default_certificate == NULL) {
        o->po.default_certificate = set->default_ssl_certificate;
    }

    p = kngx_plan_build(m, &o->po);
    if (p == NULL) {
        fprintf(stderr, "kubengx render: out of memory\n");
        kngx_settings_free(set);
        return KNGX_EXIT_USAGE;
    }

    kngx_render_diags(&p->diags, o);
    kngx_print_class_warnings(m, p, &o->po);

    if (p->failed) {
        fprintf(stderr, "kubengx render: nothing written\n");
        kngx_plan_free(p);
        kngx_settings_free(set);
        return KNGX_EXIT_USAGE;
    }

    /* built also without the flags: it warns about the annotation */

    s = kngx_stream_build(m, p, &o->stream, &o->ro);
    if (s == NULL) {
        fprintf(stderr, "kubengx render: out of memory\n");
        kngx_plan_free(p);
        kngx_settings_free(set);
        return KNGX_EXIT_USAGE;
    }

    kngx_stream_print_diags(s);

    if (!kngx_stream_enabled(&o->stream)) {
        kngx_stream_free(s);
        s = NULL;
    }

    o->ro.certs_dir = kngx_render_certs_dir(o, p, certs, sizeof(certs));

    conf = kngx_render(p, &o->ro, &len, &rerr);
    if (conf == NULL) {
        fprintf(stderr, "kubengx render: %s; nothing written\n", rerr);
        goto done;
    }

    if ((o->check && kngx_render_check(o, m, p, s != NULL) != 0)
        || kngx_render_output(o, p, conf, len, s) != 0)
    {
        goto done;
    }

    if (o->verbose) {
        kngx_render_summary(o, m, p);
    }

    rc = KNGX_EXIT_OK;

done:

    free(conf);
    kngx_stream_free(s);
    kngx_plan_free(p);
    o->ro.settings = NULL;
    kngx_settings_free(set);

    return rc;
}


static int
kngx_render_run(kngx_options_t *o)
{
    kngx_model_t  *m;
    char           hop[PATH_MAX + 64];
    int            rc;

    if (o->files.n == 0) {
        fprintf(stderr, "kubengx render: no input; give -f PATH (see "
                "kubengx render --help)\n");
        return KNGX_EXIT_USAGE;
    }

    if (o->output[0] == '\0') {
        fprintf(stderr, "kubengx render: -o needs a directory or -\n");
        return KNGX_EXIT_USAGE;
    }

    /* TCP/UDP services and passthrough: a second file (stream.h) */

    if (kngx_stream_enabled(&o->stream) && strcmp(o->output, "-") == 0) {
        fprintf(stderr, "kubengx render: TCP/UDP services and TLS "
                "passthrough write a second file, " KNGX_STREAM_CONF
                ": give -o DIR\n");
        return KNGX_EXIT_USAGE;
    }

    if (kngx_stream_opts_finish(&o->stream, o->output, "render") != 0) {
        return KNGX_EXIT_USAGE;
    }

    o->stream.reserved[0] = o->ro.http_port;
    o->stream.reserved[1] = o->ro.https_port;
    o->stream.reserved[3] = o->ro.h2c_port;
    o->ro.https_hop = kngx_stream_https_hop(&o->stream, hop, sizeof(hop));

    m = kngx_model_load_paths(o->ns, o->files.items, o->files.n);
    if (m == NULL) {
        fprintf(stderr, "kubengx render: out of memory\n");
        return KNGX_EXIT_USAGE;
    }

    kngx_render_diags(&m->diags, o);

    if (kngx_model_nerrors(m)) {
        fprintf(stderr, "kubengx render: %zu error%s in the input; nothing "
                "written\n", kngx_model_nerrors(m),
                kngx_model_nerrors(m) == 1 ? "" : "s");
        rc = KNGX_EXIT_USAGE;

    } else {
        rc = kngx_render_model(o, m);
    }

    kngx_model_free(m);

    return rc;
}
