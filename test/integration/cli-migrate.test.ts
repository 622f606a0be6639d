/**
 * The `corrente` CLI end to end, as a user runs it (`node dist/cli/main.js ...` in a child
 * process): migrate, status and verify against a local lake; tampering detection; empty
 * and key-less tables; awkward identifiers; and idempotent enqueueing with a separate
 * worker process.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readdir, rename } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliSandbox, currentPointersUnder, runCli, spawnCli, TEST_REDIS_URL, type CliResult, type CliSandbox, type RunJson, type SpawnedCli, type TableJson } from '../helpers/cli.js';
import { createTestSchema, type TestSchema } from '../helpers/pg.js';

interface VerifyJson {
  table: string;
  runId: string;
  rows: number;
  ok: boolean;
  integrity: string[];
  sourceChanged: boolean;
  drift: string[];
}
interface EnqueueJson {
  runId: string;
  queued: { table: string; added: boolean }[];
}

function describeResult(r: CliResult): string {
  return `exit ${r.code} (signal ${r.signal}) after ${r.ms} ms\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
}

/** Asserts a zero exit without a stack trace, and parses stdout as JSON. */
function okJson<T>(r: CliResult): T {
  expect(r.code, describeResult(r)).toBe(0);
  expect(r.stderr, 'no stack trace').not.toMatch(/^\s{4}at /m);
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON\n${describeResult(r)}`);
  }
}

// ---------------------------------------------------------------------------------------
// DuckDB, straight from @duckdb/node-api: an independent reader of the published files.

async function withDuck<T>(fn: (q: (sql: string) => Promise<Record<string, unknown>[]>) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run(`SET TimeZone = 'UTC'`);
    return await fn(async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[]);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const qid = (s: string): string => `"${s.replace(/"/g, '""')}"`;
/**
 * One published file, read as a plain Parquet file. Published files live under
 * `run-<id>/`, which DuckDB would otherwise add as a hive-partition column.
 */
const parquet = (file: string): string => `read_parquet(${lit(file)}, hive_partitioning = false)`;

async function describeParquet(file: string): Promise<{ name: string; type: string }[]> {
  return withDuck(async (q) => (await q(`DESCRIBE SELECT * FROM ${parquet(file)}`)).map((r) => ({ name: String(r.column_name), type: String(r.column_type) })));
}

function sha256sum(file: string): string {
  return execFileSync('sha256sum', ['--', file], { encoding: 'utf8' }).split(/\s+/)[0]!;
}

// ---------------------------------------------------------------------------------------

let db: TestSchema;
let schema: string;
const sandboxes: CliSandbox[] = [];
const extraSchemas: string[] = [];

async function sandbox(): Promise<CliSandbox> {
  const s = await createCliSandbox();
  sandboxes.push(s);
  return s;
}

/** `<schema>.<table>` with a numeric(12,2), a timestamptz and a text with NULLs. */
async function createAmountsTable(name: string, rows: number): Promise<void> {
  await db.admin.query(`CREATE TABLE ${qid(schema)}.${qid(name)} (id int PRIMARY KEY, amount numeric(12,2) NOT NULL, ts timestamptz, note text)`);
  await db.admin.query(
    `INSERT INTO ${qid(schema)}.${qid(name)}
     SELECT g, round((g * 1.37) % 100000, 2), timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute 1.000001 second',
            CASE WHEN g % 7 = 0 THEN NULL ELSE 'note ' || g END
     FROM generate_series(1, $1::int) g`,
    [rows],
  );
  await db.admin.query(`ANALYZE ${qid(schema)}.${qid(name)}`);
}

beforeAll(async () => {
  db = await createTestSchema('cli');
  schema = db.schema;
  await createAmountsTable('t', 5000);
  await createAmountsTable('tamper', 5000);
  await createAmountsTable('idem', 2000);
  await db.admin.query(`CREATE TABLE ${qid(schema)}.empty (id int PRIMARY KEY, amount numeric(12,2), ts timestamptz, note text)`);
  // No primary key, and duplicate rows: 1000 distinct rows, 500 of them twice.
  await db.admin.query(`CREATE TABLE ${qid(schema)}.nopk (k int, label text, amount numeric(12,2))`);
  await db.admin.query(`INSERT INTO ${qid(schema)}.nopk SELECT g, 'label ' || (g % 10), g / 4.0 FROM generate_series(1, 1000) g`);
  await db.admin.query(`INSERT INTO ${qid(schema)}.nopk SELECT g, 'label ' || (g % 10), g / 4.0 FROM generate_series(1, 500) g`);
  // A column named like the run-<id>/ directory level of the lake layout.
  await db.admin.query(`CREATE TABLE ${qid(schema)}.has_run (id int PRIMARY KEY, run text)`);
  await db.admin.query(`INSERT INTO ${qid(schema)}.has_run SELECT g, 'value ' || g FROM generate_series(1, 100) g`);
});

