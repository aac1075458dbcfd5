#!/usr/bin/python3
"""`make bench`: kubengx against the limit and against its peers, side by
side, in one invocation.  Writes tests/bench/results/latest.{md,json} and
PNG plots there, and prints the summary.

Environment:
  KUBENGX_BUILD   build directory with ngx_http_k8s_module.so and kubengx
  BENCH_QUICK=1   a ~2-minute version (shorter and fewer runs)
  BENCH_ONLY=a,b  run only these scenarios (proxy, churn, lag, render, table,
                  reload, stream)
  BENCH_PIN=1     pin the fronts to CPU 0, backends/wrk/API to CPU 1
  BENCH_OUT=DIR   write results to DIR instead of tests/bench/results
  BENCH_KEEP=1    keep the work directory (nginx prefixes, logs, corpora)
  BENCH_MERGE=1   with BENCH_ONLY: replace only those scenarios in the
                  existing latest.json/latest.md, keep the others
`run.py --report` rewrites latest.md and the plots from latest.json.
Finer knobs for development (durations, counts) are read by the scenario
modules: BENCH_PROXY_S, BENCH_PROXY_ROUNDS, BENCH_CHURN_S, BENCH_LAG_SCALE,
BENCH_RENDER_SIZES, BENCH_TABLE_SIZES, BENCH_STORM_S, BENCH_APPLY_SIZES,
BENCH_LOCKS_S, BENCH_STREAM_S, BENCH_STREAM_ROUNDS."""

import json
import os
import shutil
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import common as c  # noqa: E402
import bench_proxy  # noqa: E402
import bench_churn  # noqa: E402
import bench_lag  # noqa: E402
import bench_render  # noqa: E402
import bench_table  # noqa: E402
import bench_reload  # noqa: E402
import bench_stream  # noqa: E402

SCENARIOS = [
    ("proxy", "1. Proxy throughput and latency", bench_proxy),
    ("churn", "2. Endpoint churn under load", bench_churn),
    ("lag", "3. Propagation lag", bench_lag),
    ("render", "4. Generator scaling", bench_render),
    ("table", "5. Table cost", bench_table),
    ("reload", "6. A Service newly named by a reload", bench_reload),
    ("stream", "7. TCP front (stream module)", bench_stream),
]


def preflight():
    missing = []
    if not shutil.which(c.WRK):
        missing.append("wrk")
    if not os.path.exists(c.KUBENGX):
        missing.append(c.KUBENGX)
    if not os.path.exists(c.MODULE):
        missing.append(c.MODULE + " (module scenarios skipped)")
    return missing


# --- targets (README.md "Performance") ----------------------------------------

