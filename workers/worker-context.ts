/**
 * Long-lived resources one worker process shares across its jobs, created once and
 * closed in reverse order.
 */
import type { Config } from '../src/config/index.js';
import { createPgPool, type PgPool } from '../src/postgres/index.js';
import { createObjectStore, type ObjectStore } from '../src/storage/index.js';
import type { ExportDeps } from '../src/pipeline/index.js';
import type { Logger } from '../src/shared/logger.js';
import { createQueues, createRedis, RunStore, type CorrenteQueues, type Redis } from '../queues/index.js';
import { createSnapshotHolder, type SnapshotHolder } from './snapshot-holder.js';

export interface WorkerContext {
  config: Readonly<Config>;
  logger: Logger;
  pool: PgPool;
  store: ObjectStore;
  redis: Redis;
  queues: CorrenteQueues;
  runs: RunStore;
  /** Snapshots held open for the chunk jobs of chunked exports. */
  snapshots: SnapshotHolder;
  close(): Promise<void>;
}

/** The export pipeline's dependencies, taken from the context, logging to `logger`. */
export function exportDepsOf(ctx: WorkerContext, logger: Logger): ExportDeps {
  return { pool: ctx.pool, postgresUrl: ctx.config.postgres.url, store: ctx.store, buckets: ctx.config.storage.buckets, config: ctx.config.export, logger };
}

export function createWorkerContext(config: Readonly<Config>, logger: Logger): WorkerContext {
  const pool = createPgPool(config.postgres, logger);
  const store = createObjectStore(config.storage);
  const redis = createRedis(config.redis.url);
  const queues = createQueues(redis, config.redis.prefix, config.worker);
  const runs = new RunStore(redis, config.redis.prefix);
  const snapshots = createSnapshotHolder(logger);
  let closing: Promise<void> | undefined;
  return {
    config,
    logger,
    pool,
    store,
    redis,
    queues,
    runs,
    snapshots,
    close: () =>
      (closing ??= (async () => {
        const steps = [() => snapshots.close(), () => queues.close(), () => store.close(), () => pool.end(), async () => void redis.disconnect()];
        let first: unknown;
        for (const step of steps) {
          try {
            await step();
          } catch (err) {
            first ??= err;
          }
        }
        if (first) throw first;
      })()),
  };
}
