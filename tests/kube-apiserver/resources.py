"""The resource types the stand-in serves, and their per-kind API rules.

Each `Resource` says where a kind lives in the URL space, how discovery
describes it, which fields count towards `metadata.generation`, which field
selectors it accepts, and how the real registry strategy treats updates
(kubernetes `pkg/registry/*/strategy.go`). `apply_defaults`, `validate` and
`prepare_update` are the small parts of defaulting, validation and update
strategy that clients of this project can observe.
"""

import copy
import ipaddress
import re
import threading

import validation


class Resource:
    """One served resource type (a group/version/plural triple)."""

    def __init__(self, group, version, plural, singular, kind, namespaced,
                 short_names=(), generation_fields=(), status=False,
                 unconditional_update=True, create_on_update=False,
                 field_labels=(), storage=None, return_deleted=False, schema=None):
        self.group = group
        self.version = version
        self.plural = plural
        self.singular = singular
        self.kind = kind
        self.namespaced = namespaced
        self.short_names = list(short_names)
        self.generation_fields = tuple(generation_fields)
        self.status = status
        self.unconditional_update = unconditional_update
        self.create_on_update = create_on_update
        self.field_labels = ("metadata.name", "metadata.namespace") + tuple(field_labels)
        # DELETE answers with the object (genericregistry ReturnDeletedObject)
        # instead of a Success Status.
        self.return_deleted = return_deleted
        # Resources sharing storage (core and events.k8s.io Events) name the
        # canonical resource's storage key here.
        self.storage = storage or self.key
        # A custom resource: its version's openAPIV3Schema (structural).
        self.schema = schema

    @property
    def custom(self):
        return self.schema is not None

    @property
    def key(self):
        """`plural.group` as used in messages (`leases.coordination.k8s.io`)."""
        return self.plural + ("." + self.group if self.group else "")

    @property
    def api_version(self):
        return self.group + "/" + self.version if self.group else self.version

    def discovery(self):
        """APIResource entries for /api/v1 or /apis/G/V."""
        verbs = ["create", "delete", "get", "list", "patch", "update", "watch"]
        entry = {"name": self.plural, "singularName": self.singular,
                 "namespaced": self.namespaced, "kind": self.kind, "verbs": verbs}
        if self.short_names:
            entry["shortNames"] = self.short_names
        entries = [entry]
        if self.status:
            entries.append({"name": self.plural + "/status", "singularName": "",
                            "namespaced": self.namespaced, "kind": self.kind,
                            "verbs": ["get", "patch", "update"]})
        return entries


_EVENT_FIELDS = ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                 "involvedObject.uid", "involvedObject.apiVersion",
                 "involvedObject.resourceVersion", "involvedObject.fieldPath",
                 "reason", "reportingComponent", "source", "type")

RESOURCES = [
    Resource("", "v1", "namespaces", "namespace", "Namespace", False, ["ns"], status=True,
             field_labels=("status.phase",), return_deleted=True),
    Resource("", "v1", "services", "service", "Service", True, ["svc"], status=True,
             return_deleted=True),
    Resource("", "v1", "secrets", "secret", "Secret", True, field_labels=("type",)),
    Resource("", "v1", "configmaps", "configmap", "ConfigMap", True, ["cm"]),
    Resource("", "v1", "events", "event", "Event", True, ["ev"], create_on_update=True,
             field_labels=_EVENT_FIELDS),
    Resource("discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", True,
             generation_fields=("addressType", "endpoints", "ports")),
    Resource("networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", True, ["ing"],
             generation_fields=("spec",), status=True),
    Resource("networking.k8s.io", "v1", "ingressclasses", "ingressclass", "IngressClass", False,
             generation_fields=("spec",)),
    Resource("coordination.k8s.io", "v1", "leases", "lease", "Lease", True,
             unconditional_update=False, create_on_update=True),
    Resource("events.k8s.io", "v1", "events", "event", "Event", True, ["ev"],
             create_on_update=True, field_labels=_EVENT_FIELDS, storage="events"),
    # Stored but not interpreted: what a controller's deployment manifests
    # (examples/deploy/) create next to the objects above, so that kubectl
    # can map, dry-run and create them here.
    Resource("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", True, ["sa"]),
    # Pods: stored (a test writes their status.podIP and phase), and the
    # pods/proxy subresource (kube_apiserver.py, PodProxy).
    Resource("", "v1", "pods", "pod", "Pod", True, ["po"], status=True),
    Resource("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole",
             False),
    Resource("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding",
             "ClusterRoleBinding", False),
    Resource("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", True),
    Resource("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding",
             True),
    Resource("apps", "v1", "deployments", "deployment", "Deployment", True, ["deploy"],
             generation_fields=("spec",), status=True),
    Resource("apps", "v1", "daemonsets", "daemonset", "DaemonSet", True, ["ds"],
             generation_fields=("spec",), status=True),
    # What a Helm chart of the controller adds (charts/kubengx/): validated
    # (validation.py) but not acted upon (no webhook is called, no
    # autoscaling or disruption budget is enforced).
    Resource("", "v1", "configmaps", "configmap", "ConfigMap", True, ["cm"]),
    Resource("policy", "v1", "poddisruptionbudgets", "poddisruptionbudget",
             "PodDisruptionBudget", True, ["pdb"], generation_fields=("spec",), status=True),
    Resource("autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler",
             "HorizontalPodAutoscaler", True, ["hpa"], status=True),
    Resource("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
             "validatingwebhookconfiguration", "ValidatingWebhookConfiguration", False,
             generation_fields=("webhooks",)),
    Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions",
             "customresourcedefinition", "CustomResourceDefinition", False, ["crd", "crds"],
             generation_fields=("spec",), status=True),
]

