"""Access control annotations (generator/annotations/access.c,
auth_basic.c, limits.c): the text rendered for good values, bad values
refusing the Ingress, and the statuses a real nginx gives in every
--endpoints mode; and the fail-closed rule for each access-control
annotation kubengx does not implement."""

import base64
import hashlib
import http.server
import re
import subprocess
import threading
import urllib.parse
import warnings

import pytest

import harness
import manifests as m
from modes import MODES, ModeStack, tenant
from test_controller import controllers  # noqa: F401 (a fixture)

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


# ---- basic authentication -------------------------------------------------

def secret(name, data, ns="default", type="Opaque"):
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": ns}, "type": type,
            "data": {k: base64.b64encode(v.encode()).decode()
                     for k, v in data.items()}}


def openssl_hash(flag, pw):
    return subprocess.run(["openssl", "passwd", flag, pw], check=True,
                          capture_output=True, text=True).stdout.strip()


def hashes(pw):
    """Every format the issue asks for, each a user: name -> hash."""
    sha = base64.b64encode(hashlib.sha1(pw.encode()).digest()).decode()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
        bcrypt = crypt.crypt(pw, crypt.mksalt(crypt.METHOD_BLOWFISH,
                                              rounds=16))
    return {"apr1": openssl_hash("-apr1", pw),
            "md5": openssl_hash("-1", pw),
            "sha256": openssl_hash("-5", pw),
            "sha512": openssl_hash("-6", pw),
            "bcrypt": bcrypt.replace("$2b$", "$2y$", 1),
            "sha1": "{SHA}" + sha,
            "plain": "{PLAIN}" + pw}


ROOT = "user root;"
BASIC = {P + "auth-type": "basic", P + "auth-secret": "basic-auth",
         P + "auth-realm": "Authentication Required - foo"}


def htpasswd(users):
    return "".join("%s:%s\n" % kv for kv in users.items())


def test_basic_auth_text_and_file(tmp_path):
    users = hashes("s3cret")
    # the ingress-nginx docs' shape: Opaque Secret, key "auth"
    sec = secret("basic-auth", {"auth": "# a comment\r\n" + htpasswd(users)
                                + "\ndes:abJnggxhB/yWI\nnohash:\n"})
    conf, err = render(tmp_path, BASIC, [sec])
    loc = location(conf)
    cert_dir = tmp_path / "out" / "certs"
    assert ('auth_basic "Authentication Required - foo";\n'
            '        auth_basic_user_file "%s/default_basic-auth.auth";'
            % cert_dir) in loc, loc
    f = cert_dir / "default_basic-auth.auth"
    assert f.read_text() == htpasswd(users)
    assert oct(f.stat().st_mode & 0o777) == "0o600"
    w = m.warnings(err)
    assert any('"des"' in x and "left out" in x for x in w), err
    assert any('"nohash"' in x and "left out" in x for x in w), err


def test_basic_auth_map_and_stale_file(tmp_path):
    users = hashes("pw")
    sec = secret("basic-auth", {"alice": users["sha512"],
                                "bob": users["bcrypt"]})
    ann = dict(BASIC, **{P + "auth-secret-type": "auth-map",
                         P + "auth-secret": "default/basic-auth"})
    conf, err = render(tmp_path, ann, [sec])
    f = tmp_path / "out" / "certs" / "default_basic-auth.authmap"
    assert sorted(f.read_text().splitlines()) == [
        "alice:" + users["sha512"], "bob:" + users["bcrypt"]]
    assert "default_basic-auth.authmap\"" in location(conf)
    # without the annotation the file goes, the certificate dir stays
    conf, err = render(tmp_path, None, [sec])
    assert not f.exists()


