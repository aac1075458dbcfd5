"""`kubengx render --endpoints static`: every routing semantic of README.md (Static config)
("Routing semantics", normative) proven against a real nginx serving the
rendered config, with real backends that name themselves (X-Backend)."""

import json
import os
import random
import re
import socket

import pytest

import harness
from manifests import (Stack, backend_service, endpoint, ingress,
                       ingress_class, path, render, resource_backend, rule,
                       service, slice_, svc_port, write_manifests, backend)

H = "test.example.com"


@pytest.fixture
def stack(tmp_path, nginx_factory, kubengx):
    return Stack(tmp_path, nginx_factory)


def simple(name, host, svc, p="/", **kw):
    return ingress(name, [rule(host, path(p, svc, 80))], **kw)


# --- class selection -------------------------------------------------------

def test_class_selection(stack, backends):
    bk = backends("a", "b", "c", "d", "e")
    objs = []
    for n in "abcde":
        objs += backend_service(bk, "svc-" + n, n)
    objs += [
        simple("by-name", "name.example.com", "svc-a"),            # served
        simple("other", "other.example.com", "svc-b", cls="nginx"),
        simple("legacy", "legacy.example.com", "svc-c", cls=None,
               annotations={"kubernetes.io/ingress.class": "kubengx"}),
        simple("legacy-other", "legacy-other.example.com", "svc-d",
               cls=None,
               annotations={"kubernetes.io/ingress.class": "nginx"}),
        simple("none", "none.example.com", "svc-e", cls=None),
    ]
    stack.up(objs)
    assert stack.backend_of("/", "name.example.com") == "a"
    assert stack.backend_of("/", "other.example.com") == 404
    assert stack.backend_of("/", "legacy.example.com") == "c"
    assert stack.backend_of("/", "legacy-other.example.com") == 404
    # no class and no default class: not ours
    assert stack.backend_of("/", "none.example.com") == 404


def test_class_flag_names_the_class(stack, backends):
    bk = backends("a", "b")
    objs = backend_service(bk, "svc-a", "a") + \
        backend_service(bk, "svc-b", "b") + [
            simple("mine", "mine.example.com", "svc-a", cls="internal"),
            simple("default-name", "kubengx.example.com", "svc-b")]
    stack.up(objs, "--class", "internal")
    assert stack.backend_of("/", "mine.example.com") == "a"
    assert stack.backend_of("/", "kubengx.example.com") == 404


def test_ingressclass_with_our_controller_adds_its_name(stack, backends):
    bk = backends("a", "b")
    objs = backend_service(bk, "svc-a", "a") + \
        backend_service(bk, "svc-b", "b") + [
            ingress_class("ours-too"),
            ingress_class("theirs", controller="k8s.io/ingress-nginx"),
            simple("one", "one.example.com", "svc-a", cls="ours-too"),
            simple("two", "two.example.com", "svc-b", cls="theirs")]
    stack.up(objs)
    assert stack.backend_of("/", "one.example.com") == "a"
    assert stack.backend_of("/", "two.example.com") == 404


def test_default_class_via_ingressclass_annotation(stack, backends):
    bk = backends("a")
    objs = backend_service(bk, "svc-a", "a") + [
        ingress_class("ours", default=True),
        simple("none", "none.example.com", "svc-a", cls=None)]
    stack.up(objs)
    assert stack.backend_of("/", "none.example.com") == "a"


def test_default_class_of_another_controller_is_not_ours(stack, backends):
    bk = backends("a")
    objs = backend_service(bk, "svc-a", "a") + [
        ingress_class("example-class", controller="k8s.io/example-class",
                      default=True),
        simple("none", "none.example.com", "svc-a", cls=None)]
    stack.up(objs)
    assert stack.backend_of("/", "none.example.com") == 404


def test_watch_without_class(stack, backends):
    bk = backends("a", "b")
    objs = backend_service(bk, "svc-a", "a") + \
        backend_service(bk, "svc-b", "b") + [
            simple("none", "none.example.com", "svc-a", cls=None),
            simple("other", "other.example.com", "svc-b", cls="nginx")]
    stack.up(objs, "--watch-without-class")
    assert stack.backend_of("/", "none.example.com") == "a"
    # the flag takes class-less Ingresses, not other classes
    assert stack.backend_of("/", "other.example.com") == 404


# --- hosts -----------------------------------------------------------------

