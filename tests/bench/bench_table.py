"""Scenario 5: table cost.

(a) shm bytes per endpoint.  The module does not report its slab usage,
so the bench finds, by bisection, the smallest `k8s_zone` SIZE that holds
N endpoints: nginx starts with a `k8s_snapshot` file holding S Services of
N/S endpoints each (with pod, node and zone names as a real cluster has
them), and the zone holds them when k8s_status shows every Service loaded
(`snapshot.loaded` == S) and `nomem` == 0.  Reported: the smallest size,
size/N, and the slope between successive N (the marginal cost of one
endpoint, without the zone's fixed overhead).  Resolution: 1/64 of the
size found, at least one 4 KB page.

(b) watcher CPU under an event storm.  Writers replace EndpointSlices in
the stand-in API (S Services, 10 endpoints each, one endpoint's readiness
flipped per write) as fast as they can up to 1,000 writes/s for T seconds;
the watching worker's utime+stime (it serves no requests meanwhile) over
the events the table applied (k8s_status `updates`) gives CPU per event
and the CPU share at 1,000 events/s.  The stand-in is Python: when it
cannot produce 1,000 events/s, the achieved rate is reported.

(c) apply time.  One Service of N endpoints (100, 10,000, 100,000; slices
of 1,000) in the stand-in API, listed by the watcher; then one endpoint of
it changes address K times (a PUT of one slice each).  The module times
every ngx_http_k8s_table_apply() itself (monotonic clock, microseconds:
k8s_status `apply`): the table's part of an update, from the endpoint
list the watcher computed to the published version (address check,
matching the old peers, building the new version, the pointer swap, the
retirement), not the watcher's decoding.  Reported: the first fill
(from an empty entry) and the median and worst of the K one-endpoint
changes.

(d) the workers under churn.  The front has 2 workers and one Service of
10,000 endpoints (127.x.y.z, all answered by one backend nginx); wrk runs
T seconds without changes, then T seconds while one endpoint changes
every 100 ms, alternated for R rounds; once with balance=round_robin (the
default: a pick walks all 10,000 endpoints under the entry lock, so the
two workers also wait for each other's picks), once with balance=random
(a pick is O(1): what waits remain come from the updates).  The module counts every time a process found a table lock
taken and had to wait (k8s_status `locks`: the entry rwlocks of the
request path, and the zone's mutex), with the worst wait in
microseconds; reported per phase, beside req/s, p99 and the workers' CPU
per request (worker 0 also runs the watcher and applies the changes)."""

REPORT_DOC = True       # run.py: every paragraph above goes into the report

import http.client
import json
import os
import threading
import time
import urllib.request

import common as c
import harness

SNAP_TARGET = "web-%05d-7d9f8b6c5-%05d"


def snapshot_text(services, per, names=True):
    """The module's snapshot format (see tests/integration/
    k8s_module_util.py), for services x per endpoints."""
    import zlib
    lines = ["kubengx-snapshot 1", "generation 1", "rv -"]
    n = 0
    for s in range(services):
        lines.append("service default/svc-%05d:http ready 1700000000000 %d"
                     % (s, per))
        for j in range(per):
            a = "10.%d.%d.%d:8080" % ((n >> 16) & 255, (n >> 8) & 255,
                                      n & 255)
            if names:
                lines.append("endpoint %s rs zone-%s node-%03d %s" % (
                    a, "abc"[n % 3], n % 100, SNAP_TARGET % (s, j)))
            else:
                lines.append("endpoint %s rs - - -" % a)
            n += 1
    lines.append("end %d" % services)
    body = "\n".join(lines) + "\n"
    return body + "checksum %08x\n" % (zlib.crc32(body.encode()) & 0xffffffff)


