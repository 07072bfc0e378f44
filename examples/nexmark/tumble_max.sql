-- Highest bid price in each 10-second window (the aggregate of Nexmark q7).
CREATE SOURCE bid (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'bid', events = '10000000', seed = '42');

CREATE SINK max_price AS
SELECT window_start, window_end, max(price) AS top_price, count(*) AS bids
FROM TUMBLE(bid, date_time, INTERVAL '10' SECOND)
GROUP BY window_start, window_end
EMIT ON WINDOW CLOSE
WITH (connector = 'blackhole');
