/**
 * Security properties, through the real CLI (`node dist/cli/main.js`) and the Postgres
 * session layer:
 *
 * 1. Least privilege: the README's role (CONNECT, USAGE, SELECT, nothing else) is enough
 *    to export, verify and publish, on the plain and the chunked path.
 * 2. Read only: every session corrente opens refuses writes (SQLSTATE 25006); no product
 *    SQL outside the sample seeder writes; during a real export by a role that could
 *    write, corrente's backends only read and never get a transaction id.
 * 3. Redaction: the Postgres password and the S3 secret key never show up in stdout,
 *    stderr (debug logs included), Redis (every key under the prefix, whatever its type),
 *    or the published objects; nor in the one-line errors of failing commands.
 * 4. SQL in names: table names holding SQL are rejected or treated as names, never run.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgPool, openReadSession, type PgPool, type ReadSession } from '../../src/postgres/index.js';
import {
  createCliSandbox,
  currentPointersUnder,
  expectCleanFailure,
  listFilesRecursive,
  runCli,
  TEST_REDIS_URL,
  type CliEnv,
  type RunJson,
  type CliResult,
  type CliSandbox,
} from '../helpers/cli.js';
import { createTestSchema, TEST_DATABASE_URL, type TestSchema } from '../helpers/pg.js';
import { dumpRedisPrefix, redisEntriesContaining } from '../helpers/redis-dump.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const qid = (s: string): string => `"${s.replace(/"/g, '""')}"`;

function describeResult(r: CliResult): string {
  return `exit ${r.code} (signal ${r.signal}) after ${r.ms} ms\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
}

/** Asserts the exit code and no stack trace, and parses stdout as JSON. */
function jsonOut<T>(r: CliResult, code = 0): T {
  expect(r.code, describeResult(r)).toBe(code);
  expect(r.stderr, `no stack trace\n${describeResult(r)}`).not.toMatch(/^\s{4}at /m);
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON\n${describeResult(r)}`);
  }
}

function expectPublished(r: CliResult, table: string, rows: number): RunJson {
  const out = jsonOut<RunJson>(r);
  expect(out.ok, describeResult(r)).toBe(true);
  expect(out.tables, describeResult(r)).toEqual([expect.objectContaining({ table, state: 'published', verification: 'passed', rows })]);
  return out;
}

// ---------------------------------------------------------------------------------------
// Shared fixtures.

let db: TestSchema;
let schema: string;
const sandboxes: CliSandbox[] = [];
const roles: string[] = [];
let s3: S3TestServer | undefined;

async function sandbox(extra: CliEnv = {}): Promise<CliSandbox> {
  const s = await createCliSandbox(extra);
  sandboxes.push(s);
  return s;
}

function cli(s: CliSandbox, args: string[], env: CliEnv = {}, timeoutMs = 120_000): Promise<CliResult> {
  return runCli(args, { ...s.env, ...env }, { cwd: s.cwd, timeoutMs });
}

/** The test database URL with another user / password / query parameters. */
function pgUrl(user: string, password?: string, params: Record<string, string> = {}): string {
  const u = new URL(TEST_DATABASE_URL);
  u.username = user;
  u.password = password ?? '';
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

const testDbName = decodeURIComponent(new URL(TEST_DATABASE_URL).pathname.slice(1)) || 'postgres';

async function createRole(kind: string, password: string): Promise<string> {
  const role = `corrente_${kind}_${randomBytes(5).toString('hex')}`;
  roles.push(role);
  await db.admin.query(`CREATE ROLE ${qid(role)} LOGIN PASSWORD '${password.replace(/'/g, "''")}'`);
  return role;
}

async function dropRole(role: string): Promise<void> {
  // The role may still own objects or hold grants (on the database too): remove those first.
  await db.admin.query(
    `DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN
       EXECUTE 'REASSIGN OWNED BY ${qid(role)} TO CURRENT_USER';
       EXECUTE 'DROP OWNED BY ${qid(role)}';
       EXECUTE 'DROP ROLE ${qid(role)}';
     END IF; END $$`,
  );
}

async function tableExists(name: string): Promise<boolean> {
  const r = await db.admin.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`${qid(schema)}.${qid(name)}`]);
  return r.rows[0]!.t !== null;
}

/** `<schema>.<name>` with a numeric, a timestamptz and a text (with NULLs and ''). */
async function createMixedTable(name: string, rows: number, pad = 0): Promise<void> {
  const t = `${qid(schema)}.${qid(name)}`;
  await db.admin.query(`CREATE TABLE ${t} (id int PRIMARY KEY, amount numeric(14,3) NOT NULL, ts timestamptz, note text)`);
  await db.admin.query(
    `INSERT INTO ${t}
     SELECT g, round((g * 1.37) % 100000, 3), timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute 1.000001 second',
            CASE WHEN g % 7 = 0 THEN NULL WHEN g % 11 = 0 THEN '' ELSE 'note ' || g || repeat('x', $2::int) END
     FROM generate_series(1, $1::int) g`,
    [rows, pad],
  );
  await db.admin.query(`ANALYZE ${t}`);
}

beforeAll(async () => {
  db = await createTestSchema('sec');
  schema = db.schema;
});

afterAll(async () => {
  await Promise.all(sandboxes.map((s) => s.cleanup()));
  await s3?.close();
  if (db) {
    for (const role of roles) await dropRole(role).catch(() => {});
    await db.drop();
  }
});

