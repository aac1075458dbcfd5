"""ingress-nginx's annotations beyond the first set (generator/annotations/):
proxy-ssl-secret's client certificate, each through a real nginx in
front of a real backend, and their good and bad values in the rendered
text.  Certificates are made here by the openssl CLI: a CA, a client
certificate it signs, a server certificate for the backend."""

import base64
import os

import pytest

import harness
from manifests import (endpoint, ingress, path, render, rule, service,
                       slice_, svc_port, write_manifests)
from modes import ModeStack

P = "nginx.ingress.kubernetes.io/"


def b64(data):
    return base64.b64encode(data).decode()


def openssl(*args):
    harness.run(["openssl", *map(str, args)], check=True)


def read(p):
    with open(p, "rb") as f:
        return f.read()


class Pki:
    """A CA and certificates it signs (files in d)."""

    def __init__(self, d, name="ca"):
        self.d = d
        d.mkdir(exist_ok=True)
        self.key = d / ("%s.key" % name)
        self.crt = d / ("%s.crt" % name)
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", 2,
                "-subj", "/CN=kubengx test %s" % name, "-keyout", self.key,
                "-out", self.crt)

    def issue(self, cn, server=False):
        """(cert_pem, key_pem, cert_path, key_path) of cn signed by the
        CA."""
        key = self.d / ("%s.key" % cn)
        csr = self.d / ("%s.csr" % cn)
        crt = self.d / ("%s.crt" % cn)
        ext = self.d / ("%s.ext" % cn)
        ext.write_text("subjectAltName=DNS:%s\nextendedKeyUsage=%s\n"
                       % (cn, "serverAuth" if server else "clientAuth"))
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + cn,
                "-keyout", key, "-out", csr)
        openssl("x509", "-req", "-in", csr, "-CA", self.crt, "-CAkey",
                self.key, "-CAcreateserial", "-days", 2, "-extfile", ext,
                "-out", crt)
        return read(crt), read(key), crt, key


def secret(name, **keys):
    """A Secret of default with data keys (ca_crt -> ca.crt, ...)."""
    data = {k.replace("_", "."): b64(v) for k, v in keys.items()}
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": "default"},
            "data": data}


# --- proxy-ssl-secret: the client certificate ------------------------------

@pytest.fixture
def mtls(tmp_path, nginx_factory):
    """A real nginx speaking TLS that asks every client for a certificate
    signed by a CA made here (ssl_verify_client on): 200 and the client's
    subject with one, nginx's 400 without.  Returns (port, pki)."""
    pki = Pki(tmp_path / "pki")
    _, _, scrt, skey = pki.issue("backend.example.com", server=True)
    port = harness.free_port()
    http = """
    server {
        listen 127.0.0.1:%d ssl;
        ssl_certificate %s;
        ssl_certificate_key %s;
        ssl_client_certificate %s;
        ssl_verify_client on;
        # TLSv1.2 and a session cache: sessions nginx resumes as a client
        ssl_protocols TLSv1.2;
        ssl_session_cache shared:mtls:1m;
        location / {
            add_header X-Backend mtls always;
            return 200 "client=$ssl_client_s_dn\\n";
        }
    }
""" % (port, scrt, skey, pki.crt)
    nginx_factory(http=http, ports=[port], name="mtls-backend", module=False)
    return port, pki


def mtls_objects(port, pki, ann_of):
    """Service web (one port named https) to the mTLS backend, Secret
    "client" (tls.crt, tls.key signed by the CA, and ca.crt) and Secret
    "ca-only"; one Ingress per (name, annotations) of ann_of."""
    crt, key, _, _ = pki.issue("ingress-client")
    ca = read(pki.crt)
    objs = [service("web", [svc_port("https", 443, port)]),
            slice_("web", [endpoint("127.0.0.1")], [("https", port)]),
            secret("client", tls_crt=crt, tls_key=key, ca_crt=ca),
            secret("ca-only", ca_crt=ca)]
    for name, ann in ann_of:
        a = {P + "backend-protocol": "HTTPS"}
        a.update(ann)
        objs.append(ingress(name, [rule(name + ".example.com",
                                        path("/", "web", 443))],
                            annotations=a))
    return objs


