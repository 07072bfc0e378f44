#!/usr/bin/env bash
# Produces data/flights-3m.csv: 3,000,000 real US flights (2001-01..06) from the npm package
# vega-datasets (flights-3m.parquet), converted to CSV with DuckDB (npm @duckdb/node-api).
# Uses ../shared/data/flights-3m.csv.zst instead when it is present (same bytes).
# Idempotent: does nothing when data/flights-3m.csv already has the expected size.
set -euo pipefail
cd "$(dirname "$0")/.."
out=data/flights-3m.csv
expected_bytes=105783734
mkdir -p data
if [ -f "$out" ] && [ "$(stat -c %s "$out")" = "$expected_bytes" ]; then exit 0; fi
shared=../shared/data/flights-3m.csv.zst
if [ -f "$shared" ]; then
  zstd -q -dc "$shared" > "$out.tmp"
else
  cache="${WEIR_NPM_CACHE:-$PWD/.cache/npm}"
  mkdir -p "$cache"
  if [ ! -f "$cache/node_modules/vega-datasets/data/flights-3m.parquet" ] || \
     [ ! -d "$cache/node_modules/@duckdb/node-api" ]; then
    echo "get-flights: installing vega-datasets and @duckdb/node-api from npm into $cache" >&2
    (cd "$cache" && { [ -f package.json ] || npm init -y >/dev/null; } &&
      npm install --silent --no-audit --no-fund vega-datasets@3.2.1 @duckdb/node-api@1.5.6-r.1 >/dev/null)
  fi
  NODE_PATH="$cache/node_modules" node scripts/parquet-to-csv.mjs \
    "$cache/node_modules/vega-datasets/data/flights-3m.parquet" "$out.tmp"
fi
size=$(stat -c %s "$out.tmp")
if [ "$size" != "$expected_bytes" ]; then
  echo "get-flights: $out has $size bytes, expected $expected_bytes" >&2
  exit 1
fi
mv "$out.tmp" "$out"
echo "get-flights: wrote $out (3,000,000 rows)" >&2
