import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { createPgPool, type PgPool } from '../../src/postgres/index.js';
import { openDuckSession } from '../../src/duckdb/index.js';
import { exportTable, verifyAndPublish, verifyPublished, type ExportDeps, type VerifiedRun } from '../../src/pipeline/index.js';
import { LocalDirStore, type ObjectStore } from '../../src/storage/index.js';

export interface LocalLake {
  dir: string;
  store: ObjectStore;
  deps: ExportDeps;
  pool: PgPool;
  close(): Promise<void>;
}

/** Export dependencies over a temp local lake and a fresh pool. */
export async function createLocalLake(postgresUrl: string, exportOverrides: Record<string, unknown> = {}): Promise<LocalLake> {
  const dir = await mkdtemp(join(tmpdir(), 'corrente-lake-'));
  const config = loadConfig({ env: {}, file: undefined, overrides: { postgres: { url: postgresUrl }, storage: { lakeDir: dir }, export: exportOverrides } });
  const store = new LocalDirStore(dir);
  const pool = createPgPool(config.postgres);
  return {
    dir,
    store,
    pool,
    deps: { pool, postgresUrl, store, buckets: config.storage.buckets, config: config.export },
    close: async () => {
      await pool.end();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Exports `table` (one range, not chunked) into the lake's bronze bucket as run `runId`,
 * then verifies and publishes it.
 */
export async function publishTable(lake: LocalLake, table: { schema: string; name: string }, runId: string): Promise<VerifiedRun> {
  const outcome = await exportTable(lake.deps, { runId, table, layer: 'bronze' });
  if (outcome.kind !== 'staged') throw new Error(`expected ${table.schema}.${table.name} to export in one range, got ${outcome.kind}`);
  return verifyAndPublish({ store: lake.store, config: lake.deps.config }, { bucket: 'bronze', table, runId });
}

/**
 * Rewrites one published file of `table` through `select` (a DuckDB query over `$F`, the
 * original file), re-verifies the table against its manifest and returns the integrity
 * mismatches; the original file is put back afterwards.
 */
export async function verifyTampered(lake: LocalLake, postgresUrl: string, table: { schema: string; name: string }, file: string, select: string): Promise<string[]> {
  const original = `${file}.orig`;
  if (!existsSync(original)) await copyFile(file, original);
  const duck = await openDuckSession();
  try {
    await duck.run(`COPY (${select.replaceAll('$F', `read_parquet('${original}')`)}) TO '${file}.tmp' (FORMAT parquet)`);
  } finally {
    duck.close();
  }
  await rename(`${file}.tmp`, file);
  try {
    const check = await verifyPublished({ store: lake.store, pool: lake.pool, postgresUrl, config: lake.deps.config }, 'bronze', table);
    return check.integrity;
  } finally {
    await copyFile(original, file);
  }
}
