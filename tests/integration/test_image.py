"""The container image builds from docker/Dockerfile and passes its checks
(docker/image-test.sh: a bookworm base made with mmdebstrap, buildah bud
--isolation chroot, then nginx -V, kubengx --version, nginx -t on the
rendered seed with the module loaded, a non-root user, and a controller
run from the image against the stand-in API).

Needs buildah and mmdebstrap (`scripts/deps.sh image`, which `make image`
runs); skipped without them.  About 5 minutes from cold (the base and the
build stage's packages come from Debian's mirrors), under 30 s when
nothing changed (the base tarball and buildah's layers are cached under
$KUBENGX_BUILD/image/)."""

import os
import shutil
import subprocess

import pytest

import harness

SCRIPT = os.path.join(harness.ROOT, "docker", "image-test.sh")

pytestmark = pytest.mark.skipif(
    not (shutil.which("buildah") and shutil.which("mmdebstrap")),
    reason="buildah and mmdebstrap not installed (scripts/deps.sh image)")


def test_image_builds_and_passes_its_checks():
    p = subprocess.run([SCRIPT], env=dict(os.environ, BUILD=harness.BUILD),
                       capture_output=True, text=True, timeout=1500)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-6000:]
    passed = [line for line in out.splitlines() if line.startswith("ok   ")]
    for check in ("nginx -V (built --with-compat)",
                  "kubengx --version: kubengx ",
                  "--endpoints module; nginx -t with the module",
                  "image USER 101:101",
                  "runs as uid 101",
                  "controller /readyz 200"):
        assert [line for line in passed if check in line], (check, out[-6000:])
    assert "FAIL" not in out
