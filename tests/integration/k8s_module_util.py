"""Helpers for the module tests (test_module_*.py): the k8s_snapshot file
format, and nginx configs using the module.

The snapshot is the module's own persistence format (documented in
ngx_module/ngx_http_k8s_snapshot.c); writing one is how these tests fill
the endpoint table without a Kubernetes API."""

import json
import os
import re
import zlib

import harness


def snapshot_text(services, rv="-", generation=1, last_change=1700000000000):
    """services: {key: state} or {key: [endpoint, ...]}; an endpoint is
    "host:port" or a dict(addr=, flags="rs", zone=, node=, target=)."""
    lines = ["kubengx-snapshot 1", "generation %d" % generation, "rv %s" % rv]
    for key, eps in services.items():
        if isinstance(eps, str):
            lines.append("service %s %s %d 0" % (key, eps, last_change))
            continue
        lines.append("service %s %s %d %d" % (key, "ready" if eps else "empty",
                                              last_change, len(eps)))
        for ep in eps:
            if isinstance(ep, str):
                ep = {"addr": ep}
            lines.append("endpoint %s %s %s %s %s" % (
                ep["addr"], ep.get("flags", "rs"), ep.get("zone") or "-",
                ep.get("node") or "-", ep.get("target") or "-"))
    lines.append("end %d" % len(services))
    body = "\n".join(lines) + "\n"
    return body + "checksum %08x\n" % (zlib.crc32(body.encode()) & 0xffffffff)


def write_snapshot(path, services, **kw):
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(str(path), "w") as f:
        f.write(snapshot_text(services, **kw))


def parse_snapshot(path):
    """{key: (state, [addr, ...])} from a snapshot file written by nginx,
    after checking its checksum."""
    with open(str(path), "rb") as f:
        data = f.read()
    body, _, last = data.rstrip(b"\n").rpartition(b"\n")
    body += b"\n"
    m = re.fullmatch(rb"checksum ([0-9a-f]{8})", last)
    assert m, last
    assert int(m.group(1), 16) == zlib.crc32(body) & 0xffffffff
    out, key = {}, None
    for line in body.decode().splitlines():
        w = line.split(" ")
        if w[0] == "service":
            key = w[1]
            out[key] = (w[2], [])
        elif w[0] == "endpoint":
            out[key][1].append(w[1])
    return out


def status(n, path="/k8s/status"):
    r = n.get(path)
    assert r.status == 200, r
    return r.json()


def start_with_snapshot(nginx_factory, tmp_path, services, http_tail,
                        ports, zone="k8s 4m", **kw):
    """Write a snapshot for `services`, then start nginx whose http block is
    k8s_zone + k8s_snapshot + http_tail."""
    snap = os.path.join(str(tmp_path), "state", "endpoints.state")
    write_snapshot(snap, services)
    http = "k8s_zone %s;\n    k8s_snapshot %s;\n%s" % (zone, snap, http_tail)
    n = nginx_factory(http=http, ports=ports, **kw)
    return n, snap


def module_http(api_line, *lines, zone="k8s 4m"):
    """The http{} text of an nginx with the module that watches an API
    (api_line: "k8s_api URL;"), with its k8s_zone, then `lines` (an
    include of a rendered config, upstreams, servers)."""
    return "    %s\n    k8s_zone %s;\n%s" % (
        api_line, zone, "".join("    %s\n" % l for l in lines))


def log_lines(n, pattern):
    return [l for l in n.error_log().splitlines() if re.search(pattern, l)]


def backend_of(r):
    return r.headers.get("x-backend")


def body_json(r):
    return json.loads(r.body)


__all__ = ["snapshot_text", "write_snapshot", "parse_snapshot", "status",
           "start_with_snapshot", "module_http", "log_lines", "backend_of",
           "body_json", "harness"]
