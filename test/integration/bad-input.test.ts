/**
 * Bad input and unreachable services, through the real CLI: every case must exit with the
 * documented code (2 bad input/config, 3 service unreachable), print exactly one line
 * `corrente: <what is wrong>. <how to fix>` on stderr with no stack trace, and leave
 * nothing behind: no published table (`_current.json`), no bucket created, no run queued.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCliSandbox,
  currentPointersUnder,
  expectCleanFailure,
  runCli,
  TEST_REDIS_URL,
  type CliEnv,
  type CliResult,
  type CliSandbox,
} from '../helpers/cli.js';
import { createTestSchema, TEST_DATABASE_URL, type TestSchema } from '../helpers/pg.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

const qid = (s: string): string => `"${s.replace(/"/g, '""')}"`;
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let db: TestSchema;
let schema: string;
let s3: S3TestServer;
const role = `corrente_t_${randomBytes(5).toString('hex')}`;
const sandboxes: CliSandbox[] = [];

async function sandbox(extra: CliEnv = {}): Promise<CliSandbox> {
  const s = await createCliSandbox(extra);
  sandboxes.push(s);
  return s;
}

/** Every Redis key under the sandbox prefix (a queued run would leave some). */
async function redisKeys(prefix: string): Promise<string[]> {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      out.push(...keys);
    } while (cursor !== '0');
    return out;
  } finally {
    redis.disconnect();
  }
}

/** Nothing published under the local lake and nothing queued in Redis. */
async function expectNothingHappened(s: CliSandbox): Promise<void> {
  expect(await currentPointersUnder(s.lakeDir), 'no _current.json under LAKE_DIR').toEqual([]);
  expect(await redisKeys(s.prefix), 'no run or job recorded in Redis').toEqual([]);
}

/** Every bucket on the s3rver and every `_current.json` in them. */
async function s3State(): Promise<{ buckets: string[]; pointers: string[] }> {
  const buckets = ((await s3.admin().send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name!);
  const pointers = (await s3.listAll()).filter((o) => o.key.endsWith('_current.json')).map((o) => `${o.bucket}/${o.key}`);
  return { buckets, pointers };
}

async function tableExists(name: string): Promise<boolean> {
  const r = await db.admin.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`${qid(schema)}.${qid(name)}`]);
  return r.rows[0]!.t !== null;
}

function migrate(s: CliSandbox, tables: string, env: CliEnv = {}, extraArgs: string[] = []): Promise<CliResult> {
  return runCli(['migrate', '--tables', tables, '--inline', ...extraArgs], { ...s.env, ...env }, { cwd: s.cwd, timeoutMs: 45_000 });
}

beforeAll(async () => {
  db = await createTestSchema('bad');
  schema = db.schema;
  await db.admin.query(`CREATE TABLE ${qid(schema)}.t (id int PRIMARY KEY, v text)`);
  await db.admin.query(`INSERT INTO ${qid(schema)}.t SELECT g, 'v' || g FROM generate_series(1, 50) g`);
  // The sentinel an injected `DROP TABLE y` would remove.
  await db.admin.query(`CREATE TABLE ${qid(schema)}.y (id int)`);
  await db.admin.query(`INSERT INTO ${qid(schema)}.y VALUES (1)`);
  s3 = await startS3Server();
});

afterAll(async () => {
  await Promise.all(sandboxes.map((s) => s.cleanup()));
  await s3?.close();
  if (db) {
    await db.admin.query(`DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN EXECUTE 'DROP OWNED BY ${role}'; EXECUTE 'DROP ROLE ${role}'; END IF; END $$`);
    await db.drop();
  }
});

