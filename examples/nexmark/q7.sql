-- Nexmark q7: highest bid. The bids carrying the highest price of their 10-second tumbling
-- window: the per-window maximum (a view, final at window close) joined back to the bids.
CREATE SOURCE bid (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'bid', events = '10000000', seed = '42');

CREATE MATERIALIZED VIEW q7_max_price AS
SELECT window_start, window_end, max(price) AS maxprice
FROM TUMBLE(bid, date_time, INTERVAL '10' SECOND)
GROUP BY window_start, window_end
EMIT ON WINDOW CLOSE;

CREATE MATERIALIZED VIEW q7 AS
SELECT B.auction, B.price, B.bidder, B.date_time
FROM bid AS B JOIN q7_max_price AS M ON B.price = M.maxprice
WHERE B.date_time BETWEEN M.window_end - INTERVAL '10' SECOND AND M.window_end;

CREATE SINK q7_out FROM q7 WITH (connector = 'blackhole');
