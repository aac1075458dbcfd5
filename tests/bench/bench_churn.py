"""Scenario 2: endpoint churn under load.

While wrk runs (16 connections, keepalive) against one front (1 worker),
the endpoints of its one Service change:

  rolling   a rolling update with maxSurge 1: each step starts a new pod
            (a 1-worker nginx on its own 127.0.1.x address), adds it to the
            endpoints, removes the oldest one, and terminates that pod at
            once (SIGTERM: nginx's fast shutdown, like a pod without a
            preStop hook); every `step` seconds
  flapping  one of the 4 endpoints turns not-ready / ready every 100 ms
            (its pod stays up)

and the change reaches the front through:

  kubengx   the stand-in API: the EndpointSlice is replaced (PUT); the
            module's watcher applies it to the shm table; no reload
  reload    render a static `upstream` (include file) and SIGHUP the master
            (`nginx -s reload`) on every change: the F5 NIC OSS way
  lua       POST the whole backends JSON to the Lua peer
            (/configuration/backends, as ingress-nginx's controller does);
            workers pick it up by a 1 s poll (ingress-nginx's timer)

Reported per run: requests, failed (non-2xx + socket errors, split),
p50/p99, the number of changes made, reloads done (for kubengx: whether the
worker pid stayed the same), and the peak number of front worker processes
(old generations waiting on their connections after reloads)."""

import os
import threading
import time

import common as c
import harness

POOL = ["127.0.1.%d" % i for i in range(1, 9)]
CONNS = 16

POD_HTTP = """
    access_log off;
    keepalive_requests 1000000;
    server {
        listen %s:%d;
        location / { add_header X-Backend $server_addr always;
                     return 200 "ok\\n"; }
    }
"""


class Pods:
    """One 1-worker nginx per pod address (all on one port)."""

    def __init__(self, workdir, port):
        self.port = port
        self.pods = {}
        for a in POOL:
            self.pods[a] = c.Nginx(os.path.join(workdir, "pod-%s" % a),
                                   http=POD_HTTP % (a, port), ports=[],
                                   module=False, workers=1,
                                   log_level="error")
        self.running = set()

    def hp(self, a):
        return "%s:%d" % (a, self.port)

    def start(self, a):
        if a in self.running:
            return
        self.pods[a].start(cpus="1")
        harness.wait_for(lambda: harness.port_open(a, self.port), 5,
                         "pod %s" % a)
        self.running.add(a)

    def kill(self, a):
        """SIGTERM: nginx's fast shutdown (connections closed at once)."""
        p = self.pods[a]
        if a in self.running:
            harness.stop_process(p.proc, sig=15, timeout=5)
            p.proc.stderr.close()
            self.running.discard(a)

    def reset(self, want):
        for a in list(self.running):
            if a not in want:
                self.kill(a)
        for a in want:
            self.start(a)

    def stop(self):
        for a in list(self.running):
            self.kill(a)


# --- the three ways a change reaches the front -------------------------------

class Kubengx:
    name = "kubengx"

    def __init__(self, workdir, pods, initial):
        self.pods = pods
        self.api = c.start_api(workdir, [pods.hp(a) for a in initial])
        self.port = harness.free_port()
        self.front = c.front(workdir, "churn-kubengx",
                             c.k8s_http(self.port, self.api.url),
                             [self.port], "k8s")
        self.front.start(cpus="0")
        self.reloads = 0

    def apply(self, eps):
        """eps: list of (addr, ready)."""
        hps = [self.pods.hp(a) for a, _ in eps]
        c.put_endpoints(self.api, hps,
                        ready={self.pods.hp(a): r for a, r in eps})

    def settle(self, eps):
        self.apply(eps)
        c.wait_k8s_ready(self.port, sum(1 for _, r in eps if r))

    def stop(self):
        c.stop_all(self.front, self.api)


class Reload:
    name = "reload"

    def __init__(self, workdir, pods, initial):
        self.pods = pods
        self.port = harness.free_port()
        self.inc = os.path.join(workdir, "churn-reload-upstream.conf")
        self._write([(a, True) for a in initial])
        http = ("    include %s;\n" % self.inc +
                c.FRONT_SERVER % {"port": self.port, "locations":
                                  "        location / { proxy_pass "
                                  "http://web; }\n"})
        self.front = c.front(workdir, "churn-reload", http, [self.port],
                             "static")
        self.front.start(cpus="0")
        self.reloads = 0

    def _write(self, eps):
        servers = "".join("        server %s;\n" % self.pods.hp(a)
                          for a, r in eps if r)
        tmp = self.inc + ".tmp"
        with open(tmp, "w") as f:
            f.write("    upstream web {\n%s        keepalive 32;\n    }\n"
                    % servers)
        os.replace(tmp, self.inc)

    def apply(self, eps):
        self._write(eps)
        self.front.hup()
        self.reloads += 1

    def settle(self, eps):
        self._write(eps)
        self.front.reload(timeout=20)

    def stop(self):
        c.stop_all(self.front)


