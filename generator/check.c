
/*
 * kubengx generator: --check, nginx -t on a complete configuration.
 *
 * A temporary directory gets nginx.conf (main context with pid, error
 * log and temp paths inside it, load_module when a module is given, and
 * http { include kubengx.conf; }), the rendered kubengx.conf and certs/.
 * With a module, the http block also gets the "k8s_zone" that its
 * k8s_service upstreams need (the controller's nginx.conf carries
 * k8s_api and k8s_zone; see controller/controller_nginx.c), and
 * "k8s_allow_loopback_endpoints on" when the controller writes it.
 * With a stream text (stream.h), the stream modules are loaded after
 * the module and "stream { include kubengx-stream.conf; }" follows.
 * `nginx -t -p TMP/ -c TMP/nginx.conf -e TMP/error.log` runs on it; its
 * output is shown when it fails.  nginx -t opens no sockets and runs as
 * any user.  The directory is removed afterwards.
 *
 * kngx_check() blocks (render --check); the controller runs the same
 * steps without blocking: kngx_check_start(), kngx_check_read() when the
 * pipe is readable, kngx_check_finish() once it ended.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "render.h"


static void
kngx_rm_rf(const char *path)
{
    DIR            *dir;
    struct dirent  *de;
    struct stat     st;
    char            sub[4200];

    if (lstat(path, &st) != 0) {
        return;
    }

    if (S_ISDIR(st.st_mode)) {
        dir = opendir(path);
        if (dir) {
            while ((de = readdir(dir)) != NULL) {
                if (strcmp(de->d_name, ".") == 0
                    || strcmp(de->d_name, "..") == 0)
                {
                    continue;
                }
                snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
                kngx_rm_rf(sub);
            }
            closedir(dir);
        }
        rmdir(path);
        return;
    }

    unlink(path);
}


static int
kngx_write_file(const char *path, const char *data, size_t len)
{
    FILE  *f;
    int    rc = 0;

    f = fopen(path, "w");
    if (f == NULL) {
        return -1;
    }

    if (fwrite(data, 1, len, f) != len) {
        rc = -1;
    }

    if (fclose(f) != 0) {
        rc = -1;
    }

    return rc;
}


int
kngx_check_start(const kngx_check_opts_t *o, const char *conf, size_t len,
    const char *tmpdir, kngx_check_run_t *run, char *err, size_t err_size)
{
    char   path[4200], main_conf[8192], errlog[4200], prefix[4200];
    int    n, pipefd[2];
    pid_t  pid;

    memset(run, 0, sizeof(kngx_check_run_t));
    run->fd = -1;
    run->pid = -1;

    /* tmpdir exists and holds certs/ already (the caller wrote them) */

    snprintf(path, sizeof(path), "%s/kubengx.conf", tmpdir);
    if (kngx_write_file(path, conf, len) != 0) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }

    snprintf(path, sizeof(path), "%s/kubengx-stream.conf", tmpdir);
    if (o->stream_conf
        && kngx_write_file(path, o->stream_conf, o->stream_len) != 0)
    {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }

    n = snprintf(main_conf, sizeof(main_conf),
        "daemon off;\n"
        "pid %s/nginx.pid;\n"
        "error_log %s/error.log;\n"
        "%s%s%s%s"
        "events { worker_connections 64; }\n"
        "http {\n"
        "    access_log off;\n"
        "    client_body_temp_path %s/tmp/client_body;\n"
        "    proxy_temp_path %s/tmp/proxy;\n"
        "    fastcgi_temp_path %s/tmp/fastcgi;\n"
        "    uwsgi_temp_path %s/tmp/uwsgi;\n"
        "    scgi_temp_path %s/tmp/scgi;\n"
        "%s%s"
        "    include %s/kubengx.conf;\n"
        "}\n"
        "%s%s%s",
        tmpdir, tmpdir,
        o->module ? "load_module \"" : "", o->module ? o->module : "",
        o->module ? "\";\n" : "",
        o->stream_conf && o->stream_loads ? o->stream_loads : "",
        tmpdir, tmpdir, tmpdir, tmpdir, tmpdir,
        o->module ? "    k8s_zone kubengx_check 1m;\n" : "",
        o->module && o->allow_loopback
        ? "    k8s_allow_loopback_endpoints on;\n" : "", tmpdir,
        o->stream_conf ? "stream {\n    include " : "",
        o->stream_conf ? tmpdir : "",
        o->stream_conf ? "/kubengx-stream.conf;\n}\n" : "");

    if (n < 0 || (size_t) n >= sizeof(main_conf)) {
        snprintf(err, err_size, "temporary path too long");
        return -1;
    }

    snprintf(path, sizeof(path), "%s/tmp", tmpdir);
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }

    snprintf(path, sizeof(path), "%s/nginx.conf", tmpdir);
    if (kngx_write_file(path, main_conf, (size_t) n) != 0) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }

    snprintf(errlog, sizeof(errlog), "%s/error.log", tmpdir);
    snprintf(prefix, sizeof(prefix), "%s/", tmpdir);

    if (pipe(pipefd) != 0) {
        snprintf(err, err_size, "pipe: %s", strerror(errno));
        return -1;
    }

    fflush(NULL);

    pid = fork();
    if (pid < 0) {
        snprintf(err, err_size, "fork: %s", strerror(errno));
        close(pipefd[0]);
        close(pipefd[1]);
        return -1;
    }

    if (pid == 0) {
        dup2(pipefd[1], 1);
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        close(pipefd[1]);
        execlp(o->nginx, o->nginx, "-t", "-q", "-p", prefix, "-c", path,
               "-e", errlog, (char *) NULL);
        fprintf(stderr, "cannot run %s: %s\n", o->nginx, strerror(errno));
        _exit(127);
    }

    close(pipefd[1]);
    (void) fcntl(pipefd[0], F_SETFD, FD_CLOEXEC);

    run->pid = pid;
    run->fd = pipefd[0];

    return 0;
}


