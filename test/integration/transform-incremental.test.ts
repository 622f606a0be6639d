/**
 * Models over an incrementally exported source read it as it is now: the full run plus
 * its increments, latest row per primary key, deleted keys removed. After rows are
 * inserted, updated and deleted between two exports, silver and gold equal Postgres.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncrementalConfig } from '../../src/config/index.js';
import { newRunId } from '../../src/lake/index.js';
import { currentRun, exportTable, planTransform, runTransforms, verifyAndPublish } from '../../src/pipeline/index.js';
import { shippedTransformsDir } from '../../src/transform/index.js';
import { TEST_DATABASE_URL } from '../helpers/pg.js';
import { createTransformLake, sampleDatabase, type TransformLake } from '../helpers/transform-lake.js';

const FACT = { schema: 'core', name: 'fact_demand_daily' };
const CFG: IncrementalConfig = { column: 'updated_at', overlap: { ms: 600_000 }, deletes: 'keydiff' };

let t: TransformLake;
let pgc: pg.Client;

beforeAll(async () => {
  // Its own database, fresh each time: the test changes the sample rows.
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query('DROP DATABASE IF EXISTS corrente_transform_incremental_test WITH (FORCE)');
  } finally {
    await admin.end();
  }
  const url = await sampleDatabase('corrente_transform_incremental_test', 2000);
  pgc = new pg.Client({ connectionString: url });
  await pgc.connect();
  t = await createTransformLake(url);
}, 180_000);

afterAll(async () => {
  await pgc?.end();
  await t?.close();
});

/** Exports the fact table with `incremental:` and publishes the run. */
async function exportFact(): Promise<void> {
  const runId = newRunId();
  const outcome = await exportTable(t.lake.deps, { runId, table: FACT, layer: 'bronze', incremental: CFG });
  if (outcome.kind !== 'staged') throw new Error('expected one range');
  await verifyAndPublish({ store: t.lake.store, config: t.lake.deps.config }, { bucket: 'bronze', table: FACT, runId });
}

/** Runs the models (`upToDate`: those expected not to be rebuilt) and compares them with Postgres. */
async function goldEqualsPostgres(upToDate: readonly string[] = []): Promise<void> {
  const plan = planTransform(shippedTransformsDir()!, ['demand_daily', 'dim_item', 'items', 'fact_demand_daily']);
  const result = await runTransforms(t.deps, plan, { runId: newRunId({ kind: 'transform' }) });
  expect(result.models.map((m) => [m.model, m.status, m.error])).toEqual(plan.models.map((m) => [m, upToDate.includes(m) ? 'up-to-date' : 'published', undefined]));
  const src = (await pgc.query(`SELECT count(*)::text AS n, sum(quantity)::text AS q, max(id)::text AS m FROM core.fact_demand_daily`)).rows[0];
  for (const [layer, schema, model, key] of [['silver', 'silver', 'demand_daily', 'demand_id'], ['gold', 'gold', 'fact_demand_daily', 'demand_id']] as const) {
    const lake = await t.query(layer, schema, model, `SELECT count(*)::VARCHAR AS n, sum(quantity)::VARCHAR AS q, max(${key})::VARCHAR AS m FROM t`);
    expect(lake, `${layer}.${model}`).toEqual([src]);
  }
}

describe('models over an incremental source', () => {
  it('equal Postgres after a full export, and after an increment with inserts, updates and deletes', async () => {
    await exportFact();
    await goldEqualsPostgres();

    await pgc.query(`UPDATE core.fact_demand_daily SET quantity = quantity + 1.5, updated_at = now() WHERE id IN (SELECT id FROM core.fact_demand_daily ORDER BY id LIMIT 10)`);
    await pgc.query(`DELETE FROM core.fact_demand_daily WHERE id IN (SELECT id FROM core.fact_demand_daily ORDER BY id DESC LIMIT 5)`);
    await pgc.query(`INSERT INTO core.fact_demand_daily (id, date, item_id, site_id, quantity, units, lead_time_days, stockout, unit_cost, updated_at, note)
      SELECT 90000000 + item_id, date '2025-06-01', item_id, 1, 2.5, 1, 1, false, 1.00, now(), NULL FROM core.dim_item ORDER BY item_id LIMIT 50`);
    await exportFact();
    const manifest = (await currentRun(t.deps, 'bronze', FACT))!;
    expect(manifest.kind ?? 'full').toBe('full'); // the pointer still names the base; the increment sits on top
    // The increment is a change of the fact's input: its models rebuild; the item models did not change.
    await goldEqualsPostgres(['items', 'dim_item']);
    const lineage = (await currentRun(t.deps, 'silver', { schema: 'silver', name: 'demand_daily' }))!.lineage!;
    expect(lineage.inputs.find((i) => i.table.name === 'fact_demand_daily')?.increments).toHaveLength(1);
  });
});
