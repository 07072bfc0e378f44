-- Bids per auction in 10-second windows sliding every 2 seconds (the heart of Nexmark q5).
CREATE SOURCE bid (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'bid', events = '10000000', seed = '42');

CREATE SINK bids_per_auction AS
SELECT auction, window_start, window_end, count(*) AS bids
FROM HOP(bid, date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND)
GROUP BY auction, window_start, window_end
EMIT ON WINDOW CLOSE
WITH (connector = 'blackhole');