@pytest.mark.parametrize("ann,extra,key", [
    ({P + "auth-type": "digest", P + "auth-secret": "basic-auth"}, True,
     "auth-type"),
    ({P + "auth-secret": "basic-auth"}, True, "auth-type"),
    ({P + "auth-type": "basic"}, True, "auth-secret"),
    ({P + "auth-type": "basic", P + "auth-secret": "missing"}, True,
     "auth-secret"),
    ({P + "auth-type": "basic", P + "auth-secret": "other/basic-auth"},
     True, "auth-secret"),
    ({P + "auth-type": "basic", P + "auth-secret": "basic-auth",
      P + "auth-realm": "off"}, True, "auth-realm"),
    ({P + "auth-type": "basic", P + "auth-secret": "basic-auth",
      P + "auth-realm": "r$host"}, True, "auth-realm"),
    ({P + "auth-type": "basic", P + "auth-secret": "basic-auth",
      P + "auth-realm": 'a"; allow all; "'}, True, "auth-realm"),
    ({P + "auth-type": "basic", P + "auth-secret": "basic-auth",
      P + "auth-secret-type": "auth-json"}, True, "auth-secret-type"),
    ({P + "auth-type": "basic", P + "auth-secret": "empty"}, True,
     "auth-secret"),
])
def test_bad_basic_auth_refuses_the_ingress(tmp_path, ann, extra, key):
    secs = [secret("basic-auth", {"auth": "u:{PLAIN}p\n"}),
            secret("basic-auth", {"auth": "u:{PLAIN}p\n"}, ns="other"),
            secret("empty", {"auth": "des:abJnggxhB/yWI\n"})]
    conf, err = refused(tmp_path, ann, key if key != "auth-secret" else
                        "nginx.ingress.kubernetes.io/", secs)
    assert "auth_basic" not in conf


@pytest.mark.parametrize("mode", MODES)
def test_basic_auth_through_nginx(tmp_path, nginx_factory, kube_api,
                                  backends, mode):
    bk = backends("web")
    users = hashes("s3cret")
    sec = secret("basic-auth", {"auth": htpasswd(users)})
    s = ModeStack(tmp_path, nginx_factory, kube_api, mode)
    # nginx's workers read the users (mode 0600) as the user that wrote
    # them, as in the image (uid 101 for kubengx and nginx alike)
    s.up(stack_objects(bk, BASIC) + [sec], main=ROOT)

    def get(user=None, pw="s3cret"):
        h = {}
        if user:
            h["Authorization"] = "Basic " + base64.b64encode(
                ("%s:%s" % (user, pw)).encode()).decode()
        return harness.http_request(s.http_port, "/x", host=HOST, headers=h)

    harness.wait_for(lambda: get("sha512").backend == "web", 15,
                     "the backend with the password")
    r = get()
    assert r.status == 401, r
    assert r.headers["www-authenticate"] == \
        'Basic realm="Authentication Required - foo"'
    assert get("sha512", "wrong").status == 401
    assert get("nobody").status == 401
    for user in users:
        r = get(user)
        assert r.status == 200 and r.backend == "web", (user, r)

    # auth-map
    ann = dict(BASIC, **{P + "auth-secret-type": "auth-map"})
    s.up(stack_objects(bk, ann) + [secret("basic-auth", {
        "carol": users["apr1"]})], main=ROOT)
    harness.wait_for(lambda: get("carol").backend == "web", 15, "auth-map")
    assert get("carol", "nope").status == 401
    assert get("apr1").status == 401


# ---- external authentication ----------------------------------------------

class AuthServer:
    """A stand-in for oauth2-proxy's /oauth2/auth: 200 with user headers for
    the cookie "_oauth2_proxy=good", 403 for "=banned", else 401.  Keeps
    the requests it saw."""

    def __init__(self):
        seen = self.seen = []

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def answer(self):
                seen.append((self.command, self.path, dict(self.headers)))
                cookie = self.headers.get("Cookie", "")
                if "_oauth2_proxy=good" in cookie:
                    self.send_response(202)
                    self.send_header("X-Auth-Request-User", "alice")
                    self.send_header("X-Auth-Request-Email",
                                     "alice@example.com")
                    self.send_header("X-Not-Passed", "secret")
                    self.send_header("Set-Cookie", "_oauth2_proxy=fresh")
                elif "_oauth2_proxy=banned" in cookie:
                    self.send_response(403)
                else:
                    self.send_response(401)
                    self.send_header("Set-Cookie", "csrf=1")
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_HEAD = answer

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def auth_server():
    a = AuthServer()
    yield a
    a.stop()


def ext_ann(port, **more):
    # ingress-nginx's documented oauth2-proxy shape (its "External OAUTH
    # Authentication" example), the auth URL on the test's own server
    ann = {P + "auth-url": "http://127.0.0.1:%d/oauth2/auth" % port,
           P + "auth-signin":
           "https://$host/oauth2/start?rd=$escaped_request_uri",
           P + "auth-response-headers":
           "X-Auth-Request-User, X-Auth-Request-Email"}
    ann.update({P + k.replace("_", "-"): v for k, v in more.items()})
    return ann


