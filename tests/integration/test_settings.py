"""The settings ConfigMap (`kubengx render --configmap NS/NAME`) and the
edge defaults, through a real nginx and real clients (openssl s_client,
curl): TLS 1.3, ALPN h2, HSTS on TLS hosts only, no version in Server,
the upstreaminfo access log, and the effect of every key; an invalid
value is refused alone."""

import gzip
import json
import os
import re
import subprocess

import pytest

import harness
from manifests import (Stack, backend_service, ingress, path, rule,
                       secret_tls, self_signed)

NS, NAME = "ingress-nginx", "kubengx-settings"
CM_FLAG = ("--configmap", "%s/%s" % (NS, NAME))
HOST = "app.example.com"
TLS_HOST = "secure.example.com"


def settings(data, name=NAME, ns=NS):
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": ns}, "data": data}


@pytest.fixture
def stack(tmp_path, nginx_factory, kubengx):
    return Stack(tmp_path, nginx_factory)


def site(tmp_path, bk, tls=True):
    """A plain host and a TLS host, both routed to backend a."""
    objs = backend_service(bk, "svc-a", "a") + [
        ingress("plain", [rule(HOST, path("/", "svc-a", 80))])]
    if tls:
        c, k = self_signed(tmp_path, TLS_HOST)
        objs += [secret_tls("tls", c, k),
                 ingress("secure", [rule(TLS_HOST, path("/", "svc-a", 80))],
                         tls=[{"hosts": [TLS_HOST], "secretName": "tls"}])]
    return objs


def up(stack, tmp_path, bk, data=None, tls=True, extra=()):
    objs = site(tmp_path, bk, tls) + list(extra)
    flags = ()
    if data is not None:
        objs.append(settings(data))
        flags = CM_FLAG
    return stack.up(objs, *flags, tls=tls)


def s_client(stack, *args, host=TLS_HOST):
    p = subprocess.run(["openssl", "s_client", "-connect",
                        "127.0.0.1:%d" % stack.https_port, "-servername",
                        host, *args], input=b"", capture_output=True,
                       timeout=20)
    return p.returncode, p.stdout.decode("latin-1") + \
        p.stderr.decode("latin-1")


def https(stack, *args, host=TLS_HOST, p="/"):
    return stack.https(host, p, *args)


def conf_of(stack, tmp_path, bk, data, tls=False):
    """Render only: (rc, conf, stderr)."""
    objs = site(tmp_path, bk, tls) + [settings(data)]
    stack.render(objs, *CM_FLAG)
    return stack.rc, stack.conf or "", stack.err


# --- the edge defaults ------------------------------------------------------

def test_edge_defaults_tls13_h2_hsts_no_version(stack, backends, tmp_path):
    bk = backends("a")
    up(stack, tmp_path, bk)

    rc, out = s_client(stack, "-tls1_3")
    assert rc == 0 and "TLSv1.3" in out, out[-2000:]
    rc, out = s_client(stack, "-tls1_2")
    assert rc == 0 and "TLSv1.2" in out, out[-2000:]
    rc, out = s_client(stack, "-alpn", "h2,http/1.1")
    assert "ALPN protocol: h2" in out, out[-2000:]

    p = subprocess.run(["curl", "-sS", "-k", "-v", "--http2", "-o",
                        "/dev/null", "--resolve", "%s:%d:127.0.0.1"
                        % (TLS_HOST, stack.https_port),
                        "https://%s:%d/" % (TLS_HOST, stack.https_port)],
                       capture_output=True, text=True, timeout=20)
    assert "ALPN: server accepted h2" in p.stderr \
        or "ALPN, server accepted to use h2" in p.stderr, p.stderr
    assert re.search(r"^< HTTP/2 200", p.stderr, re.M), p.stderr

    r = https(stack)
    assert r.status == 200 and r.backend == "a"
    assert r.headers["strict-transport-security"] == \
        "max-age=31536000; includeSubDomains"
    assert r.headers["server"] == "nginx"

    # HSTS on TLS hosts only: not on http, not on the redirect
    r = stack.get("/", host=HOST)
    assert r.status == 200 and "strict-transport-security" not in r.headers
    assert r.headers["server"] == "nginx"
    r = stack.get("/", host=TLS_HOST)
    assert r.status == 308 and "strict-transport-security" not in r.headers


