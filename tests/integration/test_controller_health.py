"""The health port (/healthz, /readyz, /metrics on --metrics-port) under
abuse, and what /readyz means.

- 2000 idle connections held open, and a slowloris client sending its
  request a byte at a time, do not make a probe fail or wait: kubelet's
  liveness probe would restart the pod, and nginx with it.
- /readyz answers 200 only once nginx answers on its http port, not as
  soon as a config is written (nginx may still be starting).
- Without --metrics-address the port is on every address of the pod,
  IPv4 and IPv6 (kubelet probes the pod IP, of either family)."""

import resource
import socket
import time

import harness
from manifests import backend_service, ingress, ingress_class, path, rule
from test_controller import controllers, routed_to  # noqa: F401 (fixture)

IDLE = 2000


def probe(port, p, addr="127.0.0.1"):
    """One probe as kubelet makes it: a fresh connection, 1 s timeout.
    Returns (status, seconds)."""
    t0 = time.monotonic()
    r = harness.http_request(port, p, addr=addr, timeout=1)
    return r.status, time.monotonic() - t0


def stack(kube_api, backends, controllers, **kw):
    bk = backends("a")
    api = kube_api()
    api.create(ingress_class("kubengx"))
    for o in backend_service(bk, "web", "a", port_name=None):
        api.create(o)
    api.create(ingress("site", [rule("a.example.com",
                                     path("/", "web", 80))]))
    return api, controllers(api, **kw)


def test_idle_and_slow_connections_do_not_starve_probes(kube_api, backends,
                                                        controllers):
    api, ctl = stack(kube_api, backends, controllers)
    ctl.wait_ready()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < IDLE + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, IDLE + 500),
                                                    hard))
    held = []
    try:
        # the slowloris client: a request head that never ends
        slow = socket.create_connection(("127.0.0.1", ctl.metrics_port))
        slow.sendall(b"GET /healthz HTTP/1.1\r\n")
        held.append(slow)
        for _ in range(IDLE):
            held.append(socket.create_connection(("127.0.0.1",
                                                  ctl.metrics_port)))

        worst = 0.0
        deadline = time.monotonic() + 6
        n = 0
        while time.monotonic() < deadline:
            for p in ("/healthz", "/readyz"):
                status, took = probe(ctl.metrics_port, p)
                assert status == 200, (p, status)
                worst = max(worst, took)
                n += 1
            try:
                slow.sendall(b"X")
            except OSError:
                pass        # cut: its head did not arrive in time
            time.sleep(0.05)
        assert worst < 1.0, worst
        assert n > 20
        m = ctl.metrics()
        assert m['kubengx_health_connections_dropped_total'
                 '{reason="evicted"}'] >= IDLE - 200
        assert ctl.get("/", host="a.example.com").backend == "a"
        assert ctl.proc.poll() is None
    finally:
        for s in held:
            s.close()


def test_slowloris_alone_is_cut(kube_api, backends, controllers):
    """A head that never ends is closed within a few seconds, unanswered;
    probes meanwhile are answered at once."""
    api, ctl = stack(kube_api, backends, controllers)
    ctl.wait_ready()
    s = socket.create_connection(("127.0.0.1", ctl.metrics_port))
    try:
        s.settimeout(0.2)
        s.sendall(b"GET /metrics HTTP/1.1\r\n")
        t0 = time.monotonic()
        got = None
        while time.monotonic() - t0 < 10:
            try:
                s.sendall(b"X-Slow: 1\r\n")
                got = s.recv(100)
            except socket.timeout:
                got = None
            except OSError:
                got = b""
            if got == b"":
                break
            assert got is None, got
            status, took = probe(ctl.metrics_port, "/healthz")
            assert status == 200 and took < 1.0
        assert got == b"", "the slow client was never cut"
        assert time.monotonic() - t0 < 6
    finally:
        s.close()
    assert ctl.metric('kubengx_health_connections_dropped_total'
                      '{reason="timeout"}') >= 1


def test_readyz_only_once_nginx_answers(tmp_path, kube_api, backends,
                                        controllers):
    """nginx takes 3 s to start (a wrapper sleeps before it): meanwhile
    the config is written and /healthz is 200, but /readyz is 503 while
    nginx's port is closed, and 200 only once nginx answers there."""
    w = tmp_path / "nginx-slow-start"
    w.write_text('#!/bin/sh\nt=\nfor a; do [ "$a" = -t ] && t=1; done\n'
                 '[ -z "$t" ] && sleep 3\nexec %s "$@"\n' % harness.NGINX)
    w.chmod(0o755)
    api, ctl = stack(kube_api, backends, controllers,
                     args=["--nginx", str(w)])

    seen_503 = False
    deadline = time.monotonic() + 30
    while True:
        assert time.monotonic() < deadline, ctl.text()
        assert ctl.proc.poll() is None, ctl.text()
        try:
            r = harness.http_request(ctl.metrics_port, "/readyz", timeout=1)
        except OSError:
            continue            # the health port is not open yet
        port_open = harness.port_open("127.0.0.1", ctl.http_port)
        if r.status == 200:
            # nginx answered before /readyz said so: its port is open
            assert port_open, "/readyz 200 before nginx listens"
            break
        assert r.status == 503
        if not port_open and "sync: " in ctl.text():
            # the config is applied, nginx is not there yet
            seen_503 = True
            assert probe(ctl.metrics_port, "/healthz")[0] == 200
        time.sleep(0.05)
    assert seen_503, ctl.text()
    assert routed_to(ctl, "a.example.com", "/", "a")()
    assert ctl.metric("kubengx_ready") == 1
    assert "nginx answers on 127.0.0.1:%d" % ctl.http_port in ctl.text()


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_health_port_on_every_address_by_default(kube_api, backends,
                                                 controllers):
    api, ctl = stack(kube_api, backends, controllers, metrics_address=None)
    ctl.wait_ready()
    assert probe(ctl.metrics_port, "/healthz", "127.0.0.1")[0] == 200
    if ipv6_loopback():
        assert probe(ctl.metrics_port, "/healthz", "::1")[0] == 200
        assert "health and metrics on [::]:%d (every address)" \
            % ctl.metrics_port in ctl.text()
