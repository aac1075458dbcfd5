"""/openapi/v3: just enough for kubectl to validate on the server.

kubectl (validate=strict, its default) asks /openapi/v3 whether the PATCH
operation of a kind takes the query parameter fieldValidation; when it
does, kubectl skips its own schema validation and sends
fieldValidation=Strict with every write, and the server refuses unknown
fields (schema.py).  So each group-version document lists, per resource,
the object path with a PATCH operation carrying the
x-kubernetes-group-version-kind extension and the fieldValidation
parameter, and nothing else: no schemas (kubectl explain does not work),
no request body types (kubectl apply then builds strategic merge patches
from its compiled-in types, as it does without OpenAPI).

/openapi/v2 is an empty document (protobuf, zero bytes: no definitions).
kubectl falls back to it for a kind no group serves and no CRD defines;
finding no schema there it skips its own validation, as with a real
server, and then reports the kind as unknown ("no matches for kind ...
ensure CRDs are installed first").
"""

import hashlib
import json

import resources

_PARAMS = [{"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
           for name in ("dryRun", "fieldManager", "fieldValidation")]


V2_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"


def v2():
    """An openapi_v2.Document without a field set: the empty message."""
    return b""


def _gv_path(group, version):
    return "apis/%s/%s" % (group, version) if group else "api/" + version


def document(group, version):
    """The OpenAPI v3 document of one group-version."""
    paths = {}
    for res in resources.GROUP_VERSIONS.get((group, version), ()):
        base = "/" + _gv_path(group, version)
        if res.namespaced:
            base += "/namespaces/{namespace}"
        gvk = {"group": group, "version": version, "kind": res.kind}
        paths["%s/%s/{name}" % (base, res.plural)] = {
            "patch": {"operationId": "patch" + res.kind,
                      "x-kubernetes-action": "patch",
                      "x-kubernetes-group-version-kind": gvk,
                      "parameters": list(_PARAMS),
                      "responses": {"200": {"description": "OK"}}}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.4"},
            "paths": paths, "components": {"schemas": {}}}


def _hash(doc):
    return hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest().upper()


def root():
    """GET /openapi/v3: each group-version's document, by relative URL."""
    paths = {}
    for group, version in sorted(resources.GROUP_VERSIONS):
        rel = _gv_path(group, version)
        paths[rel] = {"serverRelativeURL": "/openapi/v3/%s?hash=%s"
                      % (rel, _hash(document(group, version)))}
    return {"paths": paths}


def lookup(rest):
    """The document at /openapi/v3/REST, or None."""
    parts = rest.strip("/").split("/")
    if parts[:1] == ["api"] and len(parts) == 2:
        key = ("", parts[1])
    elif parts[:1] == ["apis"] and len(parts) == 3:
        key = (parts[1], parts[2])
    else:
        return None
    if key not in resources.GROUP_VERSIONS:
        return None
    return document(*key)
