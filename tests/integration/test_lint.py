"""`kubengx lint`: each finding triggered by a minimal manifest set, both
output formats, exit codes, and the Kubernetes docs corpus."""

import glob
import json
import os
import re

import pytest

import harness
from manifests import (backend, endpoint, ingress, ingress_class, lint,
                       path, resource_backend, rule, secret_tls,
                       self_signed, service, slice_, svc_port,
                       write_manifests)

CORPUS = os.path.join(harness.ROOT, "tests", "corpus", "kubernetes-docs")
CORPUS_FILES = sorted(glob.glob(os.path.join(CORPUS, "*.yaml")))
H = "app.example.com"
KEYS = {"file", "document", "severity", "kind", "namespace", "name",
        "message"}



def svc(name="web", ports=((("http", 80, 8080)),), ns="default", **kw):
    return service(name, [svc_port(*p) for p in ports], ns=ns, **kw)


def ready_slice(name="web", ns="default", port_name="http", port=8080):
    return slice_(name, [endpoint("10.0.0.1")], [(port_name, port)], ns=ns)


def ing(name="app", paths=None, **kw):
    paths = paths or [path("/", "web", 80)]
    return ingress(name, [rule(H, *paths)], **kw)


def run_json(tmp_path, objs, *flags, name="in"):
    f = write_manifests(tmp_path / name, objs)
    rc, out, err = lint([f], "--output", "json", *flags)
    assert rc in (0, 1), (rc, err)
    data = json.loads(out)
    assert isinstance(data, list)
    for d in data:
        assert KEYS <= set(d), d
        assert d["severity"] in ("warning", "error")
        assert d["file"] == f
        assert isinstance(d["document"], int) and d["document"] >= 1
    return rc, data, f


def codes(data):
    return sorted((d["severity"], d.get("code"), d["kind"], d["name"])
                  for d in data)


def find(data, code):
    return [d for d in data if d.get("code") == code]


# --- a clean set -----------------------------------------------------------

def test_clean_input_has_no_findings(tmp_path, kubengx):
    objs = [svc(), ready_slice(), ing()]
    rc, data, _ = run_json(tmp_path, objs)
    assert rc == 0
    assert data == []
    f = write_manifests(tmp_path / "t", objs)
    rc, out, err = lint([f])
    assert rc == 0 and out == "", out
    assert "0 errors, 0 warnings" in err


# --- each finding ----------------------------------------------------------

def test_class_nobody_serves(tmp_path, kubengx):
    objs = [svc(), ready_slice(),
            ing("other", cls="nginx"),
            ing("legacy", cls=None,
                annotations={"kubernetes.io/ingress.class": "traefik"}),
            ing("none", cls=None),
            ing("declared", cls="theirs"),
            ingress_class("theirs", controller="example.com/theirs")]
    rc, data, _ = run_json(tmp_path, objs)
    got = sorted(d["name"] for d in find(data, "no-controller"))
    # "declared" names a class someone declared; the rest do nothing
    assert got == ["legacy", "none", "other"], data
    assert rc == 0                 # warnings only
    for d in find(data, "no-controller"):
        assert d["severity"] == "warning" and d["kind"] == "Ingress"
        assert "nothing" in d["message"]


def test_class_served_by_default_class_or_flag(tmp_path, kubengx):
    objs = [svc(), ready_slice(), ing("none", cls=None),
            ingress_class("dflt", controller="example.com/x", default=True)]
    _, data, _ = run_json(tmp_path, objs)
    assert not find(data, "no-controller"), data
    objs = [svc(), ready_slice(), ing("none", cls=None)]
    _, data, _ = run_json(tmp_path, objs, "--watch-without-class",
                          name="b")
    assert not find(data, "no-controller"), data
    objs = [svc(), ready_slice(), ing("mine", cls="internal")]
    _, data, _ = run_json(tmp_path, objs, "--class", "internal", name="c")
    assert not find(data, "no-controller"), data


