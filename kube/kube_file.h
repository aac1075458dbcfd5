/*
 * kubengx kube/: reading a whole (small) file: tokens, CA bundles,
 * kubeconfigs.  Blocking I/O: at startup or from a timer, never per
 * request.
 */

#ifndef KUBE_FILE_H
#define KUBE_FILE_H

#include "kube_common.h"


/* read a whole file (max bytes); NUL-terminated; NULL + err on failure */
char *kube_read_file(const char *path, size_t max, size_t *len,
    kube_err_t *err);

#endif /* KUBE_FILE_H */