def table_http(port, services, zone_bytes, snap, api_line=""):
    ups = "".join("    upstream u%05d { k8s_service default/svc-%05d "
                  "port=http; }\n" % (s, s) for s in range(services))
    return ("%s    k8s_zone k8s %dk;\n    k8s_snapshot %s;\n" % (
        api_line, zone_bytes // 1024, snap) + ups +
        c.FRONT_SERVER % {"port": port, "locations": c.STATUS_LOC +
                          "        location / { proxy_pass http://u00000; }\n"})


def holds(workdir, services, per, zone_bytes, snap, probe):
    port = harness.free_port()
    n = c.Nginx(os.path.join(workdir, "zone-%d-%d" % (services * per, probe)),
                http=table_http(port, services, zone_bytes, snap),
                ports=[port], module=True, workers=1, log_level="crit")
    try:
        n.start(timeout=30)
        st = c.k8s_status(port)
        ok = st["snapshot"]["loaded"] == services and st["nomem"] == 0 and \
            all(len(v["endpoints"]) == per for v in st["services"].values())
        return ok
    except Exception:           # noqa: BLE001 - did not start: too small
        return False
    finally:
        n.stop()


def min_zone(workdir, services, per, guess=None, names=True):
    """Smallest zone (bytes, page multiple) that holds the endpoints;
    guess: expected bytes (from a smaller N) to narrow the first bracket."""
    snap = os.path.join(workdir, "table-%d-%d.state" % (services * per,
                                                         names))
    with open(snap, "w") as f:
        f.write(snapshot_text(services, per, names))
    lo = 32 * 1024                      # 8 pages: the module's minimum
    hi = 1024 * 1024
    probe = 0
    if guess:
        hi = int(guess * 1.15) // 4096 * 4096 + 4096
        if holds(workdir, services, per, int(guess * 0.85) // 4096 * 4096,
                 snap, probe):
            hi = int(guess * 0.85) // 4096 * 4096
        else:
            lo = int(guess * 0.85) // 4096 * 4096
        probe += 1
    while not holds(workdir, services, per, hi, snap, probe):
        probe += 1
        lo = hi
        hi *= 2
        if hi > 1024 * 1024 * 1024 or probe > 12:
            return None, probe
    # bisection to 1/64 of hi (at least a page)
    while hi - lo > max(4096, hi // 64) and probe < 30:
        mid = (lo + hi) // 2 // 4096 * 4096
        probe += 1
        if holds(workdir, services, per, mid, snap, probe):
            hi = mid
        else:
            lo = mid
    return hi, probe


def storm(workdir, seconds, services=20, per=10, target_rate=1000):
    """Watcher CPU while applying EndpointSlice events."""
    addrs = ["10.1.%d.%d:8080" % (s, j) for s in range(services)
             for j in range(per)]

    def slice_obj(s, flip):
        hps = addrs[s * per:(s + 1) * per]
        o = c.endpoint_slice(hps, name="svc-%05d-1" % s,
                             ready={hps[0]: flip}, svc="svc-%05d" % s)
        return o
    seed = os.path.join(workdir, "storm-seed.json")
    with open(seed, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List",
                   "items": [c.service("svc-%05d" % s)
                             for s in range(services)] +
                   [slice_obj(s, True) for s in range(services)]}, f)
    api = c.KubeAPI.start(os.path.join(workdir, "storm-api"), load=[seed],
                          args=["--event-window", "100000"])
    port = harness.free_port()
    snap = os.path.join(workdir, "storm.state")
    front = c.Nginx(os.path.join(workdir, "storm-front"),
                    http=table_http(port, services, 8 * 1024 * 1024, snap,
                                    api_line="    k8s_api %s;\n" % api.url),
                    ports=[port], module=True, workers=1, log_level="error")
    try:
        front.start()
        harness.wait_for(lambda: c.k8s_status(port)["watch"]["synced"], 15,
                         "watcher to sync")
        st0 = c.k8s_status(port)
        wpid = st0["watch"]["lease_pid"]
        cpu0 = c.proc_cpu(wpid)
        api_cpu0 = c.proc_cpu(api.process.pid)
        host, aport = api.url.split("//", 1)[1].split(":")
        writes = [0]
        bad = [0]
        flips = [0] * services     # each thread owns its own Services
        stop = time.monotonic() + seconds
        lock = threading.Lock()

        def writer(k, nthreads):
            conn = http.client.HTTPConnection(host, int(aport), timeout=10)
            i = 0
            t_start = time.monotonic()
            while time.monotonic() < stop:
                s = (k + i * nthreads) % services
                flips[s] += 1
                body = json.dumps(slice_obj(s, flips[s] % 2 == 0)).encode()
                conn.request("PUT", c.slice_path("svc-%05d-1" % s),
                    body=body, headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    bad[0] += 1
                i += 1
                with lock:
                    writes[0] += 1
                # pace to target_rate overall
                ahead = i * nthreads / float(target_rate) - \
                    (time.monotonic() - t_start)
                if ahead > 0:
                    time.sleep(ahead)
            conn.close()
        nthreads = 2
        ths = [threading.Thread(target=writer, args=(k, nthreads))
               for k in range(nthreads)]
        t0 = time.monotonic()
        for t in ths:
            t.start()
        for t in ths:
            t.join(seconds + 30)
        elapsed = time.monotonic() - t0
        time.sleep(0.5)             # let the watcher drain what is queued
        st1 = c.k8s_status(port)
        cpu = c.proc_cpu(wpid) - cpu0
        api_cpu = c.proc_cpu(api.process.pid) - api_cpu0
        updates = st1["updates"] - st0["updates"]
        return {"seconds": elapsed, "writes": writes[0],
                "failed_writes": bad[0],
                "write_rate": writes[0] / elapsed,
                "updates_applied": updates,
                "watcher_cpu_s": cpu,
                "watcher_cpu_us_per_event": cpu / updates * 1e6
                if updates else None,
                "watcher_cpu_share": cpu / elapsed,
                "watcher_cpu_share_at_1000_per_s":
                (cpu / updates * 1000.0) if updates else None,
                "api_server_cpu_s": api_cpu,
                "services": services, "endpoints_per_slice": per,
                "errors": st1["watch"]["errors"] - st0["watch"]["errors"],
                "relists": st1["watch"]["relists"] - st0["watch"]["relists"]}
    finally:
        c.stop_all(front, api)


# --- (c) and (d): apply time, the workers under churn ----------------------

BIG_PER = 1000


def big_addr(k):
    """Endpoint k of the big Service: a distinct 127/8 address."""
    return "127.%d.%d.%d" % (1 + (k >> 16), (k >> 8) & 255, k & 255)


def big_slice(s, n, port, moved=0):
    """Slice s of Service "big" (n endpoints in all); moved > 0 gives its
    first endpoint another address (one endpoint changed)."""
    per = min(n, BIG_PER)
    hps = ["%s:%d" % (big_addr(k), port)
           for k in range(s * per, min(n, (s + 1) * per))]
    if moved:
        hps[0] = "127.200.%d.%d:%d" % (moved >> 8 & 255, moved & 255, port)
    return c.endpoint_slice(hps, name="big-%03d" % s, svc="big")


def big_api(workdir, name, n, port):
    per = min(n, BIG_PER)
    seed = os.path.join(workdir, "%s-seed.json" % name)
    with open(seed, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List",
                   "items": [c.service("big")] +
                   [big_slice(s, n, port)
                    for s in range((n + per - 1) // per)]}, f)
    api = c.KubeAPI.start(os.path.join(workdir, "%s-api" % name),
                          load=[seed], args=["--event-window", "100000"])
    c.taskset(api.process.pid, "1")
    return api


def big_front(workdir, name, api, port, n, workers, balance="round_robin"):
    zone_mb = max(8, n * 1024 // (1024 * 1024) + 8)
    http = ("    k8s_api %s;\n    k8s_zone k8s %dm;\n"
            "    upstream web { k8s_service default/big port=http"
            " balance=%s; keepalive 32; }\n" % (api.url, zone_mb, balance)) + \
        c.FRONT_SERVER % {"port": port, "locations": c.STATUS_LOC +
                          "        location / { proxy_pass http://web; }\n"}
    if workers > 1:
        # the kernel spreads wrk's connections over the workers
        http = http.replace("listen 127.0.0.1:%d;" % port,
                            "listen 127.0.0.1:%d reuseport;" % port)
    return c.Nginx(os.path.join(workdir, name), http=http, ports=[port],
                   module=True, workers=workers, log_level="error")


def brief(port):
    """k8s_status without the per-endpoint lists."""
    with urllib.request.urlopen("http://127.0.0.1:%d/k8s/status?endpoints=0"
                                % port, timeout=30) as r:
        return json.loads(r.read())


def big_count(port):
    svc = brief(port)["services"].get("default/big:http")
    return svc["endpoint_count"] if svc else 0


def apply_time(workdir, n, changes):
    """(c): the first fill and K one-endpoint changes of an N-endpoint
    Service."""
    bport = 8080
    api = big_api(workdir, "apply-%d" % n, n, bport)
    port = harness.free_port()
    front = big_front(workdir, "apply-%d" % n, api, port, n, 1)
    try:
        front.start(timeout=60)
        harness.wait_for(lambda: big_count(port) == n, 300,
                         "%d endpoints listed" % n)
        first = brief(port)["apply"]
        times = []
        for i in range(1, changes + 1):
            before = brief(port)["apply"]["count"]
            api.replace(big_slice(0, n, bport, moved=i))
            harness.wait_for(lambda: brief(port)["apply"]["count"] > before,
                             60, "change %d applied" % i)
            a = brief(port)["apply"]
            assert a["last_endpoints"] == n, a
            times.append(a["last_us"])
        return {"endpoints": n, "changes": changes,
                "first_fill_us": first["last_us"],
                "change_us": c.summary(times), "change_us_all": times}
    finally:
        c.stop_all(front, api)


def phase_wrk(front, url, seconds, writer):
    """measured_wrk, plus the CPU seconds of the writer (worker 0, which
    also serves requests) and of the other workers, separately."""
    pids = front.worker_pids()
    before = {p: c.proc_cpu(p) for p in pids}
    r = c.measured_wrk(front, url, seconds, 16)
    cpu = {p: c.proc_cpu(p) - before[p] for p in pids}
    r["writer_cpu_s"] = cpu.get(writer, 0.0)
    r["others_cpu_s"] = sum(v for p, v in cpu.items() if p != writer)
    r.pop("raw", None)
    return r


def lock_delta(a, b):
    """waits between two k8s_status "locks" readings, and the upper
    bound (us) of the worst wait among them (None: no wait)."""
    out = {}
    for lock in ("entry", "mutex"):
        waits = b[lock]["waits"] - a[lock]["waits"]
        worst = None
        for k, v in b[lock]["buckets_us"].items():
            if v > a[lock]["buckets_us"][k]:
                worst = k if worst is None or k == "+Inf" or (
                    worst != "+Inf" and int(k) > int(worst)) else worst
        out[lock] = {"waits": waits, "worst_us": worst}
    return out


def churn_locks(workdir, n, seconds, balance, rounds, step_ms=100):
    """(d): wrk on a 2-worker front, phases without changes and with one
    endpoint changing every step_ms, alternated for `rounds` rounds."""
    bport = harness.free_port()
    backend = c.Nginx(os.path.join(workdir, "locks-backend-" + balance),
                      http=c.BACKEND_HTTP % (
                          "    server { listen %d reuseport; "
                          "location / { return 200 \"ok\\n\"; } }" % bport),
                      ports=[bport], module=False, workers=1,
                      log_level="error")
    api = big_api(workdir, "locks-" + balance, n, bport)
    port = harness.free_port()
    front = big_front(workdir, "locks-front-" + balance, api, port, n, 2,
                      balance)
    url = "http://127.0.0.1:%d/" % port
    res = {"endpoints": n, "seconds": seconds, "step_ms": step_ms,
           "balance": balance, "rounds": rounds,
           "quiet": [], "churn": [], "changes_applied": 0}
    try:
        backend.start(cpus="1")
        front.start(timeout=60)
        harness.wait_for(lambda: big_count(port) == n, 120, "listed")
        c.run_wrk(url, 1, 16)                            # warm-up
        writer = brief(port)["watch"]["lease_pid"]
        moved = [0]
        for _ in range(rounds):
            for phase in ("quiet", "churn"):
                l0, a0 = brief(port)["locks"], brief(port)["apply"]
                r = churn_phase(api, front, url, seconds, writer, n, bport,
                                step_ms if phase == "churn" else 0, moved)
                l1, a1 = brief(port)["locks"], brief(port)["apply"]
                r["locks"] = lock_delta(l0, l1)
                r["changes_applied"] = a1["count"] - a0["count"]
                res[phase].append(r)
        a = brief(port)["apply"]
        res["changes_applied"] = sum(r["changes_applied"]
                                     for r in res["churn"])
        res["apply_last_us"] = a["last_us"]
        return res
    finally:
        c.stop_all(front, api, backend)


def churn_phase(api, front, url, seconds, writer, n, bport, step_ms, moved):
    """One wrk phase; with step_ms, one endpoint moves every step_ms."""
    stop = threading.Event()

    def churn():
        while not stop.is_set():
            moved[0] += 1
            api.replace(big_slice(0, n, bport, moved=1 + moved[0] % 60000))
            stop.wait(step_ms / 1000.0)
    t = threading.Thread(target=churn) if step_ms else None
    if t:
        t.start()
    try:
        return phase_wrk(front, url, seconds, writer)
    finally:
        stop.set()
        if t:
            t.join(30)


def phases(rows):
    """One line of a phase over the rounds: sums, medians, the worst."""
    req = sum(r["requests"] for r in rows)
    out = {"rps": c.summary([r["rps"] for r in rows])["median"],
           "p50_ms": c.summary([r["p50_ms"] for r in rows])["median"],
           "p99_ms": c.summary([r["p99_ms"] for r in rows])["median"],
           "cpu_us_per_req": (sum(r["front_cpu_s"] for r in rows) / req
                              * 1e6) if req else None,
           "writer_cpu_s": sum(r["writer_cpu_s"] for r in rows),
           "others_cpu_s": sum(r["others_cpu_s"] for r in rows)}
    for lock in ("entry", "mutex"):
        worst = [r["locks"][lock]["worst_us"] for r in rows
                 if r["locks"][lock]["worst_us"]]
        out[lock] = {"waits": sum(r["locks"][lock]["waits"] for r in rows),
                     "worst_us": "+Inf" if "+Inf" in worst else
                     (max(int(w) for w in worst) if worst else None)}
    return out

def run(workdir, quick):
    sizes = [1000, 10000] if quick else [1000, 10000, 100000]
    env = os.environ.get("BENCH_TABLE_SIZES")
    if env:
        sizes = [int(x) for x in env.split(",")]
    res = {"params": {"sizes": sizes, "endpoints_per_service": 100,
                      "bisection_resolution": "1/64 of the size, >= 4 KB"},
           "zone": [], "storm": None, "errors": []}
    if not os.path.exists(c.MODULE):
        res["errors"].append("module not built")
        return res
    prev = None
    for n in sizes:
        per = 100 if n >= 1000 else max(1, n // 10)
        services = max(1, n // per)
        t0 = time.monotonic()
        guess = None
        if prev and prev["min_zone_bytes"]:
            guess = prev["min_zone_bytes"] * services * per / \
                float(prev["endpoints"])
        z, probes = min_zone(workdir, services, per, guess)
        row = {"endpoints": services * per, "services": services,
               "min_zone_bytes": z, "probes": probes,
               "bytes_per_endpoint": z / float(services * per) if z else None,
               "seconds": time.monotonic() - t0}
        if prev and z and prev["min_zone_bytes"]:
            row["marginal_bytes_per_endpoint"] = (
                (z - prev["min_zone_bytes"]) /
                float(row["endpoints"] - prev["endpoints"]))
        res["zone"].append(row)
        prev = row
        c.log("table %6d endpoints: min zone %s, %.0f B/endpoint%s (%d probes,"
              " %.1fs)" % (row["endpoints"], z, row["bytes_per_endpoint"] or 0,
                           ", marginal %.0f B" % row[
                               "marginal_bytes_per_endpoint"]
                           if "marginal_bytes_per_endpoint" in row else "",
                           probes, row["seconds"]))
    # the same without pod, node and zone names: what the names cost
    n = 10000 if 10000 in sizes else sizes[0]
    per = 100 if n >= 1000 else max(1, n // 10)
    z, probes = min_zone(workdir, max(1, n // per), per, None, names=False)
    res["zone_no_names"] = {"endpoints": n, "min_zone_bytes": z,
                            "bytes_per_endpoint": z / float(n) if z else None,
                            "probes": probes}
    c.log("table %6d endpoints without names: min zone %s, %.0f B/endpoint"
          % (n, z, res["zone_no_names"]["bytes_per_endpoint"] or 0))
    apply_sizes = [100, 10000] if quick else [100, 10000, 100000]
    env = os.environ.get("BENCH_APPLY_SIZES")
    if env:
        apply_sizes = [int(x) for x in env.split(",")]
    res["params"]["apply_sizes"] = apply_sizes
    res["apply"] = []
    for n in apply_sizes:
        try:
            row = apply_time(workdir, n, 5 if quick else 10)
            res["apply"].append(row)
            c.log("apply %6d endpoints: first fill %d us, one endpoint "
                  "changed: median %.0f us, max %.0f us" % (
                      n, row["first_fill_us"], row["change_us"]["median"],
                      row["change_us"]["max"]))
        except Exception as e:      # noqa: BLE001
            res["errors"].append("apply %d: %r" % (n, e))
    lsecs = float(os.environ.get("BENCH_LOCKS_S", 3.0 if quick else 5.0))
    rounds = 2 if quick else 3
    res["params"]["locks_seconds"] = lsecs
    res["params"]["locks_rounds"] = rounds
    res["locks"] = {}
    for balance in ("round_robin", "random"):
        try:
            lk = churn_locks(workdir, 10000, lsecs, balance, rounds)
            res["locks"][balance] = lk
            q, ch = phases(lk["quiet"]), phases(lk["churn"])
            c.log("locks %s: %d changes applied; entry lock waits quiet %d "
                  "(worst <= %s us), churn %d (worst <= %s us); p99 %.2f -> "
                  "%.2f ms" % (balance, lk["changes_applied"],
                               q["entry"]["waits"], q["entry"]["worst_us"],
                               ch["entry"]["waits"], ch["entry"]["worst_us"],
                               q["p99_ms"] or 0, ch["p99_ms"] or 0))
        except Exception as e:      # noqa: BLE001
            res["errors"].append("locks %s: %r" % (balance, e))
    secs = float(os.environ.get("BENCH_STORM_S", 3.0 if quick else 10.0))
    try:
        res["storm"] = storm(workdir, secs)
        s = res["storm"]
        c.log("storm: %d writes (%.0f/s), %d applied, watcher %.3f s CPU = "
              "%.1f us/event -> %.1f%% of a core at 1000 events/s" % (
                  s["writes"], s["write_rate"], s["updates_applied"],
                  s["watcher_cpu_s"], s["watcher_cpu_us_per_event"] or 0,
                  100 * (s["watcher_cpu_share_at_1000_per_s"] or 0)))
    except Exception as e:      # noqa: BLE001
        res["errors"].append("storm: %r" % (e,))
    return res


def table(res):
    out = ["| endpoints | Services | smallest k8s_zone | bytes/endpoint "
           "(zone/N) | marginal bytes/endpoint |",
           "|---|---|---|---|---|"]
    for r in res["zone"]:
        out.append("| %d | %d | %s | %s | %s |" % (
            r["endpoints"], r["services"],
            "%.0f KB" % (r["min_zone_bytes"] / 1024.0)
            if r["min_zone_bytes"] else "not found",
            "%.0f" % r["bytes_per_endpoint"] if r["bytes_per_endpoint"]
            else "-",
            "%.0f" % r["marginal_bytes_per_endpoint"]
            if r.get("marginal_bytes_per_endpoint") is not None else "-"))
    nn = res.get("zone_no_names")
    if nn and nn["min_zone_bytes"]:
        out.append("| %d, without pod/node/zone names | %d | %.0f KB | %.0f "
                   "| - |" % (nn["endpoints"], nn["endpoints"] // 100,
                              nn["min_zone_bytes"] / 1024.0,
                              nn["bytes_per_endpoint"]))
    s = res.get("storm")
    if s:
        out += ["", "| writes | writes/s achieved | events applied "
                "| watcher CPU s | CPU us/event | CPU share at 1,000 events/s "
                "| stand-in API CPU s |",
                "|---|---|---|---|---|---|---|",
                "| %d | %.0f | %d | %.3f | %s | %s | %.2f |" % (
                    s["writes"], s["write_rate"], s["updates_applied"],
                    s["watcher_cpu_s"],
                    "%.1f" % s["watcher_cpu_us_per_event"]
                    if s["watcher_cpu_us_per_event"] else "-",
                    "%.1f%% of a core" % (
                        100 * s["watcher_cpu_share_at_1000_per_s"])
                    if s["watcher_cpu_share_at_1000_per_s"] else "-",
                    s["api_server_cpu_s"])]
    out += apply_table(res) + locks_table(res)
    return out


def apply_table(res):
    rows = res.get("apply") or []
    if not rows:
        return []
    out = ["", "| endpoints | first fill (us) | one endpoint changed: median "
           "(us) | worst (us) | changes |", "|---|---|---|---|---|"]
    for r in rows:
        out.append("| %d | %d | %.0f | %.0f | %d |" % (
            r["endpoints"], r["first_fill_us"], r["change_us"]["median"],
            r["change_us"]["max"], r["changes"]))
    return out


def locks_table(res):
    locks = res.get("locks") or {}
    if not locks or "endpoints" in locks:
        return []
    out = []

    def row(name, w):
        return "| %s | %.0f | %.2f | %.2f | %s | %.2f | %.2f | %d | %s | " \
            "%d | %s |" % (
                name, w["rps"] or 0, w["p50_ms"] or 0, w["p99_ms"] or 0,
                "%.1f" % w["cpu_us_per_req"] if w["cpu_us_per_req"] else "-",
                w["writer_cpu_s"], w["others_cpu_s"], w["entry"]["waits"],
                w["entry"]["worst_us"] or "-", w["mutex"]["waits"],
                w["mutex"]["worst_us"] or "-")
    for balance, lk in locks.items():
        out += ["", "balance=%s: %d endpoints in one Service, 2 workers, %d "
                "rounds of %.0f s per phase; %d changes applied (one endpoint "
                "every %d ms), the last in %d us" % (
                    balance, lk["endpoints"], lk["rounds"], lk["seconds"],
                    lk["changes_applied"], lk["step_ms"],
                    lk["apply_last_us"]), "",
                "| phase | req/s (median) | p50 ms | p99 ms | workers' CPU "
                "us/request | worker 0 (writer) CPU s | worker 1 CPU s "
                "| entry lock waits | worst entry wait (us, bucket) "
                "| mutex waits | worst mutex wait (us, bucket) |",
                "|---|---|---|---|---|---|---|---|---|---|---|",
                row("no changes", phases(lk["quiet"])),
                row("one endpoint per %d ms" % lk["step_ms"],
                    phases(lk["churn"]))]
    return out

if __name__ == "__main__":
    import tempfile
    with tempfile.TemporaryDirectory(prefix="kubengx-bench-") as d:
        r = run(d, True)
        print("\n".join(table(r)))
        print(r["errors"])
