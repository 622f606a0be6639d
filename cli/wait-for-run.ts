/**
 * Follows a run until every table is published or failed, rendering progress.
 */
import { isRunFinished, type Redis, type RunStatus, type RunStore } from '../queues/index.js';
import { CorrenteError } from '../src/shared/errors.js';

export interface WaitOptions {
  /** Called on every read with the latest status. */
  onUpdate?: (run: RunStatus) => void;
  /** Time between reads when nothing wakes the wait earlier. @defaultValue 250 */
  pollMs?: number;
  /**
   * A Redis connection of its own for the run's change notices ({@link RunStore.watch}):
   * a change is read at once instead of at the next poll (which stays as the fallback).
   */
  subscriber?: Redis;
  signal?: AbortSignal;
}

export async function waitForRun(runs: RunStore, runId: string, options: WaitOptions = {}): Promise<RunStatus> {
  const { signal } = options;
  let changed = false;
  let wake: (() => void) | undefined;
  const unwatch = options.subscriber
    ? await runs.watch(options.subscriber, runId, () => {
        changed = true;
        wake?.();
      })
    : undefined;
  try {
    for (;;) {
      signal?.throwIfAborted();
      // Cleared before the read: a change during it makes the next wait return at once.
      changed = false;
      const run = await runs.get(runId);
      if (!run) throw new CorrenteError('RUN_NOT_FOUND', `Run ${runId} not found`, { runId, hint: 'List recent runs with: corrente status' });
      options.onUpdate?.(run);
      if (isRunFinished(run)) return run;
      if (!changed) await changeOrTimeout(options.pollMs ?? 250, signal, (w) => (wake = w));
      wake = undefined;
    }
  } finally {
    await unwatch?.();
  }
}

/** Resolves after `ms`, on abort, or when the function given to `setWake` is called. */
function changeOrTimeout(ms: number, signal: AbortSignal | undefined, setWake: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    setWake(done);
  });
}