def test_external_auth_text(tmp_path):
    conf, err = render(tmp_path, {
        P + "auth-url": "https://auth.auth-ns.svc.cluster.local:8443/check?x=1",
        P + "auth-method": "POST",
        P + "auth-signin": "https://login.example.com/start",
        P + "auth-signin-redirect-param": "return_to",
        P + "auth-request-redirect": "https://$host/back",
        P + "auth-response-headers": "X-User"}, )
    assert not m.warnings(err), err
    loc = location(conf)
    assert 'auth_request "/_kubengx|auth|default_ing";' in loc, loc
    assert "auth_request_set $kubengx_auth_0 $upstream_http_x_user;" in loc
    assert "add_header Set-Cookie $kubengx_auth_cookie;" in loc
    assert 'proxy_set_header "X-User" $kubengx_auth_0;' in loc
    # the server's headers again: a location's replace them
    assert "proxy_set_header X-Forwarded-For" in loc
    assert "error_page 401 = @kubengx_signin_default_ing;" in loc
    auth = re.search(r'location = "/_kubengx\|auth\|default_ing" \{\n'
                     r'(.*?)\n    \}', conf, re.S).group(1)
    assert "internal;" in auth
    assert re.search(r"resolver \S+", auth), auth
    assert 'set $kubengx_auth_url "https://auth.auth-ns.svc.cluster.local:' \
        '8443/check?x=1";' in auth
    assert 'proxy_set_header Host "auth.auth-ns.svc.cluster.local:8443";' \
        in auth
    assert "proxy_method POST;" in auth
    assert 'proxy_set_header X-Auth-Request-Redirect "https://${host}/back";' \
        in auth
    assert ('return 302 "https://login.example.com/start?return_to='
            '${scheme}://${http_host}${kubengx_escaped_request_uri}";') \
        in conf
    assert "map $request_uri $kubengx_escaped_request_uri" in conf


@pytest.mark.parametrize("key,value", [
    ("auth-url", "ftp://auth.example.com/"),
    ("auth-url", "http://"),
    ("auth-url", "http://auth.example.com/x\"; deny all; \""),
    ("auth-url", "http://auth.example.com/$remote_user"),
    ("auth-url", "http://auth.example.com/${host}"),
    ("auth-url", "http://auth.example.com/a b"),
    ("auth-url", "http://auth.example.com/a;b"),
    ("auth-url", "http://auth_example.com/"),
    ("auth-url", "http://auth.example.com:99999/"),
    ("auth-url", "http://[::1/"),
    ("auth-url", "http://a.example.com/\n"),
    ("auth-signin", "javascript:alert(1)"),
    ("auth-signin", "https://login.example.com/{x}"),
    ("auth-method", "get"),
    ("auth-method", "GET;"),
    ("auth-signin-redirect-param", "r d"),
    ("auth-response-headers", "X-User;evil"),
    ("auth-response-headers", "X-User: x"),
    ("auth-request-redirect", "$request_body"),
    ("auth-always-set-cookie", "yes"),
])
def test_bad_external_auth_refuses_the_ingress(tmp_path, key, value):
    ann = {P + "auth-url": "http://auth.example.com/check", P + key: value}
    conf, err = refused(tmp_path, ann, key)
    assert "auth_request" not in conf and "evil" not in conf


def test_external_auth_keys_without_auth_url_refuse(tmp_path):
    refused(tmp_path, {P + "auth-signin": "https://login.example.com/"},
            P)


