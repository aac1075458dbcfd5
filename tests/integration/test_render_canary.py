"""Canary Ingresses and affinity annotations in the generator: ingress-nginx's
documented canary example renders the module's k8s_canary (no conflict), and
served by nginx with the module and the stand-in API, a canary weight
change made on the Ingress routes requests without a new config or a
reload; affinity annotations become the cookie."""

import os

import pytest

import harness
import manifests as m
from k8s_module_util import module_http
from test_module_service_ports import controller_slice
from test_module_watch import api_line, tail

needs_module = pytest.mark.skipif(not os.path.exists(harness.MODULE),
                                  reason="module not built")

ANN = "nginx.ingress.kubernetes.io/"

# ingress-nginx's canary example (docs/examples/canary), with its Services:
# the commonest shape, one unnamed port 80 -> targetPort 8080
EXAMPLE = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: production
spec:
  ingressClassName: nginx
  rules:
  - host: echo.prod.mydomain.com
    http:
      paths:
      - pathType: Prefix
        path: /
        backend:
          service:
            name: production
            port:
              number: 80
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: canary
  annotations:
    nginx.ingress.kubernetes.io/canary: "true"
    nginx.ingress.kubernetes.io/canary-weight: "50"
spec:
  ingressClassName: nginx
  rules:
  - host: echo.prod.mydomain.com
    http:
      paths:
      - pathType: Prefix
        path: /
        backend:
          service:
            name: canary
            port:
              number: 80
---
apiVersion: v1
kind: Service
metadata:
  name: production
spec:
  selector: {app: production}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: canary
spec:
  selector: {app: canary}
  ports:
  - port: 80
    targetPort: 8080
"""

HOST = "echo.prod.mydomain.com"


def write_slices(tmp_path, bk):
    """The example's EndpointSlices: one pod per Service, each a test
    backend (prod-pod, canary-pod)."""
    slices = []
    for svc, pod in (("production", "prod-pod"), ("canary", "canary-pod")):
        host, port = bk.host_port(pod)
        slices.append(controller_slice(svc, "x7k2p", [(pod, host)], port))
    return m.write_manifests(tmp_path / "slices", slices, fmt="list",
                             name="slices")


def with_annotations(annotations):
    """The example's text with these canary annotations in place of its
    weight."""
    return EXAMPLE.replace(
        '    nginx.ingress.kubernetes.io/canary-weight: "50"\n',
        "".join('    %s%s: "%s"\n' % (ANN, k, v)
                for k, v in annotations.items()))


def example(tmp_path, extra=""):
    p = tmp_path / "canary.yaml"
    p.write_text(EXAMPLE + extra)
    return str(p)


def test_example_renders_k8s_canary(tmp_path):
    rc, _, err, conf = m.render(example(tmp_path), None, "--class", "nginx",
                                endpoints="module")
    assert rc == 0, err
    assert "conflict" not in err, err
    assert "k8s_canary default/canary default/canary port=80;" in conf, conf
    # the canary's settings are not in the text: changing them changes
    # nothing the controller renders
    assert "50" not in conf.split("k8s_canary")[1].split(";")[0]

    rc, out, err = m.lint(example(tmp_path), "--class", "nginx")
    assert "conflict" not in out + err, out + err


def static_stack(tmp_path, backends, nginx_factory, annotations):
    """The example with these canary annotations, rendered with
    --endpoints static (the slices in the input) and served by stock
    nginx."""
    p = tmp_path / "canary.yaml"
    p.write_text(with_annotations(annotations))
    bk = backends("prod-pod", "canary-pod")
    slices_path = write_slices(tmp_path, bk)
    port = harness.free_port()
    out = tmp_path / "out"
    rc, _, err, conf = m.render([str(p), slices_path], out, "--class",
                                "nginx", endpoints="static", http_port=port)
    assert rc == 0, err
    n = m.serve(nginx_factory, out, [port])
    return n, conf, err, slices_path


def share(n, count, headers=None):
    hits = 0
    for _ in range(count):
        r = n.get("/", host=HOST, headers=headers)
        assert r.status == 200, r
        hits += r.backend == "canary-pod"
    return hits / count


def test_static_canary_served(tmp_path, backends, nginx_factory):
    """Without the module the settings are in the config: split_clients
    for the weight, the header and the cookie in ingress-nginx's order."""
    n, conf, err, _ = static_stack(tmp_path, backends, nginx_factory, {
        "canary-weight": "20", "canary-by-header": "X-Canary",
        "canary-by-cookie": "canary"})
    assert "k8s_canary" not in conf and "split_clients" in conf, conf
    count, p = 1000, 0.2
    sd = (p * (1 - p) / count) ** 0.5
    assert abs(share(n, count) - p) <= 3 * sd
    assert share(n, 30, {"X-Canary": "always"}) == 1
    assert share(n, 30, {"X-Canary": "never", "Cookie": "canary=always"}) \
        == 0
    assert share(n, 30, {"Cookie": "canary=always"}) == 1
    assert share(n, 30, {"X-Canary": "other", "Cookie": "canary=never"}) \
        == 0


