"""The table holds what the configuration names: after `nginx -s reload`,
the entries of Services no live configuration names are freed, once no
worker of an older configuration (still finishing its requests) can use
them; k8s_status, the snapshot and the watcher's slice cache show only
configured Services (ngx_module/ngx_http_k8s_table_gen.c)."""

import os
import shutil
import signal
import tempfile
import threading

import pytest

import harness
import manifests as m
from k8s_module_util import log_lines, parse_snapshot, start_with_snapshot, \
    status
from test_module_watch import api_line, write_manifest

PER_RELOAD = 3
RELOADS = 200


def svc_name(i):
    return "svc-%03d" % i


def seed_slices(count):
    """One slice of two endpoints (documentation addresses, never
    contacted) for each of `count` Services."""
    out = []
    for i in range(count):
        eps = [m.endpoint("192.0.2.%d" % (1 + i % 250)),
               m.endpoint("198.51.100.%d" % (1 + i % 250))]
        out.append(m.slice_(svc_name(i), eps, [("http", 8080)],
                            name="%s-1" % svc_name(i)))
    return out


def names_conf(port, api, snap, names, zone="k8s 32k"):
    ups = "".join("    upstream %s { k8s_service default/%s port=http; }\n"
                  % (n, n) for n in names)
    return """
    %s
    k8s_zone %s;
    k8s_snapshot %s;
%s
    server {
        listen 127.0.0.1:%d;
        location = /k8s/status { k8s_status; }
        location / { proxy_pass http://%s; }
    }
""" % (api_line(api), zone, snap, ups, port, names[0])


def keys(names):
    return {"default/%s:http" % n for n in names}


@pytest.fixture
def snap():
    """A snapshot path in a directory the workers can write (they run as
    "nobody", and pytest's tmp_path is private to root)."""
    d = tempfile.mkdtemp(prefix="kubengx-gen-")
    os.chmod(d, 0o777)
    yield os.path.join(d, "endpoints.state")
    shutil.rmtree(d, ignore_errors=True)


def all_ready(n, names):
    s = status(n)
    return set(s["services"]) == keys(names) and all(
        v["state"] == "ready" and len(v["endpoints"]) == 2
        for v in s["services"].values())


def test_reloads_with_changing_services_in_a_small_zone(
        tmp_path, kube_api, nginx_factory, snap):
    """200 reloads, each naming 3 other Services, in the smallest zone
    (32k, 8 pages): no reload fails for room, k8s_status lists exactly the
    configured Services every time, the zone never holds more than the
    last two configurations' entries, and (checked every 20 reloads and at
    the end, once the watcher synced) the snapshot and the slice cache hold
    exactly the configured Services."""
    api = kube_api(load=[write_manifest(tmp_path,
                                        seed_slices(PER_RELOAD * RELOADS))])
    port = harness.free_port()

    def names_of(r):
        return [svc_name(PER_RELOAD * r + k) for k in range(PER_RELOAD)]

    n = nginx_factory(http=names_conf(port, api, snap, names_of(0)),
                      ports=[port])
    harness.wait_for(lambda: all_ready(n, names_of(0)), 15, "first sync")

    for r in range(1, RELOADS):
        names = names_of(r)
        n.write_conf(names_conf(port, api, snap, names))
        n.reload()
        s = status(n)
        assert set(s["services"]) == keys(names), (r, sorted(s["services"]))
        assert s["services_total"] == PER_RELOAD
        assert s["zone_services"] <= 2 * PER_RELOAD, (r, s["zone_services"])
        assert s["nomem"] == 0, r
        # the snapshot never lists a Service of an older configuration
        harness.wait_for(
            lambda: set(parse_snapshot(snap)) <= keys(names), 5,
            "snapshot without older Services (reload %d)" % r)
        if r % 20 == 0 or r == RELOADS - 1:
            harness.wait_for(lambda: all_ready(n, names), 15,
                             "sync after reload %d" % r)
            harness.wait_for(
                lambda: set(parse_snapshot(snap)) == keys(names), 5,
                "snapshot of reload %d" % r)
            harness.wait_for(
                lambda: status(n)["zone_services"] == PER_RELOAD, 5,
                "older entries freed (reload %d)" % r)
            sc = status(n)["slice_cache"]
            assert sc["state"] == "complete", sc
            assert sc["services"] == PER_RELOAD and \
                sc["slices"] == PER_RELOAD, (r, sc)

    assert "too small" not in n.error_log()
    assert "is full" not in n.error_log()
    s = status(n)
    assert s["services_freed"] >= PER_RELOAD * (RELOADS - 2), s
    assert s["nomem"] == 0


