/**
 * The shipped silver and gold models over the sample tables (exported from their own small
 * database into a temp lake): every model published, values equal to the same computation
 * in Postgres, lineage in the manifests.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentRun, planTransform, runTransforms } from '../../src/pipeline/index.js';
import { shippedTransformsDir } from '../../src/transform/index.js';
import { createTransformLake, sampleDatabase, type TransformLake } from '../helpers/transform-lake.js';

let t: TransformLake;
let pgc: pg.Client;

beforeAll(async () => {
  const url = await sampleDatabase('corrente_transform_test', 3000);
  pgc = new pg.Client({ connectionString: url });
  await pgc.connect();
  t = await createTransformLake(url);
});

afterAll(async () => {
  await pgc?.end();
  await t?.close();
});

async function pgRow(sql: string): Promise<Record<string, string>> {
  return (await pgc.query(sql)).rows[0] as Record<string, string>;
}

describe('shipped models', () => {
  it('build silver and gold; values match Postgres; manifests carry lineage', async () => {
    const plan = planTransform(shippedTransformsDir()!);
    const result = await runTransforms(t.deps, plan, { runId: 'transform-20261129T010000Z-aaaa' });
    expect(result.models.map((m) => [m.model, m.status, m.error])).toEqual(plan.models.map((m) => [m, 'published', undefined]));
    expect(plan.models).toEqual(['demand_daily', 'forecasts', 'items', 'dim_item', 'fact_demand_daily', 'fact_forecasts', 'demand_vs_forecast']);

    const item = await pgRow(`SELECT count(*)::text AS n, sum(unit_price)::text AS s, count(DISTINCT category)::text AS c FROM core.dim_item`);
    expect(await t.query('gold', 'gold', 'dim_item', `SELECT count(*)::VARCHAR AS n, sum(unit_price)::VARCHAR AS s, count(DISTINCT category)::VARCHAR AS c FROM t`)).toEqual([item]);

    const fact = await pgRow(`SELECT count(*)::text AS n, sum(quantity)::text AS q, sum(quantity * unit_cost)::text AS cost, count(*) FILTER (WHERE stockout)::text AS so FROM core.fact_demand_daily`);
    expect(await t.query('gold', 'gold', 'fact_demand_daily', `SELECT count(*)::VARCHAR AS n, sum(quantity)::VARCHAR AS q, sum(cost)::VARCHAR AS cost, count(*) FILTER (WHERE is_stockout)::VARCHAR AS so FROM t`)).toEqual([fact]);

    const mart = await pgRow(`
      WITH f AS (
        SELECT DISTINCT ON (item_id, site_id, model, forecast_date) item_id, site_id, model, forecast_date AS day, yhat
        FROM analytics.fact_forecasts WHERE horizon_days <= 7
        ORDER BY item_id, site_id, model, forecast_date, horizon_days, created_at DESC, forecast_id DESC),
      a AS (SELECT item_id, site_id, date AS day, sum(quantity) AS q FROM core.fact_demand_daily GROUP BY 1, 2, 3),
      w AS (
        SELECT f.item_id, f.site_id, f.model, date_trunc('week', f.day)::date AS week_start, count(*) AS n,
               sum(coalesce(a.q, 0))::numeric(38,3) AS actual, sum(f.yhat) AS fc
        FROM f LEFT JOIN a USING (item_id, site_id, day) GROUP BY 1, 2, 3, 4)
      SELECT count(*)::text AS n, sum(n)::text AS days, sum(actual)::text AS actual, sum(fc)::text AS fc,
             sum(abs(fc - actual))::text AS abs, sum(fc - actual)::text AS bias, min(week_start)::text AS first_week FROM w`);
    const lake = await t.query(
      'gold',
      'gold',
      'demand_vs_forecast',
      `SELECT count(*)::VARCHAR AS n, sum(forecast_days)::VARCHAR AS days, sum(actual_quantity)::VARCHAR AS actual, sum(forecast_quantity)::VARCHAR AS fc,
              sum(abs_error)::VARCHAR AS abs, sum(bias)::VARCHAR AS bias, min(week_start)::VARCHAR AS first_week FROM t`,
    );
    expect(lake).toEqual([mart]);
    expect(Number(mart.n)).toBeGreaterThan(0);
    expect(Number(mart.actual)).toBeGreaterThan(0);
    // ISO weeks: Monday starts, and iso_week/iso_year agree with Postgres for a sample row.
    const [row] = await t.query('gold', 'gold', 'demand_vs_forecast', `SELECT week_start::VARCHAR AS w, iso_week::VARCHAR AS wk, iso_year::VARCHAR AS y FROM t ORDER BY week_start LIMIT 1`);
    const iso = await pgRow(`SELECT extract(week FROM date '${String(row!.w)}')::text AS wk, extract(isoyear FROM date '${String(row!.w)}')::text AS y, extract(isodow FROM date '${String(row!.w)}')::text AS dow`);
    expect([row!.wk, row!.y, iso.dow]).toEqual([iso.wk, iso.y, '1']);

    const m = await currentRun(t.deps, 'gold', { schema: 'gold', name: 'fact_demand_daily' });
    expect(m!.lineage).toMatchObject({ kind: 'model', model: 'fact_demand_daily', file: expect.stringMatching(/transforms\/gold\/fact_demand_daily\.sql$/), sqlHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(m!.lineage!.inputs.map((i) => `${i.layer}:${i.table.schema}.${i.table.name}`).sort()).toEqual(['gold:gold.dim_item', 'silver:silver.demand_daily']);
    expect(m!.lineage!.tests.map((x) => x.name)).toContain('relationships(item_id -> dim_item.item_id)');
    expect(m!.columns.find((c) => c.name === 'cost')).toMatchObject({ pgType: 'numeric(38,5)', nullable: false, parquetType: 'DECIMAL(38,5)' });
    expect(m!.primaryKey).toEqual(['demand_id']);
    const src = await currentRun(t.deps, 'bronze', { schema: 'core', name: 'fact_demand_daily' });
    expect(m!.source.snapshotTime <= src!.source.snapshotTime || m!.source.snapshotTime.length > 0).toBe(true);
    // Quarantine tables are published beside their model, empty for clean sample data.
    const q = await currentRun(t.deps, 'silver', { schema: 'silver', name: '_quarantine_demand_daily' });
    expect(q!.totals.rows).toBe(0);
    expect(q!.columns.at(-1)!.name).toBe('_quarantine_rule');
  });
});
