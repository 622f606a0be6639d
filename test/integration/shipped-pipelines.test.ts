/**
 * The shipped pipelines run on the sample tables: `migrate-all` (full export, silver,
 * gold) and then `nightly-refresh` after rows changed; gold equals Postgres after each.
 * The sample facts are incremental by default, so each nightly run appends an increment
 * (updates, inserts and key-diff deletes) to the full run instead of exporting it again.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { FINAL_RUN_STATES, openPipelineRuns, queueRuntime, type PipelineRunRecord, type PipelineRuns } from '../../queues/index.js';
import { readCurrentPointer, readManifest, type CurrentPointer } from '../../src/lake/index.js';
import { createTransformDeps, modelTableRef, queryCurrent } from '../../src/pipeline/index.js';
import { sampleDatabase } from '../helpers/transform-lake.js';
import { startInProcessWorker, type InProcessWorker } from '../helpers/in-process-worker.js';

let w: InProcessWorker;
let runs: PipelineRuns;
let url: string;

beforeAll(async () => {
  url = await sampleDatabase('corrente_shipped_pipelines', 3000);
  w = await startInProcessWorker(url, { worker: { concurrency: 2 } });
  runs = await openPipelineRuns(queueRuntime(w.ctx.runtime), w.config);
}, 120_000);

afterAll(async () => {
  await w?.close();
});

async function runToEnd(pipeline: string): Promise<PipelineRunRecord> {
  const { runId } = await runs.trigger(pipeline, { trigger: 'manual' });
  for (let i = 0; i < 1200; i++) {
    const run = await runs.store.get(runId);
    if (run && FINAL_RUN_STATES.has(run.state)) return run;
    await sleep(100);
  }
  throw new Error(`${pipeline} did not finish`);
}

async function pgCount(sql: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return String((await c.query<{ n: string }>(sql)).rows[0]!.n);
  } finally {
    await c.end();
  }
}

async function pgRun(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function bronzePointer(schema: string, name: string): Promise<CurrentPointer> {
  const p = await readCurrentPointer(w.ctx.store, w.config.storage.buckets.bronze, { schema, name });
  if (!p) throw new Error(`${schema}.${name} is not published`);
  return p;
}

/** Rows and tombstones of the latest increment of a table. */
async function lastIncrement(p: CurrentPointer): Promise<{ kind?: string; rows: number; tombstones: number }> {
  const m = await readManifest(w.ctx.store, w.config.storage.buckets.bronze, p.increments!.at(-1)!.manifestKey);
  return { ...(m?.kind ? { kind: m.kind } : {}), rows: m!.totals.rows, tombstones: m!.incremental?.tombstones?.rows ?? 0 };
}

async function goldCount(): Promise<string> {
  const { rows } = await queryCurrent(createTransformDeps(w.ctx.store, w.config), 'gold', modelTableRef('gold', 'fact_demand_daily'), 'SELECT count(*)::VARCHAR AS n, sum(quantity)::VARCHAR AS q FROM t');
  return `${String(rows[0]!.n)} ${String(rows[0]!.q)}`;
}

describe('shipped pipelines', () => {
  it('migrate-all exports, builds silver then gold; nightly-refresh after changes leaves gold equal to Postgres', async () => {
    // The database outlives the test: put the two rows it inserts and deletes back as they were.
    await pgRun(`DELETE FROM core.fact_demand_daily WHERE id = 30000000`);
    await pgRun(`INSERT INTO core.fact_demand_daily (id, date, item_id, site_id, quantity, units, lead_time_days, stockout, unit_cost, updated_at, note)
      VALUES (30000001, date '2024-01-01', 1, 1, 1.5, 1, 1, false, 1.00, timestamptz '2024-01-01 00:00:00+00', 'to delete') ON CONFLICT (id) DO NOTHING`);
    const all = await runToEnd('migrate-all');
    expect(all.error).toBeUndefined();
    expect(all.state).toBe('succeeded');
    expect(Object.values(all.tasks).map((t) => t.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const expected = async () => `${await pgCount('SELECT count(*) AS n FROM core.fact_demand_daily')} ${await pgCount('SELECT sum(quantity)::text AS n FROM core.fact_demand_daily')}`;
    expect(await goldCount()).toBe(await expected());

    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`UPDATE core.fact_demand_daily SET quantity = quantity + 1, updated_at = now() WHERE id <= 10`);
    await c.query(`INSERT INTO core.fact_demand_daily (id, date, item_id, site_id, quantity, units, lead_time_days, stockout, unit_cost, updated_at, note)
      VALUES (30000000, date '2024-01-02', 2, 2, 7.25, 1, 1, false, 2.00, now(), 'new')`);
    await c.query(`DELETE FROM core.fact_demand_daily WHERE id = 30000001`);
    await c.end();
    const full = await bronzePointer('core', 'fact_demand_daily');
    expect(full.increments ?? []).toEqual([]);
    const nightly = await runToEnd('nightly-refresh');
    expect(nightly.error).toBeUndefined();
    expect(Object.fromEntries(Object.entries(nightly.tasks).map(([n, t]) => [n, t.state]))).toEqual({ export: 'succeeded', silver: 'succeeded', gold: 'succeeded', gc: 'succeeded' });
    expect(await goldCount()).toBe(await expected());
    // An increment on top of migrate-all's full run, holding only what changed.
    const demand = await bronzePointer('core', 'fact_demand_daily');
    expect(demand.runId).toBe(full.runId);
    expect(demand.increments).toHaveLength(1);
    expect(await lastIncrement(demand)).toEqual({ kind: 'incremental', rows: 11, tombstones: 1 });
    const forecasts = await bronzePointer('analytics', 'fact_forecasts');
    expect(forecasts.increments).toHaveLength(1);
    expect(await lastIncrement(forecasts)).toEqual({ kind: 'incremental', rows: 0, tombstones: 0 });

    // The second nightly run appends a second increment: forecasts by transaction id.
    await pgRun(`UPDATE analytics.fact_forecasts SET yhat = yhat + 1 WHERE forecast_id <= 5`);
    const second = await runToEnd('nightly-refresh');
    expect(second.state).toBe('succeeded');
    expect((await bronzePointer('core', 'fact_demand_daily')).runId).toBe(full.runId);
    const forecasts2 = await bronzePointer('analytics', 'fact_forecasts');
    expect(forecasts2.runId).toBe(forecasts.runId);
    expect(forecasts2.increments).toHaveLength(2);
    expect(await lastIncrement(forecasts2)).toEqual({ kind: 'incremental', rows: 5, tombstones: 0 });
    expect(await goldCount()).toBe(await expected());
  }, 240_000);
});
