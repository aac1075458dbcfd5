"""`kubengx render --upstreams per-service|dispatch|auto`: with
--endpoints module, the dispatch form writes one `k8s_dispatch` upstream
(one per balancing method) and names the Service per location with
`k8s_backend`; auto uses it above the documented threshold of Service-port
upstreams.  Real nginx with the module, endpoints from the stand-in API,
real backends that say who they are (X-Backend)."""

import json
import os
import re

import pytest

import harness
import manifests as m
from test_module_watch import api_line

LB = "nginx.ingress.kubernetes.io/load-balance"
HASH = "nginx.ingress.kubernetes.io/upstream-hash-by"

needs_module = pytest.mark.skipif(
    not os.path.exists(harness.MODULE), reason="module not built")


# --- helpers ---------------------------------------------------------------

def threshold():
    """The threshold render --help documents."""
    p = harness.run([harness.KUBENGX, "render", "--help"])
    assert p.returncode == 0, p.stderr
    text = " ".join(p.stdout.split())
    found = re.search(r"auto \(default\): dispatch above (\d+) Service-port "
                      r"upstreams", text)
    assert found, p.stdout
    return int(found.group(1))


def upstream_blocks(conf):
    """{name: body} of every upstream block."""
    return dict(re.findall(r"^upstream (\S+) \{\n(.*?)^\}", conf,
                           re.M | re.S))


def backend_lines(conf):
    return re.findall(r"^\s*k8s_backend (.*);$", conf, re.M)


def proxy_passes(conf):
    return re.findall(r"^\s*proxy_pass http://(\S+);$", conf, re.M)


def generated(n, port_name="http"):
    """n Services with one port each and n Ingresses (one host each)."""
    objs = [m.ingress_class("kubengx")]
    for i in range(n):
        name = "svc%05d" % i
        objs.append(m.service(name, [m.svc_port(port_name, 80, 8080)]))
        objs.append(m.ingress(name, [m.rule(
            "h%05d.example.com" % i, m.path("/", name, port_name),
            m.path("/api", name, port_name))]))
    return objs


def write_list(directory, objs, name="in"):
    return m.write_manifests(directory, objs, fmt="list", name=name)


class ModuleStack:
    """Render objs in module mode, load the Services and EndpointSlices into
    the stand-in API (the module watches both), start nginx with the module
    on the rendered config."""

    def __init__(self, tmp_path, kube_api, nginx_factory, objs, slices,
                 *flags):
        self.port = harness.free_port()
        src = write_list(tmp_path / "in", objs)
        out = tmp_path / "out"
        self.rc, _, self.err, self.conf = m.render(
            src, out, *flags, endpoints="module", http_port=self.port)
        assert self.rc == 0, self.err
        services = [o for o in objs if o["kind"] == "Service"]
        self.api = kube_api(load=[write_list(tmp_path / "api",
                                             services + slices,
                                             name="slices")])
        http = "    %s\n    k8s_zone k8s 4m;\n    include %s/kubengx.conf;\n" \
            % (api_line(self.api), out)
        self.nginx = nginx_factory(http=http, ports=[self.port])

    def get(self, host, path="/"):
        return harness.http_request(self.port, path, host=host)

    def wait_backend(self, host, path, expected, timeout=15.0):
        last = [None]

        def cond():
            last[0] = self.get(host, path)
            return last[0].backend == expected
        try:
            harness.wait_for(cond, timeout, "%s%s -> %s"
                             % (host, path, expected))
        except harness.Timeout as e:
            raise AssertionError("%s; last %r\n%s" % (
                e, last[0], self.nginx.error_log()[-3000:]))


def shop(bk, annotations=None):
    """Services web (backend w1) and api (backend a1); hosts
    web.example.com -> web, api.example.com -> api, and shop.example.com
    with / -> web and /api -> api.  Returns (objects, slices)."""
    objs = [m.ingress_class("kubengx")]
    slices = []
    for svc, names in (("web", ["w1"]), ("api", ["a1"])):
        for o in m.backend_service(bk, svc, names):
            (slices if o["kind"] == "EndpointSlice" else objs).append(o)
    objs += [
        m.ingress("web", [m.rule("web.example.com", m.path("/", "web", 80))]),
        m.ingress("api", [m.rule("api.example.com", m.path("/", "api", 80))]),
        m.ingress("shop", [m.rule("shop.example.com",
                                  m.path("/", "web", 80),
                                  m.path("/api", "api", "http"))],
                  annotations=annotations),
    ]
    return objs, slices


