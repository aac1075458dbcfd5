#!/bin/bash
# Build kubengx (nginx module + CLI) and install it under DESTDIR.
# The image build runs this in its build stage; CI runs it on the host.
#
#   docker/build.sh [DESTDIR]        default DESTDIR: build/install
#
# Installs:
#   DESTDIR/usr/lib/nginx/modules/ngx_http_k8s_module.so
#   DESTDIR/usr/lib/nginx/modules/ngx_stream_k8s_module.so
#   DESTDIR/usr/bin/kubengx
#   DESTDIR/usr/share/nginx/modules-available/mod-http-k8s.conf
#   DESTDIR/usr/share/nginx/modules-available/mod-stream-k8s.conf
#
# Load order: ngx_stream_k8s_module.so uses symbols of
# ngx_http_k8s_module.so and of Debian's ngx_stream_module.so
# (libnginx-mod-stream: modules-enabled/50-mod-stream.conf); the 60- and
# 70- prefixes of the modules-enabled links sort them after it.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-build/install}
dest=$(mkdir -p "$dest" && cd "$dest" && pwd)

make deps
make all

install -D -m 0644 build/ngx_http_k8s_module.so \
    "$dest/usr/lib/nginx/modules/ngx_http_k8s_module.so"
install -D -m 0644 build/ngx_stream_k8s_module.so \
    "$dest/usr/lib/nginx/modules/ngx_stream_k8s_module.so"
install -D -m 0755 build/kubengx "$dest/usr/bin/kubengx"
# the kubectl plugin: the same binary under kubectl's plugin name
ln -sf kubengx "$dest/usr/bin/kubectl-kubengx"
install -d "$dest/usr/share/nginx/modules-available"
echo "load_module modules/ngx_http_k8s_module.so;" \
    > "$dest/usr/share/nginx/modules-available/mod-http-k8s.conf"
echo "load_module modules/ngx_stream_k8s_module.so;" \
    > "$dest/usr/share/nginx/modules-available/mod-stream-k8s.conf"
echo "installed into $dest"
