"""The render fuzz target's config oracle (tests/fuzz/conf_check.h) kept
up to date: `kubengx render` on a broad set of inputs (the Kubernetes
docs corpus, ingress-nginx's documented examples, examples/, and
generated manifests using every annotation family and many settings
keys), under several flag sets, and every rendered config through the
oracle (tests/fuzz/conf_check_main.c, built here into $BUILD).  A
directive or shape the renderer learns and the oracle does not know fails
here with the line and the reason, so that `make fuzz` never reports the
renderer's own output as findings."""

import base64
import glob
import os
import subprocess

import pytest

import harness
import test_annotations as ta
from manifests import (endpoint, ingress, nginx_tokens, path, render, rule,
                       secret_tls, self_signed, service, slice_, svc_port,
                       write_manifests)

FUZZ = os.path.join(harness.ROOT, "tests", "fuzz")
DATA = os.path.join(harness.ROOT, "tests", "data", "ingress-nginx")
DOCS = os.path.join(harness.ROOT, "tests", "corpus", "kubernetes-docs")
EXAMPLES = os.path.join(harness.ROOT, "examples")
P = "nginx.ingress.kubernetes.io/"
CM = "ingress-nginx/kubengx-settings"

# --- flag sets: every endpoints mode and the flags that change the text ----
FLAGS = {
    "module": dict(endpoints="module", flags=()),
    "module-dispatch": dict(endpoints="module", flags=(
        "--upstreams", "dispatch", "--default-backend", "default/web:80")),
    "static-edge": dict(endpoints="static", flags=(
        "--default-backend", "default/web:80", "--default-certificate",
        "default/tls", "--h2c-port", "18082", "--forwarded-for", "append")),
    "cluster-ip-metrics": dict(endpoints="cluster-ip", flags=(
        "--metrics-routes", "--default-certificate", "default/tls",
        "--resolver", "127.0.0.1:53,[::1]")),
}

# The settings ConfigMap: many keys in one, the forwarded headers in another
SETTINGS_MANY = {
    "hsts": "true", "hsts-max-age": "31536000",
    "hsts-include-subdomains": "true", "hsts-preload": "true",
    "server-tokens": "false", "use-gzip": "true", "gzip-level": "5",
    "gzip-min-length": "256", "gzip-types": "text/html application/json",
    "enable-real-ip": "true", "proxy-real-ip-cidr": "10.0.0.0/8,::1",
    "block-cidrs": "192.0.2.0/24,2001:db8::/32",
    "block-user-agents": "~*bot,curl/7.0",
    "block-referers": "~*spam,bad.example.com",
    "proxy-body-size": "8m", "proxy-connect-timeout": "10",
    "proxy-read-timeout": "120", "proxy-send-timeout": "120",
    "proxy-buffering": "on", "proxy-buffer-size": "16k",
    "proxy-next-upstream": "error timeout http_502",
    "client-body-buffer-size": "64k", "client-header-buffer-size": "2k",
    "large-client-header-buffers": "4 16k", "keep-alive": "30",
    "keep-alive-requests": "200", "upstream-keepalive-connections": "64",
    "upstream-keepalive-requests": "500",
    "upstream-keepalive-timeout": "30", "load-balance": "ewma",
    "log-format-upstream": "$remote_addr - [$time_local] \"$request\" "
                           "$status $request_time",
    "log-format-escape-json": "true",
    "ssl-protocols": "TLSv1.2 TLSv1.3",
    "ssl-ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256",
    "ssl-prefer-server-ciphers": "true", "ssl-session-cache": "true",
    "ssl-session-timeout": "10m", "ssl-session-tickets": "false",
    "custom-http-errors": "404,503", "error-log-level": "warn",
    "access-log-path": "/var/log/nginx/kubengx.log",
}
SETTINGS_FORWARDED = {
    "use-forwarded-headers": "true", "compute-full-forwarded-for": "true",
    "forwarded-for-header": "X-Forwarded-For", "proxy-real-ip-cidr":
    "10.0.0.0/8", "disable-access-log": "true", "hsts": "false",
    "use-http2": "false",
    "use-gzip": "true",                 # the default gzip_types: 18 words
}

