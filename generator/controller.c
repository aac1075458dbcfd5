
/*
 * kubengx controller: options, --help, start and stop.
 *
 * The options become kngx_ctl_conf_t; then the API, the watches, the
 * health server and nginx.conf are set up and controller_loop.c runs
 * until a stop signal or nginx's death.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kubengx.h"
#include "controller.h"
#include "escape.h"
#include "annotations/annotations.h"


#define KNGX_MODULE_SO  "ngx_http_k8s_module.so"



static void
kngx_ctl_usage(FILE *out)
{
    fprintf(out,
"Usage: kubengx controller [OPTIONS]\n"
"\n"
"Watch Ingresses, Services, IngressClasses and Secrets (TLS, and the\n"
"basic authentication users of auth-secret), and EndpointSlices with\n"
"--endpoints static, render them into nginx\n"
"config like `kubengx render`, and run nginx as a child.  Only when the\n"
"text or a certificate changed is the config tested with nginx -t,\n"
"written atomically and nginx reloaded.  When nginx -t rejects it, more\n"
"tests find the Ingresses to blame; the config without them is applied\n"
"and each gets an ExcludedFromConfig Event, until it or a Service or\n"
"Secret it names changes (SIGHUP: try them all again).  When none is to\n"
"blame, the running config stays (RejectedConfig Events).\n"
"\n"
"API:\n"
"      --kubeconfig FILE    kubeconfig to use (default: in-cluster service\n"
"                           account)\n"
"      --context NAME       kubeconfig context (default: current-context)\n"
"      --watch-namespace NS only objects in NS (default: all namespaces)\n"
"      --watch-idle-timeout DUR  cut a watch that sent no byte for this\n"
"                           long and resume it (default 3m; the API\n"
"                           server sends a BOOKMARK about once a minute)\n"
"\n"
"nginx:\n"
"      --nginx PATH         nginx binary (default nginx)\n"
"      --conf-dir DIR       nginx prefix; kubengx.conf, certs/, nginx.conf\n"
"                           and tmp/ go here (default /var/lib/kubengx)\n"
"      --nginx-conf FILE    use this main config instead of writing\n"
"                           DIR/nginx.conf; it must say \"daemon off;\" and\n"
"                           include DIR/kubengx.conf inside http { }\n"
"      --module PATH        the kubengx nginx module (--endpoints module;\n"
"                           default: next to kubengx, ../lib/nginx/modules/\n"
"                           or /usr/lib/nginx/modules/)\n"
"      --worker-processes N worker_processes in our nginx.conf (auto)\n"
"      --access-log PATH    access_log in our nginx.conf (default off)\n"
"      --allow-loopback-endpoints  let the module proxy to loopback\n"
"                           endpoint addresses (127/8, ::1; for tests and\n"
"                           single-host setups; refused by default)\n"
"\n"
"Rendering (as kubengx render):\n"
"      --class NAME         serve Ingresses of this class (default kubengx)\n"
"      --controller NAME    IngressClass spec.controller that is ours\n"
"                           (default kubengx.io/ingress-controller)\n"
"      --watch-without-class  serve Ingresses that name no class\n"
"      --endpoints MODE     module (default): the module keeps endpoints,\n"
"                           EndpointSlices are not watched and never\n"
"                           reload; cluster-ip: the Service's ClusterIP;\n"
"                           static: endpoints written into the config\n"
"                           (every endpoint change reloads; for tests)\n"
"      --upstreams FORM     per-service, dispatch or auto (default: dispatch\n"
"                           above %d Service ports; module only)\n"
"      --http-port PORT     (default 80)\n"
"      --https-port PORT    (default 443)\n"
"      --listen-address ADDR  listen on ADDR only\n"
"      --default-backend NS/SVC:PORT  for requests no rule matches\n"
"      --default-certificate NS/SECRET  for TLS hosts without a Secret\n"
"      --host-ownership MODE  namespace (default): the namespace of the\n"
"                           oldest Ingress routing a host owns it (see\n"
"                           kubengx render --help); merge: any namespace\n"
"                           may add paths to any host\n"
"      --resolver ADDR[,ADDR]  nameservers for ExternalName Services\n"
"                           (default: those of /etc/resolv.conf)\n"
"      --forwarded-for MODE replace (default): X-Forwarded-For is the\n"
"                           client address nginx sees; append: add it to\n"
"                           the client's header (behind a trusted proxy)\n"
"\n"
 KNGX_STREAM_HELP
KNGX_ANN_UNSUPPORTED_HELP
"\n"
"Syncing:\n"
"      --sync-holdoff DUR   wait this long after the last change before a\n"
"                           sync, so bursts give one reload (default 200ms)\n"
"      --sync-max-delay DUR but never longer than this after the first\n"
"                           change (default 2s)\n"
"\n"
"Health and metrics:\n"
"      --metrics-port PORT  /healthz, /readyz, /metrics (default 10254;\n"
"                           0: off)\n"
"      --metrics-address ADDR  listen on ADDR only (default: every address,\n"
"                           IPv6 and IPv4: probes come to the pod IP)\n"
"\n"
"Leader election and status (only the leader writes Ingress status):\n"
"      --no-leader-elect    act as the only replica (always leader)\n"
"      --election-id NAME   the Lease's name (default kubengx-leader)\n"
"      --election-namespace NS  the Lease's namespace (default\n"
"                           $POD_NAMESPACE, the kubeconfig's or service\n"
"                           account's namespace, else default)\n"
"      --election-identity ID  this replica's name (default\n"
"                           $POD_NAME or hostname, plus _PID)\n"
"      --lease-duration DUR (default 15s)\n"
"      --renew-deadline DUR (default 10s)\n"
"      --retry-period DUR   (default 2s)\n"
"      --publish-service NS/NAME  publish this Service's load balancer\n"
"                           addresses in status.loadBalancer.ingress\n"
"      --publish-address ADDR[,ADDR]  publish these IPs/hostnames instead\n"
"      --update-status-on-shutdown  clear the status of served Ingresses\n"
"                           when the leader stops\n"
"\n"
"Events:\n"
"      --event-interval DUR the same warning again at most this often\n"
"                           (default 10m)\n"
"      --event-burst N      at most N Events at once (default 25), then\n"
"      --event-refill DUR   one more per DUR (default 10s)\n"
"\n"
"  -h, --help               this help\n"
"\n"
"DUR: a number with ms, s, m or h (\"500ms\", \"15s\"); plain numbers are\n"
"seconds.  Exit status: 0 after a requested stop, 1 if nginx died or a\n"
"fatal error, 2 bad usage.\n", KNGX_DISPATCH_THRESHOLD);
}


enum {
    O_KUBECONFIG = 256, O_CONTEXT, O_WATCH_NS, O_NGINX, O_CONF_DIR,
    O_NGINX_CONF, O_MODULE, O_WORKERS, O_ACCESS_LOG, O_CLASS, O_CONTROLLER,
    O_WITHOUT_CLASS, O_ENDPOINTS, O_HTTP_PORT, O_HTTPS_PORT, O_LISTEN,
    O_DEFAULT_BACKEND, O_DEFAULT_CERT, O_HOLDOFF, O_MAX_DELAY,
    O_METRICS_PORT, O_METRICS_ADDR, O_NO_LEADER, O_ELECTION_ID,
    O_ELECTION_NS, O_IDENTITY, O_LEASE, O_RENEW, O_RETRY, O_PUBLISH_SVC,
    O_PUBLISH_ADDR, O_STATUS_SHUTDOWN, O_EV_INTERVAL, O_EV_BURST,
    O_EV_REFILL, O_UPSTREAMS, O_WATCH_IDLE, O_FORWARDED_FOR,
    O_ALLOW_LOOPBACK, O_HOST_OWNERSHIP, O_RESOLVER, O_UNSUPPORTED
};


static const struct option  kngx_ctl_options[] = {
    { "kubeconfig", required_argument, NULL, O_KUBECONFIG },
    { "context", required_argument, NULL, O_CONTEXT },
    { "watch-namespace", required_argument, NULL, O_WATCH_NS },
    { "watch-idle-timeout", required_argument, NULL, O_WATCH_IDLE },
    { "nginx", required_argument, NULL, O_NGINX },
    { "conf-dir", required_argument, NULL, O_CONF_DIR },
    { "nginx-conf", required_argument, NULL, O_NGINX_CONF },
    { "module", required_argument, NULL, O_MODULE },
    { "worker-processes", required_argument, NULL, O_WORKERS },
    { "access-log", required_argument, NULL, O_ACCESS_LOG },
    { "allow-loopback-endpoints", no_argument, NULL, O_ALLOW_LOOPBACK },
    { "host-ownership", required_argument, NULL, O_HOST_OWNERSHIP },
    { "resolver", required_argument, NULL, O_RESOLVER },
    { "unsupported-annotations", required_argument, NULL, O_UNSUPPORTED },
    { "class", required_argument, NULL, O_CLASS },
    { "controller", required_argument, NULL, O_CONTROLLER },
    { "watch-without-class", no_argument, NULL, O_WITHOUT_CLASS },
    { "endpoints", required_argument, NULL, O_ENDPOINTS },
    { "upstreams", required_argument, NULL, O_UPSTREAMS },
    { "http-port", required_argument, NULL, O_HTTP_PORT },
    { "https-port", required_argument, NULL, O_HTTPS_PORT },
    { "listen-address", required_argument, NULL, O_LISTEN },
    { "default-backend", required_argument, NULL, O_DEFAULT_BACKEND },
    { "default-certificate", required_argument, NULL, O_DEFAULT_CERT },
    { "forwarded-for", required_argument, NULL, O_FORWARDED_FOR },
    { "sync-holdoff", required_argument, NULL, O_HOLDOFF },
    { "sync-max-delay", required_argument, NULL, O_MAX_DELAY },
    { "metrics-port", required_argument, NULL, O_METRICS_PORT },
    { "metrics-address", required_argument, NULL, O_METRICS_ADDR },
    { "no-leader-elect", no_argument, NULL, O_NO_LEADER },
    { "election-id", required_argument, NULL, O_ELECTION_ID },
    { "election-namespace", required_argument, NULL, O_ELECTION_NS },
    { "election-identity", required_argument, NULL, O_IDENTITY },
    { "lease-duration", required_argument, NULL, O_LEASE },
    { "renew-deadline", required_argument, NULL, O_RENEW },
    { "retry-period", required_argument, NULL, O_RETRY },
    { "publish-service", required_argument, NULL, O_PUBLISH_SVC },
    { "publish-address", required_argument, NULL, O_PUBLISH_ADDR },
    { "update-status-on-shutdown", no_argument, NULL, O_STATUS_SHUTDOWN },
    { "event-interval", required_argument, NULL, O_EV_INTERVAL },
    { "event-burst", required_argument, NULL, O_EV_BURST },
    { "event-refill", required_argument, NULL, O_EV_REFILL },
    KNGX_STREAM_LONG_OPTIONS
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 }
};


static int
kngx_ctl_duration(const char *opt, const char *s, uint64_t *ms)
{
    char    *end;
    double   v;

    v = strtod(s, &end);
    if (end == s || v < 0) {
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

    *ms = (uint64_t) v;
    return 0;

bad:

    fprintf(stderr, "kubengx controller: %s \"%s\" is not a duration "
            "(e.g. 500ms, 15s)\n", opt, s);
    return -1;
}


static int
kngx_ctl_int(const char *opt, const char *s, int lo, int hi, int *out)
{
    char  *end;
    long   n;

    n = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || n < lo || n > hi) {
        fprintf(stderr, "kubengx controller: %s \"%s\" must be a number "
                "from %d to %d\n", opt, s, lo, hi);
        return -1;
    }

    *out = (int) n;
    return 0;
}


static const char *
kngx_ctl_find_module(char *buf, size_t size)
{
    char     exe[PATH_MAX];
    ssize_t  n;
    char    *slash;

    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(buf, size, "%s/" KNGX_MODULE_SO, exe);
            if (access(buf, R_OK) == 0) {
                return buf;
            }
            snprintf(buf, size, "%s/../lib/nginx/modules/" KNGX_MODULE_SO,
                     exe);
            if (access(buf, R_OK) == 0) {
                return buf;
            }
        }
    }

    snprintf(buf, size, "/usr/lib/nginx/modules/" KNGX_MODULE_SO);
    return access(buf, R_OK) == 0 ? buf : NULL;
}



int
kngx_controller_main(int argc, char **argv)
{
    kngx_ctl_t   *ctl;
    kngx_ctl_conf_t *c;
    char          modbuf[PATH_MAX + 64], host[256], idbuf[512];
    char          conf_dir[PATH_MAX], resolver[512];
    static char   certs_dir[PATH_MAX + 16];
    const char   *env, *why;
    int           opt, rc = KNGX_EXIT_USAGE, n, ignore;

    ctl = calloc(1, sizeof(kngx_ctl_t));
    if (ctl == NULL) {
        fprintf(stderr, "kubengx controller: out of memory\n");
        return KNGX_EXIT_USAGE;
    }

    c = &ctl->conf;
    c->nginx = "nginx";
    c->conf_dir = "/var/lib/kubengx";
    c->worker_processes = "auto";
    c->access_log = "off";
    c->po.class_name = "kubengx";
    c->po.controller = "kubengx.io/ingress-controller";
    c->po.endpoints = KNGX_ENDPOINTS_MODULE;
    c->ro.version = KUBENGX_VERSION;
    c->ro.http_port = 80;
    c->ro.https_port = 443;
    c->holdoff_ms = 200;
    c->max_delay_ms = 2000;
    c->metrics_port = 10254;
    c->leader_elect = 1;
    c->election_id = "kubengx-leader";
    c->lease_ms = 15000;
    c->renew_ms = 10000;
    c->retry_ms = 2000;
    c->event_interval_ms = 600000;
    c->event_burst = 25;
    c->event_refill_ms = 10000;

    optind = 1;
    opterr = 0;

    while ((opt = getopt_long(argc, argv, ":h", kngx_ctl_options, NULL))
           != -1)
    {
        switch (opt) {
        case 'h':
            kngx_ctl_usage(stdout);
            rc = KNGX_EXIT_OK;
            goto done;
        case O_KUBECONFIG: c->kubeconfig = optarg; break;
        case O_CONTEXT: c->context = optarg; break;
        case O_WATCH_NS: c->watch_namespace = optarg; break;
        case O_WATCH_IDLE:
            if (kngx_ctl_duration("--watch-idle-timeout", optarg,
                                  &c->watch_idle_ms) != 0)
            {
                goto done;
            }
            if (c->watch_idle_ms < 1000) {
                fprintf(stderr, "kubengx controller: --watch-idle-timeout "
                        "must be 1s or more\n");
                goto done;
            }
            break;
        case O_NGINX: c->nginx = optarg; break;
        case O_CONF_DIR: c->conf_dir = optarg; break;
        case O_NGINX_CONF: c->nginx_conf = optarg; break;
        case O_MODULE: c->module = optarg; break;
        case O_WORKERS: c->worker_processes = optarg; break;
        case O_ALLOW_LOOPBACK: c->allow_loopback = 1; break;
        case O_ACCESS_LOG: c->access_log = optarg; break;
        case O_CLASS: c->po.class_name = optarg; break;
        case O_CONTROLLER: c->po.controller = optarg; break;
        case O_WITHOUT_CLASS: c->po.watch_without_class = 1; break;
        case O_ENDPOINTS:
            if (strcmp(optarg, "module") == 0) {
                c->po.endpoints = KNGX_ENDPOINTS_MODULE;
            } else if (strcmp(optarg, "cluster-ip") == 0) {
                c->po.endpoints = KNGX_ENDPOINTS_CLUSTER_IP;
            } else if (strcmp(optarg, "static") == 0) {
                c->po.endpoints = KNGX_ENDPOINTS_STATIC;
            } else {
                fprintf(stderr, "kubengx controller: --endpoints \"%s\" is "
                        "not one of module, cluster-ip, static\n", optarg);
                goto done;
            }
            break;
        case O_UPSTREAMS:
            if (kngx_upstreams_mode_parse(optarg, &c->po.upstreams) != 0) {
                fprintf(stderr, "kubengx controller: --upstreams \"%s\" is "
                        "not one of per-service, dispatch, auto\n", optarg);
                goto done;
            }
            break;
        case O_HTTP_PORT:
            if (kngx_ctl_int("--http-port", optarg, 1, 65535,
                             &c->ro.http_port) != 0)
            {
                goto done;
            }
            break;
        case O_HTTPS_PORT:
            if (kngx_ctl_int("--https-port", optarg, 1, 65535,
                             &c->ro.https_port) != 0)
            {
                goto done;
            }
            break;
        case O_LISTEN: c->ro.listen_address = optarg; break;
        case O_FORWARDED_FOR:
            c->ro.forwarded_for_append = kngx_forwarded_for_parse(optarg);
            if (c->ro.forwarded_for_append < 0) {
                fprintf(stderr, "kubengx controller: --forwarded-for \"%s\" "
                        "is not one of replace, append\n", optarg);
                goto done;
            }
            break;
        case O_DEFAULT_BACKEND: c->po.default_backend = optarg; break;
        case O_DEFAULT_CERT: c->po.default_certificate = optarg; break;
        case O_HOST_OWNERSHIP:
            if (kngx_host_ownership_parse(optarg, &c->po.host_ownership) != 0)
            {
                fprintf(stderr, "kubengx controller: --host-ownership \"%s\" "
                        "is not one of namespace, merge\n", optarg);
                goto done;
            }
            break;
        case O_RESOLVER:
            if (kngx_resolver_parse(optarg, resolver, sizeof(resolver),
                                    &why) != 0)
            {
                fprintf(stderr, "kubengx controller: --resolver \"%s\": %s\n",
                        optarg, why);
                goto done;
            }
            c->po.resolver = optarg;
            break;
        case O_UNSUPPORTED:
            if (kngx_ann_unsupported_parse(optarg, &ignore) != 0) {
                fprintf(stderr, "kubengx controller: --unsupported-"
                        "annotations \"%s\" is not one of refuse, ignore\n",
                        optarg);
                goto done;
            }
            c->po.unsupported_ignore = ignore;
            break;
        case O_HOLDOFF:
            if (kngx_ctl_duration("--sync-holdoff", optarg, &c->holdoff_ms)
                != 0)
            {
                goto done;
            }
            break;
        case O_MAX_DELAY:
            if (kngx_ctl_duration("--sync-max-delay", optarg,
                                  &c->max_delay_ms) != 0)
            {
                goto done;
            }
            break;
        case O_METRICS_PORT:
            if (kngx_ctl_int("--metrics-port", optarg, 0, 65535,
                             &c->metrics_port) != 0)
            {
                goto done;
            }
            break;
        case O_METRICS_ADDR: c->metrics_address = optarg; break;
        case O_NO_LEADER: c->leader_elect = 0; break;
        case O_ELECTION_ID: c->election_id = optarg; break;
        case O_ELECTION_NS: c->election_ns = optarg; break;
        case O_IDENTITY: c->identity = optarg; break;
        case O_LEASE:
            if (kngx_ctl_duration("--lease-duration", optarg, &c->lease_ms)
                != 0)
            {
                goto done;
            }
            break;
        case O_RENEW:
            if (kngx_ctl_duration("--renew-deadline", optarg, &c->renew_ms)
                != 0)
            {
                goto done;
            }
            break;
        case O_RETRY:
            if (kngx_ctl_duration("--retry-period", optarg, &c->retry_ms)
                != 0)
            {
                goto done;
            }
            break;
        case O_PUBLISH_SVC: c->publish_service = optarg; break;
        case O_PUBLISH_ADDR: c->publish_address = optarg; break;
        case O_STATUS_SHUTDOWN: c->status_on_shutdown = 1; break;
        case O_EV_INTERVAL:
            if (kngx_ctl_duration("--event-interval", optarg,
                                  &c->event_interval_ms) != 0)
            {
                goto done;
            }
            break;
        case O_EV_BURST:
            if (kngx_ctl_int("--event-burst", optarg, 1, 10000, &n) != 0) {
                goto done;
            }
            c->event_burst = (unsigned) n;
            break;
        case O_EV_REFILL:
            if (kngx_ctl_duration("--event-refill", optarg,
                                  &c->event_refill_ms) != 0)
            {
                goto done;
            }
            break;
        case ':':
            fprintf(stderr, "kubengx controller: %s needs a value; see "
                    "kubengx controller --help\n", argv[optind - 1]);
            goto done;
        default:
            n = kngx_stream_getopt(opt, optarg, &c->stream, "controller");
            if (n > 0) {
                break;
            }
            if (n == 0) {
                fprintf(stderr, "kubengx controller: unknown option \"%s\"; "
                        "see kubengx controller --help\n", argv[optind - 1]);
            }
            goto done;
        }
    }

    if (optind < argc) {
        fprintf(stderr, "kubengx controller: unexpected argument \"%s\"\n",
                argv[optind]);
        goto done;
    }

    /* checks */

    if (c->leader_elect
        && !(c->lease_ms > c->renew_ms
             && (double) c->renew_ms > 1.2 * (double) c->retry_ms
             && c->lease_ms >= 1000))
    {
        fprintf(stderr, "kubengx controller: need --lease-duration > "
                "--renew-deadline > 1.2 x --retry-period, lease >= 1s\n");
        goto done;
    }

    if (c->publish_service
        && (strchr(c->publish_service, '/') == NULL
            || c->publish_service[0] == '/'
            || strchr(c->publish_service, '/')[1] == '\0'))
    {
        fprintf(stderr, "kubengx controller: --publish-service needs "
                "NAMESPACE/NAME\n");
        goto done;
    }

    if (c->max_delay_ms < c->holdoff_ms) {
        c->max_delay_ms = c->holdoff_ms;
    }

    if (mkdir(c->conf_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "kubengx controller: --conf-dir %s: %s\n",
                c->conf_dir, strerror(errno));
        goto done;
    }

    if (realpath(c->conf_dir, conf_dir) == NULL) {
        fprintf(stderr, "kubengx controller: --conf-dir %s: %s\n",
                c->conf_dir, strerror(errno));
        goto done;
    }
    c->conf_dir = conf_dir;

    if (c->po.endpoints == KNGX_ENDPOINTS_MODULE && c->module == NULL) {
        c->module = kngx_ctl_find_module(modbuf, sizeof(modbuf));
        if (c->module == NULL) {
            fprintf(stderr, "kubengx controller: --endpoints module needs "
                    "the kubengx nginx module; give --module PATH\n");
            goto done;
        }
    }

    if (c->identity == NULL) {
        env = getenv("POD_NAME");
        if (env == NULL || env[0] == '\0') {
            if (gethostname(host, sizeof(host)) != 0) {
                snprintf(host, sizeof(host), "kubengx");
            }
            host[sizeof(host) - 1] = '\0';
            env = host;
        }
        snprintf(idbuf, sizeof(idbuf), "%s_%ld", env, (long) getpid());
        c->identity = idbuf;
    }

    srand((unsigned) (kngx_ctl_now() ^ (uint64_t) getpid()));

    snprintf(certs_dir, sizeof(certs_dir), "%s/certs", c->conf_dir);
    c->ro.certs_dir = certs_dir;

    if (kngx_stream_ctl_conf(ctl) != 0) {
        goto done;
    }

    /* start */

    rc = 1;

    curl_global_init(CURL_GLOBAL_DEFAULT);

    if (kngx_ctl_signals(ctl) != 0 || kngx_ctl_api_init(ctl) != 0) {
        goto cleanup;
    }

    if (c->election_ns == NULL) {
        env = getenv("POD_NAMESPACE");
        c->election_ns = env && env[0] ? env
                         : ctl->auth.ns ? ctl->auth.ns : "default";
    }

    if (kngx_ctl_watch_init(ctl) != 0
        || kngx_ctl_http_init(ctl) != 0
        || kngx_ctl_probe_init(ctl) != 0
        || kngx_ctl_nginx_write_main(ctl) != 0)
    {
        goto cleanup;
    }

    kngx_ctl_log("started: identity %s, conf dir %s, endpoints %s%s",
                 c->identity, c->conf_dir,
                 c->po.endpoints == KNGX_ENDPOINTS_MODULE ? "module"
                 : c->po.endpoints == KNGX_ENDPOINTS_STATIC ? "static"
                 : "cluster-ip",
                 c->leader_elect ? ", leader election on" : "");

    rc = kngx_ctl_loop(ctl);

    kngx_ctl_test_abort(ctl);

    if (ctl->nginx_pid > 0) {
        kngx_ctl_nginx_quit(ctl, 1);
        waitpid(ctl->nginx_pid, NULL, 0);
    }

cleanup:

    kngx_ctl_http_close(ctl);
    kngx_ctl_probe_free(ctl);
    kngx_ctl_exclude_free(ctl);
    kngx_ctl_watch_free(ctl);
    kngx_ctl_api_free(ctl);
    curl_global_cleanup();

    json_decref(ctl->served);
    json_decref(ctl->refused);
    free(ctl->observed);
    free(ctl->holder);

    while (ctl->nseen) {
        free(ctl->seen[--ctl->nseen].key);
    }
    free(ctl->seen);

done:

    free(ctl);

    return rc;
}
