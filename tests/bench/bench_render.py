"""Scenario 4: generator scaling.

For N = 100 / 1,000 / 10,000 Ingresses + Services (+ one EndpointSlice of
2 endpoints each; gen_corpus.py: one host per Service, 3 paths per host),
`kubengx render` in module mode (k8s_service upstreams) and in static mode
(server lines from the slices): wall time, peak RSS (/usr/bin/time),
config size; then `nginx -t` on an nginx.conf that includes the
result (module loaded and a k8s_zone for module mode): wall time and peak
RSS.

The dispatch form (one `k8s_dispatch` upstream, `k8s_backend` per location)
is what the performance targets ask for at scale.  When `kubengx render --help` offers
no flag for it, the bench rewrites the module-mode output into that form
itself (same locations, same Services) and times `nginx -t` on that too,
marked `dispatch (bench-rewritten)`."""

import os
import re
import subprocess
import time

import common as c
import gen_corpus


def timed(cmd, timeout=300, **kw):
    """Run cmd; returns (wall seconds, peak RSS kB, returncode, stderr,
    CPU seconds (user+sys)).
    The peak RSS comes from /usr/bin/time (the rusage of a child forked by
    Python counts Python's own pages), the wall time from here."""
    rss_file = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                            "kubengx-bench-rss.%d" % os.getpid())
    if os.path.exists("/usr/bin/time"):
        cmd = ["/usr/bin/time", "-f", "%M %U %S", "-o", rss_file] + list(cmd)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, **kw)
    deadline = t0 + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            p.kill()
            pid, status, ru = os.wait4(p.pid, 0)
            break
        time.sleep(0.002)
    wall = time.monotonic() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    rss = ru.ru_maxrss
    cpu = ru.ru_utime + ru.ru_stime
    try:
        with open(rss_file) as f:
            w = f.read().split()
        os.unlink(rss_file)
        rss, cpu = int(w[-3]), float(w[-2]) + float(w[-1])
    except (OSError, ValueError, IndexError):
        pass
    return wall, rss, p.returncode, err, cpu


def dispatch_flag():
    h = subprocess.run([c.KUBENGX, "render", "--help"], capture_output=True,
                       text=True).stdout
    return "--upstreams" if re.search(r"--upstreams\b", h) else None


UPSTREAM_RE = re.compile(
    r"upstream (\S+) \{\n\s+k8s_service (\S+) (port=\S+);\n"
    r"(?:\s+keepalive \d+;\n)?\}\n")


def to_dispatch(text):
    """Rewrite a module-mode config into the dispatch form."""
    ups = {}

    def drop(m):
        ups[m.group(1)] = "%s %s" % (m.group(2), m.group(3))
        return ""
    text = UPSTREAM_RE.sub(drop, text)

    def repl(m):
        sel = ups.get(m.group(2))
        if sel is None:
            return m.group(0)
        return "%sk8s_backend %s;\n%sproxy_pass http://k8s_dispatch;" % (
            m.group(1), sel, m.group(1))
    text = re.sub(r"( +)proxy_pass http://([A-Za-z0-9_]+);", repl, text)
    return ("upstream k8s_dispatch {\n    k8s_dispatch;\n    keepalive 32;\n"
            "}\n" + text), len(ups)


def nginx_t(workdir, name, conf_path, module):
    n = c.Nginx(os.path.join(workdir, name),
                http=("    k8s_zone kubengx 64m;\n" if module else "") +
                "    include %s;\n" % conf_path,
                ports=[], module=module, workers=1, log_level="warn")
    wall, rss, rc, err, cpu = timed(n._cmd("-t"))
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_kb": rss, "ok": rc == 0,
            "error": "" if rc == 0 else err[-500:]}


