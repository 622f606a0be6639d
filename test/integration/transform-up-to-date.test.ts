/**
 * Models whose lineage is unchanged are not rebuilt: a second run with nothing changed
 * reports every model up to date (same current runs); a new export of one source
 * rebuilds only what reads it; a changed SQL file rebuilds that model and its readers;
 * `fullRefresh` rebuilds everything.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCurrentPointer } from '../../src/lake/index.js';
import { planTransform, runTransforms, type TransformRunResult } from '../../src/pipeline/index.js';
import { publishTable } from '../helpers/export-deps.js';
import { createTransformLake, sampleDatabase, type TransformLake } from '../helpers/transform-lake.js';

let t: TransformLake;
const dir = mkdtempSync(join(tmpdir(), 'corrente-up-to-date-'));
let runNo = 0;
const runId = (): string => `transform-20261129T0500${String(runNo++).padStart(2, '0')}Z-cafe`;

function write(path: string, text: string): void {
  mkdirSync(join(dir, path, '..'), { recursive: true });
  writeFileSync(join(dir, path), text);
}

beforeAll(async () => {
  const url = await sampleDatabase('corrente_transform_test', 3000);
  t = await createTransformLake(url, { memoryMb: 64, threads: 1 });
  write('silver/items.sql', `SELECT item_id, category FROM {{ source('core', 'dim_item') }}\n`);
  write('silver/demand.sql', `SELECT id, item_id, units FROM {{ source('core', 'fact_demand_daily') }}\n`);
  write('gold/by_category.sql', `SELECT i.category, count(*)::BIGINT AS n FROM {{ ref('demand') }} d JOIN {{ ref('items') }} i USING (item_id) GROUP BY ALL\n`);
});

afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

const statuses = (r: TransformRunResult): Record<string, string> => Object.fromEntries(r.models.map((m) => [m.model, m.status]));
const pointer = async (layer: 'silver' | 'gold', name: string): Promise<string | undefined> => (await readCurrentPointer(t.deps.store, layer, { schema: layer, name }))?.runId;

describe('up-to-date models', () => {
  it('skips unchanged models, rebuilds what a new export or an edit reaches, and everything with fullRefresh', async () => {
    const first = await runTransforms(t.deps, planTransform(dir), { runId: runId() });
    expect(statuses(first)).toEqual({ items: 'published', demand: 'published', by_category: 'published' });
    const firstRun = first.runId;

    // Nothing changed: every model is up to date, reported with its current run, and no pointer moves.
    const second = await runTransforms(t.deps, planTransform(dir), { runId: runId() });
    expect(statuses(second)).toEqual({ items: 'up-to-date', demand: 'up-to-date', by_category: 'up-to-date' });
    expect(second.ok).toBe(true);
    expect(second.models.map((m) => m.runId)).toEqual([firstRun, firstRun, firstRun]);
    expect(second.models.find((m) => m.model === 'demand')!.rows).toBe(first.models.find((m) => m.model === 'demand')!.rows);
    expect([await pointer('silver', 'items'), await pointer('silver', 'demand'), await pointer('gold', 'by_category')]).toEqual([firstRun, firstRun, firstRun]);

    // A new export of dim_item: items and what reads it rebuild; demand does not.
    await publishTable(t.lake, { schema: 'core', name: 'dim_item' }, '20261129T050000Z-0002');
    const third = await runTransforms(t.deps, planTransform(dir), { runId: runId() });
    expect(statuses(third)).toEqual({ items: 'published', demand: 'up-to-date', by_category: 'published' });
    expect(await pointer('silver', 'demand')).toBe(firstRun);
    expect(await pointer('gold', 'by_category')).toBe(third.runId);

    // An edited model (its SQL hash changes) rebuilds, with its readers.
    write('silver/demand.sql', `-- units sold\nSELECT id, item_id, units FROM {{ source('core', 'fact_demand_daily') }}\n`);
    const fourth = await runTransforms(t.deps, planTransform(dir), { runId: runId() });
    expect(statuses(fourth)).toEqual({ items: 'up-to-date', demand: 'published', by_category: 'published' });

    // fullRefresh rebuilds everything, up to date or not.
    const fifth = await runTransforms(t.deps, planTransform(dir), { runId: runId(), fullRefresh: true });
    expect(statuses(fifth)).toEqual({ items: 'published', demand: 'published', by_category: 'published' });
    expect(await pointer('silver', 'items')).toBe(fifth.runId);
    const rows = await t.query('gold', 'gold', 'by_category', 'SELECT sum(n)::BIGINT AS n FROM t');
    expect(Number(rows[0]!.n)).toBe(fifth.models.find((m) => m.model === 'demand')!.rows);
  });
});
