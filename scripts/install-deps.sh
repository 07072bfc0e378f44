#!/usr/bin/env bash
# Installs the Debian packages Weir needs to build, test and benchmark. Idempotent: installs only
# what is missing. Needs root (or sudo) on Debian 12.
set -euo pipefail
pkgs=(g++ cmake ninja-build ccache pkg-config git zstd bc
      libpg-query-dev libprotobuf-c-dev libsimdjson-dev libfmt-dev libcli11-dev libre2-dev libxxhash-dev librocksdb-dev
      libgtest-dev libgmock-dev libbenchmark-dev
      clang libclang-rt-14-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node + npm only fetch the real data set and run the DuckDB oracle; any install will do.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
