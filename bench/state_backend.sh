#!/usr/bin/env bash
# State backends: one high-cardinality GROUP BY over the Nexmark bid stream with
# `--state-backend memory` and `--state-backend rocksdb`, with and without checkpoints
# (--state-dir, one every second). Prints a Markdown table: backend, checkpoints, events/s (wall
# time, generator included), wall and CPU seconds, peak RSS, checkpoints taken, average and
# maximum checkpoint pause (the pipeline stalled: write-back + RocksDB checkpoint + snapshot),
# and the state directory's size at the end (du, hard links counted once).
# Usage: bench/state_backend.sh [EVENTS] [CACHE]   (defaults 10000000 and 64MB)
# The query keeps one group per (auction, bidder) — nearly one per bid, i.e. millions of keys.
# Needs build/weir (scripts/build.sh). Runs `taskset -c 0` when taskset exists.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
events="${1:-10000000}"
cache="${2:-64MB}"
weir=build/weir
[ -x "$weir" ] || { echo "state_backend.sh: $weir is missing; run scripts/build.sh" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/weir-state-bench.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
pin=(); command -v taskset >/dev/null 2>&1 && pin=(taskset -c 0)
cat > "$tmp/q.sql" <<SQL
CREATE SOURCE bid (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'bid', events = '$events', seed = '42');

CREATE SINK per_pair AS
SELECT auction, bidder, count(*) AS bids, max(price) AS top FROM bid GROUP BY auction, bidder
WITH (connector = 'blackhole');
SQL

echo "Machine: $(machine); $events events, seed 42, one core, cache $cache"
echo
echo "| backend | checkpoints | events/s | wall s | CPU s | peak RSS | taken | avg pause | max pause | state dir |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for backend in memory rocksdb; do
  for ckpt in off 1s; do
    args=(--state-backend "$backend" --state-cache-size "$cache" --stats-json "$tmp/s.json")
    rm -rf "$tmp/state"
    [ "$ckpt" = off ] || args+=(--state-dir "$tmp/state" --checkpoint-interval-ms 1000)
    if ! "${pin[@]}" "$weir" run "$tmp/q.sql" "${args[@]}" > "$tmp/log" 2>&1; then
      printf '| %s | %s | failed: %s |\n' "$backend" "$ckpt" "$(tail -1 "$tmp/log")"
      continue
    fi
    wall=$(field wall_seconds "$tmp/s.json"); cpu=$(field cpu_seconds "$tmp/s.json")
    rss=$(field peak_rss_bytes "$tmp/s.json")
    taken="-"; avg="-"; mx="-"; du="-"
    if [ "$ckpt" != off ]; then
      taken=$(field taken "$tmp/s.json")
      avg=$(printf '%.0f ms' "$(echo "$(field total_pause_us "$tmp/s.json") / $taken / 1000" | bc -l)")
      mx=$(printf '%.0f ms' "$(echo "$(field max_pause_us "$tmp/s.json") / 1000" | bc -l)")
      du=$(du -sh "$tmp/state" | cut -f1)
    fi
    printf '| %s | %s | %.2f M | %.2f | %.2f | %.0f MB | %s | %s | %s | %s |\n' "$backend" "$ckpt" \
      "$(echo "$events / $wall / 1000000" | bc -l)" "$wall" "$cpu" "$(echo "$rss / 1048576" | bc -l)" \
      "$taken" "$avg" "$mx" "$du"
  done
done
