"""One scrape of the controller's metrics port: its own kubengx_*
metrics, nginx's per-request metrics (ingress-nginx's names, from the
k8s_metrics_route the renderer writes into every Ingress location) and
the module's endpoint metrics, and the expiry of each served
certificate; a known number of requests to two routes with known
statuses gives exactly those counts and buckets."""

import os
import re
import ssl
import subprocess

import harness
import manifests as m
import prom_text
from test_controller import Controller, controllers  # noqa: F401
from test_module_metrics import (DURATION, REQ_SIZE, REQUESTS, RESP_SIZE,
                                 SIZE_LE, TIME_LE, UPSTREAM,
                                 expected_buckets)

SHOP = "shop.example.com"
SECURE = "secure.example.com"


def raw(port, data):
    """(status, response bytes) of one request on its own connection."""
    got = harness.raw_response(port, data)
    return int(got.split(b" ", 2)[1]), len(got)


def request(method, path, host=SHOP):
    return ("%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
            % (method, path, host)).encode()


def scrape(ctl):
    r = harness.http_request(ctl.metrics_port, "/metrics", timeout=10)
    assert r.status == 200, r
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return prom_text.parse(r.body)


def test_one_port_serves_every_metric(kube_api, backends, controllers,
                                      tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("POD_NAMESPACE", "kubengx")
    monkeypatch.setenv("POD_NAME", "kubengx-7d9f-x1")
    bk = backends("a")
    api = kube_api()
    crt, key = m.self_signed(tmp_path, SECURE)
    for o in [m.ingress_class("kubengx")] + \
            m.backend_service(bk, "web", "a") + \
            [m.service("api", [m.svc_port("http", 80, 8080)]),
             m.secret_tls("secure-tls", crt, key),
             m.ingress("shop", [m.rule(SHOP, m.path("/", "web", 80),
                                       m.path("/api", "api", 80))]),
             m.ingress("secure", [m.rule(SECURE, m.path("/", "web", 80))],
                       tls=[{"hosts": [SECURE],
                             "secretName": "secure-tls"}])]:
        api.create(o)
    ctl = controllers(api, endpoints="module")
    ctl.wait_ready()
    harness.wait_for(lambda: raw(ctl.http_port, request("GET", "/"))[0]
                     == 200, 15, "the module's endpoints")
    before = scrape(ctl)
    base = {k: v for k, v in
            ((tuple(sorted(lb.items())), v) for lb, v in
             prom_text.samples(before, REQUESTS))}

    sent = {}       # (ingress path, method, status) -> [response bytes]

    def do(p, data, want):
        status, n = raw(ctl.http_port, data)
        assert status == want
        sent.setdefault((p, data.split(b" ")[0].decode(), str(status)),
                        []).append(n)

    for i in range(7):
        do("/", request("GET", "/ok/%d" % i), 200)
    for i in range(3):
        do("/", request("GET", "/gone?status=404"), 404)
    for i in range(4):
        do("/api", request("GET", "/api/items"), 503)    # no endpoints

    fams = scrape(ctl)
    # the controller's own metrics, the module's table, in the same text
    assert fams["kubengx_reloads_total"].type == "counter"
    assert "kubengx_nginx_scrape_errors_total" in fams
    assert any(n.startswith("kubengx_") and n not in before
               for n in fams) or "kubengx_metrics_routes" in fams
    assert prom_text.value(fams, "kubengx_metrics_routes") >= 3

    common = {"namespace": "default", "ingress": "shop", "host": SHOP,
              "controller_class": "kubengx",
              "controller_namespace": "kubengx",
              "controller_pod": "kubengx-7d9f-x1"}
    for (p, method, status), sizes in sent.items():
        labels = dict(common, path=p, method=method, status=status,
                      service="web" if p == "/" else "api")
        key = tuple(sorted(labels.items()))
        assert prom_text.value(fams, REQUESTS, **labels) - \
            base.get(key, 0) == len(sizes), (labels, base.get(key))
        if key in base:
            continue            # the readiness GETs before: counts only
        assert prom_text.value(fams, RESP_SIZE + "_sum", **labels) == \
            sum(sizes)
        assert prom_text.buckets(fams, RESP_SIZE, **labels) == \
            expected_buckets(sizes, SIZE_LE)
        assert list(prom_text.buckets(fams, DURATION, **labels)) == TIME_LE
        assert prom_text.value(fams, DURATION + "_count", **labels) == \
            len(sizes)
        assert prom_text.value(fams, REQ_SIZE + "_count", **labels) == \
            len(sizes)
        assert prom_text.value(fams, UPSTREAM + "_count", **labels) == \
            len(sizes)

    # the served certificate's expiry
    p = subprocess.run(["openssl", "x509", "-noout", "-enddate"],
                       input=crt, capture_output=True, check=True)
    end = p.stdout.decode().split("=", 1)[1].strip()
    want = ssl.cert_time_to_seconds(end)
    assert prom_text.value(
        fams, "nginx_ingress_controller_ssl_expire_time_seconds",
        host=SECURE) == want
    assert fams["nginx_ingress_controller_ssl_expire_time_seconds"].type \
        == "gauge"

    # nginx's metrics server is on loopback only, not in the rendered file
    with open(os.path.join(ctl.dir, "nginx.conf")) as f:
        conf = f.read()
    assert re.search(r"listen 127\.0\.0\.1:\d+;\n\s+access_log off;", conf)
    assert "k8s_metrics_controller class=kubengx namespace=kubengx " \
        "pod=kubengx-7d9f-x1;" in conf


def test_static_mode_with_metrics_routes(kube_api, backends, controllers,
                                         monkeypatch):  # noqa: F811
    """--endpoints static --metrics-routes: the controller loads the
    module for the per-request metrics alone (EndpointSlices rendered as
    upstream servers) and counts each route's requests as in module
    mode; without the flag no route is counted."""
    monkeypatch.setenv("POD_NAMESPACE", "kubengx")
    monkeypatch.setenv("POD_NAME", "kubengx-0")
    bk = backends("a")
    api = kube_api()
    for o in [m.ingress_class("kubengx")] + \
            m.backend_service(bk, "web", "a") + \
            [m.ingress("shop", [m.rule(SHOP, m.path("/", "web", 80))])]:
        api.create(o)
    ctl = controllers(api, endpoints="static",
                      args=["--metrics-routes"]).wait_ready()
    harness.wait_for(lambda: raw(ctl.http_port, request("GET", "/"))[0]
                     == 200, 15, "the route")
    with open(os.path.join(ctl.dir, "kubengx.conf")) as f:
        conf = f.read()
    assert "k8s_metrics_route" in conf and "k8s_service" not in conf
    before = prom_text.value(scrape(ctl), REQUESTS, namespace="default",
                             ingress="shop", host=SHOP, path="/",
                             service="web", method="GET", status="200",
                             controller_class="kubengx",
                             controller_namespace="kubengx",
                             controller_pod="kubengx-0")
    for i in range(5):
        assert raw(ctl.http_port, request("GET", "/s/%d" % i))[0] == 200
    after = prom_text.value(scrape(ctl), REQUESTS, namespace="default",
                            ingress="shop", host=SHOP, path="/",
                            service="web", method="GET", status="200",
                            controller_class="kubengx",
                            controller_namespace="kubengx",
                            controller_pod="kubengx-0")
    assert after - before == 5, (before, after)