def test_exact_host_is_case_insensitive(stack, backends):
    bk = backends("a")
    objs = backend_service(bk, "svc-a", "a") + [
        simple("exact", "exact.example.com", "svc-a")]
    stack.up(objs)
    assert stack.backend_of("/", "exact.example.com") == "a"
    assert stack.backend_of("/", "EXACT.EXAMPLE.COM") == "a"
    assert stack.backend_of("/", "exact.example.com:%d"
                            % stack.http_port) == "a"
    assert stack.backend_of("/", "other.example.com") == 404
    assert stack.backend_of("/", "xexact.example.com") == 404


def test_wildcard_host_matches_exactly_one_label(stack, backends):
    bk = backends("a", "b")
    objs = backend_service(bk, "svc-a", "a") + \
        backend_service(bk, "svc-b", "b") + [
            simple("wild", "*.foo.com", "svc-a"),
            simple("exact", "exact.foo.com", "svc-b")]
    stack.up(objs)
    assert stack.backend_of("/", "bar.foo.com") == "a"
    assert stack.backend_of("/", "BAR.Foo.COM") == "a"
    assert stack.backend_of("/", "baz.bar.foo.com") == 404
    assert stack.backend_of("/", "foo.com") == 404
    assert stack.backend_of("/", "barfoo.com") == 404
    # an exact host beats the wildcard
    assert stack.backend_of("/", "exact.foo.com") == "b"


def test_rule_without_host_matches_every_host(stack, backends):
    bk = backends("a")
    objs = backend_service(bk, "svc-a", "a") + [
        ingress("nohost", [rule(None, path("/", "svc-a", 80))])]
    stack.up(objs)
    for h in ("anything.example.com", "1.2.3.4", "localhost", "x"):
        assert stack.backend_of("/some/path", h) == "a", h
    # no Host header at all (HTTP/1.0)
    s = socket.create_connection(("127.0.0.1", stack.http_port), timeout=5)
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    assert b"X-Backend: a" in data


# --- paths -----------------------------------------------------------------

def test_exact_path(stack, backends):
    bk = backends("a")
    objs = backend_service(bk, "svc-a", "a") + [
        ingress("ex", [rule(H, path("/exact", "svc-a", 80, "Exact"))])]
    stack.up(objs)
    assert stack.backend_of("/exact") == "a"
    assert stack.backend_of("/exact?q=1") == "a"
    assert stack.backend_of("/exact/") == 404
    assert stack.backend_of("/exact/x") == 404
    assert stack.backend_of("/exactly") == 404
    assert stack.backend_of("/Exact") == 404          # case-sensitive
    assert stack.backend_of("/") == 404


def test_prefix_path_is_element_wise(stack, backends):
    bk = backends("a")
    objs = backend_service(bk, "svc-a", "a") + [
        ingress("pre", [rule(H, path("/foo", "svc-a", 80))])]
    stack.up(objs)
    for p in ("/foo", "/foo/", "/foo/bar", "/foo/bar/baz", "/foo?x=1"):
        assert stack.backend_of(p) == "a", p
    for p in ("/foobar", "/fo", "/", "/Foo", "/bar/foo"):
        assert stack.backend_of(p) == 404, p


def test_prefix_trailing_slash_in_ingress_is_ignored(stack, backends):
    bk = backends("a", "b")
    objs = backend_service(bk, "svc-a", "a") + \
        backend_service(bk, "svc-b", "b") + [
            ingress("pre", [rule(H, path("/foo/", "svc-a", 80)),
                            rule("two.example.com",
                                 path("/a/b/", "svc-b", 80))])]
    stack.up(objs)
    for p in ("/foo", "/foo/", "/foo/bar"):
        assert stack.backend_of(p) == "a", p
    assert stack.backend_of("/foobar") == 404
    for p in ("/a/b", "/a/b/", "/a/b/c"):
        assert stack.backend_of(p, "two.example.com") == "b", p
    assert stack.backend_of("/a/bc", "two.example.com") == 404


def test_longest_prefix_wins(stack, backends):
    bk = backends("x", "y", "z")
    objs = []
    for n in "xyz":
        objs += backend_service(bk, "svc-" + n, n)
    # written shortest-last, so order of writing does not explain it
    objs.append(ingress("lp", [rule(H, path("/a/b/c", "svc-z", 80),
                                    path("/a", "svc-x", 80),
                                    path("/a/b", "svc-y", 80))]))
    stack.up(objs)
    assert stack.backend_of("/a") == "x"
    assert stack.backend_of("/a/bc") == "x"
    assert stack.backend_of("/a/b") == "y"
    assert stack.backend_of("/a/b/") == "y"
    assert stack.backend_of("/a/b/cd") == "y"
    assert stack.backend_of("/a/b/c") == "z"
    assert stack.backend_of("/a/b/c/d") == "z"