def test_edge_defaults_in_the_text(stack, backends, tmp_path):
    bk = backends("a")
    stack.render(site(tmp_path, bk))
    assert stack.rc == 0, stack.err
    c = stack.conf
    assert "server_tokens off;" in c
    assert "access_log /dev/stdout upstreaminfo;" in c
    assert re.search(r"listen 127\.0\.0\.1:%d ssl http2;" % stack.https_port,
                     c)
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in c
    # PROXY protocol and real IP off until configured
    assert "proxy_protocol" not in c and "real_ip" not in c


def upstreaminfo_re():
    return re.compile(
        r'^127\.0\.0\.1 - - \[[^\]]+\] "GET /logged\?x=1 HTTP/1\.1" 200 \d+ '
        r'"-" "probe/1" \d+ \d+\.\d{3} \[svc-a_http|default_svc-a_\S*\] '
        r'\[\] 127\.0\.0\.1:\d+ \d+ \d+\.\d{3} 200 [0-9a-f]{32}$')


def test_access_log_upstreaminfo(stack, backends, tmp_path):
    bk = backends("a")
    log = tmp_path / "access.log"
    up(stack, tmp_path, bk, {"access-log-path": str(log)}, tls=False)
    r = stack.get("/logged?x=1", host=HOST,
                  headers={"User-Agent": "probe/1"})
    assert r.status == 200
    line = harness.wait_for(
        lambda: [x for x in open(str(log)).read().splitlines()
                 if "/logged" in x], 10, "the access log line")[0]
    f = re.match(
        r'^(\S+) - (\S+) \[([^\]]+)\] "([^"]*)" (\d+) (\d+) "([^"]*)" '
        r'"([^"]*)" (\d+) (\S+) \[(\S*)\] \[\] (\S+) (\S+) (\S+) (\S+) '
        r'([0-9a-f]{32})$', line)
    assert f, line
    assert f.group(1) == "127.0.0.1" and f.group(2) == "-"
    assert f.group(4) == "GET /logged?x=1 HTTP/1.1" and f.group(5) == "200"
    assert f.group(8) == "probe/1"
    assert f.group(11) == "default_svc-a_http", line    # the upstream
    assert f.group(12) == bk.addrs["a"] and f.group(15) == "200"


def test_access_log_json_on_request(stack, backends, tmp_path):
    bk = backends("a")
    log = tmp_path / "access.json"
    up(stack, tmp_path, bk, {
        "access-log-path": str(log), "log-format-escape-json": "true",
        "log-format-upstream": '{"addr": "$remote_addr", "status": $status, '
                               '"ua": "$http_user_agent", '
                               '"upstream": "$upstream_addr"}'}, tls=False)
    r = stack.get("/j", host=HOST, headers={"User-Agent": 'q"uote\\'})
    assert r.status == 200
    lines = harness.wait_for(lambda: open(str(log)).read().splitlines(),
                             10, "a JSON line")
    rec = json.loads(lines[-1])
    assert rec == {"addr": "127.0.0.1", "status": 200, "ua": 'q"uote\\',
                   "upstream": bk.addrs["a"]}


def test_disable_access_log(stack, backends, tmp_path):
    bk = backends("a")
    rc, c, err = conf_of(stack, tmp_path, bk, {"disable-access-log": "true"})
    assert rc == 0 and "access_log off;" in c and "log_format" not in c


# --- keys with a behaviour seen from outside --------------------------------

def test_proxy_body_size_413_and_200(stack, backends, tmp_path):
    bk = backends("a")
    up(stack, tmp_path, bk, {"proxy-body-size": "1k"}, tls=False)
    r = stack.get("/", host=HOST, method="POST", body=b"x" * 2000)
    assert r.status == 413
    r = stack.get("/", host=HOST, method="POST", body=b"x" * 900)
    assert r.status == 200 and r.json()["body"] == "x" * 900


