"""`port=` is the Service port, everywhere (issue 12, item 1): a number is
the Service's spec.ports[].port, a name its name, none the unnamed port,
as an Ingress backend names it; the module resolves it through the
Service it watches to the EndpointSlice port of that name ("" for the
unnamed port), each endpoint with its own slice's number.

Real nginx with the module, the stand-in API holding Services and
EndpointSlices shaped as the EndpointSlice controller writes them, real
backends that say who they are; asserted from outside (HTTP answers, the
error log, k8s_status, worker pids)."""

import os
import re
import shutil
import tempfile

import pytest

import harness
import manifests as m
from k8s_module_util import module_http, parse_snapshot
from test_module_watch import (Stack, api_line, module_conf, service_status,
                               status, tail, wait_backends, watcher)


# issue 12's founding example (manifests.py)
ISSUE_12 = m.FOUNDING_EXAMPLE

# "api-svc and web-svc have the same shape as backend"
SERVICE_OF_ISSUE = ISSUE_12.split("---\n")[0]

# one upstream, "web": k8s_service default/web port=80
WEB80 = (("web", "default/web", "80"),)

needs_module = pytest.mark.skipif(
    not os.path.exists(harness.MODULE), reason="module not built")


# --- helpers ---------------------------------------------------------------

def controller_slice(svc, suffix, pods, port, port_name="", ns="default"):
    """An EndpointSlice as the EndpointSlice controller writes it: generated
    name, managed-by label, ready/serving/terminating, nodeName and a Pod
    targetRef per endpoint; the port named like the Service port ("" for
    the unnamed one) with the number the pods listen on.  pods: [(pod,
    address)]."""
    return {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {
            "name": "%s-%s" % (svc, suffix), "generateName": svc + "-",
            "namespace": ns,
            "labels": {
                "kubernetes.io/service-name": svc,
                "endpointslice.kubernetes.io/managed-by":
                    "endpointslice-controller.k8s.io"}},
        "addressType": "IPv4",
        "endpoints": [{
            "addresses": [addr],
            "conditions": {"ready": True, "serving": True,
                           "terminating": False},
            "nodeName": "node-1",
            "targetRef": {"kind": "Pod", "namespace": ns, "name": pod}}
            for pod, addr in pods],
        "ports": [{"name": port_name, "port": port, "protocol": "TCP"}],
    }


def issue_manifests(tmp_path, bk):
    """The example's YAML (with api-svc and web-svc), and its slices: one
    pod per Service, each a test backend."""
    text = ISSUE_12
    for svc in ("api-svc", "web-svc"):
        text += "---\n" + SERVICE_OF_ISSUE.replace("backend", svc)
    yaml_path = tmp_path / "issue12.yaml"
    yaml_path.write_text(text)
    slices = []
    for svc, pod in (("api-svc", "api-pod"), ("web-svc", "web-pod")):
        host, port = bk.host_port(pod)
        slices.append(controller_slice(svc, "x7k2p", [(pod, host)], port))
    slices_path = m.write_manifests(tmp_path / "slices", slices, fmt="list",
                                    name="slices")
    return str(yaml_path), slices_path


def seed_web(bk, port=80):
    """Service web: one unnamed port `port` -> targetPort 8080; its pod is
    backend a."""
    ha, pa = bk.host_port("a")
    return [m.service("web", [m.svc_port(None, port, 8080)]),
            controller_slice("web", "a", [("web-a", ha)], pa)]


def seed_web_two_ports(bk):
    """Service web: ports one (80) and two (81), named targetPorts; the pod
    of one is backend a, of two backend b."""
    ha, pa = bk.host_port("a")
    hb, pb = bk.host_port("b")
    return [
        m.service("web", [m.svc_port("one", 80, "one"),
                          m.svc_port("two", 81, "two")]),
        controller_slice("web", "a", [("web-a", ha)], pa, "one"),
        controller_slice("web", "b", [("web-b", hb)], pb, "two"),
    ]


def svc_path(name, ns="default"):
    return "/api/v1/namespaces/%s/services/%s" % (ns, name)


def set_ports(api, name, ports, ns="default"):
    """Replace the Service's spec.ports (a live edit, no reload)."""
    cur = api.get(svc_path(name, ns))
    cur["spec"]["ports"] = ports
    return api.replace(cur)


