import { describe, expect, it } from 'vitest';
import { assertValidRunId, newRunId, parseRunId, runIdTime, scheduledRunId } from '../../src/lake/index.js';

const AT = new Date('2026-11-26T10:53:07.456Z');

describe('run ids', () => {
  it('generates and parses every generated kind', () => {
    const manual = newRunId({ now: AT });
    expect(manual).toMatch(/^20261126T105307Z-[0-9a-f]{4}$/);
    expect(parseRunId(manual)).toEqual({ id: manual, kind: 'manual', time: new Date('2026-11-26T10:53:07.000Z') });

    for (const kind of ['transform', 'pipeline'] as const) {
      const id = newRunId({ kind, now: AT });
      expect(id).toMatch(new RegExp(`^${kind}-20261126T105307Z-[0-9a-f]{4}$`));
      expect(parseRunId(id)).toEqual({ id, kind, time: new Date('2026-11-26T10:53:07.000Z') });
    }

    const scheduled = scheduledRunId('nightly-core', AT);
    expect(scheduled).toBe('nightly-core-20261126T1053Z');
    expect(parseRunId(scheduled)).toEqual({ id: scheduled, kind: 'scheduled', time: new Date('2026-11-26T10:53:00.000Z'), schedule: 'nightly-core' });
  });

  it('every generated id is a valid run id', () => {
    for (const id of [newRunId(), newRunId({ kind: 'transform' }), scheduledRunId('a.b_c-d', AT)]) expect(assertValidRunId(id)).toBe(id);
  });

  it.each([
    // Custom ids: a leading time still counts (gc ages them by it), anything else has none.
    ['20261126T105300Z', 'custom', '2026-11-26T10:53:00.000Z'],
    ['20261126T105300Z_backfill', 'custom', '2026-11-26T10:53:00.000Z'],
    ['20261126T105300Z-3f9a-extra', 'custom', '2026-11-26T10:53:00.000Z'],
    ['manual-import', 'custom', undefined],
    ['20261126T105300Z3f9a', 'custom', undefined],
    // Impossible dates never roll over into another day.
    ['20261326T105300Z-3f9a', 'custom', undefined],
    ['nightly-20261126T2460Z', 'custom', undefined],
    ['transform-20261126T105300Z-3F9A', 'custom', undefined],
  ])('%s is %s', (id, kind, iso) => {
    const parsed = parseRunId(id);
    expect(parsed.kind).toBe(kind);
    expect(parsed.time?.toISOString()).toBe(iso);
    expect(runIdTime(id)?.toISOString()).toBe(iso);
  });

  it('refuses a bad custom run id with one line naming the option', () => {
    expect(() => assertValidRunId('a/b')).toThrow('--run-id "a/b" is not a valid run id');
    expect(() => assertValidRunId('x'.repeat(65))).toThrow(/not a valid run id/);
    expect(() => assertValidRunId('')).toThrow(/not a valid run id/);
  });
});
