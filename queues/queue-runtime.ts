/**
 * The queue side of the process runtime: the Redis connections, the BullMQ queues and the
 * run store, opened on first use through the runtime's `register` hook, so the runtime
 * closes them with everything else (queues before their connection, LIFO).
 *
 * queues/ does not import src/runtime (the layer rules keep the queue side beside it, not
 * above it): it declares the small {@link ResourceHost} it needs, which src/runtime's
 * `Runtime` satisfies structurally. BullMQ is imported only when queues are first used,
 * so commands that only read run status never load it through here.
 */
import type { RedisConfig } from '../src/config/index.js';
import type { CorrenteQueues, JobPolicy } from './queues.js';
import { runQueueNames, SHARED_QUEUE_NAMES, type QueueNames } from './names.js';
import { createRedis, type Redis } from './redis-connection.js';
import { RunStore } from './run-store.js';

/** What {@link queueRuntime} needs from the process runtime (`createRuntime` in src/runtime). */
export interface ResourceHost {
  readonly config: { readonly redis: Pick<RedisConfig, 'url' | 'prefix'>; readonly worker: JobPolicy };
  register<T>(name: string, open: () => T | Promise<T>, close: (value: T) => unknown): () => Promise<T>;
}

export interface QueueRuntime {
  /** The shared connection of the queues and the run store (non-blocking commands). */
  redis(): Promise<Redis>;
  /** The shared queues every worker serves. */
  queues(): Promise<CorrenteQueues>;
  /**
   * The private queues of one run (`migrate --inline`): only a worker started on them
   * takes their jobs, and it takes no other. See {@link runQueueNames}.
   */
  runQueues(runId: string): Promise<CorrenteQueues>;
  /** Run status records. */
  runs(): Promise<RunStore>;
  /**
   * A new connection, closed with the runtime: a BullMQ Worker blocks on its connection,
   * so each needs its own.
   */
  connection(name: string): Promise<Redis>;
}

const attached = new WeakMap<ResourceHost, QueueRuntime>();

/** The queue resources of `host`; the same object for the same host (one shared connection). */
export function queueRuntime(host: ResourceHost): QueueRuntime {
  const existing = attached.get(host);
  if (existing) return existing;
  const { url, prefix } = host.config.redis;
  const policy = host.config.worker;
  const redis = host.register('redis', () => createRedis(url), (r) => r.disconnect());
  const queuesNamed = (label: string, names: QueueNames) =>
    host.register(
      label,
      async () => {
        const { createQueues } = await import('./queues.js');
        return createQueues(await redis(), prefix, policy, names);
      },
      (q) => q.close(),
    );
  const shared = queuesNamed('queues', SHARED_QUEUE_NAMES);
  const perRun = new Map<string, () => Promise<CorrenteQueues>>();
  const runs = host.register('run store', async () => new RunStore(await redis(), prefix), () => {});
  const qr: QueueRuntime = {
    redis,
    queues: shared,
    runQueues(runId) {
      let get = perRun.get(runId);
      if (!get) perRun.set(runId, (get = queuesNamed(`queues of run ${runId}`, runQueueNames(runId))));
      return get();
    },
    runs,
    connection: (name) => host.register(name, () => createRedis(url), (r) => r.disconnect())(),
  };
  attached.set(host, qr);
  return qr;
}
