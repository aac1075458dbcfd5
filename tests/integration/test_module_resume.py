"""A new worker 0 (nginx -s reload, a respawn after SIGKILL) resumes the
EndpointSlice watch from the resourceVersion stored in the k8s_zone, with
the slice cache kept there, instead of relisting; it relists when a
Service was not watched before or when the stored resourceVersion has
expired (410).  Real nginx, the stand-in API, real backends; asserted
from outside: the API's request log, HTTP answers, k8s_status."""

import os
import signal

import harness
import manifests as m
from test_module_watch import (Stack, api_line, delete_slice, module_conf,
                               put_slice, seed_ab, slice_obj, status, tail,
                               wait_backends, watcher, watching_pid)


def slice_requests(api):
    """The EndpointSlice collection GETs (list or watch) the API saw."""
    return [r for r in api.requests_seen()
            if r["method"] == "GET" and r["path"].endswith("/endpointslices")]


def is_watch(r):
    return r["query"].get("watch") in ("true", "1")


def lists_and_watches(reqs):
    watches = [r for r in reqs if is_watch(r)]
    lists = [r for r in reqs if not is_watch(r)]
    return lists, watches


def settled_rv(n, api):
    """Wait until k8s_status shows the API's current resourceVersion (the
    watcher has seen and stored every change); return it."""
    def cond():
        rv = api.admin("state")["resourceVersion"]
        w = watcher(status(n))
        return str(rv) if w["resource_version"] == str(rv) \
            and w["state"] == "watching" else None
    return harness.wait_for(cond, 10, "the watcher to reach the API's RV")


def new_watch(api, since):
    """The first EndpointSlice watch the API saw after request #since."""
    def cond():
        _, watches = lists_and_watches(slice_requests(api)[since:])
        return watches[0] if watches else None
    return harness.wait_for(cond, 15, "a new watch request")


def test_reload_resumes_watch_without_list(tmp_path, kube_api, backends,
                                           nginx_factory):
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed_ab, workers=2)
    n, api = s.nginx, s.api
    wait_backends(n, {"a", "b"})

    # a change seen through the watch: the stored cache follows events
    hc, pc = s.addr("c")
    put_slice(api, slice_obj("web", "web-a", [hc], pc))
    wait_backends(n, {"b", "c"})
    rv = settled_rv(n, api)
    relists = watcher(status(n))["relists"]

    since = len(slice_requests(api))
    n.reload()

    w = new_watch(api, since)
    assert w["query"]["resourceVersion"] == rv, w
    wait_backends(n, {"b", "c"})

    # changes made after the reload propagate through the resumed watch
    ha, pa = s.addr("a")
    put_slice(api, slice_obj("web", "web-b", [ha], pa))
    wait_backends(n, {"a", "c"})
    delete_slice(api, "web-a")
    wait_backends(n, {"a"})

    lists, _ = lists_and_watches(slice_requests(api)[since:])
    assert lists == [], lists
    st = watcher(status(n))
    assert st["lease_pid"] in n.worker_pids(), st
    assert st["relists"] == relists, st
    assert "without a list" in n.error_log(), tail(n.error_log())


def test_sigkill_respawn_resumes_watch_without_list(tmp_path, kube_api,
                                                    backends, nginx_factory):
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed_ab, workers=2)
    n, api = s.nginx, s.api
    wait_backends(n, {"a", "b"})
    rv = settled_rv(n, api)
    victim = harness.wait_for(lambda: watching_pid(n), 10, "lease holder")

    since = len(slice_requests(api))
    os.kill(victim, signal.SIGKILL)
    harness.wait_for(lambda: victim not in n.worker_pids()
                     and len(n.worker_pids()) == 2, 10, "respawn")
    harness.wait_for(lambda: watching_pid(n) not in (None, victim), 15,
                     "the respawned worker to watch")

    w = new_watch(api, since)
    assert w["query"]["resourceVersion"] == rv, w

    hc, pc = s.addr("c")
    put_slice(api, slice_obj("web", "web-b", [hc], pc))
    wait_backends(n, {"a", "c"})

    lists, _ = lists_and_watches(slice_requests(api)[since:])
    assert lists == [], lists


