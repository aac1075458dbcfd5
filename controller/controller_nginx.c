
/*
 * kubengx controller: nginx as a child process.
 *
 * nginx runs in the foreground (daemon off) with its prefix in
 * --conf-dir.  The main config is ours (CONF_DIR/nginx.conf, including
 * CONF_DIR/kubengx.conf) unless --nginx-conf names the user's, which must
 * say "daemon off;" and include CONF_DIR/kubengx.conf.  A reload is
 * SIGHUP; a graceful stop is SIGQUIT, a fast one SIGTERM.  The controller
 * may be PID 1, so every child is reaped (controller_loop.c); nginx
 * dying is fatal.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "controller_log.h"
#include "controller_nginx.h"
#include "escape.h"
#include "render.h"


struct kngx_ctl_nginx_s {
    kngx_ctl_nginx_conf_t    conf;
    const kube_auth_t       *auth;
    kngx_settings_main_t     main;      /* the flags', then the settings
                                           ConfigMap's */
    pid_t                    pid;       /* 0: not running */
    unsigned                 exited:1;
    char                     main_conf[4096];
    char                     wp[16];    /* main's strings */
    char                     wst[32];
    char                     ell[16];
};


/*
 * The module's watcher runs in a worker (an unprivileged user when nginx
 * starts as root): name the API plainly when no credentials are needed,
 * else the service account files or the kubeconfig.
 */

static void
kngx_ctl_nginx_k8s_api(const kngx_ctl_nginx_conf_t *c, const kube_auth_t *a,
    char *api, size_t size)
{
    if (a->in_cluster) {
        snprintf(api, size, "    k8s_api %s%s%s%s%s;\n", a->server,
                 a->token_file ? " token_file=" : "",
                 a->token_file ? a->token_file : "",
                 a->ca_file ? " ca_file=" : "",
                 a->ca_file ? a->ca_file : "");

    } else if (c->kubeconfig && (a->token || a->token_file || a->ca_file
               || a->ca_pem || a->client_cert_file || a->client_cert_pem
               || a->username))
    {
        snprintf(api, size, "    k8s_api kubeconfig=%s;\n", c->kubeconfig);

    } else {
        snprintf(api, size, "    k8s_api %s;\n", a->server);
    }
}


/*
 * The main config's load_module lines and stream { include } of the
 * TCP/UDP services and passthrough (stream.h), and an empty stream file
 * until the first sync.
 */
static int
kngx_ctl_nginx_stream(const kngx_ctl_nginx_conf_t *c, char *loads,
    size_t lsize, char *block, size_t bsize)
{
    char         path[4200], err[4400];
    struct stat  st;

    loads[0] = '\0';
    block[0] = '\0';

    if (c->stream == NULL || !kngx_stream_enabled(c->stream)) {
        return 0;
    }

    snprintf(path, sizeof(path), "%s/" KNGX_STREAM_CONF, c->conf_dir);

    if (kngx_stream_main_lines(c->stream, c->module, path, loads, lsize,
                               block, bsize) != 0)
    {
        kngx_ctl_log("error: nginx.conf: paths too long");
        return -1;
    }

    if (stat(path, &st) != 0
        && kngx_output_write_file(c->conf_dir, KNGX_STREAM_CONF,
                                  "# no sync yet\n", 14, err, sizeof(err))
           != 0)
    {
        kngx_ctl_log("error: %s", err);
        return -1;
    }

    return 0;
}


/* hop sockets left by an nginx that was killed: it could not bind them */
static void
kngx_ctl_nginx_unlink_hops(const kngx_ctl_nginx_conf_t *c)
{
    char  path[4200];

    if (c->stream == NULL || !c->stream->passthrough) {
        return;
    }

    snprintf(path, sizeof(path), "%s/" KNGX_HOP_HTTPS, c->stream->hop_dir);
    (void) unlink(path);
    snprintf(path, sizeof(path), "%s/" KNGX_HOP_PASSTHROUGH,
             c->stream->hop_dir);
    (void) unlink(path);
}


