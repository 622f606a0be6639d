/**
 * `corrente worker`: a long-running worker; any number of them, on any machines, share
 * the queues. SIGINT/SIGTERM stop it gracefully; a second signal exits at once.
 */
import { isQueueName, type QueueName } from '../../queues/index.js';
import { withRuntime } from '../../src/runtime/index.js';
import { CorrenteError } from '../../src/shared/errors.js';
import { startWorkers } from '../../workers/start-workers.js';
import { createWorkerContext } from '../../workers/worker-context.js';
import type { CliContext } from '../cli-context.js';

export interface WorkerFlags {
  concurrency?: string;
  queues?: string;
}

export function parseQueues(value: string | undefined): QueueName[] | undefined {
  if (!value) return undefined;
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!isQueueName(n)) throw new CorrenteError('CONFIG_INVALID', `Unknown queue ${JSON.stringify(n)} in --queues`, { hint: 'Use any of export, verify, schedule, pipeline, transform, e.g. --queues export,verify' });
  }
  return names as QueueName[];
}

export async function workerCommand(ctx: CliContext, flags: WorkerFlags): Promise<number> {
  const queues = parseQueues(flags.queues);
  await withRuntime(ctx.config, ctx.logger, async (runtime) => {
    const running = await startWorkers(await createWorkerContext(runtime), { ...(queues ? { queues } : {}) });
    ctx.logger.info({ queues: queues ?? ['export', 'verify', 'schedule', 'pipeline', 'transform'], concurrency: ctx.config.worker.concurrency }, 'worker ready');
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) {
          ctx.logger.warn({ signal }, 'second signal: exiting now');
          process.exit(130);
        }
        stopping = true;
        ctx.logger.info({ signal, graceSeconds: ctx.config.worker.shutdownGraceSeconds }, 'stopping: finishing running jobs');
        resolve();
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
    // Graceful first: running jobs finish (or are aborted after the grace) before the
    // runtime closes the connections and the pool they use.
    await running.close();
  });
  ctx.logger.info('worker stopped');
  return 0;
}