def test_reload_with_new_service_relists(tmp_path, kube_api, backends,
                                         nginx_factory):
    """A Service the previous generation did not watch has no cached
    slices: the new worker 0 lists, and serves it."""
    def seed(bk):
        hc, pc = bk.host_port("c")
        return seed_ab(bk) + [slice_obj("api", "api-c", [hc], pc)]

    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed, workers=2)
    n, api = s.nginx, s.api
    wait_backends(n, {"a", "b"})
    settled_rv(n, api)

    since = len(slice_requests(api))
    n.write_conf(module_conf(s.port, api_line(api),
                             services=(("web", "default/web", "http"),
                                       ("api", "default/api", "http"))),
                 workers=2)
    n.reload()

    wait_backends(n, {"c"}, path="/api/")
    wait_backends(n, {"a", "b"})
    lists, _ = lists_and_watches(slice_requests(api)[since:])
    assert lists, slice_requests(api)[since:]
    assert "a Service was not watched before" in n.error_log(), \
        tail(n.error_log())

    # and the next reload (same Services) resumes again
    rv = settled_rv(n, api)
    since = len(slice_requests(api))
    n.reload()
    w = new_watch(api, since)
    assert w["query"]["resourceVersion"] == rv, w
    wait_backends(n, {"c"}, path="/api/")
    assert lists_and_watches(slice_requests(api)[since:])[0] == []


def test_compaction_during_reload_relists(tmp_path, kube_api, backends,
                                          nginx_factory):
    """The stored resourceVersion expires while the watching worker is
    stuck and nginx reloads: the resumed watch gets 410, the new worker 0
    relists and serves the change it missed."""
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed_ab, workers=1)
    n, api = s.nginx, s.api
    wait_backends(n, {"a", "b"})
    rv = settled_rv(n, api)
    old = harness.wait_for(lambda: watching_pid(n), 10, "lease holder")

    # the old worker 0 stops seeing anything ...
    os.kill(old, signal.SIGSTOP)
    try:
        api.admin("drop-watches", {"path": "endpointslices",
                                   "mode": "abort"})
        hc, pc = s.addr("c")
        put_slice(api, slice_obj("web", "web-a", [hc], pc))
        api.admin("compact", {})
        since = len(slice_requests(api))

        # ... nginx reloads, and the stuck worker dies
        n.proc.send_signal(signal.SIGHUP)
        harness.wait_for(lambda: set(n.worker_pids()) - {old}, 10,
                         "a new worker")
    finally:
        os.kill(old, signal.SIGKILL)
    harness.wait_for(lambda: old not in n.worker_pids(), 10,
                     "the old worker to be gone")

    w = new_watch(api, since)
    assert w["query"]["resourceVersion"] == rv, w
    harness.wait_for(lambda: lists_and_watches(
        slice_requests(api)[since:])[0], 15, "a relist after the 410")
    wait_backends(n, {"b", "c"})
    assert watcher(status(n))["relists"] >= 1

    delete_slice(api, "web-b")
    wait_backends(n, {"c"})


def test_relists_counter_survives_reload(tmp_path, kube_api, backends,
                                         nginx_factory):
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed_ab, workers=1)
    n, api = s.nginx, s.api
    wait_backends(n, {"a", "b"})
    api.wait_for_watches(1, path="endpointslices")

    # a 410 relist in this generation
    hc, pc = s.addr("c")
    api.admin("drop-watches", {"path": "endpointslices", "mode": "abort"})
    put_slice(api, slice_obj("web", "web-a", [hc], pc))
    api.admin("compact", {})
    wait_backends(n, {"b", "c"})
    harness.wait_for(lambda: watcher(status(n))["relists"] >= 1, 10,
                     "the relist to be counted")
    settled_rv(n, api)
    before = watcher(status(n))

    old = n.worker_pids()
    n.reload()
    harness.wait_for(lambda: watcher(status(n))["lease_pid"]
                     not in old and watching_pid(n), 15,
                     "the new worker 0 to watch")
    after = watcher(status(n))
    assert after["relists"] >= before["relists"] >= 1, (before, after)
    assert after["errors"] >= before["errors"], (before, after)

    # the stored cache was rewritten by that relist: still resumable
    delete_slice(api, "web-b")
    wait_backends(n, {"c"})


