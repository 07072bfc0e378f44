#!/usr/bin/env bash
# End-to-end checks of `weir run`: exit codes, error positions, on_error policies, stats JSON,
# output formats, Nexmark examples. Usage: tests/integration/cli_test.sh [BUILD_DIR]
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
weir="${1:-build}/weir"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

sql_error() {
  printf 'CREATE SOURCE s (a BIGINT) WITH (connector = %s, path = %s, format = %s);\nSELECT b\n  FROM s;\n' \
    "'file'" "'tests/data/bad.csv'" "'csv'" > "$tmp/err.sql"
  if "$weir" run "$tmp/err.sql" 2> "$tmp/err.txt"; then echo "exit 0 on a bad query"; return 1; fi
  grep -q '^error: 2:8: column "b" does not exist' "$tmp/err.txt" || { cat "$tmp/err.txt"; return 1; }
}
check "sql error prints line:column and exits non-zero" sql_error

bad_data() {
  local policy="$1" dl=""
  [ "$policy" = dead_letter ] && dl=", dead_letter_path = '$tmp/dead.jsonl'"
  cat > "$tmp/bad.sql" <<SQL
CREATE SOURCE s (id BIGINT, amount BIGINT) WITH (connector = 'file', path = 'tests/data/bad.csv',
  format = 'csv', header = 'true', on_error = '$policy'$dl);
CREATE SINK o FROM s WITH (connector = 'file', path = '$tmp/out.csv', format = 'csv');
SQL
  "$weir" run "$tmp/bad.sql" --stats-json "$tmp/stats.json" 2> "$tmp/bad.txt"
}
fail_policy() {
  if bad_data fail; then echo "exit 0 with on_error=fail"; return 1; fi
  grep -q 'bad.csv:3:' "$tmp/bad.txt" || { cat "$tmp/bad.txt"; return 1; }
}
check "on_error=fail stops with file:line" fail_policy
skip_policy() {
  bad_data skip || { cat "$tmp/bad.txt"; return 1; }
  [ "$(grep -c . "$tmp/out.csv")" = 4 ] || { cat "$tmp/out.csv"; return 1; }  # header + 3 good rows
  grep -q '"rows_skipped": 2' "$tmp/stats.json" || { cat "$tmp/stats.json"; return 1; }
}
check "on_error=skip counts and continues" skip_policy
dead_letter_policy() {
  rm -f "$tmp/dead.jsonl"
  bad_data dead_letter || { cat "$tmp/bad.txt"; return 1; }
  [ "$(wc -l < "$tmp/dead.jsonl")" = 2 ] || { cat "$tmp/dead.jsonl"; return 1; }
  grep -q '"line":3' "$tmp/dead.jsonl" || grep -q '"line": 3' "$tmp/dead.jsonl" || { cat "$tmp/dead.jsonl"; return 1; }
  grep -q '"rows_dead_letter": 2' "$tmp/stats.json" || { cat "$tmp/stats.json"; return 1; }
}
check "on_error=dead_letter writes raw line and reason" dead_letter_policy

formats() {
  cat > "$tmp/fmt.sql" <<'SQL'
CREATE SOURCE e (id BIGINT, ts TIMESTAMP, name VARCHAR, amount INT, price DECIMAL(10,2), ok BOOLEAN, note VARCHAR)
WITH (connector = 'file', path = 'tests/data/events.csv', format = 'csv', header = 'true');
SELECT id, name, note FROM e WHERE id IN (1, 2);
SQL
  "$weir" run "$tmp/fmt.sql" --format csv > "$tmp/o.csv" || return 1
  printf 'id,name,note\n1,alpha,plain\n2,beta,"quoted, with comma"\n' | diff - "$tmp/o.csv" || return 1
  "$weir" run "$tmp/fmt.sql" --format json > "$tmp/o.json" || return 1
  grep -q '^{"id":2,"name":"beta","note":"quoted, with comma"}$' "$tmp/o.json" || { cat "$tmp/o.json"; return 1; }
  "$weir" run "$tmp/fmt.sql" --format table > "$tmp/o.txt" || return 1
  grep -q '(2 rows)' "$tmp/o.txt" || { cat "$tmp/o.txt"; return 1; }
}
check "--format csv|json|table" formats

nexmark() {
  local q="$1"
  sed "s/events = '10000000'/events = '200000'/" "examples/nexmark/$q.sql" > "$tmp/$q.sql"
  "$weir" run "$tmp/$q.sql" --stats-json "$tmp/$q.json" || return 1
  grep -q '"events_read": [1-9]' "$tmp/$q.json" || { cat "$tmp/$q.json"; return 1; }
  grep -q '"rows_written": [1-9]' "$tmp/$q.json" || { cat "$tmp/$q.json"; return 1; }
}
for q in q0 q1 q2; do check "nexmark $q example runs" nexmark "$q"; done

stats_fields() {
  "$weir" run examples/nexmark/q1_to_file.sql --stats-json "$tmp/s.json" || return 1
  for f in events_read rows_written wall_seconds cpu_seconds peak_rss_bytes; do
    grep -q "\"$f\"" "$tmp/s.json" || { echo "missing $f"; cat "$tmp/s.json"; return 1; }
  done
  [ "$(wc -l < data/nexmark_q1.jsonl)" -gt 100000 ] || return 1
}
check "--stats-json fields and nexmark q1 to a file" stats_fields

