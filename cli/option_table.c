
/*
 * kubengx CLI: every option of every subcommand, one row each (the
 * fields are described in options.h), and the setters the rows read
 * their values with.  --help of a subcommand lists its rows by group,
 * the groups in the order they first appear here, then the rows without
 * a group.  A help text is true for every subcommand of its row; where
 * the subcommands mean different things by one option (-o), each meaning
 * has a row of its own.
 */

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "options.h"
#include "annotations/annotations.h"


#define R  KNGX_CMD_RENDER
#define L  KNGX_CMD_LINT
#define C  KNGX_CMD_CONTROLLER
#define M  KNGX_CMD_MIGRATE
#define K  (KNGX_CMD_KUBECTL | KNGX_CMD_KUBECTL_LINT | KNGX_CMD_KUBECTL_MIGRATE)
#define KM KNGX_CMD_KUBECTL_MIGRATE
#define KL KNGX_CMD_KUBECTL_LINT

#define KNGX_STR(x)   KNGX_STR_(x)
#define KNGX_STR_(x)  #x

#define KNGX_STREAM_GROUP  "TCP/UDP services and TLS passthrough (written " \
                           "to " KNGX_STREAM_CONF ")"

#define KNGX_WEBHOOK  "Validating admission webhook (rejects the Ingresses " \
                     "kubengx would refuse)"

#define KNGX_LEADER  "Leader election and status (only the leader writes " \
                     "Ingress status)"


/* ---- the setters: a value into its field -------------------------------- */

static const char *
kngx_opt_string(const kngx_option_t *opt, const char *arg, void *field,
    char *buf, size_t size)
{
    *(const char **) field = arg;
    return NULL;
}


static const char *
kngx_opt_true(const kngx_option_t *opt, const char *arg, void *field,
    char *buf, size_t size)
{
    *(int *) field = 1;
    return NULL;
}


static const char *
kngx_opt_false(const kngx_option_t *opt, const char *arg, void *field,
    char *buf, size_t size)
{
    *(int *) field = 0;
    return NULL;
}


/* "NS/NAME" of a ConfigMap: TCP/UDP services (stream.h), settings */
static const char *
kngx_opt_configmap(const kngx_option_t *opt, const char *arg, void *field,
    char *buf, size_t size)
{
    const char  *why;

    if (kngx_stream_configmap_arg(arg, &why) != 0) {
        snprintf(buf, size, ": %s", why);
        return buf;
    }

    *(const char **) field = arg;
    return NULL;
}


static const char *
kngx_opt_abs_path(const kngx_option_t *opt, const char *arg, void *field,
    char *buf, size_t size)
{
    if (arg[0] != '/') {
        return ": must be an absolute path";
    }

    *(const char **) field = arg;
    return NULL;
}


/* PATH, or none: "" (nginx has stream built in) */
static const char *
kngx_opt_stream_module(const kngx_option_t *opt, const char *arg,
    void *field, char *buf, size_t size)
{
    *(const char **) field = strcmp(arg, "none") == 0 ? "" : arg;
    return NULL;
}


/* refuse | ignore (annotations/annotations.h) */
static const char *
kngx_opt_unsupported(const kngx_option_t *opt, const char *arg,
    void *field, char *buf, size_t size)
{
    return kngx_ann_unsupported_parse(arg, (int *) field) == 0
           ? NULL : "is not one of refuse, ignore";
}


static const char *
kngx_opt_file(const kngx_option_t *opt, const char *arg, void *field,
    char *buf, size_t size)
{
    kngx_strings_t   *list = field;
    const char      **items;

    items = realloc(list->items, (list->n + 1) * sizeof(char *));
    if (items == NULL) {
        return "cannot be kept: out of memory";
    }

    items[list->n++] = arg;
    list->items = items;

    return NULL;
}


