
/*
 * kubengx render: options, --help, and the pipeline
 *   load -> model -> plan -> text -> [nginx -t] -> output.
 *
 * Exit codes: 0 rendered (warnings may have been printed), 2 bad input,
 * bad usage, a failed --check or an I/O error; nothing is written then.
 */

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kubengx.h"
#include "model.h"
#include "render.h"
#include "stream.h"
#include "annotations/annotations.h"


#define KNGX_MODULE_SO  "ngx_http_k8s_module.so"


static void
kngx_render_usage(FILE *out)
{
    fprintf(out,
"Usage: kubengx render -f PATH... [-o DIR|-] [OPTIONS]\n"
"\n"
"Render Ingress, Service, IngressClass, Secret and EndpointSlice manifests\n"
"into an nginx config file to include inside http { }.  The same objects\n"
"in any order, split over any files, give the same bytes.\n"
"\n"
"Input:\n"
"  -f, --filename PATH      a file, a directory (recursive *.yaml, *.yml,\n"
"                           *.json) or - for stdin; repeatable\n"
"  -n, --namespace NS       namespace of objects that name none (default)\n"
"\n"
"Output:\n"
"  -o, --output DIR|-       write DIR/kubengx.conf and DIR/certs/*.pem\n"
"                           (keys 0600) atomically; - prints the config\n"
"                           (default -)\n"
"      --certs-path PATH    directory the config names for certificates\n"
"                           (default: DIR/certs as an absolute path)\n"
"\n"
"Selection:\n"
"      --class NAME         serve Ingresses of this class (default kubengx)\n"
"      --controller NAME    IngressClasses whose spec.controller is NAME\n"
"                           are ours too (default\n"
"                           kubengx.io/ingress-controller)\n"
"      --watch-without-class\n"
"                           serve Ingresses that name no class\n"
"  An Ingress not served for its class is a warning naming the flag\n"
"  that would serve it; so is an input none of whose Ingresses is served.\n"
"\n"
"Tenancy:\n"
"      --host-ownership MODE\n"
"                           namespace (default): the namespace of the\n"
"                           oldest Ingress routing a host owns it; rules\n"
"                           and tls entries for it from other namespaces\n"
"                           are refused (warning) unless the owner lists\n"
"                           them in the annotation\n"
"                           kubengx.io/host-shared-with: \"ns-b,ns-c\";\n"
"                           merge: any namespace may add paths to any\n"
"                           host.  Either way a tls entry serves only\n"
"                           hosts its Ingress routes\n"
"\n"
"Routing:\n"
"      --endpoints MODE     module: upstreams use k8s_service (needs the\n"
"                           kubengx nginx module; default); cluster-ip: the\n"
"                           Service's ClusterIP; static: the endpoints of\n"
"                           the input's EndpointSlices\n"
"      --upstreams FORM     how --endpoints module writes upstreams:\n"
"                           per-service: one upstream per Service port\n"
"                           (k8s_service), named by proxy_pass; dispatch:\n"
"                           one upstream kubengx_dispatch with\n"
"                           k8s_dispatch (plus one per balancing method)\n"
"                           and k8s_backend NS/SVC in each location; auto\n"
"                           (default): dispatch above %d Service-port\n"
"                           upstreams (measured: from there per-service\n"
"                           blocks add about 0.5 s to nginx -t, growing\n"
"                           quadratically).  cluster-ip and static have\n"
"                           no dispatch form and ignore it\n"
"      --http-port PORT     (default 80)\n"
"      --https-port PORT    (default 443)\n"
"      --listen-address ADDR\n"
"                           listen on ADDR only (default: all IPv4\n"
"                           addresses; [::] for IPv6)\n"
"      --default-backend NS/SVC:PORT\n"
"                           answers requests no rule matches (else 404)\n"
"      --default-certificate NS/SECRET\n"
"                           a kubernetes.io/tls Secret in the input, for\n"
"                           TLS hosts without a usable Secret and unknown\n"
"                           names; without it such https is not served\n"
"      --resolver ADDR[,ADDR]\n"
"                           nameservers (IP[:PORT]) through which nginx\n"
"                           resolves ExternalName Services per request\n"
"                           (default: those of /etc/resolv.conf)\n"
"      --forwarded-for MODE replace (default): X-Forwarded-For is the\n"
"                           client address nginx sees; append: add it to\n"
"                           the client's header (only behind a trusted\n"
"                           proxy: clients can write any address there)\n"
"\n"
"Checking:\n"
"      --check              run nginx -t on a complete config that includes\n"
"                           the output before writing it\n"
"      --nginx PATH         nginx binary for --check (default nginx)\n"
"      --module PATH        module for --check with --endpoints module\n"
"                           (default: next to kubengx, or\n"
"                           ../lib/nginx/modules/ from it)\n"
"\n"
 KNGX_STREAM_HELP
"\n"
"  -v, --verbose            also say what was skipped and why\n"
"  -h, --help               this help\n"
"\n"
"Annotations: kubernetes.io/ingress.class (the legacy class field),\n"
"kubengx.io/host-shared-with (namespaces that may add to this Ingress's\n"
"hosts) and ingress-nginx's nginx.ingress.kubernetes.io/* as the README's\n"
"annotation table says (`kubengx migrate --annotations` prints it): each\n"
"value is parsed and checked, none is copied as text; a bad value leaves\n"
"its Ingress out (warning); an unknown or unsupported key is a warning\n"
"(with \"did you mean\" for a near miss).\n"
 KNGX_ANN_UNSUPPORTED_HELP
"\n"
"Exit status: 0 rendered (warnings go to stderr), 2 bad input or usage,\n"
"failed --check or write error (then nothing is written).\n",
        KNGX_DISPATCH_THRESHOLD);
}


