"""The API and process fault matrix of issue 8, the part not covered by
test_module_api_faults.py / test_module_watch.py: 403 (RBAC missing), 503
with Retry-After, a stalled watch, garbage and truncated watch lines, a
5 MiB event, repeated and out-of-order resourceVersions, DELETED for
unknown slices, malformed slices, SIGKILL of the watching worker during a
large table update, 50 reloads under wrk load.

Every test asserts from outside (HTTP answers from self-identifying
backends, k8s_status, the error log, worker pids): no crash, the
last-known table kept and served during the fault, a log line naming the
fault, and recovery when it ends.

Raw watch lines are written with the stand-in's /_admin/inject knob.

The stalled watch: a watch that sends headers and then nothing is cut
after k8s_api's watch_idle_timeout (default 180 s, three times the API
server's bookmark period; a low-speed limit in libcurl) and resumed from
its resourceVersion.  The tests set it to 3 s with the stand-in sending a
BOOKMARK every 0.5 s."""

import os
import re
import signal
import subprocess
import time

import pytest

import harness
from test_module_api_faults import lists_seen
from test_module_watch import (Stack, api_line, delete_slice, put_slice,
                               seed_ab, service_status, slice_obj, slice_path,
                               status, tail, wait_backends, watcher)


WEB = "default/web:http"


# --- helpers ---------------------------------------------------------------

def no_crash(n):
    log = n.error_log()
    assert "exited on signal" not in log, tail(log)


def wait_log(n, pattern, timeout=15.0, what=None):
    """Wait for a line matching the regex in the error log; returns it."""
    def cond():
        for line in n.error_log().splitlines():
            if re.search(pattern, line):
                return line
        return None
    return harness.wait_for(cond, timeout, what or "log line /%s/" % pattern)


def log_count(n, pattern):
    return sum(1 for line in n.error_log().splitlines()
               if re.search(pattern, line))


def serving(n, expected, count=20, path="/"):
    """Exactly `expected` answer `count` requests in a row (no waiting)."""
    for _ in range(count):
        r = n.get(path)
        assert r.status == 200 and r.backend in expected, \
            (r, tail(n.error_log()))


def watching(n):
    w = watcher(status(n))
    return w["state"] == "watching" and w


def inject(api, raw=None, event=None):
    """Write raw bytes / one event line into the open EndpointSlice watch."""
    api.wait_for_watches(1, path="endpointslices")
    body = {"path": "endpointslices"}
    if event is not None:
        body["event"] = event
    else:
        body["raw"] = raw
    got = api.admin("inject", body)
    assert got["injected"] >= 1, got


def svc_generation(n, key=WEB):
    return service_status(status(n), key)["generation"]


def current_rv(api):
    return str(api.admin("state")["resourceVersion"])


def ready_stack(tmp_path, kube_api, backends, nginx_factory, **kw):
    """Backends a, b, c; Service web served by a and b; watch open."""
    kw.setdefault("names", ("a", "b", "c"))
    kw.setdefault("seed", seed_ab)
    s = Stack(tmp_path, kube_api, backends, nginx_factory, **kw)
    wait_backends(s.nginx, {"a", "b"})
    s.api.wait_for_watches(1, path="endpointslices")
    harness.wait_for(lambda: watching(s.nginx), 10, "state watching")
    return s


# --- API faults ------------------------------------------------------------

FORBIDDEN = ('endpointslices.discovery.k8s.io is forbidden: User '
             '"system:serviceaccount:ingress:kubengx" cannot list resource '
             '"endpointslices" in API group "discovery.k8s.io"')


def test_403_rbac_missing_then_fixed(tmp_path, kube_api, backends,
                                     nginx_factory):
    """The Role is removed (every list/watch 403), a Service changes
    meanwhile, the Role comes back: the table is kept during the fault,
    the log names the 403 and its message, the change arrives after."""
    s = ready_stack(tmp_path, kube_api, backends, nginx_factory)
    n, api = s.nginx, s.api
    errors0 = watcher(status(n))["errors"]

    api.admin("faults", {"status": 403, "path": r"/endpointslices\?",
                         "method": "GET",
                         "message": FORBIDDEN})
    api.admin("drop-watches", {"path": "endpointslices", "mode": "abort"})
    line = wait_log(n, r"HTTP 403", 15)
    assert "forbidden" in line, line
    # a change the module cannot see while forbidden
    hc, pc = s.addr("c")
    put_slice(api, slice_obj("web", "web-a", [hc], pc))
    harness.wait_for(lambda: watcher(status(n))["errors"] >= errors0 + 2,
                     20, "two failed attempts")
    serving(n, {"a", "b"}, count=30)
    st = status(n)
    assert service_status(st, WEB)["state"] == "ready", st
    assert watcher(st)["synced"] is True, watcher(st)
    no_crash(n)

    api.request("DELETE", "/_admin/faults", token="")
    # backoff after 2-3 failures: at most 6.4 s (+ jitter)
    wait_backends(n, {"b", "c"}, timeout=40)
    harness.wait_for(lambda: watching(n), 15, "watching again")
    delete_slice(api, "web-b")
    wait_backends(n, {"c"})
    no_crash(n)


