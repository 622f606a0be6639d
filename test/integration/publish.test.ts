/**
 * `corrente publish`: files made outside corrente (here DuckDB's own default Parquet and a
 * CSV, as a Python job would write them) become a run of gold.fact_forecasts, checked
 * against the shipped model's contract and tests; broken files are refused, nothing published.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckSession } from '../../src/duckdb/index.js';
import { readCurrentPointer } from '../../src/lake/index.js';
import { currentRun, planTransform, publishFiles, runTransforms } from '../../src/pipeline/index.js';
import { isCorrenteError } from '../../src/shared/errors.js';
import { shippedTransformsDir } from '../../src/transform/index.js';
import { createCliSandbox, runCli, type CliSandbox } from '../helpers/cli.js';
import { createTransformLake, sampleDatabase, type TransformLake } from '../helpers/transform-lake.js';

let t: TransformLake;
const out = mkdtempSync(join(tmpdir(), 'corrente-ml-out-'));
const TABLE = { schema: 'gold', name: 'fact_forecasts' };
const dir = shippedTransformsDir()!;
let n = 0;

/** Writes forecasts like an ML job would (DuckDB's default Parquet: v1, snappy), with `select` over 100 generated rows. */
async function mlFile(select: string, format: 'parquet' | 'csv' = 'parquet'): Promise<string> {
  const path = join(out, `f${n++}.${format}`);
  const duck = await openDuckSession({ threads: 1 });
  try {
    const rows = `SELECT i::BIGINT AS forecast_id, (1 + i % 50)::INTEGER AS item_id, (1 + i % 4)::INTEGER AS site_id, DATE '2026-01-01' + (i % 30)::INTEGER AS forecast_date,
      (1 + i % 7)::SMALLINT AS horizon_days, 'lgbm' AS model_name, (i * 1.5)::DECIMAL(14,3) AS yhat, (i * 1.2)::DECIMAL(14,3) AS yhat_lower,
      (i * 1.8)::DECIMAL(14,3) AS yhat_upper, CASE WHEN i % 10 = 0 THEN NULL ELSE i / 1000 END AS mape, TIMESTAMPTZ '2026-01-01 02:00:00+00' AS created_at FROM range(1, 101) r(i)`;
    await duck.run(`COPY (${select.replace('ROWS', `(${rows})`)}) TO '${path}' (FORMAT ${format === 'csv' ? 'csv, HEADER true' : 'parquet'})`);
  } finally {
    duck.close();
  }
  return path;
}

const publish = (file: string, format: 'parquet' | 'csv' = 'parquet', runId = `ml-${n}`) => publishFiles(t.deps, { files: [file], table: TABLE, format, runId, transformsDir: dir });

beforeAll(async () => {
  t = await createTransformLake(await sampleDatabase('corrente_transform_test', 3000));
  // The contract's relationships test reads gold.dim_item.
  const r = await runTransforms(t.deps, planTransform(dir, ['+dim_item']), { runId: 'dims' });
  expect(r.ok).toBe(true);
});

afterAll(async () => {
  await t?.close();
  rmSync(out, { recursive: true, force: true });
});

describe('publishing ML outputs', () => {
  it('round-trips a Parquet file made outside corrente, with lineage kind publish', async () => {
    const file = await mlFile('SELECT * FROM ROWS');
    const r = await publish(file, 'parquet', 'ml-1');
    expect(r).toMatchObject({ status: 'published', rows: 100, contract: 'model', runId: 'ml-1' });
    const [back] = await t.query('gold', 'gold', 'fact_forecasts', `SELECT count(*)::VARCHAR AS n, sum(yhat)::VARCHAR AS s, count(mape)::VARCHAR AS m, min(created_at)::VARCHAR AS c FROM t`);
    const duck = await openDuckSession({ threads: 1 });
    const [src] = await duck.rows(`SELECT count(*)::VARCHAR AS n, sum(yhat)::VARCHAR AS s, count(mape)::VARCHAR AS m, min(created_at)::VARCHAR AS c FROM read_parquet('${file}')`).finally(() => duck.close());
    expect(back).toEqual(src);
    const m = await currentRun(t.deps, 'gold', TABLE);
    expect(m!.lineage).toMatchObject({ kind: 'publish', model: 'fact_forecasts', inputs: [{ table: { schema: 'gold', name: 'dim_item' } }] });
    expect(m!.primaryKey).toEqual(['forecast_id']);
    expect(m!.columns.find((c) => c.name === 'yhat')).toMatchObject({ parquetType: 'DECIMAL(14,3)', nullable: false });
  });

  it('publishes a CSV, cast to the contract types', async () => {
    const r = await publish(await mlFile('SELECT * FROM ROWS', 'csv'), 'csv', 'ml-csv');
    expect(r).toMatchObject({ status: 'published', rows: 100 });
    const [back] = await t.query('gold', 'gold', 'fact_forecasts', `SELECT typeof(yhat) AS ty, sum(yhat)::VARCHAR AS s FROM t GROUP BY 1`);
    expect(back).toEqual({ ty: 'DECIMAL(14,3)', s: '7575.000' });
  });

  it('refuses a missing column, a type change, a NULL in a NOT NULL column; the current run stays', async () => {
    const before = await readCurrentPointer(t.deps.store, 'gold', TABLE);
    const missing = await publish(await mlFile('SELECT * EXCLUDE (mape) FROM ROWS')).catch((e: unknown) => e);
    expect(isCorrenteError(missing) && missing.code).toBe('CONFIG_INVALID');
    expect((missing as Error).message).toMatch(/f\d+\.parquet: missing column mape, which gold\.fact_forecasts declares \(.*transforms\/gold\/fact_forecasts\.sql\)$/);

    const typed = await publish(await mlFile('SELECT * REPLACE (yhat::DOUBLE AS yhat) FROM ROWS')).catch((e: unknown) => e);
    expect(isCorrenteError(typed) && typed.code).toBe('MODEL_FAILED');
    expect((typed as Error).message).toMatch(/column yhat is DOUBLE but gold\.fact_forecasts declares DECIMAL\(14,3\)/);

    const nulls = await publish(await mlFile(`SELECT * REPLACE (CASE WHEN forecast_id % 25 = 0 THEN NULL ELSE model_name END AS model_name) FROM ROWS`));
    expect(nulls).toMatchObject({ status: 'failed', errorCode: 'DATA_TEST_FAILED' });
    expect(nulls.tests.find((x) => x.name === 'not_null(model_name)')!.failingRows).toBe(4);
    expect(await readCurrentPointer(t.deps.store, 'gold', TABLE)).toEqual(before);
  });
});

describe('corrente publish (CLI)', () => {
  let s: CliSandbox;
  afterAll(async () => s?.cleanup());

  it('the one line a Python job runs', async () => {
    s = await createCliSandbox({ LAKE_DIR: t.lake.dir });
    writeFileSync(join(s.cwd, 'corrente.yaml'), `transform:\n  dir: ${dir}\n`);
    const file = await mlFile('SELECT * FROM ROWS');
    const r = await runCli(['publish', file, '--table', 'gold.fact_forecasts', '--key', 'forecast_id'], s.env, { cwd: s.cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^gold\.fact_forecasts: published, run transform-\S+, 100 rows from 1 file\(s\), contract: model\n$/);
    const bad = await runCli(['publish', file, '--table', 'core.fact_forecasts'], s.env, { cwd: s.cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('corrente: Cannot publish into core.fact_forecasts: the schema must be the layer. Use --table silver.fact_forecasts or --table gold.fact_forecasts\n');
  });
});
