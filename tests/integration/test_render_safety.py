"""`kubengx render` with hostile values (ingress-nginx's CVE line: every
manifest string pasted into config text was an injection).  Each value
either is refused (exit 0 with a warning, or exit 2 with an error), or is
made safe; the output always passes `nginx -t`, holds only directives the
renderer makes, and a real nginx serves only the declared routes."""

import json
import os
import urllib.parse

import pytest

import harness
from manifests import (Stack, backend_service, directive_problems, endpoint,
                       ingress, path, rule, secret_tls, self_signed, service,
                       slice_, svc_port, write_manifests, render, backend)

GOOD = "good.example.com"
PWN = "location /pwn { return 200 pwned; }"
# the Lua shape of CVE-2025-1097/1098/24514 (IngressNightmare)
LUA = 'location /pwn { content_by_lua_block { ngx.say("pwned") } }'

HOSTILE_PATHS = [
    "/a;} %s #" % PWN,
    '/a" ; return 200 pwned; #',
    "/a' ; return 200 pwned; #",
    '/a\\"; return 200 pwned; #',
    "/a\\",
    "/a$host/pwn",
    "/a${pwn}",
    "/a#pwn",
    "/a{pwn}",
    "/a\n%s" % PWN,
    "/a;} %s #" % LUA,
    "/a\n%s" % LUA,
    "/a;}\nload_module /tmp/pwn.so; #",
    "/a\r\n%s" % PWN,
    "/a\u0000;} %s" % PWN,
    "/a\tb",
    "/a b",
    "/" + "a" * 5000,
    "/" + "a" * 100000,
    "/ünï/cøde",
    "/\u202epwn",
    "pwn-relative",
    "",
    "/a/../pwn",
    "/a//b",
    "/a%2fpwn",
    "~ ^/pwn",
    "= /pwn",
    "^~ /pwn",
    "@pwn",
]

HOSTILE_HOSTS = [
    "evil.example.com;} server { listen 1; %s } #" % PWN,
    "evil.example.com\n%s" % PWN,
    "evil.example.com;} server { listen 1; %s } #" % LUA,
    "evil.example.com\u0000pwn",
    'evil"pwn.example.com',
    "evil'pwn.example.com",
    "evil\\pwn.example.com",
    "evil{pwn}.example.com",
    "$host",
    "~^(?<pwn>.*)$",
    "~.*",
    "*",
    "*.*.example.com",
    "foo.*.example.com",
    "*pwn.example.com",
    ".pwn.example.com",
    "pwn..example.com",
    "pwn.example.com.",
    "-pwn.example.com",
    "a" * 64 + ".example.com",
    ("a" * 60 + ".") * 5 + "com",
    "pwn.ex ample.com",
    "pwn.example.com:80",
    "pwn.exämple.com",
    "127.0.0.1;",
    "#pwn.example.com",
    "_",
]

HOSTILE_NAMES = [
    "svc;} %s #" % PWN,
    "svc\n%s" % PWN,
    "svc$pwn",
    'svc"pwn',
    "svc\u0000pwn",
    "Svc-Upper",
    "a" * 300,
    "svc.dotted",
    "svc/../pwn",
    "",
]


@pytest.fixture
def stack(tmp_path, nginx_factory, kubengx):
    return Stack(tmp_path, nginx_factory)


def good_objs(bk):
    return backend_service(bk, "svc-good", "good") + [
        ingress("good", [rule(GOOD, path("/good", "svc-good", 80))],
                created="2019-01-01T00:00:00Z")]


def check(stack, objs, hostile_backend="evil", probe_hosts=(),
          probe_paths=(), must_refuse=False, fmt="flow"):
    """Render objs; assert the safety properties; start nginx when the
    render succeeded; return True when the hostile route was served."""
    rc = stack.render(objs, fmt=fmt)
    assert rc in (0, 2), "exit %d\n%s" % (rc, stack.err)
    if rc == 2:
        assert stack.err.strip(), "exit 2 without a message"
        assert "error" in stack.err.lower(), stack.err
        assert stack.conf is None or not os.path.exists(
            os.path.join(str(stack.outdir), "kubengx.conf"))
        return False
    assert "\x00" not in stack.conf
    problems = directive_problems(stack.conf)
    assert not problems, "%s\n---\n%s" % (problems, stack.conf)
    stack.up(objs, fmt=fmt)                    # nginx -t must pass
    # the declared good route still works
    assert stack.backend_of("/good", GOOD) == "good"
    served = False
    for h in (GOOD, "pwn", "evil.example.com", "x.example.com",
              "localhost") + tuple(probe_hosts):
        for p in ("/pwn", "/pwn/x", "/") + tuple(probe_paths):
            try:
                r = stack.get(p, h)
            except Exception:       # noqa: BLE001 - odd Host refused
                continue
            assert b"pwned" not in r.body, (h, p, r)
            if r.backend == hostile_backend:
                served = True
    if not served:
        assert stack.warnings() or must_refuse is None, \
            "value dropped without a warning\n" + stack.err
    if must_refuse:
        assert not served, "a value that must be refused was served"
    return served