def test_403_from_the_start_then_fixed(tmp_path, kube_api, backends,
                                       nginx_factory):
    """No RBAC from the start: nginx serves 503 (not synced), k8s_status
    says so, the log names the 403; once allowed, the table fills."""
    s = Stack(tmp_path, kube_api, backends, nginx_factory, seed=seed_ab,
              api_conf=lambda st: (
                  st.api.admin("faults", {"status": 403, "method": "GET",
                                          "path": r"/endpointslices\?",
                                          "message": FORBIDDEN})
                  and "k8s_api %s;" % st.api.url))
    n, api = s.nginx, s.api
    line = wait_log(n, r"list endpointslices: HTTP 403", 15)
    assert "forbidden" in line, line
    r = n.get("/")
    assert r.status == 503, r
    st = status(n)
    assert watcher(st)["synced"] is False, st
    assert service_status(st, WEB)["state"] == "unsynced", st
    harness.wait_for(lambda: watcher(status(n))["errors"] >= 2, 15,
                     "a second attempt")
    api.request("DELETE", "/_admin/faults", token="")
    wait_backends(n, {"a", "b"}, timeout=30)
    assert watcher(status(n))["synced"] is True
    no_crash(n)


def test_503_with_retry_after_keeps_table(tmp_path, kube_api, backends,
                                          nginx_factory):
    """Every list and watch answers 503 with Retry-After: 1 (an overloaded
    or restarting API server): the table keeps serving, the log names
    the 503, the retries follow Retry-After (about 1 s apart instead of a
    doubling backoff), and recovery follows as soon as the 503s stop."""
    s = ready_stack(tmp_path, kube_api, backends, nginx_factory)
    n, api = s.nginx, s.api
    api.admin("faults", {"status": 503, "path": r"/endpointslices\?",
                         "method": "GET",
                         "retryAfter": 1,
                         "message": "the server is currently unable to "
                                    "handle the request"})
    api.request("DELETE", "/_admin/requests", token="")
    api.admin("drop-watches", {"path": "endpointslices", "mode": "abort"})
    line = wait_log(n, r"HTTP 503", 15)
    assert "unable to handle" in line, line
    hc, pc = s.addr("c")
    put_slice(api, slice_obj("web", "web-a", [hc], pc))

    def faulted():
        return [r["time"] for r in api.requests_seen()
                if r["path"].endswith("/endpointslices")
                and r["method"] == "GET"]
    times = harness.wait_for(lambda: len(faulted()) >= 6 and faulted(), 30,
                             "six rejected attempts")
    gaps = [b - a for a, b in zip(times, times[1:])][:5]
    # Retry-After 1 s each time; a doubling backoff would be at least
    # 0.8, 1.6, 3.2, 6.4, 12.8 s (+ up to 100 % jitter)
    assert min(gaps) >= 0.9 and max(gaps) < 6.0, gaps
    serving(n, {"a", "b"}, count=30)
    assert service_status(status(n), WEB)["state"] == "ready"
    no_crash(n)

    api.request("DELETE", "/_admin/faults", token="")
    wait_backends(n, {"b", "c"}, timeout=20)
    harness.wait_for(lambda: watching(n), 15, "watching again")
    delete_slice(api, "web-b")
    wait_backends(n, {"c"})
    no_crash(n)


def idle_stack(tmp_path, kube_api, backends, nginx_factory):
    return ready_stack(tmp_path, kube_api, backends, nginx_factory,
                       api_args=["--bookmark-interval", "0.5"],
                       api_conf=lambda s: api_line(
                           s.api, watch_idle_timeout="3s"))