def wait_log(n, pattern, timeout=15.0):
    def cond():
        for line in n.error_log().splitlines():
            if re.search(pattern, line):
                return line
        return None
    try:
        return harness.wait_for(cond, timeout, "log line /%s/" % pattern)
    except harness.Timeout as e:
        raise AssertionError("%s\n%s" % (e, tail(n.error_log())))


def wait_status(n, path, status_code, timeout=15.0):
    harness.wait_for(lambda: n.get(path).status == status_code, timeout,
                     "%s to answer %d" % (path, status_code))


# --- the founding example, in every mode -----------------------------------

@pytest.mark.parametrize("mode", ["static", "per-service", "dispatch"])
def test_issue_12_example_in_every_mode(tmp_path, kube_api, backends,
                                        nginx_factory, mode):
    """The example verbatim, rendered with --watch-without-class: each host
    reaches its Service's pod, with stock nginx (--endpoints static) and
    with the module (per-service upstreams and the dispatch form)."""
    if mode != "static" and not os.path.exists(harness.MODULE):
        pytest.skip("module not built")
    bk = backends("api-pod", "web-pod")
    yaml_path, slices_path = issue_manifests(tmp_path, bk)
    port = harness.free_port()
    out = tmp_path / "out"

    if mode == "static":
        rc, _, err, conf = m.render([yaml_path, slices_path], out,
                                    "--watch-without-class",
                                    endpoints="static", http_port=port)
        assert rc == 0, err
        n = nginx_factory(http="    include %s/kubengx.conf;\n" % out,
                          ports=[port], module=False)
    else:
        rc, _, err, conf = m.render(yaml_path, out, "--watch-without-class",
                                    "--upstreams", mode, endpoints="module",
                                    http_port=port)
        assert rc == 0, err
        word = "k8s_service" if mode == "per-service" else "k8s_backend"
        assert "%s default/api-svc port=80;" % word in conf, conf
        assert "%s default/web-svc port=80;" % word in conf, conf
        api = kube_api(load=[yaml_path, slices_path])
        n = nginx_factory(http=module_http(
            api_line(api), "include %s/kubengx.conf;" % out), ports=[port])

    def routed():
        return all(n.get("/", host=h).backend == b for h, b in
                   (("api.example.com", "api-pod"),
                    ("web.example.com", "web-pod")))
    try:
        harness.wait_for(routed, 15, "both hosts routed")
    except harness.Timeout as e:
        raise AssertionError("%s\n%s" % (e, tail(n.error_log())))
    for _ in range(5):
        assert n.get("/x", host="api.example.com").backend == "api-pod"
        assert n.get("/", host="WEB.example.com").backend == "web-pod"


# --- hand-written port= ----------------------------------------------------

def seed_two_services(bk):
    """web: one unnamed port 80 -> targetPort 8080 (the pods of backend a);
    multi: http 80 -> targetPort http (b) and metrics 9100 -> 9100 (c)."""
    ha, pa = bk.host_port("a")
    hb, pb = bk.host_port("b")
    hc, pc = bk.host_port("c")
    return [
        m.service("web", [m.svc_port(None, 80, 8080)]),
        m.service("multi", [m.svc_port("http", 80, "http"),
                            m.svc_port("metrics", 9100, 9100)]),
        controller_slice("web", "a", [("web-a", ha)], pa),
        controller_slice("multi", "b", [("multi-b", hb)], pb, "http"),
        controller_slice("multi", "c", [("multi-c", hc)], pc, "metrics"),
    ]


@needs_module
def test_hand_written_port_selectors(tmp_path, kube_api, backends,
                                     nginx_factory):
    """k8s_service ns/name port=80 (the Service port, not the targetPort),
    port=NAME and no port= all name a Service port; a targetPort number
    is no Service port."""
    ups = (("w80", "default/web", "80"),
           ("wnone", "default/web", None),
           ("mhttp", "default/multi", "http"),
           ("m80", "default/multi", "80"),
           ("m9100", "default/multi", "9100"),
           ("mmetrics", "default/multi", "metrics"),
           ("w8080", "default/web", "8080"))
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed_two_services, services=ups)
    n = s.nginx
    wait_backends(n, {"a"}, path="/w80/")
    wait_backends(n, {"a"}, path="/wnone/")
    wait_backends(n, {"b"}, path="/mhttp/")
    wait_backends(n, {"b"}, path="/m80/")
    wait_backends(n, {"c"}, path="/m9100/")
    wait_backends(n, {"c"}, path="/mmetrics/")

    # 8080 is web's targetPort, not a Service port
    assert n.get("/w8080/").status == 503
    wait_log(n, r"default/web:8080: Service default/web has no port 8080")
    st = status(n)
    assert service_status(st, "default/web:8080")["state"] == "empty", st
    assert service_status(st, "default/web:80")["state"] == "ready", st