# --- dispatch routes -------------------------------------------------------

@needs_module
def test_dispatch_routes_hosts_and_paths_through_one_upstream(
        tmp_path, kube_api, nginx_factory, backends):
    bk = backends("w1", "a1")
    objs, slices = shop(bk)
    s = ModuleStack(tmp_path, kube_api, nginx_factory, objs, slices,
                    "--upstreams", "dispatch")

    ups = upstream_blocks(s.conf)
    assert list(ups) == ["kubengx_dispatch"], s.conf
    assert ups["kubengx_dispatch"].split() == [
        "k8s_dispatch;", "keepalive", "64;"]
    assert "k8s_service" not in s.conf
    assert set(backend_lines(s.conf)) == {"default/web port=http",
                                          "default/api port=http"}
    assert set(proxy_passes(s.conf)) == {"kubengx_dispatch"}

    s.wait_backend("web.example.com", "/", "w1")
    s.wait_backend("api.example.com", "/x", "a1")
    for _ in range(5):
        assert s.get("web.example.com", "/x").backend == "w1"
        assert s.get("api.example.com", "/").backend == "a1"
        assert s.get("shop.example.com", "/").backend == "w1"
        assert s.get("shop.example.com", "/api").backend == "a1"
        assert s.get("shop.example.com", "/api/v1").backend == "a1"
        assert s.get("shop.example.com", "/apix").backend == "w1"


@needs_module
def test_dispatch_balancing_annotation_gets_its_own_variant(
        tmp_path, kube_api, nginx_factory, backends):
    bk = backends("w1", "a1")
    objs, slices = shop(bk, annotations={LB: "ewma"})
    objs.append(m.ingress(
        "hashed", [m.rule("hash.example.com", m.path("/", "web", 80))],
        annotations={HASH: "$request_uri"}))
    s = ModuleStack(tmp_path, kube_api, nginx_factory, objs, slices,
                    "--upstreams", "dispatch")

    ups = upstream_blocks(s.conf)
    names = sorted(ups)
    assert len(names) == 3, s.conf
    assert names[0] == "kubengx_dispatch"
    assert names[1] == "kubengx_dispatch__lb-ewma"
    # the whole key, escaped: two keys never share a name
    assert names[2] == "kubengx_dispatch__lb-hash-.24request.5furi"
    assert ups[names[1]].split()[:2] == ["k8s_dispatch", "balance=ewma;"]
    assert ups[names[2]].split()[:4] == [
        "k8s_dispatch", "balance=hash", "hash=$request_uri", "consistent;"]
    # the same options k8s_service would get in the per-service form
    f = write_list(tmp_path / "ps", objs)
    rc, _, err, per = m.render(f, None, "--upstreams", "per-service",
                               endpoints="module")
    assert rc == 0, err
    assert set(re.findall(r"k8s_service \S+ port=http( [^;]*)?;", per)) \
        == set(re.findall(r"k8s_dispatch( [^;]*)?;", s.conf))
    assert set(proxy_passes(s.conf)) == set(names)

    s.wait_backend("shop.example.com", "/", "w1")
    for _ in range(5):
        assert s.get("shop.example.com", "/").backend == "w1"
        assert s.get("shop.example.com", "/api/").backend == "a1"
        assert s.get("hash.example.com", "/k").backend == "w1"
        assert s.get("web.example.com", "/").backend == "w1"


@needs_module
def test_dispatch_missing_service_and_no_endpoints_are_503(
        tmp_path, kube_api, nginx_factory, backends):
    bk = backends("w1")
    objs = [m.ingress_class("kubengx"),
            m.service("empty", [m.svc_port("http", 80, 8080)])]
    slices = []
    for o in m.backend_service(bk, "web", ["w1"]):
        (slices if o["kind"] == "EndpointSlice" else objs).append(o)
    objs.append(m.ingress("x", [m.rule(
        "x.example.com", m.path("/", "web", 80),
        m.path("/ghost", "ghost", 80), m.path("/empty", "empty", 80))]))
    s = ModuleStack(tmp_path, kube_api, nginx_factory, objs, slices,
                    "--upstreams", "dispatch")
    assert "Service default/ghost not found" in s.err
    assert set(backend_lines(s.conf)) == {"default/web port=http",
                                          "default/empty port=http"}

    s.wait_backend("x.example.com", "/", "w1")
    assert s.get("x.example.com", "/ghost").status == 503
    assert s.get("x.example.com", "/ghost/a").status == 503
    # known to the input, no EndpointSlice in the API: the module's 503
    assert s.get("x.example.com", "/empty/").status == 503
    assert "k8s: service \"default/empty:http\"" in s.nginx.error_log()


