"""Multi-tenant safety (issue 13), through a real nginx: one namespace
cannot take another's traffic, certificate or config.

- Injective names: namespace team + Service a-web and namespace team-a +
  Service web (and Secrets team/a-tls, team-a/tls) once shared an
  upstream and a certificate file; each host must reach its own pods
  with its own certificate in every --endpoints mode and through the
  controller.
- One bad object loses only its own routes: an upstream-hash-by naming
  a variable nginx does not define, a TLS Secret with a mismatched,
  garbled or encrypted key, an ExternalName that does not resolve or
  whose DNS is down.  The config loads and the good routes are served.
- Host ownership: another namespace cannot add paths or a certificate to
  a host it does not own, unless the owner shares it.  `*.com` is no
  host.
- Addresses: an ExternalName that spells loopback (or localhost) is
  refused.
- Bounded parsing: YAML aliases repeating a 1 MB string."""

import os
import resource
import subprocess

import pytest

import harness
from dns_server import DNSServer
from manifests import (ingress, ingress_class, lint, path, rule, secret_tls,
                       self_signed, service, svc_port, write_manifests)
from modes import MODES, ModeStack, subject, tenant
from test_controller import controllers, routed_to  # noqa: F401

V = "victim.example.com"
A = "attacker.example.com"
GOOD = "good.example.com"
BAD = "bad.example.com"
OLD = "2019-01-01T00:00:00Z"
NEW = "2020-01-01T00:00:00Z"
HASH = "nginx.ingress.kubernetes.io/upstream-hash-by"
SHARE = "kubengx.io/host-shared-with"


def certificate(tmp_path, cn):
    d = tmp_path / ("cert-" + cn)
    os.makedirs(str(d), exist_ok=True)
    return self_signed(d, cn)


# --- injective names -------------------------------------------------------

def namespace_pair(tmp_path, bk):
    """The victim (team/a-web, Secret team/a-tls) and the attacker
    (team-a/web, Secret team-a/tls), whose Ingress is the older: under the
    old naming (team_a_web_..., certs/team_a_tls.pem) it won both."""
    vic, pv = tenant(bk, "victim", "team", "a-web")
    att, pa = tenant(bk, "attacker", "team-a", "web")
    cv, kv = certificate(tmp_path, V)
    ca, ka = certificate(tmp_path, A)
    return vic + att + [
        secret_tls("a-tls", cv, kv, ns="team"),
        secret_tls("tls", ca, ka, ns="team-a"),
        ingress("site", [rule(V, path("/", "a-web", pv))], ns="team",
                tls=[{"hosts": [V], "secretName": "a-tls"}], created=NEW),
        ingress("site", [rule(A, path("/", "web", pa))], ns="team-a",
                tls=[{"hosts": [A], "secretName": "tls"}], created=OLD)]


@pytest.mark.parametrize("mode", MODES)
def test_namespace_pair_each_host_its_own_pods_and_certificate(
        tmp_path, nginx_factory, kube_api, backends, mode):
    bk = backends("victim", "attacker")
    s = ModeStack(tmp_path, nginx_factory, kube_api, mode)
    s.up(namespace_pair(tmp_path, bk))
    assert not s.warnings(), s.err
    s.wait_backend(V, "/x", "victim", https=True)
    s.wait_backend(A, "/x", "attacker", https=True)
    for _ in range(5):
        assert s.https(V, "/y").backend == "victim"
        assert s.https(A, "/y").backend == "attacker"
    assert "CN=%s" % V in s.subject(V)
    assert "CN=%s" % A in s.subject(A)
    assert len(os.listdir(str(s.outdir / "certs"))) == 2
    assert s.get(V, "/x").status == 308