def test_missing_service_is_an_error(tmp_path, kubengx):
    objs = [svc(), ready_slice(),
            ing(paths=[path("/", "web", 80), path("/api", "api", 80)])]
    rc, data, _ = run_json(tmp_path, objs)
    assert rc == 1
    [d] = find(data, "no-service")
    assert d["severity"] == "error"
    assert d["kind"] == "Ingress" and d["name"] == "app"
    assert d["namespace"] == "default"
    assert "api" in d["message"]


def test_service_in_other_namespace_is_missing(tmp_path, kubengx):
    objs = [svc(ns="other"), ready_slice(ns="other"), ing()]
    rc, data, _ = run_json(tmp_path, objs)
    assert rc == 1 and find(data, "no-service"), data


def test_missing_port_is_an_error_and_names_target_port(tmp_path, kubengx):
    objs = [svc(), ready_slice(),
            ing(paths=[path("/a", "web", 8080), path("/b", "web", "nope")])]
    rc, data, _ = run_json(tmp_path, objs)
    assert rc == 1
    ds = find(data, "no-port")
    assert len(ds) == 2, data
    by_target = [d for d in ds if "targetPort" in d["message"]]
    assert by_target and "8080" in by_target[0]["message"]
    assert any("nope" in d["message"] for d in ds)


def test_port_by_name_found(tmp_path, kubengx):
    objs = [svc(), ready_slice(), ing(paths=[path("/", "web", "http")])]
    rc, data, _ = run_json(tmp_path, objs)
    assert rc == 0 and data == [], data


def test_no_ready_endpoints(tmp_path, kubengx):
    objs = [svc("web"), svc("api"), svc("gone"),
            slice_("web", [endpoint("10.0.0.1", ready=False,
                                    serving=False)], [("http", 8080)]),
            slice_("api", [endpoint("10.0.0.2")], [("http", 8080)]),
            ing(paths=[path("/", "web", 80), path("/api", "api", 80),
                       path("/gone", "gone", 80)])]
    rc, data, _ = run_json(tmp_path, objs)
    ds = find(data, "no-endpoints")
    assert sorted(d["name"] for d in ds) == ["gone", "web"], data
    for d in ds:
        assert d["kind"] == "Service" and d["severity"] == "warning"
    assert rc == 0


def test_only_terminating_endpoints(tmp_path, kubengx):
    objs = [svc(), slice_("web", [endpoint("10.0.0.1", ready=False,
                                           serving=True, terminating=True)],
                          [("http", 8080)]), ing()]
    _, data, _ = run_json(tmp_path, objs)
    assert [d["name"] for d in find(data, "terminating-endpoints")] == \
        ["web"], data


def test_endpoints_not_checked_without_any_slices(tmp_path, kubengx):
    _, data, _ = run_json(tmp_path, [svc(), ing()])
    assert data == [], data


def test_many_load_balancers_exposing_http(tmp_path, kubengx):
    objs = [svc("a", type="LoadBalancer"),
            svc("b", ports=[("web", 8080, 8080)], type="LoadBalancer"),
            svc("c", ports=[("x", 9000, 9000, "TCP", "http")],
                type="LoadBalancer"),
            svc("db", ports=[("pg", 5432, 5432)], type="LoadBalancer"),
            svc("d", ports=[("dns", 53, 53, "UDP")], type="LoadBalancer"),
            svc("e")]
    rc, data, _ = run_json(tmp_path, objs)
    ds = find(data, "many-load-balancers")
    assert sorted(d["name"] for d in ds) in (["a", "b", "c"], ["a", "b"]), \
        data
    assert rc == 0


def test_one_load_balancer_is_fine(tmp_path, kubengx):
    objs = [svc("a", type="LoadBalancer"),
            svc("db", ports=[("pg", 5432, 5432)], type="LoadBalancer")]
    _, data, _ = run_json(tmp_path, objs)
    assert not find(data, "many-load-balancers"), data


