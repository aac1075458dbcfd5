"""The ConfigMaps Ingress annotations name (auth-proxy-set-headers,
custom-headers: generator/annotations/headers.c) through `kubengx
controller` and the stand-in API server, in static and module mode: one
list/watch of every namespace's ConfigMaps; a change of a named one
changes the headers without a restart, a change of one no Ingress names
is not even a sync, a ConfigMap created after its Ingress is picked up,
and a deleted one makes the auth-proxy-set-headers Ingress fail closed
(with an Event), until it is back."""

import pytest

import harness
import manifests as m
from test_controller import controllers  # noqa: F401 (a fixture)
from test_render_access import AuthServer
from test_webhook import admit, pki, wait_webhook, webhook_args  # noqa: F401

P = "nginx.ingress.kubernetes.io/"
HOST = "app.example.com"
LATE = "late.example.com"
CM = "/api/v1/namespaces/default/configmaps/"


def configmap(name, data):
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": m.meta(name, "default"), "data": data}


@pytest.fixture
def auth_server():
    a = AuthServer()
    yield a
    a.stop()


@pytest.mark.parametrize("mode", ["static", "module"])
def test_configmap_refs_watched(kube_api, backends, controllers,  # noqa: F811
                                auth_server, mode):
    bk = backends("a")
    api = kube_api()
    url = "http://127.0.0.1:%d/oauth2/auth" % auth_server.port
    for o in [m.ingress_class("kubengx")] + \
            m.backend_service(bk, "svc-a", "a") + [
            configmap("auth-headers", {"X-Tenant": "acme"}),
            configmap("resp", {"X-Custom": "one"}),
            configmap("noise", {"k": "v"}),
            m.ingress("app", [m.rule(HOST, m.path("/", "svc-a", 80))],
                      annotations={
                          P + "auth-url": url,
                          P + "auth-proxy-set-headers": "auth-headers",
                          P + "custom-headers": "default/resp"}),
            m.ingress("late", [m.rule(LATE, m.path("/", "svc-a", 80))],
                      annotations={P + "custom-headers": "later"})]:
        api.create(o)
    ctl = controllers(api, endpoints=mode,
                      args=["--no-leader-elect"]).wait_ready()

    def get(host=HOST):
        return ctl.get("/x", host=host) if host != HOST else \
            harness.http_request(ctl.http_port, "/x", host=HOST, timeout=5,
                                 headers={"Cookie": "_oauth2_proxy=good"})

    def tenant():
        return {k.lower(): v for k, v in
                auth_server.seen[-1][2].items()}.get("x-tenant")

    harness.wait_for(lambda: get().backend == "a", 20, "the backend")
    assert tenant() == "acme"
    assert get().headers.get("x-custom") == "one"
    # the ConfigMap "later" is not there yet: that Ingress is not served
    assert get(LATE).backend is None

    # one list/watch of every namespace's ConfigMaps
    seen = [r for r in api.requests_seen()
            if r["path"] == "/api/v1/configmaps"]
    assert seen, api.requests_seen()[:5]

    # a ConfigMap no Ingress names: not a change; named ones: applied
    # without a restart
    pid = ctl.proc.pid
    cm = api.get(CM + "noise")
    cm["data"]["k"] = "w"
    api.replace(cm)
    for name, data in (("auth-headers", {"X-Tenant": "globex"}),
                       ("resp", {"X-Custom": "two"})):
        cm = api.get(CM + name)
        cm["data"] = data
        api.replace(cm)
    harness.wait_for(lambda: get().headers.get("x-custom") == "two", 15,
                     "the new response header")
    harness.wait_for(lambda: get().backend == "a" and tenant() == "globex",
                     15, "the new auth header")
    assert ctl.proc.pid == pid and ctl.proc.poll() is None
    assert "ConfigMap default/noise" not in ctl.text()
    assert "ConfigMap default/resp" in ctl.text()

    # created after its Ingress: picked up
    api.create(configmap("later", {"X-Late": "yes"}))
    harness.wait_for(lambda: get(LATE).headers.get("x-late") == "yes", 15,
                     "the late ConfigMap's header")

    # deleted: the auth-proxy-set-headers Ingress fails closed, an Event
    api.delete(CM + "auth-headers")
    # (right after a reload, the old workers may still take a request)
    harness.wait_for(lambda: get().status == 404, 15, "not served")

    def events():
        evs = api.get("/api/v1/namespaces/default/events")["items"]
        return [e for e in evs if e["involvedObject"]["name"] == "app"
                and "auth-proxy-set-headers" in e["message"]]
    ev = harness.wait_for(events, 10, "an Event on the Ingress")[0]
    assert ev["type"] == "Warning" and "not served" in ev["message"], ev
    assert get(LATE).headers.get("x-late") == "yes"

    # back: served again
    api.create(configmap("auth-headers", {"X-Tenant": "initech"}))
    harness.wait_for(lambda: get().backend == "a" and tenant() == "initech",
                     15, "served again, with the new header")


def test_webhook_reads_the_configmap_a_new_ingress_names(
        kube_api, backends, controllers, pki):  # noqa: F811
    """The admission webhook plans the store with the reviewed Ingress
    added: a ConfigMap no stored Ingress names yet is in the store, so the
    Ingress naming it is admitted; another namespace's is rejected."""
    bk = backends("a")
    api = kube_api()
    api.create({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": "other"}})
    for o in [m.ingress_class("kubengx")] + \
            m.backend_service(bk, "svc-a", "a") + [
            configmap("resp", {"X-Custom": "one"}),
            dict(configmap("resp", {"X-Custom": "theirs"}),
                 metadata=m.meta("resp", "other"))]:
        api.create(o)
    port = harness.free_port()
    ctl = controllers(api, args=webhook_args(port, pki))
    wait_webhook(ctl, port)

    def ing(ref):
        return m.ingress("new", [m.rule(HOST, m.path("/", "svc-a", 80))],
                         annotations={P + "custom-headers": ref})
    assert admit(port, pki, ing("resp"))["allowed"] is True
    resp = admit(port, pki, ing("other/resp"))
    assert resp["allowed"] is False, resp
    assert "custom-headers" in resp["status"]["message"], resp
