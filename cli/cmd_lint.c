
/*
 * kubengx lint: load the input like render, run the rules
 * (generator/lint_rules.c), print the findings (generator/lint.c).
 *
 * Exit codes: 0 no errors (warnings allowed), 1 errors found, 2 the
 * input could not be read or parsed, or bad usage.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kubengx.h"
#include "lint.h"


static int kngx_lint_cmd(kngx_options_t *o);


const kngx_command_t  kngx_cmd_lint = {
    "lint", KNGX_CMD_LINT, "check manifests for Ingress/Service mistakes",

"Usage: kubengx lint -f PATH... [OPTIONS]\n"
"\n"
"Check Ingress, Service, IngressClass, Secret and EndpointSlice manifests\n"
"for the mistakes the Service/Ingress split invites, before they reach a\n"
"cluster.  Input is read like `kubengx render` reads it.\n",

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
"                           ignored there (a canary Ingress joins the\n"
"                           route instead)\n"
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
"  warning  no-annotation-object\n"
"                           an annotation names a Secret or ConfigMap\n"
"                           not in the input (auth-secret, auth-tls-\n"
"                           secret, proxy-ssl-secret, custom-headers,\n"
"                           auth-proxy-set-headers): the Ingress is not\n"
"                           served until it exists\n"
"  warning  unknown-annotation\n"
"                           an nginx.ingress.kubernetes.io/ key kubengx\n"
"                           does not know (\"did you mean\" a near miss)\n"
"  warning  unsupported-annotation\n"
"                           an ingress-nginx key kubengx does not\n"
"                           implement (snippets never): ignored\n"
"  warning  alias-conflict  a server-alias or from-to-www-redirect name\n"
"                           another host, alias or wildcard has: that\n"
"                           name is left out\n"
"  warning  bad-alias       a server-alias name that is not a host name:\n"
"                           that name is left out\n"
"  error    fail-closed     an access-control annotation kubengx does\n"
"                           not implement: the Ingress is not served\n"
"                           (unless --unsupported-annotations ignore)\n"
"  warning  unknown-field   a field the object's API type does not have\n"
"                           (\"did you mean\" a near miss); an error with\n"
"                           --strict\n"
"  (stderr)                 a warning when none of the input's Ingresses\n"
"                           is of a class kubengx serves\n"
"  warning  (loader)        what the loader warns about, e.g. a bad\n"
"                           EndpointSlice endpoint\n"
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
"or bad usage.\n",

    kngx_lint_cmd
};


/* the rules on a model without errors, and the report: KNGX_EXIT_* */

static int
kngx_lint_report(const kngx_options_t *o, const kngx_model_t *m,
    kngx_lint_t *l)
{
    kngx_lint_opts_t  lo;

    memset(&lo, 0, sizeof(lo));
    lo.class.class_name = o->po.class_name;
    lo.class.controller = o->po.controller;
    lo.class.watch_without_class = o->po.watch_without_class;
    lo.host_ownership = o->po.host_ownership;
    lo.unsupported_ignore = o->po.unsupported_ignore;
    lo.strict = o->strict;

    if (kngx_lint_run(l, m, &lo) != 0) {
        return -1;
    }

    kngx_lint_sort(l);

    if (l->none_served) {
        fprintf(stderr, "kubengx lint: warning: none of the %zu Ingress%s in "
                "the input is of a class kubengx serves (%s): kubengx render "
                "would route nothing\n", m->ningresses,
                m->ningresses == 1 ? "" : "es", lo.class.class_name);
    }

    if (o->json) {
        if (kngx_lint_print_json(stdout, l) != 0) {
            return -1;
        }

    } else {
        kngx_lint_print_text(stdout, l);
        fprintf(stderr, "kubengx lint: %zu error%s, %zu warning%s\n",
                l->nerrors, l->nerrors == 1 ? "" : "s",
                l->nwarnings, l->nwarnings == 1 ? "" : "s");
    }

    if (fflush(stdout) != 0) {
        fprintf(stderr, "kubengx lint: writing the output failed\n");
        return KNGX_EXIT_USAGE;
    }

    return l->nerrors ? KNGX_EXIT_FINDINGS : KNGX_EXIT_OK;
}


static int
kngx_lint_cmd(kngx_options_t *o)
{
    kngx_model_t  *m;
    kngx_lint_t    l;
    int            rc = -1;

    if (o->files.n == 0) {
        fprintf(stderr, "kubengx lint: no input; give -f PATH (see kubengx "
                "lint --help)\n");
        return KNGX_EXIT_USAGE;
    }

    memset(&l, 0, sizeof(l));

    m = kngx_model_load_paths(o->ns, o->files.items, o->files.n);
    if (m == NULL) {
        goto done;
    }

    /* the loader's warnings are findings (generator/lint_rules.c) */
    kngx_diags_print(stderr, &m->diags, (1u << KNGX_DIAG_ERROR)
                     | (o->verbose ? KNGX_DIAGS_INFO : 0), NULL);

    if (kngx_model_nerrors(m)) {
        fprintf(stderr, "kubengx lint: the input has errors; nothing "
                "checked\n");
        rc = KNGX_EXIT_USAGE;
        goto done;
    }

    l.arena = kube_arena_create(NULL, 0);
    if (l.arena) {
        rc = kngx_lint_report(o, m, &l);
    }

done:

    if (rc < 0) {
        fprintf(stderr, "kubengx lint: out of memory\n");
        rc = KNGX_EXIT_USAGE;
    }

    free(l.items);
    if (l.arena) {
        kube_arena_destroy(l.arena);
    }
    kngx_model_free(m);

    return rc;
}
