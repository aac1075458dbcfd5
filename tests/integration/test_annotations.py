"""ingress-nginx's annotations (generator/annotations/): each through a
real nginx and real backends, and their good and bad values in the
rendered text.  Inputs are ingress-nginx's documented examples
(tests/data/ingress-nginx/, origin and licence in its README.md) where
they exist.  Nothing is silent: unknown keys, unsupported keys and bad
values are warnings naming the Ingress and the annotation; access
control kubengx does not implement fails closed."""

import os

import pytest

import harness
from manifests import (Stack, directive_problems, endpoint, ingress, lint,
                       path, render, rule, secret_tls, self_signed, service,
                       slice_, svc_port, write_manifests)
from modes import MODES, ModeStack, tenant

DATA = os.path.join(harness.ROOT, "tests", "data", "ingress-nginx")
P = "nginx.ingress.kubernetes.io/"


def data(name):
    return os.path.join(DATA, name)


@pytest.fixture
def stack(tmp_path, nginx_factory, kubengx):
    return Stack(tmp_path, nginx_factory)


def http_svc(bk, name="a"):
    """An EndpointSlice for the examples' http-svc (service.yaml: one
    unnamed port 80, targetPort 8080) with test backend name."""
    _, port = bk.host_port(name)
    return [slice_("http-svc", [endpoint("127.0.0.1")], [(None, port)])]


def example(stack, bk, *files, flags=(), rc=0):
    return stack.up(http_svc(bk), "--class", "nginx", *flags, rc=rc,
                    extra_files=[data("service.yaml")]
                    + [data(f) for f in files])


def web(bk, name="a", svc="web"):
    """Service svc (the commonest shape: one unnamed port, targetPort
    8080) whose endpoint is test backend name."""
    _, port = bk.host_port(name)
    return [service(svc, [svc_port(None, 80, 8080)]),
            slice_(svc, [endpoint("127.0.0.1")], [(None, port)])]


def ing(name, host, ann, *paths):
    paths = paths or (path("/", "web", 80),)
    return ingress(name, [rule(host, *paths)], annotations=ann)


# --- routing: regex paths, rewrite-target, app-root ----------------------

def test_rewrite_example(stack, backends):
    """ingress-nginx's rewrite example: /something(/|$)(.*) -> /$2."""
    bk = backends("a")
    example(stack, bk, "rewrite.yaml")
    assert not stack.warnings(), stack.err
    h = "rewrite.bar.com"
    for got, want in [("/something", "/"), ("/something/", "/"),
                      ("/something/new", "/new"),
                      ("/something/new/x?q=1", "/new/x?q=1"),
                      ("/SOMETHING/case", "/case")]:
        r = stack.get(got, h)
        assert r.backend == "a", (got, r)
        assert r.json()["path"] == want, (got, r.json())
    # not the regex: no route
    assert stack.get("/somethingelse", h).status == 404
    assert stack.get("/x/something", h).status == 404


@pytest.mark.parametrize("mode", MODES)
def test_rewrite_in_every_mode(tmp_path, nginx_factory, kube_api, backends,
                               mode):
    bk = backends("a")
    objs, port = tenant(bk, "a", "default", "svc-a")
    objs.append(ingress("rw", [rule("r.example.com", path(
        "/api(/|$)(.*)", "svc-a", port, "ImplementationSpecific"))],
        annotations={P + "use-regex": "true",
                     P + "rewrite-target": "/v2/$2"}))
    s = ModeStack(tmp_path, nginx_factory, kube_api, mode)
    s.up(objs)
    s.wait_backend("r.example.com", "/api/x", "a")
    assert s.get("r.example.com", "/api/users/7").json()["path"] == \
        "/v2/users/7"
    assert s.get("r.example.com", "/api").json()["path"] == "/v2/"


def test_service_upstream_in_module_mode(tmp_path, nginx_factory, kube_api,
                                        backends):
    """service-upstream: the ClusterIP (here the backend's address), not
    the module's endpoint table, for that Ingress only."""
    bk = backends("a")
    objs, port = tenant(bk, "a", "default", "svc-a")
    objs += [ingress("su", [rule("su.example.com", path("/", "svc-a", port))],
                     annotations={P + "service-upstream": "true"}),
             ingress("plain", [rule("p.example.com",
                                    path("/", "svc-a", port))])]
    s = ModeStack(tmp_path, nginx_factory, kube_api, "module")
    s.up(objs)
    assert "upstream default_svc-a_http__p-svc {" in s.conf, s.conf
    assert "    server 127.0.0.1:%d" % port in s.conf
    assert "k8s_service default/svc-a" in s.conf     # the other Ingress
    assert s.get("su.example.com", "/").backend == "a"
    s.wait_backend("p.example.com", "/", "a")


def test_regex_order(stack, backends):
    """The order README's "Regex paths" writes down: Exact first, then
    the regex paths (longest pattern first, first match), then the
    longest prefix; only the Ingress that asks gets regexes."""
    bk = backends("exact", "long", "short", "pre", "other")
    objs = []
    for n in ("exact", "long", "short", "pre", "other"):
        objs += web(bk, n, "svc-" + n)
    objs += [
        ing("re", "o.example.com", {P + "use-regex": "true"},
            path("/api/v[0-9]+/users", "svc-long", 80,
                 "ImplementationSpecific"),
            path("/api/v[0-9]+", "svc-short", 80, "Prefix"),
            path("/api/v1", "svc-exact", 80, "Exact")),
        ing("plain", "o.example.com", None,
            path("/api", "svc-pre", 80),
            path("/a.c", "svc-other", 80)),
    ]
    stack.up(objs)
    h = "o.example.com"
    assert stack.backend_of("/api/v1", h) == "exact"
    assert stack.backend_of("/api/v1/users/3", h) == "long"
    assert stack.backend_of("/api/v22", h) == "short"
    assert stack.backend_of("/API/V3", h) == "short"    # ~*, as ingress-nginx
    assert stack.backend_of("/api/x", h) == "pre"
    assert stack.backend_of("/api", h) == "pre"
    # the other Ingress's paths stay prefixes: "." is no wildcard there
    assert stack.backend_of("/a.c/d", h) == "other"
    assert stack.backend_of("/abc", h) == 404


