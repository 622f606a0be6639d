/**
 * The fingerprints must catch, in a 1M-row table, one missing row, one NUMERIC changed in
 * its last digit, one timestamp moved by 1 µs and one NULL turned into ''. Each case
 * tampers with the published Parquet file and re-verifies.
 */
import { copyFile, rename } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckSession } from '../../src/duckdb/index.js';
import { exportTable, verifyAndPublish, verifyPublished, type VerifiedRun } from '../../src/pipeline/index.js';
import { createTestSchema, type TestSchema } from '../helpers/pg.js';
import { createLocalLake, type LocalLake } from '../helpers/export-deps.js';

const ROWS = 1_000_000;
let db: TestSchema;
let lake: LocalLake;
let published: VerifiedRun;
let file: string;

beforeAll(async () => {
  db = await createTestSchema('detect');
  await db.admin.query(`CREATE TABLE "${db.schema}".facts (id int PRIMARY KEY, quantity numeric(14,3), ts timestamptz, note text)`);
  await db.admin.query(`INSERT INTO "${db.schema}".facts
    SELECT g, (g::int8 * 7919 % 1000000) / 1000.0, timestamptz '2024-03-31 00:00:00+00' + g * interval '1.000001 second',
      CASE WHEN g % 10 = 0 THEN NULL ELSE 'n' || g END
    FROM generate_series(1, ${ROWS}) g`);
  // One file, so each tamper rewrites a single object.
  lake = await createLocalLake(db.url, { fileTargetMb: 1024 });
  const table = { schema: db.schema, name: 'facts' };
  await exportTable(lake.deps, { runId: 'r1', table, layer: 'bronze' });
  published = await verifyAndPublish({ store: lake.store, config: lake.deps.config }, { bucket: 'bronze', table, runId: 'r1' });
  expect(published.manifest.files).toHaveLength(1);
  file = lake.store.localPath('bronze', published.manifest.files[0]!.key)!;
  await copyFile(file, `${file}.orig`);
}, 300_000);

afterAll(async () => {
  await lake?.close();
  await db?.drop();
});

async function tamper(select: string): Promise<string[]> {
  const duck = await openDuckSession();
  try {
    await duck.run(`COPY (${select.replaceAll('$F', `read_parquet('${file}.orig')`)}) TO '${file}.tmp' (FORMAT parquet)`);
  } finally {
    duck.close();
  }
  await rename(`${file}.tmp`, file);
  try {
    const check = await verifyPublished({ store: lake.store, pool: lake.pool, postgresUrl: db.url, config: lake.deps.config }, 'bronze', { schema: db.schema, name: 'facts' });
    return check.integrity;
  } finally {
    await copyFile(`${file}.orig`, file);
  }
}

describe('verification sensitivity on 1M rows', () => {
  it('passes on the untouched file', async () => {
    expect(published.manifest.verification.status).toBe('passed');
    expect(await tamper('SELECT * FROM $F')).toEqual([]);
  });

  it('catches one missing row', async () => {
    const diff = await tamper('SELECT * FROM $F WHERE id <> 123457');
    expect(diff.some((d) => d.startsWith('row count'))).toBe(true);
  });

  it('catches one NUMERIC changed in its last digit', async () => {
    const diff = await tamper('SELECT * REPLACE (CASE WHEN id = 500001 THEN quantity + 0.001 ELSE quantity END AS quantity) FROM $F');
    expect(diff).toEqual([expect.stringContaining('column "quantity" sum')]);
  });

  it('catches one timestamp moved by 1 microsecond', async () => {
    const diff = await tamper(`SELECT * REPLACE (CASE WHEN id = 777 THEN ts + INTERVAL 1 MICROSECOND ELSE ts END AS ts) FROM $F`);
    expect(diff).toEqual([expect.stringContaining('column "ts" micros')]);
  });

  it("catches one NULL turned into ''", async () => {
    const diff = await tamper(`SELECT * REPLACE (CASE WHEN id = 1000 THEN '' ELSE note END AS note) FROM $F`);
    expect(diff.some((d) => d.startsWith('column "note" n'))).toBe(true);
  });
});
