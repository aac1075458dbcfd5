"""Scenario 1: proxy throughput and latency.

Several fronts, each one nginx worker with the same server block and 4
endpoints (one backend nginx answering `return 200` on 127.0.0.2-5), upstream
keepalive, differing only in how the upstream picks its peer:

  static     a plain `upstream { server ...; keepalive; }` (the limit)
  k8s_rr     `k8s_service default/web port=http` (round robin), endpoints
             from the stand-in API through the module's watcher
  k8s_rr_metrics  the same with the per-request metrics on
             (`k8s_metrics_route` in the location: ingress-nginx's
             request counter and histograms, in shared memory)
  k8s_disp   `k8s_dispatch` + `k8s_backend` (the at-scale form)
  k8s_canary k8s_rr plus `k8s_canary`: the canary Ingress (weight 20) in
             the stand-in API, the canary Service on a fifth endpoint; a
             header, a cookie and a weight draw per request
  k8s_affinity  k8s_rr plus `k8s_affinity cookie mode=balanced`, every
             request carrying the session cookie a first request got
             (a returning session: rendezvous over the 4 endpoints, no
             Set-Cookie)
  lua        the ingress-nginx-style Lua peer (lua_peer.lua): JSON blob in
             a lua_shared_dict, per-worker decode on change seen by a 1 s
             timer, round robin in balancer_by_lua
  lua_reqcheck  the same, checking the blob's generation on every request

All fronts run at once (idle ones cost nothing) and wrk visits them in
alternating rounds (A B C D, B C D A, ...), so the ratios compare runs that
were seconds apart.  Per round, each variant's front CPU per request, req/s
and p99 are divided by the static run of the same round; the reported
ratio is the median over rounds.

Then (not in BENCH_QUICK unless BENCH_BALANCERS=1) every `balance=` method
the module accepts (probed with nginx -t) against the static round robin
upstream and against stock nginx's same method on a static upstream.

And the canary's weight switched between 0 and 100 on the Ingress in the
stand-in API (a PUT) N times: the time from just before the write to the
first request answered by the other side (the watch event, the zone
write, a worker's copy), with the worker pids checked unchanged."""

import os
import time
import urllib.request

import common as c
import harness
from bench_lag import Poller


CANARY = "k8s_canary default/web-canary default/web-v2 port=http; "
AFFINITY = "k8s_affinity cookie name=route mode=balanced; "

# per front: request headers for wrk (filled when the fronts are up)
FRONT_HEADERS = {}


ANN = "nginx.ingress.kubernetes.io/"
CANARY_PATH = ("/apis/networking.k8s.io/v1/namespaces/%s/ingresses/"
               "web-canary" % c.NS)


def add_canary(api, hps):
    """The canary Service web-v2 on hps, and the canary Ingress: weight
    20, by header and cookie too (never sent by wrk)."""
    api.create(c.service(name="web-v2",
                         target=int(hps[0].rpartition(":")[2])))
    api.create(c.endpoint_slice(hps, name="web-v2-1", svc="web-v2"))
    api.create({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "web-canary", "namespace": c.NS,
                     "annotations": {ANN + "canary": "true",
                                     ANN + "canary-weight": "20",
                                     ANN + "canary-by-header": "X-Canary",
                                     ANN + "canary-by-cookie": "canary"}},
        "spec": {"rules": [{"host": "web.example.com", "http": {"paths": [
            {"path": "/", "pathType": "Prefix", "backend": {"service": {
                "name": "web-v2", "port": {"name": "http"}}}}]}}]}})


def set_weight(api, weight):
    ing = api.get(CANARY_PATH)
    ing["metadata"]["annotations"][ANN + "canary-weight"] = str(weight)
    del ing["metadata"]["resourceVersion"]
    api.replace(ing)


def canary_lag(front, api, canary_addr, count):
    """Weight 0 <-> 100, count times: ms from before the write to the
    first answer from the other side."""
    pids = front.worker_pids()
    poller = Poller(front.ports[0])
    lags, missed = [], 0
    set_weight(api, 0)
    harness.wait_for(lambda: poller.backend() != canary_addr, 5,
                     "canary off")
    for i in range(count):
        on = i % 2 == 0
        t0 = time.perf_counter()
        set_weight(api, 100 if on else 0)
        lag = None
        while time.perf_counter() - t0 < 3.0:
            if (poller.backend() == canary_addr) == on:
                lag = (time.perf_counter() - t0) * 1000.0
                break
        if lag is None:
            missed += 1
        else:
            lags.append(lag)
        time.sleep(0.05)
    poller.close()
    set_weight(api, 20)
    return {"changes": count, "missed": missed, "lags_ms": lags,
            "p50_ms": c.percentile(lags, 50), "p99_ms": c.percentile(lags, 99),
            "max_ms": max(lags) if lags else None,
            "same_workers": front.worker_pids() == pids}


