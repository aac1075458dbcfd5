"""valgrind memcheck on nginx + the module (single process) against the
stand-in API while requests flow and endpoints change
(tests/fuzz/valgrind-module.sh; about 25 s).  Skipped without valgrind
and for a SAN=1 build (valgrind and ASan do not mix)."""

import os
import shutil
import subprocess

import pytest

import harness

SCRIPT = os.path.join(harness.ROOT, "tests", "fuzz", "valgrind_module.py")


@pytest.mark.skipif(shutil.which("valgrind") is None,
                    reason="valgrind not installed")
def test_module_under_valgrind_memcheck(tmp_path):
    if harness.sanitized():
        pytest.skip("ASan build: valgrind needs a plain module")
    assert os.path.exists(harness.MODULE), "build the module first"
    p = subprocess.run([harness.PYTHON, SCRIPT, str(tmp_path)],
                       capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, KUBENGX_BUILD=harness.BUILD))
    assert p.returncode == 0, p.stdout[-20000:] + p.stderr[-5000:]
    assert "0 errors" in p.stdout, p.stdout