# One Ingress per annotation family (generator/annotations/)
FAMILIES = {
    "rewrite": ({"rewrite-target": "/$2", "use-regex": "true"},
                [("/app(/|$)(.*)", "ImplementationSpecific")]),
    "app-root": ({"app-root": "/app"}, None),
    "permanent": ({"permanent-redirect": "https://new.example.com/x",
                   "permanent-redirect-code": "308"}, None),
    "temporal": ({"temporal-redirect": "http://tmp.example.com:8080/y?a=b",
                  "temporal-redirect-code": "307"}, None),
    "force-ssl": ({"force-ssl-redirect": "true",
                   "preserve-trailing-slash": "true"}, None),
    "www": ({"from-to-www-redirect": "true"}, None),
    "cors": ({"enable-cors": "true",
              "cors-allow-origin": "https://a.example.com",
              "cors-allow-credentials": "true", "cors-max-age": "600",
              "cors-allow-methods": "GET, POST",
              "cors-allow-headers": "X-A,X-B",
              "cors-expose-headers": "X-C"}, None),
    "basic": ({"auth-type": "basic", "auth-secret": "htpasswd",
               "auth-realm": "Authentication Required - foo"}, None),
    "basic-map": ({"auth-type": "basic", "auth-secret": "basic-map",
                   "auth-secret-type": "auth-map"}, None),
    "external": ({"auth-url": "http://auth.example.com/check",
                  "auth-signin": "https://login.example.com/start",
                  "auth-signin-redirect-param": "return_to",
                  "auth-response-headers": "X-User, X-Email",
                  "auth-method": "POST",
                  "auth-proxy-set-headers": "auth-headers",
                  "auth-request-redirect": "https://$host/back",
                  "auth-always-set-cookie": "true"}, None),
    "external-https": ({"auth-url": "https://auth.auth-ns.svc.cluster.local"
                        ":8443/check?x=1"}, None),
    "client-tls": ({"auth-tls-secret": "default/ca-secret",
                    "auth-tls-verify-client": "on",
                    "auth-tls-verify-depth": "1",
                    "auth-tls-pass-certificate-to-upstream": "true",
                    "auth-tls-match-cn": "CN=(alice|bob)$"}, None),
    "access": ({"whitelist-source-range": "10.0.0.0/8,::1",
                "denylist-source-range": "10.1.2.3/16"}, None),
    "limits": ({"limit-rps": "5", "limit-rpm": "100",
                "limit-connections": "3", "limit-burst-multiplier": "2",
                "limit-rate": "100", "limit-rate-after": "1024",
                "limit-whitelist": "10.0.0.0/8"}, None),
    "grpc": ({"backend-protocol": "GRPC"}, None),
    "grpcs": ({"backend-protocol": "GRPCS", "proxy-ssl-verify": "on",
               "proxy-ssl-secret": "default/client",
               "proxy-ssl-name": "backend.example.com",
               "proxy-ssl-server-name": "on"}, None),
    "https": ({"backend-protocol": "HTTPS", "proxy-ssl-verify": "on",
               "proxy-ssl-secret": "default/client",
               "proxy-ssl-verify-depth": "2",
               "proxy-ssl-protocols": "TLSv1.2 TLSv1.3",
               "proxy-ssl-ciphers": "HIGH:!aNULL",
               "proxy-ssl-name": "backend.example.com",
               "proxy-ssl-server-name": "on"}, None),
    "mirror": ({"mirror-target": "http://m.example.com$request_uri",
                "mirror-host": "m.example.com",
                "mirror-request-body": "off"}, None),
    "headers": ({"custom-headers": "resp", "x-forwarded-prefix": "/p",
                 "upstream-vhost": "internal.example.org",
                 "connection-proxy-header": "keep-alive"}, None),
    "redirect-rewrite": ({"proxy-redirect-from": "http://internal:8080/",
                          "proxy-redirect-to": "https://c.example.com/app/"},
                         None),
    "ewma": ({"load-balance": "ewma"}, None),
    "least-conn": ({"load-balance": "least_conn"}, None),
    "hash": ({"upstream-hash-by": "$request_uri"}, None),
    "affinity": ({"affinity": "cookie", "session-cookie-name": "route"},
                 None),
    "service-upstream": ({"service-upstream": "true",
                          "ssl-redirect": "false"}, None),
    "errors": ({"custom-http-errors": "404,503", "default-backend": "web"},
               None),
    "errors-off": ({"custom-http-errors": "500",
                    "disable-proxy-intercept-errors": "true"}, None),
    "alias": ({"server-alias": "alias.example.com,alias2.example.com"},
              None),
}