def test_exact_beats_prefix_at_equal_length(stack, backends):
    bk = backends("p", "e")
    objs = backend_service(bk, "svc-p", "p") + \
        backend_service(bk, "svc-e", "e") + [
            ingress("eq", [rule(H, path("/foo", "svc-p", 80, "Prefix"),
                                path("/foo", "svc-e", 80, "Exact"))])]
    stack.up(objs)
    assert stack.backend_of("/foo") == "e"
    assert stack.backend_of("/foo/") == "p"
    assert stack.backend_of("/foo/x") == "p"
    # Exact and Prefix of the same path are no conflict
    assert not [w for w in stack.warnings() if "conflict" in w.lower()]


def test_root_prefix_is_catch_all(stack, backends):
    bk = backends("root", "foo")
    objs = backend_service(bk, "svc-root", "root") + \
        backend_service(bk, "svc-foo", "foo") + [
            ingress("c", [rule(H, path("/", "svc-root", 80),
                               path("/foo", "svc-foo", 80))])]
    stack.up(objs)
    assert stack.backend_of("/") == "root"
    assert stack.backend_of("/anything/else") == "root"
    assert stack.backend_of("/foobar") == "root"
    assert stack.backend_of("/foo/bar") == "foo"
    # other hosts are not covered by a host's catch-all
    assert stack.backend_of("/", "other.example.com") == 404


def test_implementation_specific_is_prefix(stack, backends):
    bk = backends("a")
    objs = backend_service(bk, "svc-a", "a") + [
        ingress("impl", [rule(H, path("/impl", "svc-a", 80,
                                      "ImplementationSpecific"))])]
    stack.up(objs)
    for p in ("/impl", "/impl/", "/impl/x"):
        assert stack.backend_of(p) == "a", p
    assert stack.backend_of("/implx") == 404


def test_several_ingresses_on_one_host_merge(stack, backends):
    bk = backends("a", "b", "c")
    objs = []
    for n in "abc":
        objs += backend_service(bk, "svc-" + n, n)
    objs += [ingress("one", [rule(H, path("/one", "svc-a", 80))]),
             ingress("two", [rule(H, path("/two", "svc-b", 80))],
                     ns="default"),
             ingress("three", [rule(H, path("/three", "svc-c", 80,
                                                    "Exact"))])]
    stack.up(objs)
    assert stack.backend_of("/one/x") == "a"
    assert stack.backend_of("/two") == "b"
    assert stack.backend_of("/three") == "c"
    assert stack.backend_of("/four") == 404
    assert not stack.warnings(), stack.err


def test_conflict_oldest_wins_and_the_other_is_warned(stack, backends):
    bk = backends("old", "new")
    objs = backend_service(bk, "svc-old", "old") + \
        backend_service(bk, "svc-new", "new")
    # the newer one comes first in the file and sorts first by name
    objs += [ingress("aaa-newer", [rule(H, path("/same", "svc-new", 80))],
                     created="2023-06-01T00:00:00Z"),
             ingress("zzz-older", [rule(H, path("/same", "svc-old", 80))],
                     created="2019-06-01T00:00:00Z")]
    stack.up(objs)
    assert stack.backend_of("/same") == "old"
    assert stack.backend_of("/same/x") == "old"
    ws = stack.warnings()
    assert any("aaa-newer" in w for w in ws), stack.err
    assert not any("zzz-older" in w and "aaa-newer" not in w for w in ws), \
        stack.err


def test_conflict_tie_broken_by_namespace_then_name(stack, backends):
    bk = backends("first", "second")
    objs = backend_service(bk, "svc", "first", ns="a-ns") + \
        backend_service(bk, "svc", "second", ns="b-ns")
    t = "2021-01-01T00:00:00Z"
    objs += [ingress("x", [rule(H, path("/t", "svc", 80))], ns="b-ns",
                     created=t),
             ingress("y", [rule(H, path("/t", "svc", 80))], ns="a-ns",
                     created=t)]
    stack.up(objs)
    assert stack.backend_of("/t") == "first"
    assert any("b-ns" in w for w in stack.warnings()), stack.err


# --- backends --------------------------------------------------------------

def test_port_number_matches_service_port_not_target_port(stack, backends):
    bk = backends("a")
    _, pa = bk.host_port("a")
    objs = [service("svc", [svc_port("http", 80, 8080)]),
            slice_("svc", [endpoint("127.0.0.1")], [("http", pa)]),
            ingress("n", [rule(H, path("/port", "svc", 80),
                               path("/target", "svc", 8080))])]
    stack.up(objs)
    assert stack.backend_of("/port") == "a"
    assert stack.backend_of("/target") == 503
    assert any("8080" in w for w in stack.warnings()), stack.err