/* a label value the module takes (a DNS-1123 subdomain), else NULL */
static const char *
kngx_ctl_nginx_label(const char *v)
{
    const char  *why;

    return v && v[0] && kngx_name_check(KNGX_NAME_SUBDOMAIN, v, &why) == 0
           ? v : NULL;
}


/*
 * With the module: the controller_* labels of the per-request metrics
 * (the class; the pod's namespace and name from the downward API), and
 * the loopback server the controller's /metrics reads them from
 * (controller_scrape.c)
 */
static void
kngx_ctl_nginx_metrics(const kngx_ctl_nginx_conf_t *c, char *out,
    size_t size)
{
    const char  *cls, *ns, *pod;

    out[0] = '\0';

    if (c->module == NULL || c->metrics_port == 0) {
        return;
    }

    cls = kngx_ctl_nginx_label(c->metrics_class);
    ns = kngx_ctl_nginx_label(getenv("POD_NAMESPACE"));
    pod = kngx_ctl_nginx_label(getenv("POD_NAME"));

    snprintf(out, size,
        "    k8s_metrics_controller%s%s%s%s%s%s;\n"
        "    server {\n"
        "        listen 127.0.0.1:%d;\n"
        "        access_log off;\n"
        "        allow all;\n"
        "        location = /metrics { k8s_metrics; }\n"
        "        location / { return 404; }\n"
        "    }\n",
        cls ? " class=" : "", cls ? cls : "", ns ? " namespace=" : "",
        ns ? ns : "", pod ? " pod=" : "", pod ? pod : "", c->metrics_port);
}


/*
 * The module's table for `kubectl kubengx backends` (through the API
 * server's pod proxy): one GET-only location on a port of its own.
 */

static void
kngx_ctl_nginx_status(const kngx_ctl_nginx_conf_t *c, char *out,
    size_t size)
{
    if (c->status_port == 0) {
        return;
    }

    snprintf(out, size,
        "\n"
        "    server {\n"
        "        listen %s%s%d;\n"
        "        access_log off;\n"
        "        location = /k8s/status {\n"
        "            limit_except GET { deny all; }\n"
        "            k8s_status;\n"
        "        }\n"
        "        location / { return 404; }\n"
        "    }\n",
        c->status_address ? c->status_address : "",
        c->status_address ? ":" : "", c->status_port);
}


