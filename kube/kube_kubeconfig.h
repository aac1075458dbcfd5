/*
 * kubengx kube/: reading a kubeconfig (clientcmd v1, YAML or JSON) into a
 * kube_auth_t (kube_auth.h).
 *
 * KUBECONFIG may list several files separated by ':', merged as kubectl
 * does: the first file to define a name or current-context wins.  File
 * paths taken from a kubeconfig are made absolute against the
 * kubeconfig's directory.
 */

#ifndef KUBE_KUBECONFIG_H
#define KUBE_KUBECONFIG_H

#include "kube_auth.h"


/*
 * Load a kubeconfig.  paths: one file or a ':'-separated list; NULL means
 * $KUBECONFIG, else $HOME/.kube/config.  context: NULL means
 * current-context.  Returns 0 or -1 with err naming the file and field.
 */
int kube_kubeconfig_load(kube_auth_t *auth, const char *paths,
    const char *context, kube_err_t *err);

/*
 * The same from memory (YAML or JSON).  base_dir resolves relative paths
 * (NULL: leave them as they are); name is used in error messages.
 */
int kube_kubeconfig_parse(kube_auth_t *auth, const char *data, size_t len,
    const char *name, const char *base_dir, const char *context,
    kube_err_t *err);

#endif /* KUBE_KUBECONFIG_H */
