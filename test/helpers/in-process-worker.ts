import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, type Config } from '../../src/config/index.js';
import { createRuntime } from '../../src/runtime/index.js';
import { noopLogger } from '../../src/shared/logger.js';
import { isRunFinished, type RunStatus } from '../../queues/index.js';
import { startWorkers, type RunningWorkers } from '../../workers/start-workers.js';
import { createWorkerContext, type WorkerContext } from '../../workers/worker-context.js';

export interface InProcessWorker {
  config: Readonly<Config>;
  ctx: WorkerContext;
  workers: RunningWorkers;
  lakeDir: string;
  /** Polls the run until every table is final. */
  waitForRun(runId: string, timeoutMs?: number): Promise<RunStatus>;
  close(): Promise<void>;
}

/** A worker in this process with its own Redis prefix and lake directory. */
export async function startInProcessWorker(postgresUrl: string, overrides: Record<string, unknown> = {}): Promise<InProcessWorker> {
  const lakeDir = await mkdtemp(join(tmpdir(), 'corrente-lake-'));
  const config = loadConfig({
    env: {},
    overrides: { postgres: { url: postgresUrl }, redis: { prefix: `t-${randomUUID().slice(0, 8)}` }, storage: { lakeDir }, worker: { backoffMs: 200 }, ...overrides },
  });
  const runtime = createRuntime(config, noopLogger);
  let ctx: WorkerContext;
  let workers: RunningWorkers;
  try {
    ctx = await createWorkerContext(runtime);
    workers = await startWorkers(ctx);
  } catch (err) {
    await runtime.close().catch(() => {});
    throw err;
  }
  return {
    config,
    ctx,
    workers,
    lakeDir,
    waitForRun: async (runId, timeoutMs = 120_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const run = await ctx.runs.get(runId);
        if (run && isRunFinished(run)) return run;
        if (Date.now() > deadline) throw new Error(`run ${runId} not finished after ${timeoutMs} ms: ${JSON.stringify(run)}`);
        await sleep(100);
      }
    },
    close: async () => {
      await workers.close();
      await runtime.close();
      await rm(lakeDir, { recursive: true, force: true });
    },
  };
}