int
kngx_check_read(kngx_check_run_t *run)
{
    char     sink[1024];
    ssize_t  r;

    for ( ;; ) {
        if (run->got < sizeof(run->out) - 1) {
            r = read(run->fd, run->out + run->got,
                     sizeof(run->out) - 1 - run->got);
        } else {
            r = read(run->fd, sink, sizeof(sink));     /* the rest: dropped */
        }

        if (r > 0) {
            if (run->got < sizeof(run->out) - 1) {
                run->got += (size_t) r;
            }
            continue;
        }

        if (r < 0 && errno == EINTR) {
            continue;
        }

        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        }

        /* EOF, or an error: the output is complete */

        run->out[run->got] = '\0';
        close(run->fd);
        run->fd = -1;

        return 1;
    }
}


int
kngx_check_finish(kngx_check_run_t *run, char *err, size_t err_size)
{
    size_t  l;
    int     status;

    if (run->fd != -1) {
        close(run->fd);
        run->fd = -1;
    }

    if (run->exited) {
        status = run->status;

    } else {
        while (waitpid(run->pid, &status, 0) < 0) {
            if (errno != EINTR) {
                status = -1;
                break;
            }
        }
    }

    run->pid = -1;

    if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return 0;
    }

    run->out[run->got] = '\0';
    l = run->got;

    while (l && run->out[l - 1] == '\n') {
        run->out[--l] = '\0';
    }

    snprintf(err, err_size, "nginx -t failed:\n%s", run->out);

    return -1;
}


int
kngx_check(const kngx_check_opts_t *o, const char *conf, size_t len,
    const kngx_plan_t *p, const char *tmpdir, char *err, size_t err_size)
{
    kngx_check_run_t  run;

    (void) p;

    if (kngx_check_start(o, conf, len, tmpdir, &run, err, err_size) != 0) {
        return -1;
    }

    /* a blocking pipe: read returns only with data or at the end */

    while (kngx_check_read(&run) == 0) { /* void */ }

    return kngx_check_finish(&run, err, err_size);
}


/* create a fresh temporary directory; remove it with kngx_check_cleanup */
int
kngx_check_tmpdir(char *out, size_t size)
{
    const char  *base = getenv("TMPDIR");

    snprintf(out, size, "%s/kubengx-check.XXXXXX",
             base && base[0] ? base : "/tmp");

    return mkdtemp(out) ? 0 : -1;
}


void
kngx_check_cleanup(const char *dir)
{
    kngx_rm_rf(dir);
}
