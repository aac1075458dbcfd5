"""The balancing methods of k8s_service (balance=...): distribution, the
shared connection counts (least_conn, random_two), EWMA, hash and
consistent hash; for every method: ejection after max_fails and return
after fail_timeout, retries onto other endpoints, keepalive.

Endpoints come from a k8s_snapshot file (k8s_module_util); the tests that
change them under load go through the stand-in API
(test_module_balance_dynamic.py)."""

import collections
import re
import threading
import time

import pytest

import harness
from k8s_module_util import start_with_snapshot, status, log_lines

METHODS = {
    "round_robin": "balance=round_robin",
    "least_conn": "balance=least_conn",
    "random": "balance=random",
    "random_two": "balance=random_two",
    "ewma": "balance=ewma",
    "hash": "balance=hash hash=$request_uri",
    "chash": "balance=hash hash=$request_uri consistent",
}


def conf(port, upstream, extra="", listen_extra=""):
    return """
    log_format k8s '$request_uri $status up=[$upstream_addr]';
    upstream web { %s }
    server {
        listen 127.0.0.1:%d%s;
        access_log %%s k8s;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        add_header X-Worker $pid always;
        location / { proxy_pass http://web; }
        location = /k8s/status { k8s_status; }
    }
    %s""" % (upstream, port, listen_extra, extra)


def start(nginx_factory, tmp_path, eps, upstream, extra="", workers=1,
          listen_extra="", ports=()):
    port = harness.free_port()
    text = conf(port, upstream, extra, listen_extra) \
        % (tmp_path / "k8s_access.log")
    return start_with_snapshot(nginx_factory, tmp_path,
                               {"shop/web:http": eps}, text,
                               [port] + list(ports), workers=workers)[0]


def access_log(tmp_path):
    with open(str(tmp_path / "k8s_access.log")) as f:
        return f.read().splitlines()


def upstream_addrs(line):
    return [a.strip() for a in
            re.search(r"up=\[(.*)\]", line).group(1).split(",")]


def endpoints(n):
    return {e["address"]: e for e in
            status(n)["services"]["shop/web:http"]["endpoints"]}


def count(n, paths):
    c = collections.Counter()
    for p in paths:
        r = n.get(p)
        assert r.status == 200, r
        c[r.backend] += 1
    return c


def slow_server(b, name):
    """A server block of the front nginx that answers for backend `name`
    after 200 ms (the backend's ?delay), so that one endpoint of the
    Service is slow whatever the request: (extra config, address)."""
    port = harness.free_port()
    extra = """
    server {
        listen 127.0.0.1:%d;
        location / { set $args "delay=200"; proxy_pass http://%s; }
    }""" % (port, b.addrs[name])
    return extra, "127.0.0.1:%d" % port, port


# --- distribution -----------------------------------------------------------

def test_round_robin_even(nginx_factory, backends, tmp_path):
    b = backends("a", "b", "c")
    n = start(nginx_factory, tmp_path, [b.addrs[x] for x in "abc"],
              "k8s_service shop/web port=http balance=round_robin;")
    c = count(n, ["/"] * 300)
    assert c == {"a": 100, "b": 100, "c": 100}, c
    st = status(n)["services"]["shop/web:http"]
    assert st["balance"] == ["round_robin"]


@pytest.mark.parametrize("method", ["random", "random_two"])
def test_random_roughly_even(nginx_factory, backends, tmp_path, method):
    b = backends("a", "b", "c")
    n = start(nginx_factory, tmp_path, [b.addrs[x] for x in "abc"],
              "k8s_service shop/web port=http %s;" % METHODS[method])
    c = count(n, ["/"] * 600)
    # mean 200, sd about 11.5: +-80 is 7 sd, yet a stuck picker fails
    assert set(c) == {"a", "b", "c"}, c
    assert all(120 <= v <= 280 for v in c.values()), c
    # not round robin in disguise: some endpoint repeats in a row
    order = [n.get("/").backend for _ in range(60)]
    assert any(x == y for x, y in zip(order, order[1:])), order


