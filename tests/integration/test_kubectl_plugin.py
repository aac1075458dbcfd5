"""`kubectl kubengx`: the kubengx binary as kubectl-kubengx (build/ on
PATH), run by the real kubectl against the stand-in API server with a
running controller (--endpoints module, nginx and the module for real).
The controller's pod is a Pod object whose status.podIP the stand-in's
pod proxy maps to 127.0.0.1, where the controller and its nginx listen.

Asserted from kubectl's output: plugin discovery finds it; kubectl's own
`get --raw .../pods/NAME:PORT/proxy/...` reaches the controller through
the stand-in; `backends` shows a Service's endpoints, and the new one
after a scale-up (a new EndpointSlice); `conf` shows the config nginx
runs; `status` the pod, the leader, its reloads; `lint` the findings of
the live objects; `migrate` says it is not there yet; bad usage exits 2."""

import base64
import json
import os
import subprocess

import pytest

import harness
from manifests import (backend_service, endpoint, ingress, ingress_class,
                       path, rule, slice_)
from test_controller import controllers, routed_to  # noqa: F401 (fixture)

KUBECTL = "/usr/bin/kubectl"
POD = "ctl"             # the controllers' --election-identity

pytestmark = pytest.mark.skipif(not os.path.exists(KUBECTL),
                                reason="no kubectl")


def kubectl(api, home, *args, check=True):
    """kubectl as a user runs it: KUBECONFIG in the environment (kubectl
    passes no flags of its own to a plugin), build/ on PATH."""
    env = dict(os.environ, HOME=str(home), KUBECONFIG=api.kubeconfig,
               PATH=harness.BUILD + os.pathsep + os.environ["PATH"])
    p = subprocess.run([KUBECTL, *args], env=env, capture_output=True,
                       text=True, timeout=60)
    if check and p.returncode:
        raise AssertionError("kubectl %s: %s%s" % (" ".join(args), p.stdout,
                                                   p.stderr))
    return p


def controller_pod(api, ns, ctl):
    """The Pod the controller runs as: the chart's labels, Running and
    Ready, an IP (which the stand-in's pod proxy maps to 127.0.0.1)."""
    api.request("POST", "/api/v1/namespaces/%s/pods" % ns, {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": POD, "namespace": ns, "labels": {
                    "app.kubernetes.io/name": "kubengx",
                    "app.kubernetes.io/component": "controller"}},
                "spec": {"containers": [{
                    "name": "controller", "image": "kubengx",
                    "ports": [{"name": "metrics",
                               "containerPort": ctl.metrics_port}]}]}})
    pod = api.get("/api/v1/namespaces/%s/pods/%s" % (ns, POD))
    pod["status"] = {"phase": "Running", "podIP": "10.244.0.7",
                     "conditions": [{"type": "Ready", "status": "True"}]}
    api.request("PUT", "/api/v1/namespaces/%s/pods/%s/status" % (ns, POD),
                pod)


@pytest.fixture
def cluster(kube_api, backends, controllers, tmp_path):  # noqa: F811
    bk = backends("a", "b")
    api = kube_api()
    api.create(ingress_class("kubengx"))
    for o in backend_service(bk, "web", "a", port_name=None):
        api.create(o)
    api.create(ingress("shop", [rule("shop.example.com",
                                     path("/", "web", 80))]))
    ctl = controllers(api, endpoints="module").wait_ready()
    harness.wait_for(routed_to(ctl, "shop.example.com", "/", "a"), 10,
                     "route to a")
    controller_pod(api, "default", ctl)
    home = tmp_path / "home"
    home.mkdir()

    def run(*args, check=True):
        return kubectl(api, home, "kubengx", *args, "-n", "default",
                       "--metrics-port", str(ctl.metrics_port),
                       "--status-port", str(ctl.status_port), check=check)

    return api, bk, ctl, home, run


def test_plugin_list_finds_it(tmp_path, kube_api):
    api = kube_api()
    p = kubectl(api, tmp_path, "plugin", "list")
    assert os.path.join(harness.BUILD, "kubectl-kubengx") in p.stdout
    p = kubectl(api, tmp_path, "kubengx", "--help")
    for sub in ("backends", "conf", "lint", "migrate", "status"):
        assert "\n  " + sub in p.stdout


def test_kubectl_reaches_the_pod_through_the_proxy(cluster):
    api, _, ctl, home, _ = cluster
    p = kubectl(api, home, "get", "--raw",
                "/api/v1/namespaces/default/pods/%s:%d/proxy/healthz"
                % (POD, ctl.metrics_port))
    assert p.stdout.strip() == "ok"
    # a named container port, and a query string
    p = kubectl(api, home, "get", "--raw",
                "/api/v1/namespaces/default/pods/%s:metrics/proxy/metrics"
                % POD)
    assert "kubengx_reloads_total" in p.stdout
    p = kubectl(api, home, "get", "--raw",
                "/api/v1/namespaces/default/pods/%s:%d/proxy/k8s/status"
                "?endpoints=0" % (POD, ctl.status_port))
    assert "default/web:80" in json.loads(p.stdout)["services"]
    p = kubectl(api, home, "get", "--raw",
                "/api/v1/namespaces/default/pods/nope:1/proxy/", check=False)
    assert p.returncode != 0 and "not found" in p.stderr


