"""Annotations that name a ConfigMap of headers (generator/annotations/
headers.c): auth-proxy-set-headers (headers sent to the auth-url service,
auth_external.c) and custom-headers (response headers); the rendered
text, the values refused (another namespace's ConfigMap, a missing one, a
header name or value that cannot be made safe) with what render, lint and
migrate say, and the headers seen through a real nginx in static and
module mode.  And the settings' Strict-Transport-Security header, which
nginx drops from a location with its own add_header (CORS, custom-headers,
external auth's Set-Cookie): such a location writes it too."""

import re

import pytest

import harness
import manifests as m
from modes import ModeStack, tenant
from test_render_access import AuthServer

P = "nginx.ingress.kubernetes.io/"
HOST = "a.example.com"
MODES = ("static", "module")


def configmap(name, data, ns="default"):
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": ns}, "data": data}


# ingress-nginx's documented custom headers (its custom-headers example)
DOC_HEADERS = {"X-Different-Name": "true", "X-Request-Start": "t=${msec}",
               "X-Using-Nginx-Controller": "true"}


def objs(annotations, extra=(), ns="default"):
    return [m.ingress_class("kubengx"),
            m.service("web", [m.svc_port("http", 80, 8080)], ns=ns),
            m.slice_("web", [m.endpoint("10.0.0.1")], [("http", 8080)],
                     ns=ns),
            m.ingress("ing", [m.rule(HOST, m.path("/", "web", 80))], ns=ns,
                      annotations=annotations)] + list(extra)


def render(tmp_path, annotations, extra=(), *flags):
    f = m.write_manifests(tmp_path / "in", objs(annotations, extra))
    rc, _, err, conf = m.render(f, tmp_path / "out", *flags,
                                endpoints="static")
    assert rc == 0, err
    return conf, err, f


def location(conf, path):
    mt = re.search(r'location %s \{\n(.*?)\n    \}' % re.escape(path),
                   conf, re.S)
    return mt.group(1) if mt else None


AUTH = {P + "auth-url": "http://auth.example.com/check"}


@pytest.mark.parametrize("ref", ["auth-headers", "default/auth-headers"])
def test_auth_proxy_set_headers_text(tmp_path, ref):
    conf, err, _ = render(tmp_path, dict(AUTH, **{
        P + "auth-proxy-set-headers": ref}), [configmap("auth-headers", {
            "X-Tenant": "acme", "X-Request-Start": "t=${msec}",
            "X-Client": '$remote_addr "quoted" \\ {a;b}'})])
    assert not m.warnings(err), err
    auth = location(conf, '= "/_kubengx|auth|default_ing"')
    assert auth is not None, conf
    got = re.findall(r'^\s*proxy_set_header "([^"]+)" (.*);$', auth, re.M)
    # sorted by name, quoted, "$" only before variables nginx defines
    assert got == [("X-Client", r'"$remote_addr \"quoted\" \\ {a;b}"'),
                   ("X-Request-Start", '"t=${msec}"'),
                   ("X-Tenant", '"acme"')], auth


def test_custom_headers_text_and_hsts(tmp_path):
    conf, err, _ = render(tmp_path, {P + "custom-headers": "default/resp"},
                          [configmap("resp", DOC_HEADERS)])
    assert not m.warnings(err), err
    loc = location(conf, '"/"')
    assert re.findall(r'^\s*add_header (.*);$', loc, re.M) == [
        '"X-Different-Name" "true" always',
        '"X-Request-Start" "t=${msec}" always',
        '"X-Using-Nginx-Controller" "true" always',
        "Strict-Transport-Security $kubengx_hsts always"], loc


