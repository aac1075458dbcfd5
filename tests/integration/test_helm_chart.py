"""charts/kubengx with the real helm 3 (scripts/deps.sh installs it) and the
real kubectl against the stand-in API server: `helm lint`; `helm template`
with the default values and those of charts/kubengx/ci/ (DaemonSet,
namespace-scoped, webhook off, everything optional on) gives objects that
`kubectl apply` (server-side field validation, as kubectl does by default)
gets accepted and reads back unchanged; key fields of each; the default
output against examples/deploy/ (RBAC, security context, probes, args);
the flags against `kubengx controller --help`; values the chart refuses;
and the webhook certificate the chart generates."""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from test_deploy_manifests import (DEPLOY, KUBECTL, Kubectl, args_map,  # noqa: E402
                                   container, load_dir, one, rules_by_resource)

CHART = os.path.join(harness.ROOT, "charts", "kubengx")
CI = os.path.join(CHART, "ci")
CRDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "crds")
HELM = shutil.which("helm") or "/usr/local/bin/helm"
NS = "kubengx"
READ = {"get", "list", "watch"}

# Flags the chart renders that `kubengx controller` does not parse yet:
# none left.
PENDING_FLAGS = set()

VARIANTS = {"default": None, "daemonset": "daemonset-values.yaml",
            "scoped": "scoped-values.yaml", "webhook-off": "webhook-off-values.yaml",
            "full": "full-values.yaml"}


@pytest.fixture(scope="module")
def helm():
    assert os.access(HELM, os.X_OK), "helm 3 not found: run scripts/deps.sh (make deps)"
    return HELM


def run_helm(helm, *args, check=True):
    return harness.run([helm, *args], check=check,
                       env=dict(os.environ, HELM_CACHE_HOME="/tmp/kubengx-helm-cache",
                                HELM_CONFIG_HOME="/tmp/kubengx-helm-config",
                                HELM_DATA_HOME="/tmp/kubengx-helm-data"))


def template(helm, variant=None, *extra, check=True):
    args = ["template", "kubengx", CHART, "--namespace", NS]
    if variant and VARIANTS[variant]:
        args += ["-f", os.path.join(CI, VARIANTS[variant])]
    return run_helm(helm, *args, *extra, check=check)


def docs_of(text):
    return [d for d in yaml.safe_load_all(text) if d]


@pytest.fixture(scope="module")
def rendered(helm):
    """variant -> (YAML text, documents)."""
    out = {}
    for name in VARIANTS:
        text = template(helm, name).stdout
        out[name] = (text, docs_of(text))
    return out


def kinds(docs):
    return sorted(d["kind"] for d in docs)


def named(docs, kind, name):
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, "%d %s/%s" % (len(found), kind, name)
    return found[0]


def workload(docs):
    found = [d for d in docs if d["kind"] in ("Deployment", "DaemonSet")]
    assert len(found) == 1
    return found[0]


# --- helm lint -------------------------------------------------------------

def test_helm_lint(helm):
    for values in [None] + sorted(os.listdir(CI)):
        args = ["lint", CHART, "--strict"]
        if values:
            args += ["-f", os.path.join(CI, values)]
        p = run_helm(helm, *args, check=False)
        assert p.returncode == 0, p.stdout + p.stderr
        assert "1 chart(s) linted, 0 chart(s) failed" in p.stdout
        assert "[ERROR]" not in p.stdout and "[WARNING]" not in p.stdout


def test_app_version_is_the_repository_version():
    with open(os.path.join(CHART, "Chart.yaml")) as f:
        chart = yaml.safe_load(f)
    with open(os.path.join(harness.ROOT, "VERSION")) as f:
        assert chart["appVersion"] == f.read().strip()


def test_every_ci_values_file_is_a_variant():
    assert sorted(f for f in VARIANTS.values() if f) == sorted(os.listdir(CI))


# --- the stand-in accepts them through kubectl apply -----------------------

def namespace_doc(name):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def apply(kubectl, tmp_path, name, text, check=True):
    path = tmp_path / name
    path.write_text(text)
    # kubectl's default --validate=strict: the server refuses unknown fields
    return kubectl("apply", "-f", str(path), check=check)


