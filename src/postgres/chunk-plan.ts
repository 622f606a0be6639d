/**
 * Splits a large table into ranges that separate jobs export from one shared snapshot:
 * integer primary-key ranges when the table has a single-column integer key stored in key
 * order, heap page (`ctid`) ranges otherwise. Ranges are half-open and the outer ones
 * unbounded, so every row visible in the snapshot falls in exactly one range.
 */
import { chunkRangeSchema, type ChunkRange } from '../shared/chunk-range.js';
import { CorrenteError } from '../shared/errors.js';
import { quoteIdent, type TableSchema } from '../shared/table-schema.js';
import { qualifiedName, type RowFilter } from './copy-sql.js';
import type { PgClient } from './pool.js';

/** The WHERE clause of one range. Values are re-validated: COPY cannot take parameters. */
export function rangeFilter(range: ChunkRange): RowFilter {
  const r = chunkRangeSchema.parse(range);
  const parts: string[] = [];
  if (r.kind === 'key') {
    const c = quoteIdent(r.column);
    if (r.from !== null) parts.push(`${c} >= ${r.from}`);
    if (r.to !== null) parts.push(`${c} < ${r.to}`);
  } else {
    if (r.from > 0) parts.push(`ctid >= '(${r.from},0)'::tid`);
    if (r.to !== null) parts.push(`ctid < '(${r.to},0)'::tid`);
  }
  return { sql: parts.length > 0 ? parts.join(' AND ') : 'true' };
}

const INTEGER_KINDS = new Set(['int16', 'int32', 'int64']);

/**
 * Least correlation (Postgres' `pg_stats.correlation`, between a column's order and the
 * heap's) at which key ranges are used. Below it, a key range's rows are scattered over
 * pages that other ranges read too, and come out in another order than the heap's. The
 * bench's wide table (correlation 0.96, 2.5M rows in 2 ranges): COPY of its key ranges
 * 12.8 s against 11.3 s for page ranges (10.5 s for the whole table), and Parquet of
 * 531.8 MB against 325.9 MB (DuckDB's own of the table: 300.1 MB; bench/README.md). The
 * sample fact table (1.0) keeps key ranges, which give every file a key span of its own.
 * A key never analyzed keeps them too.
 */
const MIN_KEY_CORRELATION = 0.99;

/** Whether `column` is stored in its own order (`pg_stats.correlation`); true before the table is analyzed. */
async function followsHeap(client: PgClient, schema: TableSchema, column: string): Promise<boolean> {
  const res = await client.query<{ correlation: number | null }>(
    'SELECT correlation FROM pg_stats WHERE schemaname = $1 AND tablename = $2 AND attname = $3 AND NOT inherited',
    [schema.table.schema, schema.table.name, column],
  );
  const correlation = res.rows[0]?.correlation ?? null;
  return correlation === null || Math.abs(correlation) >= MIN_KEY_CORRELATION;
}

/**
 * Ranges of about `targetBytes` of heap each; a single unbounded range (the whole table)
 * when the table is smaller, is not a plain heap (views, partitioned parents), or is empty.
 */
export async function planChunks(client: PgClient, schema: TableSchema, targetBytes: number): Promise<ChunkRange[]> {
  const size = await client.query<{ relkind: string; bytes: string; block: number }>(
    `SELECT c.relkind, pg_relation_size(c.oid)::text AS bytes, current_setting('block_size')::int AS block
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
    [schema.table.schema, schema.table.name],
  );
  const row = size.rows[0];
  if (!row) throw new CorrenteError('TABLE_NOT_FOUND', `Table ${schema.table.schema}.${schema.table.name} disappeared while planning`);
  const bytes = Number(row.bytes);
  const n = Math.ceil(bytes / targetBytes);
  if (!['r', 'm'].includes(row.relkind) || n <= 1) return [{ kind: 'pages', from: 0, to: null }];
  const pk = schema.primaryKey.length === 1 ? schema.columns.find((c) => c.name === schema.primaryKey[0]) : undefined;
  if (pk && INTEGER_KINDS.has(pk.type.kind) && (await followsHeap(client, schema, pk.name))) {
    const c = quoteIdent(pk.name);
    const mm = await client.query<{ lo: string | null; hi: string | null }>(`SELECT min(${c})::text AS lo, max(${c})::text AS hi FROM ${qualifiedName(schema)}`);
    const lo = mm.rows[0]?.lo;
    const hi = mm.rows[0]?.hi;
    if (lo === null || lo === undefined || hi === null || hi === undefined) return [{ kind: 'pages', from: 0, to: null }];
    const span = BigInt(hi) - BigInt(lo) + 1n;
    const parts = BigInt(n) < span ? BigInt(n) : span;
    const width = (span + parts - 1n) / parts;
    const ranges: ChunkRange[] = [];
    for (let i = 0n; i < parts; i++) {
      const from = i === 0n ? null : (BigInt(lo) + i * width).toString();
      const to = i === parts - 1n ? null : (BigInt(lo) + (i + 1n) * width).toString();
      ranges.push({ kind: 'key', column: pk.name, from, to });
    }
    return ranges;
  }
  const pages = Math.ceil(bytes / row.block);
  const per = Math.ceil(pages / n);
  const ranges: ChunkRange[] = [];
  for (let from = 0; from < pages; from += per) {
    ranges.push({ kind: 'pages', from, to: from + per >= pages ? null : from + per });
  }
  return ranges;
}