afterAll(async () => {
  await Promise.all(sandboxes.map((s) => s.cleanup()));
  if (db) {
    for (const s of extraSchemas) await db.admin.query(`DROP SCHEMA IF EXISTS ${qid(s)} CASCADE`);
    await db.drop();
  }
});

describe('corrente migrate --inline --json: the happy path', () => {
  it('exports, verifies and publishes a table; status and verify agree; verify then notices a source change', async () => {
    const s = await sandbox();
    const ref = `${schema}.t`;

    const run = okJson<RunJson>(await runCli(['migrate', '--tables', ref, '--inline', '--json'], s.env, { cwd: s.cwd }));
    expect(run.ok).toBe(true);
    expect(run.runId).toMatch(/\S/);
    expect(run.tables).toHaveLength(1);
    const t = run.tables[0]!;
    expect(t).toMatchObject({ table: ref, state: 'published', rows: 5000, verification: 'passed' });
    expect(t.bytes).toBeGreaterThan(0);
    // Where the time went: every stage measured, none longer than the export itself.
    const stages = t.stages!;
    expect(Object.keys(stages).sort()).toEqual(['checksumWait', 'convert', 'read', 'readPaused', 'upload']);
    expect(stages.read).toBeGreaterThan(0);
    expect(stages.convert).toBeGreaterThan(0);
    expect(stages.upload).toBeGreaterThan(0);
    for (const v of Object.values(stages)) expect(v).toBeGreaterThanOrEqual(0);
    expect(stages.read + stages.readPaused).toBeLessThanOrEqual(t.exportSeconds!);

    // Files: real paths inside LAKE_DIR, sizes adding up to `bytes`, checksums as sha256sum sees them.
    expect(t.files.length).toBeGreaterThanOrEqual(1);
    expect(t.checksums).toHaveLength(t.files.length);
    let size = 0;
    t.files.forEach((file, i) => {
      expect(file.startsWith(s.lakeDir + sep), `${file} is under ${s.lakeDir}`).toBe(true);
      expect(existsSync(file), `${file} exists`).toBe(true);
      expect(file).toMatch(/\.parquet$/);
      size += statSync(file).size;
      expect(t.checksums[i]).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(t.checksums[i]).toBe(`sha256:${sha256sum(file)}`);
    });
    expect(size).toBe(t.bytes);
    // Temp disk: one conversion's files, all on disk at once before their upload (the pipe takes none).
    expect(t.workDiskPeakBytes).toBe(size);

    // Published: exactly one pointer, for this table, naming this run.
    const pointers = await currentPointersUnder(s.lakeDir);
    expect(pointers).toEqual([join(s.lakeDir, 'bronze', schema, 't', '_current.json')]);
    expect(t.files.every((f) => f.includes(`${sep}run-${run.runId}${sep}`))).toBe(true);

    // The files hold the table's data (an independent reader, not corrente's verifier).
    const expected = (await db.admin.query(`SELECT count(*)::int AS n, count(note)::int AS notes, sum(amount)::text AS total FROM ${qid(schema)}.t`)).rows[0];
    const got = await withDuck(async (q) => (await q(`SELECT count(*)::INT AS n, count(note)::INT AS notes, sum(amount)::VARCHAR AS total FROM read_parquet([${t.files.map(lit).join(', ')}], hive_partitioning = false)`))[0]);
    expect(got).toEqual(expected);

    // status <runId> --json shows the same run, published; verify agrees (independent commands, run side by side).
    const [statusResult, verifyResult] = await Promise.all([
      runCli(['status', run.runId, '--json'], s.env, { cwd: s.cwd }),
      runCli(['verify', ref, '--json'], s.env, { cwd: s.cwd }),
    ]);
    const status = okJson<(RunJson & { createdAt: string })[]>(statusResult);
    expect(status).toHaveLength(1);
    expect(status[0]!.runId).toBe(run.runId);
    expect(status[0]!.ok).toBe(true);
    expect(status[0]!.tables).toHaveLength(1);
    expect(status[0]!.tables[0]).toMatchObject({ table: ref, state: 'published', rows: 5000, verification: 'passed', files: t.files, checksums: t.checksums });

    // verify: the files match the snapshot, and the source has not moved.
    const v1 = okJson<VerifyJson>(verifyResult);
    expect(v1).toMatchObject({ table: ref, runId: run.runId, rows: 5000, ok: true, integrity: [], sourceChanged: false });

    // One row changes in Postgres: the files still match their snapshot, but the source moved on.
    await db.admin.query(`UPDATE ${qid(schema)}.t SET note = 'changed after export' WHERE id = 10`);
    const v2 = okJson<VerifyJson>(await runCli(['verify', ref, '--json'], s.env, { cwd: s.cwd }));
    expect(v2).toMatchObject({ table: ref, runId: run.runId, ok: true, integrity: [], sourceChanged: true });
    expect(v2.drift.length).toBeGreaterThan(0);
    expect(v2.drift.join('\n')).toContain('note');
  });
});

