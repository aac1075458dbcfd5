
/*
 * kubengx controller: nginx as a child process.
 *
 * nginx runs in the foreground (daemon off) with its prefix in
 * --conf-dir.  The main config is ours (CONF_DIR/nginx.conf, including
 * CONF_DIR/kubengx.conf) unless --nginx-conf names the user's, which must
 * say "daemon off;" and include CONF_DIR/kubengx.conf.  A reload is
 * SIGHUP; a graceful stop is SIGQUIT, a fast one SIGTERM.  The controller
 * may be PID 1, so every child is reaped; nginx dying is fatal.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "controller.h"


static int
kngx_ctl_write_file(const char *path, const char *data, size_t len)
{
    char   tmp[4200];
    FILE  *f;
    int    rc = 0;

    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long) getpid());

    f = fopen(tmp, "w");
    if (f == NULL) {
        return -1;
    }

    if (fwrite(data, 1, len, f) != len) {
        rc = -1;
    }

    if (fclose(f) != 0) {
        rc = -1;
    }

    if (rc == 0 && rename(tmp, path) != 0) {
        rc = -1;
    }

    if (rc != 0) {
        unlink(tmp);
    }

    return rc;
}


int
kngx_ctl_nginx_write_main(kngx_ctl_t *ctl)
{
    const kngx_ctl_conf_t  *c = &ctl->conf;
    char                    text[16384], path[4200], api[4200];
    char                    sloads[8600], sblock[4300];
    struct stat             st;
    int                     n, module;

    snprintf(path, sizeof(path), "%s/tmp", c->conf_dir);
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        kngx_ctl_log("error: %s: %s", path, strerror(errno));
        return -1;
    }

    /* an empty http-context file until the first sync */
    snprintf(path, sizeof(path), "%s/kubengx.conf", c->conf_dir);
    if (stat(path, &st) != 0
        && kngx_ctl_write_file(path, "# no sync yet\n", 14) != 0)
    {
        kngx_ctl_log("error: %s: %s", path, strerror(errno));
        return -1;
    }

    if (c->nginx_conf) {
        snprintf(ctl->main_conf, sizeof(ctl->main_conf), "%s",
                 c->nginx_conf);
        return 0;
    }

    module = c->po.endpoints == KNGX_ENDPOINTS_MODULE && c->module;

    /* TCP/UDP services and passthrough: stream modules and file */
    if (kngx_stream_ctl_main(ctl, module, sloads, sizeof(sloads), sblock,
                             sizeof(sblock)) != 0)
    {
        return -1;
    }

    api[0] = '\0';
    /*
     * The module's watcher runs in a worker (an unprivileged user when
     * nginx starts as root): name the API plainly when no credentials are
     * needed, else the service account files or the kubeconfig.
     */
    if (module) {
        const kube_auth_t  *a = &ctl->auth;

        if (a->in_cluster) {
            snprintf(api, sizeof(api), "    k8s_api %s%s%s%s%s;\n",
                     ctl->server,
                     a->token_file ? " token_file=" : "",
                     a->token_file ? a->token_file : "",
                     a->ca_file ? " ca_file=" : "",
                     a->ca_file ? a->ca_file : "");

        } else if (c->kubeconfig && (a->token || a->token_file
                   || a->ca_file || a->ca_pem || a->client_cert_file
                   || a->client_cert_pem || a->username))
        {
            snprintf(api, sizeof(api), "    k8s_api kubeconfig=%s;\n",
                     c->kubeconfig);

        } else {
            snprintf(api, sizeof(api), "    k8s_api %s;\n", ctl->server);
        }
    }

    n = snprintf(text, sizeof(text),
        "# written by kubengx controller; edits are overwritten\n"
        "daemon off;\n"
        "master_process on;\n"
        "worker_processes %s;\n"
        "pid %s/nginx.pid;\n"
        "error_log stderr notice;\n"
        "%s%s%s%s"
        "\n"
        "events {\n"
        "    worker_connections 4096;\n"
        "}\n"
        "\n"
        "http {\n"
        "    access_log %s;\n"
        "    client_body_temp_path %s/tmp/client_body;\n"
        "    proxy_temp_path %s/tmp/proxy;\n"
        "    fastcgi_temp_path %s/tmp/fastcgi;\n"
        "    uwsgi_temp_path %s/tmp/uwsgi;\n"
        "    scgi_temp_path %s/tmp/scgi;\n"
        "%s%s%s"
        "    include %s/kubengx.conf;\n"
        "}\n"
        "%s",
        c->worker_processes, c->conf_dir,
        module ? "load_module " : "", module ? c->module : "",
        module ? ";\n" : "", sloads,
        c->access_log, c->conf_dir, c->conf_dir, c->conf_dir, c->conf_dir,
        c->conf_dir, api, module ? "    k8s_zone kubengx 32m;\n" : "",
        module && c->allow_loopback
        ? "    k8s_allow_loopback_endpoints on;\n" : "",
        c->conf_dir, sblock);

    if (n < 0 || (size_t) n >= sizeof(text)) {
        kngx_ctl_log("error: nginx.conf: paths too long");
        return -1;
    }

    snprintf(ctl->main_conf, sizeof(ctl->main_conf), "%s/nginx.conf",
             c->conf_dir);

    if (kngx_ctl_write_file(ctl->main_conf, text, (size_t) n) != 0) {
        kngx_ctl_log("error: %s: %s", ctl->main_conf, strerror(errno));
        return -1;
    }

    return 0;
}