def watch_requests(api):
    return [r for r in api.requests_seen()
            if r["path"].endswith("/endpointslices")
            and r["query"].get("watch") == "true"]


def test_idle_watch_kept_alive_by_bookmarks(tmp_path, kube_api, backends,
                                            nginx_factory):
    """A quiet but healthy watch (bookmarks only) is not cut by the idle
    deadline, and asks for bookmarks; the default watch still asks for a
    timeoutSeconds in [300, 600)."""
    s = idle_stack(tmp_path, kube_api, backends, nginx_factory)
    n, api = s.nginx, s.api
    w = watch_requests(api)
    assert w and w[-1]["query"]["allowWatchBookmarks"] == "true", w
    assert 300 <= int(w[-1]["query"]["timeoutSeconds"]) < 600, w[-1]
    # over twice the idle deadline with nothing but bookmarks on the
    # stream: the same watch stays open
    deadline = time.monotonic() + 7
    while time.monotonic() < deadline:
        serving(n, {"a", "b"}, count=4)
    assert len(watch_requests(api)) == len(w), watch_requests(api)
    assert "too slow" not in n.error_log()
    no_crash(n)


def test_stalled_watch_cut_by_idle_deadline(tmp_path, kube_api, backends,
                                            nginx_factory):
    """A watch that sent its headers and then nothing (slowloris): the
    last-known table keeps serving; after watch_idle_timeout with no byte
    the module cuts the stream, logs it, re-watches from its
    resourceVersion (no relist) and catches up with what it missed, all
    while the server still stalls after its replay."""
    s = idle_stack(tmp_path, kube_api, backends, nginx_factory)
    n, api = s.nginx, s.api
    relists0 = watcher(status(n))["relists"]
    watches0 = len(watch_requests(api))

    api.admin("stream", {"stall": True})
    try:
        hc, pc = s.addr("c")
        put_slice(api, slice_obj("web", "web-a", [hc], pc))
        delete_slice(api, "web-b")
        # nothing arrives for a while: the table stays as it was
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            serving(n, {"a", "b"}, count=5)
        no_crash(n)

        # the idle deadline cuts the stalled stream; the re-watch from
        # the stored resourceVersion gets the missed events replayed
        wait_log(n, r"watch endpointslices: .*too slow", 15)
        wait_backends(n, {"c"}, timeout=20)
        assert watcher(status(n))["relists"] == relists0
        assert len(watch_requests(api)) > watches0
        rv = watch_requests(api)[watches0]["query"]["resourceVersion"]
        assert rv not in ("", "0"), rv
    finally:
        api.admin("stream", {"stall": False})
    hb, pb = s.addr("b")
    put_slice(api, slice_obj("web", "web-b", [hb], pb))
    wait_backends(n, {"b", "c"})
    no_crash(n)


def test_events_split_at_every_byte(tmp_path, kube_api, backends,
                                    nginx_factory):
    """Every byte of the watch stream in its own HTTP chunk (a boundary
    after each byte, inside keys, escapes and the newline): events are
    applied, nothing is logged as an error."""
    s = ready_stack(tmp_path, kube_api, backends, nginx_factory)
    n, api = s.nginx, s.api
    w0 = watcher(status(n))
    api.admin("stream", {"split": 1})
    try:
        hc, pc = s.addr("c")
        obj = slice_obj("web", "web-c", [hc], pc)
        obj["metadata"]["annotations"] = {"x": "\u00e9\\\"\n\u2603"}
        put_slice(api, obj)
        wait_backends(n, {"a", "b", "c"})
        delete_slice(api, "web-a")
        wait_backends(n, {"b", "c"})
    finally:
        api.admin("stream", {"split": 0})
    w1 = watcher(status(n))
    assert (w1["errors"], w1["relists"]) == (w0["errors"], w0["relists"])
    no_crash(n)


GARBAGE = {
    # a line cut in the middle of an object
    "truncated": '{"type":"MODIFIED","object":{"kind":"EndpointSlice",'
                 '"metadata":{"name":"web-a","namespace":"def\n',
    # bytes that are no JSON at all
    "binary": "\x00\x01\xff}{][ not json \x7f\n",
    # valid JSON, not a watch event
    "not-an-event": '[1,2,3]\n',
    # an event whose object is not an object
    "bad-object": '{"type":"ADDED","object":42}\n',
    # an unknown event type
    "bad-type": '{"type":"EXPLODED","object":{"metadata":{}}}\n',
}


