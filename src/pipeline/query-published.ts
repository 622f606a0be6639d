/**
 * Reads published tables back with DuckDB: the proof a migration worked, and the SQL a
 * user can paste into the DuckDB CLI. A table with increments is counted merged.
 */
import { openDuckSession } from '../duckdb/index.js';
import { readCurrentPointer } from '../lake/index.js';
import type { ObjectStore } from '../storage/index.js';
import { quoteLiteral, type TableRef } from '../shared/table-schema.js';
import { incrementManifests, stateRelationSql } from './lake-state.js';
import { localStateOf } from './transform-inputs.js';
import { currentManifest } from './verify-published.js';

export interface PublishedSummary {
  /** The current full run. */
  runId: string;
  /** Incremental runs merged on top of it, oldest first. */
  increments: string[];
  /** Row count DuckDB reads from the published files (merged with the increments). */
  rows: number;
  /** Paths (local lake) or URIs (S3) of the full run's files. */
  files: string[];
  /** A DuckDB query over exactly the full run's files (without the increments). */
  sql: string;
}

export async function queryPublished(store: ObjectStore, bucket: string, table: TableRef): Promise<PublishedSummary> {
  const manifest = await currentManifest(store, bucket, table);
  const pointer = await readCurrentPointer(store, bucket, table);
  const chain = pointer?.runId === manifest.runId ? (pointer.increments ?? []) : [];
  const files = manifest.files.map((f) => store.localPath(bucket, f.key) ?? f.uri);
  const sql = `SELECT count(*) FROM read_parquet([${files.map(quoteLiteral).join(', ')}], hive_partitioning = false)`;
  const local = manifest.files.every((f) => store.localPath(bucket, f.key) !== undefined);
  const increments = chain.length > 0 ? await incrementManifests(store, bucket, pointer!) : [];
  let rows = increments.at(-1)?.incremental?.reconciliation?.lakeRows ?? manifest.totals.rows;
  if (local) {
    // A local lake is read in place: no cache directory is written.
    const relation =
      increments.length > 0
        ? stateRelationSql(await localStateOf({ store, buckets: { bronze: bucket, silver: bucket, gold: bucket }, cacheDir: '' }, { layer: 'bronze', manifest, pointer: pointer! }), increments.at(-1)!.columns)
        : `read_parquet([${files.map(quoteLiteral).join(', ')}], hive_partitioning = false)`;
    const duck = await openDuckSession({ threads: 2 });
    try {
      rows = Number((await duck.rows(`SELECT count(*)::BIGINT AS n FROM ${relation}`))[0]?.n ?? 0);
    } finally {
      duck.close();
    }
  }
  return { runId: manifest.runId, increments: increments.map((m) => m.runId), rows, files, sql };
}