def test_port_by_name_and_slice_port_by_service_port_name(stack, backends):
    bk = backends("web", "admin")
    _, pw = bk.host_port("web")
    _, pa = bk.host_port("admin")
    objs = [service("svc", [svc_port("web", 80, "web-tp"),
                            svc_port("admin", 81, 9000)]),
            # slice ports in the other order: chosen by name, not index
            slice_("svc", [endpoint("127.0.0.1")],
                   [("admin", pa), ("web", pw)]),
            ingress("n", [rule(H, path("/by-name", "svc", "web"),
                               path("/admin", "svc", 81),
                               path("/admin-name", "svc", "admin"),
                               path("/missing-name", "svc", "nope"))])]
    stack.up(objs)
    assert stack.backend_of("/by-name") == "web"
    assert stack.backend_of("/admin") == "admin"
    assert stack.backend_of("/admin-name") == "admin"
    assert stack.backend_of("/missing-name") == 503
    assert any("nope" in w for w in stack.warnings()), stack.err


def test_unnamed_single_service_port(stack, backends):
    bk = backends("a")
    _, pa = bk.host_port("a")
    objs = [service("svc", [svc_port(None, 80, 8080)]),
            slice_("svc", [endpoint("127.0.0.1")], [(None, pa)]),
            ingress("n", [rule(H, path("/", "svc", 80))])]
    stack.up(objs)
    assert stack.backend_of("/") == "a"


def _same_port_backends(backends, names, first=1):
    """Backends on 127.0.0.<first..> all listening on one port."""
    for _ in range(20):
        port = harness.free_port()
        try:
            bk = backends(**{n: "127.0.0.%d:%d" % (first + i, port)
                             for i, n in enumerate(names)})
            return bk, port
        except AssertionError:
            continue
    raise AssertionError("no common free port")


def test_endpoints_union_of_slices_deduplicated(stack, backends):
    bk, port = _same_port_backends(backends, ["a", "b", "c"])
    objs = [service("svc", [svc_port("http", 80, 8080)]),
            slice_("svc", [endpoint("127.0.0.1"), endpoint("127.0.0.2")],
                   [("http", port)]),
            slice_("svc", [endpoint("127.0.0.2"), endpoint("127.0.0.3")],
                   [("http", port)]),
            # another Service's slice in the same namespace is not ours
            slice_("svc-other", [endpoint("127.0.0.9")], [("http", port)]),
            ingress("n", [rule(H, path("/", "svc", 80))])]
    stack.up(objs)
    seen = {}
    for _ in range(30):
        b = stack.backend_of("/")
        seen[b] = seen.get(b, 0) + 1
    # one worker, round robin: three distinct peers get 10 each; a
    # duplicated 127.0.0.2 would get 15 of 30
    assert seen == {"a": 10, "b": 10, "c": 10}, seen


def test_ready_endpoints_only(stack, backends):
    bk, port = _same_port_backends(backends, ["a", "b", "c", "d"])
    objs = [service("svc", [svc_port("http", 80, 8080)]),
            slice_("svc", [endpoint("127.0.0.1", ready=True),
                           endpoint("127.0.0.2", ready=False, serving=True,
                                    terminating=True),
                           endpoint("127.0.0.3", ready=False, serving=False),
                           endpoint("127.0.0.4", ready=None)],
                   [("http", port)]),
            ingress("n", [rule(H, path("/", "svc", 80))])]
    stack.up(objs)
    seen = {stack.backend_of("/") for _ in range(12)}
    # ready unset means ready (EndpointConditions: nil is "ready")
    assert seen == {"a", "d"}, seen


def test_fallback_to_serving_terminating_when_none_ready(stack, backends):
    bk, port = _same_port_backends(backends, ["a", "b", "c"])
    objs = [service("svc", [svc_port("http", 80, 8080)]),
            slice_("svc", [endpoint("127.0.0.1", ready=False, serving=True,
                                    terminating=True),
                           endpoint("127.0.0.2", ready=False, serving=False,
                                    terminating=True),
                           endpoint("127.0.0.3", ready=False, serving=True,
                                    terminating=False)],
                   [("http", port)]),
            ingress("n", [rule(H, path("/", "svc", 80))])]
    stack.up(objs)
    seen = {stack.backend_of("/") for _ in range(9)}
    assert seen == {"a"}, seen


