/**
 * Every reader of a table exported with `incremental:` sees its merged state (full run +
 * increments, latest row per key, tombstones removed), never the full run alone: restore
 * (and its checks before commit), verify, the `corrente sql` views, the local catalog,
 * `queryCurrent` and the API's served tables. Real Postgres; the lake local and on S3.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServedTables } from '../../src/api/served-tables.js';
import { loadConfig, type IncrementalConfig } from '../../src/config/index.js';
import { openDuckSession } from '../../src/duckdb/index.js';
import { newRunId, readCurrentPointer, type Manifest } from '../../src/lake/index.js';
import { createPgPool } from '../../src/postgres/index.js';
import {
  CATALOG_FILE,
  exportTable,
  openLakeQuery,
  queryCurrent,
  refreshLocalCatalog,
  restoreTable,
  verifyAndPublish,
  verifyPublished,
  type ExportDeps,
} from '../../src/pipeline/index.js';
import { createObjectStore, type LocalDirStore, type ObjectStore } from '../../src/storage/index.js';
import { runCli } from '../helpers/cli.js';
import { createTestSchema, type TestSchema } from '../helpers/pg.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

const INCREMENTAL: IncrementalConfig = { column: 'updated_at', overlap: { ms: 600_000 }, deletes: 'keydiff' };
const BUCKETS = { bronze: 'bronze', silver: 'silver', gold: 'gold' } as const;

/** One row as text, the same in Postgres and DuckDB: id|val|note|updated_at in µs. */
const PG_ROW = `id::text || '|' || val::text || '|' || coalesce(note, '∅') || '|' || (extract(epoch from updated_at) * 1000000)::bigint::text`;
const DUCK_ROW = `id::VARCHAR || '|' || val::VARCHAR || '|' || coalesce(note, '∅') || '|' || epoch_us(updated_at)::VARCHAR`;

