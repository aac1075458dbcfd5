"""Shared pieces of the kubengx benchmarks (tests/bench/run.py runs them).

- the integration test harness (tests/integration/harness.py), imported by
  path: real nginx processes with their own prefix;
- backends: small nginx servers answering `return 200` on loopback
  addresses (127.0.0.x, one port), one process for several addresses;
- front configs that differ only in their upstream: a static `upstream`,
  `k8s_service`, `k8s_dispatch` + `k8s_backend`, and the Lua peer
  (ingress-nginx style, lua_peer.lua);
- wrk runs with their parsed output, and the front worker's CPU time from
  /proc/PID/stat around each run;
- statistics (median, spread) and the machine description.

Every loop here is bounded in count and in time, and every address is on
loopback."""

import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import harness  # noqa: E402  (tests/integration/harness.py)
from apiserver import KubeAPI  # noqa: E402

NGINX = harness.NGINX
BUILD = harness.BUILD
MODULE = harness.MODULE
KUBENGX = harness.KUBENGX
PYTHON = "/usr/bin/python3"
WRK = "wrk"
CLK_TCK = os.sysconf("SC_CLK_TCK")

LUA_MODULES_DIR = "/usr/lib/nginx/modules"
LUA_LOAD = ("load_module %s/ndk_http_module.so;\n"
            "load_module %s/ngx_http_lua_module.so;"
            % (LUA_MODULES_DIR, LUA_MODULES_DIR))

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
# BENCH_PIN=1: pin the front to CPU 0, backends and wrk to CPU 1 (taskset)
PIN = os.environ.get("BENCH_PIN", "") not in ("", "0")

NS = "default"
SVC = "web"
SVC_KEY = "default/web"


def log(*a):
    print("[bench %s]" % time.strftime("%H:%M:%S"), *a, flush=True)


# --- machine ---------------------------------------------------------------

def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f.readline().split(":", 1)[1].strip()
    except OSError:
        pass
    v = subprocess.run([NGINX, "-v"], capture_output=True, text=True)
    w = subprocess.run([WRK, "-v"], capture_output=True, text=True)
    lua = subprocess.run(["dpkg-query", "-W", "-f=${Version}",
                          "libnginx-mod-http-lua"], capture_output=True,
                         text=True)
    git = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain",
                            "--", "ngx_module", "kube", "generator"],
                           capture_output=True, text=True).stdout
    mod_time = ""
    if os.path.exists(MODULE):
        mod_time = time.strftime("%Y-%m-%d %H:%M:%S",
                                 time.localtime(os.path.getmtime(MODULE)))
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "source_uncommitted_files": len(dirty.splitlines()),
        "module_built": mod_time,
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "memory": mem,
        "kernel": platform.release(),
        "nginx": (v.stderr or v.stdout).strip().replace("nginx version: ", ""),
        "wrk": ((w.stdout or w.stderr).splitlines() or [""])[0].strip(),
        "lua_module": lua.stdout.strip(),
        "git_head": git.stdout.strip(),
        "loadavg_start": open("/proc/loadavg").read().split()[:3],
        "quick": QUICK,
        "pinned": PIN,
    }


# --- statistics ------------------------------------------------------------

def summary(values):
    """median, min, max and relative spread ((max-min)/median) of values."""
    vals = [v for v in values if v is not None]
    if not vals:
        return {"median": None, "min": None, "max": None, "spread": None,
                "n": 0, "values": []}
    med = statistics.median(vals)
    return {"median": med, "min": min(vals), "max": max(vals),
            "spread": (max(vals) - min(vals)) / med if med else None,
            "n": len(vals), "values": vals}


def percentile(values, q):
    """q in [0, 100]; nearest-rank on sorted values."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(q / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


# --- /proc -----------------------------------------------------------------

def proc_cpu(pid):
    """utime+stime of pid in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    # fields after the comm: state(3) ... utime(14) stime(15) -> index 11, 12
    return (int(rest[11]) + int(rest[12])) / float(CLK_TCK)