@pytest.mark.parametrize("mode,flags", [
    ("static", ()), ("module", ()),
    ("module", ("--upstreams", "dispatch"))])
def test_client_certificate_reaches_mtls_backend(tmp_path, nginx_factory,
                                                 kube_api, mtls, mode,
                                                 flags):
    port, pki = mtls
    objs = mtls_objects(port, pki, [
        ("with", {P + "proxy-ssl-secret": "default/client"}),
        ("verified", {P + "proxy-ssl-secret": "default/client",
                      P + "proxy-ssl-verify": "on",
                      P + "proxy-ssl-name": "backend.example.com"}),
        ("caonly", {P + "proxy-ssl-secret": "default/ca-only"}),
        ("without", {})])
    s = ModeStack(tmp_path, nginx_factory, kube_api, mode)
    s.up(objs, *flags)
    assert "proxy_ssl_certificate " in s.conf, s.conf
    assert ("kubengx_dispatch__p-https__cc-" in s.conf) == bool(flags)
    assert not s.warnings(), s.err
    s.wait_backend("with.example.com", "/x", "mtls")
    for host in ("with.example.com", "verified.example.com"):
        r = s.get(host, "/x")
        assert r.status == 200 and b"CN=ingress-client" in r.body, (host, r)
    # the backend's nginx answers 400 to a client without a certificate:
    # an Ingress without one never gets a connection or a TLS session
    # made with it (without the certificate's own upstream, caonly and
    # without would resume "with"'s session and get 200)
    for host in ("caonly.example.com", "without.example.com"):
        r = s.get(host, "/x")
        assert r.status == 400 and b"certificate" in r.body, (host, r)
    assert s.get("with.example.com", "/x").status == 200
    assert s.get("without.example.com", "/x").status == 400
    # the key and chain were written once, 0600, beside the other
    # certificates
    pem = [f for f in os.listdir(s.outdir / "certs")
           if "client" in f and not f.startswith("ca+")]
    assert len(pem) == 1, pem
    st = os.stat(s.outdir / "certs" / pem[0])
    assert st.st_mode & 0o777 == 0o600


def render_one(tmp_path, objs):
    f = write_manifests(tmp_path, objs)
    return render(f, None, endpoints="cluster-ip")


@pytest.mark.parametrize("keys,why", [
    ("mismatch", "not usable by nginx"),
    ("garbage", "PEM"),
    ("crt-only", "tls.crt and tls.key"),
    ("key-only", "tls.crt and tls.key"),
])
def test_bad_client_certificate_refuses_the_ingress(tmp_path, kubengx, keys,
                                                    why):
    pki = Pki(tmp_path / "pki")
    crt, key, _, _ = pki.issue("a")
    _, other, _, _ = pki.issue("b")
    data = {"mismatch": dict(tls_crt=crt, tls_key=other),
            "garbage": dict(tls_crt=b"-----BEGIN CERTIFICATE-----\nxx\n",
                            tls_key=key),
            "crt-only": dict(tls_crt=crt),
            "key-only": dict(tls_key=key)}[keys]
    objs = [service("web", [svc_port(None, 443, 8443)],
                    cluster_ip="10.0.0.1"),
            secret("client", ca_crt=read(pki.crt), **data),
            ingress("t", [rule("t.example.com", path("/", "web", 443))],
                    annotations={P + "backend-protocol": "HTTPS",
                                 P + "proxy-ssl-secret": "default/client"})]
    rc, _, err, conf = render_one(tmp_path, objs)
    assert rc == 0, err
    assert "t.example.com" not in conf and "proxy_ssl_certificate" not in conf
    assert any("default/t" in x and "proxy-ssl-secret" in x and why in x
               for x in err.splitlines()), err


