/**
 * Large tables are split into ranges exported by separate jobs, all reading one shared
 * snapshot: rows changed, added or deleted while the export runs never appear twice or
 * go missing, and the result equals the table as of the snapshot.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckSession } from '../../src/duckdb/index.js';
import { currentManifest } from '../../src/pipeline/index.js';
import { introspectTable, planChunks } from '../../src/postgres/index.js';
import { enqueueExports } from '../../queues/index.js';
import { createTestSchema, type TestSchema } from '../helpers/pg.js';
import { startInProcessWorker, type InProcessWorker } from '../helpers/in-process-worker.js';

let db: TestSchema;
let w: InProcessWorker;

beforeAll(async () => {
  db = await createTestSchema('chunk');
  await db.admin.query(`CREATE TABLE "${db.schema}".with_pk (id bigint PRIMARY KEY, v numeric(12,2) NOT NULL, note text)`);
  await db.admin.query(`INSERT INTO "${db.schema}".with_pk SELECT g, g / 100.0, CASE WHEN g % 7 = 0 THEN NULL ELSE repeat('x', 40) END FROM generate_series(1, 300000) g`);
  await db.admin.query(`CREATE TABLE "${db.schema}".no_pk (a int, b text)`);
  await db.admin.query(`INSERT INTO "${db.schema}".no_pk SELECT g % 1000, repeat('y', 60) FROM generate_series(1, 200000) g`);
  // One 2-D value in the last range: the whole column must be text in every range's files.
  await db.admin.query(`CREATE TABLE "${db.schema}".with_arrays (id int PRIMARY KEY, flat int4[], mixed int4[], pad text)`);
  await db.admin.query(`INSERT INTO "${db.schema}".with_arrays SELECT g, ARRAY[g, -g], CASE WHEN g = 149999 THEN '{{1,2},{3,4}}'::int4[] ELSE ARRAY[g] END, repeat('z', 40) FROM generate_series(1, 150000) g`);
  // An integer key stored out of key order (as after years of updates moving rows).
  await db.admin.query(`CREATE TABLE "${db.schema}".scattered (id int PRIMARY KEY, v numeric(12,2) NOT NULL, pad text)`);
  await db.admin.query(`INSERT INTO "${db.schema}".scattered SELECT g, g / 100.0, repeat('s', 40) FROM generate_series(1, 150000) g ORDER BY md5(g::text)`);
  await db.admin.query(`ANALYZE "${db.schema}".with_pk; ANALYZE "${db.schema}".no_pk; ANALYZE "${db.schema}".with_arrays; ANALYZE "${db.schema}".scattered`);
  // ~4 MB per chunk: the 300k-row table splits into several key ranges, processed one at a time.
  w = await startInProcessWorker(db.url, { export: { chunkMb: 4 }, worker: { concurrency: 1, backoffMs: 200 } });
});

afterAll(async () => {
  await w?.close();
  await db?.drop();
});

async function parquetStats(files: string[], sql: string): Promise<Record<string, unknown>> {
  const duck = await openDuckSession();
  try {
    return (await duck.rows(sql.replace('$F', `read_parquet([${files.map((f) => `'${f}'`).join(',')}])`)))[0]!;
  } finally {
    duck.close();
  }
}

describe('chunked export', () => {
  it('exports key ranges from one snapshot while the table changes', async () => {
    const table = { schema: db.schema, name: 'with_pk' };
    const before = (await db.admin.query(`SELECT count(*)::text AS n, sum(v)::text AS s, max(id)::text AS m FROM "${db.schema}".with_pk`)).rows[0];
    await w.ctx.runs.createRun('chunk1', [table]);
    const [e] = await enqueueExports(w.ctx.queues, [{ runId: 'chunk1', table, layer: 'bronze' }]);
    expect(e!.added).toBe(true);
    // Wait until the export is planned (snapshot taken), then change the table underneath it.
    for (let i = 0; i < 200; i++) {
      const run = await w.ctx.runs.get('chunk1');
      if (run?.tables[0]?.chunks) break;
      await sleep(50);
    }
    const planned = await w.ctx.runs.get('chunk1');
    expect(planned!.tables[0]!.chunks).toBeGreaterThan(2);
    await db.admin.query(`UPDATE "${db.schema}".with_pk SET v = v + 1 WHERE id % 2 = 0`);
    await db.admin.query(`INSERT INTO "${db.schema}".with_pk SELECT g, 1, 'new' FROM generate_series(300001, 310000) g`);
    await db.admin.query(`DELETE FROM "${db.schema}".with_pk WHERE id BETWEEN 1000 AND 1999`);

    const run = await w.waitForRun('chunk1', 90_000);
    expect(run.tables[0]!.state, JSON.stringify(run.tables[0]!.error)).toBe('published');
    const manifest = await currentManifest(w.ctx.store, 'bronze', table);
    expect(manifest.verification.status).toBe('passed');
    expect(new Set(manifest.files.map((f) => f.key.replace(/-\d+\.parquet$/, ''))).size).toBe(planned!.tables[0]!.chunks);
    // Stage seconds are summed over the ranges (every range converted and uploaded something).
    expect(manifest.timings.stages!.convert).toBeGreaterThan(0);
    expect(manifest.timings.stages!.upload).toBeGreaterThan(0);
    expect(run.tables[0]!.stages).toEqual(manifest.timings.stages);
    // Temp disk: the largest range's files (each range is one conversion, its files uploaded after it).
    const perRange = new Map<string, number>();
    for (const f of manifest.files) {
      const range = f.key.replace(/-\d+\.parquet$/, '');
      perRange.set(range, (perRange.get(range) ?? 0) + f.bytes);
    }
    expect(manifest.timings.workDiskPeakBytes).toBe(Math.max(...perRange.values()));
    expect(run.tables[0]!.workDiskPeakBytes).toBe(manifest.timings.workDiskPeakBytes);
    const files = manifest.files.map((f) => w.ctx.store.localPath('bronze', f.key)!);
    const after = await parquetStats(files, 'SELECT count(*)::VARCHAR AS n, sum(v)::VARCHAR AS s, max(id)::VARCHAR AS m, count(DISTINCT id)::VARCHAR AS d FROM $F');
    expect(after).toEqual({ n: before.n, s: before.s, m: before.m, d: before.n });
    expect(run.tables[0]!.rows).toBe(300000);
  });

  it('decides array layouts once for the table and carries them to every range', async () => {
    const table = { schema: db.schema, name: 'with_arrays' };
    await w.ctx.runs.createRun('chunk3', [table]);
    await enqueueExports(w.ctx.queues, [{ runId: 'chunk3', table, layer: 'bronze' }]);
    const run = await w.waitForRun('chunk3', 90_000);
    expect(run.tables[0]!.state, JSON.stringify(run.tables[0]!.error)).toBe('published');
    expect(run.tables[0]!.chunks).toBeGreaterThan(1);
    const manifest = await currentManifest(w.ctx.store, 'bronze', table);
    expect(manifest.verification.status).toBe('passed');
    const types = Object.fromEntries(manifest.columns.map((c) => [c.name, c.parquetType]));
    expect(types).toMatchObject({ flat: 'LIST<INT32>', mixed: 'TEXT' });
    const files = manifest.files.map((f) => w.ctx.store.localPath('bronze', f.key)!);
    const stats = await parquetStats(files, `SELECT sum(flat[1] + flat[2])::VARCHAR AS zero, count(*) FILTER (WHERE mixed = '{' || id || '}')::VARCHAR AS plain, max(mixed) FILTER (WHERE id = 149999) AS odd FROM $F`);
    expect(stats).toEqual({ zero: '0', plain: '149999', odd: '{{1,2},{3,4}}' });
  });

  it('splits by key only where the key follows the heap, by heap pages otherwise', async () => {
    const client = await db.admin.connect();
    try {
      const kinds = async (name: string): Promise<string[]> => {
        const ranges = await planChunks(client, await introspectTable(client, { schema: db.schema, name }), 4 * 1024 * 1024);
        expect(ranges.length).toBeGreaterThan(1);
        return [...new Set(ranges.map((r) => r.kind))];
      };
      expect(await kinds('with_pk')).toEqual(['key']);
      expect(await kinds('scattered')).toEqual(['pages']);
    } finally {
      client.release();
    }
    const table = { schema: db.schema, name: 'scattered' };
    await w.ctx.runs.createRun('chunk4', [table]);
    await enqueueExports(w.ctx.queues, [{ runId: 'chunk4', table, layer: 'bronze' }]);
    const run = await w.waitForRun('chunk4', 90_000);
    expect(run.tables[0]!.state, JSON.stringify(run.tables[0]!.error)).toBe('published');
    const manifest = await currentManifest(w.ctx.store, 'bronze', table);
    expect(manifest.verification.status).toBe('passed');
    const files = manifest.files.map((f) => w.ctx.store.localPath('bronze', f.key)!);
    const stats = await parquetStats(files, 'SELECT count(*)::VARCHAR AS n, count(DISTINCT id)::VARCHAR AS d, sum(v)::VARCHAR AS s FROM $F');
    const src = (await db.admin.query(`SELECT count(*)::text AS n, count(*)::text AS d, sum(v)::text AS s FROM "${db.schema}".scattered`)).rows[0];
    expect(stats).toEqual(src);
  });

  it('splits a table without a primary key by heap pages', async () => {
    const table = { schema: db.schema, name: 'no_pk' };
    await w.ctx.runs.createRun('chunk2', [table]);
    await enqueueExports(w.ctx.queues, [{ runId: 'chunk2', table, layer: 'bronze' }]);
    const run = await w.waitForRun('chunk2', 90_000);
    expect(run.tables[0]!.state, JSON.stringify(run.tables[0]!.error)).toBe('published');
    expect(run.tables[0]!.chunks).toBeGreaterThan(1);
    const manifest = await currentManifest(w.ctx.store, 'bronze', table);
    const files = manifest.files.map((f) => w.ctx.store.localPath('bronze', f.key)!);
    const stats = await parquetStats(files, 'SELECT count(*)::VARCHAR AS n, sum(a)::VARCHAR AS s FROM $F');
    const src = (await db.admin.query(`SELECT count(*)::text AS n, sum(a)::text AS s FROM "${db.schema}".no_pk`)).rows[0];
    expect(stats).toEqual(src);
  });
});