def proc_rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def taskset(pid, cpus):
    if PIN and os.cpu_count() and os.cpu_count() > 1:
        subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(pid)],
                       capture_output=True)


# --- wrk -------------------------------------------------------------------

_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    return float(m.group(1)) * _UNIT[m.group(2)] if m else None


def parse_wrk(out):
    r = {"requests": 0, "rps": None, "p50_ms": None, "p75_ms": None,
         "p90_ms": None, "p99_ms": None, "non2xx": 0, "connect_errors": 0,
         "read_errors": 0, "write_errors": 0, "timeouts": 0}
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    if m:
        r["requests"] = int(m.group(1))
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        r["rps"] = float(m.group(1))
    for q in ("50", "75", "90", "99"):
        m = re.search(r"^\s+%s%%\s+(\S+)" % q, out, re.M)
        if m:
            r["p%s_ms" % q] = _ms(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", out)
    if m:
        (r["connect_errors"], r["read_errors"], r["write_errors"],
         r["timeouts"]) = map(int, m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        r["non2xx"] = int(m.group(1))
    r["socket_errors"] = (r["connect_errors"] + r["read_errors"] +
                          r["write_errors"] + r["timeouts"])
    r["failed"] = r["non2xx"] + r["socket_errors"]
    return r


def wrk_cmd(url, duration, conns, threads=1, timeout="2s", headers=()):
    cmd = [WRK, "-t%d" % threads, "-c%d" % conns, "-d%ds" % max(1, int(round(duration))),
           "--latency", "--timeout", timeout]
    for h in headers:
        cmd += ["-H", h]
    cmd.append(url)
    if PIN and os.cpu_count() and os.cpu_count() > 1:
        cmd = ["taskset", "-c", "1"] + cmd
    return cmd


def run_wrk(url, duration, conns, threads=1, timeout="2s", headers=()):
    p = subprocess.run(wrk_cmd(url, duration, conns, threads, timeout,
                               headers),
                       capture_output=True, text=True,
                       timeout=duration + 30)
    r = parse_wrk(p.stdout)
    r["raw"] = p.stdout
    return r


def start_wrk(url, duration, conns, threads=1, timeout="2s"):
    return subprocess.Popen(wrk_cmd(url, duration, conns, threads, timeout),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def finish_wrk(proc, duration):
    out, _ = proc.communicate(timeout=duration + 30)
    r = parse_wrk(out)
    r["raw"] = out
    return r


def measured_wrk(front, url, duration, conns, threads=1, headers=()):
    """One wrk run against `front`, with the front worker's CPU per
    request (microseconds): utime+stime delta of its (single) worker
    divided by the requests wrk completed."""
    pids = front.worker_pids()
    before = {p: proc_cpu(p) for p in pids}
    r = run_wrk(url, duration, conns, threads, headers=headers)
    cpu = 0.0
    for p in pids:
        try:
            cpu += proc_cpu(p) - before[p]
        except OSError:
            pass
    r["front_cpu_s"] = cpu
    r["cpu_us_per_req"] = (cpu / r["requests"] * 1e6) if r["requests"] \
        else None
    return r


# --- nginx processes -------------------------------------------------------

class Nginx(harness.Nginx):
    """harness.Nginx, plus pinning and quiet logs."""

    def start(self, timeout=10.0, cpus=None):
        super().start(timeout)
        if cpus is not None:
            taskset(self.pid, cpus)
        return self

    def master_pid(self):
        return self.proc.pid

    def hup(self):
        self.proc.send_signal(signal.SIGHUP)


BACKEND_HTTP = """
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
%s
"""

BACKEND_SERVER = """    server {
        listen %s:%d reuseport;
        location / {
            add_header X-Backend $server_addr always;
            return 200 "ok\\n";
        }
    }"""


class Backends:
    """One nginx (1 worker) answering `return 200` with an X-Backend header
    (its address) on each of `addrs` (127.0.0.x) at one port."""

    def __init__(self, workdir, addrs, port=None):
        self.addrs = list(addrs)
        self.port = port or harness.free_port()
        servers = "\n".join(BACKEND_SERVER % (a, self.port)
                            for a in self.addrs)
        self.nginx = Nginx(os.path.join(workdir, "backends-%d" % self.port),
                           http=BACKEND_HTTP % servers, ports=[],
                           module=False, workers=1, log_level="error")

    def start(self):
        self.nginx.start(cpus="1")
        harness.wait_for(lambda: all(harness.port_open(a, self.port)
                                     for a in self.addrs),
                         10, "backends to listen")
        return self

    def stop(self):
        self.nginx.stop()

    def hostports(self):
        return ["%s:%d" % (a, self.port) for a in self.addrs]


# --- front configs ---------------------------------------------------------

FRONT_SERVER = """
    server {
        listen 127.0.0.1:%(port)d;
        access_log off;
        keepalive_requests 1000000;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_next_upstream error timeout;
        proxy_connect_timeout 2s;
%(locations)s
    }
"""

STATUS_LOC = "        location = /k8s/status { k8s_status; }\n"


def static_http(port, hostports, keepalive=32, method=""):
    """method: a balancing directive for the static upstream, e.g.
    "least_conn;" (default: nginx's round robin)."""
    ups = "    upstream web {\n%s%s        keepalive %d;\n    }\n" % (
        ("        %s\n" % method) if method else "",
        "".join("        server %s;\n" % hp for hp in hostports), keepalive)
    return ups + FRONT_SERVER % {
        "port": port, "locations": "        location / { proxy_pass http://web; }\n"}


# the per-request metrics of one Ingress route (k8s_metrics_route), and
# their scrape location
METRICS_ROUTE = ("k8s_metrics_route namespace=%s ingress=web "
                 "host=web.example.com path=/ service=%s; " % (NS, SVC))
METRICS_LOC = "        location = /metrics { k8s_metrics; }\n"


def k8s_http(port, api_url, keepalive=32, zone="k8s 4m", balance=None,
             dispatch=False, extra="", metrics=False, loc_extra=""):
    """metrics=True: location / counts its requests (k8s_metrics_route);
    loc_extra: more directives in location / (k8s_canary, k8s_affinity)."""
    bal = (" " + balance) if balance else ""     # e.g. "balance=least_conn"
    route = (METRICS_ROUTE if metrics else "") + loc_extra
    head = "    k8s_api %s;\n    k8s_zone %s;\n%s" % (api_url, zone, extra)
    if dispatch:
        ups = ("    upstream k8s_dispatch { k8s_dispatch; keepalive %d; }\n"
               % keepalive)
        locs = ("        location / { %sk8s_backend %s port=http;"
                " proxy_pass http://k8s_dispatch; }\n" % (route, SVC_KEY))
    else:
        ups = ("    upstream web {\n        k8s_service %s port=http%s;\n"
               "        keepalive %d;\n    }\n" % (SVC_KEY, bal, keepalive))
        locs = "        location / { %sproxy_pass http://web; }\n" % route
    if metrics:
        locs += METRICS_LOC
    return head + ups + FRONT_SERVER % {"port": port,
                                        "locations": locs + STATUS_LOC}


def lua_http(port, ctrl_port, keepalive=32, poll=1.0, per_request=False):
    """The ingress-nginx-style peer: endpoints as one JSON blob in a
    lua_shared_dict (POSTed to /configuration/backends), each worker
    re-decoding it when its generation changes (by a timer every `poll`
    seconds, or on every request with per_request=True), round robin in
    balancer_by_lua."""
    init = ("require('lua_peer').init_worker(%s, %s)"
            % (repr(float(poll)), "true" if per_request else "false"))
    return """
    lua_package_path "%(dir)s/?.lua;;";
    lua_shared_dict configuration_data 20m;
    init_worker_by_lua_block { %(init)s }
    upstream upstream_balancer {
        server 0.0.0.1;
        balancer_by_lua_block { require('lua_peer').balance() }
        keepalive %(keepalive)d;
    }
    server {
        listen 127.0.0.1:%(ctrl)d;
        access_log off;
        location = /configuration/backends {
            client_max_body_size 20m;
            client_body_buffer_size 20m;
            content_by_lua_block { require('lua_peer').configure() }
        }
    }
""" % {"dir": HERE, "init": init, "keepalive": keepalive,
       "ctrl": ctrl_port} + FRONT_SERVER % {
        "port": port,
        "locations": ("        location / {\n"
                      "            rewrite_by_lua_block "
                      "{ require('lua_peer').rewrite() }\n"
                      "            proxy_pass http://upstream_balancer;\n"
                      "        }\n")}


def lua_backends_json(hostports, name=SVC):
    eps = []
    for hp in hostports:
        h, _, p = hp.rpartition(":")
        eps.append({"address": h, "port": p})
    return json.dumps([{"name": name, "endpoints": eps}]).encode()


def lua_post(ctrl_port, hostports, timeout=5):
    """What ingress-nginx's controller does on every endpoint change: POST
    the whole backends JSON to the Lua peer."""
    req = urllib.request.Request(
        "http://127.0.0.1:%d/configuration/backends" % ctrl_port,
        data=lua_backends_json(hostports), method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        assert r.status == 201, r.status


def front(workdir, name, http, ports, kind):
    """A 1-worker front nginx; kind: static | k8s | lua."""
    main = LUA_LOAD if kind == "lua" else ""
    return Nginx(os.path.join(workdir, name), http=http, ports=ports,
                 module=(kind == "k8s"), workers=1, main=main,
                 log_level="error")


# --- the stand-in API and EndpointSlices -----------------------------------

def endpoint_slice(hostports, name="web-1", ready=None, svc=SVC):
    """One EndpointSlice for `hostports` (same port for all: addresses
    differ, 127.0.0.x); ready: dict addr -> bool (default all ready)."""
    port = int(hostports[0].rpartition(":")[2]) if hostports else 80
    eps = []
    for hp in hostports:
        addr = hp.rpartition(":")[0]
        r = True if ready is None else ready.get(hp, True)
        eps.append({"addresses": [addr],
                    "conditions": {"ready": r, "serving": r,
                                   "terminating": False}})
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": name, "namespace": NS,
                         "labels": {"kubernetes.io/service-name": svc}},
            "addressType": "IPv4", "endpoints": eps,
            "ports": [{"name": "http", "port": port, "protocol": "TCP"}]}


def slice_path(name="web-1"):
    return ("/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices/%s"
            % (NS, name))


def service(name=SVC, port=80, target=8080):
    """A Service with one port named `http` (the module resolves
    `port=http` through it to the EndpointSlice port of that name)."""
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"selector": {"app": name},
                     "ports": [{"name": "http", "port": port,
                                "targetPort": target, "protocol": "TCP"}]}}


