#!/bin/sh
# Build nginx from a source tree (e.g. mainline from github.com/nginx/nginx)
# with both kubengx modules as dynamic modules, then run the module's
# integration tests against that nginx instead of Debian's.  Not part of
# `make test`: CI has no nginx source (only Debian's nginx-dev headers).
#
#   scripts/mainline-check.sh NGINX_SRC [PYTEST_ARGS...]
#
# Needs `make all` first (the CLI and the stand-in API server are shared).
# Builds under $BUILD/mainline (default build/mainline); NGINX_SRC is not
# written to (it is copied).
set -eu

[ $# -ge 1 ] || { echo "usage: $0 NGINX_SRC [PYTEST_ARGS...]" >&2; exit 2; }
src=$(cd "$1" && pwd); shift
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
out=$build/mainline

[ -x "$build/kubengx" ] || { echo "run make all first" >&2; exit 2; }

rm -rf "$out"
mkdir -p "$out/src" "$out/build"
cp -a "$src/." "$out/src/"
cd "$out/src"
[ -x auto/configure ] && conf=auto/configure || conf=./configure

echo "mainline-check: configure and build $(sed -n \
    's/^#define NGINX_VERSION *"\(.*\)"/\1/p' src/core/nginx.h)" >&2
$conf --with-compat --with-http_ssl_module --with-http_v2_module \
    --with-http_realip_module --with-http_auth_request_module \
    --with-stream=dynamic --with-stream_ssl_preread_module \
    --with-stream_realip_module --add-dynamic-module="$root" \
    --prefix="$out/prefix" > "$out/configure.log" 2>&1 \
    || { tail -20 "$out/configure.log" >&2; exit 1; }
make -j"$(nproc)" > "$out/make.log" 2>&1 \
    || { grep -A5 'error' "$out/make.log" | head -40 >&2; exit 1; }

# the CLI and test tools from $build, the modules of this nginx
for f in "$build"/*; do
    case "$(basename "$f")" in
    ngx_*_module.so|mainline) ;;
    *) ln -s "$f" "$out/build/" ;;
    esac
done
cp objs/ngx_http_k8s_module.so objs/ngx_stream_k8s_module.so "$out/build/"

cd "$root"
[ $# -gt 0 ] || set -- tests/integration/test_module_canary.py \
    tests/integration/test_module_balancer.py \
    tests/integration/test_module_watch.py \
    tests/integration/test_module_service_ports.py \
    tests/integration/test_module_metrics.py \
    tests/integration/test_module_unavailable.py
KUBENGX_BUILD="$out/build" KUBENGX_NGINX="$out/src/objs/nginx" \
    exec /usr/bin/python3 -m pytest -q -p no:cacheprovider "$@"
