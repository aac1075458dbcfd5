"""One object must not freeze everyone's config.  When nginx -t rejects the
rendered config, the controller finds the Ingresses to blame (the line
nginx names, else a bisection over the Ingresses), applies the config
without them, reports them (an Event in their namespace, a log line,
metrics) and tries them again when they change.  A fresh controller with
such an object in the cluster becomes ready and serves everything else.

Bad objects: a wrapper nginx whose -t refuses any config naming a marker
host (with or without a line number in its message), and two real ones
nginx -t rejects today: a TLS Secret whose key does not match its
certificate, and an upstream-hash-by naming a variable nginx does not
know.  (Once the renderer refuses those itself, the Ingress loses its
routes by a render warning instead; the tests of the real objects accept
either, and check what both must give: a Warning Event, the others
served, the fix applied.)"""

import os
import signal

import pytest

import harness
from dns_server import DNSServer
from manifests import (backend_service, ingress, ingress_class, path, rule,
                       secret_tls, self_signed)
from test_controller import controllers, routed_to  # noqa: F401 (fixture)

HASH_BY = "nginx.ingress.kubernetes.io/upstream-hash-by"


def ing_path(ns, name):
    return "/apis/networking.k8s.io/v1/namespaces/%s/ingresses/%s" % (ns,
                                                                        name)


def wrapper(tmp_path, marker, with_line=True, test_delay=0):
    """An nginx whose -t fails when kubengx.conf names `marker`, saying
    where (like nginx) or not (like nginx's errors without a line)."""
    w = tmp_path / ("nginx-refusing-%s" % marker)
    say = ('echo "nginx: [emerg] the test refuses this host in '
           '${p}kubengx.conf:$line" >&2' if with_line else
           'echo "nginx: [emerg] the test refuses a host it does not '
           'name" >&2')
    w.write_text("""#!/bin/sh
p=
t=
prev=
for a; do
    [ "$a" = -t ] && t=1
    [ "$prev" = -p ] && p=$a
    prev=$a
done
if [ -n "$t" ]; then
    sleep %s
    line=$(grep -n '%s' "${p}kubengx.conf" | head -1 | cut -d: -f1)
    if [ -n "$line" ]; then
        %s
        echo "nginx: configuration file ${p}nginx.conf test failed" >&2
        exit 1
    fi
fi
exec %s "$@"
""" % (test_delay, marker, say, harness.NGINX))
    w.chmod(0o755)
    return str(w)


def events(api, ns, name, reason=None):
    evs = api.get("/api/v1/namespaces/%s/events" % ns)["items"]
    return [e for e in evs if e["involvedObject"]["name"] == name
            and e["involvedObject"]["kind"] == "Ingress"
            and (reason is None or e["reason"] == reason)]


def namespace(api, ns):
    api.create({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns}})


def web(api, bk, backend, ns):
    """Service web in ns (the commonest shape: one unnamed port,
    targetPort 8080) whose endpoint is the test backend `backend`."""
    for o in backend_service(bk, "web", backend, ns=ns, port_name=None):
        api.create(o)


def tenants(api, bk, names):
    """Per name: namespace team-NAME, Service web on backend NAME, and
    Ingress site for NAME.example.com."""
    for n in names:
        ns = "team-" + n
        namespace(api, ns)
        web(api, bk, n, ns)
        api.create(ingress("site", [rule("%s.example.com" % n,
                                         path("/", "web", 80))], ns=ns))


def two_tenants_and(api, bk, bad):
    """Tenants a and b, and in team-c (Service web on backend c) the
    Ingress `bad`."""
    api.create(ingress_class("kubengx"))
    tenants(api, bk, ["a", "b"])
    namespace(api, "team-c")
    web(api, bk, "c", "team-c")
    api.create(bad)


def serves_all(ctl, names):
    return all(routed_to(ctl, "%s.example.com" % n, "/", n)()
               for n in names)


