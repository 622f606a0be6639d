/**
 * Incremental export against real Postgres, DuckDB and a local lake: windows by column and
 * by xmin, the late-commit guarantee of both modes, key-diff deletes, reconciliation,
 * fall-backs to a full run, and the bad inputs (NULL watermarks, clock skew, a missing or
 * unorderable column, no primary key).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncrementalConfig } from '../../src/config/index.js';
import { latestRowsSql, openDuckSession, type StateLayer } from '../../src/duckdb/index.js';
import { gcFact, newRunId, planGc, readCurrentPointer, readManifest, readWatermark, tablePrefix, watermarkKey, type CurrentPointer, type GcFact, type Manifest } from '../../src/lake/index.js';
import { exportChunk, exportTable, finalizeChunks, verifyAndPublish } from '../../src/pipeline/index.js';
import { CorrenteError } from '../../src/shared/errors.js';
import { S3Store } from '../../src/storage/index.js';
import { createLocalLake, type LocalLake } from '../helpers/export-deps.js';
import { startS3Server } from '../helpers/s3-server.js';
import { createTestSchema, type TestSchema } from '../helpers/pg.js';

let db: TestSchema;
let lake: LocalLake;

beforeAll(async () => {
  db = await createTestSchema('inc');
  lake = await createLocalLake(db.url);
});
afterAll(async () => {
  await lake?.close();
  await db?.drop();
});

const ref = (name: string) => ({ schema: db.schema, name });
const q = (name: string) => `"${db.schema}"."${name}"`;

async function createTable(name: string, rows = 100): Promise<void> {
  await db.admin.query(`CREATE TABLE ${q(name)} (id bigint PRIMARY KEY, val numeric(12,2) NOT NULL, note text, updated_at timestamptz)`);
  await db.admin.query(`INSERT INTO ${q(name)} SELECT g, g * 1.25, 'n' || g, now() - interval '1 day' FROM generate_series(1, $1) g`, [rows]);
}

/** Exports and publishes one run; returns its manifest. */
async function run(name: string, incremental: IncrementalConfig, extra: { fullRefresh?: boolean } = {}): Promise<Manifest> {
  const runId = newRunId();
  const outcome = await exportTable(lake.deps, { runId, table: ref(name), layer: 'bronze', incremental, ...extra });
  if (outcome.kind !== 'staged') throw new Error('expected one range');
  const { manifest } = await verifyAndPublish({ store: lake.store, config: lake.deps.config }, { bucket: 'bronze', table: ref(name), runId });
  return manifest;
}

async function pointerOf(name: string): Promise<CurrentPointer> {
  const p = await readCurrentPointer(lake.store, 'bronze', ref(name));
  if (!p) throw new Error('no pointer');
  return p;
}

const local = (keys: readonly string[]): string[] => keys.map((k) => lake.store.localPath('bronze', k)!);

/** Rows of the lake's state (base + increments, latest per key, minus tombstones), as sorted text. */
async function lakeRows(name: string): Promise<string[]> {
  const p = await pointerOf(name);
  const layers: StateLayer[] = [{ files: local(p.files) }, ...(p.increments ?? []).map((i) => ({ files: local(i.files), tombstones: local(i.tombstones ?? []) }))];
  const duck = await openDuckSession();
  try {
    const rows = await duck.rows(`SELECT id::VARCHAR || '|' || val::VARCHAR || '|' || coalesce(note, '∅') || '|' || coalesce(epoch_us(updated_at)::VARCHAR, '∅') AS r FROM (${latestRowsSql(layers, ['id'])}) ORDER BY id`);
    return rows.map((r) => String(r.r));
  } finally {
    duck.close();
  }
}

async function pgRows(name: string): Promise<string[]> {
  const res = await db.admin.query<{ r: string }>(
    `SELECT id::text || '|' || val::text || '|' || coalesce(note, '∅') || '|' || coalesce((extract(epoch from updated_at) * 1000000)::bigint::text, '∅') AS r FROM ${q(name)} ORDER BY id`,
  );
  return res.rows.map((r) => r.r);
}