def test_pcre_paths_nginx_compiles(stack, backends):
    """A regex path is checked with PCRE2 as nginx compiles it, not a
    subset: counted repeats, non-capturing groups and lookahead are
    served, a quote and a semicolon stay inside the quoted regex, and
    the capture groups rewrite-target names are counted as PCRE2 does."""
    bk = backends("v", "q")
    objs = web(bk, "v", "svc-v") + web(bk, "q", "svc-q") + [
        ing("pcre", "pcre.example.com", {P + "rewrite-target": "/$2"},
            path("/v[0-9]{1,3}(?=/)(?:/(x|y))?(/.*)", "svc-v", 80,
                 "ImplementationSpecific")),
        ing("quote", "q.example.com", {P + "use-regex": "true"},
            path('/a"b;c\\d{2}', "svc-q", 80, "ImplementationSpecific"))]
    stack.up(objs)
    assert not stack.warnings(), stack.err
    h = "pcre.example.com"
    r = stack.get("/v12/x/users", h)
    assert r.backend == "v" and r.json()["path"] == "/users", r
    assert stack.get("/v12/users", h).json()["path"] == "/users"
    assert stack.get("/v1234/users", h).status == 404
    assert stack.get("/v12", h).status == 404           # the lookahead
    assert stack.backend_of('/a"b;c77', "q.example.com") == "q"
    assert stack.backend_of('/a"b;c7', "q.example.com") == 404


def test_hostless_regex_stays_in_the_catch_all(stack, backends):
    bk = backends("re", "own")
    objs = web(bk, "re", "svc-re") + web(bk, "own", "svc-own") + [
        ingress("hostless", [rule(None, path("/.*", "svc-re", 80,
                                             "ImplementationSpecific"))],
                annotations={P + "use-regex": "true"}),
        ing("own", "own.example.com", None, path("/api", "svc-own", 80))]
    stack.up(objs)
    assert stack.backend_of("/api/x", "own.example.com") == "own"
    assert stack.backend_of("/anything", "unknown.example.com") == "re"


def test_app_root_example(stack, backends):
    bk = backends("a")
    example(stack, bk, "approot.yaml")
    r = stack.get("/", "approot.bar.com")
    assert r.status == 302, r
    assert r.headers["location"] == "http://approot.bar.com/app1", r.headers
    r = stack.get("/app1", "approot.bar.com")
    assert r.backend == "a" and r.json()["path"] == "/app1"


def test_upstream_vhost_and_forwarded_prefix(stack, backends):
    bk = backends("a")
    stack.up(web(bk) + [ing("v", "v.example.com", {
        P + "upstream-vhost": "internal.example.org",
        P + "x-forwarded-prefix": "/shop",
        P + "connection-proxy-header": "keep-alive"})])
    j = stack.get("/x", "v.example.com").json()
    assert j["host"] == "internal.example.org", j
    assert j["headers"]["x-forwarded-prefix"] == "/shop", j
    assert j["headers"]["connection"] == "keep-alive", j
    # the server's other proxy headers are still sent from the location
    assert j["headers"]["x-forwarded-host"] == "v.example.com", j


# --- redirects ------------------------------------------------------------

def test_permanent_redirect_example(stack, backends):
    bk = backends("a")
    example(stack, bk, "redirect.yaml")
    r = stack.get("/any/path?x=1", "redirect.bar.com")
    assert r.status == 308, r
    assert r.headers["location"] == "https://www.google.com", r.headers
    assert r.backend is None


@pytest.mark.parametrize("ann,status,location", [
    ({P + "permanent-redirect": "https://new.example.com/x"}, 301,
     "https://new.example.com/x"),
    ({P + "temporal-redirect": "http://tmp.example.com:8080/y?a=b"}, 302,
     "http://tmp.example.com:8080/y?a=b"),
    ({P + "temporal-redirect": "https://t.example.com",
      P + "temporal-redirect-code": "307",
      P + "permanent-redirect": "https://p.example.com"}, 307,
     "https://t.example.com"),
])
def test_redirects(stack, backends, ann, status, location):
    bk = backends("a")
    stack.up(web(bk) + [ing("r", "r.example.com", ann)])
    r = stack.get("/p", "r.example.com")
    assert (r.status, r.headers.get("location")) == (status, location), r


def test_force_ssl_redirect_without_certificate(stack, backends):
    bk = backends("a")
    stack.up(web(bk) + [ing("f", "f.example.com",
                            {P + "force-ssl-redirect": "true"})])
    r = stack.get("/p?q", "f.example.com")
    assert r.status == 308, r
    assert r.headers["location"] == "https://f.example.com/p?q"


