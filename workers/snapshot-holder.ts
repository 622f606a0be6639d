/**
 * Keeps the snapshots of chunked exports open until every chunk job has joined them.
 * A snapshot lives as long as the transaction that exported it, so this process holds
 * that transaction (idle) and releases it when the run's finalize job leaves the
 * waiting-for-children state, on timeout, or on shutdown.
 */
import type { HeldSnapshot } from '../src/pipeline/index.js';
import type { Logger } from '../src/shared/logger.js';

export interface SnapshotHolder {
  /** Holds `snapshot` until `isDone()` resolves true (polled) or `timeoutMs` passes. */
  hold(snapshot: HeldSnapshot, isDone: () => Promise<boolean>, timeoutMs: number): void;
  /** Releases every held snapshot. */
  close(): Promise<void>;
}

export function createSnapshotHolder(logger: Logger, pollMs = 1_000): SnapshotHolder {
  const held = new Set<Promise<void>>();
  const stop = new AbortController();
  return {
    hold(snapshot, isDone, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      const task = (async () => {
        try {
          while (!stop.signal.aborted && Date.now() < deadline) {
            if (await isDone().catch(() => false)) break;
            await new Promise((r) => setTimeout(r, pollMs));
          }
        } finally {
          await snapshot.release().catch(() => {});
          logger.debug({ snapshotId: snapshot.id }, 'snapshot released');
        }
      })();
      held.add(task);
      void task.finally(() => held.delete(task));
    },
    async close() {
      stop.abort();
      await Promise.allSettled([...held]);
    },
  };
}
