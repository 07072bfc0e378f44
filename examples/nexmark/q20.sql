-- Nexmark q20: expand bids with the auction they are on, for auctions in category 10
-- (a streaming join of the bid and auction streams).
CREATE SOURCE bid (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'bid', events = '10000000', seed = '42');
CREATE SOURCE auction (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'auction', events = '10000000', seed = '42');

CREATE SINK q20 AS
SELECT auction, bidder, price, channel, url, B.date_time AS bid_date_time,
       item_name, description, initial_bid, reserve, A.date_time AS auction_date_time,
       expires, seller, category
FROM bid AS B INNER JOIN auction AS A ON B.auction = A.id
WHERE A.category = 10
WITH (connector = 'blackhole');
