/**
 * A published table as readers must see it: its full run, or, for a table exported with
 * `incremental:`, the merge of that run and the increments listed in its pointer (latest
 * row per primary key, tombstoned keys removed; `latestRowsSql`). Restore, verify, the
 * `corrente sql` views, the local catalog and the API read tables through this module, so
 * none of them can see the full run alone when increments exist.
 */
import { rename, rm, stat } from 'node:fs/promises';
import { duckType, latestRowsSql, openDuckSession, parquetRelation, type StateLayer } from '../duckdb/index.js';
import { readManifest, type CurrentPointer, type Manifest } from '../lake/index.js';
import type { ObjectStore } from '../storage/index.js';
import { CorrenteError } from '../shared/errors.js';
import { formatTableRef, quoteLiteral } from '../shared/table-schema.js';
import { readMemoryMb } from './read-memory.js';
import { localStateOf, type InputDeps, type LakeInput } from './transform-inputs.js';
import type { Layer } from './export-types.js';

/** The layers of a state (the full run first, then each increment) as `latestRowsSql` takes them. */
export function stateLayersOf(input: LakeInput): StateLayer[] {
  return [{ files: input.paths }, ...(input.increments ?? []).map((i) => ({ files: i.paths, tombstones: i.tombstones }))];
}

/** True when the state has increments to merge (its full run's files alone are not the table). */
function hasIncrements(input: LakeInput): boolean {
  return (input.increments?.length ?? 0) > 0;
}

/**
 * A relation (usable after `FROM`) holding the table's current rows: the run's files, or
 * the merge with its increments. `columns` types the relation when there is no data file.
 */
export function stateRelationSql(input: LakeInput, columns: Manifest['columns']): string {
  const layers = stateLayersOf(input);
  if (!layers.some((l) => l.files.length > 0)) return parquetRelation([], columns.map((c) => ({ name: c.name, duckType: duckType(c.type) })));
  if (!hasIncrements(input)) return parquetRelation(input.paths);
  return `(${latestRowsSql(layers, input.manifest.primaryKey)})`;
}

/** `pointer` cut after increment `runId` (the state as of that increment); undefined when the chain has no such increment. */
export function pointerUpTo(pointer: CurrentPointer, runId: string): CurrentPointer | undefined {
  const i = (pointer.increments ?? []).findIndex((inc) => inc.runId === runId);
  return i < 0 ? undefined : { ...pointer, increments: pointer.increments!.slice(0, i + 1) };
}

/**
 * The manifests of the increments of `pointer`, oldest first.
 * @throws CorrenteError `RUN_NOT_FOUND` when one is missing (the pointer names it, so the lake is damaged).
 */
export async function incrementManifests(store: ObjectStore, bucket: string, pointer: CurrentPointer, signal?: AbortSignal): Promise<Manifest[]> {
  const out: Manifest[] = [];
  for (const inc of pointer.increments ?? []) {
    const m = await readManifest(store, bucket, inc.manifestKey, signal);
    if (!m) {
      throw new CorrenteError('RUN_NOT_FOUND', `${bucket}/${inc.manifestKey} is missing: _current.json lists increment ${inc.runId} on top of run ${pointer.runId}`, {
        runId: inc.runId,
        hint: 'Export the table in full to start a new chain: corrente migrate --full-refresh --tables <schema.table>',
      });
    }
    out.push(m);
  }
  return out;
}

/**
 * The state of a published table described by `pointer` and its full run's `manifest`,
 * as local paths (remote files through the cache), plus the increments' manifests.
 */
export async function readTableState(
  deps: InputDeps,
  layer: Layer,
  manifest: Manifest,
  pointer: CurrentPointer,
  signal?: AbortSignal,
): Promise<{ input: LakeInput; increments: Manifest[] }> {
  const input = await localStateOf(deps, { layer, manifest, pointer }, signal);
  const increments = hasIncrements(input) ? await incrementManifests(deps.store, deps.buckets[layer], pointer, signal) : [];
  return { input, increments };
}

/**
 * The manifest describing a merged state for readers that show one run: the full run's,
 * with the latest increment's id, snapshot, columns and reconciled row count, and the merge
 * as its single file (`file`, a local path). Without increments, `manifest` itself.
 */
export function stateManifest(manifest: Manifest, increments: readonly Manifest[], file: { key: string; bytes: number }): Manifest {
  const last = increments.at(-1);
  if (!last) return manifest;
  const rows = last.incremental?.reconciliation?.lakeRows ?? manifest.totals.rows;
  return {
    ...manifest,
    runId: last.runId,
    source: last.source,
    columns: last.columns,
    primaryKey: last.primaryKey,
    ...(last.types ? { types: last.types } : {}),
    files: [{ key: file.key, uri: file.key, rows, bytes: file.bytes, sha256: '' }],
    totals: { rows, bytes: file.bytes, files: 1 },
  };
}

/**
 * Writes the merged rows of `input` into one Parquet file at `path` (atomically: a reader
 * sees no file or the whole one). Returns its size. A file already there is that merge:
 * the path is expected to name the state (its latest increment's run id), which never changes.
 */
export async function writeMergedParquet(input: LakeInput, columns: Manifest['columns'], path: string, options: { memoryMb: number; tempDir?: string }, signal?: AbortSignal): Promise<number> {
  const existing = await stat(path).catch(() => undefined);
  if (existing) return existing.size;
  const temp = `${path}.${process.pid}.${Date.now()}.part`;
  const duck = await openDuckSession({ memoryMb: readMemoryMb(options.memoryMb, [input.manifest]), threads: 1, ...(options.tempDir ? { tempDir: options.tempDir } : {}) });
  try {
    await duck.run(`COPY (SELECT * FROM ${stateRelationSql(input, columns)}) TO ${quoteLiteral(temp)} (FORMAT parquet, COMPRESSION zstd)`, signal);
    await rename(temp, path);
  } catch (err) {
    throw new CorrenteError('STORAGE_IO', `Could not merge ${formatTableRef(input.table)} with its ${input.increments?.length ?? 0} increment(s) into ${path}: ${(err as Error).message.split('\n')[0]}`, {
      table: formatTableRef(input.table),
      cause: err,
      hint: 'Check free space in the cache directory; the full run and its increments are unchanged',
    });
  } finally {
    duck.close();
    await rm(temp, { force: true });
  }
  return (await stat(path)).size;
}
