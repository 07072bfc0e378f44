-- Nexmark q1 over one million events, written to a JSON-lines file you can look at.
CREATE SOURCE bid (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'bid', events = '1000000', seed = '42');

CREATE SINK q1 AS
SELECT auction, bidder, 0.908 * price AS price, date_time FROM bid
WITH (connector = 'file', path = 'data/nexmark_q1.jsonl', format = 'json');
