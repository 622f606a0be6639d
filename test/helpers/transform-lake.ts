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

/**
 * Creates database `db` if needed and seeds it with `factRows` fact rows, plus demand on the
 * days of 300 forecasts (fixed ids), so the mart compares real numbers. Idempotent, and
 * serialised by an advisory lock: test files sharing `db` may start at once.
 */
export async function sampleDatabase(db: string, factRows: number): Promise<string> {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${db}`;
  try {
    await admin.query(`SELECT pg_advisory_lock(hashtext($1))`, [`corrente-sample-${db}`]);
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${db}`);
    const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
    try {
      await seedSample(pool as never, { factRows });
      await pool.query(`INSERT INTO core.fact_demand_daily (id, date, item_id, site_id, quantity, units, lead_time_days, stockout, unit_cost, updated_at, note)
        SELECT 10000000 + forecast_id, forecast_date, item_id, site_id, (forecast_id % 97) * 1.25, 1, 1, false, 1.00, timestamptz '2025-06-01 00:00:00+00', NULL
        FROM analytics.fact_forecasts WHERE forecast_id <= 300 ON CONFLICT (id) DO NOTHING`);
    } finally {
      await pool.end();
    }
  } finally {
    await admin.query(`SELECT pg_advisory_unlock(hashtext($1))`, [`corrente-sample-${db}`]).catch(() => {});
    await admin.end();
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
