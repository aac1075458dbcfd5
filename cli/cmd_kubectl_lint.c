
/*
 * kubectl kubengx lint: `kubengx lint` (cmd_lint.c, the same rules and
 * output) on the live objects: the Ingresses, Services, IngressClasses
 * and kubernetes.io/tls Secrets the API lists (all namespaces), written
 * as one JSON List to a file "cluster"
 * in a private temporary directory, which lint reads like any input.
 *
 * kubectl kubengx migrate: not there yet (kubengx migrate is being
 * written); says so.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_kubectl.h"
#include "render.h"


static const struct {
    const char  *path;
    const char  *kind;
    const char  *api_version;
} kngx_kc_kinds[] = {
    { "/apis/networking.k8s.io/v1/ingressclasses", "IngressClass",
      "networking.k8s.io/v1" },
    { "/apis/networking.k8s.io/v1/ingresses", "Ingress",
      "networking.k8s.io/v1" },
    { "/api/v1/services", "Service", "v1" },
    { "/api/v1/secrets?fieldSelector=type%3Dkubernetes.io%2Ftls", "Secret",
      "v1" },
};


/* every object of the kinds, kind and apiVersion set: a List */
static json_t *
kngx_kc_objects(kngx_ctl_api_t *api)
{
    json_t  *list, *items, *j, *item;
    size_t   i, k;

    items = json_array();
    list = json_pack("{s:s,s:s,s:o}", "apiVersion", "v1", "kind", "List",
                     "items", items);
    if (list == NULL) {
        return NULL;
    }

    for (k = 0; k < sizeof(kngx_kc_kinds) / sizeof(kngx_kc_kinds[0]); k++) {
        j = kngx_kc_get_json(api, kngx_kc_kinds[k].path);
        if (j == NULL) {
            json_decref(list);
            return NULL;
        }

        json_array_foreach(json_object_get(j, "items"), i, item) {
            json_object_set_new(item, "kind",
                                json_string(kngx_kc_kinds[k].kind));
            json_object_set_new(item, "apiVersion",
                                json_string(kngx_kc_kinds[k].api_version));
            json_array_append(items, item);
        }

        json_decref(j);
    }

    return list;
}


static int
kngx_kc_lint(kngx_options_t *o)
{
    kngx_ctl_api_t  *api;
    json_t          *list;
    char             kc[4096], dir[4096], file[4200], cwd[4096];
    const char      *input = "cluster";
    int              rc = 1;

    api = kngx_kc_open(o, kc, sizeof(kc));
    if (api == NULL) {
        return 1;
    }

    list = kngx_kc_objects(api);
    kngx_ctl_api_destroy(api);

    if (list == NULL) {
        return 1;
    }

    if (kngx_check_tmpdir(dir, sizeof(dir)) != 0) {
        fprintf(stderr, "kubectl kubengx: cannot create a temporary "
                "directory\n");
        json_decref(list);
        return 1;
    }

    snprintf(file, sizeof(file), "%s/%s", dir, input);

    if (json_dump_file(list, file, JSON_COMPACT) != 0) {
        fprintf(stderr, "kubectl kubengx: cannot write %s\n", file);
        goto done;
    }

    /* findings name the input "cluster", not the temporary path */
    if (getcwd(cwd, sizeof(cwd)) == NULL || chdir(dir) != 0) {
        fprintf(stderr, "kubectl kubengx: cannot enter %s\n", dir);
        goto done;
    }

    o->files.items = &input;
    o->files.n = 1;
    rc = kngx_cmd_lint.run(o);
    o->files.items = NULL;
    o->files.n = 0;

    if (chdir(cwd) != 0) {
        /* void: only the temporary directory is left to remove */
    }

done:

    kngx_check_cleanup(dir);
    json_decref(list);

    return rc;
}


const kngx_command_t  kngx_kubectl_lint = {
    "lint", KNGX_CMD_KUBECTL_LINT, "kubengx lint on the live objects",

"Usage: kubectl kubengx lint [OPTIONS]\n"
"\n"
"`kubengx lint` on the cluster's Ingresses, Services, IngressClasses and\n"
"kubernetes.io/tls Secrets (all namespaces), listed through the API:\n"
"the same rules, findings and output (\"cluster:1: ...\": the objects are\n"
"read as one List).  See `kubengx lint --help` for the findings.\n",

"Exit status: 0 no errors (warnings allowed), 1 errors found or the API\n"
"could not be read, 2 bad usage.\n",

    kngx_kc_lint
};


static int
kngx_kc_migrate(kngx_options_t *o)
{
    fprintf(stderr, "kubectl kubengx migrate: not available yet: it will "
            "run `kubengx migrate` (ingress-nginx annotations and "
            "ConfigMap -> kubengx) on the live objects once that command "
            "exists\n");

    return KNGX_EXIT_USAGE;
}


const kngx_command_t  kngx_kubectl_migrate = {
    "migrate", KNGX_CMD_KUBECTL, "(coming) kubengx migrate on the live "
    "objects",

"Usage: kubectl kubengx migrate\n"
"\n"
"Not available yet: `kubengx migrate` is being written; this subcommand\n"
"will run it on the live objects.\n",

    NULL,

    kngx_kc_migrate
};