def test_no_endpoints_at_all_is_503(stack, backends):
    objs = [service("svc", [svc_port("http", 80, 8080)]),
            slice_("svc", [endpoint("127.0.0.1", ready=False,
                                    serving=False)], [("http", 1)]),
            ingress("n", [rule(H, path("/", "svc", 80))])]
    stack.up(objs)
    assert stack.backend_of("/") in (502, 503)


def test_ipv6_endpoints(stack, backends):
    bk = backends(v6="[::1]:0")
    _, p6 = bk.host_port("v6")
    objs = [service("svc", [svc_port("http", 80, 8080)]),
            slice_("svc", [endpoint("::1")], [("http", p6)],
                   family="IPv6"),
            ingress("n", [rule(H, path("/", "svc", 80))])]
    stack.up(objs)
    r = stack.get("/")
    assert r.backend == "v6"
    assert r.json()["addr"] == "[::1]:%d" % p6


def test_missing_service_is_503_with_warning(stack, backends):
    bk = backends("a")
    objs = backend_service(bk, "svc-a", "a") + [
        ingress("n", [rule(H, path("/ok", "svc-a", 80),
                           path("/gone", "no-such-svc", 80))])]
    stack.up(objs)
    assert stack.backend_of("/ok") == "a"
    assert stack.backend_of("/gone") == 503
    assert stack.backend_of("/gone/x") == 503
    assert any("no-such-svc" in w for w in stack.warnings()), stack.err


def test_missing_port_is_503_with_warning(stack, backends):
    bk = backends("a")
    objs = backend_service(bk, "svc-a", "a") + [
        ingress("n", [rule(H, path("/ok", "svc-a", 80),
                           path("/badport", "svc-a", 81))])]
    stack.up(objs)
    assert stack.backend_of("/ok") == "a"
    assert stack.backend_of("/badport") == 503
    assert any("81" in w for w in stack.warnings()), stack.err


def test_resource_backend_warns_and_is_not_served(stack, backends):
    bk = backends("a")
    objs = backend_service(bk, "svc-a", "a") + [
        ingress("n", [rule(H, path("/ok", "svc-a", 80),
                           path("/icons", be=resource_backend("icons")))])]
    stack.up(objs)
    assert stack.backend_of("/ok") == "a"
    r = stack.get("/icons")
    assert r.backend is None and r.status in (404, 503), r
    assert any("resource" in w.lower() or "StorageBucket" in w
               for w in stack.warnings()), stack.err


def test_external_name_is_proxied_to_the_dns_name(stack, backends):
    """nginx resolves the name per request through --resolver (here a
    test DNS server that answers with the backend's loopback address:
    kubengx refuses names that are loopback, not what DNS answers)."""
    from dns_server import DNSServer
    bk = backends("ext")
    _, pe = bk.host_port("ext")
    dns = DNSServer({"ext.test.example": "127.0.0.1"})
    try:
        objs = [service("ext", [svc_port("http", pe)], type="ExternalName",
                        external_name="ext.test.example", selector={}),
                ingress("n", [rule(H, path("/", "ext", pe))])]
        stack.up(objs, "--resolver", "127.0.0.1:%d" % dns.port)
        assert not re.search(r"^upstream ", stack.conf, re.M), stack.conf
        r = stack.get("/x")
        assert r.backend == "ext", r
        assert ("ext.test.example", 1) in dns.queries
    finally:
        dns.stop()


# --- default backends ------------------------------------------------------

def test_unknown_host_gets_404_from_default_server(stack, backends):
    bk = backends("a")
    objs = backend_service(bk, "svc-a", "a") + [
        simple("n", "known.example.com", "svc-a", p="/api")]
    stack.up(objs)
    assert stack.backend_of("/api", "known.example.com") == "a"
    assert stack.backend_of("/api", "unknown.example.com") == 404
    assert stack.backend_of("/other", "known.example.com") == 404
    assert stack.backend_of("/api", "127.0.0.1") == 404


def test_spec_default_backend(stack, backends):
    bk = backends("a", "dflt")
    objs = backend_service(bk, "svc-a", "a") + \
        backend_service(bk, "svc-d", "dflt") + [
            ingress("n", [rule("known.example.com", path("/api", "svc-a",
                                                         80))],
                    default_backend=backend("svc-d", 80))]
    stack.up(objs)
    assert stack.backend_of("/api", "known.example.com") == "a"
    # matches no rule: the Ingress's default backend
    assert stack.backend_of("/other", "known.example.com") == "dflt"
    assert stack.backend_of("/x", "unknown.example.com") == "dflt"