BAD = [
    # another namespace's ConfigMap, even one that exists
    ("other/hdrs", {"X-A": "1"}, "other", "own namespace"),
    ("hdrs", None, "default", "not there"),
    ("Not_A_Name", {"X-A": "1"}, "default", "ConfigMap name"),
    ("hdrs", {}, "default", "without data"),
    ("hdrs", {"X A": "1"}, "default", "not a header name"),
    ("hdrs", {"X-$host": "1"}, "default", "not a header name"),
    ("hdrs", {"X-A:": "1"}, "default", "not a header name"),
    ("hdrs", {"X-A": "$no_such_variable"}, "default", "variable"),
    ("hdrs", {"X-A": "a$"}, "default", "variable"),
    ("hdrs", {"X-A": "${host"}, "default", "variable"),
    ("hdrs", {"X-A": "a\nb"}, "default", "printable"),
    ("hdrs", {"X-A": "caf\u00e9"}, "default", "printable"),
]


@pytest.mark.parametrize("key", ["auth-proxy-set-headers", "custom-headers"])
@pytest.mark.parametrize("ref,data,ns,why", BAD)
def test_bad_reference_refuses_the_ingress(tmp_path, key, ref, data, ns,
                                           why):
    extra = []
    if data is not None:
        extra.append(configmap("hdrs" if "/" not in ref else ref.split("/")[1],
                               data, ns=ns))
    ann = dict(AUTH) if key.startswith("auth") else {}
    ann[P + key] = ref
    conf, err, f = render(tmp_path, ann, extra)
    assert 'server_name "%s"' % HOST not in conf, conf
    w = [x for x in m.warnings(err) if key in x]
    assert w and "not served" in w[0] and why in w[0], err

    # lint says the same; migrate exits non-zero naming the annotation
    p = harness.run([harness.KUBENGX, "lint", "-f", str(f)])
    assert key in p.stdout + p.stderr and why in p.stdout + p.stderr, p
    p = harness.run([harness.KUBENGX, "migrate", "--from-class", "kubengx",
                     "-f", str(f)])
    assert p.returncode != 0, p.stdout
    assert re.search(r"! .*%s\]: .*not served" % re.escape(key), p.stdout), \
        p.stdout


def test_auth_header_kubengx_sets_refuses(tmp_path):
    render_ann = dict(AUTH, **{P + "auth-proxy-set-headers": "hdrs"})
    conf, err, _ = render(tmp_path, render_ann,
                          [configmap("hdrs", {"host": "evil.example.com"})])
    assert 'server_name "%s"' % HOST not in conf
    assert any("auth-proxy-set-headers" in w and "itself" in w
               for w in m.warnings(err)), err


# ---- through nginx ---------------------------------------------------------

@pytest.fixture
def auth_server():
    a = AuthServer()
    yield a
    a.stop()


def ing(name, host, port, annotations, tls=None):
    return m.ingress(name, [m.rule(host, m.path("/", "web", port))],
                     annotations=annotations, tls=tls)


@pytest.mark.parametrize("mode", MODES)
def test_auth_proxy_set_headers_through_nginx(tmp_path, nginx_factory,
                                              kube_api, backends,
                                              auth_server, mode):
    bk = backends("web")
    s = ModeStack(tmp_path, nginx_factory, kube_api, mode)
    url = "http://127.0.0.1:%d/oauth2/auth" % auth_server.port
    hdrs = configmap("auth-headers", {"X-Tenant": "acme",
                                      "X-Request-Start": "t=${msec}",
                                      "X-Peer": "$remote_addr"})
    theirs = configmap("auth-headers", {"X-Tenant": "theirs"}, ns="other")
    objs, port = tenant(bk, "web", "default", "web")
    objs += [m.ingress_class("kubengx"), hdrs, theirs,
             ing("ing", HOST, port, {
                 P + "auth-url": url,
                 P + "auth-proxy-set-headers": "default/auth-headers"}),
             ing("cross", "b.example.com", port, {
                 P + "auth-url": url,
                 P + "auth-proxy-set-headers": "other/auth-headers"})]
    s.up(objs)
    assert any("cross" in w and "own namespace" in w for w in s.warnings())

    def get(host=HOST):
        return harness.http_request(s.http_port, "/x", host=host,
                                    headers={"Cookie": "_oauth2_proxy=good"})

    harness.wait_for(lambda: get().backend == "web", 15, "the backend")
    _, _, seen = auth_server.seen[-1]
    seen = {k.lower(): v for k, v in seen.items()}
    assert seen["x-tenant"] == "acme"
    assert re.fullmatch(r"t=\d+\.\d{3}", seen["x-request-start"]), seen
    assert seen["x-peer"] == "127.0.0.1"
    # kubengx's own headers are still sent
    assert seen["x-original-url"] == "http://%s/x" % HOST

    # the Ingress naming another namespace's ConfigMap is not served
    n = len(auth_server.seen)
    r = get("b.example.com")
    assert r.backend is None and r.status == 404, r
    assert len(auth_server.seen) == n


