"""A Service without endpoints answers 503 whatever proxies to it
(proxy_pass, grpc_pass): the balancer says why in the error log and
nginx's own 503 page is sent instead of the 502 nginx's upstream would
answer (ngx_module/ngx_http_k8s_unavailable.c)."""

import http.client
import socket

import harness
from k8s_module_util import log_lines, start_with_snapshot, status


CONF = """
    upstream web { k8s_service shop/web port=http; }
    upstream empty { k8s_service shop/empty port=http; }
    upstream absent { k8s_service shop/absent port=http; }
    upstream unsynced { k8s_service shop/unsynced port=http; }
    upstream grpc_empty { k8s_service shop/grpc port=grpc; keepalive 8; }
    upstream k8s_dispatch { k8s_dispatch; }
    server {
        listen 127.0.0.1:%d;
        location / { proxy_pass http://web; }
        location /empty/ { proxy_pass http://empty; }
        location /absent/ { proxy_pass http://absent; }
        location /unsynced/ { proxy_pass http://unsynced; }
        location /dispatch/ {
            k8s_backend shop/empty port=http;
            proxy_pass http://k8s_dispatch;
        }
        location /grpc.Health/ { grpc_pass grpc://grpc_empty; }
        location /grpc-unsynced/ { grpc_pass grpc://unsynced; }
        location = /k8s/status { k8s_status; }
    }"""


def start(nginx_factory, backends, tmp_path):
    b = backends("a")
    port = harness.free_port()
    n, _ = start_with_snapshot(
        nginx_factory, tmp_path,
        {"shop/web:http": [b.addrs["a"]], "shop/empty:http": [],
         "shop/absent:http": "absent", "shop/grpc:grpc": []},
        CONF % port, [port])
    return n


def test_proxy_pass_and_grpc_pass_answer_503(nginx_factory, backends,
                                             tmp_path):
    n = start(nginx_factory, backends, tmp_path)
    assert n.get("/").status == 200
    cases = [("/empty/", "shop/empty:http", "has no ready endpoints"),
             ("/absent/", "shop/absent:http", r"is unknown \(no EndpointSlice\)"),
             ("/unsynced/", "shop/unsynced:http", "is not synced yet"),
             ("/dispatch/", "shop/empty:http", "has no ready endpoints"),
             ("/grpc.Health/Check", "shop/grpc:grpc", "has no ready endpoints"),
             ("/grpc-unsynced/x", "shop/unsynced:http", "is not synced yet")]
    for path, key, why in cases:
        before = len(log_lines(n, r'service "%s" %s' % (key, why)))
        r = n.get(path, method="POST" if "grpc" in path else "GET",
                  headers={"Content-Type": "application/grpc", "TE":
                           "trailers"} if "grpc" in path else None,
                  body=b"\0\0\0\0\0" if "grpc" in path else None)
        assert r.status == 503, (path, r)
        assert b"503 Service Temporarily Unavailable" in r.body, r
        assert r.headers["content-type"] == "text/html", r.headers
        assert int(r.headers["content-length"]) == len(r.body)
        assert len(log_lines(n, r'service "%s" %s' % (key, why))) == \
            before + 1, path
    s = status(n)["services"]
    assert s["shop/empty:http"]["unavailable"] == 2
    assert s["shop/grpc:grpc"]["unavailable"] == 1
    assert s["shop/unsynced:http"]["unavailable"] == 2
    assert s["shop/web:http"]["unavailable"] == 0
    # the access log has the 503 (nginx's upstream saw a 502)
    with open(n.prefix + "/access.log") as f:
        lines = [l for l in f if "/grpc.Health/Check" in l]
    assert lines and '" 503 ' in lines[-1], lines


def test_503_keeps_the_connection(nginx_factory, backends, tmp_path):
    """The 503 is a complete answer on a kept-alive connection: the next
    request on it is served (a 503 again, then a 200), and HEAD gets the
    header only."""
    n = start(nginx_factory, backends, tmp_path)
    conn = http.client.HTTPConnection("127.0.0.1", n.ports[0], timeout=10)
    try:
        for path, want in (("/empty/", 503), ("/empty/", 503), ("/", 200),
                           ("/absent/", 503)):
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read()
            assert r.status == want, (path, r.status, body)
            assert r.getheader("connection") != "close", path
        sock = conn.sock
        conn.request("HEAD", "/empty/")
        r = conn.getresponse()
        assert r.status == 503 and r.read() == b""
        assert conn.sock is sock       # still the same connection
    finally:
        conn.close()


def test_error_page_does_not_turn_it_into_a_502(nginx_factory, tmp_path):
    """error_page 502 in the location does not catch it (the Service's
    answer is the 503), while a 502 of an endpoint that refuses the
    connection still goes to that error page."""
    port = harness.free_port()
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))       # a port nobody listens on
    dead_addr = "127.0.0.1:%d" % dead.getsockname()[1]
    conf = """
    upstream empty { k8s_service shop/empty port=http; }
    upstream dead { k8s_service shop/dead port=http; }
    server {
        listen 127.0.0.1:%d;
        error_page 502 /502.html;
        location = /502.html { return 200 "custom 502 page"; }
        location /empty/ { proxy_pass http://empty; }
        location /dead/ { proxy_pass http://dead; }
    }""" % port
    n, _ = start_with_snapshot(nginx_factory, tmp_path,
                               {"shop/empty:http": [],
                                "shop/dead:http": [dead_addr]}, conf, [port])
    try:
        r = n.get("/empty/")
        assert r.status == 503 and b"503 Service" in r.body, r
        r = n.get("/dead/")
        assert r.status == 502 and r.body == b"custom 502 page", r
    finally:
        dead.close()


def test_503_over_http2(nginx_factory, backends, tmp_path):
    """A gRPC client speaks HTTP/2: the 503 is a complete HTTP/2 answer
    (curl, prior knowledge), then the server serves the next request."""
    b = backends("a")
    port = harness.free_port()
    conf = """
    upstream web { k8s_service shop/web port=http; }
    upstream grpc_empty { k8s_service shop/grpc port=grpc; }
    server {
        listen 127.0.0.1:%d http2;
        location / { proxy_pass http://web; }
        location /grpc.Health/ { grpc_pass grpc://grpc_empty; }
    }""" % port
    n, _ = start_with_snapshot(nginx_factory, tmp_path,
                               {"shop/web:http": [b.addrs["a"]],
                                "shop/grpc:grpc": []}, conf, [port])
    base = "http://127.0.0.1:%d" % port
    r = harness.curl(base + "/grpc.Health/Check", "--http2-prior-knowledge",
                     "-X", "POST", "-H", "content-type: application/grpc",
                     "--data-binary", "@/dev/null")
    assert r.status == 503, r
    assert b"503 Service Temporarily Unavailable" in r.body, r
    assert log_lines(n, r'service "shop/grpc:grpc" has no ready endpoints')
    r = harness.curl(base + "/x", "--http2-prior-knowledge")
    assert r.status == 200 and r.backend == "a", r
