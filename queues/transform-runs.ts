/**
 * Queued transform runs (`corrente transform` without `--inline`, and pipeline `transform`
 * tasks): one job per model on the `transform` queue, any worker taking any model.
 *
 * A model read by two others cannot sit in a BullMQ flow, which is a tree (one parent per
 * job). So a transform run is a run of the pipeline machinery (pipeline-runs.ts) under the
 * name {@link TRANSFORM_PIPELINE}: each model is a task whose `needs` are the selected
 * models it reads; its job is added, with an id fixed by run, model and generation, by the
 * worker that completes its last need (two workers racing add it once); a failed model
 * skips its downstream models. Transform runs wait for each other (one active at a time),
 * and `corrente runs`, `cancel` and `retry` apply to them as to pipeline runs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TRANSFORM_PIPELINE } from './pipeline-run-rules.js';
import type { PipelineRuns, TriggerResult } from './pipeline-runs.js';
import { FINAL_RUN_STATES, type PipelineRunRecord, type PipelineStore } from './pipeline-store.js';

/** One model of a queued run and the selected models it waits for. */
export interface QueuedModel {
  name: string;
  needs: readonly string[];
}

/**
 * Records a transform run and adds the jobs of the models that need nothing (or waits
 * behind the active transform run). The same `runId` twice adds nothing (`exists`).
 */
export async function queueTransformRun(runs: PipelineRuns, runId: string, models: readonly QueuedModel[], options: { fullRefresh?: boolean } = {}): Promise<TriggerResult> {
  const tasks = Object.fromEntries(models.map((m) => [m.name, { kind: 'model', needs: m.needs }]));
  return runs.triggerDag(TRANSFORM_PIPELINE, runId, tasks, options.fullRefresh ? { fullRefresh: true } : {});
}

/** Whether a transform run rebuilds models that are up to date. */
export function isFullRefreshRun(run: Pick<PipelineRunRecord, 'params'>): boolean {
  return run.params?.fullRefresh === true;
}

/**
 * Polls a transform (or pipeline) run until it ends, calling `onUpdate` with every read.
 * @throws CorrenteError `RUN_NOT_FOUND` when the run does not exist (from the store).
 */
export async function waitForDagRun(
  store: PipelineStore,
  runId: string,
  options: { onUpdate?: (run: PipelineRunRecord) => void; pollMs?: number; signal?: AbortSignal } = {},
): Promise<PipelineRunRecord> {
  for (;;) {
    options.signal?.throwIfAborted();
    // A change that returns the run unchanged is a read: it throws when the run is gone.
    const run = await store.change(runId, () => undefined);
    options.onUpdate?.(run);
    if (FINAL_RUN_STATES.has(run.state)) return run;
    await sleep(options.pollMs ?? 250, undefined, options.signal ? { signal: options.signal } : {});
  }
}
