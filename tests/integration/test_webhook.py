"""The validating admission webhook of `kubengx controller`
(--validating-webhook): the real controller against the stand-in API,
AdmissionReview admission.k8s.io/v1 bodies shaped as the API server
sends them (recorded fields: uid, kind, resource, requestKind,
operation, userInfo, object, oldObject, dryRun, options), POSTed over
HTTPS to /networking/v1/ingresses?timeout=10s with a certificate made
the way the chart makes it (a CA and a serving certificate for the
webhook Service's names, here with 127.0.0.1 too), checked against that
CA.

Asserted from the answers: each kind of bad Ingress rejected with a
message naming the field, good ones and later-fixable ones admitted,
another class admitted untouched, DELETE admitted, the uid echoed;
nginx -t rejecting the config with the Ingress (test_controller_exclusion.py's
wrapper nginx that refuses a marker host) and not finishing in time
(allowed with a warning); bad certificate or key
flags refused at start with a clear message; a replaced certificate
served without a restart; and the chart's default arguments accepted by
a controller that starts and answers reviews."""

import base64
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import time
import uuid

import pytest
import yaml

import harness
from manifests import (backend_service, ingress, ingress_class, path, rule)
from test_controller import controllers  # noqa: F401 (fixture)
from test_controller_exclusion import wrapper

SVC_NAME = "kubengx-admission"
SVC_NS = "kubengx"
HASH_BY = "nginx.ingress.kubernetes.io/upstream-hash-by"
LB = "nginx.ingress.kubernetes.io/load-balance"


# --- certificates ------------------------------------------------------------

def make_ca(d, cn="kubengx-admission-ca"):
    key, crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.crt")
    harness.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                 "-days", "2", "-subj", "/CN=" + cn, "-keyout", key,
                 "-out", crt], check=True)
    return crt, key


def make_serving(d, ca, name="tls"):
    """A serving certificate signed by ca for the webhook Service's names
    (the chart's genSignedCert) and 127.0.0.1."""
    ca_crt, ca_key = ca
    key, csr = os.path.join(d, name + ".key"), os.path.join(d, name + ".csr")
    crt, ext = os.path.join(d, name + ".crt"), os.path.join(d, name + ".ext")
    host = "%s.%s.svc" % (SVC_NAME, SVC_NS)
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:%s,DNS:%s.%s,DNS:%s,IP:127.0.0.1\n"
                % (SVC_NAME, SVC_NAME, SVC_NS, host))
    harness.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes",
                 "-subj", "/CN=" + host, "-keyout", key, "-out", csr],
                check=True)
    harness.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca_crt,
                 "-CAkey", ca_key, "-CAcreateserial", "-days", "2",
                 "-extfile", ext, "-out", crt], check=True)
    return crt, key


@pytest.fixture
def pki(tmp_path):
    d = str(tmp_path / "pki")
    os.makedirs(d)
    ca = make_ca(d)
    crt, key = make_serving(d, ca)
    return {"dir": d, "ca": ca[0], "ca_pair": ca, "cert": crt, "key": key}


# --- AdmissionReview ---------------------------------------------------------

def review(obj, operation="CREATE", old=None, uid=None):
    """An AdmissionReview as the API server POSTs it for an Ingress."""
    gvk = {"group": "networking.k8s.io", "version": "v1", "kind": "Ingress"}
    gvr = {"group": "networking.k8s.io", "version": "v1",
           "resource": "ingresses"}
    md = (obj or old)["metadata"]
    return {
        "kind": "AdmissionReview",
        "apiVersion": "admission.k8s.io/v1",
        "request": {
            "uid": uid or str(uuid.uuid4()),
            "kind": gvk, "resource": gvr,
            "requestKind": gvk, "requestResource": gvr,
            "name": md["name"], "namespace": md.get("namespace", "default"),
            "operation": operation,
            "userInfo": {"username": "kubernetes-admin",
                         "groups": ["system:masters",
                                    "system:authenticated"]},
            "object": obj, "oldObject": old, "dryRun": False,
            "options": {"kind": "CreateOptions" if operation == "CREATE"
                        else "UpdateOptions",
                        "apiVersion": "meta.k8s.io/v1",
                        "fieldManager": "kubectl-client-side-apply",
                        "fieldValidation": "Strict"},
        },
    }


