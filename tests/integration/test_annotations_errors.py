"""Error pages (generator/annotations/errors.c) through a real nginx:
nginx.ingress.kubernetes.io/custom-http-errors, default-backend and
disable-proxy-intercept-errors, and the settings ConfigMap's
custom-http-errors with --default-backend.  The route's backend answers
the status asked for (`?status=N`); the default backend is a test backend
that echoes the headers it got."""

import pytest

import harness
from manifests import (endpoint, ingress, path, rule, service, slice_,
                       svc_port)
from modes import MODES, ModeStack, tenant

P = "nginx.ingress.kubernetes.io/"
H = "e.example.com"
NS = "shop"


def app(bk, ann, svc="app"):
    """Service app -> backend "app", Service errsvc -> backend "err"
    (tenant(): one port named "http"), and the Ingress shop/site with
    annotations ann."""
    objs, pa = tenant(bk, "app", NS, "app")
    more, _ = tenant(bk, "err", NS, "errsvc")
    objs += more
    objs.append(ingress("site", [rule(H, path("/", svc, pa))], ns=NS,
                        annotations=ann))
    return objs, pa


def get(s, path, accept=None):
    return harness.http_request(s.http_port, path, host=H,
                                headers={"Accept": accept} if accept else None)


@pytest.mark.parametrize("mode", MODES)
def test_custom_http_errors_go_to_the_default_backend(
        tmp_path, nginx_factory, kube_api, backends, mode):
    """404 and 503 of the backend are answered by the default-backend
    Service with ingress-nginx's headers and the original status; other
    statuses pass; the default backend sees "/"."""
    bk = backends("app", "err")
    objs, _ = app(bk, {P + "custom-http-errors": "404, 503",
                       P + "default-backend": "errsvc"})
    s = ModeStack(tmp_path, nginx_factory, kube_api, mode)
    s.up(objs)
    assert not s.warnings(), s.err
    s.wait_backend(H, "/ok", "app")
    for code in (404, 503):
        r = get(s, "/missing/x?status=%d" % code, accept="application/json")
        assert r.status == code and r.backend == "err", (code, r)
        h = r.json()["headers"]
        assert h["x-code"] == str(code)
        assert h["x-original-uri"] == "/missing/x?status=%d" % code
        assert h["x-format"] == "application/json"
        assert h["x-namespace"] == NS and h["x-ingress-name"] == "site"
        assert h["x-service-name"] == "app" and h["x-service-port"] == \
            str(s.slices[0]["spec"]["ports"][0]["port"])
        assert len(h["x-request-id"]) == 32
        assert h["host"] == H
        assert r.json()["path"] == "/"
    r = get(s, "/x?status=500")
    assert r.status == 500 and r.backend == "app", r
    assert get(s, "/x").backend == "app"


@pytest.mark.parametrize("mode", MODES)
def test_default_backend_when_the_service_has_no_endpoints(
        tmp_path, nginx_factory, kube_api, backends, mode):
    """The route's Service has no endpoints (static, module) or refuses
    connections (its ClusterIP, cluster-ip mode): the default backend
    answers with its own status; a backend's own 503 passes unchanged."""
    bk = backends("app", "err")
    dead = harness.free_port()
    objs, pa = app(bk, {P + "default-backend": "errsvc"})
    objs += [service("empty", [svc_port("http", dead, dead)], ns=NS,
                     cluster_ip="127.0.0.1"),
             slice_("empty", [], [("http", dead)], ns=NS),
             ingress("gone", [rule(H, path("/gone", "empty", dead))],
                     ns=NS, annotations={P + "default-backend": "errsvc"}),
             ingress("plain", [rule(H, path("/plain", "empty", dead))],
                     ns=NS)]
    s = ModeStack(tmp_path, nginx_factory, kube_api, mode)
    s.up(objs)
    s.wait_backend(H, "/gone/x", "err")
    r = get(s, "/gone/x")
    assert r.status == 200 and r.json()["path"] == "/gone/x", r
    # without the annotation: the 503 (or 502 of the refused ClusterIP)
    r = get(s, "/plain/x")
    assert r.status == (502 if mode == "cluster-ip" else 503), r
    assert r.backend is None
    r = get(s, "/x?status=503")
    assert r.status == 503 and r.backend == "app", r


