#!/usr/bin/env bash
# Installs what is missing, builds Weir, fetches the 3,000,000 real flights, and runs the main
# example: a filter/projection into data/long_haul_delays.csv plus a materialized view query.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
scripts/get-flights.sh
echo "+ build/weir run examples/flights_filter.sql --stats-json data/flights_filter.stats.json" >&2
build/weir run examples/flights_filter.sql --stats-json data/flights_filter.stats.json
echo >&2
echo "wrote data/long_haul_delays.csv ($(($(wc -l < data/long_haul_delays.csv) - 1)) rows); first lines:" >&2
head -5 data/long_haul_delays.csv >&2
echo "run statistics: data/flights_filter.stats.json" >&2
