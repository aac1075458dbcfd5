#!/usr/bin/env bash
#
# kubengx demo (first version): render examples/seed and serve it.
#
#   1. local backends stand in for the pods of api-svc and web-svc;
#   2. their real addresses go into EndpointSlices (the committed slices
#      name pod IPs of a cluster that is not here);
#   3. kubengx render --endpoints static turns Ingress + Services + slices
#      into nginx config;
#   4. stock nginx serves it on a free loopback port;
#   5. one request per host shows which Service answered.
#
# Everything runs under a temporary directory and is stopped on exit.
# Exit status: 0 when every check passed.
#
# Environment: KUBENGX_BUILD (build dir holding kubengx; default build/),
# NGINX (default /usr/sbin/nginx), PYTHON (default /usr/bin/python3).

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${KUBENGX_BUILD:-$ROOT/build}
KUBENGX=$BUILD/kubengx
NGINX=${NGINX:-/usr/sbin/nginx}
PYTHON=${PYTHON:-/usr/bin/python3}
SEED=$ROOT/examples/seed

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kubengx-demo.XXXXXX")
BACKENDS_PID=
NGINX_PID=

cleanup() {
    [ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null || true
    [ -n "$BACKENDS_PID" ] && kill "$BACKENDS_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

say() { printf '\n== %s\n' "$*"; }

[ -x "$KUBENGX" ] || { echo "demo: $KUBENGX not built (make cli)"; exit 1; }

say "starting local backends for the pods of api-svc and web-svc"
mkfifo "$WORK/ready"
"$PYTHON" "$ROOT/tests/integration/backend.py" \
    api-svc=127.0.0.1:0 web-svc=127.0.0.1:0 > "$WORK/ready" &
BACKENDS_PID=$!
read -r READY < "$WORK/ready"
echo "$READY"

addr_of() {   # addr_of NAME -> HOST:PORT from the ready line
    tr ' ' '\n' <<< "$READY" | sed -n "s/^$1=//p"
}

say "input: examples/seed (Ingress, Services) + EndpointSlices for the backends"
mkdir -p "$WORK/in"
cp "$SEED/ingress.yaml" "$SEED/services.yaml" "$WORK/in/"
for svc in api-svc web-svc; do
    a=$(addr_of "$svc")
    cat >> "$WORK/in/slices.yaml" <<SLICE
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $svc-demo
  namespace: default
  labels: {kubernetes.io/service-name: $svc}
addressType: IPv4
ports: [{name: http, port: ${a##*:}, protocol: TCP}]
endpoints:
- addresses: ["${a%:*}"]
  conditions: {ready: true}
SLICE
    echo "  $svc -> $a"
done

PORT=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

say "kubengx render --endpoints static --http-port $PORT --check"
"$KUBENGX" render -f "$WORK/in" --endpoints static \
    --listen-address 127.0.0.1 --http-port "$PORT" \
    --check --nginx "$NGINX" -o "$WORK/out"
sed -n '1,2p;/^upstream/,/^}/p' "$WORK/out/kubengx.conf"

say "starting nginx on 127.0.0.1:$PORT"
mkdir -p "$WORK/nginx/tmp"
cat > "$WORK/nginx/nginx.conf" <<CONF
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/tmp/client_body;
    proxy_temp_path $WORK/nginx/tmp/proxy;
    fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
    uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
    scgi_temp_path $WORK/nginx/tmp/scgi;
    include $WORK/out/kubengx.conf;
}
CONF
"$NGINX" -p "$WORK/nginx/" -c "$WORK/nginx/nginx.conf" \
    -e "$WORK/nginx/error.log" &
NGINX_PID=$!

for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
    sleep 0.05
done

say "requests"
fail=0
check() {   # check HOST EXPECTED_STATUS EXPECTED_BACKEND
    local out status backend
    out=$(curl -s -D - -o /dev/null -H "Host: $1" "http://127.0.0.1:$PORT/")
    status=$(head -1 <<< "$out" | awk '{print $2}')
    backend=$(tr -d '\r' <<< "$out" | sed -n 's/^[Xx]-[Bb]ackend: //p')
    if [ "$status" = "$2" ] && [ "$backend" = "$3" ]; then
        printf '  ok    Host: %-20s -> %s %s\n' "$1" "$status" \
            "${backend:-(default server)}"
    else
        printf '  FAIL  Host: %-20s -> %s %s (expected %s %s)\n' "$1" \
            "$status" "${backend:-none}" "$2" "${3:-none}"
        fail=1
    fi
}
check api.example.com 200 api-svc
check web.example.com 200 web-svc
check WEB.example.com 200 web-svc
check unknown.example.com 404 ""

if [ $fail = 0 ]; then
    say "demo passed: each host reached its Service"
else
    say "demo FAILED"; cat "$WORK/nginx/error.log" || true
fi
exit $fail