describe('table names', () => {
  it('unknown table: exit 2 naming the table', async () => {
    const s = await sandbox();
    const r = await migrate(s, 'public.nope');
    expectCleanFailure(r, 2, ['public.nope', /not found/i]);
    await expectNothingHappened(s);
  });

  it('case-mismatched table: exit 2 with "Did you mean" the real name', async () => {
    const s = await sandbox();
    const r = await migrate(s, `${schema}.T`);
    expectCleanFailure(r, 2, [`${schema}."T"`, /not found/i, `Did you mean ${schema}.t?`]);
    await expectNothingHappened(s);
  });

  it('unknown schema: exit 2 naming the schema', async () => {
    const s = await sandbox();
    const missing = `nosuchschema_${randomBytes(3).toString('hex')}`;
    const r = await migrate(s, `${missing}.t`);
    expectCleanFailure(r, 2, [`${missing}.t`, /not found/i, new RegExp(`[Ss]chema "${missing}" does not exist`)]);
    await expectNothingHappened(s);
  });

  it('a name without a schema: exit 2 asking for schema.table', async () => {
    const s = await sandbox();
    const r = await migrate(s, 'a');
    expectCleanFailure(r, 2, ['"a"', /schema\.table/]);
    await expectNothingHappened(s);
  });

  describe('SQL in a table name', () => {
    // With search_path pointing at the test schema, an injected `DROP TABLE y` would hit the sentinel.
    const withSearchPath = (): string => `${TEST_DATABASE_URL}${TEST_DATABASE_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;

    it('is treated as a name, never executed', async () => {
      const client = new pg.Client({ connectionString: withSearchPath() });
      await client.connect();
      try {
        expect((await client.query<{ search_path: string }>('SHOW search_path')).rows[0]!.search_path).toBe(schema);
      } finally {
        await client.end();
      }
      const inputs = ['public.x; DROP TABLE y', `${schema}.x; DROP TABLE y`, `${schema}.t; DROP TABLE y; --`];
      const runs = await Promise.all(
        inputs.map(async (input) => {
          const s = await sandbox({ DATABASE_URL: withSearchPath() });
          return { input, s, r: await migrate(s, input) };
        }),
      );
      for (const { input, s, r } of runs) {
        const name = input.slice(input.indexOf('.') + 1);
        expectCleanFailure(r, 2, [/not found/i, `."${name}"`]);
        await expectNothingHappened(s);
      }
      expect(await tableExists('y'), 'the sentinel table y survives').toBe(true);
    });

    it('a table really named `x; DROP TABLE y` exports normally and drops nothing', async () => {
      await db.admin.query(`CREATE TABLE ${qid(schema)}.${qid('x; DROP TABLE y')} (id int PRIMARY KEY, "y; DROP TABLE y" text)`);
      await db.admin.query(`INSERT INTO ${qid(schema)}.${qid('x; DROP TABLE y')} SELECT g, 'drop ' || g FROM generate_series(1, 20) g`);
      const s = await sandbox({ DATABASE_URL: withSearchPath() });
      const r = await migrate(s, `${schema}."x; DROP TABLE y"`, {}, ['--json']);
      expect(r.code, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);
      const out = JSON.parse(r.stdout) as { ok: boolean; tables: { table: string; state: string; rows: number }[] };
      expect(out.tables).toEqual([expect.objectContaining({ table: `${schema}."x; DROP TABLE y"`, state: 'published', rows: 20 })]);
      expect(await currentPointersUnder(s.lakeDir)).toEqual([join(s.lakeDir, 'bronze', schema, 'x; DROP TABLE y', '_current.json')]);
      expect(await tableExists('y')).toBe(true);
    });
  });
});

describe('permissions', () => {
  it('a role without grants: exit 2 with the GRANT to run (USAGE first, then SELECT)', async () => {
    await db.admin.query(`CREATE ROLE ${role} LOGIN`);
    const url = new URL(TEST_DATABASE_URL);
    url.username = role;
    url.password = '';
    const s = await sandbox({ DATABASE_URL: url.toString() });

    const noUsage = await migrate(s, `${schema}.t`);
    expectCleanFailure(noUsage, 2, [`${schema}.t`, /GRANT USAGE ON SCHEMA/, new RegExp(escapeRe(qid(schema)))]);
    await expectNothingHappened(s);

    await db.admin.query(`GRANT USAGE ON SCHEMA ${qid(schema)} TO ${role}`);
    const noSelect = await migrate(s, `${schema}.t`);
    expectCleanFailure(noSelect, 2, [`${schema}.t`, /GRANT SELECT ON/]);
    await expectNothingHappened(s);
  });
});

describe('unreachable services', () => {
  it('Postgres unreachable: exit 3 within 15 s, "check Postgres is running"', async () => {
    const s = await sandbox({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' });
    const r = await migrate(s, `${schema}.t`);
    expectCleanFailure(r, 3, [/127\.0\.0\.1:1/, /check Postgres is running/i, 'DATABASE_URL']);
    expect(r.ms).toBeLessThan(15_000);
    await expectNothingHappened(s);
  });

  it('Redis unreachable: exit 3 naming Redis', async () => {
    const s = await sandbox({ REDIS_URL: 'redis://127.0.0.1:1' });
    const r = await migrate(s, `${schema}.t`);
    expectCleanFailure(r, 3, [/Redis/, /127\.0\.0\.1:1/, 'REDIS_URL']);
    expect(r.ms).toBeLessThan(15_000);
    await expectNothingHappened(s);
  });

  it('MinIO unreachable: exit 3 naming object storage / MinIO', async () => {
    const s = await sandbox({ MINIO_ENDPOINT: 'http://127.0.0.1:1', MINIO_ACCESS_KEY: 'S3RVER', MINIO_SECRET_KEY: 'S3RVER' });
    const r = await migrate(s, `${schema}.t`);
    expectCleanFailure(r, 3, [/object storage|MinIO/i, /127\.0\.0\.1:1/, 'MINIO_ENDPOINT']);
    expect(r.ms).toBeLessThan(20_000);
    await expectNothingHappened(s);
  });
});

describe('object storage credentials and buckets', () => {
  it('wrong access key: exit 2 about the credentials, no bucket created', async () => {
    const s = await sandbox({ MINIO_ENDPOINT: s3.endpoint, MINIO_ACCESS_KEY: 'WRONG', MINIO_SECRET_KEY: s3.secretKey });
    const r = await migrate(s, `${schema}.t`);
    expectCleanFailure(r, 2, [/credential|access key|ACCESS_KEY/i, 'MINIO_ACCESS_KEY']);
    await expectNothingHappened(s);
    expect(await s3State()).toEqual({ buckets: [], pointers: [] });
  });

  it('missing bucket with createBuckets: false: exit 2 naming the bucket, which stays missing', async () => {
    const bucket = `corrente-missing-${randomBytes(4).toString('hex')}`;
    const s = await sandbox({ MINIO_ENDPOINT: s3.endpoint, MINIO_ACCESS_KEY: s3.accessKey, MINIO_SECRET_KEY: s3.secretKey });
    const file = join(s.cwd, 'corrente-test.yaml');
    await writeFile(file, `storage:\n  s3:\n    createBuckets: false\n  buckets:\n    bronze: ${bucket}\n`);
    const r = await migrate(s, `${schema}.t`, { CORRENTE_CONFIG: file });
    expectCleanFailure(r, 2, [bucket, /does not exist|missing|no such bucket/i, /createBuckets/]);
    await expectNothingHappened(s);
    expect(await s3State()).toEqual({ buckets: [], pointers: [] });
  });
});

describe('configuration', () => {
  async function withConfig(yaml: string): Promise<{ s: CliSandbox; r: CliResult; file: string }> {
    const s = await sandbox();
    const file = join(s.cwd, 'corrente-test.yaml');
    await writeFile(file, yaml);
    const r = await migrate(s, `${schema}.t`, { CORRENTE_CONFIG: file });
    return { s, r, file };
  }

  it('invalid value: exit 2 naming export.compression', async () => {
    const { s, r } = await withConfig('export:\n  compression: lz4\n');
    expectCleanFailure(r, 2, ['export.compression', /zstd/]);
    await expectNothingHappened(s);
  });

  it('unknown key: exit 2 naming the key', async () => {
    const [nested, top] = await Promise.all([withConfig('export:\n  compresion: zstd\n'), withConfig('tabels:\n  - core.x\n')]);
    expectCleanFailure(nested.r, 2, ['export.compresion', /unknown/i]);
    await expectNothingHappened(nested.s);
    expectCleanFailure(top.r, 2, [/\btabels\b/, /unknown/i]);
    await expectNothingHappened(top.s);
  });

  it('invalid YAML: exit 2 with the file and line number', async () => {
    const { s, r, file } = await withConfig('postgres:\n  url: postgres://x\n bad: x\n');
    expectCleanFailure(r, 2, [file, /YAML/, /line 3\b/]);
    await expectNothingHappened(s);
  });
});
