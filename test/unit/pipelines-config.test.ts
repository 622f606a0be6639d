import { describe, expect, it } from 'vitest';
import { downstreamOf, intervalEndingAtOrBefore, intervalsEndingIn, intervalsStartingIn, loadConfig, parseDateIn, durationMs, taskOrder } from '../../src/config/index.js';
import type { CorrenteError } from '../../src/shared/errors.js';

function load(pipelines: unknown) {
  return loadConfig({ env: {}, overrides: { pipelines } });
}

function errorOf(fn: () => unknown): CorrenteError {
  try {
    fn();
  } catch (err) {
    return err as CorrenteError;
  }
  throw new Error('expected an error');
}

const nightly = {
  schedule: { cron: '0 2 * * *', tz: 'America/Sao_Paulo' },
  tasks: {
    export: { kind: 'export', tables: ['core.fact_demand_daily'], mode: 'incremental', retries: 2, backoff: '30s' },
    silver: { kind: 'transform', needs: ['export'], select: ['tag:silver'] },
    score: { kind: 'command', needs: ['silver'], command: 'python score.py', timeout: '1h30m', env: { A: '1' } },
    gc: { kind: 'gc', needs: ['score'] },
  },
};

describe('pipelines config', () => {
  it('accepts a DAG with defaults for policies, retries and durations', () => {
    const p = load({ nightly }).pipelines.nightly!;
    expect(p.overlap).toBe('queue');
    expect(p.catchup).toBe('latest');
    expect(p.tasks.export).toMatchObject({ kind: 'export', mode: 'incremental', retries: 2, backoff: 30_000, needs: [] });
    expect(p.tasks.score).toMatchObject({ kind: 'command', timeout: 5_400_000, retries: 0, backoff: 10_000, env: { A: '1' } });
    expect(taskOrder(p)).toEqual(['export', 'silver', 'score', 'gc']);
    expect(downstreamOf(p, 'silver')).toEqual(['gc', 'score']);
  });

  it('names the pipeline, task and key of an unknown need, with a suggestion', () => {
    const e = errorOf(() => load({ nightly: { tasks: { export: { kind: 'export', tables: ['a.b'] }, gold: { kind: 'gc', needs: ['exprot'] } } } }));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toBe('Pipeline nightly, task gold: needs unknown task "exprot"');
    expect(e.context.option).toBe('pipelines.nightly.tasks.gold.needs[0]');
    expect(e.hint).toBe('Did you mean export?');
  });

  it('refuses a cycle, naming it', () => {
    const e = errorOf(() => load({ p: { tasks: { a: { kind: 'gc', needs: ['c'] }, b: { kind: 'gc', needs: ['a'] }, c: { kind: 'gc', needs: ['b'] } } } }));
    expect(e.message).toBe('Pipeline p: tasks depend on each other in a cycle: a -> c -> b -> a');
  });

  it('refuses a bad cron, an unknown time zone, an unknown kind and an unknown key', () => {
    expect(errorOf(() => load({ p: { schedule: { cron: '61 * * * *' }, tasks: { a: { kind: 'gc' } } } })).context.option).toBe('pipelines.p.schedule.cron');
    expect(errorOf(() => load({ p: { schedule: { cron: '0 2 * * *', tz: 'Mars/Base' }, tasks: { a: { kind: 'gc' } } } })).message).toBe('Pipeline p: unknown time zone "Mars/Base"');
    const kind = errorOf(() => load({ p: { tasks: { a: { kind: 'sensor' } } } }));
    expect(kind.message).toMatch(/^Invalid config value at pipelines\.p\.tasks\.a\.kind: Invalid discriminator value. Expected 'export' \| 'transform' \| 'command' \| 'publish' \| 'gc'/);
    expect(errorOf(() => load({ p: { tasks: { a: { kind: 'command', command: 'true', timout: 5 } } } })).message).toMatch(/^Unknown config key pipelines\.p\.tasks\.a\.timout/);
    expect(errorOf(() => load({ p: { tasks: { a: { kind: 'command', command: 'true', timeout: '5 minutes' } } } })).context.option).toBe('pipelines.p.tasks.a.timeout');
    expect(errorOf(() => load({ p: { tasks: {} } })).message).toMatch(/pipelines\.p\.tasks: a pipeline needs at least one task/);
  });

  it('parses durations', () => {
    expect(durationMs('1h30m')).toBe(5_400_000);
    expect(durationMs('500ms')).toBe(500);
    expect(durationMs(2.5)).toBe(2500);
    expect(() => durationMs('10 min', 'x')).toThrow(/x: "10 min" is not a duration/);
  });
});

