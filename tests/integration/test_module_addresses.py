"""EndpointSlice addresses the module never proxies to: unspecified,
loopback, link-local, multicast and broadcast, also as IPv4-mapped IPv6
(ngx_module/ngx_http_k8s_addr.c).  They are dropped where endpoint lists
enter the table, so from the API (the watcher) and from a k8s_snapshot
file alike, with one warning per address; `k8s_allow_loopback_endpoints
on` lets loopback through."""

import re

import harness
import manifests as m
from k8s_module_util import log_lines, start_with_snapshot, status
from test_controller import controllers  # noqa: F401 (fixture)
from test_module_watch import (api_line, module_conf, put_slice, slice_obj,
                               write_manifest)

# (address, why) for every refused kind; the IPv4 ones go into one IPv4
# slice, the IPv6 ones into an IPv6 slice of the same Service
REFUSED_V4 = [("0.0.0.0", "unspecified"), ("127.0.0.2", "loopback"),
              ("127.255.255.254", "loopback"),
              ("169.254.169.254", "link-local"), ("224.0.0.1", "multicast"),
              ("239.255.255.250", "multicast"),
              ("255.255.255.255", "broadcast")]
REFUSED_V6 = [("::", "unspecified"), ("::1", "loopback"),
              ("fe80::1", "link-local"), ("febf::1", "link-local"),
              ("ff02::1", "multicast"), ("::ffff:0.0.0.0", "unspecified"),
              ("::ffff:127.0.0.1", "loopback"),
              ("::ffff:169.254.169.254", "link-local"),
              ("::ffff:224.0.0.251", "multicast"),
              ("::ffff:255.255.255.255", "broadcast")]
# documentation ranges: valid pod addresses (nothing is sent there)
GOOD_V4 = "192.0.2.10"
GOOD_V6 = "2001:db8::10"
PORT = 8080


def slices(good_v4=GOOD_V4):
    v4 = m.slice_("web", [m.endpoint(a) for a, _ in REFUSED_V4]
                  + [m.endpoint(good_v4)], [("http", PORT)], name="web-v4",
                  family="IPv4")
    v6 = m.slice_("web", [m.endpoint(a) for a, _ in REFUSED_V6]
                  + [m.endpoint(GOOD_V6)], [("http", PORT)], name="web-v6",
                  family="IPv6")
    return [v4, v6]


def addresses(n):
    st = status(n)["services"]["default/web:http"]
    return st["state"], sorted(e["address"] for e in st["endpoints"])


def refusals(n, addr):
    """The warning lines about addr."""
    return log_lines(n, r'endpoint address %s refused' % re.escape(addr))


def test_refused_addresses_from_the_api(tmp_path, kube_api, nginx_factory):
    api = kube_api(load=[write_manifest(tmp_path, slices())])
    port = harness.free_port()
    n = nginx_factory(http=module_conf(port, api_line(api)), ports=[port],
                      allow_loopback=False)
    want = sorted(["%s:%d" % (GOOD_V4, PORT), "[%s]:%d" % (GOOD_V6, PORT)])
    harness.wait_for(lambda: addresses(n) == ("ready", want), 15,
                     "only the good endpoints in the table")
    for addr, why in REFUSED_V4 + REFUSED_V6:
        lines = refusals(n, addr)
        assert len(lines) == 1, (addr, lines)
        assert "(%s)" % why in lines[0], lines
        assert 'service "default/web:http"' in lines[0], lines
        if why == "loopback":
            assert "k8s_allow_loopback_endpoints on" in lines[0], lines

    # the same addresses again (another change of the slice): no new
    # warning, the table still holds only the good ones
    v4, v6 = slices()
    v4["endpoints"][-1]["conditions"]["serving"] = True
    put_slice(api, v4)
    harness.wait_for(lambda: status(n)["updates"] >= 1, 10, "an update")
    gen = status(n)["services"]["default/web:http"]["generation"]
    put_slice(api, slices(good_v4="192.0.2.11")[0])
    want2 = sorted(["192.0.2.11:%d" % PORT, "[%s]:%d" % (GOOD_V6, PORT)])
    harness.wait_for(lambda: addresses(n) == ("ready", want2), 10,
                     "the new good endpoint")
    assert status(n)["services"]["default/web:http"]["generation"] > gen
    for addr, _ in REFUSED_V4 + REFUSED_V6:
        assert len(refusals(n, addr)) == 1, addr

    # a slice of refused addresses only: the Service has no endpoint
    put_slice(api, m.slice_("web", [m.endpoint("169.254.1.1")],
                            [("http", PORT)], name="web-v4", family="IPv4"))
    put_slice(api, m.slice_("web", [m.endpoint("fe80::2")],
                            [("http", PORT)], name="web-v6", family="IPv6"))
    harness.wait_for(lambda: addresses(n) == ("empty", []), 10,
                     "no usable endpoint")
    r = n.get("/")
    assert r.status == 503, r
    assert log_lines(n, r'service "default/web:http" has no ready endpoints')