@needs_module
def test_named_target_port_each_pod_its_own_number(tmp_path, kube_api,
                                                   backends, nginx_factory):
    """A named targetPort resolves per pod: the controller writes one slice
    per number, same port name.  Every pod is reached on its own port,
    for the unnamed Service port (port=80) and a named one."""
    def seed(bk):
        ha, pa = bk.host_port("a")
        hb, pb = bk.host_port("b")
        hc, pc = bk.host_port("c")
        assert len({pa, pb, pc}) == 3
        return [
            m.service("api", [m.svc_port(None, 80, "http")]),
            m.service("www", [m.svc_port("web", 8000, "http-alt")]),
            controller_slice("api", "p1", [("api-a", ha)], pa),
            controller_slice("api", "p2", [("api-b", hb)], pb),
            controller_slice("www", "p1", [("www-a", ha)], pa, "web"),
            controller_slice("www", "p2", [("www-c", hc)], pc, "web"),
        ]
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed,
              services=(("api", "default/api", "80"),
                        ("www", "default/www", "web")))
    n = s.nginx
    wait_backends(n, {"a", "b"}, path="/api/", count=30)
    eps = sorted(e["address"] for e in
                 service_status(status(n), "default/api:80")["endpoints"])
    assert eps == sorted(s.bk.addrs[x] for x in "ab"), eps
    wait_backends(n, {"a", "c"}, path="/www/", count=30)


# --- Service missing, port missing, renumbered -----------------------------

@needs_module
def test_service_missing_then_created_then_deleted(tmp_path, kube_api,
                                                   backends, nginx_factory):
    """EndpointSlices without their Service: 503 and a log line saying the
    Service does not exist; the Service appears: served, no reload; it is
    deleted (its slices stay a moment): 503 again."""
    s = Stack(tmp_path, kube_api, backends, nginx_factory, names=("a",),
              seed=None, services=(("ghost", "default/ghost", "80"),))
    n, api = s.nginx, s.api
    ha, pa = s.addr("a")
    api.create(controller_slice("ghost", "a", [("ghost-a", ha)], pa))
    pids = n.worker_pids()

    wait_log(n, r"default/ghost:80: Service default/ghost does not exist, "
                r"answering 503")
    r = n.get("/ghost/")
    assert r.status == 503, r
    st = status(n)
    assert watcher(st)["synced"] is True, st
    assert service_status(st, "default/ghost:80")["state"] == "absent", st
    assert watcher(st)["state"] == "watching", st

    # one Service: watched by name, in its namespace
    reqs = [r for r in api.requests_seen() if r["path"].endswith("/services")]
    assert reqs[0]["path"] == "/api/v1/namespaces/default/services", reqs
    assert reqs[0]["query"]["fieldSelector"] == "metadata.name=ghost", reqs
    assert 'k8s: service "default/ghost:80" is unknown' in n.error_log()

    api.create(m.service("ghost", [m.svc_port(None, 80, 8080)]))
    wait_backends(n, {"a"}, path="/ghost/")

    api.delete(svc_path("ghost"))
    wait_status(n, "/ghost/", 503)
    assert len(re.findall(r"Service default/ghost does not exist",
                          n.error_log())) == 2
    assert n.worker_pids() == pids


@needs_module
def test_service_port_number_absent(tmp_path, kube_api, backends,
                                    nginx_factory):
    """The Service exists without port 80: 503 with the log line "Service
    NS/NAME has no port 80"; adding the port serves it, no reload."""
    s = Stack(tmp_path, kube_api, backends, nginx_factory, names=("a",),
              seed=lambda bk: seed_web(bk, 81), services=WEB80)
    n, api = s.nginx, s.api
    pids = n.worker_pids()
    wait_log(n, r"default/web:80: Service default/web has no port 80, "
                r"answering 503")
    assert n.get("/web/").status == 503
    assert 'k8s: service "default/web:80" has no ready endpoints' \
        in n.error_log(), tail(n.error_log())
    assert service_status(status(n), "default/web:80")["state"] == "empty"

    set_ports(api, "web", [{"port": 80, "targetPort": 8080,
                            "protocol": "TCP"}])
    wait_backends(n, {"a"}, path="/web/")
    assert n.worker_pids() == pids


