/**
 * `corrente doctor` finds each broken part: Postgres unreachable, Redis unreachable, S3 with
 * wrong credentials, a missing bucket, a table the role may not read; and passes when all
 * is well.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliSandbox, runCli, type CliSandbox } from '../helpers/cli.js';
import { createTestSchema, TEST_DATABASE_URL, type TestSchema } from '../helpers/pg.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

interface Check {
  part: string;
  check: string;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  detail: string;
  fix?: string;
}

let db: TestSchema;
let s3: S3TestServer;
let sandbox: CliSandbox;
const role = `doctor_${Math.random().toString(36).slice(2, 8)}`;

async function doctor(env: Record<string, string>, yaml = ''): Promise<{ code: number | null; ok: boolean; checks: Check[]; stderr: string }> {
  await writeFile(join(sandbox.cwd, 'corrente.yaml'), `tables: ["${db.schema}.t"]\n${yaml}`);
  const r = await runCli(['doctor', '--json'], { ...sandbox.env, ...env }, { cwd: sandbox.cwd });
  const out = JSON.parse(r.stdout || '{}') as { ok: boolean; checks: Check[] };
  return { code: r.code, ok: out.ok, checks: out.checks ?? [], stderr: r.stderr };
}

const failed = (checks: Check[]): Check[] => checks.filter((c) => c.status === 'fail');

beforeAll(async () => {
  db = await createTestSchema('doctor');
  await db.admin.query(`CREATE TABLE "${db.schema}".t (id int PRIMARY KEY, v text); INSERT INTO "${db.schema}".t VALUES (1, 'a')`);
  await db.admin.query(`CREATE ROLE ${role} LOGIN`);
  s3 = await startS3Server();
  sandbox = await createCliSandbox();
});

afterAll(async () => {
  await sandbox?.cleanup();
  await s3?.close();
  await db?.admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
  await db?.drop();
});

describe('corrente doctor', () => {
  it('passes when every part works (local lake): exit 0', async () => {
    const r = await doctor({});
    expect(r.code, r.stderr).toBe(0);
    expect(r.ok).toBe(true);
    expect(failed(r.checks)).toEqual([]);
    const parts = r.checks.map((c) => `${c.part} ${c.check}`);
    expect(parts).toEqual(expect.arrayContaining(['config valid', 'postgres reachable', 'postgres clock skew', 'postgres read-only sessions', 'tables readable', 'redis reachable', 'redis maxmemory-policy', 'storage bucket bronze', 'duckdb reads the lake']));
    expect(r.checks.find((c) => c.check === 'maxmemory-policy')?.detail).toBe('maxmemory-policy is noeviction');
  });

  it('finds Postgres, Redis and the S3 credentials broken at once, each with its fix: exit 1', async () => {
    const r = await doctor({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test',
      REDIS_URL: 'redis://127.0.0.1:1',
      MINIO_ENDPOINT: s3.endpoint,
      // s3rver checks the access key, not the signature: a wrong key is what it rejects.
      MINIO_ACCESS_KEY: 'WRONGKEY',
      MINIO_SECRET_KEY: 'a-secret-value',
    });
    expect(r.code).toBe(1);
    const f = failed(r.checks);
    expect(f.find((c) => c.part === 'postgres')).toMatchObject({ check: 'reachable', detail: expect.stringMatching(/Cannot reach PostgreSQL at 127\.0\.0\.1:1/), fix: expect.stringMatching(/DATABASE_URL/) });
    expect(f.find((c) => c.part === 'redis')).toMatchObject({ check: 'reachable', detail: expect.stringMatching(/Cannot reach Redis at 127\.0\.0\.1:1/), fix: expect.stringMatching(/REDIS_URL/) });
    const storage = f.filter((c) => c.part === 'storage');
    expect(storage.length).toBe(3);
    expect(storage[0]!.fix).toMatch(/secret|key|credential/i);
    expect(JSON.stringify(r.checks)).not.toContain('a-secret-value');
  });

  it('reports an invalid config as a failed check with its fix, still checks DuckDB: exit 1, nothing on stderr', async () => {
    const r = await doctor({}, 'export:\n  chunkMbb: 64\n');
    expect(r.code).toBe(1);
    expect(r.ok).toBe(false);
    expect(r.stderr).toBe('');
    expect(r.checks[0]).toMatchObject({ part: 'config', check: 'valid', status: 'fail', detail: expect.stringMatching(/Unknown config key export\.chunkMbb/), fix: expect.stringMatching(/spelling/) });
    expect(r.checks.find((c) => c.part === 'duckdb')).toMatchObject({ check: 'runs', status: 'ok', detail: expect.stringMatching(/^DuckDB v\d/) });
    expect(r.checks.filter((c) => c.status === 'skip').map((c) => c.part)).toEqual(['postgres', 'redis', 'storage']);

    const text = await runCli(['doctor'], sandbox.env, { cwd: sandbox.cwd });
    expect(text.code).toBe(1);
    expect(text.stderr).toBe('');
    const lines = text.stdout.split('\n');
    expect(lines[0]).toMatch(/^✗ config valid +Unknown config key export\.chunkMbb/);
    expect(lines[1]).toMatch(/^ +fix: Remove it or fix its spelling/);
    expect(text.stdout).toMatch(/^- postgres reachable +not checked/m);
    expect(text.stdout).toMatch(/^✓ duckdb runs +DuckDB v/m);
    expect(text.stdout).toMatch(/^1 of 2 checks failed$/m);
  });

  it('finds a table the role may not read and a missing bucket: exit 1', async () => {
    const u = new URL(TEST_DATABASE_URL);
    u.username = role;
    const r = await doctor(
      { DATABASE_URL: u.toString(), MINIO_ENDPOINT: s3.endpoint, MINIO_ACCESS_KEY: s3.accessKey, MINIO_SECRET_KEY: s3.secretKey },
      'storage:\n  s3:\n    createBuckets: false\n',
    );
    expect(r.code).toBe(1);
    const f = failed(r.checks);
    expect(f.find((c) => c.part === 'tables')).toMatchObject({ check: `${db.schema}.t`, fix: expect.stringMatching(/GRANT USAGE ON SCHEMA/) });
    expect(f.filter((c) => c.part === 'storage').map((c) => c.detail)).toEqual([
      expect.stringMatching(/bucket bronze does not exist/),
      expect.stringMatching(/bucket silver does not exist/),
      expect.stringMatching(/bucket gold does not exist/),
    ]);
    expect(f.find((c) => c.part === 'storage')?.fix).toMatch(/createBuckets/);
    // The role is not a superuser: no warning about it.
    expect(r.checks.find((c) => c.part === 'postgres' && c.check === 'reachable')?.status).toBe('ok');
  });
});
