-- Nexmark q17: per auction and day, bid counts by price band and price statistics
-- (an unbounded GROUP BY: a changelog).
CREATE SOURCE bid (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'bid', events = '10000000', seed = '42');

CREATE MATERIALIZED VIEW q17 AS
SELECT auction, date_trunc('day', date_time) AS day, count(*) AS total_bids,
       count(*) FILTER (WHERE price < 10000) AS rank1_bids,
       count(*) FILTER (WHERE price >= 10000 AND price < 1000000) AS rank2_bids,
       count(*) FILTER (WHERE price >= 1000000) AS rank3_bids,
       min(price) AS min_price, max(price) AS max_price, sum(price) AS sum_price
FROM bid GROUP BY auction, date_trunc('day', date_time);

CREATE SINK q17_out FROM q17 WITH (connector = 'blackhole');
