"""Scenario 3: propagation lag.

The Service has one endpoint at a time, alternating between two backends
(127.0.0.2 and 127.0.0.3, always up).  For each change: note the time,
make the change, then request the front in a tight loop on one keepalive
connection (reconnecting when the front closes it) until the new backend
answers (its X-Backend header).  Lag = first answer from the new endpoint
minus the time just before the change was written.

  kubengx   PUT of the EndpointSlice to the stand-in API -> watch event ->
            the module's table (the API server's own time is included)
  reload    rewrite the static upstream, SIGHUP (nginx -s reload)
  lua       POST of the backends JSON; the workers' 1 s poll picks it up

For kubengx the module's own histogram (watch event received -> applied,
k8s_status "lag.receive") is read before and after and reported beside it.
Changes are spaced 100-150 ms apart; each waits at most 3 s."""

import http.client
import os
import random
import time

import common as c
import harness

MAX_WAIT = 3.0


class Poller:
    def __init__(self, port):
        self.port = port
        self.conn = None
        self.requests = 0

    def backend(self):
        for _ in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1",
                                                           self.port,
                                                           timeout=2)
                self.conn.request("GET", "/")
                r = self.conn.getresponse()
                r.read()
                self.requests += 1
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.getheader("X-Backend") if r.status == 200 else None
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
        return None

    def wait_for(self, addr, t0):
        deadline = t0 + MAX_WAIT
        while time.perf_counter() < deadline:
            if self.backend() == addr:
                return time.perf_counter() - t0
        return None

    def close(self):
        if self.conn is not None:
            self.conn.close()


def hist_delta(before, after):
    b = before["buckets"]
    a = after["buckets"]
    return {k: a[k] - b.get(k, 0) for k in a}, \
        after["count"] - before["count"], after["sum_ms"] - before["sum_ms"]


def hist_quantile(buckets, q):
    """Upper bound (ms) of the bucket holding quantile q (0..1)."""
    items = sorted(((float("inf") if k == "+Inf" else float(k)), v)
                   for k, v in buckets.items())
    total = sum(v for _, v in items)
    if not total:
        return None
    need = q * total
    cum = 0
    for bound, v in items:
        cum += v
        if cum >= need:
            return bound
    return items[-1][0]