@pytest.mark.parametrize("method", ["least_conn", "random_two"])
def test_busy_endpoint_is_avoided(nginx_factory, backends, tmp_path, method):
    """A slow request holds one endpoint; new requests go elsewhere
    (round robin would send every third one to it)."""
    b = backends("a", "b", "c")
    n = start(nginx_factory, tmp_path, [b.addrs[x] for x in "abc"],
              "k8s_service shop/web port=http %s;" % METHODS[method])
    slow = []
    t = threading.Thread(target=lambda: slow.append(
        n.get("/slow?delay=4000", timeout=20)))
    t.start()
    try:
        busy = harness.wait_for(
            lambda: [a for a, e in endpoints(n).items() if e["active"] == 1],
            10, "the slow request to be in flight")
        assert len(busy) == 1, busy
        t0 = time.monotonic()
        seen = [n.get("/fast").json()["addr"] for _ in range(40)]
        if time.monotonic() - t0 < 3.5:     # the slow one still holds it
            assert busy[0] not in seen, (busy, collections.Counter(seen))
            assert len(set(seen)) == 2, collections.Counter(seen)
    finally:
        t.join(30)
    assert slow and slow[0].status == 200
    assert endpoints(n)[busy[0]]["active"] == 0


def test_least_conn_ties_round_robin(nginx_factory, backends, tmp_path):
    b = backends("a", "b", "c")
    n = start(nginx_factory, tmp_path, [b.addrs[x] for x in "abc"],
              "k8s_service shop/web port=http balance=least_conn;")
    order = [n.get("/").backend for _ in range(30)]
    assert collections.Counter(order) == {"a": 10, "b": 10, "c": 10}
    assert all(x != y for x, y in zip(order, order[1:])), order


def test_ewma_avoids_the_slow_endpoint(nginx_factory, backends, tmp_path):
    b = backends("a", "b", "s")
    extra, slow_addr, slow_port = slow_server(b, "s")
    n = start(nginx_factory, tmp_path, [b.addrs["a"], b.addrs["b"],
                                        slow_addr],
              "k8s_service shop/web port=http balance=ewma;", extra=extra,
              ports=[slow_port])
    c = count(n, ["/"] * 200)
    assert c["s"] <= 10, c
    assert c["a"] >= 50 and c["b"] >= 50, c
    ep = endpoints(n)
    assert ep[slow_addr]["ewma_ms"] >= 150, ep
    assert 0 < ep[b.addrs["a"]]["ewma_ms"] < 100, ep
    assert status(n)["services"]["shop/web:http"]["balance"] == ["ewma"]
    text = n.get("/k8s/status?format=prometheus").text
    assert re.search(r'kubengx_endpoint_ewma_seconds\{service="shop/web:http"'
                     r',endpoint="%s"\} 0\.[12]' % re.escape(slow_addr), text)
    assert 'kubengx_service_balance_info{service="shop/web:http",' \
           'method="ewma"} 1' in text


# --- hashing ----------------------------------------------------------------

@pytest.mark.parametrize("method", ["hash", "chash"])
def test_hash_is_stable_per_key(nginx_factory, backends, tmp_path, method):
    b = backends("a", "b", "c")
    n = start(nginx_factory, tmp_path, [b.addrs[x] for x in "abc"],
              "k8s_service shop/web port=http %s;" % METHODS[method])
    keys = ["/k/%d" % i for i in range(90)]
    first = {k: n.get(k).backend for k in keys}
    for _ in range(2):
        assert {k: n.get(k).backend for k in keys} == first
    spread = collections.Counter(first.values())
    assert set(spread) == {"a", "b", "c"}, spread
    assert min(spread.values()) >= 10, spread
    st = status(n)["services"]["shop/web:http"]
    if method == "chash":
        assert st["balance"] == ["consistent_hash"]
        assert st["ring"] == 3 * 160
    else:
        assert st["balance"] == ["hash"] and st["ring"] == 0


def test_hash_by_cookie_and_empty_key(nginx_factory, backends, tmp_path):
    b = backends("a", "b", "c")
    n = start(nginx_factory, tmp_path, [b.addrs[x] for x in "abc"],
              "k8s_service shop/web port=http balance=hash "
              "hash=$cookie_user consistent;")
    users = {}
    for u in range(30):
        got = {n.get("/x%d" % i, headers={"Cookie": "user=u%d" % u}).backend
               for i in range(3)}
        assert len(got) == 1, (u, got)
        users[u] = got.pop()
    assert len(set(users.values())) >= 2, users
    # no cookie: an empty key falls back to round robin
    c = count(n, ["/"] * 30)
    assert c == {"a": 10, "b": 10, "c": 10}, c


