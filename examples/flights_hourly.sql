-- Hourly flights and average delay per origin airport, final once each hour closes
-- (EMIT ON WINDOW CLOSE), over 3,000,000 real flights. Get the data: scripts/get-flights.sh
CREATE SOURCE flights (
    date TIMESTAMP, delay BIGINT, distance BIGINT, origin VARCHAR, destination VARCHAR,
    WATERMARK FOR date AS date - INTERVAL '5' MINUTE
) WITH (connector = 'file', path = 'data/flights-3m.csv', format = 'csv', header = 'true');

CREATE MATERIALIZED VIEW hourly AS
SELECT origin, window_start, window_end, count(*) AS flights, avg(delay) AS avg_delay
FROM TUMBLE(flights, date, INTERVAL '1' HOUR)
GROUP BY origin, window_start, window_end
EMIT ON WINDOW CLOSE;

CREATE SINK hourly_out FROM hourly
WITH (connector = 'file', path = 'data/hourly.csv', format = 'csv');

-- The busiest airport-hours of the half year.
SELECT origin, window_start, flights, avg_delay FROM hourly ORDER BY flights DESC, window_start LIMIT 5;
