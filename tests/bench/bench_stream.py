"""Scenario 7: TCP front (the stream module).

Two fronts, one nginx worker each, whose stream block proxies one TCP
port to 4 endpoints (one backend nginx on 127.0.0.2-5, one port),
differing only in the upstream:

  static      a stream `upstream { server ...; }` (the limit)
  k8s_stream  `k8s_service default/web port=http` in the stream upstream
              (ngx_stream_k8s_module.so), the endpoints from the stand-in
              API through the http module's one watcher and table

Two loads, each alternating the fronts in rounds (A B, B A, ...) with
the ratios taken per round against the static front of the same round:

  connections  wrk with `Connection: close`: every request is a new
               client connection through the front and a new connection
               from the front to an endpoint, for a 3-byte answer: new
               connections per second, and the front worker's CPU per
               connection (utime+stime from /proc over the run);
  bytes        wrk on keepalive connections fetching a 256 KiB body:
               bytes per second through the front, and front CPU per MB.

The backends speak HTTP so that wrk can drive the TCP front; the front
sees only bytes.  Each run is checked to have reached all 4 endpoints."""

import os
import re
import shutil
import subprocess
import tempfile

import common as c
import harness

REPORT_DOC = True

BIG = 256 * 1024

BACKEND_SERVER = """    server {
        listen %s:%d reuseport;
        location / {
            add_header X-Backend $server_addr always;
            return 200 "ok\\n";
        }
        location = /big { alias %s; }
    }"""


