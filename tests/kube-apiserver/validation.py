"""Validation of the kinds a controller's deployment (its Helm chart) creates.

The rules of kubernetes pkg/apis/*/validation that a chart can break, with
the field paths and wording of kube-apiserver 1.32: workloads (selector vs
template labels, containers, ports, volumes, probes, resources, update
strategy), Services (ports, types, traffic policy), PodDisruptionBudgets,
HorizontalPodAutoscalers, ValidatingWebhookConfigurations, ConfigMaps,
Secrets, RBAC, IngressClasses, CustomResourceDefinitions and labels.
Each function returns [(field, reason, message)].
"""

import base64
import binascii
import re

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")

_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eE][+-]?[0-9]+|[numkMGTPE]i?|Ki|)$")
_SUFFIX = {"": 1, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
           "P": 1e15, "E": 1e18, "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40,
           "Pi": 2 ** 50, "Ei": 2 ** 60}


def _err(field, reason, message):
    return [(field, reason, message)]


def invalid(field, value, detail):
    return _err(field, "FieldValueInvalid", 'Invalid value: %s: %s' % (_show(value), detail))


def required(field, detail=""):
    return _err(field, "FieldValueRequired", "Required value" + (": " + detail if detail else ""))


def not_supported(field, value, allowed):
    return _err(field, "FieldValueNotSupported", 'Unsupported value: %s: supported values: %s'
                % (_show(value), ", ".join('"%s"' % a for a in allowed)))


def forbidden(field, detail):
    return _err(field, "FieldValueForbidden", "Forbidden: " + detail)


def duplicate(field, value):
    return _err(field, "FieldValueDuplicate", "Duplicate value: %s" % _show(value))


def _show(value):
    if isinstance(value, str):
        return '"%s"' % value
    if isinstance(value, dict):
        return "map[%s]" % " ".join("%s:%s" % kv for kv in sorted(value.items()))
    return str(value)


def quantity(value):
    """A resource.Quantity as a float, or None when it does not parse."""
    m = _QUANTITY.match(str(value))
    if not m:
        return None
    try:
        num = float(m.group(1))
    except ValueError:
        return None
    suffix = m.group(2)
    if suffix[:1] in ("e", "E"):
        return num * 10 ** int(suffix[1:])
    return num * _SUFFIX[suffix]


# ---------------------------------------------------------------- metadata
def labels(field, values):
    causes = []
    for key, value in (values or {}).items():
        prefix, _, name = key.rpartition("/")
        if (prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.match(prefix))) \
                or len(name) > 63 or not QUALIFIED_NAME.match(name):
            causes += invalid(field, key, "name part must consist of alphanumeric characters, "
                              "'-', '_' or '.', and must start and end with an alphanumeric "
                              "character")
        if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
            causes += invalid("%s" % field, value, "a valid label must be an empty string or "
                              "consist of alphanumeric characters, '-', '_' or '.', and must "
                              "start and end with an alphanumeric character")
    return causes


def selector_matches(selector, labels_):
    """metav1.LabelSelectorAsSelector(selector).Matches(labels)."""
    labels_ = labels_ or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels_.get(k) != v:
            return False
    for req in selector.get("matchExpressions") or []:
        op, key, vals = req.get("operator"), req.get("key"), req.get("values") or []
        if op == "In" and labels_.get(key) not in vals:
            return False
        if op == "NotIn" and labels_.get(key) in vals:
            return False
        if op == "Exists" and key not in labels_:
            return False
        if op == "DoesNotExist" and key in labels_:
            return False
    return True


# ---------------------------------------------------------------- pods
def _port_name(field, name):
    if len(name) > 15 or not IANA_SVC_NAME.match(name) or "--" in name \
            or not re.search("[a-z]", name):
        return invalid(field, name, "must contain only alpha-numeric characters (a-z, 0-9), "
                       "and hyphens (-), at most 15 characters, at least one letter, and not "
                       "start or end with or contain two adjacent hyphens")
    return []


def _port_number(field, value):
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
        return invalid(field, value, "must be between 1 and 65535, inclusive")
    return []


def _int_or_name(field, value):
    if isinstance(value, str):
        return _port_name(field, value)
    return _port_number(field, value)


