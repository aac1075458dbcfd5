#!/bin/bash
# Build the kubengx image from docker/Dockerfile without a Docker engine and
# check it: `make image` runs this (after scripts/deps.sh image).
#
#   BUILD=build docker/image-test.sh
#
# 1. base: a Debian bookworm minbase made by mmdebstrap from the mirrors in
#    this machine's own apt sources, imported into buildah as
#    localhost/kubengx-base:<hash> (cached: $BUILD/image/base-<hash>.tar)
# 2. image: buildah bud --isolation chroot --build-arg BASE=<that base>
#    (buildah's storage lives in $BUILD/image/storage; --layers caches
#    unchanged steps, so a rerun only rebuilds what changed)
# 3. checks inside the built image, as its own user: nginx -V, kubengx
#    --version, the module files and shared libraries, kubengx render of
#    examples/seed and nginx -t on it with the module loaded, of
#    examples/stream (TCP/UDP services, passthrough) with --check and the
#    stream modules (nginx's, then kubengx's), the user is
#    not root and owns only its conf dir, ENTRYPOINT; then a short run of
#    `kubengx controller` from the image against the stand-in API server
#    on loopback: /healthz, /readyz, and a 404 from nginx's default server.
#
# Environment: BUILD (default build), SUITE (bookworm), STORAGE_DRIVER
# (overlay where the kernel has it, else vfs).  The image stays in that
# storage as localhost/kubengx:test (push it from there with `buildah
# --root $BUILD/image/storage push ...`); the containers made for the
# checks are always removed.  Delete $BUILD/image to start from cold.
# Exit status: 0 when every check passed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

BUILD=${BUILD:-build}
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
IMG=$BUILD/image
SUITE=${SUITE:-bookworm}
TAG=localhost/kubengx:test
mkdir -p "$IMG"