def test_client_certificate_text(tmp_path, kubengx):
    """GRPCS writes grpc_ssl_certificate; two Ingresses with one Secret
    share its file; the upstream differs from one without it."""
    pki = Pki(tmp_path / "pki")
    crt, key, _, _ = pki.issue("a")
    objs = [service("web", [svc_port(None, 443, 8443)],
                    cluster_ip="10.0.0.1"),
            secret("client", tls_crt=crt, tls_key=key)]
    for name, proto, sec in (("g", "GRPCS", True), ("h", "HTTPS", True),
                             ("n", "HTTPS", False)):
        a = {P + "backend-protocol": proto}
        if sec:
            a[P + "proxy-ssl-secret"] = "default/client"
        objs.append(ingress(name, [rule(name + ".example.com",
                                        path("/", "web", 443))],
                            annotations=a))
    rc, _, err, conf = render_one(tmp_path, objs)
    assert rc == 0, err
    assert conf.count("grpc_ssl_certificate ") == 1, conf
    assert conf.count("grpc_ssl_certificate_key ") == 1
    assert conf.count("    proxy_ssl_certificate ") == 1
    assert "__cc-" in conf
    ups = [l.split()[1] for l in conf.splitlines()
           if l.startswith("upstream ")]
    assert len(ups) == len(set(ups)) == 3, ups


# --- ssl-ciphers, ssl-prefer-server-ciphers ---------------------------------

def tls12_with(stack, host, cipher):
    """A TLSv1.2 handshake by curl offering the one cipher: the status,
    or None when the handshake fails."""
    import subprocess
    p = subprocess.run(
        ["curl", "-sS", "-k", "-o", "/dev/null", "-w", "%{http_code}",
         "--max-time", "10", "--tlsv1.2", "--tls-max", "1.2", "--ciphers",
         cipher, "--resolve", "%s:%d:127.0.0.1" % (host, stack.https_port),
         "https://%s:%d/" % (host, stack.https_port)],
        capture_output=True, text=True, timeout=20)
    return int(p.stdout) if p.returncode == 0 else None


A128 = "ECDHE-RSA-AES128-GCM-SHA256"
A256 = "ECDHE-RSA-AES256-GCM-SHA384"


def test_ssl_ciphers_restrict_the_host(tmp_path, nginx_factory, kubengx,
                                       backends):
    from manifests import Stack, secret_tls, self_signed
    bk = backends("a")
    _, port = bk.host_port("a")
    crt, key = self_signed(tmp_path, "c.example.com",
                           ["c.example.com", "d.example.com"])
    objs = [service("web", [svc_port(None, 80, 8080)]),
            slice_("web", [endpoint("127.0.0.1")], [(None, port)]),
            secret_tls("c-tls", crt, key),
            # the owner of c's tls entry: its list is the host's
            ingress("owner", [rule("c.example.com", path("/", "web", 80))],
                    tls=[{"hosts": ["c.example.com"],
                          "secretName": "c-tls"}],
                    annotations={P + "ssl-ciphers": A128,
                                 P + "ssl-prefer-server-ciphers": "true"},
                    created="2020-01-01T00:00:00Z"),
            # a younger Ingress of the same host: its list is not used
            ingress("younger", [rule("c.example.com",
                                     path("/y", "web", 80))],
                    annotations={P + "ssl-ciphers": A256},
                    created="2021-01-01T00:00:00Z"),
            # another host keeps the default list
            ingress("other", [rule("d.example.com", path("/", "web", 80))],
                    tls=[{"hosts": ["d.example.com"],
                          "secretName": "c-tls"}])]
    stack = Stack(tmp_path, nginx_factory)
    stack.up(objs, tls=True)
    assert "ssl_ciphers %s;" % A128 in stack.conf, stack.conf
    assert "ssl_prefer_server_ciphers on;" in stack.conf
    assert A256 not in stack.conf
    assert tls12_with(stack, "c.example.com", A128) == 200
    assert tls12_with(stack, "c.example.com", A256) is None
    assert tls12_with(stack, "d.example.com", A256) == 200


