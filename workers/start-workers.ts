/**
 * Starts BullMQ workers for the chosen queues inside this process, with timeouts, a
 * per-process limit on running jobs (job-slots.ts), global concurrency per Postgres
 * source, and a graceful-then-forceful close.
 */
import { UnrecoverableError, Worker, type Job, type Processor } from 'bullmq';
import { sweepStaleWorkDirs } from '../src/pipeline/index.js';
import { CorrenteError } from '../src/shared/errors.js';
import { queueRuntime, type QueueName } from '../queues/index.js';
import { createExportProcessor } from './export-processor.js';
import { createPipelineProcessor } from './pipeline-processor.js';
import { createScheduleProcessor } from './schedule-processor.js';
import { createTransformProcessor } from './transform-processor.js';
import { JobSlots } from './job-slots.js';
import { createVerifyProcessor } from './verify-processor.js';
import type { WorkerContext } from './worker-context.js';

export interface StartWorkersOptions {
  /** Queue roles to take jobs from, on `ctx.queues` (shared or one run's own). @defaultValue all */
  queues?: readonly QueueName[];
  /**
   * Export and verify jobs this process runs at once, in total (schedule firings only
   * enqueue, and are not counted; models run up to `transform.concurrency` at once, on
   * top). @defaultValue `config.worker.concurrency`
   */
  concurrency?: number;
  /** The environment pipeline `command` tasks start from. @defaultValue this process's */
  commandEnv?: Readonly<Record<string, string | undefined>>;
}

/**
 * Pipeline tasks apply their own `timeout` (which may exceed `worker.jobTimeoutMinutes`), so
 * the guard's timeout on the pipeline queue is only a backstop: the longest a timer can wait.
 */
const PIPELINE_GUARD_MS = 2_147_000_000;

export interface RunningWorkers {
  workers: Worker[];
  /**
   * Stops taking jobs and waits for running ones; after `worker.shutdownGraceSeconds`
   * aborts them (their jobs fail with a retryable error and run again elsewhere).
   */
  close(): Promise<void>;
}

/** Runs `fn` with a signal that also fires on shutdown and on the job timeout. */
function guard<T, R>(fn: Processor<T, R>, shutdown: AbortSignal, timeoutMs: number): Processor<T, R> {
  return async (job: Job<T, R>, token?: string, signal?: AbortSignal) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = AbortSignal.any([shutdown, timeout, ...(signal ? [signal] : [])]);
    try {
      return await fn(job, token, combined);
    } catch (err) {
      if (timeout.aborted) {
        // Not retried: the next attempt would time out the same way.
        throw new UnrecoverableError(
          new CorrenteError('ABORTED', `Job ${job.id} exceeded worker.jobTimeoutMinutes (${Math.round(timeoutMs / 60000)} min)`, {
            hint: 'Raise worker.jobTimeoutMinutes, or split the table (export.chunkMb)',
          }).toLine(),
        );
      }
      throw err;
    }
  };
}

export async function startWorkers(ctx: WorkerContext, options: StartWorkersOptions = {}): Promise<RunningWorkers> {
  const { config } = ctx;
  const names = options.queues ?? ['export', 'verify', 'schedule', 'pipeline', 'transform'];
  const concurrency = options.concurrency ?? config.worker.concurrency;
  const shutdown = new AbortController();
  const timeoutMs = config.worker.jobTimeoutMinutes * 60_000;
  const base = {
    prefix: config.redis.prefix,
    concurrency,
    // Encoding runs in DuckDB threads, so the event loop stays free to renew locks.
    lockDuration: config.worker.lockSeconds * 1000,
    stalledInterval: (config.worker.lockSeconds * 1000) / 2,
    maxStalledCount: 2,
  };
  // What killed processes of this host left in their work directories (Parquet not yet
  // uploaded, pipes, DuckDB spill) would otherwise stay on disk until it is full.
  for (const root of new Set([config.export.workDir, config.transform.workDir ?? config.export.workDir])) {
    const removed = await sweepStaleWorkDirs(root);
    if (removed.length > 0) ctx.logger.info({ removed }, 'removed work directories left by processes that no longer run');
  }
  // The cap on concurrent exports holds across every worker process sharing this Redis.
  await ctx.queues.export.setGlobalConcurrency(config.postgres.maxConcurrentExports);
  const workers: Worker[] = [];
  const slots = new JobSlots(concurrency);
  for (const name of names) {
    // Its own connection (a Worker blocks on it), owned by the runtime: closed after the workers.
    const connection = await queueRuntime(ctx.runtime).connection(`redis of the ${ctx.queues.names[name]} worker`);
    const pipeline = name === 'pipeline' ? createPipelineProcessor(ctx, { baseEnv: options.commandEnv ?? process.env }) : undefined;
    const transform = name === 'transform' ? createTransformProcessor(ctx) : undefined;
    const processor = name === 'export' ? createExportProcessor(ctx) : name === 'verify' ? createVerifyProcessor(ctx) : (pipeline ?? transform ?? createScheduleProcessor(ctx));
    const guarded = guard(processor as Processor, shutdown.signal, name === 'pipeline' ? PIPELINE_GUARD_MS : timeoutMs);
    // Schedule firings only enqueue, and pipeline tasks mostly wait for export jobs: counting
    // them against the export/verify slots could starve the jobs they wait for. Models have
    // their own bound (DuckDB memory per model), so a pipeline's transform never waits for exports.
    const own = name === 'schedule' || name === 'pipeline' || name === 'transform';
    const worker = new Worker(ctx.queues.names[name], own ? guarded : slots.wrap(guarded), { ...base, connection, ...(transform ? { concurrency: config.transform.concurrency } : {}) });
    worker.on('error', (err) => ctx.logger.warn({ queue: name, err: { message: err.message } }, 'worker error'));
    worker.on('failed', (job, err) => ctx.logger.warn({ queue: name, jobId: job?.id, attempts: job?.attemptsMade, err: { message: err.message } }, 'job failed'));
    const recorder = pipeline ?? transform;
    if (recorder) worker.on('failed', (job, err) => void recorder.jobFailed(job, err).catch((e: unknown) => ctx.logger.warn({ err: { message: String(e) } }, `recording a failed ${name} job failed`)));
    worker.on('completed', (job) => ctx.logger.debug({ queue: name, jobId: job.id }, 'job completed'));
    workers.push(worker);
  }
  slots.attach(workers.filter((w) => w.name !== ctx.queues.names.schedule && w.name !== ctx.queues.names.pipeline && w.name !== ctx.queues.names.transform));
  let closing: Promise<void> | undefined;
  const running: RunningWorkers = {
    workers,
    close: () =>
      (closing ??= (async () => {
        const timer = setTimeout(() => shutdown.abort(new Error('worker shutting down')), config.worker.shutdownGraceSeconds * 1000);
        timer.unref();
        try {
          slots.close();
          await Promise.all(workers.map((w) => w.close()));
        } finally {
          clearTimeout(timer);
        }
      })()),
  };
  // Callers close the workers first (graceful shutdown); the runtime does it otherwise,
  // before any connection or pool the jobs use.
  ctx.runtime.defer('workers', () => running.close());
  return running;
}
