-- Nexmark q3: local item suggestion. Who is selling in OR, ID or CA in category 10, and for
-- what auction ids? A streaming join of the auction and person streams.
CREATE SOURCE person (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'person', events = '10000000', seed = '42');
CREATE SOURCE auction (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'auction', events = '10000000', seed = '42');

CREATE SINK q3 AS
SELECT P.name, P.city, P.state, A.id
FROM auction AS A INNER JOIN person AS P ON A.seller = P.id
WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA')
WITH (connector = 'blackhole');