@pytest.mark.parametrize("kind", sorted(GARBAGE) + ["cut-at-end"])
def test_garbage_watch_line_relists(tmp_path, kube_api, backends,
                                    nginx_factory, kind):
    """A watch line that is not a valid event: the watch is abandoned with
    a log line naming it, the table is kept, a relist follows and later
    changes arrive.  cut-at-end: the stream ends in the middle of a
    line."""
    s = ready_stack(tmp_path, kube_api, backends, nginx_factory)
    n, api = s.nginx, s.api
    lists0 = len(lists_seen(api)[0])
    relists0 = watcher(status(n))["relists"]
    warns0 = log_count(n, r"watch endpointslices: .*relisting")

    if kind == "cut-at-end":
        inject(api, raw='{"type":"MODIFIED","object":{"metadata":{"na')
        api.admin("drop-watches", {"path": "endpointslices", "mode": "end"})
    else:
        inject(api, raw=GARBAGE[kind])
    harness.wait_for(lambda: log_count(
        n, r"watch endpointslices: .*relisting") > warns0, 10,
        "the watcher to reject the line")
    serving(n, {"a", "b"}, count=20)
    harness.wait_for(lambda: len(lists_seen(api)[0]) > lists0, 15,
                     "a relist")
    harness.wait_for(lambda: watching(n), 15, "watching again")
    assert watcher(status(n))["relists"] > relists0
    serving(n, {"a", "b"}, count=10)

    hc, pc = s.addr("c")
    put_slice(api, slice_obj("web", "web-a", [hc], pc))
    wait_backends(n, {"b", "c"})
    no_crash(n)


def test_5mib_event(tmp_path, kube_api, backends, nginx_factory):
    """An EndpointSlice carrying a 5 MiB annotation, in a watch event and
    then in a relist: applied, the stream is not broken (no error, no
    relist), later small events still arrive."""
    s = ready_stack(tmp_path, kube_api, backends, nginx_factory)
    n, api = s.nginx, s.api
    w0 = watcher(status(n))
    hc, pc = s.addr("c")
    big = slice_obj("web", "web-c", [hc], pc)
    big["metadata"]["annotations"] = {"example.com/blob": "x" * (5 << 20)}
    put_slice(api, big)
    wait_backends(n, {"a", "b", "c"}, timeout=30)
    delete_slice(api, "web-a")
    wait_backends(n, {"b", "c"})
    w1 = watcher(status(n))
    assert (w1["errors"], w1["relists"]) == (w0["errors"], w0["relists"]), \
        (w0, w1, tail(n.error_log()))

    # the same object in a list: move the resourceVersion past the
    # module's, compact, end the watch -> 410 -> relist
    lists0 = len(lists_seen(api)[0])
    api.create({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "other", "namespace": "default"},
                "spec": {"ports": [{"name": "http", "port": 80}]}})
    api.admin("compact", {})
    api.admin("drop-watches", {"path": "endpointslices", "mode": "end"})
    harness.wait_for(lambda: len(lists_seen(api)[0]) > lists0, 20,
                     "a relist")
    harness.wait_for(lambda: watching(n), 15, "watching again")
    serving(n, {"b", "c"}, count=20)
    delete_slice(api, "web-b")
    wait_backends(n, {"c"})
    no_crash(n)