def run(workdir, quick):
    sizes = [100, 1000, 10000]
    env = os.environ.get("BENCH_RENDER_SIZES")
    if env:
        sizes = [int(x) for x in env.split(",")]
    res = {"params": {"sizes": sizes, "paths_per_host": 3,
                      "endpoints_per_service": 2,
                      "dispatch_flag": dispatch_flag()},
           "rows": [], "errors": []}
    have_module = os.path.exists(c.MODULE)
    for n in sizes:
        cdir = os.path.join(workdir, "corpus-%d" % n)
        t0 = time.monotonic()
        gen_corpus.generate(n, cdir)
        c.log("render: corpus %d generated in %.1fs" % (
            n, time.monotonic() - t0))
        for mode in ("module", "static"):
            out = os.path.join(workdir, "out-%s-%d" % (mode, n))
            if quick and n >= 10000 and mode == "static":
                continue
            # module: one upstream per Service (what the generator's
            # --upstreams auto picks up to 2,000 Service ports); the
            # dispatch form is timed from the rewrite below
            extra = ["--upstreams", "per-service"] \
                if mode == "module" and res["params"]["dispatch_flag"] else []
            wall, rss, rc, err, cpu = timed([c.KUBENGX, "render", "-f", cdir,
                                        "-o", out, "--endpoints", mode,
                                        "--http-port", "18080"] + extra)
            row = {"n": n, "mode": mode, "render_s": wall, "render_cpu_s": cpu,
                   "render_peak_rss_kb": rss, "render_ok": rc == 0}
            if rc != 0:
                row["error"] = err[-500:]
                res["rows"].append(row)
                continue
            conf = os.path.join(out, "kubengx.conf")
            row["config_bytes"] = os.path.getsize(conf)
            with open(conf) as f:
                row["config_lines"] = sum(1 for _ in f)
            if mode == "module" and not have_module:
                row["nginx_t"] = None
            elif quick and n >= 10000:
                row["nginx_t"] = None   # minutes on 2 busy cores: full only
            else:
                row["nginx_t"] = nginx_t(workdir, "t-%s-%d" % (mode, n),
                                         conf, mode == "module")
            res["rows"].append(row)
            c.log("render %-6s %6d: render %.3fs %6d kB, %8d bytes, "
                  "nginx -t %s" % (mode, n, wall, rss, row["config_bytes"],
                                   "%.2fs" % row["nginx_t"]["wall_s"]
                                   if row.get("nginx_t") else "-"))
            if mode == "module" and have_module:
                with open(conf) as f:
                    text, nups = to_dispatch(f.read())
                dconf = os.path.join(out, "dispatch.conf")
                with open(dconf, "w") as f:
                    f.write(text)
                d = {"n": n, "mode": "dispatch (bench-rewritten)",
                     "render_s": None, "render_peak_rss_kb": None,
                     "render_ok": True, "config_bytes": len(text),
                     "config_lines": text.count("\n"),
                     "upstreams_folded": nups,
                     "nginx_t": nginx_t(workdir, "t-disp-%d" % n, dconf,
                                        True)}
                res["rows"].append(d)
                c.log("render dispatch %6d: nginx -t %.2fs" % (
                    n, d["nginx_t"]["wall_s"]))
    return res


def table(res):
    out = ["| N Ingresses+Services | mode | render s (CPU s) "
           "| render peak RSS MB | config MB | nginx -t s (CPU s) "
           "| nginx -t peak RSS MB |",
           "|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        t = r.get("nginx_t")
        out.append("| %d | %s | %s | %s | %.2f | %s | %s |" % (
            r["n"], r["mode"],
            "%.3f (%.2f)" % (r["render_s"], r.get("render_cpu_s") or 0)
            if r.get("render_s") is not None else "-",
            "%.1f" % (r["render_peak_rss_kb"] / 1024.0)
            if r.get("render_peak_rss_kb") else "-",
            r.get("config_bytes", 0) / 1e6,
            ("%.2f (%.2f)" % (t["wall_s"], t.get("cpu_s") or 0) +
             ("" if t["ok"] else " (FAILED)"))
            if t else "-",
            "%.1f" % (t["peak_rss_kb"] / 1024.0) if t else "-"))
    return out


def plot(res, plt, path):
    rows = res["rows"]
    if not rows:
        return False
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    for mode in ("module", "static"):
        rs = [r for r in rows if r["mode"] == mode and r.get("render_s")]
        a1.plot([r["n"] for r in rs], [r["render_s"] for r in rs],
                marker="o", label="render, %s" % mode)
    for mode in sorted({r["mode"] for r in rows}):
        rs = [r for r in rows if r["mode"] == mode and r.get("nginx_t")]
        a2.plot([r["n"] for r in rs], [r["nginx_t"]["wall_s"] for r in rs],
                marker="o", label="nginx -t, %s" % mode)
    for a, t in ((a1, "kubengx render"), (a2, "nginx -t on the result")):
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
