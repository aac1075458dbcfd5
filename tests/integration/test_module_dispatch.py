"""The dispatch form: one upstream, the Service named per location."""

import harness
from k8s_module_util import start_with_snapshot, status


def test_two_locations_two_services_one_upstream(nginx_factory, backends,
                                                 tmp_path):
    b = backends("web1", "web2", "api1")
    port = harness.free_port()
    conf = """
    upstream k8s_dispatch { k8s_dispatch; keepalive 16; }
    server {
        listen 127.0.0.1:%d;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        location / {
            k8s_backend shop/web port=http;
            proxy_pass http://k8s_dispatch;
        }
        location /api/ {
            k8s_backend shop/api port=8080;
            proxy_pass http://k8s_dispatch;
        }
        location /none/ {
            k8s_backend shop/none;
            proxy_pass http://k8s_dispatch;
        }
        location /nobackend/ { proxy_pass http://k8s_dispatch; }
        location = /k8s/status { k8s_status; }
    }""" % port
    n, _ = start_with_snapshot(
        nginx_factory, tmp_path,
        {"shop/web:http": [b.addrs["web1"], b.addrs["web2"]],
         "shop/api:8080": [b.addrs["api1"]]}, conf, [port])
    assert {n.get("/x").backend for _ in range(4)} == {"web1", "web2"}
    assert {n.get("/api/x").backend for _ in range(4)} == {"api1"}
    assert n.get("/none/").status == 503
    assert n.get("/nobackend/").status == 502
    assert "no \"k8s_backend\" in this location" in n.error_log()
    s = status(n)["services"]
    assert set(s) == {"shop/web:http", "shop/api:8080", "shop/none"}
