/**
 * The inputs of a model: the current published run of each exported table (`source`) and
 * model (`ref`), as local Parquet paths DuckDB can read. A local lake is read in place;
 * files in S3 are downloaded once into a cache keyed by bucket, table and run id (DuckDB
 * cannot load httpfs here), so a second model reading the same run reuses them.
 */
import { readCurrentPointer, readManifest, type CurrentPointer, type Manifest } from '../lake/index.js';
import type { ObjectStore } from '../storage/index.js';
import { CorrenteError } from '../shared/errors.js';
import type { TableRef } from '../shared/table-schema.js';
import { localPathsOf } from './cached-files.js';
import type { Layer } from './export-types.js';

/** One input as read by a model run. */
export interface LakeInput {
  layer: Layer;
  bucket: string;
  table: TableRef;
  manifest: Manifest;
  /** Local paths of the run's files, in manifest order. */
  paths: string[];
  /**
   * Incremental runs published on top of the run (oldest first), as local paths of their
   * rows and tombstones: the input is then the merge, latest row per primary key.
   */
  increments?: { runId: string; snapshotTime: string; paths: string[]; tombstones: string[] }[];
}

/** Where to find inputs. */
export interface InputDeps {
  store: ObjectStore;
  buckets: Readonly<Record<Layer, string>>;
  /** Local cache for files of remote stores. */
  cacheDir: string;
}

/** The lake table a model is stored as: schema = its layer, in its layer's bucket. */
export function modelTableRef(layer: 'silver' | 'gold', name: string): TableRef {
  return { schema: layer, name };
}

/** The current pointer of a table in one layer and the manifest it names; undefined when nothing was published. */
async function currentPublished(deps: Pick<InputDeps, 'store' | 'buckets'>, layer: Layer, table: TableRef, signal?: AbortSignal): Promise<{ pointer: CurrentPointer; manifest: Manifest } | undefined> {
  const bucket = deps.buckets[layer];
  const pointer = await readCurrentPointer(deps.store, bucket, table, signal);
  if (!pointer) return undefined;
  const manifest = await readManifest(deps.store, bucket, pointer.manifestKey, signal);
  if (!manifest) {
    throw new CorrenteError('RUN_NOT_FOUND', `${bucket}/${table.schema}/${table.name}: _current.json names run ${pointer.runId}, whose manifest is missing`, {
      runId: pointer.runId,
      hint: 'Re-publish the table (corrente migrate, or corrente transform for a model)',
    });
  }
  return { pointer, manifest };
}

/** The current manifest of a table in one layer, or undefined when nothing was published. */
export async function currentRun(deps: Pick<InputDeps, 'store' | 'buckets'>, layer: Layer, table: TableRef, signal?: AbortSignal): Promise<Manifest | undefined> {
  return (await currentPublished(deps, layer, table, signal))?.manifest;
}

/**
 * The current run of an exported table (with the pointer naming it, which lists its
 * increments), looked up in bronze, then silver and gold (tables configured with another
 * `layer`).
 */
export async function currentSourceRun(deps: Pick<InputDeps, 'store' | 'buckets'>, table: TableRef, signal?: AbortSignal): Promise<{ layer: Layer; manifest: Manifest; pointer: CurrentPointer } | undefined> {
  for (const layer of ['bronze', 'silver', 'gold'] as const) {
    const found = await currentPublished(deps, layer, table, signal);
    if (found) return { layer, ...found };
  }
  return undefined;
}

/** Local paths of a run's files: in place for a local lake, else through the cache. */
export async function localFilesOf(deps: InputDeps, layer: Layer, manifest: Manifest, signal?: AbortSignal): Promise<LakeInput> {
  const bucket = deps.buckets[layer];
  const paths = await localPathsOf(deps.store, deps.cacheDir, bucket, manifest.files, signal);
  return { layer, bucket, table: manifest.table, manifest, paths };
}

/**
 * The current state of an exported table: its run's files, plus the increments published
 * on top of it (incremental export), so a model reads the table as it is now.
 */
export async function localStateOf(deps: InputDeps, source: { layer: Layer; manifest: Manifest; pointer: CurrentPointer }, signal?: AbortSignal): Promise<LakeInput> {
  const { manifest, pointer } = source;
  const input = await localFilesOf(deps, source.layer, manifest, signal);
  const increments = pointer.runId === manifest.runId ? (pointer.increments ?? []) : [];
  if (increments.length === 0) return input;
  const out: NonNullable<LakeInput['increments']> = [];
  for (const inc of increments) {
    out.push({
      runId: inc.runId,
      snapshotTime: inc.snapshotTime,
      paths: await localPathsOf(deps.store, deps.cacheDir, input.bucket, inc.files.map((key) => ({ key })), signal),
      tombstones: await localPathsOf(deps.store, deps.cacheDir, input.bucket, (inc.tombstones ?? []).map((key) => ({ key })), signal),
    });
  }
  return { ...input, increments: out };
}
