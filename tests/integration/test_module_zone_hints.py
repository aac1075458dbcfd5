"""Topology aware routing end to end: the watcher passes each endpoint's
hints.forZones into the table, and with k8s_local_zone a Service whose
endpoints all carry hints is served by the local zone's endpoints only
(kube-proxy's rule); without hints on every endpoint, by all of them."""

import harness
from test_module_watch import (Stack, api_line, put_slice, slice_obj,
                               status, wait_backends)


def zoned_slice(bk, name, zone, hint=True):
    host, port = bk.host_port(name)
    obj = slice_obj("web", "web-" + name, [host], port)
    ep = obj["endpoints"][0]
    ep["zone"] = zone
    if hint:
        ep["hints"] = {"forZones": [{"name": zone}]}
    return obj


def test_local_zone_prefers_hinted_endpoints(tmp_path, kube_api, backends,
                                             nginx_factory):
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"),
              api_conf=lambda st: api_line(st.api) + "\n    k8s_local_zone "
              "zone-a;")
    for name, zone in (("a", "zone-a"), ("b", "zone-b"), ("c", "zone-a")):
        put_slice(s.api, zoned_slice(s.bk, name, zone))

    # every endpoint has hints: only zone-a's endpoints answer
    wait_backends(s.nginx, {"a", "c"}, count=30)
    eps = status(s.nginx)["services"]["default/web:http"]["endpoints"]
    assert sorted(e["hints"] for e in eps) == ["zone-a", "zone-a", "zone-b"]

    # one endpoint without hints: kube-proxy's rule uses all of them
    put_slice(s.api, zoned_slice(s.bk, "b", "zone-b", hint=False))
    wait_backends(s.nginx, {"a", "b", "c"}, count=30)

    # hints again, but none for our zone: all endpoints
    for name in ("a", "b", "c"):
        put_slice(s.api, zoned_slice(s.bk, name, "zone-b"))
    wait_backends(s.nginx, {"a", "b", "c"}, count=30)
    harness.wait_for(lambda: all(
        e["hints"] == "zone-b" for e in
        status(s.nginx)["services"]["default/web:http"]["endpoints"]),
        10, "hints in k8s_status")
