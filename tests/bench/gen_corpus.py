#!/usr/bin/python3
"""Generate a manifest corpus for the generator benchmark.

    gen_corpus.py N OUTDIR [--endpoints K] [--files F]

N Services (one named port `http`, 80 -> 8080), N Ingresses (one host per
Service, `svc-00042.bench.example`, 3 paths: `/` Prefix, `/api` Prefix,
`/healthz` Exact, all to that Service), one EndpointSlice per Service with
K endpoints (10.x.y.z, ready), and the IngressClass `kubengx`.  Written as
F JSON List files (default: one per 1,000 Services), deterministic."""

import argparse
import json
import os

CLASS = "kubengx"
CONTROLLER = "kubengx.io/ingress-controller"


def service(i):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "svc-%05d" % i, "namespace": "bench"},
            "spec": {"selector": {"app": "svc-%05d" % i},
                     "ports": [{"name": "http", "port": 80,
                                "targetPort": 8080, "protocol": "TCP"}]}}


def ingress(i):
    name = "svc-%05d" % i

    def path(p, t):
        return {"path": p, "pathType": t,
                "backend": {"service": {"name": name,
                                        "port": {"name": "http"}}}}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": "bench",
                         "creationTimestamp": "2024-01-01T00:00:00Z"},
            "spec": {"ingressClassName": CLASS,
                     "rules": [{"host": "%s.bench.example" % name,
                                "http": {"paths": [
                                    path("/", "Prefix"),
                                    path("/api", "Prefix"),
                                    path("/healthz", "Exact")]}}]}}


def endpoint_slice(i, k):
    eps = []
    for j in range(k):
        n = i * k + j
        eps.append({"addresses": ["10.%d.%d.%d" % (
            (n >> 16) & 255, (n >> 8) & 255, n & 255)],
            "conditions": {"ready": True, "serving": True,
                           "terminating": False}})
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "svc-%05d-abcde" % i, "namespace": "bench",
                         "labels": {"kubernetes.io/service-name":
                                    "svc-%05d" % i}},
            "addressType": "IPv4", "endpoints": eps,
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}


def ingress_class():
    return {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
            "metadata": {"name": CLASS},
            "spec": {"controller": CONTROLLER}}


def generate(n, outdir, k=2, per_file=1000):
    """Write the corpus; returns the list of files."""
    os.makedirs(outdir, exist_ok=True)
    files = []
    items = [ingress_class()]
    fileno = 0

    def flush():
        nonlocal items, fileno
        if not items:
            return
        path = os.path.join(outdir, "corpus-%03d.json" % fileno)
        with open(path, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "List", "items": items},
                      f, separators=(",", ":"))
        files.append(path)
        fileno += 1
        items = []
    for i in range(n):
        items += [service(i), ingress(i), endpoint_slice(i, k)]
        if (i + 1) % per_file == 0:
            flush()
    flush()
    return files


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("outdir")
    ap.add_argument("--endpoints", type=int, default=2)
    ap.add_argument("--per-file", type=int, default=1000)
    a = ap.parse_args()
    for p in generate(a.n, a.outdir, a.endpoints, a.per_file):
        print(p)