def test_repeated_and_older_resource_versions(tmp_path, kube_api, backends,
                                              nginx_factory):
    """The same event twice, and an event carrying an older
    resourceVersion with the slice's current content (what a replay from
    a stale resourceVersion delivers): no table change, no error; the
    watch goes on and a later re-watch from the older resourceVersion
    converges without a relist."""
    s = ready_stack(tmp_path, kube_api, backends, nginx_factory)
    n, api = s.nginx, s.api
    hc, pc = s.addr("c")
    put_slice(api, slice_obj("web", "web-b", [hc], pc))
    wait_backends(n, {"a", "c"})
    gen0 = svc_generation(n)
    w0 = watcher(status(n))
    cur_b = api.get(slice_path("web-b"))
    cur_a = api.get(slice_path("web-a"))
    assert int(cur_a["metadata"]["resourceVersion"]) < \
        int(cur_b["metadata"]["resourceVersion"])

    # the last event again, twice
    for _ in range(2):
        inject(api, event={"type": "MODIFIED", "object": cur_b})
    # an ADDED for web-a at its own (older) resourceVersion, current content
    inject(api, event={"type": "ADDED", "object": cur_a})
    harness.wait_for(lambda: watcher(status(n))["resource_version"]
                     == cur_a["metadata"]["resourceVersion"], 10,
                     "the injected events to be read")
    serving(n, {"a", "c"}, count=20)
    w1 = watcher(status(n))
    assert svc_generation(n) == gen0
    assert (w1["errors"], w1["relists"]) == (w0["errors"], w0["relists"]), \
        (w0, w1)

    # the injected resourceVersion became the resume point (the module
    # treats resourceVersions as opaque, as client-go does): the re-watch
    # replays web-b's history (b, then c), which passes through the table
    # and ends where it was
    lists0 = len(lists_seen(api)[0])
    api.admin("drop-watches", {"path": "endpointslices", "mode": "end"})
    wait_log(n, r"watching again from resourceVersion %s\b"
             % cur_a["metadata"]["resourceVersion"], 10)
    harness.wait_for(lambda: watcher(status(n))["resource_version"]
                     == cur_b["metadata"]["resourceVersion"], 10,
                     "the replay")
    serving(n, {"a", "c"}, count=20)
    assert len(lists_seen(api)[0]) == lists0
    # and the watch still delivers
    delete_slice(api, "web-a")
    wait_backends(n, {"c"})
    no_crash(n)


def test_deleted_for_unknown_slices_ignored(tmp_path, kube_api, backends,
                                            nginx_factory):
    """DELETED events for slices the module never saw (of a watched
    Service, of another Service, in another namespace, without a name):
    ignored, table unchanged, no relist; later events apply."""
    s = ready_stack(tmp_path, kube_api, backends, nginx_factory)
    n, api = s.nginx, s.api
    gen0 = svc_generation(n)
    w0 = watcher(status(n))
    rv = current_rv(api)
    hc, pc = s.addr("c")
    ghosts = [slice_obj("web", "web-ghost", [hc], pc),
              slice_obj("other", "other-ghost", [hc], pc),
              slice_obj("web", "web-ghost", [hc], pc, ns="elsewhere")]
    nameless = slice_obj("web", "x", [hc], pc)
    del nameless["metadata"]["name"]
    ghosts.append(nameless)
    for g in ghosts:
        g["metadata"]["resourceVersion"] = rv
        inject(api, event={"type": "DELETED", "object": g})
    harness.wait_for(lambda: watcher(status(n))["resource_version"] == rv,
                     10, "the injected events to be read")
    serving(n, {"a", "b"}, count=20)
    w1 = watcher(status(n))
    assert svc_generation(n) == gen0
    assert (w1["errors"], w1["relists"]) == (w0["errors"], w0["relists"]), \
        (w0, w1)

    delete_slice(api, "web-a")
    wait_backends(n, {"b"})
    put_slice(api, slice_obj("web", "web-c", [hc], pc))
    wait_backends(n, {"b", "c"})
    no_crash(n)


def bad_slices(bk, prefix):
    """Malformed EndpointSlices of Service web, all pointing at backend c
    except a valid address of b inside a slice of bad ones."""
    hb, pb = bk.host_port("b")
    hc, pc = bk.host_port("c")
    null_eps = slice_obj("web", prefix + "null", [hc], pc)
    null_eps["endpoints"] = None
    null_ports = slice_obj("web", prefix + "nullports", [hc], pc)
    null_ports["ports"] = None
    bad_ip = slice_obj("web", prefix + "badip",
                       ["999.1.1.1", "not-an-ip", "::1", "1.2.3",
                        "127.0.0.1/32", " 127.0.0.1", hb], pb)
    port0 = slice_obj("web", prefix + "port0", [hc], 0)
    port_big = slice_obj("web", prefix + "port70000", [hc], 70000)
    port_neg = slice_obj("web", prefix + "portneg", [hc], -1)
    port_str = slice_obj("web", prefix + "portstr", [hc], pc)
    port_str["ports"][0]["port"] = str(pc)
    no_addr = slice_obj("web", prefix + "noaddr", [hc], pc)
    no_addr["endpoints"] = [{"addresses": []}, {"conditions": {}},
                            {"addresses": None}, "string", None]
    return [null_eps, null_ports, bad_ip, port0, port_big, port_neg,
            port_str, no_addr]


