/**
 * The README's main command, `corrente demo`, end to end in its own database: seeds the
 * sample schema, migrates it with an in-process worker, verifies, and reads it back.
 */
import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliSandbox, runCli, type CliSandbox } from '../helpers/cli.js';
import { TEST_DATABASE_URL } from '../helpers/pg.js';

const DB = 'corrente_demo_test';
let s: CliSandbox;

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DB]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${DB}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${DB}`;
  s = await createCliSandbox({ DATABASE_URL: url.toString() });
});

afterAll(async () => {
  await s?.cleanup();
});

describe('corrente demo', () => {
  it('seeds, migrates, verifies and queries the three sample tables', async () => {
    const r = await runCli(['demo', '--rows', '5000', '--reseed'], s.env, { cwd: s.cwd, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    for (const t of ['core.dim_item', 'core.fact_demand_daily', 'analytics.fact_forecasts']) {
      expect(r.stdout).toMatch(new RegExp(`${t.replace('.', '\\.')}\\s+published\\s+[\\d,]+\\s+\\d+\\s+.*passed`));
    }
    expect(r.stdout).toMatch(/core\.fact_demand_daily\s+5,000 rows in 1 file\(s\)/);
    expect(r.stdout).toMatch(/analytics\.fact_forecasts\s+1,000 rows/);
    const query = /read_parquet\('([^']+)\/\*\.parquet'\)/.exec(r.stdout);
    expect(query, r.stdout).not.toBeNull();
    expect(existsSync(query![1]!)).toBe(true);
    // Step 4: silver and gold built from the shipped models, and a query over the mart.
    for (const m of ['silver.items', 'silver.demand_daily', 'silver.forecasts', 'gold.dim_item', 'gold.fact_demand_daily', 'gold.fact_forecasts', 'gold.demand_vs_forecast']) {
      expect(r.stdout).toMatch(new RegExp(`${m.replace('.', '\\.')}\\s+published\\s+[\\d,]+ rows, (\\d+)/\\1 tests passed`));
    }
    expect(r.stdout).toMatch(/gold\.fact_demand_daily\s+published\s+5,000 rows/);
    const mart = /FROM read_parquet\('([^']+)\/\*\.parquet'\) GROUP BY ALL/.exec(r.stdout);
    expect(mart?.[1], r.stdout).toMatch(/\/gold\/gold\/demand_vs_forecast\/run-transform-/);
    expect(existsSync(mart![1]!)).toBe(true);
    expect(r.stdout).toMatch(/year week\s+actual\s+forecast\s+WAPE %\n(\s+\d{4}\s+\d+\s+\d+\.\d{3}\s+\d+\.\d{3}\s+\S+\n){5}/);
  });
});
