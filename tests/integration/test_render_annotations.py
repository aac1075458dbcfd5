"""The generator's mapping of ingress-nginx's balancing annotations
(nginx.ingress.kubernetes.io/load-balance, upstream-hash-by) onto the
module's k8s_service options (and stock nginx directives in the static
modes); unknown or unsafe values give a warning and round robin."""

import re

import pytest

import manifests as m

LB = "nginx.ingress.kubernetes.io/load-balance"
HASH = "nginx.ingress.kubernetes.io/upstream-hash-by"


def objs(annotations, name="web"):
    return [m.ingress_class("kubengx"),
            m.service(name, [m.svc_port("http", 80, 8080)]),
            m.slice_(name, [m.endpoint("10.0.0.1")], [("http", 8080)]),
            m.ingress("ing-" + name,
                      [m.rule("a.example.com", m.path("/", name, 80))],
                      annotations=annotations)]


def render(tmp_path, annotations, endpoints="module", extra=()):
    f = m.write_manifests(tmp_path, objs(annotations) + list(extra))
    rc, out, err, conf = m.render(f, None, endpoints=endpoints)
    assert rc == 0, err
    return conf, err


def k8s_service_lines(conf):
    return re.findall(r"^\s*k8s_service .*$", conf, re.M)


@pytest.mark.parametrize("value,params", [
    # said explicitly it is kept: it overrides the settings ConfigMap's
    # load-balance (no annotation: the global method, test below)
    ("round_robin", " balance=round_robin"),
    ("least_conn", " balance=least_conn"),
    ("ewma", " balance=ewma"),
])
def test_load_balance(tmp_path, value, params):
    conf, err = render(tmp_path, {LB: value})
    assert k8s_service_lines(conf) == [
        "    k8s_service default/web port=http%s;" % params], conf
    assert not m.warnings(err), err


def test_no_annotation_is_round_robin(tmp_path):
    conf, err = render(tmp_path, None)
    assert k8s_service_lines(conf) == [
        "    k8s_service default/web port=http;"]


@pytest.mark.parametrize("key", ["$request_uri", "$cookie_session",
                                 "$remote_addr", "$host$uri",
                                 "tenant-$arg_t"])
def test_upstream_hash_by(tmp_path, key):
    conf, err = render(tmp_path, {HASH: key, LB: "ewma"})
    # hash-by takes precedence, as in ingress-nginx (chash)
    assert k8s_service_lines(conf) == [
        "    k8s_service default/web port=http balance=hash hash=%s "
        "consistent;" % key], conf
    assert not m.warnings(err), err


@pytest.mark.parametrize("key", ['$uri"; evil', "${uri}", "$uri;",
                                 "$uri x", "$", "$1abc", "a{b}", "'$uri'",
                                 "$uri\\n"])
def test_unsafe_hash_by_is_refused(tmp_path, key):
    conf, err = render(tmp_path, {HASH: key})
    assert k8s_service_lines(conf) == [
        "    k8s_service default/web port=http;"], conf
    assert any("upstream-hash-by" in w for w in m.warnings(err)), err
    assert "evil" not in conf and "{uri}" not in conf


def test_unknown_load_balance_warns(tmp_path):
    conf, err = render(tmp_path, {LB: "peak_ewma"})
    assert k8s_service_lines(conf) == [
        "    k8s_service default/web port=http;"]
    w = [x for x in m.warnings(err) if "load-balance" in x]
    assert w and "peak_ewma" in w[0], err


def test_two_ingresses_two_methods_one_service(tmp_path):
    """Each method gets its own upstream block; the module shares the
    Service's endpoints between them."""
    other = m.ingress("ing-b", [m.rule("b.example.com",
                                       m.path("/", "web", 80))],
                      annotations={LB: "least_conn"})
    conf, err = render(tmp_path, {LB: "ewma"}, extra=[other])
    lines = sorted(k8s_service_lines(conf))
    assert lines == sorted([
        "    k8s_service default/web port=http balance=ewma;",
        "    k8s_service default/web port=http balance=least_conn;"]), conf
    assert "upstream default_web_http__lb-ewma {" in conf
    assert "upstream default_web_http__lb-least-conn {" in conf


@pytest.mark.parametrize("ann,line", [
    ({LB: "least_conn"}, "least_conn;"),
    ({HASH: "$request_uri"}, "hash $request_uri consistent;"),
])
def test_static_mode_uses_stock_directives(tmp_path, ann, line):
    conf, err = render(tmp_path, ann, endpoints="static")
    assert re.search(r"^\s*%s$" % re.escape(line), conf, re.M), conf