t0=$(date +%s)
step() { printf '\n== image: %s (%ds)\n' "$*" "$(( $(date +%s) - t0 ))"; }
ok()   { printf 'ok   %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*" >&2; failures=$((failures + 1)); }
die()  { printf 'image: %s\n' "$*" >&2; exit 1; }
failures=0

for tool in buildah mmdebstrap; do
    command -v "$tool" >/dev/null || die "$tool not installed (make image installs it)"
done

# --- buildah with its storage under $BUILD ---------------------------------
driver=${STORAGE_DRIVER:-}
if [ -z "$driver" ]; then
    if grep -qw overlay /proc/filesystems; then driver=overlay; else driver=vfs; fi
fi
bh() {
    buildah --root "$IMG/storage" --runroot "$IMG/run" \
        --storage-driver "$driver" "$@"
}

containers=()
api_pid=
cleanup() {
    local c
    [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null
    for c in "${containers[@]}"; do
        bh umount "$c" >/dev/null 2>&1 || true
        bh rm "$c" >/dev/null 2>&1 || true
    done
}
trap cleanup EXIT

# --- 1. the base image ------------------------------------------------------
#
# The mirrors are this machine's: every deb822 .sources or one-line .list
# entry of apt's config whose suite is $SUITE, $SUITE-updates or
# $SUITE-security, component main.
step "base: Debian $SUITE minbase (mmdebstrap)"
sources=$IMG/sources.list
/usr/bin/python3 - "$SUITE" > "$sources.new" <<'EOF'
import glob, sys
suite = sys.argv[1]
want = {suite, suite + "-updates", suite + "-security"}
out = []
def add(kind, uri, suites, comps):
    if kind != "deb" or "main" not in comps:
        return
    for s in suites:
        if s in want:
            line = "deb %s %s main" % (uri, s)
            if line not in out:
                out.append(line)
files = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list"))
for f in files:
    try:
        lines = open(f).read().splitlines()
    except OSError:
        continue
    for l in lines:
        l = l.split("#", 1)[0].split()
        if len(l) >= 4 and l[0] == "deb":
            if l[1].startswith("["):           # deb [options] uri suite comps
                while l and not l[0].endswith("]"):
                    l.pop(0)
                l = ["deb"] + l[1:]
            if len(l) >= 4:
                add("deb", l[1], [l[2]], l[3:])
for f in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for stanza in open(f).read().split("\n\n"):
        fields, key = {}, None
        for l in stanza.splitlines():
            if l.startswith("#") or not l.strip():
                continue
            if l[0] in " \t" and key:
                fields[key] += " " + l.strip()
                continue
            key, _, val = l.partition(":")
            key = key.strip().lower()
            fields[key] = val.strip()
        if fields.get("enabled", "yes").lower() == "no":
            continue
        for kind in fields.get("types", "").split():
            for uri in fields.get("uris", "").split():
                add(kind, uri, fields.get("suites", "").split(),
                    fields.get("components", "").split())
if not out:
    sys.exit("no apt source for suite %s in this machine's apt config" % suite)
print("\n".join(out))
EOF
mv "$sources.new" "$sources"
sed 's/^/     /' "$sources"

key=$( { cat "$sources"; echo "$SUITE minbase v1"; mmdebstrap --version; } \
       | sha256sum | cut -c1-12)
base_tar=$IMG/base-$key.tar
base_tag=localhost/kubengx-base:$key

if [ -s "$base_tar" ]; then
    ok "cached $(basename "$base_tar")"
else
    rm -f "$IMG"/base-*.tar
    # no docs, man pages or locales: the image only runs two programs
    mmdebstrap --variant=minbase --format=tar --quiet \
        --aptopt='Acquire::Languages "none"' \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
        "$SUITE" "$base_tar.tmp" "$sources" \
        || die "mmdebstrap failed"
    mv "$base_tar.tmp" "$base_tar"
    ok "made $(basename "$base_tar") ($(du -h "$base_tar" | cut -f1))"
fi

if bh inspect --type image "$base_tag" >/dev/null 2>&1; then
    ok "base image $base_tag in storage"
else
    c=$(bh from --pull=never scratch)
    containers+=("$c")
    bh add --quiet "$c" "$base_tar" / >/dev/null
    bh config --cmd /bin/bash --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$c"
    bh commit --quiet --rm "$c" "$base_tag" >/dev/null
    containers=("${containers[@]/$c}")
    ok "imported $base_tag"
fi

# --- 2. the image -----------------------------------------------------------
step "image: buildah bud --isolation chroot -f docker/Dockerfile"
bh bud --isolation chroot --layers --force-rm --pull=never \
    --build-arg BASE="$base_tag" -t "$TAG" -f docker/Dockerfile . \
    > "$IMG/bud.log" 2>&1 \
    || { tail -40 "$IMG/bud.log" >&2; die "buildah bud failed (log: $IMG/bud.log)"; }
bh inspect --type image "$TAG" > "$IMG/inspect.json"
size=$(bh images --format '{{.Size}}' "$TAG" 2>/dev/null | head -1) || true
ok "built $TAG ($size)"
# Layers of earlier builds that no tag names any more are also the cache
# of the next build: drop them only when the storage grows past 10 GB.
if [ "$(du -sm "$IMG/storage" 2>/dev/null | cut -f1)" -gt 10240 ]; then
    bh rmi --prune >/dev/null 2>&1 || true
    ok "pruned unnamed layers (storage was over 10 GB)"
fi

# --- 3. checks --------------------------------------------------------------
step "checks inside the image"

cfgval() {
    /usr/bin/python3 -c 'import json,sys
c = json.load(open(sys.argv[1]))["OCIv1"]["config"]
v = c.get(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v))' "$IMG/inspect.json" "$1"
}
user=$(cfgval User)
entry=$(cfgval Entrypoint)
case "$user" in
""|0|0:*|root|root:*) fail "image user is root ($user)" ;;
*) ok "image USER $user" ;;
esac
[ "$entry" = '["kubengx", "controller"]' ] \
    && ok "ENTRYPOINT $entry" || fail "ENTRYPOINT is $entry"

ctr=$(bh from --pull=never "$TAG")
containers+=("$ctr")
run() { bh run --isolation chroot "$ctr" -- "$@"; }

out=$(run nginx -V 2>&1) || fail "nginx -V: $out"
printf '%s\n' "$out" | head -1 | sed 's/^/     /'
grep -q -- '--with-compat' <<<"$out" \
    && ok "nginx -V (built --with-compat)" || fail "nginx -V has no --with-compat"

out=$(run kubengx --version 2>&1) || true
[ "$out" = "kubengx $(cat VERSION)" ] \
    && ok "kubengx --version: $out" || fail "kubengx --version: $out"

out=$(run kubectl-kubengx --help 2>&1) || true
grep -q '^Usage: kubectl kubengx' <<<"$out" \
    && ok "kubectl-kubengx: the plugin" || fail "kubectl-kubengx: $out"

out=$(run id -u)
[ "$out" != 0 ] && ok "runs as uid $out" || fail "runs as uid 0"

