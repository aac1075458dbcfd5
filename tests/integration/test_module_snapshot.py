"""k8s_snapshot: a restarted nginx serves the last-known endpoints before
any API answers; garbled files are rejected and nginx starts anyway."""

import os

import harness
from k8s_module_util import (start_with_snapshot, snapshot_text, status,
                             log_lines, write_snapshot)


CONF = """
    upstream web { k8s_service shop/web port=http; }
    server {
        listen 127.0.0.1:%d;
        location / { proxy_pass http://web; }
        location = /k8s/status { k8s_status; }
    }"""

# an API that does not answer: nothing listens there
API = "k8s_api http://127.0.0.1:%d;\n"


def test_restart_serves_from_snapshot_without_api(nginx_factory, backends,
                                                  tmp_path):
    b = backends("a", "b")
    port = harness.free_port()
    tail = API % harness.free_port() + CONF % port
    n, snap = start_with_snapshot(
        nginx_factory, tmp_path,
        {"shop/web:http": [b.addrs["a"], b.addrs["b"]]}, tail, [port])
    got = {n.get("/").backend for _ in range(4)}
    assert got == {"a", "b"}
    assert log_lines(n, r'k8s_snapshot ".*": loaded 1 service')
    # stop and start again: still served from the file
    n.stop()
    n.start()
    assert {n.get("/").backend for _ in range(4)} == {"a", "b"}
    assert status(n)["watch"]["synced"] is False


def garbled(text):
    return {
        "truncated": text[:len(text) // 2],
        "bad checksum": text.replace("checksum ", "checksum 0")[:-2] + "\n",
        "flipped byte": text.replace("service", "servicf", 1),
        "empty": "",
        "not ours": "hello world\n",
    }


def test_corrupt_snapshot_is_rejected(nginx_factory, backends, tmp_path):
    b = backends("a")
    text = snapshot_text({"shop/web:http": [b.addrs["a"]]})
    for i, (what, bad) in enumerate(sorted(garbled(text).items())):
        port = harness.free_port()
        snap = tmp_path / ("s%d" % i) / "endpoints.state"
        os.makedirs(str(snap.parent))
        snap.write_text(bad)
        n = nginx_factory(http="k8s_zone k8s 4m;\nk8s_snapshot %s;\n%s"
                          % (snap, CONF % port), ports=[port],
                          name="nginx%d" % i)
        assert log_lines(n, r'k8s_snapshot ".*" rejected: .*'
                            r'the table starts empty'), what
        assert n.get("/").status == 503, what
        s = status(n)
        assert s["services"]["shop/web:http"]["state"] == "unsynced", what
        assert s["snapshot"]["errors"] >= 1, what
        n.stop()


def test_bad_record_is_rejected_with_line(nginx_factory, tmp_path):
    port = harness.free_port()
    text = snapshot_text({"shop/web:http": ["300.1.1.1:80"]})
    snap = tmp_path / "s" / "endpoints.state"
    os.makedirs(str(snap.parent))
    snap.write_text(text)
    n = nginx_factory(http="k8s_zone k8s 4m;\nk8s_snapshot %s;\n%s"
                      % (snap, CONF % port), ports=[port])
    assert log_lines(n, r'rejected: line 5: invalid endpoint')


def test_missing_snapshot_starts_empty(nginx_factory, tmp_path):
    port = harness.free_port()
    snap = tmp_path / "none" / "endpoints.state"
    n = nginx_factory(http="k8s_zone k8s 4m;\nk8s_snapshot %s;\n%s"
                      % (snap, CONF % port), ports=[port])
    assert log_lines(n, r'does not exist yet')
    assert n.get("/").status == 503


def test_snapshot_ignores_unregistered_services(nginx_factory, backends,
                                                tmp_path):
    b = backends("a")
    port = harness.free_port()
    n, _ = start_with_snapshot(
        nginx_factory, tmp_path,
        {"shop/web:http": [b.addrs["a"]], "shop/gone": [b.addrs["a"]]},
        CONF % port, [port])
    s = status(n)
    assert "shop/gone" not in s["services"]
    assert s["snapshot"]["loaded"] == 1
    assert n.get("/").backend == "a"
