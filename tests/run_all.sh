#!/usr/bin/env bash
# tests/run_all.sh BUILD KILLS — the whole of `make test`: the unit tests,
# the screen tests, fault injection and the crash-consistency run, each
# printing as it goes; then one line for the whole suite, "N passed, N
# failed", where each unit or screen check counts once and the fault and
# crash runs count once each. Exits 1 when anything failed.
set -u
build=${1:-build} kills=${2:-1000}
log=$(mktemp "${TMPDIR:-/tmp}/thaw-test.XXXXXX") || exit 1
trap 'rm -f "$log"' EXIT
passed=0 failed=0

# count STATUS: adds the "N passed, N failed" of the last such line in the
# log (or one failure when the part printed none and failed).
count() {
    local line p f
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    if [ -n "$line" ]; then
        p=${line%% passed*}
        f=${line#*passed, }
        f=${f%% failed*}
        passed=$((passed + p))
        failed=$((failed + f))
    fi
    [ "$1" != 0 ] && [ -z "$line" -o "${f:-0}" = 0 ] && failed=$((failed + 1))
    return 0
}
# once STATUS NAME: a part that is one check.
once() {
    if [ "$1" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $2"; fi
}

"$build/thaw-tests" 2>&1 | tee "$log"; count "${PIPESTATUS[0]}"
bash tests/screen/run.sh 2>&1 | tee "$log"; count "${PIPESTATUS[0]}"
"$build/thaw-faults" 2>&1 | tee "$log"; once "${PIPESTATUS[0]}" "fault injection"
"$build/thaw-killsave" --kills "$kills" 2>&1 | tee "$log"; once "${PIPESTATUS[0]}" "crash consistency"
echo "make test: $passed passed, $failed failed"
[ "$failed" = 0 ]
