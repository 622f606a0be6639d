/**
 * `corrente path <schema.table>`: the files of a table's current run, for engines that
 * read Parquet themselves (pandas, Polars, Spark, DuckDB with httpfs). A table exported
 * with `incremental:` has increments on top of that run: the files alone are not the
 * table, so stderr says so and `--json` gives the primary key and the increments to merge.
 */
import { readManifest } from '../../src/lake/index.js';
import { findCurrentTable } from '../../src/pipeline/index.js';
import { createObjectStore } from '../../src/storage/index.js';
import { formatTableRef, parseTableRef } from '../../src/shared/table-schema.js';
import type { CliContext } from '../cli-context.js';

export interface PathFlags {
  layer?: string;
  glob?: boolean;
  json?: boolean;
}

export async function pathCommand(ctx: CliContext, name: string, flags: PathFlags): Promise<number> {
  const store = createObjectStore(ctx.config.storage);
  try {
    const t = await findCurrentTable(store, ctx.config.storage.buckets, parseTableRef(name), flags.layer as 'bronze' | 'silver' | 'gold' | undefined);
    const files = t.pointer.files.map((key) => store.localPath(t.bucket, key) ?? store.uri(t.bucket, key));
    // The run directory holds exactly the run's data files (plus JSON): a glob any engine reads.
    const manifestAt = store.localPath(t.bucket, t.pointer.manifestKey) ?? store.uri(t.bucket, t.pointer.manifestKey);
    const glob = manifestAt.replace(/_manifest\.json$/, '*.parquet');
    const at = (key: string): string => store.localPath(t.bucket, key) ?? store.uri(t.bucket, key);
    const chain = t.pointer.increments ?? [];
    const primaryKey = chain.length > 0 ? ((await readManifest(store, t.bucket, t.pointer.manifestKey))?.primaryKey ?? []) : undefined;
    if (flags.json) {
      const merge =
        chain.length > 0
          ? {
              primaryKey,
              increments: chain.map((i) => ({ runId: i.runId, snapshotTime: i.snapshotTime, files: i.files.map(at), tombstones: (i.tombstones ?? []).map(at) })),
              howToMerge: 'per primary key, the row of the latest increment holding it, else the full run\'s; keys whose latest event is a tombstone are deleted',
            }
          : {};
      process.stdout.write(`${JSON.stringify({ table: formatTableRef(t.table), layer: t.layer, runId: t.pointer.runId, snapshotTime: t.pointer.snapshotTime, publishedAt: t.pointer.publishedAt, files, glob, ...merge }, null, 2)}\n`);
    } else {
      process.stdout.write(flags.glob ? `${glob}\n` : files.map((f) => `${f}\n`).join(''));
      if (chain.length > 0) {
        process.stderr.write(
          `note: ${formatTableRef(t.table)} has ${chain.length} increment(s) on top of run ${t.pointer.runId}: these files hold that full run only, and must be merged with the increments ` +
            `by primary key (${(primaryKey ?? []).join(', ')}) to give the table. Query it merged with corrente sql, or get the increments and tombstones with --json\n`,
        );
      }
    }
    return 0;
  } finally {
    await store.close();
  }
}