def quoted(p):
    return urllib.parse.quote(p, safe="/")


@pytest.mark.parametrize("hpath", HOSTILE_PATHS,
                         ids=lambda p: repr(p[:30]))
def test_hostile_path(stack, backends, hpath):
    bk = backends("good", "evil")
    objs = good_objs(bk) + backend_service(bk, "svc-evil", "evil") + [
        ingress("evil", [rule("evil.example.com",
                              path(hpath, "svc-evil", 80)),
                         rule(GOOD, path(hpath, "svc-evil", 80, "Exact"))])]
    probes = [quoted(hpath)] if hpath.startswith("/") and \
        len(hpath) < 2000 else []
    served = check(stack, objs, probe_paths=probes)
    if served and stack.conf is not None:
        # only the literal path may reach the hostile backend, and never
        # the other host's paths
        assert stack.backend_of("/good", GOOD) == "good"


@pytest.mark.parametrize("hhost", HOSTILE_HOSTS,
                         ids=lambda h: repr(h[:30]))
def test_hostile_host(stack, backends, hhost):
    bk = backends("good", "evil")
    objs = good_objs(bk) + backend_service(bk, "svc-evil", "evil") + [
        ingress("evil", [rule(hhost, path("/pwn", "svc-evil", 80))])]
    # every one of these hosts is invalid: never a route
    check(stack, objs, probe_hosts=["a.example.com", "pwn.example.com",
                                    "a.b.example.com"],
          must_refuse=True)


@pytest.mark.parametrize("hhost", HOSTILE_HOSTS[:8],
                         ids=lambda h: repr(h[:30]))
def test_hostile_tls_host(stack, backends, tmp_path, hhost):
    bk = backends("good", "evil")
    c, k = self_signed(tmp_path, "evil.example.com")
    objs = good_objs(bk) + backend_service(bk, "svc-evil", "evil") + [
        secret_tls("evil-tls", c, k),
        ingress("evil", [rule("evil.example.com",
                              path("/pwn", "svc-evil", 80))],
                tls=[{"hosts": [hhost], "secretName": "evil-tls"}])]
    rc = stack.render(objs)
    assert rc in (0, 2), stack.err
    if rc == 0:
        assert not directive_problems(stack.conf), stack.conf
        assert stack.warnings(), stack.err
        stack.up(objs)


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=lambda n: repr(n[:30]))
def test_hostile_service_name(stack, backends, name):
    bk = backends("good", "evil")
    _, pe = bk.host_port("evil")
    objs = good_objs(bk) + [
        service(name, [svc_port("http", 80, 8080)]),
        slice_(name, [endpoint("127.0.0.1")], [("http", pe)],
               name="evil-slice"),
        ingress("evil", [rule("evil.example.com",
                              path("/pwn", name, 80))])]
    check(stack, objs, must_refuse=name not in ("Svc-Upper", "svc.dotted"))


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=lambda n: repr(n[:30]))
def test_hostile_namespace_and_ingress_name(stack, backends, name):
    bk = backends("good", "evil")
    objs = good_objs(bk) + backend_service(bk, "svc-evil", "evil",
                                           ns=name or None) + [
        ingress(name, [rule("evil.example.com",
                            path("/pwn", "svc-evil", 80))],
                ns=name or None)]
    check(stack, objs, must_refuse=None)


@pytest.mark.parametrize("name", HOSTILE_NAMES[:6],
                         ids=lambda n: repr(n[:30]))
