/**
 * Creates the sample Nova Corrente schema (the three tables the migration moves first)
 * with generated, realistic data. Idempotent: a table already seeded with the same row
 * count is left alone.
 */
import type { PgPool } from '../postgres/index.js';
import type { TableRef } from '../shared/table-schema.js';

export interface SeedOptions {
  /** Rows in core.fact_demand_daily. @defaultValue 1_000_000 */
  factRows?: number;
  /** Drop and recreate even when already seeded. @defaultValue false */
  reseed?: boolean;
  /** Called as batches complete. */
  onProgress?: (table: string, rows: number, total: number) => void;
}

export interface SeededTable {
  table: TableRef;
  rows: number;
  created: boolean;
}

/** The tables `seed` creates, in dependency order. */
export const SAMPLE_TABLES: readonly TableRef[] = [
  { schema: 'core', name: 'dim_item' },
  { schema: 'core', name: 'fact_demand_daily' },
  { schema: 'analytics', name: 'fact_forecasts' },
];

const BATCH = 1_000_000;

const DDL: Record<string, string> = {
  'core.dim_item': `CREATE TABLE core.dim_item (
    item_id int PRIMARY KEY,
    sku text NOT NULL UNIQUE,
    name text NOT NULL,
    category text NOT NULL,
    unit_price numeric(12,2) NOT NULL,
    active boolean NOT NULL,
    created_at timestamptz NOT NULL)`,
  'core.fact_demand_daily': `CREATE TABLE core.fact_demand_daily (
    id bigserial PRIMARY KEY,
    date date NOT NULL,
    item_id int NOT NULL,
    site_id int NOT NULL,
    quantity numeric(14,3) NOT NULL,
    units int NOT NULL,
    lead_time_days smallint NOT NULL,
    stockout boolean NOT NULL,
    unit_cost numeric(12,2) NOT NULL,
    updated_at timestamptz NOT NULL,
    note text)`,
  'analytics.fact_forecasts': `CREATE TABLE analytics.fact_forecasts (
    forecast_id bigserial PRIMARY KEY,
    item_id int NOT NULL,
    site_id int NOT NULL,
    forecast_date date NOT NULL,
    horizon_days smallint NOT NULL,
    model text NOT NULL,
    yhat numeric(14,3) NOT NULL,
    yhat_lower numeric(14,3) NOT NULL,
    yhat_upper numeric(14,3) NOT NULL,
    mape double precision,
    created_at timestamptz NOT NULL)`,
};

function insertSql(table: string, from: number, to: number): string {
  switch (table) {
    case 'core.dim_item':
      return `INSERT INTO core.dim_item SELECT g, 'SKU-' || lpad(g::text, 6, '0'), 'Item ' || g,
        (ARRAY['cement','steel','cable','paint','tools','pipes'])[1 + g % 6],
        round((5 + (g * 37 % 9973) / 10.0)::numeric, 2), g % 17 <> 0,
        timestamptz '2020-01-01 00:00:00+00' + (g || ' hours')::interval
        FROM generate_series(${from}::bigint, ${to}::bigint) g`;
    case 'core.fact_demand_daily':
      return `INSERT INTO core.fact_demand_daily (id, date, item_id, site_id, quantity, units, lead_time_days, stockout, unit_cost, updated_at, note)
        SELECT g, date '2019-01-01' + (g % 2557)::int, 1 + (g * 7919 % 5000)::int, 1 + (g % 48)::int,
        ((g * 2654435761 % 10000000) / 1000.0)::numeric(14,3), (g * 31 % 500)::int, (g % 60)::smallint,
        g % 23 = 0, ((g * 97 % 100000) / 100.0)::numeric(12,2),
        timestamptz '2024-01-01 00:00:00+00' + ((g * 1000003) % 31536000000000 || ' microseconds')::interval,
        CASE WHEN g % 10 = 0 THEN NULL ELSE 'order ' || (g % 9973) || ' via ' || (ARRAY['truck','rail','ship'])[1 + g % 3] END
        FROM generate_series(${from}::bigint, ${to}::bigint) g`;
    case 'analytics.fact_forecasts':
      return `INSERT INTO analytics.fact_forecasts (forecast_id, item_id, site_id, forecast_date, horizon_days, model, yhat, yhat_lower, yhat_upper, mape, created_at)
        SELECT g, 1 + (g % 5000)::int, 1 + (g % 48)::int, date '2025-01-01' + (g % 365)::int, (1 + g % 30)::smallint,
        (ARRAY['prophet','arima','lgbm'])[1 + g % 3], ((g * 7 % 100000) / 10.0)::numeric(14,3),
        ((g * 7 % 100000) / 10.0 * 0.9)::numeric(14,3), ((g * 7 % 100000) / 10.0 * 1.1)::numeric(14,3),
        CASE WHEN g % 50 = 0 THEN NULL ELSE (g % 1000) / 3000.0 END,
        timestamptz '2025-06-01 02:00:00+00' + (g || ' seconds')::interval
        FROM generate_series(${from}::bigint, ${to}::bigint) g`;
    default:
      throw new Error(`no generator for ${table}`);
  }
}

async function seededRows(pool: PgPool, table: string): Promise<number | undefined> {
  const res = await pool.query<{ c: string | null }>(`SELECT obj_description(to_regclass($1), 'pg_class') AS c`, [table]);
  const m = /^corrente-seed rows=(\d+)$/.exec(res.rows[0]?.c ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Creates and fills the sample tables. Rows: dim_item 5,000; forecasts = fact rows / 5. */
export async function seedSample(pool: PgPool, options: SeedOptions = {}): Promise<SeededTable[]> {
  const factRows = options.factRows ?? 1_000_000;
  const targets: Record<string, number> = {
    'core.dim_item': 5_000,
    'core.fact_demand_daily': factRows,
    'analytics.fact_forecasts': Math.max(1, Math.floor(factRows / 5)),
  };
  await pool.query('CREATE SCHEMA IF NOT EXISTS core; CREATE SCHEMA IF NOT EXISTS analytics');
  const out: SeededTable[] = [];
  for (const ref of SAMPLE_TABLES) {
    const name = `${ref.schema}.${ref.name}`;
    const total = targets[name]!;
    if (!options.reseed && (await seededRows(pool, name)) === total) {
      out.push({ table: ref, rows: total, created: false });
      continue;
    }
    await pool.query(`DROP TABLE IF EXISTS ${name}`);
    await pool.query(DDL[name]!);
    for (let from = 1; from <= total; from += BATCH) {
      const to = Math.min(total, from + BATCH - 1);
      await pool.query(insertSql(name, from, to));
      options.onProgress?.(name, to, total);
    }
    await pool.query(`ANALYZE ${name}`);
    await pool.query(`COMMENT ON TABLE ${name} IS 'corrente-seed rows=${total}'`);
    out.push({ table: ref, rows: total, created: true });
  }
  return out;
}
