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
  local q="$1" sink_to_file=1
  # A query whose result is a materialized view (a changelog) is compared by its final contents.
  grep -q "CREATE MATERIALIZED VIEW $q " "examples/nexmark/$q.sql" && sink_to_file=0
  if [ "$sink_to_file" = 1 ]; then
    sed -e "s/events = '10000000'/events = '$events'/" \
        -e "s|WITH (connector = 'blackhole')|WITH (connector = 'file', path = '$tmp/$q.out.csv', format = 'csv')|" \
        "examples/nexmark/$q.sql" > "$tmp/$q.sql"
  else
    sed -e "s/events = '10000000'/events = '$events'/" "examples/nexmark/$q.sql" > "$tmp/$q.sql"
  fi
  for t in person auction bid; do
    if grep -q "CREATE SOURCE $t" "$tmp/$q.sql"; then
      echo "CREATE SINK dump_$t FROM $t WITH (connector = 'file', path = '$tmp/$q.$t.csv', format = 'csv');" >> "$tmp/$q.sql"
    fi
  done
  if [ "$sink_to_file" = 1 ]; then
    "$weir" run "$tmp/$q.sql" || return 1
  else
    echo "SELECT * FROM $q;" >> "$tmp/$q.sql"
    "$weir" run "$tmp/$q.sql" --format csv > "$tmp/$q.out.csv" || return 1
  fi
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
check "q4 average winning bid per category (interval join)" compare q4 "SELECT category, avg(final) FROM (SELECT A.id, A.category, max(B.price) AS final FROM {auction} AS A JOIN {bid} AS B ON A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.expires GROUP BY A.id, A.category) GROUP BY category"
check "q6 average price of each seller's last 10 auctions (interval join + Top-N)" compare q6 "SELECT seller, avg(final) FROM (SELECT seller, final, row_number() OVER (PARTITION BY seller ORDER BY expires DESC, id DESC) AS rn FROM (SELECT A.id, A.seller, A.expires, max(B.price) AS final FROM {auction} AS A JOIN {bid} AS B ON A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.expires GROUP BY A.id, A.seller, A.expires)) WHERE rn <= 10 GROUP BY seller"
check "q9 winning bids (interval join + Top-1)" compare q9 "SELECT id, item_name, description, initial_bid, reserve, date_time, expires, seller, category, auction, bidder, price, bid_date_time FROM (SELECT A.*, B.auction, B.bidder, B.price, B.date_time AS bid_date_time, row_number() OVER (PARTITION BY A.id ORDER BY B.price DESC, B.date_time ASC) AS rownum FROM {auction} AS A, {bid} AS B WHERE A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.expires) WHERE rownum <= 1"
check "q13 lookup join with a bounded side input (table)" compare q13 "SELECT B.auction, B.bidder, B.price, B.date_time, S.value FROM {bid} AS B JOIN read_csv('examples/nexmark/side_input.csv', header = true) AS S ON B.auction % 10000 = S.key"
check "q14 CASE projection" compare q14 "SELECT auction, bidder, CAST(0.908 * price AS DECIMAL(18,3)) AS price, CASE WHEN hour(date_time) >= 8 AND hour(date_time) <= 18 THEN 'dayTime' WHEN hour(date_time) <= 6 OR hour(date_time) >= 20 THEN 'nightTime' ELSE 'otherTime' END AS bid_time_type, date_time FROM {bid} WHERE 0.908 * price > 1000 AND 0.908 * price < 50000000"
check "q17 per-auction daily statistics (changelog view)" compare q17 "SELECT auction, date_trunc('day', date_time) AS day, count(*), count(*) FILTER (WHERE price < 10000), count(*) FILTER (WHERE price >= 10000 AND price < 1000000), count(*) FILTER (WHERE price >= 1000000), min(price), max(price), sum(price) FROM {bid} GROUP BY ALL"
check "q18 last bid per bidder and auction (Top-1)" compare q18 "SELECT auction, bidder, price, channel, date_time FROM (SELECT *, row_number() OVER (PARTITION BY bidder, auction ORDER BY date_time DESC) AS rn FROM {bid}) WHERE rn = 1"
check "q22 split_part" compare q22 "SELECT auction, bidder, price, channel, split_part(url, '/', 4), split_part(url, '/', 5), split_part(url, '/', 6) FROM {bid}"
# Window starts in DuckDB: epoch-aligned buckets of date_time (µs arithmetic, as Weir aligns).
tb() { echo "make_timestamp(epoch_us($1) // ($2 * 1000000) * ($2 * 1000000))"; }
check "q5 hot items (HOP count, max per window, join)" compare q5 "WITH w AS (SELECT auction, make_timestamp((epoch_us(date_time) // 2000000 - k) * 2000000) AS starttime FROM {bid}, range(5) t(k)), ab AS (SELECT auction, starttime, count(*) AS num FROM w GROUP BY ALL), mb AS (SELECT starttime, max(num) AS maxn FROM ab GROUP BY ALL) SELECT ab.auction, ab.num FROM ab JOIN mb USING (starttime) WHERE ab.num >= mb.maxn"
check "q7 highest bid per TUMBLE(10 s)" compare q7 "WITH m AS (SELECT $(tb date_time 10) + INTERVAL 10 SECOND AS window_end, max(price) AS maxprice FROM {bid} GROUP BY ALL) SELECT B.auction, B.price, B.bidder, B.date_time FROM {bid} AS B JOIN m ON B.price = m.maxprice WHERE B.date_time BETWEEN m.window_end - INTERVAL 10 SECOND AND m.window_end"
check "q8 new users (windowed person ⋈ auction)" compare q8 "WITH p AS (SELECT DISTINCT id, name, $(tb date_time 10) AS starttime FROM {person}), a AS (SELECT DISTINCT seller, $(tb date_time 10) AS starttime FROM {auction}) SELECT p.id, p.name, p.starttime FROM p JOIN a ON p.id = a.seller AND p.starttime = a.starttime"
check "q11 user sessions (SESSION 10 s)" compare q11 "WITH s AS (SELECT bidder, date_time, CASE WHEN date_time - lag(date_time) OVER (PARTITION BY bidder ORDER BY date_time) < INTERVAL 10 SECOND THEN 0 ELSE 1 END AS new FROM {bid}), g AS (SELECT bidder, date_time, sum(new) OVER (PARTITION BY bidder ORDER BY date_time ROWS UNBOUNDED PRECEDING) AS sid FROM s) SELECT bidder, count(*), min(date_time), max(date_time) + INTERVAL 10 SECOND FROM g GROUP BY bidder, sid"
# Ties on price are ranked in arrival order (the order of the dumped log), as Weir's Top-N does.
check "q19 ten highest bids per auction (Top-N)" compare q19 "SELECT auction, bidder, price, channel, url, date_time, extra, rank_number FROM (SELECT *, row_number() OVER (PARTITION BY auction ORDER BY price DESC, seq) AS rank_number FROM (SELECT *, row_number() OVER () AS seq FROM {bid})) WHERE rank_number <= 10"
check "q20 bids ⋈ auctions of category 10" compare q20 "SELECT auction, bidder, price, channel, url, B.date_time, item_name, description, initial_bid, reserve, A.date_time, expires, seller, category FROM {bid} AS B JOIN {auction} AS A ON B.auction = A.id WHERE A.category = 10"
# compare_outputs NAME WEIR_SQL DUCKDB_SQL: after run_query (or a custom run), DuckDB evaluates
# WEIR_SQL over Weir's output ({out}: the sink file or view contents) and DUCKDB_SQL over the
# dumped log; the two results must be identical (for invariants of non-deterministic results).
compare_outputs() {
  local q="$1" wsql="$2" sql="$3" t rep
  for t in person auction bid; do
    rep="read_csv('$tmp/$q.$t.csv', header = true)"
    sql="${sql//\{$t\}/$rep}"
  done
  rep="read_csv('$tmp/$q.out.csv', header = true)"
  wsql="${wsql//\{out\}/$rep}"
  bash "$oracle" "$wsql" | tail -n +2 | LC_ALL=C sort > "$tmp/$q.weir"
  bash "$oracle" "$sql" | tail -n +2 | LC_ALL=C sort > "$tmp/$q.duck"
  local n; n=$(wc -l < "$tmp/$q.weir")
  [ "$n" -gt 0 ] || { echo "no rows"; return 1; }
  diff -q "$tmp/$q.weir" "$tmp/$q.duck" >/dev/null || { diff "$tmp/$q.weir" "$tmp/$q.duck" | head; return 1; }
  echo "$n rows identical"
}
# q10 writes Hive-style partitions: every file is dt=<day>/hm=<HH%3AMM>/part-N.csv, and DuckDB
# reading them back with hive_partitioning sees each row under the dt and hm of its date_time.
q10_check() {
  sed -e "s/events = '10000000'/events = '$events'/" -e "s|path = 'data/nexmark_q10'|path = '$tmp/q10'|" \
      examples/nexmark/q10.sql > "$tmp/q10.sql"
  echo "CREATE SINK dump_bid FROM bid WITH (connector = 'file', path = '$tmp/q10.bid.csv', format = 'csv');" >> "$tmp/q10.sql"
  "$weir" run "$tmp/q10.sql" || return 1
  local bad; bad=$(cd "$tmp/q10" && find . -type f | grep -Ev '^\./dt=[0-9]{4}-[0-9]{2}-[0-9]{2}/hm=[0-9]{2}%3A[0-9]{2}/part-[0-9]+\.csv$')
  [ -z "$bad" ] || { echo "unexpected files: $bad" | head; return 1; }
  compare_outputs q10 "SELECT auction, bidder, price, date_time, dt, hm FROM read_csv('$tmp/q10/*/*/*.csv', header = true, hive_partitioning = true, hive_types_autocast = false)" \
    "SELECT auction, bidder, price, date_time, strftime(date_time, '%Y-%m-%d'), strftime(date_time, '%H:%M') FROM {bid}"
}
# q12 counts per processing-time window: which window a bid lands in depends on the wall clock,
# but every bid is counted exactly once, in a 10-second window aligned to the epoch.
q12_check() {
  run_query q12 || return 1
  compare_outputs q12 "SELECT bidder, sum(bid_count), bool_and(endtime - starttime = INTERVAL 10 SECOND AND epoch_us(starttime) % 10000000 = 0 AND starttime > TIMESTAMP '2020-01-01') FROM {out} GROUP BY bidder" \
    "SELECT bidder, count(*), true FROM {bid} GROUP BY bidder"
}
check "q10 partitioned files (to_char, partition_by)" q10_check
check "q12 processing-time windows (PROCTIME(); sum of counts per bidder)" q12_check
bands="count(*) FILTER (WHERE price < 10000), count(*) FILTER (WHERE price >= 10000 AND price < 1000000), count(*) FILTER (WHERE price >= 1000000)"
dbands() { echo "count(DISTINCT $1), count(DISTINCT $1) FILTER (WHERE price < 10000), count(DISTINCT $1) FILTER (WHERE price >= 10000 AND price < 1000000), count(DISTINCT $1) FILTER (WHERE price >= 1000000)"; }
check "q15 daily statistics (count DISTINCT with FILTER)" compare q15 "SELECT strftime(date_time, '%Y-%m-%d'), count(*), $bands, $(dbands bidder), $(dbands auction) FROM {bid} GROUP BY 1"
check "q16 per channel daily statistics" compare q16 "SELECT channel, strftime(date_time, '%Y-%m-%d'), max(strftime(date_time, '%H:%M')), count(*), $bands, $(dbands bidder), $(dbands auction) FROM {bid} GROUP BY 1, 2"
check "q21 channel id (regexp_extract)" compare q21 "SELECT auction, bidder, price, channel, CASE WHEN lower(channel) = 'apple' THEN '0' WHEN lower(channel) = 'google' THEN '1' WHEN lower(channel) = 'facebook' THEN '2' WHEN lower(channel) = 'baidu' THEN '3' ELSE nullif(regexp_extract(url, '(&|^)channel_id=([^&]*)', 2), '') END FROM {bid} WHERE nullif(regexp_extract(url, '(&|^)channel_id=([^&]*)', 2), '') IS NOT NULL OR lower(channel) IN ('apple', 'google', 'facebook', 'baidu')"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
