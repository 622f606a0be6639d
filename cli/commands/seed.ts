/**
 * `corrente seed`: creates the sample Nova Corrente tables in the configured Postgres.
 */
import { seedSample, type SeededTable } from '../../src/demo/index.js';
import { createPgPool, describeTarget, mapPgError } from '../../src/postgres/index.js';
import { CorrenteError } from '../../src/shared/errors.js';
import { formatTableRef } from '../../src/shared/table-schema.js';
import type { CliContext } from '../cli-context.js';

export function parseRows(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value.replace(/[_,]/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new CorrenteError('CONFIG_INVALID', `--rows ${JSON.stringify(value)} is not a positive whole number`, { hint: 'e.g. --rows 1000000' });
  return n;
}

export async function seed(ctx: CliContext, rows: number, reseed: boolean): Promise<SeededTable[]> {
  const pool = createPgPool(ctx.config.postgres, ctx.logger);
  try {
    const started = Date.now();
    const out = await seedSample(pool, {
      factRows: rows,
      reseed,
      onProgress: (table, done, total) => process.stdout.write(`  seeding ${table}: ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} rows\n`),
    }).catch((err: unknown) => {
      throw mapPgError(err, describeTarget(ctx.config.postgres.url));
    });
    for (const t of out) process.stdout.write(`  ${formatTableRef(t.table)}: ${t.rows.toLocaleString('en-US')} rows${t.created ? '' : ' (already seeded)'}\n`);
    process.stdout.write(`seeded in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    return out;
  } finally {
    await pool.end();
  }
}

export async function seedCommand(ctx: CliContext, flags: { rows?: string; reseed?: boolean }): Promise<number> {
  await seed(ctx, parseRows(flags.rows, 1_000_000), flags.reseed ?? false);
  return 0;
}
