"""use-proxy-protocol with --enable-ssl-passthrough: the https port is a
stream listener (ssl_preread) and takes the load balancer's PROXY header
first.  Through a real nginx (render in static and module mode, and the
controller): a client whose connection starts with a PROXY v1 header gets
TLS served by nginx for a normal host and the backend's own TLS for a
passthrough host; the https server's X-Real-IP, X-Forwarded-For and
access log show the header's address only when the sender is in
proxy-real-ip-cidr, and the sender's own address otherwise."""

import os
import re
import socket

import pytest

import harness
import manifests as m
from stream_util import (pem_to_der, pod_slice, service,  # noqa: F401
                         stream_backends, stream_load)
from test_controller import Controller
from test_module_watch import api_line
from test_stream_render import (PT, hop_dir, https_get,  # noqa: F401
                                tls_connect, two_hosts)


TRUSTED = "127.0.0.2"           # the load balancer: in proxy-real-ip-cidr
OTHER = "127.0.0.3"             # not in it


def tls_through_proxy(port, host, proxy, source, data=None, path="/pp"):
    """From source: a PROXY v1 line (without CRLF), then TLS with SNI
    host.  data None: GET path, returns (head, JSON body, certificate);
    else send data, return (answer, certificate)."""
    if data is None:
        return https_get(port, host, path, source, proxy)
    with tls_connect(port, host, source, proxy) as s:
        s.sendall(data)
        return s.recv(100), s.getpeercert(binary_form=True)


class World:
    """A passthrough host (a TLS backend with its own certificate), a
    host nginx terminates (web), the settings ConfigMap."""

    def __init__(self, tmp_path, backends, stream_backends, hop):
        self.tmp = tmp_path
        self.hop = hop
        self.cert, self.key = m.self_signed(tmp_path, "secure.example.com")
        self.www_cert, self.www_key = m.self_signed(tmp_path,
                                                    "www.example.com")
        self.cert_file = os.path.join(str(tmp_path), "secure.example.com.crt")
        self.www_cert_file = os.path.join(str(tmp_path), "www.example.com.crt")
        self.sb = stream_backends(tls="tls:127.0.0.1:0:%s:%s" % (
            self.cert_file, os.path.join(str(tmp_path),
                                         "secure.example.com.key")))
        self.web = backends("web")
        self.http_port = harness.free_port()
        self.https_port = harness.free_port()
        self.log = os.path.join(hop, "access.log")

    def settings(self):
        return {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": m.meta("settings", "kubengx"),
                "data": {"use-proxy-protocol": "true",
                         "proxy-real-ip-cidr": TRUSTED + "/32",
                         "access-log-path": self.log}}

    def objects(self):
        h, tl = self.sb.host_port("tls")
        wh, wp = self.web.host_port("web")
        return [
            m.ingress_class("kubengx"),
            service("secure", [(None, 443, 8443, "TCP")]),
            pod_slice("secure", "secure-1", h, [("", tl, "TCP")]),
            service("web", [(None, 80, 8080, "TCP")]),
            pod_slice("web", "web-1", wh, [("", wp, "TCP")]),
        ] + two_hosts(self.www_cert, self.www_key) + [self.settings()]

    def flags(self):
        return ["--enable-ssl-passthrough", "--ssl-passthrough-dir",
                self.hop, "--configmap", "kubengx/settings"]


def check(w, https_port, log):
    """What a PROXY-speaking load balancer in front of https_port sees."""
    v4 = "PROXY TCP4 203.0.113.7 192.0.2.1 40000 443"

    # a terminated host, header from the trusted sender: its client
    head, body, cert = tls_through_proxy(https_port, "www.example.com", v4,
                                         TRUSTED)
    assert head.startswith("HTTP/1.1 200"), head
    assert cert == pem_to_der(w.www_cert_file)
    assert body["backend"] == "web"
    assert body["headers"]["x-real-ip"] == "203.0.113.7", body["headers"]
    assert body["headers"]["x-forwarded-for"] == "203.0.113.7"
    assert body["headers"]["x-forwarded-proto"] == "https"
    assert body["headers"]["x-forwarded-port"] == str(https_port)

    # IPv6 in the header
    _, body, _ = tls_through_proxy(
        https_port, "www.example.com",
        "PROXY TCP6 2001:db8::7 2001:db8::1 40001 443", TRUSTED)
    assert body["headers"]["x-real-ip"] == "2001:db8::7", body["headers"]

    # the same header from a sender not in proxy-real-ip-cidr: ignored
    _, body, _ = tls_through_proxy(https_port, "www.example.com",
                                   "PROXY TCP4 198.51.100.9 192.0.2.1 "
                                   "40002 443", OTHER)
    assert body["headers"]["x-real-ip"] == OTHER, body["headers"]
    assert body["headers"]["x-forwarded-for"] == OTHER

    # a passthrough host behind the header: the backend's own TLS
    answer, cert = tls_through_proxy(https_port, "secure.example.com", v4,
                                     TRUSTED, data=b"through\n")
    assert (answer, cert) == (b"tls through\n", pem_to_der(w.cert_file))

    # the https server's access log: the client of the trusted header,
    # the sender for the other (upstreaminfo: $remote_addr first)
    def logged():
        with open(log) as f:
            return [l.split(" ", 1)[0] for l in f
                    if '"GET /pp HTTP/1.1" 200' in l]
    harness.wait_for(lambda: len(logged()) == 3, 5, "three log lines")
    assert logged() == ["203.0.113.7", "2001:db8::7", OTHER], logged()


