-- Nexmark q2: selection of the bids on a set of auctions.
CREATE SOURCE bid (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'bid', events = '10000000', seed = '42');

CREATE SINK q2 AS
SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0
WITH (connector = 'blackhole');
