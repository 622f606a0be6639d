/**
 * `corrente path <schema.table>`: the files of a table's current run, for engines that
 * read Parquet themselves (pandas, Polars, Spark, DuckDB with httpfs).
 */
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
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ table: formatTableRef(t.table), layer: t.layer, runId: t.pointer.runId, snapshotTime: t.pointer.snapshotTime, publishedAt: t.pointer.publishedAt, files, glob }, null, 2)}\n`);
    } else {
      process.stdout.write(flags.glob ? `${glob}\n` : files.map((f) => `${f}\n`).join(''));
    }
    return 0;
  } finally {
    await store.close();
  }
}
