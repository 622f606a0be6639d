/**
 * The tables the API serves: the current published run of every table and model, re-read
 * at most every `refreshMs` so a new publish is picked up without a restart. A request
 * that pages through a table names its run in the cursor and keeps reading that run's
 * files even after a newer one is published (until gc removes it).
 */
import { stat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { manifestKey, readManifest, type Manifest } from '../lake/index.js';
import { currentTablesByLayer, localFilesOf, type Layer, type LayerTable } from '../pipeline/index.js';
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

/** Reads the lake's current runs (cached briefly) and resolves tables and their files. */
export class ServedTables {
  readonly #opts: ServedTablesOptions;
  #cached?: { at: number; tables: Promise<ServedTable[]> };
  #trimmedAt = 0;

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
    for (const t of current) {
      const manifest = await readManifest(this.#opts.store, t.bucket, t.pointer.manifestKey);
      if (manifest) out.push(served(t, manifest, current));
    }
    return out;
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
    const bucket = this.#opts.buckets[table.layer];
    const manifest = await readManifest(this.#opts.store, bucket, manifestKey(table.manifest.table, runId));
    if (!manifest) {
      throw new CorrenteError('RUN_NOT_FOUND', `Run ${runId} of ${table.name} is no longer available`, { runId, hint: 'Start paging again without cursor (it reads the current run)' });
    }
    return manifest;
  }

  /** Local paths of a run's files (downloaded into the cache for S3, which is then trimmed). */
  async files(layer: Layer, manifest: Manifest): Promise<string[]> {
    const input = await localFilesOf({ store: this.#opts.store, buckets: this.#opts.buckets, cacheDir: this.#opts.cacheDir }, layer, manifest);
    // Trimming walks the cache directory: at most every 30 s, never on every request.
    const remote = manifest.files.length > 0 && this.#opts.store.localPath(this.#opts.buckets[layer], manifest.files[0]!.key) === undefined;
    if (remote && Date.now() - this.#trimmedAt > 30_000) {
      this.#trimmedAt = Date.now();
      await this.#trimCache(new Set((await this.list()).map((t) => t.manifest.runId)).add(manifest.runId));
    }
    return input.paths;
  }

  /** Removes the least recently used run folders of the cache beyond its bound, never a current one. */
  async #trimCache(keep: ReadonlySet<string>): Promise<void> {
    const runs = await runFolders(this.#opts.cacheDir);
    let total = runs.reduce((n, r) => n + r.bytes, 0);
    for (const r of runs.sort((a, b) => a.usedAt - b.usedAt)) {
      if (total <= this.#opts.cacheBytes) break;
      if (keep.has(r.runId)) continue;
      await rm(r.path, { recursive: true, force: true });
      total -= r.bytes;
    }
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

/** `run-<id>` folders under the cache (any depth), with their size and last access. */
async function runFolders(root: string): Promise<{ path: string; runId: string; bytes: number; usedAt: number }[]> {
  const out: { path: string; runId: string; bytes: number; usedAt: number }[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const path = join(dir, e.name);
      if (e.name.startsWith('run-')) {
        let bytes = 0;
        let usedAt = 0;
        for (const f of await readdir(path, { withFileTypes: true }).catch(() => [])) {
          if (!f.isFile()) continue;
          const s = await stat(join(path, f.name)).catch(() => undefined);
          bytes += s?.size ?? 0;
          usedAt = Math.max(usedAt, s?.atimeMs ?? 0, s?.mtimeMs ?? 0);
        }
        out.push({ path, runId: e.name.slice(4), bytes, usedAt });
      } else if (depth < 4) {
        await walk(path, depth + 1);
      }
    }
  };
  await walk(root, 0);
  return out;
}
