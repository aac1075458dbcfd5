"""Canary routes (k8s_canary) and cookie affinity (k8s_affinity) through a
real nginx with the module, real backends and the stand-in API server: the
canary settings come from the canary Ingress's annotations, watched by the
module, so changing them needs no reload."""

import math
import random

import pytest

import harness
import manifests as m
from test_module_watch import (slice_obj, put_slice, delete_slice,
                               write_manifest, api_line, status, tail)

NS = "default"
ANN = "nginx.ingress.kubernetes.io/"


def canary_ingress(annotations, name="web-canary"):
    ann = {ANN + "canary": "true"}
    ann.update({ANN + k: v for k, v in annotations.items()})
    return m.ingress(name, [m.rule("shop.example", m.path(
        "/", "web-v2", "http"))], annotations=ann)


def ingress_path(name="web-canary"):
    return "/apis/networking.k8s.io/v1/namespaces/%s/ingresses/%s" % (NS,
                                                                      name)


def conf(port, api, affinity=""):
    return """
    %s
    k8s_zone k8s 4m;
    upstream web { k8s_service default/web port=http; }
    server {
        listen 127.0.0.1:%d;
        add_header X-Worker $pid always;
        proxy_next_upstream error timeout http_502;
        location / {
            k8s_canary default/web-canary default/web-v2 port=http;
            %s
            proxy_pass http://web;
        }
        location = /k8s/status { k8s_status; }
    }
""" % (api_line(api), port, affinity)


class Canary:
    """backends primary (a) and canary (c), the API, nginx (2 workers)."""

    def __init__(self, tmp_path, kube_api, backends, nginx_factory,
                 annotations, affinity="", primary=("a",), canary=("c",)):
        self.bk = backends(*(list(primary) + list(canary)))
        objs = []
        for svc, names in (("web", primary), ("web-v2", canary)):
            for n in names:
                h, p = self.bk.host_port(n)
                objs.append(slice_obj(svc, "%s-%s" % (svc, n), [h], p))
        if annotations is not None:
            objs.append(canary_ingress(annotations))
        self.api = kube_api(load=[write_manifest(tmp_path, objs)])
        self.port = harness.free_port()
        self.nginx = nginx_factory(http=conf(self.port, self.api, affinity),
                                   ports=[self.port], workers=2)
        self.wait_ready()

    def wait_ready(self):
        def ready():
            st = status(self.nginx)["services"]
            return all(st.get(k, {}).get("state") == "ready"
                       for k in ("default/web:http", "default/web-v2:http"))
        harness.wait_for(ready, 15, "both Services ready")

    def get(self, headers=None):
        return harness.http_request(self.port, "/", headers=headers)

    def share(self, n, headers=None):
        """The canary's share of n requests."""
        hits = 0
        for _ in range(n):
            r = self.get(headers)
            assert r.status == 200, r
            hits += r.backend == "c"
        return hits / n

    def set_annotations(self, annotations):
        cur = self.api.get(ingress_path())
        ann = {ANN + "canary": "true"}
        ann.update({ANN + k: v for k, v in annotations.items()})
        cur["metadata"]["annotations"] = ann
        self.api.replace(cur)


def all_to(c, want, headers=None, n=40):
    got = {c.get(headers).backend for _ in range(n)}
    assert got == {want}, (headers, got, tail(c.nginx.error_log()))


def test_canary_header_always_never(tmp_path, kube_api, backends,
                                    nginx_factory):
    c = Canary(tmp_path, kube_api, backends, nginx_factory,
               {"canary-by-header": "X-Canary", "canary-weight": "50"})
    # the watch delivered the settings: "always" routes to the canary
    harness.wait_for(lambda: c.get({"X-Canary": "always"}).backend == "c"
                     and c.get({"X-Canary": "always"}).backend == "c", 10,
                     "canary settings applied")
    all_to(c, "c", {"X-Canary": "always"})
    all_to(c, "a", {"X-Canary": "never"})
    # any other value falls through to the weight (50%): both answer
    seen = {c.get({"X-Canary": "maybe"}).backend for _ in range(60)}
    assert seen == {"a", "c"}, seen


