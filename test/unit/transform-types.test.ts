/**
 * DuckDB result types of models mapped to the lake's exact types, widened integers,
 * contract type comparison, and the model SQL rendering helpers.
 */
import { describe, expect, it } from 'vitest';
import { logicalTypeOfDuck, pgTypeOfLogical, storedDuckType } from '../../src/duckdb/index.js';
import { normaliseType } from '../../src/pipeline/index.js';
import { extractCalls, renderSql } from '../../src/transform/index.js';

describe('model column types', () => {
  it('maps DuckDB types to exact logical and Postgres types', () => {
    expect(logicalTypeOfDuck('DECIMAL(38,5)')).toEqual({ kind: 'decimal', precision: 38, scale: 5 });
    expect(logicalTypeOfDuck('TIMESTAMP WITH TIME ZONE')).toEqual({ kind: 'timestamptz' });
    expect(logicalTypeOfDuck('VARCHAR[]')).toEqual({ kind: 'list', element: { kind: 'text' } });
    expect(logicalTypeOfDuck('INTERVAL')).toBeUndefined();
    expect(logicalTypeOfDuck('STRUCT(a INTEGER)')).toBeUndefined();
    expect(logicalTypeOfDuck('DOUBLE[][]')).toBeUndefined();
    expect(pgTypeOfLogical({ kind: 'decimal', precision: 14, scale: 3 })).toBe('numeric(14,3)');
    expect(pgTypeOfLogical({ kind: 'list', element: { kind: 'int32' } })).toBe('integer[]');
  });

  it('widens integers without an exact stored form', () => {
    expect(storedDuckType('HUGEINT')).toBe('DECIMAL(38,0)');
    expect(storedDuckType('UBIGINT')).toBe('DECIMAL(20,0)');
    expect(storedDuckType('UINTEGER')).toBe('BIGINT');
    expect(storedDuckType('INTEGER')).toBe('INTEGER');
  });

  it('compares declared and returned types without case, spaces or aliases', () => {
    expect(normaliseType('decimal(14, 3)')).toBe(normaliseType('DECIMAL(14,3)'));
    expect(normaliseType('numeric(14,3)')).toBe(normaliseType('DECIMAL(14,3)'));
    expect(normaliseType('int')).toBe(normaliseType('INTEGER'));
    expect(normaliseType('timestamptz')).toBe(normaliseType('TIMESTAMP WITH TIME ZONE'));
    expect(normaliseType('text')).toBe(normaliseType('VARCHAR'));
    expect(normaliseType('BIGINT')).not.toBe(normaliseType('INTEGER'));
  });

  it('renders calls in place, keeping lines', () => {
    const sql = `SELECT *\nFROM {{ ref('a') }} JOIN {{ source("core", "t") }} USING (id)\nWHERE h <= {{ var('h') }}`;
    const calls = extractCalls(sql, 'm.sql');
    expect(renderSql(sql, calls, (c) => (c.kind === 'ref' ? 'A' : c.kind === 'source' ? `S_${c.schema}_${c.table}` : '7'))).toBe('SELECT *\nFROM A JOIN S_core_t USING (id)\nWHERE h <= 7');
  });
});
