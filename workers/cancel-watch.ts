/**
 * How a running task of a pipeline or transform run learns that its run was cancelled:
 * it polls the run (a cancel is a state change on the run document, seen by every worker).
 */
import { CorrenteError } from '../src/shared/errors.js';
import type { PipelineStore } from '../queues/index.js';

/** How often a running task checks whether its run was cancelled, ms. */
const CANCEL_POLL_MS = 500;

export interface CancelWatch {
  /** Aborted once the run or the task is cancelled (or the run is gone). */
  signal: AbortSignal;
  stop(): void;
}

/** Starts watching `task` of `runId`; call `stop` when the task ends. */
export function watchCancel(store: PipelineStore, runId: string, task: string): CancelWatch {
  const cancel = new AbortController();
  const poll = setInterval(() => {
    void store
      .get(runId)
      .then((r) => {
        if (!r || r.state === 'cancelled' || r.tasks[task]?.state === 'cancelled') cancel.abort(new CorrenteError('ABORTED', `Run ${runId} was cancelled`));
      })
      .catch(() => {});
  }, CANCEL_POLL_MS);
  return { signal: cancel.signal, stop: () => clearInterval(poll) };
}
