/**
 * The shipped pipelines run on the sample tables: `migrate-all` (full export, silver,
 * gold) and then `nightly-refresh` after rows changed; gold equals Postgres after each.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { FINAL_RUN_STATES, openPipelineRuns, queueRuntime, type PipelineRunRecord, type PipelineRuns } from '../../queues/index.js';
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

async function goldCount(): Promise<string> {
  const { rows } = await queryCurrent(createTransformDeps(w.ctx.store, w.config), 'gold', modelTableRef('gold', 'fact_demand_daily'), 'SELECT count(*)::VARCHAR AS n, sum(quantity)::VARCHAR AS q FROM t');
  return `${String(rows[0]!.n)} ${String(rows[0]!.q)}`;
}

describe('shipped pipelines', () => {
  it('migrate-all exports, builds silver then gold; nightly-refresh after changes leaves gold equal to Postgres', async () => {
    const all = await runToEnd('migrate-all');
    expect(all.error).toBeUndefined();
    expect(all.state).toBe('succeeded');
    expect(Object.values(all.tasks).map((t) => t.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const expected = async () => `${await pgCount('SELECT count(*) AS n FROM core.fact_demand_daily')} ${await pgCount('SELECT sum(quantity)::text AS n FROM core.fact_demand_daily')}`;
    expect(await goldCount()).toBe(await expected());

    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`UPDATE core.fact_demand_daily SET quantity = quantity + 1, updated_at = now() WHERE id <= 10`);
    await c.end();
    const nightly = await runToEnd('nightly-refresh');
    expect(nightly.error).toBeUndefined();
    expect(Object.fromEntries(Object.entries(nightly.tasks).map(([n, t]) => [n, t.state]))).toEqual({ export: 'succeeded', silver: 'succeeded', gold: 'succeeded', gc: 'succeeded' });
    expect(await goldCount()).toBe(await expected());
  }, 240_000);
});
