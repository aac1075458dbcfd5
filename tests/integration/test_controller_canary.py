"""The controller with the module (--endpoints module): a canary Ingress
joins the primary's route, and editing its weight on the API moves the
traffic with no reload: the rendered config does not carry the weight,
the module reads it from the Ingress."""

import harness
from manifests import backend_service, ingress, ingress_class, path, rule
from test_controller import controllers, routed_to  # noqa: F401 (fixture)

ANN = "nginx.ingress.kubernetes.io/"
HOST = "c.example.com"
CANARY = "/apis/networking.k8s.io/v1/namespaces/default/ingresses/web-canary"


def test_canary_weight_edit_never_reloads(kube_api, backends, controllers):
    bk = backends("a", "b")
    api = kube_api()
    api.create(ingress_class("kubengx"))
    for o in backend_service(bk, "svc-a", "a") + \
            backend_service(bk, "svc-b", "b"):
        api.create(o)
    api.create(ingress("web", [rule(HOST, path("/", "svc-a", 80))]))
    api.create(ingress("web-canary", [rule(HOST, path("/", "svc-b", 80))],
                       annotations={ANN + "canary": "true",
                                    ANN + "canary-weight": "0"}))
    ctl = controllers(api, endpoints="module").wait_ready()
    harness.wait_for(routed_to(ctl, HOST, "/", "a"), 15, "route to a")
    start = ctl.metrics()

    for weight, want in (("100", "b"), ("0", "a"), ("100", "b")):
        api.patch(CANARY, {"metadata": {"annotations": {
            ANN + "canary-weight": weight}}})
        harness.wait_for(routed_to(ctl, HOST, "/", want), 10,
                         "weight %s routes to %s" % (weight, want))
        for _ in range(10):
            assert ctl.get("/", host=HOST).backend == want

    m = ctl.metrics()
    assert m["kubengx_reloads_total"] == start["kubengx_reloads_total"], m
