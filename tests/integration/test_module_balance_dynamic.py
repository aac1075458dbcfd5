"""Balancing methods while the endpoint list changes (through the watcher
and the stand-in API): consistent hash moves only the keys of a removed
endpoint (the remap fraction is measured), and every method keeps
answering while endpoints come and go under load."""

import collections
import threading
import time

import harness
from k8s_module_util import status
from test_module_watch import api_line, delete_slice, put_slice, slice_obj

KEY = "default/web:http"

METHODS = {
    "rr": "balance=round_robin",
    "lc": "balance=least_conn",
    "rnd": "balance=random",
    "r2": "balance=random_two",
    "ewma": "balance=ewma",
    "hash": "balance=hash hash=$request_uri",
    "ch": "balance=hash hash=$request_uri consistent",
}


def start(nginx_factory, api, workers=1):
    port = harness.free_port()
    ups = "\n".join("    upstream %s { k8s_service default/web port=http %s "
                    "max_fails=1 fail_timeout=1s; }" % (name, params)
                    for name, params in METHODS.items())
    locs = "\n".join("        location /%s/ { proxy_pass http://%s; }"
                     % (name, name) for name in METHODS)
    http = """
    %s
    k8s_zone k8s 4m;
%s
    server {
        listen 127.0.0.1:%d;
        proxy_next_upstream error timeout http_502;
        proxy_connect_timeout 2s;
        location = /k8s/status { k8s_status; }
%s
    }
""" % (api_line(api), ups, port, locs)
    return nginx_factory(http=http, ports=[port], workers=workers)


def endpoint_count(n):
    s = status(n)["services"].get(KEY)
    return len(s["endpoints"]) if s else -1


def put_backend(api, bk, name):
    host, port = bk.host_port(name)
    put_slice(api, slice_obj("web", "web-" + name, [host], port))


def test_consistent_hash_remaps_only_removed_keys(tmp_path, kube_api,
                                                  backends, nginx_factory):
    names = "abcde"
    bk = backends(*names)
    api = kube_api()
    for x in names:
        put_backend(api, bk, x)
    n = start(nginx_factory, api)
    harness.wait_for(lambda: endpoint_count(n) == 5, 15, "5 endpoints")

    keys = ["/ch/item/%d" % i for i in range(1000)]

    def mapping():
        out = {}
        for k in keys:
            r = n.get(k)
            assert r.status == 200, r
            out[k] = r.backend
        return out

    before = mapping()
    spread = collections.Counter(before.values())
    assert set(spread) == set(names), spread
    assert min(spread.values()) >= 100, spread     # 200 each on average

    delete_slice(api, "web-e")
    harness.wait_for(lambda: endpoint_count(n) == 4, 15, "4 endpoints")
    after = mapping()

    moved = [k for k in keys if before[k] != after[k]]
    # only the keys of the removed endpoint moved, and all of them did
    assert all(before[k] == "e" for k in moved)
    assert len(moved) == spread["e"]
    fraction = len(moved) / len(keys)
    print("consistent hash remap fraction, 1 of 5 removed: %.3f "
          "(ideal 0.200)" % fraction)
    assert 0.10 <= fraction <= 0.30, fraction
    # they spread over the remaining endpoints
    assert len({after[k] for k in moved}) >= 2

    # the endpoint comes back: its keys return to it
    put_backend(api, bk, "e")
    harness.wait_for(lambda: endpoint_count(n) == 5, 15, "5 endpoints")
    assert mapping() == before

    # contrast: the plain hash remaps most keys
    plain = {k: n.get(k.replace("/ch/", "/hash/")).backend for k in keys}
    delete_slice(api, "web-e")
    harness.wait_for(lambda: endpoint_count(n) == 4, 15, "4 endpoints")
    plain_after = {k: n.get(k.replace("/ch/", "/hash/")).backend
                   for k in keys}
    plain_moved = sum(plain[k] != plain_after[k] for k in keys) / len(keys)
    print("plain hash remap fraction, 1 of 5 removed: %.3f" % plain_moved)
    assert plain_moved > 0.5


def test_every_method_under_endpoint_churn(tmp_path, kube_api, backends,
                                           nginx_factory):
    names = "abcd"
    bk = backends(*names)
    api = kube_api()
    put_backend(api, bk, "a")
    n = start(nginx_factory, api, workers=2)
    harness.wait_for(lambda: endpoint_count(n) == 1, 15, "1 endpoint")
    dead_port = harness.free_port()

    stop = threading.Event()
    answers = collections.defaultdict(collections.Counter)
    errors = []

    def client(method, delay):
        i = 0
        while not stop.is_set():
            i += 1
            path = "/%s/k%d?delay=%d" % (method, i % 50, delay)
            try:
                answers[method][n.get(path, timeout=10).status] += 1
            except Exception as e:          # noqa: BLE001
                errors.append(repr(e))

    threads = [threading.Thread(target=client, args=(m, d))
               for m in METHODS for d in (0, 40)]
    for t in threads:
        t.start()
    try:
        for i in range(30):
            keep = [names[(i + k) % 4] for k in range(1 + i % 4)]
            for x in keep:
                put_backend(api, bk, x)
            for x in names:
                if x not in keep:
                    try:
                        delete_slice(api, "web-" + x)
                    except Exception:       # noqa: BLE001 - not there
                        pass
            if i % 3 == 1:
                put_slice(api, slice_obj("web", "web-dead", ["127.0.0.1"],
                                         dead_port))
            elif i % 3 == 2:
                delete_slice(api, "web-dead")
            time.sleep(0.1)                 # pacing the churn, not a wait
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not errors, errors[:5]
    for m in METHODS:
        c = answers[m]
        assert sum(c.values()) > 10, (m, c)
        assert set(c) <= {200, 502}, (m, c)
        assert c[200] >= 0.9 * sum(c.values()), (m, c)
    log = n.error_log()
    assert "exited on signal" not in log
    assert "[alert]" not in log, log[-3000:]
    st = status(n)
    assert st["updates"] >= 10
    assert set(st["services"][KEY]["balance"]) == {
        "round_robin", "least_conn", "random", "random_two", "ewma", "hash",
        "consistent_hash"}
    # the ring follows the list; old versions are all freed
    harness.wait_for(lambda: status(n)["retired"] == 0, 10,
                     "retired lists to be freed")
    s = status(n)["services"][KEY]
    assert s["ring"] == 160 * len(s["endpoints"])
