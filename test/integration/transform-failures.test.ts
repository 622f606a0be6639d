/**
 * Transforms that must not publish: a failing `error` test (the previous run stays current,
 * downstream models are skipped, failing rows kept in an audit file), a `warn` test
 * (published, reported), quarantine rules, and bad input each failing with one clear line.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCurrentPointer, runPrefix, stagedKey } from '../../src/lake/index.js';
import { planTransform, runTransforms } from '../../src/pipeline/index.js';
import { isCorrenteError } from '../../src/shared/errors.js';
import { createTransformLake, sampleDatabase, type TransformLake } from '../helpers/transform-lake.js';

let t: TransformLake;
let pgc: pg.Client;
const root = mkdtempSync(join(tmpdir(), 'corrente-transform-fail-'));
let n = 0;
let runNo = 0;
const runId = (): string => `transform-20261129T0200${String(runNo++).padStart(2, '0')}Z-beef`;

function project(files: Record<string, string>): string {
  const dir = join(root, `p${n++}`);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

beforeAll(async () => {
  const url = await sampleDatabase('corrente_transform_test', 3000);
  pgc = new pg.Client({ connectionString: url });
  await pgc.connect();
  t = await createTransformLake(url, { memoryMb: 64, threads: 1 });
});

afterAll(async () => {
  await pgc?.end();
  await t?.close();
  rmSync(root, { recursive: true, force: true });
});

const SILVER = `SELECT id, item_id, units, quantity FROM {{ source('core', 'fact_demand_daily') }}\n`;
const gold = (tests: string): string => `/* ---\nunique_key: id\ncolumns:\n  units:\n    tests: [${tests}]\n--- */\nSELECT id, item_id, units FROM {{ ref('demand') }}\n`;
// sum() of an INTEGER is a HUGEINT in DuckDB: stored exactly as DECIMAL(38,0).
const MART = `/* ---\ncolumns: { units: { type: "DECIMAL(38,0)" } }\n--- */\nSELECT item_id, sum(units) AS units FROM {{ ref('facts') }} GROUP BY item_id\n`;

describe('data tests gate the publish', () => {
  it('a failing error test keeps the previous run current and skips downstream models', async () => {
    const files = { 'silver/demand.sql': SILVER, 'gold/facts.sql': gold('{ expression: "units >= 0" }'), 'gold/mart.sql': MART };
    const first = await runTransforms(t.deps, planTransform(project(files)), { runId: runId() });
    expect(first.models.map((m) => m.status)).toEqual(['published', 'published', 'published']);
    const before = await readCurrentPointer(t.deps.store, 'gold', { schema: 'gold', name: 'facts' });

    // The same model, now with a test 3000-row data breaks (units are 0..499).
    const bad = await runTransforms(t.deps, planTransform(project({ ...files, 'gold/facts.sql': gold('{ expression: { sql: "units < 400", severity: error } }') })), { runId: runId() });
    expect(bad.ok).toBe(false);
    const [demand, facts, mart] = bad.models;
    // demand did not change (same SQL, same input run): it is not rebuilt.
    expect(demand).toMatchObject({ status: 'up-to-date', runId: first.runId });
    expect(facts).toMatchObject({ status: 'failed', errorCode: 'DATA_TEST_FAILED' });
    expect(mart).toMatchObject({ status: 'skipped', error: 'skipped: its input facts was not published' });
    const expected = (await pgc.query(`SELECT count(*)::int AS n FROM core.fact_demand_daily WHERE units >= 400`)).rows[0].n as number;
    const failed = facts!.tests.find((x) => x.name === 'expression(units: units < 400)')!;
    expect(failed.failingRows).toBe(expected);
    expect(failed.sample).toHaveLength(5);
    expect(JSON.parse(failed.sample[0]!).units).toBeGreaterThanOrEqual(400);
    expect(facts!.error).toMatch(new RegExp(`^.*gold/facts\\.sql: model facts: test expression\\(units: units < 400\\) failed with ${expected} row\\(s\\); not published`));
    // The previous run stays current; the failed run is staged (not published) with its audit file.
    expect(await readCurrentPointer(t.deps.store, 'gold', { schema: 'gold', name: 'facts' })).toEqual(before);
    const ref = { schema: 'gold', name: 'facts' };
    expect(existsSync(t.deps.store.localPath('gold', stagedKey(ref, facts!.runId))!)).toBe(true);
    expect(existsSync(t.deps.store.localPath('gold', `${runPrefix(ref, facts!.runId)}_manifest.json`)!)).toBe(false);
    const audit = await t.query('gold', 'gold', 'facts', 'SELECT 1'); // the current run still reads
    expect(audit).toHaveLength(1);
    expect(failed.audit).toContain(`${runPrefix(ref, facts!.runId)}_audit/`);
    expect(existsSync(failed.audit!)).toBe(true);
  });

  it('a warn test publishes and reports; quarantine rules divert rows with the rule name', async () => {
    const files = {
      'silver/demand.sql': `/* ---\nquarantine:\n  - { name: units_small, sql: "units < 400" }\n  - { name: has_note, sql: "note IS NOT NULL" }\n--- */\nSELECT id, item_id, units, note FROM {{ source('core', 'fact_demand_daily') }}\n`,
      'gold/facts.sql': gold('{ expression: { sql: "units < 100", severity: warn } }'),
    };
    const r = await runTransforms(t.deps, planTransform(project(files)), { runId: runId() });
    expect(r.models.map((m) => m.status)).toEqual(['published', 'published']);
    const counts = (await pgc.query(`SELECT count(*) FILTER (WHERE units < 400 AND note IS NOT NULL)::int AS ok, count(*) FILTER (WHERE NOT (units < 400 AND note IS NOT NULL))::int AS bad,
       count(*) FILTER (WHERE units < 400 AND note IS NOT NULL AND units >= 100)::int AS warn, count(*) FILTER (WHERE units >= 400 AND note IS NULL)::int AS both FROM core.fact_demand_daily`)).rows[0];
    expect(r.models[0]).toMatchObject({ rows: counts.ok, quarantined: counts.bad });
    expect(r.models[1]!.tests.find((x) => x.severity === 'warn')!.failingRows).toBe(counts.warn);
    const q = await t.query('silver', 'silver', '_quarantine_demand', `SELECT _quarantine_rule AS r, count(*)::INTEGER AS n FROM t GROUP BY 1 ORDER BY 1`);
    expect(q.find((x) => x.r === 'units_small,has_note')?.n).toBe(counts.both);
  });
});

describe('tests counted in the read-back scan', () => {
  const quarantining = (tests: string): string =>
    `/* ---\nquarantine:\n  - { name: units_small, sql: "units < 400" }\ncolumns:\n  units:\n    nullable: false\n    tests: [${tests}]\n--- */\n${SILVER}`;

  it('count only the kept rows of a model that quarantines some', async () => {
    const tests = '{ expression: "units < 400" }, { expression: { sql: "units < 100", severity: warn } }, { accepted_values: { values: [1, 2], severity: warn } }';
    const r = await runTransforms(t.deps, planTransform(project({ 'silver/kept.sql': quarantining(tests) })), { runId: runId() });
    const c = (
      await pgc.query(`SELECT count(*) FILTER (WHERE units < 400)::int AS kept, count(*) FILTER (WHERE units >= 400)::int AS bad,
         count(*) FILTER (WHERE units >= 100 AND units < 400)::int AS warn, count(*) FILTER (WHERE units < 400 AND units NOT IN (1, 2))::int AS other FROM core.fact_demand_daily`)
    ).rows[0];
    expect(c.bad).toBeGreaterThan(0);
    expect(r.models[0]).toMatchObject({ status: 'published', rows: c.kept, quarantined: c.bad });
    const failing = Object.fromEntries(r.models[0]!.tests.map((x) => [x.name, x.failingRows]));
    // The error test holds for every kept row, though the quarantined rows break it.
    expect(failing).toEqual({ 'not_null(units)': 0, 'expression(units: units < 400)': 0, 'expression(units: units < 100)': c.warn, 'accepted_values(units)': c.other });
    expect(r.models[0]!.tests.find((x) => x.name === 'accepted_values(units)')!.sample.map((s) => JSON.parse(s).units as number).every((u) => u < 400 && u !== 1 && u !== 2)).toBe(true);
  });

  it('a test whose SQL cannot run is named, and nothing is published', async () => {
    const r = await runTransforms(t.deps, planTransform(project({ 'silver/broken_test.sql': quarantining('{ expression: "unitz < 400" }') })), { runId: runId() });
    expect(r.models[0]).toMatchObject({ status: 'failed', errorCode: 'MODEL_FAILED' });
    expect(r.models[0]!.error).toMatch(/silver\/broken_test\.sql(:\d+)?: test expression\(units: unitz < 400\) of model broken_test failed: Binder Error: Referenced column "unitz" not found/);
    expect(await readCurrentPointer(t.deps.store, 'silver', { schema: 'silver', name: 'broken_test' })).toBeUndefined();
    expect(await readCurrentPointer(t.deps.store, 'silver', { schema: 'silver', name: '_quarantine_broken_test' })).toBeUndefined();
  });
});

describe('bad input: one clear line naming the model, file and fix; nothing published', () => {
  async function failure(files: Record<string, string>, model: string): Promise<{ error: string; code: string | undefined }> {
    const r = await runTransforms(t.deps, planTransform(project(files)), { runId: runId() });
    const o = r.models.find((m) => m.model === model)!;
    expect(o.status).toBe('failed');
    expect(await readCurrentPointer(t.deps.store, o.layer === 'gold' ? 'gold' : 'silver', { schema: o.layer, name: model })).toBeUndefined();
    return { error: o.error!, code: o.errorCode };
  }

  it('a SQL syntax error names file:line', async () => {
    const e = await failure({ 'silver/syntax_err.sql': `SELECT id,\n  units\nFORM {{ source('core', 'fact_demand_daily') }}\n` }, 'syntax_err');
    expect(e.code).toBe('MODEL_FAILED');
    expect(e.error).toMatch(/silver\/syntax_err\.sql:3: model syntax_err failed: Parser Error: syntax error at or near "source\('core', 'fact_demand_daily'\)"\. Fix the SQL syntax at that line; nothing was published$/);
  });

  it('a missing column names file:line and the column', async () => {
    const e = await failure({ 'silver/missing_col.sql': `SELECT id,\n  unitz\nFROM {{ source('core', 'fact_demand_daily') }}\n` }, 'missing_col');
    expect(e.error).toMatch(/silver\/missing_col\.sql:2: model missing_col failed: Binder Error: Referenced column "unitz" not found/);
  });

  it('an input never exported fails before anything runs', async () => {
    const dir = project({ 'silver/ok.sql': `SELECT 1 AS x`, 'silver/never.sql': `SELECT *\nFROM {{ source('core', 'never_exported') }}\n` });
    const err = await runTransforms(t.deps, planTransform(dir), { runId: runId() }).catch((e: unknown) => e);
    expect(isCorrenteError(err) && err.code).toBe('RUN_NOT_FOUND');
    expect((err as Error).message).toMatch(/silver\/never\.sql:2: source core\.never_exported was never exported/);
    expect((err as { hint: string }).hint).toBe('Export it first: corrente migrate --tables core.never_exported --wait');
    expect(await readCurrentPointer(t.deps.store, 'silver', { schema: 'silver', name: 'ok' })).toBeUndefined();
  });

  it('a model beyond its memory limit names transform.memoryMb', async () => {
    const e = await failure({ 'gold/huge.sql': `SELECT list(range) AS l FROM range(30000000)\n` }, 'huge');
    expect(e.code).toBe('MODEL_FAILED');
    expect(e.error).toMatch(/gold\/huge\.sql: model huge ran out of its 64 MB memory limit: .*Raise transform\.memoryMb/);
  });

  it('a column type the lake cannot store, and a declared column the SELECT lacks', async () => {
    const e = await failure({ 'gold/interval.sql': `SELECT INTERVAL 1 DAY AS h` }, 'interval');
    expect(e.error).toMatch(/gold\/interval\.sql: model interval column h has DuckDB type INTERVAL, which the lake does not store exactly\. Cast it/);
    const e2 = await failure({ 'gold/contract.sql': `/* ---\ncolumns:\n  a: { type: INTEGER }\n  b: { type: VARCHAR }\n--- */\nSELECT 1::INTEGER AS a` }, 'contract');
    expect(e2.error).toMatch(/gold\/contract\.sql:4: column b is declared for model contract but its SELECT does not return it/);
  });
});
