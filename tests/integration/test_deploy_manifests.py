"""The deployment manifests in examples/deploy/: our own loader reads them,
kubectl accepts them (dry run, then for real against the stand-in API), the
RBAC is least privilege, the workloads are non-root with a read-only root
filesystem and probes on /healthz and /readyz, and the Deployment's own
arguments start a working `kubengx controller`."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DEPLOY = os.path.join(harness.ROOT, "examples", "deploy")
DAEMONSET = os.path.join(DEPLOY, "daemonset")
SEED = os.path.join(harness.ROOT, "examples", "seed")
KUBECTL = "/usr/bin/kubectl"
NS = "kubengx"
CONTROLLER = "kubengx.io/ingress-controller"

READ = {"get", "list", "watch"}


# --- reading the manifests -------------------------------------------------

def load_dir(path, recursive=False):
    docs = []
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            if name.endswith((".yaml", ".yml")):
                with open(os.path.join(root, name)) as f:
                    docs += [d for d in yaml.safe_load_all(f) if d]
        if not recursive:
            break
    return docs


def by_kind(docs):
    out = {}
    for d in docs:
        out.setdefault(d["kind"], []).append(d)
    return out


def one(docs, kind, name=None):
    found = [d for d in docs if d["kind"] == kind
             and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, "%d objects of kind %s" % (len(found), kind)
    return found[0]


@pytest.fixture(scope="module")
def main_docs():
    return load_dir(DEPLOY)


@pytest.fixture(scope="module")
def ds_docs():
    return load_dir(DAEMONSET)


def container(workload):
    cs = workload["spec"]["template"]["spec"]["containers"]
    assert len(cs) == 1
    return cs[0]


def args_map(c):
    """--flag=value arguments as a dict (bare flags map to True)."""
    out = {}
    for a in c.get("args", []):
        assert a.startswith("--"), a
        k, eq, v = a[2:].partition("=")
        out[k] = v if eq else True
    return out


def expand(value, env):
    """$(VAR) references, as the kubelet expands them in args."""
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env[m.group(1)], value)


# --- the file set ----------------------------------------------------------

def test_kinds_and_namespaces(main_docs, ds_docs):
    kinds = sorted(d["kind"] for d in main_docs)
    assert kinds == sorted(["Namespace", "ServiceAccount", "ClusterRole",
                            "ClusterRoleBinding", "Role", "RoleBinding",
                            "Role", "RoleBinding", "IngressClass",
                            "Deployment", "Service", "Service",
                            "ConfigMap", "ConfigMap"])
    assert [d["kind"] for d in ds_docs] == ["DaemonSet"]
    assert one(main_docs, "Namespace")["metadata"]["name"] == NS
    cluster_scoped = {"Namespace", "ClusterRole", "ClusterRoleBinding", "IngressClass"}
    for d in main_docs + ds_docs:
        if d["kind"] not in cluster_scoped:
            assert d["metadata"].get("namespace") == NS, d["metadata"]
    # kubectl applies a directory in file-name order: the Namespace first
    files = sorted(f for f in os.listdir(DEPLOY) if f.endswith(".yaml"))
    with open(os.path.join(DEPLOY, files[0])) as f:
        assert [d["kind"] for d in yaml.safe_load_all(f) if d] == ["Namespace"]


def test_kubengx_lint_reports_no_errors(kubengx):
    p = harness.run([kubengx, "lint", "-f", DEPLOY])
    assert p.returncode == 0, p.stdout + p.stderr
    assert "0 errors" in p.stdout + p.stderr
    assert "error" not in p.stderr.replace("0 errors", "")


def test_kubengx_render_uses_the_ingressclass(kubengx, tmp_path):
    """The IngressClass makes an Ingress of class "kubengx" ours through its
    spec.controller, even when --class names another class."""
    ing = tmp_path / "ing.yaml"
    ing.write_text(yaml.safe_dump({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "shop", "namespace": "default"},
        "spec": {"ingressClassName": "kubengx", "rules": [{
            "host": "shop.example.com", "http": {"paths": [{
                "path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}))
    with_class = harness.run([kubengx, "render", "-f", DEPLOY, "-f", str(ing),
                              "--class", "not-kubengx", "-o", "-"])
    assert with_class.returncode == 0, with_class.stderr
    assert "shop.example.com" in with_class.stdout
    without = harness.run([kubengx, "render", "-f", str(ing), "--class", "not-kubengx",
                           "-o", "-"])
    assert without.returncode == 0, without.stderr
    assert "shop.example.com" not in without.stdout
    # and the deployment objects themselves render to just the default server
    alone = harness.run([kubengx, "render", "-f", DEPLOY, "-o", "-"])
    assert alone.returncode == 0, alone.stderr
    assert "return 404;" in alone.stdout


# --- RBAC ------------------------------------------------------------------

def rules_by_resource(rules):
    out = {}
    for r in rules:
        for g in r["apiGroups"]:
            for res in r["resources"]:
                key = (g, res, tuple(r.get("resourceNames", ())))
                out.setdefault(key, set()).update(r["verbs"])
    return out


def test_clusterrole_is_least_privilege(main_docs):
    cr = one(main_docs, "ClusterRole")
    for r in cr["rules"]:
        assert "*" not in r["verbs"] and "*" not in r["resources"] \
            and "*" not in r["apiGroups"], r
        assert "nonResourceURLs" not in r
    got = rules_by_resource(cr["rules"])
    assert got == {
        ("", "services", ()): READ,
        ("", "secrets", ()): READ,
        ("", "configmaps", ()): READ,
        ("discovery.k8s.io", "endpointslices", ()): READ,
        ("networking.k8s.io", "ingresses", ()): READ,
        ("networking.k8s.io", "ingressclasses", ()): READ,
        ("networking.k8s.io", "ingresses/status", ()): {"get", "update", "patch"},
        ("", "events", ()): {"create", "patch"},
        ("events.k8s.io", "events", ()): {"create", "patch"},
    }


def test_lease_role_is_namespaced_and_named(main_docs):
    dep = one(main_docs, "Deployment")
    election_id = args_map(container(dep)).get("election-id", "kubengx-leader")
    role = one(main_docs, "Role", "kubengx-leader")
    assert role["metadata"]["namespace"] == NS
    got = rules_by_resource(role["rules"])
    assert got == {
        # create cannot be limited by name
        ("coordination.k8s.io", "leases", ()): {"create"},
        ("coordination.k8s.io", "leases", (election_id,)): {"get", "update", "patch"},
    }


def test_configmap_role_reads_its_namespace_only(main_docs):
    """--tcp/udp-services-configmap: read ConfigMaps of the kubengx
    namespace (one list/watch of the namespace), and they are there."""
    role = one(main_docs, "Role", "kubengx-stream")
    assert role["metadata"]["namespace"] == NS
    assert rules_by_resource(role["rules"]) == {("", "configmaps", ()): READ}
    args = args_map(container(one(main_docs, "Deployment")))
    for flag, name in (("tcp-services-configmap", "tcp-services"),
                       ("udp-services-configmap", "udp-services")):
        assert args[flag] == "$(POD_NAMESPACE)/" + name
        cm = one(main_docs, "ConfigMap", name)
        assert cm["metadata"]["namespace"] == NS


def test_bindings_name_the_service_account(main_docs):
    sa = one(main_docs, "ServiceAccount")["metadata"]
    subject = {"kind": "ServiceAccount", "name": sa["name"], "namespace": sa["namespace"]}
    crb = one(main_docs, "ClusterRoleBinding")
    assert crb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                              "name": one(main_docs, "ClusterRole")["metadata"]["name"]}
    assert crb["subjects"] == [subject]
    for name in ("kubengx-leader", "kubengx-stream"):
        rb = one(main_docs, "RoleBinding", name)
        assert rb["metadata"]["namespace"] == NS
        assert rb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io",
                                 "kind": "Role",
                                 "name": one(main_docs, "Role", name)
                                 ["metadata"]["name"]}
        assert rb["subjects"] == [subject]


# --- the class, the workloads, the Service ---------------------------------

def test_ingressclass(main_docs):
    ic = one(main_docs, "IngressClass")
    assert ic["metadata"]["name"] == "kubengx"
    assert ic["spec"] == {"controller": CONTROLLER}
    args = args_map(container(one(main_docs, "Deployment")))
    assert args.get("controller", CONTROLLER) == CONTROLLER
    assert args.get("class", "kubengx") == "kubengx"


def check_workload(w, sa_name):
    spec = w["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"]["labels"]
    assert spec["selector"]["matchLabels"].items() <= labels.items()
    assert pod["serviceAccountName"] == sa_name
    assert pod.get("hostNetwork") is not True

    psc = pod["securityContext"]
    assert psc["runAsNonRoot"] is True
    assert psc["runAsUser"] != 0 and psc["runAsGroup"] != 0
    assert psc["seccompProfile"]["type"] == "RuntimeDefault"

    c = container(w)
    assert c["image"].startswith("kubengx:")
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert "add" not in sc["capabilities"]
    assert sc.get("privileged") is not True

    args = args_map(c)
    ports = {p["name"]: p for p in c["ports"]}
    # nginx binds unprivileged ports as the non-root user
    assert int(args["http-port"]) == ports["http"]["containerPort"] >= 1024
    assert int(args["https-port"]) == ports["https"]["containerPort"] >= 1024
    assert int(args["metrics-port"]) == ports["metrics"]["containerPort"]

    lp, rp = c["livenessProbe"]["httpGet"], c["readinessProbe"]["httpGet"]
    assert lp["path"] == "/healthz" and rp["path"] == "/readyz"
    assert lp["port"] == rp["port"] == "metrics"

    res = c["resources"]
    assert res["requests"]["cpu"] and res["requests"]["memory"]
    assert res["limits"]["memory"]

    # the writable paths are emptyDirs: the conf dir and /tmp, nothing else
    vols = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    assert set(mounts) == {args.get("conf-dir", "/var/lib/kubengx"), "/tmp"}
    for name in mounts.values():
        assert "emptyDir" in vols[name]
        assert not [m for m in c["volumeMounts"] if m.get("readOnly")]

    env = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in c["env"]}
    assert env == {"POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace"}
    return args, ports


def test_deployment(main_docs):
    dep = one(main_docs, "Deployment")
    sa = one(main_docs, "ServiceAccount")["metadata"]["name"]
    assert dep["spec"]["replicas"] == 2
    args, _ = check_workload(dep, sa)
    svc = one(main_docs, "Service", "kubengx")
    assert args["publish-service"] == "$(POD_NAMESPACE)/" + svc["metadata"]["name"]


def test_daemonset(main_docs, ds_docs):
    ds = one(ds_docs, "DaemonSet")
    sa = one(main_docs, "ServiceAccount")["metadata"]["name"]
    _, ports = check_workload(ds, sa)
    assert ports["http"]["hostPort"] == 80 and ports["https"]["hostPort"] == 443
    assert "hostPort" not in ports["metrics"]


def test_metrics_service(main_docs):
    """The one metrics port, as the chart's metrics Service has it."""
    svc = one(main_docs, "Service", "kubengx-metrics")
    dep = one(main_docs, "Deployment")
    assert svc["spec"]["type"] == "ClusterIP"
    assert svc["spec"]["selector"].items() <= \
        dep["spec"]["template"]["metadata"]["labels"].items()
    assert [(p["name"], p["port"], p["targetPort"])
            for p in svc["spec"]["ports"]] == [("metrics", 10254, "metrics")]
    pod = dep["spec"]["template"]["metadata"]["annotations"]
    for a in (svc["metadata"]["annotations"], pod):
        assert a["prometheus.io/scrape"] == "true"
        assert a["prometheus.io/port"] == "10254"
        assert a["prometheus.io/path"] == "/metrics"
    cports = {p["name"]: p["containerPort"] for p in container(dep)["ports"]}
    assert cports["metrics"] == 10254