def test_marker_host_left_out_reported_and_retried(tmp_path, kube_api,
                                                   backends, controllers):
    """nginx names the line: one test without the Ingress behind it."""
    bk = backends("a", "b", "c")
    api = kube_api()
    two_tenants_and(api, bk, ingress("evil", [rule("poison.example.com",
                                                   path("/", "web", 80))],
                                     ns="team-c"))

    # a fresh controller with the bad object becomes ready
    ctl = controllers(api, args=["--nginx", wrapper(tmp_path, "poison")])
    ctl.wait_ready()
    harness.wait_for(lambda: serves_all(ctl, ["a", "b"]), 10, "a and b")
    assert ctl.get("/", host="poison.example.com").status == 404

    ev = harness.wait_for(lambda: events(api, "team-c", "evil",
                                         "ExcludedFromConfig"), 10,
                          "the Event on team-c/evil")[0]
    assert ev["type"] == "Warning"
    assert "the test refuses this host in kubengx.conf:" in ev["message"]
    assert "left out" in ev["message"]
    m = ctl.metrics()
    assert m["kubengx_ingresses_excluded"] == 1
    assert m['kubengx_config_bisections_total{outcome="applied"}'] == 1
    # the line pointed at it: one test, no search
    assert m["kubengx_config_bisection_tests_total"] == 1
    assert m['kubengx_reload_errors_total{reason="nginx-test"}'] == 0
    assert "Ingress team-c/evil left out" in ctl.text()
    assert not events(api, "team-a", "site")

    # an unrelated change is applied; evil stays out, no new search
    ing = api.get(ing_path("team-a", "site"))
    ing["spec"]["rules"][0]["http"]["paths"].append(path("/b", "web", 80))
    api.replace(ing)
    harness.wait_for(lambda: ctl.get("/b/x", host="a.example.com").status
                     == 200, 10, "the unrelated change")
    m = ctl.metrics()
    assert m["kubengx_ingresses_excluded"] == 1
    assert m['kubengx_config_bisections_total{outcome="applied"}'] == 1

    # its status is not what makes it retried
    ing = api.get(ing_path("team-c", "evil"))
    ing["status"] = {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}}
    api.request("PUT", ing_path("team-c", "evil") + "/status", ing)
    syncs = ctl.metric("kubengx_syncs_total")
    harness.wait_for(lambda: ctl.metric("kubengx_syncs_total") > syncs, 10,
                     "a sync after the status write")
    assert ctl.metric("kubengx_config_bisection_tests_total") == 1

    # fixed: tried again and served
    ing = api.get(ing_path("team-c", "evil"))
    ing["spec"]["rules"][0]["host"] = "fixed.example.com"
    api.replace(ing)
    harness.wait_for(routed_to(ctl, "fixed.example.com", "/", "c"), 10,
                     "the fixed Ingress served")
    assert ctl.metric("kubengx_ingresses_excluded") == 0
    assert "team-c/evil or what it names changed; trying it again" \
        in ctl.text()
    assert serves_all(ctl, ["a", "b"])


def test_bisection_finds_two_unnamed_culprits(tmp_path, kube_api, backends,
                                              controllers):
    """nginx names nothing: the bisection finds both bad Ingresses among
    eight, within its bound, while every test takes a while; an Ingress
    created during the search is applied after it."""
    good = ["a", "b", "c", "d", "e", "f"]
    bk = backends(*good)
    api = kube_api()
    api.create(ingress_class("kubengx"))
    tenants(api, bk, good)
    for ns, host in (("team-x", "poison-1.example.com"),
                     ("team-y", "poison-2.example.com")):
        namespace(api, ns)
        web(api, bk, "a", ns)
        api.create(ingress("bad", [rule(host, path("/", "web", 80))],
                           ns=ns))

    ctl = controllers(api, args=["--nginx",
                                 wrapper(tmp_path, "poison", False, 0.4)])
    harness.wait_for(lambda: "looking for the Ingresses to blame"
                     in ctl.text(), 20, "the search to start")
    api.create(ingress("late", [rule("late.example.com",
                                     path("/", "web", 80))], ns="team-a"))
    ctl.wait_ready(timeout=60)
    harness.wait_for(lambda: serves_all(ctl, good), 10, "every good route")
    harness.wait_for(routed_to(ctl, "late.example.com", "/", "a"), 20,
                     "the Ingress created during the search")
    for host in ("poison-1.example.com", "poison-2.example.com"):
        assert ctl.get("/", host=host).status == 404

    for ns in ("team-x", "team-y"):
        ev = harness.wait_for(lambda: events(api, ns, "bad",
                                             "ExcludedFromConfig"), 10,
                              "the Event in %s" % ns)[0]
        assert "the test refuses a host it does not name" in ev["message"]
    m = ctl.metrics()
    assert m["kubengx_ingresses_excluded"] == 2
    # 8 Ingresses, 2 to find: about 2 x (log2(8) + 2), far below the bound
    assert 4 <= m["kubengx_config_bisection_tests_total"] <= 14, m
    text = ctl.text()
    assert "bisect: test 1 (" in text
    assert "2 Ingresses left out after" in text
    # "late" arrived while the search ran, and was synced after it
    start = text.index("looking for the Ingresses to blame")
    end = text.index("Ingresses left out after")
    added = text.index("ADDED Ingress team-a/late")
    assert start < added < end, (start, added, end)


