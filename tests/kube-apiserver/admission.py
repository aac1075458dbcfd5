"""Validating admission webhooks, called as kube-apiserver calls them
(admission/plugin/webhook/validating): for a create (POST), replace
(PUT) or patch (PATCH) of an object whose group, version, resource and operation a
stored ValidatingWebhookConfiguration's rules match, an AdmissionReview
admission.k8s.io/v1 is POSTed to the webhook's clientConfig.url (HTTPS,
trusted by its caBundle, ?timeout=Ns, within timeoutSeconds, default
10).  A denial is the request's error, "admission webhook "NAME" denied
the request: MESSAGE" with the response's status.code (403 without);
the response's warnings become Warning headers; a webhook that cannot
be called fails the request (500 "failed calling webhook") unless its
failurePolicy is Ignore.

A PATCH is an UPDATE with the patched object (options PatchOptions),
called outside the store's lock and applied only when the object did not
change meanwhile (store.py, Store.patch), as kube-apiserver does.

Not done: webhooks with a clientConfig.service (skipped: nothing to resolve it to; a test
gives a url, a chart's configuration stays inert),
namespaceSelector, objectSelector and matchConditions (CEL): every
matching request is sent, which a webhook must answer anyway."""

import base64
import copy
import http.client
import json
import ssl
import time
import urllib.parse
import uuid

import apierrors
import resources


def _matches(rule, res, operation):
    def has(key, value):
        values = rule.get(key) or []
        return "*" in values or value in values
    return (has("operations", operation) and has("apiGroups", res.group)
            and has("apiVersions", res.version) and has("resources", res.plural))


def _review(res, ns, name, operation, obj, old, options_kind):
    gvk = {"group": res.group, "version": res.version, "kind": res.kind}
    gvr = {"group": res.group, "version": res.version, "resource": res.plural}
    return {
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.uuid4()), "kind": gvk, "resource": gvr,
            "requestKind": gvk, "requestResource": gvr, "name": name,
            "namespace": ns, "operation": operation,
            "userInfo": {"username": "system:admin",
                         "groups": ["system:masters", "system:authenticated"]},
            "object": obj, "oldObject": old, "dryRun": False,
            "options": {"kind": options_kind, "apiVersion": "meta.k8s.io/v1"},
        },
    }


def _call(hook, review):
    """The webhook's response, or an exception (unreachable, bad answer)."""
    cfg = hook["clientConfig"]
    u = urllib.parse.urlsplit(cfg["url"])
    ctx = ssl.create_default_context()
    if cfg.get("caBundle"):
        ctx.load_verify_locations(cadata=base64.b64decode(cfg["caBundle"]).decode())
    timeout = int(hook.get("timeoutSeconds") or 10)
    conn = http.client.HTTPSConnection(u.hostname, u.port or 443, context=ctx,
                                       timeout=timeout)
    try:
        conn.request("POST", "%s?timeout=%ds" % (u.path or "/", timeout),
                     body=json.dumps(review).encode(),
                     headers={"Content-Type": "application/json",
                              "Accept": "application/json"})
        r = conn.getresponse()
        data = r.read()
    finally:
        conn.close()
    if r.status != 200:
        raise OSError("the server responded with status %d" % r.status)
    resp = json.loads(data)["response"]
    if resp.get("uid") != review["request"]["uid"]:
        raise OSError("expected response.uid=%s, got %s"
                      % (review["request"]["uid"], resp.get("uid")))
    return resp


def _hooks(store, res, operation):
    """The webhooks (with a url) whose rules match."""
    vwc = resources.find("admissionregistration.k8s.io", "v1",
                         "validatingwebhookconfigurations")
    if res is vwc:
        return []
    configs, _, _, _ = store.list(vwc, None, lambda o: True)
    return [hook for config in configs for hook in config.get("webhooks") or []
            if any(_matches(r, res, operation) for r in hook.get("rules") or [])
            and (hook.get("clientConfig") or {}).get("url")]


def any_hook(store, res, operation):
    """Whether a webhook is called for operation on res."""
    return bool(_hooks(store, res, operation))


def validate(store, res, ns, name, operation, obj, old, warnings,
             options_kind=None):
    """Call the matching webhooks on obj (CREATE or UPDATE); raises the
    ApiError of a denial or a failed call; appends their warnings.
    options_kind: the request's options (PatchOptions for a PATCH)."""
    hooks = _hooks(store, res, operation)
    if not hooks:
        return
    obj = copy.deepcopy(obj)
    md = obj.setdefault("metadata", {})
    if ns is not None:
        md["namespace"] = ns
    if operation == "CREATE":
        md.setdefault("uid", str(uuid.uuid4()))
        md["creationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    obj.setdefault("apiVersion", res.api_version)
    obj.setdefault("kind", res.kind)
    name = name or md.get("name", "")
    options_kind = options_kind or ("CreateOptions" if operation == "CREATE"
                                    else "UpdateOptions")
    for hook in hooks:
        review = _review(res, ns, name, operation, obj, old, options_kind)
        try:
            resp = _call(hook, review)
        except (OSError, ValueError, KeyError, ssl.SSLError) as err:
            if hook.get("failurePolicy", "Fail") == "Ignore":
                continue
            raise apierrors.ApiError(
                500, "InternalError", 'Internal error occurred: failed calling webhook '
                '"%s": failed to call webhook: Post "%s": %s'
                % (hook["name"], hook["clientConfig"].get("url", ""), err))
        warnings += ['299 - "%s"' % w.replace('"', "'")
                     for w in resp.get("warnings") or []]
        if not resp.get("allowed"):
            st = resp.get("status") or {}
            raise apierrors.ApiError(
                int(st.get("code") or 403), st.get("reason") or "Forbidden",
                'admission webhook "%s" denied the request: %s'
                % (hook["name"], st.get("message") or "without explanation"))