def _probe(field, probe):
    if not probe:
        return []
    handlers = [h for h in ("exec", "httpGet", "tcpSocket", "grpc") if probe.get(h)]
    if len(handlers) != 1:
        return required(field, "must specify a handler type") if not handlers else \
            forbidden(field + "." + handlers[1], "may not specify more than 1 handler type")
    causes = []
    if "httpGet" in handlers:
        causes += _int_or_name(field + ".httpGet.port", probe["httpGet"].get("port"))
    for k in ("timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold",
              "initialDelaySeconds"):
        if probe.get(k) is not None and probe[k] < 0:
            causes += invalid(field + "." + k, probe[k], "must be greater than or equal to 0")
    return causes


def _resources(field, res):
    causes = []
    limits, requests = (res or {}).get("limits") or {}, (res or {}).get("requests") or {}
    for kind, values in (("limits", limits), ("requests", requests)):
        for name, value in values.items():
            if quantity(value) is None:
                causes += invalid("%s.%s[%s]" % (field, kind, name), value,
                                  "quantities must match the regular expression "
                                  "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
    for name, value in requests.items():
        if name in limits and quantity(value) is not None and quantity(limits[name]) is not None \
                and quantity(value) > quantity(limits[name]):
            causes += invalid("%s.requests" % field, value, "must be less than or equal to %s "
                              "limit of %s" % (name, limits[name]))
    return causes


def _container(field, c, volumes, port_names):
    causes = []
    name = c.get("name") or ""
    if not name:
        causes += required(field + ".name")
    elif not DNS_LABEL.match(name):
        causes += invalid(field + ".name", name, "a lowercase RFC 1123 label")
    if not c.get("image"):
        causes += required(field + ".image")
    for i, p in enumerate(c.get("ports") or []):
        where = "%s.ports[%d]" % (field, i)
        causes += _port_number(where + ".containerPort", p.get("containerPort"))
        if p.get("hostPort") is not None:
            causes += _port_number(where + ".hostPort", p["hostPort"])
        if p.get("name"):
            causes += _port_name(where + ".name", p["name"])
            if p["name"] in port_names:
                causes += duplicate(where + ".name", p["name"])
            port_names.add(p["name"])
        if p.get("protocol", "TCP") not in ("TCP", "UDP", "SCTP"):
            causes += not_supported(where + ".protocol", p["protocol"], ["SCTP", "TCP", "UDP"])
    for i, e in enumerate(c.get("env") or []):
        if not ENV_NAME.match(e.get("name") or ""):
            causes += invalid("%s.env[%d].name" % (field, i), e.get("name"),
                              "a valid environment variable name must consist of alphabetic "
                              "characters, digits, '_', '-', or '.', and must not start with a "
                              "digit")
    paths = set()
    for i, m in enumerate(c.get("volumeMounts") or []):
        where = "%s.volumeMounts[%d]" % (field, i)
        if m.get("name") not in volumes:
            causes += _err(where + ".name", "FieldValueNotFound", 'Not found: "%s"' % m.get("name"))
        if not m.get("mountPath"):
            causes += required(where + ".mountPath")
        elif m["mountPath"] in paths:
            causes += invalid(where + ".mountPath", m["mountPath"], "must be unique")
        paths.add(m.get("mountPath"))
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        causes += _probe(field + "." + probe, c.get(probe))
    causes += _resources(field + ".resources", c.get("resources"))
    return causes


def pod_spec(field, spec):
    causes = []
    volumes = set()
    for i, v in enumerate(spec.get("volumes") or []):
        name = v.get("name") or ""
        if not DNS_LABEL.match(name):
            causes += invalid("%s.volumes[%d].name" % (field, i), name, "a lowercase RFC 1123 "
                              "label")
        elif name in volumes:
            causes += duplicate("%s.volumes[%d].name" % (field, i), name)
        volumes.add(name)
    if not spec.get("containers"):
        causes += required(field + ".containers")
    names, port_names = set(), set()
    for group in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(group) or []):
            where = "%s.%s[%d]" % (field, group, i)
            causes += _container(where, c, volumes, port_names)
            if c.get("name") in names:
                causes += duplicate(where + ".name", c.get("name"))
            names.add(c.get("name"))
    if spec.get("restartPolicy", "Always") not in ("Always", "OnFailure", "Never"):
        causes += not_supported(field + ".restartPolicy", spec["restartPolicy"],
                                ["Always", "Never", "OnFailure"])
    for i, t in enumerate(spec.get("topologySpreadConstraints") or []):
        where = "%s.topologySpreadConstraints[%d]" % (field, i)
        if not t.get("maxSkew") or t["maxSkew"] < 1:
            causes += invalid(where + ".maxSkew", t.get("maxSkew", 0), "must be greater than zero")
        if not t.get("topologyKey"):
            causes += required(where + ".topologyKey", "can not be empty")
        if t.get("whenUnsatisfiable") not in ("DoNotSchedule", "ScheduleAnyway"):
            causes += not_supported(where + ".whenUnsatisfiable", t.get("whenUnsatisfiable", ""),
                                    ["DoNotSchedule", "ScheduleAnyway"])
    return causes


