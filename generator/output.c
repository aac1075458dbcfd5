
/*
 * kubengx generator: writing the output directory.
 *
 *   DIR/kubengx.conf        the http-context config
 *   DIR/kubengx-stream.conf the stream-context config, when TCP/UDP
 *                           services or TLS passthrough are asked for
 *                           (written before kubengx.conf by the caller,
 *                           kngx_output_write_file())
 *   DIR/certs/NAME.pem      key + certificate chain of a TLS Secret,
 *                           mode 0600 (DIR/certs is 0700); for "ca+NAME"
 *                           the ca.crt of a proxy-ssl-secret
 *   DIR/certs/NAME.auth     the users of a basic authentication Secret
 *   DIR/certs/NAME.authmap  (annotations/auth_basic.c), mode 0600
 *   DIR/certs/NAME.tlsca    the CA of client certificates (annotations/
 *                           auth_tls.c), mode 0600
 *
 * Every file is written to a temporary name in its directory, flushed
 * (fsync) and renamed over the old one, so readers see the old or the new
 * file, never a part.  Certificates go first and kubengx.conf last, so a
 * config never names a certificate that is not there yet; then .pem files
 * that the new config no longer uses are removed.  Bad input is found
 * before anything is written; an I/O error removes the temporary files
 * and leaves the old output in place.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render.h"
#include "plan_parts.h"
#include "annotations/annotations.h"


static int
kngx_mkdir_p(const char *path, mode_t mode)
{
    char    buf[4096];
    size_t  i, len = strlen(path);

    if (len >= sizeof(buf)) {
        errno = ENAMETOOLONG;
        return -1;
    }

    memcpy(buf, path, len + 1);

    for (i = 1; i <= len; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char  c = buf[i];

            buf[i] = '\0';
            if (mkdir(buf, mode) != 0 && errno != EEXIST) {
                return -1;
            }
            buf[i] = c;
        }
    }

    return 0;
}


static int
kngx_write_all(int fd, const char *data, size_t len)
{
    ssize_t  n;

    while (len) {
        n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        data += n;
        len -= (size_t) n;
    }

    return 0;
}


/* write parts atomically to path with mode */
static int
kngx_write_atomic(const char *path, const char *const *parts,
    const size_t *lens, int nparts, mode_t mode, char *err, size_t err_size)
{
    char  tmp[4200];
    int   fd, i;

    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long) getpid());

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        snprintf(err, err_size, "%s: %s", tmp, strerror(errno));
        return -1;
    }

    if (fchmod(fd, mode) != 0) {
        goto failed;
    }

    for (i = 0; i < nparts; i++) {
        if (kngx_write_all(fd, parts[i], lens[i]) != 0) {
            goto failed;
        }
    }

    if (fsync(fd) != 0) {
        goto failed;
    }

    if (close(fd) != 0) {
        fd = -1;
        goto failed;
    }

    fd = -1;

    if (rename(tmp, path) != 0) {
        goto failed;
    }

    return 0;

failed:

    snprintf(err, err_size, "%s: %s", tmp, strerror(errno));

    if (fd >= 0) {
        close(fd);
    }

    unlink(tmp);

    return -1;
}


/* the n-th annotation file of the i-th served Ingress, or NULL */
static const kngx_ann_file_t *
kngx_output_ann_file(const kngx_plan_t *p, size_t i, unsigned n)
{
    return kngx_ann_file(kngx_plan_ann(p, p->ingresses[i]), n);
}


int
kngx_render_ann_files(const kngx_plan_t *p)
{
    size_t    i;
    unsigned  n;

    for (i = 0; i < p->ningresses; i++) {
        for (n = 0; n < KNGX_ANN_NFILES; n++) {
            if (kngx_output_ann_file(p, i, n)) {
                return 1;
            }
        }
    }

    return 0;
}


/* whether file is a certificate or an annotation file p uses */
static int
kngx_cert_used(const kngx_plan_t *p, const char *file)
{
    const kngx_ann_file_t  *f;
    size_t                  i, len;
    unsigned                n;

    for (i = 0; i < p->ncerts; i++) {
        len = strlen(p->certs[i].name);
        if (strncmp(file, p->certs[i].name, len) == 0
            && strcmp(file + len, ".pem") == 0)
        {
            return 1;
        }
    }

    for (i = 0; i < p->ningresses; i++) {
        for (n = 0; n < KNGX_ANN_NFILES; n++) {
            f = kngx_output_ann_file(p, i, n);
            if (f && strcmp(f->name, file) == 0) {
                return 1;
            }
        }
    }

    return 0;
}