def test_spec_default_backend_only(stack, backends):
    bk = backends("dflt")
    objs = backend_service(bk, "svc-d", "dflt") + [
        ingress("n", default_backend=backend("svc-d", 80))]
    stack.up(objs)
    for h in ("a.example.com", "b.example.org"):
        assert stack.backend_of("/any/path", h) == "dflt"


def test_default_backend_flag(stack, backends):
    bk = backends("a", "dflt")
    objs = backend_service(bk, "svc-a", "a") + \
        backend_service(bk, "fallback", "dflt", ns="infra") + [
            simple("n", "known.example.com", "svc-a", p="/api")]
    stack.up(objs, "--default-backend", "infra/fallback:80")
    assert stack.backend_of("/api", "known.example.com") == "a"
    assert stack.backend_of("/x", "unknown.example.com") == "dflt"
    assert stack.backend_of("/other", "known.example.com") == "dflt"


def test_default_backend_flag_malformed_is_usage_error(stack, tmp_path):
    objs = [simple("n", "known.example.com", "svc-a")]
    for bad in ("no-port-here", "ns/svc;}x:80", "ns/svc:ht tp"):
        rc = stack.render(objs, "--default-backend", bad)
        assert rc == 2, (bad, stack.err)
        assert "--default-backend" in stack.err
        assert not os.path.exists(os.path.join(str(stack.outdir),
                                               "kubengx.conf"))


# --- proxying --------------------------------------------------------------

def test_upstream_keepalive(stack, backends):
    bk = backends("a")
    objs = backend_service(bk, "svc-a", "a") + [simple("n", H, "svc-a")]
    stack.up(objs)
    peers = [stack.get("/k%d" % i).json()["peer"] for i in range(3)]
    assert peers[0] == peers[1] == peers[2], peers


def test_proxy_headers(stack, backends):
    """The client's X-Forwarded-For is replaced by the address nginx saw
    (a client cannot claim another one), like X-Real-IP."""
    bk = backends("a")
    objs = backend_service(bk, "svc-a", "a") + [simple("n", H, "svc-a")]
    stack.up(objs)
    r = stack.get("/h?x=1", host=H,
                  headers={"X-Forwarded-For": "10.9.9.9",
                           "X-Real-IP": "10.8.8.8",
                           "X-Forwarded-Proto": "https",
                           "X-Forwarded-Host": "evil.example.com"})
    body = r.json()
    hd = body["headers"]
    assert body["host"] == H
    assert body["path"] == "/h?x=1"
    assert hd["x-real-ip"] == "127.0.0.1"
    assert hd["x-forwarded-for"] == "127.0.0.1", hd
    assert hd["x-forwarded-proto"] == "http"
    assert hd["x-forwarded-host"] == H
    assert hd.get("connection", "").lower() != "close"


def test_forwarded_for_append_behind_a_trusted_proxy(stack, backends):
    """--forwarded-for append: the address nginx saw is added to the
    client's header; without one it is the whole header."""
    bk = backends("a")
    objs = backend_service(bk, "svc-a", "a") + [simple("n", H, "svc-a")]
    stack.up(objs, "--forwarded-for", "append")
    hd = stack.get("/", host=H, headers={
        "X-Forwarded-For": "10.9.9.9"}).json()["headers"]
    assert hd["x-forwarded-for"] == "10.9.9.9, 127.0.0.1", hd
    hd = stack.get("/", host=H).json()["headers"]
    assert hd["x-forwarded-for"] == "127.0.0.1", hd
    assert stack.render(objs, "--forwarded-for", "all") == 2
    assert '--forwarded-for "all" is not one of replace, append' \
        in stack.err, stack.err