def session_cookie(front):
    """A returning session's Cookie header for the affinity front."""
    r = front.get("/")
    sc = r.headers.get("set-cookie", "")
    return ["Cookie: " + sc.split(";")[0]] if sc else []


def variants_available():
    have = {"static": True}
    have["k8s"] = os.path.exists(c.MODULE)
    have["lua"] = os.path.exists(os.path.join(c.LUA_MODULES_DIR,
                                              "ngx_http_lua_module.so"))
    return have


# k8s_service balance= methods: the options tried (first accepted by
# nginx -t wins) and stock nginx's counterpart for a static upstream.
BALANCERS = [
    ("least_conn", ["balance=least_conn"], "least_conn;"),
    ("random", ["balance=random"], "random;"),
    ("random_two", ["balance=random_two"], "random two least_conn;"),
    ("ewma", ["balance=ewma"], None),
    ("hash", ["balance=hash hash=$request_uri", "hash=$request_uri"],
     "hash $request_uri;"),
    ("consistent_hash", ["balance=consistent_hash hash=$request_uri",
                         "balance=hash hash=$request_uri consistent"],
     "hash $request_uri consistent;"),
]


def detect_balancers(workdir, api_url):
    """[(name, k8s options, static method)] the module accepts."""
    found = []
    for name, options, static in BALANCERS:
        for opt in options:
            n = c.front(workdir, "probe-%s" % name,
                        c.k8s_http(harness.free_port(), api_url,
                                   balance=opt), [], "k8s")
            if n.test_config().returncode == 0:
                found.append((name, opt, static))
                break
    return found


def alternate(fronts, names, rounds, duration, conns, label):
    """wrk over the fronts in rotating order; runs[name] = [record/round]."""
    runs = {n: [] for n in names}
    for n in names:             # warm-up (connections, JIT, caches)
        c.run_wrk("http://127.0.0.1:%d/" % fronts[n].ports[0], 1.0, conns)
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            w = c.measured_wrk(fronts[n], "http://127.0.0.1:%d/"
                               % fronts[n].ports[0], duration, conns,
                               headers=FRONT_HEADERS.get(n, ()))
            w["round"] = r
            w.pop("raw", None)
            runs[n].append(w)
            c.log("%s round %d %-16s %8.0f req/s %6.2f us/req "
                  "p99 %.2f ms failed %d" % (
                      label, r, n, w["rps"] or 0, w["cpu_us_per_req"] or 0,
                      w["p99_ms"] or 0, w["failed"]))
    return runs


def summarize(runs, refs):
    """refs: name -> [reference names] for the ratios (same round)."""
    out = {}
    for n, rs in runs.items():
        v = {"runs": rs}
        for key in ("rps", "cpu_us_per_req", "p50_ms", "p75_ms",
                    "p90_ms", "p99_ms"):
            v[key] = c.summary([w[key] for w in rs])
        v["failed"] = sum(w["failed"] for w in rs)
        v["requests"] = sum(w["requests"] for w in rs)
        for ref in refs.get(n, []):
            suffix = "" if ref == "static" else "_vs_" + ref
            for key in ("rps", "cpu_us_per_req", "p99_ms"):
                ratios = [w[key] / s[key] for w, s in zip(rs, runs[ref])
                          if w[key] and s[key]]
                v["ratio_" + key + suffix] = c.summary(ratios)
        out[n] = v
    return out


