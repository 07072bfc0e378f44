-- Nexmark q8: monitor new users. People who created an account and opened an auction in the
-- same 10-second tumbling window: both streams grouped per window (final at window close),
-- joined on the person id = seller and the window.
CREATE SOURCE person (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'person', events = '10000000', seed = '42');
CREATE SOURCE auction (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
WITH (connector = 'nexmark', table = 'auction', events = '10000000', seed = '42');

CREATE MATERIALIZED VIEW q8_person AS
SELECT id, name, window_start AS starttime, window_end AS endtime
FROM TUMBLE(person, date_time, INTERVAL '10' SECOND)
GROUP BY id, name, window_start, window_end
EMIT ON WINDOW CLOSE;

CREATE MATERIALIZED VIEW q8_auction AS
SELECT seller, window_start AS starttime, window_end AS endtime
FROM TUMBLE(auction, date_time, INTERVAL '10' SECOND)
GROUP BY seller, window_start, window_end
EMIT ON WINDOW CLOSE;

CREATE MATERIALIZED VIEW q8 AS
SELECT P.id, P.name, P.starttime
FROM q8_person AS P JOIN q8_auction AS A
  ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime;

CREATE SINK q8_out FROM q8 WITH (connector = 'blackhole');
