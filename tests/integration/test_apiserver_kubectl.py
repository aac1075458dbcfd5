"""kubectl 1.32 against the stand-in API server: if kubectl cannot use it the
way it uses a real cluster, these fail."""

import json
import os
import select
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from apiserver import KubeAPI  # noqa: E402

KUBECTL = "/usr/bin/kubectl"
CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus",
                      "kubernetes-docs")
INGS = "/apis/networking.k8s.io/v1/namespaces/default/ingresses"

pytestmark = pytest.mark.skipif(not os.path.exists(KUBECTL), reason="kubectl not installed")


class Kubectl:
    """Runs kubectl with a private HOME, cache dir and the stand-in's kubeconfig."""

    def __init__(self, api, home):
        self.api = api
        self.home = str(home)
        os.makedirs(self.home, exist_ok=True)

    def argv(self, args):
        return [KUBECTL, "--kubeconfig", self.api.kubeconfig,
                "--cache-dir", os.path.join(self.home, "cache")] + list(args)

    def env(self):
        return dict(os.environ, HOME=self.home, KUBECONFIG="")

    def __call__(self, *args, check=True, stdin=None):
        proc = subprocess.run(self.argv(args), env=self.env(), input=stdin, text=True,
                              capture_output=True, timeout=30)
        if check and proc.returncode:
            raise AssertionError("kubectl %s failed: %s" % (" ".join(args), proc.stderr))
        return proc

    def json(self, *args):
        return json.loads(self(*args, "-o", "json").stdout)

    def popen(self, *args):
        return subprocess.Popen(self.argv(args), env=self.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)


@pytest.fixture
def api(tmp_path):
    server = KubeAPI.start(tmp_path / "api", load=[CORPUS])
    yield server
    server.stop()


@pytest.fixture
def kubectl(api, tmp_path):
    return Kubectl(api, tmp_path / "home")


def write(tmp_path, name, obj):
    path = tmp_path / name
    path.write_text(json.dumps(obj))
    return str(path)


def read_json_objects(proc, count, deadline):
    """Parse `count` concatenated (pretty-printed) JSON objects from proc.stdout."""
    decoder, buf, out = json.JSONDecoder(), "", []
    end = time.monotonic() + deadline
    fd = proc.stdout.fileno()
    while len(out) < count:
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError("got %d of %d objects: %r" % (len(out), count, out))
        data = os.read(fd, 65536)
        if not data:
            raise EOFError("kubectl exited: %s" % proc.stderr.read().decode())
        buf += data.decode()
        while True:
            buf = buf.lstrip()
            try:
                obj, used = decoder.raw_decode(buf)
            except ValueError:
                break
            out.append(obj)
            buf = buf[used:]
    return out


def test_get_lists_the_loaded_corpus(kubectl):
    ings = kubectl.json("get", "ingresses", "-A")
    names = sorted(i["metadata"]["name"] for i in ings["items"])
    assert "minimal-ingress" in names and "tls-example-ingress" in names
    assert all(i["kind"] == "Ingress" for i in ings["items"])
    classes = kubectl.json("get", "ingressclasses")["items"]
    assert classes[0]["metadata"]["annotations"][
        "ingressclass.kubernetes.io/is-default-class"] == "true"
    # DefaultIngressClass admission: loaded after the default class, class-less
    # Ingresses got it; minimal-ingress keeps its own class.
    by_name = {i["metadata"]["name"]: i for i in ings["items"]}
    assert by_name["minimal-ingress"]["spec"]["ingressClassName"] == "nginx-example"
    assert by_name["ingress-wildcard-host"]["spec"]["ingressClassName"] == \
        classes[0]["metadata"]["name"]
    svc = kubectl.json("get", "service", "my-nginx")
    assert svc["spec"]["ports"][1]["targetPort"] == 443
    assert kubectl("get", "--raw", "/apis/discovery.k8s.io/v1/endpointslices").stdout.startswith(
        '{"kind":"EndpointSliceList"')


