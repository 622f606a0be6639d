/**
 * Queued transform runs: one job per model on the `transform` queue, served by two
 * workers. A diamond DAG (base -> left, right -> top) runs each model once, in order; a
 * failing model skips only what reads it; retrying the run builds only those; the results
 * equal an inline run's.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCurrentPointer } from '../../src/lake/index.js';
import { needsOf, planTransform, runTransforms, type TransformModelOutcome } from '../../src/pipeline/index.js';
import { queueTransformRun, waitForDagRun, type PipelineRunRecord } from '../../queues/index.js';
import { createTransformLake, sampleDatabase, type TransformLake } from '../helpers/transform-lake.js';
import { startTransformWorker, type TransformWorker } from '../helpers/transform-worker.js';

let t: TransformLake;
let w1: TransformWorker;
let w2: TransformWorker;
const root = mkdtempSync(join(tmpdir(), 'corrente-transform-queue-'));
const prefix = `t-tq-${randomBytes(4).toString('hex')}`;
let runNo = 0;
const runId = (): string => `transform-20261129T0600${String(runNo++).padStart(2, '0')}Z-d1a0`;

const FILES: Record<string, string> = {
  'silver/base.sql': `SELECT item_id, category, unit_price FROM {{ source('core', 'dim_item') }}\n`,
  'gold/left_side.sql': `SELECT item_id, category FROM {{ ref('base') }}\n`,
  'gold/right_side.sql': `SELECT item_id, unit_price FROM {{ ref('base') }}\n`,
  'gold/top.sql': `SELECT l.category, count(*)::BIGINT AS items, sum(r.unit_price) AS price FROM {{ ref('left_side') }} l JOIN {{ ref('right_side') }} r USING (item_id) GROUP BY ALL\n`,
};
const dir = join(root, 'transforms');

function write(files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

beforeAll(async () => {
  const url = await sampleDatabase('corrente_transform_test', 3000);
  t = await createTransformLake(url, { memoryMb: 64, threads: 1 });
  write(FILES);
  w1 = await startTransformWorker({ prefix, lakeDir: t.lake.dir, transformsDir: dir, postgresUrl: url });
  w2 = await startTransformWorker({ prefix, lakeDir: t.lake.dir, transformsDir: dir, postgresUrl: url });
});

afterAll(async () => {
  await w1?.close();
  await w2?.close();
  await t?.close();
  rmSync(root, { recursive: true, force: true });
});

async function queued(id: string, fullRefresh = false): Promise<PipelineRunRecord> {
  const plan = planTransform(dir);
  const runs = await w1.runs();
  await queueTransformRun(runs, id, plan.models.map((name) => ({ name, needs: needsOf(plan, name) })), { fullRefresh });
  return waitForDagRun(runs.store, id, { pollMs: 100 });
}

/** Models whose jobs completed, on either worker, once `n` have (the event follows the run's record). */
async function completed(n: number): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  while ([...w1.done, ...w2.done].length < n && Date.now() < deadline) await sleep(50);
  return [...w1.done, ...w2.done];
}

const outcome = (run: PipelineRunRecord, model: string): TransformModelOutcome => run.tasks[model]!.result as unknown as TransformModelOutcome;
const time = (iso: string | undefined): number => Date.parse(iso ?? 'x');
const topRows = (): Promise<Record<string, unknown>[]> => t.query('gold', 'gold', 'top', 'SELECT category, items, price::VARCHAR AS price FROM t ORDER BY category');

