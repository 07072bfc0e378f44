-- Nexmark q19: the ten highest bids of each auction (Top-N per partition, a changelog view).
CREATE SOURCE bid (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'bid', events = '10000000', seed = '42');

CREATE MATERIALIZED VIEW q19 AS
SELECT * FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) AS rank_number
  FROM bid) b
WHERE rank_number <= 10;

CREATE SINK q19_out FROM q19 WITH (connector = 'blackhole');