def test_gzip_applies_to_listed_types(stack, backends, tmp_path):
    bk = backends("a")
    up(stack, tmp_path, bk, {"use-gzip": "true", "gzip-level": "6",
                             "gzip-min-length": "10",
                             "gzip-types": "application/json"}, tls=False)
    r = stack.get("/gz?pad=" + "y" * 200, host=HOST,
                  headers={"Accept-Encoding": "gzip"})
    assert r.status == 200 and r.headers.get("content-encoding") == "gzip"
    assert json.loads(gzip.decompress(r.body))["backend"] == "a"
    assert r.headers.get("vary") == "Accept-Encoding"
    # a type not listed: as is
    stack.up(site(tmp_path, bk, False) + [settings({
        "use-gzip": "true", "gzip-types": "text/css"})], *CM_FLAG)
    r = stack.get("/gz?pad=" + "y" * 200, host=HOST,
                  headers={"Accept-Encoding": "gzip"})
    assert r.status == 200 and "content-encoding" not in r.headers
    assert r.json()["backend"] == "a"


def real_ip(stack, xff):
    r = stack.get("/", host=HOST, headers={"X-Forwarded-For": xff})
    assert r.status == 200
    return r.json()["headers"]["x-real-ip"]


def test_forwarded_headers_trusted_only_from_the_cidr(stack, backends,
                                                      tmp_path):
    bk = backends("a")
    up(stack, tmp_path, bk, {"use-forwarded-headers": "true",
                             "proxy-real-ip-cidr": "127.0.0.1/32"},
       tls=False)
    assert real_ip(stack, "192.0.2.7") == "192.0.2.7"
    # a peer outside the CIDR: its header is not believed
    stack.up(site(tmp_path, bk, False) + [settings({
        "use-forwarded-headers": "true",
        "proxy-real-ip-cidr": "10.0.0.0/8"})], *CM_FLAG)
    assert real_ip(stack, "192.0.2.7") == "127.0.0.1"
    # no CIDR: a warning, nothing trusted
    stack.up(site(tmp_path, bk, False) + [settings({
        "use-forwarded-headers": "true"})], *CM_FLAG)
    assert any("proxy-real-ip-cidr" in w for w in stack.warnings())
    assert real_ip(stack, "192.0.2.7") == "127.0.0.1"
    # forwarded-for-header names another header
    stack.up(site(tmp_path, bk, False) + [settings({
        "enable-real-ip": "true", "forwarded-for-header": "X-Client",
        "proxy-real-ip-cidr": "127.0.0.0/8"})], *CM_FLAG)
    r = stack.get("/", host=HOST, headers={"X-Client": "198.51.100.9"})
    assert r.json()["headers"]["x-real-ip"] == "198.51.100.9"


def fwd(stack, server, **h):
    hdr = {"X-Forwarded-" + k.capitalize(): v for k, v in h.items()}
    return stack.get("/", host=server, headers=hdr)


def test_forwarded_headers_proto_host_port_and_redirects(stack, backends,
                                                         tmp_path):
    """use-forwarded-headers from a peer in proxy-real-ip-cidr: the
    X-Forwarded-Proto/-Host/-Port it sends reach the backend, and a request
    that reached the proxy over https is served, not redirected again (TLS
    host, and force-ssl-redirect without a certificate behind a balancer
    that ends TLS); from any other peer: what nginx saw, and the 308."""
    bk = backends("a")
    lb = ingress("lb", [rule("lb.example.com", path("/", "svc-a", 80))],
                 annotations={"nginx.ingress.kubernetes.io/"
                              "force-ssl-redirect": "true"})
    up(stack, tmp_path, bk, {"use-forwarded-headers": "true",
                             "proxy-real-ip-cidr": "127.0.0.1/32"},
       extra=[lb])
    r = fwd(stack, HOST, proto="https", host="public.example", port="443")
    assert r.status == 200, r
    h = r.json()["headers"]
    assert (h["x-forwarded-proto"], h["x-forwarded-host"],
            h["x-forwarded-port"]) == ("https", "public.example", "443"), h
    # a value that is no scheme, host or port: what nginx saw
    h = fwd(stack, HOST, proto="gopher", host="a b", port="x").json()[
        "headers"]
    assert (h["x-forwarded-proto"], h["x-forwarded-host"],
            h["x-forwarded-port"]) == ("http", HOST,
                                       str(stack.http_port)), h
    for host in (TLS_HOST, "lb.example.com"):
        assert fwd(stack, host, proto="https").backend == "a", host
        assert fwd(stack, host, proto="http").status == 308, host
        assert stack.get("/", host=host).status == 308, host
    assert https(stack).backend == "a"
    # the same requests from a peer outside the CIDR
    stack.up(site(tmp_path, bk) + [lb, settings({
        "use-forwarded-headers": "true",
        "proxy-real-ip-cidr": "10.0.0.0/8"})], *CM_FLAG, tls=True)
    h = fwd(stack, HOST, proto="https", host="public.example",
            port="443").json()["headers"]
    assert (h["x-forwarded-proto"], h["x-forwarded-host"]) == (
        "http", HOST), h
    for host in (TLS_HOST, "lb.example.com"):
        r = fwd(stack, host, proto="https")
        assert r.status == 308, (host, r)


