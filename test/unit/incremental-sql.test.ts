import { describe, expect, it } from 'vitest';
import { pointerRuns } from '../../src/lake/index.js';
import { columnWindowFilter, parseXidSnapshot, xminWindowFilter } from '../../src/postgres/index.js';

describe('xmin window filter', () => {
  it('selects 32-bit xmin values of one epoch', () => {
    expect(xminWindowFilter(1000n, 2000n).sql).toBe('((xmin::text::bigint >= 1000 AND xmin::text::bigint < 2000) AND xmin::text::bigint >= 3)');
  });

  it('wraps across an epoch boundary', () => {
    const from = (1n << 32n) - 10n;
    const to = (1n << 32n) + 20n;
    expect(xminWindowFilter(from, to).sql).toBe('((xmin::text::bigint >= 4294967286 OR xmin::text::bigint < 20) AND xmin::text::bigint >= 3)');
  });

  it('refuses a window of 2^32 or more', () => {
    expect(() => xminWindowFilter(0n, 1n << 32n)).toThrow(/not within one wrap/);
  });

  it('parses pg_snapshot text', () => {
    expect(parseXidSnapshot('4294967300:4294967310:4294967301,4294967305')).toMatchObject({ xmin: 4294967300n, xmax: 4294967310n });
    expect(parseXidSnapshot('10:10:')).toMatchObject({ xmin: 10n, xmax: 10n });
    expect(parseXidSnapshot("10:10:'; DROP")).toBeUndefined();
  });
});

describe('column window filter', () => {
  it('quotes the column and re-validates the bound', () => {
    expect(columnWindowFilter('updated at', 'time', '2026-11-29 10:00:00.5+00').sql).toBe(`"updated at" >= '2026-11-29 10:00:00.5+00'::timestamptz`);
    expect(columnWindowFilter('id', 'integer', '-5').sql).toBe('"id" >= -5');
    expect(() => columnWindowFilter('id', 'integer', '1; DROP TABLE x')).toThrow(/Unexpected integer/);
  });
});

describe('gc protects increments', () => {
  it('counts every increment of the pointer, its files and tombstones', () => {
    const runs = pointerRuns('s/t/', {
      runId: 'base',
      manifestKey: 's/t/run-base/_manifest.json',
      snapshotTime: '2026-11-29T00:00:00Z',
      publishedAt: '2026-11-29T00:00:01Z',
      files: ['s/t/run-base/part-00000.parquet'],
      increments: [
        { runId: 'i1', manifestKey: 's/t/run-i1/_manifest.json', snapshotTime: 'x', publishedAt: 'x', files: ['s/t/run-i1/part-00000.parquet'], tombstones: ['s/t/run-i1/tombstones.parquet'] },
        { runId: 'i2', manifestKey: 's/t/run-i2/_manifest.json', snapshotTime: 'y', publishedAt: 'y', files: [] },
      ],
    });
    expect([...runs].sort()).toEqual(['base', 'i1', 'i2']);
  });
});