@pytest.mark.parametrize("mode", MODES)
def test_external_auth_through_nginx(tmp_path, nginx_factory, kube_api,
                                     backends, auth_server, mode):
    bk = backends("web")
    s = ModeStack(tmp_path, nginx_factory, kube_api, mode)
    s.up(stack_objects(bk, ext_ann(auth_server.port)))

    def get(cookie=None, path="/x?a=1"):
        h = {"Cookie": "_oauth2_proxy=" + cookie} if cookie else {}
        return harness.http_request(s.http_port, path, host=HOST,
                                    headers=h)

    harness.wait_for(lambda: get("good").backend == "web", 15,
                     "the backend with a good session")
    r = get("good", "/x/y")
    seen = r.json()["headers"]
    seen = {k.lower(): v for k, v in seen.items()}
    assert seen["x-auth-request-user"] == "alice"
    assert seen["x-auth-request-email"] == "alice@example.com"
    assert "x-not-passed" not in seen
    # the auth answer's cookie goes to the client (oauth2-proxy refreshes
    # its session so)
    assert r.headers.get("set-cookie") == "_oauth2_proxy=fresh", r.headers
    assert seen["x-forwarded-host"] == HOST
    method, path, hdrs = auth_server.seen[-1]
    hdrs = {k.lower(): v for k, v in hdrs.items()}
    assert (method, path) == ("GET", "/oauth2/auth")
    assert hdrs["x-original-url"] == "http://%s/x/y" % HOST
    assert hdrs["x-original-method"] == "GET"
    assert hdrs["cookie"] == "_oauth2_proxy=good"

    # refused: 401 goes to the sign-in URL with the original request
    r = get()
    assert r.status == 302 and r.backend is None, r
    assert r.headers["location"] == \
        "https://%s/oauth2/start?rd=/x?a=1" % HOST, r.headers
    assert r.headers.get("set-cookie") == "csrf=1", r.headers
    r = get(path="/z/w")
    assert r.headers["location"] == "https://%s/oauth2/start?rd=/z/w" % HOST
    # a URI a query value cannot hold raw keeps its path (no escaping
    # function in nginx)
    r = get(path="/z/w?a=1&b=2")
    assert r.headers["location"] == "https://%s/oauth2/start?rd=/z/w" % HOST
    # forbidden stays forbidden
    r = get("banned")
    assert r.status == 403 and r.backend is None, r
    # the internal location is not reachable from outside
    assert get("good", "/_kubengx%7Cauth%7Cdefault_ing").status == 404

    # without auth-signin, 401 is the answer; POST as the auth method;
    # auth-always-set-cookie: the cookie with a 401 too
    s.up(stack_objects(bk, {
        P + "auth-url": "http://127.0.0.1:%d/oauth2/auth" % auth_server.port,
        P + "auth-method": "POST", P + "auth-always-set-cookie": "true"}))
    # (module mode: the table fills after nginx starts)
    harness.wait_for(lambda: get("good").backend == "web", 15,
                     "the backend again")
    r = get()
    assert r.status == 401 and r.headers.get("set-cookie") == "csrf=1", r
    assert auth_server.seen[-1][0] == "POST"


# ---- fail closed ------------------------------------------------------------

# every access-control annotation ingress-nginx documents that kubengx does
# not implement, with a value of the documented shape
NOT_IMPLEMENTED = {
    "auth-cache-duration": "200 202 401 5m",
    "auth-cache-key": "$remote_user$http_authorization",
    "auth-keepalive": "10",
    "auth-keepalive-requests": "100",
    "auth-keepalive-share-vars": "true",
    "auth-keepalive-timeout": "60",
    "enable-modsecurity": "true",
    "enable-owasp-core-rules": "true",
    "satisfy": "any",
}


@pytest.mark.parametrize("key", sorted(NOT_IMPLEMENTED))
def test_not_implemented_access_control_fails_closed(tmp_path, key):
    ann = {P + key: NOT_IMPLEMENTED[key]}
    conf, err = refused(tmp_path, ann, key)
    assert any("fail closed" in w for w in m.warnings(err)), err
    # --unsupported-annotations=ignore serves it, with a warning
    f = m.write_manifests(tmp_path / "in2", objs(ann))
    rc, _, err, conf = m.render(f, tmp_path / "out2",
                                "--unsupported-annotations", "ignore")
    assert rc == 0 and served(conf), err
    assert any(key in w and "WITHOUT" in w for w in m.warnings(err)), err


@pytest.mark.parametrize("key", sorted(NOT_IMPLEMENTED))
def test_not_implemented_access_control_fails_closed_with_others(tmp_path,
                                                                 key):
    """Beside annotations kubengx implements, the Ingress still is not
    served."""
    ann = dict(BASIC, **{P + "whitelist-source-range": "10.0.0.0/8",
                         P + key: NOT_IMPLEMENTED[key]})
    refused(tmp_path, ann, key,
            [secret("basic-auth", {"auth": "u:{PLAIN}p\n"})])


# ---- rate limits ------------------------------------------------------------

