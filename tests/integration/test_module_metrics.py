"""Per-request metrics (k8s_metrics_route, k8s_metrics): exact counts,
sizes and histogram buckets with ingress-nginx's metric names, labels
and buckets, read by a strict Prometheus text parser (prom_text.py);
shared by the workers, kept across reloads, bounded per route."""

import re
import socket
import subprocess
import threading

import pytest

import harness
import prom_text
from k8s_module_util import start_with_snapshot


REQUESTS = "nginx_ingress_controller_requests"
DURATION = "nginx_ingress_controller_request_duration_seconds"
UPSTREAM = "nginx_ingress_controller_response_duration_seconds"
REQ_SIZE = "nginx_ingress_controller_request_size"
RESP_SIZE = "nginx_ingress_controller_response_size"

# ingress-nginx's --time-buckets and --length-buckets defaults
TIME_LE = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1",
           "2.5", "5", "10", "+Inf"]
SIZE_LE = [str(10 * i) for i in range(1, 11)] + ["+Inf"]

WEB = dict(namespace="shop", ingress="web", host="shop.example.com",
           path="/", service="web")
API = dict(namespace="shop", ingress="api", host="shop.example.com",
           path="/api", service="api")


def route(labels):
    return "k8s_metrics_route %s;" % " ".join(
        '"%s=%s"' % (k, v) for k, v in labels.items())


