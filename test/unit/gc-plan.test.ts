/**
 * gc planning as a pure function: a listing and the text of a few JSON objects in, the
 * plan out. No storage: the integration test (gc.test.ts) covers applying it.
 */
import { describe, expect, it } from 'vitest';
import { gcFact, gcFactKeys, newRunId, placeOfKey, planGc, pointerRuns, scheduledRunId, type GcPlanOptions, type TablePlan } from '../../src/lake/index.js';

const HOUR = 3_600_000;
const NOW = new Date('2026-11-26T12:00:00.000Z');
const OPTIONS: GcPlanOptions = { keepRuns: 2, olderThanMs: 24 * HOUR, now: NOW };
const T = 'core/orders/';
const ago = (h: number): Date => new Date(NOW.getTime() - h * HOUR);

/** A fabricated bucket: keys with sizes, and the text of its JSON objects. */
class Listing {
  readonly objects: { key: string; size: number }[] = [];
  readonly texts = new Map<string, string>();

  put(key: string, text = 'PAR1....PAR1'): this {
    this.objects.push({ key, size: text.length });
    if (key.endsWith('.json')) this.texts.set(key, text);
    return this;
  }

  published(runId: string, publishedAt: Date | undefined): this {
    this.put(`${T}run-${runId}/part-00000.parquet`);
    return this.put(`${T}run-${runId}/_manifest.json`, JSON.stringify(manifest(runId, publishedAt)));
  }

  current(runId: string): this {
    const pointer = { runId, manifestKey: `${T}run-${runId}/_manifest.json`, snapshotTime: ago(1).toISOString(), publishedAt: ago(1).toISOString(), files: [`${T}run-${runId}/part-00000.parquet`] };
    return this.put(`${T}_current.json`, JSON.stringify(pointer));
  }

  /** Plans from only the facts gc would read, as the pipeline step does. */
  plan(options: GcPlanOptions = OPTIONS): TablePlan[] {
    const wanted = gcFactKeys(this.objects, options);
    const facts = new Map([...this.texts].filter(([k]) => wanted.includes(k)).map(([k, text]) => [k, gcFact(k, text)] as const));
    return planGc(this.objects, facts, options);
  }
}

function manifest(runId: string, publishedAt: Date | undefined): object {
  const at = (publishedAt ?? ago(1)).toISOString();
  return {
    format: 'corrente.manifest/v1',
    runId,
    table: { schema: 'core', name: 'orders' },
    layer: 'bronze',
    bucket: 'bronze',
    source: { database: 'h:5432/db', snapshotTime: at, estimatedRows: 1 },
    columns: [{ name: 'id', pgType: 'int8', nullable: false, parquetType: 'INT64', type: { kind: 'int64' } }],
    primaryKey: ['id'],
    files: [],
    totals: { rows: 0, bytes: 0, files: 0 },
    verification: { status: 'passed', mismatches: [] },
    timings: { startedAt: at, exportedAt: at, exportSeconds: 1, ...(publishedAt ? { publishedAt: at } : {}) },
  };
}

const only = (plans: TablePlan[]): TablePlan => {
  expect(plans).toHaveLength(1);
  return plans[0]!;
};
const removals = (plan: TablePlan): [string, string][] => plan.removals.map((r) => [r.runId, r.reason]);
const noted = (plan: TablePlan): Record<string, string> => Object.fromEntries(plan.notes.map((n) => [n.runId, n.note]));

