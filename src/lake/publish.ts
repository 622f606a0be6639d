/**
 * Publishing: the manifest is written after every data file, and the table's pointer is
 * swapped last, so readers see either the previous run or the complete new one.
 */
import type { ObjectStore } from '../storage/index.js';
import { isCorrenteError } from '../shared/errors.js';
import { currentKey, manifestKey } from './layout.js';
import { currentPointerSchema, parseManifest, type CurrentPointer, type Manifest } from './manifest.js';
import type { TableRef } from '../shared/table-schema.js';

export interface PublishResult {
  /** False when a newer snapshot was already published (the pointer is left alone). */
  pointerMoved: boolean;
  pointer: CurrentPointer;
}

/**
 * Writes `_manifest.json`, then `_current.json` unless a newer snapshot is already current.
 * An incremental run is appended to the pointer's `increments` instead, and only when the
 * pointer still names the full run it was computed against.
 */
export async function publishManifest(store: ObjectStore, manifest: Manifest, signal?: AbortSignal): Promise<PublishResult> {
  const key = manifestKey(manifest.table, manifest.runId);
  await store.putBytes(manifest.bucket, key, JSON.stringify(manifest, null, 2), { signal });
  if (manifest.kind === 'incremental') return appendIncrement(store, manifest, key, signal);
  const pointer: CurrentPointer = {
    runId: manifest.runId,
    manifestKey: key,
    snapshotTime: manifest.source.snapshotTime,
    publishedAt: manifest.timings.publishedAt ?? new Date().toISOString(),
    files: manifest.files.map((f) => f.key),
  };
  const existing = await readCurrentPointer(store, manifest.bucket, manifest.table, signal);
  // Increments count: a full run older than the newest increment would lose its rows.
  const newest = existing ? (existing.increments?.at(-1)?.snapshotTime ?? existing.snapshotTime) : '';
  if (existing && existing.runId !== manifest.runId && newest > manifest.source.snapshotTime) {
    return { pointerMoved: false, pointer: existing };
  }
  await store.putBytes(manifest.bucket, currentKey(manifest.table), JSON.stringify(pointer, null, 2), { signal });
  return { pointerMoved: true, pointer };
}

/** The table's current pointer, or undefined when nothing was published yet. */
export async function readCurrentPointer(store: ObjectStore, bucket: string, table: TableRef, signal?: AbortSignal): Promise<CurrentPointer | undefined> {
  const bytes = await store.getBytes(bucket, currentKey(table), { signal }).catch((err: unknown) => {
    // No bucket yet: nothing was ever published there.
    if (isCorrenteError(err) && err.code === 'STORAGE_BUCKET_MISSING') return undefined;
    throw err;
  });
  if (!bytes) return undefined;
  return currentPointerSchema.parse(JSON.parse(bytes.toString('utf8')));
}

/** Reads and validates a manifest (or staged manifest) by key. */
export async function readManifest(store: ObjectStore, bucket: string, key: string, signal?: AbortSignal): Promise<Manifest | undefined> {
  const bytes = await store.getBytes(bucket, key, { signal });
  return bytes ? parseManifest(bytes.toString('utf8'), store.uri(bucket, key)) : undefined;
}

/** Adds an incremental run to the pointer of its base full run (idempotent for a retried publish). */
async function appendIncrement(store: ObjectStore, manifest: Manifest, key: string, signal?: AbortSignal): Promise<PublishResult> {
  const existing = await readCurrentPointer(store, manifest.bucket, manifest.table, signal);
  const increments = existing?.increments ?? [];
  if (!existing || existing.runId !== manifest.incremental?.baseRunId) {
    // A full run was published meanwhile: this window is already inside it (or the base is gone).
    return { pointerMoved: false, pointer: existing ?? { runId: manifest.runId, manifestKey: key, snapshotTime: manifest.source.snapshotTime, publishedAt: '', files: [] } };
  }
  if (increments.some((i) => i.runId === manifest.runId)) return { pointerMoved: true, pointer: existing };
  const last = increments.at(-1);
  if (last && last.snapshotTime > manifest.source.snapshotTime) return { pointerMoved: false, pointer: existing };
  const tombstones = manifest.incremental.tombstones;
  const pointer: CurrentPointer = {
    ...existing,
    increments: [
      ...increments,
      {
        runId: manifest.runId,
        manifestKey: key,
        snapshotTime: manifest.source.snapshotTime,
        publishedAt: manifest.timings.publishedAt ?? new Date().toISOString(),
        files: manifest.files.map((f) => f.key),
        ...(tombstones ? { tombstones: [tombstones.key] } : {}),
      },
    ],
  };
  await store.putBytes(manifest.bucket, currentKey(manifest.table), JSON.stringify(pointer, null, 2), { signal });
  return { pointerMoved: true, pointer };
}
