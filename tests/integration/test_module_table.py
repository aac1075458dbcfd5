"""The shm endpoint table: requests are routed to the endpoints it holds,
every worker sees the same table, and it survives `nginx -s reload`.

The table is filled from a k8s_snapshot file (no Kubernetes API here)."""

import collections
import os

import harness
from k8s_module_util import start_with_snapshot, status


def conf(port, extra=""):
    return """
    upstream web { k8s_service shop/web port=http; }
    server {
        listen 127.0.0.1:%d;
        location / { proxy_pass http://web; add_header X-Pid $pid; }
        location = /k8s/status { k8s_status; }
        %s
    }""" % (port, extra)


def test_routes_to_table_endpoints(nginx_factory, backends, tmp_path):
    b = backends("a", "b")
    port = harness.free_port()
    n, _ = start_with_snapshot(nginx_factory, tmp_path,
                               {"shop/web:http": [b.addrs["a"], b.addrs["b"]]},
                               conf(port), [port])
    seen = collections.Counter(n.get("/x").backend for _ in range(10))
    assert seen == {"a": 5, "b": 5}
    r = n.get("/hello?x=1")
    assert r.status == 200 and r.json()["path"] == "/hello?x=1"


def test_four_workers_see_the_same_table(nginx_factory, backends, tmp_path):
    b = backends("a", "b")
    port = harness.free_port()
    n, _ = start_with_snapshot(nginx_factory, tmp_path,
                               {"shop/web:http": [b.addrs["a"], b.addrs["b"]]},
                               conf(port), [port], workers=4)
    harness.wait_for(lambda: len(n.worker_pids()) == 4, 10, "4 workers")
    pids = set()
    backs = set()

    def enough():
        for _ in range(20):
            r = n.get("/")
            assert r.status == 200, r
            pids.add(int(r.headers["x-pid"]))
            backs.add(r.backend)
        return len(pids) >= 2

    harness.wait_for(enough, 20, "requests served by several workers")
    assert backs == {"a", "b"}
    assert pids <= set(n.worker_pids())


def test_reload_keeps_the_table(nginx_factory, backends, tmp_path):
    b = backends("a")
    port = harness.free_port()
    n, snap = start_with_snapshot(nginx_factory, tmp_path,
                                  {"shop/web:http": [b.addrs["a"]]},
                                  conf(port), [port])
    assert n.get("/").backend == "a"
    gen = status(n)["services"]["shop/web:http"]["generation"]

    # no snapshot to reload from: only the reused zone can keep the table
    os.unlink(snap)
    n.write_conf("k8s_zone k8s 4m;\n" + conf(port, "location = /new "
                                             "{ return 204; }"))
    n.reload()
    assert n.get("/new").status == 204
    assert n.get("/").backend == "a"
    s = status(n)
    assert s["services"]["shop/web:http"]["generation"] == gen
    assert s["services"]["shop/web:http"]["state"] == "ready"


def test_reload_adds_a_service(nginx_factory, backends, tmp_path):
    b = backends("a")
    port = harness.free_port()
    n, snap = start_with_snapshot(nginx_factory, tmp_path,
                                  {"shop/web:http": [b.addrs["a"]]},
                                  conf(port), [port])
    n.write_conf("k8s_zone k8s 4m;\n" + conf(port, """
        location /other/ { proxy_pass http://other; }
    }
    upstream other { k8s_service shop/other; }
    server { listen 127.0.0.1:%d; """ % harness.free_port()))
    n.reload()
    assert n.get("/").backend == "a"
    s = status(n)
    assert s["services"]["shop/other"]["state"] == "unsynced"
    assert n.get("/other/").status == 503


def test_zone_full_keeps_the_old_list(tmp_path, kube_api, backends,
                                      nginx_factory):
    """An update that does not fit in the zone is refused with a clear log
    line, and the Service keeps serving its previous endpoints."""
    from test_module_watch import (api_line, module_conf, put_slice,
                                   slice_obj, wait_backends, write_manifest)
    bk = backends("a")
    ha, pa = bk.host_port("a")
    seed = write_manifest(tmp_path, [slice_obj("web", "web-a", [ha], pa)])
    api = kube_api(load=[seed])
    port = harness.free_port()
    conf = module_conf(port, api_line(api)).replace("k8s_zone k8s 4m;",
                                                    "k8s_zone k8s 32k;")
    n = nginx_factory(http=conf, ports=[port])
    wait_backends(n, {"a"})
    many = ["10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255)
            for i in range(1, 1001)]
    put_slice(api, slice_obj("web", "web-a", [ha] + many[:999], pa))
    harness.wait_for(lambda: 'k8s_zone "k8s" is full: service '
                     '"default/web:http" keeps its old endpoints'
                     in n.error_log(), 10, "the zone-full log line")
    assert {n.get("/").backend for _ in range(5)} == {"a"}
    s = status(n)
    assert s["nomem"] >= 1
    assert len(s["services"]["default/web:http"]["endpoints"]) == 1
