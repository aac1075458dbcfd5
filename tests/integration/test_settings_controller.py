"""`kubengx controller --configmap NS/NAME` against the stand-in API: the
settings ConfigMap is watched by name (beside the TCP services one), its
keys apply to the served config, a bad key is an Event on the ConfigMap
and left out alone, a change reloads only when the text changes, and the
main config's keys rewrite nginx.conf."""

import os
import re

import harness
import manifests as m
from test_controller import Controller, controllers  # noqa: F401

NS = "ingress-nginx"
CM = "/api/v1/namespaces/%s/configmaps/" % NS
HOST = "app.example.com"


def configmap(name, data):
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": m.meta(name, NS), "data": data}


def post(ctl, n):
    return harness.http_request(ctl.http_port, "/", host=HOST, method="POST",
                                body=b"x" * n, timeout=5).status


def test_settings_configmap_watched_applied_and_reported(
        kube_api, backends, controllers):  # noqa: F811
    bk = backends("a")
    api = kube_api()
    api.create({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": NS}})
    for o in [m.ingress_class("kubengx")] + \
            m.backend_service(bk, "svc-a", "a") + \
            [m.ingress("app", [m.rule(HOST, m.path("/", "svc-a", 80))])]:
        api.create(o)
    api.create(configmap("settings", {"proxy-body-size": "1k",
                                      "no-such-key": "x",
                                      "worker-processes": "2"}))
    api.create(configmap("tcp-services", {}))

    ctl = controllers(api, args=[
        "--configmap", "%s/settings" % NS,
        "--tcp-services-configmap", "%s/tcp-services" % NS])
    ctl.wait_ready()

    # the key applies; the bad one is left out alone, as an Event
    assert post(ctl, 2000) == 413 and post(ctl, 500) == 200

    def events():
        evs = api.get("/api/v1/namespaces/%s/events" % NS)["items"]
        return [e for e in evs if e["involvedObject"]["kind"] == "ConfigMap"
                and e["involvedObject"]["name"] == "settings"]
    ev = harness.wait_for(events, 10, "an Event on the ConfigMap")[0]
    assert ev["reason"] == "InvalidSetting" and ev["type"] == "Warning"
    assert "data.no-such-key" in ev["message"], ev
    assert ev["involvedObject"]["uid"], ev

    # each ConfigMap is watched alone, by name (RBAC may grant one name)
    seen = [r for r in api.requests_seen() if "/configmaps" in r["path"]
            and r["method"] == "GET"]
    sels = {str(r.get("query", {}).get("fieldSelector")) for r in seen}
    assert any("metadata.name=settings" in s for s in sels), seen[:4]
    assert any("metadata.name=tcp-services" in s for s in sels), seen[:4]
    named = [r for r in seen if "metadata.name="
             in str(r.get("query", {}).get("fieldSelector"))]
    assert all(r["path"].startswith(CM.rstrip("/")) for r in named), seen
    # the ConfigMaps annotations name: one list/watch of every namespace
    assert any(r["path"] == "/api/v1/configmaps" for r in seen), seen

    # the main config's key is in nginx.conf, and nginx runs two workers
    with open(os.path.join(ctl.dir, "nginx.conf")) as f:
        assert "worker_processes 2;" in f.read()

    # the access log: the rendered config's, upstreaminfo on stdout
    harness.wait_for(lambda: re.search(
        r'"POST / HTTP/1\.1" 200 \d+ "-" "[^"]*" \d+ \S+ '
        r'\[default_svc-a_http\]', ctl.text()), 10, "an access log line")

    # a change of a key: one reload, applied
    reloads = ctl.reloads()
    cm = api.get(CM + "settings")
    cm["data"]["proxy-body-size"] = "4k"
    api.replace(cm)
    harness.wait_for(lambda: post(ctl, 2000) == 200, 15, "4k applied")
    harness.wait_for(lambda: ctl.reloads() == reloads + 1, 10, "a reload")

    # a change that leaves the text alone: no reload
    syncs = ctl.metric("kubengx_syncs_total")
    cm = api.get(CM + "settings")
    cm["metadata"].setdefault("annotations", {})["note"] = "no effect"
    api.replace(cm)
    harness.wait_for(lambda: ctl.metric("kubengx_syncs_total") > syncs, 10,
                     "a sync")
    assert ctl.reloads() == reloads + 1

    # a main config key alone: nginx.conf again, and a reload
    cm = api.get(CM + "settings")
    cm["data"]["worker-processes"] = "1"
    api.replace(cm)
    harness.wait_for(lambda: ctl.reloads() == reloads + 2, 15,
                     "a reload for worker-processes")
    with open(os.path.join(ctl.dir, "nginx.conf")) as f:
        assert "worker_processes 1;" in f.read()

    # the ConfigMap deleted: the defaults again (nginx's 1m body size)
    api.delete(CM + "settings")
    harness.wait_for(lambda: post(ctl, 5000) == 200, 15, "the defaults")


def test_helm_chart_settings_end_to_end(kube_api, backends,
                                        controllers):  # noqa: F811
    """The chart's controller.config: its ConfigMap and its --configmap
    argument, given to a controller as the chart's pod would."""
    import pytest
    from test_helm_chart import (HELM, args_map, container, docs_of,
                                 template, workload)
    if not os.access(HELM, os.X_OK):
        pytest.skip("helm 3 not found (make deps)")
    docs = docs_of(template(HELM, "full").stdout)
    cm = [d for d in docs if d["kind"] == "ConfigMap"
          and d["metadata"]["name"] == "kubengx"][0]
    arg = args_map(container(workload(docs)))["configmap"]
    assert arg == "$(POD_NAMESPACE)/" + cm["metadata"]["name"]
    ns = "kubengx"

    bk = backends("a")
    api = kube_api()
    api.create({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns}})
    cm["metadata"]["namespace"] = ns
    api.create(cm)
    for o in [m.ingress_class("kubengx")] + \
            m.backend_service(bk, "svc-a", "a") + \
            [m.ingress("app", [m.rule(HOST, m.path("/", "svc-a", 80))])]:
        api.create(o)
    ctl = controllers(api, args=["--configmap",
                                 arg.replace("$(POD_NAMESPACE)", ns)])
    ctl.wait_ready()
    with open(os.path.join(ctl.dir, "kubengx.conf")) as f:
        assert "client_max_body_size %s;" % cm["data"]["proxy-body-size"] \
            in f.read()
    # the Role the chart writes grants that one name: it is read by name
    # (the ConfigMaps annotations name: one list/watch of every
    # namespace, which the ClusterRole grants)
    seen = [r for r in api.requests_seen() if "/configmaps" in r["path"]
            and r["method"] == "GET" and r["path"] != "/api/v1/configmaps"]
    assert seen and all(
        "metadata.name=%s" % cm["metadata"]["name"]
        in str(r.get("query", {}).get("fieldSelector"))
        or r["path"].endswith("/" + cm["metadata"]["name"])
        for r in seen), seen