def test_static_canary_header_value_and_refusals(tmp_path, backends,
                                                 nginx_factory):
    n, conf, err, slices = static_stack(tmp_path, backends, nginx_factory, {
        "canary-by-header": "X-Region", "canary-by-header-value": "eu west",
        "canary-by-cookie": "bad-name"})
    assert share(n, 20, {"X-Region": "eu west"}) == 1
    assert share(n, 20, {"X-Region": "always"}) == 0
    assert share(n, 20, {"Cookie": "bad-name=always"}) == 0
    assert "canary-by-cookie: only A-Za-z0-9_ without the module" in err

    # a pattern, or a value nginx would expand, needs the module
    for ann in ({"canary-by-header": "X-R",
                 "canary-by-header-pattern": "^eu"},
                {"canary-by-header": "X-R",
                 "canary-by-header-value": "$host"}):
        p = tmp_path / "c2.yaml"
        p.write_text(with_annotations(ann))
        rc, _, err, conf = m.render([str(p), slices], None, "--class",
                                    "nginx", endpoints="static")
        assert rc == 0, err
        assert "needs --endpoints module; ignored" in err or \
            "no $, {, }, ; without the module; ignored" in err, err
        assert "set $kubengx_backend" in conf, conf
        assert "^eu" not in conf and "$host\"" not in conf, conf


def test_canary_without_primary_and_second_canary(tmp_path):
    extra = """\
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: canary-2
  annotations:
    nginx.ingress.kubernetes.io/canary: "true"
    nginx.ingress.kubernetes.io/canary-weight: "abc"
spec:
  ingressClassName: nginx
  rules:
  - host: echo.prod.mydomain.com
    http:
      paths:
      - {pathType: Prefix, path: /, backend: {service: {name: canary, port: {number: 80}}}}
      - {pathType: Prefix, path: /new, backend: {service: {name: canary, port: {number: 80}}}}
"""
    rc, _, err, conf = m.render(example(tmp_path, extra), None, "--class",
                                "nginx", endpoints="module")
    assert rc == 0, err
    assert "already has the canary Ingress default/canary" in err, err
    assert 'no Ingress routes Prefix path "/new"' in err, err
    assert "location \"/new/\"" not in conf
    assert conf.count("k8s_canary") == 1, conf


AFFINITY = {
    "affinity": "cookie", "affinity-mode": "persistent",
    "session-cookie-name": "route", "session-cookie-samesite": "Strict",
    "session-cookie-secure": "true", "session-cookie-max-age": "600",
    "session-cookie-change-on-failure": "true",
}