def test_node_port_service(tmp_path, kubengx):
    objs = [svc("np", ports=[("http", 80, 8080, "TCP", None, 30080)],
                type="NodePort"), svc("plain")]
    _, data, _ = run_json(tmp_path, objs)
    ds = find(data, "node-port")
    assert [d["name"] for d in ds] == ["np"], data
    assert "every node" in ds[0]["message"]


def test_missing_and_bad_tls_secrets(tmp_path, kubengx):
    tls = lambda s: [{"hosts": [H], "secretName": s}]   # noqa: E731
    cert, key = self_signed(tmp_path, H)
    objs = [svc(), ready_slice(),
            secret_tls("good", cert, key),
            {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
             "metadata": {"name": "opaque", "namespace": "default"},
             "data": {}},
            ing("a", tls=tls("good")),
            ing("b", tls=tls("missing"), paths=[path("/b", "web", 80)]),
            ing("c", tls=tls("opaque"), paths=[path("/c", "web", 80)])]
    rc, data, _ = run_json(tmp_path, objs)
    assert [d["name"] for d in find(data, "no-secret")] == ["b"], data
    assert "missing" in find(data, "no-secret")[0]["message"]
    assert [d["name"] for d in find(data, "bad-secret")] == ["c"], data
    assert rc == 1


def test_host_path_conflict(tmp_path, kubengx):
    objs = [svc(), ready_slice(),
            ing("zz-old", created="2020-01-01T00:00:00Z",
                paths=[path("/x", "web", 80)]),
            ing("aa-new", created="2024-01-01T00:00:00Z",
                paths=[path("/x/", "web", 80), path("/x", "web", 80,
                                                    "Exact")]),
            # another class: no conflict with ours
            ing("other", cls="nginx", created="2025-01-01T00:00:00Z",
                paths=[path("/x", "web", 80)])]
    _, data, _ = run_json(tmp_path, objs)
    ds = find(data, "conflict")
    assert [d["name"] for d in ds] == ["aa-new"], data
    assert "zz-old" in ds[0]["message"]


def test_implementation_specific_and_resource_backends(tmp_path, kubengx):
    objs = [svc(), ready_slice(),
            ing(paths=[path("/impl", "web", 80, "ImplementationSpecific"),
                       path("/res", be=resource_backend("bucket"))])]
    rc, data, _ = run_json(tmp_path, objs)
    assert [d["name"] for d in find(data, "implementation-specific")] == \
        ["app"], data
    assert [d["name"] for d in find(data, "resource-backend")] == \
        ["app"], data
    assert rc == 0


def test_refused_hosts_and_paths_are_errors(tmp_path, kubengx):
    objs = [svc(), ready_slice(),
            ingress("bad", [rule("evil.com;}", path("/", "web", 80)),
                            rule(H, path("/a;b", "web", 80))])]
    rc, data, _ = run_json(tmp_path, objs)
    assert rc == 1
    assert find(data, "bad-host") and find(data, "bad-path"), data


def test_default_backend_checked(tmp_path, kubengx):
    objs = [svc(), ready_slice(),
            ingress("d", default_backend=backend("nosvc", 80))]
    rc, data, _ = run_json(tmp_path, objs)
    assert rc == 1 and find(data, "no-service"), data


# --- formats and exit codes -----------------------------------------------

def test_text_format(tmp_path, kubengx):
    objs = [svc(), ready_slice(),
            ing(paths=[path("/api", "api", 80)])]
    f = write_manifests(tmp_path / "t", objs)
    rc, out, err = lint([f])
    assert rc == 1
    lines = out.splitlines()
    assert lines
    for l in lines:
        assert re.match(r"^%s:\d+: (warning|error): " % re.escape(f), l), l
    # the Ingress is the third document
    assert any(l.startswith("%s:3: error: Ingress default/app: " % f)
               for l in lines), lines
    assert "1 error" in err