def test_ssl_redirect_false_serves_http(stack, backends, tmp_path):
    bk = backends("a")
    crt, key = self_signed(tmp_path, "s.example.com")
    tls = [{"hosts": ["s.example.com"], "secretName": "s-tls"}]
    objs = web(bk) + [secret_tls("s-tls", crt, key)]
    plain = ingress("s", [rule("s.example.com", path("/", "web", 80))],
                    tls=tls)
    stack.up(objs + [plain], tls=True)
    assert stack.get("/x", "s.example.com").status == 308
    off = ingress("s", [rule("s.example.com", path("/", "web", 80))],
                  tls=tls, annotations={P + "ssl-redirect": "false"})
    stack.up(objs + [off], tls=True)
    assert stack.backend_of("/x", "s.example.com") == "a"
    assert stack.https("s.example.com", "/x").backend == "a"


# --- proxy tuning ---------------------------------------------------------

def traversable(d):
    """nginx's workers (nobody when the tests run as root) write request
    bodies under the test's directory: let them reach it."""
    d = os.path.abspath(str(d))
    while d not in ("/", "/tmp"):
        os.chmod(d, os.stat(d).st_mode | 0o711)
        d = os.path.dirname(d)


def test_body_size_example(stack, backends, tmp_path):
    """A 2 MB upload: 413 under nginx's 1m default, 200 under
    proxy-body-size: 8m (ingress-nginx's example)."""
    traversable(tmp_path)
    bk = backends("a")
    other = ingress("plain", [rule("plain.bar.com",
                                   path("/", "http-svc", 80))], cls="nginx")
    stack.up(http_svc(bk) + [other], "--class", "nginx",
             extra_files=[data("service.yaml"), data("body-size.yaml")])
    body = b"x" * (2 * 1024 * 1024)
    r = stack.get("/up", "upload.bar.com", method="POST", body=body)
    assert r.status == 200 and r.backend == "a", r
    assert len(r.json()["body"]) == len(body)
    assert stack.get("/up", "plain.bar.com", method="POST",
                     body=body).status == 413


def test_proxy_read_timeout(stack, backends):
    bk = backends("a")
    stack.up(web(bk) + [
        ing("slow", "slow.example.com", {P + "proxy-read-timeout": "1"}),
        ing("patient", "patient.example.com", None)])
    assert stack.get("/?delay=2500", "slow.example.com").status == 504
    assert stack.backend_of("/?delay=2500", "patient.example.com") == "a"


def test_proxy_redirect_loads(stack, backends):
    """proxy-redirect-from/-to as nginx loads them (the test backend sends
    no Location to rewrite: the text is checked)."""
    bk = backends("a")
    stack.up(web(bk) + [ing("c", "c.example.com", {
        P + "proxy-redirect-from": "http://internal:8080/",
        P + "proxy-redirect-to": "https://c.example.com/app/"})])
    assert 'proxy_redirect "http://internal:8080/" ' \
        '"https://c.example.com/app/";' in stack.conf


def test_limit_rps(stack, backends):
    """limit-rps 1 with burst multiplier 1: two requests at once pass,
    more in the same second get 503; another Ingress is not limited."""
    bk = backends("a")
    stack.up(web(bk) + [
        ing("lim", "lim.example.com", {P + "limit-rps": "1",
                                       P + "limit-burst-multiplier": "1"}),
        ing("free", "free.example.com", None)])
    got = [stack.get("/", "lim.example.com").status for _ in range(6)]
    assert got[0] == 200 and 503 in got, got
    assert all(stack.get("/", "free.example.com").status == 200
               for _ in range(6))


def test_cors_example(stack, backends):
    """ingress-nginx's CORS example: the preflight is answered by nginx."""
    bk = backends("a")
    example(stack, bk, "cors.yaml")
    assert not stack.warnings(), stack.err
    h = "cors.bar.com"
    r = stack.get("/api", h, method="OPTIONS", headers={
        "Origin": "https://origin-site.com:4443",
        "Access-Control-Request-Method": "PUT"})
    assert r.status == 204 and r.backend is None, r
    hd = r.headers
    assert hd["access-control-allow-origin"] == \
        "https://origin-site.com:4443"
    assert hd["access-control-allow-methods"] == "PUT, GET, POST, OPTIONS"
    assert hd["access-control-allow-headers"] == \
        "X-Forwarded-For, X-app123-XPTO"
    assert hd["access-control-max-age"] == "600"
    assert "access-control-allow-credentials" not in hd
    r = stack.get("/api", h, headers={"Origin": "myapp://origin-site.com"})
    assert r.backend == "a"
    assert r.headers["access-control-allow-origin"] == \
        "myapp://origin-site.com"
    assert r.headers["access-control-expose-headers"] == \
        "*, X-CustomResponseHeader"
    r = stack.get("/api", h, headers={"Origin": "https://evil.example"})
    assert r.backend == "a"
    assert "access-control-allow-origin" not in r.headers


def test_cors_defaults(stack, backends):
    bk = backends("a")
    stack.up(web(bk) + [ing("c", "c.example.com",
                            {P + "enable-cors": "true"})])
    r = stack.get("/", "c.example.com", method="OPTIONS",
                  headers={"Origin": "https://x.example"})
    assert r.status == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["access-control-allow-credentials"] == "true"
    assert r.headers["access-control-max-age"] == "1728000"
    assert "PATCH" in r.headers["access-control-allow-methods"]


# --- never silent ---------------------------------------------------------

