/*
 * kubengx kube/: YAML to jansson, enough for kubeconfig files.
 *
 * The first document is converted: mappings become objects (keys are the
 * scalar text), sequences arrays; quoted scalars stay strings; plain
 * scalars null/~/"" become null, true/false (any case) booleans, and
 * everything else a string (kubeconfig has no numeric fields we read).
 * Aliases are expanded, with a node budget against alias bombs.
 */

#ifndef KUBE_YAML_H
#define KUBE_YAML_H

#include <jansson.h>

#include "kube_common.h"


/* a new reference, or NULL with err set ("line L column C: ...") */
json_t *kube_yaml_to_json(const char *data, size_t len, kube_err_t *err);

#endif /* KUBE_YAML_H */