@pytest.mark.parametrize("mode", ["static", "module"])
def test_passthrough_port_takes_proxy_protocol(tmp_path, backends,
                                               stream_backends, nginx_factory,
                                               kube_api, hop_dir, mode):
    w = World(tmp_path, backends, stream_backends, hop_dir)
    objs = w.objects()
    out = tmp_path / "out"
    src = m.write_manifests(tmp_path / "in", objs)
    rc, _, err, conf = m.render(src, out, *w.flags(), "--check",
                                http_port=w.http_port,
                                https_port=w.https_port, endpoints=mode)
    assert rc == 0, err
    with open(str(out / "kubengx-stream.conf")) as f:
        stream = f.read()
    assert re.search(r"listen 127\.0\.0\.1:%d proxy_protocol;\n"
                     r"    set_real_ip_from 127\.0\.0\.2/32;\n"
                     % w.https_port, stream), stream
    http_extra = ""
    if mode == "module":
        seed = m.write_manifests(tmp_path / "seed", [
            o for o in objs if o["kind"] in ("Service", "EndpointSlice")],
            fmt="list", name="seed")
        api = kube_api(load=[seed])
        http_extra = "    %s\n    k8s_zone k8s 4m;\n" % api_line(api)
    main = stream_load(k8s=mode == "module") + \
        "stream {\n    include %s/kubengx-stream.conf;\n}\n" % out
    nginx_factory(http="%s    include %s/kubengx.conf;\n" % (http_extra, out),
                  main=main, module=mode == "module",
                  ports=[w.http_port, w.https_port])
    if mode == "module":
        harness.wait_for(lambda: _try(w), 15, "the module's endpoints")
    check(w, w.https_port, w.log)


def _try(w):
    try:
        answer, _ = tls_through_proxy(
            w.https_port, "secure.example.com",
            "PROXY TCP4 203.0.113.7 192.0.2.1 1 443", TRUSTED,
            data=b"x\n")
        return answer == b"tls x\n"
    except OSError:
        return False


def test_without_use_proxy_protocol_no_header_is_read(tmp_path, kubengx,
                                                      hop_dir):
    """The default: the https stream listener takes no PROXY header and
    trusts nobody."""
    src = m.write_manifests(tmp_path / "in", [
        service("secure", [(None, 443, 8443, "TCP")]),
        pod_slice("secure", "secure-1", "10.0.0.5", [("", 8443, "TCP")]),
        m.ingress("secure", [m.rule("secure.example.com",
                                    m.path("/", "secure", 443))],
                  annotations={PT: "true"}, cls=None)])
    out = tmp_path / "out"
    rc, _, err, _ = m.render(src, out, "--watch-without-class",
                             "--enable-ssl-passthrough",
                             "--ssl-passthrough-dir", hop_dir, listen=None)
    assert rc == 0, err
    with open(str(out / "kubengx-stream.conf")) as f:
        stream = f.read()
    assert "    listen 443;\n    ssl_preread on;\n" in stream, stream
    assert "set_real_ip_from 0" not in stream