def key_fields(obj):
    """What an API server must keep of a chart object (defaults aside)."""
    out = {k: v for k, v in obj.items() if k not in ("metadata", "status", "spec")}
    meta = obj["metadata"]
    out["metadata"] = {k: meta.get(k) for k in ("name", "namespace", "labels")}
    out["annotations"] = {k: v for k, v in (meta.get("annotations") or {}).items()
                          if not k.startswith("kubectl.kubernetes.io/")}
    spec = dict(obj.get("spec") or {})
    if obj["kind"] == "Service":
        spec = {k: spec.get(k) for k in ("type", "selector", "externalTrafficPolicy")}
        spec["ports"] = [(p["name"], p["port"], p["targetPort"], p.get("appProtocol"))
                         for p in obj["spec"]["ports"]]
    if obj["kind"] == "CustomResourceDefinition":
        spec = {"group": spec["group"], "plural": spec["names"]["plural"]}
    out["spec"] = spec
    return out


@pytest.mark.skipif(not os.path.exists(KUBECTL), reason="no kubectl")
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_kubectl_apply_accepts_and_reads_back(variant, rendered, kube_api, tmp_path):
    text, docs = rendered[variant]
    api = kube_api()
    kubectl = Kubectl(api, tmp_path / "home")
    namespaces = [NS] + (["shop"] if variant == "scoped" else [])
    apply(kubectl, tmp_path, "ns.yaml", "\n---\n".join(
        yaml.safe_dump(namespace_doc(n)) for n in namespaces))
    if any(d["kind"] == "ServiceMonitor" for d in docs):
        # as in a real cluster: without prometheus-operator's CRD the kind
        # is unknown
        missing = apply(kubectl, tmp_path, "chart.yaml", text, check=False)
        assert missing.returncode != 0
        assert 'no matches for kind "ServiceMonitor" in version "monitoring.coreos.com/v1"' \
            in missing.stderr
        # (kubectl applied the rest)
        kubectl("apply", "-f", CRDS)
    p = apply(kubectl, tmp_path, "chart.yaml", text)
    out = p.stdout
    for d in docs:
        group = d["apiVersion"].split("/")[0] if "/" in d["apiVersion"] else ""
        resource = d["kind"].lower() + ("." + group if group else "")
        done = "created" if d["kind"] == "ServiceMonitor" or variant != "full" else \
            "unchanged|configured"
        assert re.search(r"^%s/%s (%s)$" % (re.escape(resource),
                                            re.escape(d["metadata"]["name"]), done),
                         out, re.M), (resource, out)
    for d in docs:
        args = ["get", d["kind"] + "." + d["apiVersion"].split("/")[0]
                if "/" in d["apiVersion"] else d["kind"], d["metadata"]["name"], "-o", "json"]
        if d["metadata"].get("namespace"):
            args += ["-n", d["metadata"]["namespace"]]
        got = json.loads(kubectl(*args).stdout)
        assert got["metadata"]["uid"]
        if d["kind"] == "Service":
            assert got["spec"]["clusterIP"]      # allocated by the API
        assert key_fields(got) == key_fields(d), d["kind"]
    # applying the same output again changes nothing
    again = apply(kubectl, tmp_path, "chart.yaml", text)
    assert "created" not in again.stdout