def raw(port, data):
    """Send data (bytes) on a new connection and read until the server
    closes it: (status, bytes received).  With `Connection: close`, what
    the client receives is the response's $bytes_sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    status = int(got.split(b" ", 2)[1])
    return status, len(got)


def request(method, path, body=b"", host="shop.example.com"):
    head = "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n" % (
        method, path, host)
    if body:
        head += "Content-Length: %d\r\n" % len(body)
    return head.encode() + b"\r\n" + body


def scrape(n, port=None, path="/metrics"):
    r = n.get(path, port=port)
    assert r.status == 200, r
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return prom_text.parse(r.body)


def expected_buckets(values, bounds):
    """Cumulative counts per le (ingress-nginx's bounds) of values."""
    out = {}
    for le in bounds:
        lim = float("inf") if le == "+Inf" else float(le)
        out[le] = float(sum(1 for v in values if v <= lim))
    return out


CONF = """
    upstream web { k8s_service shop/web port=http; keepalive 8; }
    upstream api { k8s_service shop/api port=http; }
    server {
        listen 127.0.0.1:%(port)d;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        location / { %(web)s proxy_pass http://web; }
        location /api/ { %(api)s proxy_pass http://api; }
        location /plain/ { return 200 "not counted\\n"; }
        location = /metrics { k8s_metrics; }
    }"""


def start_two_routes(nginx_factory, backends, tmp_path, **kw):
    """shop/web has one endpoint (a test backend), shop/api none (the
    module answers 503)."""
    b = backends("a")
    port = harness.free_port()
    n, _ = start_with_snapshot(
        nginx_factory, tmp_path,
        {"shop/web:http": [b.addrs["a"]], "shop/api:http": []},
        CONF % dict(port=port, web=route(WEB), api=route(API)), [port],
        **kw)
    return n, port


def test_counts_sizes_and_buckets(nginx_factory, backends, tmp_path):
    n, port = start_two_routes(nginx_factory, backends, tmp_path)

    sent = {}       # (ingress, method, status) -> [(request, response)]

    def do(ingress, data, want):
        status, got = raw(port, data)
        assert status == want
        sent.setdefault((ingress, data.split(b" ")[0].decode(), str(status)),
                        []).append((len(data), got))

    for i in range(6):
        do("web", request("GET", "/ok/%d" % i), 200)
    for i in range(3):
        do("web", request("POST", "/form", body=b"x" * (10 * i + 5)), 200)
    for i in range(4):
        do("web", request("GET", "/missing?status=404"), 404)
    for i in range(5):
        do("api", request("GET", "/api/v1/items"), 503)
    for i in range(2):
        assert raw(port, request("GET", "/plain/"))[0] == 200
    # two slow ones: more than 0.15 s each, in the request and the
    # upstream response time
    for i in range(2):
        do("web", request("GET", "/slow?delay=150"), 200)

    fams = scrape(n)

    assert fams[REQUESTS].type == "counter"
    for f in (DURATION, UPSTREAM, REQ_SIZE, RESP_SIZE):
        assert fams[f].type == "histogram"

    # exactly these series: the location without a route is not counted
    series = {(lb["ingress"], lb["method"], lb["status"]): v
              for lb, v in prom_text.samples(fams, REQUESTS)}
    assert series == {k: float(len(v)) for k, v in sent.items()}

    for (ingress, method, status), reqs in sent.items():
        labels = dict(WEB if ingress == "web" else API, method=method,
                      status=status)
        assert prom_text.value(fams, REQUESTS, **labels) == len(reqs)
        for f in (DURATION, REQ_SIZE, RESP_SIZE):
            assert prom_text.value(fams, f + "_count", **labels) == len(reqs)
        # sizes: exact sums and buckets
        assert prom_text.value(fams, REQ_SIZE + "_sum", **labels) == \
            sum(q for q, _ in reqs)
        assert prom_text.buckets(fams, REQ_SIZE, **labels) == \
            expected_buckets([q for q, _ in reqs], SIZE_LE)
        assert prom_text.value(fams, RESP_SIZE + "_sum", **labels) == \
            sum(r for _, r in reqs)
        assert prom_text.buckets(fams, RESP_SIZE, **labels) == \
            expected_buckets([r for _, r in reqs], SIZE_LE)
        assert list(prom_text.buckets(fams, DURATION, **labels)) == TIME_LE
        # every request here went to an upstream (the 503s too: nginx
        # tried shop/api and found no endpoint)
        assert prom_text.value(fams, UPSTREAM + "_count", **labels) == \
            len(reqs)

    # the slow requests: above 0.1 s in both time histograms
    get200 = dict(WEB, method="GET", status="200")
    for f in (DURATION, UPSTREAM):
        b = prom_text.buckets(fams, f, **get200)
        assert b["0.1"] <= 6 and b["+Inf"] == 8
        assert prom_text.value(fams, f + "_sum", **get200) >= 0.3

    # the request lines were short enough for the small buckets
    assert prom_text.buckets(fams, REQ_SIZE, **get200)["100"] == 8

    assert prom_text.value(fams, "kubengx_metrics_routes") == 2
    assert prom_text.value(fams, "kubengx_metrics_cells_used") == 4


def test_table_metrics_follow(nginx_factory, backends, tmp_path):
    """k8s_metrics ends with k8s_status's Prometheus text when there is a
    k8s_zone; ?endpoints=0 leaves the per-endpoint series out."""
    n, port = start_two_routes(nginx_factory, backends, tmp_path)
    assert raw(port, request("GET", "/"))[0] == 200
    fams = scrape(n)
    assert prom_text.value(fams, "kubengx_service_endpoints",
                           service="shop/web:http") == 1
    assert prom_text.value(fams, "kubengx_service_state",
                           service="shop/api:http", state="empty") == 1
    assert prom_text.samples(fams, "kubengx_endpoint_requests_total")
    assert fams["kubengx_propagation_lag_seconds"].type == "histogram"

    fams = scrape(n, path="/metrics?endpoints=0")
    assert not prom_text.samples(fams, "kubengx_endpoint_requests_total")
    assert prom_text.value(fams, REQUESTS, **dict(WEB, method="GET",
                                                  status="200")) == 1
    assert n.get("/metrics?endpoints=2").status == 400
    assert n.get("/metrics", method="POST").status == 405


def test_without_zone_or_routes(nginx_factory):
    """k8s_metrics needs neither a k8s_zone nor routes: a static upstream
    counts the same way, and no route means only kubengx_metrics_*."""
    port = harness.free_port()
    n = nginx_factory(http="""
    server {
        listen 127.0.0.1:%d;
        location = /metrics { k8s_metrics; }
        location / { return 204; }
    }""" % port, ports=[port])
    assert n.get("/").status == 204
    fams = scrape(n)
    assert prom_text.value(fams, "kubengx_metrics_routes") == 0
    assert REQUESTS not in fams
    assert "kubengx_service_endpoints" not in fams


def test_labels_escaped_and_controller(nginx_factory):
    """Controller labels; a hand-written path with quotes, backslashes and
    UTF-8 reaches the text escaped, and reads back the same."""
    port = harness.free_port()
    path = '/caf\u00e9/"q"\\x'
    conf_path = path.replace("\\", "\\\\").replace('"', '\\"')
    n = nginx_factory(http="""
    k8s_metrics_controller class=kubengx namespace=ingress pod=kubengx-7d-x1;
    server {
        listen 127.0.0.1:%d;
        location / {
            k8s_metrics_route namespace=shop ingress=web "path=%s"
                              "host=*.example.com";
            return 200;
        }
        location = /metrics { k8s_metrics; }
    }""" % (port, conf_path), ports=[port])
    assert n.get("/x", method="DELETE").status == 200
    assert n.get("/x", method="FOO").status == 200
    fams = scrape(n)
    found = {lb["method"]: lb for lb, _ in prom_text.samples(fams, REQUESTS)}
    assert set(found) == {"DELETE", "OTHER"}
    assert found["DELETE"] == {
        "controller_class": "kubengx", "controller_namespace": "ingress",
        "controller_pod": "kubengx-7d-x1", "host": "*.example.com",
        "ingress": "web", "namespace": "shop", "path": path,
        "method": "DELETE", "status": "200"}
    # no service= given: no service label
    assert "service" not in found["OTHER"]


def test_cells_full_go_to_status_classes(nginx_factory, backends):
    """k8s_metrics_cells 2: the first two (status, method) pairs are
    counted apart, the others by status class with an empty method."""
    b = backends("a")
    port = harness.free_port()
    n = nginx_factory(http="""
    k8s_metrics_cells 2;
    upstream a { server %s; }
    server {
        listen 127.0.0.1:%d;
        location / { %s proxy_pass http://a; }
        location = /metrics { k8s_metrics; }
    }""" % (b.addrs["a"], port, route(WEB)), ports=[port])
    statuses = [200, 201, 404, 404, 500, 503, 302, 200, 201]
    for s in statuses:
        assert n.get("/?status=%d" % s).status == s
    n.get("/", method="PUT")
    fams = scrape(n)
    got = {(lb["method"], lb["status"]): v
           for lb, v in prom_text.samples(fams, REQUESTS)}
    assert got == {("GET", "200"): 2, ("GET", "201"): 2, ("", "4xx"): 2,
                   ("", "5xx"): 2, ("", "3xx"): 1, ("", "2xx"): 1}
    assert prom_text.value(fams, DURATION + "_count", method="",
                           status="5xx") == 2
    assert prom_text.value(fams, "kubengx_metrics_routes_full") == 1
    assert prom_text.value(fams, "kubengx_metrics_cells_used") == 2


def test_four_workers_share_the_counts(nginx_factory):
    """Requests spread over 4 workers (reuseport) are counted once each,
    and every worker's scrape shows all of them."""
    port = harness.free_port()
    n = nginx_factory(http="""
    server {
        listen 127.0.0.1:%d reuseport;
        add_header X-Worker $pid always;
        location / { %s return 200; }
        location = /metrics { k8s_metrics; }
    }""" % (port, route(WEB)), ports=[port], workers=4)
    total = 400
    pids = set()
    lock = threading.Lock()
    errors = []

    def client(k):
        for i in range(total // 8):
            try:
                r = harness.http_request(port, "/r%d" % i)
                with lock:
                    pids.add(r.headers["x-worker"])
                    if r.status != 200:
                        errors.append(r.status)
            except Exception as e:      # noqa: BLE001 - reported below
                with lock:
                    errors.append(repr(e))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(pids) == 4, pids

    scraped_by = set()

    def every_worker_agrees():
        r = n.get("/metrics")
        scraped_by.add(r.headers["x-worker"])
        v = prom_text.value(prom_text.parse(r.body), REQUESTS,
                            **dict(WEB, method="GET", status="200"))
        assert v == total, v
        return len(scraped_by) == 4

    harness.wait_for(every_worker_agrees, 20, "a scrape from each worker")


def shm_mappings(pid):
    """Shared anonymous mappings of a process (nginx's zones)."""
    with open("/proc/%d/maps" % pid) as f:
        return [line for line in f if "/dev/zero" in line
                or "SYSV" in line]


def test_reload_keeps_counts_of_the_same_routes(nginx_factory):
    """A reload keeps the counters of the routes it still has (same
    labels, also with fewer cells per route), drops those it lost, starts
    new ones at 0; the old zones are unmapped (no growth)."""
    port = harness.free_port()
    old = dict(WEB, ingress="old", path="/old")
    new = dict(WEB, ingress="new", path="/new")

    def conf(routes, cells):
        locs = "".join("        location %s { %s return 200; }\n"
                       % (lb["path"], route(lb)) for lb in routes)
        return """
    k8s_metrics_cells %d;
    server {
        listen 127.0.0.1:%d;
%s        location = /metrics { k8s_metrics; }
    }""" % (cells, port, locs)

    n = nginx_factory(http=conf([WEB, old], 8), ports=[port])
    for i in range(5):
        assert n.get("/").status == 200
    assert n.get("/", method="POST").status == 200
    for i in range(3):
        assert n.get("/old").status == 200
    maps_before = len(shm_mappings(n.pid))

    n.write_conf(conf([WEB, new], 1))
    n.reload()
    for i in range(2):
        assert n.get("/").status == 200
    for i in range(4):
        assert n.get("/new").status == 200
    fams = scrape(n)
    get, post = dict(WEB, method="GET", status="200"), \
        dict(WEB, method="POST", status="200")
    assert prom_text.value(fams, REQUESTS, **get) == 7
    # one cell per route now: the POSTs went to the class cell
    assert prom_text.value(fams, REQUESTS, **dict(WEB, method="",
                                                  status="2xx")) == 1
    assert not prom_text.samples(fams, REQUESTS, **post)
    assert prom_text.value(fams, DURATION + "_count", **get) == 7
    assert prom_text.value(fams, REQUESTS, **dict(new, method="GET",
                                                  status="200")) == 4
    assert not prom_text.samples(fams, REQUESTS, ingress="old")
    assert prom_text.value(fams, "kubengx_metrics_routes_carried") == 1

    for i in range(3):
        n.reload()
    fams = scrape(n)
    assert prom_text.value(fams, REQUESTS, **get) == 7
    assert prom_text.value(fams, "kubengx_metrics_routes_carried") == 2
    assert len(shm_mappings(n.pid)) == maps_before


BAD = [
    ("namespace missing", "k8s_metrics_route ingress=web;",
     r'"namespace=" is required'),
    ("ingress missing", "k8s_metrics_route namespace=shop;",
     r'"ingress=" is required'),
    ("uppercase namespace", "k8s_metrics_route namespace=Shop ingress=web;",
     r'invalid namespace "Shop": expected a DNS-1123 label'),
    ("bad ingress", "k8s_metrics_route namespace=shop ingress=web..x;",
     r'invalid ingress "web..x"'),
    ("unknown key", "k8s_metrics_route namespace=shop ingress=web zone=a;",
     r'invalid parameter "zone=a"'),
    ("no equals", "k8s_metrics_route namespace=shop ingress=web web;",
     r'invalid parameter "web"'),
    ("duplicate key",
     "k8s_metrics_route namespace=shop ingress=web path=/a path=/b;",
     r'duplicate "path="'),
    ("newline in path",
     'k8s_metrics_route namespace=shop ingress=web "path=/a\\nb";',
     r'invalid path'),
    ("relative path", "k8s_metrics_route namespace=shop ingress=web path=a;",
     r'invalid path "a"'),
    ("uppercase host",
     "k8s_metrics_route namespace=shop ingress=web host=Shop.example.com;",
     r'invalid host "Shop.example.com"'),
    ("bad service", "k8s_metrics_route namespace=shop ingress=w service=a_b;",
     r'invalid service "a_b"'),
    ("twice", "k8s_metrics_route namespace=shop ingress=web; "
     "k8s_metrics_route namespace=shop ingress=api;",
     r'"k8s_metrics_route" directive is duplicate'),
]


@pytest.mark.parametrize("what,directive,msg", BAD, ids=[b[0] for b in BAD])
def test_bad_route_refused(nginx_factory, what, directive, msg):
    n = nginx_factory(http="""
    server { listen 127.0.0.1:1; location / { %s return 200; } }"""
                      % directive, start=False)
    t = n.test_config()
    assert t.returncode != 0
    assert re.search(msg, t.stderr), t.stderr
    assert "nginx.conf:" in t.stderr


def test_invalid_utf8_path_refused(nginx_factory):
    n = nginx_factory(http="""
    server { listen 127.0.0.1:1; location / {
        k8s_metrics_route namespace=shop ingress=web path=/a-PLACEHOLDER;
        return 200; } }""", start=False)
    with open(n.conf, "rb") as f:
        text = f.read()
    with open(n.conf, "wb") as f:
        f.write(text.replace(b"PLACEHOLDER", b"\xc3\x28"))
    # nginx echoes the bytes: read its message as bytes
    t = subprocess.run(n._cmd("-t"), capture_output=True, timeout=60,
                       env=n._env())
    assert t.returncode != 0 and b"invalid path" in t.stderr, t.stderr


@pytest.mark.parametrize("http,msg", [
    ("k8s_metrics_cells 0;", r'invalid "k8s_metrics_cells" "0"'),
    ("k8s_metrics_cells 65;", r'expected 1 to 64'),
    ("k8s_metrics_controller class=Bad;", r'invalid class "Bad"'),
    ("k8s_metrics_controller pod=p; k8s_metrics_controller pod=q;",
     r'"k8s_metrics_controller" directive is duplicate'),
    ("k8s_zone k8s_metrics 1m;",
     r'zone name "k8s_metrics" is reserved for the per-request metrics'),
    ("limit_req_zone $binary_remote_addr zone=k8s_metrics:1m rate=1r/s;"
     " server { listen 127.0.0.1:1; location / {"
     " k8s_metrics_route namespace=a ingress=b; } }",
     r'zone name "k8s_metrics" is taken'),
])
def test_bad_http_directives_refused(nginx_factory, http, msg):
    n = nginx_factory(http=http, start=False)
    t = n.test_config()
    assert t.returncode != 0
    assert re.search(msg, t.stderr), t.stderr