def test_malformed_slices_skipped(tmp_path, kube_api, backends,
                                  nginx_factory):
    """Slices with "endpoints": null, invalid IPs, ports 0 / 70000 / -1 /
    a string, empty addresses, in the initial list and then through the
    watch: the bad entries are skipped (logged), the valid ones served."""
    def seed(bk):
        return seed_ab(bk)[:1] + bad_slices(bk, "list-")

    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed)
    n, api = s.nginx, s.api
    # a (valid slice) and b (the one valid address among invalid ones)
    wait_backends(n, {"a", "b"})
    api.wait_for_watches(1, path="endpointslices")
    eps = [e["address"] for e in service_status(status(n), WEB)["endpoints"]]
    assert len(eps) == 2, eps
    # each bad entry named in the log, from the list ...
    log = n.error_log()
    for pat in (r'"default/list-badip": endpoints\[0\]\S* "999\.1\.1\.1" '
                r'is not a valid IPv4',
                r'"default/list-port0": ports\[0\]\.port 0 is out of range',
                r'"default/list-port70000": ports\[0\]\.port 70000 is out',
                r'"default/list-portneg": ports\[0\]\.port -1 is out',
                r'"default/list-portstr": ports\[0\]\.port is not an int',
                r'"default/list-noaddr": endpoints\[0\]\.addresses is empty'):
        assert re.search(pat, log), (pat, tail(log))
    no_crash(n)

    for obj in bad_slices(s.bk, "watch-"):
        put_slice(api, obj)
    # ... and from the watch
    wait_log(n, r'"default/watch-port70000": ports\[0\]\.port 70000 is out')
    wait_log(n, r'"default/watch-badip": endpoints\[0\]\S* "999\.1\.1\.1"')
    delete_slice(api, "list-badip")
    wait_backends(n, {"a", "b"})       # watch-badip still has b
    delete_slice(api, "watch-badip")
    wait_backends(n, {"a"})
    assert len(service_status(status(n), WEB)["endpoints"]) == 1
    # a bad slice fixed in place becomes a good one
    hc, pc = s.addr("c")
    put_slice(api, slice_obj("web", "watch-port70000", [hc], pc))
    wait_backends(n, {"a", "c"})
    no_crash(n)


# --- process faults --------------------------------------------------------

def lease_holder(n):
    w = watcher(status(n))
    if w["lease_pid"] in n.worker_pids() and w["state"] == "watching":
        return w["lease_pid"]
    return None


def all_workers_answer(n, expected, path="/web/x", timeout=20):
    """Every worker answers `path`, each with exactly the set `expected`."""
    last = {}

    def cond():
        pids = set(n.worker_pids())
        per = {}
        for _ in range(40):
            r = n.get(path)
            w = int(r.headers.get("x-worker", "0"))
            per.setdefault(w, set()).add(r.backend if r.status == 200
                                         else r.status)
        last["per"] = per
        return set(per) == pids and all(v == set(expected)
                                        for v in per.values())
    try:
        harness.wait_for(cond, timeout, "every worker to answer with %s"
                         % sorted(expected))
    except harness.Timeout as e:
        raise AssertionError("%s; last %s\n%s" % (e, last.get("per"),
                                                  tail(n.error_log())))