@needs_module
def test_service_renumbered_live(tmp_path, kube_api, backends,
                                 nginx_factory):
    """The Service's ports change under a running nginx: port=80 follows the
    port that now has number 80 (swapped between two named ports), 503s
    while none has it, and comes back; the same workers throughout."""
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b"), seed=seed_web_two_ports,
              services=WEB80)
    n, api = s.nginx, s.api
    wait_backends(n, {"a"})
    pids = n.worker_pids()

    set_ports(api, "web", [m.svc_port("one", 81, "one"),
                           m.svc_port("two", 80, "two")])
    wait_backends(n, {"b"})

    set_ports(api, "web", [m.svc_port("one", 82, "one"),
                           m.svc_port("two", 83, "two")])
    wait_status(n, "/", 503)
    wait_log(n, r"Service default/web has no port 80")

    set_ports(api, "web", [m.svc_port("one", 80, "one"),
                           m.svc_port("two", 81, "two")])
    wait_backends(n, {"a"})
    assert n.worker_pids() == pids


@needs_module
def test_service_port_renamed_live(tmp_path, kube_api, backends,
                                   nginx_factory):
    """An unnamed port becomes named "http" (the EndpointSlice controller
    then rewrites the slices): port=80 follows both changes."""
    s = Stack(tmp_path, kube_api, backends, nginx_factory, names=("a",),
              seed=seed_web, services=WEB80)
    n, api = s.nginx, s.api
    wait_backends(n, {"a"})
    pids = n.worker_pids()

    set_ports(api, "web", [m.svc_port("http", 80, 8080)])
    # the slices still say "": nothing serves the port named http yet
    wait_status(n, "/", 503)
    ha, pa = s.addr("a")
    obj = controller_slice("web", "a", [("web-a", ha)], pa, "http")
    cur = api.get("/apis/discovery.k8s.io/v1/namespaces/default/"
                  "endpointslices/web-a")
    obj["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"]
    api.replace(obj)
    wait_backends(n, {"a"})
    assert n.worker_pids() == pids


# --- sync, API errors, reload and restart ----------------------------------

@needs_module
def test_not_synced_until_services_listed(tmp_path, kube_api, backends,
                                          nginx_factory):
    """Services cannot be listed (403), EndpointSlices can: the entry stays
    unsynced (503 "not synced yet"), the log names the 403; once allowed,
    served."""
    s = Stack(tmp_path, kube_api, backends, nginx_factory, names=("a",),
              seed=seed_web, services=WEB80,
              api_conf=lambda st: (
                  st.api.admin("faults", {"status": 403, "method": "GET",
                                          "path": r"/services\?",
                                          "message": "services is "
                                                     "forbidden"})
                  and api_line(st.api)))
    n, api = s.nginx, s.api
    wait_log(n, r"list services: HTTP 403")
    api.wait_for_watches(1, path="endpointslices")
    r = n.get("/")
    assert r.status == 503, r
    assert "is not synced yet" in n.error_log()
    st = status(n)
    assert watcher(st)["synced"] is False, st
    assert service_status(st, "default/web:80")["state"] == "unsynced", st

    api.request("DELETE", "/_admin/faults", token="")
    wait_backends(n, {"a"}, timeout=40)
    assert watcher(status(n))["synced"] is True