def test_fresh_controller_with_mismatched_tls_key(tmp_path, kube_api,
                                                  backends, controllers):
    """A TLS Secret whose key is not its certificate's, next to good
    Ingresses (one over TLS) in other namespaces."""
    bk = backends("a", "b", "c")
    api = kube_api()
    api.create(ingress_class("kubengx"))
    tenants(api, bk, ["a", "b"])
    ca, ka = self_signed(tmp_path, "a.example.com")
    api.create(secret_tls("tls", ca, ka, ns="team-a"))
    ing = api.get(ing_path("team-a", "site"))
    ing["spec"]["tls"] = [{"hosts": ["a.example.com"], "secretName": "tls"}]
    api.replace(ing)

    os.makedirs(str(tmp_path / "c"))
    cc, kc = self_signed(tmp_path / "c", "c.example.com")
    namespace(api, "team-c")
    api.create(secret_tls("tls", cc, ka, ns="team-c"))     # a's key
    web(api, bk, "c", "team-c")
    api.create(ingress("shop", [rule("c.example.com", path("/", "web", 80))],
                       ns="team-c",
                       tls=[{"hosts": ["c.example.com"],
                             "secretName": "tls"}]))

    ctl = controllers(api).wait_ready()
    harness.wait_for(lambda: routed_to(ctl, "b.example.com", "/", "b")(),
                     10, "b")
    r = harness.curl("https://a.example.com:%d/" % ctl.https_port, "-k",
                     "--resolve", "a.example.com:%d:127.0.0.1"
                     % ctl.https_port)
    assert r.status == 200 and r.backend == "a"

    ev = harness.wait_for(lambda: [e for e in events(api, "team-c", "shop")
                                   if e["type"] == "Warning"], 10,
                          "a Warning on team-c/shop")[0]
    if ev["reason"] == "ExcludedFromConfig":
        assert "key values mismatch" in ev["message"], ev["message"]
        assert ctl.metric("kubengx_ingresses_excluded") == 1

    # the matching key: c served over https
    sec = api.get("/api/v1/namespaces/team-c/secrets/tls")
    sec["data"] = secret_tls("tls", cc, kc)["data"]
    api.replace(sec)
    harness.wait_for(lambda: harness.curl(
        "https://c.example.com:%d/" % ctl.https_port, "-k", "--resolve",
        "c.example.com:%d:127.0.0.1" % ctl.https_port).backend == "c",
        10, "c over https")
    assert ctl.metric("kubengx_ingresses_excluded") == 0


def test_unknown_hash_variable_left_out(kube_api, backends, controllers):
    """upstream-hash-by naming a variable nginx does not know; the fix,
    and a later change elsewhere, both applied."""
    bk = backends("a", "b", "c")
    api = kube_api()
    two_tenants_and(api, bk, ingress("sticky", [rule("c.example.com",
                                                     path("/", "web", 80))],
                                     ns="team-c",
                                     annotations={HASH_BY:
                                                  "$no_such_variable"}))

    ctl = controllers(api).wait_ready()
    harness.wait_for(lambda: serves_all(ctl, ["a", "b"]), 10, "a and b")
    ev = harness.wait_for(lambda: [e for e in events(api, "team-c",
                                                     "sticky")
                                   if e["type"] == "Warning"], 10,
                          "a Warning on team-c/sticky")[0]
    if ev["reason"] == "ExcludedFromConfig":
        assert "no_such_variable" in ev["message"], ev["message"]
        # the quoted name led to the upstream, and it to the Ingress
        assert ctl.metric("kubengx_config_bisection_tests_total") == 1
        assert ctl.get("/", host="c.example.com").status == 404

    ing = api.get(ing_path("team-c", "sticky"))
    ing["metadata"]["annotations"][HASH_BY] = "$request_uri"
    api.replace(ing)
    harness.wait_for(routed_to(ctl, "c.example.com", "/", "c"), 10,
                     "the fixed Ingress")
    assert ctl.metric("kubengx_ingresses_excluded") == 0

    reloads = ctl.reloads()
    api.create(ingress("more", [rule("more.example.com",
                                     path("/", "web", 80))], ns="team-b"))
    harness.wait_for(routed_to(ctl, "more.example.com", "/", "b"), 10,
                     "a later change")
    assert ctl.reloads() == reloads + 1


