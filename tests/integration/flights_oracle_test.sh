#!/usr/bin/env bash
# Compares Weir's results on the 3,000,000 real flights with DuckDB's (an independent engine,
# via ../shared/oracle/duckdb-sql). Skips with a message where ../shared is absent.
# Usage: tests/integration/flights_oracle_test.sh [BUILD_DIR]
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
weir="${1:-build}/weir"
oracle=../shared/oracle/duckdb-sql
if [ ! -x "$oracle" ] && [ ! -f "$oracle" ]; then
  skip "flights vs DuckDB" "../shared/oracle/duckdb-sql is absent"
  echo "0 passed, 0 failed"; exit 0
fi
scripts/get-flights.sh || { echo "0 passed, 1 failed"; exit 1; }
csv="$PWD/data/flights-3m.csv"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

source_sql="CREATE SOURCE flights (date TIMESTAMP, delay BIGINT, distance BIGINT, origin VARCHAR, destination VARCHAR)
WITH (connector = 'file', path = '$csv', format = 'csv', header = 'true');"

# compare NAME WEIR_SELECT DUCKDB_SELECT: both outputs sorted, compared byte for byte.
compare() {
  local name="$1" wq="$2" dq="$3"
  printf '%s\n%s;\n' "$source_sql" "$wq" > "$tmp/$name.sql"
  "$weir" run "$tmp/$name.sql" --format csv > "$tmp/$name.weir" || return 1
  bash "$oracle" "$dq" > "$tmp/$name.duck" || return 1
  head -1 "$tmp/$name.weir" > "$tmp/$name.wh"; head -1 "$tmp/$name.duck" > "$tmp/$name.dh"
  diff "$tmp/$name.wh" "$tmp/$name.dh" || return 1
  tail -n +2 "$tmp/$name.weir" | LC_ALL=C sort > "$tmp/$name.ws"
  tail -n +2 "$tmp/$name.duck" | LC_ALL=C sort > "$tmp/$name.ds"
  local n; n=$(wc -l < "$tmp/$name.ws")
  [ "$n" -gt 0 ] || { echo "no rows"; return 1; }
  diff -q "$tmp/$name.ws" "$tmp/$name.ds" >/dev/null || { diff "$tmp/$name.ws" "$tmp/$name.ds" | head; return 1; }
  echo "$n rows identical"
}
from="read_csv('$csv', header = true, columns = {'date': 'TIMESTAMP', 'delay': 'BIGINT', 'distance': 'BIGINT', 'origin': 'VARCHAR', 'destination': 'VARCHAR'})"

check "filter/projection (long-haul delays)" compare longhaul \
  "SELECT date, origin, destination, distance, delay, CAST(delay AS DOUBLE) / 60 AS delay_hours FROM flights WHERE delay > 60 AND distance >= 1500" \
  "SELECT date, origin, destination, distance, delay, CAST(delay AS DOUBLE) / 60 AS delay_hours FROM $from WHERE delay > 60 AND distance >= 1500"
check "string and time functions" compare funcs \
  "SELECT lower(origin) || '-' || lower(destination) AS route, date_trunc('hour', date) AS hour, extract(dow FROM date) AS dow, delay * distance AS x FROM flights WHERE origin LIKE 'S%' AND destination IN ('JFK', 'LAX', 'ORD')" \
  "SELECT lower(origin) || '-' || lower(destination) AS route, date_trunc('hour', date) AS hour, extract(dow FROM date) AS dow, delay * distance AS x FROM $from WHERE origin LIKE 'S%' AND destination IN ('JFK', 'LAX', 'ORD')"
check "CASE / BETWEEN / arithmetic" compare case \
  "SELECT origin, CASE WHEN delay < 0 THEN 'early' WHEN delay BETWEEN 0 AND 15 THEN 'on time' ELSE 'late' END AS status, distance / 100 AS hundreds, distance % 7 AS m FROM flights WHERE date >= TIMESTAMP '2001-06-30 20:00:00'" \
  "SELECT origin, CASE WHEN delay < 0 THEN 'early' WHEN delay BETWEEN 0 AND 15 THEN 'on time' ELSE 'late' END AS status, distance // 100 AS hundreds, distance % 7 AS m FROM $from WHERE date >= TIMESTAMP '2001-06-30 20:00:00'"