describe.each(['local', 's3'] as const)('readers of an incrementally exported table (%s lake)', (kind) => {
  let db: TestSchema;
  let s3: S3TestServer | undefined;
  let store: ObjectStore;
  let deps: ExportDeps;
  let work: string;
  const increments: Manifest[] = [];
  /** The source's rows right after the first increment was exported. */
  let afterFirst: string[] = [];
  const table = () => ({ schema: db.schema, name: 'facts' });
  const q = (name: string) => `"${db.schema}"."${name}"`;

  async function exportRun(): Promise<Manifest> {
    const runId = newRunId();
    const outcome = await exportTable(deps, { runId, table: table(), layer: 'bronze', incremental: INCREMENTAL });
    if (outcome.kind !== 'staged') throw new Error('expected one range');
    return (await verifyAndPublish({ store, config: deps.config, buckets: BUCKETS }, { bucket: 'bronze', table: table(), runId })).manifest;
  }

  async function sourceRows(name = 'facts'): Promise<string[]> {
    return (await db.admin.query<{ r: string }>(`SELECT ${PG_ROW} AS r FROM ${q(name)} ORDER BY id`)).rows.map((r) => r.r);
  }

  /** Whole rows as Postgres prints them (arrays included), for comparing two Postgres tables. */
  async function wholeRows(name: string): Promise<string[]> {
    return (await db.admin.query<{ r: string }>(`SELECT (t.*)::text AS r FROM ${q(name)} t ORDER BY id`)).rows.map((r) => r.r);
  }

  /** Rewrites the first data file of `m` through `select` (over `$F`); returns a function putting it back. */
  async function tamper(m: Manifest, select: string): Promise<() => Promise<void>> {
    const key = m.files[0]!.key;
    const original = join(work, `orig-${randomUUID()}.parquet`);
    const changed = join(work, `changed-${randomUUID()}.parquet`);
    await store.getFile('bronze', key, original);
    const duck = await openDuckSession();
    try {
      await duck.run(`COPY (${select.replaceAll('$F', `read_parquet('${original}')`)}) TO '${changed}' (FORMAT parquet)`);
    } finally {
      duck.close();
    }
    const put = async (from: string) => {
      const local = store.localPath('bronze', key);
      if (local) await copyFile(from, local);
      else await store.putFile('bronze', key, from);
    };
    await put(changed);
    return () => put(original);
  }

  beforeAll(async () => {
    db = await createTestSchema('increaders');
    work = await mkdtemp(join(tmpdir(), 'corrente-increaders-'));
    const storage = kind === 'local' ? { lakeDir: join(work, 'lake') } : await (async () => {
      s3 = await startS3Server();
      return { kind: 's3', s3: { endpoint: s3.endpoint, accessKey: s3.accessKey, secretKey: s3.secretKey } };
    })();
    const config = loadConfig({ env: {}, file: undefined, overrides: { postgres: { url: db.url }, storage, export: { workDir: work } } });
    store = createObjectStore(config.storage);
    await store.ensureBucket('bronze');
    deps = { pool: createPgPool(config.postgres), postgresUrl: db.url, store, buckets: config.storage.buckets, config: config.export };

    await db.admin.query(`CREATE TABLE ${q('facts')} (id bigint PRIMARY KEY, val numeric(12,2) NOT NULL, note text, tags text[], updated_at timestamptz NOT NULL)`);
    await db.admin.query(`INSERT INTO ${q('facts')} SELECT g, g * 1.25, CASE WHEN g % 7 = 0 THEN NULL ELSE 'n' || g END, ARRAY['a' || g, NULL], now() - interval '1 day' FROM generate_series(1, 300) g`);
    const base = await exportRun();
    expect(base.kind).toBe('full');

    // First increment: updates, inserts, deletes.
    await db.admin.query(`UPDATE ${q('facts')} SET val = val + 100, note = 'updated', updated_at = now() WHERE id BETWEEN 10 AND 19`);
    await db.admin.query(`INSERT INTO ${q('facts')} SELECT g, g, 'new', '{}', now() FROM generate_series(301, 320) g`);
    await db.admin.query(`DELETE FROM ${q('facts')} WHERE id IN (3, 4, 5, 305)`);
    increments.push(await exportRun());
    afterFirst = await sourceRows();
    // Second: a row updated again, one updated in the first deleted, a deleted key back.
    await db.admin.query(`UPDATE ${q('facts')} SET val = -1, note = NULL, updated_at = now() WHERE id IN (10, 200)`);
    await db.admin.query(`DELETE FROM ${q('facts')} WHERE id = 11`);
    await db.admin.query(`INSERT INTO ${q('facts')} VALUES (3, 3.33, 'back', '{x}', now())`);
    increments.push(await exportRun());
    expect(increments.map((m) => m.kind)).toEqual(['incremental', 'incremental']);
    expect(increments[1]!.incremental?.reconciliation?.status).toBe('matched');
    const pointer = await readCurrentPointer(store, 'bronze', table());
    expect(pointer?.runId).toBe(base.runId);
    expect(pointer?.increments?.map((i) => i.runId)).toEqual(increments.map((m) => m.runId));
  }, 120_000);

  afterAll(async () => {
    await deps?.pool.end();
    await store?.close();
    await s3?.close();
    await db?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('restore loads exactly the source table: full run merged with the increments, checked against the merge', async () => {
    const result = await restoreTable({ store, config: deps.config }, { bucket: 'bronze', table: table(), intoUrl: db.url, as: { schema: db.schema, name: 'restored' } });
    expect(result.increments).toEqual(increments.map((m) => m.runId));
    expect(result.verified).toBe('checksums');
    expect(result.snapshotTime).toBe(increments[1]!.source.snapshotTime);
    const source = await wholeRows('facts');
    expect(source.length).toBe(300 + 20 - 4 + 1 - 1);
    expect(result.rows).toBe(source.length);
    expect(await wholeRows('restored')).toEqual(source);
    // The primary key came back too.
    const pk = await db.admin.query(`SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'`, [`${q('restored')}`]);
    expect(pk.rows[0].n).toBe(1);
  }, 60_000);

  it('restore --run <increment> gives the state as of that increment; --run <full run> that run alone', async () => {
    const asOfFirst = await restoreTable({ store, config: deps.config }, { bucket: 'bronze', table: table(), intoUrl: db.url, runId: increments[0]!.runId, as: { schema: db.schema, name: 'as_of_first' } });
    expect(asOfFirst.increments).toEqual([increments[0]!.runId]);
    expect(await sourceRows('as_of_first')).toEqual(afterFirst);
    const base = await restoreTable({ store, config: deps.config }, { bucket: 'bronze', table: table(), intoUrl: db.url, runId: asOfFirst.runId, as: { schema: db.schema, name: 'base_only' } });
    expect(base.increments).toEqual([]);
    expect(base.rows).toBe(300);
  }, 60_000);

  it('a tampered increment fails restore before anything is committed', async () => {
    const putBack = await tamper(increments[1]!, `SELECT * REPLACE (CASE WHEN id = 200 THEN 999 ELSE val END AS val) FROM $F`);
    try {
      const err = await restoreTable({ store, config: deps.config }, { bucket: 'bronze', table: table(), intoUrl: db.url, as: { schema: db.schema, name: 'tampered' } }).catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe('VERIFY_MISMATCH');
      expect((err as Error).message).toContain(increments[1]!.runId);
      expect((err as Error).message).toContain('nothing was changed');
      const exists = await db.admin.query(`SELECT to_regclass($1) IS NOT NULL AS e`, [q('tampered')]);
      expect(exists.rows[0].e).toBe(false);
      // verify names the increment whose files no longer match its own export-time fingerprint.
      const check = await verifyPublished({ store, pool: deps.pool, postgresUrl: db.url, config: deps.config }, 'bronze', table());
      expect(check.integrity.length).toBeGreaterThan(0);
      expect(check.integrity.every((l) => l.startsWith(`increment ${increments[1]!.runId}: `))).toBe(true);
    } finally {
      await putBack();
    }
  }, 60_000);

  it('verify checks each run against its own fingerprint and the merged state against the source', async () => {
    const check = await verifyPublished({ store, pool: deps.pool, postgresUrl: db.url, config: deps.config }, 'bronze', table());
    expect(check.increments.map((m) => m.runId)).toEqual(increments.map((m) => m.runId));
    expect(check.integrity).toEqual([]);
    expect(check.drift).toEqual([]);
    expect(check.rows).toBe((await sourceRows()).length);
  }, 60_000);

  it('corrente sql views, queryCurrent and the API serve the merged rows, equal to the source', async () => {
    const expected = await sourceRows();
    const cacheDir = join(work, `cache-${randomUUID()}`);
    const { session } = await openLakeQuery(store, BUCKETS, { cacheDir });
    try {
      const rows = await session.rows(`SELECT ${DUCK_ROW} AS r FROM bronze."${db.schema}.facts" ORDER BY id`);
      expect(rows.map((r) => String(r.r))).toEqual(expected);
    } finally {
      session.close();
    }

    const current = await queryCurrent({ store, buckets: BUCKETS, cacheDir }, 'bronze', table(), `SELECT ${DUCK_ROW} AS r FROM t ORDER BY id`);
    expect(current.increments).toEqual(increments.map((m) => m.runId));
    expect(current.rows.map((r) => String(r.r))).toEqual(expected);

    const served = new ServedTables({ store, buckets: BUCKETS, cacheDir, refreshMs: 0, cacheBytes: 1 << 30 });
    const t = await served.resolve('bronze', `${db.schema}.facts`);
    // Served as one state named after its latest increment, with the source's row count.
    expect(t.manifest.runId).toBe(increments[1]!.runId);
    expect(t.manifest.totals.rows).toBe(expected.length);
    const files = await served.files('bronze', await served.pinned(t, t.manifest.runId));
    const duck = await openDuckSession();
    try {
      const rows = await duck.rows(`SELECT ${DUCK_ROW} AS r FROM read_parquet([${files.map((f) => `'${f}'`).join(', ')}]) ORDER BY id`);
      expect(rows.map((r) => String(r.r))).toEqual(expected);
    } finally {
      duck.close();
    }
    // An increment alone is never served as the table.
    await expect(served.pinned(t, increments[0]!.runId)).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
  }, 60_000);

  // Local lake only (a file DuckDB opens, the CLI's LAKE_DIR): defined for that lake alone, not skipped.
  if (kind === 'local') it('the local catalog.duckdb views the merged rows', async () => {
    const path = await refreshLocalCatalog(store, BUCKETS);
    expect(path).toBe(join((store as LocalDirStore).root, CATALOG_FILE));
    const duck = await openDuckSession({ path: path!, memoryMb: 128, threads: 1 });
    try {
      const rows = await duck.rows(`SELECT ${DUCK_ROW} AS r FROM bronze.facts ORDER BY id`);
      expect(rows.map((r) => String(r.r))).toEqual(await sourceRows());
    } finally {
      duck.close();
    }
  }, 60_000);

  // Local lake only (a file DuckDB opens, the CLI's LAKE_DIR): defined for that lake alone, not skipped.
  if (kind === 'local') it('the CLI: path says the files need merging, verify/sql/restore --json show the merged state', async () => {
    const env = { PATH: process.env.PATH ?? '', DATABASE_URL: db.url, LAKE_DIR: join(work, 'lake'), ...(process.env.NODE_OPTIONS ? { NODE_OPTIONS: process.env.NODE_OPTIONS } : {}) };
    const name = `${db.schema}.facts`;
    const text = await runCli(['path', name], env, { cwd: work });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.trim().split('\n')).toHaveLength(1);
    expect(text.stderr).toContain('2 increment(s)');
    expect(text.stderr).toContain('must be merged');
    const json = await runCli(['path', name, '--json'], env, { cwd: work });
    const path = JSON.parse(json.stdout) as { primaryKey: string[]; increments: { runId: string; files: string[]; tombstones: string[] }[] };
    expect(path.primaryKey).toEqual(['id']);
    expect(path.increments.map((i) => i.runId)).toEqual(increments.map((m) => m.runId));
    expect(path.increments.map((i) => i.tombstones.length)).toEqual([1, 1]);

    const expected = await sourceRows();
    const verify = await runCli(['verify', name, '--json'], env, { cwd: work });
    expect(verify.code, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, sourceChanged: false, rows: expected.length, increments: increments.map((m) => m.runId) });
    const sql = await runCli(['sql', `SELECT count(*)::INT AS n, sum(val)::VARCHAR AS s FROM bronze.facts`, '--json'], env, { cwd: work });
    const pgSum = await db.admin.query<{ s: string }>(`SELECT sum(val)::text AS s FROM ${q('facts')}`);
    expect(JSON.parse(sql.stdout)).toEqual([{ n: expected.length, s: pgSum.rows[0]!.s }]);
    const restore = await runCli(['restore', name, '--into', db.url, '--as', `${db.schema}.via_cli`, '--json'], env, { cwd: work });
    expect(restore.code, restore.stderr).toBe(0);
    expect(JSON.parse(restore.stdout)).toMatchObject({ rows: expected.length, verified: 'checksums', increments: increments.map((m) => m.runId) });
    expect(await sourceRows('via_cli')).toEqual(expected);
  }, 120_000);

  it('verify reports drift of the merged state once the source moves on', async () => {
    await db.admin.query(`UPDATE ${q('facts')} SET val = val + 1 WHERE id = 1`);
    const check = await verifyPublished({ store, pool: deps.pool, postgresUrl: db.url, config: deps.config }, 'bronze', table());
    expect(check.integrity).toEqual([]);
    expect(check.drift.some((d) => d.includes('"val"'))).toBe(true);
  }, 60_000);
});