def test_loopback_allowed_by_the_switch(tmp_path, kube_api, backends,
                                        nginx_factory):
    """With k8s_allow_loopback_endpoints on, loopback endpoints (the test
    backends) are used; every other refused kind still is refused."""
    bk = backends("a")
    ha, pa = bk.host_port("a")
    others = [(a, w) for a, w in REFUSED_V4 if w != "loopback"]
    seed = [slice_obj("web", "web-a", [ha] + [a for a, _ in others], pa)]
    api = kube_api(load=[write_manifest(tmp_path, seed)])
    port = harness.free_port()
    n = nginx_factory(http=module_conf(port, api_line(api)), ports=[port])
    harness.wait_for(lambda: n.get("/").status == 200, 15, "routed")
    assert {n.get("/").backend for _ in range(6)} == {"a"}
    assert addresses(n) == ("ready", [bk.addrs["a"]])
    assert not refusals(n, ha)
    for addr, _ in others:
        assert len(refusals(n, addr)) == 1, addr


def test_refused_addresses_from_a_snapshot(nginx_factory, tmp_path):
    """The snapshot loader goes through the same check (the warnings come
    from the master, which fills a new zone from the file)."""
    from test_module_snapshot import CONF
    port = harness.free_port()
    conf = CONF % port
    eps = ["%s:%d" % (a, PORT) for a, _ in REFUSED_V4] + \
        ["[%s]:%d" % (a, PORT) for a, _ in REFUSED_V6] + \
        ["%s:%d" % (GOOD_V4, PORT)]
    n, _ = start_with_snapshot(nginx_factory, tmp_path, {"shop/web:http": eps},
                               conf, [port], allow_loopback=False)
    st = status(n)["services"]["shop/web:http"]
    assert [e["address"] for e in st["endpoints"]] == \
        ["%s:%d" % (GOOD_V4, PORT)]
    for addr, why in REFUSED_V4 + REFUSED_V6:
        lines = refusals(n, addr)
        # the master loads the zone; nginx -t (harness start) loads its own
        assert lines and all("(%s)" % why in l for l in lines), (addr, lines)


def test_controller_flag_allows_loopback(kube_api, backends, controllers):
    """kubengx controller --allow-loopback-endpoints writes the switch into
    the nginx.conf it generates; without the flag the module refuses the
    (loopback) backend and the route answers 503."""
    import os
    from test_controller import routed_to, status_of
    from manifests import backend_service, ingress, ingress_class, path, rule
    bk = backends("a")
    api = kube_api()
    api.create(ingress_class("kubengx"))
    for o in backend_service(bk, "svc-a", "a"):
        api.create(o)
    api.create(ingress("web", [rule("m.example.com", path("/", "svc-a", 80))]))

    ctl = controllers(api, name="with", endpoints="module").wait_ready()
    harness.wait_for(routed_to(ctl, "m.example.com", "/", "a"), 15,
                     "route to the loopback backend")
    with open(os.path.join(ctl.dir, "nginx.conf")) as f:
        assert "k8s_allow_loopback_endpoints on;" in f.read()

    off = controllers(api, name="without", endpoints="module",
                      allow_loopback=False).wait_ready()
    with open(os.path.join(off.dir, "nginx.conf")) as f:
        assert "k8s_allow_loopback_endpoints" not in f.read()
    harness.wait_for(lambda: status_of(off, "m.example.com", "/")() == 503
                     and "(loopback)" in off.text(), 15,
                     "the loopback endpoint refused")
