"""Scale out: three `kubengx controller` replicas (each with its own nginx
and ports) against one stand-in API.  All serve the same routes, exactly
one holds the Lease and writes Ingress status, and when the leader is
killed another takes over within the lease duration."""

import os
import signal
import time

import harness
from manifests import backend_service, ingress, ingress_class, path, rule
from test_controller import controllers, routed_to  # noqa: F401 (fixture)

LEASE = "/apis/coordination.k8s.io/v1/namespaces/default/leases/" \
        "kubengx-leader"
ING = "/apis/networking.k8s.io/v1/namespaces/default/ingresses/"
ADDR = [{"ip": "192.0.2.10"}, {"hostname": "lb.example.com"}]
LEASE_S = 3


def holder(api):
    return api.get(LEASE)["spec"].get("holderIdentity")


def leaders(ctls):
    return [c for c in ctls if c.proc.poll() is None
            and c.metric("kubengx_leader") == 1]


def test_three_replicas_one_leader_and_failover(kube_api, backends,
                                                controllers):  # noqa: F811
    bk = backends("a", "b")
    api = kube_api()
    for o in [ingress_class("kubengx")] + backend_service(bk, "svc-a", "a") \
            + backend_service(bk, "svc-b", "b"):
        api.create(o)
    api.create(ingress("web", [rule("shop.example.com",
                                    path("/", "svc-a", 80),
                                    path("/api", "svc-b", 80))]))

    args = ["--lease-duration", "%ds" % LEASE_S, "--renew-deadline", "2s",
            "--retry-period", "500ms",
            "--publish-address", "192.0.2.10,lb.example.com"]
    ctls = [controllers(api, name="replica%d" % i, args=args)
            for i in range(3)]
    for c in ctls:
        c.wait_ready()

    # every replica serves the same routes
    for c in ctls:
        harness.wait_for(routed_to(c, "shop.example.com", "/x", "a"), 10,
                         "%s routes /" % c.identity)
        harness.wait_for(routed_to(c, "shop.example.com", "/api/1", "b"),
                         10, "%s routes /api" % c.identity)

    # exactly one leader, and it is the Lease holder
    lead = harness.wait_for(lambda: len(leaders(ctls)) == 1
                            and leaders(ctls)[0], 10, "one leader")
    assert holder(api) == lead.identity

    # the leader published the address; the followers wrote nothing
    harness.wait_for(lambda: api.get(ING + "web").get("status", {})
                     .get("loadBalancer", {}).get("ingress") == ADDR, 10,
                     "status published")
    for c in ctls:
        n = c.metric("kubengx_status_updates_total")
        if c is lead:
            assert n >= 1
        else:
            assert n == 0, c.identity

    # kill the leader without a chance to release the Lease
    nginx = lead.nginx_pid()
    lead.proc.send_signal(signal.SIGKILL)
    lead.proc.wait(5)
    if nginx:
        os.kill(nginx, signal.SIGQUIT)
    t0 = time.monotonic()
    rest = [c for c in ctls if c is not lead]

    new = harness.wait_for(lambda: len(leaders(rest)) == 1
                           and holder(api) == leaders(rest)[0].identity
                           and leaders(rest)[0], LEASE_S + 3,
                           "a new leader")
    took = time.monotonic() - t0
    # observed expiry: lease duration after the last renewal seen, plus
    # one retry period (and its jitter) to notice it
    assert took <= LEASE_S + 1.5, took
    assert len(leaders(rest)) == 1

    # the new leader writes status: a new Ingress gets the address
    api.create(ingress("late", [rule("late.example.com",
                                     path("/", "svc-b", 80))]))
    harness.wait_for(lambda: api.get(ING + "late").get("status", {})
                     .get("loadBalancer", {}).get("ingress") == ADDR, 10,
                     "status by the new leader")
    assert new.metric("kubengx_status_updates_total") >= 1
    other = [c for c in rest if c is not new][0]
    assert other.metric("kubengx_status_updates_total") == 0
    for c in rest:
        harness.wait_for(routed_to(c, "late.example.com", "/", "b"), 10,
                         "%s routes the new Ingress" % c.identity)
    lease = api.get(LEASE)["spec"]
    assert lease["leaseTransitions"] >= 1
    assert lease["leaseDurationSeconds"] == LEASE_S


def test_status_from_publish_service_and_cleared_on_shutdown(
        kube_api, backends, controllers):  # noqa: F811
    bk = backends("a")
    api = kube_api()
    for o in [ingress_class("kubengx")] + backend_service(bk, "svc-a", "a"):
        api.create(o)
    api.create({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "lb", "namespace": "default"},
                "spec": {"type": "LoadBalancer",
                         "ports": [{"port": 80, "name": "http"}]}})
    api.patch("/api/v1/namespaces/default/services/lb/status",
              {"status": {"loadBalancer": {"ingress": [
                  {"ip": "198.51.100.7"}]}}})
    api.create(ingress("web", [rule("a.example.com",
                                    path("/", "svc-a", 80))]))
    c = controllers(api, args=["--publish-service", "default/lb",
                               "--update-status-on-shutdown"]).wait_ready()

    def published():
        return api.get(ING + "web").get("status", {}) \
            .get("loadBalancer", {}).get("ingress")
    harness.wait_for(lambda: published() == [{"ip": "198.51.100.7"}], 10,
                     "status from the Service")

    # the Service's address changes: the status follows
    api.patch("/api/v1/namespaces/default/services/lb/status",
              {"status": {"loadBalancer": {"ingress": [
                  {"hostname": "lb.example.net"}]}}})
    harness.wait_for(lambda: published() == [{"hostname": "lb.example.net"}],
                     10, "status follows the Service")

    c.proc.send_signal(signal.SIGTERM)
    assert c.proc.wait(15) == 0
    assert not published()
    # the Lease was released
    assert holder(api) in ("", None)
