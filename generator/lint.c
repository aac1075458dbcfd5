
/*
 * kubengx lint: the mistakes the Service/Ingress split invites, found in
 * manifest files before they reach a cluster.
 *
 * It loads the input with the generator's loader (model.h) and checks:
 * Ingresses no controller serves, backends naming a Service or port that
 * does not exist, Services without ready endpoints, several LoadBalancer
 * Services exposing HTTP, NodePort Services, missing or bad TLS Secrets,
 * host/path conflicts, ImplementationSpecific paths and values `kubengx
 * render` refuses.  The rules live in lint_rules.c; this file has the
 * options, the finding list and the output.
 */

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kubengx.h"
#include "lint.h"
#include "annotations/annotations.h"


static const char  *kngx_lint_severity[] = { "info", "warning", "error" };


/* ---- findings ------------------------------------------------------------ */

int
kngx_lint_add(kngx_lint_t *l, kngx_severity_e sev, const kngx_meta_t *meta,
    const char *code, const char *field, const char *fmt, ...)
{
    char              buf[1024];
    va_list           ap;
    kngx_finding_t   *f, *items;
    size_t            cap;

    if (l->n == l->cap) {
        cap = l->cap ? l->cap * 2 : 32;
        items = realloc(l->items, cap * sizeof(kngx_finding_t));
        if (items == NULL) {
            return -1;
        }
        l->items = items;
        l->cap = cap;
    }

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);

    f = &l->items[l->n];
    memset(f, 0, sizeof(kngx_finding_t));

    f->severity = sev;
    f->code = code;
    f->field = field;

    if (meta) {
        f->src = meta->src;
        f->kind = meta->kind;
        f->ns = meta->ns;
        f->name = meta->name;
    }

    f->message = kube_arena_strdup(l->arena, buf);
    if (f->message == NULL) {
        return -1;
    }

    l->n++;

    if (sev == KNGX_DIAG_ERROR) {
        l->nerrors++;

    } else if (sev == KNGX_DIAG_WARNING) {
        l->nwarnings++;
    }

    return 0;
}


static int
kngx_strcmp0(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}


static int
kngx_finding_cmp(const void *x, const void *y)
{
    const kngx_finding_t  *a = x, *b = y;
    int                    rc;

    rc = kngx_strcmp0(a->src.file, b->src.file);
    if (rc) {
        return rc;
    }

    if (a->src.doc != b->src.doc) {
        return a->src.doc < b->src.doc ? -1 : 1;
    }

    if (a->src.item != b->src.item) {
        return a->src.item < b->src.item ? -1 : 1;
    }

    rc = kngx_strcmp0(a->kind, b->kind);
    if (rc) {
        return rc;
    }

    rc = kngx_strcmp0(a->ns, b->ns);
    if (rc) {
        return rc;
    }

    rc = kngx_strcmp0(a->name, b->name);
    if (rc) {
        return rc;
    }

    if (a->severity != b->severity) {
        return a->severity > b->severity ? -1 : 1;
    }

    rc = kngx_strcmp0(a->field, b->field);
    if (rc) {
        return rc;
    }

    rc = kngx_strcmp0(a->code, b->code);
    if (rc) {
        return rc;
    }

    return strcmp(a->message, b->message);
}


/* sort for stable output and drop exact repeats */
static void
kngx_lint_sort(kngx_lint_t *l)
{
    size_t  i, k;

    if (l->n < 2) {
        return;
    }

    qsort(l->items, l->n, sizeof(kngx_finding_t), kngx_finding_cmp);

    for (i = 1, k = 1; i < l->n; i++) {
        if (kngx_finding_cmp(&l->items[k - 1], &l->items[i]) == 0) {
            if (l->items[i].severity == KNGX_DIAG_ERROR) {
                l->nerrors--;

            } else if (l->items[i].severity == KNGX_DIAG_WARNING) {
                l->nwarnings--;
            }

            continue;
        }

        l->items[k++] = l->items[i];
    }

    l->n = k;
}


/* ---- output -------------------------------------------------------------- */

/*
 * Names come from the input unvalidated: control bytes are written as
 * \xNN so that a name cannot forge lines of the report.
 */
static void
kngx_lint_puts(FILE *out, const char *s)
{
    for ( /* void */ ; s && *s; s++) {
        unsigned char  c = (unsigned char) *s;

        if (c < 0x20 || c == 0x7f) {
            fprintf(out, "\\x%02x", c);

        } else {
            fputc(c, out);
        }
    }
}