# --- auto ------------------------------------------------------------------

def test_auto_is_per_service_for_a_small_set(tmp_path, backends):
    bk = backends("w1", "a1")
    objs, slices = shop(bk)
    f = write_list(tmp_path, objs + slices)
    rc, _, err, auto = m.render(f, None, endpoints="module")
    assert rc == 0, err
    rc, _, err, per = m.render(f, None, "--upstreams", "per-service",
                               endpoints="module")
    assert rc == 0, err
    rc, _, err, explicit = m.render(f, None, "--upstreams", "auto",
                                    endpoints="module")
    assert rc == 0, err
    assert auto == per == explicit
    assert sorted(upstream_blocks(auto)) == ["default_api_http",
                                             "default_web_http"]
    assert not backend_lines(auto)
    assert "k8s_dispatch" not in auto


def test_static_and_cluster_ip_ignore_the_flag(tmp_path, backends):
    bk = backends("w1", "a1")
    objs, slices = shop(bk)
    f = write_list(tmp_path, objs + slices)
    for mode in ("static", "cluster-ip"):
        rc, _, err, plain = m.render(f, None, endpoints=mode)
        assert rc == 0, err
        rc, _, err, disp = m.render(f, None, "--upstreams", "dispatch",
                                    endpoints=mode)
        assert rc == 0, err
        assert disp == plain
        assert "k8s_dispatch" not in disp and not backend_lines(disp)


def test_bad_value_is_refused(tmp_path):
    f = write_list(tmp_path, [m.ingress_class("kubengx")])
    rc, _, err, _ = m.render(f, None, "--upstreams", "sometimes",
                             endpoints="module")
    assert rc == 2
    assert "--upstreams \"sometimes\" is not one of" in err


@needs_module
def test_auto_switches_above_the_threshold(tmp_path):
    t = threshold()
    assert t >= 100

    # exactly at the threshold: per-service
    f = write_list(tmp_path / "at", generated(t))
    rc, _, err, conf = m.render(f, None, endpoints="module", timeout=120)
    assert rc == 0, err
    assert len(upstream_blocks(conf)) == t
    assert "k8s_dispatch" not in conf and not backend_lines(conf)

    # one more Service port: dispatch, and nginx -t accepts it
    f = write_list(tmp_path / "above", generated(t + 1))
    rc, _, err, conf = m.render(f, None, "--check", "--nginx", harness.NGINX,
                                "--module", harness.MODULE, "-v",
                                endpoints="module", timeout=120,
                                env=harness.san_env(tmp_path))
    assert rc == 0, err
    assert "%d Service-port upstreams: dispatch form" % (t + 1) in err
    ups = upstream_blocks(conf)
    assert list(ups) == ["kubengx_dispatch"], list(ups)[:5]
    assert len(re.findall(r"^\s*k8s_dispatch;$", conf, re.M)) == 1
    assert "k8s_service" not in conf
    lines = backend_lines(conf)
    # "/" and "/api" (-> "/api/" and "= /api") per host
    assert len(lines) == 3 * (t + 1)
    assert "default/svc%05d port=http" % t in lines
    assert set(proxy_passes(conf)) == {"kubengx_dispatch"}

    # --upstreams per-service overrides auto
    rc, _, err, conf = m.render(f, None, "--upstreams", "per-service",
                                endpoints="module", timeout=120)
    assert rc == 0, err
    assert len(upstream_blocks(conf)) == t + 1
    assert not backend_lines(conf)


def test_dispatch_output_is_deterministic(tmp_path, backends):
    bk = backends("w1", "a1")
    objs, slices = shop(bk, annotations={LB: "least_conn"})
    objs.append(m.ingress(
        "hashed", [m.rule("hash.example.com", m.path("/", "web", 80))],
        annotations={HASH: "$cookie_session"}))
    a = write_list(tmp_path / "a", objs + slices)
    b = write_list(tmp_path / "b", list(reversed(objs + slices)))
    outs = []
    for f in (a, b, a):
        rc, _, err, conf = m.render(f, None, "--upstreams", "dispatch",
                                    endpoints="module")
        assert rc == 0, err
        outs.append(conf)
    assert outs[0] == outs[1] == outs[2]
    assert json.dumps(sorted(upstream_blocks(outs[0]))).count(
        "kubengx_dispatch") == 3