@pytest.mark.parametrize("dns", ["nxdomain", "down"])
def test_fresh_controller_with_unresolvable_external_name(kube_api, backends,
                                                          controllers, dns):
    """An ExternalName Service that does not resolve (and DNS down
    altogether) next to good tenants: a fresh controller becomes ready and
    serves them; the ExternalName route answers 502/504 per request
    (nginx resolves it then), nothing is left out, nginx -t never fails."""
    bk = backends("a", "b", "c")
    server = DNSServer({"known.test.example": "127.0.0.1"})
    port = server.port
    if dns == "down":
        server.stop()
    try:
        api = kube_api()
        api.create(ingress_class("kubengx"))
        tenants(api, bk, ["a", "b"])
        namespace(api, "team-c")
        api.create({"apiVersion": "v1", "kind": "Service",
                    "metadata": {"name": "ext", "namespace": "team-c"},
                    "spec": {"type": "ExternalName",
                             "externalName": "missing.test.example",
                             "ports": [{"port": 80}]}})
        api.create(ingress("outside", [rule("c.example.com",
                                            path("/", "ext", 80))],
                           ns="team-c"))

        ctl = controllers(api, args=["--resolver",
                                     "127.0.0.1:%d" % port]).wait_ready()
        harness.wait_for(lambda: serves_all(ctl, ["a", "b"]), 10, "a and b")
        # (DNS down: nginx gives up after its resolver_timeout, 5 s)
        r = harness.http_request(ctl.http_port, "/", host="c.example.com",
                                 timeout=15)
        assert r.backend is None and r.status in (502, 504), r
        assert ctl.metric("kubengx_ingresses_excluded") == 0
        assert ctl.metric(
            'kubengx_reload_errors_total{reason="nginx-test"}') == 0
        assert not events(api, "team-c", "outside", "ExcludedFromConfig")
    finally:
        if dns != "down":
            server.stop()


def test_nothing_to_blame_keeps_the_running_config(tmp_path, kube_api,
                                                   backends, controllers):
    """nginx -t fails whatever the Ingresses (here: every config once a
    flag file exists): nothing is left out, the running config stays, the
    failure is counted, and the search stops after the config without
    any Ingress failed too."""
    bk = backends("a")
    api = kube_api()
    api.create(ingress_class("kubengx"))
    tenants(api, bk, ["a"])
    flag = tmp_path / "refuse"
    w = tmp_path / "nginx-refusing-all"
    w.write_text("#!/bin/sh\nfor a; do [ \"$a\" = -t ] && [ -e %s ] && "
                 "{ echo 'nginx: [emerg] refused by the test' >&2; exit 1; }"
                 "; done\nexec %s \"$@\"\n" % (flag, harness.NGINX))
    w.chmod(0o755)
    ctl = controllers(api, args=["--nginx", str(w)]).wait_ready()
    harness.wait_for(routed_to(ctl, "a.example.com", "/", "a"), 10, "a")

    flag.write_text("")
    api.create(ingress("other", [rule("other.example.com",
                                      path("/", "web", 80))], ns="team-a"))
    harness.wait_for(lambda: ctl.metric(
        'kubengx_config_bisections_total{outcome="gave-up"}') == 1, 20,
        "the search given up")
    m = ctl.metrics()
    assert m['kubengx_reload_errors_total{reason="nginx-test"}'] == 1
    assert m["kubengx_ingresses_excluded"] == 0
    assert m["kubengx_config_bisection_tests_total"] <= 3
    assert "even without any Ingress" in ctl.text()
    assert routed_to(ctl, "a.example.com", "/", "a")()
    assert ctl.get("/", host="other.example.com").status == 404
    ev = harness.wait_for(lambda: events(api, "team-a", "other",
                                         "RejectedConfig"), 10,
                          "RejectedConfig on the new Ingress")[0]
    assert "refused by the test" in ev["message"]

    # the same config is not tried again until something changes, or
    # SIGHUP asks for it
    flag.unlink()
    ctl.proc.send_signal(signal.SIGHUP)
    harness.wait_for(routed_to(ctl, "other.example.com", "/", "a"), 10,
                     "applied after SIGHUP")


