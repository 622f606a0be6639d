import { describe, expect, it } from 'vitest';
import { diffColumns, type Manifest } from '../../src/lake/index.js';
import { applyArrayLayouts, buildArrayLayoutSql, readArrayLayouts } from '../../src/postgres/index.js';
import type { ColumnSpec, TableSchema } from '../../src/shared/table-schema.js';

const list = (name: string, dims = 1, element: ColumnSpec['type'] = { kind: 'int32' }): ColumnSpec => ({
  name,
  pgType: 'integer[]',
  nullable: true,
  type: { kind: 'list', element: element as never, dims },
});
const schema: TableSchema = {
  table: { schema: 's', name: 't' },
  columns: [{ name: 'id', pgType: 'integer', nullable: false, type: { kind: 'int32' } }, list('a'), list('b', 2), list('c'), list('d', 1, { kind: 'decimal', precision: 10, scale: 2 })],
  primaryKey: ['id'],
  estimatedRows: -1,
};

describe('array layout check', () => {
  it('asks only about array columns, and about NaN only for DECIMAL elements', () => {
    const sql = buildArrayLayoutSql(schema);
    expect(sql).not.toMatch(/"id"/);
    expect(sql).toMatch(/a1_min.*a1_max.*a1_odd/);
    expect(sql).toMatch(/a4_nan/);
    expect(sql).not.toMatch(/a1_nan/);
  });

  it('keeps a LIST of the seen depth, or text with the reason', () => {
    const layouts = readArrayLayouts(schema, {
      a1_min: 2, a1_max: 2, a1_odd: null,
      a2_min: null, a2_max: null, a2_odd: null,
      a3_min: 1, a3_max: 3, a3_odd: null,
      a4_min: 1, a4_max: 1, a4_odd: null, a4_nan: true,
    });
    expect(layouts.a).toEqual({ dims: 2 });
    expect(layouts.b).toEqual({ dims: 2 }); // only NULL/empty values: the declared depth stands
    expect(layouts.c).toEqual({ text: expect.stringMatching(/1 to 3 dimensions/) });
    expect(layouts.d).toEqual({ text: expect.stringMatching(/NaN/) });
    expect(readArrayLayouts(schema, { a1_min: 1, a1_max: 1, a1_odd: '[0:2]' }).a).toEqual({ text: expect.stringMatching(/lower bound is not 1 \(e\.g\. \[0:2\]\)/) });
  });

  it('applies layouts to the schema', () => {
    const applied = applyArrayLayouts(schema, { a: { dims: 3 }, c: { text: 'why' } });
    expect(applied.columns[1]!.type).toEqual({ kind: 'list', element: { kind: 'int32' }, dims: 3 });
    expect(applied.columns[3]).toEqual({ name: 'c', pgType: 'integer[]', nullable: true, type: { kind: 'text' }, note: 'why' });
    expect(applied.columns[2]).toBe(schema.columns[2]);
  });
});

describe('schema changes between runs', () => {
  const col = (name: string, parquetType: string, note?: string): Manifest['columns'][number] => ({ name, pgType: 'x', nullable: true, parquetType, type: { kind: 'text' }, ...(note ? { note } : {}) });
  it('lists added, removed and retyped columns', () => {
    expect(diffColumns([col('a', 'INT32'), col('b', 'LIST<INT32>'), col('gone', 'TEXT')], [col('a', 'INT32'), col('b', 'TEXT', 'mixed'), col('new', 'DATE')])).toEqual([
      { column: 'b', change: 'type', from: 'LIST<INT32>', to: 'TEXT', note: 'mixed' },
      { column: 'new', change: 'added', to: 'DATE' },
      { column: 'gone', change: 'removed', from: 'TEXT' },
    ]);
    expect(diffColumns([col('a', 'INT32')], [col('a', 'INT32')])).toEqual([]);
  });
});