def big_slice(round_no, count=1000):
    """count ready endpoints of Service big (never requested)."""
    eps = ["10.%d.%d.%d" % (100 + round_no, i // 250, i % 250 + 1)
           for i in range(count)]
    return slice_obj("big", "big-1", eps, 8080)


def big_addresses(n):
    return [e["address"] for e in
            service_status(status(n), "default/big:http")["endpoints"]]


KILL_DELAYS = (0.0, 0.001, 0.002, 0.004, 0.008, 0.016, 0.03)


def test_sigkill_during_large_update(tmp_path, kube_api, backends,
                                     nginx_factory):
    """SIGKILL of the watching worker right after a 1000-endpoint slice
    is written (while the watcher receives, decodes and writes it to the
    table and the zone's slice cache; the kill lands 0-30 ms after the
    API write, one round each): no lock stays held, the respawned worker
    takes the lease and resumes (or relists), both workers keep
    answering, and later changes reach both."""
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed_ab, workers=2,
              reuseport=True,
              services=(("web", "default/web", "http"),
                        ("big", "default/big", "http")))
    n, api = s.nginx, s.api
    all_workers_answer(n, {"a", "b"})
    ha, pa = s.addr("a")
    hc, pc = s.addr("c")
    for rnd, delay in enumerate(KILL_DELAYS):
        victim = harness.wait_for(lambda: lease_holder(n), 20,
                                  "a watching lease holder")
        obj = big_slice(rnd)
        put_slice(api, obj)
        if delay:
            time.sleep(delay)      # not synchronisation: the kill point
        os.kill(victim, signal.SIGKILL)
        harness.wait_for(lambda: victim not in n.worker_pids()
                         and len(n.worker_pids()) == 2, 10, "respawn")
        # requests through both workers while the new worker 0 starts
        all_workers_answer(n, {"a", "b"} if rnd % 2 == 0 else {"b", "c"})
        harness.wait_for(lambda: lease_holder(n) not in (None, victim),
                         20, "a new lease holder")
        want = sorted(e["addresses"][0] + ":8080" for e in obj["endpoints"])
        assert len(want) == 1000
        harness.wait_for(lambda: sorted(big_addresses(n)) == want, 20,
                         "the 1000 endpoints of round %d" % rnd)
        # a change of web reaches every worker
        if rnd % 2 == 0:
            put_slice(api, slice_obj("web", "web-a", [hc], pc))
            all_workers_answer(n, {"b", "c"})
        else:
            put_slice(api, slice_obj("web", "web-a", [ha], pa))
            all_workers_answer(n, {"a", "b"})
    log = n.error_log()
    assert log.count("exited on signal 9") == len(KILL_DELAYS), tail(log)
    assert not re.search(r"exited on signal (?!9\b)", log), tail(log)
    delete_slice(api, "big-1")
    harness.wait_for(lambda: big_addresses(n) == [], 15, "big emptied")


WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s*(\d+)")
WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), "
                        r"write (\d+), timeout (\d+)")
WRK_TOTAL = re.compile(r"(\d+) requests in")


def test_50_reloads_under_wrk_load(tmp_path, kube_api, backends,
                                   nginx_factory):
    """50 reloads while wrk keeps 8 connections busy: zero failed
    requests (no non-2xx, no socket error), the table right afterwards,
    and the watch still following changes.

    The wrk that must see zero errors sends "Connection: close": on a
    graceful shutdown nginx closes its idle keep-alive connections, and a
    request the client has just sent on one is lost (nginx core
    behaviour, not the module's; an HTTP client retries it, wrk counts a
    read error).  A second wrk on keep-alive connections runs alongside:
    every response it gets must be a 2xx; its socket errors are
    reported, not asserted."""
    s = ready_stack(tmp_path, kube_api, backends, nginx_factory, workers=2)
    n, api = s.nginx, s.api
    url = "http://127.0.0.1:%d/web/x" % s.port
    wrk = [subprocess.Popen(["wrk", "-t1", "-c%d" % c, "-d600s",
                             "--timeout", "10s"] + extra + [url],
                            stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
           for c, extra in ((8, ["-H", "Connection: close"]), (4, []))]
    out = []
    try:
        harness.wait_for(lambda: any(
            service_status(status(n), WEB)["endpoints"][i]["requests"]
            for i in range(2)), 10, "wrk to send requests")
        for _ in range(50):
            n.reload(timeout=20)
            assert len(n.worker_pids()) == 2
    finally:
        for w in wrk:
            w.send_signal(signal.SIGINT)
        for w in wrk:
            try:
                out.append(w.communicate(timeout=30)[0])
            except subprocess.TimeoutExpired:
                w.kill()
                out.append(w.communicate()[0])
    for o in out:
        total = WRK_TOTAL.search(o)
        assert total and int(total.group(1)) > 0, o
        m = WRK_NON2XX.search(o)
        assert m is None or int(m.group(1)) == 0, o
    m = WRK_SOCKET.search(out[0])
    assert m is None or all(int(x) == 0 for x in m.groups()), out[0]
    no_crash(n)
    assert "[alert]" not in n.error_log(), tail(n.error_log())
    m = WRK_SOCKET.search(out[1])
    print("keep-alive wrk: %s requests, socket errors: %s"
          % (WRK_TOTAL.search(out[1]).group(1),
             m.group(0) if m else "none"))

    wait_backends(n, {"a", "b"})
    hc, pc = s.addr("c")
    put_slice(api, slice_obj("web", "web-a", [hc], pc))
    wait_backends(n, {"b", "c"})
    print("wrk: %s requests over 50 reloads; %d lists"
          % (WRK_TOTAL.search(out[0]).group(1), len(lists_seen(api)[0])))