@pytest.mark.skipif(not os.path.exists(KUBECTL), reason="no kubectl")
def test_the_stand_in_refuses_what_a_real_api_server_refuses(rendered, kube_api, tmp_path):
    """The acceptance above has teeth: a misspelt field, a selector that
    misses the pod labels, a webhook without sideEffects are refused."""
    text, docs = rendered["default"]
    api = kube_api()
    kubectl = Kubectl(api, tmp_path / "home")
    apply(kubectl, tmp_path, "ns.yaml", yaml.safe_dump(namespace_doc(NS)))

    def broken(change):
        objs = json.loads(json.dumps(docs))
        change(objs)
        return apply(kubectl, tmp_path, "broken.yaml", yaml.safe_dump_all(objs), check=False)

    def typo(objs):
        workload(objs)["spec"]["replica"] = 3
    p = broken(typo)
    assert p.returncode != 0
    assert 'strict decoding error: unknown field "spec.replica"' in p.stderr

    def selector(objs):
        workload(objs)["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] = "x"
    p = broken(selector)
    assert "spec.template.metadata.labels: Invalid value" in p.stderr
    assert "`selector` does not match template `labels`" in p.stderr

    def side_effects(objs):
        del named(objs, "ValidatingWebhookConfiguration", "kubengx-admission")[
            "webhooks"][0]["sideEffects"]
    p = broken(side_effects)
    assert "webhooks[0].sideEffects: Required value" in p.stderr

    def policy(objs):
        named(objs, "Service", "kubengx-metrics")["spec"]["externalTrafficPolicy"] = "Local"
    p = broken(policy)
    assert "spec.externalTrafficPolicy: Invalid value: \"Local\": may only be set when " \
        "`type` is 'NodePort' or 'LoadBalancer'" in p.stderr


# --- key fields of each variant --------------------------------------------

def webhook_objects(docs):
    return [d for d in docs if d["kind"] == "ValidatingWebhookConfiguration"
            or d["metadata"]["name"] == "kubengx-admission"]


def test_default(rendered):
    _, docs = rendered["default"]
    assert kinds(docs) == sorted([
        "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
        "IngressClass", "Deployment", "Service", "Service", "Service", "Secret",
        "PodDisruptionBudget", "ValidatingWebhookConfiguration"])
    dep = workload(docs)
    assert dep["kind"] == "Deployment" and dep["spec"]["replicas"] == 2
    args = args_map(container(dep))
    assert args["validating-webhook"] == ":9443"
    assert args["publish-service"] == "$(POD_NAMESPACE)/kubengx"
    assert "watch-namespace" not in args and "configmap" not in args
    svc = named(docs, "Service", "kubengx")
    assert svc["spec"]["type"] == "LoadBalancer"
    assert svc["spec"]["externalTrafficPolicy"] == "Local"
    metrics = named(docs, "Service", "kubengx-metrics")
    assert [(p["port"], p["targetPort"]) for p in metrics["spec"]["ports"]] == \
        [(10254, "metrics")]
    assert named(docs, "PodDisruptionBudget", "kubengx")["spec"]["minAvailable"] == 1
    assert named(docs, "IngressClass", "kubengx")["spec"] == {
        "controller": "kubengx.io/ingress-controller"}
    assert {d["kind"] for d in docs if d["kind"] in ("HorizontalPodAutoscaler",
                                                     "ConfigMap", "ServiceMonitor")} == set()


def test_webhook_objects_fit_together(rendered):
    """VWC -> Service port 443 -> container port "webhook" -> the flag's
    port; the Secret is mounted where the flags say; Ingresses of the
    chart's class only, failurePolicy Fail."""
    _, docs = rendered["default"]
    vwc = named(docs, "ValidatingWebhookConfiguration", "kubengx-admission")
    hook, = vwc["webhooks"]
    assert hook["failurePolicy"] == "Fail" and hook["sideEffects"] == "None"
    assert hook["admissionReviewVersions"] == ["v1"]
    assert hook["rules"] == [{"apiGroups": ["networking.k8s.io"], "apiVersions": ["v1"],
                              "operations": ["CREATE", "UPDATE"], "resources": ["ingresses"],
                              "scope": "Namespaced"}]
    assert "kubengx" in hook["matchConditions"][0]["expression"]
    ref = hook["clientConfig"]["service"]
    svc = named(docs, "Service", ref["name"])
    assert svc["metadata"]["namespace"] == ref["namespace"] == NS
    port, = [p for p in svc["spec"]["ports"] if p["port"] == ref["port"] == 443]
    c = container(workload(docs))
    cports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert args_map(c)["validating-webhook"] == ":%d" % cports[port["targetPort"]]
    assert cports[port["targetPort"]] not in (cports["http"], cports["https"],
                                              cports["metrics"])
    assert svc["spec"]["selector"].items() <= \
        workload(docs)["spec"]["template"]["metadata"]["labels"].items()
    mount, = [m for m in c["volumeMounts"] if m["name"] == "webhook-cert"]
    vol, = [v for v in workload(docs)["spec"]["template"]["spec"]["volumes"]
            if v["name"] == "webhook-cert"]
    secret = named(docs, "Secret", vol["secret"]["secretName"])
    files = {i["path"]: i["key"] for i in vol["secret"]["items"]}
    args = args_map(c)
    for flag, key in (("validating-webhook-certificate", "tls.crt"),
                      ("validating-webhook-key", "tls.key")):
        path = args[flag]
        assert os.path.dirname(path) == mount["mountPath"].rstrip("/")
        assert files[os.path.basename(path)] == key
        assert key in secret["data"]


def test_webhook_certificate_is_valid_for_its_service(rendered, tmp_path):
    """openssl: the serving certificate chains to the caBundle the API
    server gets, names the Service's DNS names, and matches its key."""
    _, docs = rendered["default"]
    secret = named(docs, "Secret", "kubengx-admission")
    assert secret["type"] == "kubernetes.io/tls"
    vwc = named(docs, "ValidatingWebhookConfiguration", "kubengx-admission")
    ca_bundle = vwc["webhooks"][0]["clientConfig"]["caBundle"]
    assert ca_bundle == secret["data"]["ca.crt"]
    import base64
    for key in ("ca.crt", "tls.crt", "tls.key"):
        (tmp_path / key).write_bytes(base64.b64decode(secret["data"][key]))
    p = harness.run(["openssl", "verify", "-CAfile", str(tmp_path / "ca.crt"),
                     str(tmp_path / "tls.crt")])
    assert p.returncode == 0 and ": OK" in p.stdout, p.stdout + p.stderr
    p = harness.run(["openssl", "x509", "-in", str(tmp_path / "tls.crt"), "-noout",
                     "-ext", "subjectAltName"], check=True)
    for name in ("kubengx-admission", "kubengx-admission.kubengx",
                 "kubengx-admission.kubengx.svc"):
        assert "DNS:%s" % name in p.stdout
    pub = [harness.run(["openssl", *cmd], check=True).stdout for cmd in (
        ["x509", "-in", str(tmp_path / "tls.crt"), "-noout", "-pubkey"],
        ["pkey", "-in", str(tmp_path / "tls.key"), "-pubout"])]
    assert pub[0] == pub[1] and "PUBLIC KEY" in pub[0]


def test_daemonset(rendered):
    _, docs = rendered["daemonset"]
    ds = workload(docs)
    assert ds["kind"] == "DaemonSet" and "replicas" not in ds["spec"]
    assert ds["spec"]["updateStrategy"]["rollingUpdate"] == {"maxUnavailable": 1}
    ports = {p["name"]: p for p in container(ds)["ports"]}
    assert (ports["http"]["hostPort"], ports["https"]["hostPort"]) == (80, 443)
    assert "hostPort" not in ports["metrics"]
    assert not ds["spec"]["template"]["spec"].get("hostNetwork")
    args = args_map(container(ds))
    assert args["publish-address"] == "ingress.example.com"
    assert "publish-service" not in args
    svc = named(docs, "Service", "kubengx")
    assert svc["spec"]["type"] == "NodePort"
    assert not [d for d in docs if d["kind"] in ("PodDisruptionBudget",
                                                 "HorizontalPodAutoscaler")]


def test_scoped(rendered):
    _, docs = rendered["scoped"]
    args = args_map(container(workload(docs)))
    assert args["watch-namespace"] == "shop"
    assert (args["class"], args["controller"], args["election-id"]) == (
        "kubengx-shop", "kubengx.io/shop", "kubengx-shop-leader")
    # the cluster-wide role keeps only the cluster-scoped IngressClasses
    cr = one(docs, "ClusterRole")
    assert rules_by_resource(cr["rules"]) == {
        ("networking.k8s.io", "ingressclasses", ()): READ}
    role = named(docs, "Role", "kubengx")
    assert role["metadata"]["namespace"] == "shop"
    assert rules_by_resource(role["rules"]) == namespaced_rules()
    binding = named(docs, "RoleBinding", "kubengx")
    assert binding["metadata"]["namespace"] == "shop"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "kubengx",
                                    "namespace": NS}]
    lease = named(docs, "Role", "kubengx-leader")
    assert lease["metadata"]["namespace"] == NS
    assert ("coordination.k8s.io", "leases", ("kubengx-shop-leader",)) in \
        rules_by_resource(lease["rules"])
    hook = named(docs, "ValidatingWebhookConfiguration", "kubengx-admission")["webhooks"][0]
    assert hook["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}
    assert "'kubengx-shop'" in hook["matchConditions"][0]["expression"]
    assert named(docs, "IngressClass", "kubengx-shop")["spec"]["controller"] == \
        "kubengx.io/shop"


def test_webhook_off(rendered):
    _, docs = rendered["webhook-off"]
    assert webhook_objects(docs) == []
    c = container(workload(docs))
    assert not [a for a in c["args"] if a.startswith("--validating-webhook")]
    assert "webhook" not in {p["name"] for p in c["ports"]}
    assert "webhook-cert" not in {m["name"] for m in c["volumeMounts"]}
    default_docs = rendered["default"][1]
    assert kinds(docs) == kinds([d for d in default_docs if d not in webhook_objects(
        default_docs)])


def test_full(rendered):
    _, docs = rendered["full"]
    dep = workload(docs)
    assert "replicas" not in dep["spec"]          # the HPA owns it
    hpa = one(docs, "HorizontalPodAutoscaler")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 9)
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": dep["metadata"]["name"]}
    assert sorted(m["resource"]["name"] for m in hpa["spec"]["metrics"]) == ["cpu", "memory"]
    cm = named(docs, "ConfigMap", "kubengx")
    assert cm["data"] == {"proxy-body-size": "8m", "use-forwarded-headers": "true",
                          "hsts-max-age": "31536000"}
    args = args_map(container(dep))
    assert args["configmap"] == "$(POD_NAMESPACE)/" + cm["metadata"]["name"]
    assert (args["sync-holdoff"], args["host-ownership"]) == ("500ms", "namespace")
    config_role = named(docs, "Role", "kubengx-config")
    assert rules_by_resource(config_role["rules"]) == {
        ("", "configmaps", (cm["metadata"]["name"],)): READ}
    sm = one(docs, "ServiceMonitor")
    metrics = named(docs, "Service", "kubengx-metrics")
    assert sm["spec"]["selector"]["matchLabels"].items() <= metrics["metadata"]["labels"].items()
    assert sm["spec"]["endpoints"][0]["port"] == metrics["spec"]["ports"][0]["name"]
    assert sm["metadata"]["labels"]["release"] == "prometheus"
    pod = dep["spec"]["template"]["spec"]
    assert pod["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "kubengx", "app.kubernetes.io/component": "controller"}
    assert pod["priorityClassName"] == "system-cluster-critical"
    hook = one(docs, "ValidatingWebhookConfiguration")["webhooks"][0]
    assert (hook["failurePolicy"], hook["timeoutSeconds"]) == ("Ignore", 5)
    svc = named(docs, "Service", "kubengx")
    assert svc["spec"]["loadBalancerSourceRanges"] == ["203.0.113.0/24"]
    assert svc["metadata"]["annotations"] == {
        "service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}
    # TCP and UDP services: ingress-nginx's ConfigMaps, flags, ports, RBAC
    assert named(docs, "ConfigMap", "kubengx-tcp")["data"] == {
        "9000": "default/example-go:8080", "5432": "db/postgres:5432::PROXY"}
    assert named(docs, "ConfigMap", "kubengx-udp")["data"] == {
        "5353": "kube-system/kube-dns:53"}
    assert args["tcp-services-configmap"] == "$(POD_NAMESPACE)/kubengx-tcp"
    assert args["udp-services-configmap"] == "$(POD_NAMESPACE)/kubengx-udp"
    ports = {p["name"]: p for p in container(dep)["ports"]}
    for name, port, proto in (("9000-tcp", 9000, "TCP"), ("5432-tcp", 5432, "TCP"),
                              ("5353-udp", 5353, "UDP")):
        assert (ports[name]["containerPort"], ports[name]["protocol"]) == (port, proto)
        sp = [p for p in svc["spec"]["ports"] if p["name"] == name]
        assert sp == [{"name": name, "port": port, "targetPort": name, "protocol": proto}]
    stream_role = named(docs, "Role", "kubengx-stream")
    assert rules_by_resource(stream_role["rules"]) == {("", "configmaps", ()): READ}
    # h2c: the flag, the container port, the Service port
    assert args["h2c-port"] == "8081"
    assert (ports["h2c"]["containerPort"], ports["h2c"]["protocol"]) == (8081, "TCP")
    assert [p for p in svc["spec"]["ports"] if p["name"] == "h2c"] == [
        {"name": "h2c", "port": 8081, "targetPort": "h2c", "protocol": "TCP",
         "appProtocol": "kubernetes.io/h2c"}]
    assert named(docs, "RoleBinding", "kubengx-stream")["roleRef"]["name"] == "kubengx-stream"


# --- the default output against examples/deploy/ ---------------------------

def namespaced_rules():
    cr = one(load_dir(DEPLOY), "ClusterRole")
    return {k: v for k, v in rules_by_resource(cr["rules"]).items()
            if k[1] != "ingressclasses"}


def test_default_matches_examples_deploy(rendered):
    _, docs = rendered["default"]
    ex = load_dir(DEPLOY)
    assert rules_by_resource(one(docs, "ClusterRole")["rules"]) == \
        rules_by_resource(one(ex, "ClusterRole")["rules"])
    assert rules_by_resource(named(docs, "Role", "kubengx-leader")["rules"]) == \
        rules_by_resource(named(ex, "Role", "kubengx-leader")["rules"])
    assert one(docs, "ClusterRoleBinding")["subjects"] == \
        one(ex, "ClusterRoleBinding")["subjects"]
    assert one(docs, "RoleBinding")["subjects"] == \
        named(ex, "RoleBinding", "kubengx-leader")["subjects"]
    # examples/deploy reads the TCP/UDP ConfigMaps of 50-tcp-udp-services.yaml
    # (Role kubengx-stream); the chart only with tcp:/udp: values (test_full)
    assert rules_by_resource(named(ex, "Role", "kubengx-stream")["rules"]) == \
        {("", "configmaps", ()): READ}
    dep, ex_dep = workload(docs), one(ex, "Deployment")
    pod, ex_pod = dep["spec"]["template"]["spec"], ex_dep["spec"]["template"]["spec"]
    c, ex_c = container(dep), container(ex_dep)
    assert pod["securityContext"] == ex_pod["securityContext"]
    assert c["securityContext"] == ex_c["securityContext"]
    for key in ("livenessProbe", "readinessProbe", "lifecycle", "resources", "env",
                "imagePullPolicy"):
        assert c[key] == ex_c[key], key
    assert c["image"] == ex_c["image"]
    assert [p for p in c["ports"] if p["name"] != "webhook"] == ex_c["ports"]
    for key in ("terminationGracePeriodSeconds", "serviceAccountName", "affinity"):
        if key == "affinity":
            # the chart's selector also names the release
            terms = pod[key]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
            ex_terms = ex_pod[key]["podAntiAffinity"][
                "preferredDuringSchedulingIgnoredDuringExecution"]
            assert terms[0]["podAffinityTerm"]["labelSelector"]["matchLabels"].items() >= \
                ex_terms[0]["podAffinityTerm"]["labelSelector"]["matchLabels"].items()
            continue
        assert pod[key] == ex_pod[key], key
    vols = {v["name"]: v for v in pod["volumes"]}
    for v in ex_pod["volumes"]:
        assert vols[v["name"]] == v
    assert [m for m in c["volumeMounts"] if m["name"] != "webhook-cert"] == \
        ex_c["volumeMounts"]
    args, ex_args = args_map(c), args_map(ex_c)
    for stream_flag in ("tcp-services-configmap", "udp-services-configmap"):
        assert ex_args.pop(stream_flag).startswith("$(POD_NAMESPACE)/")
    assert set(ex_args) <= set(args)
    assert {k: args[k] for k in ex_args} == ex_args
    assert set(args) - set(ex_args) == {"validating-webhook", "validating-webhook-certificate",
                                        "validating-webhook-key"}
    assert dep["spec"]["replicas"] == ex_dep["spec"]["replicas"]
    assert dep["spec"]["strategy"] == ex_dep["spec"]["strategy"]
    svc, ex_svc = named(docs, "Service", "kubengx"), named(ex, "Service", "kubengx")
    for key in ("type", "externalTrafficPolicy", "ports"):
        assert svc["spec"][key] == ex_svc["spec"][key], key
    # the one metrics port: the same Service in both
    svc = named(docs, "Service", "kubengx-metrics")
    ex_svc = named(ex, "Service", "kubengx-metrics")
    for key in ("type", "ports"):
        assert svc["spec"][key] == ex_svc["spec"][key], key
    assert one(docs, "IngressClass")["spec"] == one(ex, "IngressClass")["spec"]


# --- the flags -------------------------------------------------------------

def test_flags_are_controller_flags(rendered, kubengx):
    """Every flag any variant renders is one `kubengx controller --help`
    lists, but those the controller does not have yet (PENDING_FLAGS); the
    controller parses the rest (getopt reads all before the trailing
    --help)."""
    usage = harness.run([kubengx, "controller", "--help"], check=True).stdout
    env = {"POD_NAMESPACE": NS, "POD_NAME": "kubengx-0"}
    for variant, (_, docs) in rendered.items():
        argv = [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], a)
                for a in container(workload(docs))["args"]]
        known = []
        for a in argv:
            flag = a[2:].split("=")[0]
            listed = re.search(r"^\s+--%s\b" % re.escape(flag), usage, re.M)
            assert listed or flag in PENDING_FLAGS, (variant, a)
            if listed:
                known.append(a)
        p = harness.run([kubengx, "controller", *known, "--help"])
        assert p.returncode == 0, (variant, p.stderr)