def test_hostile_port_name(stack, backends, name):
    bk = backends("good", "evil")
    _, pe = bk.host_port("evil")
    objs = good_objs(bk) + [
        service("svc-evil", [svc_port(name, 80, 8080)]),
        slice_("svc-evil", [endpoint("127.0.0.1")], [(name, pe)]),
        ingress("evil", [rule("evil.example.com",
                              path("/pwn", "svc-evil", name))])]
    check(stack, objs, must_refuse=None)


@pytest.mark.parametrize("addr", [
    "127.0.0.1;} %s #" % PWN,
    "127.0.0.1:1 down; server 127.0.0.1",
    "127.0.0.1\nserver 10.0.0.1:1",
    "unix:/tmp/pwn.sock",
    "localhost",
    "::1]:1;[::1",
    "999.1.1.1",
    "127.0.0.1\u0000pwn",
])
def test_hostile_endpoint_address(stack, backends, addr):
    bk = backends("good", "evil")
    _, pe = bk.host_port("evil")
    objs = good_objs(bk) + [
        service("svc-evil", [svc_port("http", 80, 8080)]),
        slice_("svc-evil", [endpoint(addr)], [("http", pe)],
               family="IPv4"),
        ingress("evil", [rule("evil.example.com",
                              path("/e", "svc-evil", 80))])]
    check(stack, objs, must_refuse=None)
    if stack.rc == 0:
        assert "pwn" not in stack.conf
        assert "unix:" not in stack.conf


@pytest.mark.parametrize("ext", [
    "evil.example.com;} %s #" % PWN,
    "evil.example.com\n%s" % PWN,
    "evil.example.com;} server { listen 1; %s } #" % LUA,
    "evil.example.com:1/pwn",
    "unix:/tmp/pwn.sock",
    "$host",
    "a" * 300,
    "evil example.com",
    "",
])
def test_hostile_external_name(stack, backends, ext):
    bk = backends("good")
    objs = good_objs(bk) + [
        service("ext", [svc_port("http", 80)], type="ExternalName",
                external_name=ext, selector={}),
        ingress("evil", [rule("evil.example.com",
                              path("/pwn", "ext", 80))])]
    check(stack, objs, must_refuse=True)
    if stack.rc == 0:
        assert "unix:" not in stack.conf


SNIPPETS = {
    "nginx.ingress.kubernetes.io/configuration-snippet":
        "return 200 pwned;",
    "nginx.ingress.kubernetes.io/server-snippet": PWN,
    "nginx.ingress.kubernetes.io/auth-url":
        "http://x/;} %s #" % PWN,
    "nginx.ingress.kubernetes.io/rewrite-target": "/pwn$1;return 200 pwned;",
    # the published advisories' annotation shapes
    "nginx.ingress.kubernetes.io/auth-tls-match-cn":
        "CN=abc #(\n){}\n }}\n%s\n#" % LUA,
    "nginx.ingress.kubernetes.io/mirror-target":
        "http://x/;}\n%s\n#" % LUA,
    "nginx.ingress.kubernetes.io/mirror-host": "x;} %s #" % LUA,
    "nginx.ingress.kubernetes.io/permanent-redirect":
        "https://x/;\nreturn 200 pwned;#",
    "nginx.ingress.kubernetes.io/auth-snippet": LUA,
    "nginx.ingress.kubernetes.io/use-regex": "true",
    "kubengx.io/anything": "x;} %s #\n\"'\\$" % PWN,
    "kubernetes.io/ingress.class": "kubengx",
}


def test_annotations_are_never_pasted(stack, backends):
    bk = backends("good", "evil")
    objs = good_objs(bk) + backend_service(bk, "svc-evil", "evil") + [
        ingress("evil", [rule("evil.example.com",
                              path("/x", "svc-evil", 80))],
                annotations=SNIPPETS)]
    # access-control values that cannot be made safe (auth-url) and
    # access control kubengx does not implement fail closed; values that
    # cannot be made safe (rewrite-target, permanent-redirect) refuse the
    # Ingress too: never served, warned
    served = check(stack, objs, probe_paths=["/x"], must_refuse=True)
    assert not served
    w = stack.warnings()
    assert any("auth-url" in x and "not served" in x for x in w), w
    assert any("rewrite-target" in x and "not served" in x for x in w), w
    assert any("configuration-snippet" in x and "not supported" in x
               for x in w), w
    for k, v in SNIPPETS.items():
        if k != "kubernetes.io/ingress.class":
            assert v not in stack.conf


