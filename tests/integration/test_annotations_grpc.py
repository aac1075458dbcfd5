"""backend-protocol: GRPC through a real nginx to a real gRPC server, from
a real gRPC client (Debian's python3-grpcio): the TLS listener speaks
HTTP/2 (ALPN h2, the edge defaults), the route proxies with grpc_pass
(h2c to the pods).  No .proto is needed: the method is called with raw
bytes through grpcio's generic handlers."""

import os
from concurrent import futures

import pytest

import harness
from manifests import (Stack, endpoint, ingress, rule, path, secret_tls,
                       self_signed, service, slice_, svc_port)

grpc = pytest.importorskip("grpc")

P = "nginx.ingress.kubernetes.io/"
HOST = "grpc.example.com"
METHOD = "/kubengx.test.Echo/Who"


@pytest.fixture
def grpc_backend():
    """A gRPC server on 127.0.0.1 whose one method answers
    b"NAME:" + the request's bytes, and the metadata it saw."""
    seen = []

    def who(request, context):
        seen.append(dict(context.invocation_metadata()))
        return b"g1:" + request

    handler = grpc.method_handlers_generic_handler("kubengx.test.Echo", {
        "Who": grpc.unary_unary_rpc_method_handler(who)})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield port, seen
    server.stop(0)


def objects(tmp_path, port, protocol="GRPC"):
    cert, key = self_signed(tmp_path, HOST)
    objs = [service("greeter", [svc_port(None, 50051, port)]),
            slice_("greeter", [endpoint("127.0.0.1")], [(None, port)]),
            secret_tls("grpc-tls", cert, key),
            ingress("greeter", [rule(HOST, path("/", "greeter", 50051))],
                    tls=[{"hosts": [HOST], "secretName": "grpc-tls"}],
                    annotations={P + "backend-protocol": protocol})]
    return objs, cert


def call(stack, cert_path, payload=b"ping", timeout=10):
    with open(cert_path, "rb") as f:
        creds = grpc.ssl_channel_credentials(root_certificates=f.read())
    target = "127.0.0.1:%d" % stack.https_port
    with grpc.secure_channel(target, creds, options=[
            ("grpc.ssl_target_name_override", HOST),
            ("grpc.default_authority", HOST)]) as ch:
        fn = ch.unary_unary(METHOD, request_serializer=None,
                            response_deserializer=None)
        return fn(payload, timeout=timeout, metadata=(("x-test", "1"),))


@pytest.mark.parametrize("endpoints", ["static", "cluster-ip"])
def test_grpc_client_reaches_grpc_backend(tmp_path, nginx_factory, kubengx,
                                          grpc_backend, endpoints):
    port, seen = grpc_backend
    objs, cert = objects(tmp_path, port)
    stack = Stack(tmp_path, nginx_factory)
    flags = ["--watch-without-class", "--endpoints", endpoints]
    if endpoints == "cluster-ip":
        # the Service's ClusterIP is the backend here: the pod's address
        objs[0]["spec"]["clusterIP"] = "127.0.0.1"
        objs[0]["spec"]["ports"][0]["port"] = port
        objs[3]["spec"]["rules"][0]["http"]["paths"][0]["backend"][
            "service"]["port"]["number"] = port
    stack.up(objs, *flags, tls=True)
    assert "grpc_pass grpc://" in stack.conf, stack.conf
    cert_path = os.path.join(str(tmp_path), "ca.pem")
    with open(cert_path, "wb") as f:
        f.write(cert)
    assert call(stack, cert_path, b"ping") == b"g1:ping"
    assert seen and seen[-1].get("x-test") == "1", seen
    # an unknown method is the backend's answer (UNIMPLEMENTED), carried
    # back through nginx as a gRPC status, not an HTTP error page
    with open(cert_path, "rb") as f:
        creds = grpc.ssl_channel_credentials(root_certificates=f.read())
    with grpc.secure_channel("127.0.0.1:%d" % stack.https_port, creds,
                             options=[("grpc.ssl_target_name_override",
                                       HOST)]) as ch:
        fn = ch.unary_unary("/kubengx.test.Echo/Nope")
        with pytest.raises(grpc.RpcError) as e:
            fn(b"x", timeout=10)
        assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED, e.value


def test_grpc_in_module_mode(tmp_path, nginx_factory, kube_api, kubengx,
                             grpc_backend):
    """The same through the module's table (k8s_service, endpoints from
    the stand-in API): grpc_pass to the upstream the module balances."""
    from modes import ModeStack
    port, _ = grpc_backend
    objs, cert = objects(tmp_path, port)
    s = ModeStack(tmp_path, nginx_factory, kube_api, "module")
    s.up(objs, "--watch-without-class")
    assert "grpc_pass grpc://" in s.conf and "k8s_service" in s.conf
    cert_path = os.path.join(str(tmp_path), "ca.pem")
    with open(cert_path, "wb") as f:
        f.write(cert)
    got = harness.wait_for(lambda: _try(s, cert_path), 15,
                           "the gRPC route through the module's table")
    assert got == b"g1:ping"


def _try(stack, cert_path):
    try:
        return call(stack, cert_path, b"ping", timeout=3)
    except grpc.RpcError:
        return None
