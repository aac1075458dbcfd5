"""The module's EndpointSlice watcher against the stand-in API server: real
nginx with the module, real backends that say who they are; everything is
asserted from outside (HTTP answers, k8s_status, worker pids).

Helpers here are shared with test_module_api_faults.py."""

import json
import os
import signal
import time

import pytest

import harness
import manifests as m


# --- helpers ---------------------------------------------------------------

NS = "default"


def slice_obj(svc, name, eps, port, port_name="http", ns=NS, family=None):
    """An EndpointSlice: eps is a list of (addr, ready, serving, terminating)
    or plain addresses (ready)."""
    endpoints = []
    for e in eps:
        if isinstance(e, str):
            endpoints.append(m.endpoint(e))
        else:
            addr, ready, serving, terminating = e
            endpoints.append(m.endpoint(addr, ready=ready, serving=serving,
                                        terminating=terminating))
    obj = m.slice_(svc, endpoints, [(port_name, port)], ns=ns, name=name,
                   family=family)
    return obj


def slice_path(name, ns=NS):
    return "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices/%s" \
        % (ns, name)


def ensure_service(api, obj):
    """Create the Service of EndpointSlice obj when the API has none (as a
    cluster would have it; see manifests.service_of_slices)."""
    meta = obj["metadata"]
    ns = meta.get("namespace", NS)
    svc = meta.get("labels", {}).get("kubernetes.io/service-name")
    if not svc:
        return
    try:
        api.get("/api/v1/namespaces/%s/services/%s" % (ns, svc))
    except Exception as e:            # noqa: BLE001 - NotFound
        if getattr(e, "status", None) != 404:
            raise
        api.create(m.service_of_slices([obj], svc, ns=ns))


def put_slice(api, obj):
    """Create or replace an EndpointSlice (replace without resourceVersion
    is unconditional), after its Service if that does not exist yet."""
    ensure_service(api, obj)
    try:
        return api.create(obj)
    except Exception as e:            # noqa: BLE001 - AlreadyExists
        if getattr(e, "status", None) != 409:
            raise
        cur = api.get(slice_path(obj["metadata"]["name"],
                                 obj["metadata"].get("namespace", NS)))
        obj = json.loads(json.dumps(obj))
        obj["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"]
        return api.replace(obj)


def delete_slice(api, name, ns=NS):
    api.delete(slice_path(name, ns))


def write_manifest(tmp_path, objs, name="seed.json"):
    """A List of objs for the stand-in API, with the Services of their
    EndpointSlices first (manifests.with_services)."""
    path = os.path.join(str(tmp_path), name)
    with open(path, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List",
                   "items": m.with_services(objs)}, f)
    return path


def module_conf(port, api_line, services=(("web", "default/web", "http"),),
                status=True, workers_header=True, reuseport=False):
    """The http{} text: one upstream per service, location /NAME/ -> it,
    plus / -> the first one."""
    ups = []
    locs = []
    for i, (name, key, portsel) in enumerate(services):
        sel = (" port=%s" % portsel) if portsel is not None else ""
        ups.append("    upstream %s { k8s_service %s%s; }" % (name, key, sel))
        locs.append("        location /%s/ { proxy_pass http://%s; }"
                    % (name, name))
        if i == 0:
            locs.append("        location / { proxy_pass http://%s; }" % name)
    hdr = "        add_header X-Worker $pid always;\n" if workers_header else ""
    st = "        location = /k8s/status { k8s_status; }\n" if status else ""
    return """
    %s
    k8s_zone k8s 4m;
%s
    server {
        listen 127.0.0.1:%d%s;
%s        proxy_next_upstream error timeout http_502;
        proxy_connect_timeout 2s;
%s%s
    }
""" % (api_line, "\n".join(ups), port, " reuseport" if reuseport else "",
       hdr, st, "\n".join(locs))


def status(n):
    r = n.get("/k8s/status")
    assert r.status == 200, r
    return r.json()


def service_status(st, key="default/web:http"):
    return st["services"][key]


def addresses(st, key="default/web:http"):
    return sorted(e["address"] for e in service_status(st, key)["endpoints"])


def watcher(st):
    return st["watch"]