# --- values the chart refuses ----------------------------------------------

@pytest.mark.parametrize("setting, message", [
    ("controller.kind=StatefulSet", 'controller.kind: "StatefulSet" is neither Deployment nor '
                                    'DaemonSet'),
    ("controller.admissionWebhooks.failurePolicy=Sometimes",
     'controller.admissionWebhooks.failurePolicy: "Sometimes" is neither Fail nor Ignore'),
    ("controller.admissionWebhooks.port=8443",
     "controller.admissionWebhooks.port: 8443 is also nginx's http/https port"),
    ("controller.disableLeaderElection=true",
     "controller.disableLeaderElection: only for a single replica"),
    ("tcp.80=default/web:80", "tcp: port 80 is outside 1024-65535"),
    ("udp.8080=default/dns:53", "udp: port 8080 is also the http, https, metrics or "
                                "webhook port"),
    ("tcp.db=default/db:5432", 'tcp: key "db" is not a port number'),
    ("controller.containerPort.h2c=8443",
     "controller.containerPort.h2c: 8443 is also the http, https or metrics port"),
    ("controller.containerPort.h2c=81", "controller.containerPort.h2c: 81 is below 1024"),
])
def test_bad_values_are_refused(helm, setting, message):
    p = template(helm, None, "--set", setting, check=False)
    assert p.returncode != 0
    assert message in p.stderr