def targets(results):
    out = []

    def add(name, target, value, ok, note=""):
        out.append({"target": name, "goal": target, "measured": value,
                    "met": ok, "note": note})

    def ratio_target(name, s, limit=1.02):
        """median <= limit: met; missed while the range of the rounds
        reaches below the limit: inconclusive (noise)."""
        m = s.get("median")
        if m is None:
            return
        ok = m <= limit
        if not ok and s["min"] <= limit:
            ok = "inconclusive"
        add(name, "<= %.2f" % limit, "%.3f (rounds %.3f-%.3f)" % (
            m, s["min"], s["max"]), ok)
    p = results.get("proxy", {}).get("variants", {})
    if "k8s_rr" in p:
        r = p["k8s_rr"]["ratio_cpu_us_per_req"]["median"]
        lua = p.get("lua", {}).get("ratio_cpu_us_per_req", {}).get("median")
        ratio_target("front CPU/request through k8s_service vs static "
                     "upstream", p["k8s_rr"]["ratio_cpu_us_per_req"])
        if lua:
            add("k8s_service front CPU/request below the Lua peer",
                "< Lua (%.3f)" % lua, "%.3f" % r if r else "-",
                bool(r and r < lua))
    if "k8s_disp" in p:
        ratio_target("front CPU/request through k8s_dispatch vs static "
                     "upstream", p["k8s_disp"]["ratio_cpu_us_per_req"])
    if "k8s_rr_metrics" in p:
        ratio_target("front CPU/request through k8s_service with the "
                     "per-request metrics on vs static upstream",
                     p["k8s_rr_metrics"]["ratio_cpu_us_per_req"], 1.03)
    if "k8s_canary" in p:
        ratio_target("front CPU/request through k8s_service with "
                     "k8s_canary (weight 20) vs static upstream",
                     p["k8s_canary"]["ratio_cpu_us_per_req"], 1.03)
    if "k8s_affinity" in p:
        ratio_target("front CPU/request through k8s_service with "
                     "k8s_affinity (balanced, returning session) vs static "
                     "upstream", p["k8s_affinity"]["ratio_cpu_us_per_req"],
                     1.03)
    cl = results.get("proxy", {}).get("canary_lag")
    if cl:
        add("canary weight change on the Ingress -> routed, max (no reload)",
            "< 100 ms", "%.1f ms (p50 %.1f ms, %d changes)" % (
                cl["max_ms"], cl["p50_ms"], cl["changes"])
            if cl["max_ms"] is not None else "-",
            bool(cl["max_ms"] is not None and cl["max_ms"] < 100
                 and not cl["missed"] and cl["same_workers"]))
    lag = results.get("lag", {}).get("mechanisms", {}).get("kubengx")
    if lag:
        add("endpoint change -> first routed request, p99", "< 50 ms",
            "%.1f ms" % lag["p99_ms"] if lag["p99_ms"] else "-",
            bool(lag["p99_ms"] is not None and lag["p99_ms"] < 50
                 and not lag["missed"]))
    ch = results.get("churn")
    if ch and ch.get("runs"):
        agg = bench_churn.aggregate(ch)
        k = agg.get(("rolling", "kubengx"))
        if k:
            add("rolling update under load: failed requests / reloads",
                "0 / 0", "%d / %d" % (k["failed"], k["reloads"]),
                k["failed"] == 0 and k["reloads"] == 0 and k["pid_unchanged"])
    rd = results.get("render")
    if rd:
        for r in rd.get("rows", []):
            if r["n"] == 10000 and r["mode"] == "module (auto)" \
                    and r.get("render_ok"):
                add("kubengx render of 10,000 Ingresses/Services, CPU",
                    "< 1 s", "%.2f s (peak RSS %.0f MB)" % (
                        r["render_cpu_s"], r["render_peak_rss_kb"] / 1024.0),
                    r["render_cpu_s"] < 1.0)
        g = rd.get("growth", {}).get("module (auto)")
        if g:
            add("kubengx render CPU, 10,000 -> 100,000", "<= 20x (linear "
                "10x, quadratic 100x)", "%.1fx (RSS %.1fx)" % (
                    g["cpu"], g["rss"] or 0), g["cpu"] <= 20)
        for t in rd.get("nginx_t", []):
            # the target is for the form --upstreams auto picks at 10,000
            if t["n"] == 10000 and t["form"] == "dispatch":
                add("nginx -t on the 10,000 result, dispatch (what "
                    "--upstreams auto picks)", "< 3 s CPU",
                    "%.2f s CPU (wall %.2f s)" % (t["cpu_s"], t["wall_s"]),
                    t["ok"] and t["cpu_s"] < 3.0)
        for sh in rd.get("shapes", []):
            if sh.get("growth"):
                add("render CPU growth, one dimension: %s" % sh["shape"],
                    "<= 20x", "%.1fx" % sh["growth"], sh["growth"] <= 20)
    tb = results.get("table")
    if tb:
        for r in tb.get("zone", []):
            if r["bytes_per_endpoint"]:
                add("shm table at %d endpoints" % r["endpoints"],
                    "<= 512 B/endpoint", "%.0f B" % r["bytes_per_endpoint"],
                    r["bytes_per_endpoint"] <= 512,
                    "pod, node and zone names included")
        ap = {r["endpoints"]: r for r in tb.get("apply") or []}
        if 10000 in ap and 100000 in ap:
            a, b = (ap[10000]["change_us"]["median"],
                    ap[100000]["change_us"]["median"])
            add("table apply of a one-endpoint change, 10,000 -> 100,000 "
                "endpoints", "<= 20x (O(n log n); O(n^2) is 100x)",
                "%.0f -> %.0f us (%.1fx)" % (a, b, b / a) if a else "-",
                bool(a and b / a <= 20))
        nn = tb.get("zone_no_names")
        if nn and nn.get("bytes_per_endpoint"):
            add("shm table at %d endpoints, no names" % nn["endpoints"],
                "<= 512 B/endpoint", "%.0f B" % nn["bytes_per_endpoint"],
                nn["bytes_per_endpoint"] <= 512)
    return out


