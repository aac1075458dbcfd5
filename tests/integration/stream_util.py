"""Helpers for the stream (TCP/UDP) tests: backends that say who they are
(stream_backend.py), clients, and the main-context text that loads the
stream modules in their order and holds a stream {} block."""

import os
import socket
import ssl
import subprocess

import pytest

import harness
import manifests as m

HERE = os.path.dirname(os.path.abspath(__file__))
STREAM_K8S_MODULE = os.path.join(harness.BUILD, "ngx_stream_k8s_module.so")
# Debian's nginx has stream as a dynamic module (libnginx-mod-stream)
NGX_STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"


def stream_load(k8s=True):
    """The load_module lines after the http module's (harness):
    ngx_stream_module.so, then ngx_stream_k8s_module.so."""
    lines = []
    if os.path.exists(NGX_STREAM_MODULE):
        lines.append("load_module %s;\n" % NGX_STREAM_MODULE)
    if k8s:
        lines.append("load_module %s;\n" % STREAM_K8S_MODULE)
    return "".join(lines)


def stream_main(stream, k8s=True):
    """Main-context text: stream_load(), then stream { stream }."""
    return stream_load(k8s) + "stream {\n%s\n}\n" % stream


def service(name, ports, ns="default"):
    """A Service; ports: [(name, port, targetPort, protocol)]."""
    return m.service(name, [m.svc_port(pn, p, t, protocol=proto)
                            for pn, p, t, proto in ports], ns=ns)


def pod_slice(svc, name, addr, ports, ns="default", ready=True,
              terminating=None):
    """An EndpointSlice of one endpoint at addr; ports: [(name, number,
    protocol)]."""
    ep = m.endpoint(addr, ready=ready, serving=ready if terminating else None,
                    terminating=terminating)
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": m.meta(name, ns, labels={
                "kubernetes.io/service-name": svc}),
            "addressType": "IPv4", "endpoints": [ep],
            "ports": [{"name": pn, "port": p, "protocol": proto}
                      for pn, p, proto in ports]}


@pytest.fixture
def stream_backends():
    """Factory of StreamBackends (name=spec, ...), stopped at the end."""
    started = []

    def make(**specs):
        b = StreamBackends(list(specs.items()))
        started.append(b)
        return b

    yield make
    for b in started:
        b.stop()


class StreamBackends:
    """One process serving named stream backends: specs are
    (name, "tcp:127.0.0.1:0") or (name, "udp:...") or
    (name, "tls:127.0.0.1:0:CERT:KEY").  addrs[name] is "host:port"."""

    def __init__(self, specs):
        cmd = [harness.PYTHON, os.path.join(HERE, "stream_backend.py")]
        cmd += ["%s=%s" % (name, spec) for name, spec in specs]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        line = harness.read_ready_line(self.proc, 10, "stream backends")
        self.addrs = dict(w.split("=", 1) for w in line.split()[1:])

    def host_port(self, name):
        host, _, port = self.addrs[name].rpartition(":")
        return host.strip("[]"), int(port)

    def stop(self):
        harness.stop_process(self.proc)


def tcp_ask(port, *lines, host="127.0.0.1", timeout=5.0, proxy=None):
    """Connect, optionally send a PROXY protocol v1 header (proxy: the
    header line without CRLF), send each line, return the answer lines."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        f = s.makefile("rb")
        if proxy:
            s.sendall(proxy.encode() + b"\r\n")
        out = []
        for line in lines:
            s.sendall(line.encode() + b"\n")
            answer = f.readline()
            if not answer:
                raise ConnectionError("closed before answering %r" % line)
            out.append(answer.decode().rstrip("\n"))
        return out


def tcp_name(port, **kw):
    """The name of the backend one new connection reaches."""
    return tcp_ask(port, "hello", **kw)[0].split(" ", 1)[0]


def udp_ask(port, data, host="127.0.0.1", timeout=3.0):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(data.encode(), (host, port))
        return s.recvfrom(65535)[0].decode()


def tls_peer_cert(port, server_name, host="127.0.0.1", timeout=5.0):
    """The DER certificate the server on port presents for server_name
    (not verified: the tests compare it with the expected one)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=timeout) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_name) as s:
            return s.getpeercert(binary_form=True)


def pem_to_der(path):
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())
