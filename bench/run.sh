#!/usr/bin/env bash
# Weir's benchmark suite: prints a Markdown table of current figures.
#   - Nexmark q0/q1/q2: events/s on one core, generator included (blackhole sink)
#   - flights filter/projection, CSV in -> CSV out, Weir vs DuckDB (threads = 1) in the same run
#   - CSV decoding MB/s on flights-3m (Google Benchmark: csv_decode_bench)
# Each figure is the best of N runs (default 3). Usage: bench/run.sh [RUNS] [NEXMARK_EVENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
events="${2:-10000000}"
scripts/build.sh >/dev/null
scripts/get-flights.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
oracle=../shared/oracle/duckdb-sql

best() {  # best TIMES...: smallest
  printf '%s\n' "$@" | sort -g | head -1
}
wall() {  # wall COMMAND...: seconds of one run
  local t0 t1
  t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d)"
echo
echo "| benchmark | Weir | peer | ratio |"
echo "|---|---|---|---|"

for q in q0 q1 q2; do
  sed "s/events = '10000000'/events = '$events'/" "examples/nexmark/$q.sql" > "$tmp/$q.sql"
  times=()
  for _ in $(seq "$runs"); do
    build/weir run "$tmp/$q.sql" --stats-json "$tmp/$q.json"
    times+=("$(grep -o '"wall_seconds": [0-9.]*' "$tmp/$q.json" | cut -d' ' -f2)")
  done
  t=$(best "${times[@]}")
  rate=$(echo "$events / $t / 1000000" | bc -l)
  printf '| Nexmark %s, %s events, 1 core | %.1f M events/s (%.2f s) | Flink 1.13 published: see README | |\n' "$q" "$events" "$rate" "$t"
done

# Flights filter/projection: CSV in -> CSV out.
csv="$PWD/data/flights-3m.csv"
cat > "$tmp/flights.sql" <<SQL
CREATE SOURCE flights (date TIMESTAMP, delay BIGINT, distance BIGINT, origin VARCHAR, destination VARCHAR)
WITH (connector = 'file', path = '$csv', format = 'csv', header = 'true');
CREATE SINK out AS
SELECT date, origin, destination, distance, delay, CAST(delay AS DOUBLE) / 60 AS delay_hours
FROM flights WHERE delay > 15 AND distance >= 500
WITH (connector = 'file', path = '$tmp/weir_out.csv', format = 'csv');
SQL
wt=()
for _ in $(seq "$runs"); do wt+=("$(wall build/weir run "$tmp/flights.sql")"); done
w=$(best "${wt[@]}")
if [ -f "$oracle" ]; then
  from="read_csv('$csv', header = true, columns = {'date': 'TIMESTAMP', 'delay': 'BIGINT', 'distance': 'BIGINT', 'origin': 'VARCHAR', 'destination': 'VARCHAR'})"
  dq="COPY (SELECT date, origin, destination, distance, delay, CAST(delay AS DOUBLE) / 60 AS delay_hours FROM $from WHERE delay > 15 AND distance >= 500) TO '$tmp/duck_out.csv' (HEADER)"
  DUCKDB_THREADS=1 bash "$oracle" "SELECT 1" >/dev/null  # install + warm the cache
  dt=(); bt=()
  for _ in $(seq "$runs"); do
    dt+=("$(DUCKDB_THREADS=1 wall bash "$oracle" "$dq; SELECT 1")")
    bt+=("$(DUCKDB_THREADS=1 wall bash "$oracle" "SELECT 1")")
  done
  d=$(best "${dt[@]}"); b=$(best "${bt[@]}")
  dn=$(echo "$d - $b" | bc -l)
  rows=$(($(wc -l < "$tmp/weir_out.csv") - 1)); drows=$(($(wc -l < "$tmp/duck_out.csv") - 1))
  [ "$rows" = "$drows" ] || echo "WARNING: row counts differ: weir $rows, duckdb $drows" >&2
  printf '| flights filter/projection, CSV→CSV, 3 M rows → %s rows | %.3f s (%.0f MB/s in) | DuckDB 1 thread: %.3f s (%.3f s minus %.3f s startup) | %.1f× |\n' \
    "$rows" "$w" "$(echo "105.78 / $w" | bc -l)" "$dn" "$d" "$b" "$(echo "$dn / $w" | bc -l)"
else
  printf '| flights filter/projection, CSV→CSV | %.3f s | (no ../shared/oracle) | |\n' "$w"
fi

if [ -x build/bench/csv_decode_bench ]; then
  WEIR_FLIGHTS_CSV="$csv" build/bench/csv_decode_bench --benchmark_format=csv 2>/dev/null \
    | grep -E '^"' | while IFS=, read -r name iters real cpu unit bps ips rest; do
      [ -n "$bps" ] || continue
      printf '| CSV %s | %.0f MB/s | | |\n' "$(echo "$name" | tr -d '"')" "$(awk -v b="$bps" 'BEGIN { print b / 1e6 }')"
    done
fi
