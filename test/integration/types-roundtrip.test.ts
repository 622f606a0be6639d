/**
 * Every supported type, with edge values, goes Postgres -> Parquet -> DuckDB and must
 * come back equal, value by value. The pipeline's own verification must pass too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckSession } from '../../src/duckdb/index.js';
import type { Manifest } from '../../src/lake/index.js';
import { createTestSchema, type TestSchema } from '../helpers/pg.js';
import { createLocalLake, publishTable, type LocalLake } from '../helpers/export-deps.js';

let db: TestSchema;
let lake: LocalLake;
let manifest: Manifest;

const COLUMNS = `
  id int PRIMARY KEY,
  b bool, i2 int2, i4 int4, i8 int8,
  f4 float4, f8 float8,
  n_small numeric(14,3), n_max numeric(38,10), n_free numeric, n_wide numeric(50,5),
  t text, vc varchar(40), ch char(5),
  j json, jb jsonb, u uuid, ba bytea,
  d date, tm time, ts timestamp, tstz timestamptz,
  ia int[], ba_arr bool[], i8a int8[], ta text[], fa float8[],
  iv interval, inet_c inet, tz_time timetz, money_c money`;

const ROWS = [
  // Extremes and specials.
  `(1, true, -32768, -2147483648, -9223372036854775808,
    'NaN', 'NaN',
    -99999999999.999, 9999999999999999999999999999.9999999999, 'NaN', 123456789012345678901234567890123456789012345.12345,
    '', '', 'ab',
    '{"a": [1, 2.50], "a": 2}', '{"z": 1, "a": [true, null]}', '00000000-0000-0000-0000-000000000000', '\\x00ff',
    '0044-03-15 BC', '24:00:00', '0044-03-15 12:00:00.000001 BC', '0001-01-01 00:00:00+00 BC',
    '{1,NULL,3}', '{true,NULL}', '{9223372036854775807,-9223372036854775808}', '{"a,b","c\\"d",NULL,"NULL","","ünï 😀"}', '{NaN,Infinity,-0,1.5e300}',
    '-1 year -2 mons +3 days -04:05:06.000007', '2001:db8::1/64', '23:59:59.999999+14', '-12.34')`,
  `(2, false, 32767, 2147483647, 9223372036854775807,
    'Infinity', '-Infinity',
    99999999999.999, -0.0000000001, 'Infinity', -0.00001,
    'line1
line2 "quoted", comma', 'ünïcødé 😀', 'x    ',
    'null', '[]', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '\\x',
    'infinity', '00:00:00', 'infinity', '-infinity',
    '{}', '{}', '{}', '{}', '{}',
    '0', '10.0.0.0/8', '00:00:00-15:59', '0')`,
  `(3, NULL, 0, 0, 0,
    '-0', '-0',
    0, 0, '-Infinity', 0,
    ' ', ' leading and trailing ', NULL,
    '"just a string"', '"tab\\t esc \\" quote \\u00e9"', NULL, '\\x5c78',
    '-infinity', '00:00:00.000001', '-infinity', 'infinity',
    NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL)`,
  `(4, true, 1, 1, 1,
    1.17549435e-38, 4.9e-324,
    0.001, 0.0000000001, 1e-400, 1,
    'tab	here', 'NULL', '\\N',
    '{"nested": {"deep": [1e300]}}', '{"num": 1.000000000000000000001}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', repeat('\\x00', 1)::bytea,
    '2024-02-29', '12:34:56.789', '2024-03-31 02:30:00', '2024-03-31 01:00:00.123456+02',
    '{1}', '{false}', '{0}', '{""}', '{1e-320}',
    'P1Y', '::1', '12:00:00+05:30', '1000000.01')`,
  // DST edges (US and EU), microsecond precision, far future and far past.
  `(5, false, 2, 2, 2,
    3.4028235e38, 1.7976931348623157e308,
    12345678901.234, 1234567890123456789012345678.0123456789, 123456789012345678901234567890.123456789012345678901234567890, 0,
    repeat('long ', 1000), 'x', 'abcde',
    '{}', '{}', '123e4567-e89b-12d3-a456-426614174000', decode(repeat('ab', 5000), 'hex'),
    '294276-12-31', '23:59:59.999999', '294246-12-31 23:59:59.999999', '2024-11-03 06:59:59.999999+00',
    '{-1,0,1}', '{true,false,true}', '{1,2,3}', '{"x"}', '{-1.5,2.25}',
    '1 day', '192.168.0.1', '00:00:00+00', '-0.01')`,
  `(6, true, -1, -1, -1,
    -1.5, 0.1,
    -0.001, -9999999999999999999999999999.9999999999, -1e-400, -1,
    'ä', 'y', ' ',
    '1', '1', 'c0ffee00-0000-4000-8000-000000000000', '\\xdeadbeef',
    '4713-01-01 BC', '01:02:03', '4713-01-01 00:00:00 BC', '1970-01-01 00:00:00+00',
    '{2147483647}', '{NULL}', '{NULL}', '{NULL}', '{NULL}',
    '-0.000001 seconds', '0.0.0.0/0', '01:00:00-01', '0.01')`,
  // A row that is NULL in every column but the key.
  `(7, ${Array(30).fill('NULL').join(', ')})`,
];

beforeAll(async () => {
  db = await createTestSchema('types');
  await db.admin.query(`CREATE TABLE "${db.schema}".alltypes (${COLUMNS})`);
  for (const r of ROWS) await db.admin.query(`INSERT INTO "${db.schema}".alltypes VALUES ${r}`);
  // md5 for every text-like column: the strictest mode exercises each type's hashed text.
  lake = await createLocalLake(db.url, { textChecksum: 'md5' });
  const table = { schema: db.schema, name: 'alltypes' };
  ({ manifest } = await publishTable(lake, table, 'rt1'));
});

afterAll(async () => {
  await lake?.close();
  await db?.drop();
});

/** Per-kind canonical text on each side, so equality means exact equality of values. */
const CANON: Record<string, { pg: (c: string) => string; duck: (c: string) => string }> = {
  plain: { pg: (c) => `CASE WHEN ${c} IS NULL THEN NULL ELSE format('%s', ${c}) END`, duck: (c) => `${c}::VARCHAR` },
  bpchar: { pg: (c) => `CASE WHEN ${c} IS NULL THEN NULL ELSE format('%s', ${c}) END`, duck: (c) => `${c}::VARCHAR` },
  bool: { pg: (c) => `${c}::text`, duck: (c) => `${c}::VARCHAR` },
  bytes: { pg: (c) => `encode(${c}, 'hex')`, duck: (c) => `lower(hex(${c}))` },
  date: {
    pg: (c) => `CASE WHEN isfinite(${c}) THEN (${c} - DATE '1970-01-01')::text ELSE ${c}::text END`,
    duck: (c) => `CASE WHEN isfinite(${c}) THEN (${c} - DATE '1970-01-01')::VARCHAR ELSE ${c}::VARCHAR END`,
  },
  ts: {
    pg: (c) => `CASE WHEN isfinite(${c}) THEN (extract(epoch FROM ${c}) * 1000000)::numeric(40,0)::text ELSE ${c}::text END`,
    duck: (c) => `CASE WHEN isfinite(${c}) THEN epoch_us(${c})::VARCHAR ELSE ${c}::VARCHAR END`,
  },
  list: { pg: (c) => `array_to_json(${c})::text`, duck: (c) => `to_json(${c})::VARCHAR` },
  float: { pg: (c) => `${c}::text`, duck: (c) => `${c}` },
  floatlist: { pg: (c) => `array_to_json(${c}::text[])::text`, duck: (c) => `to_json(list_transform(${c}, e -> e::VARCHAR))::VARCHAR` },
};

