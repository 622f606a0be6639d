/**
 * The lake as named tables: the current run of every table and model, as DuckDB views
 * (`corrente sql`), as file lists (`corrente path`), and, for a local lake, as a DuckDB
 * catalog file next to the buckets (`duckdb lake/catalog.duckdb`) rebuilt on every publish.
 * A table with increments is a view over its merged state (`lake-state.ts`).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localPathsOf } from './cached-files.js';
import { readTableState, stateLayersOf } from './lake-state.js';
import { openLakeSession, writeCatalogFile, type DuckSession, type LakeView } from '../duckdb/index.js';
import { listCurrentTables, readManifest, type CurrentTable } from '../lake/index.js';
import { LocalDirStore, type ObjectStore } from '../storage/index.js';
import { CorrenteError, describeError } from '../shared/errors.js';
import { noopLogger, type Logger } from '../shared/logger.js';
import { formatTableRef, type TableRef } from '../shared/table-schema.js';

/** The three layers and the bucket each lives in. */
export type LayerBuckets = Readonly<Record<'bronze' | 'silver' | 'gold', string>>;

/** File name of the local catalog, in the lake directory. */
export const CATALOG_FILE = 'catalog.duckdb';

/** A current table with its layer. */
export interface LayerTable extends CurrentTable {
  layer: 'bronze' | 'silver' | 'gold';
}

/** Every published table of every layer. */
export async function currentTablesByLayer(store: ObjectStore, buckets: LayerBuckets, signal?: AbortSignal): Promise<LayerTable[]> {
  const out: LayerTable[] = [];
  for (const layer of ['bronze', 'silver', 'gold'] as const) {
    for (const t of await listCurrentTables(store, buckets[layer], signal)) out.push({ ...t, layer });
  }
  return out;
}

/**
 * The current table named `ref`: in `layer`, or in the one layer that has it.
 * @throws CorrenteError `RUN_NOT_FOUND` (nothing published) or `CONFIG_INVALID` (in several layers, no `layer`).
 */
export async function findCurrentTable(store: ObjectStore, buckets: LayerBuckets, ref: TableRef, layer?: 'bronze' | 'silver' | 'gold'): Promise<LayerTable> {
  const shown = formatTableRef(ref);
  const all = (await currentTablesByLayer(store, buckets)).filter((t) => formatTableRef(t.table) === shown && (layer === undefined || t.layer === layer));
  if (all.length === 1) return all[0]!;
  if (all.length === 0) {
    throw new CorrenteError('RUN_NOT_FOUND', `Nothing published for ${shown}${layer ? ` in layer ${layer}` : ''}`, {
      table: shown,
      hint: layer ? 'Check the name and --layer, or publish it: corrente migrate --tables ' + shown : `Check the name (list tables with: corrente sql "SHOW ALL TABLES"), or publish it: corrente migrate --tables ${shown}`,
    });
  }
  throw new CorrenteError('CONFIG_INVALID', `${shown} is published in several layers (${all.map((t) => t.layer).join(', ')})`, { table: shown, hint: 'Choose one with --layer' });
}

/** Where remote files are cached for queries. */
export function defaultCacheDir(workDir: string | undefined): string {
  return join(workDir ?? tmpdir(), 'corrente-cache');
}

/**
 * The view of one table: its local files, or its columns when it has none; with
 * increments, the layers to merge (the latest increment's columns type an empty merge).
 */
async function viewOf(store: ObjectStore, buckets: LayerBuckets, t: LayerTable, cacheDir: string, signal?: AbortSignal): Promise<LakeView> {
  if ((t.pointer.increments?.length ?? 0) > 0) {
    const manifest = await readManifest(store, t.bucket, t.pointer.manifestKey, signal);
    if (manifest) {
      const { input, increments } = await readTableState({ store, buckets, cacheDir }, t.layer, manifest, t.pointer, signal);
      const columns = (increments.at(-1) ?? manifest).columns.map((c) => ({ name: c.name, type: c.type }));
      return { layer: t.layer, table: t.table, files: input.paths, columns, merge: { layers: stateLayersOf(input), primaryKey: manifest.primaryKey } };
    }
  }
  const files = await localPathsOf(store, cacheDir, t.bucket, t.pointer.files.map((key) => ({ key })), signal);
  if (files.length > 0) return { layer: t.layer, table: t.table, files };
  const manifest = await readManifest(store, t.bucket, t.pointer.manifestKey, signal);
  return { layer: t.layer, table: t.table, files, columns: (manifest?.columns ?? []).map((c) => ({ name: c.name, type: c.type })) };
}

export interface LakeQueryOptions {
  /** Remote files are downloaded here (default: `<tmp>/corrente-cache`). */
  cacheDir?: string;
  /**
   * Only tables for which this returns true get a view (on S3 each view costs a download).
   * @defaultValue every table
   */
  include?: (t: LayerTable) => boolean;
  memoryMb?: number;
  threads?: number;
  signal?: AbortSignal;
}

/** An in-memory DuckDB with a view per current table (see `src/duckdb/lake-views.ts` for names); the caller closes it. */
export async function openLakeQuery(store: ObjectStore, buckets: LayerBuckets, options: LakeQueryOptions = {}): Promise<{ session: DuckSession; tables: LayerTable[] }> {
  const tables = (await currentTablesByLayer(store, buckets, options.signal)).filter((t) => options.include?.(t) ?? true);
  const cacheDir = options.cacheDir ?? defaultCacheDir(undefined);
  const views: LakeView[] = [];
  for (const t of tables) views.push(await viewOf(store, buckets, t, cacheDir, options.signal));
  const session = await openLakeSession(views, { ...(options.memoryMb ? { memoryMb: options.memoryMb } : {}), ...(options.threads ? { threads: options.threads } : {}) });
  return { session, tables };
}

/**
 * Rebuilds `<lakeDir>/catalog.duckdb` with a view per current table. Only for a local
 * lake (returns undefined otherwise). Concurrent publishers may race: each checks, after
 * writing, that the pointers did not move while it built, and rebuilds when they did.
 */
export async function refreshLocalCatalog(store: ObjectStore, buckets: LayerBuckets, logger: Logger = noopLogger): Promise<string | undefined> {
  if (!(store instanceof LocalDirStore)) return undefined;
  const path = join(store.root, CATALOG_FILE);
  const state = (tables: LayerTable[]): string => tables.map((t) => `${t.layer}/${formatTableRef(t.table)}@${t.pointer.runId}+${t.pointer.increments?.at(-1)?.runId ?? ''}`).join('\n');
  for (let attempt = 0; attempt < 5; attempt++) {
    const tables = await currentTablesByLayer(store, buckets);
    const views: LakeView[] = [];
    for (const t of tables) views.push(await viewOf(store, buckets, t, store.root));
    await writeCatalogFile(path, views);
    if (state(await currentTablesByLayer(store, buckets)) === state(tables)) return path;
    logger.debug({ path }, 'lake changed while the catalog was built; rebuilding');
  }
  return path;
}

/**
 * {@link refreshLocalCatalog} for publishers: the catalog is a convenience for readers, so
 * failing to rebuild it (a full disk, a permission) is logged and must not fail a publish
 * that already happened; the next publish retries.
 */
export async function refreshLocalCatalogQuietly(store: ObjectStore, buckets: LayerBuckets, logger: Logger): Promise<void> {
  try {
    await refreshLocalCatalog(store, buckets, logger);
  } catch (err) {
    logger.warn({ err: { message: describeError(err) } }, 'lake catalog not refreshed; the next publish retries');
  }
}