enum {
    KNGX_OPT_CLASS = 256,
    KNGX_OPT_CONTROLLER,
    KNGX_OPT_WITHOUT_CLASS,
    KNGX_OPT_ENDPOINTS,
    KNGX_OPT_UPSTREAMS,
    KNGX_OPT_HTTP_PORT,
    KNGX_OPT_HTTPS_PORT,
    KNGX_OPT_LISTEN,
    KNGX_OPT_DEFAULT_BACKEND,
    KNGX_OPT_DEFAULT_CERT,
    KNGX_OPT_CHECK,
    KNGX_OPT_NGINX,
    KNGX_OPT_MODULE,
    KNGX_OPT_CERTS_PATH,
    KNGX_OPT_FORWARDED_FOR,
    KNGX_OPT_HOST_OWNERSHIP,
    KNGX_OPT_RESOLVER,
    KNGX_OPT_UNSUPPORTED
};


static const struct option  kngx_render_options[] = {
    { "filename",            required_argument, NULL, 'f' },
    { "output",              required_argument, NULL, 'o' },
    { "namespace",           required_argument, NULL, 'n' },
    { "class",               required_argument, NULL, KNGX_OPT_CLASS },
    { "controller",          required_argument, NULL, KNGX_OPT_CONTROLLER },
    { "watch-without-class", no_argument,       NULL,
                                                KNGX_OPT_WITHOUT_CLASS },
    { "endpoints",           required_argument, NULL, KNGX_OPT_ENDPOINTS },
    { "upstreams",           required_argument, NULL, KNGX_OPT_UPSTREAMS },
    { "http-port",           required_argument, NULL, KNGX_OPT_HTTP_PORT },
    { "https-port",          required_argument, NULL, KNGX_OPT_HTTPS_PORT },
    { "listen-address",      required_argument, NULL, KNGX_OPT_LISTEN },
    { "default-backend",     required_argument, NULL,
                                                KNGX_OPT_DEFAULT_BACKEND },
    { "default-certificate", required_argument, NULL, KNGX_OPT_DEFAULT_CERT },
    { "check",               no_argument,       NULL, KNGX_OPT_CHECK },
    { "nginx",               required_argument, NULL, KNGX_OPT_NGINX },
    { "module",              required_argument, NULL, KNGX_OPT_MODULE },
    { "certs-path",          required_argument, NULL, KNGX_OPT_CERTS_PATH },
    { "forwarded-for",       required_argument, NULL,
                                                KNGX_OPT_FORWARDED_FOR },
    { "host-ownership",      required_argument, NULL,
                                                KNGX_OPT_HOST_OWNERSHIP },
    { "resolver",            required_argument, NULL, KNGX_OPT_RESOLVER },
    { "unsupported-annotations", required_argument, NULL,
                                                KNGX_OPT_UNSUPPORTED },
    KNGX_STREAM_LONG_OPTIONS
    { "verbose",             no_argument,       NULL, 'v' },
    { "help",                no_argument,       NULL, 'h' },
    { NULL, 0, NULL, 0 }
};


