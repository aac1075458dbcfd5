#!/usr/bin/python3
"""kubengx demo: the seed example (examples/seed) served end to end.

Act 1, static config on stock nginx:
  local backends stand in for the pods of api-svc and web-svc; their
  addresses go into EndpointSlices; `kubengx render --endpoints static`
  turns Ingress + Services + slices into nginx config; stock nginx serves
  it; one request per host shows which Service answered.

Act 2, the nginx module against a Kubernetes API:
  the stand-in API server (tests/kube-apiserver) holds the seed Ingress,
  Services and EndpointSlices; `kubengx render --endpoints module` gives
  upstreams that name Service ports (`k8s_service default/api-svc
  port=80`: the Services' one unnamed port); nginx with the module
  watches the Services and their EndpointSlices and serves both hosts;
  then api-svc is scaled from 1 to 3 pods through the API and the new
  pods answer, with the same nginx workers (no reload).

Everything runs under a temporary directory on loopback ports and is
stopped on exit.  Exit status 0 when every check passed.

Environment: KUBENGX_BUILD (the build dir; default build/).
"""

import json
import os
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import harness            # noqa: E402
from apiserver import KubeAPI  # noqa: E402

SEED = os.path.join(ROOT, "examples", "seed")
PODS = ("api-pod-1", "api-pod-2", "api-pod-3", "web-pod-1")


class Demo:
    def __init__(self, work):
        self.work = work
        self.failed = 0
        self.stops = []

    def say(self, text):
        print("\n== %s" % text, flush=True)

    def check(self, ok, text):
        print("  %-5s %s" % ("ok" if ok else "FAIL", text), flush=True)
        if not ok:
            self.failed += 1
        return ok

    def render(self, out, *args):
        p = harness.run([harness.KUBENGX, "render", *args, "-o", out])
        if p.returncode != 0:
            raise SystemExit("demo: kubengx render failed:\n" + p.stderr)
        if p.stderr:
            print(p.stderr, end="")
        return os.path.join(out, "kubengx.conf")

    def ask(self, nginx, host, path="/"):
        r = nginx.get(path, host=host)
        return r.status, r.backend

    def check_host(self, nginx, host, status, backend):
        got = self.ask(nginx, host)
        self.check(got == (status, backend), "Host: %-20s -> %s %s" % (
            host, got[0], got[1] or "(default server)"))


def pod_slices(svc, pods, bk):
    """The EndpointSlices the cluster would publish for svc's ready pods:
    one slice per pod here, because each local pod listens on its own
    port and a slice has one port for all its endpoints (as the
    EndpointSlice controller does for api-svc's named targetPort "http"
    when its pods number it differently).  The port is named like the
    Service port: "", the Services' ports are unnamed."""
    out = []
    for pod in pods:
        host, port = bk.host_port(pod)
        out.append({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "%s-%s" % (svc, pod),
                         "namespace": "default",
                         "labels": {"kubernetes.io/service-name": svc}},
            "addressType": "IPv4",
            "ports": [{"name": "", "port": port, "protocol": "TCP"}],
            "endpoints": [{"addresses": [host],
                           "conditions": {"ready": True},
                           "targetRef": {"kind": "Pod", "name": pod}}],
        })
    return out


def write_list(path, objs):
    with open(path, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": objs}, f,
                  indent=1)
    return path


def act_static(d, bk):
    d.say("act 1: kubengx render --endpoints static, stock nginx")
    inp = os.path.join(d.work, "static-in")
    os.makedirs(inp)
    for f in ("ingress.yaml", "services.yaml"):
        shutil.copy(os.path.join(SEED, f), inp)
    write_list(os.path.join(inp, "slices.json"),
               pod_slices("api-svc", ["api-pod-1"], bk)
               + pod_slices("web-svc", ["web-pod-1"], bk))
    port = harness.free_port()
    conf = d.render(os.path.join(d.work, "static-out"), "-f", inp,
                    "--endpoints", "static", "--listen-address", "127.0.0.1",
                    "--http-port", str(port), "--check",
                    "--nginx", harness.NGINX)
    with open(conf) as f:
        text = f.read()
    print("  rendered %s (%d lines); its upstreams:" % (
        os.path.relpath(conf, d.work), text.count("\n")))
    for line in text.splitlines():
        if line.startswith(("upstream", "    server ")):
            print("    " + line)

    n = harness.Nginx(os.path.join(d.work, "nginx-static"),
                      http="include %s;" % conf, ports=[port], module=False)
    d.stops.append(n.stop)
    n.start()
    print("  stock nginx on 127.0.0.1:%d" % port)
    d.check_host(n, "api.example.com", 200, "api-pod-1")
    d.check_host(n, "web.example.com", 200, "web-pod-1")
    d.check_host(n, "WEB.Example.com", 200, "web-pod-1")
    d.check_host(n, "unknown.example.com", 404, None)
    n.stop()


