import { describe, expect, it } from 'vitest';
import { downstream, holdOf, intervalRunId, runIdOfHold, settle } from '../../queues/pipeline-run-rules.js';
import type { PipelineRunRecord, TaskRecord } from '../../queues/pipeline-store.js';

const task = (state: TaskRecord['state'], needs: string[] = [], error?: string): TaskRecord => ({ kind: 'command', needs, state, attempts: 1, ...(error ? { error: { code: 'TASK_FAILED', message: error } } : {}) });
const run = (tasks: Record<string, TaskRecord>, state: PipelineRunRecord['state'] = 'running'): PipelineRunRecord => ({ runId: 'p-1', pipeline: 'p', trigger: 'manual', state, createdAt: '2026-11-29T00:00:00Z', generation: 0, tasks });

describe('pipeline run rules', () => {
  it('a run ends only when every task is final: succeeded when all succeeded, else failed naming the failed task', () => {
    expect(settle(run({ a: task('succeeded'), b: task('running', ['a']) }), 'T').state).toBe('running');
    expect(settle(run({ a: task('succeeded'), b: task('succeeded', ['a']) }), 'T')).toMatchObject({ state: 'succeeded', finishedAt: 'T' });
    expect(settle(run({ a: task('failed', [], 'exit 3'), b: task('skipped', ['a']) }), 'T')).toMatchObject({ state: 'failed', error: 'task a failed: exit 3' });
    // A cancelled run is not changed by a task ending late.
    expect(settle(run({ a: task('cancelled') }, 'cancelled'), 'T').state).toBe('cancelled');
  });

  it('downstream tasks are found transitively, not siblings', () => {
    const r = run({ a: task('failed'), b: task('pending', ['a']), c: task('pending', ['b']), d: task('pending'), e: task('pending', ['c', 'd']) });
    expect(downstream(r, 'a').sort()).toEqual(['b', 'c', 'e']);
    expect(downstream(r, 'd')).toEqual(['e']);
  });

  it('ids: one per interval (its end), holds carry the generation', () => {
    expect(intervalRunId('nightly-refresh', { start: new Date('2026-11-26T05:00:00Z'), end: new Date('2026-11-27T05:00:00Z') })).toBe('nightly-refresh-20261127T050000Z');
    expect(holdOf({ runId: 'a-b#c', generation: 2 })).toBe('a-b#c#2');
    expect(runIdOfHold('a-b#c#2')).toBe('a-b#c');
  });
});
