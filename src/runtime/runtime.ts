/**
 * The process runtime: the long-lived resources a command, a worker or the scheduler
 * shares (Postgres pool, object store, and whatever an edge registers: Redis, queues, the
 * run store), each opened on first use and all closed together, last opened first.
 *
 * Why Redis and the queues are not opened here: nothing under src/ may import queues/
 * (the layer rule in STYLE.md), and BullMQ belongs to the queue side. So the runtime
 * offers a generic {@link Runtime.register} hook, and queues/ attaches its resources
 * through it (`queueRuntime(runtime)` in queues/). One object still owns, orders and
 * closes everything the process opened.
 *
 * Heavy SDKs load on first use only: the openers import their module dynamically, so a
 * command that never touches storage never loads the AWS SDK.
 */
import type { Config } from '../config/index.js';
import type { PgPool } from '../postgres/index.js';
import { CorrenteError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { ObjectStore } from '../storage/index.js';
import { BucketCheckedStore } from './bucket-checked-store.js';
import { createReleasers } from './releasers.js';

export interface Runtime {
  readonly config: Readonly<Config>;
  readonly logger: Logger;
  /** The Postgres pool of `config.postgres`, created on first call (connections open per query). */
  pool(): Promise<PgPool>;
  /**
   * The object store `config.storage` selects (local lake or S3), created on first call.
   * It probes each bucket once: a bucket `ensureBucket` accepted is not probed again.
   */
  store(): Promise<ObjectStore>;
  /**
   * Adds a resource the runtime opens lazily and closes with the others. Returns its
   * getter: the first call runs `open` (concurrent first calls share it; a failed open is
   * retried by the next call), later calls return the same value. `close` runs in
   * {@link Runtime.close}, in reverse order of opening.
   * @throws CorrenteError `INTERNAL` (from the getter) once the runtime is closed.
   */
  register<T>(name: string, open: () => T | Promise<T>, close: (value: T) => unknown): () => Promise<T>;
  /**
   * Adds a release step for something already open (a started worker, a temp dir): it
   * runs in {@link Runtime.close} before everything opened earlier is closed.
   */
  defer(name: string, release: () => unknown): void;
  /** True once {@link Runtime.close} has been called. */
  readonly closed: boolean;
  /**
   * Waits for opens in flight, then closes every resource, last opened first, each even
   * when another fails; rejects with the one error, or an `AggregateError` naming each.
   * Idempotent: later calls return the same promise. After it, every getter throws.
   */
  close(): Promise<void>;
}

/** Creates a runtime; nothing is opened until a getter is called. The caller must `close()` it. */
export function createRuntime(config: Readonly<Config>, logger: Logger): Runtime {
  const releasers = createReleasers((f) => logger.warn({ resource: f.name, err: { message: f.error.message } }, 'closing a resource failed'));
  const pending = new Set<Promise<unknown>>();
  let closing: Promise<void> | undefined;

  const closedError = (name: string): CorrenteError =>
    new CorrenteError('INTERNAL', `Cannot use ${name}: the runtime is already closed`, {
      hint: 'Use resources only between createRuntime() and close()',
    });

  const register = <T>(name: string, open: () => T | Promise<T>, close: (value: T) => unknown): (() => Promise<T>) => {
    let opened: Promise<T> | undefined;
    return () => {
      if (closing) return Promise.reject(closedError(name));
      if (!opened) {
        const attempt = (async () => {
          const value = await open();
          releasers.add(name, () => close(value));
          return value;
        })();
        opened = attempt;
        pending.add(attempt);
        attempt.then(
          () => pending.delete(attempt),
          () => {
            pending.delete(attempt);
            if (opened === attempt) opened = undefined;
          },
        );
      }
      return opened;
    };
  };

  const pool = register(
    'postgres pool',
    async () => {
      const { createPgPool } = await import('../postgres/index.js');
      return createPgPool(config.postgres, logger);
    },
    (p) => p.end(),
  );

  const store = register(
    'object store',
    async (): Promise<ObjectStore> => {
      const { createObjectStore } = await import('../storage/index.js');
      return new BucketCheckedStore(await createObjectStore(config.storage));
    },
    (s) => s.close(),
  );

  return {
    config,
    logger,
    pool,
    store,
    register,
    defer(name, release) {
      if (closing) throw closedError(name);
      releasers.add(name, release);
    },
    get closed() {
      return closing !== undefined;
    },
    close: () =>
      (closing ??= (async () => {
        await Promise.allSettled([...pending]);
        await releasers.releaseAll();
      })()),
  };
}

/**
 * Runs `fn` with a fresh runtime and closes it afterwards. When `fn` throws, its error
 * wins and a close failure is only logged; otherwise a close failure is thrown.
 */
export async function withRuntime<R>(config: Readonly<Config>, logger: Logger, fn: (runtime: Runtime) => Promise<R>): Promise<R> {
  const runtime = createRuntime(config, logger);
  let result: R;
  try {
    result = await fn(runtime);
  } catch (err) {
    // Each failed step was already logged by the runtime.
    await runtime.close().catch(() => {});
    throw err;
  }
  await runtime.close();
  return result;
}
