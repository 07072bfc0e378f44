-- Nexmark q5: hot items. Which auctions got the most bids in each 10-second window sliding
-- every 2 seconds? Two aggregations (bids per auction and window, then the maximum per window)
-- are two materialized views, joined back on the window start.
CREATE SOURCE bid (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'bid', events = '10000000', seed = '42');

CREATE MATERIALIZED VIEW q5_auction_bids AS
SELECT auction, window_start AS starttime, count(*) AS num
FROM HOP(bid, date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND)
GROUP BY auction, window_start, window_end
EMIT ON WINDOW CLOSE;

CREATE MATERIALIZED VIEW q5_max_bids AS
SELECT starttime, max(num) AS maxn FROM q5_auction_bids GROUP BY starttime;

CREATE MATERIALIZED VIEW q5 AS
SELECT A.auction, A.num
FROM q5_auction_bids AS A JOIN q5_max_bids AS M ON A.starttime = M.starttime
WHERE A.num >= M.maxn;

CREATE SINK q5_out FROM q5 WITH (connector = 'blackhole');
