/**
 * Reads published tables back with DuckDB: the proof a migration worked, and the SQL a
 * user can paste into the DuckDB CLI.
 */
import { openDuckSession } from '../duckdb/index.js';
import type { ObjectStore } from '../storage/index.js';
import { quoteLiteral, type TableRef } from '../shared/table-schema.js';
import { currentManifest } from './verify-published.js';

export interface PublishedSummary {
  runId: string;
  /** Row count DuckDB reads from the published files. */
  rows: number;
  /** Paths (local lake) or URIs (S3) of the files. */
  files: string[];
  /** A DuckDB query over exactly the published files. */
  sql: string;
}

export async function queryPublished(store: ObjectStore, bucket: string, table: TableRef): Promise<PublishedSummary> {
  const manifest = await currentManifest(store, bucket, table);
  const files = manifest.files.map((f) => store.localPath(bucket, f.key) ?? f.uri);
  const sql = `SELECT count(*) FROM read_parquet([${files.map(quoteLiteral).join(', ')}], hive_partitioning = false)`;
  const local = manifest.files.every((f) => store.localPath(bucket, f.key) !== undefined);
  let rows = manifest.totals.rows;
  if (local) {
    const duck = await openDuckSession({ threads: 2 });
    try {
      rows = Number((await duck.rows(`SELECT count(*)::BIGINT AS n FROM read_parquet([${files.map(quoteLiteral).join(', ')}], hive_partitioning = false)`))[0]?.n ?? 0);
    } finally {
      duck.close();
    }
  }
  return { runId: manifest.runId, rows, files, sql };
}
