/**
 * Table selection by pattern through the real CLI: `--tables 'schema.*'` and `tables:`
 * patterns pick the tables, views and materialized views the role can read, `exclude:` and
 * `--exclude` leave some out, the resolved list is printed before anything is queued, and
 * a pattern matching nothing (or a mistyped name) fails with one line naming it.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliSandbox, currentPointersUnder, expectCleanFailure, runCli, stderrLines, TEST_REDIS_URL, type CliEnv, type CliSandbox, type RunJson } from '../helpers/cli.js';
import { createTestSchema, TEST_DATABASE_URL, type TestSchema } from '../helpers/pg.js';

let db: TestSchema;
let s: string;
const role = `corrente_p_${randomBytes(5).toString('hex')}`;
const sandboxes: CliSandbox[] = [];

async function sandbox(extra: CliEnv = {}): Promise<CliSandbox> {
  const box = await createCliSandbox(extra);
  sandboxes.push(box);
  return box;
}

async function redisKeyCount(prefix: string): Promise<number> {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    return (await redis.keys(`${prefix}:*`)).length;
  } finally {
    redis.disconnect();
  }
}

beforeAll(async () => {
  db = await createTestSchema('pat');
  s = db.schema;
  for (const t of ['t_one', 't_two', 'tmp_load', 'secret']) {
    await db.admin.query(`CREATE TABLE "${s}".${t} (id int PRIMARY KEY, v text)`);
    await db.admin.query(`INSERT INTO "${s}".${t} SELECT g, '${t}' || g FROM generate_series(1, 10) g`);
  }
  await db.admin.query(`CREATE VIEW "${s}".v_one AS SELECT id, v FROM "${s}".t_one WHERE id <= 5`);
  await db.admin.query(`CREATE MATERIALIZED VIEW "${s}".mv_two AS SELECT id FROM "${s}".t_two`);
  // A partitioned table: the parent is selected, its partitions are not (they would export its rows twice).
  await db.admin.query(`CREATE TABLE "${s}".parted (id int, d date) PARTITION BY RANGE (d)`);
  await db.admin.query(`CREATE TABLE "${s}".parted_2026 PARTITION OF "${s}".parted FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')`);
  await db.admin.query(`INSERT INTO "${s}".parted VALUES (1, '2026-05-01')`);
  await db.admin.query(`CREATE ROLE ${role} LOGIN`);
  await db.admin.query(`GRANT USAGE ON SCHEMA "${s}" TO ${role}`);
  await db.admin.query(`GRANT SELECT ON "${s}".t_one, "${s}".t_two, "${s}".v_one TO ${role}`);
});

afterAll(async () => {
  await Promise.all(sandboxes.map((x) => x.cleanup()));
  if (db) {
    await db.admin.query(`DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN EXECUTE 'DROP OWNED BY ${role}'; EXECUTE 'DROP ROLE ${role}'; END IF; END $$`);
    await db.drop();
  }
});

const all = (): string[] => ['mv_two', 'parted', 'secret', 't_one', 't_two', 'tmp_load', 'v_one'].map((t) => `${s}.${t}`);

describe('--tables patterns', () => {
  it("'schema.*' with --exclude exports every readable table but the excluded, and says which first", async () => {
    const box = await sandbox();
    const r = await runCli(['migrate', '--tables', `${s}.*`, '--exclude', `${s}.tmp_*,${s}.secret`, '--inline', '--json'], box.env, { cwd: box.cwd, timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(0);
    const expected = all().filter((t) => !t.endsWith('.tmp_load') && !t.endsWith('.secret'));
    const lines = stderrLines(r.stderr);
    expect(lines[0]).toBe(`selected ${expected.length} tables: ${expected.join(', ')} (excluded: ${s}.secret, ${s}.tmp_load)`);
    expect(lines.findIndex((l) => l.startsWith('run '))).toBeGreaterThan(0); // the list comes before the run is queued
    const out = JSON.parse(r.stdout) as RunJson & { selected: string[] };
    expect(out.selected).toEqual(expected);
    expect(out.tables.map((t) => [t.table, t.state]).sort()).toEqual(expected.map((t) => [t, 'published']));
    expect(out.tables.find((t) => t.table === `${s}.v_one`)!.rows).toBe(5);
    expect(out.tables.find((t) => t.table === `${s}.parted`)!.rows).toBe(1);
    expect((await currentPointersUnder(box.lakeDir)).length).toBe(expected.length);
  });

  it('patterns select only what the role can read', async () => {
    const url = new URL(TEST_DATABASE_URL);
    url.username = role;
    const box = await sandbox({ DATABASE_URL: url.toString() });
    const r = await runCli(['migrate', '--tables', `${s}.*`, '--json'], box.env, { cwd: box.cwd });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { selected: string[] }).selected).toEqual([`${s}.t_one`, `${s}.t_two`, `${s}.v_one`]);
  });
});

describe('tables: and exclude: in the config', () => {
  it('YAML patterns and excludes resolve the same way; a pattern entry gives its layer', async () => {
    const box = await sandbox();
    const file = join(box.cwd, 'corrente.yaml');
    await writeFile(file, `tables:\n  - name: '${s}.t_*'\n    layer: silver\n  - '${s}.v_one'\nexclude: ['${s}.t_two']\n`);
    const r = await runCli(['migrate', '--json'], box.env, { cwd: box.cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(stderrLines(r.stderr)[0]).toBe(`selected 2 tables: ${s}.t_one, ${s}.v_one (excluded: ${s}.t_two)`);
    const out = JSON.parse(r.stdout) as { selected: string[]; queued: { table: string; added: boolean }[] };
    expect(out.selected).toEqual([`${s}.t_one`, `${s}.v_one`]);
    expect(out.queued.map((q) => q.table)).toEqual(out.selected);
  });
});

// Independent CLI runs that fail fast: run them side by side.
describe.concurrent('mistakes', () => {
  it('a pattern matching nothing: exit 2 naming it, nothing queued', async () => {
    const box = await sandbox();
    const r = await runCli(['migrate', '--tables', `${s}.nothing_*`, '--inline'], box.env, { cwd: box.cwd });
    expectCleanFailure(r, 2, [`${s}.nothing_*`, /No table the role can read matches/]);
    expect(await redisKeyCount(box.prefix)).toBe(0);
  });

  it('a pattern on a mistyped schema suggests the schema', async () => {
    const box = await sandbox();
    const r = await runCli(['migrate', '--tables', `${s.slice(0, -1)}.*`], box.env, { cwd: box.cwd });
    expectCleanFailure(r, 2, [`did you mean "${s}"?`]);
  });

  it('excluding everything: exit 2', async () => {
    const box = await sandbox();
    const r = await runCli(['migrate', '--tables', `${s}.t_*`, '--exclude', `${s}.*`], box.env, { cwd: box.cwd });
    expectCleanFailure(r, 2, [/Every selected table is excluded/, `${s}.*`]);
  });

  it('a mistyped table name suggests the closest existing one', async () => {
    const box = await sandbox();
    const typo = await runCli(['migrate', '--tables', `${s}.t_oen`], box.env, { cwd: box.cwd });
    expectCleanFailure(typo, 2, [`Table ${s}.t_oen not found`, `Did you mean ${s}.t_one?`]);
    const short = await runCli(['migrate', '--tables', `${s}.tmp_lod`], box.env, { cwd: box.cwd });
    expectCleanFailure(short, 2, [`Did you mean ${s}.tmp_load?`]);
  });
});