mod=/usr/lib/nginx/modules/ngx_http_k8s_module.so
smod=/usr/lib/nginx/modules/ngx_stream_k8s_module.so
out=$(run sh -c "ldd /usr/bin/kubengx $mod $smod /usr/sbin/nginx \
                 /usr/lib/nginx/modules/ngx_stream_module.so" 2>&1) || true
if grep -q 'not found' <<<"$out"; then
    fail "missing shared libraries: $(printf '%s' "$out" | grep 'not found')"
else
    ok "shared libraries of kubengx, both modules, nginx and its stream module found"
fi

out=$(run sh -c 'touch /var/lib/kubengx/.w && rm /var/lib/kubengx/.w && echo ok;
                 touch /usr/bin/.w 2>/dev/null && echo root-writable;
                 touch /etc/.w 2>/dev/null && echo root-writable; true')
[ "$out" = ok ] && ok "conf dir /var/lib/kubengx writable, /usr/bin and /etc not" \
    || fail "writable paths: $out"

# render examples/seed inside the image and test it with the module loaded
bh copy --chown 101:101 "$ctr" examples/seed /tmp/seed >/dev/null
conf_main() {   # $1: load the module (1/0)
    if [ "$1" = 1 ]; then
        printf 'load_module %s;\n' "$mod"
    fi
    cat <<EOF
daemon off;
pid /var/lib/kubengx/t/nginx.pid;
error_log stderr notice;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path /var/lib/kubengx/t/tmp/client_body;
    proxy_temp_path /var/lib/kubengx/t/tmp/proxy;
    fastcgi_temp_path /var/lib/kubengx/t/tmp/fastcgi;
    uwsgi_temp_path /var/lib/kubengx/t/tmp/uwsgi;
    scgi_temp_path /var/lib/kubengx/t/tmp/scgi;
EOF
    if [ "$1" = 1 ]; then
        printf '    k8s_api http://127.0.0.1:1;\n    k8s_zone kubengx 8m;\n'
        printf '    k8s_allow_loopback_endpoints on;\n'
    fi
    printf '    include /var/lib/kubengx/t/kubengx.conf;\n}\n'
}
# nginx -t binds the listen sockets: free unprivileged ports of this
# machine (chroot isolation shares its network)
free_ports() {
    /usr/bin/python3 -c '
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])' "$1"
}
nginx_t() {     # $1: endpoints mode, $2: load the module
    local p
    conf_main "$2" > "$IMG/nginx-test.conf"
    bh copy --chown 101:101 "$ctr" "$IMG/nginx-test.conf" /tmp/nginx.conf >/dev/null
    read -r -a p < <(free_ports 2)
    # the rendered access log is /dev/stdout: nginx (uid 101) may open it
    # only when the pipe behind it is its user's (one made in the
    # container; the controller makes its own, controller_nginx.c)
    run sh -c "rm -rf /var/lib/kubengx/t && mkdir -p /var/lib/kubengx/t/tmp &&
        kubengx render -f /tmp/seed --endpoints $1 -o /var/lib/kubengx/t \
            --listen-address 127.0.0.1 --http-port ${p[0]} --https-port ${p[1]} &&
        nginx -t -p /var/lib/kubengx/t/ -c /tmp/nginx.conf -e stderr 2>&1 | cat" 2>&1
}
if out=$(nginx_t module 1) && grep -q 'test is successful' <<<"$out"; then
    ok "kubengx render examples/seed --endpoints module; nginx -t with the module"
    n=$(run grep -c 'k8s_service ' /var/lib/kubengx/t/kubengx.conf || true)
    [ "${n:-0}" -gt 0 ] && ok "the rendered config has $n k8s_service upstream(s)" \
        || fail "no k8s_service in the rendered config"
else
    fail "nginx -t (module): $(printf '%s' "$out" | tail -5)"
    if out=$(nginx_t static 1) && grep -q 'test is successful' <<<"$out"; then
        ok "(fallback) nginx -t on --endpoints static with the module loaded"
    else
        fail "nginx -t (static): $(printf '%s' "$out" | tail -5)"
    fi
fi

