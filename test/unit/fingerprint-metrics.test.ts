import { describe, expect, it } from 'vitest';
import { buildParquetFingerprintSql } from '../../src/duckdb/index.js';
import { buildFingerprintSql } from '../../src/postgres/index.js';
import { metricsFor, SCALAR_METRICS } from '../../src/shared/fingerprint.js';
import { METRIC_FORMS, metricSql } from '../../src/shared/fingerprint-metrics.js';
import type { ColumnSpec, TableSchema } from '../../src/shared/table-schema.js';

const col: ColumnSpec = { name: 'c', pgType: 'integer', nullable: true, type: { kind: 'int32' } };

describe('verification metrics, defined once', () => {
  it('every metric has a Postgres and a DuckDB form', () => {
    for (const m of SCALAR_METRICS) {
      const forms = METRIC_FORMS[m];
      expect(forms, m).toBeDefined();
      expect(forms.postgres(col, '"c"'), m).toMatch(/"c"/);
      expect(forms.duckdb(col, '"c"'), m).toMatch(/"c"/);
    }
  });

  it('element metrics of a nested list aggregate every element of every dimension', () => {
    const nested: ColumnSpec = { name: 'l', pgType: 'integer[]', nullable: true, type: { kind: 'list', element: { kind: 'int32' }, dims: 3 } };
    expect(metricsFor(nested.type)).toEqual(['n', 'len', 'e_n', 'e_sum']);
    expect(metricSql('duckdb', nested, 'e_sum')).toContain('unnest(flatten(flatten("l")))');
    expect(metricSql('duckdb', nested, 'len')).toBe('sum(len(flatten(flatten("l"))))');
    // Postgres' unnest already walks every dimension; in the select list it keeps composites whole.
    expect(metricSql('postgres', nested, 'e_sum')).toBe('sum((SELECT sum("e")::numeric FROM (SELECT unnest("l") AS "e") AS u))');
  });

  it('both engines are asked for the same metrics of a table', () => {
    const schema: TableSchema = {
      table: { schema: 's', name: 't' },
      columns: [col, { name: 'f', pgType: 'double precision[]', nullable: true, type: { kind: 'list', element: { kind: 'float64' } } }],
      primaryKey: [],
      estimatedRows: -1,
    };
    const aliases = (sql: string): string[] => [...sql.matchAll(/ AS (m\d+_\w+)/g)].map((m) => m[1]!).sort();
    expect(aliases(buildFingerprintSql(schema))).toEqual(aliases(buildParquetFingerprintSql(schema, ['x.parquet'])));
  });
});
