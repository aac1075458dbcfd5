
/*
 * kubectl kubengx: the kubengx binary installed (or linked) as
 * kubectl-kubengx is a kubectl plugin (kubengx.c dispatches on argv[0]).
 * Every subcommand goes through the user's kubeconfig (kube/, libcurl)
 * to the API server, and to the controller pods through the API server's
 * pod proxy (/api/v1/namespaces/NS/pods/POD:PORT/proxy/PATH, RBAC
 * "pods/proxy" get):
 *
 *   backends [NS/SVC]  the module's endpoint table (k8s_status JSON on
 *                      the pod's --status-port, /k8s/status)
 *   conf               the config files nginx runs (GET /conf on the
 *                      pod's --metrics-port, controller/controller_conf.c)
 *   status             the controller pods, the Lease's holder, and from
 *                      each pod's /metrics its last reload and reload
 *                      errors
 *   lint, migrate      cmd_kubectl_lint.c
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd_kubectl.h"
#include "controller_log.h"


/* ---- the API and the pods ------------------------------------------------ */

kngx_ctl_api_t *
kngx_kc_open(kngx_options_t *o, char *path, size_t size)
{
    kngx_ctl_api_conf_t  conf;
    const char          *env;

    kngx_ctl_log_as("kubectl kubengx");

    conf.kubeconfig = o->kubectl.kubeconfig;
    conf.context = o->kubectl.context;

    if (conf.kubeconfig == NULL) {
        env = getenv("KUBECONFIG");
        if (env && env[0]) {
            conf.kubeconfig = env;

        } else {
            env = getenv("HOME");
            snprintf(path, size, "%s/.kube/config", env ? env : "");
            conf.kubeconfig = path;
        }
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);

    return kngx_ctl_api_create(&conf);
}


json_t *
kngx_kc_get_json(kngx_ctl_api_t *api, const char *path)
{
    json_t  *j, *msg;
    char    *body, err[CURL_ERROR_SIZE + 64];
    size_t   len;
    long     status;

    status = kngx_ctl_api_get(api, path, &body, &len, err, sizeof(err));
    if (status < 0) {
        fprintf(stderr, "kubectl kubengx: GET %s: %s\n", path, err);
        return NULL;
    }

    j = json_loadb(body, len, 0, NULL);
    free(body);

    if (status != 200) {
        msg = json_object_get(j, "message");
        fprintf(stderr, "kubectl kubengx: GET %s: HTTP %ld%s%s\n", path,
                status, msg ? ": " : "", msg ? json_string_value(msg) : "");
        json_decref(j);
        return NULL;
    }

    if (j == NULL) {
        fprintf(stderr, "kubectl kubengx: GET %s: not JSON\n", path);
    }

    return j;
}


/* the controller pods (a new reference), or NULL (said) */
static json_t *
kngx_kc_pods(kngx_ctl_api_t *api, kngx_options_t *o)
{
    json_t  *j, *items;
    char     path[2048], *sel;

    if (o->kubectl.pod) {
        snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s",
                 o->kubectl.ns, o->kubectl.pod);
        j = kngx_kc_get_json(api, path);
        return j ? json_pack("[o]", j) : NULL;
    }

    sel = curl_easy_escape(NULL, o->kubectl.selector, 0);
    if (sel == NULL) {
        return NULL;
    }

    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods?labelSelector=%s",
             o->kubectl.ns, sel);
    curl_free(sel);

    j = kngx_kc_get_json(api, path);
    items = json_incref(json_object_get(j, "items"));
    json_decref(j);

    if (json_array_size(items) == 0) {
        fprintf(stderr, "kubectl kubengx: no controller pods in namespace %s "
                "with labels %s (see -n, -l, --pod)\n", o->kubectl.ns,
                o->kubectl.selector);
        json_decref(items);
        return NULL;
    }

    return items;
}


