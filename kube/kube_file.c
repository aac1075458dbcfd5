/*
 * kubengx kube/: reading a whole (small) file.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube_file.h"


char *
kube_read_file(const char *path, size_t max, size_t *len, kube_err_t *err)
{
    int          fd;
    char        *buf, *nb;
    size_t       n, cap;
    ssize_t      r;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        kube_err_set(err, "%s: %s", path, strerror(errno));
        return NULL;
    }

    cap = 4096;
    n = 0;
    buf = malloc(cap);
    if (buf == NULL) {
        goto nomem;
    }

    for ( ;; ) {
        if (cap - n < 2) {
            if (cap >= max + 1) {
                kube_err_set(err, "%s: larger than %zu bytes", path, max);
                goto failed;
            }

            cap *= 2;
            nb = realloc(buf, cap);
            if (nb == NULL) {
                goto nomem;
            }
            buf = nb;
        }

        r = read(fd, buf + n, cap - n - 1);

        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            kube_err_set(err, "%s: %s", path, strerror(errno));
            goto failed;
        }

        if (r == 0) {
            break;
        }

        n += (size_t) r;

        if (n > max) {
            kube_err_set(err, "%s: larger than %zu bytes", path, max);
            goto failed;
        }
    }

    close(fd);
    buf[n] = '\0';

    if (len != NULL) {
        *len = n;
    }

    return buf;

nomem:

    kube_err_set(err, "%s: out of memory", path);

failed:

    free(buf);
    close(fd);
    return NULL;
}
