/**
 * The manual path, run as its own process: what a user scripts to get Parquet from a table
 * without corrente, with nothing verified.
 *   1. `psql -c "COPY <table> TO STDOUT WITH (FORMAT csv)"` > a CSV file
 *   2. DuckDB: COPY (SELECT * FROM read_csv(file, columns = {explicit types})) TO x.parquet
 *      (<parquet options>), DuckDB's defaults otherwise (threads, memory limit)
 * Both steps are timed from here (not the process and module start-up), so the time is what
 * the two shell commands take.
 *
 *   node dist/bench/manual-path-child.js --database URL --table T --dir DIR \
 *     --columns '{"id":"BIGINT",...}' --parquet-options 'FORMAT parquet, COMPRESSION zstd, ...'
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

const { values } = parseArgs({
  options: {
    database: { type: 'string' },
    table: { type: 'string' },
    dir: { type: 'string' },
    columns: { type: 'string' },
    'parquet-options': { type: 'string' },
  },
});
const { database, table, dir, columns, 'parquet-options': parquetOptions } = values;
if (!database || !table || !dir || !columns || !parquetOptions) {
  process.stderr.write('usage: manual-path-child.js --database URL --table T --dir DIR --columns JSON --parquet-options SQL\n');
  process.exit(2);
}
const csv = join(dir, 'table.csv');
const parquetFile = join(dir, 'table.parquet');

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

const t0 = performance.now();
const fd = openSync(csv, 'w');
try {
  await new Promise<void>((resolve, reject) => {
    const p = spawn('psql', [database, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', `COPY ${table} TO STDOUT WITH (FORMAT csv)`], {
      stdio: ['ignore', fd, 'inherit'],
      // Read from the table's first block, as corrente's exports do: with Postgres'
      // synchronized scans on, a COPY of a large table starts wherever the last scan of
      // it stopped, and the Parquet writer's file size follows the row order.
      env: { ...process.env, PGOPTIONS: `${process.env.PGOPTIONS ?? ''} -c synchronize_seqscans=off`.trim() },
    });
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
const types = Object.entries(JSON.parse(columns) as Record<string, string>);
const columnsSql = `{${types.map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`).join(', ')}}`;
await conn.run(
  `COPY (SELECT * FROM read_csv(${sqlString(csv)}, header = false, delim = ',', quote = '"', escape = '"',
     allow_quoted_nulls = false, columns = ${columnsSql}))
   TO ${sqlString(parquetFile)} (${parquetOptions})`,
);
const duckdbSeconds = (performance.now() - t1) / 1000;
const reader = await conn.runAndReadAll(`SELECT count(*)::VARCHAR AS n FROM read_parquet(${sqlString(parquetFile)})`);
const rows = Number(reader.getRows()[0]?.[0]);
conn.closeSync();
instance.closeSync();

const [{ size: bytes }, { size: csvBytes }] = await Promise.all([stat(parquetFile), stat(csv)]);
process.stdout.write(`${JSON.stringify({ rows, copySeconds, duckdbSeconds, bytes, csvBytes, vmHwmKb: selfPeakKb() ?? null })}\n`);