def test_extra_args_render_as_flags(helm):
    p = template(helm, None, "--set", "controller.extraArgs.watch-without-class=true",
                 "--set", "controller.extraArgs.http-port=9080",
                 "--set", "controller.extraArgs.update-status-on-shutdown=",
                 "--set", "controller.extraArgs.no-leader-elect=false")
    args = container(workload(docs_of(p.stdout)))["args"]
    assert "--watch-without-class" in args and "--update-status-on-shutdown" in args
    assert not [a for a in args if a.startswith("--no-leader-elect")]
    # a flag named in extraArgs replaces the chart's own
    assert [a for a in args if a.startswith("--http-port")] == ["--http-port=9080"]


def test_user_provided_webhook_certificate(helm):
    p = template(helm, None, "--set", "controller.admissionWebhooks.secretName=my-cert",
                 "--set-string", "controller.admissionWebhooks.caBundle=PEM")
    docs = docs_of(p.stdout)
    assert not [d for d in docs if d["kind"] == "Secret"]
    vol, = [v for v in workload(docs)["spec"]["template"]["spec"]["volumes"]
            if v["name"] == "webhook-cert"]
    assert vol["secret"]["secretName"] == "my-cert"
    hook = one(docs, "ValidatingWebhookConfiguration")["webhooks"][0]
    assert hook["clientConfig"]["caBundle"] == "UEVN"      # base64 of "PEM"


