/**
 * The pipeline commands as a user runs them: a worker and two schedulers in the
 * background, `run --wait`, `runs`, `pause`/`resume`, `cancel`, `retry`, `backfill`, and
 * the scheduler re-applying schedules when corrente.yaml changes. Exit codes as documented.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliSandbox, expectCleanFailure, runCli, spawnCli, TEST_REDIS_URL, type CliSandbox, type SpawnedCli } from '../helpers/cli.js';

let sb: CliSandbox;
let worker: SpawnedCli;
const schedulers: SpawnedCli[] = [];

const yaml = (withSchedule: boolean) => `
pipelines:
  ok:
    tasks:
      first: { kind: command, command: "echo first-output; echo $CORRENTE_RUN_ID > run-id.txt" }
      second: { kind: command, command: "echo second", needs: [first] }
  flaky:
    tasks:
      a: { kind: command, command: "true" }
      b: { kind: command, command: "test -f fixed || { echo not fixed yet >&2; exit 4; }", needs: [a] }
  daily:
    schedule: { cron: "0 2 * * *", tz: America/Sao_Paulo }
    catchup: none
    tasks:
      t: { kind: command, command: "echo $CORRENTE_INTERVAL_START >> intervals.txt" }
${withSchedule ? `  ticking:
    schedule: { cron: "* * * * * *" }
    catchup: none
    tasks:
      t: { kind: command, command: "true" }
` : ''}`;

beforeAll(async () => {
  sb = await createCliSandbox({ WORKER_CONCURRENCY: '2' });
  await writeFile(join(sb.cwd, 'corrente.yaml'), yaml(true));
  worker = spawnCli(['worker', '--queues', 'pipeline'], sb.env, { cwd: sb.cwd });
  for (let i = 0; i < 2; i++) schedulers.push(spawnCli(['scheduler'], { ...sb.env, LOG_LEVEL: 'info' }, { cwd: sb.cwd }));
}, 30_000);

afterAll(async () => {
  for (const p of [worker, ...schedulers]) {
    p?.child.kill('SIGTERM');
    await p?.exited;
  }
  await sb?.cleanup();
});

const cli = (...args: string[]) => runCli(args, sb.env, { cwd: sb.cwd });

describe('corrente run / runs / pause / resume / cancel / retry / backfill / scheduler', () => {
  it('runs a pipeline with --wait, showing each task, and lists it in runs with its log', async () => {
    const r = await cli('run', 'ok', '--wait');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^run (ok-manual-\S+): started\n/);
    expect(r.stdout).toMatch(/ {2}first +succeeded: exit 0 in/);
    expect(r.stdout).toMatch(/run ok-manual-\S+ succeeded in \d+\.\d s\n$/);
    const runId = /^run (\S+):/.exec(r.stdout)![1]!;
    expect((await readFile(join(sb.cwd, 'run-id.txt'), 'utf8')).trim()).toBe(runId);
    const list = await cli('runs', 'ok', '--json');
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as Array<{ runId: string; state: string }>).map((x) => [x.runId, x.state])).toEqual([[runId, 'succeeded']]);
    const one = await cli('runs', runId);
    expect(one.stdout).toContain('  | first-output');
  });

  it('a failing run exits 1 and names the task; retry re-runs only what failed', async () => {
    const r = await cli('run', 'flaky', '--wait', '--json');
    expect(r.code).toBe(1);
    const run = JSON.parse(r.stdout) as { runId: string; state: string; error: string; tasks: Record<string, { state: string }> };
    expect(run.state).toBe('failed');
    expect(run.error).toMatch(/^task b failed: Command exited with code 4: not fixed yet/);
    await writeFile(join(sb.cwd, 'fixed'), '');
    const again = await cli('retry', run.runId, '--wait');
    expect(again.code).toBe(0);
    expect(again.stdout, again.stdout).toMatch(new RegExp(`^run ${run.runId}: retrying b \\(started\\)`));
    expectCleanFailure(await cli('retry', run.runId), 2, [/is succeeded: only failed, cancelled or skipped runs can be retried/]);
    expectCleanFailure(await cli('cancel', run.runId), 2, [/already ended \(succeeded\)/]);
  });

  it('pause refuses manual runs until resume; unknown names exit 2 with a suggestion', async () => {
    expect((await cli('pause', 'ok')).code).toBe(0);
    expectCleanFailure(await cli('run', 'ok'), 2, [/Pipeline ok is paused.*corrente resume ok/]);
    expect((await cli('resume', 'ok')).code).toBe(0);
    expectCleanFailure(await cli('run', 'flakey'), 2, [/Unknown pipeline "flakey".*Did you mean flaky\?/]);
  });

  it('backfill over three days makes three runs, oldest first', async () => {
    const r = await cli('backfill', 'daily', '--from', '2026-11-01', '--to', '2026-11-03', '--wait');
    expect(r.code).toBe(0);
    // Each run is started, or queued behind the previous one when it is still running.
    const lines = r.stdout.split('\n').slice(0, 3);
    expect(lines.map((l) => l.replace(/: (started|queued behind the active run)$/, ''))).toEqual([
      'run daily-20261102T050000Z [2026-11-01T05:00:00.000Z .. 2026-11-02T05:00:00.000Z)',
      'run daily-20261103T050000Z [2026-11-02T05:00:00.000Z .. 2026-11-03T05:00:00.000Z)',
      'run daily-20261104T050000Z [2026-11-03T05:00:00.000Z .. 2026-11-04T05:00:00.000Z)',
    ]);
    expect((await readFile(join(sb.cwd, 'intervals.txt'), 'utf8')).trim().split('\n')).toEqual(['2026-11-01T05:00:00.000Z', '2026-11-02T05:00:00.000Z', '2026-11-03T05:00:00.000Z']);
  });

  it('two schedulers keep one schedule per pipeline, fire each second once, and drop a schedule removed from the file', async () => {
    const redis = new Redis(TEST_REDIS_URL);
    try {
      // Firings of `ticking` (every second) become runs named by their interval: never two of one second.
      await sleep(3500);
      const ids = await redis.zrange(`${sb.prefix}:pl:ticking:runs`, '0', '-1');
      expect(ids.length).toBeGreaterThanOrEqual(2);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.every((id) => /^ticking-\d{8}T\d{6}Z$/.test(id))).toBe(true);
      const schedulersKey = (await redis.keys(`${sb.prefix}:pipeline:repeat*`)).filter((k) => !k.includes(':repeat:'));
      expect((await redis.zrange(schedulersKey[0]!, '0', '-1')).sort()).toEqual(['pipeline.daily', 'pipeline.ticking']);
      await writeFile(join(sb.cwd, 'corrente.yaml'), yaml(false));
      let left: string[] = [];
      for (let i = 0; i < 60; i++) {
        left = await redis.zrange(schedulersKey[0]!, '0', '-1');
        if (!left.includes('pipeline.ticking')) break;
        await sleep(100);
      }
      expect(left).toEqual(['pipeline.daily']);
    } finally {
      redis.disconnect();
    }
    for (const s of schedulers) expect(s.output().stderr).not.toMatch(/"level":(50|60)/);
  });
});