static void
kngx_lint_print_text(FILE *out, const kngx_lint_t *l)
{
    const kngx_finding_t  *f;
    size_t                 i;

    for (i = 0; i < l->n; i++) {
        f = &l->items[i];

        if (f->src.file) {
            kngx_lint_puts(out, f->src.file);
            fprintf(out, ":%u: ", f->src.doc);
        }

        fprintf(out, "%s: ", kngx_lint_severity[f->severity]);

        if (f->kind) {
            kngx_lint_puts(out, f->kind);
            fputc(' ', out);
            if (f->ns && f->ns[0]) {
                kngx_lint_puts(out, f->ns);
                fputc('/', out);
            }
            kngx_lint_puts(out, f->name);
            fputs(": ", out);
        }

        if (f->field) {
            kngx_lint_puts(out, f->field);
            fputs(": ", out);
        }

        kngx_lint_puts(out, f->message);
        fputc('\n', out);
    }
}


static json_t *
kngx_json_str(const char *s)
{
    json_t  *j;

    if (s == NULL) {
        return json_null();
    }

    j = json_string(s);

    /* not UTF-8: the loader only passes UTF-8, but never print garbage */
    return j ? j : json_string("(not UTF-8)");
}


static int
kngx_lint_print_json(FILE *out, const kngx_lint_t *l)
{
    const kngx_finding_t  *f;
    json_t                *arr, *o;
    size_t                 i;
    int                    rc;

    arr = json_array();
    if (arr == NULL) {
        return -1;
    }

    for (i = 0; i < l->n; i++) {
        f = &l->items[i];

        o = json_object();
        if (o == NULL) {
            json_decref(arr);
            return -1;
        }

        rc = json_object_set_new(o, "file", kngx_json_str(f->src.file))
             | json_object_set_new(o, "document",
                                   f->src.file ? json_integer(f->src.doc)
                                               : json_null())
             | json_object_set_new(o, "severity",
                     json_string(kngx_lint_severity[f->severity]))
             | json_object_set_new(o, "kind", kngx_json_str(f->kind))
             | json_object_set_new(o, "namespace",
                     kngx_json_str((f->ns && f->ns[0]) ? f->ns : NULL))
             | json_object_set_new(o, "name", kngx_json_str(f->name))
             | json_object_set_new(o, "code", kngx_json_str(f->code))
             | json_object_set_new(o, "field", kngx_json_str(f->field))
             | json_object_set_new(o, "message", kngx_json_str(f->message));

        if (rc != 0 || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return -1;
        }
    }

    rc = json_dumpf(arr, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(arr);

    if (rc != 0) {
        return -1;
    }

    fputc('\n', out);

    return 0;
}


/* ---- the command --------------------------------------------------------- */

static void
kngx_lint_usage(FILE *out)
{
    fprintf(out,
"Usage: kubengx lint -f PATH... [OPTIONS]\n"
"\n"
"Check Ingress, Service, IngressClass, Secret and EndpointSlice manifests\n"
"for the mistakes the Service/Ingress split invites, before they reach a\n"
"cluster.  Input is read like `kubengx render` reads it.\n"
"\n"
"Options:\n"
"  -f, --filename PATH   a file, a directory (recursive *.yaml, *.yml,\n"
"                        *.json) or - for stdin; repeatable, required\n"
"  -n, --namespace NS    namespace of objects without one (default:\n"
"                        default)\n"
"  -o, --output FORMAT   text (default) or json\n"
"      --class NAME      the IngressClass name kubengx serves (default:\n"
"                        kubengx)\n"
"      --controller NAME the controller value kubengx answers to (default:\n"
"                        kubengx.io/ingress-controller)\n"
"      --watch-without-class\n"
"                        kubengx serves Ingresses without a class\n"
"      --host-ownership namespace|merge\n"
"                        who may add routes to a host, as kubengx render\n"
"                        --host-ownership (default namespace)\n"
"      --unsupported-annotations refuse|ignore\n"
"                        as kubengx render (default refuse)\n"
"      --strict          unknown fields are errors, not warnings\n"
"  -v, --verbose         also print informational notes (skipped kinds)\n"
"                        on stderr\n"
"  -h, --help            show this help\n"
"\n"
"Findings (severity, code):\n"
"  error    no-service      a backend names a Service not in the input\n"
"  error    no-port         a backend names a port the Service lacks\n"
"                           (port.number is the Service `port`, not the\n"
"                           targetPort)\n"
"  error    bad-host        a host kubengx render refuses (not a DNS name,\n"
"                           or a wildcard other than a whole first label)\n"
"  error    bad-path        a path kubengx render refuses\n"
"  error    bad-name        a backend's Service name, namespace or port\n"
"                           name that is not a valid name\n"
"  error    bad-secret      a TLS Secret that is not kubernetes.io/tls,\n"
"                           lacks tls.crt/tls.key, or that nginx cannot\n"
"                           load (garbled PEM, a key that does not match\n"
"                           the certificate, an encrypted key)\n"
"  error    bad-external    an ExternalName that is an IP address in any\n"
"                           spelling, localhost, or not a DNS name\n"
"  warning  no-controller   an Ingress no IngressClass or controller in\n"
"                           sight serves: it will do nothing\n"
"  warning  no-endpoints    a backend Service without ready endpoints in\n"
"                           the given EndpointSlices (checked only when\n"
"                           the input has EndpointSlices)\n"
"  warning  terminating-endpoints\n"
"                           only serving+terminating endpoints are left\n"
"  warning  many-load-balancers\n"
"                           several LoadBalancer Services expose HTTP\n"
"                           ports (80, 443, 8080, 8443, or appProtocol\n"
"                           http/https/h2c/ws/wss): each costs a cloud\n"
"                           load balancer; one Ingress could serve them\n"
"  warning  node-port       a NodePort Service: its ports are open on\n"
"                           every node\n"
"  warning  no-secret       a TLS Secret not in the input (the default\n"
"                           certificate would be served)\n"
"  warning  conflict        the same host, path and type in two Ingresses\n"
"                           of one class: the oldest wins, this one is\n"
"                           ignored there\n"
"  warning  implementation-specific\n"
"                           an ImplementationSpecific path: its meaning\n"
"                           depends on the controller (kubengx: Prefix)\n"
"  warning  resource-backend\n"
"                           a resource backend: kubengx does not serve it\n"
"  warning  host-owned      a rule or tls entry for a host another\n"
"                           namespace owns (--host-ownership namespace)\n"
"  warning  tls-not-routed  a tls host the Ingress has no rule for\n"
"  warning  bad-annotation  an annotation value kubengx render ignores\n"
"                           (e.g. upstream-hash-by naming a variable\n"
"                           nginx does not define) or refuses (then the\n"
"                           Ingress is not served)\n"
"  warning  unknown-annotation\n"
"                           an nginx.ingress.kubernetes.io/ key kubengx\n"
"                           does not know (\"did you mean\" a near miss)\n"
"  warning  unsupported-annotation\n"
"                           an ingress-nginx key kubengx does not\n"
"                           implement (snippets never): ignored\n"
"  error    fail-closed     an access-control annotation kubengx does\n"
"                           not implement: the Ingress is not served\n"
"                           (unless --unsupported-annotations ignore)\n"
"  (stderr)                 a warning when none of the input's Ingresses\n"
"                           is of a class kubengx serves\n"
"  warning  (loader)        what the loader warns about, e.g. a bad\n"
"                           EndpointSlice endpoint\n"
"  warning  unknown-field   a field the object's API type does not have\n"
"                           (\"did you mean\" a near miss); an error with\n"
"                           --strict\n"
"\n"
"Output: one line per finding,\n"
"  FILE:DOC: warning|error: KIND NAMESPACE/NAME: [FIELD: ]MESSAGE\n"
"(DOC is the 1-based document in FILE), or with --output json a JSON\n"
"array of objects with the keys file, document, severity, kind,\n"
"namespace, name, code, field and message (null when not known).\n"
"Findings are sorted by file, document and object.  A count goes to\n"
"stderr in text mode.\n"
"\n"
"Exit status: 0 no errors (warnings allowed), 1 errors found, 2 the\n"
"input could not be read or parsed (the loader's errors go to stderr),\n"
"or bad usage.\n");
}


int
kngx_lint_main(int argc, char **argv)
{
    int              c, json = 0, verbose = 0, rc;
    size_t           i, nfiles = 0;
    const char     **files = NULL, **tmp;
    const char      *ns = NULL;
    kngx_model_t    *m = NULL;
    kngx_lint_t      l;
    kngx_lint_opts_t o;

    static const struct option  longopts[] = {
        { "filename", required_argument, NULL, 'f' },
        { "namespace", required_argument, NULL, 'n' },
        { "output", required_argument, NULL, 'o' },
        { "class", required_argument, NULL, 'C' },
        { "controller", required_argument, NULL, 'K' },
        { "watch-without-class", no_argument, NULL, 'W' },
        { "host-ownership", required_argument, NULL, 'O' },
        { "unsupported-annotations", required_argument, NULL, 'U' },
        { "strict", no_argument, NULL, 'S' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    memset(&l, 0, sizeof(l));
    memset(&o, 0, sizeof(o));
    o.class.class_name = "kubengx";
    o.class.controller = "kubengx.io/ingress-controller";

    optind = 1;
    opterr = 0;

    while ((c = getopt_long(argc, argv, ":f:n:o:vh", longopts, NULL)) != -1)
    {
        switch (c) {

        case 'f':
            tmp = realloc(files, (nfiles + 1) * sizeof(char *));
            if (tmp == NULL) {
                fprintf(stderr, "kubengx lint: out of memory\n");
                free(files);
                return KNGX_EXIT_USAGE;
            }
            files = tmp;
            files[nfiles++] = optarg;
            break;

        case 'n':
            ns = optarg;
            break;

        case 'o':
            if (strcmp(optarg, "json") == 0) {
                json = 1;

            } else if (strcmp(optarg, "text") == 0) {
                json = 0;

            } else {
                fprintf(stderr, "kubengx lint: --output \"%s\": use text or "
                        "json\n", optarg);
                free(files);
                return KNGX_EXIT_USAGE;
            }
            break;

        case 'C':
            o.class.class_name = optarg;
            break;

        case 'K':
            o.class.controller = optarg;
            break;

        case 'W':
            o.class.watch_without_class = 1;
            break;

        case 'O':
            if (kngx_host_ownership_parse(optarg, &o.host_ownership) != 0) {
                fprintf(stderr, "kubengx lint: --host-ownership \"%s\": use "
                        "namespace or merge\n", optarg);
                free(files);
                return KNGX_EXIT_USAGE;
            }
            break;

        case 'S':
            o.strict = 1;
            break;

        case 'U':
            if (kngx_ann_unsupported_parse(optarg, &o.unsupported_ignore)
                != 0)
            {
                fprintf(stderr, "kubengx lint: --unsupported-annotations "
                        "\"%s\": use refuse or ignore\n", optarg);
                free(files);
                return KNGX_EXIT_USAGE;
            }
            break;

        case 'v':
            verbose = 1;
            break;

        case 'h':
            kngx_lint_usage(stdout);
            free(files);
            return KNGX_EXIT_OK;

        case ':':
            fprintf(stderr, "kubengx lint: %s needs a value; see kubengx "
                    "lint --help\n", argv[optind - 1]);
            free(files);
            return KNGX_EXIT_USAGE;

        default:
            fprintf(stderr, "kubengx lint: unknown option \"%s\"; see "
                    "kubengx lint --help\n", argv[optind - 1]);
            free(files);
            return KNGX_EXIT_USAGE;
        }
    }

    if (optind < argc) {
        fprintf(stderr, "kubengx lint: unexpected argument \"%s\" (input "
                "goes after -f); see kubengx lint --help\n", argv[optind]);
        free(files);
        return KNGX_EXIT_USAGE;
    }

    if (nfiles == 0) {
        fprintf(stderr, "kubengx lint: no input; give -f PATH (see kubengx "
                "lint --help)\n");
        free(files);
        return KNGX_EXIT_USAGE;
    }

    rc = KNGX_EXIT_USAGE;

    m = kngx_model_load_paths(ns, files, nfiles);
    if (m == NULL) {
        goto nomem;
    }

    for (i = 0; i < m->diags.n; i++) {
        if (m->diags.items[i].severity == KNGX_DIAG_ERROR
            || (verbose && m->diags.items[i].severity == KNGX_DIAG_INFO))
        {
            kngx_diag_print(stderr, &m->diags.items[i]);
        }
    }

    if (kngx_model_nerrors(m)) {
        fprintf(stderr, "kubengx lint: the input has errors; nothing "
                "checked\n");
        goto done;
    }

    l.arena = kube_arena_create(NULL, 0);
    if (l.arena == NULL) {
        goto nomem;
    }

    if (kngx_lint_run(&l, m, &o) != 0) {
        goto nomem;
    }

    kngx_lint_sort(&l);

    if (l.none_served) {
        fprintf(stderr, "kubengx lint: warning: none of the %zu Ingress%s in "
                "the input is of a class kubengx serves (%s): kubengx render "
                "would route nothing\n", m->ningresses,
                m->ningresses == 1 ? "" : "es", o.class.class_name);
    }

    if (json) {
        if (kngx_lint_print_json(stdout, &l) != 0) {
            goto nomem;
        }

    } else {
        kngx_lint_print_text(stdout, &l);
        fprintf(stderr, "kubengx lint: %zu error%s, %zu warning%s\n",
                l.nerrors, l.nerrors == 1 ? "" : "s",
                l.nwarnings, l.nwarnings == 1 ? "" : "s");
    }

    if (fflush(stdout) != 0) {
        fprintf(stderr, "kubengx lint: writing the output failed\n");
        goto done;
    }

    rc = l.nerrors ? KNGX_EXIT_FINDINGS : KNGX_EXIT_OK;
    goto done;

nomem:

    fprintf(stderr, "kubengx lint: out of memory\n");
    rc = KNGX_EXIT_USAGE;

done:

    free(l.items);
    if (l.arena) {
        kube_arena_destroy(l.arena);
    }
    if (m) {
        kngx_model_free(m);
    }
    free(files);

    return rc;
}