def test_hash_skips_a_failed_endpoint_consistently(nginx_factory, backends,
                                                   tmp_path):
    b = backends("a", "b", "c")
    dead = "127.0.0.1:%d" % harness.free_port()
    n = start(nginx_factory, tmp_path,
              [b.addrs["a"], b.addrs["b"], b.addrs["c"], dead],
              "k8s_service shop/web port=http balance=hash "
              "hash=$request_uri consistent max_fails=1 fail_timeout=60s;")
    keys = ["/k/%d" % i for i in range(80)]
    first = {k: n.get(k) for k in keys}
    assert all(r.status == 200 for r in first.values())
    again = {k: n.get(k).backend for k in keys}
    assert again == {k: r.backend for k, r in first.items()}
    assert endpoints(n)[dead]["failures"] == 1


# --- health and retries, every method --------------------------------------

@pytest.mark.parametrize("method", sorted(METHODS))
def test_ejection_and_return(nginx_factory, backends, tmp_path, method):
    b = backends("a", "b")
    dead = "127.0.0.1:%d" % harness.free_port()
    n = start(nginx_factory, tmp_path, [dead, b.addrs["a"], b.addrs["b"]],
              "k8s_service shop/web port=http %s max_fails=1 "
              "fail_timeout=2s;" % METHODS[method])

    def tried():
        return [l for l in access_log(tmp_path) if dead in l]

    # until the dead endpoint was tried (hash: some key maps to it)
    i = [0]

    def next_request():
        i[0] += 1
        r = n.get("/m%d" % i[0])
        assert r.status == 200 and r.backend in ("a", "b"), r
        return tried()

    harness.wait_for(next_request, 10, "the dead endpoint to be tried")
    t_fail = time.monotonic()
    for _ in range(30):
        next_request()
    if time.monotonic() - t_fail < 1.0:
        assert len(tried()) == 1, tried()      # ejected after one failure
    assert log_lines(n, r"endpoint %s of service \"shop/web:http\" "
                        r"temporarily disabled" % re.escape(dead))
    assert endpoints(n)[dead]["fails"] == 1

    # after fail_timeout it gets one more chance (and fails again)
    before = len(tried())
    harness.wait_for(lambda: len(next_request()) > before, 15,
                     "the dead endpoint to be tried again")
    assert time.monotonic() - t_fail >= 1.0
    assert endpoints(n)[dead]["failures"] == 2


@pytest.mark.parametrize("method", sorted(METHODS))
def test_retries_go_to_other_endpoints(nginx_factory, backends, tmp_path,
                                       method):
    b = backends("a")
    dead1 = "127.0.0.1:%d" % harness.free_port()
    dead2 = "127.0.0.1:%d" % harness.free_port()
    n = start(nginx_factory, tmp_path, [dead1, b.addrs["a"], dead2],
              "k8s_service shop/web port=http %s max_fails=0;"
              % METHODS[method])
    for i in range(20):
        r = n.get("/r%d" % i)
        assert r.status == 200 and r.backend == "a", r
    # nginx logs after answering
    lines = harness.wait_for(
        lambda: [l for l in access_log(tmp_path) if l.startswith("/r")]
        if len([l for l in access_log(tmp_path) if l.startswith("/r")]) == 20
        else None, 10, "20 access log lines")
    retried = 0
    for l in lines:
        addrs = upstream_addrs(l)
        assert addrs[-1] == b.addrs["a"], l
        assert len(addrs) == len(set(addrs)), l    # never the same twice
        retried += len(addrs) > 1
    assert retried > 0, lines


@pytest.mark.parametrize("method", ["least_conn", "ewma", "chash"])
def test_keepalive_composes(nginx_factory, backends, tmp_path, method):
    b = backends("a", "b")
    n = start(nginx_factory, tmp_path, [b.addrs["a"], b.addrs["b"]],
              "k8s_service shop/web port=http %s; keepalive 8;"
              % METHODS[method])
    peers = collections.defaultdict(set)
    for i in range(20):
        j = n.get("/same" if method == "chash" else "/k%d" % i).json()
        peers[j["backend"]].add(j["peer"])
    # one upstream connection per endpoint, reused
    assert all(len(v) == 1 for v in peers.values()), peers


# --- several workers share the state ---------------------------------------