# Served kinds: the built-in ones above plus those of established
# CustomResourceDefinitions (register_crd).  Rebuilt, never changed in
# place, so readers on other threads see one consistent version.
_CUSTOM = {}
_CUSTOM_LOCK = threading.Lock()


def _index():
    global GROUP_VERSIONS, BY_KIND
    every = RESOURCES + [r for rs in _CUSTOM.values() for r in rs]
    gvs = {}
    for r in every:
        gvs.setdefault((r.group, r.version), []).append(r)
    GROUP_VERSIONS = gvs
    BY_KIND = {(r.api_version, r.kind): r for r in every}


_index()


def register_crd(crd):
    """Serve the kinds of a CustomResourceDefinition (created or updated)."""
    spec, names = crd.get("spec") or {}, (crd.get("spec") or {}).get("names") or {}
    served = []
    for v in spec.get("versions") or []:
        if not v.get("served", True):
            continue
        schema = (v.get("schema") or {}).get("openAPIV3Schema") or {}
        served.append(Resource(spec["group"], v["name"], names["plural"],
                               names.get("singular") or names["kind"].lower(), names["kind"],
                               spec.get("scope") == "Namespaced", names.get("shortNames") or (),
                               generation_fields=("spec",),
                               status="status" in (v.get("subresources") or {}),
                               storage="%s.%s" % (names["plural"], spec["group"]),
                               schema=schema))
    with _CUSTOM_LOCK:
        _CUSTOM[crd["metadata"]["name"]] = served
        _index()


def unregister_crd(name):
    with _CUSTOM_LOCK:
        _CUSTOM.pop(name, None)
        _index()


def find(group, version, plural):
    """The Resource served at /apis/group/version/plural, or None."""
    for r in GROUP_VERSIONS.get((group, version), ()):
        if r.plural == plural:
            return r
    return None


# ---------------------------------------------------------------- events
# core/v1 Event is the stored form; events.k8s.io/v1 is a field-renamed view
# of the same objects (kubernetes pkg/apis/events/v1/conversion.go).
_EVENT_RENAMES = [("involvedObject", "regarding"), ("message", "note"),
                  ("source", "deprecatedSource"), ("firstTimestamp", "deprecatedFirstTimestamp"),
                  ("lastTimestamp", "deprecatedLastTimestamp"), ("count", "deprecatedCount"),
                  ("reportingComponent", "reportingController"), ("related", "related")]


def to_stored(res, obj):
    """Convert an object sent to `res` into its stored (canonical) form."""
    if res.group != "events.k8s.io":
        return obj
    out = {k: v for k, v in obj.items()
           if k not in {new for _, new in _EVENT_RENAMES}}
    for old, new in _EVENT_RENAMES:
        if new in obj:
            out[old] = obj[new]
    out["apiVersion"], out["kind"] = "v1", "Event"
    return out


def from_stored(res, obj):
    """Present a stored object as `res` shows it (kind/apiVersion included)."""
    if res.group == "events.k8s.io":
        out = {k: v for k, v in obj.items() if k not in {old for old, _ in _EVENT_RENAMES}}
        for old, new in _EVENT_RENAMES:
            if old in obj:
                out[new] = obj[old]
        obj = out
    out = {"kind": res.kind, "apiVersion": res.api_version}
    out.update((k, v) for k, v in obj.items() if k not in ("kind", "apiVersion"))
    return out


