#!/usr/bin/env bash
# Tables vs DuckDB: the same sequence of CREATE TABLE / INSERT ... SELECT (from a bounded file
# source) / UPDATE / DELETE statements runs in Weir and in DuckDB; Weir's materialized views,
# created before the data arrived and maintained from the tables' changelogs, must equal
# DuckDB's GROUP BY / join over its final tables. Skips where ../shared is absent.
# Usage: tests/integration/tables_oracle_test.sh [BUILD_DIR]
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
weir="${1:-build}/weir"
oracle=../shared/oracle/duckdb-sql
if [ ! -x "$oracle" ] && [ ! -f "$oracle" ]; then
  skip "tables vs DuckDB" "../shared/oracle/duckdb-sql is absent"
  echo "0 passed, 0 failed"; exit 0
fi
csv="$PWD/tests/data/flights_200.csv"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

weir_setup="CREATE SOURCE flights (date TIMESTAMP, delay BIGINT, distance BIGINT, origin VARCHAR, destination VARCHAR)
WITH (connector = 'file', path = '$csv', format = 'csv', header = 'true');"
duck_setup="CREATE VIEW flights AS SELECT * FROM read_csv('$csv', header = true, columns = {'date': 'TIMESTAMP', 'delay': 'BIGINT', 'distance': 'BIGINT', 'origin': 'VARCHAR', 'destination': 'VARCHAR'});"

tables="CREATE TABLE f (date TIMESTAMP, delay BIGINT, distance BIGINT, origin VARCHAR, destination VARCHAR);
CREATE TABLE airports (code VARCHAR PRIMARY KEY, region VARCHAR NOT NULL, flights BIGINT);"

# Weir only: views over the (still empty) tables, maintained through every statement below.
views="CREATE MATERIALIZED VIEW per_origin AS
  SELECT origin, count(*) AS n, sum(delay) AS delay, min(distance) AS dmin, max(delay) AS dmax FROM f GROUP BY origin;
CREATE MATERIALIZED VIEW by_region AS
  SELECT a.region, count(*) AS n, sum(f.delay) AS delay, count(DISTINCT f.destination) AS dests
  FROM f JOIN airports a ON f.origin = a.code GROUP BY a.region;
CREATE MATERIALIZED VIEW unmatched AS
  SELECT f.origin, f.destination, f.delay FROM f LEFT JOIN airports a ON f.origin = a.code WHERE a.code IS NULL;"

# Identical in both engines.
dml="INSERT INTO f SELECT * FROM flights WHERE delay < 30;
INSERT INTO airports SELECT origin, CASE WHEN origin < 'I' THEN 'east' ELSE 'west' END, count(*) FROM flights GROUP BY origin;
UPDATE f SET delay = delay + 5 WHERE origin IN ('LAS', 'ATL');
DELETE FROM f WHERE distance > 2000;
INSERT INTO f (date, origin, destination, delay) SELECT date, origin, destination, delay FROM flights WHERE delay >= 30 AND delay < 120;
UPDATE airports SET region = 'south' WHERE code LIKE 'S%' OR code LIKE 'M%';
DELETE FROM airports WHERE flights < 3;
UPDATE f SET origin = lower(origin), delay = delay * 2 WHERE delay % 3 = 0;
INSERT INTO airports VALUES ('las', 'lower', 0), ('atl', 'lower', 0);
UPDATE airports SET code = code || 'x' WHERE region = 'east';
DELETE FROM f WHERE destination = 'PHX';
INSERT INTO f SELECT * FROM flights WHERE delay >= 120;"

# compare NAME WEIR_SELECT DUCKDB_SELECT: sorted outputs must be identical.
compare() {
  local name="$1" wq="$2" dq="$3"
  printf '%s\n%s\n%s\n%s\n%s;\n' "$weir_setup" "$tables" "$views" "$dml" "$wq" > "$tmp/$name.sql"
  "$weir" run "$tmp/$name.sql" --format csv ${batch_rows:+--batch-rows "$batch_rows"} > "$tmp/$name.weir" || return 1
  bash "$oracle" "$duck_setup $tables $dml $dq" > "$tmp/$name.duck" || return 1
  head -1 "$tmp/$name.weir" > "$tmp/$name.wh"; head -1 "$tmp/$name.duck" > "$tmp/$name.dh"
  diff "$tmp/$name.wh" "$tmp/$name.dh" || return 1
  tail -n +2 "$tmp/$name.weir" | LC_ALL=C sort > "$tmp/$name.ws"
  tail -n +2 "$tmp/$name.duck" | LC_ALL=C sort > "$tmp/$name.ds"
  local n; n=$(wc -l < "$tmp/$name.ws")
  [ "$n" -gt 0 ] || { echo "no rows"; return 1; }
  diff "$tmp/$name.ws" "$tmp/$name.ds" | head -20
  cmp -s "$tmp/$name.ws" "$tmp/$name.ds" || return 1
  echo "$n rows identical"
}

check "table contents after DML" compare contents "SELECT * FROM f" "SELECT * FROM f"
check "keyed table after key updates" compare airports "SELECT * FROM airports" "SELECT * FROM airports"
check "GROUP BY view over a table" compare per_origin "SELECT * FROM per_origin" \
  "SELECT origin, count(*) AS n, sum(delay) AS delay, min(distance) AS dmin, max(delay) AS dmax FROM f GROUP BY origin"
check "join of two tables, aggregated" compare by_region "SELECT * FROM by_region" \
  "SELECT a.region, count(*) AS n, sum(f.delay) AS delay, count(DISTINCT f.destination) AS dests FROM f JOIN airports a ON f.origin = a.code GROUP BY a.region"
check "outer join (anti) view over tables" compare unmatched "SELECT * FROM unmatched" \
  "SELECT f.origin, f.destination, f.delay FROM f LEFT JOIN airports a ON f.origin = a.code WHERE a.code IS NULL"
batch_rows=1 check "GROUP BY view over a table, 1-row batches" compare per_origin1 "SELECT * FROM per_origin" \
  "SELECT origin, count(*) AS n, sum(delay) AS delay, min(distance) AS dmin, max(delay) AS dmax FROM f GROUP BY origin"
batch_rows=1 check "join of two tables, 1-row batches" compare by_region1 "SELECT * FROM by_region" \
  "SELECT a.region, count(*) AS n, sum(f.delay) AS delay, count(DISTINCT f.destination) AS dests FROM f JOIN airports a ON f.origin = a.code GROUP BY a.region"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
