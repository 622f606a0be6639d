/**
 * `migrate --inline` killed mid-export (SIGKILL): its jobs stay on the run's own queues,
 * where no shared worker takes them, and `migrate --inline --run-id <same id>` serves those
 * queues again, recovers the stalled job once its lock expires, and publishes the whole
 * table; the run's queues are gone afterwards. Slow (BullMQ's 60 s lock), hence a fault test.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliSandbox, runCli, spawnCli, TEST_REDIS_URL, type CliSandbox, type RunJson } from '../helpers/cli.js';
import { createTestSchema, type TestSchema } from '../helpers/pg.js';
import { createFactsTable, sleep, TABLE } from './harness.js';

const ROWS = 1_000_000;
let db: TestSchema;
let s: CliSandbox;
let redis: Redis;

beforeAll(async () => {
  db = await createTestSchema('inres');
  await createFactsTable(db.admin, db.schema, ROWS);
  s = await createCliSandbox();
  // Small files: the export leaves several in the lake before it is killed.
  await writeFile(join(s.cwd, 'corrente.yaml'), 'export:\n  fileTargetMb: 0.1\n  rowGroupRows: 8192\n');
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
}, 120_000);

afterAll(async () => {
  redis?.disconnect();
  await s?.cleanup();
  await db?.drop();
});

async function tableState(runId: string, table: string): Promise<string | undefined> {
  const raw = await redis.hget(`${s.prefix}:run:${runId}`, table);
  return raw ? (JSON.parse(raw) as { state: string }).state : undefined;
}

describe('migrate --inline after a crash', () => {
  it('resumes the run on its own queues when started again with the same --run-id', async () => {
    const ref = `${db.schema}.${TABLE}`;
    const first = spawnCli(['migrate', '--tables', ref, '--inline', '--run-id', 'resume1'], s.env, { cwd: s.cwd });
    const deadline = Date.now() + 60_000;
    while ((await tableState('resume1', ref)) !== 'exporting') {
      if (Date.now() > deadline || first.child.exitCode !== null) throw new Error(`never saw the export start\n${first.output().stderr}`);
      await sleep(50);
    }
    await sleep(300);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(await tableState('resume1', ref)).toBe('exporting');
    // The job waits on the run's own queue, not on the shared one.
    expect(await redis.exists(`${s.prefix}:export-run-resume1:meta`)).toBe(1);
    expect(await redis.zcard(`${s.prefix}:export:completed`)).toBe(0);

    const again = await runCli(['migrate', '--tables', ref, '--inline', '--run-id', 'resume1', '--json'], s.env, { cwd: s.cwd, timeoutMs: 240_000 });
    expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
    expect(again.stderr).toMatch(/run resume1: 0 table\(s\) queued, 1 already in progress/);
    const run = JSON.parse(again.stdout) as RunJson;
    expect(run.tables[0]).toMatchObject({ table: ref, state: 'published', rows: ROWS, verification: 'passed' });
    expect(await redis.exists(`${s.prefix}:export-run-resume1:meta`)).toBe(0);
  }, 300_000);
});