def test_canary_header_value_and_pattern(tmp_path, kube_api, backends,
                                         nginx_factory):
    c = Canary(tmp_path, kube_api, backends, nginx_factory,
               {"canary-by-header": "X-Region",
                "canary-by-header-value": "eu-west"})
    harness.wait_for(lambda: c.get({"X-Region": "eu-west"}).backend == "c",
                     10, "canary settings applied")
    all_to(c, "c", {"X-Region": "eu-west"})
    all_to(c, "a", {"X-Region": "eu-west-2"})    # exact only
    all_to(c, "a", {"X-Region": "always"})       # the value replaces always
    all_to(c, "a")

    c.set_annotations({"canary-by-header": "X-Region",
                       "canary-by-header-pattern": "^eu-(west|north)$"})
    harness.wait_for(lambda: c.get({"X-Region": "eu-north"}).backend == "c",
                     10, "pattern applied")
    all_to(c, "c", {"X-Region": "eu-north"})
    all_to(c, "a", {"X-Region": "us-east"})

    # an invalid PCRE is refused by the watcher: no canary by pattern
    c.set_annotations({"canary-by-header": "X-Region",
                       "canary-by-header-pattern": "eu-(west"})
    harness.wait_for(lambda: "is not a valid PCRE" in c.nginx.error_log(),
                     10, "the pattern refused")
    all_to(c, "a", {"X-Region": "eu-west"})


def test_canary_cookie_always_never(tmp_path, kube_api, backends,
                                    nginx_factory):
    c = Canary(tmp_path, kube_api, backends, nginx_factory,
               {"canary-by-cookie": "canary", "canary-by-header": "X-C",
                "canary-weight": "0"})
    harness.wait_for(lambda: c.get({"Cookie": "canary=always"}).backend
                     == "c", 10, "canary settings applied")
    all_to(c, "c", {"Cookie": "x=1; canary=always"})
    all_to(c, "a", {"Cookie": "canary=never"})
    all_to(c, "a", {"Cookie": "canary=yes"})
    # the header is asked first
    all_to(c, "a", {"Cookie": "canary=always", "X-C": "never"})
    all_to(c, "c", {"Cookie": "canary=never", "X-C": "always"})


def test_canary_weight_share(tmp_path, kube_api, backends, nginx_factory):
    """weight 20: 20% +- 3 standard deviations of 2000 requests; weight
    total 1000 with weight 500: half."""
    c = Canary(tmp_path, kube_api, backends, nginx_factory,
               {"canary-weight": "20"})
    harness.wait_for(lambda: c.share(50) > 0, 10, "weight applied")
    n, p = 2000, 0.2
    sd = math.sqrt(p * (1 - p) / n)
    share = c.share(n)
    assert abs(share - p) <= 3 * sd, share


def test_canary_weight_change_without_reload(tmp_path, kube_api, backends,
                                             nginx_factory):
    c = Canary(tmp_path, kube_api, backends, nginx_factory,
               {"canary-weight": "0"})
    n = c.nginx
    master, workers = n.pid, n.worker_pids()
    all_to(c, "a")

    c.set_annotations({"canary-weight": "100"})
    harness.wait_for(lambda: c.get().backend == "c", 5, "weight 100")
    all_to(c, "c")

    c.set_annotations({"canary-weight": "500", "canary-weight-total": "1000"})
    harness.wait_for(lambda: 0.35 < c.share(200) < 0.65, 10, "weight 50%")
    st = status(n)["canaries"]["default/web-canary"]
    assert (st["state"], st["canary"], st["weight"], st["weight_total"]) \
        == ("present", True, 500, 1000), st

    # canary off: "canary" false, then the Ingress deleted
    c.set_annotations({"canary-weight": "100"})
    harness.wait_for(lambda: c.get().backend == "c", 5, "weight 100")
    cur = c.api.get(ingress_path())
    cur["metadata"]["annotations"][ANN + "canary"] = "false"
    c.api.replace(cur)
    harness.wait_for(lambda: c.get().backend == "a", 5, "canary off")
    all_to(c, "a")
    c.set_annotations({"canary-weight": "100"})
    harness.wait_for(lambda: c.get().backend == "c", 5, "canary on")
    c.api.delete(ingress_path())
    harness.wait_for(lambda: c.get().backend == "a", 5, "canary deleted")
    all_to(c, "a")
    assert status(n)["canaries"]["default/web-canary"]["state"] == "absent"

    assert n.pid == master
    assert n.worker_pids() == workers, "nginx was reloaded or respawned"


def test_canary_settings_kept_while_api_down(tmp_path, kube_api, backends,
                                             nginx_factory):
    c = Canary(tmp_path, kube_api, backends, nginx_factory,
               {"canary-weight": "100"})
    harness.wait_for(lambda: c.get().backend == "c", 10, "weight 100")
    c.api.stop()
    all_to(c, "c")


