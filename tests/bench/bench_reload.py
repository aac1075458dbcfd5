"""Scenario 6: a Service newly named by a reload.

A reload that names a Service the old configuration did not (a new
Ingress, a new backend) must give it endpoints quickly: the new worker 0
takes the writer lease from the old one (retrying every 50 ms for its
first 5 s, ngx_module/ngx_http_k8s_watcher.c), lists the Service and its
EndpointSlices, and fills the table.  Measured from outside: the
stand-in API holds R+1 Services (one port `http`, one ready endpoint
each, a backend nginx); the front (one worker, the module) starts naming
the first; each of R reloads rewrites the front's config to name one
more (an upstream with `k8s_service` and a location) and sends SIGHUP;
from just before the signal, new connections poll

  status    k8s_status until the new Service is `ready` with its endpoint;
  request   the new Service's location until it answers 200 from the
            backend (served by a new worker, routed through the table).

Before the next reload the old worker must have exited.  Reported:
p50/p99/max over the reloads, for both."""

import http.client
import json
import os
import time

import common as c
import harness

MAX_WAIT = 10.0


def svc_name(i):
    return "svc-%02d" % i


def endpoint_slice(i, hostport):
    s = c.endpoint_slice([hostport], name="%s-1" % svc_name(i),
                         svc=svc_name(i))
    return s


def front_http(port, api_url, n):
    ups = "".join("    upstream %s {\n        k8s_service %s/%s port=http;\n"
                  "        keepalive 8;\n    }\n" % (svc_name(i), c.NS,
                                                       svc_name(i))
                  for i in range(n))
    locs = "".join("        location /%s/ { proxy_pass http://%s; }\n" % (
        svc_name(i), svc_name(i)) for i in range(n))
    return ("    k8s_api %s;\n    k8s_zone k8s 4m;\n" % api_url + ups +
            c.FRONT_SERVER % {"port": port, "locations": locs +
                              c.STATUS_LOC})


def get(port, path):
    """One request on a new connection: (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def ready(port, i):
    try:
        st, body = get(port, "/k8s/status")
        if st != 200:
            return False
        svc = json.loads(body)["services"].get(
            "%s/%s:http" % (c.NS, svc_name(i)))
    except (OSError, ValueError, http.client.HTTPException):
        return False
    return bool(svc and svc["state"] == "ready"
                and any(e["ready"] for e in svc["endpoints"]))


def routed(port, i):
    try:
        return get(port, "/%s/" % svc_name(i))[0] == 200
    except (OSError, http.client.HTTPException):
        return False


def workers(master):
    try:
        with open("/proc/%d/task/%d/children" % (master, master)) as f:
            return len(f.read().split())
    except OSError:
        return -1


def run(workdir, quick):
    reloads = 10 if quick else 20
    res = {"params": {"reloads": reloads, "front_workers": 1,
                      "lease_retry_ms": 50, "max_wait_s": MAX_WAIT},
           "rows": {}, "errors": []}
    if not os.path.exists(c.MODULE):
        res["errors"].append("module not built")
        return res
    bk = api = f = None
    try:
        bk = c.Backends(workdir, ["127.0.0.2"])
        bk.start()
        hp = bk.hostports()[0]
        seed = os.path.join(workdir, "reload-seed.json")
        items = []
        for i in range(reloads + 1):
            items += [c.service(svc_name(i)), endpoint_slice(i, hp)]
        with open(seed, "w") as fh:
            json.dump({"apiVersion": "v1", "kind": "List", "items": items},
                      fh)
        api = c.KubeAPI.start(os.path.join(workdir, "reload-api"),
                              load=[seed])
        c.taskset(api.process.pid, "1")
        port = harness.free_port()
        f = c.front(workdir, "reload-front", front_http(port, api.url, 1),
                    [port], "k8s")
        f.start(cpus="0")
        harness.wait_for(lambda: ready(port, 0), 15, "the first Service")
        times = {"status": [], "request": []}
        for i in range(1, reloads + 1):
            f.write_conf(front_http(port, api.url, i + 1), module=True,
                         workers=1, log_level="error")
            t0 = time.perf_counter()
            f.hup()
            got = {}
            while len(got) < 2 and time.perf_counter() - t0 < MAX_WAIT:
                if "status" not in got and ready(port, i):
                    got["status"] = time.perf_counter() - t0
                if "request" not in got and routed(port, i):
                    got["request"] = time.perf_counter() - t0
            for k in times:
                if k in got:
                    times[k].append(got[k] * 1000.0)
                else:
                    res["errors"].append("reload %d: %s not within %.0f s"
                                         % (i, k, MAX_WAIT))
            harness.wait_for(lambda: workers(f.master_pid()) == 1, 15,
                             "the old worker to exit")
        for k, v in times.items():
            res["rows"][k] = {"n": len(v), "ms": v,
                              "p50_ms": c.percentile(v, 50),
                              "p99_ms": c.percentile(v, 99),
                              "max_ms": max(v) if v else None}
            c.log("reload -> %s: n=%d p50 %.0f ms p99 %.0f ms" % (
                k, len(v), res["rows"][k]["p50_ms"] or -1,
                res["rows"][k]["p99_ms"] or -1))
    finally:
        c.stop_all(f, api, bk)
    return res


def table(res):
    out = ["| after SIGHUP, until | reloads | p50 ms | p99 ms | max ms |",
           "|---|---|---|---|---|"]
    what = {"status": "k8s_status shows the new Service ready",
            "request": "its location answers 200 from its endpoint"}
    for k, r in res.get("rows", {}).items():
        out.append("| %s | %d | %s | %s | %s |" % (
            what.get(k, k), r["n"],
            *("%.0f" % r[x] if r[x] is not None else "-"
              for x in ("p50_ms", "p99_ms", "max_ms"))))
    return out


if __name__ == "__main__":
    import tempfile
    with tempfile.TemporaryDirectory(prefix="kubengx-bench-") as d:
        r = run(d, True)
        print("\n".join(table(r)))
        print(r["errors"])
