-- Nexmark q0: pass-through. Measures the cost of moving bids through the engine.
CREATE SOURCE bid (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'bid', events = '10000000', seed = '42');

CREATE SINK q0 AS
SELECT auction, bidder, price, date_time, extra FROM bid
WITH (connector = 'blackhole');