def test_basic_auth_example_and_fail_closed(stack, backends):
    """ingress-nginx's basic-auth example: without its Secret the route is
    not served (closed); with it, 401 without the password and 200 with
    it.  An access-control key kubengx does not implement (satisfy) keeps
    the Ingress out unless --unsupported-annotations=ignore."""
    import base64
    bk = backends("a")
    example(stack, bk, "auth.yaml")
    assert stack.get("/", "foo.bar.com").backend is None
    w = [x for x in stack.warnings() if "default/ingress-with-auth" in x]
    assert any("auth-secret" in x and "not served" in x for x in w), w
    example(stack, bk, "auth.yaml", "auth-secret.yaml")
    r = stack.get("/", "foo.bar.com")
    assert r.status == 401 and r.backend is None, r
    bad = "Basic " + base64.b64encode(b"foo:wrong").decode()
    r = stack.get("/", "foo.bar.com", headers={"Authorization": bad})
    assert r.backend is None, r
    # 200 with the password: test_render_access.py (nginx's workers must
    # read the users file, written 0600 by the user that renders)
    stack.up(web(bk) + [ing("s", "s.example.com", {P + "satisfy": "any"})])
    assert stack.get("/", "s.example.com").backend is None
    w = [x for x in stack.warnings() if "default/s" in x]
    assert any(P + "satisfy" in x and "fail closed" in x for x in w), w
    stack.up(web(bk) + [ing("s", "s.example.com", {P + "satisfy": "any"})],
             "--unsupported-annotations=ignore")
    assert stack.backend_of("/", "s.example.com") == "a"
    assert any("WITHOUT" in x for x in stack.warnings()), stack.err


def test_unknown_and_unsupported_are_warned(tmp_path, kubengx):
    f = write_manifests(tmp_path, [
        service("web", [svc_port(None, 80, 8080)]),
        ing("w", "w.example.com", {
            P + "load-balanse": "ewma",
            P + "server-snippet": "return 200 x;",
            P + "enable-opentelemetry": "true",
            P + "completely-made-up": "1",
            P + "canary": "true", P + "affinity": "cookie"})])
    rc, _, err, conf = render(f, None, "--watch-without-class",
                              endpoints="cluster-ip")
    assert rc == 0, err
    w = [x for x in err.splitlines() if "default/w" in x]
    assert any("load-balanse" in x and "did you mean " + P + "load-balance"
               in x for x in w), w
    assert any("server-snippet" in x and "not supported" in x for x in w)
    assert any("enable-opentelemetry" in x and "not supported" in x
               for x in w)
    assert any("completely-made-up" in x and "unknown" in x for x in w)
    # canary and affinity belong to another part of kubengx (plan_canary.c:
    # a canary without a primary route is its warning, not the registry's)
    # (the test's directory name holds "unknown" and "unsupported")
    assert not any(("canary" in x or "affinity" in x)
                   and ("unknown annotation" in x or "not supported" in x)
                   for x in w), w
    assert "return 200 x" not in conf
    rc, out, _ = lint(f, "--watch-without-class")
    assert "unknown-annotation" in out or "did you mean" in out, out


def test_lint_fails_closed_is_an_error(tmp_path, kubengx):
    f = write_manifests(tmp_path, [
        ingress("ingress-with-satisfy", [rule("foo.bar.com", path(
            "/", "http-svc", 80))], cls="nginx",
            annotations={P + "satisfy": "any"})], name="satisfy")
    rc, out, err = lint([data("service.yaml"), f], "--class", "nginx")
    assert rc == 1, (out, err)
    assert "ingress-with-satisfy" in out and "satisfy" in out, out
    rc, out, err = lint([data("service.yaml"), f], "--class", "nginx",
                        "--unsupported-annotations", "ignore")
    assert rc == 0, (out, err)


# --- values: good ones become directives, bad ones refuse the Ingress -----

GOOD = [
    ("proxy-body-size", "8m", "client_max_body_size 8m;"),
    ("proxy-body-size", "0", "client_max_body_size 0;"),
    ("client-body-buffer-size", "64k", "client_body_buffer_size 64k;"),
    ("proxy-connect-timeout", "15", "proxy_connect_timeout 15s;"),
    ("proxy-send-timeout", "120s", "proxy_send_timeout 120s;"),
    ("proxy-read-timeout", "3600", "proxy_read_timeout 3600s;"),
    ("proxy-buffering", "off", "proxy_buffering off;"),
    ("proxy-buffer-size", "16k", "proxy_buffers 4 16k;"),
    ("proxy-buffers-number", "8", "proxy_buffers 8 4k;"),
    ("proxy-max-temp-file-size", "0", "proxy_max_temp_file_size 0;"),
    ("proxy-request-buffering", "off", "proxy_request_buffering off;"),
    ("proxy-next-upstream", "error timeout http_502",
     "proxy_next_upstream error timeout http_502;"),
    ("proxy-next-upstream-tries", "3", "proxy_next_upstream_tries 3;"),
    ("proxy-next-upstream-timeout", "10", "proxy_next_upstream_timeout 10s;"),
    ("proxy-http-version", "1.0", "proxy_http_version 1.0;"),
    ("proxy-max-temp-file-size", "1024m", "proxy_max_temp_file_size 1024m;"),
    ("proxy-cookie-domain", "localhost example.org",
     'proxy_cookie_domain "localhost" "example.org";'),
    ("proxy-cookie-path", "/ /app", 'proxy_cookie_path "/" "/app";'),
    ("proxy-cookie-path", "off", "proxy_cookie_path off;"),
    ("proxy-redirect-from", "off", "proxy_redirect off;"),
    ("limit-rps", "10", "limit_req zone=kubengx_default_t_rps burst=50 "
     "nodelay;"),
    ("limit-rpm", "60", "zone=kubengx_default_t_rpm:5m rate=60r/m;"),
    ("limit-connections", "4", "limit_conn kubengx_default_t_conn 4;"),
    ("enable-access-log", "false", "access_log off;"),
    ("enable-rewrite-log", "true", "rewrite_log on;"),
    ("permanent-redirect", "https://a.example.com/b",
     'return 301 "https://a.example.com/b";'),
    ("app-root", "/app", 'return 302 "$scheme://$kubengx_host/app";'),
    ("x-forwarded-prefix", "/p", 'X-Forwarded-Prefix "/p";'),
    ("upstream-vhost", "svc.ns.svc.cluster.local:8080",
     'Host "svc.ns.svc.cluster.local:8080";'),
    ("rewrite-target", "/", 'rewrite "(?i)^/app" "/" break;'),
]