def test_rate_limit_text(tmp_path):
    conf, err = render(tmp_path, {
        P + "limit-rps": "5", P + "limit-rpm": "100",
        P + "limit-connections": "3", P + "limit-burst-multiplier": "2",
        P + "limit-rate": "100", P + "limit-rate-after": "1024"})
    assert not m.warnings(err), err
    assert ("limit_req_zone $binary_remote_addr zone=kubengx_default_ing_rps:"
            "5m rate=5r/s;") in conf
    assert ("limit_req_zone $binary_remote_addr zone=kubengx_default_ing_rpm:"
            "5m rate=100r/m;") in conf
    assert ("limit_conn_zone $binary_remote_addr "
            "zone=kubengx_default_ing_conn:5m;") in conf
    loc = location(conf)
    for line in ["limit_req zone=kubengx_default_ing_rps burst=10 nodelay;",
                 "limit_req zone=kubengx_default_ing_rpm burst=200 nodelay;",
                 "limit_req_status 503;",
                 "limit_conn kubengx_default_ing_conn 3;",
                 "limit_conn_status 503;",
                 "limit_rate 100k;", "limit_rate_after 1024k;"]:
        assert line in loc, (line, loc)


def test_rate_limit_whitelist_and_names(tmp_path):
    """Zones of two Ingresses (one per Ingress, injective names), the
    whitelist as a geo: an empty key is not limited."""
    other = m.ingress("ing.2", [m.rule("b.example.com",
                                       m.path("/", "web", 80))],
                      annotations={P + "limit-rps": "7"})
    conf, err = render(tmp_path, {P + "limit-rps": "5",
                                  P + "limit-whitelist":
                                  "10.0.0.0/8, 192.168.0.1"}, [other])
    assert "zone=kubengx_default_ing.2e2_rps:5m rate=7r/s;" in conf
    assert re.search(r"geo \$kubengx_limit_white_(\d+) \{\n"
                     r"    default 0;\n    10\.0\.0\.0/8 1;\n"
                     r"    192\.168\.0\.1/32 1;\n\}", conf), conf
    assert re.search(r"limit_req_zone \$kubengx_limit_key_\d+ "
                     r"zone=kubengx_default_ing_rps:5m rate=5r/s;", conf)


@pytest.mark.parametrize("key,value", [
    ("limit-rps", "0"), ("limit-rps", "-1"), ("limit-rps", "1.5"),
    ("limit-rps", "5r/s"), ("limit-rpm", "x"), ("limit-connections", "0"),
    ("limit-burst-multiplier", "0"), ("limit-whitelist", "10.0.0.0/40"),
    ("limit-whitelist", "all"), ("limit-rate", "10k"),
    ("limit-rate-after", "1m"), ("limit-rps", "5; limit_req off"),
])
def test_bad_rate_limit_refuses_the_ingress(tmp_path, key, value):
    conf, err = refused(tmp_path, {P + key: value}, key)
    assert "limit_req" not in conf


@pytest.mark.parametrize("mode", MODES)
def test_rate_limit_through_nginx(tmp_path, nginx_factory, kube_api,
                                  backends, mode):
    bk = backends("web")
    s = ModeStack(tmp_path, nginx_factory, kube_api, mode)
    ann = {P + "limit-rps": "1", P + "limit-burst-multiplier": "2"}
    s.up(stack_objects(bk, ann))
    s.wait_backend("open.example.com", "/x", "web")
    got = [s.get(HOST, "/x").status for _ in range(12)]
    assert got.count(503) >= 5, got
    assert 200 in got, got

    # the whitelisted client is never limited
    s.up(stack_objects(bk, dict(ann, **{P + "limit-whitelist":
                                        "127.0.0.0/8"})))
    s.wait_backend("open.example.com", "/x", "web")
    got = [s.get(HOST, "/x").status for _ in range(12)]
    assert got == [200] * 12, got


# ---- client certificates ----------------------------------------------------

def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_ca(d, name):
    """A CA (key, cert) made by the openssl CLI; returns the paths."""
    key, crt = str(d / (name + ".key")), str(d / (name + ".crt"))
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=%s" % name, "-keyout", key, "-out", crt)
    return key, crt


def make_client(d, ca, cn):
    key, csr, crt = (str(d / (cn + x)) for x in (".key", ".csr", ".crt"))
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj",
            "/O=kubengx/CN=%s" % cn, "-keyout", key, "-out", csr)
    openssl("x509", "-req", "-in", csr, "-CA", ca[1], "-CAkey", ca[0],
            "-CAcreateserial", "-days", "2", "-out", crt)
    return crt, key


def ca_secret(ca, name="ca-secret"):
    with open(ca[1]) as f:
        return secret(name, {"ca.crt": f.read()})