@pytest.mark.parametrize("mode", MODES)
def test_custom_headers_and_hsts_through_nginx(tmp_path, nginx_factory,
                                               kube_api, backends,
                                               auth_server, mode):
    """TLS hosts with CORS, custom-headers and external auth: all answer
    with the settings' Strict-Transport-Security (nginx drops the
    server's add_header in a location with its own); none on http."""
    bk = backends("web")
    s = ModeStack(tmp_path, nginx_factory, kube_api, mode)
    objs, port = tenant(bk, "web", "default", "web")
    objs += [m.ingress_class("kubengx"), configmap("resp", DOC_HEADERS)]
    for host, name, ann in (
            ("cors.example.com", "cors", {P + "enable-cors": "true"}),
            ("hdrs.example.com", "hdrs", {P + "custom-headers": "resp"}),
            ("auth.example.com", "auth", {
                P + "auth-url": "http://127.0.0.1:%d/oauth2/auth"
                % auth_server.port,
                P + "auth-signin": "https://$host/oauth2/start"})):
        c, k = m.self_signed(tmp_path, host)
        objs += [m.secret_tls(name + "-tls", c, k),
                 ing(name, host, port, dict(ann, **{
                     P + "ssl-redirect": "false"}), tls=[{
                         "hosts": [host], "secretName": name + "-tls"}])]
    s.up(objs)
    s.wait_backend("hdrs.example.com", "/x", "web", https=True)
    hsts = "max-age=31536000; includeSubDomains"

    r = s.https("hdrs.example.com", "/x")
    assert r.headers.get("strict-transport-security") == hsts, r.headers
    assert r.headers["x-different-name"] == "true"
    assert r.headers["x-using-nginx-controller"] == "true"
    assert re.fullmatch(r"t=\d+\.\d{3}", r.headers["x-request-start"])

    r = s.https("cors.example.com", "/x")
    assert r.backend == "web", r
    assert r.headers.get("strict-transport-security") == hsts, r.headers
    assert r.headers["access-control-allow-origin"] == "*"
    # the preflight, answered by nginx in its own block
    r = harness.curl("https://cors.example.com:%d/x" % s.https_port, "-k",
                     "-X", "OPTIONS", "-H", "Origin: https://o.example.com",
                     "--resolve", "cors.example.com:%d:127.0.0.1"
                     % s.https_port)
    assert r.status == 204, r
    assert r.headers.get("strict-transport-security") == hsts, r.headers

    # external auth: the backend's answer (Set-Cookie from the auth
    # service) and the 302 to the sign-in URL
    r = s.https("auth.example.com", "/x")
    assert r.status == 302, r
    assert r.headers.get("strict-transport-security") == hsts, r.headers
    r = harness.curl("https://auth.example.com:%d/x" % s.https_port, "-k",
                     "-H", "Cookie: _oauth2_proxy=good", "--resolve",
                     "auth.example.com:%d:127.0.0.1" % s.https_port)
    assert r.backend == "web" and r.headers.get("set-cookie"), r
    assert r.headers.get("strict-transport-security") == hsts, r.headers

    # on http: the headers, no HSTS
    r = s.get("hdrs.example.com", "/x")
    assert r.status == 200 and r.headers["x-different-name"] == "true"
    assert "strict-transport-security" not in r.headers, r.headers