def test_service_dropped_then_named_again_relists(tmp_path, kube_api,
                                                  backends, nginx_factory):
    """A reload that stops naming a Service resumes, and the cache then
    covers only the Services still named: its slices change unseen, so a
    later reload naming it again must relist, not resume."""
    def seed(bk):
        ha, pa = bk.host_port("a")
        return [slice_obj("web", "web-a", [ha], pa),
                slice_obj("api", "api-x", [bk.host_port("b")[0]],
                          bk.host_port("b")[1])]

    both = (("web", "default/web", "http"), ("api", "default/api", "http"))
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed, workers=1, services=both)
    n, api = s.nginx, s.api
    wait_backends(n, {"b"}, path="/api/")
    settled_rv(n, api)

    # web only: resumes (a subset of what was watched)
    since = len(slice_requests(api))
    n.write_conf(module_conf(s.port, api_line(api), services=both[:1]))
    n.reload()
    new_watch(api, since)
    wait_backends(n, {"a"})
    assert lists_and_watches(slice_requests(api)[since:])[0] == []

    # api changes while nobody watches it
    hc, pc = s.addr("c")
    put_slice(api, slice_obj("api", "api-x", [hc], pc))

    # both again: api was not watched by the previous generation
    since = len(slice_requests(api))
    n.write_conf(module_conf(s.port, api_line(api), services=both))
    n.reload()
    wait_backends(n, {"c"}, path="/api/")
    wait_backends(n, {"a"})
    assert lists_and_watches(slice_requests(api)[since:])[0], \
        slice_requests(api)[since:]


def test_zone_full_drops_cache_and_relists(tmp_path, kube_api, backends,
                                           nginx_factory):
    """A zone too small for the slice cache (400 not-ready endpoints with
    long hostnames: the table keeps only the ready one, the cache would
    keep them all): the cache is dropped, logged, the table still serves,
    and the next worker 0 relists instead of resuming."""
    def seed(bk):
        ha, pa = bk.host_port("a")
        eps = [m.endpoint(ha)]
        for i in range(400):
            e = m.endpoint("10.1.%d.%d" % (i // 200, i % 200 + 1),
                           ready=False)
            e["hostname"] = "pod-%03d-%s" % (i, "x" * 56)
            eps.append(e)
        return [m.slice_("web", eps, [("http", pa)], name="web-big")]

    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b"), seed=seed, workers=1)
    n, api = s.nginx, s.api
    wait_backends(n, {"a"})

    # a new, small zone (its size changed): listed, cache does not fit
    n.write_conf(module_conf(s.port, api_line(api)).replace(
        "k8s_zone k8s 4m;", "k8s_zone k8s 64k;"))
    n.reload()
    harness.wait_for(lambda: "EndpointSlice cache dropped" in n.error_log(),
                     15, "the cache to be dropped")
    wait_backends(n, {"a"})
    settled_rv(n, api)

    since = len(slice_requests(api))
    n.reload()
    harness.wait_for(lambda: lists_and_watches(
        slice_requests(api)[since:])[0], 15, "a relist")
    assert "the slice cache is incomplete" in n.error_log(), \
        tail(n.error_log())
    hb, pb = s.addr("b")
    put_slice(api, slice_obj("web", "web-b", [hb], pb))
    wait_backends(n, {"a", "b"})
