/**
 * Follows a run until every table is published or failed, rendering progress.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isRunFinished, type RunStatus, type RunStore } from '../queues/index.js';
import { CorrenteError } from '../src/shared/errors.js';

export interface WaitOptions {
  /** Called on every poll with the latest status. */
  onUpdate?: (run: RunStatus) => void;
  pollMs?: number;
  signal?: AbortSignal;
}

export async function waitForRun(runs: RunStore, runId: string, options: WaitOptions = {}): Promise<RunStatus> {
  for (;;) {
    options.signal?.throwIfAborted();
    const run = await runs.get(runId);
    if (!run) throw new CorrenteError('RUN_NOT_FOUND', `Run ${runId} not found`, { runId, hint: 'List recent runs with: corrente status' });
    options.onUpdate?.(run);
    if (isRunFinished(run)) return run;
    await sleep(options.pollMs ?? 250, undefined, options.signal ? { signal: options.signal } : undefined);
  }
}
