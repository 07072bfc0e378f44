-- Nexmark q13: join the bid stream with a bounded side input — a table loaded from a file —
-- looked up as of each bid's processing time (FOR SYSTEM_TIME AS OF PROCTIME()).
CREATE SOURCE bid (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'bid', events = '10000000', seed = '42');

CREATE SOURCE side_input_file (key BIGINT, value VARCHAR)
WITH (connector = 'file', path = 'examples/nexmark/side_input.csv', format = 'csv', header = 'true');
CREATE TABLE side_input (key BIGINT PRIMARY KEY, value VARCHAR);
INSERT INTO side_input SELECT key, value FROM side_input_file;

CREATE SINK q13 AS
SELECT B.auction, B.bidder, B.price, B.date_time, S.value
FROM bid AS B JOIN side_input FOR SYSTEM_TIME AS OF PROCTIME() AS S ON B.auction % 10000 = S.key
WITH (connector = 'blackhole');