check "example flights_filter sink output" bash -c "
  set -e
  '$weir' run examples/flights_filter.sql > '$tmp/ex.out'
  tail -n +2 data/long_haul_delays.csv | LC_ALL=C sort > '$tmp/ex.ws'
  bash '$oracle' \"SELECT date, origin, destination, distance, delay, CAST(delay AS DOUBLE) / 60 AS delay_hours, date_trunc('day', date) AS day FROM $from WHERE delay > 60 AND distance >= 1500\" | tail -n +2 | LC_ALL=C sort > '$tmp/ex.ds'
  diff -q '$tmp/ex.ws' '$tmp/ex.ds'
  bash '$oracle' \"SELECT date, destination, delay FROM $from WHERE origin = 'SFO' AND extract(hour FROM date) < 5 AND delay > 120 ORDER BY delay DESC, date LIMIT 10\" > '$tmp/ex.top'
  diff '$tmp/ex.top' '$tmp/ex.out'
"
# Event time: windows and aggregates over the whole file, compared with DuckDB's GROUP BY.
wm_source_sql="CREATE SOURCE flights (date TIMESTAMP, delay BIGINT, distance BIGINT, origin VARCHAR, destination VARCHAR,
  WATERMARK FOR date AS date - INTERVAL '5' MINUTE)
WITH (connector = 'file', path = '$csv', format = 'csv', header = 'true');"
compare_view() {  # compare_view NAME VIEW_SQL DUCKDB_SELECT: the view's final contents
  local name="$1" vq="$2" dq="$3"
  printf '%s\n%s;\nSELECT * FROM v;\n' "$wm_source_sql" "$vq" > "$tmp/$name.sql"
  "$weir" run "$tmp/$name.sql" --format csv > "$tmp/$name.weir" || return 1
  bash "$oracle" "$dq" > "$tmp/$name.duck" || return 1
  tail -n +2 "$tmp/$name.weir" | LC_ALL=C sort > "$tmp/$name.ws"
  tail -n +2 "$tmp/$name.duck" | LC_ALL=C sort > "$tmp/$name.ds"
  local n; n=$(wc -l < "$tmp/$name.ws")
  [ "$n" -gt 0 ] || { echo "no rows"; return 1; }
  diff -q "$tmp/$name.ws" "$tmp/$name.ds" >/dev/null || { diff "$tmp/$name.ws" "$tmp/$name.ds" | head; return 1; }
  echo "$n rows identical"
}
check "TUMBLE hourly per origin, EMIT ON WINDOW CLOSE" compare_view tumble \
  "CREATE MATERIALIZED VIEW v AS SELECT origin, window_start, window_end, count(*) AS flights, round(avg(delay), 6) AS avg_delay, sum(distance) AS miles, min(delay) AS lo, max(delay) AS hi FROM TUMBLE(flights, date, INTERVAL '1' HOUR) GROUP BY origin, window_start, window_end EMIT ON WINDOW CLOSE" \
  "SELECT origin, date_trunc('hour', date) AS window_start, date_trunc('hour', date) + INTERVAL 1 HOUR AS window_end, count(*) AS flights, round(avg(delay), 6) AS avg_delay, sum(distance) AS miles, min(delay) AS lo, max(delay) AS hi FROM $from GROUP BY ALL"
check "TUMBLE daily, EMIT ON UPDATE (changelog view)" compare_view tumble_upd \
  "CREATE MATERIALIZED VIEW v AS SELECT destination, window_start, count(*) AS n, count(DISTINCT origin) AS origins, sum(delay) FILTER (WHERE delay > 0) AS late_minutes FROM TUMBLE(flights, date, INTERVAL '1' DAY) GROUP BY destination, window_start, window_end" \
  "SELECT destination, date_trunc('day', date) AS window_start, count(*) AS n, count(DISTINCT origin) AS origins, sum(delay) FILTER (WHERE delay > 0) AS late_minutes FROM $from GROUP BY ALL"
check "HOP 30 minutes every 10 minutes" compare_view hop \
  "CREATE MATERIALIZED VIEW v AS SELECT window_start, window_end, count(*) AS n, max(distance) AS longest FROM HOP(flights, date, INTERVAL '10' MINUTE, INTERVAL '30' MINUTE) GROUP BY window_start, window_end EMIT ON WINDOW CLOSE" \
  "SELECT time_bucket(INTERVAL 10 MINUTE, date) - k * INTERVAL 10 MINUTE AS window_start, time_bucket(INTERVAL 10 MINUTE, date) - k * INTERVAL 10 MINUTE + INTERVAL 30 MINUTE AS window_end, count(*) AS n, max(distance) AS longest FROM $from, range(3) t(k) GROUP BY ALL"