def tls_objs(tmp_path, bk, ann, extra_ann=None):
    crt, key = m.self_signed(tmp_path, HOST)
    o = stack_objects(bk, ann)
    ing = [x for x in o if x["kind"] == "Ingress"][0]
    ing["spec"]["tls"] = [{"hosts": [HOST], "secretName": "host-tls"}]
    return o + [m.secret_tls("host-tls", crt, key)]


TLS = {P + "auth-tls-secret": "default/ca-secret",
       P + "auth-tls-verify-client": "on",
       P + "auth-tls-verify-depth": "1",
       P + "auth-tls-pass-certificate-to-upstream": "true"}


def test_client_cert_text(tmp_path):
    ca = make_ca(tmp_path, "ca")
    crt, key = m.self_signed(tmp_path, HOST)
    ing = dict(TLS, **{P + "auth-tls-match-cn": "CN=(alice|bob)$",
                       P + "auth-tls-error-page":
                       "https://example.com/error-cert.html"})
    o = objs(ing, [ca_secret(ca), m.secret_tls("host-tls", crt, key)])
    o[-3]["spec"]["tls"] = [{"hosts": [HOST], "secretName": "host-tls"}]
    f = m.write_manifests(tmp_path / "in", o)
    rc, _, err, conf = m.render(f, tmp_path / "out")
    assert rc == 0 and not m.warnings(err), err
    cdir = tmp_path / "out" / "certs"
    assert ('ssl_client_certificate "%s/default_ca-secret.tlsca";\n'
            '    ssl_verify_client optional;\n'
            '    ssl_verify_depth 1;' % cdir) in conf, conf
    ca_file = cdir / "default_ca-secret.tlsca"
    assert ca_file.read_text() == open(ca[1]).read()
    assert oct(ca_file.stat().st_mode & 0o777) == "0o600"
    loc = location(conf)
    assert ("if ($ssl_client_verify != SUCCESS) {\n"
            '            return 302 "https://example.com/error-cert.html";'
            in loc), loc
    assert ('if ($ssl_client_s_dn !~ "CN=(alice|bob)$") {\n'
            "            return 403;") in loc
    assert "proxy_set_header ssl-client-cert $ssl_client_escaped_cert;" \
        in loc
    assert "proxy_set_header ssl-client-verify $ssl_client_verify;" in loc


@pytest.mark.parametrize("key,value", [
    ("auth-tls-secret", "other/ca-secret"),
    ("auth-tls-secret", "missing"),
    ("auth-tls-secret", "no-ca"),
    ("auth-tls-verify-client", "yes"),
    ("auth-tls-verify-depth", "0"),
    ("auth-tls-verify-depth", "x"),
    ("auth-tls-error-page", "https://x/\"; return 200 pwned; \""),
    ("auth-tls-error-page", "https://x/$host"),
    ("auth-tls-pass-certificate-to-upstream", "yes"),
    # the published advisory's shape (CVE-2025-1097)
    ("auth-tls-match-cn", "CN=abc #(\n){}\n }}\nreturn 200 pwned;\n#"),
    ("auth-tls-match-cn", "CN=(abc"),
    ("auth-tls-match-cn", 'CN=abc"; return 200 pwned; "'),
])
def test_bad_client_cert_refuses_the_ingress(tmp_path, key, value):
    ca = make_ca(tmp_path, "ca")
    ann = dict(TLS, **{P + key: value})
    conf, err = refused(tmp_path, ann, P, [
        ca_secret(ca), secret("no-ca", {"tls.crt": "x"}),
        ca_secret(ca, "ca-secret") | {"metadata": {"name": "ca-secret",
                                                    "namespace": "other"}}])
    assert "pwned" not in conf and "ssl_verify_client" not in conf


def test_client_cert_without_tls_or_disagreeing_is_refused(tmp_path):
    ca = make_ca(tmp_path, "ca")
    # no tls entry: the route is refused, not served without certificates
    conf, err = render(tmp_path, TLS, [ca_secret(ca)])
    assert "return 503;" in location(conf), conf
    assert any("no tls entry" in w for w in m.warnings(err)), err

    # a younger Ingress of the host with another CA: refused (503)
    crt, key = m.self_signed(tmp_path, HOST)
    o = objs(TLS, [ca_secret(ca), ca_secret(ca, "ca-2"),
                   m.secret_tls("host-tls", crt, key)])
    o[-4]["spec"]["tls"] = [{"hosts": [HOST], "secretName": "host-tls"}]
    o.append(m.ingress("young", [m.rule(HOST, m.path("/y", "web", 80))],
                       annotations=dict(TLS, **{P + "auth-tls-secret":
                                                "ca-2"}),
                       created="2021-01-01T00:00:00Z"))
    f = m.write_manifests(tmp_path / "in3", o)
    rc, _, err, conf = m.render(f, tmp_path / "out3")
    assert rc == 0, err
    assert "default_ca-secret.tlsca" in conf
    assert "return 503;" in location(conf, "/y/"), conf
    assert "return 503;" not in location(conf, "/"), conf
    assert any("older Ingress" in w and "/y" in w
               for w in m.warnings(err)), err