def run(workdir, quick):
    counts = {"kubengx": 30, "reload": 15, "lua": 8} if quick else \
        {"kubengx": 200, "reload": 60, "lua": 30}
    scale = os.environ.get("BENCH_LAG_SCALE")
    if scale:
        counts = {k: max(2, int(v * float(scale))) for k, v in counts.items()}
    res = {"params": {"changes": counts, "max_wait_s": MAX_WAIT,
                      "spacing_s": "0.10-0.15", "front_workers": 1,
                      "lua_poll_s": 1.0}, "mechanisms": {}, "errors": []}
    bk = api = None
    fronts = []
    rnd = random.Random(7)
    try:
        bk = c.Backends(workdir, ["127.0.0.2", "127.0.0.3"])
        bk.start()
        hps = bk.hostports()
        addrs = bk.addrs
        for mech in ("kubengx", "reload", "lua"):
            if mech == "kubengx" and not os.path.exists(c.MODULE):
                continue
            port = harness.free_port()
            hist_before = None
            if mech == "kubengx":
                api = c.start_api(workdir, hps[:1])
                f = c.front(workdir, "lag-kubengx",
                            c.k8s_http(port, api.url), [port], "k8s")
                f.start(cpus="0")
                c.wait_k8s_ready(port, 1)

                def apply(i):
                    c.put_endpoints(api, [hps[i]])
            elif mech == "reload":
                inc = os.path.join(workdir, "lag-upstream.conf")

                def write(i):
                    with open(inc + ".tmp", "w") as fh:
                        fh.write("    upstream web { server %s; "
                                 "keepalive 32; }\n" % hps[i])
                    os.replace(inc + ".tmp", inc)
                write(0)
                f = c.front(workdir, "lag-reload", "    include %s;\n" % inc +
                            c.FRONT_SERVER % {
                                "port": port, "locations":
                                "        location / { proxy_pass "
                                "http://web; }\n"}, [port], "static")
                f.start(cpus="0")

                def apply(i):
                    write(i)
                    f.hup()
            else:
                ctrl = harness.free_port()
                f = c.front(workdir, "lag-lua",
                            c.lua_http(port, ctrl, poll=1.0), [port, ctrl],
                            "lua")
                f.start(cpus="0")
                c.lua_post(ctrl, hps[:1])
                time.sleep(1.2)

                def apply(i):
                    c.lua_post(ctrl, [hps[i]])
            fronts.append(f)
            poller = Poller(port)
            cur = 0
            harness.wait_for(lambda: poller.backend() == addrs[0], 5,
                             "%s to route to the first endpoint" % mech)
            if mech == "kubengx":
                hist_before = c.k8s_status(port)["lag"]["receive"]
            lags = []
            missed = 0
            t_start = time.monotonic()
            for _ in range(counts[mech]):
                if time.monotonic() - t_start > 120:
                    res["errors"].append("%s: stopped after 120 s" % mech)
                    break
                nxt = 1 - cur
                t0 = time.perf_counter()
                apply(nxt)
                lag = poller.wait_for(addrs[nxt], t0)
                if lag is None:
                    missed += 1
                    harness.wait_for(lambda: poller.backend() == addrs[nxt],
                                     10, "%s to converge" % mech)
                else:
                    lags.append(lag * 1000.0)
                cur = nxt
                time.sleep(0.1 + rnd.random() * 0.05)
            m = {"changes": len(lags) + missed, "missed": missed,
                 "lags_ms": lags, "p50_ms": c.percentile(lags, 50),
                 "p99_ms": c.percentile(lags, 99),
                 "max_ms": max(lags) if lags else None,
                 "poll_requests": poller.requests}
            poller.close()
            if hist_before is not None:
                after = c.k8s_status(port)["lag"]["receive"]
                buckets, count, sum_ms = hist_delta(hist_before, after)
                m["module_hist"] = {"count": count, "sum_ms": sum_ms,
                                    "buckets": buckets,
                                    "p50_le_ms": hist_quantile(buckets, .5),
                                    "p99_le_ms": hist_quantile(buckets, .99)}
            res["mechanisms"][mech] = m
            c.log("lag %-8s n=%d p50 %.1f ms p99 %.1f ms max %.1f ms%s" % (
                mech, len(lags), m["p50_ms"] or -1, m["p99_ms"] or -1,
                m["max_ms"] or -1, (" (module histogram: p50 <= %s ms, "
                                    "p99 <= %s ms over %d events)" % (
                                        m["module_hist"]["p50_le_ms"],
                                        m["module_hist"]["p99_le_ms"],
                                        m["module_hist"]["count"]))
                if "module_hist" in m else ""))
            c.stop_all(f)
    finally:
        c.stop_all(*fronts)
        c.stop_all(api, bk)
    return res


def table(res):
    out = ["| mechanism | changes | p50 ms | p99 ms | max ms | missed (> 3 s) "
           "| module's own histogram (receive -> applied) |",
           "|---|---|---|---|---|---|---|"]
    for n, m in res["mechanisms"].items():
        h = m.get("module_hist")
        hs = ("%d events, p50 <= %s ms, p99 <= %s ms, mean %.2f ms" % (
            h["count"], h["p50_le_ms"], h["p99_le_ms"],
            h["sum_ms"] / h["count"] if h["count"] else 0)) if h else "-"
        out.append("| %s | %d | %s | %s | %s | %d | %s |" % (
            n, m["changes"],
            "%.1f" % m["p50_ms"] if m["p50_ms"] is not None else "-",
            "%.1f" % m["p99_ms"] if m["p99_ms"] is not None else "-",
            "%.1f" % m["max_ms"] if m["max_ms"] is not None else "-",
            m["missed"], hs))
    return out


def plot(res, plt, path):
    ms = res["mechanisms"]
    if not ms:
        return False
    fig, ax = plt.subplots(figsize=(7, 4))
    for n, m in ms.items():
        lags = sorted(m["lags_ms"])
        if not lags:
            continue
        ax.plot(lags, [(i + 1) / len(lags) for i in range(len(lags))],
                drawstyle="steps-post", label="%s (n=%d)" % (n, len(lags)))
    ax.set_xscale("log")
    ax.set_xlabel("change written -> first request answered by the new "
                  "endpoint (ms)")
    ax.set_ylabel("fraction of changes")
    ax.set_title("propagation lag (CDF)")
    ax.axvline(50, color="r", ls="--", lw=0.8)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
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