BAD = [
    ("proxy-body-size", "8 m"), ("proxy-body-size", "8m;evil"),
    ("proxy-body-size", "-1"), ("client-body-buffer-size", "0"),
    ("proxy-connect-timeout", "0"), ("proxy-connect-timeout", "5m"),
    ("proxy-read-timeout", "1;"), ("proxy-buffering", "yes"),
    ("proxy-buffers-number", "0"), ("proxy-buffers-number", "2"),
    ("proxy-max-temp-file-size", "1k"), ("proxy-next-upstream", "error evil"),
    ("proxy-next-upstream-tries", "x"), ("proxy-http-version", "2"),
    ("permanent-redirect", "https://x/$request_uri"),
    ("permanent-redirect", "https://x/\"; return 200"),
    ("permanent-redirect", "/relative"),
    ("permanent-redirect-code", "200"), ("temporal-redirect-code", "308"),
    ("ssl-redirect", "maybe"), ("use-regex", "yes"),
    ("rewrite-target", "/$uri"), ("rewrite-target", "x"),
    ("rewrite-target", "/a b"), ("app-root", "app"),
    ("x-forwarded-prefix", "/p\"x"), ("upstream-vhost", "a b"),
    ("upstream-vhost", "h:99999"), ("enable-cors", "1"),
    ("cors-allow-origin", "origin-site.com"),
    ("cors-allow-methods", "GET;POST"), ("cors-max-age", "-5"),
    ("connection-proxy-header", "keep alive"), ("service-upstream", "yes"),
    ("limit-rps", "0"), ("limit-connections", "x"),
    ("enable-access-log", "no"),
    ("proxy-cookie-domain", "a.com"), ("proxy-cookie-path", "/a /b /c"),
    ("proxy-cookie-path", "/a $uri"), ("proxy-redirect-to", "/x$1"),
]


def render_one(tmp_path, ann, paths=None, check=False):
    """check: nginx -t on the output too (render --check)."""
    f = write_manifests(tmp_path, [
        service("web", [svc_port(None, 80, 8080)]),
        ingress("good", [rule("good.example.com", path("/", "web", 80))]),
        ingress("t", [rule("t.example.com",
                           *(paths or [path("/", "web", 80),
                                       path("/app", "web", 80)]))],
                annotations=ann)])
    rc, _, err, conf = render(f, None, *(["--check"] if check else []),
                              endpoints="cluster-ip")
    assert rc == 0, err
    assert not directive_problems(conf, marker="evil"), conf
    return conf, [x for x in err.splitlines() if "default/t" in x]


@pytest.mark.parametrize("key,value,line", GOOD,
                         ids=["%s=%s" % (k, v) for k, v, _ in GOOD])
def test_good_values(tmp_path, kubengx, key, value, line):
    """The directive is written, and nginx -t loads it."""
    conf, w = render_one(tmp_path, {P + key: value}, check=True)
    assert line in conf, conf
    assert not [x for x in w if key in x], w


@pytest.mark.parametrize("ann", [
    {"proxy-buffer-size": "64k", "proxy-buffers-number": "4",
     "proxy-max-temp-file-size": "128k"},
    {"proxy-buffer-size": "8k", "proxy-max-temp-file-size": "8k",
     "proxy-buffering": "on"},
    {"proxy-buffers-number": "16", "client-body-buffer-size": "1m",
     "proxy-body-size": "100m", "proxy-request-buffering": "off"},
], ids=["big", "small", "many"])
def test_combinations_load(tmp_path, kubengx, ann):
    """Values that nginx checks against each other still load together
    (nginx -t), none refused."""
    conf, w = render_one(tmp_path, {P + k: v for k, v in ann.items()},
                         check=True)
    assert "t.example.com" in conf
    assert not [x for x in w if "not served" in x], w


@pytest.mark.parametrize("key,value", BAD,
                         ids=["%s=%s" % kv for kv in BAD])
def test_bad_values_refuse_the_ingress(tmp_path, kubengx, key, value):
    conf, w = render_one(tmp_path, {P + key: value})
    assert "t.example.com" not in conf, conf
    assert any(P + key in x and "not served" in x for x in w), w
    assert "evil" not in conf and "$uri" not in conf
    # only that Ingress
    assert "good.example.com" in conf


@pytest.mark.parametrize("p,why", [
    ("/a(b", "missing closing parenthesis"),
    ("/a)", "unmatched closing parenthesis"),
    ("/a(*b)", "not recognized"), ("/a[z-a]", "out of order"),
    ("/a{2,1}", "out of order"), ("/(?<=a+)b", "lookbehind"),
    ("/a\\", "at end of pattern"), ("/a b", "space"),
    ("/(?<host>x)", "named group"), ("/(?P<kubengx_host>x)", "named group"),
])
def test_bad_regex_path_loses_its_route(tmp_path, kubengx, p, why):
    paths = [path(p, "web", 80, "ImplementationSpecific"),
             path("/ok(/|$)(.*)", "web", 80, "ImplementationSpecific")]
    conf, w = render_one(tmp_path, {P + "use-regex": "true"}, paths)
    assert any("regex path" in x and why in x for x in w), w
    assert '"^/ok(/|$)(.*)"' in conf, conf