# --- report ------------------------------------------------------------------

def fmt_machine(m):
    return ("%s; %s CPUs (%s), %s RAM, kernel %s; nginx %s, %s, "
            "libnginx-mod-http-lua %s; git %s (+%d uncommitted files in "
            "ngx_module/ kube/ generator/; module built %s); load average (1/5/15 min) "
            "at start %s, at end %s%s%s" % (
                m["date"], m["nproc"], m["cpu_model"], m["memory"],
                m["kernel"], m["nginx"], m["wrk"], m["lua_module"] or "-",
                m["git_head"], m.get("source_uncommitted_files", 0),
                m.get("module_built") or "-",
                "/".join(m.get("loadavg_start") or []),
                "/".join(m.get("loadavg_end") or ["-"]), "; BENCH_QUICK" if m["quick"] else "",
                "; pinned (BENCH_PIN)" if m["pinned"] else ""))


def params_line(p):
    return ", ".join("%s=%s" % (k, v) for k, v in p.items())


def write_report(out_dir, results, meta, plots):
    lines = ["# kubengx benchmark results", "",
             "Machine: " + fmt_machine(meta["machine"]), "",
             "Run: %s%s; total %.0f s." % (
                 "BENCH_QUICK (short runs, fewer rounds)" if meta["quick"]
                 else "full", "" if not meta["only"] else
                 "; only " + ",".join(meta["only"]), meta["total_s"]), "",
             "Method: every comparison runs in this one invocation, "
             "alternating the variants (A B C D, B C D A, ...); ratios are "
             "taken per round against the static upstream measured in the "
             "same round, then the median (min-max) over rounds. Front CPU "
             "per request = utime+stime of the front's single worker "
             "(/proc/PID/stat) over the run / requests completed. 2 cores "
             "are shared by wrk, the front, the backends and the stand-in "
             "API, so req/s and p99 move by +-20% between identical runs; "
             "CPU per request is the steadier figure.", ""]
    for key, run in sorted((meta.get("merged") or {}).items()):
        lines += ["Scenario `%s` measured separately and merged into this "
                  "report (BENCH_MERGE=1)%s: %s" % (
                      key, ", BENCH_QUICK" if run["quick"] else "",
                      run["machine"]), ""]
    tg = meta.get("targets") or []
    if tg:
        lines += ["## Performance targets", "",
                  "| target | goal | measured | met |", "|---|---|---|---|"]
        for t in tg:
            lines.append("| %s | %s | %s | %s |" % (
                t["target"] + (" (%s)" % t["note"] if t["note"] else ""),
                t["goal"], t["measured"],
                t["met"] if isinstance(t["met"], str) else
                "yes" if t["met"] else "**no**"))
        lines.append("")
    for key, title, mod in SCENARIOS:
        if key not in results:
            continue
        r = results[key]
        lines += ["## " + title, ""]
        paras = (mod.__doc__ or "").strip().split("\n\n")
        for para in paras[1:] if getattr(mod, "REPORT_DOC", False) \
                else paras[1:3]:
            lines += ["    " + l if l.startswith("  ") else l
                      for l in para.splitlines()] + [""]
        if r.get("params"):
            lines += ["Parameters: " + params_line(r["params"]), ""]
        if r.get("fatal"):
            lines += ["**failed:** `%s`" % r["fatal"].strip().splitlines()[-1],
                      ""]
        try:
            lines += mod.table(r) + [""]
        except Exception as e:  # noqa: BLE001
            lines += ["(no table: %r)" % (e,), ""]
        for e in r.get("errors") or []:
            lines.append("- error: %s" % e)
        if key in plots:
            lines += ["", "![%s](%s)" % (title, os.path.basename(plots[key])),
                      ""]
        lines.append("")
    with open(os.path.join(out_dir, "latest.md"), "w") as f:
        f.write("\n".join(lines))
    return lines


