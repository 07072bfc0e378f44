#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit tests and SQL logic tests (ctest),
# end-to-end CLI tests, results on real flights data compared with DuckDB, the same ctest suite
# under AddressSanitizer + UndefinedBehaviorSanitizer, and a short run of every fuzzer.
# Usage: scripts/test.sh [--quick]   (--quick: skip the sanitizer build and the fuzzers)
# Closes with one line "N passed, N failed" summing every stage.
set -uo pipefail
cd "$(dirname "$0")/.."
quick=0; [ "${1:-}" = "--quick" ] && quick=1
scripts/install-deps.sh || exit 1

stage_pass=0; stage_fail=0
stage() {  # stage NAME COMMAND...: runs a stage, adds its "N passed, N failed" line (or 1/0)
  local name="$1"; shift
  echo "=== $name"
  local log; log=$(mktemp)
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line; line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  rm -f "$log"
  if [ -n "$line" ]; then
    stage_pass=$((stage_pass + $(echo "$line" | cut -d' ' -f1)))
    stage_fail=$((stage_fail + $(echo "$line" | cut -d' ' -f3)))
  fi
  if [ "$rc" != 0 ]; then
    echo "=== $name FAILED (exit $rc)"
    [ -n "$line" ] && [ "$(echo "$line" | cut -d' ' -f3)" != 0 ] || stage_fail=$((stage_fail + 1))
  fi
}

ctest_stage() {  # ctest in DIR, then print its counts in the plain form
  local dir="$1" log; log=$(mktemp)
  (cd "$dir" && ctest --output-on-failure -j2 --timeout 600) | tee "$log"
  local rc=${PIPESTATUS[0]}
  local total failed
  total=$(grep -oE 'out of [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
  failed=$(grep -oE '[0-9]+ tests failed' "$log" | tail -1 | grep -oE '^[0-9]+')
  rm -f "$log"
  echo "$(( ${total:-0} - ${failed:-0} )) passed, ${failed:-0} failed"
  return "$rc"
}

stage "build" scripts/build.sh
if [ ! -x build/weir ]; then echo "0 passed, 1 failed"; exit 1; fi
stage "unit + sql tests" ctest_stage build
stage "cli tests" tests/integration/cli_test.sh build
stage "flights vs DuckDB" tests/integration/flights_oracle_test.sh build
stage "tables vs DuckDB" tests/integration/tables_oracle_test.sh build
stage "nexmark vs DuckDB" tests/integration/nexmark_oracle_test.sh build 200000
stage "kill -9 crash soak" tests/integration/crash_soak.sh build 2 10000000
if [ "$quick" = 0 ]; then
  stage "build (asan+ubsan)" scripts/build.sh --sanitize
  export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
  stage "unit + sql tests (asan+ubsan)" ctest_stage build-asan
  unset ASAN_OPTIONS UBSAN_OPTIONS
  stage "fuzz" scripts/fuzz.sh 20
fi
echo "$stage_pass passed, $stage_fail failed"
[ "$stage_fail" = 0 ]
