"""k8s_status (JSON and Prometheus) and the k8s_snapshot file with
100,000 endpoints whose names are all at their maximum lengths: nothing
is sized by estimate any more (ngx_module/ngx_http_k8s_out.c), every
endpoint is listed, both formats parse, and the snapshot nginx writes
fills a restarted nginx with all of them."""

import json
import os
import re
import shutil
import tempfile

import pytest

import harness
from k8s_module_util import parse_snapshot, write_snapshot

SERVICES = 100
PER = 1000                      # 100,000 endpoints
PORT_NAME = "http-" + "p" * 10  # IANA_SVC_NAME: at most 15
NS = "n" * 63                   # DNS labels: at most 63


def dns_subdomain(prefix, i):
    """A 253-byte DNS subdomain (63.63.63.61), distinct per i."""
    head = ("%s%07d" % (prefix, i)).rjust(63, "a")
    return ".".join([head, "b" * 63, "c" * 63, "d" * 61])


def svc_name(s):
    return ("s%03d" % s).rjust(63, "v")


def key(s):
    return "%s/%s:%s" % (NS, svc_name(s), PORT_NAME)


def endpoints(s):
    out = []
    for j in range(PER):
        k = s * PER + j
        out.append({"addr": "10.%d.%d.%d:8080" % (k >> 16, (k >> 8) & 255,
                                                  k & 255),
                    "flags": "rs",
                    "zone": ("zone-%03d" % (k % 7)).rjust(63, "z"),
                    "node": dns_subdomain("node", k % 5000),
                    "target": dns_subdomain("pod", k)})
    return out


def conf(port, snap):
    ups = "".join("    upstream u%03d { k8s_service %s; }\n" % (s, key(s)
                  .replace(":", " port=", 1)) for s in range(SERVICES))
    return """
    k8s_zone k8s 256m;
    k8s_snapshot %s;
%s
    server {
        listen 127.0.0.1:%d;
        location = /k8s/status { k8s_status; }
        location / { proxy_pass http://u000; }
    }""" % (snap, ups, port)


PROM_LINE = re.compile(
    r'[a-zA-Z_:][a-zA-Z0-9_:]*'
    r'(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
    r'(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\})?'
    r' [-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?|\+Inf')


@pytest.fixture
def state_dir():
    d = tempfile.mkdtemp(prefix="kubengx-large-")
    os.chmod(d, 0o777)          # the workers write the snapshot
    yield d
    shutil.rmtree(d, ignore_errors=True)


def check_json(n, expect):
    r = n.get("/k8s/status", timeout=120)
    assert r.status == 200
    assert int(r.headers["content-length"]) == len(r.body)
    s = json.loads(r.body)
    assert s["services_total"] == SERVICES
    total = 0
    for sidx in range(SERVICES):
        svc = s["services"][key(sidx)]
        assert svc["state"] == "ready"
        got = {e["address"]: e for e in svc["endpoints"]}
        assert len(got) == PER
        for ep in expect[sidx][::97]:
            e = got[ep["addr"]]
            assert (e["target"], e["node"], e["zone"]) == \
                (ep["target"], ep["node"], ep["zone"]), e
        total += len(got)
    assert total == SERVICES * PER
    return s


def check_prometheus(n):
    r = n.get("/k8s/status?format=prometheus", timeout=120)
    assert r.status == 200
    assert int(r.headers["content-length"]) == len(r.body)
    ready = 0
    for line in r.body.decode().split("\n"):
        if not line:
            continue
        if line.startswith("#"):
            assert re.fullmatch(r"# TYPE \w+ (gauge|counter|histogram)",
                                line), line
            continue
        assert PROM_LINE.fullmatch(line), line[:300]
        if line.startswith("kubengx_endpoint_ready{"):
            ready += 1
    assert ready == SERVICES * PER


def test_100000_endpoints_with_the_longest_names(nginx_factory, state_dir):
    expect = [endpoints(s) for s in range(SERVICES)]
    snap = os.path.join(state_dir, "endpoints.state")
    write_snapshot(snap, {key(s): expect[s] for s in range(SERVICES)})
    port = harness.free_port()
    n = nginx_factory(http=conf(port, snap), ports=[port], start=False)
    n.start(timeout=120)
    check_json(n, expect)
    check_prometheus(n)

    # nginx writes the snapshot itself (a reload makes it write), and a
    # restarted nginx is filled from that file
    os.unlink(snap)
    n.reload(timeout=60)
    harness.wait_for(lambda: os.path.exists(snap) and
                     len(parse_snapshot(snap)) == SERVICES, 60,
                     "the snapshot written by nginx")
    got = parse_snapshot(snap)
    for s in range(SERVICES):
        assert got[key(s)] == ("ready", [ep["addr"] for ep in expect[s]])
    with open(snap) as f:
        text = f.read()
    assert dns_subdomain("pod", SERVICES * PER - 1) in text
    n.stop()
    n.start(timeout=120)
    st = check_json(n, expect)
    assert st["snapshot"]["loaded"] == SERVICES
    assert "rejected" not in n.error_log()
