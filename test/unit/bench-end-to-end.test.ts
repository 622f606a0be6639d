import { describe, expect, it } from 'vitest';
import { duckdbTypeOf } from '../../bench/csv-column-types.js';
import { cpuFloor } from '../../bench/end-to-end-report.js';
import { checkFileSizes } from '../../bench/file-sizes.js';
import { busyTicks, startCpuCount } from '../../bench/machine-cpu.js';
import { roundOrder } from '../../bench/measure-end-to-end.js';
import { median, spread } from '../../bench/stats.js';

const MB = 1e6;
const run = 'core/fact_demand_daily/run-20261129T190000Z-1a2b';

describe('bench: lake-sized files check', () => {
  it('allows a small last file per range and flags small files before it', () => {
    const c = checkFileSizes(
      [
        { key: `${run}/part-00001-00001.parquet`, bytes: 10 * MB },
        { key: `${run}/part-00000-00000.parquet`, bytes: 130 * MB },
        { key: `${run}/part-00000-00001.parquet`, bytes: 20 * MB },
        { key: `${run}/part-00001-00000.parquet`, bytes: 63 * MB },
      ],
      64 * MB,
    );
    expect(c.files).toBe(4);
    expect(c.ranges).toBe(2);
    expect(c.undersized.map((f) => f.key)).toEqual([`${run}/part-00001-00000.parquet`]);
    expect(c.sizes).toEqual([130 * MB, 20 * MB, 63 * MB, 10 * MB]);
  });

  it('treats the files of an unsplit table as one range ordered by number', () => {
    const files = [2, 0, 1, 10].map((i) => ({ key: `${run}/part-${String(i).padStart(5, '0')}.parquet`, bytes: i === 10 ? 5 * MB : 100 * MB }));
    expect(checkFileSizes(files, 64 * MB)).toMatchObject({ ranges: 1, undersized: [] });
    expect(checkFileSizes([{ key: `${run}/part-00000.parquet`, bytes: 1 }], 64 * MB).undersized).toEqual([]);
    const small = checkFileSizes([{ key: `${run}/part-00000.parquet`, bytes: 5 * MB }, { key: `${run}/part-00001.parquet`, bytes: 5 * MB }], 64 * MB);
    expect(small.undersized).toEqual([{ key: `${run}/part-00000.parquet`, bytes: 5 * MB }]);
  });
});

describe('bench: rounds and statistics', () => {
  it('rotates the paths so each runs once in each position over four rounds', () => {
    expect([0, 1, 2, 3].map(roundOrder)).toEqual([
      ['copy', 'manual', 'corrente', 'unverified'],
      ['manual', 'corrente', 'unverified', 'copy'],
      ['corrente', 'unverified', 'copy', 'manual'],
      ['unverified', 'copy', 'manual', 'corrente'],
    ]);
  });

  it('medians and min-max (median) ranges', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow();
    expect(spread([1.5, 0.5, 1])).toBe('0.50-1.50 (1.00)');
    expect(spread([2])).toBe('2.00');
  });

  it('maps Postgres column types to explicit DuckDB read_csv types, refusing unknown ones', () => {
    expect(['bigint', 'numeric(14,3)', 'timestamp with time zone', 'jsonb', 'uuid', 'character varying(32)'].map(duckdbTypeOf)).toEqual([
      'BIGINT',
      'DECIMAL(14,3)',
      'TIMESTAMPTZ',
      'JSON',
      'UUID',
      'VARCHAR',
    ]);
    expect(() => duckdbTypeOf('numeric')).toThrow(/numeric/);
    expect(() => duckdbTypeOf('inet')).toThrow(/inet/);
  });
});

describe('bench: machine CPU', () => {
  it('counts user, nice, system, irq, softirq and steal ticks of the cpu line, not idle or iowait', () => {
    const stat = 'cpu  100 5 40 9000 70 3 2 1 0 0\ncpu0 50 2 20 4500 35 1 1 0 0 0\nintr 12345\n';
    expect(busyTicks(stat)).toBe(100 + 5 + 40 + 3 + 2 + 1);
    expect(busyTicks('cpu  1 2 3 4\n')).toBe(6);
    expect(busyTicks('intr 1\n')).toBeUndefined();
    expect(busyTicks('cpu  1 x 3 4 5 6 7\n')).toBeUndefined();
  });

  it('reads this machine: busy seconds grow while a core spins', () => {
    const cpuSeconds = startCpuCount();
    const until = Date.now() + 300;
    while (Date.now() < until);
    // USER_HZ ticks: a 0.3 s spin on one core shows as at least 0.2 s.
    expect(cpuSeconds()).toBeGreaterThanOrEqual(0.2);
  });

  it('turns the whole command\'s CPU into the least wall time the cores allow', () => {
    expect(cpuFloor({ cpu: { corrente: 20, cores: 2 }, median: { manual: 8 } })).toEqual({ seconds: 10, overManual: 1.25 });
    expect(cpuFloor({ cpu: { corrente: 20, cores: 4 }, median: { manual: 8 } })).toEqual({ seconds: 5, overManual: 0.625 });
    expect(cpuFloor({ cpu: { corrente: null, cores: 2 }, median: { manual: 8 } })).toBeNull();
  });
});
