"""Memory safety of the table under change: endpoint lists replaced over
and over (through the watcher and the stand-in API) while requests are in
flight, some of them retrying, some slow; no worker may crash, every
request must be answered, and retired lists must be freed once no request
holds them.  Also: worker 0 writes the snapshot after changes, and more
than 64 endpoints (the out-of-line "tried" bitmap)."""

import os
import pathlib
import shutil
import tempfile
import threading
import time

import harness
from k8s_module_util import parse_snapshot, start_with_snapshot, status
from test_module_watch import (Stack, delete_slice, put_slice, slice_obj,
                               wait_backends)


def test_churn_under_load(tmp_path, kube_api, backends, nginx_factory):
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c", "d"), workers=2,
              seed=lambda bk: [slice_obj("web", "web-1",
                                         [bk.host_port("a")[0]],
                                         bk.host_port("a")[1])])
    n, api = s.nginx, s.api
    wait_backends(n, {"a"})
    dead = "127.0.0.1"
    dead_port = harness.free_port()

    stop = threading.Event()
    answers = []
    errors = []

    def client(path):
        while not stop.is_set():
            try:
                r = n.get(path, timeout=10)
                answers.append(r.status)
            except Exception as e:          # noqa: BLE001
                errors.append(repr(e))

    threads = [threading.Thread(target=client, args=(p,)) for p in
               ("/", "/", "/?delay=30", "/?delay=80")]
    for t in threads:
        t.start()
    try:
        names = ["a", "b", "c", "d"]
        for i in range(40):
            pick = [names[(i + k) % 4] for k in range(1 + i % 3)]
            eps = [s.addr(x) for x in pick]
            # one slice carries the live endpoints; sometimes a dead one
            # joins, so that requests retry while the list changes
            slice_eps = [h for h, _ in eps]
            put_slice(api, slice_obj("web", "web-1", slice_eps[:1],
                                     eps[0][1]))
            if i % 4 == 1:
                put_slice(api, slice_obj("web", "web-2", [dead], dead_port))
            elif i % 4 == 3:
                delete_slice(api, "web-2")
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not errors, errors[:5]
    assert answers and set(answers) <= {200, 502}, set(answers)
    assert answers.count(200) > 0.9 * len(answers)
    log = n.error_log()
    assert "exited on signal" not in log
    assert "[alert]" not in log, log[-3000:]
    st = status(n)
    assert st["updates"] >= 10
    # no request holds an old list any more: all of them are freed
    harness.wait_for(lambda: status(n)["retired"] == 0, 10,
                     "retired lists to be freed")


def test_worker0_writes_snapshot_after_changes(tmp_path, kube_api, backends,
                                               nginx_factory):
    from test_module_watch import api_line, module_conf, write_manifest
    bk = backends("a", "b")
    ha, pa = bk.host_port("a")
    hb, pb = bk.host_port("b")
    seed = write_manifest(tmp_path, [slice_obj("web", "web-a", [ha], pa)])
    api = kube_api(load=[seed])
    port = harness.free_port()
    # workers run as an unprivileged user: the directory must be theirs
    # (pytest's tmp_path is private to root)
    state = tempfile.mkdtemp(prefix="kubengx-snap-")
    os.chmod(state, 0o777)
    snap = pathlib.Path(state) / "endpoints.state"
    conf = module_conf(port, api_line(api) + "\n    k8s_snapshot %s;" % snap)
    n = nginx_factory(http=conf, ports=[port])
    wait_backends(n, {"a"})
    harness.wait_for(lambda: snap.exists() and parse_snapshot(snap).get(
        "default/web:http") == ("ready", [bk.addrs["a"]]), 10,
        "the snapshot to hold a")
    put_slice(api, slice_obj("web", "web-b", [hb], pb))
    harness.wait_for(lambda: sorted(parse_snapshot(snap)["default/web:http"]
                                    [1]) == sorted([bk.addrs["a"],
                                                    bk.addrs["b"]]),
                     10, "the snapshot to hold a and b")
    # restart with the API gone: served from the snapshot
    api.stop()
    n.stop()
    n.start()
    wait_backends(n, {"a", "b"})
    shutil.rmtree(state, ignore_errors=True)


def test_more_than_64_endpoints(nginx_factory, backends, tmp_path):
    b = backends("live")
    port = harness.free_port()
    dead = ["127.0.0.%d:%d" % (2 + i, 9) for i in range(69)]
    conf = """
    upstream web { k8s_service shop/web port=http max_fails=0; }
    server {
        listen 127.0.0.1:%d;
        proxy_next_upstream_tries 0;
        location / { proxy_pass http://web; }
        location = /k8s/status { k8s_status; }
    }""" % port
    n, _ = start_with_snapshot(nginx_factory, tmp_path,
                               {"shop/web:http": dead + [b.addrs["live"]]},
                               conf, [port])
    for _ in range(3):
        r = n.get("/")
        assert r.status == 200 and r.backend == "live", r
    eps = status(n)["services"]["shop/web:http"]["endpoints"]
    assert len(eps) == 70
