"""Access control annotations (generator/annotations/access.c,
auth_basic.c, limits.c): the text rendered for good values, bad values
refusing the Ingress, and the statuses a real nginx gives in every
--endpoints mode; and the fail-closed rule for each access-control
annotation kubengx does not implement."""

import re
import subprocess

import pytest

import harness
import manifests as m
from modes import MODES, ModeStack, tenant

P = "nginx.ingress.kubernetes.io/"
HOST = "a.example.com"


def objs(annotations, extra=()):
    return [m.ingress_class("kubengx"),
            m.service("web", [m.svc_port("http", 80, 8080)]),
            m.slice_("web", [m.endpoint("10.0.0.1")], [("http", 8080)]),
            m.ingress("ing", [m.rule(HOST, m.path("/", "web", 80))],
                      annotations=annotations)] + list(extra)


def render(tmp_path, annotations, extra=(), endpoints="static"):
    f = m.write_manifests(tmp_path / "in", objs(annotations, extra))
    rc, _, err, conf = m.render(f, tmp_path / "out", endpoints=endpoints)
    assert rc == 0, err
    return conf, err


def location(conf, path="/"):
    """The body of `location PATH` in the host's server."""
    mt = re.search(r'location "%s" \{\n(.*?)\n    \}' % re.escape(path),
                   conf, re.S)
    return mt.group(1) if mt else None


def served(conf):
    return "server_name \"%s\"" % HOST in conf


def refused(tmp_path, annotations, key, extra=()):
    conf, err = render(tmp_path, annotations, extra)
    assert not served(conf), conf
    assert any(key in w and "not served" in w for w in m.warnings(err)), err
    return conf, err


# ---- source ranges ---------------------------------------------------------

@pytest.mark.parametrize("key", ["whitelist-source-range",
                                 "allowlist-source-range"])
def test_allow_list_text(tmp_path, key):
    conf, err = render(tmp_path, {
        P + key: "10.0.0.0/8, 192.168.1.7,2001:DB8::1/32 ,fd00::/8"})
    loc = location(conf)
    assert loc is not None, conf
    assert re.findall(r"^\s*(allow|deny) (.*);$", loc, re.M) == [
        ("allow", "10.0.0.0/8"), ("allow", "192.168.1.7/32"),
        ("allow", "2001:db8::/32"), ("allow", "fd00::/8"),
        ("deny", "all")], loc
    assert not m.warnings(err), err


def test_deny_list_first_host_bits_cleared(tmp_path):
    conf, err = render(tmp_path, {
        P + "denylist-source-range": "10.1.2.3/16",
        P + "whitelist-source-range": "10.0.0.0/8"})
    loc = location(conf)
    assert re.findall(r"^\s*(allow|deny) (.*);$", loc, re.M) == [
        ("deny", "10.1.0.0/16"), ("allow", "10.0.0.0/8"),
        ("deny", "all")], loc


@pytest.mark.parametrize("value", [
    "", "10.0.0.0/33", "10.0.0/8", "10.0.0.0/", "10.0.0.0/8;", "all",
    "10.0.0.0/8,", ",10.0.0.0/8", "10.0.0.0/8 10.1.0.0/16", "::/129",
    "10.0.0.0/8; allow all", "1.2.3.4/8\n", "fe80::1%eth0", "10.0.0.0/-1",
    "10.0.0.0/0008"])
def test_bad_range_refuses_the_ingress(tmp_path, value):
    conf, err = refused(tmp_path, {P + "whitelist-source-range": value},
                        "whitelist-source-range")
    assert "allow all" not in conf


def stack_objects(bk, annotations):
    o, port = tenant(bk, "web", "default", "web")
    return o + [m.ingress_class("kubengx"),
                m.ingress("ing", [m.rule(HOST, m.path("/", "web", port)),
                                  m.rule("open.example.com",
                                         m.path("/", "web", port))],
                          annotations=annotations)]


@pytest.mark.parametrize("mode", MODES)
def test_source_ranges_through_nginx(tmp_path, nginx_factory, kube_api,
                                     backends, mode):
    bk = backends("web")
    s = ModeStack(tmp_path, nginx_factory, kube_api, mode)
    # the client is 127.0.0.1
    s.up(stack_objects(bk, {P + "whitelist-source-range":
                            "10.0.0.0/8,127.0.0.0/24"}))
    s.wait_backend(HOST, "/x", "web")
    assert s.get(HOST, "/").status == 200

    s.up(stack_objects(bk, {P + "whitelist-source-range": "10.0.0.0/8"}))
    harness.wait_for(lambda: s.get(HOST, "/x").status == 403, 15,
                     "403 outside the allowed range")
    assert s.get("open.example.com", "/x").status == 403

    s.up(stack_objects(bk, {P + "denylist-source-range": "127.0.0.1"}))
    harness.wait_for(lambda: s.get(HOST, "/x").status == 403, 15,
                     "403 from a denied address")

    s.up(stack_objects(bk, {P + "denylist-source-range": "10.0.0.0/8,::1"}))
    s.wait_backend(HOST, "/x", "web")