static int
kngx_port_arg(const char *s, int *port)
{
    char  *end;
    long   n;

    n = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || n < 1 || n > 65535) {
        fprintf(stderr, "kubengx render: bad port \"%s\"\n", s);
        return -1;
    }

    *port = (int) n;
    return 0;
}


/* the module next to the binary, or in ../lib/nginx/modules/ */
static const char *
kngx_default_module(char *buf, size_t size)
{
    char     exe[PATH_MAX];
    ssize_t  n;
    char    *slash;

    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        return NULL;
    }
    exe[n] = '\0';

    slash = strrchr(exe, '/');
    if (slash == NULL) {
        return NULL;
    }
    *slash = '\0';

    snprintf(buf, size, "%s/" KNGX_MODULE_SO, exe);
    if (access(buf, R_OK) == 0) {
        return buf;
    }

    snprintf(buf, size, "%s/../lib/nginx/modules/" KNGX_MODULE_SO, exe);
    if (access(buf, R_OK) == 0) {
        return buf;
    }

    return NULL;
}


/* the plan's "not-ours" notes are printed as warnings instead */
static void
kngx_print_diags(const kngx_diags_t *ds, int verbose)
{
    size_t  i;

    for (i = 0; i < ds->n; i++) {
        if (ds->items[i].severity == KNGX_DIAG_INFO
            && (!verbose || strcmp(ds->items[i].code, "not-ours") == 0))
        {
            continue;
        }
        kngx_diag_print(stderr, &ds->items[i]);
    }
}


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


