"""`kubengx render` + a real nginx in each `--endpoints` mode, for tests
that must hold in all of them (routing, tenancy):

    s = ModeStack(tmp_path, nginx_factory, kube_api, "module")
    s.up(objs, "--some-flag")          # render (exit 0), start nginx
    s.get("a.example.com", "/x").backend
    s.https("a.example.com", "/x").backend, s.subject("a.example.com")

Objects are built so that every mode routes them the same way:
`tenant(bk, name, ns, svc)` is a Service whose port is the test
backend's own port (so that --endpoints cluster-ip, with ClusterIP
127.0.0.1, reaches it too), named "http", plus its EndpointSlice.  In
module mode the Services and EndpointSlices go to the stand-in API server
that the module watches, and the rest to render."""

import re
import subprocess

import harness
from manifests import (endpoint, render, service, slice_, svc_port,
                       write_manifests)
from test_module_watch import api_line

MODES = ("static", "cluster-ip", "module")


def tenant(bk, name, ns, svc):
    """Service ns/svc (port = backend name's port, named http, ClusterIP
    127.0.0.1) and one EndpointSlice with the backend; returns (objects,
    port)."""
    host, port = bk.host_port(name)
    return [service(svc, [svc_port("http", port, port)], ns=ns,
                    cluster_ip=host),
            slice_(svc, [endpoint(host)], [("http", port)], ns=ns)], port


def subject(https_port, host):
    """The subject of the certificate nginx serves for SNI host."""
    url = "https://%s:%d/" % (host, https_port)
    p = subprocess.run(["curl", "-sS", "-v", "-k", "-o", "/dev/null",
                        "--max-time", "10", "--resolve",
                        "%s:%d:127.0.0.1" % (host, https_port), url],
                       capture_output=True, text=True, timeout=20)
    m = re.search(r"^\*\s+subject: (.*)$", p.stderr, re.M)
    assert m, p.stderr
    return m.group(1).strip()


class ModeStack:
    def __init__(self, tmp_path, nginx_factory, kube_api, mode):
        self.tmp = tmp_path / mode
        self.factory = nginx_factory
        self.kube_api = kube_api
        self.mode = mode
        self.http_port = harness.free_port()
        self.https_port = harness.free_port()
        self.n = 0
        self.nginx = None
        self.api = None

    def render(self, objs, *flags):
        self.n += 1
        slices = [o for o in objs if o["kind"] == "EndpointSlice"]
        rest = objs if self.mode != "module" else \
            [o for o in objs if o["kind"] != "EndpointSlice"]
        self.outdir = self.tmp / ("out%d" % self.n)
        src = write_manifests(self.tmp / ("in%d" % self.n), rest)
        self.rc, _, self.err, self.conf = render(
            [src], self.outdir, *flags, endpoints=self.mode,
            http_port=self.http_port, https_port=self.https_port)
        # the module watches Services (port= is the Service port) and
        # EndpointSlices
        self.slices = [o for o in objs if o["kind"] == "Service"] + slices
        return self.rc

    def up(self, objs, *flags, rc=0, main=""):
        got = self.render(objs, *flags)
        assert got == rc, "render exit %d (%s)\n%s" % (got, self.mode,
                                                       self.err)
        if self.nginx is not None:
            self.nginx.stop()
        http = "    include %s/kubengx.conf;\n" % self.outdir
        if self.mode == "module":
            if self.api is not None:
                self.api.stop()
            f = write_manifests(self.tmp / ("api%d" % self.n), self.slices,
                                fmt="list", name="slices")
            self.api = self.kube_api(load=[f])
            http = "    %s\n    k8s_zone k8s 4m;\n%s" % (
                api_line(self.api), http)
        ports = [self.http_port]
        if " ssl" in self.conf:
            ports.append(self.https_port)
        self.nginx = self.factory(http=http, ports=ports,
                                  name="nginx-%s%d" % (self.mode, self.n),
                                  module=self.mode == "module", main=main)
        return self

    def warnings(self):
        return [l for l in self.err.splitlines() if "warning" in l]

    def get(self, host, path="/"):
        return harness.http_request(self.http_port, path, host=host)

    def https(self, host, path="/"):
        return harness.curl("https://%s:%d%s" % (host, self.https_port,
                                                   path),
                            "-k", "--resolve",
                            "%s:%d:127.0.0.1" % (host, self.https_port))

    def subject(self, host):
        return subject(self.https_port, host)

    def wait_backend(self, host, path, expected, https=False, timeout=15.0):
        """The module fills its table from the API after nginx starts."""
        last = [None]

        def cond():
            last[0] = (self.https if https else self.get)(host, path)
            return last[0].backend == expected
        try:
            harness.wait_for(cond, timeout, "%s%s -> %s" % (host, path,
                                                           expected))
        except harness.Timeout as e:
            raise AssertionError("%s (%s); last %r\n%s" % (
                e, self.mode, last[0], self.nginx.error_log()[-2000:]))
