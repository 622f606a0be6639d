/**
 * `migrate --inline` serves only its own run: jobs of a run queued on the shared queues
 * at the same time, and a schedule firing, are neither taken, run nor aborted by it; a
 * normal worker exports that run afterwards. An inline run still skips a table a shared
 * run holds, and leaves no queue of its own behind once finished.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJobId } from '../../queues/index.js';
import { createCliSandbox, runCli, spawnCli, TEST_REDIS_URL, type CliResult, type CliSandbox, type RunJson, type SpawnedCli } from '../helpers/cli.js';
import { createTestSchema, type TestSchema } from '../helpers/pg.js';
import { startS3Server } from '../helpers/s3-server.js';

let db: TestSchema;
let s: CliSandbox;
let redis: Redis;
let exportQ: Queue;
let scheduleQ: Queue;
let worker: SpawnedCli | undefined;

const qid = (x: string): string => `"${x.replace(/"/g, '""')}"`;

function describeResult(r: CliResult): string {
  return `exit ${r.code} (signal ${r.signal}) after ${r.ms} ms\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
}

function okJson<T>(r: CliResult): T {
  expect(r.code, describeResult(r)).toBe(0);
  return JSON.parse(r.stdout) as T;
}

async function status(runId: string): Promise<RunJson> {
  return okJson<RunJson[]>(await runCli(['status', runId, '--json'], s.env, { cwd: s.cwd }))[0]!;
}

async function redisKeys(pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out;
}

beforeAll(async () => {
  db = await createTestSchema('inl');
  for (const name of ['own', 'other']) {
    await db.admin.query(`CREATE TABLE ${qid(db.schema)}.${name} (id int PRIMARY KEY, amount numeric(12,2) NOT NULL, note text)`);
    await db.admin.query(`INSERT INTO ${qid(db.schema)}.${name} SELECT g, g * 1.25, CASE WHEN g % 5 = 0 THEN NULL ELSE 'n' || g END FROM generate_series(1, 3000) g`);
  }
  s = await createCliSandbox();
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  exportQ = new Queue('export', { connection: redis, prefix: s.prefix });
  scheduleQ = new Queue('schedule', { connection: redis, prefix: s.prefix });
});

afterAll(async () => {
  if (worker && worker.child.exitCode === null && worker.child.signalCode === null) {
    worker.child.kill('SIGKILL');
    await worker.exited;
  }
  await exportQ?.close();
  await scheduleQ?.close();
  redis?.disconnect();
  await s?.cleanup();
  await db?.drop();
});

describe('migrate --inline beside a run on the shared queues', () => {
  it('leaves the shared run and a schedule firing untouched, skips the table the shared run holds, and a normal worker exports the shared run later', async () => {
    const own = `${db.schema}.own`;
    const other = `${db.schema}.other`;

    // A run on the shared queues, with no worker running, and a schedule firing waiting.
    const queued = okJson<{ runId: string; queued: { added: boolean }[] }>(await runCli(['migrate', '--run-id', 'shared1', '--tables', other, '--json'], s.env, { cwd: s.cwd }));
    expect(queued.queued).toEqual([{ table: other, added: true }]);
    const sharedJobId = exportJobId('shared1', { schema: db.schema, name: 'other' });
    expect(await exportQ.getJobState(sharedJobId)).toBe('waiting');
    await scheduleQ.add('migrate', { scheduleId: 'nightly', tables: [own] }, { jobId: 'firing-1' });

    // The inline run exports its own table only.
    const inline = okJson<RunJson>(await runCli(['migrate', '--tables', own, '--inline', '--json'], s.env, { cwd: s.cwd, timeoutMs: 90_000 }));
    expect(inline.ok).toBe(true);
    expect(inline.tables).toHaveLength(1);
    expect(inline.tables[0]).toMatchObject({ table: own, state: 'published', rows: 3000, verification: 'passed' });

    // Another inline run asking for the table the shared run holds skips it, and does not take it.
    const clash = okJson<RunJson>(await runCli(['migrate', '--tables', other, '--inline', '--json'], s.env, { cwd: s.cwd, timeoutMs: 90_000 }));
    expect(clash.tables[0]).toMatchObject({ table: other, state: 'skipped' });
    expect(clash.tables[0]!.error?.message).toContain('shared1');

    // The shared run's job is still waiting, never attempted; its status still queued; no files.
    const job = await exportQ.getJob(sharedJobId);
    expect(await job!.getState()).toBe('waiting');
    expect(job!.attemptsMade).toBe(0);
    expect(job!.failedReason ?? '').toBe('');
    expect(await exportQ.getJobCounts('active', 'failed', 'completed', 'delayed')).toEqual({ active: 0, failed: 0, completed: 0, delayed: 0 });
    expect((await status('shared1')).tables[0]).toMatchObject({ table: other, state: 'queued', rows: 0 });
    await expect(readdir(join(s.lakeDir, 'bronze', db.schema, 'other'))).rejects.toMatchObject({ code: 'ENOENT' });
    // The schedule firing was not taken either.
    expect(await scheduleQ.getJobState('firing-1')).toBe('waiting');
    // Finished inline runs leave no queue of their own behind.
    expect(await redisKeys(`${s.prefix}:export-run-*`)).toEqual([]);
    expect(await redisKeys(`${s.prefix}:verify-run-*`)).toEqual([]);

    // A normal worker then exports the shared run. (The firing is removed first: it would
    // start a run of its own, which is not what this test is about.)
    await (await scheduleQ.getJob('firing-1'))!.remove();
    worker = spawnCli(['worker'], s.env, { cwd: s.cwd });
    const deadline = Date.now() + 60_000;
    let shared = await status('shared1');
    while (!['published', 'failed'].includes(shared.tables[0]!.state)) {
      if (Date.now() > deadline) throw new Error(`shared1 not finished: ${JSON.stringify(shared)}\n${worker.output().stderr}`);
      if (worker.child.exitCode !== null) throw new Error(`worker exited early (${worker.child.exitCode})\n${worker.output().stderr}`);
      await sleep(300);
      shared = await status('shared1');
    }
    expect(shared.tables[0]).toMatchObject({ table: other, state: 'published', rows: 3000, verification: 'passed' });
    expect(await readdir(join(s.lakeDir, 'bronze', db.schema, 'other'))).toEqual(expect.arrayContaining(['run-shared1', '_current.json']));

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
  });
});

describe('migrate --inline on S3: one runtime', () => {
  it('probes the bucket once for the whole run (front-door check and export jobs share one store)', async () => {
    const s3 = await startS3Server();
    const sb = await createCliSandbox({ MINIO_ENDPOINT: s3.endpoint, MINIO_ACCESS_KEY: s3.accessKey, MINIO_SECRET_KEY: s3.secretKey });
    try {
      const tables = `${db.schema}.own,${db.schema}.other`;
      const run = okJson<RunJson>(await runCli(['migrate', '--tables', tables, '--inline', '--json'], sb.env, { cwd: sb.cwd, timeoutMs: 90_000 }));
      expect(run.tables.map((t) => t.state)).toEqual(['published', 'published']);
      // Before the runtime: one probe up front and one per export job (3 HEADs and 3 write probes here).
      expect(s3.requests.filter((r) => /^HEAD \/bronze\/?(\?|$)/.test(r))).toHaveLength(1);
      expect(s3.requests.filter((r) => r.startsWith('PUT /bronze/.corrente-write-probe-'))).toHaveLength(1);
    } finally {
      await sb.cleanup();
      await s3.close();
    }
  });
});