def test_shared_service_and_second_problem_found_by_pointers(
        tmp_path, kube_api, backends, controllers):
    """nginx names a line in the upstream of a Service four Ingresses use:
    each alone brings it back, so all four are to blame, in one test;
    without them nginx -t stops at another line, in a location team-d
    added to team-a's host: only team-d's Ingress is to blame, one more
    test; then at a marker host in team-c, one more.  A change of the
    Service retries the four."""
    bk = backends("a", "b", "c", "p")
    api = kube_api()
    api.create(ingress_class("kubengx"))
    tenants(api, bk, ["a", "b"])
    namespace(api, "team-p")
    web(api, bk, "p", "team-p")
    for i in range(4):
        api.create(ingress("shop%d" % i, [rule("p%d.example.com" % i,
                                               path("/", "web", 80))],
                           ns="team-p"))
    namespace(api, "team-c")
    web(api, bk, "c", "team-c")
    api.create(ingress("evil", [rule("poison.example.com",
                                     path("/", "web", 80))], ns="team-c"))
    namespace(api, "team-d")
    web(api, bk, "c", "team-d")
    api.create(ingress("sneaky", [rule("a.example.com",
                                       path("/poison-path", "web", 80))],
                       ns="team-d"))

    # the Service's endpoint (its backend's port) is the marker
    marker = "server 127.0.0.1:%d;\\|poison" % bk.host_port("p")[1]
    # merge: team-d's location on team-a's host reaches nginx -t (under the
    # default --host-ownership namespace the renderer refuses it first)
    ctl = controllers(api, args=["--nginx", wrapper(tmp_path, marker),
                                 "--host-ownership", "merge"])
    ctl.wait_ready()
    harness.wait_for(lambda: serves_all(ctl, ["a", "b"]), 10, "a and b")
    for i in range(4):
        assert ctl.get("/", host="p%d.example.com" % i).status == 404
        assert harness.wait_for(lambda: events(api, "team-p", "shop%d" % i,
                                               "ExcludedFromConfig"), 10,
                                "the Event on shop%d" % i)
    for ns, name in (("team-c", "evil"), ("team-d", "sneaky")):
        assert harness.wait_for(lambda: events(api, ns, name,
                                               "ExcludedFromConfig"), 10,
                                "the Event on %s" % name)
    assert not events(api, "team-a", "site")
    m = ctl.metrics()
    assert m["kubengx_ingresses_excluded"] == 6
    assert m["kubengx_config_bisection_tests_total"] == 3, ctl.text()
    # team-a's own route on the host team-d tried to add to
    assert routed_to(ctl, "a.example.com", "/poison-path", "a")()

    # the Service gets a good endpoint; the change of its spec retries
    # the four Ingresses (evil stays out)
    sl = api.get("/apis/discovery.k8s.io/v1/namespaces/team-p/"
                 "endpointslices")["items"][0]
    sl.update(apiVersion="discovery.k8s.io/v1", kind="EndpointSlice")
    sl["ports"][0]["port"] = bk.host_port("a")[1]
    api.replace(sl)
    svc = api.get("/api/v1/namespaces/team-p/services/web")
    svc["spec"]["selector"] = {"app": "web-v2"}
    api.replace(svc)
    for i in range(4):
        harness.wait_for(routed_to(ctl, "p%d.example.com" % i, "/", "a"),
                         10, "shop%d served again" % i)
    assert ctl.metric("kubengx_ingresses_excluded") == 2
    assert ctl.get("/", host="poison.example.com").status == 404
