"""Field validation of built-in kinds: unknown fields and JSON types.

kube-apiserver decodes a built-in object into its Go type: a field the
type does not have is dropped (fieldValidation=Ignore), dropped with a
`Warning` header (Warn, the default) or refused with 400 "strict decoding
error: unknown field" (Strict, what kubectl sends unless --validate=false);
a value of the wrong JSON type is refused with 400 "cannot unmarshal".

The types come from python3-kubernetes' generated models (API 1.22: each
class's attribute_map and openapi_types), with the fields added up to 1.32
in the kinds this stand-in serves (ADDED) and without those removed since
(REMOVED).  The module is imported on the first request that names
fieldValidation, so the server still starts without it.
"""

import re

# kind -> model class, per apiVersion
MODELS = {
    ("v1", "Namespace"): "V1Namespace", ("v1", "Service"): "V1Service",
    ("v1", "Secret"): "V1Secret", ("v1", "ConfigMap"): "V1ConfigMap",
    ("v1", "Event"): "CoreV1Event", ("v1", "ServiceAccount"): "V1ServiceAccount",
    ("events.k8s.io/v1", "Event"): "EventsV1Event",
    ("discovery.k8s.io/v1", "EndpointSlice"): "V1EndpointSlice",
    ("networking.k8s.io/v1", "Ingress"): "V1Ingress",
    ("networking.k8s.io/v1", "IngressClass"): "V1IngressClass",
    ("coordination.k8s.io/v1", "Lease"): "V1Lease",
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): "V1ClusterRole",
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): "V1ClusterRoleBinding",
    ("rbac.authorization.k8s.io/v1", "Role"): "V1Role",
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): "V1RoleBinding",
    ("apps/v1", "Deployment"): "V1Deployment", ("apps/v1", "DaemonSet"): "V1DaemonSet",
    ("policy/v1", "PodDisruptionBudget"): "V1PodDisruptionBudget",
    # autoscaling/v2 (1.23) has the shape of v2beta2
    ("autoscaling/v2", "HorizontalPodAutoscaler"): "V2beta2HorizontalPodAutoscaler",
    ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"):
        "V1ValidatingWebhookConfiguration",
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): "V1CustomResourceDefinition",
}

# Fields added between 1.22 and 1.32 (JSON name -> type; "object" for a
# type the 1.22 models lack, whose inside is then not checked).
ADDED = {
    "V1PodSpec": {"os": "object", "hostUsers": "bool", "schedulingGates": "list[object]",
                  "resourceClaims": "list[object]", "resources": "V1ResourceRequirements"},
    "V1Container": {"resizePolicy": "list[object]", "restartPolicy": "str"},
    "V1Probe": {"grpc": "object"},
    "V1Handler": {"sleep": "object"},
    "V1SecurityContext": {"appArmorProfile": "object"},
    "V1PodSecurityContext": {"appArmorProfile": "object", "supplementalGroupsPolicy": "str"},
    "V1TopologySpreadConstraint": {"minDomains": "int", "nodeAffinityPolicy": "str",
                                   "nodeTaintsPolicy": "str", "matchLabelKeys": "list[str]"},
    "V1PodAffinityTerm": {"matchLabelKeys": "list[str]", "mismatchLabelKeys": "list[str]"},
    "V1VolumeMount": {"recursiveReadOnly": "str"},
    "V1Volume": {"image": "object"},
    "V1ServiceSpec": {"trafficDistribution": "str"},
    "V1LoadBalancerIngress": {"ipMode": "str"},
    "V1PodDisruptionBudgetSpec": {"unhealthyPodEvictionPolicy": "str"},
    "V1ValidatingWebhook": {"matchConditions": "list[V1MatchCondition*]"},
    "V1CustomResourceDefinitionVersion": {"selectableFields": "list[object]"},
    "V1JSONSchemaProps": {"x-kubernetes-validations": "list[object]"},
    "V1RollingUpdateStatefulSetStrategy": {"maxUnavailable": "object"},
    "V1DeploymentStatus": {"terminatingReplicas": "int"},
    "V1ContainerStatus": {"allocatedResources": "dict(str, str)", "resources": "object",
                          "user": "object", "volumeMounts": "list[object]",
                          "allocatedResourcesStatus": "list[object]", "stopSignal": "str"},
}
# types the 1.22 models lack entirely, spelt out (NAME* above)
EXTRA_TYPES = {
    "V1MatchCondition*": {"name": "str", "expression": "str"},
}
REMOVED = {
    "V1ObjectMeta": {"clusterName"},
}

# Quantities: JSON strings or numbers (resource.Quantity's UnmarshalJSON).
_QUANTITY_FIELDS = {"limits", "requests", "sizeLimit", "overhead", "capacity", "hard",
                    "allocatable", "used", "allocatedResources", "averageValue", "value"}

_LIST = re.compile(r"^list\[(.*)\]$")
_DICT = re.compile(r"^dict\(str, (.*)\)$")


class Result:
    """What one pass found: unknown field paths and type errors."""

    def __init__(self):
        self.unknown = []
        self.type_errors = []


def _models():
    import kubernetes.client.models as models   # python3-kubernetes
    return models


def _fields(models, type_name):
    if type_name in EXTRA_TYPES:
        return dict(EXTRA_TYPES[type_name])
    cls = getattr(models, type_name)
    fields = {cls.attribute_map[k]: t for k, t in cls.openapi_types.items()}
    fields.update(ADDED.get(type_name, {}))
    for name in REMOVED.get(type_name, ()):
        fields.pop(name, None)
    return fields


