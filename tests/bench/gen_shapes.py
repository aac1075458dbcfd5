#!/usr/bin/python3
"""Generate the corpora of the render linearity check: one dimension of
an input grows while the rest stays small, so that a step quadratic in
that dimension shows as a 100x (instead of 10x) growth from N to 10 N.

    gen_shapes.py SHAPE N OUTDIR

Shapes (all Ingresses of class `kubengx`, one Service `web` with one
unnamed port 80 -> 8080, the commonest shape):

  paths     one Ingress, one host, N Prefix paths (/p0 ... /pN-1)
  exact     one Ingress, one host, N Exact paths ending in "/" (each
            gets its exact twin without the "/")
  rules     one Ingress, N rules, each its own host with one path
  tls       one Ingress, N rules (hosts) and N tls entries, one per host,
            all naming one TLS Secret
  secrets   N Ingresses, each one host, one tls entry and its own TLS
            Secret (the same certificate in each)
  hostless  one Ingress of N rules (hosts) with one path each, and a
            second with 10 paths in a rule without host (merged into
            every host: 11 routes per host)
  services  one Ingress, one host, N paths each to its own Service

The certificate is made once with the openssl CLI (a self-signed
EC P-256 certificate for *.shape.example) into OUTDIR."""

import base64
import json
import os
import subprocess
import sys

CLASS = "kubengx"
SHAPES = ("paths", "exact", "rules", "tls", "secrets", "hostless",
          "services")


def service(name):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "shape"},
            "spec": {"selector": {"app": name},
                     "ports": [{"port": 80, "targetPort": 8080}]}}


def backend(svc="web"):
    return {"service": {"name": svc, "port": {"number": 80}}}


def path(p, t="Prefix", svc="web"):
    return {"path": p, "pathType": t, "backend": backend(svc)}


def ingress(name, rules, tls=None, ts="2024-01-01T00:00:00Z"):
    spec = {"ingressClassName": CLASS, "rules": rules}
    if tls:
        spec["tls"] = tls
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": "shape",
                         "creationTimestamp": ts},
            "spec": spec}


def host(i):
    return "h%06d.shape.example" % i


def certificate(outdir):
    crt = os.path.join(outdir, ".crt.pem")
    key = os.path.join(outdir, ".key.pem")
    if not os.path.exists(crt):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "3650", "-subj",
                        "/CN=*.shape.example", "-keyout", key, "-out", crt],
                       check=True, capture_output=True)
    with open(crt, "rb") as f:
        c = f.read()
    with open(key, "rb") as f:
        k = f.read()
    return c, k


def secret(name, crt, key):
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": name, "namespace": "shape"},
            "data": {"tls.crt": base64.b64encode(crt).decode(),
                     "tls.key": base64.b64encode(key).decode()}}


def objects(shape, n, outdir):
    cls = {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
           "metadata": {"name": CLASS},
           "spec": {"controller": "kubengx.io/ingress-controller"}}
    out = [cls, service("web")]
    if shape == "paths":
        out.append(ingress("big", [{"host": host(0), "http": {
            "paths": [path("/p%d" % i) for i in range(n)]}}]))
    elif shape == "exact":
        out.append(ingress("big", [{"host": host(0), "http": {
            "paths": [path("/p%d/" % i, "Exact") for i in range(n)]}}]))
    elif shape in ("rules", "tls"):
        rules = [{"host": host(i), "http": {"paths": [path("/")]}}
                 for i in range(n)]
        tls = None
        if shape == "tls":
            crt, key = certificate(outdir)
            out.append(secret("cert", crt, key))
            tls = [{"hosts": [host(i)], "secretName": "cert"}
                   for i in range(n)]
        out.append(ingress("big", rules, tls))
    elif shape == "secrets":
        crt, key = certificate(outdir)
        for i in range(n):
            out.append(secret("cert-%06d" % i, crt, key))
            out.append(ingress("ing-%06d" % i,
                               [{"host": host(i),
                                 "http": {"paths": [path("/")]}}],
                               [{"hosts": [host(i)],
                                 "secretName": "cert-%06d" % i}]))
    elif shape == "hostless":
        out.append(ingress("hosts", [{"host": host(i), "http": {
            "paths": [path("/own")]}} for i in range(n)]))
        out.append(ingress("any", [{"http": {"paths": [
            path("/any%d" % i) for i in range(10)]}}],
            ts="2024-01-02T00:00:00Z"))
    elif shape == "services":
        for i in range(n):
            out.append(service("s%06d" % i))
        out.append(ingress("big", [{"host": host(0), "http": {
            "paths": [path("/p%d" % i, svc="s%06d" % i)
                      for i in range(n)]}}]))
    else:
        raise ValueError("unknown shape %r" % shape)
    return out


def generate(shape, n, outdir):
    """Write OUTDIR/shape.json (one List); returns its path."""
    os.makedirs(outdir, exist_ok=True)
    p = os.path.join(outdir, "shape.json")
    with open(p, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List",
                   "items": objects(shape, n, outdir)},
                  f, separators=(",", ":"))
    return p


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in SHAPES:
        sys.exit(__doc__)
    print(generate(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
