/**
 * The watermark of an incremental table (`<schema>/<table>/_watermark.json`): where the next
 * window starts. Written only after the run that established it was published, so a run
 * that fails or is never published leaves the previous watermark, and its window is exported
 * again by the next run.
 */
import { z } from 'zod';
import type { ObjectStore } from '../storage/index.js';
import type { TableRef } from '../shared/table-schema.js';
import { watermarkKey } from './layout.js';
import type { Manifest } from './manifest.js';

export const WATERMARK_FORMAT = 'corrente.watermark/v1';

export const watermarkSchema = z.object({
  format: z.literal(WATERMARK_FORMAT),
  mode: z.enum(['column', 'xmin']),
  column: z.string().optional(),
  /** The bound, as Postgres text (a timestamp, an integer, or a `pg_snapshot`). */
  value: z.string(),
  /** The run that established it, and the full run the table's increments build on. */
  runId: z.string(),
  baseRunId: z.string(),
  /** Snapshot time of the base full run (for `fullEvery`). */
  baseSnapshotTime: z.string(),
  snapshotTime: z.string(),
  tableOid: z.string().optional(),
});
export type Watermark = z.infer<typeof watermarkSchema>;

/** The table's watermark, or undefined when none was published (or it is unreadable: a full run follows). */
export async function readWatermark(store: ObjectStore, bucket: string, table: TableRef, signal?: AbortSignal): Promise<Watermark | undefined> {
  const bytes = await store.getBytes(bucket, watermarkKey(table), { signal }).catch((err: unknown) => {
    if ((err as { code?: string }).code === 'STORAGE_BUCKET_MISSING') return undefined;
    throw err;
  });
  if (!bytes) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = watermarkSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Advances the watermark to the one a just-published run established. A no-op for runs of
 * tables without `incremental:`.
 */
export async function advanceWatermark(store: ObjectStore, manifest: Manifest, baseSnapshotTime: string, signal?: AbortSignal): Promise<Watermark | undefined> {
  const inc = manifest.incremental;
  if (!inc) return undefined;
  const watermark: Watermark = {
    format: WATERMARK_FORMAT,
    mode: inc.mode,
    ...(inc.column !== undefined ? { column: inc.column } : {}),
    value: inc.to,
    runId: manifest.runId,
    baseRunId: manifest.kind === 'incremental' ? inc.baseRunId! : manifest.runId,
    baseSnapshotTime,
    snapshotTime: manifest.source.snapshotTime,
    ...(inc.tableOid !== undefined ? { tableOid: inc.tableOid } : {}),
  };
  await store.putBytes(manifest.bucket, watermarkKey(manifest.table), JSON.stringify(watermark, null, 2), { signal });
  return watermark;
}
