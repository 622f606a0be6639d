/**
 * A worker killed (SIGKILL) in the middle of a pipeline task: another worker takes the
 * task once its lock expires (`worker.lockSeconds`), runs it again, and the run succeeds
 * and continues with the downstream task; nothing ran twice downstream.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliSandbox, runCli, spawnCli, type CliSandbox, type SpawnedCli } from '../helpers/cli.js';

let sb: CliSandbox;
const workers: SpawnedCli[] = [];

beforeAll(async () => {
  sb = await createCliSandbox();
  await writeFile(
    join(sb.cwd, 'corrente.yaml'),
    `worker: { lockSeconds: 2 }
pipelines:
  slow:
    tasks:
      work: { kind: command, command: "echo start >> work.log; sleep 4; echo end >> work.log" }
      after: { kind: command, command: "echo after >> after.log", needs: [work] }
`,
  );
});

afterAll(async () => {
  for (const w of workers) {
    w.child.kill('SIGKILL');
    await w.exited;
  }
  await sb?.cleanup();
});

const lines = async (file: string): Promise<string[]> => (await readFile(join(sb.cwd, file), 'utf8').catch(() => '')).split('\n').filter(Boolean);

describe('pipeline faults', () => {
  it('a worker killed mid-task: the task is taken by another worker and the run succeeds', async () => {
    workers.push(spawnCli(['worker', '--queues', 'pipeline'], sb.env, { cwd: sb.cwd }));
    const started = await runCli(['run', 'slow', '--json'], sb.env, { cwd: sb.cwd });
    expect(started.code).toBe(0);
    const runId = (JSON.parse(started.stdout) as { runId: string }).runId;
    for (let i = 0; i < 200 && (await lines('work.log')).length === 0; i++) await sleep(50);
    expect(await lines('work.log')).toEqual(['start']);
    workers[0]!.child.kill('SIGKILL');
    await workers[0]!.exited;
    workers.push(spawnCli(['worker', '--queues', 'pipeline'], sb.env, { cwd: sb.cwd }));
    let run: { state: string; tasks: Record<string, { state: string }> } | undefined;
    for (let i = 0; i < 60; i++) {
      run = JSON.parse((await runCli(['runs', runId, '--json'], sb.env, { cwd: sb.cwd })).stdout) as typeof run;
      if (run!.state !== 'running') break;
      await sleep(500);
    }
    expect(run!.state).toBe('succeeded');
    expect((await lines('work.log')).filter((l) => l === 'start')).toHaveLength(2);
    expect(await lines('after.log')).toEqual(['after']);
  }, 90_000);
});
