/**
 * The pure rules of a pipeline run: its id, what holds its pipeline while it is active,
 * when it is over and with what state, and which tasks a failure skips.
 */
import { randomBytes } from 'node:crypto';
import type { Interval } from '../src/config/index.js';
import { FINAL_TASK_STATES, type PipelineRunRecord, type TaskRecord } from './pipeline-store.js';

/** `yyyymmddThhmmssZ` (UTC). */
function stamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** Run id of a pipeline's interval: the same interval always maps to the same run. */
export function intervalRunId(pipeline: string, interval: Interval): string {
  return `${pipeline}-${stamp(interval.end)}`;
}

/** Run id of a manual trigger. */
export function manualRunId(pipeline: string, now: Date): string {
  return `${pipeline}-manual-${stamp(now)}-${randomBytes(2).toString('hex')}`;
}

/**
 * The pipeline name of queued transform runs (`corrente transform` without `--inline`): a
 * dot keeps it apart from every configured pipeline's name.
 */
export const TRANSFORM_PIPELINE = 'corrente.transform';

export const isFinalTask = (t: TaskRecord): boolean => FINAL_TASK_STATES.has(t.state);

/**
 * What holds a pipeline (the active key, the queued set): run and generation, so a late
 * release by the worker that ended generation 0 cannot drop the hold of its retry.
 */
export function holdOf(run: Pick<PipelineRunRecord, 'runId' | 'generation'>): string {
  return `${run.runId}#${run.generation}`;
}

export function runIdOfHold(hold: string): string {
  const at = hold.lastIndexOf('#');
  return at < 0 ? hold : hold.slice(0, at);
}

/** The run's state once every task is final (else unchanged). */
export function settle(run: PipelineRunRecord, at: string): PipelineRunRecord {
  const tasks = Object.values(run.tasks);
  if (run.state !== 'running' || !tasks.every(isFinalTask)) return run;
  const failed = Object.entries(run.tasks).find(([, t]) => t.state === 'failed');
  return {
    ...run,
    state: failed ? 'failed' : tasks.every((t) => t.state === 'succeeded') ? 'succeeded' : 'failed',
    finishedAt: at,
    ...(failed ? { error: `task ${failed[0]} failed: ${failed[1].error?.message ?? 'unknown error'}` } : {}),
  };
}

/** Tasks downstream of `task` in a run (transitively), from the needs recorded in the run. */
export function downstream(run: PipelineRunRecord, task: string): string[] {
  const out = new Set<string>();
  const walk = (t: string): void => {
    for (const [name, rec] of Object.entries(run.tasks)) {
      if (rec.needs.includes(t) && !out.has(name)) {
        out.add(name);
        walk(name);
      }
    }
  };
  walk(task);
  return [...out];
}