def addresses(out):
    svc = json.loads(out)["default/web:80"]
    return sorted("%s" % e["address"] for e in svc["endpoints"])


def test_backends_follow_a_scale_up(cluster):
    api, bk, ctl, _, run = cluster
    p = run("backends", "default/web")
    host_a, port_a = bk.host_port("a")
    assert addresses(p.stdout) == ["%s:%d" % (host_a, port_a)]

    # scale up: the Service gets a second endpoint (its own slice)
    host_b, port_b = bk.host_port("b")
    api.create(slice_("web", [endpoint(host_b)], [(None, port_b)]))
    want = sorted(["%s:%d" % (host_a, port_a), "%s:%d" % (host_b, port_b)])
    harness.wait_for(lambda: addresses(run("backends", "default/web").stdout)
                     == want, 10, "both endpoints in kubectl kubengx backends")

    # every Service without an argument; an unknown one is an error
    assert "default/web:80" in json.loads(run("backends").stdout)
    p = run("backends", "default/nope", check=False)
    assert p.returncode == 1 and "default/nope" in p.stderr


def test_conf_shows_the_running_config(cluster):
    _, _, ctl, _, run = cluster
    out = run("conf").stdout
    assert "# ---- nginx.conf" in out and "# ---- kubengx.conf" in out
    assert "shop.example.com" in out
    with open(os.path.join(ctl.dir, "kubengx.conf")) as f:
        assert f.read() in out


def test_status_shows_pod_leader_and_reloads(cluster):
    _, _, ctl, _, run = cluster
    harness.wait_for(lambda: ctl.metric("kubengx_leader") == 1, 15,
                     "leader")
    out = run("status").stdout
    line = [l for l in out.splitlines() if l.startswith(POD + " ")][0]
    cols = line.split()
    assert cols[1:4] == ["Running", "yes", "yes"], line
    assert cols[4] != "never" and cols[4].endswith("Z"), line
    assert int(cols[6]) == 0, line            # reload errors
    assert "lease default/kubengx-leader: held by ctl" in out


def test_lint_the_live_objects(cluster):
    api, _, _, _, run = cluster
    p = run("lint")
    assert p.returncode == 0, p.stderr
    api.create(ingress("broken", [rule("broken.example.com",
                                       path("/", "missing", 80))]))
    p = run("lint", check=False)
    assert p.returncode == 1
    assert "cluster:1:" in p.stdout and "default/broken" in p.stdout
    assert "no-service" in p.stdout or "missing" in p.stdout
    p = run("lint", "-o", "json", check=False)
    found = json.loads(p.stdout)
    assert any(f["name"] == "broken" and f["severity"] == "error"
               for f in found)


def test_migrate_the_live_objects_and_bad_usage(cluster):
    api, _, _, _, run = cluster
    p = run("migrate")
    assert p.returncode == 0, p.stderr          # no Ingress of class nginx
    legacy = ingress("legacy", [rule("old.example.com", path("/", "web", 80))],
                     cls="nginx", annotations={
                         "nginx.ingress.kubernetes.io/satisfy": "any",
                         "nginx.ingress.kubernetes.io/proxy-body-size": "8m"})
    api.create(legacy)
    p = run("migrate", check=False)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "Ingress default/legacy (cluster" in p.stdout, p.stdout
    assert "ingressClassName kubengx" in p.stdout
    assert "satisfy" in p.stdout and "fails closed" in p.stdout
    assert "proxy-body-size" in p.stdout
    p = run("migrate", "--from-class", "other", check=False)
    assert p.returncode == 0, p.stdout
    # what an Ingress references is read too: a basic-auth Secret (type
    # Opaque) and a ConfigMap of headers; served, so exit 0
    api.delete("/apis/networking.k8s.io/v1/namespaces/default/ingresses/"
               "legacy")
    api.create({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": "users", "namespace": "default"},
                "data": {"auth": base64.b64encode(
                    b"u:$apr1$qv1GuB/z$JXg6vbMnqy0aDVmnd0omV/\n").decode()}})
    api.create({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "hdrs", "namespace": "default"},
                "data": {"X-Team": "shop"}})
    api.create(ingress("guarded", [rule("g.example.com",
                                        path("/", "web", 80))],
                       cls="nginx", annotations={
                           "nginx.ingress.kubernetes.io/auth-type": "basic",
                           "nginx.ingress.kubernetes.io/auth-secret": "users",
                           "nginx.ingress.kubernetes.io/custom-headers":
                           "hdrs"}))
    p = run("migrate", check=False)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "Ingress default/guarded (cluster" in p.stdout, p.stdout
    p = run("frobnicate", check=False)
    assert p.returncode != 0 and "unknown command" in p.stderr
    p = run("backends", "--bogus", check=False)
    assert p.returncode == 2 and "--bogus" in p.stderr


def test_no_controller_pods(tmp_path, kube_api):
    api = kube_api()
    p = kubectl(api, tmp_path, "kubengx", "status", check=False)
    assert p.returncode == 1
    assert "no controller pods in namespace kubengx" in p.stderr
