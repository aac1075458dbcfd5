"""`kubengx render`: TLS from kubernetes.io/tls Secrets against a real
nginx: SNI picks the Secret's certificate, http -> https 308, a missing
Secret falls back to the default certificate with a warning."""

import os
import re
import stat
import subprocess

import pytest

import harness
from manifests import (Stack, backend_service, ingress, path, rule,
                       secret_tls, self_signed)


@pytest.fixture
def stack(tmp_path, nginx_factory, kubengx):
    return Stack(tmp_path, nginx_factory)


def served_subject(stack, host, sni=True):
    """The subject of the certificate nginx serves for SNI `host`."""
    url = "https://%s:%d/" % (host, stack.https_port)
    cmd = ["curl", "-sS", "-v", "-k", "-o", "/dev/null", "--max-time", "10"]
    if sni:
        cmd += ["--resolve", "%s:%d:127.0.0.1" % (host, stack.https_port),
                url]
    else:
        cmd += ["https://127.0.0.1:%d/" % stack.https_port]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    m = re.search(r"^\*\s+subject: (.*)$", p.stderr, re.M)
    assert m, p.stderr
    return m.group(1).strip()


def tls_objs(tmp_path, bk, host, secret="tls-secret", cn=None, ns="default",
             svc="svc-a", name="secure", backend_name="a"):
    c, k = self_signed(tmp_path, cn or host)
    return [secret_tls(secret, c, k, ns=ns)] + \
        backend_service(bk, svc, backend_name, ns=ns) + [
            ingress(name, [rule(host, path("/", svc, 80))], ns=ns,
                    tls=[{"hosts": [host], "secretName": secret}])]


def test_sni_serves_each_hosts_certificate(stack, backends, tmp_path):
    bk = backends("a", "b")
    objs = tls_objs(tmp_path, bk, "one.example.com", "one-tls") + \
        tls_objs(tmp_path, bk, "two.example.com", "two-tls", svc="svc-b",
                 name="two", backend_name="b")
    stack.up(objs, tls=True)
    assert "CN=one.example.com" in served_subject(stack, "one.example.com")
    assert "CN=two.example.com" in served_subject(stack, "two.example.com")
    r = stack.https("one.example.com", "/x")
    assert r.status == 200 and r.backend == "a"
    assert r.json()["headers"]["x-forwarded-proto"] == "https"
    r = stack.https("two.example.com", "/x")
    assert r.status == 200 and r.backend == "b"
    # SNI is matched case-insensitively like Host
    assert "CN=one.example.com" in served_subject(stack, "ONE.example.com")


def test_cert_files_written_with_private_keys_0600(stack, backends,
                                                   tmp_path):
    bk = backends("a")
    objs = tls_objs(tmp_path, bk, "one.example.com", "one-tls")
    stack.render(objs)
    assert stack.rc == 0, stack.err
    certs = os.path.join(str(stack.outdir), "certs")
    files = os.listdir(certs)
    assert files, "no files under certs/"
    for f in files:
        mode = stat.S_IMODE(os.stat(os.path.join(certs, f)).st_mode)
        assert mode & 0o077 == 0 or not _has_key(certs, f), (f, oct(mode))
    assert any(_has_key(certs, f) for f in files)
    # the conf references the files by absolute path under DIR/certs
    for m in re.finditer(r"ssl_certificate(?:_key)?\s+\"?([^\";\s]+)",
                         stack.conf):
        assert os.path.isabs(m.group(1)), m.group(0)
        assert os.path.exists(m.group(1)), m.group(0)


def _has_key(d, f):
    with open(os.path.join(d, f), "rb") as fh:
        return b"PRIVATE KEY" in fh.read()


def test_wildcard_tls_host(stack, backends, tmp_path):
    bk = backends("a")
    objs = tls_objs(tmp_path, bk, "*.wild.example.com", "wild-tls",
                    cn="*.wild.example.com")
    stack.up(objs, tls=True)
    assert "CN=*.wild.example.com" in served_subject(stack,
                                                     "a.wild.example.com")
    r = stack.https("b.wild.example.com", "/y")
    assert r.status == 200 and r.backend == "a"