def _rolling(field, ru):
    ru = ru or {}
    causes = []
    unavail, surge = ru.get("maxUnavailable"), ru.get("maxSurge")
    if unavail in (0, "0%") and surge in (0, "0%", None):
        causes += invalid(field + ".maxUnavailable", unavail, "may not be 0 when `maxSurge` is 0")
    return causes


def workload(obj, kind):
    spec = obj.get("spec") or {}
    causes = []
    selector = spec.get("selector")
    template = spec.get("template") or {}
    tlabels = (template.get("metadata") or {}).get("labels") or {}
    if not selector:
        causes += required("spec.selector")
    elif not selector.get("matchLabels") and not selector.get("matchExpressions"):
        causes += invalid("spec.selector", selector, "empty selector is invalid for %s"
                          % kind.lower())
    elif not selector_matches(selector, tlabels):
        causes += invalid("spec.template.metadata.labels", tlabels,
                          "`selector` does not match template `labels`")
    causes += labels("spec.template.metadata.labels", tlabels)
    pod = template.get("spec") or {}
    causes += pod_spec("spec.template.spec", pod)
    if pod.get("restartPolicy", "Always") != "Always":
        causes += not_supported("spec.template.spec.restartPolicy", pod["restartPolicy"],
                                ["Always"])
    if kind == "Deployment":
        if spec.get("replicas") is not None and spec["replicas"] < 0:
            causes += invalid("spec.replicas", spec["replicas"],
                              "must be greater than or equal to 0")
        strategy = spec.get("strategy") or {}
        stype = strategy.get("type", "RollingUpdate")
        if stype not in ("RollingUpdate", "Recreate"):
            causes += not_supported("spec.strategy.type", stype, ["Recreate", "RollingUpdate"])
        elif stype == "Recreate" and strategy.get("rollingUpdate"):
            causes += forbidden("spec.strategy.rollingUpdate", "may not be specified when "
                                "strategy `type` is 'Recreate'")
        elif stype == "RollingUpdate":
            causes += _rolling("spec.strategy.rollingUpdate", strategy.get("rollingUpdate"))
    else:
        strategy = spec.get("updateStrategy") or {}
        stype = strategy.get("type", "RollingUpdate")
        if stype not in ("RollingUpdate", "OnDelete"):
            causes += not_supported("spec.updateStrategy.type", stype, ["OnDelete",
                                                                        "RollingUpdate"])
        elif stype == "RollingUpdate":
            causes += _rolling("spec.updateStrategy.rollingUpdate", strategy.get("rollingUpdate"))
    return causes