def test_ingress_nginx_values_carry_over(helm, tmp_path):
    """Values written for ingress-nginx's chart under the same names keep
    their meaning here."""
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({"controller": {
        "replicaCount": 3,
        "ingressClassResource": {"name": "nginx", "default": True,
                                 "controllerValue": "kubengx.io/ingress-controller"},
        "ingressClass": "nginx",
        "watchIngressWithoutClass": True,
        "electionID": "ingress-controller-leader",
        "service": {"type": "NodePort", "nodePorts": {"http": 30080, "https": 30443},
                    "annotations": {"example.com/owner": "{{ .Release.Name }}"}},
        "config": {"use-forwarded-headers": "true"},
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "resources": {"requests": {"cpu": "100m", "memory": "90Mi"}},
        "admissionWebhooks": {"failurePolicy": "Ignore", "timeoutSeconds": 3},
        "minAvailable": 2,
        "metrics": {"enabled": True, "serviceMonitor": {"enabled": True,
                                                        "scrapeInterval": "15s"}},
    }, "rbac": {"create": True}, "serviceAccount": {"create": True}}))
    docs = docs_of(template(helm, None, "-f", str(values)).stdout)
    dep = workload(docs)
    assert dep["spec"]["replicas"] == 3
    args = args_map(container(dep))
    assert (args["class"], args["election-id"], args["watch-without-class"]) == (
        "nginx", "ingress-controller-leader", True)
    ic = one(docs, "IngressClass")
    assert ic["metadata"]["name"] == "nginx"
    assert ic["metadata"]["annotations"] == {"ingressclass.kubernetes.io/is-default-class":
                                             "true"}
    svc = named(docs, "Service", "kubengx")
    assert [p["nodePort"] for p in svc["spec"]["ports"]] == [30080, 30443]
    assert svc["metadata"]["annotations"] == {"example.com/owner": "kubengx"}
    assert one(docs, "ConfigMap")["data"] == {"use-forwarded-headers": "true"}
    assert container(dep)["resources"]["requests"] == {"cpu": "100m", "memory": "90Mi"}
    assert one(docs, "PodDisruptionBudget")["spec"]["minAvailable"] == 2
    assert one(docs, "ServiceMonitor")["spec"]["endpoints"][0]["interval"] == "15s"
    hook = one(docs, "ValidatingWebhookConfiguration")["webhooks"][0]
    assert (hook["failurePolicy"], hook["timeoutSeconds"]) == ("Ignore", 3)
    # class-less Ingresses are sent to the webhook too (kubengx serves them)
    assert hook["matchConditions"][0]["expression"].endswith(": true)")