describe('schedule intervals', () => {
  const sp = { cron: '0 2 * * *', tz: 'America/Sao_Paulo' };

  it('the interval ending at or before a time', () => {
    const i = intervalEndingAtOrBefore(sp, new Date('2026-11-03T05:00:00Z'));
    expect([i.start.toISOString(), i.end.toISOString()]).toEqual(['2026-11-02T05:00:00.000Z', '2026-11-03T05:00:00.000Z']);
  });

  it('intervals ending after a time, oldest first', () => {
    const list = intervalsEndingIn(sp, new Date('2026-11-01T05:00:00Z'), new Date('2026-11-03T12:00:00Z'));
    expect(list.map((i) => i.end.toISOString())).toEqual(['2026-11-02T05:00:00.000Z', '2026-11-03T05:00:00.000Z']);
  });

  it('backfill days are midnight in the zone; three days make three intervals', () => {
    const from = parseDateIn('2026-11-01', 'America/Sao_Paulo', '--from');
    expect(from.toISOString()).toBe('2026-11-01T03:00:00.000Z');
    const to = parseDateIn('2026-11-04', 'America/Sao_Paulo', '--to');
    const list = intervalsStartingIn(sp, from, to, new Date('2026-12-01T00:00:00Z'));
    expect(list.map((i) => i.start.toISOString())).toEqual(['2026-11-01T05:00:00.000Z', '2026-11-02T05:00:00.000Z', '2026-11-03T05:00:00.000Z']);
    // Intervals that have not ended are not run.
    expect(intervalsStartingIn(sp, from, to, new Date('2026-11-03T04:00:00Z'))).toHaveLength(1);
    expect(() => parseDateIn('yesterday', 'UTC', '--from')).toThrow(/--from "yesterday" is not a date/);
  });
});

describe('shipped pipelines', () => {
  it('are the default: migrate-all (export, silver, gold) and nightly-refresh (02:00 São Paulo, incremental, gc last)', () => {
    const { pipelines } = loadConfig({ env: {} });
    expect(Object.keys(pipelines)).toEqual(['migrate-all', 'nightly-refresh']);
    expect(taskOrder(pipelines['migrate-all']!)).toEqual(['export', 'silver', 'gold']);
    expect(pipelines['migrate-all']!.tasks.export).toMatchObject({ kind: 'export', mode: 'full' });
    const nightly = pipelines['nightly-refresh']!;
    expect(nightly.schedule).toEqual({ cron: '0 2 * * *', tz: 'America/Sao_Paulo' });
    expect(nightly.tasks.export).toMatchObject({ kind: 'export', mode: 'incremental', tables: ['core.fact_demand_daily', 'analytics.fact_forecasts'], retries: 2, backoff: 60_000, timeout: 7_200_000 });
    expect(taskOrder(nightly)).toEqual(['export', 'silver', 'gold', 'gc']);
    // Configuring any pipeline replaces them.
    expect(Object.keys(load({ mine: { tasks: { a: { kind: 'gc' } } } }).pipelines)).toEqual(['mine']);
  });

  it('corrente.example.yaml spells out the same pipelines', () => {
    const example = loadConfig({ env: {}, file: new URL('../../corrente.example.yaml', import.meta.url).pathname });
    expect(example.pipelines).toEqual(loadConfig({ env: {} }).pipelines);
    // ...and the incremental settings nightly-refresh relies on, as the defaults have them.
    const incremental = (tables: ReturnType<typeof loadConfig>['tables']) => tables.flatMap((t) => (typeof t !== 'string' && t.incremental ? [[t.name, t.incremental]] : []));
    expect(incremental(example.tables)).toEqual(incremental(loadConfig({ env: {} }).tables));
    expect(incremental(example.tables).map(([name]) => name)).toEqual(['core.fact_demand_daily', 'analytics.fact_forecasts']);
  });
});
