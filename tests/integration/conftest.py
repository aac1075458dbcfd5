"""pytest fixtures shared by every integration test.

    nginx_factory(http=..., ports=[...], module=True, workers=1) -> Nginx
    backends(name=addr, ...) / backends("a", "b")               -> Backends
    kube_api(load=[...], tls=False, token=None)                 -> KubeAPI
    kubengx                                                      -> CLI path

Everything started through a fixture is stopped when the test ends, pass
or fail."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402


@pytest.fixture
def kubengx():
    assert os.access(harness.KUBENGX, os.X_OK), \
        "build the CLI first: make (looked for %s)" % harness.KUBENGX
    return harness.KUBENGX


@pytest.fixture
def nginx_factory(tmp_path):
    started = []

    def make(http="", ports=(), name="nginx", start=True, **kw):
        n = harness.Nginx(tmp_path / name, http=http, ports=ports, **kw)
        started.append(n)
        if start:
            n.start()
        return n

    yield make
    for n in started:
        n.stop()


@pytest.fixture
def backends():
    started = []

    def make(*names, **addrs):
        specs = [(n, "127.0.0.1:0") for n in names] + list(addrs.items())
        b = harness.Backends(specs)
        started.append(b)
        return b

    yield make
    for b in started:
        b.stop()


@pytest.fixture
def kube_api(tmp_path):
    """Factory for the stand-in Kubernetes API server
    (tests/kube-apiserver/kube_apiserver.py)."""
    from apiserver import KubeAPI
    started = []

    def make(**kw):
        api = KubeAPI.start(tmp_path / ("api%d" % len(started)), **kw)
        started.append(api)
        return api

    yield make
    for api in started:
        api.stop()
