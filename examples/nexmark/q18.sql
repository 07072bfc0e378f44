-- Nexmark q18: the last bid of each bidder on each auction (deduplication with ROW_NUMBER()).
CREATE SOURCE bid (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'bid', events = '10000000', seed = '42');

CREATE MATERIALIZED VIEW q18 AS
SELECT auction, bidder, price, channel, date_time FROM (
  SELECT auction, bidder, price, channel, date_time,
         ROW_NUMBER() OVER (PARTITION BY bidder, auction ORDER BY date_time DESC) AS rank_number
  FROM bid) b
WHERE rank_number <= 1;

CREATE SINK q18_out FROM q18 WITH (connector = 'blackhole');