describe('corrente verify: tampering', () => {
  it('exits 1 and names the column when one published numeric value changed in its last digit', async () => {
    const s = await sandbox();
    const ref = `${schema}.tamper`;
    const run = okJson<RunJson>(await runCli(['migrate', '--tables', ref, '--inline', '--json'], s.env, { cwd: s.cwd }));
    expect(run.tables[0]).toMatchObject({ state: 'published', rows: 5000 });
    const files = run.tables[0]!.files;

    // Find the file holding id 42 and rewrite it with amount + 0.01 for that row only,
    // keeping the column type (DECIMAL(12,2)) and every other value.
    const file = await withDuck(async (q) => {
      for (const f of files) {
        const [row] = await q(`SELECT count(*)::INT AS n FROM ${parquet(f)} WHERE id = 42`);
        if (row?.n === 1) return f;
      }
      throw new Error('no published file holds id 42');
    });
    const tampered = `${file}.tampered`;
    await withDuck(async (q) => {
      await q(`COPY (SELECT * REPLACE (CASE WHEN id = 42 THEN (amount + 0.01)::DECIMAL(12,2) ELSE amount END AS amount) FROM ${parquet(file)}) TO ${lit(tampered)} (FORMAT parquet)`);
      // Exactly one value differs, and the shape is unchanged.
      const [diff] = await q(`SELECT count(*)::INT AS n FROM ${parquet(file)} a JOIN ${parquet(tampered)} b USING (id) WHERE a.amount <> b.amount`);
      expect(diff?.n).toBe(1);
      expect(await describeParquet(tampered)).toEqual(await describeParquet(file));
    });
    await rename(tampered, file);

    const [rJson, rHuman] = await Promise.all([runCli(['verify', ref, '--json'], s.env, { cwd: s.cwd }), runCli(['verify', ref], s.env, { cwd: s.cwd })]);
    expect(rJson.code, describeResult(rJson)).toBe(1);
    expect(rJson.stderr).not.toMatch(/^\s{4}at /m);
    const v = JSON.parse(rJson.stdout) as VerifyJson;
    expect(v.ok).toBe(false);
    expect(v.integrity.length).toBeGreaterThan(0);
    expect(v.integrity.join('\n')).toContain('"amount"');
    // Only the tampered column is reported.
    for (const line of v.integrity) expect(line).toContain('amount');

    expect(rHuman.code, describeResult(rHuman)).toBe(1);
    expect(rHuman.stdout).toMatch(/do not match/i);
    expect(rHuman.stdout).toContain('amount');
  });
});