# --- affinity --------------------------------------------------------------

class Session:
    def __init__(self, name):
        self.name = name
        self.cookie = None
        self.endpoint = None
        self.set_cookies = []

    def request(self, port):
        hdrs = {"Cookie": "%s=%s" % (self.name, self.cookie)} \
            if self.cookie else {}
        r = harness.http_request(port, "/", headers=hdrs)
        assert r.status == 200, r
        sc = r.headers.get("set-cookie")
        if sc:
            self.set_cookies.append(sc)
            self.cookie = sc.split(";")[0].split("=", 1)[1]
        self.endpoint = r.backend
        return r


def endpoint_set(c, names):
    addrs = sorted(c.bk.addrs[x] for x in names)

    def cond():
        eps = status(c.nginx)["services"]["default/web:http"]["endpoints"]
        return sorted(e["address"] for e in eps) == addrs
    harness.wait_for(cond, 10, "endpoints %s" % sorted(names))


def run_affinity(tmp_path, kube_api, backends, nginx_factory, mode):
    pool = ["p%d" % i for i in range(10)]
    c = Canary(tmp_path, kube_api, backends, nginx_factory, None,
               affinity="k8s_affinity cookie name=route mode=%s;" % mode,
               primary=pool, canary=("c",))
    live = set(pool[:5])
    for n in pool[5:]:
        delete_slice(c.api, "web-%s" % n)
    endpoint_set(c, live)

    sessions = [Session("route") for _ in range(500)]
    for s in sessions:
        s.request(c.port)
        assert s.cookie, s.set_cookies
    assert {s.endpoint for s in sessions} == live

    rnd = random.Random(18)
    moved_total = 0
    for step in range(20):
        before = {id(s): s.endpoint for s in sessions}
        if (step % 2 == 0 and len(live) < len(pool)) or len(live) <= 2:
            added = rnd.choice(sorted(set(pool) - live))
            h, p = c.bk.host_port(added)
            put_slice(c.api, slice_obj("web", "web-%s" % added, [h], p))
            removed = None
            live.add(added)
        else:
            removed = rnd.choice(sorted(live))
            delete_slice(c.api, "web-%s" % removed)
            added = None
            live.discard(removed)
        endpoint_set(c, live)

        moved = 0
        for s in sessions:
            s.request(c.port)
            old = before[id(s)]
            assert s.endpoint in live
            if old == s.endpoint:
                continue
            # only a session whose endpoint left moves ...
            if old == removed:
                continue
            # ... or, balanced, one the new endpoint wins
            assert mode == "balanced" and s.endpoint == added, \
                (mode, step, old, s.endpoint, added, removed)
            moved += 1
        if added and mode == "balanced":
            n = len(live)
            expect = 500 / n
            sd = math.sqrt(500 * (1 / n) * (1 - 1 / n))
            assert moved <= expect + 3 * sd, (step, moved, expect)
        moved_total += moved
    if mode == "persistent":
        assert moved_total == 0
    return c, sessions


def test_affinity_persistent_keeps_sessions(tmp_path, kube_api, backends,
                                            nginx_factory):
    run_affinity(tmp_path, kube_api, backends, nginx_factory, "persistent")


def test_affinity_balanced_moves_few(tmp_path, kube_api, backends,
                                     nginx_factory):
    run_affinity(tmp_path, kube_api, backends, nginx_factory, "balanced")


def test_affinity_cookie_attributes(tmp_path, kube_api, backends,
                                    nginx_factory):
    c = Canary(tmp_path, kube_api, backends, nginx_factory, None,
               affinity="k8s_affinity cookie name=sticky mode=persistent "
                        "path=/shop domain=shop.example samesite=None "
                        "conditional_samesite_none secure expires=3600 "
                        "max_age=3600;",
               primary=("a", "b"))
    r = c.get()
    sc = r.headers["set-cookie"]
    parts = [p.strip() for p in sc.split(";")]
    name, value = parts[0].split("=", 1)
    assert name == "sticky" and len(value) == 16, sc
    int(value, 16)
    attrs = parts[1:]
    assert "Path=/shop" in attrs and "Domain=shop.example" in attrs, sc
    assert "Max-Age=3600" in attrs and "Secure" in attrs, sc
    assert "HttpOnly" in attrs and "SameSite=None" in attrs, sc
    assert any(a.startswith("Expires=") for a in attrs), sc

    # the cookie keeps the endpoint and is not sent again
    backend = r.backend
    for _ in range(20):
        r2 = c.get({"Cookie": "sticky=" + value})
        assert r2.backend == backend
        assert "set-cookie" not in r2.headers

    # SameSite=None left out for a client known to reject it
    old_chrome = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
                  "(KHTML, like Gecko) Chrome/60.0.3112.113 Safari/537.36")
    sc = c.get({"User-Agent": old_chrome}).headers["set-cookie"]
    assert "SameSite" not in sc, sc

    # a cookie that names no endpoint gets a new one
    r3 = c.get({"Cookie": "sticky=0123456789abcdef"})
    assert r3.headers["set-cookie"].startswith("sticky=")


