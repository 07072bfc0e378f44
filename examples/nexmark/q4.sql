-- Nexmark q4: average closing price per category. The winning bid of an auction is its highest
-- bid between the auction's start and its expiry (an interval join whose state the watermarks
-- trim); the average of the winning bids is kept per category.
CREATE SOURCE auction (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'auction', events = '10000000', seed = '42');
CREATE SOURCE bid (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'bid', events = '10000000', seed = '42');

CREATE MATERIALIZED VIEW q4_winning_bids AS
SELECT A.id, A.category, max(B.price) AS final
FROM auction AS A JOIN bid AS B
  ON A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.expires
GROUP BY A.id, A.category;

CREATE MATERIALIZED VIEW q4 AS
SELECT category, avg(final) AS avg_final FROM q4_winning_bids GROUP BY category;

CREATE SINK q4_out FROM q4 WITH (connector = 'blackhole');
