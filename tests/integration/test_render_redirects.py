"""No redirect the Ingress did not ask for.  nginx's proxy_pass turns on
auto_redirect for every location whose name ends in "/", exact ones
included, so without care `Exact /foo/` answers a request for /foo with
a 301 to /foo/, where the Ingress spec says /foo matches no Exact /foo/
and gets the longest Prefix, the default backend or 404.  Checked
through a real nginx in every --endpoints mode, for Exact, Prefix and
ImplementationSpecific paths with and without a trailing slash, on named
hosts and in rules without host."""

import pytest

from manifests import backend, ingress, path, rule
from modes import MODES, ModeStack, tenant

A = "a.example.com"         # no "/" of its own
B = "b.example.com"         # Prefix "/"
C = "c.example.com"         # its Ingress has a default backend


def objects(bk):
    objs = []
    ports = {}
    for name in ("ex", "ex2", "root", "pre", "is", "dflt"):
        o, ports[name] = tenant(bk, name, "default", "svc-" + name)
        objs += o

    def p(route, svc, type="Prefix"):
        return path(route, "svc-" + svc, ports[svc], type)

    objs += [
        ingress("a", [rule(A, p("/foo/", "ex", "Exact"), p("/p/", "pre"),
                           p("/i/", "is", "ImplementationSpecific"),
                           p("/e", "ex2", "Exact")),
                      rule(None, p("/h/", "ex", "Exact"))],
                created="2020-01-01T00:00:00Z"),
        ingress("b", [rule(B, p("/bar/", "ex", "Exact"), p("/", "root"),
                           p("/x", "pre"), p("/x/y/", "ex", "Exact"))],
                created="2020-01-02T00:00:00Z"),
        ingress("c", [rule(C, p("/foo/", "ex", "Exact"))],
                default_backend=backend("svc-dflt", ports["dflt"]),
                created="2020-01-03T00:00:00Z"),
    ]
    return objs


# (host, path) -> the backend the Ingress spec gives it, or a status
EXPECTED = [
    (A, "/foo", 404), (A, "/foo/", "ex"), (A, "/foo/x", 404),
    (A, "/p", "pre"), (A, "/p/", "pre"), (A, "/p/x", "pre"), (A, "/px", 404),
    (A, "/i", "is"), (A, "/i/", "is"), (A, "/i/x", "is"),
    (A, "/e", "ex2"), (A, "/e/", 404),
    (A, "/h", 404), (A, "/h/", "ex"),
    (B, "/bar", "root"), (B, "/bar/", "ex"), (B, "/bar/z", "root"),
    (B, "/x", "pre"), (B, "/x/y", "pre"), (B, "/x/y/", "ex"),
    (B, "/", "root"), (B, "/h", "root"),
    (C, "/foo", "dflt"), (C, "/foo/", "ex"), (C, "/", "dflt"),
    # an unknown host: the catch-all, whose default is c's (the oldest
    # Ingress with a default backend)
    ("other.example.com", "/h", "dflt"), ("other.example.com", "/h/", "ex"),
]


@pytest.mark.parametrize("mode", MODES)
def test_no_redirect_nobody_asked_for(tmp_path, nginx_factory, kube_api,
                                      backends, mode):
    bk = backends("ex", "ex2", "root", "pre", "is", "dflt")
    s = ModeStack(tmp_path, nginx_factory, kube_api, mode)
    s.up(objects(bk))
    s.wait_backend(A, "/foo/", "ex")
    wrong = []
    for host, p, want in EXPECTED:
        r = s.get(host, p)
        got = r.backend or r.status
        if got != want:
            wrong.append("%s%s: %r (%s), expected %r"
                         % (host, p, got, r.headers.get("location", ""),
                            want))
    assert not wrong, "\n".join(wrong) + "\n" + s.conf


def test_twins_are_marked_in_the_text(tmp_path, nginx_factory, kube_api,
                                      backends):
    bk = backends("ex", "ex2", "root", "pre", "is", "dflt")
    s = ModeStack(tmp_path, nginx_factory, kube_api, "static")
    s.render(objects(bk))
    assert s.rc == 0, s.err
    assert s.conf.count("no redirect") >= 4, s.conf
    assert 'location = "/foo"' in s.conf
    assert 'location = "/bar"' in s.conf