def test_create_apply_patch_delete(kubectl, api, tmp_path):
    svc = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
           "spec": {"selector": {"app": "web"},
                    "ports": [{"name": "http", "port": 80, "targetPort": 8080},
                              {"name": "metrics", "port": 9090}]}}
    path = write(tmp_path, "svc.json", svc)
    assert "service/web created" in kubectl("create", "-f", path, "--validate=false").stdout
    dup = kubectl("create", "-f", path, "--validate=false", check=False)
    assert dup.returncode and 'services "web" already exists' in dup.stderr
    kubectl("delete", "service", "web")
    assert "created" in kubectl("apply", "-f", path, "--validate=false").stdout
    svc["spec"]["ports"][0]["targetPort"] = 8081
    path = write(tmp_path, "svc.json", svc)
    assert "configured" in kubectl("apply", "-f", path, "--validate=false").stdout
    got = api.get("/api/v1/namespaces/default/services/web")
    assert [(p["port"], p["targetPort"]) for p in got["spec"]["ports"]] == [(80, 8081),
                                                                           (9090, 9090)]
    assert "kubectl.kubernetes.io/last-applied-configuration" in got["metadata"]["annotations"]
    patches = [r for r in api.requests_seen() if r["method"] == "PATCH"]
    assert patches[-1]["contentType"] == "application/strategic-merge-patch+json"
    kubectl("patch", "service", "web", "--type=merge", "-p", '{"metadata":{"labels":{"m":"1"}}}')
    kubectl("patch", "service", "web", "--type=json",
            "-p", '[{"op":"add","path":"/metadata/labels/j","value":"2"}]')
    kubectl("patch", "service", "web", "-p", '{"spec":{"ports":[{"port":9090,"$patch":"delete"}]}}')
    got = kubectl.json("get", "service", "web")
    assert got["metadata"]["labels"] == {"app": "web", "m": "1", "j": "2"}
    assert [p["port"] for p in got["spec"]["ports"]] == [80]
    assert 'service "web" deleted' in kubectl("delete", "service", "web").stdout
    missing = kubectl("get", "service", "web", check=False)
    assert missing.returncode and 'services "web" not found' in missing.stderr


def test_status_subresource_patch(kubectl, api):
    before = api.get(INGS + "/minimal-ingress")
    kubectl("patch", "ingress", "minimal-ingress", "--subresource=status", "--type=merge",
            "-p", '{"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.10"}]}}}')
    after = api.get(INGS + "/minimal-ingress")
    assert after["status"]["loadBalancer"]["ingress"] == [{"ip": "192.0.2.10"}]
    assert after["spec"] == before["spec"]
    assert after["metadata"]["generation"] == before["metadata"]["generation"]


def test_watch_sees_added_modified_deleted(kubectl, api):
    proc = kubectl.popen("get", "ingresses", "-w", "--output-watch-events", "-o", "json")
    try:
        initial = read_json_objects(proc, 6, deadline=10)
        assert {e["type"] for e in initial} == {"ADDED"}
        api.wait_for_watches(1, path="ingresses")
        ing = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
               "metadata": {"name": "watched", "namespace": "default"},
               "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}}
        api.create(ing)
        api.patch(INGS + "/watched", {"metadata": {"labels": {"a": "b"}}})
        api.delete(INGS + "/watched")
        events = read_json_objects(proc, 3, deadline=10)
    finally:
        proc.kill()
        proc.wait()
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "watched"), ("MODIFIED", "watched"), ("DELETED", "watched")]
    watch_req = [r for r in api.requests_seen() if r["query"].get("watch")][-1]
    assert watch_req["query"]["resourceVersion"]        # watched from the list RV


def test_tls_and_token(tmp_path):
    with KubeAPI.start(tmp_path / "api", tls=True, token="s3cret") as api:
        kubectl = Kubectl(api, tmp_path / "home")
        assert kubectl.json("get", "namespaces")["items"][0]["metadata"]["name"] == "default"
        api.admin("token", {"token": "rotated"})
        denied = kubectl("get", "namespaces", check=False)
        assert denied.returncode and "Unauthorized" in denied.stderr
        assert all(r["authorization"] for r in api.requests_seen())


def test_kubectl_binary_is_1_32():
    out = subprocess.run([KUBECTL, "version", "--client", "-o", "json"], capture_output=True,
                         text=True, env=dict(os.environ, HOME="/nonexistent"), timeout=30)
    assert json.loads(out.stdout)["clientVersion"]["minor"].startswith("32")