@pytest.mark.parametrize("mode", ["persistent", "balanced"])
def test_affinity_sticky_canary(tmp_path, kube_api, backends, nginx_factory,
                                mode):
    """affinity-canary-behavior sticky: a session that landed on the canary
    stays there (and on the primary), whatever the weight draws."""
    c = Canary(tmp_path, kube_api, backends, nginx_factory,
               {"canary-weight": "50"},
               affinity="k8s_affinity cookie name=route mode=%s;" % mode)
    harness.wait_for(lambda: 0 < c.share(40) < 1, 10, "weight 50")
    sessions = [Session("route") for _ in range(40)]
    for s in sessions:
        s.request(c.port)
    first = [s.endpoint for s in sessions]
    assert set(first) == {"a", "c"}, first
    for _ in range(5):
        for s, e in zip(sessions, first):
            s.request(c.port)
            assert s.endpoint == e


def affinity_id(hostport, side=0):
    """kube/kube_affinity.c's identity of an endpoint: FNV-1a 64 of
    "address:port", splitmix64's finalizer, the lowest bit the side."""
    h = 0xcbf29ce484222325
    for b in hostport.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    h ^= h >> 30
    h = (h * 0xbf58476d1ce4e5b9) & 0xffffffffffffffff
    h ^= h >> 27
    h = (h * 0x94d049bb133111eb) & 0xffffffffffffffff
    h ^= h >> 31
    return "%016x" % ((h & ~1) | side)


def test_affinity_failed_endpoint(tmp_path, kube_api, backends,
                                  nginx_factory):
    """persistent: the cookie is the endpoint's address:port hash (the
    same for anyone who computes it); a session whose endpoint refuses
    connections is served by another, with a new cookie only with
    change_on_failure."""
    bk = backends("a")
    ha, pa = bk.host_port("a")
    dead = harness.free_port()
    objs = [slice_obj("web", "web-a", [ha], pa),
            slice_obj("web", "web-dead", ["127.0.0.1"], dead)]
    objs[1]["ports"][0]["port"] = dead
    api = kube_api(load=[write_manifest(tmp_path, objs)])
    port = harness.free_port()
    http = """
    %s
    k8s_zone k8s 4m;
    upstream web { k8s_service default/web port=http max_fails=0; }
    server {
        listen 127.0.0.1:%d;
        proxy_next_upstream error timeout http_502;
        location / {
            k8s_affinity cookie name=r mode=persistent;
            proxy_pass http://web;
        }
        location /cof/ {
            k8s_affinity cookie name=r mode=persistent change_on_failure;
            proxy_pass http://web;
        }
        location = /k8s/status { k8s_status; }
    }
""" % (api_line(api), port)
    n = nginx_factory(http=http, ports=[port])

    def ready():
        eps = status(n)["services"].get("default/web:http", {})
        return len(eps.get("endpoints", [])) == 2
    harness.wait_for(ready, 15, "two endpoints")

    a_id = affinity_id("%s:%d" % (ha, pa))
    dead_id = affinity_id("127.0.0.1:%d" % dead)

    # a cookie naming a: kept, no new cookie
    for path in ("/", "/cof/"):
        r = harness.http_request(port, path, headers={"Cookie": "r=" + a_id})
        assert r.status == 200 and r.backend == "a", r
        assert "set-cookie" not in r.headers, r.headers

    # a new session that lands on a gets a's identity
    for _ in range(10):
        r = harness.http_request(port, "/")
        assert r.status == 200 and r.backend == "a", r
        assert r.headers["set-cookie"].startswith("r=" + a_id + ";"), \
            (r.headers, a_id)

    # the dead endpoint: served by a; a new cookie only with
    # change_on_failure
    r = harness.http_request(port, "/", headers={"Cookie": "r=" + dead_id})
    assert r.status == 200 and r.backend == "a", r
    assert "set-cookie" not in r.headers, r.headers
    r = harness.http_request(port, "/cof/",
                             headers={"Cookie": "r=" + dead_id})
    assert r.status == 200 and r.backend == "a", r
    assert r.headers["set-cookie"].startswith("r=" + a_id + ";"), r.headers

    # an endpoint that left: a new cookie either way
    delete_slice(api, "web-dead")
    harness.wait_for(lambda: len(status(n)["services"]["default/web:http"]
                                 ["endpoints"]) == 1, 10, "one endpoint")
    r = harness.http_request(port, "/", headers={"Cookie": "r=" + dead_id})
    assert r.headers["set-cookie"].startswith("r=" + a_id + ";"), r.headers