def as_stored(obj):
    """The object as the API server has it when it calls the webhook
    (uid, creationTimestamp and generation set before validation)."""
    o = json.loads(json.dumps(obj))
    md = o["metadata"]
    md.setdefault("uid", str(uuid.uuid4()))
    md["creationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                            time.gmtime(time.time() + 1))
    md["generation"] = 1
    return o


def post(port, body, cafile, path="/networking/v1/ingresses?timeout=10s",
         timeout=15):
    ctx = ssl.create_default_context(cafile=cafile)
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx,
                                       timeout=timeout)
    try:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        conn.request("POST", path, body=data,
                     headers={"Content-Type": "application/json",
                              "Accept": "application/json"})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def admit(port, pki, obj, **kw):
    rv = review(as_stored(obj) if obj else None, **kw)
    status, data = post(port, rv, pki["ca"])
    assert status == 200, data
    out = json.loads(data)
    assert out["apiVersion"] == "admission.k8s.io/v1"
    assert out["kind"] == "AdmissionReview"
    assert out["response"]["uid"] == rv["request"]["uid"]
    return out["response"]


def rejected(resp, *fields):
    assert resp["allowed"] is False, resp
    msg = resp["status"]["message"]
    assert resp["status"]["code"] == 400
    for f in fields:
        assert f in msg, (f, msg)
    return msg


def webhook_args(port, pki, *more):
    return ["--validating-webhook", ":%d" % port,
            "--validating-webhook-certificate", pki["cert"],
            "--validating-webhook-key", pki["key"], *more]


