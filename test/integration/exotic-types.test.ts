/**
 * Types without an exact Parquet form (composite, range, domain, enum, xml, tsvector,
 * geometric, ...) export as their Postgres text form, verified, with a note in the
 * manifest; domains follow their base type.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckSession } from '../../src/duckdb/index.js';
import type { Manifest } from '../../src/lake/index.js';
import { createTestSchema, type TestSchema } from '../helpers/pg.js';
import { createLocalLake, publishTable, type LocalLake } from '../helpers/export-deps.js';

let db: TestSchema;
let lake: LocalLake;
let manifest: Manifest;

beforeAll(async () => {
  db = await createTestSchema('exotic');
  const s = `"${db.schema}"`;
  await db.admin.query(`
    CREATE TYPE ${s}.mood AS ENUM ('sad', 'ok', 'happy');
    CREATE TYPE ${s}.pair AS (a int, b text);
    CREATE DOMAIN ${s}.price AS numeric(10,2) CHECK (VALUE >= 0);
    CREATE DOMAIN ${s}.code AS varchar(8);
    CREATE TABLE ${s}.exotic (
      id int PRIMARY KEY, m ${s}.mood, p ${s}.pair, r int4range, tr tstzrange, pr ${s}.price, cd ${s}.code,
      x xml, ts tsvector, pt point, bx box, ci circle, bits bit(4), vb varbit, mac macaddr, o oid, nr numrange)`);
  await db.admin.query(`INSERT INTO ${s}.exotic VALUES
    (1, 'happy', ROW(1, 'a "quoted", text'), '[1,10)', '[2024-01-01 00:00:00+00,2024-02-01 00:00:00+00)', 12.34, 'AB-1',
     '<a x="1">t &amp; u</a>', 'the quick brown fox', '(1.5,-2)', '((0,0),(1,1))', '<(0,0),2>', B'1010', B'101', '08:00:2b:01:02:03', 42, '(1.10,2.20]'),
    (2, NULL, NULL, 'empty', NULL, 0, '', NULL, '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`);
  // md5 for every text-like column: the strictest mode exercises each type's hashed text.
  lake = await createLocalLake(db.url, { textChecksum: 'md5' });
  const table = { schema: db.schema, name: 'exotic' };
  ({ manifest } = await publishTable(lake, table, 'ex1'));
});

afterAll(async () => {
  await lake?.close();
  await db?.drop();
});

describe('exotic types', () => {
  it('keeps them as text with a note, domains as their base type, and verifies', () => {
    const byName = Object.fromEntries(manifest.columns.map((c) => [c.name, c]));
    expect(byName.pr!.parquetType).toBe('DECIMAL(10,2)');
    expect(byName.cd!.parquetType).toBe('TEXT');
    expect(byName.cd!.note).toBeUndefined();
    for (const c of ['m', 'p', 'r', 'tr', 'x', 'ts', 'pt', 'bx', 'ci', 'bits', 'vb', 'mac', 'o', 'nr']) {
      expect(byName[c]!.parquetType, c).toBe('TEXT');
      expect(byName[c]!.note, c).toMatch(/no exact Parquet type; kept as Postgres text form/);
    }
    expect(manifest.verification.status).toBe('passed');
  });

  it('stores the exact Postgres text form', async () => {
    const duck = await openDuckSession();
    try {
      const file = lake.store.localPath('bronze', manifest.files[0]!.key)!;
      const rows = await duck.rows(`SELECT m, p, r, tr, pr::VARCHAR AS pr, x, ts, pt, bits, nr FROM read_parquet('${file}') ORDER BY id`);
      expect(rows[0]).toEqual({
        m: 'happy',
        p: '(1,"a ""quoted"", text")',
        r: '[1,10)',
        tr: '["2024-01-01 00:00:00+00","2024-02-01 00:00:00+00")',
        pr: '12.34',
        x: '<a x="1">t &amp; u</a>',
        ts: "'brown' 'fox' 'quick' 'the'",
        pt: '(1.5,-2)',
        bits: '1010',
        nr: '(1.10,2.20]',
      });
      expect(rows[1]).toMatchObject({ m: null, r: 'empty', pr: '0.00', ts: '' });
    } finally {
      duck.close();
    }
  });
});