def test_hostile_annotation_key(stack, backends):
    """An annotation key that is no qualified name: refused or ignored,
    never pasted."""
    bk = backends("good", "evil")
    objs = good_objs(bk) + backend_service(bk, "svc-evil", "evil") + [
        ingress("evil", [rule("evil.example.com",
                              path("/x", "svc-evil", 80))],
                annotations={"pwn;} %s #" % PWN: "x"})]
    check(stack, objs, probe_paths=["/x"], must_refuse=None)


def test_empty_host_is_no_host(stack, backends):
    """host: "" is the same as no host (API validation only checks
    non-empty hosts): the rule matches every host."""
    bk = backends("good", "evil")
    objs = good_objs(bk) + backend_service(bk, "svc-evil", "evil") + [
        ingress("evil", [rule("", path("/e", "svc-evil", 80))])]
    stack.up(objs)
    assert stack.backend_of("/e", "anything.example.org") == "evil"


def test_regex_annotation_does_not_change_another_ingress(stack, backends):
    """One Ingress's annotations never change how another Ingress's paths
    match (ingress-nginx's regex contagion)."""
    bk = backends("good", "evil")
    objs = good_objs(bk) + backend_service(bk, "svc-evil", "evil") + [
        ingress("evil", [rule(GOOD, path("/e.*", "svc-evil", 80,
                                         "ImplementationSpecific"))],
                annotations={
                    "nginx.ingress.kubernetes.io/use-regex": "true",
                    "kubengx.io/use-regex": "true"})]
    rc = stack.render(objs)
    assert rc == 0, stack.err
    stack.up(objs)
    # Prefix /good stays case-sensitive and element-wise
    assert stack.backend_of("/good", GOOD) == "good"
    assert stack.backend_of("/GOOD", GOOD) != "good"
    assert stack.backend_of("/goodx", GOOD) != "good"


def test_many_hostile_values_in_one_input(stack, backends):
    """All hostile paths and hosts together, in one Ingress each: the
    output is valid and only the good route (and literal safe paths)
    exist."""
    bk = backends("good", "evil")
    objs = good_objs(bk) + backend_service(bk, "svc-evil", "evil")
    for i, p in enumerate(HOSTILE_PATHS):
        objs.append(ingress("p%d" % i, [rule("evil.example.com",
                                             path(p, "svc-evil", 80))]))
    for i, h in enumerate(HOSTILE_HOSTS):
        objs.append(ingress("h%d" % i, [rule(h, path("/pwn", "svc-evil",
                                                     80))]))
    check(stack, objs, must_refuse=None)


def test_json_nul_escape_input(stack, backends, tmp_path):
    """A NUL written as \\u0000 in a JSON file never truncates a value."""
    bk = backends("good", "evil")
    objs = good_objs(bk) + backend_service(bk, "svc-evil", "evil") + [
        ingress("evil", [rule("evil.example.com",
                              path("/a\u0000/pwn", "svc-evil", 80))])]
    f = write_manifests(tmp_path / "nul", objs, "list")
    with open(f) as fh:
        assert "\\u0000" in fh.read()
    rc, _, err, conf = render([f], tmp_path / "nulout",
                              http_port=stack.http_port)
    assert rc in (0, 2), err
    if rc == 0:
        assert "\x00" not in conf
        assert not directive_problems(conf)
        # "/a" is not what was declared: it must not be served
        assert '"/a"' not in conf and " /a " not in conf and \
            " /a/ " not in conf, conf
        assert err.strip(), "NUL value dropped without a warning"


def test_names_cannot_forge_stderr_lines(stack, backends):
    """Diagnostics name objects; an object name with a newline must not
    start a line of its own on stderr (CI logs are read by people and
    parsed by tools).  Such a name is refused as the API server would
    (an error naming the field), and the error prints it escaped."""
    bk = backends("good")
    evil = "x\nkubengx: error: forged"
    objs = good_objs(bk) + [
        ingress(evil, [rule("evil.example.com", path("/e", "gone", 80))],
                ns=evil)]
    rc = stack.render(objs, fmt="flow")
    assert rc == 2, stack.err
    assert "metadata.name" in stack.err and \
        "metadata.namespace" in stack.err, stack.err
    for line in stack.err.splitlines():
        assert line.startswith("kubengx: error: ") or \
            line.startswith("kubengx render: "), repr(line)
