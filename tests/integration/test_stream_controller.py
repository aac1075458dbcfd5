"""`kubengx controller` with --tcp-services-configmap, --udp-services-
configmap and --enable-ssl-passthrough against the stand-in API: the
nginx.conf it writes loads the stream modules in their order and
includes the stream file; ConfigMap entries appear and go without a
restart, a bad one is refused alone with a log line naming the ConfigMap
and the key; endpoint changes of a TCP Service never reload."""

import os
import re
import shutil
import tempfile

import pytest

import harness
import manifests as m
from stream_util import (NGX_STREAM_MODULE, STREAM_K8S_MODULE, StreamBackends,
                         pem_to_der, pod_slice, service, tcp_name,
                         tls_peer_cert, udp_ask)
from test_controller import Controller
from test_stream_render import PT, configmap

CM = "/api/v1/namespaces/ingress-nginx/configmaps/"


@pytest.fixture
def stack(tmp_path, kube_api):
    started = []
    hop = tempfile.mkdtemp(prefix="kngx-hop-")
    os.chmod(hop, 0o755)

    class Stack:
        pass

    s = Stack()
    s.tmp, s.hop, s.started = tmp_path, hop, started
    yield s
    for x in reversed(started):
        x.stop()
    shutil.rmtree(hop, ignore_errors=True)


def test_controller_serves_configmaps_and_passthrough(stack, kube_api):
    tmp = stack.tmp
    crt_pem, key_pem = m.self_signed(tmp, "secure.example.com")
    crt = os.path.join(str(tmp), "secure.example.com.crt")
    key = os.path.join(str(tmp), "secure.example.com.key")
    sb = StreamBackends([("t1", "tcp:127.0.0.1:0"), ("t2", "tcp:127.0.0.1:0"),
                         ("u1", "udp:127.0.0.1:0"),
                         ("tls", "tls:127.0.0.1:0:%s:%s" % (crt, key))])
    stack.started.append(sb)
    h, t1 = sb.host_port("t1")
    _, t2 = sb.host_port("t2")
    _, u1 = sb.host_port("u1")
    _, tl = sb.host_port("tls")

    api = kube_api()
    for o in [{"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": "ingress-nginx"}},
              m.ingress_class("kubengx"),
              service("db", [(None, 5432, 5432, "TCP")]),
              pod_slice("db", "db-1", h, [("", t1, "TCP")]),
              service("dns", [("dns", 53, "dns", "UDP")]),
              pod_slice("dns", "dns-1", h, [("dns", u1, "UDP")]),
              service("secure", [("https", 443, "https", "TCP")]),
              pod_slice("secure", "secure-1", h, [("https", tl, "TCP")]),
              m.ingress("secure", [m.rule("secure.example.com",
                                          m.path("/", "secure", 443))],
                        annotations={PT: "true"})]:
        api.create(o)

    tcp, tcp2, udp = (harness.free_port() for _ in range(3))
    ctl = Controller(tmp, api, endpoints="module", args=[
        "--tcp-services-configmap", "ingress-nginx/tcp-services",
        "--udp-services-configmap", "ingress-nginx/udp-services",
        "--enable-ssl-passthrough", "--ssl-passthrough-dir", stack.hop])
    stack.started.append(ctl)
    ctl.wait_ready()

    # nginx.conf: the stream modules after the http module, then stream{}
    with open(os.path.join(ctl.dir, "nginx.conf")) as f:
        conf = f.read()
    loads = re.findall(r"^load_module (\S+);", conf, re.M)
    assert loads == [harness.MODULE, NGX_STREAM_MODULE, STREAM_K8S_MODULE], \
        loads
    assert "stream {\n    include %s/kubengx-stream.conf;\n}" % ctl.dir \
        in conf
    # the ConfigMaps do not exist yet: a warning, passthrough works
    harness.wait_for(lambda: "ConfigMap (--tcp-services-configmap) not "
                     "found" in ctl.text(), 10, "the missing ConfigMap")
    harness.wait_for(lambda: tls_peer_cert(ctl.https_port,
                                           "secure.example.com")
                     == pem_to_der(crt), 15, "passthrough")

    api.create(configmap("tcp-services", {str(tcp): "default/db:5432",
                                          "70000": "default/db:5432"}))
    api.create(configmap("udp-services", {str(udp): "default/dns:dns"}))
    harness.wait_for(lambda: harness.port_open("127.0.0.1", tcp), 15,
                     "the tcp-services port")
    harness.wait_for(lambda: tcp_name(tcp) == "t1", 15, "TCP to t1")
    harness.wait_for(lambda: udp_ask(udp, "q") == "u1 q", 15, "UDP to u1")
    assert re.search(r"ingress-nginx/tcp-services: data\[\"70000\"\]: key "
                     r"\"70000\" is not a port number.*not served",
                     ctl.text()), ctl.text()[-3000:]

    # endpoint changes: no reload, the same nginx workers
    reloads = ctl.reloads()
    pid = ctl.nginx_pid()
    api.create(pod_slice("db", "db-2", h, [("", t2, "TCP")]))
    api.delete("/apis/discovery.k8s.io/v1/namespaces/default/"
               "endpointslices/db-1")
    harness.wait_for(lambda: tcp_name(tcp) == "t2", 15, "TCP to t2")
    assert ctl.reloads() == reloads and ctl.nginx_pid() == pid

    # a new entry: one reload; a bad one beside it is refused alone
    cm = api.get(CM + "tcp-services")
    cm["data"] = {str(tcp): "default/db:5432",
                  str(tcp2): "default/db:5432:PROXY:PROXY",
                  str(ctl.http_port): "default/db:5432",
                  str(ctl.status_port): "default/db:5432"}
    api.replace(cm)
    harness.wait_for(lambda: harness.port_open("127.0.0.1", tcp2), 15,
                     "the second tcp-services port")
    assert re.search(r"data\[\"%d\"\]: port %d is kubengx's own http port"
                     % (ctl.http_port, ctl.http_port), ctl.text())
    # --status-port (the module's table) is refused alone as well, and
    # still answers the module's status
    assert re.search(r"data\[\"%d\"\]: port %d is kubengx's own status "
                     r"port; not served" % (ctl.status_port, ctl.status_port),
                     ctl.text()), ctl.text()[-3000:]
    assert harness.http_request(ctl.status_port, "/k8s/status").status \
        == 200
    assert tcp_name(tcp) == "t2"
    harness.wait_for(lambda: ctl.reloads() == reloads + 1, 5, "one reload")

    # the entry removed: its port closes
    cm = api.get(CM + "tcp-services")
    cm["data"] = {str(tcp2): "default/db:5432:PROXY:PROXY"}
    api.replace(cm)
    harness.wait_for(lambda: not harness.port_open("127.0.0.1", tcp), 15,
                     "the removed port to close")