def start_api(workdir, hostports):
    """The stand-in API with the Service default/web and its slice."""
    path = os.path.join(workdir, "seed.json")
    port = int(hostports[0].rpartition(":")[2]) if hostports else 80
    with open(path, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List",
                   "items": [service(target=port),
                             endpoint_slice(hostports)]}, f)
    api = KubeAPI.start(os.path.join(workdir, "api"), load=[path])
    taskset(api.process.pid, "1")
    return api


def put_endpoints(api, hostports, ready=None, name="web-1"):
    """Replace the slice unconditionally (PUT without resourceVersion)."""
    return api.replace(endpoint_slice(hostports, name=name, ready=ready))


def k8s_status(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/k8s/status" % port,
                                timeout=5) as r:
        return json.loads(r.read())


def wait_k8s_ready(port, n_endpoints, timeout=15):
    def ok():
        st = k8s_status(port)
        svc = st["services"].get(SVC_KEY + ":http")
        return svc and svc["state"] == "ready" and \
            sum(1 for e in svc["endpoints"] if e["ready"]) == n_endpoints
    harness.wait_for(ok, timeout, "k8s table to hold the endpoints")


def stop_all(*things):
    for t in things:
        if t is None:
            continue
        try:
            t.stop()
        except Exception as e:      # noqa: BLE001 - best effort cleanup
            log("cleanup: %r" % (e,))
