/**
 * The table of arrays and row types shared by the export and restore tests: every array
 * shape (typed elements, nested, mixed dimensions, explicit bounds, NaN in a DECIMAL
 * array, domains over arrays, enums, composites) and composite values (NULL, all fields
 * NULL, nested, in arrays, text with quotes, commas, parentheses, tabs and newlines).
 */
import type pg from 'pg';

/** Column -> SQL literal per row (6 rows); `NULL` for a NULL value. */
export const ARRAY_COLUMNS: Record<string, { type: string; values: string[] }> = {
  i4: { type: 'int4[]', values: [`'{1,2}'`, `'{}'`, 'NULL', `'{NULL}'`, `'{1,NULL,-2147483648}'`, `'{2147483647}'`] },
  i4_2d: { type: 'int4[][]', values: [`'{{1,2},{3,4}}'`, `'{{5,6}}'`, `'{}'`, 'NULL', `'{{NULL,7},{8,NULL}}'`, `'{{9},{10},{11}}'`] },
  i4_3d: { type: 'int4[]', values: [`'{{{1}}}'`, `'{{{2},{3}}}'`, 'NULL', `'{{{4,5}},{{6,7}}}'`, `'{}'`, `'{{{NULL}}}'`] },
  mixed_dims: { type: 'int4[]', values: [`'{1,2}'`, `'{{1,2},{3,4}}'`, 'NULL', `'{}'`, `'{5}'`, `'{{{6}}}'`] },
  odd_bounds: { type: 'int4[]', values: [`'[0:2]={7,8,9}'`, `'{1}'`, 'NULL', `'{}'`, `'{2,3}'`, `'[1:1][0:1]={{1,2}}'`] },
  neg_bounds: { type: 'text[]', values: [`'[-3:-2]={a,b}'`, `'{c}'`, 'NULL', `'{}'`, `'{"d e"}'`, `'{f}'`] },
  dom_arr: { type: '$S.int_list', values: [`'{{1,2},{3,4}}'`, `'{{5,6}}'`, 'NULL', `'{}'`, `'{{7,8}}'`, `'{{NULL,NULL}}'`] },
  num: { type: 'numeric(12,3)[]', values: [`'{1.500,-0.001,NULL}'`, `'{999999999.999,-999999999.999}'`, 'NULL', `'{}'`, `'{0}'`, `'{0.000}'`] },
  num_nan: { type: 'numeric(10,2)[]', values: [`'{NaN,1}'`, `'{2.50}'`, 'NULL', `'{}'`, `'{3}'`, `'{4}'`] },
  num_free: { type: 'numeric[]', values: [`'{1.23456789012345678901234567890123456789012345,NaN}'`, `'{-1e-30}'`, 'NULL', `'{}'`, `'{0}'`, `'{1}'`] },
  tstz: {
    type: 'timestamptz[]',
    values: [`'{"2020-01-01 10:00:00.123456+05",infinity,-infinity}'`, `'{"0044-03-15 12:00:01.5+00 BC"}'`, 'NULL', `'{}'`, `'{NULL,"1999-12-31 23:59:59.999999+00"}'`, `'{"2024-02-29 00:00:00+00"}'`],
  },
  ts: { type: 'timestamp[]', values: [`'{"2020-01-01 10:00:00.000001",infinity}'`, `'{"0001-01-01 00:00:00 BC"}'`, 'NULL', `'{}'`, `'{-infinity}'`, `'{"1970-01-01 00:00:00"}'`] },
  d: { type: 'date[]', values: [`'{2020-02-29,infinity,-infinity}'`, `'{"0044-03-15 BC"}'`, 'NULL', `'{}'`, `'{NULL}'`, `'{1970-01-01,1970-01-02}'`] },
  u: { type: 'uuid[]', values: [`'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'`, `'{00000000-0000-0000-0000-000000000000,NULL}'`, 'NULL', `'{}'`, `'{ffffffff-ffff-ffff-ffff-ffffffffffff}'`, `'{}'`] },
  b: { type: 'bool[]', values: [`'{t,f,NULL}'`, `'{}'`, 'NULL', `'{t}'`, `'{f}'`, `'{NULL}'`] },
  f8: { type: 'float8[]', values: [`'{NaN,Infinity,-Infinity}'`, `'{-0,0,5e-324}'`, 'NULL', `'{}'`, `'{0.1,1e300,-2.2250738585072014e-308}'`, `'{NULL}'`] },
  f4: { type: 'float4[]', values: [`'{NaN,-0}'`, `'{3.4028235e38,1e-45}'`, 'NULL', `'{}'`, `'{0.1}'`, `'{-Infinity}'`] },
  moods: { type: '$S.mood[]', values: [`'{ok,sad}'`, `'{happy,NULL}'`, 'NULL', `'{}'`, `'{ok}'`, `'{sad}'`] },
  ch: { type: 'char(3)[]', values: [`'{a,bc}'`, `'{"  x"}'`, 'NULL', `'{}'`, `'{abc}'`, `'{NULL}'`] },
  t: {
    type: 'text[]',
    values: [`ARRAY['a"b', 'c,d', E'back\\\\slash', E'tab\\there', E'new\\nline']`, `ARRAY['NULL', '', NULL, '{}', '(1,2)']`, 'NULL', `'{}'`, `ARRAY['ünï', '💧']`, `ARRAY[' lead', 'trail ']`],
  },
  jb: { type: 'jsonb[]', values: [`ARRAY['{"a": [1, "x,y"]}'::jsonb, 'null'::jsonb]`, `ARRAY['"s"'::jsonb]`, 'NULL', `'{}'`, `ARRAY[NULL::jsonb]`, `ARRAY['1.50'::jsonb]`] },
  bya: { type: 'bytea[]', values: [`ARRAY['\\x00ff'::bytea, ''::bytea]`, `ARRAY[NULL::bytea]`, 'NULL', `'{}'`, `ARRAY['\\x2c22'::bytea]`, `ARRAY['\\x5c'::bytea]`] },
  pr: { type: '$S.pair', values: ['NULL', 'ROW(NULL, NULL)', 'ROW(1, NULL)', 'ROW(NULL, \'x\')', `ROW(2, E'q"u,o(t)e\\t\\n\\\\')`, `ROW(3, '')`] },
  nest: { type: '$S.outer_t', values: ['NULL', 'ROW(ROW(NULL, NULL), NULL)', 'ROW(NULL, NULL)', 'ROW(ROW(1, \'a,b\'), 5)', 'ROW(ROW(NULL, \'\'), NULL)', 'ROW(ROW(2, NULL), 0)'] },
  prs: {
    type: '$S.pair[]',
    values: [`ARRAY[ROW(1, 'x,y'), ROW(NULL, NULL), NULL]::$S.pair[]`, `ARRAY[NULL]::$S.pair[]`, 'NULL', `'{}'`, `ARRAY[ROW(NULL, '"q"')]::$S.pair[]`, `ARRAY[ROW(7, E'a\\nb')]::$S.pair[]`],
  },
};

