-- Nexmark q11: user sessions. Bids per bidder in each session (a gap of 10 seconds without a
-- bid ends it).
CREATE SOURCE bid (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'bid', events = '10000000', seed = '42');

CREATE SINK q11 AS
SELECT bidder, count(*) AS bid_count, window_start AS starttime, window_end AS endtime
FROM SESSION(bid, date_time, INTERVAL '10' SECOND)
GROUP BY bidder, window_start, window_end
EMIT ON WINDOW CLOSE
WITH (connector = 'blackhole');
