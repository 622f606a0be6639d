/**
 * A configured schedule fires on the workers and runs a migration, like the nightly
 * Airflow DAG it replaces.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySchedules } from '../../scheduler/apply-schedules.js';
import { readCurrentPointer } from '../../src/lake/index.js';
import { createTestSchema, type TestSchema } from '../helpers/pg.js';
import { startInProcessWorker, type InProcessWorker } from '../helpers/in-process-worker.js';

let db: TestSchema;
let w: InProcessWorker;

beforeAll(async () => {
  db = await createTestSchema('sched');
  await db.admin.query(`CREATE TABLE "${db.schema}".forecasts (id int PRIMARY KEY, yhat numeric(14,3))`);
  await db.admin.query(`INSERT INTO "${db.schema}".forecasts SELECT g, g / 7.0 FROM generate_series(1, 1000) g`);
  await db.admin.query(`CREATE TABLE "${db.schema}".tmp_scratch (id int)`);
  // A pattern resolves at each firing; the configured exclude applies to it.
  w = await startInProcessWorker(db.url, {
    schedules: [{ id: 'every-second', cron: '* * * * * *', tables: [`${db.schema}.*`] }],
    exclude: [`${db.schema}.tmp_*`],
  });
});

afterAll(async () => {
  await w?.close();
  await db?.drop();
});

describe('schedules', () => {
  it('fires a migration run of the tables its pattern selects, and removes stale schedulers', async () => {
    const result = await applySchedules(w.ctx.queues, w.config.schedules);
    expect(result.applied.map((s) => s.id)).toEqual(['every-second']);
    const table = { schema: db.schema, name: 'forecasts' };
    let pointer;
    for (let i = 0; i < 150 && !pointer; i++) {
      pointer = await readCurrentPointer(w.ctx.store, 'bronze', table);
      if (!pointer) await sleep(100);
    }
    expect(pointer?.runId).toMatch(/^every-second-\d{8}T\d{4}Z$/);
    const run = await w.ctx.runs.get(pointer!.runId);
    expect(run?.tables.map((t) => [t.table.name, t.rows])).toEqual([['forecasts', 1000]]);
    const removed = await applySchedules(w.ctx.queues, []);
    expect(removed.removed).toEqual(['every-second']);
    expect(await w.ctx.queues.schedule.getJobSchedulers(0, -1)).toEqual([]);
  });
});
