/**
 * `corrente demo`: the main job end to end on one machine: seed the sample schema,
 * migrate the three tables with an in-process worker, verify, and prove with DuckDB.
 */
import { dirname, resolve } from 'node:path';
import { SAMPLE_TABLES } from '../../src/demo/index.js';
import { createTransformDeps, planTransform, queryCurrent, queryPublished, runTransforms } from '../../src/pipeline/index.js';
import { newRunId } from '../../src/lake/index.js';
import { withRuntime, type Runtime } from '../../src/runtime/index.js';
import { existsSync } from 'node:fs';
import { CorrenteError } from '../../src/shared/errors.js';
import { formatTableRef } from '../../src/shared/table-schema.js';
import { shippedTransformsDir } from '../../src/transform/index.js';
import type { CliContext } from '../cli-context.js';
import { runMigration } from './migrate.js';
import { parseRows, seed } from './seed.js';
import { formatCount } from '../render.js';

export async function demoCommand(ctx: CliContext, flags: { rows?: string; reseed?: boolean }): Promise<number> {
  const rows = parseRows(flags.rows, 1_000_000);
  // One runtime for the three steps: one pool, one store.
  return withRuntime(ctx.config, ctx.logger, (runtime) => demo(runtime, rows, flags.reseed ?? false));
}

async function demo(runtime: Runtime, rows: number, reseed: boolean): Promise<number> {
  const { config } = runtime;
  process.stdout.write(`1/4 seeding the sample schema (${formatCount(rows)} fact rows) in ${config.postgres.url.replace(/:[^:@/]*@/, ':***@')}\n`);
  await seed(runtime, rows, reseed);
  process.stdout.write(`\n2/4 migrating ${SAMPLE_TABLES.map(formatTableRef).join(', ')} with an in-process worker\n`);
  const code = await runMigration(runtime, { tables: SAMPLE_TABLES.map(formatTableRef).join(','), inline: true, wait: true });
  if (code !== 0) return code;
  process.stdout.write(`\n3/4 reading the lake back with DuckDB\n`);
  const store = await runtime.store();
  const bucket = config.storage.buckets.bronze;
  let factRun = '';
  for (const t of SAMPLE_TABLES) {
    const p = await queryPublished(store, bucket, t);
    if (t.name === 'fact_demand_daily') factRun = p.runId;
    const merged = p.increments.length > 0 ? ` + ${p.increments.length} increment(s), merged` : '';
    process.stdout.write(`  ${formatTableRef(t).padEnd(26)} ${formatCount(p.rows).padStart(12)} rows in ${p.files.length} file(s), run ${p.runId}${merged}\n`);
  }
  if (config.storage.kind === 'local') {
    const lake = resolve(config.storage.lakeDir);
    // The published run's own directory: a table keeps several runs side by side.
    process.stdout.write(`\nQuery it (DuckDB CLI or any DuckDB client), e.g.:\n  SELECT date_trunc('month', date) AS month, sum(quantity) FROM read_parquet('${lake}/${bucket}/core/fact_demand_daily/run-${factRun}/*.parquet') GROUP BY 1 ORDER BY 1;\n`);
    process.stdout.write(`(each table keeps one run-<id> folder per kept run; <table>/_current.json names the published one)\n`);
    // A second demo on the same tables exports the facts incrementally (their default).
    process.stdout.write(`(a table with increments needs merging by primary key: query it as one view with corrente sql "SELECT count(*) FROM bronze.fact_demand_daily")\n`);
  }
  return buildModels(runtime, store);
}

/** Step 4: the silver and gold models (./transforms, else the ones shipped with corrente), then a query over the mart. */
async function buildModels(runtime: Runtime, store: Awaited<ReturnType<Runtime['store']>>): Promise<number> {
  const { config } = runtime;
  const dir = existsSync(config.transform.dir) ? config.transform.dir : shippedTransformsDir();
  if (!dir) throw new CorrenteError('CONFIG_INVALID', `No transforms directory: ${config.transform.dir} does not exist`, { option: 'transform.dir', hint: 'Create it, or set transform.dir in corrente.yaml' });
  const plan = planTransform(dir);
  process.stdout.write(`\n4/4 building ${plan.models.length} silver and gold models from ${dir}\n`);
  const deps = createTransformDeps(store, config, runtime.logger);
  const result = await runTransforms(deps, plan, {
    runId: newRunId({ kind: 'transform' }),
    onModel: (e) => {
      const o = e.outcome;
      if (e.phase !== 'end' || !o) return;
      const tests = o.tests.length ? `, ${o.tests.filter((t) => t.failingRows === 0).length}/${o.tests.length} tests passed` : '';
      process.stdout.write(`  ${`${o.layer}.${o.model}`.padEnd(32)} ${o.status.padEnd(9)} ${formatCount(o.rows ?? 0).padStart(12)} rows${tests}${o.error ? `: ${o.error}` : ''}\n`);
    },
  });
  if (!result.ok) throw new CorrenteError('MODEL_FAILED', result.models.find((m) => m.status !== 'published')!.error ?? 'a model was not published');
  const sql =
    'SELECT iso_year, iso_week, sum(actual_quantity) AS actual, sum(forecast_quantity) AS forecast, ' +
    'round(100 * sum(abs_error) / nullif(sum(actual_quantity), 0), 1) AS wape_pct FROM t GROUP BY ALL ORDER BY 1 DESC, 2 DESC LIMIT 5';
  // Decimals read back as text: exact, as the lake holds them.
  const mart = await queryCurrent(deps, 'gold', { schema: 'gold', name: 'demand_vs_forecast' }, `SELECT * REPLACE (actual::VARCHAR AS actual, forecast::VARCHAR AS forecast) FROM (${sql})`);
  const where = config.storage.kind === 'local' ? `read_parquet('${dirname(resolve(mart.files[0]!))}/*.parquet')` : `gold.demand_vs_forecast (run ${mart.runId})`;
  process.stdout.write(`\nDemand vs forecast per ISO week (gold.demand_vs_forecast, run ${mart.runId}):\n  ${sql.replace(' FROM t ', ` FROM ${where} `)};\n`);
  process.stdout.write(`  ${'year'.padStart(4)} ${'week'.padStart(4)} ${'actual'.padStart(14)} ${'forecast'.padStart(14)} ${'WAPE %'.padStart(8)}\n`);
  for (const r of mart.rows) {
    process.stdout.write(`  ${String(r.iso_year).padStart(4)} ${String(r.iso_week).padStart(4)} ${String(r.actual).padStart(14)} ${String(r.forecast).padStart(14)} ${String(r.wape_pct ?? '-').padStart(8)}\n`);
  }
  return 0;
}
