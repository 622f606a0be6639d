/**
 * A worker in this process serving only the `transform` queue, on a given Redis prefix
 * and local lake: tests start several on one prefix to see models spread over workers.
 */
import type { Job } from 'bullmq';
import { loadConfig, type Config } from '../../src/config/index.js';
import { createRuntime, type Runtime } from '../../src/runtime/index.js';
import { noopLogger } from '../../src/shared/logger.js';
import { openPipelineRuns, queueRuntime, type PipelineJobData, type PipelineRuns } from '../../queues/index.js';
import { startWorkers, type RunningWorkers } from '../../workers/start-workers.js';
import { createWorkerContext } from '../../workers/worker-context.js';
import { TEST_DATABASE_URL } from './pg.js';

export interface TransformWorker {
  config: Readonly<Config>;
  runtime: Runtime;
  workers: RunningWorkers;
  /** Models whose jobs this worker completed, in order. */
  done: string[];
  /** The run machinery on this worker's connection (to queue runs and read them). */
  runs(): Promise<PipelineRuns>;
  close(): Promise<void>;
}

export async function startTransformWorker(options: { prefix: string; lakeDir: string; transformsDir: string; postgresUrl?: string; worker?: Record<string, unknown> }): Promise<TransformWorker> {
  const config = loadConfig({
    env: {},
    overrides: {
      postgres: { url: options.postgresUrl ?? TEST_DATABASE_URL },
      redis: { prefix: options.prefix },
      storage: { lakeDir: options.lakeDir },
      transform: { dir: options.transformsDir, concurrency: 1, memoryMb: 64, threads: 1 },
      ...(options.worker ? { worker: options.worker } : {}),
    },
  });
  const runtime = createRuntime(config, noopLogger);
  let workers: RunningWorkers;
  try {
    workers = await startWorkers(await createWorkerContext(runtime), { queues: ['transform'] });
  } catch (err) {
    await runtime.close().catch(() => {});
    throw err;
  }
  const done: string[] = [];
  for (const w of workers.workers) w.on('completed', (job: Job<PipelineJobData>) => void (job.data.kind === 'task' && done.push(job.data.task)));
  let runs: Promise<PipelineRuns> | undefined;
  return {
    config,
    runtime,
    workers,
    done,
    runs: () => (runs ??= openPipelineRuns(queueRuntime(runtime), config)),
    close: async () => {
      await workers.close();
      await runtime.close();
    },
  };
}
