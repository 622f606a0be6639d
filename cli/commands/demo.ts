/**
 * `corrente demo`: the main job end to end on one machine: seed the sample schema,
 * migrate the three tables with an in-process worker, verify, and prove with DuckDB.
 */
import { resolve } from 'node:path';
import { SAMPLE_TABLES } from '../../src/demo/index.js';
import { queryPublished } from '../../src/pipeline/index.js';
import { withRuntime, type Runtime } from '../../src/runtime/index.js';
import { formatTableRef } from '../../src/shared/table-schema.js';
import type { CliContext } from '../cli-context.js';
import { runMigration } from './migrate.js';
import { parseRows, seed } from './seed.js';

export async function demoCommand(ctx: CliContext, flags: { rows?: string; reseed?: boolean }): Promise<number> {
  const rows = parseRows(flags.rows, 1_000_000);
  // One runtime for the three steps: one pool, one store.
  return withRuntime(ctx.config, ctx.logger, (runtime) => demo(runtime, rows, flags.reseed ?? false));
}

async function demo(runtime: Runtime, rows: number, reseed: boolean): Promise<number> {
  const { config } = runtime;
  process.stdout.write(`1/3 seeding the sample schema (${rows.toLocaleString('en-US')} fact rows) in ${config.postgres.url.replace(/:[^:@/]*@/, ':***@')}\n`);
  await seed(runtime, rows, reseed);
  process.stdout.write(`\n2/3 migrating ${SAMPLE_TABLES.map(formatTableRef).join(', ')} with an in-process worker\n`);
  const code = await runMigration(runtime, { tables: SAMPLE_TABLES.map(formatTableRef).join(','), inline: true, wait: true });
  if (code !== 0) return code;
  process.stdout.write(`\n3/3 reading the lake back with DuckDB\n`);
  const store = await runtime.store();
  const bucket = config.storage.buckets.bronze;
  let factRun = '';
  for (const t of SAMPLE_TABLES) {
    const p = await queryPublished(store, bucket, t);
    if (t.name === 'fact_demand_daily') factRun = p.runId;
    process.stdout.write(`  ${formatTableRef(t).padEnd(26)} ${p.rows.toLocaleString('en-US').padStart(12)} rows in ${p.files.length} file(s), run ${p.runId}\n`);
  }
  if (config.storage.kind === 'local') {
    const lake = resolve(config.storage.lakeDir);
    // The published run's own directory: a table keeps several runs side by side.
    process.stdout.write(`\nQuery it (DuckDB CLI or any DuckDB client), e.g.:\n  SELECT date_trunc('month', date) AS month, sum(quantity) FROM read_parquet('${lake}/${bucket}/core/fact_demand_daily/run-${factRun}/*.parquet') GROUP BY 1 ORDER BY 1;\n`);
    process.stdout.write(`(each table keeps one run-<id> folder per kept run; <table>/_current.json names the published one)\n`);
  }
  return 0;
}
