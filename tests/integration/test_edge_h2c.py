"""--h2c-port: HTTP/2 without TLS (prior knowledge) at the edge, on a port
of its own, through a real nginx in static and module mode and through
the controller: curl --http2-prior-knowledge gets HTTP/2 answers from
the right backend (the default server's 404 too), a gRPC client on an
insecure channel reaches a GRPC backend, HTTP/1.1 keeps working on the
http port (and is refused on the h2c port: nginx 1.22's `listen ...
http2` is HTTP/2 only, which is why h2c is not on the http port).  Ports
that clash are refused, the flag's and a tcp-services entry's."""

import json
import subprocess

import pytest

import harness
import manifests as m
from modes import ModeStack
from test_annotations_grpc import grpc_backend  # noqa: F401
from test_controller import Controller, controllers  # noqa: F401

grpc = pytest.importorskip("grpc")

P = "nginx.ingress.kubernetes.io/"
GRPC_HOST = "grpc.example.com"
METHOD = "/kubengx.test.Echo/Who"


def h2c_get(port, host, path="/"):
    """curl --http2-prior-knowledge: (HTTP version, status, headers,
    body)."""
    p = subprocess.run(
        ["curl", "-sS", "--http2-prior-knowledge", "--max-time", "10",
         "-D", "-", "-w", "\n%{http_version}",
         "--resolve", "%s:%d:127.0.0.1" % (host, port),
         "http://%s:%d%s" % (host, port, path)],
        capture_output=True, timeout=20)
    assert p.returncode == 0, p.stderr.decode()
    out, _, version = p.stdout.rpartition(b"\n")
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return version.decode(), int(lines[0].split()[1]), headers, body


def objects(bk, grpc_port):
    """The commonest Service shape (one unnamed port, targetPort 8080)
    for hosts a and b, and a GRPC backend for grpc.example.com, served
    over plain http (no tls: h2c is plain http)."""
    objs = []
    for name in ("a", "b"):
        host, port = bk.host_port(name)
        objs += [m.service("svc-" + name, [m.svc_port(None, 80, 8080)]),
                 m.slice_("svc-" + name, [m.endpoint(host)], [(None, port)])]
    objs += [
        m.service("greeter", [m.svc_port(None, 50051, 8080)]),
        m.slice_("greeter", [m.endpoint("127.0.0.1")], [(None, grpc_port)]),
        m.ingress("web", [m.rule("a.example.com", m.path("/", "svc-a", 80)),
                          m.rule("b.example.com",
                                 m.path("/b", "svc-b", 80))]),
        m.ingress("greeter", [m.rule(GRPC_HOST,
                                     m.path("/", "greeter", 50051))],
                  annotations={P + "backend-protocol": "GRPC"}),
    ]
    return objs


def grpc_call(port, payload=b"ping", timeout=5):
    with grpc.insecure_channel("127.0.0.1:%d" % port, options=[
            ("grpc.default_authority", GRPC_HOST)]) as ch:
        fn = ch.unary_unary(METHOD, request_serializer=None,
                            response_deserializer=None)
        return fn(payload, timeout=timeout)


def grpc_try(port):
    try:
        return grpc_call(port, timeout=3)
    except grpc.RpcError:
        return None


def check_h2c(h2c, http_get):
    """What every mode serves on the h2c port (h2c) and the http port
    (http_get(host, path): a Response over HTTP/1.1)."""
    version, status, headers, body = h2c_get(h2c, "a.example.com", "/x")
    assert (version, status, headers.get("x-backend")) == ("2", 200, "a")
    seen = json.loads(body)
    # :authority is the Host, with the port curl names
    assert seen["path"] == "/x"
    assert seen["host"] == "a.example.com:%d" % h2c
    assert seen["headers"]["x-forwarded-proto"] == "http"
    assert seen["headers"]["x-forwarded-port"] == str(h2c)
    version, status, headers, _ = h2c_get(h2c, "b.example.com", "/b/1")
    assert (version, status, headers.get("x-backend")) == ("2", 200, "b")
    # the default server listens there too: an unknown host is its 404
    version, status, headers, _ = h2c_get(h2c, "nobody.example.com", "/")
    assert (version, status, headers.get("x-backend")) == ("2", 404, None)

    # HTTP/1.1 on the http port, unchanged
    r = http_get("a.example.com", "/y")
    assert (r.status, r.backend) == (200, "a")

    # ... and refused on the h2c port (HTTP/2 only in nginx 1.22)
    got = harness.raw_response(h2c, b"GET / HTTP/1.1\r\nHost: "
                               b"a.example.com\r\nConnection: close\r\n\r\n")
    assert not got.startswith(b"HTTP/1"), got[:100]

    # gRPC, insecure channel, to the GRPC backend (grpc_pass grpc://)
    assert grpc_call(h2c) == b"g1:ping"


