/**
 * Very large values (a 100 MB text, a 30 MB bytea) and very wide rows (600 columns)
 * export exactly and pass verification; rows above `export.maxRowMb` fail with the fix.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckSession } from '../../src/duckdb/index.js';
import { exportTable } from '../../src/pipeline/index.js';
import { CorrenteError } from '../../src/shared/errors.js';
import { createTestSchema, type TestSchema } from '../helpers/pg.js';
import { createLocalLake, publishTable, type LocalLake } from '../helpers/export-deps.js';

let db: TestSchema;
let lake: LocalLake;

beforeAll(async () => {
  db = await createTestSchema('wide');
  const s = `"${db.schema}"`;
  await db.admin.query(`CREATE TABLE ${s}.big (id int PRIMARY KEY, t text, b bytea)`);
  await db.admin.query(`INSERT INTO ${s}.big VALUES
    (1, repeat('ab', 50 * 1024 * 1024), NULL),
    (2, 'small', decode(repeat('c3', 30 * 1024 * 1024), 'hex')),
    (3, '', '\\x')`);
  const cols = Array.from({ length: 600 }, (_, i) => `c${i} int`).join(', ');
  await db.admin.query(`CREATE TABLE ${s}.many (id int PRIMARY KEY, ${cols})`);
  const vals = Array.from({ length: 600 }, (_, i) => `g + ${i}`).join(', ');
  await db.admin.query(`INSERT INTO ${s}.many SELECT g, ${vals} FROM generate_series(1, 2000) g`);
  // Rows wider than DuckDB's default line limit (2 MB) between ordinary ones: a long line
  // that crosses one of DuckDB's read buffers fails, so each must get a file of its own.
  await db.admin.query(`CREATE TABLE ${s}.mixed (id int PRIMARY KEY, t text)`);
  await db.admin.query(`INSERT INTO ${s}.mixed SELECT g, CASE WHEN g % 4 = 0 THEN repeat(md5(g::text), 100000) ELSE 'row ' || g END FROM generate_series(1, 40) g`);
  lake = await createLocalLake(db.url);
}, 120_000);

afterAll(async () => {
  await lake?.close();
  await db?.drop();
});

async function publish(name: string) {
  const table = { schema: db.schema, name };
  return (await publishTable(lake, table, `r-${name}`)).manifest;
}

describe('wide values and rows', () => {
  it('exports a 100 MB text and a 30 MB bytea value exactly', async () => {
    const manifest = await publish('big');
    expect(manifest.verification.status).toBe('passed');
    const duck = await openDuckSession({ memoryMb: 1024 });
    try {
      const files = manifest.files.map((f) => `'${lake.store.localPath('bronze', f.key)!}'`).join(', ');
      const rows = await duck.rows(`SELECT id, strlen(t)::INT AS tl, md5(t) AS th, octet_length(b)::INT AS bl, md5(b) AS bh FROM read_parquet([${files}]) ORDER BY id`);
      const md5 = (x: string | Buffer): string => createHash('md5').update(x).digest('hex');
      expect(rows[0]).toMatchObject({ id: 1, tl: 100 * 1024 * 1024, th: md5('ab'.repeat(50 * 1024 * 1024)), bl: null });
      expect(rows[1]).toMatchObject({ id: 2, tl: 5, bl: 30 * 1024 * 1024, bh: md5(Buffer.alloc(30 * 1024 * 1024, 0xc3)) });
      expect(rows[2]).toMatchObject({ id: 3, tl: 0, bl: 0 });
    } finally {
      duck.close();
    }
  });

  it('exports 3.2 MB rows mixed with small ones, each wide row in a file of its own', async () => {
    const manifest = await publish('mixed');
    expect(manifest.verification.status).toBe('passed');
    expect(manifest.totals.rows).toBe(40);
    expect(manifest.files.filter((f) => f.rows === 1 && (f.maxRowBytes ?? 0) > 3_000_000)).toHaveLength(10);
    const duck = await openDuckSession();
    try {
      const files = manifest.files.map((f) => `'${lake.store.localPath('bronze', f.key)!}'`).join(', ');
      const [row] = await duck.rows(`SELECT count(*)::INT AS n, sum(strlen(t))::BIGINT::VARCHAR AS len, bit_xor(hash(t))::VARCHAR AS h FROM read_parquet([${files}])`);
      const [expected] = await duck.rows(
        `SELECT 40 AS n, sum(strlen(t))::BIGINT::VARCHAR AS len, bit_xor(hash(t))::VARCHAR AS h
         FROM (SELECT CASE WHEN g % 4 = 0 THEN repeat(md5(g::VARCHAR), 100000) ELSE 'row ' || g END AS t FROM range(1, 41) r(g))`,
      );
      expect(expected!.len).toBe('32000173');
      expect(row).toEqual(expected);
    } finally {
      duck.close();
    }
  });

  it('exports 600 columns', async () => {
    const manifest = await publish('many');
    expect(manifest.columns).toHaveLength(601);
    expect(manifest.totals.rows).toBe(2000);
    expect(manifest.verification.status).toBe('passed');
  });

  it('refuses a row above export.maxRowMb, naming the option', async () => {
    const small = await createLocalLake(db.url, { maxRowMb: 10 });
    try {
      const err = await exportTable(small.deps, { runId: 'r-limit', table: { schema: db.schema, name: 'big' }, layer: 'bronze' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CorrenteError);
      expect((err as CorrenteError).code).toBe('UNSUPPORTED_VALUE');
      expect((err as CorrenteError).message).toMatch(/above export\.maxRowMb \(10\)/);
    } finally {
      await small.close();
    }
  });
});
