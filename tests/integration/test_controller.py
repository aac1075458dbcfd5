"""`kubengx controller` against the stand-in API with a real nginx child
and real backends: routes follow Ingress/Service edits, a rotated TLS
Secret is served, a Secret nginx could not load is refused before nginx
-t (its host loses https, an Event is posted), reload counts from
/metrics, endpoint churn and no-op Service edits cause no reload, SIGTERM
stops nginx gracefully.

Every check is made from outside (HTTP to nginx, /metrics, the API)."""

import os
import re
import signal
import subprocess
import time

import pytest

import harness
from manifests import (backend_service, endpoint, ingress, ingress_class,
                       path, rule, secret_tls, self_signed, service,
                       slice_, svc_port)

ING = "/apis/networking.k8s.io/v1/namespaces/default/ingresses/"
SVC = "/api/v1/namespaces/default/services/"
SECRET = "/api/v1/namespaces/default/secrets/"
SLICES = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/"


class Controller:
    """One `kubengx controller` with its own conf dir and ports."""

    def __init__(self, tmp, api, name="ctl", endpoints="static", args=(),
                 metrics_address="127.0.0.1", allow_loopback=True):
        self.dir = os.path.join(str(tmp), name)
        os.makedirs(self.dir, exist_ok=True)
        self.http_port = harness.free_port()
        self.https_port = harness.free_port()
        self.metrics_port = harness.free_port()
        self.status_port = harness.free_port()
        self.identity = name
        self.log_path = os.path.join(self.dir, "controller.log")
        cmd = [harness.KUBENGX, "controller",
               "--kubeconfig", api.kubeconfig,
               "--nginx", harness.NGINX,
               "--conf-dir", self.dir,
               "--endpoints", endpoints,
               "--listen-address", "127.0.0.1",
               "--http-port", str(self.http_port),
               "--https-port", str(self.https_port),
               "--metrics-port", str(self.metrics_port),
               "--status-port", str(self.status_port),
               "--worker-processes", "1",
               "--election-identity", name,
               "--sync-holdoff", "100ms", "--sync-max-delay", "1s"]
        if endpoints == "module":
            cmd += ["--module", harness.MODULE]
            if allow_loopback:
                # the backends listen on 127.0.0.x
                cmd += ["--allow-loopback-endpoints"]
        if metrics_address is not None:
            cmd += ["--metrics-address", metrics_address]
        cmd += list(args)
        self.log = open(self.log_path, "w")
        # nginx is the controller's child: in a SAN=1 build it needs the
        # ASan runtime preloaded to load the module
        self.proc = subprocess.Popen(cmd, stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     env=harness.san_env(self.dir))

    def text(self):
        with open(self.log_path) as f:
            return f.read()

    def metrics(self):
        r = harness.http_request(self.metrics_port, "/metrics", timeout=5)
        assert r.status == 200
        out = {}
        for line in r.text.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
        return out

    def metric(self, name):
        return self.metrics().get(name, 0.0)

    def reloads(self):
        return self.metric("kubengx_reloads_total")

    def ready(self):
        if self.proc.poll() is not None:
            raise AssertionError("controller exited %s:\n%s"
                                 % (self.proc.returncode, self.text()))
        r = harness.http_request(self.metrics_port, "/readyz", timeout=5)
        return r.status == 200 and harness.port_open("127.0.0.1",
                                                     self.http_port)

    def wait_ready(self, timeout=20):
        harness.wait_for(self.ready, timeout, "controller %s ready"
                         % self.identity)
        return self

    def get(self, p="/", host=None):
        return harness.http_request(self.http_port, p, host=host, timeout=5)

    def nginx_pid(self):
        try:
            with open(os.path.join(self.dir, "nginx.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self):
        pid = self.nginx_pid()
        harness.stop_process(self.proc, signal.SIGTERM, timeout=15)
        if pid and os.path.exists("/proc/%d" % pid):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        self.log.close()


@pytest.fixture
def controllers(tmp_path):
    started = []

    def make(api, **kw):
        c = Controller(tmp_path, api, **kw)
        started.append(c)
        return c

    yield make
    for c in started:
        c.stop()


def routed_to(ctl, host, p, backend):
    def cond():
        r = ctl.get(p, host=host)
        return r.status == 200 and r.backend == backend
    return cond


def status_of(ctl, host, p):
    def get():
        return ctl.get(p, host=host).status
    return get


def base_objects(bk):
    return [ingress_class("kubengx")] + \
        backend_service(bk, "svc-a", "a") + backend_service(bk, "svc-b", "b")


def shop_stack(kube_api, backends, controllers, api_args=(), args=()):
    """Backends a and b, Services svc-a/svc-b, Ingress "web" routing
    shop.example.com to svc-a, and a ready controller serving it."""
    bk = backends("a", "b")
    api = kube_api(args=list(api_args)) if api_args else kube_api()
    for o in base_objects(bk):
        api.create(o)
    api.create(ingress("web", [rule("shop.example.com",
                                    path("/", "svc-a", 80))]))
    ctl = controllers(api, args=list(args)).wait_ready()
    harness.wait_for(routed_to(ctl, "shop.example.com", "/x", "a"), 10,
                     "route to a")
    return api, ctl


def test_help_documents_every_flag(kubengx):
    p = harness.run([kubengx, "controller", "--help"], check=True)
    # the rows of the one option table that the controller takes (C)
    src = open(os.path.join(harness.ROOT, "cli",
                            "option_table.c")).read()
    flags = [f for f, cmds in re.findall(
        r'\{ "([a-z-]+)", (?:required|no)_argument, \S+, ([RLCK |]+),', src)
        if "C" in cmds.split()]
    assert len(flags) > 30
    for f in flags:
        assert "--" + f in p.stdout, f
    r = harness.run([kubengx, "controller", "--bogus"])
    assert r.returncode == 2 and "--bogus" in r.stderr
    r = harness.run([kubengx, "controller", "--lease-duration", "2s",
                     "--renew-deadline", "5s"])
    assert r.returncode == 2


def test_routes_follow_ingress_and_service_edits(kube_api, backends,
                                                 controllers):
    api, ctl = shop_stack(kube_api, backends, controllers)
    start = ctl.reloads()

    # edit the Ingress: a new path to svc-b
    ing = api.get(ING + "web")
    ing["spec"]["rules"][0]["http"]["paths"].append(
        path("/api", "svc-b", 80))
    api.replace(ing)
    harness.wait_for(routed_to(ctl, "shop.example.com", "/api/v1", "b"), 10,
                     "route /api to b")
    assert ctl.get("/x", host="shop.example.com").backend == "a"
    harness.wait_for(lambda: ctl.reloads() == start + 1, 5, "one reload")

    # a second Ingress on another host
    api.create(ingress("other", [rule("other.example.com",
                                      path("/", "svc-b", 80))]))
    harness.wait_for(routed_to(ctl, "other.example.com", "/", "b"), 10,
                     "other host")

    # delete the Service svc-b: /api answers 503
    api.delete(SVC + "svc-b")
    harness.wait_for(lambda: status_of(ctl, "shop.example.com",
                                       "/api/")() == 503, 10, "503")
    assert ctl.get("/", host="shop.example.com").backend == "a"

    # delete the Ingress: its host is gone (404 from the default server)
    api.delete(ING + "web")
    harness.wait_for(lambda: status_of(ctl, "shop.example.com",
                                       "/x")() == 404, 10, "404")
    m = ctl.metrics()
    assert m["kubengx_reloads_total"] == start + 4
    assert m['kubengx_ingresses{state="served"}'] == 1
    assert m['kubengx_watched_objects{kind="Ingress"}'] == 1
    assert m['kubengx_reload_errors_total{reason="nginx-test"}'] == 0
    assert "kubengx_render_duration_seconds_count" in m
    assert m["kubengx_last_reload_success_timestamp_seconds"] > 0
    assert "nginx reload" in ctl.text()


def test_burst_is_coalesced_into_one_reload(kube_api, backends,
                                            controllers):
    bk = backends("a")
    api = kube_api()
    for o in [ingress_class("kubengx")] + backend_service(bk, "svc-a", "a"):
        api.create(o)
    ctl = controllers(api, args=["--sync-holdoff", "500ms",
                                 "--sync-max-delay", "3s"]).wait_ready()
    start = ctl.reloads()
    for i in range(10):
        api.create(ingress("burst%d" % i, [rule("b%d.example.com" % i,
                                                path("/", "svc-a", 80))]))
    harness.wait_for(lambda: all(
        ctl.get("/", host="b%d.example.com" % i).backend == "a"
        for i in range(10)), 10, "every host of the burst")
    assert ctl.reloads() <= start + 2


def test_no_reload_for_endpoint_churn_or_noop_service_edit(kube_api,
                                                           backends,
                                                           controllers):
    """--endpoints cluster-ip: endpoints are not in the text, so slices are
    not even watched; a Service label edit renders the same text."""
    bk = backends("a")
    host, port = bk.host_port("a")
    api = kube_api()
    api.create(ingress_class("kubengx"))
    api.create(service("svc-a", [svc_port("http", port, port)],
                       cluster_ip=host))
    sl = slice_("svc-a", [endpoint(host)], [("http", port)], name="svc-a-1")
    api.create(sl)
    api.create(ingress("web", [rule("a.example.com",
                                    path("/", "svc-a", port))]))
    ctl = controllers(api, endpoints="cluster-ip").wait_ready()
    harness.wait_for(routed_to(ctl, "a.example.com", "/", "a"), 10, "route")
    start = ctl.metrics()

    for i in range(5):
        sl = api.get(SLICES + "svc-a-1")
        sl["endpoints"] = [endpoint(host), endpoint("127.0.0.%d" % (i + 2),
                                                    ready=i % 2 == 0)]
        api.replace(sl)
    svc = api.get(SVC + "svc-a")
    svc["metadata"].setdefault("labels", {})["touched"] = "yes"
    api.replace(svc)

    harness.wait_for(lambda: ctl.metric("kubengx_syncs_total")
                     > start["kubengx_syncs_total"], 10, "a sync")
    harness.wait_for(lambda: ctl.metric("kubengx_syncs_unchanged_total")
                     > start["kubengx_syncs_unchanged_total"], 10,
                     "an unchanged sync")
    assert ctl.reloads() == start["kubengx_reloads_total"]
    assert ctl.get("/", host="a.example.com").backend == "a"


def served_subject(port, host):
    p = subprocess.run(["curl", "-sS", "-v", "-k", "-o", "/dev/null",
                        "--max-time", "10", "--resolve",
                        "%s:%d:127.0.0.1" % (host, port),
                        "https://%s:%d/" % (host, port)],
                       capture_output=True, text=True, timeout=20)
    m = re.search(r"^\*\s+subject: (.*)$", p.stderr, re.M)
    return m.group(1).strip() if m else None


def test_tls_secret_rotation_and_bad_secret_rejected(kube_api, backends,
                                                     controllers, tmp_path):
    bk = backends("a")
    api = kube_api()
    c1, k1 = self_signed(tmp_path, "one.example.com")
    for o in [ingress_class("kubengx")] + backend_service(bk, "svc-a", "a"):
        api.create(o)
    api.create(secret_tls("tls", c1, k1))
    api.create(ingress("secure", [rule("one.example.com",
                                       path("/", "svc-a", 80))],
                       tls=[{"hosts": ["one.example.com"],
                             "secretName": "tls"}]))
    ctl = controllers(api).wait_ready()
    harness.wait_for(lambda: "CN=one.example.com" in
                     (served_subject(ctl.https_port, "one.example.com")
                      or ""), 10, "first certificate")
    start = ctl.reloads()

    # rotate: same Secret, a new certificate (CN differs to tell them apart)
    os.makedirs(str(tmp_path / "new"))
    c2, k2 = self_signed(tmp_path / "new", "rotated.example.com",
                         sans=["one.example.com"])
    sec = api.get(SECRET + "tls")
    sec["data"] = secret_tls("tls", c2, k2)["data"]
    api.replace(sec)
    harness.wait_for(lambda: "CN=rotated.example.com" in
                     (served_subject(ctl.https_port, "one.example.com")
                      or ""), 10, "rotated certificate")
    assert ctl.reloads() == start + 1

    # a PEM-shaped Secret that is no certificate: refused before nginx -t
    # (generator/tls_check.c), so it fails nothing: the host loses https
    # (no --default-certificate), its http is served without a redirect,
    # and the Ingress gets an Event
    bad = secret_tls("tls", b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA=="
                     b"\n-----END CERTIFICATE-----\n",
                     b"-----BEGIN PRIVATE KEY-----\nbm8ga2V5\n"
                     b"-----END PRIVATE KEY-----\n")
    sec = api.get(SECRET + "tls")
    sec["data"] = bad["data"]
    api.replace(sec)
    harness.wait_for(lambda: ctl.reloads() == start + 2, 10, "reload")
    harness.wait_for(routed_to(ctl, "one.example.com", "/x", "a"), 10,
                     "http served, not redirected")
    # (the old workers may still take a connection or two)
    harness.wait_for(lambda: served_subject(ctl.https_port,
                                            "one.example.com") is None,
                     10, "https no longer served")
    assert ctl.metric(
        'kubengx_reload_errors_total{reason="nginx-test"}') == 0

    def event():
        evs = api.get("/api/v1/namespaces/default/events")["items"]
        return [e for e in evs if e["involvedObject"]["name"] == "secure"
                and e["reason"] == "NoSecret"]
    ev = harness.wait_for(event, 10, "an Event on the Ingress")[0]
    assert ev["type"] == "Warning" and "not usable by nginx" in \
        ev["message"]
    assert ev["involvedObject"]["kind"] == "Ingress"
    if ev["reason"] == "ExcludedFromConfig":
        assert "nginx -t" in ev["message"]
        assert "certs/default_tls.pem" in ev["message"], ev["message"]
        assert "kubengx-check." not in ev["message"], ev["message"]
    harness.wait_for(lambda: "CN=one.example.com" not in
                     (served_subject(ctl.https_port, "one.example.com")
                      or ""), 10, "the broken certificate not served")
    assert ctl.proc.poll() is None
    assert harness.http_request(ctl.metrics_port, "/readyz").status == 200

    # a fixed Secret is served again
    sec = api.get(SECRET + "tls")
    sec["data"] = secret_tls("tls", c1, k1)["data"]
    api.replace(sec)
    harness.wait_for(lambda: ctl.reloads() == start + 3, 10, "reload")
    harness.wait_for(lambda: "CN=one.example.com" in
                     (served_subject(ctl.https_port, "one.example.com")
                      or ""), 10, "the certificate again")


def test_warning_becomes_event(kube_api, backends, controllers):
    bk = backends("a")
    api = kube_api()
    for o in [ingress_class("kubengx")] + backend_service(bk, "svc-a", "a"):
        api.create(o)
    api.create(ingress("broken", [rule("w.example.com",
                                       path("/", "missing", 80))]))
    ctl = controllers(api, args=["--no-leader-elect"]).wait_ready()

    def events():
        evs = api.get("/api/v1/namespaces/default/events")["items"]
        return [e for e in evs if e["involvedObject"]["name"] == "broken"]
    ev = harness.wait_for(events, 10, "an Event")
    assert ev[0]["type"] == "Warning"
    assert "missing" in ev[0]["message"]
    assert ctl.metric('kubengx_refused{code="no-service"}') == 1


def test_sigterm_quits_nginx_gracefully(kube_api, backends, controllers):
    bk = backends("a")
    api = kube_api()
    for o in [ingress_class("kubengx")] + backend_service(bk, "svc-a", "a"):
        api.create(o)
    api.create(ingress("web", [rule(None, path("/", "svc-a", 80))]))
    ctl = controllers(api).wait_ready()
    harness.wait_for(routed_to(ctl, None, "/", "a"), 10, "route")
    nginx = ctl.nginx_pid()
    assert nginx and os.path.exists("/proc/%d" % nginx)
    for p in ("/healthz", "/readyz"):
        r = harness.http_request(ctl.metrics_port, p)
        assert r.status == 200 and r.text == "ok\n"
    assert harness.http_request(ctl.metrics_port, "/nope").status == 404
    # the list/watch counters, per watched kind
    m = ctl.metrics()
    for kind in ("Ingress", "Service", "IngressClass", "Secret"):
        assert m['kubengx_watch_lists_total{kind="%s"}' % kind] >= 1, m
        assert m['kubengx_watch_restarts_total{kind="%s"}' % kind] >= 1, m
        assert 'kubengx_watch_relists_total{kind="%s"}' % kind in m
        assert 'kubengx_watch_errors_total{kind="%s"}' % kind in m
    ctl.proc.send_signal(signal.SIGTERM)
    assert ctl.proc.wait(15) == 0
    assert not os.path.exists("/proc/%d" % nginx)
    text = ctl.text()
    assert "graceful stop (SIGQUIT" in text
    assert "nginx stopped" in text


def test_nginx_death_is_fatal(kube_api, controllers):
    api = kube_api()
    api.create(ingress_class("kubengx"))
    ctl = controllers(api).wait_ready()
    master = ctl.nginx_pid()
    workers = children(master)
    assert workers
    os.kill(master, signal.SIGKILL)
    assert ctl.proc.wait(15) == 1
    assert "nginx died" in ctl.text()
    # the orphaned workers do not keep serving the old config on the port
    harness.wait_for(lambda: not any(alive(p) for p in workers), 10,
                     "orphaned workers gone")
    assert "left behind" in ctl.text()
    assert not harness.port_open("127.0.0.1", ctl.http_port)


def children(ppid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == ppid:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_module_mode_endpoint_changes_never_reload(kube_api, backends,
                                                   controllers):
    """--endpoints module (the default): the nginx module follows the
    EndpointSlices itself; the controller does not watch them, so moving
    a Service's endpoints reroutes traffic with zero reloads."""
    bk = backends("a", "b")
    api = kube_api()
    api.create(ingress_class("kubengx"))
    objs = backend_service(bk, "svc-a", "a")
    for o in objs:
        api.create(o)
    slice_name = objs[1]["metadata"]["name"]
    api.create(ingress("web", [rule("m.example.com",
                                    path("/", "svc-a", 80))]))
    ctl = controllers(api, endpoints="module").wait_ready()
    harness.wait_for(routed_to(ctl, "m.example.com", "/", "a"), 15,
                     "route to a through the module")
    start = ctl.metrics()

    bhost, bport = bk.host_port("b")
    for i in range(3):
        sl = api.get(SLICES + slice_name)
        sl["endpoints"] = [endpoint(bhost)]
        sl["ports"][0]["port"] = bport if i % 2 == 0 else \
            bk.host_port("a")[1]
        api.replace(sl)
        want = "b" if i % 2 == 0 else "a"
        harness.wait_for(routed_to(ctl, "m.example.com", "/", want), 10,
                         "endpoints moved to %s" % want)

    m = ctl.metrics()
    assert m["kubengx_reloads_total"] == start["kubengx_reloads_total"]
    assert m["kubengx_syncs_total"] == start["kubengx_syncs_total"]
    assert 'kubengx_watched_objects{kind="EndpointSlice"}' not in m


def test_stalled_watch_is_cut_and_resumed(kube_api, backends, controllers):
    """Every watch stream stalls (headers, then silence): after
    --watch-idle-timeout the controller cuts it, logs why, re-watches
    from its resourceVersion and sees the Ingress created meanwhile, with
    no relist; nginx keeps serving the old routes throughout.  Before the
    stall, bookmarks alone keep the quiet watches open."""
    api, ctl = shop_stack(kube_api, backends, controllers,
                          api_args=["--bookmark-interval", "0.5"],
                          args=["--watch-idle-timeout", "2s"])

    def watches():
        return [r for r in api.requests_seen()
                if r["query"].get("watch") == "true"]

    def lists():
        return [r for r in api.requests_seen()
                if r["query"].get("watch") != "true"
                and r["method"] == "GET" and "/leases" not in r["path"]]

    harness.wait_for(lambda: len(watches()) >= 4, 10, "watches open")
    n0 = len(watches())
    # 2.5 idle deadlines of bookmarks only: no watch is cut
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        assert routed_to(ctl, "shop.example.com", "/", "a")()
    assert len(watches()) == n0, watches()[n0:]
    assert "too slow" not in ctl.text()

    lists0 = len(lists())
    api.admin("stream", {"stall": True})
    try:
        api.create(ingress("other", [rule("other.example.com",
                                          path("/", "svc-b", 80))]))
        harness.wait_for(lambda: "too slow" in ctl.text(), 10,
                         "the stalled watch cut")
        harness.wait_for(routed_to(ctl, "other.example.com", "/", "b"), 15,
                         "the Ingress created during the stall")
        assert ctl.get("/", host="shop.example.com").backend == "a"
    finally:
        api.admin("stream", {"stall": False})
    assert len(lists()) == lists0, lists()[lists0:]
    line = [ln for ln in ctl.text().splitlines() if "too slow" in ln][0]
    assert re.search(r"watch \w+: ", line), line


def test_slow_api_does_not_stall_health_or_routing(kube_api, backends,
                                                   controllers):
    """The API answers nothing for 30 s (a partition, an overloaded
    server): every Lease, status and Event request hangs until the
    controller's timeout.  Meanwhile /healthz answers within the probe's
    2 s every time (a blocked loop would get the pod killed by its
    liveness probe, and nginx with it), and nginx serves.  The leader
    steps down at the renew deadline and leads again after."""
    api, ctl = shop_stack(kube_api, backends, controllers)
    harness.wait_for(lambda: ctl.metric("kubengx_leader") == 1, 10,
                     "leader")
    api.admin("faults", {"path": "^/(api|apis)/", "action": "delay",
                         "delay": 30})
    try:
        slow = []
        deadline = time.monotonic() + 12
        while time.monotonic() < deadline:
            t0 = time.monotonic()
            r = harness.http_request(ctl.metrics_port, "/healthz",
                                     timeout=2)
            assert r.status == 200, r
            slow.append(time.monotonic() - t0)
            assert ctl.get("/", host="shop.example.com").backend == "a"
        assert max(slow) < 1.0, max(slow)
        assert ctl.proc.poll() is None
        # no renewal within --renew-deadline (10 s): not the leader now
        assert ctl.metric("kubengx_leader") == 0
        assert "could not renew within the renew deadline" in ctl.text()
    finally:
        api.request("DELETE", "/_admin/faults", token="")
    harness.wait_for(lambda: ctl.metric("kubengx_leader") == 1, 15,
                     "leader again once the API answers")


def test_slow_nginx_test_does_not_stall_the_loop(tmp_path, kube_api,
                                                 backends, controllers):
    """nginx -t takes seconds on a large config.  While it runs, /healthz
    answers at once, nginx serves the old routes, and a change that
    arrives meanwhile is applied right after."""
    slow = tmp_path / "slow-nginx"
    slow.write_text('#!/bin/sh\nfor a; do [ "$a" = -t ] && sleep 3; done\n'
                    'exec %s "$@"\n' % harness.NGINX)
    slow.chmod(0o755)
    api, ctl = shop_stack(kube_api, backends, controllers,
                          args=["--nginx", str(slow)])
    start = ctl.reloads()
    syncs = ctl.metric("kubengx_syncs_total")
    api.create(ingress("one", [rule("one.example.com",
                                    path("/", "svc-b", 80))]))
    harness.wait_for(lambda: ctl.metric("kubengx_syncs_total") > syncs, 5,
                     "the sync of one")
    # the test of "one" runs now; "two" arrives during it
    api.create(ingress("two", [rule("two.example.com",
                                    path("/", "svc-b", 80))]))
    worst = 0.0
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:
        t0 = time.monotonic()
        r = harness.http_request(ctl.metrics_port, "/healthz", timeout=2)
        assert r.status == 200, r
        worst = max(worst, time.monotonic() - t0)
        assert ctl.get("/", host="shop.example.com").backend == "a"
    assert worst < 1.0, worst
    harness.wait_for(routed_to(ctl, "one.example.com", "/", "b"), 15, "one")
    harness.wait_for(routed_to(ctl, "two.example.com", "/", "b"), 15, "two")
    assert ctl.reloads() <= start + 2
