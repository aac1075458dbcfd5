"""Scenario 4: generator scaling.

For N = 1,000 / 10,000 / 100,000 Ingresses + Services (+ one
EndpointSlice of 2 endpoints each; gen_corpus.py: one host per Service,
3 paths per host, JSON Lists of 1,000 Services per file), `kubengx
render` in module mode (`--upstreams auto`: per-Service upstreams up to
2,000 Service ports, the dispatch form above) and in static mode (server
lines from the slices): CPU time (user+sys, the best of 3 runs; one at
100,000), peak RSS (/usr/bin/time), config size, and the growth of CPU
and RSS from 10,000 to 100,000 (10x is linear, 100x quadratic).  Then
`nginx -t` (Debian's nginx 1.22; the module loaded and a k8s_zone for
module mode) on the 1,000 and 10,000 results in each form: per-service
(`--upstreams per-service`), dispatch (`--upstreams dispatch`, what auto
picks at 10,000) and static: CPU, wall time, peak RSS.

Linearity in one dimension (gen_shapes.py): one Ingress with N paths
(Prefix; Exact ending in "/"), one Ingress with N rules (hosts), N tls
entries naming one Secret, N hosts with 10 host-less paths merged into
each, N paths to N Services: render CPU at N = 10,000 and 100,000 and the
growth factor."""

import os
import subprocess
import time

import common as c
import gen_corpus
import gen_shapes

SHAPES = ("paths", "exact", "rules", "tls", "hostless", "services")
FORMS = (("per-service", ["--upstreams", "per-service"], True),
         ("dispatch", ["--upstreams", "dispatch"], True),
         ("static", ["--endpoints", "static"], False))


def timed(cmd, timeout=600, **kw):
    """Run cmd under /usr/bin/time: (wall s, peak RSS kB, returncode,
    stderr, CPU s (user+sys)).  /usr/bin/time reports the child's own
    rusage (the rusage of a child forked by Python counts Python's own
    pages)."""
    rss_file = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                            "kubengx-bench-rss.%d" % os.getpid())
    cmd = ["/usr/bin/time", "-f", "%M %U %S", "-o", rss_file] + list(cmd)
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=timeout, **kw)
        rc, err = p.returncode, p.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired:
        rc, err = -1, "timed out after %d s" % timeout
    wall = time.monotonic() - t0
    rss, cpu = 0, 0.0
    try:
        with open(rss_file) as f:
            w = f.read().split()
        os.unlink(rss_file)
        rss, cpu = int(w[-3]), float(w[-2]) + float(w[-1])
    except (OSError, ValueError, IndexError):
        pass
    return wall, rss, rc, err, cpu


def render(cdir, out, extra, runs):
    """The best (least CPU) of runs renders: a row dict."""
    best = None
    for _ in range(runs):
        wall, rss, rc, err, cpu = timed([c.KUBENGX, "render", "-f", cdir,
                                         "-o", out, "--http-port", "18080"]
                                        + extra)
        r = {"render_s": wall, "render_cpu_s": cpu,
             "render_peak_rss_kb": rss, "render_ok": rc == 0}
        if rc != 0:
            r["error"] = err[-500:]
            return r
        if best is None or cpu < best["render_cpu_s"]:
            best = r
    return best


def nginx_t(workdir, name, conf_path, module):
    n = c.Nginx(os.path.join(workdir, name),
                http=("    k8s_zone kubengx 64m;\n" if module else "") +
                "    include %s;\n" % conf_path,
                ports=[], module=module, workers=1, log_level="warn")
    wall, rss, rc, err, cpu = timed(n._cmd("-t"))
    warn = [l for l in err.splitlines() if "[warn]" in l]
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_kb": rss, "ok": rc == 0,
            "warnings": warn[:3],
            "error": "" if rc == 0 else err[-500:]}


def growth(rows, key, a=10000, b=100000):
    va = [r[key] for r in rows if r["n"] == a and r.get(key)]
    vb = [r[key] for r in rows if r["n"] == b and r.get(key)]
    return vb[0] / va[0] if va and vb and va[0] else None


def run_corpus(workdir, quick, res):
    sizes = [1000, 10000] if quick else [1000, 10000, 100000]
    env = os.environ.get("BENCH_RENDER_SIZES")
    if env:
        sizes = [int(x) for x in env.split(",")]
    res["params"]["sizes"] = sizes
    for n in sizes:
        cdir = os.path.join(workdir, "corpus-%d" % n)
        t0 = time.monotonic()
        gen_corpus.generate(n, cdir)
        c.log("render: corpus %d generated in %.1fs" % (
            n, time.monotonic() - t0))
        for mode, extra in (("module (auto)", []),
                            ("static", ["--endpoints", "static"])):
            out = os.path.join(workdir, "out-%s-%d" % (mode[:6], n))
            row = {"n": n, "mode": mode}
            row.update(render(cdir, out, extra, 1 if n >= 100000 else 3))
            if row["render_ok"]:
                conf = os.path.join(out, "kubengx.conf")
                row["config_bytes"] = os.path.getsize(conf)
            res["rows"].append(row)
            c.log("render %-13s %6d: CPU %.2f s, %6.0f MB" % (
                mode, n, row["render_cpu_s"],
                row["render_peak_rss_kb"] / 1024.0))
        if n > 10000 or not os.path.exists(c.MODULE):
            continue
        for form, extra, module in FORMS:
            if quick and n >= 10000 and form != "dispatch":
                continue    # tens of seconds each on 2 busy cores
            out = os.path.join(workdir, "form-%s-%d" % (form, n))
            p = subprocess.run([c.KUBENGX, "render", "-f", cdir, "-o", out,
                                "--http-port", "18080"] + extra,
                               capture_output=True)
            if p.returncode != 0:
                res["errors"].append("render %s %d: %s" % (
                    form, n, p.stderr[-300:]))
                continue
            conf = os.path.join(out, "kubengx.conf")
            t = nginx_t(workdir, "t-%s-%d" % (form, n), conf, module)
            t.update({"n": n, "form": form,
                      "config_bytes": os.path.getsize(conf)})
            res["nginx_t"].append(t)
            c.log("nginx -t %-11s %6d: CPU %.2f s (wall %.2f s), %4.0f MB%s"
                  % (form, n, t["cpu_s"], t["wall_s"],
                     t["peak_rss_kb"] / 1024.0,
                     "" if t["ok"] else " FAILED"))
    for mode in ("module (auto)", "static"):
        rows = [r for r in res["rows"] if r["mode"] == mode]
        g = growth(rows, "render_cpu_s")
        if g:
            res["growth"][mode] = {
                "cpu": g, "rss": growth(rows, "render_peak_rss_kb")}


