/**
 * A table's lifecycle written through the run store to the machine's Redis: every path
 * a job takes (plain, chunked, retried, failed), the failure path's rules, refusals that
 * leave the status unchanged, and atomic changes under concurrent writers.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, RunStore, TableRun, type Redis, type TableStatus } from '../../queues/index.js';
import { CorrenteError } from '../../src/shared/errors.js';

const TABLE = { schema: 'core', name: 'orders' };
const T0 = Date.parse('2026-11-26T10:00:00.000Z');

describe('TableRun on Redis', () => {
  let redis: Redis;
  let runs: RunStore;
  const prefix = `t-life-${randomUUID().slice(0, 8)}`;

  beforeAll(() => {
    redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    runs = new RunStore(redis, prefix);
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  /** A run with one queued table, and a clock that advances one second per reading. */
  async function newRun(): Promise<{ runId: string; run: TableRun; status: () => Promise<TableStatus> }> {
    const runId = `r-${randomUUID().slice(0, 8)}`;
    await runs.createRun(runId, [TABLE]);
    let tick = 0;
    const run = new TableRun(runs, runId, TABLE, { now: () => new Date(T0 + 1000 * tick++) });
    return { runId, run, status: async () => (await runs.get(runId))!.tables[0]! };
  }

  const job = (attemptsMade: number, attempts = 3) => ({ attemptsMade, opts: { attempts } });

  it('export, verify, publish: states, counts and timings', async () => {
    const { run, status } = await newRun();
    expect((await status()).state).toBe('queued');
    await run.exportStarted(1);
    expect(await status()).toMatchObject({ state: 'exporting', startedAt: '2026-11-26T10:00:00.000Z', attempts: 1, updatedAt: '2026-11-26T10:00:00.000Z' });
    await run.exportProgress({ rows: 10, estimatedRows: 100, files: 1 });
    expect(await status()).toMatchObject({ state: 'exporting', rows: 10, estimatedRows: 100, files: 1 });
    await run.staged({ rows: 100, bytes: 2048, files: 2, exportSeconds: 1.5, stages: { read: 1, readPaused: 0, convert: 0.5, upload: 0.1, checksumWait: 0 } });
    expect(await status()).toMatchObject({ state: 'verifying', rows: 100, bytes: 2048, files: 2, exportSeconds: 1.5, stages: { read: 1 } });
    await run.published({ verification: 'passed', verifySeconds: 0.25, uris: ['file:///a'], checksums: ['sha256:00'] });
    const done = await status();
    expect(done).toMatchObject({ state: 'published', verification: 'passed', verifySeconds: 0.25, uris: ['file:///a'], checksums: ['sha256:00'], startedAt: '2026-11-26T10:00:00.000Z', updatedAt: '2026-11-26T10:00:03.000Z' });
    // Progress arriving late never touches a final table.
    await run.exportProgress({ rows: 1, estimatedRows: 1, files: 0 });
    expect(await status()).toEqual(done);
  });

  it('chunked: plan, finalize (retried in place), publish', async () => {
    const { run, status } = await newRun();
    await run.exportStarted(1);
    await run.chunksPlanned(4, 1_000_000);
    expect(await status()).toMatchObject({ state: 'exporting', chunks: 4, estimatedRows: 1_000_000 });
    // A chunk's transient failure records the error; the table keeps exporting.
    expect(await run.jobFailed('chunk', new Error('connection reset'), job(0))).toMatchObject({ retry: true, final: false });
    expect(await status()).toMatchObject({ state: 'exporting', error: { code: 'INTERNAL', message: 'connection reset' } });
    await run.staged({ rows: 1_000_000, bytes: 1, files: 4, exportSeconds: 9 });
    await run.jobFailed('finalize', new CorrenteError('STORAGE_UNREACHABLE', 'storage down'), job(0));
    expect((await status()).state).toBe('verifying');
    await run.staged({ rows: 1_000_000, bytes: 1, files: 4, exportSeconds: 9 });
    await run.published({ verification: 'passed', uris: [], checksums: [] });
    expect((await status()).state).toBe('published');
  });

  it('a transient export failure queues the table for its retry; the last attempt fails it', async () => {
    const { run, status } = await newRun();
    await run.exportStarted(1);
    const first = await run.jobFailed('export', new CorrenteError('POSTGRES_UNREACHABLE', 'postgres down'), job(0));
    expect(first).toEqual({ retry: true, final: false, code: 'POSTGRES_UNREACHABLE', message: 'postgres down' });
    expect(await status()).toMatchObject({ state: 'queued', error: { code: 'POSTGRES_UNREACHABLE' } });
    await run.exportStarted(2);
    expect(await status()).toMatchObject({ state: 'exporting', attempts: 2 });
    const last = await run.jobFailed('export', new CorrenteError('POSTGRES_UNREACHABLE', 'postgres down'), job(2));
    expect(last).toMatchObject({ retry: true, final: true });
    expect(await status()).toMatchObject({ state: 'failed', error: { code: 'POSTGRES_UNREACHABLE', message: 'postgres down' } });
  });

  it('an unrecoverable verify failure fails the table at once and marks the verification', async () => {
    const { run, status } = await newRun();
    await run.exportStarted(1);
    await run.staged({ rows: 1, bytes: 1, files: 1, exportSeconds: 1 });
    const failure = await run.jobFailed('verify', new CorrenteError('VERIFY_MISMATCH', 'checksums differ'), job(0));
    expect(failure).toMatchObject({ retry: false, final: true, code: 'VERIFY_MISMATCH' });
    expect(await status()).toMatchObject({ state: 'failed', verification: 'failed', error: { code: 'VERIFY_MISMATCH', message: 'checksums differ' } });
  });

  it('a job on a final table is refused and changes nothing; its failure changes nothing either', async () => {
    const { runId, run, status } = await newRun();
    await run.exportStarted(1);
    await run.staged({ rows: 1, bytes: 1, files: 1, exportSeconds: 1 });
    await run.published({ verification: 'passed', uris: [], checksums: [] });
    const published = await status();
    const refused = await run.exportStarted(2).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(CorrenteError);
    expect((refused as CorrenteError).code).toBe('RUN_STATE');
    expect((refused as CorrenteError).message).toBe(`Run ${runId}, table core.orders: cannot go from published to exporting (published is final)`);
    expect(await run.jobFailed('export', refused, job(0))).toMatchObject({ retry: false, final: true, code: 'RUN_STATE' });
    // A late failure of another job keeps the first outcome.
    await run.jobFailed('verify', new Error('late'), job(5));
    expect(await status()).toEqual(published);
  });

  it('a table whose record was lost takes the next move as it comes', async () => {
    const runId = `r-${randomUUID().slice(0, 8)}`;
    const run = new TableRun(runs, runId, TABLE);
    // No createRun: as after a Redis restart without persistence, mid-export.
    await run.staged({ rows: 5, bytes: 50, files: 1, exportSeconds: 2 });
    const found = await runs.get(runId);
    expect(found?.tables).toEqual([expect.objectContaining({ state: 'verifying', rows: 5 })]);
  });

  it('skipped is final', async () => {
    const { run, status } = await newRun();
    await run.skipped('other-run');
    expect(await status()).toMatchObject({ state: 'skipped', error: { code: 'DUPLICATE', message: 'already being exported by run other-run' } });
    await expect(run.exportStarted(1)).rejects.toMatchObject({ code: 'RUN_STATE' });
  });

  it('concurrent writers never lose a change', async () => {
    const { runId, status } = await newRun();
    await Promise.all(
      Array.from({ length: 25 }, () =>
        runs.change(runId, TABLE, (current) => ({ ...current!, rows: current!.rows + 1, updatedAt: new Date().toISOString() })),
      ),
    );
    expect((await status()).rows).toBe(25);
    // Two chunks failing for good at once: the table fails once, neither write throws.
    const a = new TableRun(runs, runId, TABLE);
    await a.exportStarted(1);
    await Promise.all([a.jobFailed('chunk', new CorrenteError('UNSUPPORTED_VALUE', 'a'), job(0)), a.jobFailed('chunk', new CorrenteError('UNSUPPORTED_VALUE', 'b'), job(0))]);
    expect((await status()).state).toBe('failed');
  });
});