class Lua:
    name = "lua"

    def __init__(self, workdir, pods, initial):
        self.pods = pods
        self.port = harness.free_port()
        self.ctrl = harness.free_port()
        self.front = c.front(workdir, "churn-lua",
                             c.lua_http(self.port, self.ctrl, poll=1.0),
                             [self.port, self.ctrl], "lua")
        self.front.start(cpus="0")
        self.reloads = 0

    def apply(self, eps):
        c.lua_post(self.ctrl, [self.pods.hp(a) for a, r in eps if r])

    def settle(self, eps):
        self.apply(eps)
        time.sleep(1.2)         # one poll period

    def stop(self):
        c.stop_all(self.front)


def count_workers(front):
    return len(front.worker_pids())


def churn_run(mech, pods, pattern, duration, step):
    """One wrk run with churn; returns the record."""
    base = POOL[:4]
    pods.reset(base)
    mech.settle([(a, True) for a in base])
    time.sleep(0.3)
    pids_before = mech.front.worker_pids()
    reloads_before = mech.reloads
    url = "http://127.0.0.1:%d/" % mech.port
    w = c.start_wrk(url, duration, CONNS)
    t0 = time.monotonic()
    changes = 0
    peak_workers = [count_workers(mech.front)]
    stop = threading.Event()

    def watch_workers():
        while not stop.is_set() and time.monotonic() - t0 < duration + 30:
            peak_workers.append(count_workers(mech.front))
            stop.wait(0.1)
    th = threading.Thread(target=watch_workers, daemon=True)
    th.start()
    errors = []
    try:
        time.sleep(0.5)
        end = t0 + duration - 0.5
        live = list(base)
        ready = True
        if pattern == "rolling":
            nxt = 4
            for _ in range(1000):
                if time.monotonic() >= end:
                    break
                t_step = time.monotonic()
                new = POOL[nxt % len(POOL)]
                nxt += 1
                pods.start(new)
                mech.apply([(a, True) for a in live + [new]])
                changes += 1
                time.sleep(step / 2)
                old = live.pop(0)
                live.append(new)
                mech.apply([(a, True) for a in live])
                changes += 1
                pods.kill(old)
                left = step - (time.monotonic() - t_step)
                if left > 0:
                    time.sleep(left)
        else:
            for _ in range(1000):
                t_step = time.monotonic()
                if t_step >= end:
                    break
                ready = not ready
                mech.apply([(a, True) for a in base[:3]] +
                           [(base[3], ready)])
                changes += 1
                left = 0.1 - (time.monotonic() - t_step)
                if left > 0:
                    time.sleep(left)
    except Exception as e:      # noqa: BLE001 - keep wrk's result
        errors.append(repr(e))
    r = c.finish_wrk(w, duration)
    stop.set()
    # after the run: which pods answer (the last change has arrived?)
    if mech.name == "lua":
        time.sleep(1.1)
    seen = set()
    for _ in range(12):
        try:
            resp = mech.front.get("/", timeout=2)
            seen.add(resp.headers.get("x-backend") if resp.status == 200
                     else "status %d" % resp.status)
        except Exception as e:  # noqa: BLE001
            seen.add(repr(e)[:40])
    r["answered_after"] = sorted(seen)
    r["expected_after"] = sorted(
        live if pattern == "rolling" else
        (base if ready else base[:3])) if not errors else None
    th.join(5)
    r.pop("raw", None)
    pids_after = mech.front.worker_pids()
    if r["expected_after"] is not None and \
            r["answered_after"] != r["expected_after"]:
        errors.append("after the run answered %s, expected %s" % (
            r["answered_after"], r["expected_after"]))
    r.update({"mechanism": mech.name, "pattern": pattern,
              "changes": changes, "reloads": mech.reloads - reloads_before,
              "worker_pid_unchanged": pids_before == pids_after,
              "peak_worker_processes": max(peak_workers),
              "errors": errors})
    return r