def cluster(kube_api, backends):
    """IngressClass kubengx, Service web (one unnamed port, targetPort
    8080) in default and team-b, and Ingress shop (shop.example.com/ to
    web) in default."""
    bk = backends("a", "b")
    api = kube_api()
    api.create(ingress_class("kubengx"))
    api.create({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": "team-b"}})
    for o in backend_service(bk, "web", "a", port_name=None):
        api.create(o)
    for o in backend_service(bk, "web", "b", ns="team-b", port_name=None):
        api.create(o)
    api.create(ingress("shop", [rule("shop.example.com",
                                     path("/", "web", 80))]))
    return api


def wait_webhook(ctl, port):
    ctl.wait_ready()
    harness.wait_for(lambda: harness.port_open("127.0.0.1", port), 10,
                     "webhook port")


@pytest.fixture
def webhook(kube_api, backends, controllers, pki):  # noqa: F811
    api = cluster(kube_api, backends)
    port = harness.free_port()
    ctl = controllers(api, args=webhook_args(port, pki))
    wait_webhook(ctl, port)
    return api, ctl, port


# --- reviews -----------------------------------------------------------------

def test_good_ingress_admitted_and_uid_echoed(webhook, pki):
    _, _, port = webhook
    good = ingress("blog", [rule("blog.example.com", path("/", "web", 80))])
    resp = admit(port, pki, good, uid="705ab4f5-6393-11e8-b7cc-42010a800002")
    assert resp == {"uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
                    "allowed": True}
    # an UPDATE of the stored Ingress with a new path is fine too
    shop = ingress("shop", [rule("shop.example.com", path("/", "web", 80),
                                 path("/api", "web", 80))])
    assert admit(port, pki, shop, operation="UPDATE",
                 old=as_stored(ingress("shop", [rule(
                     "shop.example.com", path("/", "web", 80))])))["allowed"]


def test_missing_service_is_admitted(webhook, pki):
    """A Service or Secret applied after its Ingress is common (one
    kubectl apply -f dir/): what another write fixes is not refused."""
    _, _, port = webhook
    ing = ingress("later", [rule("later.example.com",
                                 path("/", "not-yet", 80))],
                  tls=[{"hosts": ["later.example.com"],
                        "secretName": "not-yet-tls"}])
    assert admit(port, pki, ing)["allowed"] is True


def test_bad_host_rejected_naming_the_field(webhook, pki):
    _, _, port = webhook
    bad = ingress("bad-host", [rule("shop.example.com", path("/x", "web")),
                               rule("-bad-.example.com",
                                    path("/", "web", 80))])
    msg = rejected(admit(port, pki, bad), "spec.rules[1]", "bad-host")
    assert "-bad-.example.com" in msg


def test_bad_path_rejected_naming_the_field(webhook, pki):
    _, _, port = webhook
    bad = ingress("bad-path", [rule("p.example.com",
                                    path("/ok", "web", 80),
                                    path("/a{b}", "web", 80))])
    rejected(admit(port, pki, bad), "spec.rules[0].http.paths[1]")


def test_bad_annotation_rejected_naming_the_field(webhook, pki):
    _, _, port = webhook
    bad = ingress("bad-ann", [rule("ann.example.com", path("/", "web", 80))],
                  annotations={LB: "fastest"})
    msg = rejected(admit(port, pki, bad), "metadata.annotations", LB)
    assert "fastest" in msg


def test_route_taken_by_another_ingress_rejected(webhook, pki):
    """shop.example.com/ is the older Ingress shop's: a second one would
    lose that route."""
    _, _, port = webhook
    twin = ingress("twin", [rule("shop.example.com", path("/", "web", 80))],
                   created=None)
    rejected(admit(port, pki, twin), "spec.rules[0]", "conflict")


def test_other_namespaces_host_rejected(webhook, pki):
    """--host-ownership namespace (the default): shop.example.com belongs
    to namespace default."""
    _, _, port = webhook
    steal = ingress("steal", [rule("shop.example.com",
                                   path("/admin", "web", 80))],
                    ns="team-b", created=None)
    msg = rejected(admit(port, pki, steal), "spec.rules[0]", "host-owned")
    assert "shop.example.com" in msg


def test_problems_of_other_ingresses_do_not_count(webhook, pki):
    """The Ingress under review is older than shop: shop would lose its
    route, not this one, and this one is admitted."""
    _, _, port = webhook
    older = ingress("older", [rule("shop.example.com",
                                   path("/", "web", 80))])
    older["metadata"]["creationTimestamp"] = "2019-01-01T00:00:00Z"
    rv = review(older)
    status, data = post(port, rv, pki["ca"])
    assert status == 200 and json.loads(data)["response"]["allowed"] is True


def test_other_class_and_delete_admitted_untouched(webhook, pki):
    _, _, port = webhook
    bad = {"host": "-bad-.example.com",
           "http": {"paths": [path("/a{b}", "web", 80)]}}
    other = ingress("theirs", [bad], cls="nginx")
    resp = admit(port, pki, other)
    assert resp["allowed"] is True and "status" not in resp
    legacy = ingress("legacy", [bad], cls=None,
                     annotations={"kubernetes.io/ingress.class": "nginx"})
    assert admit(port, pki, legacy)["allowed"] is True
    ours = ingress("ours", [bad])
    rejected(admit(port, pki, ours), "spec.rules[0]")
    assert admit(port, pki, None, operation="DELETE",
                 old=as_stored(ours))["allowed"] is True


def test_bad_requests(webhook, pki):
    _, _, port = webhook
    status, data = post(port, b"{not json", pki["ca"])
    assert status == 400
    status, data = post(port, {"apiVersion": "admission.k8s.io/v1beta1",
                               "kind": "AdmissionReview",
                               "request": {"uid": "x"}}, pki["ca"])
    assert status == 400 and b"admission.k8s.io/v1" in data
    status, _ = post(port, review(as_stored(ingress("x"))), pki["ca"],
                     path="/validate")
    assert status == 404
    # a client that does not trust the CA: the handshake fails
    ctx = ssl.create_default_context()
    with pytest.raises(ssl.SSLError):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            ctx.wrap_socket(s, server_hostname="127.0.0.1")


# --- nginx -t ----------------------------------------------------------------

def test_nginx_t_rejection(tmp_path, kube_api, backends, controllers,
                           pki):  # noqa: F811
    """nginx -t refuses the config with the Ingress (a wrapper nginx that
    refuses a marker host, saying where, like nginx): rejected with
    nginx's words, the temporary directory left out."""
    api = cluster(kube_api, backends)
    port = harness.free_port()
    ctl = controllers(api, args=webhook_args(
        port, pki, "--nginx", wrapper(tmp_path, "poison")))
    wait_webhook(ctl, port)

    poison = ingress("poison", [rule("poison.example.com",
                                     path("/", "web", 80))])
    msg = rejected(admit(port, pki, poison), "nginx -t")
    assert "the test refuses this host in kubengx.conf:" in msg
    assert "/kubengx-check." not in msg
    assert admit(port, pki, ingress("fine", [rule(
        "fine.example.com", path("/", "web", 80))]))["allowed"] is True
    assert "webhook: Ingress default/poison rejected" in ctl.text()


def test_nginx_t_deadline_allows_with_a_warning(tmp_path, kube_api, backends,
                                                controllers, pki):  # noqa: F811
    """nginx -t that does not end within --validating-webhook-test-timeout
    (every one takes 3s here): killed, and the documented policy allows
    the Ingress with a warning; the loop kept serving meanwhile."""
    api = cluster(kube_api, backends)
    port = harness.free_port()
    ctl = controllers(api, args=webhook_args(
        port, pki, "--nginx", wrapper(tmp_path, "no-such-host", test_delay=3),
        "--validating-webhook-test-timeout", "1s"))
    wait_webhook(ctl, port)

    t0 = time.monotonic()
    resp = admit(port, pki, ingress("slow", [rule(
        "slow.example.com", path("/", "web", 80))]))
    assert time.monotonic() - t0 < 2.9
    assert resp["allowed"] is True
    assert "nginx -t" in resp["warnings"][0]
    assert ctl.get("/", host="shop.example.com").status == 200
    assert "did not finish in time" in ctl.text()


# --- certificate and flags ---------------------------------------------------

def start_fails(api, tmp_path, args):
    cmd = [harness.KUBENGX, "controller", "--kubeconfig", api.kubeconfig,
           "--conf-dir", str(tmp_path / "conf"), "--http-port",
           str(harness.free_port()), "--https-port", str(harness.free_port()),
           "--metrics-port", "0", "--no-leader-elect", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    return p.returncode, p.stdout + p.stderr


def test_bad_certificate_flags_fail_at_start(tmp_path, kube_api, pki):
    api = kube_api()
    port = harness.free_port()
    rc, out = start_fails(api, tmp_path, [
        "--validating-webhook", ":%d" % port,
        "--validating-webhook-certificate", pki["cert"]])
    assert rc == 2 and "--validating-webhook-key" in out

    rc, out = start_fails(api, tmp_path, webhook_args(port, {
        "cert": str(tmp_path / "missing.crt"), "key": pki["key"]}))
    assert rc == 1
    assert re.search(r"--validating-webhook-certificate \S*missing.crt: ",
                     out), out

    other = make_serving(pki["dir"], pki["ca_pair"], "other")
    rc, out = start_fails(api, tmp_path, webhook_args(port, {
        "cert": pki["cert"], "key": other[1]}))
    assert rc == 1 and "--validating-webhook-key" in out, out
    assert "mismatch" in out or "does not match" in out, out

    rc, out = start_fails(api, tmp_path, webhook_args(port, {
        "cert": pki["key"], "key": pki["key"]}))
    assert rc == 1 and "--validating-webhook-certificate" in out, out

    rc, out = start_fails(api, tmp_path, [
        "--validating-webhook", "9443",
        "--validating-webhook-certificate", pki["cert"],
        "--validating-webhook-key", pki["key"]])
    assert rc == 1 and "[ADDRESS]:PORT" in out, out


def served_cert(port):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with ctx.wrap_socket(s) as t:
            return t.getpeercert(binary_form=True)


def test_replaced_certificate_is_served(webhook, pki, tmp_path):
    """The kubelet swaps the Secret's files in place: the new pair is
    served without a restart, from a new CA too."""
    _, ctl, port = webhook
    before = served_cert(port)
    d = str(tmp_path / "pki2")
    os.makedirs(d)
    ca2 = make_ca(d, "rotated-ca")
    crt, key = make_serving(d, ca2)
    shutil.copy(key, pki["key"] + ".new")
    shutil.copy(crt, pki["cert"] + ".new")
    os.rename(pki["key"] + ".new", pki["key"])
    os.rename(pki["cert"] + ".new", pki["cert"])
    harness.wait_for(lambda: served_cert(port) != before, 10,
                     "the new certificate")
    resp = admit(port, dict(pki, ca=ca2[0]), ingress("blog", [rule(
        "blog.example.com", path("/", "web", 80))]))
    assert resp["allowed"] is True
    assert "webhook: certificate" in ctl.text()


# --- the chart's arguments ---------------------------------------------------

HELM = shutil.which("helm") or "/usr/local/bin/helm"


def test_chart_default_args_start_the_webhook(tmp_path, kube_api, backends,
                                              controllers, pki):  # noqa: F811
    """`helm template` with the default values: the controller takes the
    container's args as they are; only what points into the pod (the conf
    dir, the ports, the mounted certificate files) is overridden after
    them, and the webhook answers."""
    if not os.access(HELM, os.X_OK):
        pytest.skip("helm 3 not installed (make deps)")
    chart = os.path.join(harness.ROOT, "charts", "kubengx")
    out = harness.run([HELM, "template", "kubengx", chart, "--namespace",
                       "kubengx"], check=True,
                      env=dict(os.environ,
                               HELM_CACHE_HOME="/tmp/kubengx-helm-cache",
                               HELM_CONFIG_HOME="/tmp/kubengx-helm-config",
                               HELM_DATA_HOME="/tmp/kubengx-helm-data")).stdout
    docs = [d for d in yaml.safe_load_all(out) if d]
    wl = [d for d in docs if d["kind"] == "Deployment"][0]
    args = wl["spec"]["template"]["spec"]["containers"][0]["args"]
    assert any(a.startswith("--validating-webhook=:") for a in args)
    args = [a.replace("$(POD_NAMESPACE)", "kubengx") for a in args]

    p = harness.run([harness.KUBENGX, "controller", *args, "--help"])
    assert p.returncode == 0, p.stderr

    pod_only = {"conf-dir", "http-port", "https-port", "metrics-port",
                "validating-webhook", "validating-webhook-certificate",
                "validating-webhook-key"}
    kept = [a for a in args if a[2:].split("=")[0] not in pod_only]
    api = cluster(kube_api, backends)
    port = harness.free_port()
    ctl = controllers(api, args=kept + webhook_args(port, pki))
    wait_webhook(ctl, port)
    bad = ingress("bad-ann", [rule("ann.example.com", path("/", "web", 80))],
                  annotations={LB: "fastest"})
    rejected(admit(port, pki, bad), "metadata.annotations")


# --- through the API server --------------------------------------------------

def register_webhook(api, pki, port):
    """A ValidatingWebhookConfiguration like the chart's, with a url."""
    with open(pki["ca"], "rb") as f:
        ca = base64.b64encode(f.read()).decode()
    api.request("POST", "/apis/admissionregistration.k8s.io/v1/"
                "validatingwebhookconfigurations", {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "kubengx-admission"},
        "webhooks": [{
            "name": "validate.ingress.kubengx.io",
            "admissionReviewVersions": ["v1"], "sideEffects": "None",
            "failurePolicy": "Fail", "timeoutSeconds": 10,
            "rules": [{"apiGroups": ["networking.k8s.io"],
                       "apiVersions": ["v1"],
                       "operations": ["CREATE", "UPDATE"],
                       "resources": ["ingresses"], "scope": "Namespaced"}],
            "clientConfig": {"url": "https://127.0.0.1:%d/networking/v1/"
                                    "ingresses" % port, "caBundle": ca}}]})


def kubectl(api, tmp_path, *args):
    """The real kubectl against the stand-in."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return subprocess.run(
        ["kubectl", "--kubeconfig", api.kubeconfig, *args],
        env=dict(os.environ, HOME=str(home), KUBECONFIG=""),
        capture_output=True, text=True, timeout=60)


def test_kubectl_apply_is_refused_through_the_webhook(webhook, pki, tmp_path):
    """The stand-in calls the webhook as kube-apiserver does (a
    ValidatingWebhookConfiguration like the chart's, with a url): kubectl
    apply of a bad Ingress prints the denial naming the field; a good one
    is stored, with the warnings of none."""
    api, _, port = webhook
    register_webhook(api, pki, port)

    def apply(obj):
        f = tmp_path / ("%s.yaml" % obj["metadata"]["name"])
        f.write_text(yaml.safe_dump(obj))
        return kubectl(api, tmp_path, "apply", "-f", str(f))

    bad = ingress("bad-ann", [rule("ann.example.com", path("/", "web", 80))],
                  annotations={LB: "fastest"}, created=None)
    p = apply(bad)
    assert p.returncode != 0
    assert ('admission webhook "validate.ingress.kubengx.io" denied the '
            'request: metadata.annotations[nginx.ingress.kubernetes.io/'
            'load-balance]: ' in p.stderr), p.stderr
    assert "fastest" in p.stderr
    with pytest.raises(Exception):
        api.get("/apis/networking.k8s.io/v1/namespaces/default/ingresses/"
                "bad-ann")

    good = ingress("blog", [rule("blog.example.com", path("/", "web", 80))],
                   created=None)
    p = apply(good)
    assert p.returncode == 0, p.stderr
    assert api.get("/apis/networking.k8s.io/v1/namespaces/default/"
                   "ingresses/blog")["metadata"]["name"] == "blog"


# --- objects an annotation names that come later ----------------------------

P = "nginx.ingress.kubernetes.io/"
SHOP = "/apis/networking.k8s.io/v1/namespaces/default/ingresses/shop"


def b64(text):
    return base64.b64encode(text.encode()).decode()


def later(name, annotations, tls=False):
    host = "%s.example.com" % name
    return ingress(name, [rule(host, path("/", "web", 80))],
                   annotations=annotations,
                   tls=[{"hosts": [host], "secretName": name + "-tls"}]
                   if tls else None)


def test_missing_annotation_objects_admitted_with_a_warning(webhook, pki):
    """kubectl apply -f dir/ may send the Ingress before the Secret or
    ConfigMap its annotations name: admitted, with a warning naming the
    annotation and the code no-annotation-object (the sync leaves the
    Ingress out until the object exists)."""
    _, _, port = webhook
    cases = [
        ("basic", {P + "auth-type": "basic", P + "auth-secret": "basic-auth"},
         False, "auth-secret"),
        ("client-ca", {P + "auth-tls-secret": "default/client-ca"}, True,
         "auth-tls-secret"),
        ("headers", {P + "custom-headers": "default/shop-headers"}, False,
         "custom-headers"),
        ("ext-auth", {P + "auth-url": "http://127.0.0.1:9/auth",
                      P + "auth-proxy-set-headers": "auth-headers"}, False,
         "auth-proxy-set-headers"),
        ("backend-ca", {P + "backend-protocol": "HTTPS",
                        P + "proxy-ssl-secret": "default/backend-ca"}, False,
         "proxy-ssl-secret"),
    ]
    for name, ann, tls, key in cases:
        resp = admit(port, pki, later(name, ann, tls))
        assert resp["allowed"] is True, (name, resp)
        warned = [w for w in resp.get("warnings", [])
                  if "[no-annotation-object]" in w]
        assert len(warned) == 1, (name, resp)
        assert key in warned[0] and "until it exists" in warned[0], warned


def test_malformed_annotation_objects_still_rejected(webhook, pki):
    """What a later write does not fix is refused as before: a name that
    is not one, another namespace's Secret, a Secret without a PEM
    ca.crt, a ConfigMap with a header value nginx cannot take."""
    api, _, port = webhook
    for ann, key in [
            ({P + "auth-type": "basic", P + "auth-secret": "Not_A_Name"},
             "auth-secret"),
            ({P + "auth-tls-secret": "team-b/client-ca"}, "auth-tls-secret"),
            ({P + "custom-headers": "default/bad name"}, "custom-headers")]:
        msg = rejected(admit(port, pki, later("bad", ann, True)), key,
                       "[bad-annotation]")
        assert "no-annotation-object" not in msg

    api.create({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "no-ca", "namespace": "default"},
                "data": {"ca.crt": b64("not a certificate\n")}})
    api.create({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "bad-headers", "namespace": "default"},
                "data": {"X-Trace": "$no_such_variable"}})
    no_ca = later("no-ca", {P + "auth-tls-secret": "no-ca"}, True)
    bad_headers = later("bad-headers", {P + "custom-headers": "bad-headers"})

    def refused(obj):
        resp = admit(port, pki, obj)
        return not resp["allowed"] and resp["status"]["message"]
    harness.wait_for(lambda: refused(no_ca) and refused(bad_headers), 10,
                     "the controller to see the Secret and the ConfigMap")
    assert "[bad-annotation]" in refused(no_ca)
    assert "X-Trace" in refused(bad_headers)


def test_kubectl_apply_dir_ingress_before_its_configmap(webhook, pki,
                                                       tmp_path):
    """kubectl apply -f dir/ sends the files in name order: the Ingress
    with custom-headers goes before its ConfigMap.  Admitted (kubectl
    prints the warning), then served with the ConfigMap's headers."""
    api, ctl, port = webhook
    register_webhook(api, pki, port)
    d = tmp_path / "app"
    d.mkdir()
    ing = later("team", {P + "custom-headers": "team-headers"})
    del ing["metadata"]["creationTimestamp"]
    (d / "1-ingress.yaml").write_text(yaml.safe_dump(ing))
    (d / "2-configmap.yaml").write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "team-headers", "namespace": "default"},
        "data": {"X-Team": "shop"}}))
    p = kubectl(api, tmp_path, "apply", "-f", str(d))
    assert p.returncode == 0, p.stderr
    assert "ingress.networking.k8s.io/team created" in p.stdout, p.stdout
    assert "configmap/team-headers created" in p.stdout, p.stdout
    assert re.search(r"Warning: metadata\.annotations\[nginx\.ingress\."
                     r"kubernetes\.io/custom-headers\]: .*\[no-annotation-"
                     r"object\]", p.stderr), p.stderr

    def served():
        r = ctl.get("/", host="team.example.com")
        return r.status == 200 and r.headers.get("x-team") == "shop"
    harness.wait_for(served, 15, "team served with its ConfigMap's header")