@pytest.mark.parametrize("key,value,why", [
    ("ssl-ciphers", "NO-SUCH-CIPHER", "no cipher"),
    ("ssl-ciphers", "HIGH;evil", "cipher list"),
    ("ssl-ciphers", "HIGH ALL", "cipher list"),
    ("ssl-ciphers", "", "cipher list"),
    ("ssl-prefer-server-ciphers", "yes", "true"),
    ("proxy-ssl-ciphers", "NO-SUCH-CIPHER", "no cipher"),
])
def test_bad_ssl_values_refuse_the_ingress(tmp_path, kubengx, key, value,
                                           why):
    objs = [service("web", [svc_port(None, 80, 8080)], cluster_ip="10.0.0.1"),
            ingress("t", [rule("t.example.com", path("/", "web", 80))],
                    annotations={P + key: value})]
    rc, _, err, conf = render_one(tmp_path, objs)
    assert rc == 0, err
    assert "t.example.com" not in conf
    assert any("default/t" in x and key in x and why in x
               for x in err.splitlines()), err


@pytest.mark.parametrize("key,value,line", [
    ("ssl-ciphers", "HIGH:!aNULL:!MD5", "ssl_ciphers HIGH:!aNULL:!MD5;"),
    ("ssl-ciphers", "ECDHE+AESGCM:@STRENGTH",
     "ssl_ciphers ECDHE+AESGCM:@STRENGTH;"),
    ("ssl-prefer-server-ciphers", "false", "ssl_prefer_server_ciphers off;"),
])
def test_good_ssl_values(tmp_path, kubengx, key, value, line):
    from manifests import secret_tls, self_signed
    crt, k = self_signed(tmp_path, "t.example.com")
    objs = [service("web", [svc_port(None, 80, 8080)], cluster_ip="10.0.0.1"),
            secret_tls("t-tls", crt, k),
            ingress("t", [rule("t.example.com", path("/", "web", 80))],
                    tls=[{"hosts": ["t.example.com"], "secretName": "t-tls"}],
                    annotations={P + key: value})]
    f = write_manifests(tmp_path, objs)
    rc, _, err, conf = render(f, tmp_path / "out", "--check",
                              endpoints="cluster-ip")
    assert rc == 0, err
    assert line in conf, conf
    assert conf.count("ssl_ciphers") <= 1


# --- from-to-www-redirect ---------------------------------------------------

def web_svc(bk, name, svc, ns="default"):
    _, port = bk.host_port(name)
    return [service(svc, [svc_port(None, 80, 8080)], ns=ns),
            slice_(svc, [endpoint("127.0.0.1")], [(None, port)], ns=ns)]


WWW = {P + "from-to-www-redirect": "true"}