def metrics_check(front, runs, res):
    """The metrics front counted what wrk completed (and the warm-up and
    check requests): requests counted >= requests measured."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics"
                                % front.ports[0], timeout=10) as r:
        text = r.read().decode()
    counted = sum(float(line.rpartition(" ")[2]) for line in text.splitlines()
                  if line.startswith("nginx_ingress_controller_requests{"))
    measured = sum(w["requests"] for w in runs)
    if counted < measured:
        res["errors"].append("k8s_rr_metrics counted %d requests, wrk "
                             "completed %d" % (counted, measured))
    return {"counted": counted, "wrk_requests": measured}


def start_fronts(fronts, res):
    for name, f in list(fronts.items()):
        try:
            f.start(cpus="0")
        except Exception as e:  # noqa: BLE001 - report and go on
            res["errors"].append("%s: did not start: %s" % (name, e))
            del fronts[name]


def check_spread(fronts, names, res):
    """Every front answers 200 from all 4 endpoints (hash: from one)."""
    for name in names:
        seen = set()
        for i in range(8):
            r = fronts[name].get("/?i=%d" % i if "hash" in name else "/")
            seen.add(r.headers.get("x-backend") if r.status == 200
                     else "status %d" % r.status)
        if len(seen) != 4 and not (("hash" in name or "random" in name
                                    or "affinity" in name
                                    or "canary" in name)
                                   and len(seen) > 1
                                   and not any("status" in str(x)
                                               for x in seen)):
            res["errors"].append("%s: answered from %s" % (name, seen))


def run(workdir, quick):
    duration = 2.0 if quick else 8.0
    rounds = 5 if quick else 7
    duration = float(os.environ.get("BENCH_PROXY_S", duration))
    rounds = int(os.environ.get("BENCH_PROXY_ROUNDS", rounds))
    # the balancer comparison: shorter, fewer rounds; not in BENCH_QUICK
    # unless BENCH_BALANCERS=1
    bal_on = os.environ.get("BENCH_BALANCERS", "0" if quick else "1") != "0"
    bal_duration = min(duration, 4.0)
    bal_rounds = min(rounds, 3)
    conns = 16
    have = variants_available()
    bk = api = None
    fronts = {}
    res = {"params": {"duration_s": duration, "rounds": rounds,
                      "connections": conns, "wrk_threads": 1,
                      "front_workers": 1, "endpoints": 4,
                      "upstream_keepalive": 32,
                      "lua_sync": "timer 1 s (lua), every request "
                      "(lua_reqcheck)"}, "variants": {},
           "balancers": {}, "errors": []}
    try:
        # 127.0.0.2-5 the Service's endpoints, 127.0.0.6 the canary's
        bk = c.Backends(workdir, ["127.0.0.%d" % i for i in range(2, 7)])
        bk.start()
        hps, canary_hps = bk.hostports()[:4], bk.hostports()[4:]
        port = harness.free_port()
        fronts["static"] = c.front(workdir, "static",
                                   c.static_http(port, hps), [port], "static")
        if have["k8s"]:
            api = c.start_api(workdir, hps)
            p2, p3 = harness.free_port(), harness.free_port()
            fronts["k8s_rr"] = c.front(workdir, "k8s_rr",
                                       c.k8s_http(p2, api.url), [p2], "k8s")
            p5 = harness.free_port()
            fronts["k8s_rr_metrics"] = c.front(
                workdir, "k8s_rr_metrics",
                c.k8s_http(p5, api.url, metrics=True), [p5], "k8s")
            fronts["k8s_disp"] = c.front(
                workdir, "k8s_disp", c.k8s_http(p3, api.url, dispatch=True),
                [p3], "k8s")
            add_canary(api, canary_hps)
            for name, extra in (("k8s_canary", CANARY),
                                ("k8s_affinity", AFFINITY)):
                p6 = harness.free_port()
                fronts[name] = c.front(
                    workdir, name, c.k8s_http(p6, api.url, loc_extra=extra),
                    [p6], "k8s")
        lua_ctrl = {}
        if have["lua"]:
            for name, per_req in (("lua", False), ("lua_reqcheck", True)):
                p4, ctrl = harness.free_port(), harness.free_port()
                fronts[name] = c.front(workdir, name,
                                       c.lua_http(p4, ctrl,
                                                  per_request=per_req),
                                       [p4, ctrl], "lua")
                lua_ctrl[name] = ctrl
        start_fronts(fronts, res)
        for n in ("k8s_rr", "k8s_rr_metrics", "k8s_disp", "k8s_canary",
                  "k8s_affinity"):
            if n in fronts:
                c.wait_k8s_ready(fronts[n].ports[0], 4)
        if "k8s_affinity" in fronts:
            FRONT_HEADERS["k8s_affinity"] = session_cookie(
                fronts["k8s_affinity"])
        for n in lua_ctrl:
            if n in fronts:
                c.lua_post(lua_ctrl[n], hps)
                harness.wait_for(lambda: fronts[n].get("/").status == 200,
                                 5, "lua peer to route")
        names = list(fronts)
        check_spread(fronts, names, res)
        runs = alternate(fronts, names, rounds, duration, conns, "proxy")
        res["variants"] = summarize(
            runs, {n: ["static"] for n in names if n != "static"})
        if "k8s_rr_metrics" in fronts:
            res["metrics_check"] = metrics_check(
                fronts["k8s_rr_metrics"], runs["k8s_rr_metrics"], res)
        if "k8s_canary" in fronts:
            res["canary_lag"] = canary_lag(
                fronts["k8s_canary"], api, bk.addrs[4], 20 if quick else 60)
            c.log("canary weight change -> routed: p50 %.1f ms p99 %.1f ms "
                  "max %.1f ms, missed %d, same workers %s" % (
                      res["canary_lag"]["p50_ms"] or -1,
                      res["canary_lag"]["p99_ms"] or -1,
                      res["canary_lag"]["max_ms"] or -1,
                      res["canary_lag"]["missed"],
                      res["canary_lag"]["same_workers"]))

        if have["k8s"] and bal_on:
            found = detect_balancers(workdir, api.url)
            res["params"]["balancers_found"] = [f[0] for f in found]
            res["params"]["balancers_duration_s"] = bal_duration
            res["params"]["balancers_rounds"] = bal_rounds
            bnames = ["static", "k8s_rr"]
            refs = {"k8s_rr": ["static"]}
            for name, opt, static in found:
                p = harness.free_port()
                fronts["k8s_" + name] = c.front(
                    workdir, "k8s_" + name,
                    c.k8s_http(p, api.url, balance=opt), [p], "k8s")
                refs["k8s_" + name] = ["static"]
                if static:
                    p = harness.free_port()
                    fronts["static_" + name] = c.front(
                        workdir, "static_" + name,
                        c.static_http(p, hps, method=static), [p], "static")
                    refs["k8s_" + name].append("static_" + name)
                    refs["static_" + name] = ["static"]
                    bnames.append("static_" + name)
                bnames.append("k8s_" + name)
            start_fronts({k: fronts[k] for k in bnames
                          if k not in ("static", "k8s_rr")}, res)
            bnames = [b for b in bnames if b in fronts]
            for b in bnames:
                if b.startswith("k8s_"):
                    c.wait_k8s_ready(fronts[b].ports[0], 4)
            check_spread(fronts, bnames, res)
            bruns = alternate(fronts, bnames, bal_rounds, bal_duration, conns,
                              "balancers")
            res["balancers"] = summarize(bruns, refs)
        elif not bal_on:
            res["params"]["balancers"] = "skipped (BENCH_QUICK; " \
                "BENCH_BALANCERS=1 runs them)"
    finally:
        c.stop_all(*fronts.values())
        c.stop_all(api, bk)
    return res


def _ratio(v, key, n, suffix=""):
    r = v.get("ratio_" + key + suffix)
    if not r or r["median"] is None:
        return "1 (limit)" if n == "static" and not suffix else "-"
    return "%.3f (%.3f-%.3f)" % (r["median"], r["min"], r["max"])


def _f(v, key, fmt):
    m = v[key]["median"]
    return fmt % m if m is not None else "-"


def table(res):
    """Markdown table lines for the report."""
    out = ["| front | req/s (median) | front CPU us/req | p50 ms | p99 ms "
           "| CPU/req vs static | req/s vs static | p99 vs static "
           "| failed |",
           "|---|---|---|---|---|---|---|---|---|"]
    for n, v in res["variants"].items():
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %d |" % (
            n, _f(v, "rps", "%.0f"), _f(v, "cpu_us_per_req", "%.2f"),
            _f(v, "p50_ms", "%.3f"), _f(v, "p99_ms", "%.3f"),
            _ratio(v, "cpu_us_per_req", n), _ratio(v, "rps", n),
            _ratio(v, "p99_ms", n), v["failed"]))
    b = res.get("balancers") or {}
    if b:
        out += ["", "Balancers (`k8s_service balance=...`; shorter runs: "
                "%s s x %s rounds), each against the static round robin "
                "upstream and against stock nginx's same method on a static "
                "upstream where one exists (wrk always requests `/`, so "
                "`hash` sends everything to one endpoint):" % (
                    res["params"].get("balancers_duration_s"),
                    res["params"].get("balancers_rounds")), "",
                "| front | req/s | front CPU us/req | p99 ms "
                "| CPU/req vs static rr | CPU/req vs static same method "
                "| failed |", "|---|---|---|---|---|---|---|"]
        for n, v in b.items():
            ref = [k for k in v if k.startswith("ratio_cpu_us_per_req_vs_")]
            out.append("| %s | %s | %s | %s | %s | %s | %d |" % (
                n, _f(v, "rps", "%.0f"), _f(v, "cpu_us_per_req", "%.2f"),
                _f(v, "p99_ms", "%.3f"), _ratio(v, "cpu_us_per_req", n),
                _ratio(v, "cpu_us_per_req", n, ref[0][len(
                    "ratio_cpu_us_per_req"):]) if ref else "-",
                v["failed"]))
    return out


def plot(res, plt, path):
    names = list(res["variants"])
    if not names:
        return False
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    qs = ["p50_ms", "p75_ms", "p90_ms", "p99_ms"]
    for n in names:
        v = res["variants"][n]
        a1.plot([50, 75, 90, 99], [v[q]["median"] or 0 for q in qs],
                marker="o", label=n)
    a1.set_xlabel("percentile")
    a1.set_ylabel("latency ms (median over runs)")
    a1.set_title("latency distribution (wrk --latency)")
    a1.legend()
    data = [[w["cpu_us_per_req"] for w in res["variants"][n]["runs"]
             if w["cpu_us_per_req"]] for n in names]
    a2.boxplot(data, labels=names)
    a2.set_ylabel("front worker CPU us / request")
    a2.set_title("front CPU per request, all runs")
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
