// Converts a Parquet file to CSV with DuckDB (npm @duckdb/node-api), exactly as the shared
// data set was made: `COPY (SELECT * FROM read_parquet(in)) TO out (HEADER)`.
// Usage: NODE_PATH=<dir>/node_modules node parquet-to-csv.mjs IN.parquet OUT.csv
import { createRequire } from 'module';
const require = createRequire(process.env.NODE_PATH + '/');
const { DuckDBInstance } = require('@duckdb/node-api');
const [input, output] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await db.connect();
const q = s => s.replace(/'/g, "''");
await con.run(`COPY (SELECT * FROM read_parquet('${q(input)}')) TO '${q(output)}' (HEADER, DELIMITER ',')`);