int
kngx_render_main(int argc, char **argv)
{
    kngx_plan_opts_t     po;
    kngx_render_opts_t   ro;
    kngx_check_opts_t    co;
    kngx_stream_opts_t   so, cso;
    kngx_model_t        *m = NULL;
    kngx_plan_t         *p = NULL;
    kngx_stream_t       *s = NULL, *cs = NULL;
    const char         **files = NULL;
    const char          *output = "-", *ns = NULL, *certs_path = NULL;
    const char          *rerr;
    char                *conf = NULL, *cconf = NULL;
    char                 err[8192], certs_abs[PATH_MAX + 16];
    char                 modbuf[PATH_MAX + 64], tmp[PATH_MAX];
    char                 tcerts[PATH_MAX + 16], hop[PATH_MAX + 64];
    char                 sloads[2 * PATH_MAX + 64], sblock[64];
    size_t               nfiles = 0, len, clen;
    int                  c, n, verbose = 0, check = 0, rc = KNGX_EXIT_USAGE;
    int                  ignore;

    memset(&po, 0, sizeof(po));
    memset(&ro, 0, sizeof(ro));
    memset(&co, 0, sizeof(co));
    memset(&so, 0, sizeof(so));

    po.class_name = "kubengx";
    po.controller = "kubengx.io/ingress-controller";
    po.endpoints = KNGX_ENDPOINTS_MODULE;
    ro.version = KUBENGX_VERSION;
    ro.http_port = 80;
    ro.https_port = 443;
    co.nginx = "nginx";

    files = calloc((size_t) argc + 1, sizeof(char *));
    if (files == NULL) {
        fprintf(stderr, "kubengx render: out of memory\n");
        return KNGX_EXIT_USAGE;
    }

    optind = 1;
    opterr = 0;

    while ((c = getopt_long(argc, argv, ":f:o:n:vh", kngx_render_options,
                            NULL)) != -1)
    {
        switch (c) {
        case 'f':
            files[nfiles++] = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case 'n':
            ns = optarg;
            break;
        case 'v':
            verbose = 1;
            break;
        case 'h':
            kngx_render_usage(stdout);
            free(files);
            return KNGX_EXIT_OK;
        case KNGX_OPT_CLASS:
            po.class_name = optarg;
            break;
        case KNGX_OPT_CONTROLLER:
            po.controller = optarg;
            break;
        case KNGX_OPT_WITHOUT_CLASS:
            po.watch_without_class = 1;
            break;
        case KNGX_OPT_ENDPOINTS:
            if (strcmp(optarg, "module") == 0) {
                po.endpoints = KNGX_ENDPOINTS_MODULE;
            } else if (strcmp(optarg, "cluster-ip") == 0) {
                po.endpoints = KNGX_ENDPOINTS_CLUSTER_IP;
            } else if (strcmp(optarg, "static") == 0) {
                po.endpoints = KNGX_ENDPOINTS_STATIC;
            } else {
                fprintf(stderr, "kubengx render: --endpoints \"%s\" is not "
                        "one of module, cluster-ip, static\n", optarg);
                goto done;
            }
            break;
        case KNGX_OPT_UPSTREAMS:
            if (kngx_upstreams_mode_parse(optarg, &po.upstreams) != 0) {
                fprintf(stderr, "kubengx render: --upstreams \"%s\" is not "
                        "one of per-service, dispatch, auto\n", optarg);
                goto done;
            }
            break;
        case KNGX_OPT_HTTP_PORT:
            if (kngx_port_arg(optarg, &ro.http_port) != 0) {
                goto done;
            }
            break;
        case KNGX_OPT_HTTPS_PORT:
            if (kngx_port_arg(optarg, &ro.https_port) != 0) {
                goto done;
            }
            break;
        case KNGX_OPT_LISTEN:
            ro.listen_address = optarg;
            break;
        case KNGX_OPT_FORWARDED_FOR:
            ro.forwarded_for_append = kngx_forwarded_for_parse(optarg);
            if (ro.forwarded_for_append < 0) {
                fprintf(stderr, "kubengx render: --forwarded-for \"%s\" is "
                        "not one of replace, append\n", optarg);
                goto done;
            }
            break;
        case KNGX_OPT_HOST_OWNERSHIP:
            if (kngx_host_ownership_parse(optarg, &po.host_ownership) != 0)
            {
                fprintf(stderr, "kubengx render: --host-ownership \"%s\" is "
                        "not one of namespace, merge\n", optarg);
                goto done;
            }
            break;
        case KNGX_OPT_RESOLVER:
            po.resolver = optarg;
            break;
        case KNGX_OPT_UNSUPPORTED:
            if (kngx_ann_unsupported_parse(optarg, &ignore) != 0) {
                fprintf(stderr, "kubengx render: --unsupported-annotations "
                        "\"%s\" is not one of refuse, ignore\n", optarg);
                goto done;
            }
            po.unsupported_ignore = ignore;
            break;
        case KNGX_OPT_DEFAULT_BACKEND:
            po.default_backend = optarg;
            break;
        case KNGX_OPT_DEFAULT_CERT:
            po.default_certificate = optarg;
            break;
        case KNGX_OPT_CHECK:
            check = 1;
            break;
        case KNGX_OPT_NGINX:
            co.nginx = optarg;
            break;
        case KNGX_OPT_MODULE:
            co.module = optarg;
            break;
        case KNGX_OPT_CERTS_PATH:
            certs_path = optarg;
            break;
        case ':':
            fprintf(stderr, "kubengx render: %s needs a value; see "
                    "kubengx render --help\n", argv[optind - 1]);
            goto done;
        default:
            n = kngx_stream_getopt(c, optarg, &so, "render");
            if (n > 0) {
                break;
            }
            if (n == 0) {
                fprintf(stderr, "kubengx render: unknown option \"%s\"; "
                        "see kubengx render --help\n", argv[optind - 1]);
            }
            goto done;
        }
    }

    if (optind < argc) {
        fprintf(stderr, "kubengx render: unexpected argument \"%s\" (input "
                "files go after -f)\n", argv[optind]);
        goto done;
    }

    if (nfiles == 0) {
        fprintf(stderr, "kubengx render: no input; give -f PATH (see "
                "kubengx render --help)\n");
        goto done;
    }

    if (output[0] == '\0') {
        fprintf(stderr, "kubengx render: -o needs a directory or -\n");
        goto done;
    }

    /* TCP/UDP services and passthrough: a second file (stream.h) */

    if (kngx_stream_enabled(&so) && strcmp(output, "-") == 0) {
        fprintf(stderr, "kubengx render: TCP/UDP services and TLS "
                "passthrough write a second file, " KNGX_STREAM_CONF
                ": give -o DIR\n");
        goto done;
    }

    if (kngx_stream_opts_finish(&so, output, "render") != 0) {
        goto done;
    }

    so.reserved[0] = ro.http_port;
    so.reserved[1] = ro.https_port;
    ro.https_hop = kngx_stream_https_hop(&so, hop, sizeof(hop));

    /* load */

    m = kngx_model_load_paths(ns, files, nfiles);
    if (m == NULL) {
        goto nomem;
    }

    kngx_print_diags(&m->diags, verbose);

    if (kngx_model_nerrors(m)) {
        fprintf(stderr, "kubengx render: %zu error%s in the input; nothing "
                "written\n", kngx_model_nerrors(m),
                kngx_model_nerrors(m) == 1 ? "" : "s");
        goto done;
    }

    /* plan */

    p = kngx_plan_build(m, &po);
    if (p == NULL) {
        goto nomem;
    }

    kngx_print_diags(&p->diags, verbose);
    kngx_print_class_warnings(m, p, &po);

    if (p->failed) {
        fprintf(stderr, "kubengx render: nothing written\n");
        goto done;
    }

    /* text */

    if (certs_path) {
        ro.certs_dir = certs_path;

    } else if (strcmp(output, "-") != 0) {
        if (realpath(output, certs_abs) == NULL) {
            /* not there yet: absolute from the current directory */
            char  cwd[PATH_MAX];

            if (output[0] == '/') {
                snprintf(certs_abs, sizeof(certs_abs), "%s", output);
            } else if (getcwd(cwd, sizeof(cwd)) != NULL) {
                snprintf(certs_abs, sizeof(certs_abs), "%s/%s", cwd, output);
            } else {
                snprintf(certs_abs, sizeof(certs_abs), "%s", output);
            }
        }

        len = strlen(certs_abs);
        while (len > 1 && certs_abs[len - 1] == '/') {
            certs_abs[--len] = '\0';
        }

        snprintf(certs_abs + len, sizeof(certs_abs) - len, "/certs");
        ro.certs_dir = certs_abs;

    } else if (p->ncerts || kngx_render_ann_files(p)) {
        fprintf(stderr, "kubengx: warning: -o - writes no certificate "
                "files (nor basic-auth users or client CAs); the config "
                "names them under \"certs/\" (use -o DIR or "
                "--certs-path)\n");
    }

    conf = kngx_render(p, &ro, &len, &rerr);
    if (conf == NULL) {
        fprintf(stderr, "kubengx render: %s; nothing written\n", rerr);
        goto done;
    }

    /* built also without the flags: it warns about the annotation */

    s = kngx_stream_build(m, p, &so, &ro);
    if (s == NULL) {
        goto nomem;
    }

    kngx_stream_print_diags(s);

    if (!kngx_stream_enabled(&so)) {
        kngx_stream_free(s);
        s = NULL;
    }

    /* check */

    if (check) {
        if (po.endpoints == KNGX_ENDPOINTS_MODULE && co.module == NULL) {
            co.module = kngx_default_module(modbuf, sizeof(modbuf));

            if (co.module == NULL) {
                fprintf(stderr, "kubengx render: --check with --endpoints "
                        "module needs the kubengx nginx module; give "
                        "--module PATH; nothing written\n");
                goto done;
            }
        }

        if (kngx_check_tmpdir(tmp, sizeof(tmp)) != 0) {
            fprintf(stderr, "kubengx render: --check: cannot create a "
                    "temporary directory\n");
            goto done;
        }

        snprintf(tcerts, sizeof(tcerts), "%s/certs", tmp);

        /* the hop sockets in the temporary directory too */
        cso = so;
        cso.hop_dir = tmp;
        ro.https_hop = kngx_stream_https_hop(&cso, hop, sizeof(hop));

        ro.certs_dir = tcerts;
        cconf = kngx_render(p, &ro, &clen, &rerr);

        if (s) {
            cs = kngx_stream_build(m, p, &cso, &ro);
            if (cs == NULL
                || kngx_stream_main_lines(&so, co.module, "", sloads,
                                          sizeof(sloads), sblock,
                                          sizeof(sblock)) != 0)
            {
                kngx_check_cleanup(tmp);
                goto nomem;
            }

            co.stream_loads = sloads;
            co.stream_conf = cs->text;
            co.stream_len = cs->len;
        }

        if (cconf == NULL
            || kngx_output_write_certs(tcerts, p, err, sizeof(err)) != 0
            || kngx_check(&co, cconf, clen, p, tmp, err, sizeof(err)) != 0)
        {
            fprintf(stderr, "kubengx render: --check: %s; nothing written\n",
                    cconf ? err : rerr);
            kngx_check_cleanup(tmp);
            goto done;
        }

        kngx_check_cleanup(tmp);
    }

    /* output */

    if (strcmp(output, "-") == 0) {
        if (fwrite(conf, 1, len, stdout) != len || fflush(stdout) != 0) {
            fprintf(stderr, "kubengx render: cannot write to stdout\n");
            goto done;
        }

    } else if ((s && kngx_output_write_file(output, KNGX_STREAM_CONF, s->text,
                                            s->len, err, sizeof(err)) != 0)
               || kngx_output_write(output, conf, len, p, err, sizeof(err))
                  != 0)
    {
        fprintf(stderr, "kubengx render: %s\n", err);
        goto done;
    }

    if (verbose) {
        fprintf(stderr, "kubengx: rendered %zu Ingresses, %zu servers, "
                "%zu upstreams from %zu objects\n", p->ningresses,
                p->nservers, p->nupstreams, m->nobjects);

        if (po.endpoints == KNGX_ENDPOINTS_MODULE) {
            fprintf(stderr, "kubengx: %zu Service-port upstreams: %s form "
                    "(--upstreams %s; auto: dispatch above %d)\n",
                    p->nservice_ports,
                    p->dispatch ? "dispatch" : "per-service",
                    po.upstreams == KNGX_UPSTREAMS_DISPATCH ? "dispatch"
                    : po.upstreams == KNGX_UPSTREAMS_PER_SERVICE
                    ? "per-service" : "auto", KNGX_DISPATCH_THRESHOLD);
        }
    }

    rc = KNGX_EXIT_OK;
    goto done;

nomem:

    fprintf(stderr, "kubengx render: out of memory\n");
    rc = KNGX_EXIT_USAGE;

done:

    free(conf);
    free(cconf);
    kngx_stream_free(s);
    kngx_stream_free(cs);
    kngx_plan_free(p);
    kngx_model_free(m);
    free(files);

    return rc;
}
