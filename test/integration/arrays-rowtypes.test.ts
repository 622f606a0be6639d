/**
 * Arrays and row types export with the default configuration, verification on, and every
 * value compares exact with Postgres: typed (nested) LISTs where every value of a column
 * is rectangular with lower bounds 1, the Postgres text form (flagged) where not, and
 * composites (NULL, all fields NULL, nested, in arrays) checksummed by value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckSession } from '../../src/duckdb/index.js';
import type { Manifest } from '../../src/lake/index.js';
import { exportTable } from '../../src/pipeline/index.js';
import { createArrayTable } from '../helpers/array-table.js';
import { createTestSchema, type TestSchema } from '../helpers/pg.js';
import { createLocalLake, publishTable, verifyTampered, type LocalLake } from '../helpers/export-deps.js';

let db: TestSchema;
const lakes: LocalLake[] = [];
let lake: LocalLake;
let manifest: Manifest;
let files: string;

const EXPECTED_TYPES: Record<string, string> = {
  i4: 'LIST<INT32>',
  i4_2d: 'LIST<LIST<INT32>>',
  i4_3d: 'LIST<LIST<LIST<INT32>>>',
  mixed_dims: 'TEXT',
  odd_bounds: 'TEXT',
  neg_bounds: 'TEXT',
  dom_arr: 'LIST<LIST<INT32>>',
  num: 'LIST<DECIMAL(12,3)>',
  num_nan: 'TEXT',
  num_free: 'LIST<TEXT>',
  tstz: 'LIST<TIMESTAMPTZ>',
  ts: 'LIST<TIMESTAMP>',
  d: 'LIST<DATE>',
  u: 'LIST<UUID>',
  b: 'LIST<BOOL>',
  f8: 'LIST<FLOAT64>',
  f4: 'LIST<FLOAT32>',
  moods: 'LIST<TEXT>',
  ch: 'LIST<TEXT>',
  t: 'LIST<TEXT>',
  jb: 'LIST<JSON>',
  bya: 'LIST<BYTES>',
  pr: 'TEXT',
  nest: 'TEXT',
  prs: 'LIST<TEXT>',
};

beforeAll(async () => {
  db = await createTestSchema('arrays');
  await createArrayTable(db.admin, db.schema, 'arr');
  lake = await createLocalLake(db.url);
  lakes.push(lake);
  ({ manifest } = await publishTable(lake, { schema: db.schema, name: 'arr' }, 'a1'));
  files = `[${manifest.files.map((f) => `'${lake.store.localPath('bronze', f.key)!}'`).join(', ')}]`;
}, 120_000);

afterAll(async () => {
  for (const l of lakes) await l.close();
  await db?.drop();
});

/** Runs `sql` in Postgres with the export's text settings; returns the rows. */
async function pgRows(sql: string): Promise<Record<string, unknown>[]> {
  const client = await db.admin.connect();
  try {
    await client.query(`SET TimeZone = 'UTC'; SET extra_float_digits = 1; SET DateStyle = 'ISO, YMD'`);
    return (await client.query(sql)).rows as Record<string, unknown>[];
  } finally {
    client.release();
  }
}

async function duckRows(sql: string): Promise<Record<string, unknown>[]> {
  const duck = await openDuckSession();
  try {
    return await duck.rows(sql.replaceAll('$F', `read_parquet(${files})`));
  } finally {
    duck.close();
  }
}

/** Per element kind: the canonical text of one element in Postgres (`e`) and in DuckDB. */
const CANON: Record<string, { pg: string; duck: string }> = {
  plain: { pg: 'e::text', duck: 'e::VARCHAR' },
  bpchar: { pg: `CASE WHEN e IS NULL THEN NULL ELSE format('%s', e) END`, duck: 'e::VARCHAR' },
  bytes: { pg: `encode(e, 'hex')`, duck: 'lower(hex(e))' },
  micros: {
    pg: `CASE WHEN isfinite(e) THEN (extract(epoch FROM e) * 1000000)::numeric(40,0)::text ELSE e::text END`,
    duck: `CASE WHEN isfinite(e) THEN epoch_us(e)::VARCHAR ELSE e::VARCHAR END`,
  },
  days: {
    pg: `CASE WHEN isfinite(e) THEN (e - DATE '1970-01-01')::text ELSE e::text END`,
    duck: `CASE WHEN isfinite(e) THEN (e - DATE '1970-01-01')::VARCHAR ELSE e::VARCHAR END`,
  },
  float: { pg: 'e::text', duck: 'e' },
};