// =======================================================================================
// 1. Least privilege
// =======================================================================================

describe('least-privilege role (README: CONNECT, USAGE, SELECT and nothing else)', () => {
  const password = 'Sup3rS3cret!pw';
  let role: string;
  let roleUrl: string;

  beforeAll(async () => {
    await createMixedTable('lp', 3000);
    // ~3 MB of heap: with export.chunkMb = 1 it is split into key ranges (chunked path).
    await createMixedTable('lp_big', 30_000, 60);
    role = await createRole('ro', password);
    // The README's statements, for one database, one schema and these tables.
    await db.admin.query(`GRANT CONNECT ON DATABASE ${qid(testDbName)} TO ${qid(role)}`);
    await db.admin.query(`GRANT USAGE ON SCHEMA ${qid(schema)} TO ${qid(role)}`);
    await db.admin.query(`GRANT SELECT ON TABLE ${qid(schema)}.lp, ${qid(schema)}.lp_big TO ${qid(role)}`);
    roleUrl = pgUrl(role, password);
  });

  it('the role really holds nothing more than the grants', async () => {
    const r = await db.admin.query(
      `SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls,
              has_schema_privilege($1, $2, 'CREATE') AS schema_create,
              has_table_privilege($1, $3, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER') AS table_write,
              has_table_privilege($1, $3, 'SELECT') AS table_select,
              (SELECT count(*)::int FROM pg_auth_members m WHERE m.member = r.oid) AS memberships
       FROM pg_roles r WHERE r.rolname = $1`,
      [role, schema, `${qid(schema)}.lp`],
    );
    expect(r.rows[0]).toEqual({
      rolsuper: false,
      rolcreatedb: false,
      rolcreaterole: false,
      rolreplication: false,
      rolbypassrls: false,
      schema_create: false,
      table_write: false,
      table_select: true,
      memberships: 0,
    });
  });

  it('migrate --inline --json as that role: exit 0, published, verification passed; verify and status agree', async () => {
    const s = await sandbox({ DATABASE_URL: roleUrl });
    const r = await cli(s, ['migrate', '--tables', `${schema}.lp`, '--inline', '--json']);
    const out = expectPublished(r, `${schema}.lp`, 3000);
    expect(await currentPointersUnder(s.lakeDir)).toEqual([join(s.lakeDir, 'bronze', schema, 'lp', '_current.json')]);

    const v = jsonOut<{ ok: boolean; rows: number; sourceChanged: boolean }>(await cli(s, ['verify', `${schema}.lp`, '--json']));
    expect(v).toEqual(expect.objectContaining({ ok: true, rows: 3000, sourceChanged: false }));

    const st = jsonOut<RunJson[]>(await cli(s, ['status', out.runId, '--json']));
    expect(st[0]!.tables).toEqual([expect.objectContaining({ state: 'published', verification: 'passed', rows: 3000 })]);
  });

  it('the chunked path (shared exported snapshot, key ranges) works with the same role', async () => {
    const s = await sandbox({ DATABASE_URL: roleUrl, WORKER_CONCURRENCY: '2' });
    const file = join(s.cwd, 'corrente.yaml');
    await writeFile(file, 'export:\n  chunkMb: 1\n');
    const r = await cli(s, ['migrate', '--tables', `${schema}.lp_big`, '--inline', '--json'], { CORRENTE_CONFIG: file });
    const out = expectPublished(r, `${schema}.lp_big`, 30_000);
    // It really was split (the run status records the number of chunk jobs).
    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      const raw = await redis.hget(`${s.prefix}:run:${out.runId}`, `${schema}.lp_big`);
      expect(raw, 'run status of lp_big').toBeTruthy();
      expect((JSON.parse(raw!) as { chunks?: number }).chunks ?? 0, 'exported in several chunk jobs').toBeGreaterThan(1);
    } finally {
      redis.disconnect();
    }
  });
});

// =======================================================================================
// 2. Read only
// =======================================================================================