static int
kngx_kc_ready(json_t *pod)
{
    json_t  *st = json_object_get(pod, "status"), *c;
    size_t   i;

    json_array_foreach(json_object_get(st, "conditions"), i, c) {
        if (strcmp(json_string_value(json_object_get(c, "type"))
                   ? json_string_value(json_object_get(c, "type")) : "",
                   "Ready") == 0)
        {
            return strcmp(json_string_value(json_object_get(c, "status"))
                          ? json_string_value(json_object_get(c, "status"))
                          : "", "True") == 0;
        }
    }

    return 0;
}


static const char *
kngx_kc_name(json_t *obj)
{
    const char  *n;

    n = json_string_value(json_object_get(json_object_get(obj, "metadata"),
                                          "name"));
    return n ? n : "";
}


/* the pod to ask: --pod, else the first ready one; NULL (said) */
static json_t *
kngx_kc_pod(json_t *pods, kngx_options_t *o)
{
    json_t  *pod;
    size_t   i;

    if (o->kubectl.pod) {
        return json_array_get(pods, 0);
    }

    json_array_foreach(pods, i, pod) {
        if (kngx_kc_ready(pod)) {
            return pod;
        }
    }

    fprintf(stderr, "kubectl kubengx: none of the %zu controller pods in "
            "namespace %s is ready; name one with --pod\n",
            json_array_size(pods), o->kubectl.ns);
    return NULL;
}


/* the API and the pod to ask (*pods: the caller's reference); NULL
 * (said; *api may be set) */
static json_t *
kngx_kc_one_pod(kngx_options_t *o, char *kc, size_t size,
    kngx_ctl_api_t **api, json_t **pods)
{
    *pods = NULL;

    *api = kngx_kc_open(o, kc, size);
    if (*api == NULL) {
        return NULL;
    }

    *pods = kngx_kc_pods(*api, o);

    return *pods ? kngx_kc_pod(*pods, o) : NULL;
}


/* GET PATH on the pod's PORT through the pod proxy: the status */
static long
kngx_kc_proxy(kngx_ctl_api_t *api, kngx_options_t *o, json_t *pod, int port,
    const char *path, char **body, size_t *len, int quiet)
{
    char  url[2048], err[CURL_ERROR_SIZE + 64];
    long  status;

    snprintf(url, sizeof(url), "/api/v1/namespaces/%s/pods/%s:%d/proxy%s",
             o->kubectl.ns, kngx_kc_name(pod), port, path);

    status = kngx_ctl_api_get(api, url, body, len, err, sizeof(err));

    if (quiet || status == 200) {
        return status;
    }

    if (status < 0) {
        fprintf(stderr, "kubectl kubengx: pod %s/%s port %d %s: %s\n",
                o->kubectl.ns, kngx_kc_name(pod), port, path, err);

    } else {
        fprintf(stderr, "kubectl kubengx: pod %s/%s port %d %s: HTTP %ld: "
                "%.300s\n", o->kubectl.ns, kngx_kc_name(pod), port, path,
                status, *body);
    }

    return status;
}


/* ---- backends ------------------------------------------------------------ */