def test_from_to_www_redirect(tmp_path, nginx_factory, kubengx, backends):
    from manifests import Stack, secret_tls, self_signed
    bk = backends("a", "b")
    crt, key = self_signed(tmp_path, "t.example.com",
                           ["t.example.com", "www.t.example.com"])
    old, new = "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z"
    objs = web_svc(bk, "a", "web") + web_svc(bk, "b", "other", ns="ns-b") \
        + web_svc(bk, "b", "web", ns="ns-e") + [
        secret_tls("t-tls", crt, key),
        # www.a -> a, and b -> www.b
        ingress("a", [rule("a.example.com", path("/", "web", 80))],
                annotations=WWW),
        ingress("b", [rule("www.b.example.com", path("/", "web", 80))],
                annotations=WWW),
        # the other name is a host of another namespace: no redirect
        ingress("c", [rule("c.example.com", path("/", "web", 80))],
                annotations=WWW),
        ingress("c-www", [rule("www.c.example.com",
                               path("/", "other", 80))], ns="ns-b"),
        # a wildcard of another namespace serves the other name
        ingress("d", [rule("d.example.com", path("/", "web", 80))],
                annotations=WWW),
        ingress("d-any", [rule("*.d.example.com", path("/", "other", 80))],
                ns="ns-b"),
        # a namespace that does not own the host cannot redirect for it
        ingress("e", [rule("e.example.com", path("/", "web", 80))],
                created=old),
        ingress("e", [rule("e.example.com", path("/", "web", 80))],
                ns="ns-e", annotations=WWW, created=new),
        # https: the same server, the same certificate
        ingress("t", [rule("t.example.com", path("/", "web", 80))],
                tls=[{"hosts": ["t.example.com"], "secretName": "t-tls"}],
                annotations=dict(WWW, **{P + "ssl-redirect": "false"}))]
    stack = Stack(tmp_path, nginx_factory)
    stack.up(objs, tls=True)

    def loc(host, path="/x?q=1"):
        r = stack.get(path, host)
        return r.status, r.headers.get("location")

    port = stack.http_port
    assert loc("www.a.example.com") == (
        308, "http://a.example.com:%d/x?q=1" % port)
    assert stack.backend_of("/x", "a.example.com") == "a"
    assert loc("b.example.com", "/p/") == (
        308, "http://www.b.example.com:%d/p/" % port)
    assert stack.backend_of("/x", "www.b.example.com") == "a"
    # conflicts: the other name keeps its own routes
    assert stack.backend_of("/x", "www.c.example.com") == "b"
    assert stack.backend_of("/x", "www.d.example.com") == "b"
    assert stack.get("/x", "www.e.example.com").status == 404
    assert "www.e.example.com" not in stack.conf
    w = [x for x in stack.warnings() if "from-to-www-redirect" in x]
    assert any("default/c" in x and "www.c.example.com" in x for x in w), w
    assert any("default/d" in x and "*.d.example.com" in x for x in w), w
    assert len(w) == 2, w
    r = stack.https("www.t.example.com", "/s")
    assert r.status == 308, r
    assert r.headers["location"] == "https://t.example.com:%d/s" \
        % stack.https_port
    assert loc("www.t.example.com", "/s") == (
        308, "http://t.example.com:%d/s" % port)


def test_www_redirect_contested_alias(tmp_path, kubengx):
    """example.com and www.www.example.com both want www.example.com:
    the older Ingress keeps it; a wildcard host gets none."""
    objs = [service("web", [svc_port(None, 80, 8080)], cluster_ip="10.0.0.1"),
            ingress("old", [rule("example.com", path("/", "web", 80))],
                    annotations=WWW, created="2020-01-01T00:00:00Z"),
            ingress("new", [rule("www.www.example.com",
                                 path("/", "web", 80))],
                    annotations=WWW, created="2021-01-01T00:00:00Z"),
            ingress("wild", [rule("*.w.example.com", path("/", "web", 80))],
                    annotations=WWW)]
    rc, _, err, conf = render_one(tmp_path, objs)
    assert rc == 0, err
    assert conf.count('server_name "www.example.com";') == 1, conf
    assert "return 308 $scheme://example.com$request_uri;" in conf
    assert any("default/new" in x and "already redirects" in x
               for x in err.splitlines()), err
    assert any("default/wild" in x and "wildcard" in x
               for x in err.splitlines()), err


@pytest.mark.parametrize("alias", ["www.example.com", "*.example.com"])
def test_www_redirect_not_over_a_server_alias(tmp_path, kubengx, alias):
    """A server-alias (annotations/hosts.c) of another host, exact or a
    wildcard matching it, keeps the www name: no redirect, a warning, and
    nginx gets each name once."""
    objs = [service("web", [svc_port(None, 80, 8080)], cluster_ip="10.0.0.1"),
            ingress("aliased", [rule("shop.example.org", path("/", "web", 80))],
                    annotations={P + "server-alias": alias},
                    created="2020-01-01T00:00:00Z"),
            ingress("www", [rule("example.com", path("/", "web", 80))],
                    annotations=WWW, created="2021-01-01T00:00:00Z")]
    rc, _, err, conf = render_one(tmp_path, objs)
    assert rc == 0, err
    assert '"www.example.com";' not in conf or alias != "www.example.com" \
        or conf.count('"www.example.com"') == 1, conf
    assert "return 308 $scheme://example.com$request_uri;" not in conf, conf
    assert any("default/www" in x and "server-alias" in x
               for x in err.splitlines()), err