follow_mode() {
  printf 'id,v\n1,a\n' > "$tmp/grow.csv"
  cat > "$tmp/follow.sql" <<SQL
CREATE SOURCE g (id BIGINT, v VARCHAR) WITH (connector = 'file', path = '$tmp/grow.csv', format = 'csv',
  header = 'true', follow = 'true');
CREATE SINK o FROM g WITH (connector = 'file', path = '$tmp/follow_out.csv', format = 'csv');
SQL
  "$weir" run "$tmp/follow.sql" & local pid=$!
  sleep 1; printf '2,b\n3,c\n' >> "$tmp/grow.csv"; sleep 1
  kill -INT "$pid"; wait "$pid"; local rc=$?
  [ "$rc" = 0 ] || [ "$rc" = 130 ] || { echo "rc=$rc"; return 1; }
  [ "$(grep -c . "$tmp/follow_out.csv")" = 4 ] || { cat "$tmp/follow_out.csv"; return 1; }
}
check "follow = 'true' tails a growing file until SIGINT" follow_mode

late_counts() {
  cat > "$tmp/late.sql" <<'SQL'
CREATE SOURCE ev (id BIGINT, ts TIMESTAMP, v BIGINT, WATERMARK FOR ts AS ts - INTERVAL '30' SECOND)
WITH (connector = 'file', path = 'tests/data/late.csv', format = 'csv', header = 'true');
CREATE MATERIALIZED VIEW strict AS SELECT window_start, count(*) AS n FROM TUMBLE(ev, ts, INTERVAL '1' MINUTE)
GROUP BY window_start, window_end EMIT ON WINDOW CLOSE;
CREATE MATERIALIZED VIEW lenient WITH (allowed_lateness = '1 minute') AS SELECT window_start, count(*) AS n
FROM TUMBLE(ev, ts, INTERVAL '1' MINUTE) GROUP BY window_start, window_end EMIT ON WINDOW CLOSE;
SQL
  "$weir" run "$tmp/late.sql" --stats-json "$tmp/late.json" --batch-rows "$1" || return 1
  tr -d '\n' < "$tmp/late.json" | grep -q '"strict": {"rows": 4,[^}]*"rows_late_dropped": 2' || { cat "$tmp/late.json"; return 1; }
  tr -d '\n' < "$tmp/late.json" | grep -q '"lenient": {"rows": 5,[^}]*"rows_late_dropped": 1' || { cat "$tmp/late.json"; return 1; }
  grep -q '"watermark": "final"' "$tmp/late.json" || return 1
}
check "late rows are counted in --stats-json (batch 4096)" late_counts 4096
check "late rows are counted in --stats-json (batch 1)" late_counts 1

# Tables: psql command tags in table output, DML errors with line:column, and a join of a
# watermarked stream with a table whose output watermark is not held back by the table.
tables_cli() {
  cat > "$tmp/tables.sql" <<'SQL'
CREATE TABLE t (id BIGINT PRIMARY KEY, name VARCHAR);
INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c');
UPDATE t SET name = upper(name) WHERE id > 1;
DELETE FROM t WHERE id = 3;
CREATE SOURCE e (id BIGINT, ts TIMESTAMP, name VARCHAR, amount INT, price DECIMAL(10,2), ok BOOLEAN, note VARCHAR,
  WATERMARK FOR ts AS ts) WITH (connector = 'file', path = 'tests/data/events.csv', format = 'csv', header = 'true');
CREATE MATERIALIZED VIEW j AS SELECT e.id, e.ts, t.name FROM e JOIN t ON e.id = t.id;
SELECT * FROM j ORDER BY id;
SQL
  "$weir" run "$tmp/tables.sql" --format table --stats-json "$tmp/tables.json" > "$tmp/tables.out" || return 1
  grep -qx 'INSERT 0 3' "$tmp/tables.out" && grep -qx 'UPDATE 2' "$tmp/tables.out" &&
    grep -qx 'DELETE 1' "$tmp/tables.out" || { cat "$tmp/tables.out"; return 1; }
  # The join's watermark is the stream's final one, not "none" (the table has no watermark).
  grep -A3 '"HashJoin' "$tmp/tables.json" | grep -q '"watermark": "final"\|9223372036854775807' ||
    { cat "$tmp/tables.json"; return 1; }
  "$weir" run "$tmp/tables.sql" --format csv > "$tmp/tables.csv" || return 1
  ! grep -q INSERT "$tmp/tables.csv" || { echo "command tag in csv output"; return 1; }
  printf 'CREATE TABLE t (a INT PRIMARY KEY);
INSERT INTO t VALUES (1);
INSERT INTO t
  VALUES (1);
' > "$tmp/dup.sql"
  if "$weir" run "$tmp/dup.sql" 2> "$tmp/dup.txt"; then echo "exit 0 on a duplicate key"; return 1; fi
  grep -q '^error: 3:1: duplicate key value violates primary key of table "t": Key (a)=(1) already exists' "$tmp/dup.txt" ||
    { cat "$tmp/dup.txt"; return 1; }
}
check "tables: command tags, DML errors, join watermark past a table" tables_cli

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
