"""`kubengx render` on real inputs written by others: the Kubernetes
documentation's example manifests (tests/corpus/kubernetes-docs/, origin
and licence in tests/corpus/SOURCES.md; mostly YAML flow style).
Expectations per that file and the docs pages around each example."""

import glob
import os
import re
import subprocess

import pytest

import harness
from manifests import (Stack, directive_problems, endpoint, render,
                       secret_tls, self_signed, service, slice_, svc_port,
                       write_manifests)

CORPUS = os.path.join(harness.ROOT, "tests", "corpus", "kubernetes-docs")
FILES = sorted(glob.glob(os.path.join(CORPUS, "*.yaml")))


def test_corpus_is_in_the_repository():
    """The corpus is part of the repository: a missing file is a failure,
    never a skip."""
    names = {os.path.basename(f) for f in FILES}
    with open(os.path.join(CORPUS, "..", "SOURCES.md")) as f:
        listed = set(re.findall(r"`([a-z0-9-]+\.yaml)`", f.read()))
    assert names and names == listed, (names, listed)


@pytest.fixture
def stack(tmp_path, nginx_factory, kubengx):
    return Stack(tmp_path, nginx_factory)


def corpus(name):
    return os.path.join(CORPUS, name)


def services_for(bk, tmp_path):
    """Services and EndpointSlices the docs examples refer to, pointing at
    test backends s1, s2, s3, test."""
    _, p1 = bk.host_port("s1")
    _, p2 = bk.host_port("s2")
    _, p3 = bk.host_port("s3")
    _, pt = bk.host_port("test")
    objs = [
        service("service1", [svc_port("http", 80, 8080),
                             svc_port("fanout", 4200, 4200)]),
        slice_("service1", [endpoint("127.0.0.1")],
               [("http", p1), ("fanout", p1)]),
        service("service2", [svc_port("http", 80, 8080),
                             svc_port("alt", 8080, 8080)]),
        slice_("service2", [endpoint("127.0.0.1")],
               [("http", p2), ("alt", p2)]),
        service("service3", [svc_port("http", 80, 8080)]),
        slice_("service3", [endpoint("127.0.0.1")], [("http", p3)]),
        service("test", [svc_port(None, 80, 8080)]),
        slice_("test", [endpoint("127.0.0.1")], [(None, pt)]),
    ]
    c, k = self_signed(tmp_path, "https-example.foo.com")
    objs.append(secret_tls("testsecret-tls", c, k))
    return write_manifests(tmp_path / "support", objs, "yaml")


@pytest.fixture
def support(tmp_path, backends):
    bk = backends("s1", "s2", "s3", "test")
    return services_for(bk, tmp_path)


@pytest.mark.parametrize("f", FILES, ids=os.path.basename)
def test_every_corpus_file_renders(tmp_path, kubengx, f):
    for flags in ((), ("--watch-without-class",),
                  ("--class", "nginx-example")):
        rc, out, err, conf = render([f], tmp_path / "o", *flags,
                                    http_port=18080, https_port=18443)
        assert rc == 0, (flags, err)
        assert "error" not in err.lower(), err
        assert not directive_problems(conf), conf


def test_whole_corpus_dir_renders_and_passes_nginx_t(stack):
    rc = stack.render([], "-v", extra_files=[CORPUS])
    assert rc == 0, stack.err
    # the Deployment in nginx-secure-app.yaml is skipped, and -v says so
    assert "Deployment" in stack.err, stack.err
    stack.up([], extra_files=[CORPUS])
    # without flags nothing in the corpus is ours: minimal-ingress names
    # class nginx-example, the rest name none and the only default class
    # belongs to another controller
    for h, p in (("foo.bar.com", "/foo"), ("first.bar.com", "/"),
                 ("x.example.com", "/testpath"), ("bar.foo.com", "/foo")):
        assert stack.backend_of(p, h) == 404, (h, p)


def test_minimal_ingress_by_class(stack, support):
    stack.up([], "--class", "nginx-example",
             extra_files=[corpus("minimal-ingress.yaml"), support])
    # a rule without host: every host
    for h in ("a.example.com", "localhost"):
        assert stack.backend_of("/testpath", h) == "test"
        assert stack.backend_of("/testpath/x", h) == "test"
        assert stack.backend_of("/testpathx", h) == 404
        assert stack.backend_of("/", h) == 404


def test_minimal_ingress_missing_service_is_503(stack):
    stack.up([], "--class", "nginx-example",
             extra_files=[corpus("minimal-ingress.yaml")])
    assert stack.backend_of("/testpath", "a.example.com") == 503
    assert any("test" in w for w in stack.warnings()), stack.err


