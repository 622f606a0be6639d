/**
 * Model definitions: header and sidecar options, ref/source/var calls with lines, the DAG,
 * selectors, Mermaid, and one clear line (file:line, fix) for every bad definition.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CorrenteError } from '../../src/shared/errors.js';
import { buildDataTests, buildModelGraph, loadTransformProject, renderMermaid, selectModels, shippedTransformsDir } from '../../src/transform/index.js';

const root = mkdtempSync(join(tmpdir(), 'corrente-transforms-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** Writes a transforms dir from `{ 'silver/a.sql': '...' }` and returns its path. */
function project(files: Record<string, string>): string {
  const dir = join(root, `p${n++}`);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function failure(fn: () => unknown): CorrenteError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CorrenteError);
    expect((err as CorrenteError).code).toBe('CONFIG_INVALID');
    return err as CorrenteError;
  }
  throw new Error('expected a CorrenteError');
}

const rel = (dir: string, path: string): string => relative(process.cwd(), join(dir, path));

const BASE = {
  'silver/items.sql': `/* ---
description: items, typed
tags: [daily]
unique_key: item_id
columns:
  item_id: { type: INTEGER, nullable: false, tests: [unique] }
  category: { tests: [{ accepted_values: { values: [a, b] } }] }
--- */
SELECT item_id, category
FROM {{ source('core', 'dim_item') }};
`,
  'silver/demand.sql': `SELECT * FROM {{ source('core','fact_demand_daily') }}\n`,
  'silver/demand.yml': `tags: [daily]\ncolumns:\n  item_id:\n    tests:\n      - relationships: { to: items, field: item_id, severity: warn }\n`,
  'gold/mart.sql': `/* ---
vars: { horizon_days: 7 }
--- */
SELECT d.*, i.category
FROM {{ ref('demand') }} d
JOIN {{ ref("items") }} i USING (item_id)
WHERE horizon <= {{ var('horizon_days') }}
`,
  'tests/no_negative.sql': `/* ---\nseverity: warn\n--- */\nSELECT * FROM {{ ref('mart') }} WHERE quantity < 0\n`,
};

