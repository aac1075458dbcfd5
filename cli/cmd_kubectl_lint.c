
/*
 * kubectl kubengx lint and migrate: `kubengx lint` (cmd_lint.c) and
 * `kubengx migrate` (cmd_migrate.c), the same rules and output, on the
 * live objects: the Ingresses, Services, IngressClasses, Secrets (every
 * type: TLS, basic-auth users, CAs) and ConfigMaps (of headers) the API
 * lists (all namespaces), written as one
 * JSON List to a file "cluster" in a private temporary directory, which
 * the command reads like any input.
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
    /* every type: TLS, basic-auth users, CAs of proxy-ssl-secret and
     * auth-tls-secret (annotations/); ConfigMaps of headers */
    { "/api/v1/secrets", "Secret", "v1" },
    { "/api/v1/configmaps", "ConfigMap", "v1" },
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
kngx_kc_on_cluster(kngx_options_t *o, const kngx_command_t *cmd)
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
    rc = cmd->run(o);
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


static int
kngx_kc_lint(kngx_options_t *o)
{
    return kngx_kc_on_cluster(o, &kngx_cmd_lint);
}


const kngx_command_t  kngx_kubectl_lint = {
    "lint", KNGX_CMD_KUBECTL_LINT, "kubengx lint on the live objects",

"Usage: kubectl kubengx lint [OPTIONS]\n"
"\n"
"`kubengx lint` on the cluster's Ingresses, Services, IngressClasses,\n"
"Secrets and ConfigMaps (all namespaces), listed through the API:\n"
"the same rules, findings and output (\"cluster:1: ...\": the objects are\n"
"read as one List).  See `kubengx lint --help` for the findings.\n",

"Exit status: 0 no errors (warnings allowed), 1 errors found or the API\n"
"could not be read, 2 bad usage.\n",

    kngx_kc_lint
};


static int
kngx_kc_migrate(kngx_options_t *o)
{
    return kngx_kc_on_cluster(o, &kngx_cmd_migrate);
}


const kngx_command_t  kngx_kubectl_migrate = {
    "migrate", KNGX_CMD_KUBECTL_MIGRATE, "kubengx migrate on the live "
    "objects",

"Usage: kubectl kubengx migrate [OPTIONS]\n"
"\n"
"`kubengx migrate` on the cluster's Ingresses, Services, IngressClasses,\n"
"Secrets and ConfigMaps (all namespaces), listed through the API:\n"
"for each Ingress of --from-class (default nginx) what kubengx does with\n"
"it and its annotations, then a summary.  See `kubengx migrate --help`.\n",

"Exit status: 0 every Ingress would be served, 1 one would not (fails\n"
"closed, a bad value) or the API could not be read, 2 bad usage.\n",

    kngx_kc_migrate
};