def test_four_workers_share_least_conn_and_ewma(nginx_factory, backends,
                                                tmp_path):
    b = backends("a", "b", "c", "s")
    extra, slow_addr, slow_port = slow_server(b, "s")
    port2 = harness.free_port()
    extra += """
    upstream web_ewma { k8s_service shop/web port=http balance=ewma; }
    server {
        listen 127.0.0.1:%d reuseport;
        add_header X-Worker $pid always;
        location / { proxy_pass http://web_ewma; }
    }""" % port2
    n = start(nginx_factory, tmp_path,
              [b.addrs["a"], b.addrs["b"], b.addrs["c"], slow_addr],
              "k8s_service shop/web port=http balance=least_conn;",
              extra=extra, workers=4, listen_extra=" reuseport",
              ports=[slow_port, port2])

    # EWMA: the samples of one worker steer all of them
    workers = set()
    c = collections.Counter()
    for _ in range(200):
        r = n.get("/", port=port2)
        assert r.status == 200, r
        c[r.backend] += 1
        workers.add(r.headers.get("x-worker"))
    assert len(workers) >= 2, workers
    # per-worker state would send each worker's first requests to "s"
    assert c["s"] <= 4, c
    assert endpoints(n)[slow_addr]["ewma_ms"] >= 150

    # least_conn: a request in flight in one worker is seen by the others
    slow = []
    t = threading.Thread(target=lambda: slow.append(
        n.get("/hold?delay=4000", timeout=20)))
    t.start()
    try:
        busy = harness.wait_for(
            lambda: [a for a, e in endpoints(n).items()
                     if e["active"] == 1], 10, "a request in flight")
        t0 = time.monotonic()
        seen, workers = collections.Counter(), set()
        for _ in range(60):
            r = n.get("/fast")
            seen[r.json()["addr"]] += 1
            workers.add(r.headers.get("x-worker"))
        if time.monotonic() - t0 < 3.5:
            assert busy[0] not in seen, (busy, seen)
        assert len(workers) >= 2, workers
    finally:
        t.join(30)
    assert slow and slow[0].status == 200


# --- configuration ------------------------------------------------------------

@pytest.mark.parametrize("params,msg", [
    ("balance=hash", r'"balance=hash" requires "hash=KEY"'),
    ("balance=least_conn hash=$uri", r'"hash=" requires "balance=hash"'),
    ("balance=ewma consistent", r'"consistent" requires "hash=KEY"'),
    ("balance=fastest", r'unsupported balancing method "balance=fastest"'),
    ("balance=ewma balance=random", r'duplicate "balance="'),
    ("hash=$uri hash=$args", r'duplicate "hash="'),
    ("balance=hash hash=$no_such_variable", r'unknown "no_such_variable"'),
])
def test_nginx_t_refuses(nginx_factory, tmp_path, params, msg):
    port = harness.free_port()
    n = nginx_factory(http="k8s_zone k8s 1m;\n" + conf(
        port, "k8s_service shop/web port=http %s;" % params)
        % (tmp_path / "x.log"), ports=[port], start=False)
    t = n.test_config()
    assert t.returncode != 0, t.stderr
    assert re.search(r"\[emerg\] .*%s" % msg, t.stderr), t.stderr


def test_hash_without_balance_and_local_zone(nginx_factory, backends,
                                             tmp_path):
    """hash= alone means balance=hash; k8s_local_zone without hints in the
    table changes nothing."""
    b = backends("a", "b")
    n = start(nginx_factory, tmp_path, [b.addrs["a"], b.addrs["b"]],
              "k8s_service shop/web port=http hash=$request_uri;",
              extra="k8s_local_zone zone-a;")
    assert status(n)["services"]["shop/web:http"]["balance"] == ["hash"]
    c = count(n, ["/z/%d" % i for i in range(40)])
    assert set(c) == {"a", "b"}, c


def test_bad_local_zone_is_refused(nginx_factory, tmp_path):
    port = harness.free_port()
    n = nginx_factory(http="k8s_zone k8s 1m;\nk8s_local_zone \"a;b\";\n"
                      + conf(port, "k8s_service shop/web port=http;")
                      % (tmp_path / "x.log"), ports=[port], start=False)
    t = n.test_config()
    assert t.returncode != 0
    assert 'invalid zone name "a;b"' in t.stderr, t.stderr