describe('planGc', () => {
  it('keeps the newest keepRuns published runs and the current one; supersedes the rest', () => {
    const l = new Listing().published('r1', ago(90)).published('r2', ago(60)).published('r3', ago(30)).published('r4', ago(5)).current('r1');
    const plan = only(l.plan());
    expect(plan.current).toBe('r1');
    expect(plan.runIds).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(removals(plan)).toEqual([['r2', 'superseded']]);
    expect(plan.removals[0]!.objects.map((o) => o.key)).toEqual([`${T}run-r2/part-00000.parquet`, `${T}run-r2/_manifest.json`]);
  });

  it('orders by run id when a manifest lacks publishedAt', () => {
    const l = new Listing().published('b', ago(90)).published('a', undefined).published('c', ago(10));
    expect(removals(only(l.plan()))).toEqual([['a', 'superseded']]);
  });

  it('removes an unfinished run only when everything known about it is older than the limit', () => {
    const dead = newRunId({ now: ago(50) });
    const young = newRunId({ now: ago(2) });
    const oldIdRecentChunk = newRunId({ now: ago(72) });
    const l = new Listing()
      .put(`${T}run-${dead}/part-00000.parquet`)
      .put(`${T}run-${young}/part-00000.parquet`)
      .put(`${T}run-${oldIdRecentChunk}/_chunks/00000.json`, JSON.stringify({ startedAt: ago(4).toISOString(), exportSeconds: 3.5 * 3600 }))
      .put(`${T}run-custom/part-00000.parquet`)
      .put(`${T}run-custom-staged/_staged.json`, JSON.stringify({ timings: { exportedAt: ago(40).toISOString() } }));
    const plan = only(l.plan());
    expect(removals(plan)).toEqual([
      [dead, 'unfinished'],
      ['custom-staged', 'unfinished'],
    ]);
    expect(noted(plan)).toEqual({
      [young]: expect.stringContaining('may still be running'),
      [oldIdRecentChunk]: expect.stringContaining('0.5 h ago'),
      custom: expect.stringContaining('age unknown'),
    });
  });

  it('ages scheduled runs by the firing time in their id, even with no JSON written', () => {
    // The leak this fixes: `<schedule>-<yyyymmddThhmmZ>` had no known time, so a scheduled
    // run that died before writing any JSON was kept forever.
    const dead = scheduledRunId('nightly', ago(30));
    const running = scheduledRunId('nightly', ago(1));
    const l = new Listing().put(`${T}run-${dead}/part-00000.parquet`).put(`${T}run-${running}/part-00000.parquet`);
    const plan = only(l.plan());
    expect(removals(plan)).toEqual([[dead, 'unfinished']]);
    expect(noted(plan)[running]).toContain('may still be running');
    // A recent id alone decides: nothing of that run is read.
    expect(gcFactKeys(l.objects, OPTIONS)).toEqual([]);
  });

  it('ages transform and pipeline runs by their id too', () => {
    const ids = [newRunId({ kind: 'transform', now: ago(48) }), newRunId({ kind: 'pipeline', now: ago(48) })];
    const l = new Listing();
    for (const id of ids) l.put(`${T}run-${id}/part-00000.parquet`);
    expect(removals(only(l.plan()))).toEqual(ids.map((id) => [id, 'unfinished']).sort());
  });

  it('never removes runs the pointer names, even unfinished ones', () => {
    const l = new Listing().published('p1', ago(50)).published('p2', ago(40)).published('p3', ago(30)).put(`${T}run-half/part-00000.parquet`);
    const pointer = { runId: 'p1', manifestKey: `${T}run-p1/_manifest.json`, snapshotTime: 'x', publishedAt: 'x', files: [`${T}run-half/part-00000.parquet`] };
    l.put(`${T}_current.json`, JSON.stringify(pointer));
    const plan = only(l.plan({ ...OPTIONS, keepRuns: 1 }));
    expect(removals(plan)).toEqual([['p2', 'superseded']]);
    expect(noted(plan).half).toContain('named by _current.json');
    expect([...pointerRuns(T, pointer)].sort()).toEqual(['half', 'p1']);
  });

  it('leaves a table alone when its pointer is unreadable', () => {
    const l = new Listing().published('r1', ago(90)).published('r2', ago(60)).published('r3', ago(30)).put(`${T}_current.json`, '{"runId": ');
    const plan = only(l.plan({ ...OPTIONS, keepRuns: 1 }));
    expect(plan.skipped).toContain('_current.json is unreadable');
    expect(plan.removals).toEqual([]);
  });

  it('keeps and notes runs whose manifest is unreadable or gone since the listing', () => {
    const l = new Listing().published('r1', ago(90)).published('r2', ago(60)).put(`${T}run-bad/_manifest.json`, '{"format": "nope"}');
    l.put(`${T}run-gone/_manifest.json`);
    l.texts.delete(`${T}run-gone/_manifest.json`);
    const plan = only(l.plan({ ...OPTIONS, keepRuns: 1 }));
    expect(removals(plan)).toEqual([['r1', 'superseded']]);
    expect(noted(plan)).toEqual({ bad: expect.stringContaining('unreadable'), gone: expect.stringContaining('disappeared') });
  });

  it('groups by table, sorted by prefix, and ignores keys outside tables and runs', () => {
    const l = new Listing()
      .put('README.txt')
      .put('core/notes.txt')
      .put(`${T}extra/notes.txt`)
      .put(`zzz/t/run-${newRunId({ now: ago(48) })}/part-00000.parquet`)
      .put(`aaa/t/run-x/`);
    const plans = l.plan();
    expect(plans.map((p) => p.prefix)).toEqual(['aaa/t/', 'zzz/t/']);
    expect(plans[0]!.runIds).toEqual(['x']);
    expect(plans[1]!.removals).toHaveLength(1);
  });

  it('reads only what it needs: pointers, published manifests and the JSON of old unfinished runs', () => {
    const young = newRunId({ now: ago(1) });
    const l = new Listing()
      .published('r1', ago(5))
      .current('r1')
      .put(`${T}run-${young}/_staged.json`, '{}')
      .put(`${T}run-old/_chunks/00000.json`, '{}')
      .put(`${T}run-old/part-00000-00000.parquet`);
    expect(gcFactKeys(l.objects, OPTIONS).sort()).toEqual([`${T}_current.json`, `${T}run-old/_chunks/00000.json`, `${T}run-r1/_manifest.json`]);
  });

  it('refuses bad options with the option named', () => {
    expect(() => planGc([], new Map(), { ...OPTIONS, keepRuns: 0 })).toThrow(/keepRuns must be a positive integer/);
    expect(() => planGc([], new Map(), { ...OPTIONS, olderThanMs: -1 })).toThrow(/olderThanMs/);
  });
});

describe('placeOfKey', () => {
  it.each([
    ['a/b/_current.json', { kind: 'current', tablePrefix: 'a/b/' }],
    ['a/b/run-r1/part-00000.parquet', { kind: 'run', tablePrefix: 'a/b/', runId: 'r1', name: 'part-00000.parquet' }],
    ['a/b/run-r1/_chunks/00001.json', { kind: 'run', tablePrefix: 'a/b/', runId: 'r1', name: '_chunks/00001.json' }],
    ['a/b/run-/x', { kind: 'other' }],
    ['a/b/run-r1', { kind: 'other' }],
    ['a/b/extra/x', { kind: 'other' }],
    ['a/_current.json', { kind: 'other' }],
  ])('%s', (key, place) => {
    expect(placeOfKey(key)).toEqual(place);
  });
});