@pytest.mark.parametrize("mode", MODES)
def test_client_cert_through_nginx(tmp_path, nginx_factory, kube_api,
                                   backends, mode):
    bk = backends("web")
    ca, other = make_ca(tmp_path, "ca"), make_ca(tmp_path, "other-ca")
    alice = make_client(tmp_path, ca, "alice")
    mallory = make_client(tmp_path, other, "mallory")
    bob = make_client(tmp_path, ca, "bob")
    ann = dict(TLS, **{P + "auth-tls-match-cn": "CN=alice"})
    s = ModeStack(tmp_path, nginx_factory, kube_api, mode)
    s.up(tls_objs(tmp_path, bk, ann) + [ca_secret(ca)])

    def get(cert=None):
        args = ["-k", "--resolve", "%s:%d:127.0.0.1" % (HOST, s.https_port)]
        if cert:
            args += ["--cert", cert[0], "--key", cert[1]]
        return harness.curl("https://%s:%d/x" % (HOST, s.https_port), *args)

    harness.wait_for(lambda: get(alice).backend == "web", 15,
                     "the backend with alice's certificate")
    seen = {k.lower(): v for k, v in get(alice).json()["headers"].items()}
    assert seen["ssl-client-verify"] == "SUCCESS"
    assert "CN=alice" in seen["ssl-client-subject-dn"]
    pem = urllib.parse.unquote(seen["ssl-client-cert"])
    assert pem.strip() == open(alice[0]).read().strip()
    r = get()
    assert r.status == 400 and r.backend is None, r          # none
    r = get(mallory)
    assert r.status == 400 and r.backend is None, r          # other CA
    r = get(bob)
    assert r.status == 403 and r.backend is None, r          # CN


# ---- the controller -------------------------------------------------------

def test_controller_reads_opaque_auth_secret_and_its_changes(
        tmp_path, kube_api, backends, controllers):
    """The controller watches Secrets of every type: an Opaque basic-auth
    Secret is served, and a new password replaces the old one."""
    bk = backends("a")
    api = kube_api()
    for o in [m.ingress_class("kubengx")] + m.backend_service(bk, "svc-a",
                                                              "a"):
        api.create(o)
    api.create(secret("basic-auth", {"auth": "foo:{PLAIN}one\n"}))
    api.create(m.ingress("web", [m.rule(HOST, m.path("/", "svc-a", 80))],
                         annotations=BASIC))
    # nginx's workers read the users as the user that wrote them (the
    # image runs both as uid 101; here both as root)
    d = tmp_path / "ctl"
    d.mkdir()
    conf = d / "main.conf"
    conf.write_text(
        "user root;\ndaemon off;\nmaster_process on;\nworker_processes 1;\n"
        "pid %(d)s/nginx.pid;\nerror_log stderr notice;\n"
        "events { worker_connections 64; }\n"
        "http {\n    access_log off;\n"
        "    client_body_temp_path %(d)s/tmp/client_body;\n"
        "    proxy_temp_path %(d)s/tmp/proxy;\n"
        "    fastcgi_temp_path %(d)s/tmp/fastcgi;\n"
        "    uwsgi_temp_path %(d)s/tmp/uwsgi;\n"
        "    scgi_temp_path %(d)s/tmp/scgi;\n"
        "    include %(d)s/kubengx.conf;\n}\n" % {"d": d})
    ctl = controllers(api, args=["--nginx-conf", str(conf)]).wait_ready()

    def get(pw):
        h = {"Authorization": "Basic " + base64.b64encode(
            ("foo:" + pw).encode()).decode()}
        return harness.http_request(ctl.http_port, "/x", host=HOST,
                                    headers=h, timeout=5)

    harness.wait_for(lambda: get("one").backend == "a", 15, "password one")
    assert get("two").status == 401
    sec = api.get("/api/v1/namespaces/default/secrets/basic-auth")
    sec["data"] = secret("x", {"auth": "foo:{PLAIN}two\n"})["data"]
    api.replace(sec)
    harness.wait_for(lambda: get("two").backend == "a", 15, "password two")
    assert get("one").status == 401


