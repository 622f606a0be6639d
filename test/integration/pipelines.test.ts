/**
 * Pipeline runs on the real queue with a real worker: DAG order, failure stopping
 * downstream tasks, retries, timeouts, bounded output, overlap policies, cancel, retry,
 * backfill, catch-up with two schedulers, and webhook alerts to a local receiver.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intervalsStartingIn, parseDateIn } from '../../src/config/index.js';
import { FINAL_RUN_STATES, openPipelineRuns, queueRuntime, type PipelineRunRecord, type PipelineRuns } from '../../queues/index.js';
import { applyPipelineSchedules, catchUp } from '../../scheduler/pipeline-scheduler.js';
import { TEST_DATABASE_URL } from '../helpers/pg.js';
import { startInProcessWorker, type InProcessWorker } from '../helpers/in-process-worker.js';

let w: InProcessWorker;
let runs: PipelineRuns;
let dir: string;
let receiver: Server;
const received: Array<{ url: string; body: Record<string, unknown> }> = [];
let failNextPosts = 0;

const cmd = (command: string, extra: Record<string, unknown> = {}) => ({ kind: 'command', command, ...extra });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'corrente-pipelines-'));
  receiver = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      if (failNextPosts > 0) {
        failNextPosts--;
        res.writeHead(503).end();
        return;
      }
      received.push({ url: req.url ?? '', body: JSON.parse(text) as Record<string, unknown> });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as { port: number }).port;
  const out = join(dir, 'order.log');
  w = await startInProcessWorker(TEST_DATABASE_URL, {
    worker: { concurrency: 4, backoffMs: 100 },
    history: { logBytes: 64 * 1024 },
    alerts: { webhook: `http://127.0.0.1:${port}/hooks/s3cr3t-token?key=abc`, onSuccess: true, retries: 2, backoff: 0.05, timeout: 2 },
    pipelines: {
      dag: {
        tasks: {
          a: cmd(`echo a >> ${out}; echo "$CORRENTE_PIPELINE $CORRENTE_RUN_ID $CORRENTE_TASK" > ${dir}/env`),
          b: cmd(`echo b >> ${out}`, { needs: ['a'] }),
          c: cmd(`echo c >> ${out}`, { needs: ['a'] }),
          d: cmd(`echo d >> ${out}`, { needs: ['b', 'c'] }),
        },
      },
      failing: {
        alerts: { webhook: `http://127.0.0.1:${port}/hooks/failing`, retries: 3, backoff: 0.05 },
        tasks: {
          a: cmd(`echo once >> ${dir}/a-count`),
          b: cmd(`echo starting; test -f ${dir}/fixed || { echo "no input file" >&2; exit 3; }`, { needs: ['a'], retries: 1, backoff: 0.1 }),
          c: cmd('true', { needs: ['a'] }),
          d: cmd(`echo d >> ${dir}/d-count`, { needs: ['b'] }),
        },
      },
      hang: { alerts: false, tasks: { sleep: cmd('sleep 30', { timeout: '1s' }) } },
      chatty: { alerts: false, tasks: { print: cmd("head -c 3000000 /dev/zero | tr '\\0' x; echo; echo END") } },
      'slow-skip': { overlap: 'skip', alerts: false, tasks: { s: cmd('sleep 1') } },
      'slow-queue': { alerts: false, tasks: { s: cmd(`sleep 0.5; date +%s%N >> ${dir}/queue-order`) } },
      cancellable: { alerts: false, tasks: { s: cmd(`sleep 30; touch ${dir}/not-cancelled`), after: cmd(`touch ${dir}/after-ran`, { needs: ['s'] }) } },
      daily: {
        alerts: false,
        schedule: { cron: '0 2 * * *', tz: 'America/Sao_Paulo' },
        tasks: { t: cmd(`echo "$CORRENTE_INTERVAL_START $CORRENTE_INTERVAL_END" >> ${dir}/intervals`) },
      },
      'hourly-all': { alerts: false, catchup: 'all', schedule: { cron: '0 * * * *', start: '2026-11-01T00:30:00Z' }, tasks: { t: cmd('true') } },
      'hourly-latest': { alerts: false, schedule: { cron: '0 * * * *', start: '2026-11-01T00:30:00Z' }, tasks: { t: cmd('true') } },
    },
  });
  runs = await openPipelineRuns(queueRuntime(w.ctx.runtime), w.config);
}, 60_000);

afterAll(async () => {
  await w?.close();
  await new Promise((r) => receiver?.close(r));
  await rm(dir, { recursive: true, force: true });
});

async function waitFor(runId: string, timeoutMs = 30_000): Promise<PipelineRunRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await runs.store.get(runId);
    if (run && FINAL_RUN_STATES.has(run.state)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} not finished: ${JSON.stringify(run)}`);
    await sleep(50);
  }
}

const states = (run: PipelineRunRecord) => Object.fromEntries(Object.entries(run.tasks).map(([n, t]) => [n, t.state]));

describe('pipeline runs', () => {
  it('runs tasks in DAG order with the run in their environment, and posts a success alert', async () => {
    const { runId, outcome } = await runs.trigger('dag', { trigger: 'manual' });
    expect(outcome).toBe('started');
    const run = await waitFor(runId);
    expect(run.state).toBe('succeeded');
    const order = (await readFile(join(dir, 'order.log'), 'utf8')).trim().split('\n');
    expect(order[0]).toBe('a');
    expect(order.slice(1, 3).sort()).toEqual(['b', 'c']);
    expect(order[3]).toBe('d');
    expect((await readFile(join(dir, 'env'), 'utf8')).trim()).toBe(`dag ${runId} a`);
    for (let i = 0; i < 50 && !received.some((r) => r.body.runId === runId); i++) await sleep(50);
    const alert = received.find((r) => r.body.runId === runId)!;
    expect(alert.url).toBe('/hooks/s3cr3t-token?key=abc');
    expect(alert.body).toMatchObject({ event: 'pipeline.run.succeeded', pipeline: 'dag', state: 'succeeded' });
  });

  it('a task failing after its retries skips its downstream tasks, fails the run, alerts (retrying the webhook); retry re-runs only failed and skipped tasks', async () => {
    failNextPosts = 2;
    const { runId } = await runs.trigger('failing', { trigger: 'manual' });
    const run = await waitFor(runId);
    expect(run.state).toBe('failed');
    expect(states(run)).toEqual({ a: 'succeeded', b: 'failed', c: 'succeeded', d: 'skipped' });
    expect(run.tasks.b!.attempts).toBe(2);
    expect(run.tasks.b!.error).toEqual({ code: 'TASK_FAILED', message: 'Command exited with code 3: no input file. See the task log with `corrente runs <run>`' });
    expect(run.error).toMatch(/^task b failed: Command exited with code 3/);
    expect(await runs.store.getLog(runId, 'b')).toBe('starting\nno input file\n');
    await expect(readFile(join(dir, 'd-count'), 'utf8')).rejects.toThrow();
    for (let i = 0; i < 50 && !received.some((r) => r.body.runId === runId); i++) await sleep(50);
    expect(failNextPosts).toBe(0);
    expect(received.find((r) => r.body.runId === runId)?.body).toMatchObject({ event: 'pipeline.run.failed', error: expect.stringMatching(/^task b failed/) });

    await writeFile(join(dir, 'fixed'), '');
    const retried = await runs.retry(runId);
    expect(retried.outcome).toBe('started');
    const again = await waitFor(runId);
    expect(again.state).toBe('succeeded');
    expect(again.generation).toBe(1);
    expect(states(again)).toEqual({ a: 'succeeded', b: 'succeeded', c: 'succeeded', d: 'succeeded' });
    expect((await readFile(join(dir, 'a-count'), 'utf8')).trim().split('\n')).toHaveLength(1);
  });

  it('a hanging command is killed at its timeout', async () => {
    const t0 = Date.now();
    const { runId } = await runs.trigger('hang', { trigger: 'manual' });
    const run = await waitFor(runId);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(run.tasks.sleep).toMatchObject({ state: 'failed', error: { code: 'ABORTED', message: 'Task sleep of hang exceeded its timeout (1 s). Raise pipelines.hang.tasks.sleep.timeout' } });
  });

  it('megabytes of output are kept bounded: head, a marker, and the tail', async () => {
    const { runId } = await runs.trigger('chatty', { trigger: 'manual' });
    expect((await waitFor(runId)).state).toBe('succeeded');
    const log = (await runs.store.getLog(runId, 'print'))!;
    expect(log.length).toBeLessThan(64 * 1024 + 100);
    expect(log).toMatch(/^x{16384}\n\[\.\.\. \d+ bytes of output omitted \.\.\.\]\nx+\nEND\n$/);
    expect(Number(/(\d+) bytes of output omitted/.exec(log)![1])).toBe(3_000_005 - 64 * 1024);
  });

  it('overlap: skip refuses a trigger while a run is active; queue runs it afterwards', async () => {
    const first = await runs.trigger('slow-skip', { trigger: 'manual' });
    const second = await runs.trigger('slow-skip', { trigger: 'manual' });
    expect([first.outcome, second.outcome]).toEqual(['started', 'skipped']);
    expect(second.run.error).toBe(`skipped: run ${first.runId} of slow-skip was still active (overlap: skip)`);
    expect((await waitFor(first.runId)).state).toBe('succeeded');

    const q1 = await runs.trigger('slow-queue', { trigger: 'manual' });
    const q2 = await runs.trigger('slow-queue', { trigger: 'manual' });
    expect([q1.outcome, q2.outcome]).toEqual(['started', 'queued']);
    const [r1, r2] = [await waitFor(q1.runId), await waitFor(q2.runId)];
    expect([r1.state, r2.state]).toEqual(['succeeded', 'succeeded']);
    expect(Date.parse(r2.startedAt!)).toBeGreaterThanOrEqual(Date.parse(r1.finishedAt!));
  });

  it('cancel aborts the running task; its downstream never runs', async () => {
    const { runId } = await runs.trigger('cancellable', { trigger: 'manual' });
    for (let i = 0; i < 100 && (await runs.store.get(runId))?.tasks.s?.state !== 'running'; i++) await sleep(50);
    const cancelled = await runs.cancel(runId);
    expect(cancelled.state).toBe('cancelled');
    expect(states(cancelled)).toEqual({ s: 'cancelled', after: 'cancelled' });
    await expect(runs.cancel(runId)).rejects.toMatchObject({ code: 'RUN_STATE' });
    // The next run is admitted at once: the cancelled one no longer holds the pipeline.
    const next = await runs.trigger('cancellable', { trigger: 'manual' });
    expect(next.outcome).toBe('started');
    await runs.cancel(next.runId);
    await sleep(1500);
    await expect(readFile(join(dir, 'not-cancelled'))).rejects.toThrow();
    await expect(readFile(join(dir, 'after-ran'))).rejects.toThrow();
  });

  it('backfill over three days makes three runs, oldest first, each with its interval; a second backfill adds nothing', async () => {
    const tz = 'America/Sao_Paulo';
    const intervals = intervalsStartingIn({ cron: '0 2 * * *', tz }, parseDateIn('2026-11-01', tz, '--from'), parseDateIn('2026-11-04', tz, '--to'));
    const results = await runs.backfill('daily', intervals);
    // Started at once, or queued behind the previous one if it is still running: never overlapping.
    expect(results.every((r) => r.outcome === 'started' || r.outcome === 'queued')).toBe(true);
    const done = [];
    for (const r of results) done.push(await waitFor(r.runId));
    expect(done.map((r) => r.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    for (let i = 1; i < done.length; i++) expect(Date.parse(done[i]!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(done[i - 1]!.finishedAt!));
    expect((await readFile(join(dir, 'intervals'), 'utf8')).trim().split('\n')).toEqual([
      '2026-11-01T05:00:00.000Z 2026-11-02T05:00:00.000Z',
      '2026-11-02T05:00:00.000Z 2026-11-03T05:00:00.000Z',
      '2026-11-03T05:00:00.000Z 2026-11-04T05:00:00.000Z',
    ]);
    expect((await runs.backfill('daily', intervals)).map((r) => r.outcome)).toEqual(['done', 'done', 'done']);
  });

  it('two schedulers apply one job scheduler per pipeline and catch up each missed interval once, per policy', async () => {
    const { pipelines } = w.config;
    const scheduled = Object.fromEntries(Object.entries(pipelines).filter(([n]) => n.startsWith('hourly')));
    const other = await openPipelineRuns(queueRuntime(w.ctx.runtime), w.config);
    await Promise.all([applyPipelineSchedules(w.ctx.queues, scheduled), applyPipelineSchedules(w.ctx.queues, scheduled)]);
    expect((await w.ctx.queues.pipeline.getJobSchedulers(0, -1)).map((s) => s.key).sort()).toEqual(['pipeline.hourly-all', 'pipeline.hourly-latest']);
    // The scheduler was down from 00:30 to 02:40: two firings (01:00, 02:00) were missed.
    const now = new Date('2026-11-01T02:40:00Z');
    const [x, y] = await Promise.all([catchUp(runs, scheduled, now), catchUp(other, scheduled, now)]);
    const created = [...x, ...y].flatMap((c) => c.runs.map((r) => r.runId)).sort();
    expect(created).toEqual(['hourly-all-20261101T010000Z', 'hourly-all-20261101T020000Z', 'hourly-latest-20261101T020000Z']);
    for (const id of created) expect((await waitFor(id)).state).toBe('succeeded');
    // A restart adds nothing; removing the schedules from the config removes their schedulers.
    expect(await catchUp(runs, scheduled, now)).toEqual([]);
    expect((await applyPipelineSchedules(w.ctx.queues, {})).removed.sort()).toEqual(['hourly-all', 'hourly-latest']);
  });
});