def test_rewrite_needs_its_groups(tmp_path, kubengx):
    paths = [path("/a(.*)", "web", 80, "ImplementationSpecific"),
             path("/b(/|$)(.*)", "web", 80, "ImplementationSpecific")]
    conf, w = render_one(tmp_path, {P + "rewrite-target": "/$2"}, paths)
    assert any("capture groups" in x for x in w), w
    assert '"^/b(/|$)(.*)"' in conf and '"^/a(.*)"' not in conf


def test_balance_bad_values_stay_lenient(tmp_path, kubengx):
    """load-balance and upstream-hash-by keep their documented lenient
    behaviour: a warning and round robin, the Ingress served."""
    conf, w = render_one(tmp_path, {P + "load-balance": "peak"})
    assert "t.example.com" in conf
    assert any("load-balance" in x and "round robin" in x for x in w), w


# --- unknown fields -------------------------------------------------------

def test_unknown_fields_are_warned(tmp_path, kubengx):
    bad = ingress("typo", [])
    bad["spec"]["rule"] = [rule("a.example.com", path("/", "web", 80))]
    bad["metadata"]["anotations"] = {"x": "y"}
    svc = service("web", [svc_port(None, 80, 8080)])
    svc["spec"]["port"] = []
    f = write_manifests(tmp_path, [svc, bad])
    rc, _, err, conf = render(f, None, endpoints="cluster-ip")
    assert rc == 0, err
    w = err.splitlines()
    assert any("default/typo" in x and "spec" in x and '"rule"' in x
               and "did you mean rules" in x for x in w), w
    assert any('"anotations"' in x and "did you mean annotations" in x
               for x in w), w
    assert any("default/web" in x and '"port"' in x for x in w), w
    rc, out, _ = lint(f)
    assert rc == 0 and "unknown field" in out, out
    rc, out, _ = lint(f, "--strict")
    assert rc == 1 and "error" in out, out


def test_known_fields_are_quiet(tmp_path, kubengx):
    """A full kubectl get -o yaml shape (status, managedFields, uid...)
    gives no unknown-field warning."""
    i = ingress("full", [rule("a.example.com", path("/", "web", 80))])
    i["metadata"].update({"uid": "u", "resourceVersion": "1",
                          "generation": 1, "managedFields": [],
                          "creationTimestamp": "2024-01-01T00:00:00Z"})
    i["status"] = {"loadBalancer": {}}
    s = service("web", [svc_port(None, 80, 8080, app_protocol="http")])
    s["spec"].update({"clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.1"],
                      "ipFamilies": ["IPv4"],
                      "ipFamilyPolicy": "SingleStack",
                      "sessionAffinity": "None",
                      "internalTrafficPolicy": "Cluster"})
    f = write_manifests(tmp_path, [s, i])
    rc, _, err, _ = render(f, None, endpoints="cluster-ip")
    assert rc == 0 and "unknown field" not in err, err


# --- kubengx migrate ------------------------------------------------------

def kubectl_list(tmp_path, extra=()):
    """What `kubectl get ingress,service,secret -A -o yaml` prints for
    the examples: one kind: List."""
    import yaml
    items = []
    for f in sorted(os.listdir(DATA)):
        if f.endswith(".yaml"):
            with open(data(f)) as fh:
                items += [d for d in yaml.safe_load_all(fh) if d]
    items += list(extra)
    for it in items:
        it["metadata"].update({"uid": "u-" + it["metadata"]["name"],
                               "resourceVersion": "7"})
    return write_manifests(tmp_path, items, fmt="list", name="cluster")


def migrate(*args, stdin=None):
    import subprocess
    p = subprocess.run([harness.KUBENGX, "migrate"] + [str(a) for a in args],
                       capture_output=True, text=True, input=stdin,
                       timeout=60)
    return p.returncode, p.stdout, p.stderr


SATISFY = ingress("ingress-with-satisfy", [rule("s.bar.com", path(
    "/", "http-svc", 80))], cls="nginx", annotations={P + "satisfy": "any"})


def test_migrate_reports_each_ingress_and_fails_closed(tmp_path, kubengx):
    other = ingress("traefik-one", [rule("t.example.com",
                                         path("/", "http-svc", 80))],
                    cls="traefik")
    f = kubectl_list(tmp_path, [other, SATISFY])
    rc, out, err = migrate("-f", f)
    assert rc == 1, (out, err)
    # the Ingress and the annotation, the List item, not line 1
    block = out.split("Ingress default/ingress-with-satisfy (")[1]
    block = block.split("\n\n")[0]
    assert "List item" in block.splitlines()[0], block
    assert P + "satisfy" in block and "fails closed" in block, block
    assert "not served" in block
    assert "class: nginx -> ingressClassName kubengx" in block
    auth = out.split("Ingress default/ingress-with-auth (")[1]
    auth = auth.split("\n\n")[0]
    assert P + "auth-type" in auth and "=> served" in auth, auth
    rw = out.split("Ingress default/rewrite (")[1].split("\n\n")[0]
    assert P + "use-regex" in rw and "different" in rw, rw
    assert "=> served" in rw
    assert "Ingress default/traefik-one" in out and "left alone" in out
    summary = out.split("Summary")[1]
    assert "default/ingress-with-satisfy" in summary
    assert "NOT SERVED: fails closed" in summary
    assert "6 served, 1 fail closed" in summary, summary