def proxied(port, header, host=HOST):
    """A request on a raw connection, after a PROXY header."""
    return harness.raw_response(port, header + (
        "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
        % host).encode())


def test_use_proxy_protocol(stack, backends, tmp_path):
    bk = backends("a")
    up(stack, tmp_path, bk, {"use-proxy-protocol": "true",
                             "proxy-real-ip-cidr": "127.0.0.1/32"},
       tls=False)
    # a real PROXY header from curl
    r = harness.curl("http://127.0.0.1:%d/" % stack.http_port,
                     "--haproxy-protocol", "-H", "Host: " + HOST)
    assert r.status == 200 and r.backend == "a"
    # the client address is the header's, from a trusted peer
    data = proxied(stack.http_port, b"PROXY TCP4 192.0.2.7 127.0.0.1 "
                   b"40000 80\r\n")
    assert data.startswith(b"HTTP/1.1 200"), data[:200]
    body = json.loads(data.split(b"\r\n\r\n", 1)[1])
    assert body["headers"]["x-real-ip"] == "192.0.2.7"
    # without the header nginx refuses the connection's request
    with pytest.raises(Exception):
        r = stack.get("/", host=HOST)
        assert r.status == 200
    # an untrusted peer: the PROXY address is not believed
    stack.up(site(tmp_path, bk, False) + [settings({
        "use-proxy-protocol": "true",
        "proxy-real-ip-cidr": "10.0.0.0/8"})], *CM_FLAG)
    data = proxied(stack.http_port, b"PROXY TCP4 192.0.2.7 127.0.0.1 "
                   b"40000 80\r\n")
    body = json.loads(data.split(b"\r\n\r\n", 1)[1])
    assert body["headers"]["x-real-ip"] == "127.0.0.1"


def test_block_cidrs_user_agents_referers(stack, backends, tmp_path):
    bk = backends("a")
    up(stack, tmp_path, bk, {"block-user-agents": "~*badbot,exact-agent",
                             "block-referers": "~evil\\.example"},
       tls=False)
    ua = lambda a: stack.get("/", host=HOST,  # noqa: E731
                             headers={"User-Agent": a}).status
    assert ua("Mozilla/5.0 BadBot/2") == 403
    assert ua("exact-agent") == 403
    assert ua("exact-agent/2") == 200
    assert ua("curl/8") == 200
    ref = lambda x: stack.get("/", host=HOST,  # noqa: E731
                              headers={"Referer": x}).status
    assert ref("https://evil.example/x") == 403
    assert ref("https://evilxexample/x") == 200
    stack.up(site(tmp_path, bk, False) + [settings({
        "block-cidrs": "10.0.0.0/8, 127.0.0.1"})], *CM_FLAG)
    assert stack.get("/", host=HOST).status == 403
    stack.up(site(tmp_path, bk, False) + [settings({
        "block-cidrs": "10.0.0.0/8"})], *CM_FLAG)
    assert stack.get("/", host=HOST).status == 200


