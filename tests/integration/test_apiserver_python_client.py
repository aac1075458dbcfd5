"""Debian's python3-kubernetes (22.6) against the stand-in API server."""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from apiserver import KubeAPI  # noqa: E402

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client, config, watch  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402


def make_client(api):
    cfg = client.Configuration()
    config.load_kube_config(config_file=api.kubeconfig, client_configuration=cfg)
    return client.ApiClient(cfg)


@pytest.fixture
def api(tmp_path):
    server = KubeAPI.start(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def apis(api):
    with make_client(api) as c:
        yield api, c


def service(name):
    return client.V1Service(metadata=client.V1ObjectMeta(name=name, labels={"app": name}),
                            spec=client.V1ServiceSpec(ports=[client.V1ServicePort(port=80)]))


def test_list_and_null_endpoints(apis):
    api, c = apis
    core, disc = client.CoreV1Api(c), client.DiscoveryV1Api(c)
    core.create_namespaced_service("default", service("web"))
    svcs = core.list_service_for_all_namespaces()
    assert [s.metadata.name for s in svcs.items] == ["web"]
    assert svcs.items[0].spec.cluster_ip and svcs.items[0].spec.ports[0].protocol == "TCP"
    disc.create_namespaced_endpoint_slice("default", {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
        "metadata": {"name": "web-abcde", "labels": {"kubernetes.io/service-name": "web"}},
        "endpoints": [{"addresses": ["10.0.0.1"]}]})
    assert disc.list_endpoint_slice_for_all_namespaces().items[0].endpoints[0].addresses == ["10.0.0.1"]
    api.patch("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-abcde",
              {"endpoints": None})
    # The real server sends "endpoints": null for an empty slice; the python
    # models refuse it (kubernetes-client/python#2423), so read it raw.
    with pytest.raises(ValueError):
        disc.list_endpoint_slice_for_all_namespaces()
    raw = disc.list_endpoint_slice_for_all_namespaces(_preload_content=False)
    item = json.loads(raw.data)["items"][0]
    assert item["endpoints"] is None and "kind" not in item


def test_watch_with_bookmarks(apis):
    api, c = apis
    net = client.NetworkingV1Api(c)
    rv = net.list_ingress_for_all_namespaces().metadata.resource_version
    body = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "shop"},
            "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}}
    net.create_namespaced_ingress("default", body)
    net.patch_namespaced_ingress("shop", "default", {"metadata": {"labels": {"a": "b"}}})
    net.delete_namespaced_ingress("shop", "default")
    api.admin("bookmarks", {"interval": 0.3})
    w = watch.Watch()
    seen = []
    for event in w.stream(net.list_ingress_for_all_namespaces, resource_version=rv,
                          allow_watch_bookmarks=True, timeout_seconds=3):
        seen.append(event)
        if event["type"] == "BOOKMARK":
            w.stop()
    assert [e["type"] for e in seen] == ["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]
    assert seen[0]["object"].metadata.name == "shop"
    assert int(seen[3]["raw_object"]["metadata"]["resourceVersion"]) >= int(
        seen[2]["object"].metadata.resource_version)


def test_expired_watch_and_continue(apis):
    api, c = apis
    core = client.CoreV1Api(c)
    for i in range(3):
        core.create_namespaced_service("default", service("s%d" % i))
    page = core.list_namespaced_service("default", limit=1)
    old_rv = page.metadata.resource_version
    core.create_namespaced_service("default", service("s9"))
    api.admin("compact", {})
    with pytest.raises(ApiException) as err:
        for _ in watch.Watch().stream(core.list_namespaced_service, "default",
                                      resource_version=old_rv, timeout_seconds=2):
            pass
    assert err.value.status == 410
    with pytest.raises(ApiException) as err:
        core.list_namespaced_service("default", limit=1, _continue=page.metadata._continue)
    assert err.value.status == 410 and json.loads(err.value.body)["reason"] == "Expired"


def test_stale_lease_update_conflicts(apis):
    _, c = apis
    coord = client.CoordinationV1Api(c)
    lease = coord.create_namespaced_lease("default", client.V1Lease(
        metadata=client.V1ObjectMeta(name="leader"),
        spec=client.V1LeaseSpec(holder_identity="a", lease_duration_seconds=15)))
    lease.spec.holder_identity = "b"
    renewed = coord.replace_namespaced_lease("leader", "default", lease)
    assert renewed.metadata.resource_version != lease.metadata.resource_version
    lease.spec.holder_identity = "c"                  # still carries the old RV
    with pytest.raises(ApiException) as err:
        coord.replace_namespaced_lease("leader", "default", lease)
    assert err.value.status == 409
    assert json.loads(err.value.body)["message"] == (
        'Operation cannot be fulfilled on leases.coordination.k8s.io "leader": the object has '
        "been modified; please apply your changes to the latest version and try again")
    with pytest.raises(ApiException) as err:
        coord.read_namespaced_lease("nope", "default")
    assert err.value.status == 404


def test_ingress_status_patch(apis):
    _, c = apis
    net = client.NetworkingV1Api(c)
    net.create_namespaced_ingress("default", {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "shop"},
        "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}})
    got = net.patch_namespaced_ingress_status(
        "shop", "default", {"status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}})
    assert got.status.load_balancer.ingress[0].ip == "192.0.2.10"
    assert net.read_namespaced_ingress("shop", "default").metadata.generation == 1


def test_tls_and_token_kubeconfig(tmp_path):
    with KubeAPI.start(tmp_path, tls=True, token="tok") as api:
        with make_client(api) as c:
            names = [n.metadata.name for n in client.CoreV1Api(c).list_namespace().items]
            assert "default" in names and "kube-system" in names
            api.admin("token", {"token": "other"})
            with pytest.raises(ApiException) as err:
                client.CoreV1Api(c).list_namespace()
            assert err.value.status == 401
