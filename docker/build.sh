#!/bin/bash
# Build kubengx (nginx module + CLI) and install it under DESTDIR.
# The image build runs this in its build stage; CI runs it on the host.
#
#   docker/build.sh [DESTDIR]        default DESTDIR: build/install
#
# Installs:
#   DESTDIR/usr/lib/nginx/modules/ngx_http_k8s_module.so
#   DESTDIR/usr/bin/kubengx
#   DESTDIR/usr/share/nginx/modules-available/mod-http-k8s.conf
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-build/install}
dest=$(mkdir -p "$dest" && cd "$dest" && pwd)

make deps
make all

install -D -m 0644 build/ngx_http_k8s_module.so \
    "$dest/usr/lib/nginx/modules/ngx_http_k8s_module.so"
install -D -m 0755 build/kubengx "$dest/usr/bin/kubengx"
install -d "$dest/usr/share/nginx/modules-available"
echo "load_module modules/ngx_http_k8s_module.so;" \
    > "$dest/usr/share/nginx/modules-available/mod-http-k8s.conf"
echo "installed into $dest"