@pytest.mark.parametrize("mode", ["static", "module"])
def test_h2c_port_serves_http2_and_grpc(tmp_path, nginx_factory, kube_api,
                                        backends, grpc_backend, mode):
    bk = backends("a", "b")
    h2c = harness.free_port()
    s = ModeStack(tmp_path, nginx_factory, kube_api, mode)
    s.up(objects(bk, grpc_backend[0]), "--watch-without-class",
         "--h2c-port", str(h2c))
    # every http server: the default server, a, b, grpc
    assert s.conf.count("listen 127.0.0.1:%d http2" % h2c) == 4, s.conf
    assert "listen 127.0.0.1:%d http2 default_server;" % h2c in s.conf
    assert "grpc_pass grpc://" in s.conf
    if mode == "module":
        s.wait_backend("a.example.com", "/", "a")
        harness.wait_for(lambda: grpc_try(h2c) is not None, 15,
                         "the gRPC route through the module's table")
    check_h2c(h2c, s.get)


def test_h2c_listen_forms(tmp_path, kubengx):
    """Off by default; IPv6 and PROXY protocol as the http listener; a
    TLS host's http server (the 308) listens there too."""
    cert, key = m.self_signed(tmp_path, "t.example.com")
    objs = [m.service("web", [m.svc_port(None, 80, 8080)]),
            m.slice_("web", [m.endpoint("10.0.0.1")], [(None, 8080)]),
            m.secret_tls("t", cert, key),
            m.ingress("web", [m.rule("t.example.com",
                                     m.path("/", "web", 80))],
                      tls=[{"hosts": ["t.example.com"],
                            "secretName": "t"}]),
            {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": m.meta("settings", "kubengx"),
             "data": {"use-proxy-protocol": "true",
                      "proxy-real-ip-cidr": "10.0.0.0/8"}}]
    src = m.write_manifests(tmp_path / "in", objs)
    rc, _, err, conf = m.render(src, None, "--watch-without-class",
                                listen=None)
    assert rc == 0, err
    assert "http2;" not in conf.replace(" ssl http2", "")

    rc, _, err, conf = m.render(src, None, "--watch-without-class",
                                "--h2c-port", "8081", listen="::",
                                http_port=8080, https_port=8443)
    assert rc == 0, err
    assert conf.count("listen [::]:8080;") == 1          # the 308
    assert conf.count("listen [::]:8081 http2;") == 1
    assert "listen [::]:8081 http2 default_server;" in conf

    rc, _, err, conf = m.render(src, None, "--watch-without-class",
                                "--h2c-port", "8081", "--configmap",
                                "kubengx/settings", listen=None)
    assert rc == 0, err
    assert "listen 8081 http2 proxy_protocol default_server;" in conf
    assert "listen 8081 http2 proxy_protocol;" in conf


def test_clashing_ports_are_refused(tmp_path, kubengx):
    src = m.write_manifests(tmp_path / "in", [
        m.service("db", [m.svc_port(None, 5432, 5432)]),
        m.slice_("db", [m.endpoint("10.0.0.2")], [(None, 5432)]),
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": m.meta("tcp-services", "kubengx"),
         "data": {"8081": "default/db:5432", "9000": "default/db:5432"}}])
    for flags, msg in [
            (["--h2c-port", "80"], "--http-port and --h2c-port are both 80"),
            (["--h2c-port", "443"],
             "--https-port and --h2c-port are both 443"),
            (["--https-port", "80"],
             "--http-port and --https-port are both 80")]:
        rc, _, err, _ = m.render(src, None, *flags, listen=None,
                                 http_port=None, https_port=None)
        assert rc == 2 and msg in err, (flags, err)
    for flags, msg in [
            (["--h2c-port", "10254"],
             "--h2c-port and --metrics-port are both 10254"),
            (["--h2c-port", "10246"],
             "--h2c-port and --status-port are both 10246")]:
        p = harness.run([kubengx, "controller"] + flags)
        assert p.returncode == 2 and msg in p.stderr, (flags, p.stderr)

    # a tcp-services port that is the h2c port: that entry alone refused
    out = tmp_path / "out"
    rc, _, err, _ = m.render(src, out, "--h2c-port", "8081",
                             "--tcp-services-configmap",
                             "kubengx/tcp-services", listen=None)
    assert rc == 0, err
    assert "port 8081 is kubengx's own h2c port" in err, err
    with open(str(out / "kubengx-stream.conf")) as f:
        stream = f.read()
    assert "listen 9000;" in stream and "8081" not in stream


def test_controller_h2c_port(kube_api, backends, controllers):
    """The controller passes --h2c-port to the config it renders."""
    bk = backends("a", "b")
    api = kube_api()
    api.create(m.ingress_class("kubengx"))
    for o in objects(bk, 1)[:4]:
        api.create(o)
    api.create(m.ingress("web", [m.rule("a.example.com",
                                        m.path("/", "svc-a", 80))]))
    h2c = harness.free_port()
    ctl = controllers(api, args=["--h2c-port", str(h2c)]).wait_ready()
    harness.wait_for(lambda: ctl.get("/", host="a.example.com").backend
                     == "a", 10, "route to a")
    version, status, headers, _ = h2c_get(h2c, "a.example.com", "/z")
    assert (version, status, headers.get("x-backend")) == ("2", 200, "a")
