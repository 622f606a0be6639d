/**
 * A temp local lake holding the three sample tables, exported from their own database
 * (seeded small), plus what transform runs need over it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../src/config/index.js';
import { seedSample, SAMPLE_TABLES } from '../../src/demo/index.js';
import { openDuckSession } from '../../src/duckdb/index.js';
import { currentRun, type TransformDeps } from '../../src/pipeline/index.js';
import { createLocalLake, publishTable, type LocalLake } from './export-deps.js';
import { TEST_DATABASE_URL } from './pg.js';

export interface TransformLake {
  lake: LocalLake;
  /** Postgres holding the sample tables. */
  url: string;
  deps: TransformDeps;
  /** Rows of a DuckDB query over the current run of `layer` table `schema.name` (bound as `t`). */
  query(layer: 'bronze' | 'silver' | 'gold', schema: string, name: string, select: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/** Creates database `db` if needed and seeds it with `factRows` fact rows (idempotent). */
export async function sampleDatabase(db: string, factRows: number): Promise<string> {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${db}`).catch(() => {});
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${db}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  try {
    await seedSample(pool as never, { factRows });
  } finally {
    await pool.end();
  }
  return url.toString();
}

/** A lake with the sample tables exported (run `r1`) and transform deps over it. */
export async function createTransformLake(url: string, transformOverrides: Record<string, unknown> = {}): Promise<TransformLake> {
  const lake = await createLocalLake(url);
  for (const t of SAMPLE_TABLES) await publishTable(lake, t, '20261129T000000Z-0001');
  const config = loadConfig({ env: {}, file: undefined, overrides: { storage: { lakeDir: lake.dir }, transform: transformOverrides } });
  const work = await mkdtemp(join(tmpdir(), 'corrente-transform-work-'));
  const deps: TransformDeps = {
    store: lake.store,
    buckets: config.storage.buckets,
    cacheDir: join(work, 'cache'),
    config: config.transform,
    writer: config.export,
    workDir: work,
  };
  return {
    lake,
    url,
    deps,
    query: async (layer, schema, name, select) => {
      const m = await currentRun(deps, layer, { schema, name });
      if (!m) throw new Error(`no current run of ${layer}/${schema}/${name}`);
      const files = m.files.map((f) => lake.store.localPath(config.storage.buckets[layer], f.key)!);
      const duck = await openDuckSession({ threads: 1 });
      try {
        await duck.run(`CREATE VIEW t AS SELECT * FROM read_parquet([${files.map((f) => `'${f}'`).join(', ')}])`);
        return await duck.rows(select);
      } finally {
        duck.close();
      }
    },
    close: async () => {
      await lake.close();
      await rm(work, { recursive: true, force: true });
    },
  };
}
