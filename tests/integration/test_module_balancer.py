"""The k8s_service balancer: round robin, passive health checks
(max_fails / fail_timeout), retries onto another endpoint, keepalive,
$upstream_addr, and 503 for Services without endpoints."""

import collections
import re
import time

import harness
from k8s_module_util import start_with_snapshot, status, log_lines


def conf(port, upstream="k8s_service shop/web port=http;", extra=""):
    return """
    log_format k8s '$request_uri $status up=[$upstream_addr]';
    upstream web { %s }
    server {
        listen 127.0.0.1:%d;
        access_log %%s k8s;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        location / { proxy_pass http://web; }
        location = /k8s/status { k8s_status; }
        %s
    }""" % (upstream, port, extra)


def start(nginx_factory, tmp_path, services, port, **kw):
    text = conf(port, **kw) % (tmp_path / "k8s_access.log")
    return start_with_snapshot(nginx_factory, tmp_path, services, text,
                               [port])[0]


def access_log(tmp_path):
    with open(str(tmp_path / "k8s_access.log")) as f:
        return f.read().splitlines()


def test_round_robin_distribution(nginx_factory, backends, tmp_path):
    b = backends("a", "b", "c")
    port = harness.free_port()
    n = start(nginx_factory, tmp_path,
              {"shop/web:http": [b.addrs[x] for x in "abc"]}, port)
    order = [n.get("/").backend for _ in range(30)]
    assert collections.Counter(order) == {"a": 10, "b": 10, "c": 10}
    # smooth round robin with equal weights: never the same one twice
    assert all(x != y for x, y in zip(order, order[1:]))


def test_upstream_addr_is_logged(nginx_factory, backends, tmp_path):
    b = backends("a", "b")
    port = harness.free_port()
    n = start(nginx_factory, tmp_path,
              {"shop/web:http": [b.addrs["a"], b.addrs["b"]]}, port)
    for i in range(4):
        assert n.get("/u%d" % i).status == 200
    lines = [l for l in access_log(tmp_path) if l.startswith("/u")]
    addrs = [re.search(r"up=\[(.*)\]", l).group(1) for l in lines]
    assert sorted(set(addrs)) == sorted([b.addrs["a"], b.addrs["b"]])


def test_retry_lands_on_another_endpoint(nginx_factory, backends, tmp_path):
    b = backends("a")
    dead = "127.0.0.1:%d" % harness.free_port()
    port = harness.free_port()
    n = start(nginx_factory, tmp_path,
              {"shop/web:http": [dead, b.addrs["a"]]}, port,
              upstream="k8s_service shop/web port=http max_fails=0;")
    for i in range(6):
        r = n.get("/r%d" % i)
        assert r.status == 200 and r.backend == "a", r
    lines = [l for l in access_log(tmp_path) if l.startswith("/r")]
    # every other request tried the dead endpoint first, then "a"
    assert any("up=[%s, %s]" % (dead, b.addrs["a"]) in l for l in lines)
    assert all(l.endswith(b.addrs["a"] + "]") for l in lines)


def test_max_fails_ejects_and_returns(nginx_factory, backends, tmp_path):
    b = backends("a")
    dead = "127.0.0.1:%d" % harness.free_port()
    port = harness.free_port()
    n = start(nginx_factory, tmp_path,
              {"shop/web:http": [dead, b.addrs["a"]]}, port,
              upstream="k8s_service shop/web port=http max_fails=1 "
                       "fail_timeout=3s;")
    t0 = time.monotonic()
    for i in range(10):
        assert n.get("/m%d" % i).backend == "a"
    tried = [l for l in access_log(tmp_path) if dead in l]
    if time.monotonic() - t0 < 3:
        assert len(tried) == 1, tried     # ejected after one failure
    assert log_lines(n, r"endpoint %s of service \"shop/web:http\" "
                        r"temporarily disabled" % re.escape(dead))
    ep = {e["address"]: e for e in
          status(n)["services"]["shop/web:http"]["endpoints"]}
    assert ep[dead]["fails"] == 1 and ep[dead]["failures"] == 1

    # once fail_timeout has passed, the next request tries the dead
    # endpoint again (then "a"), which ejects it again
    ejected = time.monotonic()
    before = len(tried)

    def tried_again():
        assert n.get("/n").backend == "a"
        return len([l for l in access_log(tmp_path) if dead in l]) > before

    harness.wait_for(tried_again, 10, "the dead endpoint to be tried again",
                     interval=0.2)
    assert time.monotonic() - ejected >= 2.0    # not before fail_timeout
    for i in range(4):
        assert n.get("/p%d" % i).backend == "a"
    tried = [l for l in access_log(tmp_path) if dead in l]
    assert len(tried) == before + 1, tried    # tried again, ejected again