def test_hsts_keys(stack, backends, tmp_path):
    bk = backends("a")
    up(stack, tmp_path, bk, {"hsts-max-age": "100",
                             "hsts-include-subdomains": "false",
                             "hsts-preload": "true"})
    assert https(stack).headers["strict-transport-security"] == \
        "max-age=100; preload"
    stack.up(site(tmp_path, bk) + [settings({"hsts": "false"})], *CM_FLAG,
             tls=True)
    r = https(stack)
    assert r.status == 200 and "strict-transport-security" not in r.headers


def test_ssl_protocols_and_use_http2(stack, backends, tmp_path):
    bk = backends("a")
    up(stack, tmp_path, bk, {"ssl-protocols": "TLSv1.3",
                             "use-http2": "false"})
    rc, out = s_client(stack, "-tls1_2")
    assert rc != 0, out[-2000:]
    rc, out = s_client(stack, "-tls1_3", "-alpn", "h2,http/1.1")
    assert rc == 0 and "TLSv1.3" in out, out[-2000:]
    assert "ALPN protocol: h2" not in out


def test_server_tokens_on(stack, backends, tmp_path):
    bk = backends("a")
    up(stack, tmp_path, bk, {"server-tokens": "true"}, tls=False)
    assert re.match(r"nginx/\d+\.\d+\.\d+$",
                    stack.get("/", host=HOST).headers["server"])


def test_custom_http_errors(stack, backends, tmp_path):
    bk = backends("a")
    up(stack, tmp_path, bk, {"custom-http-errors": "404,503"}, tls=False)
    r = stack.get("/?status=404", host=HOST)
    assert r.status == 404 and b"<center>nginx</center>" in r.body
    assert b'"backend"' not in r.body
    # a status not listed passes as the backend sent it
    r = stack.get("/?status=418", host=HOST)
    assert r.status == 418 and r.json()["backend"] == "a"


def test_keep_alive(stack, backends, tmp_path):
    bk = backends("a")
    up(stack, tmp_path, bk, {"keep-alive": "0"}, tls=False)
    r = stack.get("/", host=HOST)
    assert r.status == 200 and r.headers.get("connection") == "close"
    stack.up(site(tmp_path, bk, False) + [settings({"keep-alive": "75",
                                                    "keep-alive-requests":
                                                    "2"})], *CM_FLAG)
    r = stack.get("/", host=HOST)
    assert r.headers.get("connection") == "keep-alive"
    assert "keepalive_timeout 75s;" in stack.conf
    assert "keepalive_requests 2;" in stack.conf


def test_ssl_redirect_false_serves_http_too(stack, backends, tmp_path):
    bk = backends("a")
    up(stack, tmp_path, bk, {"ssl-redirect": "false"})
    r = stack.get("/", host=TLS_HOST)
    assert r.status == 200 and r.backend == "a"
    # one server, both listeners: HSTS on https only
    assert "strict-transport-security" not in r.headers
    r = https(stack)
    assert r.status == 200 and "strict-transport-security" in r.headers


def test_load_balance(stack, backends, tmp_path):
    """The global method for every upstream the Ingress does not choose
    for (module mode: k8s_service balance=)."""
    bk = backends("a")
    objs = site(tmp_path, bk, False) + [settings({"load-balance": "ewma"})]
    stack.render(objs, *CM_FLAG, "--endpoints", "module")
    assert stack.rc == 0, stack.err
    assert re.search(r"k8s_service default/svc-a port=http balance=ewma;",
                     stack.conf), stack.conf
    stack.render(objs + [ingress("other", [rule("b.example.com", path(
        "/", "svc-a", 80))], annotations={
            "nginx.ingress.kubernetes.io/load-balance": "least_conn"})],
        *CM_FLAG, "--endpoints", "module")
    assert "balance=least_conn;" in stack.conf
    assert "balance=ewma;" in stack.conf
    # an Ingress that says round_robin overrides the ConfigMap's method,
    # in module mode and in static mode (stock round robin: no directive)
    rr = ingress("rr", [rule("c.example.com", path("/", "svc-a", 80))],
                 annotations={
                     "nginx.ingress.kubernetes.io/load-balance":
                         "round_robin"})
    stack.render(objs + [rr], *CM_FLAG, "--endpoints", "module")
    assert stack.rc == 0, stack.err
    assert "balance=round_robin;" in stack.conf
    assert "balance=ewma;" in stack.conf
    objs = site(tmp_path, bk, False) + [
        settings({"load-balance": "least_conn"})]
    stack.up(objs + [rr], *CM_FLAG, "--endpoints", "static", tls=False)
    assert stack.rc == 0, stack.err
    blocks = re.findall(r"upstream (\S+) \{(.*?)\}", stack.conf, re.S)
    methods = {name: "least_conn;" in body for name, body in blocks}
    assert sorted(methods.values()) == [False, True], blocks
    assert stack.backend_of("/", "c.example.com") == "a"


