#!/usr/bin/python3
"""Where `nginx -t` spends its time on a kubengx-shaped config.

    nginx_t_shapes.py [N] [--runs R] [--only a,b]

Writes variants of the dispatch form that `kubengx render --upstreams
auto` picks at scale (N hosts, one server block each, 4 locations as the
bench corpus renders them: "/", "/api/", = "/api", = "/healthz", each
`k8s_backend` + `proxy_pass`), each differing from the baseline in one
respect, and times `nginx -t` on each (Debian's nginx 1.22 with the
module and a k8s_zone, CPU = user+sys of nginx from /usr/bin/time, the
best of R runs).  The differences between the variants say what a server
block, a location, a directive, a comment or the server name hash cost.
Results: tests/bench/README.md ("nginx -t at scale")."""

import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import harness  # noqa: E402

HEADERS = """\
    proxy_http_version 1.1;
    proxy_set_header Host $kubengx_host;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $kubengx_connection_upgrade;
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header X-Forwarded-For $remote_addr;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Forwarded-Host $kubengx_host;
    proxy_set_header X-Forwarded-Port $server_port;
"""

PRELUDE = """\
map $http_upgrade $kubengx_connection_upgrade {
    default upgrade;
    ""      "";
}

map $http_host $kubengx_host {
    ""      $host;
    default $http_host;
}

upstream kubengx_dispatch {
    k8s_dispatch;
    keepalive 64;
}

"""

LOCATIONS = (("", "/"), ("", "/api/"), ("= ", "/api"), ("= ", "/healthz"))


def body(i, v, indent="        "):
    svc = "bench/svc-%05d port=http" % i
    out = ""
    if v.get("comments", True):
        out += "%s# Ingress bench/svc-%05d\n" % (indent, i)
    if v.get("body") == "return":
        return out + "%sreturn 404;\n" % indent
    return out + ("%sk8s_backend %s;\n%sproxy_pass http://kubengx_dispatch;\n"
                  % (indent, svc, indent))


def config(n, v, d):
    """The config text of variant v (a dict of differences)."""
    out = [PRELUDE]
    if v.get("http_headers"):
        out.append(HEADERS.replace("    ", "", 1))
    if v.get("names_hash"):
        out.append("server_names_hash_max_size %d;\n"
                   "server_names_hash_bucket_size %d;\n\n" % v["names_hash"])
    if v.get("headers") == "include":
        with open(os.path.join(d, "proxy.conf"), "w") as f:
            f.write(HEADERS)
    locs = LOCATIONS[:v.get("locations", 4)]
    for s in range(n):
        out.append("server {\n    listen 18080;\n"
                   "    server_name \"svc-%05d.bench.example\";\n" % s)
        h = v.get("headers", "server")
        if h == "server":
            out.append(HEADERS)
        elif h == "include":
            out.append("    include %s/proxy.conf;\n" % d)
        for mod, path in locs:
            if v.get("location_include"):
                out.append('    location %s"%s" { include %s/loc.conf; }\n'
                           % (mod, path, d))
                continue
            out.append('    location %s"%s" {\n%s    }\n'
                       % (mod, path, body(s, v)))
        out.append("}\n\n")
    if v.get("location_include"):
        with open(os.path.join(d, "loc.conf"), "w") as f:
            f.write(body(0, v, ""))
    return "".join(out)


VARIANTS = [
    ("baseline", {}),
    ("no comments", {"comments": False}),
    ("proxy headers: none", {"headers": "none"}),
    ("proxy headers: at http level", {"headers": "none",
                                      "http_headers": True}),
    ("proxy headers: include per server", {"headers": "include"}),
    ("3 locations per server", {"locations": 3}),
    ("2 locations per server", {"locations": 2}),
    ("1 location per server", {"locations": 1}),
    ("locations return 404", {"body": "return"}),
    ("location bodies included", {"location_include": True}),
    ("server_names_hash 10001/256 (as rendered)",
     {"names_hash": (10001, 256)}),
]


def nginx_t(d, text):
    conf = os.path.join(d, "kubengx.conf")
    with open(conf, "w") as f:
        f.write(text)
    n = harness.Nginx(os.path.join(d, "p"),
                      http="    k8s_zone kubengx 64m;\n"
                           "    include %s;\n" % conf,
                      ports=[], module=True, workers=1, log_level="warn")
    tf = os.path.join(d, "time")
    p = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", tf] +
                       n._cmd("-t"), capture_output=True, text=True)
    with open(tf) as f:
        u, s, m = f.read().split()[-3:]
    warn = [l for l in p.stderr.splitlines() if "[warn]" in l]
    return {"ok": p.returncode == 0, "cpu_s": float(u) + float(s),
            "rss_mb": int(m) / 1024.0, "bytes": len(text),
            "warn": warn[0][-120:] if warn else "",
            "error": "" if p.returncode == 0 else p.stderr[-300:]}


def run(n=10000, runs=3, only=None):
    rows = []
    for name, v in VARIANTS:
        if only and not any(o in name for o in only):
            continue
        with tempfile.TemporaryDirectory(prefix="kubengx-ngt-") as d:
            text = config(n, v, d)
            best = None
            for _ in range(runs):
                r = nginx_t(d, text)
                if best is None or r["cpu_s"] < best["cpu_s"]:
                    best = r
            best["variant"] = name
            rows.append(best)
            print("%-38s %6.2f s CPU %6.0f MB %6.1f MB text %s%s" % (
                name, best["cpu_s"], best["rss_mb"], best["bytes"] / 1e6,
                "" if best["ok"] else "FAILED " + best["error"],
                best["warn"] and " (warn)"), flush=True)
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, nargs="?", default=10000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    run(a.n, a.runs, [x for x in a.only.split(",") if x])