def test_service(main_docs):
    svc = one(main_docs, "Service", "kubengx")
    dep = one(main_docs, "Deployment")
    assert svc["spec"]["type"] == "LoadBalancer"
    assert svc["spec"]["selector"].items() <= \
        dep["spec"]["template"]["metadata"]["labels"].items()
    ports = {p["port"]: p["targetPort"] for p in svc["spec"]["ports"]}
    assert ports == {80: "http", 443: "https"}
    cports = {p["name"] for p in container(dep)["ports"]}
    assert set(ports.values()) <= cports


def controller_help(kubengx):
    p = harness.run([kubengx, "controller", "--help"])
    if p.returncode != 0:
        pytest.skip("kubengx controller is not built yet")
    return p.stdout


def test_args_are_controller_flags(main_docs, ds_docs, kubengx):
    """Every flag the manifests pass is one `kubengx controller` parses
    (getopt reads them all before it reaches the trailing --help)."""
    usage = controller_help(kubengx)
    env = {"POD_NAMESPACE": NS, "POD_NAME": "kubengx-0"}
    for w in (one(main_docs, "Deployment"), one(ds_docs, "DaemonSet")):
        args = [expand(a, env) for a in container(w)["args"]]
        for a in args:
            assert re.search(r"^\s+%s\b" % re.escape(a.split("=")[0]), usage, re.M), a
        p = harness.run([kubengx, "controller", *args, "--help"])
        assert p.returncode == 0, p.stderr
        assert p.stdout == usage