function canonOf(column: string): keyof typeof CANON {
  if (column === 'ch') return 'bpchar';
  if (column === 'bya') return 'bytes';
  if (column === 'tstz' || column === 'ts') return 'micros';
  if (column === 'd') return 'days';
  if (column === 'f8' || column === 'f4') return 'float';
  return 'plain';
}

describe('arrays and row types, default configuration', () => {
  it('maps each column as documented, flags the text fallbacks, and verifies', () => {
    const byName = Object.fromEntries(manifest.columns.map((c) => [c.name, c]));
    for (const [name, type] of Object.entries(EXPECTED_TYPES)) expect(byName[name]?.parquetType, name).toBe(type);
    expect(byName.mixed_dims!.note).toMatch(/1 to 3 dimensions/);
    expect(byName.odd_bounds!.note).toMatch(/lower bound is not 1 \(e\.g\. \[/);
    expect(byName.neg_bounds!.note).toMatch(/\[-3:-2\]/);
    expect(byName.num_nan!.note).toMatch(/NaN/);
    expect(manifest.verification.status).toBe('passed');
    expect(manifest.totals.rows).toBe(6);
  });

  it('reads back every list element exactly, with dimensions, NULL elements, empty and NULL arrays apart', async () => {
    for (const col of manifest.columns) {
      if (col.type.kind !== 'list') continue;
      const name = col.name;
      const canon = CANON[canonOf(name)]!;
      const dims = col.type.dims ?? 1;
      // (An array of composites is unnested as text: unnest would split each composite into its fields.)
      const expected = await pgRows(
        `SELECT id, ${name} IS NULL AS isnull, coalesce(array_dims(${name}), '') AS dims,
           (SELECT array_agg(${canon.pg} ORDER BY o) FROM unnest(${name === 'prs' ? `${name}::text[]` : name}) WITH ORDINALITY AS u(e, o)) AS elems
         FROM "${db.schema}".arr ORDER BY id`,
      );
      let flat = name;
      for (let d = 1; d < dims; d++) flat = `flatten(${flat})`;
      // Dimensions of a rectangular nested list, in Postgres' notation.
      const dimsExpr = dims === 1 ? `CASE WHEN len(${name}) = 0 THEN '' ELSE '[1:' || len(${name}) || ']' END` : dims === 2 ? `CASE WHEN len(${name}) = 0 THEN '' ELSE '[1:' || len(${name}) || '][1:' || len(${name}[1]) || ']' END` : `CASE WHEN len(${name}) = 0 THEN '' ELSE '[1:' || len(${name}) || '][1:' || len(${name}[1]) || '][1:' || len(${name}[1][1]) || ']' END`;
      const actual = await duckRows(
        `SELECT id, ${name} IS NULL AS isnull, coalesce(${dimsExpr}, '') AS dims,
           CASE WHEN len(${flat}) = 0 THEN NULL ELSE list_transform(${flat}, e -> ${canon.duck}) END AS elems
         FROM $F ORDER BY id`,
      );
      const norm = (rows: Record<string, unknown>[]): unknown[] =>
        rows.map((r) => ({
          id: Number(r.id),
          isnull: r.isnull,
          dims: r.dims,
          elems: (r.elems as unknown[] | null)?.map((v) => (canonOf(name) === 'float' && v !== null ? floatKey(Number(v), name === 'f4') : v)) ?? null,
        }));
      expect(norm(actual), name).toEqual(norm(expected));
    }
  });

  it('keeps the Postgres text form of the fallback columns and composites', async () => {
    const textCols = manifest.columns.filter((c) => c.type.kind === 'text').map((c) => c.name);
    expect(textCols.sort()).toEqual(['mixed_dims', 'neg_bounds', 'nest', 'num_nan', 'odd_bounds', 'pr']);
    const select = textCols.map((c) => `${c}::text AS ${c}`).join(', ');
    const expected = await pgRows(`SELECT id, ${select} FROM "${db.schema}".arr ORDER BY id`);
    const actual = await duckRows(`SELECT id, ${textCols.join(', ')} FROM $F ORDER BY id`);
    expect(actual).toEqual(expected);
    expect(actual.map((r) => r.pr)).toEqual([null, '(,)', '(1,)', '(,x)', '(2,"q""u,o(t)e\t\n\\\\")', '(3,"")']);
    expect(actual[1]!.nest).toBe('("(,)",)');
  });

  it('verifies under textChecksum md5 too (every text element and composite hashed)', async () => {
    const strict = await createLocalLake(db.url, { textChecksum: 'md5' });
    lakes.push(strict);
    const run = await publishTable(strict, { schema: db.schema, name: 'arr' }, 'a2');
    expect(run.manifest.verification.status).toBe('passed');
    expect(Object.keys(run.manifest.sourceFingerprint!.columns.t!)).toContain('e_hash');
    expect(Object.keys(run.manifest.sourceFingerprint!.columns.pr!)).toContain('hash');
  });

  it('records a column that became text since the previous run as a schema change', async () => {
    const s = `"${db.schema}"`;
    await db.admin.query(`CREATE TABLE ${s}.drift (id int PRIMARY KEY, tags int4[])`);
    await db.admin.query(`INSERT INTO ${s}.drift VALUES (1, '{1,2}'), (2, NULL)`);
    const table = { schema: db.schema, name: 'drift' };
    const first = await publishTable(lake, table, 'd1');
    expect(first.manifest.schemaChanges).toBeUndefined();
    await db.admin.query(`INSERT INTO ${s}.drift VALUES (3, '[0:1]={5,6}')`);
    const second = await publishTable(lake, table, 'd2');
    expect(second.manifest.verification.status).toBe('passed');
    expect(second.manifest.schemaChanges).toEqual([
      { column: 'tags', change: 'type', from: 'LIST<INT32>', to: 'TEXT', note: expect.stringMatching(/lower bound is not 1 \(e\.g\. \[0:1\]\)/) },
    ]);
  });

  it('a value no type can hold fails naming the table, column, row key and value, and publishes nothing', async () => {
    const s = `"${db.schema}"`;
    await db.admin.query(`CREATE TABLE ${s}.bad (id int, k text, price numeric(10,2), PRIMARY KEY (id, k))`);
    await db.admin.query(`INSERT INTO ${s}.bad SELECT g, 'k' || g, g FROM generate_series(1, 100) g`);
    await db.admin.query(`UPDATE ${s}.bad SET price = 'NaN' WHERE id = 42`);
    const err = await exportTable(lake.deps, { runId: 'bad1', table: { schema: db.schema, name: 'bad' }, layer: 'bronze' }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/"price" \(numeric\(10,2\)\) holds a value that DECIMAL\(10,2\) cannot store exactly at row id=42, k=k42, value starting "NaN"\. Nothing was published/);
    expect((err as { hint?: string }).hint).toMatch(/as: text/);
    const keys: string[] = [];
    for await (const o of lake.store.list('bronze', `${db.schema}/bad/`)) keys.push(o.key);
    expect(keys.filter((k) => /_(current|manifest|staged)\.json$/.test(k))).toEqual([]);
  });

  it('names a failing row far into a table read again for it, and leaves no COPY running', async () => {
    const s = `"${db.schema}"`;
    await db.admin.query(`CREATE TABLE ${s}.bad_late (id int PRIMARY KEY, price numeric(10,2), note text)`);
    // ~25 MB of CSV: the row is well past anything a pipe or read buffer holds.
    await db.admin.query(`INSERT INTO ${s}.bad_late SELECT g, g % 1000, repeat('n', 60) FROM generate_series(1, 300000) g`);
    await db.admin.query(`UPDATE ${s}.bad_late SET price = 'NaN' WHERE id = 250000`);
    const err = await exportTable(lake.deps, { runId: 'bad2', table: { schema: db.schema, name: 'bad_late' }, layer: 'bronze' }).catch((e: unknown) => e as Error);
    expect((err as Error).message).toMatch(/"price" \(numeric\(10,2\)\) holds a value that DECIMAL\(10,2\) cannot store exactly at row id=250000, value starting "NaN"\. Nothing was published/);
    // The second read stopped at the row, and its connection was dropped.
    let copies = -1;
    for (let i = 0; i < 50 && copies !== 0; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      const r = await db.admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'COPY %bad_late%' AND state <> 'idle' AND pid <> pg_backend_pid()`);
      copies = r.rows[0]!.n;
    }
    expect(copies).toBe(0);
  });

  it('checksums composites by value: an all-NULL row is not the NULL of the column', async () => {
    // Composite columns are TEXT; their len/hash must count '(,)' and skip only SQL NULLs.
    const fp = manifest.sourceFingerprint!.columns;
    expect(fp.pr!.n).toBe('5');
    expect(fp.nest!.n).toBe('5');
  });
});

/** A float as a comparable key: NaN and -0 kept apart; float4 rounded to single precision. */
function floatKey(v: number, single: boolean): string {
  const x = single ? Math.fround(v) : v;
  return Object.is(x, -0) ? '-0' : String(x);
}

describe('verification of arrays and row types', () => {
  const tampered = (select: string): Promise<string[]> =>
    verifyTampered(lake, db.url, { schema: db.schema, name: 'arr' }, lake.store.localPath('bronze', manifest.files[0]!.key)!, select);

  it('passes on the untouched file', async () => {
    expect(await tampered('SELECT * FROM $F')).toEqual([]);
  });

  const cases: [string, string, RegExp][] = [
    ['one int element changed', `SELECT * REPLACE (CASE WHEN id = 1 THEN [1, 3] ELSE i4 END AS i4) FROM $F`, /"i4" e_sum/],
    ['one element of a 2-D list changed', `SELECT * REPLACE (CASE WHEN id = 1 THEN [[1, 2], [3, 5]] ELSE i4_2d END AS i4_2d) FROM $F`, /"i4_2d" e_sum/],
    ['a NULL element turned into an empty list element count', `SELECT * REPLACE (CASE WHEN id = 4 THEN []::INT[] ELSE i4 END AS i4) FROM $F`, /"i4" len/],
    ['a decimal element changed in its last digit', `SELECT * REPLACE (CASE WHEN id = 1 THEN [1.501, -0.001, NULL]::DECIMAL(12,3)[] ELSE num END AS num) FROM $F`, /"num" e_sum/],
    ['a timestamp element moved by 1 µs', `SELECT * REPLACE (CASE WHEN id = 6 THEN [TIMESTAMPTZ '2024-02-29 00:00:00.000001+00'] ELSE tstz END AS tstz) FROM $F`, /"tstz" e_micros/],
    ['a uuid element changed', `SELECT * REPLACE (CASE WHEN id = 5 THEN ['ffffffff-ffff-ffff-ffff-fffffffffffe'::UUID] ELSE u END AS u) FROM $F`, /"u" e_hash/],
    ['a text element changed in length', `SELECT * REPLACE (CASE WHEN id = 5 THEN ['ünï', '💧!'] ELSE t END AS t) FROM $F`, /"t" e_len/],
    ['a composite with all fields NULL turned into NULL', `SELECT * REPLACE (CASE WHEN id = 2 THEN NULL ELSE pr END AS pr) FROM $F`, /"pr" n/],
    ['a composite in an array changed', `SELECT * REPLACE (CASE WHEN id = 1 THEN ['(1,"x,y")', '(,)', '(,)'] ELSE prs END AS prs) FROM $F`, /"prs" e_n/],
  ];
  for (const [what, select, expected] of cases) {
    it(`catches ${what}`, async () => {
      const mismatches = await tampered(select);
      expect(mismatches.join('\n')).toMatch(expected);
    });
  }
});