def test_default_ssl_certificate(stack, backends, tmp_path):
    bk = backends("a")
    c, k = self_signed(tmp_path, "fallback.example.com")
    up(stack, tmp_path, bk, {"default-ssl-certificate": "default/fallback"},
       extra=[secret_tls("fallback", c, k)])
    rc, out = s_client(stack, host="unknown.example.com")
    assert rc == 0 and "CN = fallback.example.com" in out, out[-2000:]


# --- every key: its text, and a bad value refused alone ---------------------

# key -> (value, text it puts in the config)
KEYS = {
    "proxy-body-size": ("8m", "client_max_body_size 8m;"),
    "proxy-connect-timeout": ("5", "proxy_connect_timeout 5s;"),
    "proxy-read-timeout": ("120", "proxy_read_timeout 120s;"),
    "proxy-send-timeout": ("90s", "proxy_send_timeout 90s;"),
    "proxy-buffer-size": ("16k", "proxy_buffer_size 16k;"),
    "proxy-buffering": ("off", "proxy_buffering off;"),
    "client-body-buffer-size": ("64k", "client_body_buffer_size 64k;"),
    "client-header-buffer-size": ("2k", "client_header_buffer_size 2k;"),
    "large-client-header-buffers": ("4 16k",
                                    "large_client_header_buffers 4 16k;"),
    "keep-alive": ("30", "keepalive_timeout 30s;"),
    "keep-alive-requests": ("500", "keepalive_requests 500;"),
    "upstream-keepalive-connections": ("16", "    keepalive 16;"),
    "upstream-keepalive-timeout": ("30", "    keepalive_timeout 30s;"),
    "upstream-keepalive-requests": ("200", "    keepalive_requests 200;"),
    "hsts": ("false", None),
    "hsts-max-age": ("60", "max-age=60; includeSubDomains"),
    "hsts-include-subdomains": ("false", 'on      "max-age=31536000";'),
    "hsts-preload": ("true", "includeSubDomains; preload"),
    "ssl-protocols": ("TLSv1.2", "ssl_protocols TLSv1.2;"),
    "ssl-ciphers": ("ECDHE-RSA-AES128-GCM-SHA256:!aNULL",
                    "ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:!aNULL;"),
    "ssl-prefer-server-ciphers": ("true", "ssl_prefer_server_ciphers on;"),
    "ssl-session-cache": ("true",
                          "ssl_session_cache shared:kubengx_ssl:10m;"),
    "ssl-session-timeout": ("10m", "ssl_session_timeout 10m;"),
    "ssl-session-tickets": ("false", "ssl_session_tickets off;"),
    "ssl-redirect": ("false", None),
    "use-http2": ("false", None),
    "use-forwarded-headers": ("true", None),
    "forwarded-for-header": ("X-Client", None),
    "compute-full-forwarded-for": (
        "true", "X-Forwarded-For $proxy_add_x_forwarded_for;"),
    "use-proxy-protocol": ("true", " proxy_protocol default_server;"),
    "proxy-real-ip-cidr": ("10.0.0.0/8", None),
    "enable-real-ip": ("true", None),
    "log-format-upstream": ("$remote_addr $status",
                            "'$remote_addr $status';"),
    "log-format-escape-json": ("true", "log_format upstreaminfo escape=json"),
    "access-log-path": ("/var/log/x.log",
                        "access_log /var/log/x.log upstreaminfo;"),
    "disable-access-log": ("true", "access_log off;"),
    "error-log-level": ("warn", None),
    "server-tokens": ("true", "server_tokens on;"),
    "use-gzip": ("true", "gzip on;"),
    "gzip-level": ("5", None),
    "gzip-types": ("text/css", None),
    "gzip-min-length": ("100", None),
    "worker-processes": ("2", None),
    "max-worker-connections": ("2048", None),
    "worker-shutdown-timeout": ("30s", None),
    "block-cidrs": ("192.0.2.0/24", "deny 192.0.2.0/24;"),
    "block-user-agents": ("~*bot", '"~*bot" 1;'),
    "block-referers": ("spam.example", '"spam.example" 1;'),
    "custom-http-errors": ("502", "error_page 502 @kubengx_error_502;"),
    "default-ssl-certificate": ("default/tls", None),
    "proxy-next-upstream": ("error timeout",
                            "proxy_next_upstream error timeout;"),
    "allow-snippet-annotations": ("false", None),
    "load-balance": ("least_conn", "    least_conn;\n"),
}

