#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) into build-fuzz/ and runs each for
# SECONDS (default 60) from its corpus in fuzz/corpus/NAME (seeded from tests/data).
# Prints "N passed, N failed" (one per fuzzer). A crash leaves its reproducer in build-fuzz/.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DWEIR_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || exit 1
fi
targets=$(ls fuzz/*_fuzz.cc | xargs -n1 basename | sed 's/\.cc$//')
cmake --build build-fuzz -j "${WEIR_JOBS:-2}" --target $targets || { echo "0 passed, 1 failed"; exit 1; }
passed=0; failed=0
for t in $targets; do
  corpus="build-fuzz/corpus/$t"; mkdir -p "$corpus"
  case "$t" in
    csv*) cp tests/data/*.csv "$corpus/" 2>/dev/null ;;
    json*) cp tests/data/*.jsonl "$corpus/" 2>/dev/null ;;
    sql*) cp tests/sql/*.slt examples/*.sql examples/nexmark/*.sql "$corpus/" 2>/dev/null ;;
  esac
  if (cd build-fuzz && "./fuzz/$t" -max_total_time="$seconds" -rss_limit_mb=4096 -print_final_stats=0 \
        "corpus/$t" > "fuzz-$t.log" 2>&1); then
    passed=$((passed + 1)); echo "ok   fuzz $t (${seconds}s)"
  else
    failed=$((failed + 1)); echo "FAIL fuzz $t"; tail -40 "build-fuzz/fuzz-$t.log"
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