def test_migrate_stdin_and_write(tmp_path, kubengx):
    f = kubectl_list(tmp_path, [SATISFY])
    with open(f) as fh:
        text = fh.read()
    out_dir = tmp_path / "moved"
    rc, out, err = migrate("-f", "-", "--write", out_dir, stdin=text)
    assert rc == 1, err
    import json
    moved = json.load(open(out_dir / "default_rewrite.json"))
    assert moved["spec"]["ingressClassName"] == "kubengx"
    assert "uid" not in moved["metadata"]
    assert moved["metadata"]["annotations"][P + "rewrite-target"] == "/$2"
    # what was written renders, and routes as the example says
    rc, _, err, conf = render([str(out_dir), data("service.yaml")], None,
                              endpoints="cluster-ip")
    assert rc == 0, err
    assert 'location ~* "^/something(/|$)(.*)"' in conf
    assert "foo.bar.com" not in conf       # basic auth: fails closed


def test_migrate_notes_regex_hosts(tmp_path, kubengx):
    f = write_manifests(tmp_path, [
        ingress("re", [rule("h.example.com", path("/a.*", "web", 80))],
                cls="nginx", annotations={P + "use-regex": "true"}),
        ingress("plain", [rule("h.example.com", path("/b", "web", 80))],
                cls="nginx")], fmt="list")
    rc, out, err = migrate("-f", f)
    assert rc == 0, (out, err)
    block = out.split("Ingress default/plain (")[1].split("\n\n")[0]
    assert "regexes too" in block and "default/re" in block, block


def test_migrate_all_served_exits_zero(tmp_path, kubengx):
    f = write_manifests(tmp_path, [ingress(
        "plain", [rule("a.example.com", path("/", "web", 80))], cls="nginx",
        annotations={P + "proxy-body-size": "8m",
                     P + "proxy-body-sise": "1m"})], fmt="list")
    rc, out, err = migrate("-f", f)
    assert rc == 0, (out, err)
    assert "did you mean " + P + "proxy-body-size" in out, out


def test_migrate_bad_value_exits_non_zero(tmp_path, kubengx):
    f = write_manifests(tmp_path, [ingress(
        "bad", [rule("a.example.com", path("/", "web", 80))], cls="nginx",
        annotations={P + "proxy-body-size": "8 MB"})], fmt="list")
    rc, out, err = migrate("-f", f)
    assert rc == 1, (out, err)
    assert "proxy-body-size" in out and "NOT SERVED: bad value" in out


def test_migrate_missing_secret_is_not_served(tmp_path, kubengx):
    """auth-secret naming a Secret the input does not hold: not served
    (counted with the refused ones), said as such."""
    f = write_manifests(tmp_path, [ingress(
        "auth", [rule("a.example.com", path("/", "web", 80))], cls="nginx",
        annotations={P + "auth-type": "basic",
                     P + "auth-secret": "basic-auth"})], fmt="list")
    rc, out, err = migrate("-f", f)
    assert rc == 1, (out, err)
    assert "! metadata.annotations[%sauth-secret]: auth-secret names a " \
        "Secret that does not exist" % P in out, out
    assert "=> not served: a Secret or ConfigMap its annotations name is " \
        "not in the input" in out, out
    assert "NOT SERVED: object missing" in out
    assert "0 served, 0 fail closed, 1 refused" in out, out


# --- backends: HTTPS, proxy-ssl-* -----------------------------------------

