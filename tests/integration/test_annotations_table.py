"""README.md's table of ingress-nginx's annotations is the code's
registry (generator/annotations/registry.c, printed by `kubengx migrate
--annotations`): the two cannot drift.  The registry covers every key
ingress-nginx's annotations.md documents."""

import os
import re
import subprocess

import harness

# the keys of ingress-nginx's annotations.md table (kubernetes/ingress-
# nginx, docs/user-guide/nginx-configuration/annotations.md, Apache-2.0),
# and those added to it later
DOCUMENTED = """
app-root affinity affinity-mode affinity-canary-behavior auth-realm
auth-secret auth-secret-type auth-type auth-tls-secret
auth-tls-verify-depth auth-tls-verify-client auth-tls-error-page
auth-tls-pass-certificate-to-upstream auth-tls-match-cn auth-url
auth-cache-key auth-cache-duration auth-keepalive auth-keepalive-share-vars
auth-keepalive-requests auth-keepalive-timeout auth-proxy-set-headers
auth-snippet enable-global-auth backend-protocol canary canary-by-header
canary-by-header-value canary-by-header-pattern canary-by-cookie
canary-weight canary-weight-total client-body-buffer-size
configuration-snippet custom-http-errors custom-headers default-backend
enable-cors cors-allow-origin cors-allow-methods cors-allow-headers
cors-expose-headers cors-allow-credentials cors-max-age
force-ssl-redirect from-to-www-redirect http2-push-preload
limit-connections limit-rps limit-rpm limit-rate limit-rate-after
limit-whitelist limit-burst-multiplier global-rate-limit
global-rate-limit-window global-rate-limit-key
global-rate-limit-ignored-cidrs permanent-redirect permanent-redirect-code
temporal-redirect temporal-redirect-code preserve-trailing-slash
proxy-body-size proxy-cookie-domain proxy-cookie-path
proxy-connect-timeout proxy-send-timeout proxy-read-timeout
proxy-next-upstream proxy-next-upstream-timeout proxy-next-upstream-tries
proxy-request-buffering proxy-redirect-from proxy-redirect-to
proxy-http-version proxy-ssl-secret proxy-ssl-ciphers proxy-ssl-name
proxy-ssl-protocols proxy-ssl-verify proxy-ssl-verify-depth
proxy-ssl-server-name enable-rewrite-log rewrite-target satisfy
server-alias server-snippet service-upstream session-cookie-name
session-cookie-path session-cookie-domain session-cookie-change-on-failure
session-cookie-samesite session-cookie-conditional-samesite-none
session-cookie-expires session-cookie-max-age session-cookie-secure
ssl-redirect ssl-passthrough stream-snippet upstream-hash-by
upstream-hash-by-subset upstream-hash-by-subset-size x-forwarded-prefix
load-balance upstream-vhost denylist-source-range whitelist-source-range
allowlist-source-range proxy-buffering proxy-buffers-number
proxy-buffer-size proxy-max-temp-file-size ssl-ciphers
ssl-prefer-server-ciphers connection-proxy-header enable-access-log
enable-opentracing opentracing-trust-incoming-span enable-opentelemetry
opentelemetry-trust-incoming-span opentelemetry-operation-name
enable-influxdb influxdb-measurement influxdb-port influxdb-host
influxdb-server-name use-regex enable-modsecurity enable-owasp-core-rules
modsecurity-transaction-id modsecurity-snippet mirror-request-body
mirror-target mirror-host disable-proxy-intercept-errors
""".split()


def registry():
    p = subprocess.run([harness.KUBENGX, "migrate", "--annotations"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout.splitlines()


def readme_rows():
    with open(os.path.join(harness.ROOT, "README.md")) as f:
        text = f.read()
    text = text.split("### ingress-nginx's annotations")[1]
    text = text.split("**Regex paths.**")[0]
    return [l for l in text.splitlines()
            if re.match(r"^\| `[a-z0-9-]+` \| ", l)]


def test_readme_table_is_the_registry(kubengx):
    assert readme_rows() == registry()


def test_registry_covers_ingress_nginx(kubengx):
    names = [re.match(r"^\| `([a-z0-9-]+)`", l).group(1) for l in registry()]
    assert names == sorted(names)
    missing = sorted(set(DOCUMENTED) - set(names))
    assert not missing, missing


def test_access_control_fails_closed_in_the_table(kubengx):
    rows = {re.match(r"^\| `([a-z0-9-]+)`", l).group(1): l
            for l in registry()}
    for k in ("satisfy", "auth-cache-key", "auth-keepalive",
              "enable-modsecurity"):
        assert "fails closed" in rows[k], rows[k]
    # implemented (annotations/access.c, auth_*.c): no longer fail closed
    for k in ("auth-url", "auth-type", "auth-tls-secret",
              "auth-proxy-set-headers",
              "whitelist-source-range", "denylist-source-range",
              "allowlist-source-range"):
        assert "fails closed" not in rows[k], rows[k]
    for k in ("configuration-snippet", "server-snippet", "stream-snippet"):
        assert "snippet" in rows[k], rows[k]
    for k in ("canary", "affinity", "session-cookie-name"):
        assert "elsewhere" in rows[k], rows[k]
