/**
 * `corrente seed`: creates the sample Nova Corrente tables in the configured Postgres.
 */
import { seedSample, type SeededTable } from '../../src/demo/index.js';
import { describeTarget, mapPgError } from '../../src/postgres/index.js';
import { withRuntime, type Runtime } from '../../src/runtime/index.js';
import { CorrenteError } from '../../src/shared/errors.js';
import { formatTableRef } from '../../src/shared/table-schema.js';
import type { CliContext } from '../cli-context.js';
import { formatCount } from '../render.js';

export function parseRows(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value.replace(/[_,]/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new CorrenteError('CONFIG_INVALID', `--rows ${JSON.stringify(value)} is not a positive whole number`, { hint: 'e.g. --rows 1000000' });
  return n;
}

/** Seeds the sample tables through `runtime`'s pool (which the caller closes). */
export async function seed(runtime: Runtime, rows: number, reseed: boolean): Promise<SeededTable[]> {
  const pool = await runtime.pool();
  const started = Date.now();
  const out = await seedSample(pool, {
    factRows: rows,
    reseed,
    onProgress: (table, done, total) => process.stdout.write(`  seeding ${table}: ${formatCount(done)} / ${formatCount(total)} rows\n`),
  }).catch((err: unknown) => {
    throw mapPgError(err, describeTarget(runtime.config.postgres.url));
  });
  for (const t of out) process.stdout.write(`  ${formatTableRef(t.table)}: ${formatCount(t.rows)} rows${t.created ? '' : ' (already seeded)'}\n`);
  process.stdout.write(`seeded in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return out;
}

export async function seedCommand(ctx: CliContext, flags: { rows?: string; reseed?: boolean }): Promise<number> {
  const rows = parseRows(flags.rows, 1_000_000);
  await withRuntime(ctx.config, ctx.logger, (runtime) => seed(runtime, rows, flags.reseed ?? false));
  return 0;
}
