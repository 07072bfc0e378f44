-- Nexmark q1: currency conversion (dollars to euros), exact DECIMAL arithmetic.
CREATE SOURCE bid (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'bid', events = '10000000', seed = '42');

CREATE SINK q1 AS
SELECT auction, bidder, 0.908 * price AS price, date_time, extra FROM bid
WITH (connector = 'blackhole');
