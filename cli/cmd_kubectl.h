
/*
 * kubectl kubengx: the plugin's subcommands (cmd_kubectl.c,
 * cmd_kubectl_lint.c), dispatched by kubengx.c when the binary runs as
 * kubectl-kubengx, and what they share.
 */

#ifndef KNGX_CMD_KUBECTL_H
#define KNGX_CMD_KUBECTL_H

#include <jansson.h>

#include "controller_api.h"
#include "kubengx.h"


extern const kngx_command_t  kngx_kubectl_backends;
extern const kngx_command_t  kngx_kubectl_conf;
extern const kngx_command_t  kngx_kubectl_lint;
extern const kngx_command_t  kngx_kubectl_migrate;
extern const kngx_command_t  kngx_kubectl_status;

/* the API of --kubeconfig/--context ($KUBECONFIG, ~/.kube/config; path:
 * room for the latter); NULL (said) */
kngx_ctl_api_t *kngx_kc_open(kngx_options_t *o, char *path, size_t size);
/* GET path: the JSON of a 200, or NULL (said on stderr) */
json_t *kngx_kc_get_json(kngx_ctl_api_t *api, const char *path);

#endif /* KNGX_CMD_KUBECTL_H */