def backends_seen(n, count=20, path="/"):
    """The set of backend names (None for non-200) over count requests."""
    seen = set()
    for _ in range(count):
        r = n.get(path)
        seen.add(r.backend if r.status == 200 else ("status", r.status))
    return seen


def wait_backends(n, expected, timeout=15.0, path="/", count=12):
    """Wait until exactly the backends `expected` answer."""
    expected = set(expected)
    last = [None]

    def cond():
        last[0] = backends_seen(n, count, path)
        return last[0] == expected
    try:
        harness.wait_for(cond, timeout, "backends %s" % sorted(expected))
    except harness.Timeout as e:
        raise AssertionError("%s; last seen %s\n%s" % (e, last[0],
                                                       tail(n.error_log())))


def tail(text, lines=40):
    return "\n".join(text.splitlines()[-lines:])


def api_line(api, **kw):
    line = "k8s_api %s" % api.url
    for k, v in kw.items():
        line += " %s=%s" % (k, v)
    return line + ";"


class Stack:
    """backends + stand-in API + nginx with the module."""

    def __init__(self, tmp_path, kube_api, backends, nginx_factory,
                 names=("a", "b"), addrs=None, seed=None, workers=1,
                 services=(("web", "default/web", "http"),), api_kw=None,
                 api_conf=None, start_api=True, reuseport=False,
                 api_args=(), **nginx_kw):
        self.tmp_path = tmp_path
        if addrs:
            self.bk = backends(**addrs)
        else:
            self.bk = backends(*names)
        self.api = None
        self.seed_path = None
        if seed is not None:
            self.seed_path = write_manifest(tmp_path, seed(self.bk))
        if start_api:
            self.api = kube_api(load=[self.seed_path] if self.seed_path
                                else [], args=list(api_args),
                                **(api_kw or {}))
        self.port = harness.free_port()
        line = api_conf(self) if api_conf else api_line(self.api)
        self.nginx = nginx_factory(
            http=module_conf(self.port, line, services, reuseport=reuseport),
            ports=[self.port], workers=workers, **nginx_kw)

    def addr(self, name):
        return self.bk.host_port(name)


def seed_ab(bk):
    """Service web: backends a and b, one slice each."""
    ha, pa = bk.host_port("a")
    hb, pb = bk.host_port("b")
    return [slice_obj("web", "web-a", [ha], pa),
            slice_obj("web", "web-b", [hb], pb)]


# --- tests -----------------------------------------------------------------

def test_routes_to_listed_endpoints(tmp_path, kube_api, backends,
                                    nginx_factory):
    s = Stack(tmp_path, kube_api, backends, nginx_factory, seed=seed_ab)
    wait_backends(s.nginx, {"a", "b"})
    st = status(s.nginx)
    w = watcher(st)
    assert w["synced"] is True, st
    assert w["state"] == "watching", st
    assert w["lease_pid"] in s.nginx.worker_pids(), st
    assert int(w["resource_version"]) > 0, st
    assert service_status(st)["state"] == "ready", st
    assert addresses(st) == sorted(s.bk.addrs[x] for x in ("a", "b")), st
    # the watch request used the label selector for the registered name
    reqs = s.api.requests_seen()
    lists = [r for r in reqs if r["path"].endswith("/endpointslices")]
    assert lists, reqs
    assert "kubernetes.io/service-name" in lists[0]["query"]["labelSelector"]
    assert any(r["query"].get("watch") in ("true", "1") for r in lists)


def test_changes_propagate_without_reload(tmp_path, kube_api, backends,
                                          nginx_factory):
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed_ab, workers=2)
    n, api = s.nginx, s.api
    wait_backends(n, {"a", "b"})
    master, workers = n.pid, n.worker_pids()
    assert len(workers) == 2

    hc, pc = s.addr("c")
    put_slice(api, slice_obj("web", "web-c", [hc], pc))      # add
    wait_backends(n, {"a", "b", "c"})

    delete_slice(api, "web-a")                                # remove
    wait_backends(n, {"b", "c"})

    ha, pa = s.addr("a")
    put_slice(api, slice_obj("web", "web-b", [ha], pa))      # modify
    wait_backends(n, {"a", "c"})

    assert n.pid == master
    assert n.worker_pids() == workers, "nginx was reloaded or respawned"
    assert "reconfiguring" not in n.error_log()