def test_http_redirects_to_https_with_308(stack, backends, tmp_path):
    bk = backends("a", "plain")
    objs = tls_objs(tmp_path, bk, "secure.example.com") + \
        backend_service(bk, "svc-plain", "plain") + [
            ingress("plain", [rule("plain.example.com",
                                   path("/", "svc-plain", 80))])]
    stack.up(objs, tls=True)
    r = stack.get("/some/path?x=1&y=2", "secure.example.com")
    assert r.status == 308, r
    loc = r.headers["location"]
    assert loc.startswith("https://secure.example.com"), loc
    assert loc.endswith("/some/path?x=1&y=2"), loc
    # following it reaches the backend over TLS
    r = harness.curl(loc, "-k", "--resolve", "secure.example.com:%d:"
                     "127.0.0.1" % stack.https_port)
    assert r.status == 200 and r.backend == "a", (loc, r)
    assert r.json()["path"] == "/some/path?x=1&y=2"
    # a host without tls is served over http, not redirected
    assert stack.backend_of("/", "plain.example.com") == "plain"


def test_missing_secret_uses_default_certificate_with_warning(
        stack, backends, tmp_path):
    bk = backends("a")
    dc, dk = self_signed(tmp_path, "default.kubengx.test")
    objs = backend_service(bk, "svc-a", "a") + [
        secret_tls("fallback", dc, dk, ns="infra"),
        ingress("secure", [rule("secure.example.com",
                                path("/", "svc-a", 80))],
                tls=[{"hosts": ["secure.example.com"],
                      "secretName": "no-such-secret"}])]
    stack.up(objs, "--default-certificate", "infra/fallback", tls=True)
    assert any("no-such-secret" in w for w in stack.warnings()), stack.err
    assert "CN=default.kubengx.test" in served_subject(stack,
                                                       "secure.example.com")
    r = stack.https("secure.example.com", "/z")
    assert r.status == 200 and r.backend == "a"


def test_missing_secret_without_default_certificate(stack, backends,
                                                    tmp_path):
    """No --default-certificate: still a warning, valid config, and the
    host keeps being served (over http or with a built-in certificate)."""
    bk = backends("a")
    objs = backend_service(bk, "svc-a", "a") + [
        ingress("secure", [rule("secure.example.com",
                                path("/", "svc-a", 80))],
                tls=[{"hosts": ["secure.example.com"],
                      "secretName": "no-such-secret"}])]
    stack.up(objs)
    assert any("no-such-secret" in w for w in stack.warnings()), stack.err
    r = stack.get("/", "secure.example.com")
    if r.status == 308:
        harness.wait_for(lambda: harness.port_open("127.0.0.1",
                                                   stack.https_port),
                         5, "https port")
        r = stack.https("secure.example.com", "/")
    assert r.status == 200 and r.backend == "a", r


def test_unknown_sni_gets_default_certificate(stack, backends, tmp_path):
    bk = backends("a")
    dc, dk = self_signed(tmp_path, "default.kubengx.test")
    objs = tls_objs(tmp_path, bk, "one.example.com", "one-tls") + [
        secret_tls("fallback", dc, dk, ns="infra")]
    stack.up(objs, "--default-certificate", "infra/fallback", tls=True)
    assert "CN=default.kubengx.test" in served_subject(
        stack, "other.example.com")
    r = stack.https("other.example.com", "/")
    assert r.status == 404 and r.backend is None


def test_secret_in_another_namespace_is_not_used(stack, backends, tmp_path):
    """An Ingress may only use Secrets of its own namespace."""
    bk = backends("a")
    c, k = self_signed(tmp_path, "secure.example.com")
    objs = [secret_tls("tls", c, k, ns="other")] + \
        backend_service(bk, "svc-a", "a") + [
            ingress("secure", [rule("secure.example.com",
                                    path("/", "svc-a", 80))],
                    tls=[{"hosts": ["secure.example.com"],
                          "secretName": "tls"}])]
    stack.render(objs)
    assert stack.rc == 0, stack.err
    assert any("tls" in w for w in stack.warnings()), stack.err
    certs = os.path.join(str(stack.outdir), "certs")
    if os.path.isdir(certs):
        assert not any(f.startswith("other") for f in os.listdir(certs))


def test_bad_secret_data_is_refused(stack, backends, tmp_path):
    bk = backends("a")
    objs = backend_service(bk, "svc-a", "a") + [
        secret_tls("tls", b"not a certificate", b"not a key"),
        ingress("secure", [rule("secure.example.com",
                                path("/", "svc-a", 80))],
                tls=[{"hosts": ["secure.example.com"],
                      "secretName": "tls"}])]
    rc = stack.render(objs)
    if rc == 0:
        assert stack.warnings(), stack.err
        # whatever was written must still load in nginx
        stack.up(objs)
    else:
        assert rc == 2 and "tls" in stack.err