# TCP/UDP services and passthrough: render --check loads nginx's stream
# module, then ngx_stream_k8s_module.so after the http one
bh copy --chown 101:101 "$ctr" examples/stream /tmp/stream >/dev/null
read -r -a sp < <(free_ports 2)
if out=$(run sh -c "rm -rf /var/lib/kubengx/s && kubengx render -f /tmp/stream \
        --endpoints module -o /var/lib/kubengx/s --check \
        --listen-address 127.0.0.1 --http-port ${sp[0]} --https-port ${sp[1]} \
        --tcp-services-configmap kubengx/tcp-services \
        --udp-services-configmap kubengx/udp-services \
        --enable-ssl-passthrough" 2>&1) \
   && run grep -q 'k8s_service kube-system/kube-dns port=dns protocol=udp;' \
        /var/lib/kubengx/s/kubengx-stream.conf; then
    ok "kubengx render examples/stream --check: nginx -t with both stream modules"
else
    fail "render of examples/stream: $(printf '%s' "$out" | tail -5)"
fi

# the controller from the image, against the stand-in API on loopback
# (buildah's chroot isolation shares this machine's network)
if ! run kubengx controller --help >/dev/null 2>&1; then
    fail "kubengx controller --help"
else
    ok "kubengx controller --help"
    step "kubengx controller from the image against the stand-in API"
    read -r http https metrics apiport < <(free_ports 4)
    rm -rf "$IMG/api" && mkdir -p "$IMG/api"
    /usr/bin/python3 tests/kube-apiserver/kube_apiserver.py \
        --listen "127.0.0.1:$apiport" --load examples/seed \
        --kubeconfig-out "$IMG/api/kubeconfig" \
        > "$IMG/api/stdout" 2> "$IMG/api/stderr" &
    api_pid=$!
    for _ in $(seq 100); do
        grep -q '^ready' "$IMG/api/stdout" 2>/dev/null && break
        sleep 0.1
    done
    grep -q '^ready' "$IMG/api/stdout" || die "stand-in API did not start"
    bh copy --chown 101:101 "$ctr" "$IMG/api/kubeconfig" /tmp/kubeconfig >/dev/null
    # pid file so this script can stop it (no pid namespace under chroot
    # isolation); timeout as a backstop
    run sh -c "rm -rf /var/lib/kubengx/*; exec timeout 120 kubengx controller \
        --kubeconfig /tmp/kubeconfig --no-leader-elect \
        --allow-loopback-endpoints --listen-address 127.0.0.1 --http-port $http --https-port $https \
        --metrics-address 127.0.0.1 --metrics-port $metrics" \
        > "$IMG/controller.log" 2>&1 &
    ctl_job=$!
    code() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" || true; }
    ready=
    for _ in $(seq 150); do
        [ "$(code "http://127.0.0.1:$metrics/readyz")" = 200 ] && { ready=1; break; }
        kill -0 "$ctl_job" 2>/dev/null || break
        sleep 0.2
    done
    if [ -n "$ready" ]; then
        ok "controller /readyz 200 (nginx up as uid 101, config rendered)"
        [ "$(code "http://127.0.0.1:$metrics/healthz")" = 200 ] \
            && ok "controller /healthz 200" || fail "/healthz"
        c=$(code -H 'Host: unknown.invalid' "http://127.0.0.1:$http/")
        [ "$c" = 404 ] && ok "nginx default server answers 404 for an unknown host" \
            || fail "unknown host answered $c"
        m=$(curl -s --max-time 2 "http://127.0.0.1:$metrics/metrics") || true
        grep -q '^kubengx_' <<<"$m" \
            && ok "/metrics has kubengx_ series" || fail "/metrics"
    else
        fail "controller never became ready; log:"
        tail -20 "$IMG/controller.log" >&2
    fi
    # graceful stop: SIGTERM to that controller, found by its own command
    # line (argv[0] kubengx, this run's metrics port): no pid namespace
    # under chroot isolation, so it is a process of this machine
    for p in /proc/[0-9]*; do
        args=$(tr '\0' ' ' 2>/dev/null < "$p/cmdline") || continue
        case "$args" in
        "kubengx controller "*"--metrics-port $metrics "*) kill -TERM "${p#/proc/}" ;;
        esac
    done
    for _ in $(seq 100); do kill -0 "$ctl_job" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$ctl_job" 2>/dev/null; then
        fail "controller did not stop on SIGTERM"
        kill "$ctl_job" 2>/dev/null || true
    else
        wait "$ctl_job" && ok "controller stopped on SIGTERM, exit 0" \
            || fail "controller exit status $? after SIGTERM"
    fi
    kill "$api_pid" 2>/dev/null; wait "$api_pid" 2>/dev/null || true; api_pid=
fi

step "done"
if [ "$failures" -gt 0 ]; then
    echo "image: $failures check(s) failed" >&2
    exit 1
fi
echo "image: all checks passed ($TAG)"
