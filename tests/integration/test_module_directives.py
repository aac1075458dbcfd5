"""Bad directive values are refused by `nginx -t` with nginx-style
messages that name the file and line."""

import pytest

import harness


UPSTREAM = """
    k8s_zone k8s 1m;
    upstream u { %s }
    server { listen 127.0.0.1:1; location / { proxy_pass http://u; } }
"""

CASES = [
    ("no slash", UPSTREAM % "k8s_service web port=http;",
     r'invalid service "web": expected NAMESPACE/NAME'),
    ("bad namespace", UPSTREAM % "k8s_service Shop/web;",
     r'invalid namespace "Shop" in "Shop/web"'),
    ("bad name", UPSTREAM % "k8s_service shop/web_1;",
     r'invalid service name "web_1"'),
    ("empty name", UPSTREAM % "k8s_service shop/;",
     r'invalid service name ""'),
    ("port 0", UPSTREAM % "k8s_service shop/web port=0;",
     r'invalid port "0"'),
    ("port too big", UPSTREAM % "k8s_service shop/web port=70000;",
     r'invalid port "70000"'),
    ("bad port name", UPSTREAM % "k8s_service shop/web port=Http_x;",
     r'invalid port "Http_x"'),
    ("empty port", UPSTREAM % "k8s_service shop/web port=;",
     r'invalid port "port="'),
    ("unknown option", UPSTREAM % "k8s_service shop/web weight=3;",
     r'invalid parameter "weight=3"'),
    ("bad max_fails", UPSTREAM % "k8s_service shop/web max_fails=x;",
     r'invalid value "max_fails=x"'),
    ("bad fail_timeout", UPSTREAM % "k8s_service shop/web fail_timeout=zz;",
     r'invalid value "fail_timeout=zz"'),
    ("bad balance", UPSTREAM % "k8s_service shop/web balance=magic;",
     r'unsupported balancing method "balance=magic"'),
    ("duplicate", UPSTREAM % "k8s_service shop/a; k8s_service shop/b;",
     r'"k8s_service" directive is duplicate'),
    ("with server", UPSTREAM % "server 127.0.0.1:1; k8s_service shop/a;",
     r'"k8s_service" must come first|cannot be combined with "server"'),
    ("keepalive before", UPSTREAM % "keepalive 4; k8s_service shop/a;",
     r'"k8s_service" must come first in the upstream block'),
    ("server after", UPSTREAM % "k8s_service shop/a; server 127.0.0.1:1;",
     r'"server" cannot be used in upstream "u"'),
    ("outside upstream", """
    k8s_zone k8s 1m;
    server { listen 127.0.0.1:1; k8s_service shop/web; }""",
     r'"k8s_service" directive is not allowed here'),
    ("missing zone", """
    upstream u { k8s_service shop/web; }
    server { listen 127.0.0.1:1; location / { proxy_pass http://u; } }""",
     r'require a "k8s_zone"'),
    ("backend missing zone", """
    server { listen 127.0.0.1:1; location / { k8s_backend shop/web; } }""",
     r'require a "k8s_zone"'),
    ("bad zone size", "k8s_zone k8s lots;",
     r'invalid zone size "lots"'),
    ("zone too small", "k8s_zone k8s 4k;",
     r'zone "k8s" is too small'),
    ("zone twice", "k8s_zone k8s 1m; k8s_zone k9 1m;",
     r'"k8s_zone" directive is duplicate'),
    ("backend extra", """
    k8s_zone k8s 1m;
    server { listen 127.0.0.1:1;
             location / { k8s_backend shop/web port=http extra; } }""",
     r'invalid parameter "extra"'),
    ("dispatch option", UPSTREAM % "k8s_dispatch foo;",
     r'invalid parameter "foo"'),
    ("status args", """
    server { listen 127.0.0.1:1; location / { k8s_status on; } }""",
     r'invalid number of arguments in "k8s_status"'),
    ("snapshot without zone", "k8s_snapshot /tmp/x.state;",
     r'"k8s_snapshot" requires "k8s_zone"'),
]


@pytest.mark.parametrize("what,http,msg", CASES, ids=[c[0] for c in CASES])
def test_nginx_t_refuses(nginx_factory, what, http, msg):
    import re
    n = nginx_factory(http=http, start=False)
    t = n.test_config()
    assert t.returncode != 0, t.stderr
    assert re.search(r"\[emerg\] .*%s" % msg, t.stderr), t.stderr
    assert re.search(r"in %s:\d+" % re.escape(n.conf), t.stderr), t.stderr


def test_good_config_accepted(nginx_factory):
    n = nginx_factory(http="""
    k8s_zone k8s 1m;
    k8s_snapshot state/endpoints.state;
    upstream u { k8s_service shop/web port=http max_fails=3 fail_timeout=5s
                 balance=round_robin; keepalive 8; }
    upstream v { k8s_service shop/web port=8080; }
    upstream w { k8s_service shop/web; zone w 64k; }
    upstream d { k8s_dispatch max_fails=2; keepalive 32; }
    server {
        listen 127.0.0.1:1;
        location / { proxy_pass http://u; }
        location /v { proxy_pass http://v; }
        location /w { proxy_pass http://w; }
        location /d { k8s_backend other/api port=grpc; proxy_pass http://d; }
        location = /status { k8s_status; }
    }""", start=False)
    t = n.test_config()
    assert t.returncode == 0, t.stderr