static int
kngx_kc_backends(kngx_options_t *o)
{
    kngx_ctl_api_t  *api;
    json_t          *pods, *pod, *st = NULL, *svcs, *out = NULL, *v;
    const char      *key, *t = o->kubectl.target;
    char             kc[4096], *body = NULL;
    size_t           len, tlen = t ? strlen(t) : 0;
    int              rc = 1;

    pod = kngx_kc_one_pod(o, kc, sizeof(kc), &api, &pods);

    if (pod == NULL
        || kngx_kc_proxy(api, o, pod, o->kubectl.status_port, "/k8s/status",
                         &body, &len, 0) != 200)
    {
        if (pod) {
            fprintf(stderr, "kubectl kubengx: the module's table is served "
                    "on --status-port with --endpoints module\n");
        }
        goto done;
    }

    st = json_loadb(body, len, 0, NULL);
    svcs = json_object_get(st, "services");
    out = json_object();

    if (!json_is_object(svcs) || out == NULL) {
        fprintf(stderr, "kubectl kubengx: pod %s: no services in its "
                "k8s_status\n", kngx_kc_name(pod));
        goto done;
    }

    /* "ns/svc:port" keys; NS/SVC selects one Service's ports */
    json_object_foreach(svcs, key, v) {
        if (t == NULL || (strncmp(key, t, tlen) == 0 && key[tlen] == ':')) {
            json_object_set(out, key, v);
        }
    }

    if (t && json_object_size(out) == 0) {
        fprintf(stderr, "kubectl kubengx: Service %s is not in the endpoint "
                "table of pod %s (no Ingress routes to it)\n", t,
                kngx_kc_name(pod));
        goto done;
    }

    json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
    printf("\n");
    rc = 0;

done:

    free(body);
    json_decref(out);
    json_decref(st);
    json_decref(pods);
    kngx_ctl_api_destroy(api);

    return rc;
}


const kngx_command_t  kngx_kubectl_backends = {
    "backends", KNGX_CMD_KUBECTL,
    "each Service's endpoints as the module's table holds them",

"Usage: kubectl kubengx backends [NAMESPACE/SERVICE] [OPTIONS]\n"
"\n"
"The endpoint table of a controller pod's nginx module (k8s_status JSON,\n"
"fetched through the API server's pod proxy from the pod's --status-port):\n"
"per Service port (\"ns/svc:port\") its state, generation and endpoints\n"
"(address, ready, serving, terminating, pod, node, zone, fails, active\n"
"connections, requests).  With NAMESPACE/SERVICE, only that Service's\n"
"ports.  Needs --endpoints module in the controller.\n",

"Exit status: 0 shown, 1 not reachable or not in the table, 2 bad usage.\n",

    kngx_kc_backends
};


/* ---- conf ---------------------------------------------------------------- */

static int
kngx_kc_conf(kngx_options_t *o)
{
    kngx_ctl_api_t  *api;
    json_t          *pods, *pod;
    char             kc[4096], *body = NULL;
    size_t           len;
    int              rc = 1;

    pod = kngx_kc_one_pod(o, kc, sizeof(kc), &api, &pods);

    if (pod && kngx_kc_proxy(api, o, pod, o->kubectl.metrics_port, "/conf",
                             &body, &len, 0) == 200)
    {
        fwrite(body, 1, len, stdout);
        rc = 0;
    }

    free(body);
    json_decref(pods);
    kngx_ctl_api_destroy(api);

    return rc;
}


const kngx_command_t  kngx_kubectl_conf = {
    "conf", KNGX_CMD_KUBECTL, "the config a controller pod runs",

"Usage: kubectl kubengx conf [OPTIONS]\n"
"\n"
"The config files nginx runs in a controller pod (nginx.conf,\n"
"kubengx.conf, kubengx-stream.conf when there is one), each after a line\n"
"\"# ---- NAME\", from GET /conf on the pod's --metrics-port through the\n"
"API server's pod proxy.\n",

"Exit status: 0 shown, 1 not reachable, 2 bad usage.\n",

    kngx_kc_conf
};


/* ---- status -------------------------------------------------------------- */

#define KNGX_KC_TEST_ERRORS                                                  \
    "kubengx_reload_errors_total{reason=\"nginx-test\"}"


/* the value of the sample name (with its labels, if any: name{...}) in
 * the Prometheus text; sum: of every sample of that name (0: none) */
static double
kngx_kc_metric(const char *text, const char *name, int sum)
{
    const char  *p = text;
    size_t       n = strlen(name);
    double       v = 0;

    while ((p = strstr(p, name)) != NULL) {
        if ((p == text || p[-1] == '\n') && (p[n] == ' ' || p[n] == '{')) {
            const char  *sp = strchr(p, ' ');

            if (sp) {
                v += strtod(sp + 1, NULL);
                if (!sum) {
                    return v;
                }
            }
        }
        p += n;
    }

    return v;
}