describe('transform queue', () => {
  it('a diamond DAG runs each model once, in order, across two workers', async () => {
    const id = runId();
    const run = await queued(id);
    expect(run.state).toBe('succeeded');
    expect(Object.fromEntries(Object.entries(run.tasks).map(([n, task]) => [n, [task.state, task.attempts, task.detail]]))).toEqual({
      base: ['succeeded', 1, 'published'],
      left_side: ['succeeded', 1, 'published'],
      right_side: ['succeeded', 1, 'published'],
      top: ['succeeded', 1, 'published'],
    });
    // Each model's job ran once, and both workers took some.
    expect((await completed(4)).sort()).toEqual(['base', 'left_side', 'right_side', 'top']);
    expect(w1.done.length).toBeGreaterThan(0);
    expect(w2.done.length).toBeGreaterThan(0);
    const { base, left_side: left, right_side: right, top } = run.tasks;
    expect(time(left!.startedAt)).toBeGreaterThanOrEqual(time(base!.finishedAt));
    expect(time(right!.startedAt)).toBeGreaterThanOrEqual(time(base!.finishedAt));
    expect(time(top!.startedAt)).toBeGreaterThanOrEqual(Math.max(time(left!.finishedAt), time(right!.finishedAt)));
    for (const m of ['base', 'left_side', 'right_side', 'top']) expect(outcome(run, m)).toMatchObject({ model: m, status: 'published', runId: id });
    expect(outcome(run, 'base').rows).toBe(5000);
    expect(outcome(run, 'top').rows).toBeGreaterThan(0);
    expect((await readCurrentPointer(t.deps.store, 'gold', { schema: 'gold', name: 'top' }))?.runId).toBe(id);

    // Queued again with nothing changed: every model up to date, no pointer moves.
    const again = await queued(runId());
    expect(Object.values(again.tasks).map((x) => x.detail)).toEqual(['up-to-date', 'up-to-date', 'up-to-date', 'up-to-date']);
    expect(outcome(again, 'top').runId).toBe(id);
  });

  it('a failing model skips only its downstream models; a retry builds only those; the results equal an inline run', async () => {
    // left_side now fails an error test: top (which reads it) is skipped, right_side still builds.
    write({ 'gold/left_side.sql': `/* ---\ncolumns:\n  item_id:\n    tests: [{ expression: "item_id < 100" }]\n--- */\nSELECT item_id, category FROM {{ ref('base') }}\n` });
    const before = await readCurrentPointer(t.deps.store, 'gold', { schema: 'gold', name: 'top' });
    const topBefore = await topRows();
    const id = runId();
    const run = await queued(id, true);
    expect(run.state).toBe('failed');
    expect(Object.fromEntries(Object.entries(run.tasks).map(([n, task]) => [n, task.state]))).toEqual({ base: 'succeeded', left_side: 'failed', right_side: 'succeeded', top: 'skipped' });
    expect(outcome(run, 'left_side')).toMatchObject({ status: 'failed', errorCode: 'DATA_TEST_FAILED' });
    expect(outcome(run, 'left_side').tests[0]!.failingRows).toBe(5000 - 99);
    expect(run.tasks.top!.result).toBeUndefined();
    expect(await readCurrentPointer(t.deps.store, 'gold', { schema: 'gold', name: 'top' })).toEqual(before);
    expect(await topRows()).toEqual(topBefore);
    expect((await readCurrentPointer(t.deps.store, 'gold', { schema: 'gold', name: 'right_side' }))?.runId).toBe(id);

    // The same project inline: the same statuses, rows and tests.
    const inline = await runTransforms(t.deps, planTransform(dir), { runId: runId(), fullRefresh: true });
    const shape = (o: TransformModelOutcome | undefined) => (o ? [o.model, o.status, o.rows, o.tests.map((x) => [x.name, x.failingRows])] : undefined);
    expect(inline.models.filter((m) => m.status !== 'skipped').map(shape)).toEqual(['base', 'left_side', 'right_side'].map((m) => shape(outcome(run, m))));
    expect(inline.models.find((m) => m.model === 'top')).toMatchObject({ status: 'skipped', error: 'skipped: its input left_side was not published' });

    // Fixed, then the failed run retried (as `corrente retry` does): only left_side and top run
    // again, under the same run id; base and right_side keep their builds.
    write(FILES);
    const runs = await w1.runs();
    const jobsBefore = await completed(4 + 4 + 3);
    const retriedAt = Date.now();
    await runs.retry(id);
    const fixed = await waitForDagRun(runs.store, id, { pollMs: 100 });
    expect(fixed.state).toBe('succeeded');
    const after = await completed(jobsBefore.length + 2);
    const ran = [...new Set(after)].flatMap((m) => Array<string>(after.filter((x) => x === m).length - jobsBefore.filter((x) => x === m).length).fill(m));
    expect(ran.sort()).toEqual(['left_side', 'top']);
    expect([fixed.tasks.base!.finishedAt, fixed.tasks.right_side!.finishedAt]).toEqual([run.tasks.base!.finishedAt, run.tasks.right_side!.finishedAt]);
    expect(time(fixed.tasks.left_side!.startedAt)).toBeGreaterThanOrEqual(retriedAt);
    expect(outcome(fixed, 'top')).toMatchObject({ status: 'published', runId: id });
    expect((await readCurrentPointer(t.deps.store, 'gold', { schema: 'gold', name: 'left_side' }))?.runId).toBe(id);
    const queuedTop = await topRows();
    await runTransforms(t.deps, planTransform(dir), { runId: runId(), fullRefresh: true });
    expect(await topRows()).toEqual(queuedTop);
    expect(queuedTop.length).toBeGreaterThan(0);
  });

  it('a model stopped by its worker shutting down goes back to the queue and another worker builds it', async () => {
    const slowDir = join(root, 'slow');
    mkdirSync(join(slowDir, 'silver'), { recursive: true });
    // Minutes of work: only the shutdown ends it.
    writeFileSync(join(slowDir, 'silver', 'slow.sql'), `SELECT count(*)::BIGINT AS n FROM range(100000) a, range(100000) b WHERE (a.range * b.range) % 7 = 3\n`);
    const own = `t-tq-slow-${randomBytes(4).toString('hex')}`;
    const quitting = await startTransformWorker({ prefix: own, lakeDir: t.lake.dir, transformsDir: slowDir, worker: { shutdownGraceSeconds: 1 } });
    let other: TransformWorker | undefined;
    try {
      const runs = await quitting.runs();
      const id = runId();
      await queueTransformRun(runs, id, [{ name: 'slow', needs: [] }]);
      for (let i = 0; i < 200 && (await runs.store.get(id))?.tasks.slow?.state !== 'running'; i++) await sleep(50);
      expect((await runs.store.get(id))?.tasks.slow?.state).toBe('running');
      const t0 = Date.now();
      await quitting.close();
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(quitting.done).toEqual([]);
      // The next worker reads the model as it is now (made quick), and builds it.
      writeFileSync(join(slowDir, 'silver', 'slow.sql'), `SELECT 1::BIGINT AS n\n`);
      other = await startTransformWorker({ prefix: own, lakeDir: t.lake.dir, transformsDir: slowDir });
      const store = (await other.runs()).store;
      expect((await store.get(id))?.tasks.slow).toMatchObject({ state: 'running', attempts: 1 });
      const run = await waitForDagRun(store, id, { pollMs: 100 });
      expect(run.state).toBe('succeeded');
      expect(run.tasks.slow).toMatchObject({ state: 'succeeded', attempts: 1, detail: 'published', rows: 1 });
      expect(await readCurrentPointer(t.deps.store, 'silver', { schema: 'silver', name: 'slow' })).toMatchObject({ runId: id });
    } finally {
      await other?.close();
      await quitting.close();
    }
  }, 60_000);
});