describe('corrente migrate: empty tables and tables without a primary key', () => {
  it('exports an empty table as one readable Parquet file with its columns, and a key-less table with every row', async () => {
    const s = await sandbox();
    const empty = `${schema}.empty`;
    const nopk = `${schema}.nopk`;
    const run = okJson<RunJson>(await runCli(['migrate', '--tables', `${empty},${nopk}`, '--inline', '--json'], s.env, { cwd: s.cwd }));
    expect(run.ok).toBe(true);
    const byName = new Map(run.tables.map((t) => [t.table, t]));
    expect([...byName.keys()].sort()).toEqual([empty, nopk].sort());

    const e = byName.get(empty)!;
    expect(e).toMatchObject({ state: 'published', rows: 0, verification: 'passed' });
    expect(e.files).toHaveLength(1);
    expect(existsSync(e.files[0]!)).toBe(true);
    expect(e.checksums[0]).toBe(`sha256:${sha256sum(e.files[0]!)}`);
    expect(await describeParquet(e.files[0]!)).toEqual([
      { name: 'id', type: 'INTEGER' },
      { name: 'amount', type: 'DECIMAL(12,2)' },
      { name: 'ts', type: 'TIMESTAMP WITH TIME ZONE' },
      { name: 'note', type: 'VARCHAR' },
    ]);
    expect(await withDuck(async (q) => (await q(`SELECT count(*)::INT AS n FROM ${parquet(e.files[0]!)}`))[0])).toEqual({ n: 0 });

    const n = byName.get(nopk)!;
    expect(n).toMatchObject({ state: 'published', rows: 1500, verification: 'passed' });
    const counts = await withDuck(async (q) =>
      (await q(`SELECT count(*)::INT AS n, count(DISTINCT k)::INT AS keys, sum(amount)::VARCHAR AS total FROM read_parquet([${n.files.map(lit).join(', ')}], hive_partitioning = false)`))[0],
    );
    const pg = (await db.admin.query(`SELECT count(*)::int AS n, count(DISTINCT k)::int AS keys, sum(amount)::text AS total FROM ${qid(schema)}.nopk`)).rows[0];
    expect(counts).toEqual(pg);
    expect(counts).toMatchObject({ n: 1500, keys: 1000 });

    expect((await currentPointersUnder(s.lakeDir)).sort()).toEqual(
      [join(s.lakeDir, 'bronze', schema, 'empty', '_current.json'), join(s.lakeDir, 'bronze', schema, 'nopk', '_current.json')].sort(),
    );

    const verified = await Promise.all([empty, nopk].map((ref) => runCli(['verify', ref, '--json'], s.env, { cwd: s.cwd })));
    verified.forEach((r, i) => expect(okJson<VerifyJson>(r)).toMatchObject({ table: [empty, nopk][i], ok: true, sourceChanged: false }));
  });
});

describe('corrente migrate: array columns with the default configuration', () => {
  it('exports 2-D arrays as nested lists, and reports a column that became text as a schema change in --json', async () => {
    const s = await sandbox();
    await db.admin.query(`CREATE TABLE ${qid(schema)}.arrays (id int PRIMARY KEY, grid int4[], tags text[])`);
    await db.admin.query(`INSERT INTO ${qid(schema)}.arrays VALUES (1, '{{1,2},{3,4}}', '{a,b}'), (2, NULL, '{}')`);
    const ref = `${schema}.arrays`;
    const first = okJson<RunJson>(await runCli(['migrate', '--tables', ref, '--inline', '--json'], s.env, { cwd: s.cwd }));
    expect(first.tables[0]).toMatchObject({ state: 'published', verification: 'passed' });
    expect((first.tables[0] as TableJson & { schemaChanges?: unknown }).schemaChanges).toBeUndefined();
    expect(await describeParquet(first.tables[0]!.files[0]!)).toEqual([
      { name: 'id', type: 'INTEGER' },
      { name: 'grid', type: 'INTEGER[][]' },
      { name: 'tags', type: 'VARCHAR[]' },
    ]);
    // A value with explicit bounds: the column cannot stay a list, nothing fails, and --json says so.
    await db.admin.query(`INSERT INTO ${qid(schema)}.arrays VALUES (3, '[0:0][1:1]={{5}}', '{c}')`);
    const second = okJson<RunJson>(await runCli(['migrate', '--tables', ref, '--inline', '--json'], s.env, { cwd: s.cwd }));
    expect(second.tables[0]).toMatchObject({ state: 'published', verification: 'passed' });
    expect((second.tables[0] as TableJson & { schemaChanges?: unknown }).schemaChanges).toEqual([
      { column: 'grid', change: 'type', from: 'LIST<LIST<INT32>>', to: 'TEXT', note: expect.stringMatching(/lower bound is not 1/) },
    ]);
  });
});

