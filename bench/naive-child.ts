/**
 * The `naive` measurement, run as its own process (so its RSS is its own):
 * the obvious Node stack, pg-query-stream -> parquetjs-lite, with their defaults.
 * NUMERIC is written as DOUBLE (parquetjs-lite has no DECIMAL): lossy, and that is
 * the point of the comparison.
 *
 *   node dist/bench/naive-child.js --database URL --limit 1000000 --out /tmp/x.parquet
 *
 * Prints one JSON line: { rows, seconds, bytes, vmHwmKb }.
 */
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import pg from 'pg';
import QueryStream from 'pg-query-stream';
import { selfPeakKb } from './rss.js';

/** The part of parquetjs-lite (untyped CommonJS) used here. */
interface ParquetLib {
  ParquetSchema: new (fields: Record<string, { type: string; optional?: boolean }>) => unknown;
  ParquetWriter: {
    openFile(schema: unknown, path: string): Promise<{ appendRow(row: Record<string, unknown>): Promise<void>; close(): Promise<void> }>;
  };
}

interface FactRow {
  id: string;
  date: Date;
  item_id: number;
  site_id: number;
  quantity: string;
  units: number;
  lead_time_days: number;
  stockout: boolean;
  unit_cost: string;
  updated_at: Date;
  note: string | null;
}

const { values } = parseArgs({
  options: { database: { type: 'string' }, limit: { type: 'string' }, out: { type: 'string' } },
});
if (!values.database || !values.limit || !values.out) {
  process.stderr.write('usage: naive-child.js --database URL --limit N --out FILE\n');
  process.exit(2);
}
const limit = Number(values.limit);
const out = values.out;

const parquet = createRequire(import.meta.url)('parquetjs-lite') as ParquetLib;
const schema = new parquet.ParquetSchema({
  id: { type: 'INT64' },
  date: { type: 'DATE' },
  item_id: { type: 'INT32' },
  site_id: { type: 'INT32' },
  quantity: { type: 'DOUBLE' },
  units: { type: 'INT32' },
  lead_time_days: { type: 'INT32' },
  stockout: { type: 'BOOLEAN' },
  unit_cost: { type: 'DOUBLE' },
  updated_at: { type: 'TIMESTAMP_MILLIS' },
  note: { type: 'UTF8', optional: true },
});

const client = new pg.Client({ connectionString: values.database, application_name: 'corrente-bench-naive' });
await client.connect();
const t0 = performance.now();
const writer = await parquet.ParquetWriter.openFile(schema, out);
const stream = client.query(new QueryStream(`SELECT * FROM core.fact_demand_daily ORDER BY id LIMIT ${limit}`));
let rows = 0;
for await (const r of stream as AsyncIterable<FactRow>) {
  await writer.appendRow({
    id: r.id,
    date: r.date,
    item_id: r.item_id,
    site_id: r.site_id,
    quantity: Number(r.quantity),
    units: r.units,
    lead_time_days: r.lead_time_days,
    stockout: r.stockout,
    unit_cost: Number(r.unit_cost),
    updated_at: r.updated_at,
    ...(r.note === null ? {} : { note: r.note }),
  });
  rows++;
}
await writer.close();
const seconds = (performance.now() - t0) / 1000;
await client.end();
const { size } = await stat(out);
process.stdout.write(`${JSON.stringify({ rows, seconds, bytes: size, vmHwmKb: selfPeakKb() ?? null })}\n`);
