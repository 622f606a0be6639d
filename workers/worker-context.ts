/**
 * What the processors of one worker process share across jobs. Everything in it is
 * owned by the process runtime (src/runtime): opened there, closed there, last opened
 * first, so a context has no close of its own.
 */
import type { Config } from '../src/config/index.js';
import type { Manifest } from '../src/lake/index.js';
import type { PgPool } from '../src/postgres/index.js';
import type { ObjectStore } from '../src/storage/index.js';
import type { ExportDeps } from '../src/pipeline/index.js';
import type { Runtime } from '../src/runtime/index.js';
import type { Logger } from '../src/shared/logger.js';
import { queueRuntime, type CorrenteQueues, type Redis, type RunStore, type StagedSummary } from '../queues/index.js';
import { createSnapshotHolder, type SnapshotHolder } from './snapshot-holder.js';

export interface WorkerContext {
  config: Readonly<Config>;
  logger: Logger;
  /** The owner of every resource below. */
  runtime: Runtime;
  pool: PgPool;
  store: ObjectStore;
  redis: Redis;
  /** The queues this process serves and enqueues follow-up jobs on (shared, or one run's own). */
  queues: CorrenteQueues;
  runs: RunStore;
  /** Snapshots held open for the chunk jobs of chunked exports. */
  snapshots: SnapshotHolder;
}

export interface WorkerContextOptions {
  /**
   * The queues to work on. A run's own queues (`migrate --inline`) keep its chunk and
   * verify jobs on them too. @defaultValue the shared queues
   */
  queues?: CorrenteQueues;
}

/** The export pipeline's dependencies, taken from the context, logging to `logger`. */
export function exportDepsOf(ctx: WorkerContext, logger: Logger): ExportDeps {
  return { pool: ctx.pool, postgresUrl: ctx.config.postgres.url, store: ctx.store, buckets: ctx.config.storage.buckets, config: ctx.config.export, logger };
}

/** What a run records of a staged export (its manifest's totals and timings). */
export function stagedSummaryOf(m: Manifest): StagedSummary {
  return { ...m.totals, exportSeconds: m.timings.exportSeconds, stages: m.timings.stages, workDiskPeakBytes: m.timings.workDiskPeakBytes };
}

/** Opens (through `runtime`) what the processors need; `runtime.close()` releases it all. */
export async function createWorkerContext(runtime: Runtime, options: WorkerContextOptions = {}): Promise<WorkerContext> {
  const { config, logger } = runtime;
  const q = queueRuntime(runtime);
  const pool = await runtime.pool();
  const store = await runtime.store();
  const redis = await q.redis();
  const queues = options.queues ?? (await q.queues());
  const runs = await q.runs();
  // Opened last, so closed first: it holds Postgres transactions and polls the queues.
  const snapshots = await runtime.register('snapshot holder', () => createSnapshotHolder(logger), (s) => s.close())();
  return { config, logger, runtime, pool, store, redis, queues, runs, snapshots };
}