check "SESSION per origin, 30-minute gap" compare_view session \
  "CREATE MATERIALIZED VIEW v AS SELECT origin, window_start, window_end, count(*) AS n, sum(delay) AS d FROM SESSION(flights, date, INTERVAL '30' MINUTE) GROUP BY origin, window_start, window_end EMIT ON WINDOW CLOSE" \
  "WITH x AS (SELECT origin, date, delay, CASE WHEN date - lag(date) OVER (PARTITION BY origin ORDER BY date) < INTERVAL 30 MINUTE THEN 0 ELSE 1 END AS new FROM $from), y AS (SELECT origin, date, delay, sum(new) OVER (PARTITION BY origin ORDER BY date ROWS UNBOUNDED PRECEDING) AS sid FROM x) SELECT origin, min(date) AS window_start, max(date) + INTERVAL 30 MINUTE AS window_end, count(*) AS n, sum(delay) AS d FROM y GROUP BY origin, sid"
check "FULL JOIN of two changelog views" compare_view join \
  "CREATE MATERIALIZED VIEW o AS SELECT origin AS airport, count(*) AS departures, max(delay) AS worst FROM flights WHERE distance > 2000 GROUP BY origin; CREATE MATERIALIZED VIEW d AS SELECT destination AS airport, count(*) AS arrivals FROM flights WHERE delay > 120 GROUP BY destination; CREATE MATERIALIZED VIEW v AS SELECT o.airport AS a, d.airport AS b, departures, worst, arrivals FROM o FULL JOIN d ON o.airport = d.airport" \
  "WITH o AS (SELECT origin AS airport, count(*) AS departures, max(delay) AS worst FROM $from WHERE distance > 2000 GROUP BY origin), d AS (SELECT destination AS airport, count(*) AS arrivals FROM $from WHERE delay > 120 GROUP BY destination) SELECT o.airport AS a, d.airport AS b, departures, worst, arrivals FROM o FULL JOIN d ON o.airport = d.airport"
check "inner join of a source with a view" compare_view join2 \
  "CREATE MATERIALIZED VIEW busy AS SELECT origin, count(*) AS n FROM flights GROUP BY origin; CREATE MATERIALIZED VIEW v AS SELECT f.origin, f.destination, f.delay, b.n FROM flights f JOIN busy b ON f.origin = b.origin WHERE f.delay > 300 AND f.distance > 2500" \
  "WITH busy AS (SELECT origin, count(*) AS n FROM $from GROUP BY origin) SELECT f.origin, f.destination, f.delay, b.n FROM $from f JOIN busy b ON f.origin = b.origin WHERE f.delay > 300 AND f.distance > 2500"
check "unbounded GROUP BY (changelog)" compare_view groupby \
  "CREATE MATERIALIZED VIEW v AS SELECT origin, destination, count(*) AS n, sum(delay) AS total_delay, min(distance) AS d FROM flights GROUP BY origin, destination" \
  "SELECT origin, destination, count(*) AS n, sum(delay) AS total_delay, min(distance) AS d FROM $from GROUP BY ALL"
check "interval self-join (next departures 1-3 minutes after a long delay), state trimmed" compare_view interval \
  "CREATE MATERIALIZED VIEW v AS SELECT a.date, a.origin, a.delay, b.date AS next_date, b.destination FROM flights a JOIN flights b ON a.origin = b.origin AND b.date BETWEEN a.date + INTERVAL '1' MINUTE AND a.date + INTERVAL '3' MINUTE WHERE a.delay > 600" \
  "SELECT a.date, a.origin, a.delay, b.date AS next_date, b.destination FROM $from a JOIN $from b ON a.origin = b.origin AND b.date BETWEEN a.date + INTERVAL 1 MINUTE AND a.date + INTERVAL 3 MINUTE WHERE a.delay > 600"
check "ASOF JOIN (latest earlier flight bound for each delayed departure's origin)" compare_view asof \
  "CREATE MATERIALIZED VIEW v AS SELECT f.date, f.origin, f.destination, f.delay, g.date AS inbound_date FROM flights f ASOF JOIN flights g ON f.origin = g.destination AND f.date > g.date WHERE f.delay > 600" \
  "SELECT f.date, f.origin, f.destination, f.delay, g.date AS inbound_date FROM $from f ASOF JOIN $from g ON f.origin = g.destination AND f.date > g.date WHERE f.delay > 600"
check "ASOF LEFT JOIN" compare_view asof_left \
  "CREATE MATERIALIZED VIEW v AS SELECT f.date, f.origin, f.delay, g.date AS inbound_date FROM flights f ASOF LEFT JOIN flights g ON f.origin = g.destination AND f.date >= g.date WHERE f.delay > 900" \
  "SELECT f.date, f.origin, f.delay, g.date AS inbound_date FROM $from f ASOF LEFT JOIN $from g ON f.origin = g.destination AND f.date >= g.date WHERE f.delay > 900"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
