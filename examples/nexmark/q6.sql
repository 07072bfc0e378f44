-- Nexmark q6: average selling price per seller over their last 10 closed auctions. The winning
-- bid of each auction comes from an interval join (bids between the auction's start and expiry);
-- a Top-10 per seller by expiry keeps the latest auctions, whose final prices are averaged.
CREATE SOURCE auction (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'auction', events = '10000000', seed = '42');
CREATE SOURCE bid (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'bid', events = '10000000', seed = '42');

CREATE MATERIALIZED VIEW q6_winning_bids AS
SELECT A.id, A.seller, A.expires, max(B.price) AS final
FROM auction AS A JOIN bid AS B
  ON A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.expires
GROUP BY A.id, A.seller, A.expires;

CREATE MATERIALIZED VIEW q6 AS
SELECT seller, avg(final) AS avg_final
FROM (SELECT seller, final,
             ROW_NUMBER() OVER (PARTITION BY seller ORDER BY expires DESC, id DESC) AS rn
      FROM q6_winning_bids) AS latest
WHERE rn <= 10
GROUP BY seller;

CREATE SINK q6_out FROM q6 WITH (connector = 'blackhole');