def b64(s):
    return base64.b64encode(s if isinstance(s, bytes) else s.encode()) \
        .decode()


def opaque(name, **data):
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": "default"},
            "data": {k.replace("_", "."): b64(v) for k, v in data.items()}}


def configmap(name, data, ns="default"):
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": ns}, "data": data}


def support(tmp):
    """Objects the flag sets and families name: Service web (one unnamed
    port, targetPort 8080) with an EndpointSlice, Secrets tls, ca-secret,
    client, htpasswd, basic-map, ConfigMaps resp and auth-headers."""
    crt, key = self_signed(tmp, "secure.example.com")
    return [
        service("web", [svc_port(None, 80, 8080)]),
        slice_("web", [endpoint("127.0.0.1")], [(None, 18999)]),
        secret_tls("tls", crt, key),
        opaque("ca-secret", ca_crt=crt),
        opaque("client", tls_crt=crt, tls_key=key, ca_crt=crt),
        opaque("htpasswd", auth="foo:$apr1$OFG3Xybp$ckL0FHDAkoXYIlH9.cysT0"),
        opaque("basic-map", foo="$apr1$OFG3Xybp$ckL0FHDAkoXYIlH9.cysT0"),
        configmap("resp", {"X-Frame-Options": "DENY", "X-Team": "web a"}),
        configmap("auth-headers", {"X-Client": "kubengx"}),
    ]


def family_ingresses():
    objs = []
    for fam, (ann, paths) in FAMILIES.items():
        host = "%s.example.com" % fam
        if fam == "www":
            host = "www.example.com"
        if fam == "alias":              # server_names_hash_bucket_size
            host = "a-host-name-longer-than-the-46-characters.example.com"
        ps = [path(p, "web", 80, type=t) for p, t in paths] if paths else \
            [path("/", "web", 80), path("/app", "web", 80, type="Exact")]
        objs.append(ingress(fam, [rule(host, *ps)],
                            annotations={P + k: v for k, v in ann.items()},
                            tls=[{"hosts": [host], "secretName": "tls"}]))
    # every single value test_annotations.py calls good, one Ingress each
    for i, (k, v, _) in enumerate(ta.GOOD):
        objs.append(ingress("good-%d" % i, [rule(
            "good-%d.example.com" % i, path("/", "web", 80))],
            annotations={P + k: v}))
    # canaries: by header, weight and cookie
    objs.append(ingress("main", [rule("canary.example.com",
                                      path("/", "web", 80))]))
    for i, ann in enumerate([
            {"canary-by-header": "X-Canary", "canary-weight": "20",
             "canary-by-cookie": "canary"},
            {"canary-by-header": "X-Region", "canary-by-header-value": "eu"},
            {"canary-weight": "50", "canary-weight-total": "200"}]):
        ann = dict({"canary": "true"}, **ann)
        objs.append(ingress("canary-%d" % i, [rule(
            "canary.example.com" if i < 2 else "canary2.example.com",
            path("/", "web", 80))], annotations={P + k: v
                                                  for k, v in ann.items()}))
    objs.append(ingress("main2", [rule("canary2.example.com",
                                       path("/", "web", 80))]))
    # an ExternalName Service, plain and gRPC
    objs.append(service("ext", [svc_port(None, 80, 80)], type="ExternalName",
                        external_name="api.example.org"))
    objs.append(ingress("ext", [rule("ext.example.com",
                                     path("/", "ext", 80))]))
    objs.append(ingress("ext-grpc", [rule("ext-grpc.example.com",
                                          path("/", "ext", 80))],
                        annotations={P + "backend-protocol": "GRPC"}))
    # no host, a default backend of its own, a wildcard host
    objs.append(ingress("catch", [rule(None, path("/c", "web", 80))],
                        default_backend={"service": {
                            "name": "web", "port": {"number": 80}}}))
    objs.append(ingress("wild", [rule("*.wild.example.com",
                                      path("/", "web", 80))]))
    return objs