@pytest.fixture
def tls_backend(tmp_path):
    """A test backend speaking TLS with a certificate for
    backend.example.com (self-signed: its own CA)."""
    import subprocess
    d = tmp_path / "backend-tls"
    d.mkdir()
    crt, key = self_signed(d, "backend.example.com")
    env = dict(os.environ,
               KUBENGX_BACKEND_TLS="%s/backend.example.com.crt:"
                                   "%s/backend.example.com.key" % (d, d))
    proc = subprocess.Popen([harness.PYTHON,
                             os.path.join(harness.HERE, "backend.py"),
                             "tls=127.0.0.1:0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = harness.read_ready_line(proc, 10, "tls backend")
    port = int(line.split("=", 1)[1].rsplit(":", 1)[1])
    yield port, crt
    harness.stop_process(proc)


def ca_secret(name, ca_pem):
    import base64
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": "default"},
            "data": {"ca.crt": base64.b64encode(ca_pem).decode()}}


def test_https_backend_verified(stack, tls_backend, tmp_path):
    port, ca = tls_backend
    wrong, _ = self_signed(tmp_path, "other.example.com")
    objs = [service("web", [svc_port(None, 443, 8443)]),
            slice_("web", [endpoint("127.0.0.1")], [(None, port)]),
            ca_secret("right-ca", ca), ca_secret("wrong-ca", wrong)]

    def ann(secret):
        a = {P + "backend-protocol": "HTTPS",
             P + "proxy-ssl-name": "backend.example.com",
             P + "proxy-ssl-server-name": "on"}
        if secret:
            a.update({P + "proxy-ssl-secret": "default/" + secret,
                      P + "proxy-ssl-verify": "on"})
        return a

    stack.up(objs + [
        ingress("plain", [rule("plain.example.com", path("/", "web", 443))],
                annotations=ann(None)),
        ingress("right", [rule("right.example.com", path("/", "web", 443))],
                annotations=ann("right-ca")),
        ingress("wrong", [rule("wrong.example.com", path("/", "web", 443))],
                annotations=ann("wrong-ca"))])
    assert "proxy_pass https://" in stack.conf
    assert stack.backend_of("/x", "plain.example.com") == "tls"
    assert stack.backend_of("/x", "right.example.com") == "tls"
    # the backend's certificate is not signed by that CA: refused
    assert stack.get("/x", "wrong.example.com").status == 502


def test_https_backend_in_module_mode(tmp_path, nginx_factory, kube_api,
                                      tls_backend):
    port, ca = tls_backend
    objs = [service("web", [svc_port("https", 443, port)]),
            slice_("web", [endpoint("127.0.0.1")], [("https", port)]),
            ca_secret("right-ca", ca),
            ingress("right", [rule("right.example.com",
                                   path("/", "web", 443))],
                    annotations={P + "backend-protocol": "HTTPS",
                                 P + "proxy-ssl-name": "backend.example.com",
                                 P + "proxy-ssl-secret": "default/right-ca",
                                 P + "proxy-ssl-verify": "on"})]
    s = ModeStack(tmp_path, nginx_factory, kube_api, "module")
    s.up(objs)
    assert "proxy_pass https://" in s.conf and "k8s_service" in s.conf
    s.wait_backend("right.example.com", "/x", "tls")


@pytest.mark.parametrize("ann,why", [
    ({P + "proxy-ssl-verify": "on"}, "proxy-ssl-secret"),
    ({P + "proxy-ssl-secret": "other-ns/ca"}, "own namespace"),
    ({P + "proxy-ssl-secret": "default/missing"}, "not in the input"),
    ({P + "proxy-ssl-secret": "default/garbled"}, "PEM"),
    ({P + "backend-protocol": "FCGI"}, "FCGI"),
    ({P + "proxy-ssl-protocols": "SSLv3"}, "protocols"),
    ({P + "proxy-ssl-ciphers": "HIGH;evil"}, "cipher"),
])
def test_bad_backend_values(tmp_path, kubengx, ann, why):
    import base64
    garbled = ca_secret("garbled", b"-----BEGIN CERTIFICATE-----\nxx\n")
    f = write_manifests(tmp_path, [
        service("web", [svc_port(None, 80, 8080)]), garbled,
        ingress("t", [rule("t.example.com", path("/", "web", 80))],
                annotations=ann)])
    rc, _, err, conf = render(f, None, endpoints="cluster-ip")
    assert rc == 0, err
    assert "t.example.com" not in conf
    assert any("default/t" in x and why in x for x in err.splitlines()), err


def test_grpc_backend_text(tmp_path, kubengx):
    f = write_manifests(tmp_path, [
        service("web", [svc_port(None, 80, 8080)], cluster_ip="10.0.0.1"),
        ingress("g", [rule("g.example.com", path("/", "web", 80))],
                annotations={P + "backend-protocol": "GRPC"}),
        ingress("gs", [rule("gs.example.com", path("/", "web", 80))],
                annotations={P + "backend-protocol": "GRPCS",
                             P + "proxy-ssl-server-name": "on"})])
    for mode in ("cluster-ip", "module"):
        rc, _, err, conf = render(f, None, endpoints=mode)
        assert rc == 0, err
        assert "grpc_pass grpc://" in conf and "grpc_pass grpcs://" in conf
        assert "grpc_ssl_server_name on;" in conf
        assert not directive_problems(conf), conf


# --- the controller: the same warnings as Events --------------------------

from test_controller import controllers, routed_to  # noqa: E402,F401


def test_controller_posts_annotation_events(kube_api, backends, controllers):
    from manifests import backend_service, ingress_class
    bk = backends("a")
    api = kube_api()
    for o in [ingress_class("kubengx")] + backend_service(bk, "svc-a", "a"):
        api.create(o)
    api.create(ingress("guarded", [rule("g.example.com",
                                        path("/", "svc-a", 80))],
                       annotations={P + "satisfy": "any",
                                    P + "load-balanse": "ewma"}))
    api.create(ingress("rw", [rule("r.example.com", path(
        "/api(/|$)(.*)", "svc-a", 80, "ImplementationSpecific"))],
        annotations={P + "rewrite-target": "/$2"}))
    ctl = controllers(api, args=["--no-leader-elect"]).wait_ready()
    harness.wait_for(routed_to(ctl, "r.example.com", "/api/x", "a"), 10,
                     "the regex route")
    assert ctl.get("/api/x", host="r.example.com").json()["path"] == "/x"

    def events():
        evs = api.get("/api/v1/namespaces/default/events")["items"]
        return {e["reason"]: e["message"] for e in evs
                if e["involvedObject"]["name"] == "guarded"}
    harness.wait_for(lambda: {"FailClosed", "UnknownAnnotation"}
                     <= set(events()), 10, "the Events")
    ev = events()
    assert "satisfy" in ev["FailClosed"], ev
    assert "did you mean" in ev["UnknownAnnotation"], ev
    # not served: the catch-all answers
    assert ctl.get("/", host="g.example.com").backend is None

    # a ConfigMap an annotation names that does not exist yet: its own
    # reason; served once it is created
    api.create(ingress("later", [rule("l.example.com",
                                      path("/", "svc-a", 80))],
                       annotations={P + "custom-headers": "later-headers"}))

    def later():
        evs = api.get("/api/v1/namespaces/default/events")["items"]
        return [e["message"] for e in evs
                if e["involvedObject"]["name"] == "later"
                and e["reason"] == "NoAnnotationObject"]
    harness.wait_for(later, 10, "the NoAnnotationObject Event")
    assert "custom-headers" in later()[0] and "later-headers" in later()[0]
    assert ctl.get("/", host="l.example.com").backend is None
    api.create({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "later-headers", "namespace": "default"},
                "data": {"X-Later": "yes"}})
    harness.wait_for(routed_to(ctl, "l.example.com", "/", "a"), 10,
                     "the Ingress served once its ConfigMap exists")