def test_affinity_annotations_render(tmp_path):
    ing = m.ingress("web", [m.rule("a.example", m.path("/shop", "web", 80))],
                    annotations={ANN + k: v for k, v in AFFINITY.items()})
    bad = m.ingress("bad", [m.rule("b.example", m.path("/", "web", 80))],
                    annotations={ANN + "affinity": "cookie",
                                 ANN + "session-cookie-name": "a;b{",
                                 ANN + "session-cookie-path": "/x y"})
    svc = m.service("web", [m.svc_port(None, 80, 8080)])
    files = m.write_manifests(tmp_path / "in", [ing, bad, svc])
    rc, _, err, conf = m.render(files, None, endpoints="module")
    assert rc == 0, err
    assert ("k8s_affinity cookie name=route mode=persistent samesite=Strict "
            "secure change_on_failure max_age=600 path=/shop;") in conf, conf
    assert "k8s_affinity cookie name=INGRESSCOOKIE mode=balanced path=/;" \
        in conf, conf
    assert "session-cookie-name \"a;b{\" is not a valid value" in err, err
    assert "a;b" not in conf

    rc, _, err, conf = m.render(files, None, endpoints="cluster-ip")
    assert "cookie affinity needs --endpoints module" in err, err
    assert "k8s_affinity" not in conf


@needs_module
def test_served_weight_change_without_reload(tmp_path, kube_api, backends,
                                             nginx_factory):
    """The example rendered and served: weight 50 spreads, the Ingress
    edited to 0 and 100 moves every request, the same workers answer."""
    bk = backends("prod-pod", "canary-pod")
    yaml_path = example(tmp_path)
    slices_path = write_slices(tmp_path, bk)
    port = harness.free_port()
    out = tmp_path / "out"
    rc, _, err, conf = m.render(yaml_path, out, "--class", "nginx",
                                endpoints="module", http_port=port)
    assert rc == 0, err
    api = kube_api(load=[yaml_path, slices_path])
    n = nginx_factory(http=module_http(
        api_line(api), "include %s/kubengx.conf;" % out), ports=[port],
        workers=2)

    def seen(count=40):
        return {n.get("/", host=HOST).backend for _ in range(count)}
    try:
        harness.wait_for(lambda: seen() == {"prod-pod", "canary-pod"}, 15,
                         "weight 50 reaches both")
    except harness.Timeout as e:
        raise AssertionError("%s\n%s" % (e, tail(n.error_log())))
    workers = n.worker_pids()

    path = "/apis/networking.k8s.io/v1/namespaces/default/ingresses/canary"
    for weight, want in (("0", {"prod-pod"}), ("100", {"canary-pod"})):
        api.patch(path, {"metadata": {"annotations": {
            ANN + "canary-weight": weight}}})
        harness.wait_for(lambda: seen(20) == want, 5, "weight %s" % weight)
    assert n.worker_pids() == workers, "nginx was reloaded"


@pytest.mark.parametrize("endpoints", ["module", "static"])
def test_canary_from_another_namespace_cannot_take_a_host(tmp_path,
                                                          endpoints):
    """A tenant cannot divert another tenant's traffic with a canary: under
    --host-ownership namespace (the default) a canary Ingress for a host
    another namespace owns is refused like any rule for it, and nothing of
    its Service reaches the config."""
    objs = [m.ingress_class("kubengx"),
            m.service("web", [m.svc_port(None, 80, 8080)], ns="team-a"),
            m.service("evil", [m.svc_port(None, 80, 8080)], ns="team-b"),
            m.ingress("shop", [m.rule("shop.example.com",
                                      m.path("/", "web", 80))],
                      ns="team-a"),
            m.ingress("steal", [m.rule("shop.example.com",
                                       m.path("/", "evil", 80))],
                      ns="team-b", created="2021-01-01T00:00:00Z",
                      annotations={ANN + "canary": "true",
                                   ANN + "canary-weight": "100"})]
    f = m.write_manifests(tmp_path, objs)
    rc, _, err, conf = m.render(f, None, endpoints=endpoints)
    assert rc == 0, err
    assert "team-b/steal" in err and "belongs to namespace team-a" in err
    assert "evil" not in conf and "k8s_canary" not in conf
    assert "split_clients" not in conf