@pytest.mark.parametrize("value,ok", [("true", True), ("false", False),
                                      ("yes", None), ("", None)])
def test_www_redirect_values(tmp_path, kubengx, value, ok):
    objs = [service("web", [svc_port(None, 80, 8080)], cluster_ip="10.0.0.1"),
            ingress("t", [rule("t.example.com", path("/", "web", 80))],
                    annotations={P + "from-to-www-redirect": value})]
    rc, _, err, conf = render_one(tmp_path, objs)
    assert rc == 0, err
    if ok is None:
        assert "t.example.com" not in conf
        assert "from-to-www-redirect" in err and "not served" in err, err
    else:
        assert ("www.t.example.com" in conf) == ok, conf


# --- preserve-trailing-slash ------------------------------------------------

@pytest.mark.parametrize("value", ["true", "false", None])
def test_ssl_redirect_keeps_the_trailing_slash(tmp_path, nginx_factory,
                                               kubengx, backends, value):
    """kubengx's http -> https redirect keeps the request URI as sent:
    what preserve-trailing-slash "true" asks, whatever its value."""
    from manifests import Stack, secret_tls, self_signed
    bk = backends("a")
    crt, key = self_signed(tmp_path, "s.example.com")
    ann = {P + "preserve-trailing-slash": value} if value else {}
    objs = web_svc(bk, "a", "web") + [
        secret_tls("s-tls", crt, key),
        ingress("s", [rule("s.example.com", path("/", "web", 80))],
                tls=[{"hosts": ["s.example.com"], "secretName": "s-tls"}],
                annotations=ann)]
    stack = Stack(tmp_path, nginx_factory)
    stack.up(objs, tls=True)
    assert not stack.warnings(), stack.err
    for uri in ("/dir/", "/dir/?q=a/", "/", "/file"):
        r = stack.get(uri, "s.example.com")
        assert r.status == 308, r
        assert r.headers["location"] == "https://s.example.com:%d%s" % (
            stack.https_port, uri)


def test_preserve_trailing_slash_bad_value(tmp_path, kubengx):
    objs = [service("web", [svc_port(None, 80, 8080)], cluster_ip="10.0.0.1"),
            ingress("t", [rule("t.example.com", path("/", "web", 80))],
                    annotations={P + "preserve-trailing-slash": "sure"})]
    rc, _, err, conf = render_one(tmp_path, objs)
    assert rc == 0, err
    assert "t.example.com" not in conf
    assert any("default/t" in x and "preserve-trailing-slash" in x
               and "not served" in x for x in err.splitlines()), err


# --- mirror-target, mirror-host, mirror-request-body -----------------------