def bookmark_object(res, rv):
    """The object of a BOOKMARK event: the kind's zero value plus an RV.

    Go serializes non-omitempty zero fields, so a 1.32 server sends e.g.
    `"endpoints":null` and `"creationTimestamp":null`.
    """
    body = {"kind": res.kind, "apiVersion": res.api_version,
            "metadata": {"resourceVersion": str(rv), "creationTimestamp": None}}
    body.update({
        "EndpointSlice": {"addressType": "", "endpoints": None, "ports": None},
        "Service": {"spec": {}, "status": {"loadBalancer": {}}},
        "Ingress": {"spec": {}, "status": {"loadBalancer": {}}},
        "IngressClass": {"spec": {}},
        "Namespace": {"spec": {}, "status": {}},
        "Lease": {"spec": {}},
        "Event": ({"involvedObject": {}, "reportingComponent": "", "reportingInstance": "",
                   "source": {}, "firstTimestamp": None, "lastTimestamp": None,
                   "eventTime": None}
                  if res.group == "" else
                  {"eventTime": None, "reportingController": "", "reportingInstance": "",
                   "regarding": {}, "deprecatedSource": {}, "deprecatedFirstTimestamp": None,
                   "deprecatedLastTimestamp": None}),
    }.get(res.kind, {}))
    return body


# ---------------------------------------------------------------- defaults
class Allocator:
    """ClusterIP and nodePort allocation for Services."""

    def __init__(self):
        self._next_ip = int(ipaddress.IPv4Address("10.96.0.10"))
        self._next_node_port = 30000

    def cluster_ip(self):
        self._next_ip += 1
        return str(ipaddress.IPv4Address(self._next_ip))

    def node_port(self):
        self._next_node_port += 1
        return self._next_node_port


def apply_defaults(res, obj, allocator, store_list, old=None):
    """API defaulting, plus create-time admission when `old` is None.

    `store_list(storage_key)` returns the stored objects of a kind (used by
    the DefaultIngressClass admission plugin). On update, a Service keeps its
    allocated clusterIP(s) and nodePorts when the new object leaves them unset.
    """
    kind = res.kind
    if kind == "Secret":
        obj.setdefault("type", "Opaque")
    elif kind == "Namespace":
        name = obj["metadata"]["name"]
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj["status"] = {"phase": "Active"}
    elif kind == "Service":
        if old is not None:
            _keep_allocations(obj.setdefault("spec", {}), old.get("spec") or {})
        _default_service(obj, allocator)
    elif kind == "EndpointSlice":
        for port in obj.get("ports") or []:
            port.setdefault("protocol", "TCP")
        obj.setdefault("endpoints", None)
        obj.setdefault("ports", None)
    elif kind == "Ingress" and old is None:
        _admit_default_ingress_class(obj, store_list("ingressclasses.networking.k8s.io"))
        obj.setdefault("spec", {})
        obj["status"] = {"loadBalancer": {}}
    elif kind == "Lease":
        obj.setdefault("spec", {})
    elif kind == "CustomResourceDefinition":
        _crd_status(obj)
    return obj


def _crd_status(crd):
    """What apiextensions-apiserver's controllers write: names accepted, established."""
    spec = crd.setdefault("spec", {})
    names = dict(spec.get("names") or {})
    names.setdefault("singular", (names.get("kind") or "").lower())
    names.setdefault("listKind", (names.get("kind") or "") + "List")
    spec["names"] = names
    for v in spec.get("versions") or []:
        v.setdefault("served", True)
    now = crd["metadata"].get("creationTimestamp")
    crd["status"] = {
        "acceptedNames": names,
        "conditions": [{"type": t, "status": "True", "reason": r, "message": m,
                        "lastTransitionTime": now}
                       for t, r, m in (("NamesAccepted", "NoConflicts", "no conflicts found"),
                                       ("Established", "InitialNamesAccepted",
                                        "the initial names have been accepted"))],
        "storedVersions": [v["name"] for v in spec.get("versions") or [] if v.get("storage")],
    }


def _default_service(obj, allocator):
    spec = obj.setdefault("spec", {})
    stype = spec.setdefault("type", "ClusterIP")
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        if stype != "ExternalName":
            port.setdefault("targetPort", port.get("port"))
        if stype in ("NodePort", "LoadBalancer"):
            port.setdefault("nodePort", allocator.node_port())
    if stype != "ExternalName":
        spec.setdefault("sessionAffinity", "None")
        if "clusterIP" not in spec:
            spec["clusterIP"] = allocator.cluster_ip()
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        if spec["clusterIP"] != "None":
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    if stype in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    obj["status"] = {"loadBalancer": {}}


