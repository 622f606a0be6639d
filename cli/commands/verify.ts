/**
 * `corrente verify <schema.table>`: re-checks the published files of a table against the
 * export-time source fingerprint, and reports whether the source has changed since. With
 * increments: each run against its own fingerprint, and the merged state against the source.
 */
import { resolveTables } from '../../src/config/index.js';
import { verifyPublished } from '../../src/pipeline/index.js';
import { withRuntime } from '../../src/runtime/index.js';
import { formatTableRef } from '../../src/shared/table-schema.js';
import type { CliContext } from '../cli-context.js';

export async function verifyCommand(ctx: CliContext, name: string, flags: { json?: boolean; layer?: string }): Promise<number> {
  const target = resolveTables(ctx.config, [name])[0]!;
  const table = target.table;
  const layer = (flags.layer ?? target.layer) as 'bronze' | 'silver' | 'gold';
  const bucket = ctx.config.storage.buckets[layer];
  return withRuntime(ctx.config, ctx.logger, async (runtime) => {
    const [store, pool] = await Promise.all([runtime.store(), runtime.pool()]);
    const check = await verifyPublished({ store, pool, postgresUrl: ctx.config.postgres.url, config: ctx.config.export }, bucket, table);
    const ok = check.integrity.length === 0;
    const latest = check.increments.at(-1) ?? check.manifest;
    const increments = check.increments.map((m) => m.runId);
    if (flags.json) {
      process.stdout.write(
        `${JSON.stringify({ table: formatTableRef(table), runId: check.manifest.runId, increments, snapshotTime: latest.source.snapshotTime, rows: check.rows, ok, integrity: check.integrity, sourceChanged: check.drift.length > 0, drift: check.drift }, null, 2)}\n`,
      );
    } else {
      const shown = formatTableRef(table);
      const chain = increments.length > 0 ? ` + ${increments.length} increment(s) up to ${increments.at(-1)!} (merged)` : '';
      process.stdout.write(`${shown}: run ${check.manifest.runId}${chain}, ${check.rows} rows, snapshot ${latest.source.snapshotTime}\n`);
      const what = increments.length > 0 ? 'each run matches the source rows it exported' : 'files match the source as of the snapshot';
      process.stdout.write(ok ? `  ${what}: OK\n` : `  FILES DO NOT MATCH the snapshot:\n${check.integrity.map((l) => `    ${l}`).join('\n')}\n`);
      process.stdout.write(check.drift.length === 0 ? '  source unchanged since the snapshot\n' : `  source has changed since the snapshot (${check.drift.length} difference(s)); run corrente migrate to refresh\n`);
    }
    return ok ? 0 : 1;
  });
}