# --- an old worker finishing a request through a dropped Service ----------

def conf_with(port, names, backend_name="old"):
    """upstreams for `names` (Service shop/NAME), location /NAME/ each."""
    ups = "".join("    upstream %s { k8s_service shop/%s port=http; }\n"
                  % (x, x) for x in names)
    locs = "".join("        location /%s/ { proxy_pass http://%s; }\n"
                   % (x, x) for x in names)
    return """
%s
    server {
        listen 127.0.0.1:%d;
        proxy_read_timeout 30s;
        location = /k8s/status { k8s_status; }
%s    }""" % (ups, port, locs)


def hup_new_workers(n, old):
    """SIGHUP, and wait until a worker that is not in `old` runs."""
    n.proc.send_signal(signal.SIGHUP)
    return harness.wait_for(
        lambda: (set(n.worker_pids()) - set(old)) or None, 15,
        "new workers")


def slow_request(n, path, result):
    def run():
        try:
            result.append(n.get(path, timeout=30))
        except Exception as e:        # noqa: BLE001 - reported by the test
            result.append(e)
    t = threading.Thread(target=run)
    t.start()
    return t


def serving(n, keys):
    """k8s_status once a worker of the configuration naming keys answers
    (the old workers close their listening sockets soon after a reload)."""
    return harness.wait_for(
        lambda: (lambda s: s if set(s["services"]) == keys else None)(
            status(n)), 10, "the new configuration to answer")


def active(n, key):
    svc = status(n)["services"].get(key)
    return svc and sum(e["active"] for e in svc["endpoints"])


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_old_worker_keeps_a_dropped_service_until_its_request_ends(
        nginx_factory, backends, tmp_path):
    bk = backends("a", "b")
    port = harness.free_port()
    n, _ = start_with_snapshot(
        nginx_factory, tmp_path,
        {"shop/old:http": [bk.addrs["a"]], "shop/new:http": [bk.addrs["b"]]},
        conf_with(port, ["old", "new"]), [port])
    old_workers = n.worker_pids()
    result = []
    t = slow_request(n, "/old/x?delay=4000", result)
    harness.wait_for(lambda: active(n, "shop/old:http") == 1, 10,
                     "the slow request at the backend")

    # reload: shop/old is no longer named; the old worker still serves it
    n.write_conf("k8s_zone k8s 4m;\n" + conf_with(port, ["new"]))
    gen2 = hup_new_workers(n, old_workers)
    s = serving(n, {"shop/new:http"})
    assert s["zone_services"] == 2, s      # kept for the old worker
    assert all(pid_alive(p) for p in old_workers)

    # another reload meanwhile: the master frees only what no live worker
    # of any generation names, so shop/old stays
    n.write_conf("k8s_zone k8s 4m;\n" + conf_with(port, ["new", "third"]))
    hup_new_workers(n, set(old_workers) | set(gen2))
    harness.wait_for(lambda: not (set(gen2) & set(n.worker_pids())), 10,
                     "the second generation gone")
    s = serving(n, {"shop/new:http", "shop/third:http"})
    assert s["zone_services"] == 3, s
    assert s["services_freed"] == 0, s

    t.join(30)
    r = result[0]
    assert not isinstance(r, Exception), r
    assert r.status == 200 and r.backend == "a", r
    assert r.json()["path"] == "/old/x?delay=4000"

    # the old worker exits: shop/old is freed, nothing else is
    harness.wait_for(lambda: not any(pid_alive(p) for p in old_workers), 10,
                     "the old worker to exit")
    harness.wait_for(lambda: status(n)["zone_services"] == 2, 5,
                     "shop/old freed")
    s = status(n)
    assert s["services_freed"] == 1, s
    assert n.get("/new/").backend == "b"
    assert "k8s_zone" not in "".join(log_lines(n, r"\[(alert|emerg)\]"))