def test_not_ready_excluded(tmp_path, kube_api, backends, nginx_factory):
    def seed(bk):
        ha, pa = bk.host_port("a")
        hb, pb = bk.host_port("b")
        return [slice_obj("web", "web-a", [ha], pa),
                slice_obj("web", "web-b", [(hb, False, False, False)], pb)]
    s = Stack(tmp_path, kube_api, backends, nginx_factory, seed=seed)
    wait_backends(s.nginx, {"a"}, count=20)

    hb, pb = s.addr("b")
    put_slice(s.api, slice_obj("web", "web-b", [(hb, True, True, False)], pb))
    wait_backends(s.nginx, {"a", "b"})

    put_slice(s.api, slice_obj("web", "web-b", [(hb, False, False, None)], pb))
    wait_backends(s.nginx, {"a"}, count=20)

    # absent conditions mean ready (nil ready => true)
    put_slice(s.api, slice_obj("web", "web-b", [(hb, None, None, None)], pb))
    wait_backends(s.nginx, {"a", "b"})


def test_terminating_fallback(tmp_path, kube_api, backends, nginx_factory):
    """No ready endpoint: serving && terminating ones are used; a ready one
    ends the fallback."""
    def seed(bk):
        ha, pa = bk.host_port("a")
        hb, pb = bk.host_port("b")
        return [slice_obj("web", "web-a", [(ha, False, False, True)], pa),
                slice_obj("web", "web-b", [(hb, False, True, True)], pb)]
    s = Stack(tmp_path, kube_api, backends, nginx_factory, seed=seed)
    wait_backends(s.nginx, {"b"}, count=20)
    eps = service_status(status(s.nginx))["endpoints"]
    assert [(e["ready"], e["serving"], e["terminating"]) for e in eps] \
        == [(False, True, True)], eps

    ha, pa = s.addr("a")
    put_slice(s.api, slice_obj("web", "web-a", [(ha, True, True, False)], pa))
    wait_backends(s.nginx, {"a"}, count=20)


def test_ipv6_endpoints(tmp_path, kube_api, backends, nginx_factory):
    if not harness.port_open("::1", 1) and not os.path.exists(
            "/proc/net/if_inet6"):
        pytest.skip("no IPv6 loopback")

    def seed(bk):
        h6, p6 = bk.host_port("v6")
        h4, p4 = bk.host_port("v4")
        return [slice_obj("web", "web-v6", [h6], p6, family="IPv6"),
                slice_obj("web", "web-v4", [h4], p4, family="IPv4")]
    s = Stack(tmp_path, kube_api, backends, nginx_factory, seed=seed,
              addrs={"v6": "[::1]:0", "v4": "127.0.0.1:0"})
    wait_backends(s.nginx, {"v6", "v4"})
    assert s.bk.addrs["v6"] in addresses(status(s.nginx))

    delete_slice(s.api, "web-v4")
    wait_backends(s.nginx, {"v6"})


def test_multi_slice_union(tmp_path, kube_api, backends, nginx_factory):
    """Endpoints of one Service spread over several slices, one endpoint in
    two slices: the union, deduplicated; deleting a slice removes only
    what no other slice still lists."""
    port = harness.free_port()
    addrs = {"a": "127.0.0.2:%d" % port, "b": "127.0.0.3:%d" % port,
             "c": "127.0.0.4:%d" % port}

    def seed(bk):
        return [slice_obj("web", "web-x", ["127.0.0.2", "127.0.0.3"], port),
                slice_obj("web", "web-y", ["127.0.0.3", "127.0.0.4"], port)]
    s = Stack(tmp_path, kube_api, backends, nginx_factory, seed=seed,
              addrs=addrs)
    wait_backends(s.nginx, {"a", "b", "c"}, count=24)

    delete_slice(s.api, "web-x")
    wait_backends(s.nginx, {"b", "c"}, count=20)

    delete_slice(s.api, "web-y")

    def gone():
        r = s.nginx.get("/")
        return r.status == 503
    harness.wait_for(gone, 10, "503 once the last slice is deleted")
    assert service_status(status(s.nginx))["state"] == "absent"