/** SQL that modifies the database, as it would appear inside a query string. */
const WRITE_SQL: readonly { name: string; re: RegExp }[] = [
  { name: 'INSERT', re: /\bINSERT\s+INTO\b/i },
  { name: 'UPDATE', re: /\bUPDATE\s+(ONLY\s+)?[\w."$]+(\s+(AS\s+)?\w+)?\s+SET\b/i },
  { name: 'DELETE', re: /\bDELETE\s+FROM\b/i },
  { name: 'MERGE', re: /\bMERGE\s+INTO\b/i },
  { name: 'TRUNCATE', re: /\bTRUNCATE\s+(TABLE\s+)?(ONLY\s+)?["\w]/ },
  {
    name: 'CREATE/DROP/ALTER',
    re: /\b(CREATE|DROP|ALTER)\s+(OR\s+REPLACE\s+)?((GLOBAL|LOCAL)\s+)?((TEMP|TEMPORARY|UNLOGGED)\s+)?(TABLE|SCHEMA|INDEX|VIEW|MATERIALIZED\s+VIEW|FUNCTION|PROCEDURE|SEQUENCE|ROLE|USER|EXTENSION|TYPE|DOMAIN|TRIGGER|DATABASE|PUBLICATION|SUBSCRIPTION|RULE|POLICY|AGGREGATE|OPERATOR|TABLESPACE|SERVER|COLLATION|OWNED|DEFAULT\s+PRIVILEGES)\b/i,
  },
  { name: 'COMMENT ON', re: /\bCOMMENT\s+ON\s+(TABLE|COLUMN|SCHEMA|VIEW|INDEX|FUNCTION)\b/i },
  { name: 'COPY FROM', re: /\bCOPY\s+[\w."]+(\s*\([^)]*\))?\s+FROM\b/i },
  { name: 'SELECT INTO', re: /\bSELECT\b[^;]*?\bINTO\s+(TEMP\s+|TEMPORARY\s+|UNLOGGED\s+|TABLE\s+)*[\w"]+\s+FROM\b/i },
  { name: 'FOR UPDATE/SHARE', re: /\bFOR\s+(NO\s+KEY\s+)?(UPDATE|SHARE)\b/i },
  { name: 'sequence', re: /\b(nextval|setval)\s*\(/i },
  { name: 'maintenance', re: /\b(VACUUM|CLUSTER|REINDEX|REFRESH\s+MATERIALIZED\s+VIEW)\b/ },
];

function writesIn(sql: string): string[] {
  const flat = sql.replace(/\s+/g, ' ');
  return WRITE_SQL.filter((w) => w.re.test(flat)).map((w) => w.name);
}

/** True for files of the Postgres module and files importing it. */
function reachesPostgres(file: string): boolean {
  const rel = relative(REPO_ROOT, file).split(sep).join('/');
  if (rel.startsWith('src/postgres/') || rel.startsWith('src/demo/')) return true;
  return /from\s+'[./]*(src\/)?postgres\/index\.js'/.test(readFileSync(file, 'utf8'));
}

/** Every `.ts` file (not `.d.ts`) under the given repo folders. */
async function productSources(dirs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const d of dirs) {
    const abs = join(REPO_ROOT, d);
    if (!existsSync(abs)) continue;
    out.push(...(await listFilesRecursive(abs)).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')));
  }
  return out.sort();
}

/**
 * The text of every string literal in a TypeScript file (comments excluded): plain and
 * template strings (interpolations become `__expr__`), and `+` concatenations joined.
 */
function stringLiterals(file: string, source: string): { line: number; text: string }[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: { line: number; text: string }[] = [];
  const textOf = (node: ts.Node): string | undefined => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
    if (ts.isTemplateExpression(node)) return node.head.text + node.templateSpans.map((s) => ` __expr__ ${s.literal.text}`).join('');
    if (ts.isParenthesizedExpression(node)) return textOf(node.expression);
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
      const l = textOf(node.left);
      const r = textOf(node.right);
      if (l === undefined && r === undefined) return undefined;
      return `${l ?? ' __expr__ '}${r ?? ' __expr__ '}`;
    }
    return undefined;
  };
  const visit = (node: ts.Node): void => {
    const text = textOf(node);
    if (text !== undefined) out.push({ line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, text });
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

describe('read only', () => {
  let pool: PgPool;

  beforeAll(async () => {
    await db.admin.query(`CREATE TABLE ${qid(schema)}.ro_target (id int PRIMARY KEY, v int NOT NULL)`);
    await db.admin.query(`INSERT INTO ${qid(schema)}.ro_target SELECT g, g FROM generate_series(1, 10) g`);
    await db.admin.query(`CREATE SEQUENCE ${qid(schema)}.ro_seq`);
    // As the superuser: privileges cannot be what stops the writes below, only READ ONLY.
    pool = createPgPool({ url: TEST_DATABASE_URL, connectTimeoutMs: 10_000 });
  });

  afterAll(async () => {
    await pool?.end();
  });

  /** Session kinds corrente opens: a fresh snapshot, an exported one, and one joining it. */
  async function withSessions(fn: (kind: string, open: () => Promise<ReadSession>) => Promise<void>): Promise<void> {
    await fn('fresh snapshot', () => openReadSession(pool, { target: TEST_DATABASE_URL }));
    await fn('exported snapshot', () => openReadSession(pool, { target: TEST_DATABASE_URL, exportSnapshot: true }));
    const holder = await openReadSession(pool, { target: TEST_DATABASE_URL, exportSnapshot: true });
    try {
      expect(holder.snapshotId).toMatch(/^[0-9A-F]+-[0-9A-F]+(-[0-9A-F]+)?$/i);
      await fn('joined snapshot', () => openReadSession(pool, { target: TEST_DATABASE_URL, snapshotId: holder.snapshotId! }));
    } finally {
      await holder.close();
    }
  }

  const t = (): string => `${qid(schema)}.ro_target`;
  const writes = (): [string, string][] => [
    ['INSERT', `INSERT INTO ${t()} VALUES (100, 100)`],
    ['UPDATE', `UPDATE ${t()} SET v = v + 1`],
    ['DELETE', `DELETE FROM ${t()}`],
    ['data-modifying CTE', `WITH d AS (DELETE FROM ${t()} RETURNING *) SELECT count(*) FROM d`],
    ['MERGE', `MERGE INTO ${t()} x USING (SELECT 1 AS id) s ON x.id = s.id WHEN MATCHED THEN DELETE`],
    ['TRUNCATE', `TRUNCATE ${t()}`],
    ['CREATE TABLE', `CREATE TABLE ${qid(schema)}.ro_new (a int)`],
    ['CREATE TEMP TABLE', `CREATE TEMP TABLE ro_tmp (a int)`],
    ['CREATE TABLE AS', `CREATE TABLE ${qid(schema)}.ro_new2 AS SELECT * FROM ${t()}`],
    ['SELECT INTO', `SELECT * INTO ${qid(schema)}.ro_new3 FROM ${t()}`],
    ['CREATE INDEX', `CREATE INDEX ro_idx ON ${t()} (v)`],
    ['CREATE SCHEMA', `CREATE SCHEMA ${qid(`${schema}_ro`)}`],
    ['ALTER TABLE', `ALTER TABLE ${t()} ADD COLUMN w int`],
    ['DROP TABLE', `DROP TABLE ${t()}`],
    ['COMMENT', `COMMENT ON TABLE ${t()} IS 'written'`],
    ['GRANT', `GRANT SELECT ON ${t()} TO PUBLIC`],
    ['nextval', `SELECT nextval('${qid(schema)}.ro_seq')`],
    ['setval', `SELECT setval('${qid(schema)}.ro_seq', 42)`],
    ['SELECT FOR UPDATE', `SELECT * FROM ${t()} FOR UPDATE`],
  ];

  it('openReadSession is REPEATABLE READ, READ ONLY, for every kind of session', async () => {
    await withSessions(async (kind, open) => {
      const s = await open();
      try {
        const r = await s.client.query<{ ro: string; iso: string }>(`SELECT current_setting('transaction_read_only') AS ro, current_setting('transaction_isolation') AS iso`);
        expect(r.rows[0], kind).toEqual({ ro: 'on', iso: 'repeatable read' });
      } finally {
        await s.close();
      }
    });
  });

  it('every kind of write inside a session fails with SQLSTATE 25006 (read-only transaction), and nothing changes', async () => {
    const outcomes: string[] = [];
    await withSessions(async (kind, open) => {
      for (const [name, sql] of writes()) {
        const s = await open();
        try {
          const code = await s.client.query(sql).then(
            () => 'succeeded',
            (err: { code?: string }) => err.code ?? 'no code',
          );
          outcomes.push(`${kind} / ${name}: ${code}`);
        } finally {
          await s.close();
        }
      }
    });
    const expected = outcomes.map((o) => o.replace(/: .*$/, ': 25006'));
    expect(outcomes).toEqual(expected);

    const after = await db.admin.query<{ n: number; s: number; cols: number }>(
      `SELECT count(*)::int AS n, sum(v)::int AS s, (SELECT count(*)::int FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'ro_target') AS cols FROM ${t()}`,
      [schema],
    );
    expect(after.rows[0]).toEqual({ n: 10, s: 55, cols: 2 });
    const seq = await db.admin.query<{ called: boolean }>(`SELECT is_called AS called FROM ${qid(schema)}.ro_seq`);
    expect(seq.rows[0]!.called, 'sequence untouched').toBe(false);
    const created = await db.admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ($1, $2) AND c.relname LIKE 'ro\\_%' AND c.relname NOT IN ('ro_target', 'ro_target_pkey', 'ro_seq')`,
      [schema, `${schema}_ro`],
    );
    expect(created.rows[0]!.n, 'no relation created').toBe(0);
  });

  it('a session cannot switch itself to read-write', async () => {
    for (const sql of ['SET TRANSACTION READ WRITE', 'SET transaction_read_only = off', `SELECT set_config('transaction_read_only', 'off', true)`]) {
      const s = await openReadSession(pool, { target: TEST_DATABASE_URL });
      try {
        const err = await s.client.query(sql).then(
          () => undefined,
          (e: { code?: string }) => e,
        );
        expect(err, `${sql} must be refused`).toBeDefined();
        expect(err!.code, sql).toBe('25001');
      } finally {
        await s.close();
      }
    }
  });

  it('product source: no SQL that writes to Postgres outside the sample seeder and the restore writer', async () => {
    // Only files that can reach Postgres: its module, and files importing it (pg itself
    // is imported nowhere else: the lint rules). SQL elsewhere runs in DuckDB.
    const files = (await productSources(['src', 'workers', 'queues', 'cli', 'scheduler'])).filter((f) => reachesPostgres(f));
    expect(files.length, 'product files scanned').toBeGreaterThan(15);
    // The seeder creates and fills the sample tables; restore (the rollback) writes to the
    // database named by --into, on its own connection, never through an export session.
    const allowed = new Set([join('src', 'demo', 'seed-sample.ts'), join('src', 'postgres', 'restore-sql.ts'), join('src', 'postgres', 'type-definitions.ts')]);
    const hits: string[] = [];
    const allowedHits: string[] = [];
    for (const file of files) {
      const rel = relative(REPO_ROOT, file);
      for (const lit of stringLiterals(file, await readFile(file, 'utf8'))) {
        // read_parquet() exists only in DuckDB: such a statement never reaches Postgres.
        const found = /\bread_parquet\(/.test(lit.text) ? [] : writesIn(lit.text);
        if (found.length === 0) continue;
        const line = `${rel.split(sep).join('/')}:${lit.line} [${found.join(', ')}] ${lit.text.replace(/\s+/g, ' ').slice(0, 120)}`;
        (allowed.has(rel) ? allowedHits : hits).push(line);
      }
    }
    // The scanner does find writes where they are (the seeder creates and fills tables).
    expect(allowedHits.length, 'the scanner sees the seeder\'s DDL/DML').toBeGreaterThan(0);
    expect([...new Set(hits)], 'files with SQL writes against Postgres (only src/demo/seed-sample.ts may have them)').toEqual([]);
  });

  it('product source: Postgres is only reached through openReadSession (no pool.query / pool.connect / new pg.Client elsewhere)', async () => {
    const files = await productSources(['src', 'workers', 'queues', 'cli', 'scheduler']);
    const offenders: string[] = [];
    for (const file of files) {
      const rel = relative(REPO_ROOT, file).split(sep).join('/');
      if (rel.startsWith('src/demo/')) continue; // the seeder writes on purpose
      const text = await readFile(file, 'utf8');
      text.split('\n').forEach((line, i) => {
        if (/^\s*(\/\/|\*)/.test(line)) return;
        // restore-table.ts connects to the --into database (the rollback target), not the source.
        const poolUse = /\b\w*[pP]ool\s*\.\s*(query|connect)\s*\(/.test(line) && rel !== 'src/postgres/read-session.ts' && rel !== 'src/pipeline/restore-table.ts';
        const newClient = /\bnew\s+(pg\s*\.\s*)?(Pool|Client)\s*\(/.test(line) && rel !== 'src/postgres/pool.ts';
        if (poolUse || newClient) offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });

  it('runtime: during a 500k-row chunked export by a role that OWNS the table, corrente backends run only reads and never get a transaction id', async () => {
    const password = 'Own3rPw-rw';
    const role = await createRole('rw', password);
    const big = `${qid(schema)}.ro_big`;
    await db.admin.query(`CREATE TABLE ${big} (id bigint PRIMARY KEY, amount numeric(14,3) NOT NULL, ts timestamptz, note text)`);
    await db.admin.query(
      `INSERT INTO ${big} SELECT g, round((g * 1.37) % 100000, 3), timestamptz '2024-01-01+00' + g * interval '1.000001 second',
              CASE WHEN g % 7 = 0 THEN NULL ELSE 'n' || g END FROM generate_series(1, 500000) g`,
    );
    await db.admin.query(`ANALYZE ${big}`);
    // This role could write (it owns the table and may create in the schema): only READ ONLY stops it.
    await db.admin.query(`GRANT CONNECT ON DATABASE ${qid(testDbName)} TO ${qid(role)}`);
    await db.admin.query(`GRANT USAGE, CREATE ON SCHEMA ${qid(schema)} TO ${qid(role)}`);
    await db.admin.query(`ALTER TABLE ${big} OWNER TO ${qid(role)}`);

    const s = await sandbox({ DATABASE_URL: pgUrl(role, password), WORKER_CONCURRENCY: '2' });
    const file = join(s.cwd, 'corrente.yaml');
    await writeFile(file, 'export:\n  chunkMb: 8\n');
    let done = false;
    const run = cli(s, ['migrate', '--tables', `${schema}.ro_big`, '--inline', '--json'], { CORRENTE_CONFIG: file }, 240_000).finally(() => {
      done = true;
    });

    const queries = new Map<string, number>();
    const withXid: string[] = [];
    let samples = 0;
    let backendsSeen = 0;
    while (!done) {
      const r = await db.admin.query<{ pid: number; xid: string | null; query: string; state: string | null }>(
        `SELECT pid, backend_xid::text AS xid, query, state FROM pg_stat_activity WHERE usename = $1 AND backend_type = 'client backend'`,
        [role],
      );
      samples++;
      backendsSeen = Math.max(backendsSeen, r.rows.length);
      for (const row of r.rows) {
        const q = row.query.replace(/\s+/g, ' ').trim();
        queries.set(q, (queries.get(q) ?? 0) + 1);
        if (row.xid !== null) withXid.push(`pid ${row.pid} xid ${row.xid} (${row.state}): ${q.slice(0, 200)}`);
      }
      await sleep(5);
    }
    const result = await run;
    expectPublished(result, `${schema}.ro_big`, 500_000);

    const report = [...queries].map(([q, n]) => `${n}x ${q.slice(0, 160)}`).join('\n');
    expect(samples, 'pg_stat_activity was sampled during the export').toBeGreaterThan(10);
    expect(backendsSeen, 'corrente backends were observed').toBeGreaterThan(0);
    expect([...queries.keys()].some((q) => /^COPY \(SELECT .*\) TO STDOUT/i.test(q)), `a COPY was observed\n${report}`).toBe(true);
    expect(withXid, 'no corrente backend ever held a transaction id (a write would assign one)').toEqual([]);

    const bad = [...queries.keys()].filter((q) => {
      if (q === '') return false;
      if (/^(BEGIN|START TRANSACTION)\b/i.test(q)) return !/\bREAD ONLY\b/i.test(q);
      if (!/^(SELECT\b|COPY \(SELECT\b.*\) TO STDOUT\b|SET TRANSACTION SNAPSHOT '[0-9A-F-]+'$|ROLLBACK$|COMMIT$|SHOW\b)/i.test(q)) return true;
      return writesIn(q).length > 0;
    });
    expect(bad, `statements other than read-only BEGIN, SELECT, COPY (SELECT) TO STDOUT, SET TRANSACTION SNAPSHOT, ROLLBACK\n${report}`).toEqual([]);

    // And the table is as it was.
    const check = await db.admin.query<{ n: string; s: string }>(`SELECT count(*)::text AS n, sum(amount)::text AS s FROM ${big}`);
    const expected = await db.admin.query<{ s: string }>(`SELECT sum(round((g * 1.37) % 100000, 3))::text AS s FROM generate_series(1, 500000) g`);
    expect(check.rows[0]).toEqual({ n: '500000', s: expected.rows[0]!.s });
  }, 300_000);
});

// =======================================================================================
// 3. Redaction
// =======================================================================================

describe('redaction of credentials', () => {
  const PG_PASSWORD = 'PgPassw0rd-XYZ';
  const S3_SECRET = 'S3cretKey-QWERTY-123';
  const SECRETS = [PG_PASSWORD, S3_SECRET];
  let server: S3TestServer;

  beforeAll(async () => {
    await createMixedTable('red', 2000);
    // NaN cannot be stored as DECIMAL(10,2): this table's export job fails (an error travels to Redis).
    await db.admin.query(`CREATE TABLE ${qid(schema)}.red_nan (id int PRIMARY KEY, x numeric(10,2))`);
    await db.admin.query(`INSERT INTO ${qid(schema)}.red_nan VALUES (1, 1.5), (2, 'NaN')`);
    server = await startS3Server();
    s3 = server;
  });

  function expectNoSecret(where: string, text: string, secrets: readonly string[] = SECRETS): void {
    for (const secret of secrets) {
      const i = text.indexOf(secret);
      expect(i, `${secret} appears in ${where}: …${text.slice(Math.max(0, i - 150), i + secret.length + 50)}…`).toBe(-1);
    }
  }

  /** Every object in every bucket of the s3rver: key and body. */
  async function allObjects(): Promise<{ key: string; body: Buffer }[]> {
    const out: { key: string; body: Buffer }[] = [];
    for (const { bucket, key } of await server.listAll()) {
      const got = await server.admin().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      out.push({ key: `${bucket}/${key}`, body: Buffer.from(await got.Body!.transformToByteArray()) });
    }
    return out;
  }

  it('migrate/status/verify/gc with LOG_LEVEL=debug, S3 storage: no secret in outputs, Redis, or published objects', async () => {
    const s = await sandbox({
      DATABASE_URL: pgUrl('postgres', PG_PASSWORD),
      MINIO_ENDPOINT: server.endpoint,
      MINIO_ACCESS_KEY: server.accessKey,
      MINIO_SECRET_KEY: S3_SECRET,
      REDIS_URL: TEST_REDIS_URL,
      LOG_LEVEL: 'debug',
    });
    const results: [string, CliResult][] = [];
    const run = async (args: string[]): Promise<CliResult> => {
      const r = await cli(s, args);
      results.push([args.join(' '), r]);
      return r;
    };

    const migrated = expectPublished(await run(['migrate', '--tables', `${schema}.red`, '--inline', '--json']), `${schema}.red`, 2000);
    expect(migrated.tables[0]!.files.length).toBeGreaterThan(0);
    expect(migrated.tables[0]!.files[0]).toMatch(/^s3:\/\//);

    const failed = jsonOut<RunJson>(await run(['migrate', '--tables', `${schema}.red_nan`, '--inline', '--json']), 1);
    expect(failed.tables).toEqual([expect.objectContaining({ state: 'failed', error: expect.objectContaining({ code: 'UNSUPPORTED_VALUE' }) })]);

    jsonOut(await run(['status', '--json']));
    jsonOut(await run(['status', migrated.runId, '--json']));
    expect((await run(['status'])).code).toBe(0);
    expect(jsonOut<{ ok: boolean }>(await run(['verify', `${schema}.red`, '--json'])).ok).toBe(true);
    jsonOut(await run(['gc', '--dry-run', '--json']));
    // Enqueue only: the job payload stays in Redis, waiting.
    jsonOut(await run(['migrate', '--tables', `${schema}.red`, '--json']));

    // The debug level really was on (otherwise "no secret in the logs" proves little).
    const allStderr = results.map(([, r]) => r.stderr).join('\n');
    expect(allStderr, 'debug-level pino lines were written').toMatch(/"level":20\b/);

    for (const [cmd, r] of results) {
      expectNoSecret(`stdout of \`${cmd}\``, r.stdout);
      expectNoSecret(`stderr of \`${cmd}\``, r.stderr);
    }

    // Every Redis key under the prefix, every type.
    const entries = await dumpRedisPrefix(s.prefix);
    const types = new Set(entries.map((e) => e.type));
    for (const t of ['hash', 'zset', 'stream', 'list']) expect([...types], `a ${t} key was read`).toContain(t);
    expect(redisEntriesContaining(entries, schema).length, 'the dump does hold the run (table names)').toBeGreaterThan(0);
    for (const secret of SECRETS) expect(redisEntriesContaining(entries, secret), `Redis keys holding ${secret}`).toEqual([]);

    // The published objects: manifests, pointers, staged manifests, data files.
    const objects = await allObjects();
    expect(objects.filter((o) => o.key.endsWith('/_manifest.json')).length, 'a _manifest.json was published').toBeGreaterThan(0);
    expect(objects.filter((o) => o.key.endsWith('/_current.json')).length, 'a _current.json was published').toBeGreaterThan(0);
    for (const o of objects) expectNoSecret(`object ${o.key}`, o.body.toString('latin1'));
    const manifest = JSON.parse(objects.find((o) => o.key.endsWith('/_manifest.json'))!.body.toString('utf8')) as { source: { database: string } };
    expect(manifest.source.database).not.toMatch(/@|postgres:/);
    // Everything s3rver keeps on disk (object metadata included), and every request line.
    for (const f of await listFilesRecursive(server.directory)) expectNoSecret(`s3rver file ${f}`, (await readFile(f)).toString('latin1'));
    expectNoSecret('S3 request lines', server.requests.join('\n'));
    // The sandbox's local lake stays unused with S3 storage.
    expect(await listFilesRecursive(s.lakeDir)).toEqual([]);
  });

  describe('failing commands do not echo the password', () => {
    const cases: [string, CliEnv, number | 'nonzero'][] = [
      ['Postgres unreachable', { DATABASE_URL: 'postgres://u:PgPassw0rd-XYZ@127.0.0.1:1/test' }, 3],
      ['Postgres host unknown', { DATABASE_URL: 'postgres://u:PgPassw0rd-XYZ@no-such-host.invalid:5432/test' }, 3],
      ['password holding @', { DATABASE_URL: 'postgres://u:Pg@PgPassw0rd-XYZ@127.0.0.1:1/test' }, 3],
      ['database missing', { DATABASE_URL: pgUrl('postgres', 'PgPassw0rd-XYZ').replace(/\/[^/?]*(\?|$)/, '/corrente_no_such_db$1') }, 2],
      ['role missing', { DATABASE_URL: pgUrl('corrente_no_such_role', 'PgPassw0rd-XYZ') }, 2],
      ['malformed port', { DATABASE_URL: 'postgres://u:PgPassw0rd-XYZ@127.0.0.1:notaport/test' }, 'nonzero'],
      ['S3 unreachable', { MINIO_ENDPOINT: 'http://127.0.0.1:1', MINIO_ACCESS_KEY: 'S3RVER', MINIO_SECRET_KEY: 'S3cretKey-QWERTY-123' }, 3],
      ['S3 endpoint holding credentials', { MINIO_ENDPOINT: 'http://S3RVER:S3cretKey-QWERTY-123@127.0.0.1:1', MINIO_ACCESS_KEY: 'S3RVER', MINIO_SECRET_KEY: 'S3cretKey-QWERTY-123' }, 3],
      ['Redis unreachable, with a password', { REDIS_URL: 'redis://:PgPassw0rd-XYZ@127.0.0.1:1' }, 3],
    ];
    for (const [name, env, code] of cases) {
      it(`${name}: fails cleanly, no secret on stdout/stderr (LOG_LEVEL=debug)`, async () => {
        const s = await sandbox({ LOG_LEVEL: 'debug', ...env });
        const r = await cli(s, ['migrate', '--tables', `${schema}.red`, '--inline', '--json'], {}, 60_000);
        if (code === 'nonzero') expect(r.code, describeResult(r)).not.toBe(0);
        else expectCleanFailure(r, code);
        expectNoSecret('stdout', r.stdout);
        expectNoSecret('stderr', r.stderr);
      });
    }

    // describeTarget() once parsed a scheme-less `user:password@host/db` as a URL with
    // scheme `user:` and echoed the password.
    it('scheme-less DATABASE_URL user:password@host/db: no password in the error', async () => {
      const s = await sandbox({ LOG_LEVEL: 'debug', DATABASE_URL: 'u:PgPassw0rd-XYZ@127.0.0.1/test' });
      const r = await cli(s, ['migrate', '--tables', `${schema}.red`, '--inline', '--json'], {}, 60_000);
      expect(r.code, describeResult(r)).not.toBe(0);
      expectNoSecret('stderr', r.stderr);
      expectNoSecret('stdout', r.stdout);
    });

    // A libpq keyword/value conninfo is not a URL; its password must not be echoed either.
    it('keyword/value DATABASE_URL (host=... password=...): no password in the error', async () => {
      const s = await sandbox({ LOG_LEVEL: 'debug', DATABASE_URL: 'host=127.0.0.1 port=1 user=u password=PgPassw0rd-XYZ dbname=test' });
      const r = await cli(s, ['migrate', '--tables', `${schema}.red`, '--inline', '--json'], {}, 60_000);
      expect(r.code, describeResult(r)).not.toBe(0);
      expectNoSecret('stderr', r.stderr);
      expectNoSecret('stdout', r.stdout);
    });
  });
});

// =======================================================================================
// 4. SQL in names
// =======================================================================================

describe('SQL in table names is never executed', () => {
  /** The search_path points at the test schema, so an injected unqualified `DROP TABLE sentinel` would hit. */
  let env: CliEnv;

  beforeAll(async () => {
    await db.admin.query(`CREATE TABLE ${qid(schema)}.sentinel (id int)`);
    await db.admin.query(`INSERT INTO ${qid(schema)}.sentinel VALUES (1)`);
    env = { DATABASE_URL: pgUrl(new URL(TEST_DATABASE_URL).username || 'postgres', undefined, { options: `-c search_path=${schema}` }) };
  });

  async function expectSentinel(): Promise<void> {
    expect(await tableExists('sentinel'), 'the sentinel table survives').toBe(true);
    const r = await db.admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${qid(schema)}.sentinel`);
    expect(r.rows[0]!.n, 'the sentinel keeps its row').toBe(1);
  }

  it('the search_path trick is live: an unqualified name resolves to the test schema', async () => {
    const pool = createPgPool({ url: env.DATABASE_URL!, connectTimeoutMs: 10_000 });
    try {
      const r = await pool.query<{ ns: string | null }>(`SELECT (SELECT nspname FROM pg_namespace WHERE oid = c.relnamespace) AS ns FROM pg_class c WHERE c.oid = to_regclass('sentinel')`);
      expect(r.rows).toEqual([{ ns: schema }]);
    } finally {
      await pool.end();
    }
  });

  it(`--tables 'public.x; DROP TABLE <schema>.sentinel' (and variants): exit 2, nothing queued, sentinel intact`, async () => {
    const inputs = [
      `public.x; DROP TABLE ${schema}.sentinel`,
      `${schema}.x; DROP TABLE sentinel`,
      `${schema}.sentinel; DROP TABLE sentinel; --`,
      `${schema}."x""; DROP TABLE sentinel; --"`,
      `${schema}.x'; DROP TABLE sentinel; --`,
      `"${schema}; DROP TABLE sentinel; --".x`,
    ];
    for (const input of inputs) {
      const s = await sandbox(env);
      const r = await cli(s, ['migrate', '--tables', input, '--inline', '--json'], {}, 60_000);
      expectCleanFailure(r, 2, [/not found|Invalid table name/i]);
      await expectSentinel();
      expect(await dumpRedisPrefix(s.prefix), `nothing queued for ${input}`).toEqual([]);
      expect(await currentPointersUnder(s.lakeDir)).toEqual([]);
    }
  });

  it('--run-id holding SQL is rejected: exit 2, sentinel intact', async () => {
    const s = await sandbox(env);
    const r = await cli(s, ['migrate', '--tables', `${schema}.sentinel`, '--run-id', `x'; DROP TABLE sentinel; --`, '--inline', '--json'], {}, 60_000);
    expectCleanFailure(r, 2, ['run id']);
    await expectSentinel();
  });

  it('config tables: ["<schema>.\\"t; DROP TABLE <schema>.sentinel; --\\""] (no such table): exit 2, sentinel intact', async () => {
    const s = await sandbox(env);
    const file = join(s.cwd, 'corrente.yaml');
    await writeFile(file, `tables:\n  - ${JSON.stringify(`${schema}."t; DROP TABLE ${schema}.sentinel; --"`)}\n`);
    const r = await cli(s, ['migrate', '--inline', '--json'], { CORRENTE_CONFIG: file }, 60_000);
    expectCleanFailure(r, 2, [/not found/i]);
    await expectSentinel();
    expect(await dumpRedisPrefix(s.prefix)).toEqual([]);
  });

  it('a table really named `t; DROP TABLE sentinel; --` exports, verifies and publishes; sentinel intact', async () => {
    const name = 't; DROP TABLE sentinel; --';
    await db.admin.query(`CREATE TABLE ${qid(schema)}.${qid(name)} (id int PRIMARY KEY, ${qid(`v'); DROP TABLE sentinel; --`)} text)`);
    await db.admin.query(`INSERT INTO ${qid(schema)}.${qid(name)} SELECT g, $$'); DROP TABLE sentinel; --$$ || g FROM generate_series(1, 500) g`);
    const s = await sandbox(env);
    const ref = `${schema}.${qid(name)}`;
    const r = await cli(s, ['migrate', '--tables', ref, '--inline', '--json']);
    expectPublished(r, ref, 500);
    await expectSentinel();
    expect(await currentPointersUnder(s.lakeDir)).toEqual([join(s.lakeDir, 'bronze', schema, name, '_current.json')]);
    const v = jsonOut<{ ok: boolean; rows: number }>(await cli(s, ['verify', ref, '--json']));
    expect(v).toEqual(expect.objectContaining({ ok: true, rows: 500 }));
    await expectSentinel();
  });

  it('a table named with a quote, and injection in its key column, exports chunked (key ranges) from YAML config; sentinel intact', async () => {
    const name = `t'; DROP TABLE sentinel; --`;
    const key = `k"); DROP TABLE sentinel; --`;
    await db.admin.query(`CREATE TABLE ${qid(schema)}.${qid(name)} (${qid(key)} int PRIMARY KEY, ${qid(`a"b'c; DROP TABLE sentinel`)} text)`);
    await db.admin.query(`INSERT INTO ${qid(schema)}.${qid(name)} SELECT g, $$x'"); DROP TABLE sentinel; --$$ || repeat('p', 80) FROM generate_series(1, 20000) g`);
    await db.admin.query(`ANALYZE ${qid(schema)}.${qid(name)}`);
    const s = await sandbox({ ...env, WORKER_CONCURRENCY: '2' });
    const ref = `${schema}.${qid(name)}`;
    const file = join(s.cwd, 'corrente.yaml');
    await writeFile(file, `export:\n  chunkMb: 1\ntables:\n  - ${JSON.stringify(ref)}\n`);
    const r = await cli(s, ['migrate', '--inline', '--json'], { CORRENTE_CONFIG: file });
    const out = expectPublished(r, ref, 20_000);
    await expectSentinel();
    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      const raw = await redis.hget(`${s.prefix}:run:${out.runId}`, ref);
      expect((JSON.parse(raw ?? '{}') as { chunks?: number }).chunks ?? 0, 'exported in several chunk jobs').toBeGreaterThan(1);
    } finally {
      redis.disconnect();
    }
    const v = jsonOut<{ ok: boolean; rows: number }>(await cli(s, ['verify', ref, '--json'], { CORRENTE_CONFIG: file }));
    expect(v).toEqual(expect.objectContaining({ ok: true, rows: 20_000 }));
    await expectSentinel();
  });
});
