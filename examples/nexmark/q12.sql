-- Nexmark q12: processing-time windows. Bids per bidder in 10-second tumbling windows of the
-- wall clock (PROCTIME()). The result depends on how fast the bids are processed; a window
-- closes when the clock passes its end and the next batch arrives, or at the end of the input.
CREATE SOURCE bid (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'bid', events = '10000000', seed = '42');

CREATE SINK q12 AS
SELECT bidder, count(*) AS bid_count, window_start AS starttime, window_end AS endtime
FROM TUMBLE(bid, PROCTIME(), INTERVAL '10' SECOND)
GROUP BY bidder, window_start, window_end
EMIT ON WINDOW CLOSE
WITH (connector = 'blackhole');