def make_plots(out_dir, results):
    plots = {}
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception as e:      # noqa: BLE001
        c.log("no plots: %r" % (e,))
        return plots
    for key, _, mod in SCENARIOS:
        if key not in results or not hasattr(mod, "plot"):
            continue
        path = os.path.join(out_dir, "%s.png" % key)
        try:
            if mod.plot(results[key], plt, path):
                plots[key] = path
        except Exception as e:  # noqa: BLE001
            c.log("plot %s failed: %r" % (key, e))
    return plots


def rereport(out_dir):
    """Rewrite latest.md (and the plots) from latest.json: no measuring."""
    with open(os.path.join(out_dir, "latest.json")) as f:
        data = json.load(f)
    results, meta = data["results"], data["meta"]
    meta["targets"] = targets(results)
    plots = make_plots(out_dir, results)
    with open(os.path.join(out_dir, "latest.json"), "w") as f:
        json.dump({"meta": meta, "results": results,
                   "plots": {k: os.path.basename(v) for k, v in plots.items()}},
                  f, indent=1, sort_keys=True, default=str)
    print("\n".join(write_report(out_dir, results, meta, plots)))
    return 0


def merged(out_dir, results, meta):
    """BENCH_MERGE=1: the scenarios just run replace theirs in the last
    report (latest.json); the others, and that run's description, stay.
    Each merged scenario keeps the machine line of its own run."""
    try:
        with open(os.path.join(out_dir, "latest.json")) as f:
            old = json.load(f)
    except (OSError, ValueError):
        return results, meta
    out = old["results"]
    out.update(results)
    m = old["meta"]
    runs = m.setdefault("merged", {})
    for key in results:
        runs[key] = {"machine": fmt_machine(meta["machine"]),
                     "quick": meta["quick"], "seconds": meta["total_s"]}
    return out, m


def main():
    if sys.argv[1:2] == ["--report"]:
        return rereport(os.environ.get("BENCH_OUT",
                                       os.path.join(HERE, "results")))
    t_start = time.monotonic()
    only = [x for x in os.environ.get("BENCH_ONLY", "").split(",") if x]
    out_dir = os.environ.get("BENCH_OUT", os.path.join(HERE, "results"))
    os.makedirs(out_dir, exist_ok=True)
    for m in preflight():
        c.log("missing: %s" % m)
    if not os.path.exists(c.KUBENGX) or not shutil.which(c.WRK):
        return 2
    meta = {"machine": c.machine(), "quick": c.QUICK, "only": only,
            "build": c.BUILD}
    merge = os.environ.get("BENCH_MERGE", "") not in ("", "0")
    c.log("machine: " + fmt_machine(meta["machine"]))
    workdir = tempfile.mkdtemp(prefix="kubengx-bench-")
    results = {}
    try:
        for key, title, mod in SCENARIOS:
            if only and key not in only:
                continue
            c.log("=== %s" % title)
            t0 = time.monotonic()
            sdir = os.path.join(workdir, key)
            os.makedirs(sdir, exist_ok=True)
            try:
                results[key] = mod.run(sdir, c.QUICK)
            except Exception:       # noqa: BLE001 - other scenarios go on
                tb = traceback.format_exc()
                c.log("%s failed:\n%s" % (key, tb))
                results[key] = {"fatal": tb, "errors": []}
            results[key]["seconds"] = time.monotonic() - t0
            results[key]["loadavg_end"] = \
                open("/proc/loadavg").read().split()[:3]
            c.log("%s took %.0f s" % (key, results[key]["seconds"]))
    finally:
        if os.environ.get("BENCH_KEEP"):
            c.log("work directory kept: %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    meta["total_s"] = time.monotonic() - t_start
    meta["machine"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    if merge:
        results, meta = merged(out_dir, results, meta)
    meta["targets"] = targets(results)
    plots = make_plots(out_dir, results)
    with open(os.path.join(out_dir, "latest.json"), "w") as f:
        json.dump({"meta": meta, "results": results,
                   "plots": {k: os.path.basename(v) for k, v in plots.items()}},
                  f, indent=1, sort_keys=True, default=str)
    lines = write_report(out_dir, results, meta, plots)
    print("\n".join(lines))
    c.log("results: %s/latest.md, latest.json%s; %.0f s" % (
        out_dir, "".join(", " + os.path.basename(p) for p in plots.values()),
        meta["total_s"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
