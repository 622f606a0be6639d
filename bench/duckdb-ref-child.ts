/**
 * The `duckdb-ref` measurement, run as its own process: the size DuckDB itself gets for
 * the same rows as zstd Parquet with exact types.
 *   1. `psql -c "COPY core.fact_demand_daily TO STDOUT WITH (FORMAT csv)"` > temp file
 *   2. DuckDB: COPY (SELECT * FROM read_csv(file, columns = {exact types})) TO x.parquet
 *      (FORMAT parquet, COMPRESSION zstd), DuckDB's defaults otherwise.
 *
 *   node dist/bench/duckdb-ref-child.js --database URL --dir DIR
 *
 * Prints one JSON line: { rows, copySeconds, duckdbSeconds, bytes, csvBytes, vmHwmKb }.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { selfPeakKb } from './rss.js';

const { values } = parseArgs({ options: { database: { type: 'string' }, dir: { type: 'string' } } });
if (!values.database || !values.dir) {
  process.stderr.write('usage: duckdb-ref-child.js --database URL --dir DIR\n');
  process.exit(2);
}
const csv = join(values.dir, 'fact.csv');
const parquetFile = join(values.dir, 'duckdb-ref.parquet');

/** Exact DuckDB types of core.fact_demand_daily (see src/demo/seed-sample.ts). */
const COLUMNS: Record<string, string> = {
  id: 'BIGINT',
  date: 'DATE',
  item_id: 'INTEGER',
  site_id: 'INTEGER',
  quantity: 'DECIMAL(14,3)',
  units: 'INTEGER',
  lead_time_days: 'SMALLINT',
  stockout: 'BOOLEAN',
  unit_cost: 'DECIMAL(12,2)',
  updated_at: 'TIMESTAMPTZ',
  note: 'VARCHAR',
};

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

const t0 = performance.now();
const fd = openSync(csv, 'w');
try {
  await new Promise<void>((resolve, reject) => {
    const p = spawn(
      'psql',
      [values.database!, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', 'COPY core.fact_demand_daily TO STDOUT WITH (FORMAT csv)'],
      { stdio: ['ignore', fd, 'inherit'] },
    );
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`psql COPY exited with ${code}`))));
  });
} finally {
  closeSync(fd);
}
const copySeconds = (performance.now() - t0) / 1000;

const t1 = performance.now();
const instance = await DuckDBInstance.create(':memory:', {
  autoinstall_known_extensions: 'false',
  autoload_known_extensions: 'false',
});
const conn = await instance.connect();
await conn.run(`SET TimeZone = 'UTC'`);
const columns = `{${Object.entries(COLUMNS).map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`).join(', ')}}`;
await conn.run(
  `COPY (SELECT * FROM read_csv(${sqlString(csv)}, header = false, delim = ',', quote = '"', escape = '"',
     allow_quoted_nulls = false, columns = ${columns}))
   TO ${sqlString(parquetFile)} (FORMAT parquet, COMPRESSION zstd)`,
);
const duckdbSeconds = (performance.now() - t1) / 1000;
const reader = await conn.runAndReadAll(`SELECT count(*)::VARCHAR AS n FROM read_parquet(${sqlString(parquetFile)})`);
const rows = Number(reader.getRows()[0]?.[0]);
conn.closeSync();
instance.closeSync();

const [{ size: bytes }, { size: csvBytes }] = await Promise.all([stat(parquetFile), stat(csv)]);
process.stdout.write(`${JSON.stringify({ rows, copySeconds, duckdbSeconds, bytes, csvBytes, vmHwmKb: selfPeakKb() ?? null })}\n`);