/** Rows in {@link ARRAY_COLUMNS}. */
export const ARRAY_ROWS = 6;

/**
 * Creates `<schema>.<table>` (id int PRIMARY KEY plus {@link ARRAY_COLUMNS}) with its rows.
 * With `types`, first creates the enum `mood`, composites `pair` and `outer_t` and the
 * domain `int_list` it uses (pass false when the schema has some already, and create the rest).
 */
export async function createArrayTable(admin: pg.Pool, schema: string, table: string, types: 'all' | 'nested-only' = 'all'): Promise<void> {
  const s = `"${schema}"`;
  const base = types === 'all' ? `CREATE TYPE ${s}.mood AS ENUM ('sad', 'ok', 'happy'); CREATE TYPE ${s}.pair AS (a int, b text);` : '';
  await admin.query(`${base} CREATE TYPE ${s}.outer_t AS (p ${s}.pair, n int); CREATE DOMAIN ${s}.int_list AS int4[];`);
  const cols = Object.entries(ARRAY_COLUMNS).map(([name, c]) => `${name} ${c.type.replaceAll('$S', s)}`);
  await admin.query(`CREATE TABLE ${s}."${table}" (id int PRIMARY KEY, ${cols.join(', ')})`);
  for (let row = 0; row < ARRAY_ROWS; row++) {
    const values = Object.values(ARRAY_COLUMNS).map((c) => c.values[row]!.replaceAll('$S', s));
    await admin.query(`INSERT INTO ${s}."${table}" VALUES (${row + 1}, ${values.join(', ')})`);
  }
}
