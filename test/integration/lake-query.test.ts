/**
 * Querying the current lake by table name: the local `catalog.duckdb` refreshed on every
 * publish, `corrente sql` (local and S3, exact values in --json/--csv) and `corrente path`.
 */
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { currentKey, manifestKey } from '../../src/lake/index.js';
import { exportTable, verifyAndPublish } from '../../src/pipeline/index.js';
import { createObjectStore } from '../../src/storage/index.js';
import { createCliSandbox, expectCleanFailure, runCli, type CliSandbox } from '../helpers/cli.js';
import { createLocalLake, type LocalLake } from '../helpers/export-deps.js';
import { createTestSchema, type TestSchema } from '../helpers/pg.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

let db: TestSchema;
let lake: LocalLake;
let sandbox: CliSandbox;
const BUCKETS = { bronze: 'bronze', silver: 'silver', gold: 'gold' } as const;

async function publish(name: string, runId: string): Promise<void> {
  const table = { schema: db.schema, name };
  const outcome = await exportTable(lake.deps, { runId, table, layer: 'bronze' });
  expect(outcome.kind).toBe('staged');
  await verifyAndPublish({ store: lake.store, config: lake.deps.config, buckets: BUCKETS }, { bucket: 'bronze', table, runId });
}

/** Opens the catalog file the way `duckdb lake/catalog.duckdb` would, and runs one query. */
async function queryCatalog(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(join(lake.dir, 'catalog.duckdb'), { access_mode: 'READ_ONLY' });
  try {
    const conn = await instance.connect();
    try {
      return (await conn.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
    } finally {
      conn.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

beforeAll(async () => {
  db = await createTestSchema('lakeq');
  const s = `"${db.schema}"`;
  await db.admin.query(`
    CREATE TABLE ${s}.items (id int PRIMARY KEY, price numeric(20,6), name text, big int8);
    INSERT INTO ${s}.items VALUES (1, 12345678901234.123456, 'a, "quoted"', 9007199254740993), (2, NULL, '', -1), (3, 0.000001, NULL, 0);
    CREATE TABLE ${s}.empty_t (id int, at timestamptz);`);
  lake = await createLocalLake(db.url);
  await publish('items', 'q1');
  await publish('empty_t', 'q1');
  sandbox = await createCliSandbox({ LAKE_DIR: lake.dir });
});

afterAll(async () => {
  await sandbox?.cleanup();
  await lake?.close();
  await db?.drop();
});

describe('local catalog.duckdb', () => {
  it('has a view per current table, by full and short name, including tables without files', async () => {
    const full = await queryCatalog(`SELECT count(*)::INT AS n, sum(price)::VARCHAR AS s FROM bronze."${db.schema}.items"`);
    expect(full).toEqual([{ n: 3, s: '12345678901234.123457' }]);
    const short = await queryCatalog(`SELECT id, price::VARCHAR AS p FROM bronze.items ORDER BY id`);
    expect(short).toEqual([
      { id: 1, p: '12345678901234.123456' },
      { id: 2, p: null },
      { id: 3, p: '0.000001' },
    ]);
    expect(await queryCatalog(`SELECT count(*)::INT AS n FROM bronze.empty_t`)).toEqual([{ n: 0 }]);
  });

  it('follows the next publish', async () => {
    await db.admin.query(`INSERT INTO "${db.schema}".items VALUES (4, 1, 'new', 4)`);
    await publish('items', 'q2');
    expect(await queryCatalog(`SELECT count(*)::INT AS n FROM bronze.items`)).toEqual([{ n: 4 }]);
    await db.admin.query(`DELETE FROM "${db.schema}".items WHERE id = 4`);
    await publish('items', 'q3');
  });
});

describe('corrente sql / path (local lake)', () => {
  it('--json keeps exact values; --csv keeps NULL apart from empty strings', async () => {
    const q = `SELECT id, price, name, big FROM bronze."${db.schema}.items" ORDER BY id`;
    const json = await runCli(['sql', q, '--json'], sandbox.env, { cwd: sandbox.cwd });
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([
      { id: 1, price: '12345678901234.123456', name: 'a, "quoted"', big: '9007199254740993' },
      { id: 2, price: null, name: '', big: '-1' },
      { id: 3, price: '0.000001', name: null, big: '0' },
    ]);
    const csv = await runCli(['sql', q, '--csv'], sandbox.env, { cwd: sandbox.cwd });
    expect(csv.stdout).toBe('id,price,name,big\n1,12345678901234.123456,"a, ""quoted""",9007199254740993\n2,,"",-1\n3,0.000001,,0\n');
    const table = await runCli(['sql', 'SELECT count(*) AS n FROM bronze.items'], sandbox.env, { cwd: sandbox.cwd });
    expect(table.stdout).toMatch(/^n\s*\n-+\n3\n\(1 row\)\n$/);
  });

  it('a bad query: exit 2, one line naming the views', async () => {
    const r = await runCli(['sql', 'SELECT * FROM bronze.nope'], sandbox.env, { cwd: sandbox.cwd });
    expectCleanFailure(r, 2, [/Query failed/, /nope/, new RegExp(`bronze\\."${db.schema}\\.empty_t"`)]);
  });

  it('path prints the current files, a glob, and JSON', async () => {
    const r = await runCli(['path', `${db.schema}.items`], sandbox.env, { cwd: sandbox.cwd });
    expect(r.code, r.stderr).toBe(0);
    const files = r.stdout.trim().split('\n');
    expect(files).toEqual([join(lake.dir, 'bronze', db.schema, 'items', 'run-q3', 'part-00000.parquet')]);
    const glob = await runCli(['path', `${db.schema}.items`, '--glob'], sandbox.env, { cwd: sandbox.cwd });
    expect(glob.stdout).toBe(`${join(lake.dir, 'bronze', db.schema, 'items', 'run-q3')}/*.parquet\n`);
    const json = JSON.parse((await runCli(['path', `${db.schema}.items`, '--json'], sandbox.env, { cwd: sandbox.cwd })).stdout);
    expect(json).toMatchObject({ layer: 'bronze', runId: 'q3', files });
    const missing = await runCli(['path', `${db.schema}.nope`], sandbox.env, { cwd: sandbox.cwd });
    expectCleanFailure(missing, 2, [/Nothing published for/, /nope/]);
  });
});

/**
 * An S3 server holding the current run of `items` (files, manifest, pointer), copied from
 * the local lake as a worker writing to S3 would have left it.
 */
async function startS3ServerWithItems(): Promise<S3TestServer> {
  const s3 = await startS3Server();
  const config = loadConfig({ env: {}, file: undefined, overrides: { storage: { kind: 's3', s3: { endpoint: s3.endpoint, accessKey: s3.accessKey, secretKey: s3.secretKey } } } });
  const remote = createObjectStore(config.storage);
  try {
    await remote.ensureBucket('bronze');
    const table = { schema: db.schema, name: 'items' };
    const pointer = JSON.parse(await readFile(lake.store.localPath('bronze', currentKey(table))!, 'utf8')) as { runId: string; files: string[] };
    for (const key of pointer.files) await remote.putFile('bronze', key, lake.store.localPath('bronze', key)!);
    await remote.putBytes('bronze', manifestKey(table, pointer.runId), await readFile(lake.store.localPath('bronze', manifestKey(table, pointer.runId))!));
    await remote.putBytes('bronze', currentKey(table), JSON.stringify(pointer));
  } finally {
    await remote.close();
  }
  return s3;
}

describe('corrente sql over S3', () => {
  let s3: S3TestServer;

  beforeAll(async () => {
    s3 = await startS3ServerWithItems();
  });

  afterAll(async () => {
    await s3?.close();
  });

  it('downloads the named tables once into the cache and answers', async () => {
    const env = { ...sandbox.env, MINIO_ENDPOINT: s3.endpoint, MINIO_ACCESS_KEY: s3.accessKey, MINIO_SECRET_KEY: s3.secretKey };
    const first = await runCli(['sql', 'SELECT sum(big)::VARCHAR AS s FROM bronze.items', '--json'], env, { cwd: sandbox.cwd });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual([{ s: '9007199254740992' }]);
    const gets = (): number => s3.requests.filter((r) => r.startsWith('GET') && r.includes('part-00000.parquet')).length;
    const before = gets();
    const again = await runCli(['sql', 'SELECT count(*) AS n FROM bronze.items', '--json'], env, { cwd: sandbox.cwd });
    expect(JSON.parse(again.stdout)).toEqual([{ n: '3' }]);
    expect(gets()).toBe(before);
  });

});

describe('corrente sql over S3: the cache bound', () => {
  let s3: S3TestServer;

  beforeAll(async () => {
    s3 = await startS3ServerWithItems();
  });

  afterAll(async () => {
    await s3?.close();
  });

  it('keeps its cache within api.cacheMb: least recently used old runs go, the current run stays', async () => {
    const work = await mkdtemp(join(tmpdir(), 'corrente-sqlcache-'));
    try {
      await writeFile(join(work, 'corrente.yaml'), `export:\n  workDir: ${JSON.stringify(work)}\napi:\n  cacheMb: 1\n`);
      const table = { schema: db.schema, name: 'items' };
      const current = (JSON.parse(await readFile(lake.store.localPath('bronze', currentKey(table))!, 'utf8')) as { files: string[] }).files[0]!;
      const runFolder = (id: string): string => join(work, 'corrente-cache', 'bronze', ...dirname(current).split('/').slice(0, -1), `run-${id}`);
      // Two runs no longer current: a big one used long ago, a small one used later.
      await mkdir(runFolder('old-big'), { recursive: true });
      await writeFile(join(runFolder('old-big'), 'part-00000.parquet'), Buffer.alloc(2 * 1024 * 1024));
      await utimes(join(runFolder('old-big'), 'part-00000.parquet'), new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
      await mkdir(runFolder('old-small'), { recursive: true });
      await writeFile(join(runFolder('old-small'), 'part-00000.parquet'), Buffer.alloc(1024));

      const env = { ...sandbox.env, MINIO_ENDPOINT: s3.endpoint, MINIO_ACCESS_KEY: s3.accessKey, MINIO_SECRET_KEY: s3.secretKey };
      const r = await runCli(['sql', 'SELECT count(*) AS n FROM bronze.items', '--json'], env, { cwd: work });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual([{ n: '3' }]);
      const exists = (path: string): Promise<boolean> => stat(path).then(() => true, () => false);
      expect(await exists(runFolder('old-big'))).toBe(false);
      expect(await exists(runFolder('old-small'))).toBe(true);
      expect(await exists(join(work, 'corrente-cache', 'bronze', ...current.split('/')))).toBe(true);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
