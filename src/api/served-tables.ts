/**
 * The tables the API serves: the current published run of every table and model, its
 * pointer re-read at most every `refreshMs` so a new publish is picked up without a
 * restart (a manifest only when the pointer names another run). A request
 * that pages through a table names its run in the cursor and keeps reading that run's
 * files even after a newer one is published (until gc removes it). A table with
 * increments is served as its merged state, written once per increment into the cache.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { manifestKey, readManifest, runPrefix, type CurrentPointer, type Manifest } from '../lake/index.js';
import { currentTablesByLayer, incrementManifests, localFilesOf, readTableState, stateManifest, trimCache, writeMergedParquet, type Layer, type LayerTable } from '../pipeline/index.js';
import { CorrenteError } from '../shared/errors.js';
import type { ObjectStore } from '../storage/index.js';
import type { ServedColumn } from './table-query.js';

/** A table as the API shows it. */
export interface ServedTable {
  layer: Layer;
  /** `schema.table`, e.g. `core.dim_item` or, for a model, `gold.demand_vs_forecast`. */
  name: string;
  /** The name alone when no other table of the layer shares it. */
  shortName?: string;
  manifest: Manifest;
  publishedAt: string;
}

export interface ServedTablesOptions {
  store: ObjectStore;
  buckets: Readonly<Record<Layer, string>>;
  cacheDir: string;
  refreshMs: number;
  /** Bound of the S3 file cache, bytes. */
  cacheBytes: number;
}

/** A merged state served as one run: the chain to merge, and its merge once written. */
interface ServedState {
  layer: Layer;
  base: Manifest;
  pointer: CurrentPointer;
  manifest: Manifest;
  file?: Promise<string> | undefined;
}

/** Reads the lake's current runs (cached briefly) and resolves tables and their files. */
export class ServedTables {
  readonly #opts: ServedTablesOptions;
  #cached?: { at: number; tables: Promise<ServedTable[]> };
  #trimmedAt = 0;
  /** The current runs' manifests by bucket and key, from the previous read of the pointers. */
  #manifests = new Map<string, Manifest>();
  /** Merged states served (by their latest increment's run id): the chain to merge, and the merge being written. */
  readonly #states = new Map<string, ServedState>();

  constructor(options: ServedTablesOptions) {
    this.#opts = options;
  }

