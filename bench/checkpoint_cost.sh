#!/usr/bin/env bash
# Checkpoint cost on a large-state query: the same run without a state directory, then with
# checkpoints every INTERVAL ms snapshotted inline and forked (copy-on-write). Prints a Markdown
# table: wall seconds, throughput cost vs no checkpoints, checkpoints taken, pipeline pause per
# checkpoint taken while the pipeline runs (snapshot part: fork or copy), the end-of-run
# checkpoint (snapshot + waiting for the previous write) apart, state bytes, peak RSS (parent) —
# all from `weir run --stats-json`.
# The query: every (auction, bidder) pair of the Nexmark bid stream with count / max / sum — an
# unbounded GROUP BY whose state grows to ~1.3 GB of hash table + ~1 GB of view at 20 M events.
# Usage: bench/checkpoint_cost.sh [EVENTS] [INTERVAL_MS]   (default 20000000, 1000)
# Needs build/weir (scripts/build.sh). The state directory is on the disk of $TMPDIR.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
events="${1:-20000000}"
interval="${2:-1000}"
weir=build/weir
[ -x "$weir" ] || { echo "checkpoint_cost.sh: $weir is missing; run scripts/build.sh" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/q.sql" <<SQL
CREATE SOURCE bid (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'bid', events = '$events', seed = '42');
CREATE MATERIALIZED VIEW per_pair AS
SELECT auction, bidder, count(*) AS n, max(price) AS max_price, sum(price) AS total
FROM bid GROUP BY auction, bidder;
CREATE SINK out FROM per_pair WITH (connector = 'blackhole');
SQL

echo "Machine: $(machine); $events Nexmark events, checkpoint every $interval ms"
echo
echo "| snapshots | wall s | cost | checkpoints while running | pause avg (snapshot) | pause max (snapshot) | end-of-run checkpoint | state | peak RSS |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
base=""
for mode in none inline fork; do
  args=()
  [ "$mode" != none ] && args=(--state-dir "$tmp/state-$mode" --checkpoint-interval-ms "$interval" --checkpoint-snapshot "$mode")
  "$weir" run "$tmp/q.sql" --stats-json "$tmp/$mode.json" "${args[@]}" > /dev/null
  wall=$(field wall_seconds "$tmp/$mode.json")
  rss=$(field peak_rss_bytes "$tmp/$mode.json")
  if [ "$mode" = none ]; then
    base=$wall
    printf '| no checkpoints | %.1f | — | — | — | — | — | — | %.0f MB |\n' "$wall" "$(echo "$rss / 1048576" | bc -l)"
    continue
  fi
  taken=$(field running "$tmp/$mode.json"); per=$(( taken > 0 ? taken : 1 ))
  end_us=$(field end_of_run_us "$tmp/$mode.json")
  total_snap=$(field total_snapshot_us "$tmp/$mode.json")
  max_snap=$(field max_snapshot_us "$tmp/$mode.json")
  state=$(field last_state_bytes "$tmp/$mode.json")
  printf '| %s | %.1f | %+.0f %% | %d | %.2f ms | %.2f ms | %.0f ms | %.0f MB | %.0f MB |\n' "$mode" "$wall" \
    "$(echo "($wall / $base - 1) * 100" | bc -l)" "$taken" "$(echo "$total_snap / $per / 1000" | bc -l)" \
    "$(echo "$max_snap / 1000" | bc -l)" "$(echo "$end_us / 1000" | bc -l)" \
    "$(echo "$state / 1000000" | bc -l)" "$(echo "$rss / 1048576" | bc -l)"
  rm -rf "$tmp/state-$mode"
done