def test_canary_settings_survive_reload(tmp_path, kube_api, backends,
                                        nginx_factory):
    """A reload keeps the k8s_canary zone: the new workers route by the
    last settings at once, also while the API is down."""
    c = Canary(tmp_path, kube_api, backends, nginx_factory,
               {"canary-weight": "100"})
    harness.wait_for(lambda: c.get().backend == "c", 10, "weight 100")
    old = c.nginx.worker_pids()
    c.api.stop()
    c.nginx.reload()
    harness.wait_for(lambda: c.nginx.worker_pids() and
                     not set(c.nginx.worker_pids()) & set(old), 10,
                     "new workers")
    all_to(c, "c")


def test_canaries_in_two_namespaces(tmp_path, kube_api, backends,
                                    nginx_factory):
    """Two canary Ingresses in two namespaces (a cluster-wide watch
    without a name selector): each location follows its own."""
    bk = backends("a", "c", "d")
    objs = []
    for svc, name in (("web", "a"), ("web-v2", "c")):
        h, p = bk.host_port(name)
        objs.append(slice_obj(svc, "%s-%s" % (svc, name), [h], p))
    h, p = bk.host_port("d")
    objs.append(slice_obj("web-v3", "web-v3-d", [h], p, ns="team"))
    objs.append(canary_ingress({"canary-weight": "100"}))
    other = canary_ingress({"canary-weight": "0"}, name="other")
    other["metadata"]["namespace"] = "team"
    objs.append(other)
    api = kube_api(load=[write_manifest(tmp_path, objs)])
    port = harness.free_port()
    http = """
    %s
    k8s_zone k8s 4m;
    upstream web { k8s_service default/web port=http; }
    server {
        listen 127.0.0.1:%d;
        location / {
            k8s_canary default/web-canary default/web-v2 port=http;
            proxy_pass http://web;
        }
        location /team/ {
            k8s_canary team/other team/web-v3 port=http;
            proxy_pass http://web;
        }
    }
""" % (api_line(api), port)
    n = nginx_factory(http=http, ports=[port])

    def backend(path):
        return harness.http_request(port, path).backend
    harness.wait_for(lambda: backend("/") == "c", 15, "default canary")
    assert {backend("/team/x") for _ in range(20)} == {"a"}

    path = "/apis/networking.k8s.io/v1/namespaces/team/ingresses/other"
    api.patch(path, {"metadata": {"annotations": {
        ANN + "canary-weight": "100"}}})
    harness.wait_for(lambda: backend("/team/x") == "d", 5, "team canary")
    assert {backend("/") for _ in range(20)} == {"c"}
    reqs = [r for r in api.requests_seen() if r["path"].endswith("/ingresses")]
    assert reqs and all("fieldSelector" not in r["query"] for r in reqs), reqs


def test_affinity_legacy_canary(tmp_path, kube_api, backends, nginx_factory):
    """canary=legacy (affinity-canary-behavior: legacy): the weight decides
    every request, the affinity cookie does not hold it."""
    c = Canary(tmp_path, kube_api, backends, nginx_factory,
               {"canary-weight": "50"},
               affinity="k8s_affinity cookie name=route mode=persistent "
                        "canary=legacy;")
    harness.wait_for(lambda: 0 < c.share(40) < 1, 10, "weight 50")
    switched = 0
    for _ in range(20):
        s = Session("route")
        seen = set()
        for _ in range(6):
            s.request(c.port)
            seen.add(s.endpoint)
        switched += len(seen) > 1
    assert switched >= 10, switched