# --- kubectl against the stand-in ------------------------------------------

class Kubectl:
    def __init__(self, api, home):
        self.api = api
        self.home = str(home)
        os.makedirs(self.home, exist_ok=True)

    def __call__(self, *args, check=True):
        p = subprocess.run(
            [KUBECTL, "--kubeconfig", self.api.kubeconfig,
             "--cache-dir", os.path.join(self.home, "cache"), *args],
            env=dict(os.environ, HOME=self.home, KUBECONFIG=""),
            capture_output=True, text=True, timeout=60)
        if check and p.returncode:
            raise AssertionError("kubectl %s: %s" % (" ".join(args), p.stderr))
        return p


needs_kubectl = pytest.mark.skipif(not os.path.exists(KUBECTL), reason="no kubectl")


def items(out):
    """kubectl -o json of several objects: concatenated objects, or a List."""
    dec, pos, objs = json.JSONDecoder(), 0, []
    while out[pos:].strip():
        while out[pos].isspace():
            pos += 1
        obj, pos = dec.raw_decode(out, pos)
        objs += obj["items"] if obj.get("kind") == "List" else [obj]
    return objs


def key_fields(obj):
    """What must survive kubectl and the API unchanged."""
    k, spec = obj["kind"], obj.get("spec", {})
    m = obj["metadata"]
    out = {"kind": k, "name": m["name"], "namespace": m.get("namespace")}
    if k in ("ClusterRole", "Role"):
        out["rules"] = obj["rules"]
    elif k in ("ClusterRoleBinding", "RoleBinding"):
        out["ref"] = (obj["roleRef"], obj["subjects"])
    elif k == "IngressClass":
        out["controller"] = spec["controller"]
    elif k in ("Deployment", "DaemonSet"):
        pod = spec["template"]["spec"]
        c = pod["containers"][0]
        out["pod"] = (pod["securityContext"], c["securityContext"], c["args"],
                      c["livenessProbe"]["httpGet"], c["readinessProbe"]["httpGet"],
                      c["volumeMounts"], pod["volumes"], pod["serviceAccountName"])
        out["replicas"] = spec.get("replicas")
    elif k == "Service":
        out["svc"] = (spec["type"], spec["selector"],
                      [(p["port"], p["targetPort"]) for p in spec["ports"]])
    return out