def inputs(tmp):
    """(id, [files], extra flags) to render."""
    sup = write_manifests(tmp / "support", support(tmp), name="support")
    out = []
    for f in sorted(glob.glob(os.path.join(DOCS, "*.yaml"))):
        out.append(("docs-" + os.path.basename(f), [f, sup],
                    ("--watch-without-class",)))
    svc = os.path.join(DATA, "service.yaml")
    for f in sorted(glob.glob(os.path.join(DATA, "*.yaml"))):
        if f != svc:
            out.append(("ingress-nginx-" + os.path.basename(f),
                        [f, svc, sup], ("--class", "nginx")))
    out.append(("examples-seed", [os.path.join(EXAMPLES, "seed"), sup], ()))
    out.append(("examples-stream", [os.path.join(EXAMPLES, "stream"), sup],
                ()))
    fams = write_manifests(tmp / "families", family_ingresses(),
                           name="families")
    out.append(("families", [fams, sup], ()))
    for name, data in (("settings-many", SETTINGS_MANY),
                       ("settings-forwarded", SETTINGS_FORWARDED)):
        cm = write_manifests(tmp / name, [configmap(
            "kubengx-settings", data, ns="ingress-nginx")], name=name)
        out.append((name, [fams, sup, cm], ("--configmap", CM)))
    return out


@pytest.fixture(scope="session")
def conf_check():
    """$BUILD/conf_check from tests/fuzz/conf_check_main.c (gcc)."""
    exe = os.path.join(harness.BUILD, "conf_check")
    srcs = [os.path.join(FUZZ, f) for f in ("conf_check_main.c",
                                             "conf_check.h", "read_file.h")]
    if not os.path.exists(exe) or os.path.getmtime(exe) < \
            max(os.path.getmtime(s) for s in srcs):
        subprocess.run(["gcc", "-std=gnu99", "-Wall", "-Wextra", "-Werror",
                        "-O1", "-o", exe, srcs[0]], check=True)
    return exe


