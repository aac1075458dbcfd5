#!/bin/bash
# kubengx libFuzzer targets: build, replay the regressions, fuzz.
#
#   tests/fuzz/run.sh [TARGET...]        build, replay, fuzz each target
#                                        for FUZZ_SECONDS (default 60)
#   tests/fuzz/run.sh --replay [T...]    build and replay the committed
#                                        regressions only (quick)
#   tests/fuzz/run.sh --valgrind-corpus [T...]  replay each target's saved
#                                        corpus, seeds and regressions in a
#                                        plain gcc build under valgrind
#                                        memcheck: ASan does not see misuse
#                                        inside uninstrumented libraries
#                                        (jansson, libyaml); valgrind does
#   tests/fuzz/run.sh --check-corpus     render every file of the saved
#                                        render corpus, check it, and run
#                                        nginx -t on a sample (CHECK_SAMPLE,
#                                        default 200; the module for
#                                        module-mode configs: KUBENGX_MODULE,
#                                        else $BUILD's or build/'s)
#
# Environment: BUILD (default build/; everything goes under $BUILD/fuzz/,
# nothing into the source tree), FUZZ_SECONDS, FUZZ_JOBS (targets run at
# once, default 1), CC (default clang), FUZZ_ARGS (extra libFuzzer flags).
#
# Targets are tests/fuzz/fuzz_*.c, built with
#   clang -fsanitize=fuzzer,address,undefined -g -O1
# against kube/ and generator/ (all of it).  Seeds: the
# committed tests/fuzz/seeds/TARGET/, plus for the manifest targets every
# manifest under examples/ and tests/corpus/ (render seeds get an options
# byte in front, see fuzz_render.c).  New corpus goes to
# $BUILD/fuzz/corpus/TARGET/.  A crash, leak, UB report or timeout saves
# the reproducer as $BUILD/fuzz/crashes/TARGET/crash-* and the script
# exits 1; copy it to tests/fuzz/regressions/TARGET/ once it is fixed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$root/build}
case "$BUILD" in /*) ;; *) BUILD=$root/$BUILD ;; esac
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_JOBS=${FUZZ_JOBS:-1}
FUZZ_ARGS=${FUZZ_ARGS:-}
CC=${CC_FUZZ:-clang}
out=$BUILD/fuzz
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

mode=fuzz
case "${1:-}" in
--replay) mode=replay; shift ;;
--check-corpus) mode=check; shift ;;
--valgrind-corpus) mode=valgrind; shift ;;
-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac

all_targets=$(cd "$here" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
targets=${*:-$all_targets}

die() { echo "fuzz: $*" >&2; exit 1; }

command -v "$CC" >/dev/null || die "$CC not found (make fuzz installs it)"

# --- build -----------------------------------------------------------------

pkgs="jansson yaml-0.1 libcurl libssl libcrypto libpcre2-8"
pc_cflags=$(pkg-config --cflags $pkgs) || die "pkg-config failed"
pc_libs=$(pkg-config --libs $pkgs)
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags="-std=gnu99 -g -O1 -fno-omit-frame-pointer $san
        -I$root/kube -I$root/generator -I$here -DKUBENGX_VERSION=\"fuzz\"
        $pc_cflags"
obj=$out/obj
mkdir -p "$obj" "$out/bin"

lib_srcs=$(ls "$root"/kube/*.c "$root"/generator/*.c \
               "$root"/generator/settings/*.c "$root"/generator/annotations/*.c)

# the library, instrumented for the fuzzer; rebuilt when any source or
# header is newer than it
lib=$out/libkngx-fuzz.a
newest=$(ls -t $lib_srcs "$root"/kube/*.h "$root"/generator/*.h \
         "$root"/generator/annotations/*.h \
         2>/dev/null | head -1)
if [ ! -e "$lib" ] || [ "$newest" -nt "$lib" ]; then
    echo "fuzz: building the library ($CC, sanitizers, coverage)"
    rm -f "$obj"/*.o
    n=0
    for s in $lib_srcs; do
        o=$obj/$(basename "$(dirname "$s")")_$(basename "$s" .c).o
        # shellcheck disable=SC2086
        $CC $cflags -fsanitize=fuzzer-no-link -c "$s" -o "$o" &
        n=$((n + 1))
        [ $((n % 2)) = 0 ] && { wait || die "library build failed"; }
    done
    wait
    [ "$(ls "$obj"/*.o | wc -l)" = "$(echo $lib_srcs | wc -w)" ] \
        || die "library build failed"
    rm -f "$lib"
    ar rcs "$lib" "$obj"/*.o || die "ar failed"
fi

build_target() {
    local t=$1 bin=$out/bin/fuzz_$1
    if [ ! -e "$bin" ] || [ "$lib" -nt "$bin" ] \
       || [ "$here/fuzz_$t.c" -nt "$bin" ] || [ "$here/conf_check.h" -nt "$bin" ]
    then
        echo "fuzz: building fuzz_$t"
        # shellcheck disable=SC2086
        $CC $cflags -fsanitize=fuzzer -o "$bin" "$here/fuzz_$t.c" "$lib" \
            $pc_libs -lm || die "build of fuzz_$t failed"
    fi
}

for t in $targets; do
    [ -e "$here/fuzz_$t.c" ] || die "no target $t (have: $(echo $all_targets))"
    build_target "$t"
done

# --- seeds -----------------------------------------------------------------

manifest_files() {
    find "$root/examples" "$root/tests/corpus" \
        -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) \
        2>/dev/null | sort
}

# seed directories for a target, one per line
seed_dirs() {
    local t=$1 d
    [ -d "$here/seeds/$t" ] && echo "$here/seeds/$t"
    case "$t" in
    manifest)
        d=$out/seeds/manifest
        rm -rf "$d"; mkdir -p "$d"
        manifest_files | while read -r f; do
            cp "$f" "$d/$(echo "$f" | md5sum | cut -c1-16)"
        done
        for f in "$here"/seeds/render/*; do
            [ -e "$f" ] && tail -c +2 "$f" > "$d/render-$(basename "$f")"
        done
        echo "$d"
        ;;
    render)
        # options bytes: module, cluster-ip, static; default backend and
        # certificate; other ports and listen address
        d=$out/seeds/render
        rm -rf "$d"; mkdir -p "$d"
        manifest_files | while read -r f; do
            h=$(echo "$f" | md5sum | cut -c1-16)
            for o in 00 01 02 1a 64; do
                { printf "\\x$o"; cat "$f"; } > "$d/$h-$o"
            done
        done
        echo "$d"
        ;;
    esac
}

max_len() {
    case "$1" in
    manifest|render) echo 65536 ;;
    listwatch|framer) echo 16384 ;;
    *) echo 8192 ;;
    esac
}

# --- replay ----------------------------------------------------------------

replay() {
    local t=$1 bin=$out/bin/fuzz_$1 files
    files=$(ls "$here/regressions/$t"/* 2>/dev/null)
    [ -z "$files" ] && return 0
    # shellcheck disable=SC2086
    if ! "$bin" -runs=1 $files > "$out/logs/replay-$t.log" 2>&1; then
        echo "fuzz: $t: a committed regression fails again:" >&2
        grep -E 'Running:|ERROR|SUMMARY|runtime error' \
            "$out/logs/replay-$t.log" | head -20 >&2
        return 1
    fi
    echo "fuzz: $t: $(echo $files | wc -w) regression input(s) pass"
}

mkdir -p "$out/logs"
rc=0
for t in $targets; do
    replay "$t" || rc=1
done

[ "$mode" = replay ] && exit $rc

# --- valgrind-corpus -------------------------------------------------------
#
# Each target built with gcc, no sanitizers and standalone_main.c, replays
# its saved corpus, seeds and regressions under valgrind memcheck.

if [ "$mode" = valgrind ]; then
    command -v valgrind >/dev/null || die "valgrind not installed"
    pobj=$out/obj-plain
    mkdir -p "$pobj"
    if [ ! -e "$pobj/.stamp" ] || [ "$newest" -nt "$pobj/.stamp" ]; then
        echo "fuzz: building the plain library (gcc, no sanitizers)"
        rm -f "$pobj"/*.o
        for s in $lib_srcs; do
            # shellcheck disable=SC2086
            gcc -std=gnu99 -g -O1 -DKUBENGX_VERSION='"fuzz"' \
                -I"$root/kube" -I"$root/generator" $pc_cflags -c "$s" \
                -o "$pobj/$(basename "$(dirname "$s")")_$(basename "$s" .c).o" \
                || die "plain build of $s failed"
        done
        touch "$pobj/.stamp"
    fi
    vlog=$out/logs/valgrind-corpus
    rm -f "$vlog".*
    for t in $targets; do
        plain=$out/bin/plain_$t
        if [ ! -e "$plain" ] || [ "$pobj/.stamp" -nt "$plain" ] \
           || [ "$here/fuzz_$t.c" -nt "$plain" ] \
           || [ "$here/conf_check.h" -nt "$plain" ]; then
            # shellcheck disable=SC2086
            gcc -std=gnu99 -g -O1 -I"$root/kube" -I"$root/generator" \
                -I"$here" $pc_cflags -o "$plain" "$here/fuzz_$t.c" \
                "$here/standalone_main.c" "$pobj"/*.o $pc_libs -lm \
                || die "plain build of fuzz_$t failed"
        fi
        n=$(find "$out/corpus/$t" "$here/seeds/$t" "$here/regressions/$t" \
                 -type f 2>/dev/null | wc -l)
        find "$out/corpus/$t" "$here/seeds/$t" "$here/regressions/$t" \
            -type f 2>/dev/null | sort \
            | xargs -r -n 500 valgrind -q --error-exitcode=9 \
                --leak-check=full --errors-for-leak-kinds=definite \
                --log-file="$vlog.$t.%p" "$plain" > /dev/null 2>&1
        if [ $? != 0 ] || grep -qs . "$vlog.$t".*; then
            echo "fuzz: valgrind-corpus: $t: memcheck errors (logs" \
                 "$vlog.$t.*):" >&2
            cat "$vlog.$t".* 2>/dev/null | head -60 >&2
            rc=1
        else
            echo "fuzz: valgrind-corpus: $t: $n inputs, no memcheck errors"
        fi
    done
    exit $rc
fi

# --- check-corpus ----------------------------------------------------------

if [ "$mode" = check ]; then
    checker=$out/bin/render-corpus
    if [ ! -e "$checker" ] || [ "$lib" -nt "$checker" ] \
       || [ "$here/fuzz_render.c" -nt "$checker" ]; then
        echo "fuzz: building render-corpus"
        # shellcheck disable=SC2086
        $CC $cflags -DKNGX_RENDER_MAIN -o "$checker" "$here/fuzz_render.c" \
            "$lib" $pc_libs -lm || die "build of render-corpus failed"
    fi
    corpus=$out/corpus/render
    [ -d "$corpus" ] || die "no corpus in $corpus: run the render target first"
    module=${KUBENGX_MODULE:-}
    [ -z "$module" ] && [ -e "$BUILD/ngx_http_k8s_module.so" ] && module=$BUILD/ngx_http_k8s_module.so
    [ -e "$root/build/ngx_http_k8s_module.so" ] && [ -z "$module" ] \
        && module=$root/build/ngx_http_k8s_module.so
    res=$out/check-corpus.txt
    find "$corpus" "$here/regressions/render" -type f 2>/dev/null | sort \
        | xargs -r "$checker" > "$res.all" 2> "$out/logs/check-corpus.err"
    n=$(wc -l < "$res.all")
    echo "fuzz: check-corpus: $n files:" \
         "$(grep -c ' ok$' "$res.all") rendered and passed the config check," \
         "$(grep -c ' error$' "$res.all") refused with an error," \
         "$(grep -c ' bad ' "$res.all") FAILED the config check"
    grep ' bad ' "$res.all" | head -20
    grep -q ' bad ' "$res.all" && rc=1
    sample=${CHECK_SAMPLE:-200}
    echo "fuzz: check-corpus: nginx -t on up to $sample rendered configs" \
         "(module: ${module:-none, module-mode inputs skipped})"
    grep ' ok$' "$res.all" | cut -d' ' -f1 | shuf -n "$sample" \
        --random-source=<(yes) \
        | xargs -r "$checker" --nginx-t "$module" > "$res" 2>>"$out/logs/check-corpus.err"
    echo "fuzz: check-corpus: nginx -t:" \
         "$(grep -c ' nginx-t-ok$' "$res") accepted," \
         "$(grep -c ' nginx-t-fail ' "$res") refused," \
         "$(grep -c ' skipped ' "$res") skipped"
    if grep -q ' nginx-t-fail ' "$res"; then
        # ExternalName names are resolved per request (render.c), never by
        # nginx -t: every refusal is a finding
        grep ' nginx-t-fail ' "$res" | head -20
        rc=1
    fi
    echo "fuzz: check-corpus: details in $res.all and $res"
    exit $rc
fi

# --- fuzz ------------------------------------------------------------------

fuzz_one() {
    local t=$1 bin=$out/bin/fuzz_$1 log=$out/logs/fuzz-$1.log dict=""
    local corpus=$out/corpus/$t crashes=$out/crashes/$t
    mkdir -p "$corpus" "$crashes"
    [ -e "$here/dict/$t.dict" ] && dict="-dict=$here/dict/$t.dict"
    # shellcheck disable=SC2046,SC2086
    "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=20 -rss_limit_mb=2048 \
        -max_len="$(max_len "$t")" -print_final_stats=1 \
        -artifact_prefix="$crashes/" $dict $FUZZ_ARGS \
        "$corpus" $(seed_dirs "$t") > "$log" 2>&1
    echo $? > "$out/logs/fuzz-$t.rc"
}

summary=$out/summary.txt
: > "$summary.new"
running=0
for t in $targets; do
    echo "fuzz: $t for ${FUZZ_SECONDS}s (log $out/logs/fuzz-$t.log)"
    fuzz_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$FUZZ_JOBS" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait

printf '%-14s %12s %8s %8s %s\n' target execs exec/s corpus result \
    | tee -a "$summary.new"
for t in $targets; do
    log=$out/logs/fuzz-$t.log
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    ncorp=$(ls "$out/corpus/$t" | wc -l)
    code=$(cat "$out/logs/fuzz-$t.rc" 2>/dev/null || echo 1)
    if [ "$code" = 0 ]; then
        result=ok
    else
        result="FAILED (exit $code): $(ls -t "$out/crashes/$t" | head -1)"
        rc=1
        grep -E '^==[0-9]+==ERROR|runtime error|SUMMARY|Test unit written' \
            "$log" | head -5 >&2
    fi
    printf '%-14s %12s %8s %8s %s\n' "$t" "${execs:-?}" "${speed:-?}" \
        "$ncorp" "$result" | tee -a "$summary.new"
done
echo "($(date -u +%Y-%m-%d) ${FUZZ_SECONDS}s per target)" >> "$summary.new"
mv "$summary.new" "$summary"

if [ "$rc" != 0 ]; then
    echo "fuzz: FAILED; reproducers under $out/crashes/ (replay one:" \
         "$out/bin/fuzz_TARGET FILE)" >&2
fi
exit $rc
