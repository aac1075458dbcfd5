"""`kubengx render` of TCP/UDP services (ingress-nginx's tcp-services and
udp-services ConfigMaps) and TLS passthrough, served by a real nginx with
Debian's stream module: bytes reach the right endpoints over TCP and UDP,
PROXY headers arrive where asked, a passthrough client sees the backend's
own certificate while another host on the same port is terminated by
nginx with the client address kept, and bad ConfigMap entries are refused
alone with a warning naming the ConfigMap and the key."""

import json
import os
import re
import shutil
import socket
import ssl
import tempfile

import pytest

import harness
import manifests as m
from stream_util import (pem_to_der, pod_slice, service,  # noqa: F401
                         stream_backends, stream_load, tcp_ask, tcp_name,
                         tls_peer_cert, udp_ask)
from test_module_watch import api_line


PT = "nginx.ingress.kubernetes.io/ssl-passthrough"


def configmap(name, data, ns="ingress-nginx"):
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": m.meta(name, ns), "data": data}


@pytest.fixture
def hop_dir():
    """A short directory the workers can reach (unix socket paths are
    limited to 107 bytes, and pytest's tmp_path is private to root)."""
    d = tempfile.mkdtemp(prefix="kngx-hop-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def two_hosts(www_cert, www_key):
    """secure.example.com passed through to Service secure (port 443),
    www.example.com terminated with Secret www and proxied to Service web
    (port 80)."""
    return [m.secret_tls("www", www_cert, www_key),
            m.ingress("secure", [m.rule("secure.example.com",
                                        m.path("/", "secure", 443))],
                      annotations={PT: "true"}),
            m.ingress("www", [m.rule("www.example.com",
                                     m.path("/", "web", 80))],
                      tls=[{"hosts": ["www.example.com"],
                            "secretName": "www"}])]


class World:
    """Backends and the objects of a cluster that exposes them: a
    database over TCP, DNS over UDP and TCP, a TLS service for
    passthrough and an HTTP service for a terminated host."""

    def __init__(self, tmp_path, backends, stream_backends):
        self.tmp = tmp_path
        self.cert, self.key = m.self_signed(tmp_path, "secure.example.com")
        self.www_cert, self.www_key = m.self_signed(tmp_path,
                                                    "www.example.com")
        crt = os.path.join(str(tmp_path), "secure.example.com.crt")
        key = os.path.join(str(tmp_path), "secure.example.com.key")
        self.cert_file = crt
        self.www_cert_file = os.path.join(str(tmp_path), "www.example.com.crt")
        self.sb = stream_backends(t1="tcp:127.0.0.1:0", u1="udp:127.0.0.1:0",
                                  tls="tls:127.0.0.1:0:%s:%s" % (crt, key))
        self.web = backends("web")
        self.tcp = harness.free_port()
        self.tcp_proxy = harness.free_port()
        self.udp = harness.free_port()
        self.http_port = harness.free_port()
        self.https_port = harness.free_port()

    def objects(self, tcp_data=None, udp_data=None):
        h, t1 = self.sb.host_port("t1")
        _, u1 = self.sb.host_port("u1")
        _, tl = self.sb.host_port("tls")
        wh, wp = self.web.host_port("web")
        if tcp_data is None:
            tcp_data = {str(self.tcp): "default/db:5432",
                        str(self.tcp_proxy): "default/db:pg:PROXY:PROXY"}
        if udp_data is None:
            udp_data = {str(self.udp): "default/dns:53"}
        return [
            m.ingress_class("kubengx"),
            service("db", [("pg", 5432, "pg", "TCP")]),
            pod_slice("db", "db-1", h, [("pg", t1, "TCP")]),
            service("dns", [("dns", 53, "dns", "UDP"),
                            ("dns-tcp", 53, "dns-tcp", "TCP")]),
            pod_slice("dns", "dns-1", h, [("dns", u1, "UDP"),
                                          ("dns-tcp", t1, "TCP")]),
            service("secure", [("https", 443, "https", "TCP")]),
            pod_slice("secure", "secure-1", h, [("https", tl, "TCP")]),
            service("web", [("http", 80, "http", "TCP")]),
            pod_slice("web", "web-1", wh, [("http", wp, "TCP")]),
        ] + two_hosts(self.www_cert, self.www_key) + [
            configmap("tcp-services", tcp_data),
            configmap("udp-services", udp_data),
        ]

    def flags(self, hop):
        return ["--tcp-services-configmap", "ingress-nginx/tcp-services",
                "--udp-services-configmap", "ingress-nginx/udp-services",
                "--enable-ssl-passthrough", "--ssl-passthrough-dir", hop]

    def render(self, objs, hop, *flags, endpoints="static"):
        out = self.tmp / "out"
        src = m.write_manifests(self.tmp / "in", objs)
        rc, _, err, conf = m.render(src, out, *(self.flags(hop) + list(flags)),
                                    http_port=self.http_port,
                                    https_port=self.https_port,
                                    endpoints=endpoints)
        assert rc == 0, err
        return str(out), err

    def serve(self, nginx_factory, out, module=False, http_extra="",
              proxy=True):
        main = stream_load(k8s=module) + \
            "stream {\n    include %s/kubengx-stream.conf;\n}\n" % out
        http = "%s    include %s/kubengx.conf;\n" % (http_extra, out)
        ports = [self.http_port, self.https_port, self.tcp]
        return nginx_factory(http=http, main=main, module=module,
                             ports=ports + ([self.tcp_proxy] if proxy
                                            else []))


def tls_connect(port, host, source, proxy=None):
    """A TLS connection (not verified) with SNI host to 127.0.0.1:port
    from the source address given, after a PROXY v1 line when proxy is
    given (the line without CRLF)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.settimeout(10)
    raw.bind((source, 0))
    raw.connect(("127.0.0.1", port))
    if proxy:
        raw.sendall(proxy.encode() + b"\r\n")
    return ctx.wrap_socket(raw, server_hostname=host)


def https_get(port, host, path="/", source="127.0.0.2", proxy=None):
    """GET over TLS from the source address given (not 127.0.0.1: the
    address the backend is told must be the client's, not nginx's)."""
    with tls_connect(port, host, source, proxy) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                   % (path, host)).encode())
        with s.makefile("rb") as f:
            data = f.read()
        cert = s.getpeercert(binary_form=True)
    head, _, body = data.partition(b"\r\n\r\n")
    return head.decode(), json.loads(body), cert


def check_world(w, n):
    """The served behaviour every mode shares."""
    # TCP echo through tcp-services, UDP through udp-services
    harness.wait_for(lambda: tcp_name(w.tcp) == "t1", 15, "TCP to t1")
    assert tcp_ask(w.tcp, "ping", "select 1") == ["t1 ping", "t1 select 1"]
    harness.wait_for(lambda: udp_ask(w.udp, "q").startswith("u1 "), 15,
                     "UDP to u1")
    assert udp_ask(w.udp, "example.org A") == "u1 example.org A"

    # PROXY:PROXY: the client's header is decoded, one is sent on, naming
    # the client of the header
    got = tcp_ask(w.tcp_proxy, "hello", proxy="PROXY TCP4 203.0.113.7 "
                  "127.0.0.1 40000 %d" % w.tcp_proxy)
    assert re.fullmatch(r"t1 PROXY TCP4 203\.0\.113\.7 \S+ 40000 %d"
                        % w.tcp_proxy, got[0]), got
    assert got == [got[0]] and tcp_ask(
        w.tcp_proxy, "a", "b", proxy="PROXY TCP4 203.0.113.7 127.0.0.1 1 2"
    )[1] == "t1 a"

    # passthrough: the backend's own certificate, and its bytes
    assert tls_peer_cert(w.https_port, "secure.example.com") \
        == pem_to_der(w.cert_file)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", w.https_port), 10) as raw:
        with ctx.wrap_socket(raw, server_hostname="secure.example.com") as s:
            s.sendall(b"through\n")
            assert s.recv(100) == b"tls through\n"

    # the other host on the same port: terminated by nginx (the Secret's
    # certificate), proxied over http, client address kept across the hop
    head, body, cert = https_get(w.https_port, "www.example.com", "/x")
    assert head.startswith("HTTP/1.1 200"), head
    assert cert == pem_to_der(w.www_cert_file)
    assert body["backend"] == "web" and body["path"] == "/x"
    assert body["headers"]["x-real-ip"] == "127.0.0.2", body["headers"]
    assert body["headers"]["x-forwarded-for"] == "127.0.0.2"
    assert body["headers"]["x-forwarded-proto"] == "https"
    assert body["headers"]["x-forwarded-port"] == str(w.https_port)
    assert n.worker_pids()


def test_static_render_serves_tcp_udp_and_passthrough(tmp_path, backends,
                                                      stream_backends,
                                                      nginx_factory,
                                                      hop_dir):
    w = World(tmp_path, backends, stream_backends)
    out, err = w.render(w.objects(), hop_dir, "--check")
    # the PROXY:PROXY entry without proxy-real-ip-cidr: believes every
    # sender (ingress-nginx's default), with a warning; nothing else
    assert [l for l in m.warnings(err) if 'data["%d"]: PROXY: proxy-real-'
            'ip-cidr is not set' % w.tcp_proxy not in l] == [], err
    with open(os.path.join(out, "kubengx-stream.conf")) as f:
        text = f.read()
    assert "k8s_service" not in text          # stock nginx, static
    n = w.serve(nginx_factory, out)
    check_world(w, n)


def test_module_render_serves_tcp_udp_and_passthrough(tmp_path, backends,
                                                      stream_backends,
                                                      nginx_factory,
                                                      kube_api, hop_dir):
    """The same through the modules: the endpoints come from the stand-in
    API, read by the one watcher for the http and the stream keys."""
    w = World(tmp_path, backends, stream_backends)
    objs = w.objects()
    out, err = w.render(objs, hop_dir, "--check", endpoints="module")
    with open(os.path.join(out, "kubengx-stream.conf")) as f:
        text = f.read()
    assert "k8s_service default/dns port=dns protocol=udp;" in text, text
    assert "k8s_service default/db port=pg;" in text, text
    seed = os.path.join(str(tmp_path), "seed.json")
    with open(seed, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List",
                   "items": [o for o in objs if o["kind"] in
                             ("Service", "EndpointSlice")]}, f)
    api = kube_api(load=[seed])
    n = w.serve(nginx_factory, out, module=True, http_extra=(
        "    %s\n    k8s_zone k8s 4m;\n" % api_line(api)))
    check_world(w, n)


def test_bad_entries_are_refused_alone(tmp_path, backends, stream_backends,
                                       nginx_factory, hop_dir):
    w = World(tmp_path, backends, stream_backends)
    tcp = {str(w.tcp): "default/db:5432",
           str(w.http_port): "default/db:5432",          # kubengx's http
           str(w.https_port): "default/db:5432",         # and https
           "0%d" % w.tcp_proxy: "default/db:5432",       # not canonical
           "70000": "default/db:5432",
           "db": "default/db:5432",
           "9001": "default/nope:5432",                  # no Service
           "9002": "default/db:6543",                    # no such port
           "9003": "default/dns:dns",                    # a UDP port
           "9004": "default/db:5432:FOO",
           "9005": "default/db",
           "9006": "default/db:5432:PROXY:PROXY:ns/secret",
           "9007": "Default/db:5432",
           "9008": "default/db:5432;evil",
           "9009": 5432}                                 # not a string
    udp = {str(w.udp): "default/dns:dns::PROXY",         # PROXY ignored
           "9010": "default/dns:dns-tcp"}                # a TCP port
    out, err = w.render(w.objects(tcp, udp), hop_dir, "--check")
    refused = {}
    for line in m.warnings(err):
        mm = re.search(r"ingress-nginx/(tcp|udp)-services: data\[\"([^\"]*)"
                       r"\"\]: (.*)", line)
        assert mm, line
        refused[(mm.group(1), mm.group(2))] = mm.group(3)
    keys = {("tcp", k) for k in tcp if k != str(w.tcp)} | {
        ("udp", k) for k in udp}
    assert set(refused) == keys, sorted(set(refused) ^ keys)
    assert "kubengx's own http port" in refused[("tcp", str(w.http_port))]
    assert "kubengx's own https port" in refused[("tcp", str(w.https_port))]
    assert "Service default/nope not found" in refused[("tcp", "9001")]
    assert "no TCP port \"6543\"" in refused[("tcp", "9002")]
    assert "no TCP port \"dns\"" in refused[("tcp", "9003")]
    assert "no UDP port \"dns-tcp\"" in refused[("udp", "9010")]
    assert refused[("udp", str(w.udp))].startswith("PROXY is ignored")
    for k, msg in refused.items():
        if k != ("udp", str(w.udp)):
            assert msg.endswith("; not served"), (k, msg)
    # every line names the file and document of the ConfigMap
    assert all(re.match(r"kubengx: warning: \S+manifests\.yaml:\d+:\d+: ", l)
               for l in m.warnings(err)), err

    # the good entries are served
    n = w.serve(nginx_factory, out, proxy=False)
    harness.wait_for(lambda: tcp_name(w.tcp) == "t1", 15, "TCP to t1")
    assert udp_ask(w.udp, "x") == "u1 x"
    with open(os.path.join(out, "kubengx-stream.conf")) as f:
        text = f.read()
    assert len(re.findall(r"^server \{", text, re.M)) == 4, text
    assert "evil" not in text and "secret" not in text
    assert n.worker_pids()


def test_flags_and_annotation_handling(tmp_path, backends, stream_backends,
                                       hop_dir):
    w = World(tmp_path, backends, stream_backends)
    objs = w.objects()
    src = m.write_manifests(tmp_path / "in", objs)

    # the annotation without --enable-ssl-passthrough: a warning, 443 is
    # the https servers' as before, no stream file
    rc, _, err, conf = m.render(src, tmp_path / "o1",
                                https_port=w.https_port)
    assert rc == 0
    assert any("ssl-passthrough is ignored" in l and "default/secure" in l
               for l in m.warnings(err)), err
    assert not os.path.exists(tmp_path / "o1" / "kubengx-stream.conf")
    assert "listen 127.0.0.1:%d ssl" % w.https_port in conf

    # a stream file needs an output directory
    rc, _, err, _ = m.render(src, None, "--enable-ssl-passthrough")
    assert rc == 2 and "-o DIR" in err
    for bad in ("ns", "/x", "a/", "A/b", "a/b/c"):
        rc, _, err, _ = m.render(src, tmp_path / "o2",
                                 "--tcp-services-configmap", bad)
        assert rc == 2 and "--tcp-services-configmap" in err, (bad, err)

    # a ConfigMap the input does not have: a warning, nothing else
    rc, _, err, _ = m.render(src, tmp_path / "o3",
                             "--udp-services-configmap", "x/none")
    assert rc == 0 and any("x/none" in l and "not found" in l
                           for l in m.warnings(err)), err

    # ConfigMaps nobody names cannot fail a render: one without a name,
    # a second one of the same name (the first is read)
    odd = m.write_manifests(tmp_path / "odd", [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}},
        configmap("tcp-services", {"9999": "default/db:5432"})])
    rc, _, err, _ = m.render([src, odd], tmp_path / "o4",
                             "--tcp-services-configmap",
                             "ingress-nginx/tcp-services")
    assert rc == 0, err
    with open(tmp_path / "o4" / "kubengx-stream.conf") as f:
        text = f.read()
    assert "listen 127.0.0.1:%d;" % w.tcp in text
    assert "9999" not in text

    # the hop: https servers listen on it with proxy_protocol, and take
    # the client address from it
    out, _ = w.render(objs, hop_dir)
    with open(os.path.join(out, "kubengx.conf")) as f:
        conf = f.read()
    assert "listen unix:%s/kubengx-https.sock proxy_protocol ssl http2;" \
        % hop_dir in conf
    assert "real_ip_header proxy_protocol;" in conf
    assert "listen 127.0.0.1:%d ssl" % w.https_port not in conf


STREAM_EXAMPLE = os.path.join(harness.ROOT, "examples", "stream")
STREAM_FLAGS = ["--tcp-services-configmap", "kubengx/tcp-services",
                "--udp-services-configmap", "kubengx/udp-services",
                "--enable-ssl-passthrough",
                "--ssl-passthrough-dir", "/var/lib/kubengx"]


def test_committed_stream_example_is_current(tmp_path):
    """examples/stream/rendered is what render writes for the example (the
    README shows it), without a warning but proxy-trust; and nginx -t takes it with the
    three modules loaded in their order."""
    rc, _, err, _ = m.render(STREAM_EXAMPLE, tmp_path / "out", *STREAM_FLAGS,
                             endpoints="module", listen=None)
    # but the PROXY entry's: no proxy-real-ip-cidr, every sender believed
    assert rc == 0 and [l for l in m.warnings(err) if 'data["9001"]: PROXY: '
                        'proxy-real-ip-cidr is not set' not in l] == [], err
    for name in ("kubengx.conf", "kubengx-stream.conf"):
        with open(os.path.join(STREAM_EXAMPLE, "rendered", name)) as f:
            committed = f.read()
        with open(os.path.join(str(tmp_path), "out", name)) as f:
            assert f.read() == committed, (
                "examples/stream/rendered/%s is stale: run kubengx render "
                "-f examples/stream -o examples/stream/rendered %s"
                % (name, " ".join(STREAM_FLAGS)))
    rc, _, err, _ = m.render(STREAM_EXAMPLE, tmp_path / "chk", *STREAM_FLAGS,
                             "--check", "--module", harness.MODULE,
                             endpoints="module",
                             env=harness.san_env(str(tmp_path)))
    assert rc == 0, err
