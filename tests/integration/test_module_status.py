"""k8s_status: JSON, and Prometheus text with ?format=prometheus."""

import re

import harness
from k8s_module_util import start_with_snapshot, status


CONF = """
    upstream web { k8s_service shop/web port=http; }
    upstream api { k8s_service shop/api port=8080; }
    server {
        listen 127.0.0.1:%d;
        location / { proxy_pass http://web; }
        location /api/ { proxy_pass http://api; }
        location = /k8s/status { k8s_status; }
    }"""


def start(nginx_factory, backends, tmp_path):
    b = backends("a", "b")
    port = harness.free_port()
    eps = [dict(addr=b.addrs["a"], flags="rs", zone="z1", node="n1",
                target="web-a"),
           dict(addr=b.addrs["b"], flags="st", target="web-b")]
    n, _ = start_with_snapshot(nginx_factory, tmp_path,
                               {"shop/web:http": eps, "shop/api:8080": []},
                               CONF % port, [port])
    return n, b


def test_status_json(nginx_factory, backends, tmp_path):
    n, b = start(nginx_factory, backends, tmp_path)
    for _ in range(4):
        assert n.get("/").status == 200
    assert n.get("/api/").status == 503
    r = n.get("/k8s/status")
    assert r.headers["content-type"] == "application/json"
    s = r.json()
    assert s["zone"] == "k8s"
    assert s["generation"] >= 1
    assert s["snapshot"]["loaded"] == 2
    assert set(s["watch"]) >= {"state", "resource_version", "synced",
                               "last_ok_sync", "relists", "errors"}
    web = s["services"]["shop/web:http"]
    assert web["state"] == "ready"
    assert web["generation"] == 1
    assert web["last_change"] == 1700000000000
    eps = {e["address"]: e for e in web["endpoints"]}
    a, bb = eps[b.addrs["a"]], eps[b.addrs["b"]]
    assert (a["ready"], a["serving"], a["terminating"]) == (True, True, False)
    assert (bb["ready"], bb["serving"], bb["terminating"]) == \
        (False, True, True)
    assert a["target"] == "web-a" and a["node"] == "n1" and a["zone"] == "z1"
    assert bb["target"] == "web-b" and bb["node"] == ""
    assert a["requests"] == 2 and bb["requests"] == 2
    assert a["active"] == 0 and a["fails"] == 0
    api = s["services"]["shop/api:8080"]
    assert api["state"] == "empty" and api["endpoints"] == []
    assert api["unavailable"] == 1
    for h in ("receive", "trigger"):
        assert set(s["lag"][h]) == {"count", "sum_ms", "buckets"}
        assert "+Inf" in s["lag"][h]["buckets"]


def test_status_prometheus(nginx_factory, backends, tmp_path):
    n, b = start(nginx_factory, backends, tmp_path)
    assert n.get("/").status == 200
    r = n.get("/k8s/status?format=prometheus")
    assert r.status == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    metrics = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.fullmatch(r"# TYPE \w+ (gauge|counter|histogram)",
                                line), line
            continue
        name, _, value = line.rpartition(" ")
        float(value)
        metrics[name] = float(value)
    assert metrics['kubengx_service_endpoints{service="shop/web:http"}'] == 2
    assert metrics['kubengx_service_endpoints{service="shop/api:8080"}'] == 0
    assert metrics['kubengx_service_state{service="shop/api:8080",'
                   'state="empty"}'] == 1
    assert metrics['kubengx_endpoint_requests_total{service="shop/web:http",'
                   'endpoint="%s"}' % b.addrs["a"]] == 1
    assert metrics['kubengx_endpoint_ready{service="shop/web:http",'
                   'endpoint="%s",target="web-b"}' % b.addrs["b"]] == 0
    assert 'kubengx_propagation_lag_seconds_bucket{source="receive",' \
           'le="+Inf"}' in metrics
    assert 'kubengx_propagation_lag_seconds_bucket{source="trigger",' \
           'le="0.001"}' in metrics
    assert "kubengx_watch_relists_total" in metrics
    assert "kubengx_snapshot_loaded_services" in metrics


def test_status_bad_format(nginx_factory, backends, tmp_path):
    n, _ = start(nginx_factory, backends, tmp_path)
    assert n.get("/k8s/status?format=xml").status == 400
    assert n.get("/k8s/status", method="POST").status == 405