def test_json_and_text_agree(tmp_path, kubengx):
    objs = [svc("np", type="NodePort"), ready_slice("np"),
            ing(paths=[path("/", "np", 80, "ImplementationSpecific"),
                       path("/x", "gone", 80)])]
    f = write_manifests(tmp_path / "t", objs)
    _, out, _ = lint([f])
    rc, js, _ = lint([f], "-o", "json")
    data = json.loads(js)
    assert len(out.splitlines()) == len(data)
    for line, d in zip(out.splitlines(), data):
        assert line.startswith("%s:%d: %s: " % (d["file"], d["document"],
                                                d["severity"]))
        assert line.endswith(d["message"])


def test_output_is_deterministic(tmp_path, kubengx):
    objs = [svc("np", type="NodePort"), svc("a", type="LoadBalancer"),
            svc("b", type="LoadBalancer"),
            ing("x", paths=[path("/x", "gone", 80)]),
            ing("y", paths=[path("/x", "gone", 80)])]
    f1 = write_manifests(tmp_path / "one", objs)
    rc1, o1, _ = lint([f1], "-o", "json")
    rc2, o2, _ = lint([f1], "-o", "json")
    assert rc1 == rc2 and o1 == o2


def test_unreadable_input_exit_2(tmp_path, kubengx):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Service\nmetadata: {name: [\n")
    rc, out, err = lint([bad])
    assert rc == 2
    assert "bad.yaml" in err
    rc, out, err = lint([tmp_path / "missing.yaml"])
    assert rc == 2 and "missing.yaml" in err


def test_usage_errors(kubengx, tmp_path):
    rc, _, err = lint([])
    assert rc == 2 and "-f" in err
    f = write_manifests(tmp_path / "u", [svc()])
    rc, _, err = lint([f], "--output", "yaml")
    assert rc == 2
    rc, _, err = lint([f], "--bogus")
    assert rc == 2 and "bogus" in err


def test_help_documents_everything(kubengx):
    p = harness.run([kubengx, "lint", "--help"])
    assert p.returncode == 0
    for word in ("-f", "--output", "json", "--class", "--controller",
                 "--watch-without-class", "--namespace", "no-service",
                 "no-port", "no-endpoints", "many-load-balancers",
                 "node-port", "no-secret", "conflict",
                 "implementation-specific", "no-controller",
                 "Exit status"):
        assert word in p.stdout, word
    p = harness.run([kubengx, "--help"])
    assert "lint" in p.stdout


def test_stdin(kubengx, tmp_path):
    data = json.dumps({"apiVersion": "v1", "kind": "List",
                       "items": [svc(), ing(paths=[path("/", "x", 80)])]})
    p = harness.run([kubengx, "lint", "-f", "-", "-o", "json"],
                    input=data)
    assert p.returncode == 1, p.stderr
    assert find(json.loads(p.stdout), "no-service")


# --- the corpus ------------------------------------------------------------

def test_corpus_lints_without_crashing(kubengx):
    assert CORPUS_FILES, "no corpus in " + CORPUS
    for f in CORPUS_FILES:
        rc, out, err = lint([f], "-o", "json")
        assert rc in (0, 1), (f, rc, err)
        json.loads(out)
    rc, out, err = lint([CORPUS], "-o", "json")
    assert rc in (0, 1), err
    data = json.loads(out)
    names = {(d.get("code"), d["name"]) for d in data}
    # what the corpus README promises
    assert ("resource-backend", "ingress-resource-backend") in names, data
    assert ("node-port", "my-nginx") in names, data
    assert ("no-service", "minimal-ingress") in names, data
    assert ("no-secret", "tls-example-ingress") in names, data
    assert ("implementation-specific", "ingress-resource-backend") in \
        names, data
    # class-less Ingresses: the corpus's default class belongs to another
    # controller, so they are served (by it): no no-controller for them;
    # minimal-ingress names class nginx-example nobody declares
    assert ("no-controller", "minimal-ingress") in names, data
    assert ("no-controller", "simple-fanout-example") not in names, data


def test_invalid_names_are_errors(tmp_path, kubengx):
    objs = [svc(), ready_slice(),
            ing(paths=[path("/a", "Web", 80), path("/b", "svc;x", 80)])]
    rc, data, _ = run_json(tmp_path, objs)
    assert rc == 1
    ds = find(data, "bad-name")
    assert len(ds) == 2, data
    assert not find(data, "no-service"), data
    # an object whose own name the API server would refuse is bad input
    f = write_manifests(tmp_path / "n", [svc("Web")])
    rc, out, err = lint([f])
    assert rc == 2, err
    assert "metadata.name" in err and '"Web"' in err, err


def test_external_name_needs_no_port(tmp_path, kubengx):
    objs = [service("ext", [], type="ExternalName",
                    external_name="db.example.com", selector={}),
            ing(paths=[path("/", "ext", 5432)])]
    rc, data, _ = run_json(tmp_path, objs)
    assert rc == 0 and data == [], data


def test_names_cannot_forge_report_lines(tmp_path, kubengx):
    evil = "x\nerror: forged"
    # values that reach findings (an object's own name with a newline is
    # bad input: below)
    objs = [svc(), ready_slice(),
            ingress("a", [rule(H, path("/", evil, 80))]),
            ingress("b", [rule(H, path("/b", "web", 80))], cls=evil)]
    f = write_manifests(tmp_path / "t", objs, "flow")
    rc, out, err = lint([f])
    assert rc == 1
    for line in out.splitlines():
        assert line.startswith(f + ":"), line
    rc, js, _ = lint([f], "-o", "json")
    assert sum(1 for d in json.loads(js) if "forged" in d["message"]) == 2
    objs = [svc(), ingress(evil, [rule(H, path("/", "gone", 80))], ns=evil)]
    f = write_manifests(tmp_path / "u", objs, "flow")
    rc, out, err = lint([f])
    assert rc == 2 and out == ""
    for line in err.splitlines():
        assert line.startswith("kubengx"), line


def test_annotation_objects_not_in_the_input(tmp_path, kubengx):
    """A Secret or ConfigMap an annotation names that is not in the
    input: its own code, no-annotation-object, a warning naming the
    annotation; a malformed name stays bad-annotation."""
    a = "nginx.ingress.kubernetes.io/"
    objs = [svc(), ready_slice(),
            ing("basic", annotations={a + "auth-type": "basic",
                                      a + "auth-secret": "users"}),
            ing("ca", paths=[path("/ca", "web", 80)],
                annotations={a + "auth-tls-secret": "default/client-ca"},
                tls=[{"hosts": [H], "secretName": "app-tls"}]),
            ing("hdr", paths=[path("/hdr", "web", 80)],
                annotations={a + "custom-headers": "headers"}),
            ing("be", paths=[path("/be", "web", 80)],
                annotations={a + "backend-protocol": "HTTPS",
                             a + "proxy-ssl-secret": "default/backend-ca"}),
            ing("bad", paths=[path("/bad", "web", 80)],
                annotations={a + "auth-type": "basic",
                             a + "auth-secret": "Not_A_Name"})]
    rc, data, _ = run_json(tmp_path, objs)
    missing = {d["name"]: d for d in find(data, "no-annotation-object")}
    assert sorted(missing) == ["basic", "be", "ca", "hdr"], data
    for name, key in [("basic", "auth-secret"), ("ca", "auth-tls-secret"),
                      ("hdr", "custom-headers"), ("be", "proxy-ssl-secret")]:
        d = missing[name]
        assert d["severity"] == "warning", d
        assert d["field"] == "metadata.annotations[%s%s]" % (a, key), d
        assert "until it exists" in d["message"], d
    assert {d["name"] for d in find(data, "bad-annotation")} == {"bad"}, data