describe('loading a transforms directory', () => {
  it('reads header and sidecar options, calls with their file lines, and singular tests', () => {
    const dir = project(BASE);
    const p = loadTransformProject(dir);
    expect([...p.models.keys()].sort()).toEqual(['demand', 'items', 'mart']);
    const items = p.models.get('items')!;
    expect(items.layer).toBe('silver');
    expect(items.options.unique_key).toEqual(['item_id']);
    expect(items.options.columns.item_id).toMatchObject({ type: 'INTEGER', nullable: false, tests: [{ kind: 'unique', severity: 'error' }] });
    expect(items.calls).toEqual([expect.objectContaining({ kind: 'source', schema: 'core', table: 'dim_item', line: 10 })]);
    // Header lines are blanked, not removed: DuckDB's LINE n matches the file.
    expect(items.sql.split('\n')[9]).toContain('{{ source(');
    expect(p.models.get('demand')!.options.columns.item_id!.tests[0]).toEqual({ kind: 'relationships', to: 'items', field: 'item_id', severity: 'warn' });
    const mart = p.models.get('mart')!;
    expect(mart.calls.map((c) => [c.kind, c.line])).toEqual([['ref', 5], ['ref', 6], ['var', 7]]);
    expect(p.tests).toEqual([expect.objectContaining({ name: 'no_negative', severity: 'warn' })]);
    expect(items.sqlHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('orders the DAG inputs first, selects by name, tag, +model and model+, and draws Mermaid', () => {
    const g = buildModelGraph(loadTransformProject(project(BASE)));
    // demand's relationships test reads items: items is built first.
    expect(g.order).toEqual(['items', 'demand', 'mart']);
    expect(selectModels(g, [])).toEqual(['items', 'demand', 'mart']);
    expect(selectModels(g, ['mart'])).toEqual(['mart']);
    expect(selectModels(g, ['+mart'])).toEqual(['items', 'demand', 'mart']);
    expect(selectModels(g, ['demand+'])).toEqual(['demand', 'mart']);
    expect(selectModels(g, ['+demand'])).toEqual(['items', 'demand']);
    expect(selectModels(g, ['tag:daily'])).toEqual(['items', 'demand']);
    expect(selectModels(g, ['demand,items'])).toEqual(['items', 'demand']);
    const mermaid = renderMermaid(g);
    expect(mermaid).toContain('flowchart LR');
    expect(mermaid).toContain('src_core_dim_item --> silver_items');
    expect(mermaid).toContain('silver_demand --> gold_mart');
  });

  it('builds data tests as queries returning failing rows', () => {
    const p = loadTransformProject(project(BASE));
    const tests = buildDataTests(p.models.get('items')!, 'SELF', () => 'OTHER', p.tests);
    expect(tests.map((t) => [t.name, t.severity])).toEqual([
      ['unique(item_id)', 'error'],
      ['not_null(item_id)', 'error'],
      ['accepted_values(category)', 'error'],
    ]);
    expect(tests[2]!.sql).toBe(`SELECT * FROM SELF WHERE "category" IS NOT NULL AND "category" NOT IN ('a', 'b')`);
    const martTests = buildDataTests(p.models.get('mart')!, 'SELF', () => 'OTHER', p.tests);
    expect(martTests).toEqual([expect.objectContaining({ name: 'no_negative', severity: 'warn' })]);
    expect(martTests[0]!.sql).toContain('FROM SELF WHERE quantity < 0');
    const rel = buildDataTests(p.models.get('demand')!, 'SELF', (t) => (t.kind === 'ref' ? `REF_${t.name}` : 'SRC'));
    expect(rel[0]).toMatchObject({ name: 'relationships(item_id -> items.item_id)', severity: 'warn' });
    expect(rel[0]!.sql).toContain('ANTI JOIN (SELECT DISTINCT "item_id" AS k FROM REF_items)');
  });

  it('loads the shipped models into a valid DAG', () => {
    const dir = shippedTransformsDir();
    expect(dir).toBeDefined();
    const g = buildModelGraph(loadTransformProject(dir!));
    for (const m of ['dim_item', 'fact_demand_daily', 'fact_forecasts', 'demand_vs_forecast']) expect(g.project.models.get(m)?.layer).toBe('gold');
    expect(g.order.indexOf('demand_vs_forecast')).toBe(g.order.length - 1);
  });
});

describe('bad definitions: one line naming file:line and the fix', () => {
  it('an unknown option key, by name and line', () => {
    const dir = project({ 'silver/a.sql': `/* ---\ntags: [x]\nuniqe_key: id\n--- */\nSELECT 1 AS id\n` });
    const e = failure(() => loadTransformProject(dir));
    expect(e.message).toBe(`${rel(dir, 'silver/a.sql')}:3: unknown model option uniqe_key`);
    expect(e.hint).toMatch(/spelling/);
  });

  it('an unknown test name inside a column, in a sidecar', () => {
    const dir = project({ 'silver/a.sql': 'SELECT 1 AS id\n', 'silver/a.yml': `columns:\n  id:\n    tests:\n      - not_nul\n` });
    const e = failure(() => loadTransformProject(dir));
    expect(e.message).toBe(`${rel(dir, 'silver/a.yml')}:4: unknown model option columns.id.tests.0.not_nul`);
  });

  it('a missing ref, with the closest name', () => {
    const dir = project({ 'silver/items.sql': 'SELECT 1 AS item_id', 'gold/b.sql': `SELECT *\nFROM {{ ref('itemz') }}\n` });
    const e = failure(() => buildModelGraph(loadTransformProject(dir)));
    expect(e.message).toBe(`${rel(dir, 'gold/b.sql')}:2: ref "itemz": no such model`);
    expect(e.hint).toBe("Did you mean ref('items')?");
  });

  it('a cycle, with its path', () => {
    const dir = project({ 'silver/a.sql': `SELECT * FROM {{ ref('b') }}`, 'silver/b.sql': `SELECT *\nFROM {{ ref('a') }}` });
    const e = failure(() => buildModelGraph(loadTransformProject(dir)));
    expect(e.message).toMatch(/silver\/[ab]\.sql:\d: models form a cycle: (a -> b -> a|b -> a -> b)$/);
  });

  it('two models with the same name in different layers', () => {
    const dir = project({ 'silver/a.sql': 'SELECT 1', 'gold/a.sql': 'SELECT 2' });
    const e = failure(() => loadTransformProject(dir));
    expect(e.message).toBe(`${rel(dir, 'gold/a.sql')}:1: model a is defined twice (also in ${rel(dir, 'silver/a.sql')})`);
  });

  it('an unknown column in a test and in the unique key', () => {
    const dir = project({ 'silver/a.sql': `/* ---\ncolumns: { id: { type: INTEGER } }\ntests:\n  - unique: { columns: [id, ide] }\n--- */\nSELECT 1 AS id` });
    const e = failure(() => buildModelGraph(loadTransformProject(dir)));
    expect(e.message).toBe(`${rel(dir, 'silver/a.sql')}:4: unknown column ide in the options of model a`);
    const dir2 = project({
      'silver/items.sql': `/* ---\ncolumns: { item_id: { type: INTEGER } }\n--- */\nSELECT 1 AS item_id`,
      'silver/b.sql': `/* ---\ncolumns:\n  item_id:\n    tests: [{ relationships: { to: items, field: itemid } }]\n--- */\nSELECT 1 AS item_id`,
    });
    expect(failure(() => buildModelGraph(loadTransformProject(dir2))).message).toBe(`${rel(dir2, 'silver/b.sql')}:4: relationships test on item_id: items has no column itemid`);
  });

  it('an undeclared var, a malformed call, bad YAML, an empty model, a bad selector', () => {
    const d1 = project({ 'gold/a.sql': `SELECT {{ var('h') }}` });
    expect(failure(() => buildModelGraph(loadTransformProject(d1))).message).toBe(`${rel(d1, 'gold/a.sql')}:1: var "h" is not declared`);
    const d2 = project({ 'gold/a.sql': `SELECT 1\nFROM {{ ref(dim_item) }}` });
    expect(failure(() => loadTransformProject(d2)).message).toBe(`${rel(d2, 'gold/a.sql')}:2: cannot read {{ ref(dim_item) }}`);
    const d3 = project({ 'gold/a.sql': `/* ---\ntags: [x\n--- */\nSELECT 1` });
    expect(failure(() => loadTransformProject(d3)).message).toMatch(new RegExp(`^${rel(d3, 'gold/a.sql')}:\\d: invalid YAML`));
    const d4 = project({ 'gold/a.sql': `/* ---\ntags: [x]\n--- */\n;\n` });
    expect(failure(() => loadTransformProject(d4)).message).toBe(`${rel(d4, 'gold/a.sql')}:1: the model has no SELECT`);
    const g = buildModelGraph(loadTransformProject(project(BASE)));
    expect(failure(() => selectModels(g, ['+mrt'])).message).toBe('Selector +mrt: no model named mrt');
    expect(failure(() => selectModels(g, ['tag:weekly'])).hint).toBe('Tags in use: daily');
  });

  it('a missing transforms directory names the config key', () => {
    const e = failure(() => loadTransformProject(join(root, 'nope')));
    expect(e.context.option).toBe('transform.dir');
  });
});
