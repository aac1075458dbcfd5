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
cannot produce 1,000 events/s, the achieved rate is reported."""

import http.client
import json
import os
import threading
import time

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
                   "items": [slice_obj(s, True) for s in range(services)]}, f)
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
    return out


if __name__ == "__main__":
    import tempfile
    with tempfile.TemporaryDirectory(prefix="kubengx-bench-") as d:
        r = run(d, True)
        print("\n".join(table(r)))
        print(r["errors"])