# what the keys marked None above write, with the keys they need beside
COMBINED = [
    ({"hsts": "false"}, None, "Strict-Transport-Security"),
    ({"ssl-redirect": "false"}, None, "return 308 https"),
    ({"use-http2": "false"}, None, " http2"),
    ({"enable-real-ip": "true", "forwarded-for-header": "X-Client",
      "proxy-real-ip-cidr": "10.0.0.0/8"}, "set_real_ip_from 10.0.0.0/8;\n"
     "real_ip_header X-Client;\nreal_ip_recursive on;", None),
    ({"use-forwarded-headers": "true", "proxy-real-ip-cidr": "10.0.0.0/8"},
     "real_ip_header X-Forwarded-For;", None),
    ({"use-proxy-protocol": "true", "proxy-real-ip-cidr": "10.0.0.0/8"},
     "real_ip_header proxy_protocol;", None),
    ({"use-gzip": "true", "gzip-level": "5", "gzip-types": "text/css",
      "gzip-min-length": "100"},
     "gzip_comp_level 5;\ngzip_min_length 100;\ngzip_proxied any;\n"
     "gzip_vary on;\ngzip_types text/css;", None),
    ({"use-gzip": "true"}, "gzip_types application/atom+xml", None),
]

# a value each key refuses
BAD = {
    "proxy-body-size": "8 m", "proxy-connect-timeout": "5 s",
    "proxy-read-timeout": "-1", "proxy-send-timeout": "1y",
    "proxy-buffer-size": "16kb", "proxy-buffering": "maybe",
    "client-body-buffer-size": "k", "client-header-buffer-size": "1;",
    "large-client-header-buffers": "16k", "keep-alive": "x",
    "keep-alive-requests": "0", "upstream-keepalive-connections": "-1",
    "upstream-keepalive-timeout": "1 h", "upstream-keepalive-requests": "x",
    "hsts": "yes", "hsts-max-age": "1e9", "hsts-include-subdomains": "2",
    "hsts-preload": "on", "ssl-protocols": "SSLv3 TLSv1.2",
    "ssl-ciphers": "HIGH; return 200", "ssl-prefer-server-ciphers": "y",
    "ssl-session-cache": "10m", "ssl-session-timeout": "ten",
    "ssl-session-tickets": "nope", "ssl-redirect": "no!",
    "use-http2": "h2", "use-forwarded-headers": "sure",
    "forwarded-for-header": "X Client", "compute-full-forwarded-for": "1.0",
    "use-proxy-protocol": "v2", "proxy-real-ip-cidr": "10.0.0.0/33",
    "enable-real-ip": "x", "log-format-upstream": "$no_such_var",
    "log-format-escape-json": "json", "access-log-path": "relative.log",
    "disable-access-log": "x", "error-log-level": "verbose",
    "server-tokens": "off", "use-gzip": "gzip", "gzip-level": "10",
    "gzip-types": "text/css;gzip off", "gzip-min-length": "-5",
    "worker-processes": "0", "max-worker-connections": "1",
    "worker-shutdown-timeout": "soon", "block-cidrs": "10.0.0.1/8x",
    "block-user-agents": "~(unclosed", "block-referers": 'a"b',
    "custom-http-errors": "200", "default-ssl-certificate": "nosecret",
    "proxy-next-upstream": "http_999", "allow-snippet-annotations": "true",
    "load-balance": "least_conn ewma",
}