def test_client_cert_checks_come_before_a_rewrite_break(tmp_path):
    """rewrite-target ends the location's rewrite directives with "break":
    the certificate checks must come before it, or they would be
    skipped."""
    ca = make_ca(tmp_path, "ca")
    crt, key = m.self_signed(tmp_path, HOST)
    ann = dict(TLS, **{P + "auth-tls-match-cn": "CN=alice",
                       P + "rewrite-target": "/"})
    o = objs(ann, [ca_secret(ca), m.secret_tls("host-tls", crt, key)])
    o[-3]["spec"]["tls"] = [{"hosts": [HOST], "secretName": "host-tls"}]
    f = m.write_manifests(tmp_path / "in", o)
    rc, _, err, conf = m.render(f, tmp_path / "out")
    assert rc == 0, err
    host = conf[conf.index('server_name "%s"' % HOST):]
    assert "break;" in host, host
    for check in ("$ssl_client_verify != SUCCESS", "$ssl_client_s_dn !~"):
        assert host.index(check) < host.index("break;"), host


@pytest.mark.parametrize("mode", ["static", "module"])
def test_external_auth_in_cluster_service_name(tmp_path, nginx_factory,
                                               kube_api, backends,
                                               auth_server, mode):
    """auth-url naming a Service by its cluster DNS name, resolved per
    request through --resolver (a stand-in DNS server); a name DNS does
    not know fails closed (500), never open."""
    from dns_server import DNSServer
    dns = DNSServer({"oauth2-proxy.auth.svc.cluster.local": "127.0.0.1"})
    try:
        bk = backends("web")
        s = ModeStack(tmp_path, nginx_factory, kube_api, mode)
        url = "http://oauth2-proxy.auth.svc.cluster.local:%d/oauth2/auth" \
            % auth_server.port
        s.up(stack_objects(bk, {P + "auth-url": url}), "--resolver",
             "127.0.0.1:%d" % dns.port)

        def get(cookie=None):
            h = {"Cookie": "_oauth2_proxy=" + cookie} if cookie else {}
            return harness.http_request(s.http_port, "/x", host=HOST,
                                        headers=h)

        harness.wait_for(lambda: get("good").backend == "web", 15,
                         "allowed through the Service name")
        assert get().status == 401
        assert ("oauth2-proxy.auth.svc.cluster.local", 1) in dns.queries
        assert auth_server.seen[-1][2]["Host"] == \
            "oauth2-proxy.auth.svc.cluster.local:%d" % auth_server.port

        s.up(stack_objects(bk, {P + "auth-url": url.replace(
            "oauth2-proxy.", "nobody.")}), "--resolver",
            "127.0.0.1:%d" % dns.port)
        harness.wait_for(lambda: get("good").status == 500, 15,
                         "500 when the name does not resolve")
    finally:
        dns.stop()


def test_other_secret_keys_are_read_quietly(tmp_path):
    """Secrets' other keys are read for auth-secret and auth-tls-secret
    only: one that is no base64 is no error for a TLS Secret, and refuses
    the Ingress that names it for its users."""
    crt, key = m.self_signed(tmp_path, HOST)
    tls = m.secret_tls("host-tls", crt, key)
    tls["data"]["junk"] = "!!! not base64 !!!"
    bad = secret("basic-auth", {})
    bad["data"] = {"auth": "!!! not base64 !!!"}
    o = objs(BASIC, [tls, bad])
    o[-3]["spec"]["tls"] = [{"hosts": [HOST], "secretName": "host-tls"}]
    f = m.write_manifests(tmp_path / "in", o)
    rc, _, err, conf = m.render(f, tmp_path / "out")
    assert rc == 0, err
    assert "base64" not in err, err
    assert not served(conf)
    assert any("auth-secret" in w and "no user" in w
               for w in m.warnings(err)), err


def test_stdout_render_warns_that_user_files_are_not_written(tmp_path):
    f = m.write_manifests(tmp_path / "in", objs(BASIC, [
        secret("basic-auth", {"auth": "u:{PLAIN}p\n"})]))
    rc, out, err, conf = m.render(f, None)
    assert rc == 0 and "auth_basic_user_file" in conf, err
    assert "basic-auth users" in err, err