# --- PATCH through the API server --------------------------------------------

def test_kubectl_patch_and_annotate_go_through_the_webhook(webhook, pki,
                                                           tmp_path):
    """kube-apiserver calls validating webhooks on PATCH with the patched
    object: kubectl annotate, kubectl patch (merge, JSON and strategic)
    and kubectl apply of a stored Ingress adding a bad annotation are
    denied naming the field, the Ingress unchanged; a good annotation is
    stored."""
    api, ctl, port = webhook
    register_webhook(api, pki, port)
    before = api.get(SHOP)
    denial = ('admission webhook "validate.ingress.kubengx.io" denied the '
              'request: metadata.annotations[nginx.ingress.kubernetes.io/'
              'load-balance]: ')
    bad = {"metadata": {"annotations": {LB: "fastest"}}}
    for args in [
            ["annotate", "ingress", "shop", LB + "=fastest"],
            ["patch", "ingress", "shop", "--type", "merge", "-p",
             json.dumps(bad)],
            ["patch", "ingress", "shop", "-p", json.dumps(bad)],
            ["patch", "ingress", "shop", "--type", "json", "-p", json.dumps(
                [{"op": "add", "path": "/metadata/annotations",
                  "value": {LB: "fastest"}}])]]:
        p = kubectl(api, tmp_path, *args)
        assert p.returncode != 0, (args, p.stdout)
        assert denial in p.stderr and "fastest" in p.stderr, (args, p.stderr)
        after = api.get(SHOP)
        assert after["metadata"]["resourceVersion"] \
            == before["metadata"]["resourceVersion"], after
        assert LB not in (after["metadata"].get("annotations") or {})

    # kubectl apply of the stored Ingress: a strategic merge PATCH
    shop = ingress("shop", [rule("shop.example.com", path("/", "web", 80))],
                   annotations={LB: "fastest"}, created=None)
    f = tmp_path / "shop.yaml"
    f.write_text(yaml.safe_dump(shop))
    p = kubectl(api, tmp_path, "apply", "-f", str(f))
    assert p.returncode != 0 and denial in p.stderr, p.stderr

    p = kubectl(api, tmp_path, "annotate", "ingress", "shop", LB + "=ewma")
    assert p.returncode == 0, p.stderr
    assert api.get(SHOP)["metadata"]["annotations"][LB] == "ewma"
    assert ctl.get("/", host="shop.example.com").status == 200