def test_keepalive_reuses_upstream_connections(nginx_factory, backends,
                                               tmp_path):
    b = backends("a")
    port = harness.free_port()
    n = start(nginx_factory, tmp_path, {"shop/web:http": [b.addrs["a"]]},
              port, upstream="k8s_service shop/web port=http; keepalive 4;")
    peers = {n.get("/").json()["peer"] for _ in range(5)}
    assert len(peers) == 1, peers


def test_without_keepalive_connections_are_new(nginx_factory, backends,
                                               tmp_path):
    b = backends("a")
    port = harness.free_port()
    # nginx 1.29.7 made "keepalive 32 local" the default of an upstream
    # block; "keepalive 0" (refused by older nginx) turns it off
    upstream = "k8s_service shop/web port=http;"
    if harness.nginx_version() >= (1, 29, 7):
        upstream += " keepalive 0;"
    n = start(nginx_factory, tmp_path, {"shop/web:http": [b.addrs["a"]]},
              port, upstream=upstream)
    peers = {n.get("/").json()["peer"] for _ in range(3)}
    assert len(peers) == 3, peers


def test_unavailable_services_answer_503(nginx_factory, backends, tmp_path):
    b = backends("a")
    port = harness.free_port()
    extra = """
        location /empty/ { proxy_pass http://empty; }
        location /absent/ { proxy_pass http://absent; }
        location /unsynced/ { proxy_pass http://unsynced; }
    }
    upstream empty { k8s_service shop/empty; }
    upstream absent { k8s_service shop/absent; }
    upstream unsynced { k8s_service shop/unsynced port=8080; }
    server { listen 127.0.0.1:%d;""" % harness.free_port()
    n = start(nginx_factory, tmp_path,
              {"shop/web:http": [b.addrs["a"]], "shop/empty": [],
               "shop/absent": "absent"}, port, extra=extra)
    assert n.get("/").status == 200
    for path in ("/empty/", "/absent/", "/unsynced/"):
        assert n.get(path).status == 503, path
    assert log_lines(n, r'service "shop/empty" has no ready endpoints')
    assert log_lines(n, r'service "shop/absent" is unknown')
    assert log_lines(n, r'service "shop/unsynced:8080" is not synced yet')
    s = status(n)["services"]
    assert s["shop/empty"]["state"] == "empty"
    assert s["shop/absent"]["state"] == "absent"
    assert s["shop/unsynced:8080"]["state"] == "unsynced"
    for k in ("shop/empty", "shop/absent", "shop/unsynced:8080"):
        assert s[k]["unavailable"] == 1, k
    assert s["shop/web:http"]["unavailable"] == 0


def test_proxy_pass_https_does_not_crash(nginx_factory, backends, tmp_path):
    """nginx calls set_session/save_session for https upstreams; the
    backend speaks plain HTTP, so the answer is a 502, not a crash."""
    b = backends("a")
    port = harness.free_port()
    n = start(nginx_factory, tmp_path, {"shop/web:http": [b.addrs["a"]]},
              port, extra="location /tls/ { proxy_pass https://web; }")
    assert n.get("/tls/").status == 502
    assert n.get("/").status == 200
    assert "signal 11" not in n.error_log()


def test_zone_directive_in_the_upstream(nginx_factory, backends, tmp_path):
    b = backends("a")
    port = harness.free_port()
    n = start(nginx_factory, tmp_path, {"shop/web:http": [b.addrs["a"]]},
              port, upstream="k8s_service shop/web port=http; zone z 64k;")
    assert n.get("/").backend == "a"
