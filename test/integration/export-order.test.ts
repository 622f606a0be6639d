/**
 * Exporting unchanged data twice writes the same files: the export reads the table from its
 * first block every time, wherever another scan of it left Postgres' synchronized-scan
 * position.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportTable } from '../../src/pipeline/index.js';
import { createLocalLake, type LocalLake } from '../helpers/export-deps.js';
import { createTestSchema, type TestSchema } from '../helpers/pg.js';

let db: TestSchema;
let lake: LocalLake;

beforeAll(async () => {
  db = await createTestSchema('order');
  lake = await createLocalLake(db.url);
  // Larger than a quarter of shared_buffers (128 MB by default): only such tables get
  // synchronized scans.
  const { rows } = await db.admin.query<{ bytes: string }>(`SELECT pg_size_bytes(current_setting('shared_buffers'))::text AS bytes`);
  const rowsNeeded = Math.max(400_000, Math.ceil((Number(rows[0]!.bytes) / 4 / 100) * 1.3));
  await db.admin.query(`CREATE TABLE "${db.schema}".big (id int PRIMARY KEY, note text)`);
  await db.admin.query(`INSERT INTO "${db.schema}".big SELECT g, repeat(md5(g::text), 2) FROM generate_series(1, ${rowsNeeded}) g`);
  await db.admin.query(`VACUUM ANALYZE "${db.schema}".big`);
}, 180_000);

afterAll(async () => {
  await lake?.close();
  await db?.drop();
});

async function exportHashes(runId: string): Promise<string[]> {
  const outcome = await exportTable(lake.deps, { runId, table: { schema: db.schema, name: 'big' }, layer: 'bronze' });
  if (outcome.kind !== 'staged') throw new Error(`expected one range, got ${outcome.kind}`);
  return outcome.staged.manifest.files.map((f) => f.sha256);
}

describe('export row order', () => {
  it('writes the same files again after another scan stopped halfway through the table', async () => {
    const first = await exportHashes('o1');
    // A scan that stops partway leaves the synchronized-scan position there.
    await db.admin.query(`SELECT count(*) FROM (SELECT * FROM "${db.schema}".big LIMIT 250000) s`);
    const second = await exportHashes('o2');
    expect(second).toEqual(first);
  }, 120_000);
});
