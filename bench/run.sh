#!/usr/bin/env bash
# Weir's benchmark suite: prints a Markdown table of current figures.
#   - Nexmark q0/q1/q2: events/s on one core, generator included (blackhole sink)
#   - flights filter/projection, CSV in -> CSV out, Weir vs DuckDB (threads = 1) in the same run
#   - CSV decoding MB/s on flights-3m (Google Benchmark: csv_decode_bench)
# Each figure is the best of N runs (default 3). Usage: bench/run.sh [RUNS] [NEXMARK_EVENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
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

echo "Machine: $(machine)"
echo
echo "| benchmark | Weir | peer | ratio |"
echo "|---|---|---|---|"

for q in q0 q1 q2 hop_count tumble_max; do
  sed "s/events = '10000000'/events = '$events'/" "examples/nexmark/$q.sql" > "$tmp/$q.sql"
  times=()
  for _ in $(seq "$runs"); do
    build/weir run "$tmp/$q.sql" --stats-json "$tmp/$q.json"
    times+=("$(grep -o '"wall_seconds": [0-9.]*' "$tmp/$q.json" | cut -d' ' -f2)")
  done
  t=$(best "${times[@]}")
  rate=$(echo "$events / $t / 1000000" | bc -l)
  case "$q" in
    q0) peer="Flink 1.13: 155 K/s per core"; pk=155.02 ;;
    q1) peer="Flink 1.13: 158 K/s per core"; pk=157.94 ;;
    q2) peer="Flink 1.13: 175 K/s per core"; pk=175.21 ;;
    hop_count) peer="Flink 1.13 full q5: 22 K/s per core"; pk=22.14 ;;
    tumble_max) peer="Flink 1.13 full q7: 12 K/s per core"; pk=12.33 ;;
  esac
  printf '| Nexmark %s, %s events, 1 core, generator included | %.1f M events/s (%.2f s) | %s | %.0f× |\n' \
    "$q" "$events" "$rate" "$t" "$peer" "$(echo "$rate * 1000 / $pk" | bc -l)"
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

# Flights hourly TUMBLE per origin (EMIT ON WINDOW CLOSE), CSV in -> CSV out, vs DuckDB GROUP BY.
cat > "$tmp/hourly.sql" <<SQL
CREATE SOURCE flights (date TIMESTAMP, delay BIGINT, distance BIGINT, origin VARCHAR, destination VARCHAR,
  WATERMARK FOR date AS date - INTERVAL '5' MINUTE)
WITH (connector = 'file', path = '$csv', format = 'csv', header = 'true');
CREATE SINK hourly AS
SELECT origin, window_start, window_end, count(*) AS flights, avg(delay) AS avg_delay
FROM TUMBLE(flights, date, INTERVAL '1' HOUR) GROUP BY origin, window_start, window_end EMIT ON WINDOW CLOSE
WITH (connector = 'file', path = '$tmp/weir_hourly.csv', format = 'csv');
SQL
wt=()
for _ in $(seq "$runs"); do wt+=("$(wall build/weir run "$tmp/hourly.sql")"); done
w=$(best "${wt[@]}")
if [ -f "$oracle" ]; then
  dq="COPY (SELECT origin, date_trunc('hour', date) AS window_start, date_trunc('hour', date) + INTERVAL 1 HOUR AS window_end, count(*) AS flights, avg(delay) AS avg_delay FROM $from GROUP BY ALL) TO '$tmp/duck_hourly.csv' (HEADER)"
  dt=()
  for _ in $(seq "$runs"); do dt+=("$(DUCKDB_THREADS=1 wall bash "$oracle" "$dq; SELECT 1")"); done
  d=$(best "${dt[@]}"); dn=$(echo "$d - $b" | bc -l)
  printf '| flights hourly TUMBLE per origin, CSV→CSV, %s groups | %.3f s | DuckDB 1 thread GROUP BY: %.3f s (minus startup) | %.1f× |\n' \
    "$(($(wc -l < "$tmp/weir_hourly.csv") - 1))" "$w" "$dn" "$(echo "$dn / $w" | bc -l)"
else
  printf '| flights hourly TUMBLE per origin, CSV→CSV | %.3f s | | |\n' "$w"
fi

# Ingest-to-emit latency under EMIT ON UPDATE at 1 M events/s.
if [ -x build/bench/latency_bench ]; then
  build/bench/latency_bench 2000000 1000000 16 | tail -1 | sed 's/^/| EMIT ON UPDATE /; s/$/ (1 M events\/s, 16-row batches) | | |/'
fi

# Keyed state: get/update with 1 M keys (src/state HashTable, batch path).
if [ -x build/bench/state_bench ]; then
  build/bench/state_bench --benchmark_filter='BM_(UpdateBatch|GetBatch)/bigint_uniform$' --benchmark_min_time=0.3 2>/dev/null \
    | grep -E '^BM_' | while read -r name rest; do
      ns=$(echo "$rest" | grep -o 'ns_per_row=[0-9.]*' | cut -d= -f2)
      bpk=$(echo "$rest" | grep -o 'bytes_per_key=[0-9.]*' | cut -d= -f2)
      printf '| keyed state %s, 1 M BIGINT keys | %.1f ns/op (%.0f bytes/key) | | |\n' "$name" "$ns" "$bpk"
    done
fi

# Memory: 1 M open keys, and a long run whose keys churn (windows close, state is freed).
cat > "$tmp/keys.sql" <<'SQL'
CREATE SOURCE bid WITH (connector = 'nexmark', table = 'bid', events = '1090000', seed = '1');
CREATE SINK s AS SELECT date_time, count(*) AS n, max(price) AS p FROM bid GROUP BY date_time WITH (connector = 'blackhole');
SQL
build/weir run "$tmp/keys.sql" --stats-json "$tmp/keys.json"
printf '| peak RSS, ~1 M open keys (GROUP BY date_time, EMIT ON UPDATE) | %.0f MB | | |\n' \
  "$(echo "$(grep -o '"peak_rss_bytes": [0-9]*' "$tmp/keys.json" | cut -d' ' -f2) / 1000000" | bc -l)"
for n in 10000000 50000000; do
  sed "s/events = '10000000'/events = '$n'/" examples/nexmark/hop_count.sql > "$tmp/churn.sql"
  build/weir run "$tmp/churn.sql" --stats-json "$tmp/churn.json"
  printf '| peak RSS, HOP count per auction, %s events (keys churn) | %.0f MB | | |\n' "$n" \
    "$(echo "$(grep -o '"peak_rss_bytes": [0-9]*' "$tmp/churn.json" | cut -d' ' -f2) / 1000000" | bc -l)"
done

if [ -x build/bench/csv_decode_bench ]; then
  WEIR_FLIGHTS_CSV="$csv" build/bench/csv_decode_bench 2>/dev/null | grep -E '^BM_' | while read -r name rest; do
    bps=$(echo "$rest" | grep -o 'bytes_per_second=[0-9.]*[kMG]/s' | cut -d= -f2)
    [ -n "$bps" ] || continue
    printf '| CSV %s, flights-3m | %sB/s (MiB) | | |\n' "$name" "${bps%/s}"
  done
fi