describe('corrente migrate: awkward identifiers', () => {
  const weirdSchema = `Weird "Schema" ${randomBytes(3).toString('hex')}`;
  const weirdTable = 'select.from';
  const columns = ['Order', 'group', 'a b', 'ünï'];
  /** The CLI form: both parts double-quoted, inner quotes doubled. */
  const ref = `${qid(weirdSchema)}.${qid(weirdTable)}`;

  beforeAll(async () => {
    extraSchemas.push(weirdSchema);
    await db.admin.query(`CREATE SCHEMA ${qid(weirdSchema)}`);
    await db.admin.query(`CREATE TABLE ${qid(weirdSchema)}.${qid(weirdTable)} ("Order" int PRIMARY KEY, "group" text, "a b" numeric(10,2), "ünï" text)`);
    await db.admin.query(`INSERT INTO ${qid(weirdSchema)}.${qid(weirdTable)} SELECT g, 'g' || (g % 3), g * 1.5, 'ünï ' || g FROM generate_series(1, 300) g`);
  });

  it('migrates a quoted schema.table with spaces, quotes, dots, upper case and reserved words, keeping column names exactly', async () => {
    const s = await sandbox();
    const run = okJson<RunJson>(await runCli(['migrate', '--tables', ref, '--inline', '--json'], s.env, { cwd: s.cwd }));
    expect(run.ok).toBe(true);
    expect(run.tables).toHaveLength(1);
    const t = run.tables[0]!;
    expect(t).toMatchObject({ table: ref, state: 'published', rows: 300, verification: 'passed' });
    for (const f of t.files) {
      expect(f.startsWith(join(s.lakeDir, 'bronze', weirdSchema, weirdTable) + sep), f).toBe(true);
      expect(existsSync(f)).toBe(true);
    }
    expect(await currentPointersUnder(s.lakeDir)).toEqual([join(s.lakeDir, 'bronze', weirdSchema, weirdTable, '_current.json')]);

    expect((await describeParquet(t.files[0]!)).map((c) => c.name)).toEqual(columns);
    const row = await withDuck(async (q) => (await q(`SELECT "group", "a b"::VARCHAR AS ab, "ünï" AS u FROM ${parquet(t.files[0]!)} WHERE "Order" = 7`))[0]);
    expect(row).toEqual({ group: 'g1', ab: '10.50', u: 'ünï 7' });

    const v = okJson<VerifyJson>(await runCli(['verify', ref, '--json'], s.env, { cwd: s.cwd }));
    expect(v).toMatchObject({ table: ref, ok: true, sourceChanged: false, rows: 300 });
  });

  // Run directories used to be named `run=<id>`, which DuckDB read as a hive partition and
  // which replaced a real column named `run`; they are `run-<id>` now, and corrente reads
  // with hive partitioning off.
  it('migrates a table with a column named "run"', async () => {
    const s = await sandbox();
    const r = await runCli(['migrate', '--tables', `${schema}.has_run`, '--inline', '--json'], s.env, { cwd: s.cwd });
    const run = JSON.parse(r.stdout) as RunJson;
    expect(run.tables[0], describeResult(r)).toMatchObject({ state: 'published', rows: 100, verification: 'passed' });
    expect(r.code).toBe(0);
  });
});

