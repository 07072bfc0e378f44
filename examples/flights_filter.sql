-- Flights: filter and projection over 3,000,000 real US flights (CSV in, CSV out).
-- Get the data first: scripts/get-flights.sh   (writes data/flights-3m.csv)
-- Run from the repository root:  build/weir run examples/flights_filter.sql

CREATE SOURCE flights (
    date TIMESTAMP, delay BIGINT, distance BIGINT, origin VARCHAR, destination VARCHAR,
    WATERMARK FOR date AS date - INTERVAL '5' MINUTE
) WITH (connector = 'file', path = 'data/flights-3m.csv', format = 'csv', header = 'true');

-- Long-haul flights that left more than an hour late, with the delay in hours.
CREATE SINK long_haul_delays AS
SELECT date, origin, destination, distance, delay,
       CAST(delay AS DOUBLE) / 60 AS delay_hours,
       date_trunc('day', date) AS day
FROM flights
WHERE delay > 60 AND distance >= 1500
WITH (connector = 'file', path = 'data/long_haul_delays.csv', format = 'csv');

-- A materialized view of the same kind of rows, queried below once the file has been read.
CREATE MATERIALIZED VIEW sfo_red_eyes AS
SELECT date, destination, delay
FROM flights
WHERE origin = 'SFO' AND extract(hour FROM date) < 5 AND delay > 120;

SELECT * FROM sfo_red_eyes ORDER BY delay DESC, date LIMIT 10;