def test_other_services_and_namespaces_ignored(tmp_path, kube_api, backends,
                                               nginx_factory):
    """A same-named Service in another namespace, and other Services, never
    reach the registered key."""
    def seed(bk):
        ha, pa = bk.host_port("a")
        hb, pb = bk.host_port("b")
        return [slice_obj("web", "web-a", [ha], pa),
                slice_obj("web", "web-b", [hb], pb, ns="other"),
                slice_obj("api", "api-b", [hb], pb)]
    s = Stack(tmp_path, kube_api, backends, nginx_factory, seed=seed)
    wait_backends(s.nginx, {"a"}, count=20)


def test_services_in_two_namespaces(tmp_path, kube_api, backends,
                                    nginx_factory):
    """Registered Services in two namespaces: one cluster-wide watch with
    "service-name in (web)", filtered by namespace in the module (a third
    namespace's "web" is ignored)."""
    def seed(bk):
        ha, pa = bk.host_port("a")
        hb, pb = bk.host_port("b")
        hc, pc = bk.host_port("c")
        return [slice_obj("web", "web-a", [ha], pa),
                slice_obj("web", "web-b", [hb], pb, ns="other"),
                slice_obj("web", "web-c", [hc], pc, ns="third")]
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed,
              services=(("web", "default/web", "http"),
                        ("web2", "other/web", "http")))
    wait_backends(s.nginx, {"a"}, path="/web/x", count=20)
    wait_backends(s.nginx, {"b"}, path="/web2/x", count=20)
    reqs = [r for r in s.api.requests_seen()
            if r["path"].endswith("/endpointslices")]
    assert reqs[0]["path"] == "/apis/discovery.k8s.io/v1/endpointslices"
    assert reqs[0]["query"]["labelSelector"] \
        == "kubernetes.io/service-name in (web)"

    # a slice moving between Services (its label changes) leaves the old
    hc, pc = s.addr("c")
    put_slice(s.api, slice_obj("web", "web-b", [hc], pc, ns="other"))
    wait_backends(s.nginx, {"c"}, path="/web2/x", count=20)
    moved = slice_obj("api", "web-b", [hc], pc, ns="other")
    put_slice(s.api, moved)
    harness.wait_for(lambda: s.nginx.get("/web2/x").status == 503, 10,
                     "503 once the only slice of other/web is relabelled")


def test_two_services_two_ports(tmp_path, kube_api, backends, nginx_factory):
    def seed(bk):
        ha, pa = bk.host_port("a")
        hb, pb = bk.host_port("b")
        return [slice_obj("web", "web-a", [ha], pa),
                slice_obj("api", "api-b", [hb], pb, port_name="grpc")]
    s = Stack(tmp_path, kube_api, backends, nginx_factory, seed=seed,
              services=(("web", "default/web", "http"),
                        ("api", "default/api", "grpc")))
    wait_backends(s.nginx, {"a"}, path="/web/x")
    wait_backends(s.nginx, {"b"}, path="/api/x")


def test_four_workers_all_see_each_change(tmp_path, kube_api, backends,
                                          nginx_factory):
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed_ab, workers=4,
              reuseport=True)
    n = s.nginx
    pids = set(n.worker_pids())
    assert len(pids) == 4

    def all_workers_answer(expected):
        """Every worker answers, and each with exactly `expected`."""
        def cond():
            per = {}
            for _ in range(60):
                r = n.get("/")
                w = int(r.headers.get("x-worker", "0"))
                per.setdefault(w, set()).add(r.backend if r.status == 200
                                             else r.status)
            return set(per) == pids and all(v == set(expected)
                                            for v in per.values())
        harness.wait_for(cond, 20, "all 4 workers to answer with %s"
                         % sorted(expected))

    all_workers_answer({"a", "b"})
    hc, pc = s.addr("c")
    put_slice(s.api, slice_obj("web", "web-a", [hc], pc))
    all_workers_answer({"b", "c"})
    delete_slice(s.api, "web-b")
    all_workers_answer({"c"})
    assert set(n.worker_pids()) == pids