def test_websocket_upgrade(stack, backends):
    bk = backends("ws")
    objs = backend_service(bk, "svc-ws", "ws") + [simple("n", H, "svc-ws")]
    stack.up(objs)
    s = socket.create_connection(("127.0.0.1", stack.http_port), timeout=5)
    s.sendall(("GET /chat HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
               % H).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        assert chunk, head
        head += chunk
    status = head.split(b"\r\n", 1)[0]
    assert b" 101 " in status + b" ", head
    assert b"x-backend: ws" in head.lower()
    rest = head.split(b"\r\n\r\n", 1)[1]
    s.sendall(b"\x81\x05hello raw bytes")
    want = b"\x81\x05hello raw bytes"
    got = rest
    while len(got) < len(want):
        chunk = s.recv(4096)
        assert chunk, got
        got += chunk
    s.close()
    assert got == want


# --- whole-output properties ----------------------------------------------

def _objects_for_determinism():
    objs = [service("svc-%d" % i, [svc_port("http", 80, 8080)])
            for i in range(6)]
    for i in range(6):
        objs.append(slice_("svc-%d" % i,
                           [endpoint("10.0.%d.%d" % (i, j))
                            for j in (3, 1, 2)],
                           [("http", 8080)], name="svc-%d-abc" % i))
    objs.append(ingress_class("kubengx"))
    for i in range(6):
        objs.append(ingress(
            "ing-%d" % i,
            [rule("h%d.example.com" % (i % 3),
                  path("/p%d" % i, "svc-%d" % i, 80),
                  path("/e%d" % i, "svc-%d" % ((i + 1) % 6), 80, "Exact")),
             rule("*.w.example.com", path("/w%d" % i, "svc-%d" % i, 80))],
            created="2022-01-0%dT00:00:00Z" % (i + 1)))
    return objs


def test_render_is_deterministic_across_order_and_files(tmp_path, kubengx):
    objs = _objects_for_determinism()
    ports = dict(http_port=18080, https_port=18443)
    one = write_manifests(tmp_path / "one", objs, "yaml")
    rc1, _, e1, c1 = render([one], tmp_path / "o1", **ports)
    assert rc1 == 0, e1
    rnd = random.Random(7)
    shuffled = objs[:]
    rnd.shuffle(shuffled)
    parts = [shuffled[i::3] for i in range(3)]
    files = [write_manifests(tmp_path / "split", p, fmt, name="part%d" % i)
             for i, (p, fmt) in enumerate(zip(parts,
                                              ("json", "flow", "yaml")))]
    rc2, _, e2, c2 = render(files[::-1], tmp_path / "o2", **ports)
    assert rc2 == 0, e2
    rc3, _, e3, c3 = render([tmp_path / "split"], tmp_path / "o3", **ports)
    assert rc3 == 0, e3
    rc4, out4, e4, _ = render([one], None, **ports)
    assert rc4 == 0, e4
    assert c1 == c2 == c3 == out4
    assert e1 == e2 == e3
    # a header names the version and a digest, and holds no time stamp
    head = "\n".join(l for l in c1.splitlines()[:10] if l.startswith("#"))
    assert re.search(r"\d+\.\d+\.\d+", head), head
    assert re.search(r"[0-9a-f]{16,}", head), head
    assert not re.search(r"20\d\d-\d\d-\d\d|\d\d:\d\d:\d\d", head), head


def test_digest_changes_with_input(tmp_path, kubengx):
    objs = _objects_for_determinism()
    a = write_manifests(tmp_path / "a", objs)
    objs[0]["spec"]["ports"][0]["port"] = 81
    b = write_manifests(tmp_path / "b", objs)
    _, _, _, ca = render([a], None)
    _, _, _, cb = render([b], None)
    assert ca and cb and ca != cb


def _assert_nothing_written(outdir):
    if os.path.isdir(str(outdir)):
        assert os.listdir(str(outdir)) == [], os.listdir(str(outdir))


BAD_PATH_TYPE = """\
apiVersion: v1
kind: Service
metadata: {name: svc}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: bad
spec:
  ingressClassName: kubengx
  rules:
  - host: a.example.com
    http:
      paths:
      - path: /ok
        pathType: Prefix
        backend: {service: {name: svc, port: {number: 80}}}
      - path: /bad
        pathType: prefix
        backend: {service: {name: svc, port: {number: 80}}}
"""


def test_error_names_file_document_and_field(tmp_path, kubengx):
    f = tmp_path / "ing.yaml"
    f.write_text(BAD_PATH_TYPE)
    out = tmp_path / "out"
    rc, _, err, conf = render([f], out)
    assert rc == 2, err
    assert conf is None
    _assert_nothing_written(out)
    line = [l for l in err.splitlines() if "pathType" in l]
    assert line, err
    # FILE:DOC[:LINE]: ... field.path: message
    m = re.search(r"ing\.yaml:(\d+)(?::(\d+))?: (?:.*: )?"
                  r"spec\.rules\[0\]\.http\.paths\[1\]\.pathType: (.*)",
                  line[0])
    assert m, line[0]
    assert m.group(1) == "2", line[0]          # the second document
    if m.group(2):
        assert m.group(2) == "20", line[0]     # the line of the field
    assert '"prefix"' in m.group(3)
    for t in ("Exact", "Prefix", "ImplementationSpecific"):
        assert t in m.group(3)


def test_error_leaves_existing_output_untouched(tmp_path, kubengx):
    good = write_manifests(tmp_path / "good", [
        service("svc", [svc_port("http", 80)]),
        simple("n", "a.example.com", "svc")])
    out = tmp_path / "out"
    rc, _, err, conf = render([good], out)
    assert rc == 0, err
    before = conf
    bad = tmp_path / "ing.yaml"
    bad.write_text(BAD_PATH_TYPE)
    rc, _, err, conf = render([good, bad], out)
    assert rc == 2
    assert conf == before
    assert sorted(os.listdir(str(out))) in (["kubengx.conf"],
                                            ["certs", "kubengx.conf"])


@pytest.mark.parametrize("text,what", [
    ("apiVersion: v1\nkind: Service\nmetadata: {name: [x\n", "yaml"),
    ('{"apiVersion": "v1", "kind": "Service", ', "json"),
    ("apiVersion: networking.k8s.io/v1beta1\nkind: Ingress\n"
     "metadata: {name: old}\nspec: {backend: {serviceName: s, "
     "servicePort: 80}}\n", "v1beta1"),
    ("apiVersion: networking.k8s.io/v1\nkind: Ingress\n"
     "metadata: {name: x}\nspec: {rules: [{host: a.b, http: {paths: "
     "[{path: /, pathType: Prefix, backend: {service: {name: s, port: "
     "{number: 99999}}}}]}}]}\n", "port"),
])
def test_bad_input_exit_2(tmp_path, kubengx, text, what):
    ext = "json" if what == "json" else "yaml"
    f = tmp_path / ("bad." + ext)
    f.write_text(text)
    out = tmp_path / "out"
    rc, _, err, conf = render([f], out)
    assert rc == 2, (what, err)
    assert ("bad." + ext + ":") in err, err
    _assert_nothing_written(out)
    if what == "v1beta1":
        assert "v1beta1" in err


def test_missing_input_file_exit_2(tmp_path, kubengx):
    rc, _, err, _ = render([tmp_path / "nope.yaml"], tmp_path / "out")
    assert rc == 2
    assert "nope.yaml" in err


def test_stdin_and_list_input(tmp_path, kubengx, backends, nginx_factory):
    bk = backends("a")
    objs = backend_service(bk, "svc-a", "a") + [simple("n", H, "svc-a")]
    data = json.dumps({"apiVersion": "v1", "kind": "List",
                       "items": objs}).encode()
    rc, out, err, conf = render(["-"], None, stdin=data)
    assert rc == 0, err
    f = write_manifests(tmp_path / "l", objs, "list")
    rc2, _, err2, conf2 = render([f], None)
    assert rc2 == 0, err2
    assert conf == conf2


def test_namespace_default_and_flag(tmp_path, kubengx):
    objs = [service("svc", [svc_port("http", 80)], ns=None,
                    cluster_ip="10.96.0.10"),
            ingress("n", [rule(H, path("/", "svc", 80))], ns=None)]
    f = write_manifests(tmp_path / "in", objs)
    rc, _, err, conf = render([f], None, endpoints="cluster-ip")
    assert rc == 0, err
    # found in "default": no missing-Service warning
    assert not [w for w in err.splitlines() if "svc" in w], err
    rc, _, err, conf = render([f], None, "-n", "shop",
                              endpoints="cluster-ip")
    assert rc == 0, err
    assert "shop" in conf


# --- long host names ---------------------------------------------------------

def test_long_host_names_are_served(stack, backends):
    """nginx's default server name hash bucket (64 bytes) holds exact names
    of up to 46 characters; longer valid DNS names (up to 253) must not
    make nginx refuse the whole config (found by fuzzing)."""
    bk = backends("a", "b", "c")
    label = "a" * 63
    hosts = {
        "a": "a-rather-long-hostname-for-testing.shop.example.com",  # 51
        "b": ".".join([label, label, "example.com"]),                 # 139
        "c": ".".join([label, label, label, "b" * 49, "example.com"]),  # 253
    }
    assert len(hosts["c"]) == 253
    objs = []
    for name, host in sorted(hosts.items()):
        objs += backend_service(bk, "svc-" + name, name)
        objs.append(simple("ing-" + name, host, "svc-" + name))
    stack.up(objs)
    assert "server_names_hash_bucket_size 512;" in stack.conf
    for name, host in hosts.items():
        r = stack.get("/", host=host)
        assert (r.status, r.backend) == (200, name), (host, r)


def test_short_host_names_keep_nginx_default_bucket(stack, backends):
    bk = backends("a")
    host = "x" * 34 + ".example.com"                                  # 46
    objs = backend_service(bk, "svc-a", "a") + [simple("n", host, "svc-a")]
    stack.up(objs)
    assert "server_names_hash_bucket_size" not in stack.conf
    assert stack.get("/", host=host).backend == "a"