def _json_type(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _walk(models, type_name, value, path, leaf, result):
    """`value` checked against `type_name`; returns it without unknown fields."""
    if value is None or type_name == "object":
        return value
    m = _LIST.match(type_name)
    if m:
        if not isinstance(value, list):
            result.type_errors.append((path, _json_type(value), "[]" + m.group(1)))
            return value
        return [_walk(models, m.group(1), v, "%s[%d]" % (path, i), leaf, result)
                for i, v in enumerate(value)]
    m = _DICT.match(type_name)
    if m:
        if not isinstance(value, dict):
            result.type_errors.append((path, _json_type(value), "map[string]" + m.group(1)))
            return value
        return {k: _walk(models, m.group(1), v, "%s.%s" % (path, k), leaf, result)
                for k, v in value.items()}
    if type_name in ("str", "int", "float", "bool", "datetime", "date"):
        ok = {"str": (str,), "datetime": (str,), "date": (str,), "int": (int,),
              "float": (int, float), "bool": (bool,)}[type_name]
        if leaf in _QUANTITY_FIELDS and isinstance(value, (int, float, str)) \
                and not isinstance(value, bool):
            return value
        if not isinstance(value, ok) or (type_name != "bool" and isinstance(value, bool)):
            go = {"str": "string", "datetime": "Time", "date": "Time", "int": "int32",
                  "float": "float64", "bool": "bool"}[type_name]
            result.type_errors.append((path, _json_type(value), go))
        return value
    if not isinstance(value, dict):
        result.type_errors.append((path, _json_type(value), type_name))
        return value
    fields = _fields(models, type_name)
    out = {}
    for key, sub in value.items():
        where = "%s.%s" % (path, key) if path else key
        if key not in fields:
            result.unknown.append(where)
            continue
        out[key] = _walk(models, fields[key], sub, where, key, result)
    return out


def has_model(api_version, kind):
    return (api_version, kind) in MODELS


def check(api_version, kind, obj):
    """(pruned object, Result) for a built-in kind's object (with kind/apiVersion)."""
    result = Result()
    pruned = _walk(_models(), MODELS[(api_version, kind)], obj, "", "", result)
    return pruned, result


def check_custom(crd_schema, obj):
    """(pruned object, Result, errors) for a custom resource: metadata as
    ObjectMeta, the rest against the CRD's openAPIV3Schema, in which
    apiVersion, kind and metadata are always allowed."""
    result, errors = Result(), []
    top = dict(crd_schema or {})
    props = dict(top.get("properties") or {})
    props.setdefault("apiVersion", {"type": "string"})
    props.setdefault("kind", {"type": "string"})
    props["metadata"] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    top["properties"] = props
    pruned = check_structural(top, obj, "", result, errors)
    if isinstance(obj.get("metadata"), dict):
        pruned["metadata"] = _walk(_models(), "V1ObjectMeta", obj["metadata"], "metadata",
                                   "metadata", result)
    return pruned, result, errors


# ---------------------------------------------------------------- CRDs
def check_structural(schema, value, path, result, errors):
    """A custom resource against its CRD's openAPIV3Schema (structural).

    Unknown fields go to result.unknown (pruned from the returned value);
    type, enum and required violations to errors as (field, reason, message)
    in the wording of apiextensions-apiserver.
    """
    if value is None or schema is None:
        return value
    if schema.get("x-kubernetes-int-or-string"):
        if not isinstance(value, (int, str)) or isinstance(value, bool):
            errors.append((path, "FieldValueInvalid", 'Invalid value: "%s": %s in body must be '
                           "of type integer,string: \"%s\"" % (_oa_type(value), path,
                                                              _oa_type(value))))
        return value
    want = schema.get("type")
    if want and not _oa_matches(want, value):
        errors.append((path, "FieldValueTypeInvalid", 'Invalid value: "%s": %s in body must be '
                       'of type %s: "%s"' % (_oa_type(value), path, want, _oa_type(value))))
        return value
    if "pattern" in schema and isinstance(value, str) \
            and not re.search(schema["pattern"], value):
        errors.append((path, "FieldValueInvalid", 'Invalid value: "%s": %s in body should match '
                       "'%s'" % (value, path, schema["pattern"])))
    if "enum" in schema and value not in schema["enum"]:
        errors.append((path, "FieldValueNotSupported", "Unsupported value: %s: supported values: "
                       "%s" % (_quote(value), ", ".join(_quote(v) for v in schema["enum"]))))
    if isinstance(value, list):
        return [check_structural(schema.get("items"), v, "%s[%d]" % (path, i), result, errors)
                for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    for name in schema.get("required") or ():
        if name not in value:
            errors.append(("%s.%s" % (path, name), "FieldValueRequired", "Required value"))
    props = schema.get("properties")
    extra = schema.get("additionalProperties")
    preserve = schema.get("x-kubernetes-preserve-unknown-fields")
    out = {}
    for key, sub in value.items():
        where = "%s.%s" % (path, key) if path else key
        if props is not None and key in props:
            out[key] = check_structural(props[key], sub, where, result, errors)
        elif isinstance(extra, dict):
            out[key] = check_structural(extra, sub, where, result, errors)
        elif extra is True or preserve or (props is None and extra is None and not want):
            out[key] = sub
        else:
            result.unknown.append(where)
    return out


def _oa_type(value):
    return {"bool": "boolean", "number": "integer" if isinstance(value, int) else "number",
            "string": "string", "array": "array", "object": "object"}[_json_type(value)]


def _oa_matches(want, value):
    got = _oa_type(value)
    return got == want or (want == "number" and got == "integer")


def _quote(value):
    return '"%s"' % value if isinstance(value, str) else str(value)