/* a name of the files kubengx writes under certs/ */
static int
kngx_cert_file(const char *name)
{
    size_t  len = strlen(name);

    return (len > 4 && strcmp(name + len - 4, ".pem") == 0)
           || (len > 5 && strcmp(name + len - 5, ".auth") == 0)
           || (len > 8 && strcmp(name + len - 8, ".authmap") == 0)
           || (len > 6 && strcmp(name + len - 6, ".tlsca") == 0);
}


static void
kngx_remove_stale_certs(const char *certs, const kngx_plan_t *p)
{
    DIR            *dir;
    struct dirent  *de;
    char            path[8400];

    dir = opendir(certs);
    if (dir == NULL) {
        return;
    }

    while ((de = readdir(dir)) != NULL) {
        if (!kngx_cert_file(de->d_name) || kngx_cert_used(p, de->d_name)) {
            continue;
        }

        snprintf(path, sizeof(path), "%s/%s", certs, de->d_name);
        unlink(path);
    }

    closedir(dir);
}


int
kngx_output_write_certs(const char *certs, const kngx_plan_t *p, char *err,
    size_t err_size)
{
    const kngx_secret_t    *sec;
    const kngx_ann_file_t  *f;
    const char             *parts[3];
    size_t                  lens[3], i;
    unsigned                n;
    char                    path[4200];

    if (p->ncerts == 0 && !kngx_render_ann_files(p)) {
        return 0;
    }

    if (kngx_mkdir_p(certs, 0700) != 0) {
        snprintf(err, err_size, "%s: %s", certs, strerror(errno));
        return -1;
    }

    for (i = 0; i < p->ncerts; i++) {
        sec = p->certs[i].secret;

        if (p->certs[i].ca) {
            /* a CA to verify backends with (proxy-ssl-secret) */
            parts[0] = sec->ca;
            lens[0] = sec->ca_len;
            snprintf(path, sizeof(path), "%s/%s.pem", certs,
                     p->certs[i].name);

            if (kngx_write_atomic(path, parts, lens, 1, 0600, err, err_size)
                != 0)
            {
                return -1;
            }

            continue;
        }

        parts[0] = sec->key;
        lens[0] = sec->key_len;
        parts[1] = (sec->key_len && sec->key[sec->key_len - 1] != '\n')
                   ? "\n" : "";
        lens[1] = strlen(parts[1]);
        parts[2] = sec->cert;
        lens[2] = sec->cert_len;

        snprintf(path, sizeof(path), "%s/%s.pem", certs, p->certs[i].name);

        if (kngx_write_atomic(path, parts, lens, 3, 0600, err, err_size)
            != 0)
        {
            return -1;
        }
    }

    for (i = 0; i < p->ningresses; i++) {
        for (n = 0; n < KNGX_ANN_NFILES; n++) {
            f = kngx_output_ann_file(p, i, n);
            if (f == NULL) {
                continue;
            }

            snprintf(path, sizeof(path), "%s/%s", certs, f->name);

            if (kngx_write_atomic(path, &f->data, &f->len, 1, 0600, err,
                                  err_size)
                != 0)
            {
                return -1;
            }
        }
    }

    return 0;
}


int
kngx_output_write_file(const char *dir, const char *name, const char *text,
    size_t len, char *err, size_t err_size)
{
    char  path[4200];

    if (kngx_mkdir_p(dir, 0755) != 0) {
        snprintf(err, err_size, "%s: %s", dir, strerror(errno));
        return -1;
    }

    snprintf(path, sizeof(path), "%s/%s", dir, name);

    return kngx_write_atomic(path, &text, &len, 1, 0644, err, err_size);
}


int
kngx_output_write(const char *dir, const char *conf, size_t len,
    const kngx_plan_t *p, char *err, size_t err_size)
{
    char          path[4200], certs[4200];
    const char   *parts[1];
    size_t        lens[1];

    if (strlen(dir) > 4000) {
        snprintf(err, err_size, "%s: path too long", dir);
        return -1;
    }

    if (kngx_mkdir_p(dir, 0755) != 0) {
        snprintf(err, err_size, "%s: %s", dir, strerror(errno));
        return -1;
    }

    snprintf(certs, sizeof(certs), "%s/certs", dir);

    if (kngx_output_write_certs(certs, p, err, err_size) != 0) {
        return -1;
    }

    snprintf(path, sizeof(path), "%s/kubengx.conf", dir);
    parts[0] = conf;
    lens[0] = len;

    if (kngx_write_atomic(path, parts, lens, 1, 0644, err, err_size) != 0) {
        return -1;
    }

    kngx_remove_stale_certs(certs, p);

    return 0;
}
