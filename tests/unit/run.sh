#!/bin/bash
# Run the cmocka test binaries given as arguments; write per-binary
# "NAME PASSED FAILED" lines to the results file named first.
# Exit non-zero when any test failed or any binary crashed.
set -u
results=$1; shift
: > "$results"
rc=0
for bin in "$@"; do
    name=$(basename "$bin")
    out=$("$bin" 2>&1)
    code=$?
    printf '%s\n' "$out" | grep -E '^\[ +(FAILED|PASSED|  ERROR) +\]|^\[  ERROR' \
        | sed "s/^/$name: /"
    passed=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    failed=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    if [ "$code" != 0 ]; then
        printf '%s\n' "$out" | grep -E 'FAILED|ERROR|error|Assert' | head -40
        rc=1
        # a crash counts as one failure even if cmocka printed nothing
        [ -z "$failed" ] && failed=1
    fi
    echo "$name ${passed:-0} ${failed:-0}" >> "$results"
done
exit $rc