def backends(workdir, addrs, d):
    """The backend nginx; its body file in d, which its worker (an
    unprivileged user) can read (the work directory is root's only)."""
    os.chmod(d, 0o755)
    big = os.path.join(d, "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(BIG))
    os.chmod(big, 0o644)
    port = harness.free_port()
    servers = "\n".join(BACKEND_SERVER % (a, port, big) for a in addrs)
    n = c.Nginx(os.path.join(workdir, "stream-backends"),
                http=c.BACKEND_HTTP % servers, ports=[], module=False,
                workers=1, log_level="error")
    n.start(cpus="1")
    harness.wait_for(lambda: all(harness.port_open(a, port) for a in addrs),
                     10, "backends to listen")
    return n, ["%s:%d" % (a, port) for a in addrs]


def stream_main(upstream, port, k8s):
    loads = ""
    if os.path.exists("/usr/lib/nginx/modules/ngx_stream_module.so"):
        loads += "load_module /usr/lib/nginx/modules/ngx_stream_module.so;\n"
    if k8s:
        loads += "load_module %s;\n" % os.path.join(
            c.BUILD, "ngx_stream_k8s_module.so")
    return loads + """stream {
    upstream web {
%s
    }
    server {
        listen 127.0.0.1:%d;
        proxy_connect_timeout 2s;
        proxy_pass web;
    }
}
""" % (upstream, port)


def fronts(workdir, hps, api):
    out = {}
    p = harness.free_port()
    out["static"] = c.Nginx(
        os.path.join(workdir, "stream-static"), http="", ports=[p],
        module=False, workers=1, log_level="error",
        main=stream_main("".join("        server %s;\n" % hp for hp in hps),
                         p, False))
    if api is not None:
        p, s = harness.free_port(), harness.free_port()
        http = ("    k8s_api %s;\n    k8s_zone k8s 4m;\n"
                "    server { listen 127.0.0.1:%d; access_log off;\n"
                "             location = /k8s/status { k8s_status; } }\n"
                % (api.url, s))
        out["k8s_stream"] = c.Nginx(
            os.path.join(workdir, "stream-k8s"), http=http, ports=[p, s],
            module=True, workers=1, log_level="error",
            main=stream_main("        k8s_service %s port=http;"
                             % c.SVC_KEY, p, True))
    return out


def wrk(front, path, duration, conns, close):
    """One measured wrk run through the front's TCP port."""
    url = "http://127.0.0.1:%d%s" % (front.ports[0], path)
    cmd = c.wrk_cmd(url, duration, conns)
    if close:
        cmd[-1:-1] = ["-H", "Connection: close"]
    pids = front.worker_pids()
    before = {p: c.proc_cpu(p) for p in pids}
    p = subprocess.run(cmd, capture_output=True, text=True,
                       timeout=duration + 30)
    r = c.parse_wrk(p.stdout)
    cpu = sum(c.proc_cpu(x) - before[x] for x in pids)
    m = re.search(r"\d+ requests in ([\d.]+)s", p.stdout)
    secs = float(m.group(1)) if m else max(1, int(round(duration)))
    r["front_cpu_s"] = cpu
    r["bytes_per_s"] = r["requests"] * (BIG if not close else 0) / secs
    r["conns_per_s"] = r["rps"] if close else None
    r["cpu_us_per_conn"] = (cpu / r["requests"] * 1e6) \
        if close and r["requests"] else None
    r["cpu_ms_per_mb"] = (cpu * 1e3 / (r["requests"] * BIG / 1e6)) \
        if not close and r["requests"] else None
    return r


def check_spread(front, res, name):
    seen = set()
    for _ in range(12):
        r = harness.http_request(front.ports[0], "/", headers={
            "Connection": "close"})
        seen.add(r.headers.get("x-backend") if r.status == 200
                 else "status %d" % r.status)
    if len(seen) != 4:
        res["errors"].append("%s: answered from %s" % (name, seen))


def alternate(fr, load, rounds, duration, conns, res):
    names = list(fr)
    close = load == "connections"
    path = "/" if close else "/big"
    runs = {n: [] for n in names}
    for n in names:                               # warm-up
        wrk(fr[n], path, 1.0, conns, close)
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            w = wrk(fr[n], path, duration, conns, close)
            w["round"] = r
            runs[n].append(w)
            c.log("stream %s round %d %-10s %9.0f req/s %s failed %d" % (
                load, r, n, w["rps"] or 0,
                "%.2f us/conn" % (w["cpu_us_per_conn"] or 0) if close
                else "%.1f MB/s %.3f ms CPU/MB" % (
                    w["bytes_per_s"] / 1e6, w["cpu_ms_per_mb"] or 0),
                w["failed"]))
    keys = ("conns_per_s", "cpu_us_per_conn", "p99_ms") if close else \
        ("bytes_per_s", "cpu_ms_per_mb", "p99_ms")
    out = {}
    for n, rs in runs.items():
        v = {"runs": rs, "failed": sum(w["failed"] for w in rs)}
        for k in keys:
            v[k] = c.summary([w[k] for w in rs])
            if n != "static":
                v["ratio_" + k] = c.summary(
                    [w[k] / s[k] for w, s in zip(rs, runs["static"])
                     if w[k] and s[k]])
        out[n] = v
    res[load] = out


def run(workdir, quick):
    duration = 2.0 if quick else 6.0
    rounds = 3 if quick else 5
    duration = float(os.environ.get("BENCH_STREAM_S", duration))
    rounds = int(os.environ.get("BENCH_STREAM_ROUNDS", rounds))
    conns = 16
    res = {"params": {"duration_s": duration, "rounds": rounds,
                      "connections": conns, "wrk_threads": 1,
                      "front_workers": 1, "endpoints": 4,
                      "big_body_bytes": BIG}, "errors": []}
    bk = api = None
    fr = {}
    body = tempfile.mkdtemp(prefix="kubengx-bench-body-")
    try:
        bk, hps = backends(workdir, ["127.0.0.%d" % i for i in range(2, 6)],
                           body)
        if os.path.exists(c.MODULE) and os.path.exists(
                os.path.join(c.BUILD, "ngx_stream_k8s_module.so")):
            api = c.start_api(workdir, hps)
        fr = fronts(workdir, hps, api)
        for f in fr.values():
            f.start(cpus="0")
        if "k8s_stream" in fr:
            c.wait_k8s_ready(fr["k8s_stream"].ports[1], 4)
        for n, f in fr.items():
            check_spread(f, res, n)
        for load in ("connections", "bytes"):
            alternate(fr, load, rounds, duration, conns, res)
    finally:
        c.stop_all(*fr.values())
        c.stop_all(api, bk)
        shutil.rmtree(body, ignore_errors=True)
    return res


def _s(v, key, fmt, scale=1.0):
    m = v[key]["median"]
    return fmt % (m * scale) if m is not None else "-"


def _r(v, key):
    r = v.get("ratio_" + key)
    if not r or r["median"] is None:
        return "1 (limit)"
    return "%.3f (%.3f-%.3f)" % (r["median"], r["min"], r["max"])


def table(res):
    out = []
    cn = res.get("connections") or {}
    if cn:
        out += ["New connections (`Connection: close`, one 3-byte answer "
                "each):", "",
                "| front | connections/s | front CPU us/conn | p99 ms "
                "| conns/s vs static | CPU/conn vs static | failed |",
                "|---|---|---|---|---|---|---|"]
        for n, v in cn.items():
            out.append("| %s | %s | %s | %s | %s | %s | %d |" % (
                n, _s(v, "conns_per_s", "%.0f"),
                _s(v, "cpu_us_per_conn", "%.1f"), _s(v, "p99_ms", "%.2f"),
                _r(v, "conns_per_s"), _r(v, "cpu_us_per_conn"), v["failed"]))
    by = res.get("bytes") or {}
    if by:
        out += ["", "Bytes (keepalive connections, %d KiB bodies):"
                % (res["params"]["big_body_bytes"] // 1024), "",
                "| front | MB/s | front CPU ms/MB | p99 ms | MB/s vs static "
                "| CPU/MB vs static | failed |",
                "|---|---|---|---|---|---|---|"]
        for n, v in by.items():
            out.append("| %s | %s | %s | %s | %s | %s | %d |" % (
                n, _s(v, "bytes_per_s", "%.1f", 1e-6),
                _s(v, "cpu_ms_per_mb", "%.3f"), _s(v, "p99_ms", "%.2f"),
                _r(v, "bytes_per_s"), _r(v, "cpu_ms_per_mb"), v["failed"]))
    return out


if __name__ == "__main__":
    import json
    import tempfile
    d = tempfile.mkdtemp(prefix="kubengx-bench-stream-")
    print(json.dumps(table(run(d, True)), indent=1))
