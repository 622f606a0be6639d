/**
 * `incremental`: the nightly refresh of issue 12 on the fact table. A private copy of
 * core.fact_demand_daily (same definition, same rows; the copy is not timed) is exported
 * in full with `incremental: { column: updated_at, overlap: 10m }`; then 10,000 rows are
 * inserted and 1,000 updated, and an incremental run is timed against the full one
 * (target: under 5% of its seconds, exporting only the changed rows plus the overlap).
 * Last, 100 rows are deleted and a run with `deletes: keydiff` shows what finding deletes
 * costs. Runs in this process through the pipeline API (export, verify, publish), into a
 * temp local lake. The copy gets an index on updated_at, as a table refreshed by that column
 * would have.
 *
 * In the harness: `npm run bench -- --only incremental` (opt-in). Standalone, on the fact
 * table as it is: `npm run build && node dist/bench/measure-incremental.js [--rows N]`
 * (N: rows of the copy, default all of the fact table).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { loadConfig, type IncrementalConfig } from '../src/config/index.js';
import { newRunId, type Manifest } from '../src/lake/index.js';
import { exportTable, verifyAndPublish, type ExportDeps } from '../src/pipeline/index.js';
import { createPgPool } from '../src/postgres/index.js';
import { LocalDirStore } from '../src/storage/index.js';
import { FACT_TABLE } from './paths.js';
import { makeTempDir, removeTempDir } from './temp.js';
import { log, type Measurement } from './types.js';

export const INCREMENTAL_TARGET_RATIO = 0.05;
const INSERTED = 10_000;
const UPDATED = 1_000;
const DELETED = 100;

interface Timed {
  manifest: Manifest;
  seconds: number;
}

/** Runs the measurement; `rows` limits the copy (undefined: the whole fact table). */
export async function measureIncremental(databaseUrl: string, rows?: number): Promise<Measurement[]> {
  const schema = `bench_inc_${process.pid}_${randomBytes(2).toString('hex')}`;
  const table = { schema, name: 'fact' };
  const qualified = `${schema}.fact`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  const tmp = makeTempDir('corrente-bench-incremental-');
  const config = loadConfig({ env: {}, file: undefined, overrides: { postgres: { url: databaseUrl }, storage: { lakeDir: join(tmp, 'lake') }, export: { workDir: join(tmp, 'work') } } });
  const pool = createPgPool(config.postgres);
  const store = new LocalDirStore(config.storage.lakeDir);
  const deps: ExportDeps = { pool, postgresUrl: databaseUrl, store, buckets: config.storage.buckets, config: config.export };
  const run = async (incremental: IncrementalConfig): Promise<Timed> => {
    const runId = newRunId();
    const t0 = performance.now();
    const outcome = await exportTable(deps, { runId, table, layer: 'bronze', incremental });
    if (outcome.kind !== 'staged') throw new Error(`expected the copy to export in one range, got ${outcome.kind} (raise export.chunkMb)`);
    const { manifest } = await verifyAndPublish({ store, config: config.export }, { bucket: 'bronze', table, runId });
    return { manifest, seconds: (performance.now() - t0) / 1000 };
  };
  try {
    log(`incremental: copying ${FACT_TABLE} into ${qualified} (not timed)`);
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(`CREATE TABLE ${qualified} (LIKE ${FACT_TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)`);
    await admin.query(`INSERT INTO ${qualified} SELECT * FROM ${FACT_TABLE}${rows ? ` ORDER BY id LIMIT ${rows}` : ''}`);
    // Tables refreshed by a watermark column index it; without the index each window is a sequential scan.
    await admin.query(`CREATE INDEX ON ${qualified} (updated_at)`);
    await admin.query(`VACUUM ANALYZE ${qualified}`);
    const copied = Number((await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified}`)).rows[0]!.n);
    const maxId = Number((await admin.query<{ n: string }>(`SELECT max(id) AS n FROM ${qualified}`)).rows[0]!.n);

    const cfg: IncrementalConfig = { column: 'updated_at', overlap: { ms: 600_000 } };
    log(`incremental: full export of ${copied.toLocaleString('en-US')} rows (incremental: configured, first run)`);
    const full = await run(cfg);

    const step = Math.max(1, Math.floor(maxId / UPDATED));
    await admin.query(
      `INSERT INTO ${qualified} SELECT id + ${maxId}, date, item_id, site_id, quantity, units, lead_time_days, stockout, unit_cost, now(), note FROM ${qualified} WHERE id <= ${INSERTED}`,
    );
    const updated = (await admin.query(`UPDATE ${qualified} SET units = units + 1, updated_at = now() WHERE id <= ${maxId} AND id % ${step} = 0 AND id <= ${step * UPDATED}`)).rowCount ?? 0;
    log(`incremental: inserted ${INSERTED}, updated ${updated}; timed incremental run`);
    const inc = await run(cfg);

    await admin.query(`DELETE FROM ${qualified} WHERE id IN (SELECT id FROM ${qualified} WHERE id <= ${maxId} AND id % ${step} <> 0 ORDER BY id LIMIT ${DELETED})`);
    log(`incremental: deleted ${DELETED}; timed incremental run with deletes: keydiff`);
    const keydiff = await run({ ...cfg, deletes: 'keydiff' });

    const ratio = inc.seconds / full.seconds;
    const info = inc.manifest.incremental!;
    const kd = keydiff.manifest.incremental!;
    const base = { peakRssMb: null, outputBytes: null, factTableOnly: true } as const;
    return [
      {
        ...base,
        key: 'incremental',
        label: 'incremental: full export (base)',
        rows: full.manifest.totals.rows,
        seconds: full.seconds,
        rowsPerSecond: full.manifest.totals.rows / full.seconds,
        outputBytes: full.manifest.totals.bytes,
        notes: ['export + verify + publish of the whole copy, in process'],
        details: { exportSeconds: full.manifest.timings.exportSeconds, verifySeconds: full.manifest.verification.seconds },
      },
      {
        ...base,
        key: 'incremental',
        label: `incremental: +${INSERTED} rows, ${updated} updated`,
        rows: inc.manifest.totals.rows,
        seconds: inc.seconds,
        rowsPerSecond: inc.manifest.totals.rows / inc.seconds,
        outputBytes: inc.manifest.totals.bytes,
        notes: [`${(ratio * 100).toFixed(1)}% of the full run (target < ${INCREMENTAL_TARGET_RATIO * 100}%)`, `changed rows ${INSERTED + updated}, exported ${inc.manifest.totals.rows} (overlap 10m)`],
        details: { ratio, exportSeconds: inc.manifest.timings.exportSeconds, verifySeconds: inc.manifest.verification.seconds, reconciliation: info.reconciliation, from: info.from, to: info.to },
      },
      {
        ...base,
        key: 'incremental',
        label: `incremental + keydiff (${DELETED} deleted)`,
        rows: keydiff.manifest.totals.rows,
        seconds: keydiff.seconds,
        rowsPerSecond: null,
        notes: [`finding deletes: ${kd.keydiffSeconds?.toFixed(2)} s of ${keydiff.seconds.toFixed(2)} s; ${kd.tombstones?.rows} tombstones`],
        details: { keydiffSeconds: kd.keydiffSeconds, tombstones: kd.tombstones?.rows, reconciliation: kd.reconciliation },
      },
    ];
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await admin.end();
    await pool.end();
    await store.close();
    await removeTempDir(tmp);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf('--rows');
  const rows = at > 0 ? Number(process.argv[at + 1]) : undefined;
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  measureIncremental(url, rows).then(
    (ms) => {
      for (const m of ms) process.stdout.write(`${m.label}: ${m.rows} rows, ${m.seconds?.toFixed(2)} s; ${m.notes.join('; ')}\n`);
      process.stdout.write(`${JSON.stringify(ms.map((m) => ({ label: m.label, rows: m.rows, seconds: m.seconds, details: m.details })), null, 2)}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
