/**
 * Redis restarted (all state lost) while a pipeline task runs: the worker survives and
 * reconnects, nothing downstream of the interrupted run starts from a half-known state,
 * and the next run of the pipeline succeeds with each task run once. A private
 * redis-server on a free port is used, so the shared Redis of other suites is untouched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createCliSandbox, runCli, spawnCli, type CliSandbox, type SpawnedCli } from '../helpers/cli.js';
import { itWithTool } from '../helpers/known-limits.js';
import { closedPort } from './harness.js';

let sb: CliSandbox;
let dir: string;
let port: number;
let redis: ChildProcess | undefined;
const workers: SpawnedCli[] = [];

async function startRedis(): Promise<void> {
  redis = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const r = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined); // refused while starting: retried below
    const ok = await r.connect().then(() => r.ping()).catch(() => undefined);
    r.disconnect();
    if (ok === 'PONG') return;
    await sleep(100);
  }
  throw new Error('private redis-server did not start');
}

async function stopRedis(): Promise<void> {
  const child = redis;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL'); // no persistence: every key is lost, as after a crash
  await gone;
}

const lines = async (file: string): Promise<string[]> => (await readFile(join(sb.cwd, file), 'utf8').catch(() => '')).split('\n').filter(Boolean);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'corrente-faults-redis-pl-'));
  port = await closedPort();
  sb = await createCliSandbox({ REDIS_URL: `redis://127.0.0.1:${port}` });
  await writeFile(
    join(sb.cwd, 'corrente.yaml'),
    `pipelines:
  slow:
    tasks:
      work: { kind: command, command: "echo start >> work.log; sleep 3; echo end >> work.log" }
      after: { kind: command, command: "echo after >> after.log", needs: [work] }
`,
  );
});

afterAll(async () => {
  for (const w of workers) {
    w.child.kill('SIGKILL');
    await w.exited;
  }
  await stopRedis();
  await sb?.cleanup().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('pipeline faults', () => {
  itWithTool(
    'redis-server',
    'Redis restarted mid-task (all state lost): the worker reconnects and the next run succeeds, each task once',
    async () => {
      await startRedis();
      workers.push(spawnCli(['worker', '--queues', 'pipeline'], sb.env, { cwd: sb.cwd }));
      const first = await runCli(['run', 'slow', '--json'], sb.env, { cwd: sb.cwd });
      expect(first.code, first.stderr).toBe(0);
      for (let i = 0; i < 200 && (await lines('work.log')).length === 0; i++) await sleep(50);
      expect(await lines('work.log')).toEqual(['start']);
      await stopRedis();
      await sleep(1000);
      await startRedis();
      // The interrupted task's process finishes on its own; its run's record is gone, so
      // nothing may start downstream of it.
      await sleep(4000);
      expect(workers[0]!.child.exitCode, `worker exited\n${workers[0]!.output().stderr.slice(-2000)}`).toBeNull();
      expect(await lines('after.log')).toEqual([]);

      const second = await runCli(['run', 'slow', '--wait', '--json'], sb.env, { cwd: sb.cwd });
      expect(second.code, `${second.stdout}\n${second.stderr}`).toBe(0);
      expect((JSON.parse(second.stdout) as { state: string }).state).toBe('succeeded');
      expect((await lines('work.log')).filter((l) => l === 'start')).toHaveLength(2);
      expect(await lines('after.log')).toEqual(['after']);
    },
    { args: ['--version'], timeout: 120_000 },
  );
});
