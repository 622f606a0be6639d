/**
 * Views over the current runs of a lake, so users query tables by name instead of run
 * folders. One DuckDB schema per layer; in it each table is a view named
 * `"<schema>.<table>"` (always), plus `<table>` alone when no other table of the layer
 * has that name:
 *
 * ```sql
 * SELECT * FROM bronze."core.fact_demand_daily";
 * SELECT * FROM bronze.fact_demand_daily;        -- the same, when unambiguous
 * ```
 *
 * A table exported with `incremental:` is a view over the merge of its full run and its
 * increments (`latestRowsSql`), never over the full run's files alone.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { quoteIdent, quoteLiteral, type LogicalType, type TableRef } from '../shared/table-schema.js';
import { duckType } from './csv-to-parquet.js';
import { openDuckSession, type DuckSession } from './duckdb-session.js';
import { latestRowsSql, type StateLayer } from './lake-state-sql.js';

/** One current table: where its files are and, for a table without files, its columns. */
export interface LakeView {
  layer: string;
  table: TableRef;
  /** Local paths of the current run's Parquet files. */
  files: readonly string[];
  /** Columns, used only when `files` is empty (a view over no file needs its types). */
  columns?: readonly { name: string; type: LogicalType }[];
  /**
   * Set for a table with increments: every layer (the full run's `files` first, then each
   * increment's rows and tombstones) and the primary key they are merged on.
   */
  merge?: { layers: readonly StateLayer[]; primaryKey: readonly string[] };
}

/** The view names of a table: the full `schema.table` one, and the short one when unique in its layer. */
export function viewNames(views: readonly LakeView[]): Map<LakeView, string[]> {
  const count = new Map<string, number>();
  for (const v of views) count.set(`${v.layer}\u0000${v.table.name}`, (count.get(`${v.layer}\u0000${v.table.name}`) ?? 0) + 1);
  const out = new Map<LakeView, string[]>();
  for (const v of views) {
    const names = [`${v.table.schema}.${v.table.name}`];
    if (count.get(`${v.layer}\u0000${v.table.name}`) === 1 && v.table.name !== names[0]) names.push(v.table.name);
    out.set(v, names);
  }
  return out;
}

function viewBody(v: LakeView): string {
  if (v.merge && v.merge.layers.some((l) => l.files.length > 0)) return latestRowsSql(v.merge.layers, v.merge.primaryKey);
  if (v.files.length > 0) return `SELECT * FROM read_parquet([${v.files.map(quoteLiteral).join(', ')}], hive_partitioning = false)`;
  const cols = (v.columns ?? []).map((c) => `CAST(NULL AS ${duckType(c.type)}) AS ${quoteIdent(c.name)}`);
  return `SELECT ${cols.length > 0 ? cols.join(', ') : 'NULL AS "?"'} WHERE false`;
}

/** `CREATE SCHEMA` per layer and `CREATE VIEW` per name, in a stable order. */
export function lakeViewStatements(views: readonly LakeView[]): string[] {
  const names = viewNames(views);
  const out: string[] = [];
  for (const layer of [...new Set(views.map((v) => v.layer))].sort()) out.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(layer)}`);
  for (const v of views) {
    for (const name of names.get(v)!) out.push(`CREATE OR REPLACE VIEW ${quoteIdent(v.layer)}.${quoteIdent(name)} AS ${viewBody(v)}`);
  }
  return out;
}

/** An in-memory DuckDB with the lake's views; the caller closes it. */
export async function openLakeSession(views: readonly LakeView[], options: { memoryMb?: number; threads?: number } = {}): Promise<DuckSession> {
  const session = await openDuckSession({ memoryMb: options.memoryMb ?? 1024, threads: options.threads ?? 2, cacheFiles: true });
  try {
    for (const stmt of lakeViewStatements(views)) await session.run(stmt);
    return session;
  } catch (err) {
    session.close();
    throw err;
  }
}

/**
 * Writes a DuckDB database file holding only the views, atomically: it is built under a
 * temporary name and renamed over `path`, so a reader (`duckdb lake/catalog.duckdb`) sees
 * the old catalog or the new one, and a reader holding the old file open keeps it.
 */
export async function writeCatalogFile(path: string, views: readonly LakeView[]): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const session = await openDuckSession({ path: temp, memoryMb: 64, threads: 1 });
    try {
      for (const stmt of lakeViewStatements(views)) await session.run(stmt);
      await session.run('CHECKPOINT');
    } finally {
      session.close();
    }
    await rename(temp, path);
  } finally {
    await rm(temp, { force: true });
    await rm(`${temp}.wal`, { force: true });
  }
}