def watching_pid(n):
    """The pid of the worker holding the writer lease (k8s_status), if it
    is a live worker of this master and is watching."""
    w = watcher(status(n))
    if w["lease_pid"] in n.worker_pids() and w["state"] == "watching":
        return w["lease_pid"]
    return None


def test_sigkill_watching_worker_resumes(tmp_path, kube_api, backends,
                                         nginx_factory):
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed_ab, workers=2)
    n = s.nginx
    wait_backends(n, {"a", "b"})
    victim = harness.wait_for(lambda: watching_pid(n), 10, "lease holder")
    assert victim in n.worker_pids()

    os.kill(victim, signal.SIGKILL)
    harness.wait_for(lambda: victim not in n.worker_pids()
                     and len(n.worker_pids()) == 2, 10, "respawn")
    new = harness.wait_for(lambda: watching_pid(n) != victim
                           and watching_pid(n), 15, "new lease holder")
    assert new in n.worker_pids()

    hc, pc = s.addr("c")
    put_slice(s.api, slice_obj("web", "web-b", [hc], pc))
    wait_backends(n, {"a", "c"})


def test_graceful_quit_not_held_up_by_watch(tmp_path, kube_api, backends,
                                            nginx_factory):
    s = Stack(tmp_path, kube_api, backends, nginx_factory, seed=seed_ab,
              workers=2)
    n = s.nginx
    wait_backends(n, {"a", "b"})
    s.api.wait_for_watches(1, path="endpointslices")

    n.proc.send_signal(signal.SIGQUIT)
    # the watch's own deadline is minutes away: a 10 s bound proves it is
    # not what the exit waits for
    harness.wait_for(lambda: n.proc.poll() is not None, 10,
                     "nginx to exit after SIGQUIT")
    assert n.proc.returncode == 0
    log = n.error_log()
    assert "open socket" not in log, tail(log)
    assert "[alert]" not in log, tail(log)


def test_reload_keeps_serving_and_watching(tmp_path, kube_api, backends,
                                           nginx_factory):
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed_ab, workers=2)
    n = s.nginx
    wait_backends(n, {"a", "b"})
    n.reload()
    wait_backends(n, {"a", "b"})
    hc, pc = s.addr("c")
    put_slice(s.api, slice_obj("web", "web-a", [hc], pc))
    wait_backends(n, {"b", "c"})
    # n.reload() waited for the old workers to exit: the old watch did not
    # hold the old worker 0 up
    assert "open socket" not in n.error_log()


def test_reload_with_request_in_flight_hands_over(tmp_path, kube_api,
                                                  backends, nginx_factory):
    """The old worker 0 lingers for a slow request after a reload: its
    watch stops at once and the new worker 0 takes the writer lease, so
    changes keep propagating while the old worker is still alive."""
    import threading
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed_ab, workers=1)
    n = s.nginx
    wait_backends(n, {"a", "b"})
    old = n.worker_pids()
    slow = {}

    def request():
        slow["r"] = n.get("/?delay=6000", timeout=20)
    t = threading.Thread(target=request)
    t.start()
    try:
        harness.wait_for(lambda: sum(
            e["active"] for e in service_status(status(n))["endpoints"]),
            10, "the slow request to be in flight")
        n.proc.send_signal(signal.SIGHUP)
        harness.wait_for(lambda: set(n.worker_pids()) - set(old), 10,
                         "a new worker")
        harness.wait_for(lambda: watcher(status(n))["lease_pid"]
                         in set(n.worker_pids()) - set(old), 10,
                         "the new worker 0 to take the writer lease")
        hc, pc = s.addr("c")
        put_slice(s.api, slice_obj("web", "web-a", [hc], pc))
        wait_backends(n, {"b", "c"}, count=8)
        assert set(old) & set(n.worker_pids()), \
            "the old worker exited before the slow request ended"
    finally:
        t.join(30)
    assert slow["r"].status == 200


def percentile(values, p):
    values = sorted(values)
    k = max(0, min(len(values) - 1, int(round(p / 100.0 * len(values))) - 1))
    return values[k]


