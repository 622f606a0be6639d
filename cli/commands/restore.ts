/**
 * `corrente restore <schema.table> --into <url>`: the rollback. Recreates a table in
 * Postgres from a published run (the current one, or `--run`), verified against the
 * export-time checksums before it is committed.
 */
import { resolveTables } from '../../src/config/index.js';
import { restoreTable } from '../../src/pipeline/index.js';
import { withRuntime } from '../../src/runtime/index.js';
import { CorrenteError } from '../../src/shared/errors.js';
import { formatTableRef, parseTableRef } from '../../src/shared/table-schema.js';
import type { CliContext } from '../cli-context.js';

export interface RestoreFlags {
  into?: string;
  run?: string;
  layer?: string;
  as?: string;
  replace?: boolean;
  json?: boolean;
}

export async function restoreCommand(ctx: CliContext, name: string, flags: RestoreFlags): Promise<number> {
  const intoUrl = flags.into;
  if (!intoUrl) {
    throw new CorrenteError('CONFIG_INVALID', 'restore needs the database to restore into', {
      option: '--into',
      hint: 'Add --into postgres://user:password@host:5432/database',
    });
  }
  const target = resolveTables(ctx.config, [name])[0]!;
  const layer = (flags.layer ?? target.layer) as 'bronze' | 'silver' | 'gold';
  const as = flags.as !== undefined ? parseTableRef(flags.as) : undefined;
  return withRuntime(ctx.config, ctx.logger, async (runtime) => {
    const result = await restoreTable(
      { store: await runtime.store(), config: ctx.config.export, logger: ctx.logger },
      {
        bucket: ctx.config.storage.buckets[layer],
        table: target.table,
        intoUrl,
        replace: flags.replace === true,
        ...(flags.run !== undefined ? { runId: flags.run } : {}),
        ...(as ? { as } : {}),
      },
    );
    const shown = formatTableRef(result.target);
    if (flags.json) {
      process.stdout.write(
        `${JSON.stringify(
          {
            table: shown,
            source: formatTableRef(result.source),
            runId: result.runId,
            increments: result.increments,
            snapshotTime: result.snapshotTime,
            rows: result.rows,
            verified: result.verified,
            replaced: result.replaced,
            createdTypes: result.createdTypes,
            seconds: result.seconds,
            rowsPerSecond: Math.round(result.rows / Math.max(result.seconds.total, 1e-3)),
          },
          null,
          2,
        )}\n`,
      );
    } else {
      const merged = result.increments.length > 0;
      const how =
        result.verified === 'checksums' ? (merged ? 'row count and checksums match the merged lake state' : 'row count and checksums match the export') : 'row count matches (the run has no checksums)';
      const from = merged ? `run ${result.runId} merged with ${result.increments.length} increment(s) up to ${result.increments.at(-1)!}` : `run ${result.runId}`;
      process.stdout.write(
        `${shown}: restored ${result.rows} rows from ${from} (snapshot ${result.snapshotTime})${result.replaced ? ', replacing the previous table' : ''} in ${result.seconds.total.toFixed(1)} s; ${how}\n`,
      );
      if (result.createdTypes.length > 0) process.stdout.write(`  created types: ${result.createdTypes.join(', ')}\n`);
    }
    return 0;
  });
}
