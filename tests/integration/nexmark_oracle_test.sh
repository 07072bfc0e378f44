#!/usr/bin/env bash
# Nexmark queries on the generator, checked against DuckDB running the batch equivalent over the
# same event log dumped to CSV by Weir's own file sinks in the same run.
# Usage: tests/integration/nexmark_oracle_test.sh [BUILD_DIR] [EVENTS]
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
weir="${1:-build}/weir"
events="${2:-200000}"
oracle=../shared/oracle/duckdb-sql
if [ ! -f "$oracle" ]; then
  skip "nexmark vs DuckDB" "../shared/oracle/duckdb-sql is absent"
  echo "0 passed, 0 failed"; exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# run_query NAME: examples/nexmark/NAME.sql with EVENTS events, its blackhole sink replaced by a
# CSV file, plus the event log dumped to CSV.
run_query() {
  local q="$1"
  sed -e "s/events = '10000000'/events = '$events'/" \
      -e "s|WITH (connector = 'blackhole')|WITH (connector = 'file', path = '$tmp/$q.out.csv', format = 'csv')|" \
      "examples/nexmark/$q.sql" > "$tmp/$q.sql"
  for t in person auction bid; do
    if grep -q "CREATE SOURCE $t" "$tmp/$q.sql"; then
      echo "CREATE SINK dump_$t FROM $t WITH (connector = 'file', path = '$tmp/$q.$t.csv', format = 'csv');" >> "$tmp/$q.sql"
    fi
  done
  "$weir" run "$tmp/$q.sql" || return 1
}
compare() {  # compare NAME DUCKDB_SQL (use {person}, {auction}, {bid} for the dumped tables)
  local q="$1" sql="$2"
  run_query "$q" || return 1
  local t rep
  for t in person auction bid; do
    rep="read_csv('$tmp/$q.$t.csv', header = true)"
    sql="${sql//\{$t\}/$rep}"
  done
  bash "$oracle" "$sql" | tail -n +2 | LC_ALL=C sort > "$tmp/$q.duck"
  tail -n +2 "$tmp/$q.out.csv" | LC_ALL=C sort > "$tmp/$q.weir"
  local n; n=$(wc -l < "$tmp/$q.weir")
  [ "$n" -gt 0 ] || { echo "no rows"; return 1; }
  diff -q "$tmp/$q.weir" "$tmp/$q.duck" >/dev/null || { diff "$tmp/$q.weir" "$tmp/$q.duck" | head; return 1; }
  echo "$n rows identical"
}

check "q0 pass-through" compare q0 "SELECT auction, bidder, price, date_time, extra FROM {bid}"
check "q1 currency conversion" compare q1 "SELECT auction, bidder, CAST(0.908 * price AS DECIMAL(18,3)) AS price, date_time, extra FROM {bid}"
check "q2 selection" compare q2 "SELECT auction, price FROM {bid} WHERE auction % 123 = 0"
check "q3 join" compare q3 "SELECT P.name, P.city, P.state, A.id FROM {auction} AS A JOIN {person} AS P ON A.seller = P.id WHERE A.category = 10 AND P.state IN ('OR', 'ID', 'CA')"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