static const char *
kngx_opt_int(const kngx_option_t *opt, const char *arg, void *field,
    char *buf, size_t size)
{
    char  *end;
    long   n;

    n = strtol(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || n < opt->min || n > opt->max) {
        snprintf(buf, size, "must be a number from %ld to %ld", opt->min,
                 opt->max);
        return buf;
    }

    *(int *) field = (int) n;
    return NULL;
}


/* "500ms", "15s", "3m", "1h"; a plain number is seconds */

static const char *
kngx_opt_duration(const kngx_option_t *opt, const char *arg, void *field,
    char *buf, size_t size)
{
    char    *end;
    double   v;

    v = strtod(arg, &end);
    if (end == arg || v < 0) {
        goto bad;
    }

    if (*end == '\0' || strcmp(end, "s") == 0) {
        v *= 1000;
    } else if (strcmp(end, "ms") == 0) {
        /* as is */
    } else if (strcmp(end, "m") == 0) {
        v *= 60000;
    } else if (strcmp(end, "h") == 0) {
        v *= 3600000;
    } else {
        goto bad;
    }

    if (v < (double) opt->min) {
        snprintf(buf, size, "must be %ldms or more", opt->min);
        return buf;
    }

    *(uint64_t *) field = (uint64_t) v;
    return NULL;

bad:

    return "is not a duration (e.g. 500ms, 15s)";
}


static const char *
kngx_opt_endpoints(const kngx_option_t *opt, const char *arg, void *field,
    char *buf, size_t size)
{
    kngx_endpoints_mode_e  *mode = field;

    if (strcmp(arg, "module") == 0) {
        *mode = KNGX_ENDPOINTS_MODULE;
    } else if (strcmp(arg, "cluster-ip") == 0) {
        *mode = KNGX_ENDPOINTS_CLUSTER_IP;
    } else if (strcmp(arg, "static") == 0) {
        *mode = KNGX_ENDPOINTS_STATIC;
    } else {
        return "is not one of module, cluster-ip, static";
    }

    return NULL;
}


static const char *
kngx_opt_upstreams(const kngx_option_t *opt, const char *arg, void *field,
    char *buf, size_t size)
{
    return kngx_upstreams_mode_parse(arg, field) == 0 ? NULL
           : "is not one of per-service, dispatch, auto";
}


static const char *
kngx_opt_host_ownership(const kngx_option_t *opt, const char *arg,
    void *field, char *buf, size_t size)
{
    return kngx_host_ownership_parse(arg, field) == 0 ? NULL
           : "is not one of namespace, merge";
}


static const char *
kngx_opt_forwarded_for(const kngx_option_t *opt, const char *arg,
    void *field, char *buf, size_t size)
{
    int  append = kngx_forwarded_for_parse(arg);

    if (append < 0) {
        return "is not one of replace, append";
    }

    *(int *) field = append;
    return NULL;
}


static const char *
kngx_opt_resolver(const kngx_option_t *opt, const char *arg, void *field,
    char *buf, size_t size)
{
    const char  *why;
    char         servers[512];

    if (kngx_resolver_parse(arg, servers, sizeof(servers), &why) != 0) {
        snprintf(buf, size, ": %s", why);
        return buf;
    }

    *(const char **) field = arg;
    return NULL;
}


static const char *
kngx_opt_lint_output(const kngx_option_t *opt, const char *arg, void *field,
    char *buf, size_t size)
{
    if (strcmp(arg, "json") == 0) {
        *(int *) field = 1;
    } else if (strcmp(arg, "text") == 0) {
        *(int *) field = 0;
    } else {
        return "is not one of text, json";
    }

    return NULL;
}


/* a bit field: the setter takes kngx_plan_opts_t */

static const char *
kngx_opt_without_class(const kngx_option_t *opt, const char *arg,
    void *field, char *buf, size_t size)
{
    ((kngx_plan_opts_t *) field)->watch_without_class = 1;
    return NULL;
}


/* ---- the table ----------------------------------------------------------- */