@needs_module
def test_service_api_errors_keep_last_known(tmp_path, kube_api, backends,
                                            nginx_factory):
    """The Services list/watch fails (500) while a Service loses its port:
    the last-known table keeps serving; after the errors, the change is
    applied; a 410 on the Services watch relists them."""
    s = Stack(tmp_path, kube_api, backends, nginx_factory, names=("a",),
              seed=seed_web, services=WEB80)
    n, api = s.nginx, s.api
    wait_backends(n, {"a"})
    api.wait_for_watches(1, path="/services")

    api.admin("faults", {"status": 500, "path": r"/services\?"})
    api.admin("drop-watches", {"path": "/services", "mode": "abort"})
    wait_log(n, r"services: HTTP 500")
    set_ports(api, "web", [m.svc_port(None, 81, 8080)])
    for _ in range(20):
        r = n.get("/")
        assert r.status == 200 and r.backend == "a", r
    assert service_status(status(n), "default/web:80")["state"] == "ready"

    api.request("DELETE", "/_admin/faults", token="")
    wait_status(n, "/", 503, timeout=40)
    wait_log(n, r"Service default/web has no port 80")

    # compaction while the Services watch is cut: 410, relist, followed
    api.wait_for_watches(1, path="/services")
    relists = watcher(status(n))["relists"]
    api.admin("drop-watches", {"path": "/services", "mode": "abort"})
    set_ports(api, "web", [m.svc_port(None, 80, 8080)])
    api.admin("compact", {})
    wait_backends(n, {"a"}, timeout=20)
    harness.wait_for(lambda: watcher(status(n))["relists"] > relists, 10,
                     "the Services relist to be counted")


def service_requests(api):
    return [r for r in api.requests_seen()
            if r["method"] == "GET" and r["path"].endswith("/services")]


@needs_module
def test_reload_resumes_services_without_list(tmp_path, kube_api, backends,
                                              nginx_factory):
    """After nginx -s reload the new worker 0 resumes both watches from the
    zone (no list of Services or EndpointSlices), and a Service renumbered
    after the reload is followed: the Service state was resumed."""
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b"), seed=seed_web_two_ports, workers=2,
              services=WEB80)
    n, api = s.nginx, s.api
    wait_backends(n, {"a"})
    harness.wait_for(lambda: watcher(status(n))["state"] == "watching", 10,
                     "both watches open")

    since = len(api.requests_seen())
    n.reload()
    harness.wait_for(lambda: len([
        r for r in api.requests_seen()[since:]
        if r["path"].endswith("/services")
        and r["query"].get("watch") == "true"]), 15,
        "the resumed Services watch")
    wait_backends(n, {"a"})

    set_ports(api, "web", [m.svc_port("one", 81, "one"),
                           m.svc_port("two", 80, "two")])
    wait_backends(n, {"b"})

    lists = [r for r in api.requests_seen()[since:]
             if r["method"] == "GET" and r["query"].get("watch") != "true"
             and (r["path"].endswith("/services")
                  or r["path"].endswith("/endpointslices"))]
    assert lists == [], lists
    log = n.error_log()
    assert "Service(s) taken from the zone" in log, tail(log)
    assert "EndpointSlice(s) taken from the zone" in log, tail(log)


@needs_module
def test_restart_serves_last_known_with_api_down(tmp_path, kube_api,
                                                 backends, nginx_factory):
    """nginx with k8s_snapshot is stopped and started again while the API
    is down: it serves the last-known endpoints of port=80 at once; when
    the API is back, both lists complete and changes are followed."""
    api_port = harness.free_port()
    # workers run as an unprivileged user: the directory must be theirs
    # (pytest's tmp_path is private to root)
    state = tempfile.mkdtemp(prefix="kubengx-snap-")
    os.chmod(state, 0o777)
    snap = os.path.join(state, "endpoints.state")
    try:
        s = Stack(tmp_path, kube_api, backends, nginx_factory,
                  names=("a", "b"), seed=seed_web,
                  services=WEB80,
                  api_args=["--listen", "127.0.0.1:%d" % api_port],
                  api_conf=lambda st: api_line(st.api)
                  + "\n    k8s_snapshot %s;" % snap)
        n = s.nginx
        wait_backends(n, {"a"})
        harness.wait_for(lambda: parse_snapshot(snap).get("default/web:80")
                         == ("ready", [s.bk.addrs["a"]]), 10,
                         "the snapshot to hold a")

        n.stop()
        s.api.stop()
        n.start()
        for _ in range(10):
            r = n.get("/")
            assert r.status == 200 and r.backend == "a", \
                (r, tail(n.error_log()))
        assert watcher(status(n))["synced"] is False

        api2 = kube_api(load=[s.seed_path],
                        args=["--listen", "127.0.0.1:%d" % api_port])
        harness.wait_for(lambda: watcher(status(n))["synced"] is True, 70,
                         "synced with the API back")
        hb, pb = s.addr("b")
        api2.create(controller_slice("web", "b", [("web-b", hb)], pb))
        wait_backends(n, {"a", "b"})
    finally:
        shutil.rmtree(state, ignore_errors=True)