def _keep_allocations(spec, old_spec):
    for field in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
        if field not in spec and field in old_spec:
            spec[field] = old_spec[field]
    old_ports = {(p.get("port"), p.get("protocol", "TCP")): p for p in old_spec.get("ports") or []}
    for port in spec.get("ports") or []:
        old_port = old_ports.get((port.get("port"), port.get("protocol", "TCP")), {})
        if "nodePort" not in port and "nodePort" in old_port:
            port["nodePort"] = old_port["nodePort"]


def _admit_default_ingress_class(ing, classes):
    """plugin/pkg/admission/network/defaultingressclass: set the class on create."""
    spec = ing.setdefault("spec", {})
    annotations = ing["metadata"].get("annotations") or {}
    if spec.get("ingressClassName") is not None or "kubernetes.io/ingress.class" in annotations:
        return
    defaults = [c for c in classes
                if (c["metadata"].get("annotations") or {}).get(
                    "ingressclass.kubernetes.io/is-default-class") == "true"]
    if defaults:
        # Several defaults: the newest wins (kubernetes PR#110974).
        newest = max(defaults, key=lambda c: (c["metadata"]["creationTimestamp"],
                                              c["metadata"]["name"]))
        spec["ingressClassName"] = newest["metadata"]["name"]


# ---------------------------------------------------------------- validation
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def validate(res, obj, old=None):
    """Return a list of (field, reason, message) causes; empty when valid."""
    causes = validation.labels("metadata.labels", obj["metadata"].get("labels"))
    name = obj["metadata"].get("name", "")
    label_names = res.kind in ("Namespace", "Service")
    pattern, limit = (_DNS1123_LABEL, 63) if label_names else (_DNS1123_SUBDOMAIN, 253)
    if not pattern.match(name) or len(name) > limit:
        what = "RFC 1123 label" if label_names else "RFC 1123 subdomain"
        causes.append(("metadata.name", "FieldValueInvalid",
                       'Invalid value: "%s": a lowercase %s must consist of lower case '
                       "alphanumeric characters, '-'%s and must start and end with an "
                       "alphanumeric character" % (name, what, "" if label_names else " or '.'")))
    if res.custom:
        return causes
    if res.kind == "Ingress":
        causes += _validate_ingress(obj.get("spec") or {})
    causes += validation.validate(res.kind, obj, old)
    return causes


def _validate_ingress(spec):
    causes = []
    if not spec.get("rules") and not spec.get("defaultBackend"):
        causes.append(("spec.rules", "FieldValueRequired",
                       "Required value: either `defaultBackend` or `rules` must be specified"))
    for i, rule in enumerate(spec.get("rules") or []):
        for j, path in enumerate(((rule.get("http") or {}).get("paths")) or []):
            where = "spec.rules[%d].http.paths[%d]" % (i, j)
            if not path.get("pathType"):
                causes.append((where + ".pathType", "FieldValueRequired",
                               "Required value: pathType must be specified"))
            elif path["pathType"] not in ("Exact", "Prefix", "ImplementationSpecific"):
                causes.append((where + ".pathType", "FieldValueNotSupported",
                               'Unsupported value: "%s": supported values: "Exact", '
                               '"ImplementationSpecific", "Prefix"' % path["pathType"]))
            backend = path.get("backend") or {}
            if bool(backend.get("service")) == bool(backend.get("resource")):
                causes.append((where + ".backend", "FieldValueInvalid",
                               "Invalid value: \"\": cannot set both resource and service "
                               "backends" if backend.get("service") else
                               "Required value: one of `service` or `resource` must be specified"))
    return causes


# ---------------------------------------------------------------- update strategy
def prepare_update(res, old, new, subresource):
    """Apply the registry update strategy; returns the object to store.

    Main endpoint: status is copied from the old object (kinds with a status
    subresource). Status endpoint: spec and metadata other than the
    resourceVersion are copied from the old object.
    """
    if subresource == "status":
        out = copy.deepcopy(old)
        out["status"] = new.get("status")
        if out["status"] is None:
            del out["status"]
        return out
    if res.status and "status" in old:
        new["status"] = copy.deepcopy(old["status"])
    meta, old_meta = new["metadata"], old["metadata"]
    for field in ("uid", "creationTimestamp", "generation", "deletionTimestamp", "namespace"):
        if field in old_meta:
            meta[field] = old_meta[field]
        else:
            meta.pop(field, None)
    if res.generation_fields and any(new.get(f) != old.get(f) for f in res.generation_fields):
        meta["generation"] = old_meta.get("generation", 0) + 1
    if res.kind == "Namespace":
        new["spec"] = copy.deepcopy(old.get("spec", {}))
    return new