def act_module(d, bk):
    d.say("act 2: the module watches Services and EndpointSlices in a "
          "Kubernetes API")
    seed = write_list(os.path.join(d.work, "api-seed.json"),
                      pod_slices("api-svc", ["api-pod-1"], bk)
                      + pod_slices("web-svc", ["web-pod-1"], bk))
    api = KubeAPI.start(os.path.join(d.work, "api"),
                        load=[os.path.join(SEED, "ingress.yaml"),
                              os.path.join(SEED, "services.yaml"), seed])
    d.stops.append(api.stop)
    print("  stand-in API at %s holds the seed Ingress, Services and "
          "slices" % api.url)

    port = harness.free_port()
    conf = d.render(os.path.join(d.work, "module-out"), "-f",
                    os.path.join(SEED, "ingress.yaml"), "-f",
                    os.path.join(SEED, "services.yaml"),
                    "--endpoints", "module", "--listen-address", "127.0.0.1",
                    "--http-port", str(port))
    with open(conf) as f:
        for line in f:
            if "k8s_service" in line:
                print("    " + line.strip())

    status_port = harness.free_port()
    # the demo's "pods" are local processes on 127.0.0.x: the module
    # refuses loopback endpoints unless told otherwise
    http = """
    k8s_api %s;
    k8s_zone kubengx 4m;
    k8s_allow_loopback_endpoints on;
    include %s;
    server {
        listen 127.0.0.1:%d;
        location = /k8s/status { k8s_status; }
    }""" % (api.url, conf, status_port)
    n = harness.Nginx(os.path.join(d.work, "nginx-module"), http=http,
                      ports=[port, status_port], workers=2,
                      allow_loopback=False)
    d.stops.append(n.stop)
    n.start()
    workers = n.worker_pids()
    print("  nginx + ngx_http_k8s_module on 127.0.0.1:%d, workers %s"
          % (port, workers))

    def answering(host, want, count=24):
        seen = {}
        for _ in range(count):
            st, b = d.ask(n, host)
            seen[b if st == 200 else st] = seen.get(b if st == 200 else st,
                                                    0) + 1
        return set(seen) == set(want), seen

    for host, pods in (("api.example.com", ["api-pod-1"]),
                       ("web.example.com", ["web-pod-1"])):
        try:
            harness.wait_for(lambda: answering(host, pods)[0], 15,
                             "%s to be served" % host)
        except harness.Timeout:
            pass
        ok, seen = answering(host, pods)
        d.check(ok, "Host: %-20s -> %s" % (host, seen))

    d.say("scale api-svc from 1 to 3 pods (EndpointSlices through the API)")
    for s in pod_slices("api-svc", ["api-pod-2", "api-pod-3"], bk):
        api.create(s)
        print("  created EndpointSlice %s" % s["metadata"]["name"])
    want = ["api-pod-1", "api-pod-2", "api-pod-3"]
    try:
        harness.wait_for(lambda: answering("api.example.com", want)[0], 15,
                         "the new pods to answer")
    except harness.Timeout:
        pass
    ok, seen = answering("api.example.com", want, 30)
    d.check(ok, "Host: api.example.com       -> %s" % seen)
    d.check(n.worker_pids() == workers,
            "same nginx workers %s: no reload" % n.worker_pids())

    st = json.loads(harness.http_request(status_port, "/k8s/status").body)
    svc = st["services"].get("default/api-svc:80", {})
    print("  k8s_status: api-svc has %d endpoints, watcher %s, "
          "resourceVersion %s" % (len(svc.get("endpoints", [])),
                                  st["watch"].get("state"),
                                  st["watch"].get("resource_version")))
    n.stop()
    api.stop()


def main():
    if not os.access(harness.KUBENGX, os.X_OK):
        raise SystemExit("demo: %s is not built (run make)" % harness.KUBENGX)
    work = tempfile.mkdtemp(prefix="kubengx-demo.")
    d = Demo(work)
    try:
        d.say("local backends stand in for the pods")
        bk = harness.Backends([(p, "127.0.0.1:0") for p in PODS])
        d.stops.append(bk.stop)
        for p in PODS:
            print("  %-10s %s" % (p, bk.addrs[p]))
        act_static(d, bk)
        act_module(d, bk)
    finally:
        for stop in reversed(d.stops):
            stop()
        shutil.rmtree(work, ignore_errors=True)
    d.say("demo %s" % ("passed" if d.failed == 0 else
                        "FAILED: %d checks" % d.failed))
    return 1 if d.failed else 0


if __name__ == "__main__":
    sys.exit(main())