static void
kngx_kc_pod_line(kngx_ctl_api_t *api, kngx_options_t *o, json_t *pod,
    const char *holder)
{
    char         when[32], *m = NULL;
    const char  *name = kngx_kc_name(pod), *phase;
    size_t       len, n = strlen(name);
    time_t       t;
    struct tm    tm;
    double       last;

    phase = json_string_value(json_object_get(json_object_get(pod, "status"),
                                              "phase"));

    printf("%-32s %-8s %-5s %-6s", name, phase ? phase : "-",
           kngx_kc_ready(pod) ? "yes" : "no",
           holder && strncmp(holder, name, n) == 0
           && (holder[n] == '\0' || holder[n] == '_') ? "yes" : "no");

    if (kngx_kc_proxy(api, o, pod, o->kubectl.metrics_port, "/metrics", &m,
                      &len, 1) != 200)
    {
        printf(" (no /metrics through the pod proxy)\n");
        free(m);
        return;
    }

    last = kngx_kc_metric(m, "kubengx_last_reload_success_timestamp_seconds",
                          0);
    t = (time_t) last;
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);

    printf(" %-20s %-7.0f %.0f (nginx -t %.0f)\n", last > 0 ? when : "never",
           kngx_kc_metric(m, "kubengx_reloads_total", 0),
           kngx_kc_metric(m, "kubengx_reload_errors_total", 1),
           kngx_kc_metric(m, KNGX_KC_TEST_ERRORS, 0));
    free(m);
}


static int
kngx_kc_status(kngx_options_t *o)
{
    kngx_ctl_api_t  *api;
    json_t          *pods, *pod, *lease, *spec;
    const char      *holder = NULL, *renew;
    char             kc[4096], path[1024];
    size_t           i;

    api = kngx_kc_open(o, kc, sizeof(kc));
    if (api == NULL) {
        return 1;
    }

    pods = kngx_kc_pods(api, o);
    if (pods == NULL) {
        kngx_ctl_api_destroy(api);
        return 1;
    }

    snprintf(path, sizeof(path),
             "/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s",
             o->kubectl.ns, o->kubectl.lease);
    lease = kngx_kc_get_json(api, path);
    spec = json_object_get(lease, "spec");
    holder = json_string_value(json_object_get(spec, "holderIdentity"));
    renew = json_string_value(json_object_get(spec, "renewTime"));

    printf("%-32s %-8s %-5s %-6s %-20s %-7s %s\n", "POD", "PHASE", "READY",
           "LEADER", "LAST RELOAD", "RELOADS", "RELOAD ERRORS");

    json_array_foreach(pods, i, pod) {
        kngx_kc_pod_line(api, o, pod, holder);
    }

    printf("lease %s/%s: %s%s%s%s\n", o->kubectl.ns, o->kubectl.lease,
           holder && holder[0] ? "held by " : "no holder",
           holder ? holder : "", renew ? ", renewed " : "",
           renew ? renew : "");

    json_decref(lease);
    json_decref(pods);
    kngx_ctl_api_destroy(api);

    return 0;
}


const kngx_command_t  kngx_kubectl_status = {
    "status", KNGX_CMD_KUBECTL,
    "the controller pods, the leader, last reload, reload errors",

"Usage: kubectl kubengx status [OPTIONS]\n"
"\n"
"One line per controller pod (-n, -l, --pod): its phase, readiness,\n"
"whether it holds the Lease (--election-id), and from its /metrics\n"
"(through the API server's pod proxy) the time of its last successful\n"
"reload, its reloads and its reload errors (those of nginx -t apart);\n"
"then the Lease's holder and renew time.\n",

"Exit status: 0 shown, 1 no pods or no API, 2 bad usage.\n",

    kngx_kc_status
};
