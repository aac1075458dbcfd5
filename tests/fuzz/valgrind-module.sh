#!/bin/sh
# valgrind memcheck on nginx + the kubengx module (single process) against
# the stand-in API while requests flow and endpoints change.  Needs a plain
# (not SAN=1) module build.  About a minute.
#   BUILD=build tests/fuzz/valgrind-module.sh [WORKDIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$root/build}
case "$BUILD" in /*) ;; *) BUILD=$root/$BUILD ;; esac
command -v valgrind >/dev/null || { echo "valgrind-module: install valgrind" >&2; exit 1; }
KUBENGX_BUILD=$BUILD exec /usr/bin/python3 "$here/valgrind_module.py" "$@"
