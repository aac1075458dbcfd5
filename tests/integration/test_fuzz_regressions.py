"""Bugs found by the fuzzers (tests/fuzz/), as CLI behaviour: each stays
fixed.  The raw reproducers are replayed by tests/fuzz/run.sh --replay."""

import os
import shutil
import subprocess

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
REGRESSIONS = os.path.join(os.path.dirname(HERE), "fuzz", "regressions")

INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  annotations: {example.com/a: .inf, example.com/b: -.Inf,
                example.com/c: .NaN, example.com/d: 1.0e999}
spec:
  ingressClassName: kubengx
  rules:
  - http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: web, port: {number: %s}}}
"""


def render(kubengx, *args):
    return subprocess.run([kubengx, "render", *args], capture_output=True,
                          text=True, timeout=60)


def test_yaml_non_finite_floats_are_not_out_of_memory(kubengx, tmp_path):
    """fuzz_render/fuzz_manifest, regressions/*/yaml-inf-float-reads-as-oom:
    a plain scalar .inf/.nan (or a float that overflows) became a JSON real
    that jansson refuses; the NULL read as out of memory and render said
    "out of memory" for a 43-byte file.  Now such a scalar stays text: a
    clear field error where a number is needed, a string elsewhere."""
    f = tmp_path / "inf.yaml"
    f.write_text(INGRESS % ".inf")
    p = render(kubengx, "-f", str(f))
    assert p.returncode == 2, p.stderr
    assert "out of memory" not in p.stderr
    assert "port.number" in p.stderr and "integer" in p.stderr, p.stderr

    f.write_text(INGRESS % "80")
    p = render(kubengx, "-f", str(f))
    assert p.returncode == 0, p.stderr
    assert "out of memory" not in p.stderr

    raw = os.path.join(REGRESSIONS, "manifest", "yaml-inf-float-reads-as-oom")
    p = render(kubengx, "-f", raw)
    assert "out of memory" not in p.stderr, p.stderr
    assert p.returncode == 2          # not a Kubernetes object: an error


ALIASED_KEY = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  annotations: {&h a.example.com: "anchored key"}
spec:
  ingressClassName: kubengx
  rules:
  - host: *h
    http:
      paths:
      - {path: /, pathType: Prefix,
         backend: {service: {name: web, port: {number: 80}}}}
"""


def test_yaml_alias_of_an_anchored_mapping_key(kubengx, tmp_path):
    """fuzz_render, regressions/render/yaml-anchored-key-alias-use-after-free:
    the anchor table held no reference, so an anchored mapping key was
    freed once its value was attached and a later alias deep-copied freed
    memory (valgrind: invalid reads in json_deep_copy from
    kngx_yaml_event; under ASan the copy failed and read as out of
    memory).  The alias must give the key's text."""
    f = tmp_path / "alias.yaml"
    f.write_text(ALIASED_KEY)
    p = render(kubengx, "-f", str(f), "-o", "-")
    assert p.returncode == 0, p.stderr
    assert 'server_name "a.example.com";' in p.stdout, p.stdout
    if shutil.which("valgrind") and not harness.sanitized():
        v = subprocess.run(["valgrind", "-q", "--error-exitcode=9",
                            kubengx, "render", "-f", str(f), "-o", "-"],
                           capture_output=True, text=True, timeout=120)
        assert v.returncode == 0, v.stderr[-5000:]
