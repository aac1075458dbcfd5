"""The module loads into Debian's nginx, and the CLI answers."""

import re

import harness


def test_module_loads_and_nginx_serves(nginx_factory):
    port = harness.free_port()
    n = nginx_factory(http="""
    server {
        listen 127.0.0.1:%d;
        location / { return 200 "module loaded\\n"; }
    }""" % port, ports=[port])
    t = n.test_config()
    assert t.returncode == 0, t.stderr
    assert "test is successful" in t.stderr
    r = n.get("/")
    assert r.status == 200 and r.text == "module loaded\n"
    # the master really loaded our .so
    with open("/proc/%d/maps" % n.pid) as f:
        assert "ngx_http_k8s_module.so" in f.read()


def test_module_built_for_this_nginx(nginx_factory):
    """A module built without --with-compat, or for another nginx version,
    is refused by load_module with 'is not binary compatible'."""
    n = nginx_factory(http="", start=False)
    t = n.test_config()
    assert t.returncode == 0, t.stderr
    assert "binary compatible" not in t.stderr


def test_cli_version(kubengx):
    p = harness.run([kubengx, "--version"], check=True)
    assert re.fullmatch(r"kubengx \d+\.\d+\.\d+\n", p.stdout)


def test_cli_help_lists_commands(kubengx):
    p = harness.run([kubengx, "--help"], check=True)
    assert p.stdout.startswith("Usage: kubengx COMMAND")
    assert "--version" in p.stdout


def test_cli_unknown_command(kubengx):
    p = harness.run([kubengx, "frobnicate"])
    assert p.returncode == 2
    assert 'unknown command "frobnicate"' in p.stderr