def test_configmap_codes_go_to_the_flag_default_backend(
        tmp_path, nginx_factory, kube_api, backends):
    """The settings ConfigMap's custom-http-errors with --default-backend:
    every server's 404 goes there (X-Code, the original status); an
    Ingress with disable-proxy-intercept-errors keeps its backend's 404;
    nginx's own 404 of an unknown path goes there too."""
    bk = backends("app", "err")
    objs, pa = app(bk, None)
    objs.append(ingress("raw", [rule("raw.example.com",
                                     path("/", "app", pa))], ns=NS,
                        annotations={P + "disable-proxy-intercept-errors":
                                     "true"}))
    objs.append({"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": "settings", "namespace": "kube"},
                 "data": {"custom-http-errors": "404"}})
    err_port = [o for o in objs if o["kind"] == "Service"
                and o["metadata"]["name"] == "errsvc"][0]["spec"]["ports"][0]
    s = ModeStack(tmp_path, nginx_factory, kube_api, "static")
    s.up(objs, "--configmap", "kube/settings", "--default-backend",
         "%s/errsvc:%d" % (NS, err_port["port"]))
    assert not s.warnings(), s.err
    r = get(s, "/x?status=404")
    assert r.status == 404 and r.backend == "err", r
    assert r.json()["headers"]["x-code"] == "404"
    # no Ingress route: the empty name is no header (nginx's rule)
    assert "x-ingress-name" not in r.json()["headers"]
    r = harness.http_request(s.http_port, "/x?status=404",
                             host="raw.example.com")
    assert r.status == 404 and r.backend == "app", r
    # the default server's default backend (no route): 200 from it
    r = harness.http_request(s.http_port, "/", host="unknown.example.com")
    assert r.backend == "err", r


def test_no_default_backend_nginx_page(tmp_path, nginx_factory, kube_api,
                                       backends):
    """custom-http-errors without any default backend: nginx's own page
    for the code, the backend's body is not passed."""
    bk = backends("app", "err")
    objs, _ = app(bk, {P + "custom-http-errors": "404"})
    s = ModeStack(tmp_path, nginx_factory, kube_api, "static")
    s.up(objs)
    r = get(s, "/x?status=404")
    assert r.status == 404 and r.backend is None, r
    assert b"<center>nginx</center>" in r.body, r


@pytest.mark.parametrize("ann,value,why", [
    ("custom-http-errors", "404,600", "from 400 to 599"),
    ("custom-http-errors", "abc", "from 400 to 599"),
    ("custom-http-errors", "", "from 400 to 599"),
    ("default-backend", "Bad_Name", "DNS label"),
    ("default-backend", "other/errsvc", "DNS label"),
    ("disable-proxy-intercept-errors", "yes", "\"true\" or \"false\""),
])
def test_bad_values_refuse_the_ingress(tmp_path, nginx_factory, kube_api,
                                       backends, ann, value, why):
    bk = backends("app", "err")
    objs, pa = app(bk, {P + ann: value})
    objs.append(ingress("other", [rule("o.example.com",
                                       path("/", "app", pa))], ns=NS))
    s = ModeStack(tmp_path, nginx_factory, kube_api, "static")
    s.up(objs)
    w = [l for l in s.warnings() if "shop/site" in l and P + ann in l]
    assert len(w) == 1 and why in w[0] and "not served" in w[0], s.err
    assert get(s, "/").status == 404
    assert harness.http_request(s.http_port, "/",
                                host="o.example.com").backend == "app"


def test_missing_default_backend_service_is_a_warning(
        tmp_path, nginx_factory, kube_api, backends):
    bk = backends("app", "err")
    objs, _ = app(bk, {P + "default-backend": "nope",
                       P + "custom-http-errors": "404"})
    s = ModeStack(tmp_path, nginx_factory, kube_api, "static")
    s.up(objs)
    w = [l for l in s.warnings() if "shop/site" in l
         and P + "default-backend" in l]
    assert len(w) == 1 and "shop/nope is not in the input" in w[0], s.err
    assert get(s, "/x").backend == "app"
    r = get(s, "/x?status=404")
    assert r.status == 404 and r.backend is None, r


@pytest.mark.parametrize("mode", ["static", "module"])
def test_rendered_text_is_only_known_directives(tmp_path, backends, mode):
    """Every annotation of this file and server-alias, with hostile values
    beside good ones: only kubengx's directives reach the text, nginx -t
    accepts it (module: with the module loaded), the names are quoted."""
    from manifests import directive_problems, render, write_manifests
    bk = backends("app", "err")
    objs, pa = app(bk, {P + "custom-http-errors": "404,503",
                        P + "default-backend": "errsvc",
                        P + "server-alias": 'a.example.com, pwn";evil '
                                            '{, b.example.com;pwn'})
    objs.append(ingress("bad", [rule("b2.example.com",
                                     path("/", "app", pa))], ns=NS,
                        annotations={P + "default-backend": "x;pwn",
                                     P + "custom-http-errors": "404;pwn"}))
    d = write_manifests(tmp_path / "in", objs)
    flags = ["--check"] + (["--module", harness.MODULE]
                           if mode == "module" else [])
    rc, _, err, conf = render([d], tmp_path / "out", *flags,
                              endpoints=mode)
    assert rc == 0, err
    assert not directive_problems(conf), conf
    assert "pwn" not in conf and "evil" not in conf
    assert '"e.example.com" "a.example.com";' in conf
    assert "b2.example.com" not in conf      # the bad Ingress: not served