int
kngx_ctl_nginx_start(kngx_ctl_t *ctl)
{
    char      prefix[4200];
    pid_t     pid;
    sigset_t  set;

    snprintf(prefix, sizeof(prefix), "%s/", ctl->conf.conf_dir);

    kngx_stream_ctl_prestart(ctl);

    fflush(NULL);

    pid = fork();
    if (pid < 0) {
        kngx_ctl_log("error: fork: %s", strerror(errno));
        return -1;
    }

    if (pid == 0) {
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

        execlp(ctl->conf.nginx, ctl->conf.nginx, "-p", prefix, "-c",
               ctl->main_conf, "-e", "stderr", (char *) NULL);
        fprintf(stderr, "kubengx controller: cannot run %s: %s\n",
                ctl->conf.nginx, strerror(errno));
        _exit(127);
    }

    (void) setpgid(pid, pid);     /* either side may win the race */

    ctl->nginx_pid = pid;
    kngx_ctl_log("nginx started (pid %ld): %s -p %s -c %s", (long) pid,
                 ctl->conf.nginx, prefix, ctl->main_conf);

    return 0;
}


int
kngx_ctl_nginx_reload(kngx_ctl_t *ctl)
{
    if (ctl->nginx_pid <= 0) {
        return -1;
    }

    if (kill(ctl->nginx_pid, SIGHUP) != 0) {
        kngx_ctl_log("error: reload: kill(%ld, SIGHUP): %s",
                     (long) ctl->nginx_pid, strerror(errno));
        return -1;
    }

    kngx_ctl_log("nginx reload (SIGHUP to %ld)", (long) ctl->nginx_pid);

    return 0;
}


void
kngx_ctl_nginx_quit(kngx_ctl_t *ctl, int fast)
{
    if (ctl->nginx_pid <= 0) {
        return;
    }

    kngx_ctl_log("nginx %s stop (%s to %ld)", fast ? "fast" : "graceful",
                 fast ? "SIGTERM" : "SIGQUIT", (long) ctl->nginx_pid);

    kill(ctl->nginx_pid, fast ? SIGTERM : SIGQUIT);
}


int
kngx_ctl_reap(kngx_ctl_t *ctl)
{
    pid_t  pid;
    int    status, exited = 0;

    for ( ;; ) {
        pid = waitpid(-1, &status, WNOHANG);

        if (pid <= 0) {
            break;
        }

        if (pid != ctl->nginx_pid) {
            /* nginx -t of a sync, or an orphan adopted as PID 1 */
            kngx_ctl_test_reaped(ctl, pid, status);
            continue;
        }

        ctl->nginx_pid = 0;
        ctl->nginx_exited = 1;
        ctl->nginx_status = status;
        exited = 1;

        if (WIFEXITED(status)) {
            kngx_ctl_log("nginx exited with status %d", WEXITSTATUS(status));
        } else if (WIFSIGNALED(status)) {
            kngx_ctl_log("nginx killed by signal %d", WTERMSIG(status));
        }

        /*
         * A master that exits normally has waited for its workers; one
         * that died leaves them running, orphaned, still holding the
         * listening sockets and serving the old config; they are in
         * the master's process group (kngx_ctl_nginx_start).
         */

        if (kill(-pid, SIGKILL) == 0) {
            kngx_ctl_log("killed the worker processes nginx left behind "
                         "(process group %ld)", (long) pid);
        }
    }

    return exited;
}