def test_every_key_is_covered():
    assert set(KEYS) == set(BAD)
    keys = set(re.findall(r'\{ "([a-z0-9-]+)", F\(',
                          open(os.path.join(harness.HERE, "..", "..",
                                            "generator", "settings",
                                            "settings.c")).read()))
    keys.add("custom-http-errors")
    assert keys == set(KEYS)


def test_every_key_writes_its_text(stack, backends, tmp_path):
    bk = backends("a")
    for key, (value, text) in sorted(KEYS.items()):
        if text is None:
            continue
        rc, c, err = conf_of(stack, tmp_path, bk, {key: value}, tls=True)
        assert rc == 0 and "warning" not in err or key in (
            "use-forwarded-headers", "use-proxy-protocol",
            "enable-real-ip"), (key, err)
        assert text in c, (key, c)
    for data, present, absent in COMBINED:
        rc, c, err = conf_of(stack, tmp_path, bk, data, tls=True)
        assert rc == 0 and "warning" not in err, (data, err)
        if present:
            assert present in c, (data, c)
        if absent:
            assert absent not in c, (data, c)


def test_all_keys_together_pass_nginx_t(stack, backends, tmp_path):
    bk = backends("a")
    c, k = self_signed(tmp_path, "tls")
    data = {key: v for key, (v, _) in KEYS.items()
            if key not in ("access-log-path", "disable-access-log")}
    objs = site(tmp_path, bk) + [settings(data), secret_tls("tls2", c, k)]
    stack.render(objs, *CM_FLAG, "--check", "--nginx", harness.NGINX)
    assert stack.rc == 0, stack.err
    assert "warning" not in stack.err, stack.err


def test_bad_values_refused_alone(stack, backends, tmp_path):
    bk = backends("a")
    for key, value in sorted(BAD.items()):
        good, text = ({"proxy-body-size": "3m"}, "client_max_body_size 3m;") \
            if key != "proxy-body-size" else \
            ({"proxy-read-timeout": "33"}, "proxy_read_timeout 33s;")
        data = dict(good)
        data[key] = value
        rc, c, err = conf_of(stack, tmp_path, bk, data, tls=True)
        assert rc == 0, (key, err)
        w = [x for x in err.splitlines() if "warning" in x]
        assert len(w) == 1, (key, value, err)
        assert "%s/%s" % (NS, NAME) in w[0] and "data.%s:" % key in w[0], w
        assert text in c, key
        # the bad value did not reach the text
        if len(value) > 3:
            assert value not in c, (key, c)
    # in OpenSSL's alphabet but selecting no cipher: nginx would refuse it
    rc, c, err = conf_of(stack, tmp_path, bk, {"ssl-ciphers": "NO-SUCH",
                                               "proxy-body-size": "3m"},
                         tls=True)
    assert rc == 0 and "data.ssl-ciphers: selects no cipher" in err, err
    assert "NO-SUCH" not in c and "client_max_body_size 3m;" in c


def test_unknown_key_and_missing_configmap(stack, backends, tmp_path):
    bk = backends("a")
    rc, c, err = conf_of(stack, tmp_path, bk, {"no-such-key": "1",
                                               "proxy-body-size": "2m"})
    assert rc == 0 and "client_max_body_size 2m;" in c
    assert re.search(r"warning: .*ingress-nginx/kubengx-settings: "
                     r"data\.no-such-key: is not a key", err), err
    stack.render(site(tmp_path, bk, False), *CM_FLAG)
    assert stack.rc == 0
    assert "ConfigMap ingress-nginx/kubengx-settings is not there" \
        in stack.err, stack.err
    assert "server_tokens off;" in stack.conf


def test_main_config_keys_are_not_in_the_http_file(stack, backends,
                                                   tmp_path):
    bk = backends("a")
    rc, c, err = conf_of(stack, tmp_path, bk, {
        "worker-processes": "2", "max-worker-connections": "2048",
        "worker-shutdown-timeout": "30s", "error-log-level": "warn"})
    assert rc == 0 and "warning" not in err, err
    for word in ("worker_", "error_log"):
        assert word not in c