def check(conf_check, conf_path):
    p = subprocess.run([conf_check, str(conf_path)], capture_output=True,
                       timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """{(input id, flag set): path of the rendered config}"""
    assert os.access(harness.KUBENGX, os.X_OK), harness.KUBENGX
    tmp = tmp_path_factory.mktemp("oracle")
    out = {}
    for iid, files, extra in inputs(tmp):
        for fid, fs in FLAGS.items():
            rc, _, err, conf = render(files, None, *fs["flags"], *extra,
                                      endpoints=fs["endpoints"],
                                      http_port=18080, https_port=18443)
            assert rc == 0, (iid, fid, err)
            p = tmp / ("%s.%s.conf" % (iid, fid))
            p.write_text(conf)
            out[(iid, fid)] = p
    return out


def test_every_rendered_config_passes_the_oracle(rendered, conf_check):
    """No finding on anything the renderer writes for these inputs: a
    finding names the config, the line and the reason."""
    findings = []
    for key, p in sorted(rendered.items()):
        rc, out = check(conf_check, p)
        assert rc in (0, 1), out
        if rc:
            findings.append(out)
    assert not findings, "conf_check.h does not know what the renderer " \
        "writes (extend it):\n" + "".join(findings)


# What the inputs must make the renderer write, so that the test above
# covers every block kind and the annotation families' directives.
COVERED = [
    "map ", "upstream ", "geo ", "split_clients ", "if (", "location @",
    "location ~", "location = ", "k8s_service ", "k8s_dispatch ",
    "k8s_backend ", "k8s_canary", "k8s_metrics_route", "proxy_pass http://",
    "proxy_pass https://", "grpc_pass grpc://", "grpc_pass grpcs://",
    "set $kubengx_external", "resolver ", "return 301", "return 308",
    "rewrite ", "add_header ", "auth_request ", "auth_request_set ",
    "internal;", "limit_req_zone ", "limit_req ", "limit_conn_zone ",
    "limit_conn ", "allow ", "deny ", "auth_basic ", "auth_basic_user_file",
    "proxy_ssl_certificate ", "proxy_ssl_trusted_certificate ",
    "grpc_ssl_certificate ", "mirror ", "error_page ", "http2",
    "server_tokens ", "log_format ", "access_log ", "ssl_protocols ",
    "ssl_verify_client ", "ssl_client_certificate ",
    "Strict-Transport-Security", "gzip ", "set_real_ip_from ",
    "proxy_cookie_path ", "client_max_body_size ", "keepalive ",
    "k8s_affinity cookie", "proxy_redirect ", "grpc_ssl_verify ",
    "geo $realip_remote_addr $kubengx_forwarded_trusted", "log_format ",
    "upstream kubengx_dispatch", "location ~* ", "return 503;",
    "if ($kubengx_forwarded_proto = http)",
]


# In the oracle's table but not written by the renderer of this tree
# (none today: keep it empty unless a directive is kept for older input).
NOT_RENDERED = set()


def test_inputs_cover_what_the_renderer_writes(rendered, conf_check):
    """The inputs are broad: the rendered configs together hold each of
    COVERED and every directive of the oracle's table (else the oracle
    test proves less than it says, and the table keeps dead entries)."""
    text = "".join(p.read_text() for p in rendered.values())
    assert [c for c in COVERED if c not in text] == []
    table = subprocess.run([conf_check, "--directives"], capture_output=True,
                           text=True, check=True).stdout.split()
    seen = {name for p in rendered.values()
            for name, _, _ in nginx_tokens(p.read_text())}
    assert len(table) > 90
    assert [d for d in table if d not in seen and d not in NOT_RENDERED] \
        == []


@pytest.mark.parametrize("bad,why", [
    ("server {\n    listen 80;\n    evil_directive on;\n}\n",
     'directive "evil_directive" in server'),
    ("server {\n    listen 80;\n    location / {\n"
     "        proxy_pass http://nowhere;\n    }\n}\n",
     "line 7: a reference to an upstream not defined"),
    ("upstream a {\n    server 10.0.0.1:80;\n}\nserver {\n    listen 80;\n"
     "    location / {\n        set $kubengx_backend b;\n"
     "        proxy_pass http://$kubengx_backend;\n    }\n}\n",
     "a reference to an upstream not defined"),
    ("server {\n    listen 80;\n    location / {\n"
     "        error_page 404 @nowhere;\n    }\n}\n",
     "a reference to a named location not defined"),
    ("server {\n    listen 80;\n    location / {\n"
     "        auth_request \"/_kubengx|auth|x\";\n    }\n}\n",
     "a reference to an internal location not defined"),
    ("server {\n    listen 80;\n    location / {\n"
     "        add_header X-A \"a\"; return 200 \"x\";\n    }\n}\n",
     "line 4: return 200 with a text"),
    ("server {\n    listen 80;\n    location / {\n"
     "        return 302 https://evil;\n    }\n}\n",
     'return URL "https://evil"'),
    ("server {\n    listen 80;\n    if ($host) { evil on; }\n}\n",
     'directive "evil" in if in server'),
    ("server {\n    listen 80;\n    if ($host = $x) { return 404; }\n}\n",
     'if operand "$x)"'),
    ("server {\n    listen 80;\n    location / {\n"
     "        proxy_set_header X-A evil;\n    }\n}\n",
     'proxy_set_header argument "evil" of a shape'),
    ("server {\n    listen 80;\n    location / {\n"
     "        access_log off(;\n    }\n}\n",
     '"(" or ")" outside an if'),
    ("map $a $kubengx_b {\n    default 1 2;\n}\n",
     "map entry with other than 2 parts"),
    ("server {\n    listen 80;\n    location / {\n"
     "        rewrite ^ /x break;\n        return 404;\n    }\n",
     "unclosed block at end"),
    ("server {\n    listen 80;\n    location / {\n"
     "        grpc_pass grpc://$evil;\n    }\n}\n",
     'pass "grpc://$evil"'),
    ("server {\n    listen 80;\n    location / {\n"
     "        proxy_pass $kubengx_auth_url;\n"
     "        ssl_certificate \"/etc/$x\";\n    }\n}\n",
     'directive "ssl_certificate" in location'),
])
def test_the_oracle_still_refuses(tmp_path, conf_check, bad, why):
    """The oracle stays an oracle: unknown directives, undefined upstreams,
    shapes the renderer never writes are findings."""
    p = tmp_path / "bad.conf"
    p.write_text(bad)
    rc, out = check(conf_check, p)
    assert rc == 1 and why in out, out


def check_flags(tmp_path, endpoints):
    """render --check (nginx -t) with the module for k8s_metrics_route."""
    assert os.path.exists(harness.MODULE), harness.MODULE
    return ("--check", "--nginx", harness.NGINX, "--module", harness.MODULE)


@pytest.mark.parametrize("endpoints,flags", [
    ("module", ()), ("static", ("--metrics-routes",))])
def test_bad_service_name_stays_out_of_the_metrics_labels(
        tmp_path, conf_check, endpoints, flags):
    """Found by the render fuzz target with this oracle: the Service name
    of a route that answers 503 for a bad name went unescaped into
    k8s_metrics_route's quotes, so `x"; return 200 "pwned` injected a
    directive.  Now the route serves 503 without a service label, the
    config passes the oracle and nginx -t with the module."""
    f = write_manifests(tmp_path, [ingress("inj", [rule(
        "a.example.com", path("/", 'x"; return 200 "pwned', 80),
        path("/b", "-service2\"", 80))])])
    rc, _, err, conf = render(f, tmp_path / "o", *flags,
                              *check_flags(tmp_path, endpoints),
                              endpoints=endpoints,
                              env=harness.san_env(tmp_path))
    assert rc == 0, err
    assert "not a valid Service name" in err
    assert "pwned" not in conf and "return 503;" in conf, conf
    assert '"ingress=inj"' in conf and "service=" not in conf, conf
    assert check(conf_check, tmp_path / "o" / "kubengx.conf") == (0, "")


def test_long_ingress_names_load_in_the_module(tmp_path, conf_check):
    """Found by run.sh --check-corpus (nginx -t with the module): an
    Ingress name with a label over 63 characters, valid in Kubernetes
    (a DNS-1123 subdomain: 253 at most, no limit per label), made
    k8s_metrics_route and k8s_canary refuse the whole config."""
    long = "a" * 70 + ".b" + "c" * 100
    f = write_manifests(tmp_path, [
        service("web", [svc_port(None, 80, 8080)]),
        ingress(long, [rule("a.example.com", path("/", "web", 80))]),
        ingress("c" + long, [rule("a.example.com", path("/", "web", 80))],
                annotations={P + "canary": "true",
                             P + "canary-weight": "10"})])
    rc, _, err, conf = render(f, tmp_path / "o",
                              *check_flags(tmp_path, "module"),
                              endpoints="module",
                              env=harness.san_env(tmp_path))
    assert rc == 0, err
    assert '"ingress=%s"' % long in conf and "k8s_canary default/c" in conf
    assert check(conf_check, tmp_path / "o" / "kubengx.conf") == (0, "")