def test_namespace_pair_through_the_controller(tmp_path, kube_api, backends,
                                               controllers):  # noqa: F811
    bk = backends("victim", "attacker")
    api = kube_api()
    for ns in ("team", "team-a"):
        api.create({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": ns}})
    api.create(ingress_class("kubengx"))
    for o in namespace_pair(tmp_path, bk):
        o["metadata"].pop("creationTimestamp", None)
        api.create(o)
    ctl = controllers(api).wait_ready()

    def https(host):
        return harness.curl("https://%s:%d/x" % (host, ctl.https_port), "-k",
                            "--resolve", "%s:%d:127.0.0.1"
                            % (host, ctl.https_port))

    harness.wait_for(lambda: https(V).backend == "victim", 15, "victim")
    for _ in range(5):
        assert https(V).backend == "victim"
        assert https(A).backend == "attacker"
    assert "CN=%s" % V in subject(ctl.https_port, V)
    assert "CN=%s" % A in subject(ctl.https_port, A)


# --- one bad object --------------------------------------------------------

def good_and_bad(tmp_path, bk, bad_backend=None, bad_tls=None,
                 annotations=None):
    good, pg = tenant(bk, "good", "default", "svc-good")
    cg, kg = certificate(tmp_path, GOOD)
    objs = good + [
        secret_tls("good-tls", cg, kg),
        ingress("good", [rule(GOOD, path("/", "svc-good", pg))],
                tls=[{"hosts": [GOOD], "secretName": "good-tls"}],
                created=NEW)]
    if bad_backend is None:
        bad, pb = tenant(bk, "bad", "default", "svc-bad")
        objs += bad
        bad_backend = ("svc-bad", pb)
    objs.append(ingress("bad", [rule(BAD, path("/", *bad_backend))],
                        annotations=annotations, created=OLD,
                        tls=[{"hosts": [BAD], "secretName": "bad-tls"}]
                        if bad_tls else None))
    if bad_tls:
        objs.append(secret_tls("bad-tls", *bad_tls))
    return objs


def broken_tls(tmp_path, how):
    c, k = certificate(tmp_path, BAD)
    if how == "mismatch":
        return c, certificate(tmp_path, "other.example.com")[1]
    if how == "garbage":
        lines = c.split(b"\n")
        lines[3] = b"!" * len(lines[3])
        return b"\n".join(lines), k
    enc = tmp_path / "enc.pem"
    src = tmp_path / "plain.pem"
    src.write_bytes(k)
    harness.run(["openssl", "pkey", "-in", str(src), "-aes128", "-passout",
                 "pass:secret", "-out", str(enc)], check=True)
    return c, enc.read_bytes()


def check_good_served(s):
    s.wait_backend(GOOD, "/x", "good", https=True)
    assert "CN=%s" % GOOD in s.subject(GOOD)


@pytest.mark.parametrize("how", ["mismatch", "garbage", "encrypted"])
def test_bad_tls_secret_loses_only_its_https(tmp_path, nginx_factory,
                                             kube_api, backends, how):
    bk = backends("good", "bad")
    s = ModeStack(tmp_path, nginx_factory, kube_api, "static")
    s.up(good_and_bad(tmp_path, bk, bad_tls=broken_tls(tmp_path, how)))
    ws = [w for w in s.warnings() if "bad-tls" in w]
    assert ws and "not usable by nginx" in ws[0], s.err
    assert {"mismatch": "does not match", "garbage": "tls.crt",
            "encrypted": "encrypted"}[how] in ws[0]
    check_good_served(s)
    # the bad Secret is not served: no https for its host, http without
    # a redirect to it
    assert s.get(BAD, "/x").backend == "bad"
    with pytest.raises(AssertionError):
        s.https(BAD, "/x")
    assert len(os.listdir(str(s.outdir / "certs"))) == 1


def test_hash_key_naming_an_unknown_variable(tmp_path, nginx_factory,
                                             kube_api, backends):
    bk = backends("good", "bad")
    s = ModeStack(tmp_path, nginx_factory, kube_api, "static")
    s.up(good_and_bad(tmp_path, bk, annotations={HASH: "$nosuchvar"}))
    ws = [w for w in s.warnings() if "upstream-hash-by" in w]
    assert ws and "$nosuchvar" in ws[0] and "round robin" in ws[0], s.err
    assert "nosuchvar" not in s.conf
    check_good_served(s)
    # the annotation is not applied; the Ingress keeps its route
    assert s.get(BAD, "/x").backend == "bad"


@pytest.mark.parametrize("dns", ["nxdomain", "down"])
def test_external_name_dns_never_decides_the_config(
        tmp_path, nginx_factory, kube_api, backends, dns):
    bk = backends("good", "ext")
    _, pe = bk.host_port("ext")
    server = DNSServer({"ext.test.example": "127.0.0.1"})
    try:
        port = server.port
        if dns == "down":
            server.stop()
            server = None
        objs = good_and_bad(tmp_path, bk, bad_backend=("ext", pe)) + [
            service("ext", [svc_port("http", pe)], type="ExternalName",
                    external_name="missing.test.example" if dns ==
                    "nxdomain" else "ext.test.example", selector={})]
        s = ModeStack(tmp_path, nginx_factory, kube_api, "static")
        s.up(objs, "--resolver", "127.0.0.1:%d" % port)
        assert "missing.test.example" not in "".join(s.warnings())
        check_good_served(s)
        r = s.get(BAD, "/x")
        assert r.backend is None and r.status in (502, 504), r
        assert s.get(GOOD, "/x").status == 308
    finally:
        if server:
            server.stop()


# --- host ownership --------------------------------------------------------

SHOP = "shop.example.com"


def ownership_objects(tmp_path, bk, owner_paths=("/",), annotations=None,
                      hostless=False):
    own, po = tenant(bk, "owner", "a", "web")
    evil, pe = tenant(bk, "evil", "b", "evil")
    co, ko = certificate(tmp_path, SHOP)
    ce, ke = certificate(tmp_path, "evil." + SHOP)
    rules = [rule(SHOP, path("/login", "evil", pe),
                  path("/", "evil", pe, "Exact"))]
    if hostless:
        rules.append(rule(None, path("/static", "evil", pe)))
    return own + evil + [
        secret_tls("shop", co, ko, ns="a"),
        secret_tls("shop", ce, ke, ns="b"),
        ingress("site", [rule(SHOP, *[path(p, "web", po)
                                      for p in owner_paths])],
                ns="a", tls=[{"hosts": [SHOP], "secretName": "shop"}],
                annotations=annotations, created=OLD),
        ingress("grab", rules, ns="b", created=NEW,
                tls=[{"hosts": [SHOP], "secretName": "shop"}])]


def owner_cert(s):
    return "CN=%s" % SHOP in s.subject(SHOP)


def test_another_namespace_cannot_add_to_a_host(tmp_path, nginx_factory,
                                                kube_api, backends):
    bk = backends("owner", "evil")
    s = ModeStack(tmp_path, nginx_factory, kube_api, "static")
    s.up(ownership_objects(tmp_path, bk))
    ws = [w for w in s.warnings() if "belongs to namespace a" in w]
    assert len(ws) == 2, s.err              # the rule and the tls entry
    assert all("b/grab" in w for w in ws)
    assert SHARE in ws[0]
    s.wait_backend(SHOP, "/login", "owner", https=True)
    assert s.https(SHOP, "/").backend == "owner"
    assert owner_cert(s)
    assert len(os.listdir(str(s.outdir / "certs"))) == 1


def test_owner_shares_the_host(tmp_path, nginx_factory, kube_api, backends):
    bk = backends("owner", "evil")
    s = ModeStack(tmp_path, nginx_factory, kube_api, "static")
    s.up(ownership_objects(tmp_path, bk, annotations={SHARE: "b"}))
    assert not [w for w in s.warnings() if "belongs" in w], s.err
    s.wait_backend(SHOP, "/login", "evil", https=True)
    assert s.https(SHOP, "/").backend == "evil"
    assert s.https(SHOP, "/x").backend == "owner"
    # the certificate: the oldest Ingress's, as before
    assert owner_cert(s)


def test_merge_mode_is_the_old_behaviour(tmp_path, nginx_factory, kube_api,
                                         backends):
    bk = backends("owner", "evil")
    s = ModeStack(tmp_path, nginx_factory, kube_api, "static")
    s.up(ownership_objects(tmp_path, bk, owner_paths=("/app",),
                           hostless=True),
         "--host-ownership", "merge")
    assert not [w for w in s.warnings() if "belongs" in w], s.err
    s.wait_backend(SHOP, "/login", "evil", https=True)
    assert s.https(SHOP, "/static/x").backend == "evil"
    assert owner_cert(s)


def test_rules_without_host_stay_out_of_owned_hosts(tmp_path, nginx_factory,
                                                    kube_api, backends):
    bk = backends("owner", "evil")
    s = ModeStack(tmp_path, nginx_factory, kube_api, "static")
    s.up(ownership_objects(tmp_path, bk, owner_paths=("/app",),
                           hostless=True))
    s.wait_backend(SHOP, "/app", "owner", https=True)
    assert s.https(SHOP, "/static/x").status == 404
    assert s.https(SHOP, "/login").status == 404
    # unknown hosts get the rules without host
    assert s.get("unknown.example.com", "/static/x").backend == "evil"


def test_lint_reports_ownership(tmp_path, kubengx, backends):
    bk = backends("owner", "evil")
    f = write_manifests(tmp_path / "in", ownership_objects(tmp_path, bk))
    rc, out, err = lint([f])
    assert rc == 0, out + err
    assert out.count("belongs to namespace a") == 2, out
    rc, out, err = lint([f], "--host-ownership", "merge")
    assert "belongs" not in out, out


def test_wildcard_over_a_top_level_domain_is_refused(tmp_path, nginx_factory,
                                                     kube_api, backends):
    bk = backends("evil")
    evil, pe = tenant(bk, "evil", "default", "evil")
    s = ModeStack(tmp_path, nginx_factory, kube_api, "static")
    s.up(evil + [ingress("wild", [rule("*.com", path("/", "evil", pe))])])
    assert any("*.com" in w and "top-level" in w for w in s.warnings()), \
        s.err
    assert "~^[^.]+\\.com$" not in s.conf
    assert s.get("example.com", "/").status == 404


# --- addresses -------------------------------------------------------------

@pytest.mark.parametrize("name", ["localhost", "foo.localhost", "0x7f.1",
                                  "0x7f.0.0.1", "2130706433", "0177.0.0.1",
                                  "127.1", "169.254.169.254", "0.0.0.0"])
def test_external_name_spelling_loopback_is_refused(tmp_path, nginx_factory,
                                                    kube_api, backends,
                                                    name):
    bk = backends("local")
    _, pl = bk.host_port("local")
    objs = [service("ext", [svc_port("http", pl)], type="ExternalName",
                    external_name=name, selector={}),
            ingress("ext", [rule(BAD, path("/", "ext", pl))])]
    s = ModeStack(tmp_path, nginx_factory, kube_api, "static")
    s.up(objs, "--resolver", "127.0.0.1")
    assert any("spec.externalName" in w for w in s.warnings()), s.err
    r = s.get(BAD, "/x")
    assert r.status == 503 and r.backend is None, r
    f = write_manifests(tmp_path / "lint", objs)
    rc, out, _ = lint([f])
    assert rc == 1 and "bad-external" not in out and "error" in out, out


# --- bounded parsing -------------------------------------------------------

def test_alias_expansion_has_a_byte_budget(tmp_path, kubengx):
    """2 MB of YAML whose aliases repeat a 1 MB string: refused with an
    error naming the file and the document, within a 1 GiB address space
    (the expansion would take gigabytes)."""
    f = tmp_path / "bomb.yaml"
    with open(str(f), "w") as out:
        out.write("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n"
                  "---\napiVersion: v1\nkind: ConfigMap\n"
                  "metadata: {name: a}\ndata:\n  a: &a ")
        out.write("x" * (1 << 20) + "\n")
        for i in range(2000):
            out.write("  k%d: *a\n" % i)
    out.close()

    def limit():
        # (ASan reserves terabytes of address space: no limit then)
        if not harness.sanitized():
            resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    for cmd in ("render", "lint"):
        p = subprocess.run([kubengx, cmd, "-f", str(f)], capture_output=True,
                           text=True, timeout=120, preexec_fn=limit)
        assert p.returncode == 2, (cmd, p.returncode, p.stderr)
        assert "%s:2:" % f in p.stderr, p.stderr
        assert "aliases expand to more than 16 MiB" in p.stderr