def run(workdir, quick):
    duration = 5.0 if quick else 12.0
    reps = 1 if quick else 2
    duration = float(os.environ.get("BENCH_CHURN_S", duration))
    step = 0.5
    res = {"params": {"duration_s": duration, "repetitions": reps,
                      "connections": CONNS, "front_workers": 1,
                      "rolling_step_s": step, "flap_period_s": 0.1,
                      "lua_poll_s": 1.0, "endpoints": 4,
                      "pod_termination": "SIGTERM right after removal"},
           "runs": [], "errors": []}
    pods = Pods(workdir, harness.free_port())
    mechs = []
    try:
        pods.reset(POOL[:4])
        for cls in (Kubengx, Reload, Lua):
            if cls is Kubengx and not os.path.exists(c.MODULE):
                continue
            try:
                mechs.append(cls(workdir, pods, POOL[:4]))
            except Exception as e:  # noqa: BLE001
                res["errors"].append("%s: %r" % (cls.name, e))
        for rep in range(reps):
            for pattern in ("rolling", "flapping"):
                order = mechs if rep % 2 == 0 else mechs[::-1]
                for m in order:
                    r = churn_run(m, pods, pattern, duration, step)
                    r["rep"] = rep
                    res["runs"].append(r)
                    res["errors"] += ["%s %s: %s" % (m.name, pattern, e)
                                      for e in r["errors"]]
                    c.log("churn %-8s %-8s %7d req, failed %4d (non2xx %d,"
                          " sock %d), p99 %.2f ms, changes %d, reloads %d"
                          % (m.name, pattern, r["requests"], r["failed"],
                             r["non2xx"], r["socket_errors"],
                             r["p99_ms"] or 0, r["changes"], r["reloads"]))
    finally:
        c.stop_all(*mechs)
        pods.stop()
    return res


def aggregate(res):
    """(pattern, mechanism) -> summed/median figures."""
    agg = {}
    for r in res["runs"]:
        k = (r["pattern"], r["mechanism"])
        a = agg.setdefault(k, {"requests": 0, "failed": 0, "non2xx": 0,
                               "socket_errors": 0, "changes": 0,
                               "reloads": 0, "p99": [], "p50": [], "rps": [],
                               "pid_unchanged": True, "peak_workers": 0})
        for key in ("requests", "failed", "non2xx", "socket_errors",
                    "changes", "reloads"):
            a[key] += r[key]
        a["p99"].append(r["p99_ms"])
        a["p50"].append(r["p50_ms"])
        a["rps"].append(r["rps"])
        a["pid_unchanged"] &= r["worker_pid_unchanged"]
        a["peak_workers"] = max(a["peak_workers"], r["peak_worker_processes"])
    return agg


def table(res):
    out = ["| pattern | mechanism | requests | failed (non-2xx + socket) "
           "| p50 ms | p99 ms | req/s | changes | reloads "
           "| peak front workers |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for (pattern, mech), a in aggregate(res).items():
        out.append("| %s | %s | %d | %d (%d + %d) | %.2f | %.2f | %.0f | %d "
                   "| %d%s | %d |" % (
                       pattern, mech, a["requests"], a["failed"],
                       a["non2xx"], a["socket_errors"],
                       c.summary(a["p50"])["median"] or 0,
                       c.summary(a["p99"])["median"] or 0,
                       c.summary(a["rps"])["median"] or 0,
                       a["changes"], a["reloads"],
                       " (worker pid kept)" if mech == "kubengx" and
                       a["pid_unchanged"] else "", a["peak_workers"]))
    return out


def plot(res, plt, path):
    agg = aggregate(res)
    if not agg:
        return False
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    keys = list(agg)
    labels = ["%s\n%s" % (m, p) for p, m in keys]
    a1.bar(range(len(keys)), [agg[k]["failed"] for k in keys])
    a1.set_xticks(range(len(keys)))
    a1.set_xticklabels(labels, fontsize=8)
    a1.set_ylabel("failed requests (non-2xx + socket errors)")
    a1.set_title("endpoint churn under load: failures")
    a2.bar(range(len(keys)), [c.summary(agg[k]["p99"])["median"] or 0
                              for k in keys])
    a2.set_xticks(range(len(keys)))
    a2.set_xticklabels(labels, fontsize=8)
    a2.set_ylabel("p99 latency ms")
    a2.set_title("endpoint churn under load: p99")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


if __name__ == "__main__":
    import tempfile
    with tempfile.TemporaryDirectory(prefix="kubengx-bench-") as d:
        r = run(d, True)
        print("\n".join(table(r)))
        print(r["errors"])
