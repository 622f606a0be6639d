/**
 * The process runtime against real services: the Postgres pool and the object store
 * (local lake and S3 through s3rver) open on first use, are shared, and are closed by
 * `close()`; a store that cannot open does not stop the rest from closing; the runtime
 * module loads no heavy SDK until a resource needs it.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type ConfigInput } from '../../src/config/index.js';
import { createRuntime } from '../../src/runtime/index.js';
import { isCorrenteError } from '../../src/shared/errors.js';
import { noopLogger } from '../../src/shared/logger.js';
import { createTestSchema, TEST_DATABASE_URL, type TestSchema } from '../helpers/pg.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

let db: TestSchema;
let s3: S3TestServer;
let lakeDir: string;

beforeAll(async () => {
  db = await createTestSchema('rt');
  s3 = await startS3Server();
  lakeDir = await mkdtemp(join(tmpdir(), 'corrente-runtime-'));
});

afterAll(async () => {
  await db?.drop();
  await s3?.close();
  if (lakeDir) await rm(lakeDir, { recursive: true, force: true });
});

const configWith = (overrides: ConfigInput) => loadConfig({ env: {}, overrides: { postgres: { url: TEST_DATABASE_URL }, storage: { lakeDir }, ...overrides } });

async function backendAlive(pid: number): Promise<boolean> {
  const { rows } = await db.admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [pid]);
  return rows[0].n === 1;
}

async function expectClosedError(p: Promise<unknown>, name: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isCorrenteError(err) && err.code, String(err)).toBe('INTERNAL');
  expect((err as Error).message).toBe(`Cannot use ${name}: the runtime is already closed`);
}

describe('createRuntime', () => {
  it('opens one pool and one local store on first use, shares them, and closes both', async () => {
    const runtime = createRuntime(configWith({}), noopLogger);
    const pool = await runtime.pool();
    expect(await runtime.pool()).toBe(pool);
    const { rows } = await pool.query('SELECT pg_backend_pid() AS pid');
    const pid = rows[0].pid as number;
    expect(await backendAlive(pid)).toBe(true);

    const store = await runtime.store();
    expect(await runtime.store()).toBe(store);
    expect(store.kind).toBe('local');
    await store.ensureBucket('bronze');
    await store.putBytes('bronze', 'a/b.txt', 'value');
    expect((await store.getBytes('bronze', 'a/b.txt'))?.toString()).toBe('value');
    expect(store.uri('bronze', 'a/b.txt')).toBe(join(lakeDir, 'bronze', 'a', 'b.txt'));

    await runtime.close();
    expect(pool.ended).toBe(true);
    // The backend goes away once the pool has ended its clients.
    for (let i = 0; i < 50 && (await backendAlive(pid)); i++) await sleep(100);
    expect(await backendAlive(pid)).toBe(false);
    await expectClosedError(runtime.pool(), 'postgres pool');
    await expectClosedError(runtime.store(), 'object store');
  });

  it('opens an S3 store that probes each bucket once, and closes it', async () => {
    const runtime = createRuntime(
      configWith({ storage: { kind: 's3', s3: { endpoint: s3.endpoint, accessKey: s3.accessKey, secretKey: s3.secretKey } } }),
      noopLogger,
    );
    try {
      const store = await runtime.store();
      expect(store.kind).toBe('s3');
      const heads = () => s3.requests.filter((r) => r.startsWith('HEAD /runtime-probe')).length;
      await store.ensureBucket('runtime-probe');
      expect(heads()).toBe(1);
      await store.ensureBucket('runtime-probe');
      expect(heads()).toBe(1);
      await store.putBytes('runtime-probe', 'k', 'v');
      expect((await store.getBytes('runtime-probe', 'k'))?.toString()).toBe('v');
    } finally {
      await runtime.close();
    }
    await expectClosedError(runtime.store(), 'object store');
  });

  it('a store that cannot open fails when used, and the pool still works and closes', async () => {
    // Half-set S3 credentials are refused when the store is built, which happens on first use only.
    const runtime = createRuntime(configWith({ storage: { kind: 's3', s3: { endpoint: s3.endpoint, accessKey: 'only-the-id' } } }), noopLogger);
    const err = await runtime.store().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isCorrenteError(err) && err.code).toBe('CONFIG_INVALID');
    const pool = await runtime.pool();
    expect((await pool.query('SELECT 41 + 1 AS n')).rows[0].n).toBe(42);
    await runtime.close();
    expect(pool.ended).toBe(true);
  });

  it('loads no AWS SDK, DuckDB or BullMQ until a resource needs one (built runtime, fresh process)', async () => {
    const dist = fileURLToPath(new URL('../../dist/src/', import.meta.url));
    // A resolve hook records every module the child loads from those SDKs.
    const hook = `data:text/javascript,${encodeURIComponent(
      "import { appendFileSync } from 'node:fs'; export async function resolve(s, c, next) { const r = await next(s, c); if (/@aws-sdk|@duckdb|bullmq/.test(r.url)) appendFileSync(process.env.LOADED_LOG, r.url.match(/(@aws-sdk|@duckdb|bullmq)/)[1] + '\\n'); return r; }",
    )}`;
    const log = join(lakeDir, 'loaded.log');
    const script = `
      import { register } from 'node:module';
      import { readFileSync, existsSync } from 'node:fs';
      register(${JSON.stringify(hook)});
      const loaded = () => existsSync(process.env.LOADED_LOG) ? [...new Set(readFileSync(process.env.LOADED_LOG, 'utf8').split('\\n').filter(Boolean))].sort() : [];
      const { loadConfig } = await import(${JSON.stringify(join(dist, 'config/index.js'))});
      const { createRuntime } = await import(${JSON.stringify(join(dist, 'runtime/index.js'))});
      const { noopLogger } = await import(${JSON.stringify(join(dist, 'shared/logger.js'))});
      const s3 = { kind: 's3', s3: { endpoint: ${JSON.stringify(s3.endpoint)}, accessKey: 'a', secretKey: 'b' } };
      const runtime = createRuntime(loadConfig({ env: {}, overrides: { postgres: { url: ${JSON.stringify(TEST_DATABASE_URL)} }, storage: s3 } }), noopLogger);
      const pool = await runtime.pool();
      await pool.query('SELECT 1');
      const afterPool = loaded();
      const store = await runtime.store();
      // The S3 store loads the SDK as it is made, asynchronously: a request waits for it.
      await store.getBytes('bronze', 'probe').catch(() => undefined);
      const afterStore = loaded();
      await runtime.close();
      console.log(JSON.stringify({ afterPool, afterStore }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, LOADED_LOG: log }, timeout: 30_000 });
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as { afterPool: string[]; afterStore: string[] };
    expect(result.afterPool).toEqual([]);
    expect(result.afterStore).toEqual(['@aws-sdk']);
  });
});
