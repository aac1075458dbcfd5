"""`make demo` runs examples/demo.py: it must keep passing."""

import os

import harness


def test_demo_passes():
    demo = os.path.join(harness.ROOT, "examples", "demo.py")
    p = harness.run([harness.PYTHON, demo], timeout=180)
    assert p.returncode == 0, p.stdout + p.stderr
    out = p.stdout
    # act 1: static config on stock nginx; act 2: the module, scaled
    # through the API with no reload
    assert "ok    Host: api.example.com      -> 200 api-pod-1" in out
    assert "ok    Host: unknown.example.com  -> 404 (default server)" in out
    assert "'api-pod-3'" in out and "no reload" in out
    assert "FAIL" not in out
    assert out.rstrip().endswith("== demo passed")
