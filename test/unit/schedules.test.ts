import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, nextFireTimes } from '../../src/config/index.js';
import type { CorrenteError } from '../../src/shared/errors.js';

function withYaml(text: string, checkSchedules?: boolean): () => unknown {
  const file = join(mkdtempSync(join(tmpdir(), 'corrente-sched-')), 'c.yaml');
  writeFileSync(file, text);
  return () => loadConfig({ env: {}, file, ...(checkSchedules === undefined ? {} : { checkSchedules }) });
}

function errorOf(fn: () => unknown): CorrenteError {
  try {
    fn();
  } catch (err) {
    return err as CorrenteError;
  }
  throw new Error('expected an error');
}

describe('schedules config', () => {
  it('accepts a nightly schedule and computes its next firing in the zone', () => {
    const c = withYaml('schedules:\n  - id: nightly\n    cron: "0 2 * * *"\n    tz: America/Sao_Paulo\n    tables: [analytics.fact_forecasts]\n')() as ReturnType<typeof loadConfig>;
    expect(c.schedules[0]).toEqual({ id: 'nightly', cron: '0 2 * * *', tz: 'America/Sao_Paulo', tables: ['analytics.fact_forecasts'] });
    // 02:00 in São Paulo (UTC-3, no DST since 2019) is 05:00 UTC.
    expect(nextFireTimes('0 2 * * *', 'America/Sao_Paulo', 1, new Date('2026-11-26T12:00:00Z'))[0]!.toISOString()).toBe('2026-11-27T05:00:00.000Z');
  });

  it('rejects an invalid cron pattern, naming the option', () => {
    const err = errorOf(withYaml('schedules:\n  - id: bad\n    cron: "61 2 * * *"\n    tables: [a.b]\n'));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('invalid cron pattern "61 2 * * *"');
    expect(err.context.option).toBe('schedules[0].cron');
  });

  it('rejects an unknown time zone', () => {
    const err = errorOf(withYaml('schedules:\n  - id: bad\n    cron: "0 2 * * *"\n    tz: Mars/Olympus\n    tables: [a.b]\n'));
    expect(err.message).toContain('unknown time zone "Mars/Olympus"');
  });

  it('rejects duplicate ids and bad table names', () => {
    expect(errorOf(withYaml('schedules:\n  - {id: a, cron: "0 2 * * *", tables: [a.b]}\n  - {id: a, cron: "0 3 * * *", tables: [a.b]}\n')).message).toContain('duplicate schedule id');
    expect(errorOf(withYaml('schedules:\n  - {id: a, cron: "0 2 * * *", tables: [nodot]}\n')).code).toBe('CONFIG_INVALID');
  });

  it('leaves out only the cron and time zone checks when checkSchedules is false (export workers)', () => {
    const times = 'schedules:\n  - {id: a, cron: "61 2 * * *", tz: Mars/Olympus, tables: [a.b]}\npipelines:\n  p:\n    schedule: {cron: "0 2 * * *", tz: Mars/Base}\n    tasks: {g: {kind: gc}}\n';
    expect(errorOf(withYaml(times)).code).toBe('CONFIG_INVALID');
    const c = withYaml(times, false)() as ReturnType<typeof loadConfig>;
    expect(c.schedules[0]!.tz).toBe('Mars/Olympus');
    expect(c.pipelines.p!.schedule!.tz).toBe('Mars/Base');
    // The rest of the validation still runs.
    expect(errorOf(withYaml('schedules:\n  - {id: a, cron: "0 2 * * *", tables: [a.b]}\n  - {id: a, cron: "0 3 * * *", tables: [a.b]}\n', false)).message).toContain('duplicate schedule id');
    expect(errorOf(withYaml('schedules:\n  - {id: a, cron: "0 2 * * *", tables: [nodot]}\n', false)).code).toBe('CONFIG_INVALID');
    expect(errorOf(withYaml('pipelines:\n  p:\n    tasks: {g: {kind: gc, needs: [h]}}\n', false)).message).toContain('needs unknown task');
  });
});
