"""The stream twin of the module (ngx_stream_k8s_module.so): k8s_service in
stream { upstream { } }, reading the http module's table, kept in sync by
the one watcher against the stand-in API server.  Real nginx with
Debian's ngx_stream_module.so, real TCP/UDP backends that say who they
are (stream_backend.py); everything is asserted from outside: the bytes
clients get back, k8s_status, the snapshot file, worker pids and
nginx -t's messages."""

import json
import os
import pathlib
import re
import shutil
import signal
import tempfile
import threading

import pytest

import harness
import manifests as m
from k8s_module_util import parse_snapshot
from stream_util import (STREAM_K8S_MODULE, pod_slice, service,  # noqa: F401
                         stream_backends, stream_load, stream_main, tcp_ask,
                         tcp_name, udp_ask)
from test_module_watch import api_line, put_slice



# --- objects ---------------------------------------------------------------

def seed_file(tmp_path, objs):
    path = os.path.join(str(tmp_path), "seed.json")
    with open(path, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": objs}, f)
    return path


def http_part(api, status_port, extra=""):
    return """
    %s
    k8s_zone k8s 4m;
%s
    server {
        listen 127.0.0.1:%d;
        location = /k8s/status { k8s_status; }
    }
""" % (api_line(api), extra, status_port)


def start(nginx_factory, api, stream, tcp_ports, workers=1, extra_http="",
          **kw):
    sport = harness.free_port()
    n = nginx_factory(http=http_part(api, sport, extra_http),
                      main=stream_main(stream), ports=[sport] + tcp_ports,
                      workers=workers, **kw)
    n.status_port = sport
    return n


def st(n):
    r = harness.http_request(n.status_port, "/k8s/status")
    assert r.status == 200, r
    return r.json()


def wait_names(fn, expected, what, count=12, timeout=15.0):
    """Wait until exactly the names `expected` answer count calls of fn."""
    last = [None]

    def cond():
        seen = set()
        for _ in range(count):
            try:
                seen.add(fn())
            except OSError as e:
                seen.add(repr(e))
        last[0] = seen
        return seen == set(expected)

    try:
        harness.wait_for(cond, timeout, what)
    except harness.Timeout as e:
        raise AssertionError("%s; last seen %s" % (e, last[0]))


# --- tests -----------------------------------------------------------------

def test_tcp_echo_and_udp_reach_their_endpoints(tmp_path, kube_api,
                                                stream_backends,
                                                nginx_factory):
    bk = stream_backends(t1="tcp:127.0.0.1:0", t2="tcp:127.0.0.1:0",
                         u1="udp:127.0.0.1:0", u2="udp:127.0.0.1:0")
    h, t1 = bk.host_port("t1")
    _, t2 = bk.host_port("t2")
    _, u1 = bk.host_port("u1")
    _, u2 = bk.host_port("u2")
    # a database behind one TCP port; DNS on 53 over UDP and TCP, as
    # kube-dns's Service has it (two ports, same number, two protocols)
    objs = [service("db", [(None, 5432, 5432, "TCP")]),
            pod_slice("db", "db-1", h, [("", t1, "TCP")]),
            pod_slice("db", "db-2", h, [("", t2, "TCP")]),
            service("dns", [("dns", 53, "dns", "UDP"),
                            ("dns-tcp", 53, "dns-tcp", "TCP")]),
            pod_slice("dns", "dns-1", h, [("dns", u1, "UDP"),
                                          ("dns-tcp", t1, "TCP")]),
            pod_slice("dns", "dns-2", h, [("dns", u2, "UDP"),
                                          ("dns-tcp", t2, "TCP")])]
    api = kube_api(load=[seed_file(tmp_path, objs)])
    tcp, udp = harness.free_port(), harness.free_port()
    n = start(nginx_factory, api, """
    upstream db  { k8s_service default/db port=5432; }
    upstream dns { k8s_service default/dns port=53 protocol=udp; }
    server { listen 127.0.0.1:%d; proxy_pass db; }
    server {
        listen 127.0.0.1:%d udp;
        proxy_pass dns;
        proxy_responses 1;
        proxy_timeout 2s;
    }""" % (tcp, udp), [tcp])

    wait_names(lambda: tcp_name(tcp), {"t1", "t2"}, "both TCP endpoints")
    assert tcp_ask(tcp, "select 1", "select 2")[1].split(" ", 1)[1] \
        == "select 2"

    wait_names(lambda: udp_ask(udp, "q").split(" ")[0], {"u1", "u2"},
               "both UDP endpoints")
    assert udp_ask(udp, "example.org A").split(" ", 1)[1] == "example.org A"

    s = st(n)
    assert s["watch"]["synced"] is True, s
    db = s["services"]["default/db:5432"]
    assert sorted(e["address"] for e in db["endpoints"]) \
        == sorted([bk.addrs["t1"], bk.addrs["t2"]]), db
    # the UDP port of the same Service, with the UDP slice ports
    dns = s["services"]["default/dns:53/udp"]
    assert sorted(e["address"] for e in dns["endpoints"]) \
        == sorted([bk.addrs["u1"], bk.addrs["u2"]]), dns
    assert dns["balance"] == ["round_robin"], dns


def test_rolling_update_under_new_connections(tmp_path, kube_api,
                                              stream_backends, nginx_factory):
    """Pods replaced one at a time, as a Deployment's rollout does: the new
    one ready, then the old one terminating (out of the ready endpoints),
    then, once nginx no longer picks it, its listener closed; meanwhile
    clients open new connections without pause: none fails, no reload,
    the same workers."""
    old = [stream_backends(**{"old%d" % i: "tcp:127.0.0.1:0"})
           for i in range(3)]
    new = [stream_backends(**{"new%d" % i: "tcp:127.0.0.1:0"})
           for i in range(3)]

    def slice_of(b, name, ready=True):
        h, p = b.host_port(name)
        return pod_slice("db", "db-" + name, h, [("", p, "TCP")],
                         ready=ready, terminating=None if ready else True)

    objs = [service("db", [(None, 5432, 5432, "TCP")])]
    objs += [slice_of(b, "old%d" % i) for i, b in enumerate(old)]
    api = kube_api(load=[seed_file(tmp_path, objs)])
    tcp = harness.free_port()
    n = start(nginx_factory, api, """
    upstream db { k8s_service default/db port=5432 balance=least_conn; }
    server {
        listen 127.0.0.1:%d;
        proxy_connect_timeout 2s;
        proxy_pass db;
    }""" % tcp, [tcp], workers=2)
    wait_names(lambda: tcp_name(tcp), {"old0", "old1", "old2"},
               "the old pods", count=20)
    pids = n.worker_pids()

    stop, done = threading.Event(), threading.Event()
    seen, failures = [], []

    after = []          # names of connections opened after the update

    def client():
        while not stop.is_set():
            opened_after = done.is_set()
            try:
                name = tcp_name(tcp)
            except OSError as e:
                failures.append(repr(e))
                continue
            seen.append(name)
            if opened_after:
                after.append(name)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for i in range(3):
            put_slice(api, slice_of(new[i], "new%d" % i))
            harness.wait_for(lambda: "new%d" % i in seen[-40:], 10,
                             "new%d to get connections" % i)
            put_slice(api, slice_of(old[i], "old%d" % i, ready=False))
            harness.wait_for(lambda: old[i].addrs["old%d" % i] not in [
                e["address"] for e in st(n)["services"]["default/db:5432"]
                ["endpoints"]], 10, "old%d to leave the table" % i)
            old[i].proc.send_signal(signal.SIGUSR1)     # refuses new ones
        # connections opened from now on (one opened before may still end
        # on old2, which had left the table but not closed yet)
        done.set()
        harness.wait_for(lambda: len(after) > 200, 20,
                         "200 more connections after the update")
    finally:
        stop.set()
        for t in threads:
            t.join(30)

    assert not failures, failures[:5]
    assert set(after) == {"new0", "new1", "new2"}, set(after)
    assert n.worker_pids() == pids
    assert "exited on signal" not in n.error_log()


def test_proxy_protocol_to_backend(tmp_path, kube_api, stream_backends,
                                   nginx_factory):
    """proxy_protocol on: the backend gets the PROXY header first; with
    listen ... proxy_protocol too, the client's own header is decoded and
    the backend gets the client's address (ingress-nginx's PROXY:PROXY,
    with set_real_ip_from as its proxy-real-ip-cidr)."""
    bk = stream_backends(t1="tcp:127.0.0.1:0")
    h, p = bk.host_port("t1")
    api = kube_api(load=[seed_file(tmp_path, [
        service("db", [(None, 5432, 5432, "TCP")]),
        pod_slice("db", "db-1", h, [("", p, "TCP")])])])
    enc, both = harness.free_port(), harness.free_port()
    n = start(nginx_factory, api, """
    upstream db { k8s_service default/db port=5432; }
    server { listen 127.0.0.1:%d; proxy_protocol on; proxy_pass db; }
    server {
        listen 127.0.0.1:%d proxy_protocol;
        set_real_ip_from 127.0.0.1;
        proxy_protocol on;
        proxy_pass db;
    }""" % (enc, both), [enc, both])

    def first():
        return tcp_ask(enc, "hello")

    harness.wait_for(lambda: first()[0].startswith("t1 "), 15, "t1")
    got = tcp_ask(enc, "hello")
    assert re.fullmatch(r"t1 PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 \d+ %d"
                        % enc, got[0]), got
    got = tcp_ask(both, "hello",
                  proxy="PROXY TCP4 203.0.113.7 127.0.0.1 40000 %d" % both)
    assert re.fullmatch(r"t1 PROXY TCP4 203\.0\.113\.7 127\.0\.0\.1 40000 %d"
                        % both, got[0]), got
    assert n.worker_pids()


def test_stream_after_http_shares_key_table_and_snapshot(tmp_path, kube_api,
                                                        stream_backends,
                                                        nginx_factory):
    """A stream block after the http block, naming a Service port that an
    http upstream names too: one key, one entry, both methods listed; the
    snapshot holds the stream keys; a reload without the UDP upstream
    frees its entry."""
    bk = stream_backends(t1="tcp:127.0.0.1:0", u1="udp:127.0.0.1:0")
    h, t1 = bk.host_port("t1")
    _, u1 = bk.host_port("u1")
    api = kube_api(load=[seed_file(tmp_path, [
        service("db", [("pg", 5432, "pg", "TCP"),
                       ("stats", 5432, "stats", "UDP")]),
        pod_slice("db", "db-1", h, [("pg", t1, "TCP"),
                                    ("stats", u1, "UDP")])])])
    # workers run as an unprivileged user: the directory must be theirs
    # (pytest's tmp_path is private to root)
    snapdir = tempfile.mkdtemp(prefix="kubengx-snap-")
    os.chmod(snapdir, 0o777)
    snap = pathlib.Path(snapdir) / "endpoints.state"
    tcp, udp = harness.free_port(), harness.free_port()
    stream = """
    upstream db { k8s_service default/db port=pg; }
    %s
    server { listen 127.0.0.1:%d; proxy_pass db; }
    %s"""
    udp_part = ("upstream stats { k8s_service default/db port=stats "
                "protocol=udp; }",
                "server { listen 127.0.0.1:%d udp; proxy_pass stats; "
                "proxy_responses 1; proxy_timeout 2s; }" % udp)
    extra = """    k8s_snapshot %s;
    upstream db_http { k8s_service default/db port=pg balance=least_conn; }
""" % snap
    n = start(nginx_factory, api, "", [], extra_http=extra, start=False)
    n.ports.append(tcp)

    def write(with_udp):
        n.write_conf(http_part(api, n.status_port, extra),
                     main=stream_load())
        with open(n.conf, "a") as f:
            f.write("stream {%s\n}\n" % (stream % (
                udp_part[0] if with_udp else "", tcp,
                udp_part[1] if with_udp else "")))

    write(True)
    n.start()
    with open(n.conf) as f:
        text = f.read()
    assert text.index("http {") < text.index("stream {")

    harness.wait_for(lambda: tcp_name(tcp) == "t1", 15, "t1 over TCP")
    assert udp_ask(udp, "x") == "u1 x"
    s = st(n)
    assert s["services"]["default/db:pg"]["balance"] \
        == ["round_robin", "least_conn"], s["services"]
    assert [e["address"] for e in
            s["services"]["default/db:stats/udp"]["endpoints"]] \
        == [bk.addrs["u1"]]
    harness.wait_for(lambda: snap.exists() and parse_snapshot(snap).get(
        "default/db:stats/udp") == ("ready", [bk.addrs["u1"]]), 10,
        "the snapshot to hold the UDP key")
    zone = s["zone_services"]

    write(False)
    n.reload()
    harness.wait_for(lambda: "default/db:stats/udp" not in
                     st(n)["services"] and st(n)["zone_services"]
                     == zone - 1, 10, "the UDP entry to be freed")
    assert tcp_name(tcp) == "t1"
    shutil.rmtree(snapdir, ignore_errors=True)


@pytest.mark.parametrize("balance,spread", [
    ("balance=round_robin", 2), ("balance=least_conn", 2),
    ("balance=random_two", 2), ("hash=$remote_addr", 1),
    ("hash=$remote_addr consistent", 1)])
def test_balancing_methods(tmp_path, kube_api, stream_backends,
                           nginx_factory, balance, spread):
    bk = stream_backends(t1="tcp:127.0.0.1:0", t2="tcp:127.0.0.1:0")
    h, t1 = bk.host_port("t1")
    _, t2 = bk.host_port("t2")
    api = kube_api(load=[seed_file(tmp_path, [
        service("db", [(None, 5432, 5432, "TCP")]),
        pod_slice("db", "db-1", h, [("", t1, "TCP")]),
        pod_slice("db", "db-2", h, [("", t2, "TCP")])])])
    tcp = harness.free_port()
    n = start(nginx_factory, api, """
    upstream db { k8s_service default/db port=5432 %s; }
    server { listen 127.0.0.1:%d; proxy_pass db; }""" % (balance, tcp),
              [tcp])
    harness.wait_for(lambda: len(st(n)["services"]["default/db:5432"]
                                 ["endpoints"]) == 2, 15, "2 endpoints")
    names = [tcp_name(tcp) for _ in range(40)]
    assert set(names) <= {"t1", "t2"}
    # every client comes from 127.0.0.1: one hash key, one endpoint
    assert len(set(names)) == spread, names


NO_ZONE = "no k8s_zone"


@pytest.mark.parametrize("stream,message", [
    ("upstream u { k8s_service default/db; }", NO_ZONE),
    ("upstream u { k8s_service default/db balance=ewma; }",
     "\"balance=ewma\" times HTTP responses"),
    ("upstream u { k8s_service default/db protocol=sctp; }",
     "invalid value \"protocol=sctp\""),
    ("upstream u { k8s_service default/db protocol=udp protocol=tcp; }",
     "duplicate \"protocol=\""),
    ("upstream u { server 127.0.0.1:1; k8s_service default/db; }",
     "cannot be combined with \"server\""),
    ("upstream u { least_conn; k8s_service default/db; }",
     "cannot be combined with another balancer"),
    ("upstream u { k8s_service default/db port=x_y; }", "invalid port"),
    ("upstream u { k8s_service db; }", "expected NAMESPACE/NAME"),
])
def test_refused_configurations(nginx_factory, stream, message):
    http = "" if message == NO_ZONE else "k8s_zone k8s 1m;"
    n = nginx_factory(http=http, main=stream_main(
        stream + "\nserver { listen 127.0.0.1:%d; proxy_pass u; }"
        % harness.free_port()), start=False)
    t = n.test_config()
    assert t.returncode != 0, t.stderr
    if message == NO_ZONE:
        message = ("\"k8s_service\" in stream{} requires a \"k8s_zone\" "
                   "in the http block")
    assert message in t.stderr, t.stderr


def test_load_order(nginx_factory):
    """ngx_stream_k8s_module.so needs ngx_http_k8s_module.so and
    ngx_stream_module.so loaded before it: another order fails at load
    time, naming a missing symbol; a config without k8s_service in stream
    works with all three loaded, and one with only http needs neither
    stream module."""
    n = nginx_factory(module=False, main="load_module %s;\n%s" % (
        STREAM_K8S_MODULE, stream_main("", k8s=False)), start=False)
    t = n.test_config()
    assert t.returncode != 0
    assert "ngx_stream_k8s_module.so" in t.stderr, t.stderr
    assert "undefined symbol" in t.stderr, t.stderr

    n = nginx_factory(name="ok", http="k8s_zone k8s 1m;",
                      main=stream_main(""), start=False)
    t = n.test_config()
    assert t.returncode == 0, t.stderr


@pytest.mark.parametrize("balance", ["balance=round_robin",
                                     "balance=least_conn",
                                     "balance=random_two"])
def test_passive_health_ejects_and_returns(tmp_path, kube_api,
                                           stream_backends, nginx_factory,
                                           balance):
    """max_fails=1 fail_timeout=2s: an endpoint nobody listens on is tried
    once, counted in k8s_status, left alone while its fail_timeout runs
    (every connection lands on the live one, also with proxy_next_upstream
    off, so a pick of the dead one would show as a failed connection), then
    tried once more after it."""
    import time
    bk = stream_backends(t1="tcp:127.0.0.1:0")
    h, t1 = bk.host_port("t1")
    dead = harness.free_port()
    api = kube_api(load=[seed_file(tmp_path, [
        service("db", [(None, 5432, 5432, "TCP")]),
        pod_slice("db", "db-1", h, [("", t1, "TCP")]),
        pod_slice("db", "db-2", h, [("", dead, "TCP")])])])
    tcp = harness.free_port()
    n = start(nginx_factory, api, """
    upstream db { k8s_service default/db port=5432 %s max_fails=1
                  fail_timeout=2s; }
    server { listen 127.0.0.1:%d; proxy_pass db;
             proxy_next_upstream off; proxy_connect_timeout 1s; }"""
              % (balance, tcp), [tcp])

    def ep(port):
        eps = st(n)["services"]["default/db:5432"]["endpoints"]
        return {e["address"]: e for e in eps}.get("%s:%d" % (h, port))

    harness.wait_for(lambda: ep(t1) and ep(dead), 15, "both endpoints")

    failed = []

    def next_conn():
        try:
            assert tcp_name(tcp, timeout=3.0) == "t1"
        except (OSError, IndexError, AssertionError) as e:
            failed.append(repr(e))
        return ep(dead)["failures"] >= 1

    harness.wait_for(next_conn, 15, "the dead endpoint to be tried")
    # the harness's start probe may have been that connection
    assert len(failed) <= 1, failed
    assert ep(dead)["fails"] == 1

    # ejected: the next connections all reach t1 (well within 2 s)
    t0 = time.monotonic()
    ok = [tcp_name(tcp, timeout=3.0) for _ in range(10)]
    if time.monotonic() - t0 < 1.5:
        assert ok == ["t1"] * 10, ok
        assert ep(dead)["failures"] == 1

    # after fail_timeout it gets one more chance, and fails again
    harness.wait_for(lambda: next_conn() and ep(dead)["failures"] >= 2, 20,
                     "the dead endpoint to be tried again")
    assert ep(t1)["failures"] == 0