# ---------------------------------------------------------------- services
def service(obj):
    spec = obj.get("spec") or {}
    stype = spec.get("type", "ClusterIP")
    causes = []
    if stype not in ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"):
        return not_supported("spec.type", stype, ["ClusterIP", "ExternalName", "LoadBalancer",
                                                  "NodePort"])
    ports = spec.get("ports") or []
    if not ports and stype != "ExternalName" and spec.get("clusterIP") != "None":
        causes += required("spec.ports")
    names = set()
    for i, p in enumerate(ports):
        where = "spec.ports[%d]" % i
        name = p.get("name") or ""
        if len(ports) > 1 and not name:
            causes += required(where + ".name")
        elif name and not DNS_LABEL.match(name):
            causes += invalid(where + ".name", name, "a lowercase RFC 1123 label")
        if name in names and name:
            causes += duplicate(where + ".name", name)
        names.add(name)
        causes += _port_number(where + ".port", p.get("port"))
        if p.get("targetPort") is not None:
            causes += _int_or_name(where + ".targetPort", p["targetPort"])
        if p.get("nodePort") and stype not in ("NodePort", "LoadBalancer"):
            causes += forbidden(where + ".nodePort", "may not be used when `type` is '%s'" % stype)
        if p.get("protocol", "TCP") not in ("TCP", "UDP", "SCTP"):
            causes += not_supported(where + ".protocol", p["protocol"], ["SCTP", "TCP", "UDP"])
    etp = spec.get("externalTrafficPolicy")
    if etp:
        if stype not in ("NodePort", "LoadBalancer"):
            causes += invalid("spec.externalTrafficPolicy", etp, "may only be set when `type` "
                              "is 'NodePort' or 'LoadBalancer'")
        elif etp not in ("Cluster", "Local"):
            causes += not_supported("spec.externalTrafficPolicy", etp, ["Cluster", "Local"])
    for field in ("loadBalancerSourceRanges", "loadBalancerClass"):
        if spec.get(field) and stype != "LoadBalancer":
            causes += forbidden("spec." + field, "may only be used when `type` is "
                                "'LoadBalancer'")
    return causes


# ---------------------------------------------------------------- policy, autoscaling
def pdb(obj):
    spec = obj.get("spec") or {}
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        return invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set")
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy and policy not in ("IfHealthyBudget", "AlwaysAllow"):
        return not_supported("spec.unhealthyPodEvictionPolicy", policy,
                             ["AlwaysAllow", "IfHealthyBudget"])
    return []


def hpa(obj):
    spec = obj.get("spec") or {}
    causes = []
    ref = spec.get("scaleTargetRef") or {}
    for field in ("kind", "name"):
        if not ref.get(field):
            causes += required("spec.scaleTargetRef." + field)
    low = spec.get("minReplicas", 1)
    if low is not None and low < 1:
        causes += invalid("spec.minReplicas", low, "must be greater than or equal to 1")
    if spec.get("maxReplicas") is None:
        causes += required("spec.maxReplicas")
    elif spec["maxReplicas"] < (low or 1):
        causes += invalid("spec.maxReplicas", spec["maxReplicas"],
                          "must be greater than or equal to `minReplicas`")
    for i, m in enumerate(spec.get("metrics") or []):
        where = "spec.metrics[%d]" % i
        mtype = m.get("type")
        if mtype not in ("ContainerResource", "External", "Object", "Pods", "Resource"):
            causes += not_supported(where + ".type", mtype or "",
                                    ["ContainerResource", "External", "Object", "Pods",
                                     "Resource"])
            continue
        if mtype == "Resource":
            target = (m.get("resource") or {}).get("target") or {}
            if target.get("type") == "Utilization" and not target.get("averageUtilization", 0) > 0:
                causes += required(where + ".resource.target.averageUtilization",
                                   "must set a positive averageUtilization")
    return causes