@needs_kubectl
def test_kubectl_dry_run_client(kube_api, tmp_path, main_docs, ds_docs):
    api = kube_api()
    kubectl = Kubectl(api, tmp_path / "home")
    for path, docs in ((DEPLOY, main_docs), (DAEMONSET, ds_docs)):
        p = kubectl("create", "--dry-run=client", "-o", "json", "--validate=false",
                    "-f", path)
        got = items(p.stdout)
        assert [key_fields(o) for o in got] == [key_fields(d) for d in docs]
    # a dry run creates nothing
    names = [n["metadata"]["name"] for n in api.get("/api/v1/namespaces")["items"]]
    assert "default" in names and NS not in names


@needs_kubectl
def test_kubectl_create_and_read_back(kube_api, tmp_path, main_docs, ds_docs):
    api = kube_api()
    kubectl = Kubectl(api, tmp_path / "home")
    p = kubectl("create", "--validate=false", "-f", DEPLOY)
    for d in main_docs:
        assert "%s/%s created" % (d["kind"].lower(), d["metadata"]["name"]) in \
            p.stdout.replace(".rbac.authorization.k8s.io", "") \
                    .replace(".networking.k8s.io", "").replace(".apps", ""), p.stdout
    kubectl("create", "--validate=false", "-f", DAEMONSET)

    for d in main_docs + ds_docs:
        args = ["get", d["kind"], d["metadata"]["name"], "-o", "json"]
        if d["metadata"].get("namespace"):
            args += ["-n", d["metadata"]["namespace"]]
        got = json.loads(kubectl(*args).stdout)
        assert got["metadata"]["uid"] and got["metadata"]["resourceVersion"]
        assert key_fields(got) == key_fields(d)

    # the Service got its defaults from the API (a ClusterIP, node ports)
    svc = api.get("/api/v1/namespaces/%s/services/kubengx" % NS)
    assert svc["spec"]["clusterIP"]
    assert all(p.get("nodePort") for p in svc["spec"]["ports"])
    # creating the same objects again is refused, as by a real API server
    again = kubectl("create", "--validate=false", "-f", DEPLOY, check=False)
    assert again.returncode != 0 and "AlreadyExists" in again.stderr + again.stdout


