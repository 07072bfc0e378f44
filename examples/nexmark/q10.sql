-- Nexmark q10: log to the file system. Every bid, written to CSV files partitioned Hive-style
-- by day and minute (data/nexmark_q10/dt=2015-07-15/hm=00%3A00/part-0.csv; ':' is escaped as
-- Hive and Flink do). The partition columns are in the directory names, not in the files.
-- PostgreSQL's to_char: 'HH24:MI' is Flink's DATE_FORMAT 'HH:mm' (to_char's HH is 12-hour).
CREATE SOURCE bid (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'bid', events = '10000000', seed = '42');

CREATE SINK q10 AS
SELECT auction, bidder, price, date_time,
       to_char(date_time, 'YYYY-MM-DD') AS dt, to_char(date_time, 'HH24:MI') AS hm
FROM bid
WITH (connector = 'file', path = 'data/nexmark_q10', format = 'csv', partition_by = 'dt,hm');
