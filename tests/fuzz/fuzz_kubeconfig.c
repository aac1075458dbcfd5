/*
 * libFuzzer target: the kubeconfig reader (kube_kubeconfig_parse), YAML
 * or JSON, with and without a base directory and a context name.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube_base64.h"
#include "kube_kubeconfig.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kube_auth_t   auth;
    kube_err_t    err;
    const char   *ctx = NULL, *base = NULL;
    unsigned      mode = 0;

    if (size > 0) {
        mode = data[0];
        data++;
        size--;
    }

    if (mode & 1) {
        base = "/etc/kube";
    }

    if (mode & 2) {
        ctx = "dev";
    }

    memset(&auth, 0, sizeof(auth));

    if (kube_kubeconfig_parse(&auth, (const char *) data, size, "fuzz",
                              base, ctx, &err) == 0)
    {
        if (auth.server == NULL) {
            abort();
        }
        (void) strlen(auth.server);
    } else if (err.msg[0] == '\0') {
        abort();        /* an error must say why */
    }

    kube_auth_free(&auth);

    /* the base64 helper on the raw bytes */
    {
        unsigned char  *p;
        size_t          n;

        p = kube_base64_decode((const char *) data, size, &n, &err);
        free(p);
    }

    return 0;
}