def test_resource_backend_only_warns(stack, support):
    stack.up([], "--watch-without-class",
             extra_files=[corpus("ingress-resource-backend.yaml"), support])
    assert stack.warnings(), stack.err
    assert any("resource" in w.lower() or "StorageBucket" in w
               for w in stack.warnings()), stack.err
    for p in ("/icons", "/icons/a.png", "/"):
        r = stack.get(p, "a.example.com")
        assert r.backend is None and r.status in (404, 503), (p, r)


def test_wildcard_host_example(stack, support):
    stack.up([], "--watch-without-class",
             extra_files=[corpus("ingress-wildcard-host.yaml"), support])
    assert stack.backend_of("/bar", "foo.bar.com") == "s1"
    assert stack.backend_of("/foo", "bar.foo.com") == "s2"
    assert stack.backend_of("/foo", "baz.bar.foo.com") == 404
    assert stack.backend_of("/foo", "foo.com") == 404
    assert stack.backend_of("/foo", "foo.bar.com") == 404
    assert not stack.warnings(), stack.err


def test_name_virtual_host_example(stack, support):
    stack.up([], "--watch-without-class",
             extra_files=[corpus("name-virtual-host-ingress-no-third-host"
                                 ".yaml"), support])
    assert stack.backend_of("/", "first.bar.com") == "s1"
    assert stack.backend_of("/x", "second.bar.com") == "s2"
    # requests without a matching host go to the hostless rule
    assert stack.backend_of("/", "third.bar.com") == "s3"
    assert stack.backend_of("/y", "127.0.0.1") == "s3"


def test_simple_fanout_example(stack, support):
    stack.up([], "--watch-without-class",
             extra_files=[corpus("simple-fanout-example.yaml"), support])
    assert stack.backend_of("/foo", "foo.bar.com") == "s1"
    assert stack.backend_of("/foo/a", "foo.bar.com") == "s1"
    assert stack.backend_of("/bar", "foo.bar.com") == "s2"
    assert stack.backend_of("/baz", "foo.bar.com") == 404
    assert stack.backend_of("/foo", "other.bar.com") == 404


def test_tls_example(stack, support):
    stack.up([], "--watch-without-class", tls=True,
             extra_files=[corpus("tls-example-ingress.yaml"), support])
    r = stack.get("/", "https-example.foo.com")
    assert r.status == 308, r
    r = stack.https("https-example.foo.com", "/x")
    assert r.status == 200 and r.backend == "s1", r
    p = subprocess.run(
        ["curl", "-sS", "-v", "-k", "-o", "/dev/null", "--resolve",
         "https-example.foo.com:%d:127.0.0.1" % stack.https_port,
         "https://https-example.foo.com:%d/" % stack.https_port],
        capture_output=True, text=True, timeout=20)
    assert "CN=https-example.foo.com" in p.stderr, p.stderr


def test_tls_example_without_secret_warns(stack, tmp_path):
    rc = stack.render([], "--watch-without-class",
                      extra_files=[corpus("tls-example-ingress.yaml")])
    assert rc == 0, stack.err
    assert any("testsecret-tls" in w for w in stack.warnings()), stack.err


def test_secure_app_service_only(tmp_path, kubengx):
    rc, out, err, conf = render([corpus("nginx-secure-app.yaml")], None,
                                "-v", http_port=18080)
    assert rc == 0, err
    assert "Deployment" in err
    assert "my-nginx" not in conf or "upstream" not in conf


def test_corpus_together_conflict_on_shared_host(stack, support):
    """ingress-wildcard-host and simple-fanout both route foo.bar.com /bar
    (Prefix): no timestamps, so namespace/name decides: the Ingress
    ingress-wildcard-host wins and simple-fanout-example is warned."""
    files = [corpus(f) for f in ("ingress-wildcard-host.yaml",
                                 "simple-fanout-example.yaml",
                                 "name-virtual-host-ingress-no-third-host"
                                 ".yaml")]
    stack.up([], "--watch-without-class", extra_files=files + [support])
    assert stack.backend_of("/bar", "foo.bar.com") == "s1"
    assert stack.backend_of("/foo", "foo.bar.com") == "s1"
    assert any("simple-fanout-example" in w for w in stack.warnings()), \
        stack.err
    # the hostless rule catches hosts without a server
    assert stack.backend_of("/", "nobody.example.com") == "s3"


def test_corpus_render_is_deterministic(tmp_path, kubengx):
    a = render(FILES, None, "--watch-without-class", http_port=18080)
    b = render(FILES[::-1], None, "--watch-without-class", http_port=18080)
    c = render([CORPUS], None, "--watch-without-class", http_port=18080)
    assert a[0] == b[0] == c[0] == 0, a[2]
    assert a[3] == b[3] == c[3]