const kngx_option_t  kngx_options[] = {

    /* render, lint: the input */

    { "filename", required_argument, 'f', R | L, "Input", "PATH", NULL,
      KNGX_FIELD(files), kngx_opt_file, 0, 0,
      "a file, a directory (recursive *.yaml, *.yml, *.json) or - for "
      "stdin; repeatable, at least one" },

    { "namespace", required_argument, 'n', R | L, "Input", "NS", NULL,
      KNGX_FIELD(ns), kngx_opt_string, 0, 0,
      "namespace of objects that name none (default: default)" },

    /* render, lint: the output */

    { "output", required_argument, 'o', R, "Output", "DIR|-", "-",
      KNGX_FIELD(output), kngx_opt_string, 0, 0,
      "write DIR/kubengx.conf and DIR/certs/*.pem (keys 0600) atomically; "
      "- prints the config (default -)" },

    { "certs-path", required_argument, 0, R, "Output", "PATH", NULL,
      KNGX_FIELD(certs_path), kngx_opt_string, 0, 0,
      "directory the config names for certificates (default: DIR/certs as "
      "an absolute path)" },

    { "output", required_argument, 'o', L | KL, "Output", "FORMAT", "text",
      KNGX_FIELD(json), kngx_opt_lint_output, 0, 0,
      "text (default) or json" },

    { "strict", no_argument, 0, L | KL, "Output", NULL, NULL,
      KNGX_FIELD(strict), kngx_opt_true, 0, 0,
      "unknown fields in the objects are errors, not warnings" },

    /* migrate */

    { "filename", required_argument, 'f', M, "Input", "FILE|-", NULL,
      KNGX_FIELD(files), kngx_opt_file, 0, 0,
      "what `kubectl get ingress,service,secret,configmap -A -o yaml` "
      "printed (a kind: List; plain manifests too), or - for stdin; "
      "repeatable, at least one" },

    { "from-class", required_argument, 0, M | KM, "Input", "NAME", "nginx",
      KNGX_FIELD(from_class), kngx_opt_string, 0, 0,
      "the old controller's class (default nginx); Ingresses without a "
      "class are included" },

    { "write", required_argument, 0, M | KM, "Output", "DIR", NULL,
      KNGX_FIELD(write_dir), kngx_opt_string, 0, 0,
      "write each such Ingress as DIR/NAMESPACE_NAME.json with the class "
      "changed, without the API server's fields" },

    { "annotations", no_argument, 0, M, "Output", NULL, NULL,
      KNGX_FIELD(ann_table), kngx_opt_true, 0, 0,
      "print every ingress-nginx annotation and what kubengx does with it "
      "(the README's table), and nothing else" },

    /* kubectl kubengx: the cluster and the controller pods */

    { "kubeconfig", required_argument, 0, K, "Cluster", "FILE", NULL,
      KNGX_FIELD(kubectl.kubeconfig), kngx_opt_string, 0, 0,
      "kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config; "
      "kubectl passes neither: give it here or in $KUBECONFIG)" },

    { "context", required_argument, 0, K, "Cluster", "NAME", NULL,
      KNGX_FIELD(kubectl.context), kngx_opt_string, 0, 0,
      "kubeconfig context (default: current-context)" },

    { "namespace", required_argument, 'n', K, "Cluster", "NS", "kubengx",
      KNGX_FIELD(kubectl.ns), kngx_opt_string, 0, 0,
      "namespace of the controller pods and their Lease (default kubengx)" },

    { "selector", required_argument, 'l', K, "Cluster", "SELECTOR",
      KNGX_KUBECTL_SELECTOR, KNGX_FIELD(kubectl.selector), kngx_opt_string,
      0, 0,
      "label selector of the controller pods (default "
      KNGX_KUBECTL_SELECTOR ": those of the chart and examples/deploy/)" },

    { "pod", required_argument, 0, K, "Cluster", "NAME", NULL,
      KNGX_FIELD(kubectl.pod), kngx_opt_string, 0, 0,
      "ask this controller pod (default: the first ready one the selector "
      "finds)" },

    { "election-id", required_argument, 0, K, "Cluster", "NAME",
      "kubengx-leader", KNGX_FIELD(kubectl.lease), kngx_opt_string, 0, 0,
      "the controllers' Lease, for status (default kubengx-leader)" },

    { "metrics-port", required_argument, 0, K, "Cluster", "PORT", "10254",
      KNGX_FIELD(kubectl.metrics_port), kngx_opt_int, 1, 65535,
      "the pods' --metrics-port: /metrics for status, /conf for conf "
      "(default 10254)" },

    { "status-port", required_argument, 0, K, "Cluster", "PORT", "10246",
      KNGX_FIELD(kubectl.status_port), kngx_opt_int, 1, 65535,
      "the pods' --status-port: the module's table for backends (default "
      "10246)" },

    /* the controller: the API */

    { "kubeconfig", required_argument, 0, C, "API", "FILE", NULL,
      KNGX_FIELD(ctl.api.kubeconfig), kngx_opt_string, 0, 0,
      "kubeconfig to use (default: in-cluster service account)" },

    { "context", required_argument, 0, C, "API", "NAME", NULL,
      KNGX_FIELD(ctl.api.context), kngx_opt_string, 0, 0,
      "kubeconfig context (default: current-context)" },

    { "watch-namespace", required_argument, 0, C, "API", "NS", NULL,
      KNGX_FIELD(ctl.watch.ns), kngx_opt_string, 0, 0,
      "only objects in NS (default: all namespaces)" },

    { "watch-idle-timeout", required_argument, 0, C, "API", "DUR", NULL,
      KNGX_FIELD(ctl.watch.idle_ms), kngx_opt_duration, 1000, 0,
      "cut a watch that sent no byte for this long and resume it "
      "(default 3m; the API server sends a BOOKMARK about once a "
      "minute)" },

    /* the config: which Ingresses */

    { "class", required_argument, 0, R | L | C | KL | M | KM, "Selection",
      "NAME",
      "kubengx", KNGX_FIELD(po.class_name), kngx_opt_string, 0, 0,
      "the IngressClass kubengx serves (default kubengx)" },

    { "controller", required_argument, 0, R | L | C | KL, "Selection", "NAME",
      "kubengx.io/ingress-controller", KNGX_FIELD(po.controller),
      kngx_opt_string, 0, 0,
      "IngressClasses whose spec.controller is NAME are kubengx's too "
      "(default kubengx.io/ingress-controller)" },

    { "watch-without-class", no_argument, 0, R | L | C | KL, "Selection", NULL,
      NULL, KNGX_FIELD(po), kngx_opt_without_class, 0, 0,
      "kubengx serves Ingresses that name no class too" },

    { "host-ownership", required_argument, 0, R | L | C | KL, "Tenancy", "MODE",
      "namespace", KNGX_FIELD(po.host_ownership), kngx_opt_host_ownership,
      0, 0,
      "namespace (default): the namespace of the oldest Ingress routing a "
      "host owns it; rules and tls entries for it from other namespaces "
      "are refused (warning) unless the owner lists them in the "
      "annotation kubengx.io/host-shared-with: \"ns-b,ns-c\"; merge: any "
      "namespace may add paths to any host.  Either way a tls entry "
      "serves only hosts its Ingress routes" },

    /* the config: how it routes */

    { "endpoints", required_argument, 0, R | C, "Routing", "MODE",
      "module", KNGX_FIELD(po.endpoints), kngx_opt_endpoints, 0, 0,
      "module (default): upstreams use k8s_service and the kubengx nginx "
      "module keeps their endpoints (the controller watches no "
      "EndpointSlices: endpoint changes never reload); cluster-ip: the "
      "Service's ClusterIP; static: the endpoints of the EndpointSlices, "
      "written into the config (the controller reloads nginx on every "
      "endpoint change; for tests)" },

    { "metrics-routes", no_argument, 0, R | C, "Routing", NULL, NULL,
      KNGX_FIELD(po.metrics_routes), kngx_opt_true, 0, 0,
      "with --endpoints static or cluster-ip too, count each Ingress "
      "route's requests (k8s_metrics_route; ingress-nginx's per-request "
      "metrics): the kubengx nginx module must be loaded (the controller "
      "loads it, --module or found as for --endpoints module)" },

    { "upstreams", required_argument, 0, R | C, "Routing", "FORM", "auto",
      KNGX_FIELD(po.upstreams), kngx_opt_upstreams, 0, 0,
      "how --endpoints module writes upstreams: per-service: one upstream "
      "per Service port (k8s_service), named by proxy_pass; dispatch: one "
      "upstream kubengx_dispatch with k8s_dispatch (plus one per balancing "
      "method) and k8s_backend NS/SVC in each location; auto (default): "
      "dispatch above " KNGX_STR(KNGX_DISPATCH_THRESHOLD) " Service-port "
      "upstreams (measured: from there per-service blocks add about 0.5 s "
      "to nginx -t, growing quadratically).  cluster-ip and static have "
      "no dispatch form and ignore it" },

    { "http-port", required_argument, 0, R | C, "Routing", "PORT", "80",
      KNGX_FIELD(ro.http_port), kngx_opt_int, 1, 65535,
      "(default 80)" },

    { "https-port", required_argument, 0, R | C, "Routing", "PORT", "443",
      KNGX_FIELD(ro.https_port), kngx_opt_int, 1, 65535,
      "(default 443)" },

    { "h2c-port", required_argument, 0, R | C, "Routing", "PORT", NULL,
      KNGX_FIELD(ro.h2c_port), kngx_opt_int, 0, 65535,
      "every http server (the default server too) also speaks HTTP/2 "
      "without TLS on PORT (h2c with prior knowledge: gRPC clients on "
      "insecure channels, curl --http2-prior-knowledge); HTTP/1.1 is "
      "refused there (nginx 1.22's listen ... http2), hence a port of its "
      "own (default: none)" },

    { "listen-address", required_argument, 0, R | C, "Routing", "ADDR",
      NULL, KNGX_FIELD(ro.listen_address), kngx_opt_string, 0, 0,
      "listen on ADDR only (default: all IPv4 addresses; [::] for IPv6)" },

    { "default-backend", required_argument, 0, R | C, "Routing",
      "NS/SVC:PORT", NULL, KNGX_FIELD(po.default_backend),
      kngx_opt_string, 0, 0,
      "answers requests no rule matches (else 404)" },

    { "default-certificate", required_argument, 0, R | C, "Routing",
      "NS/SECRET", NULL, KNGX_FIELD(po.default_certificate),
      kngx_opt_string, 0, 0,
      "a kubernetes.io/tls Secret among the objects read, for TLS hosts "
      "without a usable Secret and unknown names; without it such https "
      "is not served" },

    { "unsupported-annotations", required_argument, 0, R | L | C | KL,
      "Annotations", "MODE", "refuse", KNGX_FIELD(po.unsupported_ignore),
      kngx_opt_unsupported, 0, 0,
      "refuse (default): an Ingress with an access-control annotation "
      "kubengx does not implement is not served (fail closed), so that a "
      "protected route never becomes public; ignore: serve it without that "
      "control.  Other unknown or unsupported annotations are warnings "
      "either way" },

    { "resolver", required_argument, 0, R | C, "Routing", "ADDR[,ADDR]",
      NULL, KNGX_FIELD(po.resolver), kngx_opt_resolver, 0, 0,
      "nameservers (IP[:PORT]) through which nginx resolves ExternalName "
      "Services per request (default: those of /etc/resolv.conf)" },

    { "forwarded-for", required_argument, 0, R | C, "Routing", "MODE",
      "replace", KNGX_FIELD(ro.forwarded_for_append),
      kngx_opt_forwarded_for, 0, 0,
      "replace (default): X-Forwarded-For is the client address nginx "
      "sees; append: add it to the client's header (only behind a "
      "trusted proxy: clients can write any address there)" },

    /* the settings ConfigMap (generator/settings/settings.h) */

    { "configmap", required_argument, 0, R | C, "Settings", "NS/NAME",
      NULL, KNGX_FIELD(ro.settings_configmap), kngx_opt_configmap, 0, 0,
      "ingress-nginx's settings ConfigMap (proxy-body-size, hsts, "
      "use-gzip, ...; README \"The settings ConfigMap and the edge "
      "defaults\"): render reads it "
      "from the input, the controller watches it; an unknown key or bad "
      "value is a warning and left out" },

    /* TCP/UDP services and TLS passthrough (stream.h) */

    { "tcp-services-configmap", required_argument, 0, R | C,
      KNGX_STREAM_GROUP, "NS/NAME", NULL, KNGX_FIELD(stream.tcp_configmap),
      kngx_opt_configmap, 0, 0,
      "ingress-nginx's ConfigMap of TCP services: \"PORT\": "
      "\"NS/SVC:SVCPORT[:PROXY[:PROXY]]\" (first PROXY: decode it from "
      "clients, second: send it to the backend); a bad entry is refused "
      "alone with a warning" },

    { "udp-services-configmap", required_argument, 0, R | C,
      KNGX_STREAM_GROUP, "NS/NAME", NULL, KNGX_FIELD(stream.udp_configmap),
      kngx_opt_configmap, 0, 0,
      "the same for UDP services (\"PORT\": \"NS/SVC:SVCPORT\")" },

    { "enable-ssl-passthrough", no_argument, 0, R | C,
      KNGX_STREAM_GROUP, NULL, NULL, KNGX_FIELD(stream.passthrough),
      kngx_opt_true, 0, 0,
      "honour nginx.ingress.kubernetes.io/ssl-passthrough: the https port "
      "reads SNI and sends those hosts' TLS to their Service as is" },

    { "ssl-passthrough-dir", required_argument, 0, R | C,
      KNGX_STREAM_GROUP, "DIR", NULL, KNGX_FIELD(stream.hop_dir),
      kngx_opt_abs_path, 0, 0,
      "where the local hops' unix sockets go (default: the output or conf "
      "directory)" },

    { "nginx-stream-module", required_argument, 0, R | C,
      KNGX_STREAM_GROUP, "PATH|none", NULL,
      KNGX_FIELD(stream.ngx_stream_module), kngx_opt_stream_module, 0, 0,
      "nginx's ngx_stream_module.so, loaded before kubengx's (default: "
      "Debian's, in /usr/lib/nginx/modules/, when present; none: nginx has "
      "stream built in)" },

    /* nginx */

    { "check", no_argument, 0, R, "nginx", NULL, NULL,
      KNGX_FIELD(check), kngx_opt_true, 0, 0,
      "run nginx -t on a complete config that includes the output before "
      "writing it" },

    { "nginx", required_argument, 0, R | C, "nginx", "PATH", "nginx",
      KNGX_FIELD(co.nginx), kngx_opt_string, 0, 0,
      "nginx binary (default nginx)" },

    { "conf-dir", required_argument, 0, C, "nginx", "DIR",
      "/var/lib/kubengx", KNGX_FIELD(ctl.nginx.conf_dir), kngx_opt_string,
      0, 0,
      "nginx prefix; kubengx.conf, certs/, nginx.conf and tmp/ go here "
      "(default /var/lib/kubengx)" },

    { "nginx-conf", required_argument, 0, C, "nginx", "FILE", NULL,
      KNGX_FIELD(ctl.nginx.nginx_conf), kngx_opt_string, 0, 0,
      "use this main config instead of writing DIR/nginx.conf; it must "
      "say \"daemon off;\" and include DIR/kubengx.conf inside http { }" },

    { "module", required_argument, 0, R | C, "nginx", "PATH", NULL,
      KNGX_FIELD(co.module), kngx_opt_string, 0, 0,
      "the kubengx nginx module, for --endpoints module (default: next to "
      "kubengx, in ../lib/nginx/modules/ from it, or in "
      "/usr/lib/nginx/modules/)" },

    { "worker-processes", required_argument, 0, C, "nginx", "N", "auto",
      KNGX_FIELD(ctl.nginx.worker_processes), kngx_opt_string, 0, 0,
      "worker_processes in our nginx.conf (default auto; the settings "
      "ConfigMap's worker-processes wins)" },

    { "access-log", required_argument, 0, C, "nginx", "PATH", NULL,
      KNGX_FIELD(ctl.nginx.access_log), kngx_opt_string, 0, 0,
      "an access_log in our nginx.conf's http { } besides the rendered "
      "config's (the settings ConfigMap's access-log-path, default "
      "/dev/stdout in the upstreaminfo format); off: no access log at "
      "all" },

    { "allow-loopback-endpoints", no_argument, 0, C, "nginx", NULL, NULL,
      KNGX_FIELD(co.allow_loopback), kngx_opt_true, 0, 0,
      "let the module proxy to loopback endpoint addresses (127/8, ::1; "
      "for tests and single-host setups; refused by default)" },

    /* the controller: syncs, health, leader, Events */

    { "sync-holdoff", required_argument, 0, C, "Syncing", "DUR", "200ms",
      KNGX_FIELD(ctl.sync.holdoff_ms), kngx_opt_duration, 0, 0,
      "wait this long after the last change before a sync, so bursts give "
      "one reload (default 200ms)" },

    { "sync-max-delay", required_argument, 0, C, "Syncing", "DUR", "2s",
      KNGX_FIELD(ctl.sync.max_delay_ms), kngx_opt_duration, 0, 0,
      "but never longer than this after the first change (default 2s)" },

    { "metrics-port", required_argument, 0, C, "Health and metrics",
      "PORT", "10254", KNGX_FIELD(ctl.http.port), kngx_opt_int, 0, 65535,
      "/healthz, /readyz, /metrics (default 10254; 0: off)" },

    { "metrics-address", required_argument, 0, C, "Health and metrics",
      "ADDR", NULL, KNGX_FIELD(ctl.http.address), kngx_opt_string, 0, 0,
      "listen on ADDR only (default: every address, IPv6 and IPv4: probes "
      "come to the pod IP)" },

    { "status-port", required_argument, 0, C, "Health and metrics", "PORT",
      "10246", KNGX_FIELD(ctl.nginx.status_port), kngx_opt_int, 0, 65535,
      "with --endpoints module, nginx serves the module's endpoint table "
      "(k8s_status JSON) at /k8s/status on PORT, GET only, for `kubectl "
      "kubengx backends` (default 10246; 0: off)" },

    { "validating-webhook", required_argument, 0, C, KNGX_WEBHOOK,
      "[ADDR]:PORT", NULL, KNGX_FIELD(ctl.webhook.listen), kngx_opt_string,
      0, 0,
      "serve the validating admission webhook (HTTPS, AdmissionReview "
      "admission.k8s.io/v1 POSTed to /networking/v1/ingresses) on PORT "
      "(\":9443\": every address); needs the two flags below" },

    { "validating-webhook-certificate", required_argument, 0, C,
      KNGX_WEBHOOK, "FILE", NULL, KNGX_FIELD(ctl.webhook.certificate),
      kngx_opt_string, 0, 0,
      "its certificate (PEM, the chain after it); read again when the file "
      "changes" },

    { "validating-webhook-key", required_argument, 0, C, KNGX_WEBHOOK,
      "FILE", NULL, KNGX_FIELD(ctl.webhook.key), kngx_opt_string, 0, 0,
      "its private key (PEM); read again when the file changes" },

    { "validating-webhook-test-timeout", required_argument, 0, C,
      KNGX_WEBHOOK, "DUR", "8s", KNGX_FIELD(ctl.webhook.test_ms),
      kngx_opt_duration, 100, 0,
      "a review's nginx -t that has not ended after DUR is killed and the "
      "Ingress allowed, with a warning (default 8s: below the API server's "
      "10s webhook timeout)" },

    { "no-leader-elect", no_argument, 0, C, KNGX_LEADER, NULL, NULL,
      KNGX_FIELD(ctl.leader.elect), kngx_opt_false, 0, 0,
      "act as the only replica (always leader)" },

    { "election-id", required_argument, 0, C, KNGX_LEADER, "NAME",
      "kubengx-leader", KNGX_FIELD(ctl.leader.id), kngx_opt_string, 0, 0,
      "the Lease's name (default kubengx-leader)" },

    { "election-namespace", required_argument, 0, C, KNGX_LEADER, "NS",
      NULL, KNGX_FIELD(ctl.leader.ns), kngx_opt_string, 0, 0,
      "the Lease's namespace (default $POD_NAMESPACE, the kubeconfig's or "
      "service account's namespace, else default)" },

    { "election-identity", required_argument, 0, C, KNGX_LEADER, "ID",
      NULL, KNGX_FIELD(ctl.leader.identity), kngx_opt_string, 0, 0,
      "this replica's name (default $POD_NAME or hostname, plus _PID)" },

    { "lease-duration", required_argument, 0, C, KNGX_LEADER, "DUR", "15s",
      KNGX_FIELD(ctl.leader.lease_ms), kngx_opt_duration, 0, 0,
      "(default 15s)" },

    { "renew-deadline", required_argument, 0, C, KNGX_LEADER, "DUR", "10s",
      KNGX_FIELD(ctl.leader.renew_ms), kngx_opt_duration, 0, 0,
      "(default 10s)" },

    { "retry-period", required_argument, 0, C, KNGX_LEADER, "DUR", "2s",
      KNGX_FIELD(ctl.leader.retry_ms), kngx_opt_duration, 0, 0,
      "(default 2s)" },

    { "publish-service", required_argument, 0, C, KNGX_LEADER, "NS/NAME",
      NULL, KNGX_FIELD(ctl.status.publish_service), kngx_opt_string, 0, 0,
      "publish this Service's load balancer addresses in "
      "status.loadBalancer.ingress" },

    { "publish-address", required_argument, 0, C, KNGX_LEADER,
      "ADDR[,ADDR]", NULL, KNGX_FIELD(ctl.status.publish_address),
      kngx_opt_string, 0, 0,
      "publish these IPs/hostnames instead" },

    { "update-status-on-shutdown", no_argument, 0, C, KNGX_LEADER, NULL,
      NULL, KNGX_FIELD(ctl.status.on_shutdown), kngx_opt_true, 0, 0,
      "clear the status of served Ingresses when the leader stops" },

    { "event-interval", required_argument, 0, C, "Events", "DUR", "10m",
      KNGX_FIELD(ctl.events.interval_ms), kngx_opt_duration, 0, 0,
      "the same warning again at most this often (default 10m)" },

    { "event-burst", required_argument, 0, C, "Events", "N", "25",
      KNGX_FIELD(ctl.events.burst), kngx_opt_int, 1, 10000,
      "at most N Events at once (default 25), then" },

    { "event-refill", required_argument, 0, C, "Events", "DUR", "10s",
      KNGX_FIELD(ctl.events.refill_ms), kngx_opt_duration, 0, 0,
      "one more per DUR (default 10s)" },

    /* every subcommand */

    { "verbose", no_argument, 'v', R | L, NULL, NULL, NULL,
      KNGX_FIELD(verbose), kngx_opt_true, 0, 0,
      "also say on stderr what was skipped and why" },

    { "help", no_argument, 'h', R | L | C | K | M, NULL, NULL, NULL, 0, NULL,
      0, 0,
      "this help" },

    { NULL, 0, 0, 0, NULL, NULL, NULL, 0, NULL, 0, 0, NULL }
};
