/**
 * Running SQL models: a relation over Parquet files, the result's columns, writing a
 * query to Parquet files with per-file statistics, and reading those files back to check
 * them against the statistics.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { quoteIdent, quoteLiteral } from '../shared/table-schema.js';
import type { DuckSession } from './duckdb-session.js';
import { inPartOrder, writtenFileOf, type WrittenParquet } from './written-files.js';

/** Writer settings, as exports use them. */
export interface QueryParquetOptions {
  compression: 'zstd' | 'snappy';
  compressionLevel?: number;
  parquetVersion: 'v1' | 'v2';
  rowGroupRows: number;
  /** Rows per file before a new one starts (rounded to whole row groups). */
  fileRows: number;
}

/** One written file, with the writer's own counts. */
export interface WrittenFile extends WrittenParquet {
  /** Nulls per column, as counted by the writer. */
  nulls: Record<string, number>;
}

/**
 * A relation over Parquet files. With no file, an empty relation with the given columns
 * (name and DuckDB type), since `read_parquet([])` is an error.
 */
export function parquetRelation(files: readonly string[], emptyColumns: readonly { name: string; duckType: string }[] = []): string {
  if (files.length > 0) return `read_parquet([${files.map(quoteLiteral).join(', ')}], hive_partitioning = false)`;
  const cols = emptyColumns.length > 0 ? emptyColumns.map((c) => `NULL::${c.duckType} AS ${quoteIdent(c.name)}`).join(', ') : 'NULL AS "empty"';
  return `(SELECT ${cols} WHERE false)`;
}

/** Name and DuckDB type of each column of a query (or view), in order. */
export async function describeQuery(session: DuckSession, sql: string, signal?: AbortSignal): Promise<{ name: string; type: string }[]> {
  const rows = await session.rows(`DESCRIBE ${sql}`, signal);
  return rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
}

function statValue(stats: unknown, column: string, key: string): number {
  // column_statistics is a MAP: [{ key: '"col"', value: [{ key, value }] }]
  const entries = stats as { key: string; value: { key: string; value: string }[] }[] | null;
  const col = entries?.find((e) => e.key === quoteIdent(column) || e.key === column);
  const v = col?.value.find((e) => e.key === key)?.value;
  return v === undefined ? 0 : Number(v);
}

/**
 * Writes `select` into `dir` as `part-<n>.parquet` files and returns them, in order, with
 * the writer's row and null counts. An empty result writes one empty file.
 */
export async function writeQueryToParquet(
  session: DuckSession,
  select: string,
  dir: string,
  columns: readonly string[],
  opts: QueryParquetOptions,
  signal?: AbortSignal,
): Promise<WrittenFile[]> {
  const groups = Math.max(1, Math.ceil(opts.fileRows / opts.rowGroupRows));
  const level = opts.compression === 'zstd' && opts.compressionLevel ? `, COMPRESSION_LEVEL ${opts.compressionLevel}` : '';
  const rows = await session.rows(
    `COPY (${select}) TO ${quoteLiteral(dir)} (FORMAT parquet, COMPRESSION ${opts.compression}${level}, ROW_GROUP_SIZE ${opts.rowGroupRows}, ` +
      `ROW_GROUPS_PER_FILE ${groups}, PARQUET_VERSION ${opts.parquetVersion.toUpperCase()}, FILENAME_PATTERN 'part-{i}', OVERWRITE_OR_IGNORE true, RETURN_STATS true)`,
    signal,
  );
  const files = rows.map((r) => ({
    ...writtenFileOf(r),
    nulls: Object.fromEntries(columns.map((c) => [c, statValue(r.column_statistics, c, 'null_count')])),
  }));
  if (files.length === 0) {
    // DuckDB writes no file for an empty result: write one, so the run has a schema.
    const path = join(dir, 'part-0.parquet');
    await session.run(`COPY (${select}) TO ${quoteLiteral(path)} (FORMAT parquet, COMPRESSION ${opts.compression}, PARQUET_VERSION ${opts.parquetVersion.toUpperCase()})`, signal);
    const names = await readdir(dir);
    if (names.includes('part-0.parquet')) return [{ path, rows: 0, bytes: 0, nulls: Object.fromEntries(columns.map((c) => [c, 0])) }];
  }
  return inPartOrder(files);
}

/**
 * Reads `relation` (files written by {@link writeQueryToParquet}, or a view over them) back
 * in one scan: its rows, the non-null values of each of `columns`, and how many rows meet
 * each of `filters` (SQL conditions over its columns), in order.
 */
export async function countParquet(
  session: DuckSession,
  relation: string,
  columns: readonly string[],
  filters: readonly string[] = [],
  signal?: AbortSignal,
): Promise<{ rows: number; nonNull: Record<string, number>; matching: number[] }> {
  const parts = [
    'count(*)::BIGINT AS "rows"',
    ...columns.map((c, i) => `count(${quoteIdent(c)})::BIGINT AS "c${i}"`),
    ...filters.map((f, i) => `count(*) FILTER (WHERE ${f})::BIGINT AS "f${i}"`),
  ];
  const [r] = await session.rows(`SELECT ${parts.join(', ')} FROM ${relation}`, signal);
  return {
    rows: Number(r?.rows ?? 0),
    nonNull: Object.fromEntries(columns.map((c, i) => [c, Number(r?.[`c${i}`] ?? 0)])),
    matching: filters.map((_, i) => Number(r?.[`f${i}`] ?? 0)),
  };
}