def run_shapes(workdir, quick, res):
    sizes = [1000, 10000] if quick else [10000, 100000]
    res["params"]["shape_sizes"] = sizes
    for shape in SHAPES:
        row = {"shape": shape, "at": {}}
        for n in sizes:
            d = os.path.join(workdir, "shape-%s-%d" % (shape, n))
            f = gen_shapes.generate(shape, n, d)
            r = render(f, "-", ["--endpoints", "module"], 1)
            os.unlink(f)
            row["at"][str(n)] = {"cpu_s": r["render_cpu_s"],
                                 "rss_kb": r["render_peak_rss_kb"],
                                 "ok": r["render_ok"]}
        a, b = (row["at"][str(n)]["cpu_s"] for n in sizes)
        row["growth"] = b / a if a else None
        res["shapes"].append(row)
        c.log("render shape %-9s: %s, growth %s" % (
            shape, ", ".join("%d: %.2f s" % (n, row["at"][str(n)]["cpu_s"])
                             for n in sizes),
            "%.1fx" % row["growth"] if row["growth"] else "-"))


def run(workdir, quick):
    res = {"params": {"paths_per_host": 3, "endpoints_per_service": 2,
                      "render_runs": "best of 3 (1 at 100,000)"},
           "rows": [], "nginx_t": [], "growth": {}, "shapes": [],
           "errors": []}
    run_corpus(workdir, quick, res)
    run_shapes(workdir, quick, res)
    return res


def table(res):
    out = ["| N Ingresses+Services | mode | render CPU s | render peak RSS MB "
           "| config MB |", "|---|---|---|---|---|"]
    for r in res["rows"]:
        out.append("| %d | %s | %s | %s | %s |" % (
            r["n"], r["mode"],
            "%.2f" % r["render_cpu_s"] if r.get("render_ok") else
            "FAILED", "%.0f" % (r["render_peak_rss_kb"] / 1024.0),
            "%.1f" % (r["config_bytes"] / 1e6) if r.get("config_bytes")
            else "-"))
    for mode, g in sorted(res.get("growth", {}).items()):
        out.append("| 10,000 -> 100,000 | %s | %.1fx | %.1fx | |" % (
            mode, g["cpu"], g["rss"] or 0))
    out += ["", "| N | form | nginx -t CPU s | wall s | peak RSS MB "
            "| config MB | warnings |", "|---|---|---|---|---|---|---|"]
    for t in res.get("nginx_t", []):
        out.append("| %d | %s | %s | %.2f | %.0f | %.1f | %s |" % (
            t["n"], t["form"], "%.2f" % t["cpu_s"] if t["ok"] else
            "FAILED", t["wall_s"], t["peak_rss_kb"] / 1024.0,
            t["config_bytes"] / 1e6, "; ".join(t["warnings"]) or "-"))
    sizes = res.get("params", {}).get("shape_sizes") or []
    if res.get("shapes") and len(sizes) == 2:
        out += ["", "| one dimension grows | render CPU s at %d | at %d "
                "| growth | peak RSS MB at %d |" % (sizes[0], sizes[1],
                                                    sizes[1]),
                "|---|---|---|---|---|"]
        for s in res["shapes"]:
            a, b = (s["at"][str(n)] for n in sizes)
            out.append("| %s | %.2f | %.2f | %s | %.0f |" % (
                s["shape"], a["cpu_s"], b["cpu_s"],
                "%.1fx" % s["growth"] if s["growth"] else "-",
                b["rss_kb"] / 1024.0))
    return out


def plot(res, plt, path):
    rows = res["rows"]
    if not rows:
        return False
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    for mode in sorted({r["mode"] for r in rows}):
        rs = [r for r in rows if r["mode"] == mode and r.get("render_ok")]
        a1.plot([r["n"] for r in rs], [r["render_cpu_s"] for r in rs],
                marker="o", label="render, %s" % mode)
    ts = res.get("nginx_t", [])
    for form in sorted({t["form"] for t in ts}):
        rs = [t for t in ts if t["form"] == form and t["ok"]]
        a2.plot([t["n"] for t in rs], [t["cpu_s"] for t in rs],
                marker="o", label="nginx -t, %s" % form)
    for a, t in ((a1, "kubengx render (CPU)"),
                 (a2, "nginx -t on the result (CPU)")):
        a.set_xscale("log")
        a.set_yscale("log")
        a.set_xlabel("Ingresses (= Services)")
        a.set_ylabel("seconds")
        a.set_title(t)
        a.legend()
        a.grid(True, which="both", alpha=0.3)
    a2.axhline(3.0, color="r", ls="--", lw=0.8)
    a1.axhline(1.0, color="r", ls="--", lw=0.8)
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