@pytest.fixture
def mirror_backend():
    """An HTTP server that records every request it gets: (port, list of
    (method, path, headers, body))."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    seen = []

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def _any(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            seen.append((self.command, self.path,
                         {k.lower(): v for k, v in self.headers.items()},
                         body))
            self.send_response(204)
            self.end_headers()

        do_GET = do_POST = do_PUT = _any

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1], seen
    srv.shutdown()
    srv.server_close()


def test_mirror_gets_a_copy(tmp_path, nginx_factory, kubengx, backends,
                            mirror_backend):
    from manifests import Stack
    bk = backends("a")
    mport, seen = mirror_backend
    target = "http://127.0.0.1:%d$request_uri" % mport
    objs = web_svc(bk, "a", "web") + [
        # ingress-nginx's documented form
        ingress("m", [rule("m.example.com", path("/", "web", 80))],
                annotations={P + "mirror-target": target,
                             P + "mirror-host": "mirror.example.com"}),
        ingress("nobody", [rule("n.example.com", path("/", "web", 80))],
                annotations={P + "mirror-target": target,
                             P + "mirror-request-body": "off"}),
        ingress("plain", [rule("p.example.com", path("/", "web", 80))])]
    stack = Stack(tmp_path, nginx_factory)
    stack.up(objs)
    assert not stack.warnings(), stack.err

    r = stack.get("/api/x?q=1", "m.example.com", method="POST",
                  body=b"payload")
    assert r.status == 200 and r.backend == "a", r
    assert r.json()["body"] == "payload"
    harness.wait_for(lambda: len(seen) == 1, 10, "the mirror's copy")
    method, p, headers, body = seen[0]
    assert (method, p, body) == ("POST", "/api/x?q=1", b"payload"), seen
    assert headers["host"] == "mirror.example.com"

    r = stack.get("/b", "n.example.com", method="POST", body=b"secret")
    assert r.status == 200 and r.json()["body"] == "secret"
    harness.wait_for(lambda: len(seen) == 2, 10, "the second copy")
    method, p, headers, body = seen[1]
    assert (method, p, body) == ("POST", "/b", b""), seen
    assert headers["host"] == "127.0.0.1:%d" % mport
    assert "content-length" not in headers or \
        headers["content-length"] == "0", headers

    # no copy of a route without the annotation; the mirror location is
    # not reachable from outside
    assert stack.backend_of("/c", "p.example.com") == "a"
    assert stack.get("/_kubengx|mirror|default_m", "m.example.com").status \
        == 404
    assert len(seen) == 2, seen


@pytest.mark.parametrize("ann,why", [
    ({P + "mirror-target": "ftp://m.example.com/"}, "http"),
    ({P + "mirror-target": "http://m.example.com/$uri"}, "http"),
    ({P + "mirror-target": "http://m.example.com/\"x"}, "http"),
    ({P + "mirror-target": "http://m.example.com$escaped_request_uri"},
     "escaped_request_uri"),
    ({P + "mirror-host": "m.example.com"}, "need mirror-target"),
    ({P + "mirror-target": "http://m.example.com$request_uri",
      P + "mirror-host": "bad host"}, "DNS name"),
    ({P + "mirror-target": "http://m.example.com$request_uri",
      P + "mirror-request-body": "maybe"}, "on"),
])
def test_bad_mirror_values(tmp_path, kubengx, ann, why):
    objs = [service("web", [svc_port(None, 80, 8080)], cluster_ip="10.0.0.1"),
            ingress("t", [rule("t.example.com", path("/", "web", 80))],
                    annotations=ann)]
    rc, _, err, conf = render_one(tmp_path, objs)
    assert rc == 0, err
    assert "t.example.com" not in conf
    assert any("default/t" in x and "mirror" in x and why in x
               for x in err.splitlines()), err


def test_good_mirror_values_load(tmp_path, kubengx):
    from manifests import directive_problems
    objs = [service("web", [svc_port(None, 80, 8080)], cluster_ip="10.0.0.1"),
            ingress("t", [rule("t.example.com", path("/", "web", 80),
                                path("/b", "web", 80))],
                    annotations={
                        P + "mirror-target":
                            "https://mirror.ns.svc.cluster.local$request_uri",
                        P + "mirror-request-body": "on"})]
    f = write_manifests(tmp_path, objs)
    rc, _, err, conf = render(f, tmp_path / "out", "--check",
                              "--resolver", "127.0.0.1",
                              endpoints="cluster-ip")
    assert rc == 0, err
    assert conf.count('location = "/_kubengx|mirror|default_t"') == 1, conf
    # every location of the Ingress mirrors (Prefix /b has its exact twin)
    assert conf.count('mirror "/_kubengx|mirror|default_t";') \
        == conf.count("proxy_pass http://default_web") >= 2, conf
    assert "resolver 127.0.0.1" in conf
    assert not directive_problems(conf), directive_problems(conf)