describe('corrente migrate: idempotent enqueueing with a separate worker', () => {
  let s: CliSandbox;
  let ref: string;
  let second: CliResult;
  let secondJson: CliResult;
  let otherRunId: string;
  let worker: SpawnedCli | undefined;

  beforeAll(async () => {
    s = await sandbox();
    ref = `${schema}.idem`;
  });

  afterAll(async () => {
    // Only if a test failed before stopping it.
    if (worker && worker.child.exitCode === null && worker.child.signalCode === null) {
      worker.child.kill('SIGKILL');
      await worker.exited;
    }
  });

  it('queues the table once for run fixed1', async () => {
    const r = await runCli(['migrate', '--run-id', 'fixed1', '--tables', ref], s.env, { cwd: s.cwd });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toMatch(/run fixed1: 1 table\(s\) queued/);
    expect(r.stdout).not.toMatch(/already in progress/);
  });

  it('adds no second job when the same run is enqueued again', async () => {
    // The same run enqueued again, human and --json (no worker is running).
    [second, secondJson] = await Promise.all([
      runCli(['migrate', '--run-id', 'fixed1', '--tables', ref], s.env, { cwd: s.cwd }),
      runCli(['migrate', '--run-id', 'fixed1', '--tables', ref, '--json'], s.env, { cwd: s.cwd }),
    ]);
    expect(second.code, describeResult(second)).toBe(0);
    expect(secondJson.code, describeResult(secondJson)).toBe(0);
    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue('export', { connection: redis, prefix: s.prefix });
    try {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed', 'waiting-children');
      expect(Object.values(counts).reduce((a, b) => a + b, 0), JSON.stringify(counts)).toBe(1);
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });

  // PRODUCT BUG: enqueueExports() decides `added` by `job.id === jobId`, but BullMQ's
  // Queue.add returns the EXISTING job (same id) when the job id or dedup key is already
  // present, so a repeated `--run-id` is reported as "1 table(s) queued" / added: true.
  it('reports the repeated enqueue as 0 queued / already in progress (human output)', () => {
    expect(second.stdout, describeResult(second)).toMatch(/run fixed1: 0 table\(s\) queued/);
  });

  it('reports the repeated enqueue as added: false (--json)', () => {
    const out = JSON.parse(secondJson.stdout) as EnqueueJson;
    expect(out.queued).toEqual([{ table: ref, added: false }]);
  });

  it('skips the table in a new run while run fixed1 still holds it', async () => {
    const r = await runCli(['migrate', '--tables', ref, '--json'], s.env, { cwd: s.cwd });
    const out = okJson<EnqueueJson>(r);
    otherRunId = out.runId;
    expect(otherRunId).not.toBe('fixed1');
    expect(out.queued).toEqual([{ table: ref, added: false }]);
    expect(r.stderr).toMatch(/0 table\(s\) queued, 1 already in progress/);

    const status = okJson<RunJson[]>(await runCli(['status', otherRunId, '--json'], s.env, { cwd: s.cwd }));
    expect(status[0]!.tables).toHaveLength(1);
    expect(status[0]!.tables[0]).toMatchObject({ table: ref, state: 'skipped' });
    expect(status[0]!.tables[0]!.error?.message).toContain('fixed1');
  });

  it('a worker process exports the table exactly once, then stops cleanly on SIGTERM', async () => {
    worker = spawnCli(['worker'], s.env, { cwd: s.cwd });
    const deadline = Date.now() + 60_000;
    let table: TableJson | undefined;
    for (;;) {
      const r = await runCli(['status', 'fixed1', '--json'], s.env, { cwd: s.cwd });
      if (r.code === 0) {
        table = (JSON.parse(r.stdout) as RunJson[])[0]?.tables[0];
        if (table && ['published', 'failed'].includes(table.state)) break;
      }
      if (Date.now() > deadline) throw new Error(`run fixed1 not finished in time: ${JSON.stringify(table)}\nworker stderr:\n${worker.output().stderr}`);
      if (worker.child.exitCode !== null) throw new Error(`worker exited early (${worker.child.exitCode})\n${worker.output().stderr}`);
      await sleep(300);
    }
    expect(table).toMatchObject({ table: ref, state: 'published', rows: 2000, verification: 'passed' });

    // No duplicate work: one run directory for the table, and the other run stayed skipped.
    const tableDir = join(s.lakeDir, 'bronze', schema, 'idem');
    const runDirs = (await readdir(tableDir)).filter((n) => n.startsWith('run-'));
    expect(runDirs).toEqual(['run-fixed1']);
    expect(await currentPointersUnder(s.lakeDir)).toEqual([join(tableDir, '_current.json')]);
    const other = okJson<RunJson[]>(await runCli(['status', otherRunId, '--json'], s.env, { cwd: s.cwd }));
    expect(other[0]!.tables[0]).toMatchObject({ state: 'skipped' });

    const started = Date.now();
    worker.child.kill('SIGTERM');
    const exit = await Promise.race([worker.exited, sleep(30_000).then(() => 'timeout' as const)]);
    expect(exit, `worker did not stop within 30 s\n${worker.output().stderr}`).not.toBe('timeout');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(worker.output().stderr).not.toMatch(/^\s{4}at /m);
  });
});
