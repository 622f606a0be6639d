/**
 * The SQL of data tests run in DuckDB: a test's cheaper count (`countSql`) and its row
 * filter (`rowFilter`) give the same numbers as its query of failing rows.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckSession, type DuckSession } from '../../src/duckdb/index.js';
import { buildDataTests, loadTransformProject, type DataTest } from '../../src/transform/index.js';

const root = mkdtempSync(join(tmpdir(), 'corrente-data-test-sql-'));
let duck: DuckSession;

beforeAll(async () => {
  duck = await openDuckSession({ memoryMb: 64, threads: 1 });
  // a, b: (1,1) twice, (2,2) three times, (3,NULL) twice, (NULL,4) twice, the rest unique;
  // a alone: 1 twice, 2 three times, 3 twice, then unique values.
  await duck.run(`CREATE TABLE t AS SELECT * FROM (VALUES (1, 1, 'x'), (1, 1, 'y'), (2, 2, 'x'), (2, 2, NULL), (2, 2, 'z'), (3, NULL, 'x'), (3, NULL, 'q'),
    (NULL, 4, 'x'), (NULL, 4, 'x'), (5, 5, 'x'), (6, 6, 'x'), (7, 7, 'x'), (8, 8, 'x')) AS v(a, b, c)`);
});

afterAll(() => {
  duck?.close();
  rmSync(root, { recursive: true, force: true });
});

function testsOf(header: string): DataTest[] {
  const dir = join(root, 'p');
  mkdirSync(join(dir, 'silver'), { recursive: true });
  writeFileSync(join(dir, 'silver', 'm.sql'), `/* ---\n${header}\n--- */\nSELECT 1 AS a, 1 AS b, 'x' AS c\n`);
  return buildDataTests(loadTransformProject(dir).models.get('m')!, 't', () => 'OTHER');
}

async function count(sql: string): Promise<number> {
  const [r] = await duck.rows(sql);
  return Number(r?.n);
}

describe('data test SQL', () => {
  it('counts duplicated keys (one per key, NULL keys left out) in key order as the grouping does', async () => {
    const tests = testsOf(`unique_key: a\ntests:\n  - unique: { columns: [a, b] }\ncolumns:\n  c:\n    tests: [unique]`);
    const counts = await Promise.all(
      tests.map(async (t) => ({ name: t.name, grouped: await count(`SELECT count(*)::BIGINT AS n FROM (${t.sql})`), counted: await count(t.countSql!) })),
    );
    expect(counts).toEqual([
      { name: 'unique(a)', grouped: 3, counted: 3 },
      { name: 'unique(c)', grouped: 1, counted: 1 },
      { name: 'unique(a, b)', grouped: 2, counted: 2 },
    ]);
  });

  it('gives row-level tests a filter counting what their query returns', async () => {
    const tests = testsOf(`columns:\n  a: { nullable: false }\n  c:\n    tests: [{ accepted_values: { values: [x, y] } }, { expression: "c <> 'q'" }]`);
    for (const t of tests) {
      expect(t.rowFilter).toBeDefined();
      expect(await count(`SELECT count(*) FILTER (WHERE ${t.rowFilter})::BIGINT AS n FROM t`)).toBe(await count(`SELECT count(*)::BIGINT AS n FROM (${t.sql})`));
    }
    expect(tests.map((t) => t.name)).toEqual(['not_null(a)', 'accepted_values(c)', "expression(c: c <> 'q')"]);
    expect(await count(`SELECT count(*) FILTER (WHERE ${tests[1]!.rowFilter})::BIGINT AS n FROM t`)).toBe(2);
  });
});