# ---------------------------------------------------------------- admission
def webhook_configuration(obj):
    causes = []
    names = set()
    for i, w in enumerate(obj.get("webhooks") or []):
        where = "webhooks[%d]" % i
        name = w.get("name") or ""
        if len(name.split(".")) < 3 or not DNS_SUBDOMAIN.match(name):
            causes += invalid(where + ".name", name, "should be a domain with at least three "
                              "segments separated by dots")
        if name in names:
            causes += duplicate(where + ".name", name)
        names.add(name)
        versions = w.get("admissionReviewVersions") or []
        if not set(versions) & {"v1", "v1beta1"}:
            causes += required(where + ".admissionReviewVersions", "must specify one of v1, "
                               "v1beta1")
        side = w.get("sideEffects")
        if side not in ("None", "NoneOnDryRun"):
            causes += (required(where + ".sideEffects") if side is None else
                       not_supported(where + ".sideEffects", side, ["None", "NoneOnDryRun"]))
        if w.get("failurePolicy", "Fail") not in ("Fail", "Ignore"):
            causes += not_supported(where + ".failurePolicy", w["failurePolicy"],
                                    ["Fail", "Ignore"])
        if w.get("matchPolicy", "Equivalent") not in ("Exact", "Equivalent"):
            causes += not_supported(where + ".matchPolicy", w["matchPolicy"],
                                    ["Equivalent", "Exact"])
        timeout = w.get("timeoutSeconds")
        if timeout is not None and not 1 <= timeout <= 30:
            causes += invalid(where + ".timeoutSeconds", timeout, "the timeout value must be "
                              "between 1 and 30 seconds")
        causes += _client_config(where + ".clientConfig", w.get("clientConfig") or {})
        for j, rule in enumerate(w.get("rules") or []):
            rw = "%s.rules[%d]" % (where, j)
            for op in rule.get("operations") or []:
                if op not in ("*", "CREATE", "UPDATE", "DELETE", "CONNECT"):
                    causes += not_supported(rw + ".operations", op,
                                            ["*", "CONNECT", "CREATE", "DELETE", "UPDATE"])
            for field in ("apiGroups", "apiVersions", "resources"):
                if not rule.get(field):
                    causes += required("%s.%s" % (rw, field))
            if rule.get("scope", "*") not in ("*", "Cluster", "Namespaced"):
                causes += not_supported(rw + ".scope", rule["scope"],
                                        ["*", "Cluster", "Namespaced"])
        cond_names = set()
        conditions = w.get("matchConditions") or []
        if len(conditions) > 64:
            causes += _err(where + ".matchConditions", "FieldValueTooMany",
                           "Too many: %d: must have at most 64 items" % len(conditions))
        for j, cond in enumerate(conditions):
            cw = "%s.matchConditions[%d]" % (where, j)
            cname = cond.get("name") or ""
            if not cname or len(cname) > 63 or not QUALIFIED_NAME.match(cname):
                causes += invalid(cw + ".name", cname, "name part must consist of alphanumeric "
                                  "characters, '-', '_' or '.'")
            if cname in cond_names:
                causes += duplicate(cw + ".name", cname)
            cond_names.add(cname)
            if not (cond.get("expression") or "").strip():
                causes += required(cw + ".expression")
    return causes


def _client_config(field, cc):
    causes = []
    if bool(cc.get("url")) == bool(cc.get("service")):
        causes += required(field, "exactly one of url or service is required")
    svc = cc.get("service") or {}
    if svc:
        for k in ("name", "namespace"):
            if not svc.get(k):
                causes += required("%s.service.%s" % (field, k))
        if svc.get("port") is not None:
            causes += _port_number(field + ".service.port", svc["port"])
        if svc.get("path") and not svc["path"].startswith("/"):
            causes += invalid(field + ".service.path", svc["path"], "must start with a '/'")
    if cc.get("caBundle"):
        try:
            base64.b64decode(cc["caBundle"], validate=True)
        except (binascii.Error, ValueError):
            causes += invalid(field + ".caBundle", "...", "illegal base64 data")
    return causes


# ---------------------------------------------------------------- config
def config_keys(field, data):
    causes = []
    for key in data or {}:
        if len(key) > 253 or not CONFIG_KEY.match(key):
            causes += invalid("%s[%s]" % (field, key), key, "a valid config key must consist of "
                              "alphanumeric characters, '-', '_' or '.'")
    return causes


def configmap(obj):
    causes = config_keys("data", obj.get("data")) + config_keys("binaryData",
                                                                obj.get("binaryData"))
    for key in set(obj.get("data") or {}) & set(obj.get("binaryData") or {}):
        causes += invalid("data[%s]" % key, key, "duplicate of key present in binaryData")
    return causes


def secret(obj):
    data = obj.get("data") or {}
    causes = config_keys("data", data)
    if obj.get("type") == "kubernetes.io/tls":
        for key in ("tls.crt", "tls.key"):
            if key not in data:
                causes += required("data[%s]" % key)
    return causes