def test_report_propagation_lag(tmp_path, kube_api, backends, nginx_factory):
    """Reports API write -> first request answered by the new endpoint over
    50 changes.  No timing assertion (timing goals live in `make bench`,
    never in pass/fail tests)."""
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b"), seed=lambda bk: [
                  slice_obj("web", "web-x", [bk.host_port("a")[0]],
                            bk.host_port("a")[1])])
    n = s.nginx
    wait_backends(n, {"a"})
    lags = []
    for i in range(50):
        name = "b" if i % 2 == 0 else "a"
        h, p = s.addr(name)
        obj = slice_obj("web", "web-x", [h], p)
        now = time.time()
        obj["metadata"]["annotations"] = {
            "endpoints.kubernetes.io/last-change-trigger-time":
                time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
                + ".%03dZ" % int(now * 1000 % 1000)}
        t0 = time.monotonic()
        put_slice(s.api, obj)
        deadline = t0 + 10
        while True:
            r = n.get("/")
            if r.status == 200 and r.backend == name:
                break
            assert time.monotonic() < deadline, "change %d not seen" % i
        lags.append((time.monotonic() - t0) * 1000.0)
    p50, p99 = percentile(lags, 50), percentile(lags, 99)
    lag = status(n)["lag"]
    line = ("propagation lag over %d changes (API write -> first request "
            "answered by the new endpoint): p50 %.1f ms, p99 %.1f ms, "
            "max %.1f ms; module histograms: receive->applied %s, "
            "trigger->applied %s"
            % (len(lags), p50, p99, max(lags), json.dumps(lag["receive"]),
               json.dumps(lag["trigger"])))
    print(line)
    out = os.path.join(harness.BUILD, "watch-propagation-lag.txt")
    try:
        with open(out, "w") as f:
            f.write(line + "\n")
    except OSError:
        pass


@pytest.mark.parametrize("line,message", [
    ("k8s_api ftp://api:443;", 'invalid k8s_api parameter "ftp://api:443"'),
    ("k8s_api https://api:443/prefix;", "invalid k8s_api URL"),
    ("k8s_api https://;", "invalid k8s_api URL"),
    ("k8s_api https://api:443?x=1;", "invalid k8s_api URL"),
    ("k8s_api token_file=;", 'empty path in "token_file="'),
    ("k8s_api https://a:1 ca_file=/x ca_file=/y;",
     'duplicate k8s_api parameter "ca_file=/y"'),
    ("k8s_api https://a:1;\n    k8s_api https://b:2;",
     '"k8s_api" directive is duplicate'),
    ("k8s_api https://a:1 watch_idle_timeout=500ms;",
     'invalid k8s_api parameter "watch_idle_timeout=500ms": expected a '
     'time of 1s or more'),
    ("k8s_api https://a:1 watch_idle_timeout=soon;",
     'invalid k8s_api parameter "watch_idle_timeout=soon"'),
    ("k8s_api https://a:1 watch_idle_timeout=1m watch_idle_timeout=2m;",
     'duplicate k8s_api parameter "watch_idle_timeout=2m"'),
])
def test_k8s_api_directive_errors(nginx_factory, line, message):
    port = harness.free_port()
    n = nginx_factory(http=module_conf(port, line), ports=[port],
                      start=False)
    t = n.test_config()
    assert t.returncode != 0, t.stderr
    assert message in t.stderr, t.stderr


@pytest.mark.parametrize("line", [
    "k8s_api http://127.0.0.1:8001;",
    "k8s_api https://[::1]:6443/ token_file=tok ca_file=/etc/ssl/ca.pem;",
    "k8s_api kubeconfig=/etc/kubengx/kubeconfig;",
    "k8s_api token_file=/run/token;",
    "k8s_api http://127.0.0.1:8001 watch_idle_timeout=90s;",
    "",
])
def test_k8s_api_directive_accepted(nginx_factory, line):
    """nginx -t accepts these and starts no watch (no files are read at
    configuration time)."""
    port = harness.free_port()
    n = nginx_factory(http=module_conf(port, line), ports=[port],
                      start=False)
    t = n.test_config()
    assert t.returncode == 0, t.stderr
    assert "k8s watcher" not in t.stderr
