/**
 * The fingerprints must catch, in a 1M-row table, one missing row, one duplicated row (also
 * in place of another, keeping the count), one NUMERIC changed in its last digit, one
 * timestamp moved by 1 µs and one NULL turned into ''. Each case tampers with the published
 * Parquet file and re-verifies. A smaller table pins down what
 * each `textChecksum` mode sees of a value changed without changing its length.
 */
import { copyFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerifiedRun } from '../../src/pipeline/index.js';
import { createTestSchema, type TestSchema } from '../helpers/pg.js';
import { createLocalLake, publishTable, verifyTampered, type LocalLake } from '../helpers/export-deps.js';

const ROWS = 1_000_000;
let db: TestSchema;
/** One published table whose single Parquet file the cases tamper with. */
interface Published {
  lake: LocalLake;
  table: { schema: string; name: string };
  file: string;
}
const lakes: LocalLake[] = [];
let facts: Published;
let published: VerifiedRun;

async function publishOne(name: string, exportOverrides: Record<string, unknown> = {}): Promise<{ target: Published; run: VerifiedRun }> {
  // One file, so each tamper rewrites a single object.
  const lake = await createLocalLake(db.url, { fileTargetMb: 1024, ...exportOverrides });
  lakes.push(lake);
  const table = { schema: db.schema, name };
  const run = await publishTable(lake, table, 'r1');
  expect(run.manifest.files).toHaveLength(1);
  const file = lake.store.localPath('bronze', run.manifest.files[0]!.key)!;
  await copyFile(file, `${file}.orig`);
  return { target: { lake, table, file }, run };
}

beforeAll(async () => {
  db = await createTestSchema('detect');
  await db.admin.query(`CREATE TABLE "${db.schema}".facts (id int PRIMARY KEY, quantity numeric(14,3), ts timestamptz, note text)`);
  await db.admin.query(`INSERT INTO "${db.schema}".facts
    SELECT g, (g::int8 * 7919 % 1000000) / 1000.0, timestamptz '2024-03-31 00:00:00+00' + g * interval '1.000001 second',
      CASE WHEN g % 10 = 0 THEN NULL ELSE 'n' || g END
    FROM generate_series(1, ${ROWS}) g`);
  await db.admin.query(`CREATE TABLE "${db.schema}".labels (id int PRIMARY KEY, note text, u uuid, k int NOT NULL)`);
  await db.admin.query(`INSERT INTO "${db.schema}".labels SELECT g, 'n' || g, md5(g::text)::uuid, g % 3 FROM generate_series(1, 10000) g`);
  ({ target: facts, run: published } = await publishOne('facts'));
}, 300_000);

afterAll(async () => {
  for (const lake of lakes) await lake.close();
  await db?.drop();
});

function tamper(target: Published, select: string): Promise<string[]> {
  return verifyTampered(target.lake, db.url, target.table, target.file, select);
}

describe('verification sensitivity on 1M rows', () => {
  it('passes on the untouched file', async () => {
    expect(published.manifest.verification.status).toBe('passed');
    expect(await tamper(facts, 'SELECT * FROM $F')).toEqual([]);
  });

  it('catches one missing row', async () => {
    const diff = await tamper(facts, 'SELECT * FROM $F WHERE id <> 123457');
    expect(diff.some((d) => d.startsWith('row count'))).toBe(true);
  });

  it('catches one duplicated row', async () => {
    const diff = await tamper(facts, 'SELECT * FROM $F UNION ALL SELECT * FROM $F WHERE id = 424242');
    expect(diff.some((d) => d.startsWith('row count'))).toBe(true);
  });

  it('catches one row duplicated in place of another (same row count)', async () => {
    const diff = await tamper(facts, 'SELECT * FROM $F WHERE id <> 424243 UNION ALL SELECT * FROM $F WHERE id = 424242');
    expect(diff.some((d) => d.startsWith('row count'))).toBe(false);
    expect(diff).toEqual(expect.arrayContaining([expect.stringContaining('column "id"'), expect.stringContaining('column "quantity" sum')]));
  });

  it('catches one NUMERIC changed in its last digit', async () => {
    const diff = await tamper(facts, 'SELECT * REPLACE (CASE WHEN id = 500001 THEN quantity + 0.001 ELSE quantity END AS quantity) FROM $F');
    expect(diff).toEqual([expect.stringContaining('column "quantity" sum')]);
  });

  it('catches one timestamp moved by 1 microsecond', async () => {
    const diff = await tamper(facts, `SELECT * REPLACE (CASE WHEN id = 777 THEN ts + INTERVAL 1 MICROSECOND ELSE ts END AS ts) FROM $F`);
    expect(diff).toEqual([expect.stringContaining('column "ts" micros')]);
  });

  it("catches one NULL turned into ''", async () => {
    const diff = await tamper(facts, `SELECT * REPLACE (CASE WHEN id = 1000 THEN '' ELSE note END AS note) FROM $F`);
    expect(diff.some((d) => d.startsWith('column "note" n'))).toBe(true);
  });
});

describe('what each textChecksum mode sees of a same-length change', () => {
  const sameLengthNote = `SELECT * REPLACE (CASE WHEN id = 4242 THEN 'm4242' ELSE note END AS note) FROM $F`;
  const sameLengthUuid = `SELECT * REPLACE (CASE WHEN id = 4242 THEN '00000000-0000-0000-0000-000000000000'::UUID ELSE u END AS u) FROM $F`;

  it('md5 catches a text value changed at the same length', async () => {
    const { target, run } = await publishOne('labels', { textChecksum: 'md5' });
    expect(run.manifest.textChecksum).toBe('md5');
    expect(await tamper(target, sameLengthNote)).toEqual([expect.stringContaining('column "note" hash')]);
  });

  it('auto (the default) catches a changed uuid, and checks text by count and length only', async () => {
    const { target, run } = await publishOne('labels');
    expect(run.manifest.textChecksum).toBe('auto');
    expect(await tamper(target, sameLengthUuid)).toEqual([expect.stringContaining('column "u" hash')]);
    // The documented trade-off: text is stored byte for byte, so only its length is summed.
    expect(await tamper(target, sameLengthNote)).toEqual([]);
    expect(await tamper(target, `SELECT * REPLACE (CASE WHEN id = 4242 THEN 'n424' ELSE note END AS note) FROM $F`)).toEqual([
      expect.stringContaining('column "note" len'),
    ]);
  });
});

describe('NOT NULL columns', () => {
  it('catches a zero turned into NULL, though Postgres is not asked for their non-null count', async () => {
    const { target } = await publishOne('labels');
    // k = 0 at id 3: the sum cannot see it, the count does.
    expect(await tamper(target, `SELECT * REPLACE (CASE WHEN id = 3 THEN NULL ELSE k END AS k) FROM $F`)).toEqual([expect.stringContaining('column "k" n')]);
  });
});