def rbac(obj, kind):
    causes = []
    if kind in ("Role", "ClusterRole"):
        for i, rule in enumerate(obj.get("rules") or []):
            where = "rules[%d]" % i
            if not rule.get("verbs"):
                causes += required(where + ".verbs", "verbs must contain at least one value")
            if rule.get("nonResourceURLs") and (kind == "Role" or rule.get("resources")):
                causes += invalid(where + ".nonResourceURLs", rule["nonResourceURLs"],
                                  "namespaced rules cannot apply to non-resource URLs"
                                  if kind == "Role" else "rules cannot apply to both regular "
                                  "resources and non-resource URLs")
            if rule.get("resources") and not rule.get("apiGroups"):
                causes += required(where + ".apiGroups", "resource rules must supply at least "
                                   "one api group")
        return causes
    ref = obj.get("roleRef") or {}
    allowed = ["ClusterRole"] if kind == "ClusterRoleBinding" else ["ClusterRole", "Role"]
    if ref.get("kind") not in allowed:
        causes += not_supported("roleRef.kind", ref.get("kind", ""), allowed)
    if not ref.get("name"):
        causes += required("roleRef.name")
    for i, sub in enumerate(obj.get("subjects") or []):
        where = "subjects[%d]" % i
        if sub.get("kind") not in ("ServiceAccount", "User", "Group"):
            causes += not_supported(where + ".kind", sub.get("kind", ""),
                                    ["Group", "ServiceAccount", "User"])
        if not sub.get("name"):
            causes += required(where + ".name")
        if sub.get("kind") == "ServiceAccount" and kind == "ClusterRoleBinding" \
                and not sub.get("namespace"):
            causes += required(where + ".namespace")
    return causes


def ingress_class(obj):
    controller = (obj.get("spec") or {}).get("controller") or ""
    if not controller:
        return required("spec.controller")
    domain, _, path = controller.partition("/")
    if not path or len(controller) > 250 or not DNS_SUBDOMAIN.match(domain):
        return invalid("spec.controller", controller, 'must be a domain-prefixed path (such as '
                       '"acme.io/foo")')
    return []


def crd(obj):
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    causes = []
    group = spec.get("group") or ""
    if "." not in group or not DNS_SUBDOMAIN.match(group):
        causes += invalid("spec.group", group, "should be a domain with at least one dot")
    for field in ("plural", "kind"):
        if not names.get(field):
            causes += required("spec.names." + field)
    want = "%s.%s" % (names.get("plural", ""), group)
    if obj["metadata"].get("name") != want:
        causes += invalid("metadata.name", obj["metadata"].get("name"),
                          'must be spec.names.plural+"."+spec.group')
    if spec.get("scope") not in ("Cluster", "Namespaced"):
        causes += not_supported("spec.scope", spec.get("scope", ""), ["Cluster", "Namespaced"])
    versions = spec.get("versions") or []
    if not versions:
        causes += required("spec.versions")
    if sum(1 for v in versions if v.get("storage")) != 1:
        causes += invalid("spec.versions", [v.get("name") for v in versions],
                          "must have exactly one version marked as storage version")
    for i, v in enumerate(versions):
        if not ((v.get("schema") or {}).get("openAPIV3Schema")):
            causes += required("spec.versions[%d].schema.openAPIV3Schema" % i,
                               "schemas are required")
    return causes


def immutable_role_ref(old, new):
    if old.get("roleRef") != new.get("roleRef"):
        return invalid("roleRef", new.get("roleRef"), "cannot change roleRef")
    return []


def validate(kind, obj, old=None):
    """The causes this module finds in an object of `kind` (old: on update)."""
    check = {"Deployment": lambda o: workload(o, "Deployment"),
             "DaemonSet": lambda o: workload(o, "DaemonSet"),
             "Service": service, "PodDisruptionBudget": pdb, "HorizontalPodAutoscaler": hpa,
             "ValidatingWebhookConfiguration": webhook_configuration, "ConfigMap": configmap,
             "Secret": secret, "IngressClass": ingress_class, "CustomResourceDefinition": crd,
             "Role": lambda o: rbac(o, "Role"), "ClusterRole": lambda o: rbac(o, "ClusterRole"),
             "RoleBinding": lambda o: rbac(o, "RoleBinding"),
             "ClusterRoleBinding": lambda o: rbac(o, "ClusterRoleBinding")}.get(kind)
    causes = check(obj) if check else []
    if old is not None and kind.endswith("RoleBinding"):
        causes += immutable_role_ref(old, obj)
    return causes