@pytest.mark.skipif(not os.path.exists(KUBECTL), reason="no kubectl")
def test_upgrade_keeps_the_webhook_certificate(helm, rendered, kube_api, tmp_path):
    """With a cluster to ask (helm's lookup; `helm template --dry-run=server`
    here, helm upgrade alike), the chart reuses the Secret it finds, so an
    upgrade does not swap the CA under pods still serving the old
    certificate; without one it generates a new pair."""
    text, docs = rendered["default"]
    api = kube_api()
    kubectl = Kubectl(api, tmp_path / "home")
    apply(kubectl, tmp_path, "ns.yaml", yaml.safe_dump(namespace_doc(NS)))
    apply(kubectl, tmp_path, "chart.yaml", text)

    def certs(docs):
        secret = named(docs, "Secret", "kubengx-admission")["data"]
        hook = one(docs, "ValidatingWebhookConfiguration")["webhooks"][0]
        return secret, hook["clientConfig"]["caBundle"]

    first = certs(docs)
    again = docs_of(template(helm, None, "--dry-run=server", "--kubeconfig",
                             api.kubeconfig).stdout)
    assert certs(again) == first
    offline = docs_of(template(helm).stdout)
    assert certs(offline)[1] != first[1]


def test_notes_name_ingress_nginx_values_without_effect(helm, kube_api):
    """helm install's notes list the ingress-nginx values kubengx ignores
    that a carried-over values.yaml sets, and a foreign image."""
    api = kube_api()
    p = run_helm(helm, "install", "--dry-run=client", "--kubeconfig", api.kubeconfig,
                 "kubengx", CHART, "--namespace", NS,
                 "--set", "controller.hostNetwork=true", "--set", "tcp.9000=shop/db:5432",
                 "--set", "dhParam=abc",
                 "--set", "controller.allowSnippetAnnotations=false",
                 "--set", "controller.image.image=ingress-nginx/controller")
    notes = p.stdout[p.stdout.index("NOTES:"):]
    ignored = re.findall(r"^  - (\S+)$", notes, re.M)
    # false is no effect either way; tcp is honoured
    assert ignored == ["controller.hostNetwork", "dhParam"]
    assert 'controller.image.image is "ingress-nginx/controller"' in notes
    assert "ingressClassName: kubengx" in notes