static int
kngx_ctl_nginx_write_main(kngx_ctl_nginx_t *ng, const kube_auth_t *auth)
{
    const kngx_ctl_nginx_conf_t  *c = &ng->conf;
    const kngx_settings_main_t   *m = &ng->main;
    char                          text[16384], path[4200], api[4200];
    char                          err[4400], sloads[8600], sblock[4300];
    char                          shutdown[64], alog[4200], mx[1024];
    char                          status[512];
    struct stat                   st;
    int                           n, module;

    snprintf(path, sizeof(path), "%s/tmp", c->conf_dir);
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        kngx_ctl_log("error: %s: %s", path, strerror(errno));
        return -1;
    }

    /* an empty http-context file until the first sync */
    snprintf(path, sizeof(path), "%s/kubengx.conf", c->conf_dir);
    if (stat(path, &st) != 0
        && kngx_output_write_file(c->conf_dir, "kubengx.conf",
                                  "# no sync yet\n", 14, err, sizeof(err))
           != 0)
    {
        kngx_ctl_log("error: %s", err);
        return -1;
    }

    if (c->nginx_conf) {
        snprintf(ng->main_conf, sizeof(ng->main_conf), "%s", c->nginx_conf);
        return 0;
    }

    module = c->module != NULL;

    /* TCP/UDP services and passthrough: stream modules and file */
    if (kngx_ctl_nginx_stream(c, sloads, sizeof(sloads), sblock,
                              sizeof(sblock)) != 0)
    {
        return -1;
    }

    api[0] = '\0';
    status[0] = '\0';
    if (module) {
        kngx_ctl_nginx_k8s_api(c, auth, api, sizeof(api));
        kngx_ctl_nginx_status(c, status, sizeof(status));
    }

    /* the main config's settings (generator/settings/settings.h) */

    shutdown[0] = '\0';
    if (m->worker_shutdown_timeout) {
        snprintf(shutdown, sizeof(shutdown), "worker_shutdown_timeout %s;\n",
                 m->worker_shutdown_timeout);
    }

    kngx_ctl_nginx_metrics(c, mx, sizeof(mx));

    /* the rendered config has the access log; --access-log adds one */
    alog[0] = '\0';
    if (c->access_log) {
        snprintf(alog, sizeof(alog), "    access_log %s;\n", c->access_log);
    }

    n = snprintf(text, sizeof(text),
        "# written by kubengx controller; edits are overwritten\n"
        "daemon off;\n"
        "master_process on;\n"
        "worker_processes %s;\n"
        "pid %s/nginx.pid;\n"
        "error_log stderr %s;\n"
        "%s"
        "%s%s%s%s"
        "\n"
        "events {\n"
        "    worker_connections %d;\n"
        "}\n"
        "\n"
        "http {\n"
        "%s"
        "    client_body_temp_path %s/tmp/client_body;\n"
        "    proxy_temp_path %s/tmp/proxy;\n"
        "    fastcgi_temp_path %s/tmp/fastcgi;\n"
        "    uwsgi_temp_path %s/tmp/uwsgi;\n"
        "    scgi_temp_path %s/tmp/scgi;\n"
        "%s%s%s%s"
        "    include %s/kubengx.conf;\n"
        "%s"
        "}\n"
        "%s",
        m->worker_processes, c->conf_dir, m->error_log_level, shutdown,
        module ? "load_module " : "", module ? c->module : "",
        module ? ";\n" : "", sloads, m->worker_connections,
        alog, c->conf_dir, c->conf_dir, c->conf_dir, c->conf_dir,
        c->conf_dir, api, module ? "    k8s_zone kubengx 32m;\n" : "",
        module && c->allow_loopback
        ? "    k8s_allow_loopback_endpoints on;\n" : "", mx,
        c->conf_dir, status, sblock);

    if (n < 0 || (size_t) n >= sizeof(text)) {
        kngx_ctl_log("error: nginx.conf: paths too long");
        return -1;
    }

    snprintf(ng->main_conf, sizeof(ng->main_conf), "%s/nginx.conf",
             c->conf_dir);

    if (kngx_output_write_file(c->conf_dir, "nginx.conf", text, (size_t) n,
                               err, sizeof(err)) != 0)
    {
        kngx_ctl_log("error: %s", err);
        return -1;
    }

    return 0;
}


kngx_ctl_nginx_t *
kngx_ctl_nginx_create(const kngx_ctl_nginx_conf_t *conf,
    const kube_auth_t *auth)
{
    kngx_ctl_nginx_t  *ng;

    ng = calloc(1, sizeof(kngx_ctl_nginx_t));
    if (ng == NULL) {
        kngx_ctl_log("error: out of memory");
        return NULL;
    }

    ng->conf = *conf;
    ng->auth = auth;
    ng->main.worker_processes = conf->worker_processes;
    ng->main.worker_connections = 4096;
    ng->main.error_log_level = "notice";

    if (kngx_ctl_nginx_write_main(ng, auth) != 0) {
        free(ng);
        return NULL;
    }

    return ng;
}


static int
kngx_ctl_nginx_str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}


