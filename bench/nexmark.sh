#!/usr/bin/env bash
# Nexmark runner: every examples/nexmark/qN.sql, one after the other, on one core, over EVENTS
# events of the generator (default 10 M), printing a Markdown table: query, events/s (the
# stream's events, all three tables, over wall time: the generator is included), wall seconds,
# CPU seconds and peak RSS, as reported by `weir run --stats-json`.
# Sinks are the examples' blackhole sinks, except q10, whose point is writing partitioned files:
# it writes them into a temporary directory (removed at the end).
# Usage: bench/nexmark.sh [EVENTS] [QUERY...]     (e.g. bench/nexmark.sh 2000000 q5 q7)
# Needs build/weir (scripts/build.sh). Runs `taskset -c 0` when taskset exists.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
events="${1:-10000000}"
shift || true
weir=build/weir
[ -x "$weir" ] || { echo "nexmark.sh: $weir is missing; run scripts/build.sh" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pin=(); command -v taskset >/dev/null 2>&1 && pin=(taskset -c 0)
if [ $# -gt 0 ]; then queries=("$@"); else
  mapfile -t queries < <(ls examples/nexmark/ | grep -E '^q[0-9]+\.sql$' | sed 's/\.sql$//' | sort -V)
fi

echo "Machine: $(machine); $events events, seed 42, one core"
echo
echo "| query | events/s | wall s | CPU s | peak RSS |"
echo "|---|---:|---:|---:|---:|"
for q in "${queries[@]}"; do
  sed -e "s/events = '10000000'/events = '$events'/" \
      -e "s|path = 'data/nexmark_q10'|path = '$tmp/q10'|" "examples/nexmark/$q.sql" > "$tmp/$q.sql"
  if ! "${pin[@]}" "$weir" run "$tmp/$q.sql" --stats-json "$tmp/$q.json" > "$tmp/$q.log" 2>&1; then
    printf '| %s | failed: %s | | | |\n' "$q" "$(tail -1 "$tmp/$q.log")"
    continue
  fi
  rm -rf "$tmp/q10"
  wall=$(field wall_seconds "$tmp/$q.json")
  cpu=$(field cpu_seconds "$tmp/$q.json")
  rss=$(field peak_rss_bytes "$tmp/$q.json")
  printf '| %s | %.2f M | %.2f | %.2f | %.0f MB |\n' "$q" "$(echo "$events / $wall / 1000000" | bc -l)" \
    "$wall" "$cpu" "$(echo "$rss / 1048576" | bc -l)"
done
