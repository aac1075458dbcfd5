#!/bin/sh
# Install the Debian packages kubengx needs, only those missing.
# Idempotent and quiet when everything is already there.
#   scripts/deps.sh            build + test packages
#   scripts/deps.sh bench      also the benchmark peers (Lua), plots
#   scripts/deps.sh fuzz       also clang and its fuzzer runtime
#   scripts/deps.sh image      also buildah and mmdebstrap
set -eu

# libnginx-mod-stream: Debian's nginx has stream as a dynamic module
# (ngx_stream_module.so), which ngx_stream_k8s_module.so needs
pkgs="build-essential pkg-config nginx nginx-dev libnginx-mod-stream
libcurl4-openssl-dev libjansson-dev libyaml-dev libssl-dev libcmocka-dev
python3 python3-pytest
python3-kubernetes python3-yaml curl openssl wrk valgrind"

# kubectl: the c image ships Google's 1.32 build; Debian's older client is
# the fallback where it is absent.
command -v kubectl >/dev/null 2>&1 || pkgs="$pkgs kubernetes-client"

case "${1:-}" in
bench) pkgs="$pkgs libnginx-mod-http-lua lua-cjson python3-matplotlib" ;;
fuzz)  pkgs="$pkgs clang libclang-rt-14-dev" ;;
image) pkgs="$pkgs buildah mmdebstrap uidmap" ;;
esac

missing=""
for p in $pkgs; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
    "install ok installed") ;;
    *) missing="$missing $p" ;;
    esac
done

[ -z "$missing" ] && exit 0

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
