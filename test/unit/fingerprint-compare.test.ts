import { describe, expect, it } from 'vitest';
import { compareFingerprints } from '../../src/pipeline/compare-fingerprints.js';
import { metricsFor, type TableFingerprint } from '../../src/shared/fingerprint.js';
import type { ColumnSpec, LogicalType, TableSchema } from '../../src/shared/table-schema.js';

function col(name: string, type: LogicalType): ColumnSpec {
  return { name, pgType: type.kind, nullable: true, type };
}

const schema: TableSchema = {
  table: { schema: 's', name: 't' },
  columns: [
    col('id', { kind: 'int64' }),
    col('amount', { kind: 'decimal', precision: 14, scale: 4 }),
    col('label', { kind: 'text' }),
    col('f8', { kind: 'float64' }),
    col('f4', { kind: 'float32' }),
  ],
  primaryKey: ['id'],
  estimatedRows: -1,
};

function base(): TableFingerprint {
  return {
    rows: '3',
    columns: {
      id: { n: '3', sum: '6' },
      amount: { n: '3', sum: '123.4500' },
      label: { n: '2', hash: '81985529216486895', len: '17' },
      f8: { n: '3', nan: '0', posinf: '0', neginf: '0', negzero: '0', min: '0.1', max: '1e+300', fsum: '1.0000000000000002' },
      f4: { n: '3', nan: '0', posinf: '0', neginf: '0', negzero: '0', min: '0.1', max: '3.4028235e+38', fsum: '12.5' },
    },
  };
}

/** A copy of `base()` with one metric of one column replaced. */
function withMetric(column: string, metric: string, value: string | null): TableFingerprint {
  const fp = base();
  (fp.columns[column] as Record<string, string | null>)[metric] = value;
  return fp;
}