int
kngx_ctl_nginx_configure(kngx_ctl_nginx_t *ng, const kngx_settings_t *s)
{
    kngx_settings_main_t  m;

    m.worker_processes = ng->conf.worker_processes;
    m.worker_connections = 4096;
    m.worker_shutdown_timeout = NULL;
    m.error_log_level = "notice";

    kngx_settings_main(s, &m);

    if (kngx_ctl_nginx_str_eq(m.worker_processes, ng->main.worker_processes)
        && m.worker_connections == ng->main.worker_connections
        && kngx_ctl_nginx_str_eq(m.worker_shutdown_timeout,
                                 ng->main.worker_shutdown_timeout)
        && kngx_ctl_nginx_str_eq(m.error_log_level, ng->main.error_log_level))
    {
        return 0;
    }

    /* the strings live in the settings: copies for the next comparison */

    snprintf(ng->wp, sizeof(ng->wp), "%s", m.worker_processes);
    snprintf(ng->wst, sizeof(ng->wst), "%s",
             m.worker_shutdown_timeout ? m.worker_shutdown_timeout : "");
    snprintf(ng->ell, sizeof(ng->ell), "%s", m.error_log_level);
    ng->main.worker_processes = ng->wp;
    ng->main.worker_connections = m.worker_connections;
    ng->main.worker_shutdown_timeout = m.worker_shutdown_timeout ? ng->wst
                                                                 : NULL;
    ng->main.error_log_level = ng->ell;

    if (ng->conf.nginx_conf) {
        kngx_ctl_log("warning: --nginx-conf: the settings ConfigMap's "
                     "worker-processes, max-worker-connections, "
                     "worker-shutdown-timeout and error-log-level are not "
                     "applied to %s", ng->conf.nginx_conf);
        return 0;
    }

    if (kngx_ctl_nginx_write_main(ng, ng->auth) != 0) {
        return -1;
    }

    kngx_ctl_log("nginx.conf written again: worker_processes %s, "
                 "worker_connections %d, worker_shutdown_timeout %s, "
                 "error_log level %s", ng->wp, m.worker_connections,
                 ng->wst[0] ? ng->wst : "none", ng->ell);

    return 1;
}


void
kngx_ctl_nginx_destroy(kngx_ctl_nginx_t *ng)
{
    free(ng);
}


int
kngx_ctl_nginx_running(kngx_ctl_nginx_t *ng)
{
    return ng->pid > 0;
}


int
kngx_ctl_nginx_exited(kngx_ctl_nginx_t *ng)
{
    return ng->exited;
}


void
kngx_ctl_nginx_stop(kngx_ctl_nginx_t *ng)
{
    if (ng->pid > 0) {
        kngx_ctl_nginx_quit(ng, 1);
        waitpid(ng->pid, NULL, 0);
        ng->pid = 0;
    }
}


/*
 * nginx's stdout is a pipe of ours, copied to ours by a small process of
 * its own (it may wait on a slow stdout; the controller's loop never
 * does).  The access log opens /dev/stdout, which needs the right to
 * open what is behind it: a container runtime's pipe or a shell's may
 * belong to another user than nginx's (uid 101), ours does not.  The
 * copier keeps only the pipe, stdout and stderr, ignores the stop
 * signals (it ends when nginx closes the pipe) and is reaped like any
 * child (controller_loop.c).  -1 in *out when there is none: nginx gets
 * our stdout.
 */
static void
kngx_ctl_nginx_relay(int *out)
{
    char     buf[65536];
    ssize_t  n, w, off;
    int      p[2], fd;
    pid_t    pid;

    *out = -1;

    if (pipe2(p, O_CLOEXEC) != 0) {
        kngx_ctl_log("warning: access log pipe: %s", strerror(errno));
        return;
    }

    pid = fork();

    if (pid < 0) {
        kngx_ctl_log("warning: access log copier: fork: %s",
                     strerror(errno));
        close(p[0]);
        close(p[1]);
        return;
    }

    if (pid > 0) {
        close(p[0]);
        *out = p[1];
        return;
    }

    /* the copier */

    signal(SIGTERM, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_DFL);

    for (fd = 3; fd < 65536; fd++) {
        if (fd != p[0]) {
            (void) close(fd);
        }
    }

    for ( ;; ) {
        n = read(p[0], buf, sizeof(buf));

        if (n < 0 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            _exit(0);
        }

        for (off = 0; off < n; off += w) {
            w = write(STDOUT_FILENO, buf + off, (size_t) (n - off));
            if (w < 0 && errno == EINTR) {
                w = 0;
            } else if (w <= 0) {
                _exit(1);
            }
        }
    }
}