  /** Every current table of every layer. */
  list(): Promise<ServedTable[]> {
    const now = Date.now();
    if (!this.#cached || now - this.#cached.at > this.#opts.refreshMs) {
      const tables = this.#read();
      this.#cached = { at: now, tables };
      // A failed read is not cached: the next request tries again (e.g. MinIO back up).
      tables.catch(() => {
        if (this.#cached?.tables === tables) this.#cached = undefined;
      });
    }
    return this.#cached.tables;
  }

  async #read(): Promise<ServedTable[]> {
    const current = await currentTablesByLayer(this.#opts.store, this.#opts.buckets);
    const out: ServedTable[] = [];
    const manifests = new Map<string, Manifest>();
    for (const t of current) {
      // A run's manifest never changes: only a pointer naming another run needs a read.
      const key = `${t.bucket}/${t.pointer.manifestKey}`;
      const manifest = this.#manifests.get(key) ?? (await readManifest(this.#opts.store, t.bucket, t.pointer.manifestKey));
      if (!manifest) continue;
      manifests.set(key, manifest);
      out.push(served(t, await this.#stateOf(t, manifest), current));
    }
    this.#manifests = manifests;
    return out;
  }

  /**
   * What readers see of `t`: the full run, or, with increments, the merged state as one run
   * named after the latest increment (remembered, so its cursor pages keep reading it).
   */
  async #stateOf(t: LayerTable, base: Manifest): Promise<Manifest> {
    const pointer = t.pointer;
    if (pointer.runId !== base.runId || (pointer.increments?.length ?? 0) === 0) return base;
    const known = this.#states.get(pointer.increments!.at(-1)!.runId);
    if (known) return known.manifest;
    const increments = await incrementManifests(this.#opts.store, t.bucket, pointer);
    const bytes = [base, ...increments].reduce((n, m) => n + m.totals.bytes, 0);
    const manifest = stateManifest(base, increments, { key: `${runPrefix(base.table, increments.at(-1)!.runId)}merged.parquet`, bytes });
    this.#states.set(manifest.runId, { layer: t.layer, base, pointer, manifest });
    // Old states are only kept for cursors still paging through them.
    for (const key of this.#states.keys()) if (this.#states.size > 256) this.#states.delete(key);
    return manifest;
  }

  /**
   * The table named `name` (`schema.table`, or the short name) in `layer`.
   * @throws CorrenteError `TABLE_NOT_FOUND` (HTTP 404) listing what is served.
   */
  async resolve(layer: string, name: string): Promise<ServedTable> {
    const tables = await this.list();
    const found = tables.find((t) => t.layer === layer && (t.name === name || t.shortName === name));
    if (found) return found;
    const inLayer = tables.filter((t) => t.layer === layer).map((t) => t.shortName ?? t.name);
    throw new CorrenteError('TABLE_NOT_FOUND', `No published table ${JSON.stringify(name.slice(0, 128))} in layer ${JSON.stringify(layer.slice(0, 16))}`, {
      hint: inLayer.length > 0 ? `Published in ${layer}: ${inLayer.join(', ')}` : `Nothing is published in ${layer} yet: run corrente migrate / corrente transform`,
    });
  }

  /**
   * The manifest of run `runId` of the same table (a cursor's run).
   * @throws CorrenteError `RUN_NOT_FOUND` (HTTP 410) when that run was removed.
   */
  async pinned(table: ServedTable, runId: string): Promise<Manifest> {
    if (runId === table.manifest.runId) return table.manifest;
    const state = this.#states.get(runId);
    if (state) return state.manifest;
    const bucket = this.#opts.buckets[table.layer];
    const manifest = await readManifest(this.#opts.store, bucket, manifestKey(table.manifest.table, runId));
    // An increment alone is only the rows of its window, never the table.
    if (!manifest || manifest.kind === 'incremental') {
      throw new CorrenteError('RUN_NOT_FOUND', `Run ${runId} of ${table.name} is no longer available`, { runId, hint: 'Start paging again without cursor (it reads the current run)' });
    }
    return manifest;
  }

  /** Local paths of a run's files (downloaded into the cache for S3, which is then trimmed). */
  async files(layer: Layer, manifest: Manifest): Promise<string[]> {
    const state = this.#states.get(manifest.runId);
    const paths = state ? [await this.#mergedFile(state)] : (await localFilesOf({ store: this.#opts.store, buckets: this.#opts.buckets, cacheDir: this.#opts.cacheDir }, layer, manifest)).paths;
    // Trimming walks the cache directory: at most every 30 s, never on every request.
    const remote = manifest.files.length > 0 && this.#opts.store.localPath(this.#opts.buckets[layer], manifest.files[0]!.key) === undefined;
    if ((remote || state) && Date.now() - this.#trimmedAt > 30_000) {
      this.#trimmedAt = Date.now();
      await trimCache(this.#opts.cacheDir, this.#opts.cacheBytes, new Set((await this.list()).map((t) => t.manifest.runId)).add(manifest.runId));
    }
    return paths;
  }

  /** The merge of a state as one Parquet file in the cache, written by the first request that needs it. */
  #mergedFile(state: ServedState): Promise<string> {
    state.file ??= (async () => {
      const deps = { store: this.#opts.store, buckets: this.#opts.buckets, cacheDir: this.#opts.cacheDir };
      const { input } = await readTableState(deps, state.layer, state.base, state.pointer);
      const path = join(this.#opts.cacheDir, this.#opts.buckets[state.layer], ...state.manifest.files[0]!.key.split('/'));
      await mkdir(dirname(path), { recursive: true });
      await writeMergedParquet(input, state.manifest.columns, path, { memoryMb: 512 });
      return path;
    })();
    state.file.catch(() => {
      state.file = undefined;
    });
    return state.file;
  }
}

function served(t: LayerTable, manifest: Manifest, all: readonly LayerTable[]): ServedTable {
  const unique = all.filter((o) => o.layer === t.layer && o.table.name === t.table.name).length === 1;
  return {
    layer: t.layer,
    name: `${t.table.schema}.${t.table.name}`,
    ...(unique ? { shortName: t.table.name } : {}),
    manifest,
    publishedAt: t.pointer.publishedAt,
  };
}

/** The columns of a run, as the query builder takes them. */
export function servedColumns(manifest: Manifest): ServedColumn[] {
  return manifest.columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable }));
}