/** A float's text in either engine as a comparable key (NaN, ±Infinity and -0 kept apart). */
function floatKey(text: string | null): string | null {
  if (text === null) return null;
  const t = text.toLowerCase();
  if (t === 'nan') return 'NaN';
  if (t === 'inf' || t === 'infinity') return 'Infinity';
  if (t === '-inf' || t === '-infinity') return '-Infinity';
  const v = Number(t);
  return Object.is(v, -0) ? '-0' : String(v);
}

function canonFor(col: string, pgType: string): keyof typeof CANON {
  if (/^(f4|f8)$/.test(col)) return 'float';
  if (col === 'ch') return 'bpchar';
  if (pgType === 'boolean') return 'bool';
  if (pgType === 'bytea') return 'bytes';
  if (pgType === 'date') return 'date';
  if (pgType.startsWith('timestamp')) return 'ts';
  if (col === 'fa') return 'floatlist';
  if (pgType.endsWith('[]')) return 'list';
  return 'plain';
}

describe('type round trip', () => {
  it('maps types as documented', () => {
    const byName = Object.fromEntries(manifest.columns.map((c) => [c.name, c.parquetType]));
    expect(byName).toMatchObject({
      b: 'BOOL', i2: 'INT16', i4: 'INT32', i8: 'INT64', f4: 'FLOAT32', f8: 'FLOAT64',
      n_small: 'DECIMAL(14,3)', n_max: 'DECIMAL(38,10)', n_free: 'TEXT', n_wide: 'TEXT',
      t: 'TEXT', vc: 'TEXT', ch: 'TEXT', j: 'JSON', jb: 'JSON', u: 'UUID', ba: 'BYTES',
      d: 'DATE', tm: 'TIME', ts: 'TIMESTAMP', tstz: 'TIMESTAMPTZ',
      ia: 'LIST<INT32>', ba_arr: 'LIST<BOOL>', i8a: 'LIST<INT64>', ta: 'LIST<TEXT>', fa: 'LIST<FLOAT64>',
      iv: 'TEXT', inet_c: 'TEXT', tz_time: 'TEXT', money_c: 'TEXT',
    });
    expect(manifest.columns.find((c) => c.name === 'n_free')?.note).toMatch(/exact text/);
    expect(manifest.verification.status).toBe('passed');
    expect(manifest.totals.rows).toBe(ROWS.length);
  });

  it('reads back every value exactly through DuckDB', async () => {
    const duck = await openDuckSession();
    try {
      const files = manifest.files.map((f) => lake.store.localPath('bronze', f.key)!);
      const list = `[${files.map((f) => `'${f}'`).join(',')}]`;
      for (const col of manifest.columns) {
        if (col.name === 'id') continue;
        const canon = CANON[canonFor(col.name, col.pgType)]!;
        const q = `"${col.name}"`;
        const pgRows = (await db.admin.query(`SET TimeZone='UTC'; SET extra_float_digits=1; SET IntervalStyle='iso_8601'; SELECT id, ${canon.pg(q)} AS v FROM "${db.schema}".alltypes ORDER BY id`)) as unknown as { rows: { id: number; v: string | null }[] }[];
        const expected = pgRows.at(-1)!.rows.map((r) => r.v);
        const duckRows = await duck.rows(`SELECT id, ${canon.duck(q)} AS v FROM read_parquet(${list}) ORDER BY id`);
        const actual = duckRows.map((r) => r.v);
        if (canonFor(col.name, col.pgType) === 'float') {
          const exp = expected.map((v) => (v === null ? null : Number(v)));
          expect(actual.length, col.name).toBe(exp.length);
          actual.forEach((a, i) => {
            const e = exp[i];
            const ok = col.name === 'f4' && typeof a === 'number' && typeof e === 'number' ? Object.is(Math.fround(e), a) : Object.is(e, a);
            expect(ok, `${col.name} row ${i + 1}: expected ${String(e)} got ${String(a)}`).toBe(true);
          });
        } else if (canonFor(col.name, col.pgType) === 'floatlist') {
          const keys = (vs: unknown[]): unknown[] => vs.map((v) => (v === null ? null : (JSON.parse(String(v)) as string[]).map(floatKey)));
          expect(keys(actual), col.name).toEqual(keys(expected));
        } else if (canonFor(col.name, col.pgType) === 'list') {
          expect(actual.map((v) => (v === null ? null : JSON.parse(String(v).replace(/(-?\d{16,})/g, '"$1"')))), col.name).toEqual(
            expected.map((v) => (v === null ? null : JSON.parse(String(v).replace(/(-?\d{16,})/g, '"$1"')))),
          );
        } else {
          expect(actual, col.name).toEqual(expected);
        }
      }
    } finally {
      duck.close();
    }
  });

  it('keeps NULL and empty string apart', async () => {
    const duck = await openDuckSession();
    try {
      const files = manifest.files.map((f) => `'${lake.store.localPath('bronze', f.key)!}'`).join(',');
      const rows = await duck.rows(`SELECT id, t IS NULL AS t_null, t = '' AS t_empty FROM read_parquet([${files}]) WHERE id IN (1, 7) ORDER BY id`);
      expect(rows).toEqual([
        { id: 1, t_null: false, t_empty: true },
        { id: 7, t_null: true, t_empty: null },
      ]);
    } finally {
      duck.close();
    }
  });
});