# --- the Deployment's arguments run a controller ---------------------------

def http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


@pytest.mark.skipif(not os.path.exists(harness.MODULE), reason="module not built")
def test_deployment_args_run_a_controller(kube_api, kubengx, tmp_path, main_docs):
    """`kubengx controller` with the Deployment's own args (ports moved to
    free loopback ones, the conf dir to a temp dir, the API from a
    kubeconfig): it becomes ready, takes the Lease the Role allows in the
    kubengx namespace, and publishes the LoadBalancer Service's address in
    the seed Ingress's status."""
    controller_help(kubengx)
    api = kube_api(load=[DEPLOY, SEED])
    # what the cloud would write into the Service's status (an address of
    # the documentation range: it only appears in status, nothing goes there)
    api.request("PUT", "/api/v1/namespaces/%s/services/kubengx/status" % NS,
                dict(api.get("/api/v1/namespaces/%s/services/kubengx" % NS),
                     status={"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}))

    dep = one(main_docs, "Deployment")
    c = container(dep)
    env = dict(os.environ, POD_NAME="kubengx-abc12", POD_NAMESPACE=NS)
    ports = {k: harness.free_port() for k in ("http-port", "https-port", "metrics-port")}
    conf = tmp_path / "conf"
    conf.mkdir()
    args = []
    for a in c["args"]:
        k = a[2:].split("=")[0]
        if k in ports:
            a = "--%s=%d" % (k, ports[k])
        elif k == "conf-dir":
            a = "--conf-dir=%s" % conf
        args.append(expand(a, env))
    cmd = [kubengx, "controller", *args, "--kubeconfig", api.kubeconfig,
           "--nginx", harness.NGINX, "--module", harness.MODULE,
           "--listen-address", "127.0.0.1", "--metrics-address", "127.0.0.1",
           "--status-port", str(harness.free_port())]
    if harness.sanitized():
        env = harness.san_env(str(conf), env)
    log = open(tmp_path / "controller.log", "w+")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = "http://127.0.0.1:%d" % ports["metrics-port"]
        harness.wait_for(lambda: proc.poll() is None and http_status(base + "/readyz") == 200,
                         timeout=20, what="controller /readyz")
        assert http_status(base + "/healthz") == 200

        lease_path = "/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s" % (
            NS, args_map(c).get("election-id", "kubengx-leader"))

        def leader():
            try:
                holder = api.get(lease_path)["spec"].get("holderIdentity", "")
            except Exception:
                return False
            return holder.startswith("kubengx-abc12")
        harness.wait_for(leader, timeout=20, what="the Lease held by this replica")

        def published():
            ing = api.get("/apis/networking.k8s.io/v1/namespaces/default/ingresses/routes")
            return ing.get("status", {}).get("loadBalancer", {}).get("ingress") == \
                [{"ip": "192.0.2.10"}]
        harness.wait_for(published, timeout=20, what="the Service's address in status")
    except BaseException:
        log.seek(0)
        print(log.read())
        raise
    finally:
        nginx_pid = None
        try:
            nginx_pid = int((conf / "nginx.pid").read_text().strip())
        except (OSError, ValueError):
            pass
        harness.stop_process(proc, timeout=15)
        if nginx_pid and os.path.exists("/proc/%d" % nginx_pid):
            os.kill(nginx_pid, signal.SIGTERM)   # only if the controller left it
        log.close()
    assert proc.returncode == 0