def test_killed_old_worker_does_not_pin_a_dropped_service(
        nginx_factory, backends, tmp_path):
    """An old worker killed with SIGKILL never removes its registration:
    the record of a dead pid is dropped, and what it pinned is freed.  A
    killed current worker is respawned in the same generation: nothing of
    its configuration is freed, and it serves."""
    bk = backends("a", "b")
    port = harness.free_port()
    n, _ = start_with_snapshot(
        nginx_factory, tmp_path,
        {"shop/old:http": [bk.addrs["a"]], "shop/new:http": [bk.addrs["b"]]},
        conf_with(port, ["old", "new"]), [port], workers=2)
    old_workers = n.worker_pids()
    result = []
    t = slow_request(n, "/old/x?delay=8000", result)
    harness.wait_for(lambda: active(n, "shop/old:http") == 1, 10,
                     "the slow request at the backend")
    n.write_conf("k8s_zone k8s 4m;\n" + conf_with(port, ["new"]), workers=2)
    hup_new_workers(n, old_workers)
    new_workers = harness.wait_for(
        lambda: (lambda w: w if len(w) == 2 else None)(
            set(n.worker_pids()) - set(old_workers)), 10, "2 new workers")
    assert serving(n, {"shop/new:http"})["zone_services"] == 2
    harness.wait_for(lambda: len([p for p in old_workers if pid_alive(p)])
                     == 1, 10, "the idle old worker gone")
    busy = [p for p in old_workers if pid_alive(p)]
    for p in busy:
        os.kill(p, signal.SIGKILL)
    harness.wait_for(lambda: status(n)["zone_services"] == 1, 10,
                     "shop/old freed after the kill")
    t.join(30)
    assert status(n)["services_freed"] == 1

    # a current worker killed: respawned, same configuration
    victim = sorted(new_workers)[0]
    os.kill(victim, signal.SIGKILL)
    harness.wait_for(lambda: len(n.worker_pids()) == 2
                     and victim not in n.worker_pids(), 10, "respawn")
    assert "start worker process" in log_lines(n, r"start worker")[-1]
    for _ in range(6):
        assert n.get("/new/").backend == "b"
    s = status(n)
    assert s["services_freed"] == 1 and s["zone_services"] == 1, s
    assert s["services"]["shop/new:http"]["state"] == "ready"


def test_slice_cache_drops_services_no_configuration_names(
        tmp_path, kube_api, nginx_factory, snap):
    """A reload to a configuration with another Service relists; while the
    API fails, the watcher cannot, and its slice cache in the zone still
    holds the slices of the Service no longer named: once no older worker
    lives, worker 0 removes them (and the Service from the cache's set)."""
    api = kube_api(load=[write_manifest(tmp_path, seed_slices(3))])
    port = harness.free_port()
    first = [svc_name(0), svc_name(1)]
    n = nginx_factory(http=names_conf(port, api, snap, first, zone="k8s 1m"),
                      ports=[port])
    harness.wait_for(lambda: all_ready(n, first), 15, "first sync")
    sc = status(n)["slice_cache"]
    assert (sc["state"], sc["services"], sc["slices"]) == ("complete", 2, 2)

    api.admin("faults", {"status": 500, "path": r"/endpointslices",
                         "method": "GET", "message": "down"})
    second = [svc_name(0), svc_name(2)]
    n.write_conf(names_conf(port, api, snap, second, zone="k8s 1m"))
    n.reload()
    harness.wait_for(lambda: status(n)["slice_cache"]["services"] == 1, 10,
                     "svc-001 gone from the slice cache")
    s = status(n)
    assert s["slice_cache"]["slices"] == 1, s["slice_cache"]
    # the table still serves what it knew; svc-002 was never listed
    assert s["services"]["default/%s:http" % svc_name(0)]["state"] == "ready"
    assert s["services"]["default/%s:http" % svc_name(2)]["state"] == \
        "unsynced"
    assert log_lines(n, r"EndpointSlice\(s\) of services no configuration "
                        r"names removed from the watcher.s cache")
