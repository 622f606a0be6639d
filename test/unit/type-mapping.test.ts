import { describe, expect, it } from 'vitest';
import { MAX_DECIMAL_PRECISION, mapPgType, type PgTypeInfo } from '../../src/postgres/type-mapping.js';

/** atttypmod of numeric(p,s), as Postgres computes it (scale stored as 11-bit signed). */
function numericTypmod(p: number, s: number): number {
  return ((p << 16) | (s & 0x7ff)) + 4;
}

function numeric(typmod: number): PgTypeInfo {
  return { typname: 'numeric', typmod, category: 'N' };
}

describe('mapPgType: numeric', () => {
  it('uses the Postgres typmod formula', () => {
    expect(numericTypmod(14, 3)).toBe(((14 << 16) | 3) + 4);
    expect(numericTypmod(5, -2)).toBe(((5 << 16) | (-2 & 0x7ff)) + 4);
  });

  it.each([
    [14, 3],
    [38, 10],
    [38, 0],
    [38, 38],
    [1, 0],
    [1, 1],
    [10, 10],
    [20, 0],
  ])('numeric(%i,%i) -> decimal(p,s)', (p, s) => {
    expect(mapPgType(numeric(numericTypmod(p, s)))).toEqual({ type: { kind: 'decimal', precision: p, scale: s } });
  });

  it('maps numeric(14,3) exactly, with no note', () => {
    const d = mapPgType(numeric(((14 << 16) | 3) + 4));
    expect(d).toEqual({ type: { kind: 'decimal', precision: 14, scale: 3 } });
    expect(d.note).toBeUndefined();
  });

  it('keeps numeric wider than 38 digits as text with a note', () => {
    expect(MAX_DECIMAL_PRECISION).toBe(38);
    const d = mapPgType(numeric(numericTypmod(39, 2)));
    expect(d.type).toEqual({ kind: 'text' });
    expect(d.note).toContain('numeric(39,2)');
    expect(mapPgType(numeric(numericTypmod(1000, 0))).type).toEqual({ kind: 'text' });
  });

  it('keeps unconstrained numeric as text with a note', () => {
    const d = mapPgType(numeric(-1));
    expect(d.type).toEqual({ kind: 'text' });
    expect(d.note).toMatch(/without precision/);
  });

  it('keeps negative-scale numeric(5,-2) as text, decoding the scale as -2', () => {
    const d = mapPgType(numeric(((5 << 16) | (-2 & 0x7ff)) + 4));
    expect(d.type).toEqual({ kind: 'text' });
    expect(d.note).toContain('numeric(5,-2)');
    expect(mapPgType(numeric(numericTypmod(38, -1000))).note).toContain('numeric(38,-1000)');
  });

  it('keeps scale > precision (numeric(2,5), Postgres 15+) as text', () => {
    const d = mapPgType(numeric(numericTypmod(2, 5)));
    expect(d.type).toEqual({ kind: 'text' });
    expect(d.note).toContain('numeric(2,5)');
    expect(mapPgType(numeric(numericTypmod(3, 1000))).type).toEqual({ kind: 'text' });
  });
});

describe('mapPgType: scalars', () => {
  it.each([
    ['bool', 'bool'],
    ['int2', 'int16'],
    ['int4', 'int32'],
    ['int8', 'int64'],
    ['float4', 'float32'],
    ['float8', 'float64'],
    ['text', 'text'],
    ['varchar', 'text'],
    ['bpchar', 'text'],
    ['json', 'json'],
    ['jsonb', 'json'],
    ['uuid', 'uuid'],
    ['bytea', 'bytes'],
    ['date', 'date'],
    ['time', 'time'],
    ['timestamp', 'timestamp'],
    ['timestamptz', 'timestamptz'],
  ])('%s -> %s without a note', (typname, kind) => {
    expect(mapPgType({ typname, typmod: -1, category: 'X' })).toEqual({ type: { kind } });
  });

  it.each([['inet'], ['interval'], ['tsvector'], ['timetz'], ['money'], ['mood_enum'], ['point']])('unknown type %s -> text with a note', (typname) => {
    const d = mapPgType({ typname, typmod: -1, category: typname === 'mood_enum' ? 'E' : 'U' });
    expect(d.type).toEqual({ kind: 'text' });
    expect(d.note).toContain(typname);
  });
});

describe('mapPgType: arrays', () => {
  const arr = (element: string): PgTypeInfo => ({ typname: `_${element}`, typmod: -1, category: 'A', elementTypname: element });

  it.each([
    ['int4', 'int32'],
    ['int2', 'int16'],
    ['int8', 'int64'],
    ['text', 'text'],
    ['varchar', 'text'],
    ['bool', 'bool'],
    ['float8', 'float64'],
    ['float4', 'float32'],
    ['uuid', 'uuid'],
    ['timestamptz', 'timestamptz'],
    ['timestamp', 'timestamp'],
    ['date', 'date'],
    ['jsonb', 'json'],
    ['bytea', 'bytes'],
  ])('%s[] -> list<%s>', (element, kind) => {
    expect(mapPgType(arr(element))).toEqual({ type: { kind: 'list', element: { kind }, dims: 1 } });
  });

  it('numeric(p,s)[] -> list<decimal(p,s)>, the modifier taken from the column', () => {
    const typmod = ((12 << 16) | 3) + 4;
    expect(mapPgType({ ...arr('numeric'), elementTypmod: typmod }).type).toEqual({ kind: 'list', element: { kind: 'decimal', precision: 12, scale: 3 }, dims: 1 });
  });

  it('declared dimensions are the starting depth (the export checks the values)', () => {
    expect(mapPgType({ ...arr('int4'), declaredDims: 2 }).type).toEqual({ kind: 'list', element: { kind: 'int32' }, dims: 2 });
  });

  it.each([['numeric'], ['my_enum'], ['interval'], ['my_composite']])('%s[] -> list<text> of exact element texts, with a note', (element) => {
    const d = mapPgType({ ...arr(element), elementCategory: element === 'my_enum' ? 'E' : 'U' });
    expect(d.type).toEqual({ kind: 'list', element: { kind: 'text' }, dims: 1 });
    expect(d.note).toMatch(/^elements: /);
  });

  it('an array without an element type falls back to text with a note', () => {
    const d = mapPgType({ typname: '_weird', typmod: -1, category: 'A', elementTypname: null });
    expect(d.type).toEqual({ kind: 'text' });
    expect(d.note).toBeDefined();
  });
});
