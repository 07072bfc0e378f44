#!/usr/bin/env bash
# Configures (once) and builds Weir with ninja + ccache into build/ (or $WEIR_BUILD_DIR).
# Usage: scripts/build.sh [--sanitize] [extra cmake -D options...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${WEIR_BUILD_DIR:-build}"
opts=()
if [ "${1:-}" = "--sanitize" ]; then
  shift; dir="${WEIR_BUILD_DIR:-build-asan}"; opts+=(-DWEIR_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
fi
jobs="${WEIR_JOBS:-2}"
# Paths relative to the checkout in ccache keys: worktrees and clean clones share cache hits.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja "${opts[@]}" "$@" >/dev/null
fi
cmake --build "$dir" -j "$jobs"