int
kngx_ctl_nginx_start(kngx_ctl_nginx_t *ng)
{
    char      prefix[4200];
    pid_t     pid;
    sigset_t  set;
    int       out;

    snprintf(prefix, sizeof(prefix), "%s/", ng->conf.conf_dir);

    kngx_ctl_nginx_unlink_hops(&ng->conf);

    fflush(NULL);

    kngx_ctl_nginx_relay(&out);

    pid = fork();
    if (pid < 0) {
        kngx_ctl_log("error: fork: %s", strerror(errno));
        if (out >= 0) {
            close(out);
        }
        return -1;
    }

    if (pid == 0) {
        if (out >= 0) {
            (void) dup2(out, STDOUT_FILENO);
        }

        /* the child gets default signal handling */
        signal(SIGTERM, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGCHLD, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        sigemptyset(&set);
        sigprocmask(SIG_SETMASK, &set, NULL);

        /* a group of its own: its workers can be found if it dies */
        setpgid(0, 0);

        execlp(ng->conf.nginx, ng->conf.nginx, "-p", prefix, "-c",
               ng->main_conf, "-e", "stderr", (char *) NULL);
        fprintf(stderr, "kubengx controller: cannot run %s: %s\n",
                ng->conf.nginx, strerror(errno));
        _exit(127);
    }

    (void) setpgid(pid, pid);     /* either side may win the race */

    if (out >= 0) {
        close(out);
    }

    ng->pid = pid;
    kngx_ctl_log("nginx started (pid %ld): %s -p %s -c %s", (long) pid,
                 ng->conf.nginx, prefix, ng->main_conf);

    return 0;
}


int
kngx_ctl_nginx_reload(kngx_ctl_nginx_t *ng)
{
    if (ng->pid <= 0) {
        return -1;
    }

    if (kill(ng->pid, SIGHUP) != 0) {
        kngx_ctl_log("error: reload: kill(%ld, SIGHUP): %s",
                     (long) ng->pid, strerror(errno));
        return -1;
    }

    kngx_ctl_log("nginx reload (SIGHUP to %ld)", (long) ng->pid);

    return 0;
}


void
kngx_ctl_nginx_quit(kngx_ctl_nginx_t *ng, int fast)
{
    if (ng->pid <= 0) {
        return;
    }

    kngx_ctl_log("nginx %s stop (%s to %ld)", fast ? "fast" : "graceful",
                 fast ? "SIGTERM" : "SIGQUIT", (long) ng->pid);

    kill(ng->pid, fast ? SIGTERM : SIGQUIT);
}


int
kngx_ctl_nginx_reaped(kngx_ctl_nginx_t *ng, pid_t pid, int status)
{
    if (pid != ng->pid) {
        return 0;
    }

    ng->pid = 0;
    ng->exited = 1;

    if (WIFEXITED(status)) {
        kngx_ctl_log("nginx exited with status %d", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        kngx_ctl_log("nginx killed by signal %d", WTERMSIG(status));
    }

    /*
     * A master that exits normally has waited for its workers; one that
     * died leaves them running, orphaned, still holding the listening
     * sockets and serving the old config; they are in the master's
     * process group (kngx_ctl_nginx_start).
     */

    if (kill(-pid, SIGKILL) == 0) {
        kngx_ctl_log("killed the worker processes nginx left behind "
                     "(process group %ld)", (long) pid);
    }

    return 1;
}
