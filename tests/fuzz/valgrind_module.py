#!/usr/bin/python3
"""nginx with the kubengx module under valgrind memcheck, single process
(master_process off; daemon off), against the stand-in API server, while
requests flow and endpoints change.  Run by valgrind-module.sh; prints the
valgrind error summary and exits non-zero when memcheck found errors
(definite leaks included; nginx's exit-time pool memory and known nginx
false positives are suppressed by valgrind.supp).

    KUBENGX_BUILD=DIR tests/fuzz/valgrind_module.py [WORKDIR]
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import harness  # noqa: E402
from apiserver import KubeAPI  # noqa: E402
import manifests as m  # noqa: E402

SUPP = os.path.join(HERE, "valgrind.supp")
SLICES = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/"


def slice_obj(svc, name, eps, port):
    """eps: addresses (ready) or (addr, ready, serving, terminating)."""
    endpoints = [m.endpoint(e) if isinstance(e, str) else
                 m.endpoint(e[0], ready=e[1], serving=e[2], terminating=e[3])
                 for e in eps]
    return m.slice_(svc, endpoints, [("http", port)], name=name)


def put_slice(api, obj):
    """Create, or replace unconditionally."""
    try:
        return api.create(obj)
    except Exception as e:            # noqa: BLE001 - AlreadyExists
        if getattr(e, "status", None) != 409:
            raise
        cur = api.get(SLICES + obj["metadata"]["name"])
        obj = json.loads(json.dumps(obj))
        obj["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"]
        return api.replace(obj)


def delete_slice(api, name):
    api.delete(SLICES + name)


def write_manifest(work, objs):
    path = os.path.join(work, "seed.json")
    with open(path, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List",
                   "items": m.with_services(objs)}, f)
    return path


def module_conf(port, api_url):
    return """
    k8s_api %s;
    k8s_zone k8s 4m;
    upstream web { k8s_service default/web port=http; }
    server {
        listen 127.0.0.1:%d;
        proxy_next_upstream error timeout http_502;
        proxy_connect_timeout 2s;
        location = /k8s/status { k8s_status; }
        location / { proxy_pass http://web; }
    }
""" % (api_url, port)


def log(msg):
    print("valgrind-module: " + msg, flush=True)


def seen(port, count=12, path="/"):
    out = set()
    for _ in range(count):
        try:
            r = harness.http_request(port, path)
        except OSError as e:
            out.add(("error", type(e).__name__))
            continue
        out.add(r.backend if r.status == 200 else ("status", r.status))
    return out


def wait_seen(port, expected, timeout=60.0):
    last = [None]

    def cond():
        last[0] = seen(port)
        return last[0] == set(expected)
    try:
        harness.wait_for(cond, timeout, "backends %s" % sorted(expected),
                         interval=0.2)
    except harness.Timeout as e:
        raise AssertionError("%s; last seen %s" % (e, last[0]))


def main():
    work = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(
        prefix="kubengx-valgrind-")
    os.makedirs(work, exist_ok=True)
    if not os.path.exists(harness.MODULE):
        sys.exit("valgrind-module: no module at %s (make first)"
                 % harness.MODULE)
    if harness.sanitized():
        sys.exit("valgrind-module: %s is an ASan build; valgrind needs a "
                 "plain one" % harness.MODULE)

    bk = harness.Backends([(n, "127.0.0.1:0") for n in ("a", "b", "c")])
    api = nginx = None
    vlog = os.path.join(work, "valgrind.log")
    try:
        ha, pa = bk.host_port("a")
        hb, pb = bk.host_port("b")
        hc, pc = bk.host_port("c")
        seed = write_manifest(work, [slice_obj("web", "web-a", [ha], pa)])
        api = KubeAPI.start(os.path.join(work, "api"), load=[seed])

        port = harness.free_port()
        prefix = os.path.join(work, "nginx")
        conf = harness.Nginx(prefix, http=module_conf(port, api.url),
                             ports=[port], master=False)
        cmd = ["valgrind", "--tool=memcheck", "--error-exitcode=99",
               "--leak-check=full", "--show-leak-kinds=definite",
               "--errors-for-leak-kinds=definite", "--track-origins=yes",
               "--num-callers=30", "--suppressions=" + SUPP,
               "--gen-suppressions=all", "--log-file=" + vlog,
               *conf._cmd()]
        log("starting nginx under valgrind (single process) on :%d" % port)
        t0 = time.monotonic()
        nginx = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        harness.wait_for(lambda: nginx.poll() is None
                         and harness.port_open("127.0.0.1", port), 120,
                         "nginx under valgrind to listen", interval=0.2)

        log("listed endpoints: a")
        wait_seen(port, {"a"})
        log("add a slice: a, b")
        put_slice(api, slice_obj("web", "web-b", [hb], pb))
        wait_seen(port, {"a", "b"})
        log("replace: b with c, a not ready")
        put_slice(api, slice_obj("web", "web-b", [hc], pc))
        put_slice(api, slice_obj("web", "web-a", [(ha, False, False, False)],
                                 pa))
        wait_seen(port, {"c"})
        log("many small changes")
        for i in range(20):
            put_slice(api, slice_obj("web", "web-x%d" % (i % 4),
                                     ["127.0.0.%d" % (10 + i)], 9))
        for i in range(4):
            delete_slice(api, "web-x%d" % i)
        wait_seen(port, {"c"})
        log("delete every slice: 503")
        delete_slice(api, "web-a")
        delete_slice(api, "web-b")
        wait_seen(port, {("status", 503)})
        log("back: a, b, c; status page")
        put_slice(api, slice_obj("web", "web-abc", [ha], pa))
        put_slice(api, slice_obj("web", "web-b", [hb], pb))
        put_slice(api, slice_obj("web", "web-c", [hc], pc))
        wait_seen(port, {"a", "b", "c"})
        r = harness.http_request(port, "/k8s/status")
        assert r.status == 200, r
        harness.http_request(port, "/k8s/status?format=prometheus")
        log("events split at every byte")
        api.admin("stream", {"split": 1})
        put_slice(api, slice_obj("web", "web-c", [hc, "127.0.0.99"], pc))
        time.sleep(2)
        api.admin("stream", {"split": 0})
        log("compacted history, watch dropped: 410, relist")
        api.admin("compact", {})
        api.admin("drop-watches", {"mode": "end"})
        put_slice(api, slice_obj("web", "web-c", [hc], pc))
        wait_seen(port, {"a", "b", "c"})
        log("500 on the next requests, watch aborted: backoff, relist")
        api.admin("faults", {"status": 500, "path": "endpointslices",
                             "count": 2})
        api.admin("drop-watches", {"mode": "abort"})
        time.sleep(4)
        api.admin("faults", None, method="DELETE")
        wait_seen(port, {"a", "b", "c"})
        log("410 on the watch: relist; 429 with Retry-After; a closed "
            "connection")
        for fault in ({"status": 410, "path": "watch", "count": 1},
                      {"status": 429, "path": "endpointslices", "count": 1,
                       "retryAfter": 1},
                      {"status": 200, "path": "endpointslices", "count": 1,
                       "action": "close"}):
            api.admin("faults", fault)
            api.admin("drop-watches", {"mode": "end"})
            time.sleep(2.5)
        api.admin("faults", None, method="DELETE")
        put_slice(api, slice_obj("web", "web-c", [hc], pc))
        wait_seen(port, {"a", "b", "c"})
        log("API down: the last table keeps serving")
        time.sleep(2)
        api.stop()
        api = None
        time.sleep(3)
        wait_seen(port, {"a", "b", "c"})

        log("stopping nginx (SIGQUIT) after %.0f s" % (time.monotonic() - t0))
        nginx.send_signal(signal.SIGQUIT)
        try:
            rc = nginx.wait(120)
        except subprocess.TimeoutExpired:
            nginx.kill()
            rc = nginx.wait()
            log("nginx did not exit on SIGQUIT")
        nginx = None
    finally:
        if nginx is not None and nginx.poll() is None:
            nginx.kill()
            nginx.wait()
        if api is not None:
            api.stop()
        bk.stop()

    text = open(vlog).read()
    summ = re.findall(r"ERROR SUMMARY: (\d+) errors", text)
    errors = int(summ[-1]) if summ else -1
    log("valgrind exit %d, %s errors; log %s" % (rc, errors, vlog))
    if errors != 0 or rc not in (0,):
        print(text[-30000:])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