def test_controller_passthrough_port_takes_proxy_protocol(
        tmp_path, backends, stream_backends, kube_api, hop_dir):
    """The controller writes the same from the watched ConfigMap."""
    w = World(tmp_path, backends, stream_backends, hop_dir)
    api = kube_api()
    api.create({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": "kubengx"}})
    for o in w.objects():
        api.create(o)
    ctl = Controller(tmp_path, api, endpoints="static", args=w.flags())
    try:
        ctl.wait_ready()
        harness.wait_for(lambda: _try_www(ctl.https_port), 15,
                         "https through the PROXY header")
        check(w, ctl.https_port, w.log)
    finally:
        ctl.stop()


def _try_www(port):
    try:
        head, _, _ = tls_through_proxy(
            port, "www.example.com",
            "PROXY TCP4 203.0.113.8 192.0.2.1 1 443", OTHER, path="/up")
        return head.startswith("HTTP/1.1 200")
    except (OSError, ValueError):
        return False


# --- tcp-services entries with PROXY -----------------------------------------

def proxied_peer(port, source, header):
    """From source: a PROXY v1 header, then a line, to a tcp-services
    entry NS/SVC:PORT:PROXY:PROXY; the backend echoes the PROXY header
    nginx sent on, which names the client nginx believed."""
    with socket.create_connection(("127.0.0.1", port), timeout=5,
                                  source_address=(source, 0)) as s:
        f = s.makefile("rb")
        s.sendall(header.encode() + b"\r\nhello\n")
        return f.readline().decode().rstrip("\n")


def stream_entry(tmp_path, stream_backends, settings):
    """A database Service behind a tcp-services entry with both PROXY
    fields, and the settings ConfigMap's data (settings)."""
    sb = stream_backends(t1="tcp:127.0.0.1:0")
    h, t1 = sb.host_port("t1")
    port = harness.free_port()
    objs = [
        service("db", [(None, 5432, 5432, "TCP")]),
        pod_slice("db", "db-1", h, [("", t1, "TCP")]),
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": m.meta("tcp-services", "kubengx"),
         "data": {str(port): "default/db:5432:PROXY:PROXY"}},
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": m.meta("settings", "kubengx"), "data": settings}]
    out = tmp_path / "out"
    src = m.write_manifests(tmp_path / "in", objs)
    rc, _, err, _ = m.render(src, out, "--tcp-services-configmap",
                             "kubengx/tcp-services", "--configmap",
                             "kubengx/settings",
                             http_port=harness.free_port(),
                             https_port=harness.free_port())
    assert rc == 0, err
    with open(str(out / "kubengx-stream.conf")) as f:
        return port, out, f.read(), err


HEADER = "PROXY TCP4 203.0.113.7 192.0.2.1 40000 5432"


def test_tcp_services_proxy_believes_proxy_real_ip_cidr(
        tmp_path, stream_backends, nginx_factory):
    """proxy-real-ip-cidr set: a tcp-services entry's first PROXY takes
    the header's client only from a sender in it (the header sent on to
    the backend names that client); another sender keeps its own
    address."""
    port, out, stream, err = stream_entry(
        tmp_path, stream_backends, {"proxy-real-ip-cidr": TRUSTED + "/32"})
    assert re.search(r"listen 127\.0\.0\.1:%d proxy_protocol;\n"
                     r"    set_real_ip_from 127\.0\.0\.2/32;\n"
                     r"    proxy_protocol on;\n" % port, stream), stream
    assert "0.0.0.0/0" not in stream and "proxy-trust" not in err, err
    nginx_factory(http="", main=stream_load() + "stream {\n    include "
                  "%s/kubengx-stream.conf;\n}\n" % out, ports=[port])
    assert re.fullmatch(r"t1 PROXY TCP4 203\.0\.113\.7 \S+ 40000 %d" % port,
                        proxied_peer(port, TRUSTED, HEADER))
    assert re.fullmatch(r"t1 PROXY TCP4 127\.0\.0\.3 \S+ \d+ %d" % port,
                        proxied_peer(port, OTHER, HEADER))


def test_tcp_services_proxy_without_cidr_believes_everyone(
        tmp_path, stream_backends, nginx_factory):
    """Without proxy-real-ip-cidr: ingress-nginx's behaviour (every
    sender's header is believed), with a warning naming the entry."""
    port, out, stream, err = stream_entry(tmp_path, stream_backends,
                                          {"use-gzip": "false"})
    assert ("    set_real_ip_from 0.0.0.0/0;\n"
            "    set_real_ip_from ::/0;\n" in stream), stream
    assert re.search(r'kubengx/tcp-services: data\["%d"\]: PROXY: '
                     r'proxy-real-ip-cidr is not set.*every sender'
                     % port, err), err
    nginx_factory(http="", main=stream_load() + "stream {\n    include "
                  "%s/kubengx-stream.conf;\n}\n" % out, ports=[port])
    assert re.fullmatch(r"t1 PROXY TCP4 203\.0\.113\.7 \S+ 40000 %d" % port,
                        proxied_peer(port, OTHER, HEADER))