describe('compareFingerprints', () => {
  it('returns [] for equal fingerprints', () => {
    expect(compareFingerprints(schema, base(), base())).toEqual([]);
  });

  it('treats 123.4500 and 123.45 as equal decimals', () => {
    expect(compareFingerprints(schema, base(), withMetric('amount', 'sum', '123.45'))).toEqual([]);
    expect(compareFingerprints(schema, withMetric('amount', 'sum', '100.000'), withMetric('amount', 'sum', '100'))).toEqual([]);
    expect(compareFingerprints(schema, withMetric('amount', 'sum', '0.0'), withMetric('amount', 'sum', '0'))).toEqual([]);
  });

  it('treats -0 and 0 as equal', () => {
    expect(compareFingerprints(schema, withMetric('amount', 'sum', '-0'), withMetric('amount', 'sum', '0'))).toEqual([]);
    expect(compareFingerprints(schema, withMetric('amount', 'sum', '-0.0000'), withMetric('amount', 'sum', '0'))).toEqual([]);
    expect(compareFingerprints(schema, withMetric('id', 'sum', '+0'), withMetric('id', 'sum', '0'))).toEqual([]);
  });

  it('does not strip integer trailing zeros: 100 vs 1 differ, 123.45 vs 123.5 differ', () => {
    expect(compareFingerprints(schema, withMetric('id', 'sum', '100'), withMetric('id', 'sum', '1'))).toHaveLength(1);
    expect(compareFingerprints(schema, withMetric('amount', 'sum', '123.45'), withMetric('amount', 'sum', '123.5'))).toHaveLength(1);
    expect(compareFingerprints(schema, withMetric('amount', 'sum', '-1.5'), withMetric('amount', 'sum', '1.5'))).toHaveLength(1);
  });

  it('reports a row-count difference', () => {
    const p = base();
    p.rows = '4';
    expect(compareFingerprints(schema, base(), p)).toEqual(['row count: source 3, parquet 4']);
  });

  it('names the column and metric of a hash difference', () => {
    const diffs = compareFingerprints(schema, base(), withMetric('label', 'hash', '81985529216486896'));
    expect(diffs).toEqual(['column "label" hash: source 81985529216486895, parquet 81985529216486896']);
  });

  it('compares big integers exactly (beyond 2^53)', () => {
    expect(compareFingerprints(schema, withMetric('id', 'sum', '9007199254740993'), withMetric('id', 'sum', '9007199254740992'))).toHaveLength(1);
  });

  it('accepts a float sum within 1e-12 relative, rejects 1e-6 relative', () => {
    const x = 12345.678;
    expect(compareFingerprints(schema, withMetric('f8', 'fsum', String(x)), withMetric('f8', 'fsum', String(x * (1 + 1e-12))))).toEqual([]);
    const diffs = compareFingerprints(schema, withMetric('f8', 'fsum', String(x)), withMetric('f8', 'fsum', String(x * (1 + 1e-6))));
    expect(diffs).toHaveLength(1);
    expect(diffs[0]).toMatch(/^column "f8" fsum: /);
    // Near zero the tolerance is absolute (scaled by max(1, |x|)).
    expect(compareFingerprints(schema, withMetric('f8', 'fsum', '0'), withMetric('f8', 'fsum', '1e-13'))).toEqual([]);
    expect(compareFingerprints(schema, withMetric('f8', 'fsum', '0'), withMetric('f8', 'fsum', '1e-6'))).toHaveLength(1);
  });

  it('compares float32 min/max after Math.fround', () => {
    // DuckDB may print the widened double of a float4; Postgres prints the shortest float4 text.
    const widened = String(Math.fround(0.1)); // 0.10000000149011612
    expect(compareFingerprints(schema, base(), withMetric('f4', 'min', widened))).toEqual([]);
    expect(compareFingerprints(schema, withMetric('f4', 'max', '3.4028235e+38'), withMetric('f4', 'max', String(Math.fround(3.4028235e38))))).toEqual([]);
    // A genuinely different float4 is reported.
    expect(compareFingerprints(schema, base(), withMetric('f4', 'min', '0.2'))).toEqual(['column "f4" min: source 0.1, parquet 0.2']);
  });

  it('compares float64 min exactly (no fround)', () => {
    expect(compareFingerprints(schema, base(), withMetric('f8', 'min', String(Math.fround(0.1))))).toEqual([
      `column "f8" min: source 0.1, parquet ${String(Math.fround(0.1))}`,
    ]);
    expect(compareFingerprints(schema, base(), withMetric('f8', 'max', '1.0e300'))).toEqual([]);
  });

  it('null vs "0" is a difference, null vs null is not', () => {
    expect(compareFingerprints(schema, withMetric('amount', 'sum', null), withMetric('amount', 'sum', '0'))).toEqual([
      'column "amount" sum: source null, parquet 0',
    ]);
    expect(compareFingerprints(schema, withMetric('amount', 'sum', '0'), withMetric('amount', 'sum', null))).toHaveLength(1);
    expect(compareFingerprints(schema, withMetric('f8', 'min', null), withMetric('f8', 'min', null))).toEqual([]);
    expect(compareFingerprints(schema, withMetric('f8', 'fsum', null), withMetric('f8', 'fsum', '0'))).toHaveLength(1);
  });

  it('a metric missing on the parquet side is a difference', () => {
    const p = base();
    delete (p.columns.label as Record<string, unknown>).len;
    expect(compareFingerprints(schema, base(), p)).toEqual(['column "label" len: source 17, parquet undefined']);
  });

  it('reports every difference, row count first', () => {
    const p = withMetric('id', 'n', '2');
    p.rows = '2';
    (p.columns.label as Record<string, string>).len = '16';
    expect(compareFingerprints(schema, base(), p)).toEqual([
      'row count: source 3, parquet 2',
      'column "id" n: source 3, parquet 2',
      'column "label" len: source 17, parquet 16',
    ]);
  });

  it('quotes odd column names in messages', () => {
    const odd: TableSchema = { ...schema, columns: [col('we"ird name', { kind: 'int32' })] };
    const diffs = compareFingerprints(odd, { rows: '1', columns: { 'we"ird name': { n: '1' } } }, { rows: '1', columns: { 'we"ird name': { n: '0' } } });
    expect(diffs).toEqual(['column "we\\"ird name" n: source 1, parquet 0']);
  });
});

describe('metricsFor textChecksum', () => {
  const text: LogicalType = { kind: 'text' };
  const json: LogicalType = { kind: 'json' };
  const uuid: LogicalType = { kind: 'uuid' };
  const time: LogicalType = { kind: 'time' };
  const bytes: LogicalType = { kind: 'bytes' };

  it('md5 (the default, and what older manifests mean) hashes every text-like kind', () => {
    for (const t of [text, json, uuid, time, bytes]) expect(metricsFor(t)).toEqual(['n', 'hash', 'len']);
  });

  it('auto hashes the kinds DuckDB converts and checks lengths of those stored as read', () => {
    expect(metricsFor(text, { textChecksum: 'auto' })).toEqual(['n', 'len']);
    expect(metricsFor(json, { textChecksum: 'auto' })).toEqual(['n', 'len']);
    for (const t of [uuid, time, bytes]) expect(metricsFor(t, { textChecksum: 'auto' })).toEqual(['n', 'hash', 'len']);
  });

  it('length never hashes', () => {
    for (const t of [text, json, uuid, time, bytes]) expect(metricsFor(t, { textChecksum: 'length' })).toEqual(['n', 'len']);
  });

  it('leaves numbers and dates alone in every mode', () => {
    for (const textChecksum of ['auto', 'md5', 'length'] as const) {
      expect(metricsFor({ kind: 'decimal', precision: 14, scale: 3 }, { textChecksum })).toEqual(['n', 'sum']);
      expect(metricsFor({ kind: 'timestamptz' }, { textChecksum })).toEqual(['n', 'micros', 'posinf', 'neginf']);
    }
  });
});
