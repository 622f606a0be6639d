/**
 * The transition table of a table's run state, checked move by move against the spec
 * written out below (so a change to the table shows up here as a deliberate edit).
 */
import { describe, expect, it } from 'vitest';
import { assertTransition, canTransition, FINAL_STATES, shouldRetry, TABLE_STATES, TRANSITIONS, type TableState } from '../../queues/index.js';
import { CorrenteError } from '../../src/shared/errors.js';

/** Every allowed move, and why it happens. */
const ALLOWED: [TableState, TableState, string][] = [
  ['queued', 'exporting', 'an export attempt starts'],
  ['queued', 'skipped', 'another run holds the table'],
  ['queued', 'failed', 'the job failed before it started exporting'],
  ['exporting', 'exporting', 'next attempt, a stalled job resumed, or the chunk plan'],
  ['exporting', 'verifying', 'staged'],
  ['exporting', 'queued', 'transient failure, waiting for the retry'],
  ['exporting', 'failed', 'last attempt failed'],
  ['verifying', 'verifying', 'finalize retried'],
  ['verifying', 'queued', 'export job failed after staging, retried'],
  ['verifying', 'exporting', 'export job run again after staging (its worker died before queueing verify)'],
  ['verifying', 'published', 'verified and published'],
  ['verifying', 'failed', 'verification failed for good'],
];

const RUN = '20261126T105300Z-3f9a';
const TABLE = { schema: 'core', name: 'orders' };

describe('run lifecycle transitions', () => {
  it('TRANSITIONS lists exactly the allowed moves', () => {
    const listed = TABLE_STATES.flatMap((from) => TRANSITIONS[from].map((to) => [from, to]));
    expect(listed.sort()).toEqual(ALLOWED.map(([from, to]) => [from, to]).sort());
  });

  it.each(ALLOWED)('%s -> %s is allowed (%s)', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(() => assertTransition(RUN, TABLE, from, to)).not.toThrow();
  });

  const illegal = TABLE_STATES.flatMap((from) => TABLE_STATES.filter((to) => !ALLOWED.some(([f, t]) => f === from && t === to)).map((to) => [from, to] as const));

  it('refuses the other 24 moves', () => {
    expect(illegal).toHaveLength(TABLE_STATES.length ** 2 - ALLOWED.length);
    expect(illegal).toHaveLength(24);
  });

  it.each(illegal)('%s -> %s is refused with RUN_STATE naming run, table and both states', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    let thrown: unknown;
    try {
      assertTransition(RUN, TABLE, from, to);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(CorrenteError);
    const err = thrown as CorrenteError;
    expect(err.code).toBe('RUN_STATE');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(`Run ${RUN}, table core.orders: cannot go from ${from} to ${to}`);
    expect(err.message).toContain(FINAL_STATES.has(from) ? `${from} is final` : `${from} may go to ${TRANSITIONS[from].join(', ')}`);
    expect(err.context).toEqual({ runId: RUN, table: 'core.orders' });
  });

  it('final states have no way out, and every other state can fail', () => {
    expect([...FINAL_STATES].sort()).toEqual(['failed', 'published', 'skipped']);
    for (const s of FINAL_STATES) expect(TRANSITIONS[s]).toEqual([]);
    for (const s of TABLE_STATES.filter((x) => !FINAL_STATES.has(x))) expect(TRANSITIONS[s]).toContain('failed');
  });
});

describe('shouldRetry', () => {
  it('retries transient errors and shutdown aborts, not bad input or a job timeout', () => {
    expect(shouldRetry(new CorrenteError('STORAGE_UNREACHABLE', 'down'), undefined)).toBe(true);
    expect(shouldRetry(new Error('unknown'), undefined)).toBe(true);
    expect(shouldRetry(new CorrenteError('VERIFY_MISMATCH', 'differs'), undefined)).toBe(false);
    const shutdown = new AbortController();
    shutdown.abort(new Error('worker shutting down'));
    expect(shouldRetry(new CorrenteError('VERIFY_MISMATCH', 'x'), shutdown.signal)).toBe(true);
    const timeout = new AbortController();
    timeout.abort(new DOMException('timed out', 'TimeoutError'));
    expect(shouldRetry(new Error('aborted'), timeout.signal)).toBe(false);
  });
});