/** Ids in one run's data files. */
async function idsOf(m: Manifest): Promise<number[]> {
  const duck = await openDuckSession();
  try {
    const rows = await duck.rows(`SELECT id FROM read_parquet([${local(m.files.map((f) => f.key)).map((p) => `'${p}'`).join(', ')}]) ORDER BY id`);
    return rows.map((r) => Number(r.id));
  } finally {
    duck.close();
  }
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('column mode', () => {
  const cfg: IncrementalConfig = { column: 'updated_at', overlap: { ms: 600_000 }, deletes: 'keydiff' };

  it('exports exactly the inserted and updated rows, deletes as tombstones, and base + increments equal Postgres', async () => {
    await createTable('f');
    const full = await run('f', cfg);
    expect(full.kind).toBe('full');
    expect(full.incremental).toMatchObject({ mode: 'column', column: 'updated_at', fullReason: 'first export of the table' });
    expect(full.totals.rows).toBe(100);

    await db.admin.query(`INSERT INTO ${q('f')} SELECT g, g * 1.25, 'new', now() FROM generate_series(101, 200) g`);
    await db.admin.query(`UPDATE ${q('f')} SET val = val + 1, updated_at = now() WHERE id <= 10`);
    const inc = await run('f', cfg);
    expect(inc.kind).toBe('incremental');
    expect(await idsOf(inc)).toEqual([...range(1, 10), ...range(101, 200)]);
    expect(inc.incremental).toMatchObject({ baseRunId: full.runId, previous: full.incremental!.to, overlap: '600s', nullRows: 0 });
    expect(inc.incremental!.reconciliation).toEqual({ windowSourceRows: 110, windowWrittenRows: 110, sourceRows: 200, lakeRows: 200, status: 'matched' });
    expect(inc.incremental!.tombstones!.rows).toBe(0);
    expect(inc.verification.status).toBe('passed');
    expect(await lakeRows('f')).toEqual(await pgRows('f'));

    await db.admin.query(`DELETE FROM ${q('f')} WHERE id IN (3, 50, 150)`);
    await db.admin.query(`UPDATE ${q('f')} SET note = NULL, updated_at = now() WHERE id = 60`);
    const inc2 = await run('f', cfg);
    // Row 60, plus the rows still inside the 10-minute overlap (those of the previous increment).
    const window2 = await db.admin.query<{ id: string }>(`SELECT id FROM ${q('f')} WHERE updated_at >= $1::timestamptz ORDER BY id`, [inc2.incremental!.from]);
    expect(await idsOf(inc2)).toEqual(window2.rows.map((r) => Number(r.id)));
    expect(await idsOf(inc2)).toEqual([1, 2, ...range(4, 10), 60, ...range(101, 149), ...range(151, 200)]);
    expect(inc2.incremental!.tombstones!.rows).toBe(3);
    expect(inc2.incremental!.reconciliation).toMatchObject({ sourceRows: 197, lakeRows: 197, status: 'matched' });
    expect(await lakeRows('f')).toEqual(await pgRows('f'));

    // A deleted key comes back: its newest event is a row again.
    await db.admin.query(`INSERT INTO ${q('f')} VALUES (3, 9.99, 'back', now())`);
    await run('f', cfg);
    expect(await lakeRows('f')).toEqual(await pgRows('f'));

    const pointer = await pointerOf('f');
    expect(pointer.runId).toBe(full.runId);
    expect(pointer.increments?.map((i) => i.runId)).toHaveLength(3);
    const wm = await readWatermark(lake.store, 'bronze', ref('f'));
    expect(wm).toMatchObject({ baseRunId: full.runId, runId: pointer.increments!.at(-1)!.runId });

    // gc keeps the base and every increment even with keepRuns 1.
    const listing = [];
    for await (const o of lake.store.list('bronze', tablePrefix(ref('f')))) listing.push(o);
    const facts = new Map<string, GcFact>();
    for (const o of listing) if (o.key.endsWith('.json')) facts.set(o.key, gcFact(o.key, (await lake.store.getBytes('bronze', o.key))!.toString('utf8')));
    const [plan] = planGc(listing, facts, { keepRuns: 1, olderThanMs: 0, now: new Date() });
    expect(plan!.removals).toEqual([]);
  });

  it('--full-refresh starts a new base and drops the increments from the pointer', async () => {
    const m = await run('f', cfg, { fullRefresh: true });
    expect(m.kind).toBe('full');
    expect(m.incremental!.fullReason).toMatch(/full refresh requested/);
    const pointer = await pointerOf('f');
    expect(pointer.runId).toBe(m.runId);
    expect(pointer.increments).toBeUndefined();
    expect(await lakeRows('f')).toEqual(await pgRows('f'));
    const again = await run('f', cfg);
    expect(again.kind).toBe('incremental');
    // Nothing changed since: only the rows stamped within the overlap before the new base.
    const inOverlap = await db.admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${q('f')} WHERE updated_at >= $1::timestamptz`, [again.incremental!.from]);
    expect(again.totals.rows).toBe(Number(inOverlap.rows[0]!.n));
    const pgTime = (t: string): number => Date.parse(t.replace(' ', 'T').replace(/\+00$/, 'Z'));
    expect(pgTime(m.incremental!.to) - pgTime(again.incremental!.from!)).toBe(600_000);
    expect(await lakeRows('f')).toEqual(await pgRows('f'));
  });

  it('takes a periodic full run when the base is older than fullEvery', async () => {
    const m = await run('f', { ...cfg, fullEvery: 1 });
    expect(m.kind).toBe('full');
    expect(m.incremental!.fullReason).toMatch(/periodic full run/);
  });

  it('captures a row stamped before the previous export by a transaction that committed after it (overlap)', async () => {
    await createTable('late');
    await run('late', cfg);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      // now() is this transaction's start: earlier than the export's snapshot below.
      await client.query(`UPDATE ${q('late')} SET val = 777, updated_at = now() WHERE id = 42`);
      const during = await run('late', cfg);
      expect(await idsOf(during)).toEqual([]);
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
    const after = await run('late', cfg);
    expect(await idsOf(after)).toEqual([42]);
    expect(await lakeRows('late')).toEqual(await pgRows('late'));
  });

  it('uses the database clock: rows stamped by a skewed writer are still captured', async () => {
    await createTable('skew');
    await run('skew', cfg);
    // A writer whose clock runs 5 minutes slow (within the overlap) and one 1 hour fast.
    await db.admin.query(`UPDATE ${q('skew')} SET val = 1, updated_at = now() - interval '5 minutes' WHERE id = 7`);
    await db.admin.query(`UPDATE ${q('skew')} SET val = 2, updated_at = now() + interval '1 hour' WHERE id = 8`);
    const first = await run('skew', cfg);
    expect(await idsOf(first)).toEqual([7, 8]);
    // The future-stamped row stays in the window until the database clock passes it: exported again, never lost.
    const second = await run('skew', cfg);
    expect(await idsOf(second)).toContain(8);
    expect(await lakeRows('skew')).toEqual(await pgRows('skew'));
  });

  it('keeps rows with a NULL watermark out of increments, counts them, and includes them in full runs', async () => {
    await createTable('nulls', 20);
    await db.admin.query(`UPDATE ${q('nulls')} SET updated_at = NULL WHERE id <= 2`);
    const full = await run('nulls', cfg);
    expect(full.totals.rows).toBe(20);
    await db.admin.query(`INSERT INTO ${q('nulls')} VALUES (21, 1, 'no stamp', NULL)`);
    const inc = await run('nulls', cfg);
    expect(inc.totals.rows).toBe(0);
    expect(inc.incremental).toMatchObject({ nullRows: 3 });
    expect(inc.incremental!.reconciliation).toMatchObject({ sourceRows: 21, lakeRows: 20, status: 'mismatched' });
    const refreshed = await run('nulls', cfg, { fullRefresh: true });
    expect(refreshed.totals.rows).toBe(21);
  });

  it('supports an integer watermark with a count overlap', async () => {
    await db.admin.query(`CREATE TABLE ${q('seq')} (id bigint PRIMARY KEY, v text)`);
    await db.admin.query(`INSERT INTO ${q('seq')} SELECT g, 'v' FROM generate_series(1, 50) g`);
    const int: IncrementalConfig = { column: 'id', overlap: { count: 5 } };
    expect((await run('seq', int)).incremental!.to).toBe('50');
    await db.admin.query(`INSERT INTO ${q('seq')} SELECT g, 'w' FROM generate_series(51, 60) g`);
    const inc = await run('seq', int);
    expect(await idsOf(inc)).toEqual(range(45, 60));
    expect(inc.incremental).toMatchObject({ from: '45', to: '60' });
  });
});

describe('chunked full run', () => {
  it('records the watermark of a full run split into chunks, and the next run is an increment', async () => {
    const chunked = await createLocalLake(db.url, { chunkMb: 1 });
    try {
      await createTable('big', 30_000);
      const cfg: IncrementalConfig = { column: 'updated_at', overlap: { ms: 60_000 } };
      const runId = newRunId();
      const req = { runId, table: ref('big'), layer: 'bronze' as const, incremental: cfg };
      const out = await exportTable(chunked.deps, req);
      if (out.kind !== 'chunked') throw new Error('expected a chunked export');
      try {
        for (const [index, range] of out.ranges.entries()) {
          await exportChunk(chunked.deps, req, { index, total: out.ranges.length, snapshotId: out.snapshot.id, snapshotTime: out.snapshot.time, range });
        }
      } finally {
        await out.snapshot.release();
      }
      await finalizeChunks(chunked.deps, req, out.ranges.length);
      const { manifest } = await verifyAndPublish({ store: chunked.store, config: chunked.deps.config }, { bucket: 'bronze', table: ref('big'), runId });
      expect(manifest).toMatchObject({ kind: 'full', totals: { rows: 30_000 }, incremental: { mode: 'column', fullReason: 'first export of the table' } });
      expect(await readWatermark(chunked.store, 'bronze', ref('big'))).toMatchObject({ baseRunId: runId, value: manifest.incremental!.to });

      await db.admin.query(`UPDATE ${q('big')} SET val = 0, updated_at = now() WHERE id = 12345`);
      const incId = newRunId();
      const inc = await exportTable(chunked.deps, { ...req, runId: incId });
      expect(inc.kind).toBe('staged');
      const published = await verifyAndPublish({ store: chunked.store, config: chunked.deps.config }, { bucket: 'bronze', table: ref('big'), runId: incId });
      expect(published.manifest).toMatchObject({ kind: 'incremental', totals: { rows: 1 }, incremental: { reconciliation: { sourceRows: 30_000, lakeRows: 30_000, status: 'matched' } } });
    } finally {
      await chunked.close();
    }
  });
});

describe('on S3 (s3rver)', () => {
  it('reconciles and writes tombstones from files it downloads', async () => {
    const server = await startS3Server();
    const store = new S3Store({ endpoint: server.endpoint, accessKey: server.accessKey, secretKey: server.secretKey, region: 'us-east-1', forcePathStyle: true, createBuckets: true });
    try {
      const deps = { ...lake.deps, store };
      await createTable('s3t', 50);
      const cfg: IncrementalConfig = { column: 'updated_at', deletes: 'keydiff' };
      const once = async (): Promise<Manifest> => {
        const runId = newRunId();
        const out = await exportTable(deps, { runId, table: ref('s3t'), layer: 'bronze', incremental: cfg });
        if (out.kind !== 'staged') throw new Error('expected one range');
        return (await verifyAndPublish({ store, config: deps.config }, { bucket: 'bronze', table: ref('s3t'), runId })).manifest;
      };
      expect((await once()).kind).toBe('full');
      await db.admin.query(`DELETE FROM ${q('s3t')} WHERE id IN (1, 2)`);
      await db.admin.query(`UPDATE ${q('s3t')} SET val = 5, updated_at = now() WHERE id = 3`);
      const inc = await once();
      expect(inc).toMatchObject({ kind: 'incremental', totals: { rows: 1 }, incremental: { tombstones: { rows: 2 }, reconciliation: { sourceRows: 48, lakeRows: 48, status: 'matched' } } });
      expect(inc.incremental!.tombstones!.uri).toMatch(/^s3:\/\/bronze\//);
      const pointer = await readCurrentPointer(store, 'bronze', ref('s3t'));
      expect(pointer!.increments![0]!.tombstones).toEqual([inc.incremental!.tombstones!.key]);
    } finally {
      await store.close();
      await server.close();
    }
  });
});

describe('xmin mode', () => {
  const cfg: IncrementalConfig = { mode: 'xmin', deletes: 'keydiff' };

  it('captures inserted and updated rows, and base + increments equal Postgres', async () => {
    await createTable('x');
    const full = await run('x', cfg);
    expect(full.incremental).toMatchObject({ mode: 'xmin' });
    expect(full.incremental!.to).toMatch(/^\d+:\d+:/);
    await db.admin.query(`INSERT INTO ${q('x')} SELECT g, g, 'new', NULL FROM generate_series(101, 200) g`);
    await db.admin.query(`UPDATE ${q('x')} SET val = val + 1 WHERE id <= 10`);
    await db.admin.query(`DELETE FROM ${q('x')} WHERE id = 99`);
    const inc = await run('x', cfg);
    expect(inc.kind).toBe('incremental');
    const ids = await idsOf(inc);
    // Every changed row; at most also rows of transactions the previous snapshot saw as running.
    expect(ids).toEqual(expect.arrayContaining([...range(1, 10), ...range(101, 200)]));
    expect(ids.length).toBeLessThanOrEqual(110 + 100);
    expect(inc.incremental!.tombstones!.rows).toBe(1);
    expect(inc.incremental!.reconciliation).toMatchObject({ sourceRows: 199, lakeRows: 199, status: 'matched' });
    expect(await lakeRows('x')).toEqual(await pgRows('x'));
  });

  it('captures a row updated by a transaction (and a subtransaction) that began before the previous export and committed after it', async () => {
    await createTable('xlate');
    await run('xlate', cfg);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query(`UPDATE ${q('xlate')} SET val = 1 WHERE id = 5`);
      await client.query('SAVEPOINT s');
      await client.query(`UPDATE ${q('xlate')} SET val = 2 WHERE id = 6`);
      await client.query('RELEASE SAVEPOINT s');
      // This snapshot still sees the old rows (it may export them: the window starts at the
      // previous snapshot's xmin, which other sessions of a shared server can hold back).
      const during = await run('xlate', cfg);
      expect(during.kind).toBe('incremental');
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
    const after = await run('xlate', cfg);
    expect(await idsOf(after)).toEqual(expect.arrayContaining([5, 6]));
    expect(await lakeRows('xlate')).toEqual(await pgRows('xlate'));
  });

  it('falls back to a flagged full export when the previous snapshot cannot be trusted', async () => {
    const key = watermarkKey(ref('x'));
    const wm = JSON.parse((await lake.store.getBytes('bronze', key))!.toString('utf8')) as { value: string };
    // A snapshot from "the future": the database was restored or replaced since.
    await lake.store.putBytes('bronze', key, JSON.stringify({ ...wm, value: '90000000000:90000000001:' }));
    const m = await run('x', cfg);
    expect(m.kind).toBe('full');
    expect(m.incremental!.fullReason).toMatch(/transaction ids went backwards/);
    expect(m.totals.rows).toBe(199);
    expect((await readManifest(lake.store, 'bronze', (await pointerOf('x')).manifestKey))!.runId).toBe(m.runId);
  });
});

describe('bad configuration', () => {
  const fails = async (name: string, incremental: IncrementalConfig): Promise<CorrenteError> => {
    const err = await exportTable(lake.deps, { runId: newRunId(), table: ref(name), layer: 'bronze', incremental }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorrenteError);
    expect((err as CorrenteError).code).toBe('CONFIG_INVALID');
    return err as CorrenteError;
  };

  it('names a watermark column that does not exist, one that cannot be ordered, and a table without a primary key', async () => {
    await createTable('bad', 3);
    await db.admin.query(`ALTER TABLE ${q('bad')} ADD COLUMN doc jsonb`);
    expect((await fails('bad', { column: 'modified_at' })).message).toBe(`tables[${db.schema}.bad].incremental.column: ${db.schema}.bad has no column "modified_at"`);
    expect((await fails('bad', { column: 'doc' })).message).toBe(`tables[${db.schema}.bad].incremental.column: column "doc" of ${db.schema}.bad is jsonb, which cannot serve as a watermark`);
    await db.admin.query(`CREATE TABLE ${q('nokey')} (a int, updated_at timestamptz)`);
    expect((await fails('nokey', { column: 'updated_at' })).message).toMatch(/has no primary key, so increments cannot be merged$/);
    expect(await lake.store.getBytes('bronze', `${tablePrefix(ref('bad'))}_current.json`)).toBeUndefined();
  });
});
