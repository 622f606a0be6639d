/**
 * Export use cases. `exportTable` opens one snapshot, introspects and plans the table:
 * a small table is exported right away into a staged manifest; a large one is returned as
 * ranges for chunk jobs, with the snapshot held open for them. `exportChunk` exports one
 * range inside that shared snapshot; `finalizeChunks` merges the chunk results.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { openDuckSession, type DuckSession } from '../duckdb/index.js';
import {
  chunkPartKey,
  chunkResultKey,
  diffColumns,
  incrementalInfoSchema,
  incrementalPlanKey,
  MANIFEST_FORMAT,
  partKey,
  readCurrentPointer,
  readManifest,
  stagedKey,
  stageSecondsSchema,
  typeDefinitionSchema,
  type CurrentPointer,
  type IncrementalInfo,
  type Manifest,
  type ManifestFile,
  type StageSeconds,
} from '../lake/index.js';
import {
  applyArrayLayouts,
  arrayColumns,
  buildArrayLayoutSql,
  buildFingerprintSql,
  describeTarget,
  introspectTable,
  mapPgError,
  openReadSession,
  planChunks,
  rangeFilter,
  readArrayLayouts,
  readFingerprintRow,
  readWindowCounts,
  type ChunkRange,
  type ReadSession,
  type RowFilter,
} from '../postgres/index.js';
import type { ArrayLayouts } from '../shared/array-layout.js';
import { CorrenteError } from '../shared/errors.js';
import { mergeFingerprints, type TableFingerprint } from '../shared/fingerprint.js';
import { noopLogger } from '../shared/logger.js';
import { describeLogicalType, formatTableRef, type TableSchema, type TypeDefinition } from '../shared/table-schema.js';
import type { ExportCallOptions, ExportDeps, ExportRequest, StagedExport } from './export-types.js';
import { reconcileIncrement } from './incremental-reconcile.js';
import { planWindow, type WindowPlan } from './incremental-window.js';
import { assertDistinctColumnNames, streamToParquet, type RangeTarget } from './stream-to-parquet.js';
import { makeWorkDir } from './work-dir.js';

/** A snapshot kept open (its transaction idle) so chunk jobs can join it. */
export interface HeldSnapshot {
  id: string;
  time: string;
  /** Ends the holding transaction; idempotent. Chunks not yet started can no longer join. */
  release(): Promise<void>;
}

export type ExportOutcome =
  | { kind: 'staged'; staged: StagedExport }
  | { kind: 'chunked'; ranges: ChunkRange[]; snapshot: HeldSnapshot; estimatedRows: number; arrays?: ArrayLayouts };

/** One range of a chunked export, as carried by a chunk job. */
export interface ChunkSpec {
  index: number;
  total: number;
  snapshotId: string;
  snapshotTime: string;
  range: ChunkRange;
  /** How each array column is stored, decided once for the whole table (absent: no arrays). */
  arrays?: ArrayLayouts;
}

const manifestColumns = (schema: TableSchema): Manifest['columns'] =>
  schema.columns.map((c) => ({ name: c.name, pgType: c.pgType, nullable: c.nullable, parquetType: describeLogicalType(c.type), type: c.type, ...(c.note ? { note: c.note } : {}) }));

const chunkResultSchema = z.object({
  format: z.literal('corrente.chunk/v1'),
  index: z.number(),
  total: z.number(),
  database: z.string(),
  snapshotTime: z.string(),
  estimatedRows: z.number(),
  columns: z.array(z.any()),
  primaryKey: z.array(z.string()),
  types: z.array(typeDefinitionSchema).optional(),
  files: z.array(z.object({ key: z.string(), uri: z.string(), rows: z.number(), bytes: z.number(), sha256: z.string(), maxRowBytes: z.number().optional() })),
  fingerprint: z.any().optional(),
  stages: stageSecondsSchema.optional(),
  workDiskPeakBytes: z.number().optional(),
  startedAt: z.string(),
  exportSeconds: z.number(),
});
/** What a finished chunk leaves in storage. */
export type ChunkResult = z.infer<typeof chunkResultSchema>;

async function withWorkDir<T>(deps: ExportDeps, fn: (dir: string, openDuck: (memoryMb: number) => Promise<DuckSession>) => Promise<T>): Promise<T> {
  const dir = await makeWorkDir(deps.config.workDir, 'export');
  try {
    return await fn(dir, (memoryMb) => openDuckSession({ memoryMb, threads: deps.config.duckdbThreads, tempDir: join(dir, 'duckdb') }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Source-side checksums of a range, on a second connection joined to the snapshot. */
async function sourceFingerprint(deps: ExportDeps, snapshotId: string, schema: TableSchema, filter?: RowFilter): Promise<TableFingerprint> {
  const settings = { max_parallel_workers_per_gather: String(deps.config.checksumWorkers) };
  const s = await openReadSession(deps.pool, { target: deps.postgresUrl, snapshotId, settings });
  try {
    const options = { textChecksum: deps.config.textChecksum };
    const res = await s.client.query(buildFingerprintSql(schema, filter, options));
    return readFingerprintRow(schema, res.rows[0] as Record<string, unknown>, options);
  } catch (err) {
    throw mapPgError(err, describeTarget(deps.postgresUrl), { table: formatTableRef(schema.table) });
  } finally {
    await s.close();
  }
}

/** Exports one range in `session`, with its checksums computed in parallel when verifying. */
async function exportRange(
  deps: ExportDeps,
  session: ReadSession,
  schema: TableSchema,
  target: RangeTarget,
  options: ExportCallOptions,
): Promise<{ files: ManifestFile[]; stages: StageSeconds; workDiskPeakBytes: number; fingerprint?: TableFingerprint }> {
  const fingerprint = deps.config.verify && session.snapshotId ? sourceFingerprint(deps, session.snapshotId, schema, target.filter) : undefined;
  // Observed below; avoid an unhandled rejection if the stream fails first.
  fingerprint?.catch(() => {});
  const { files, stages, workDiskPeakBytes } = await withWorkDir(deps, (dir, openDuck) => streamToParquet(deps, target, schema, session.client, openDuck, dir, options));
  if (!fingerprint) return { files, workDiskPeakBytes, stages: { ...stages, checksumWait: 0 } };
  const t0 = performance.now();
  const done = await fingerprint;
  return { files, workDiskPeakBytes, fingerprint: done, stages: { ...stages, checksumWait: (performance.now() - t0) / 1000 } };
}

/** Stage seconds of several ranges, added up. */
function sumStages(all: readonly StageSeconds[]): StageSeconds {
  const out: StageSeconds = { read: 0, readPaused: 0, convert: 0, upload: 0, checksumWait: 0 };
  for (const s of all) for (const k of Object.keys(out) as (keyof StageSeconds)[]) out[k] += s[k];
  return out;
}

/**
 * Introspects the table and settles how its array columns are stored: from `arrays` when
 * a chunk job carries the decision, else from one check over the snapshot (only for
 * tables that have array columns; see `src/postgres/array-layout.ts`).
 */
async function introspect(deps: ExportDeps, session: ReadSession, req: ExportRequest, arrays?: ArrayLayouts): Promise<{ schema: TableSchema; arrays?: ArrayLayouts }> {
  const table = formatTableRef(req.table);
  const pgError = (err: unknown): never => {
    throw mapPgError(err, describeTarget(deps.postgresUrl), { table });
  };
  const mapped = await introspectTable(session.client, req.table, req.columns ?? {}).catch(pgError);
  assertDistinctColumnNames(mapped);
  if (arrayColumns(mapped).length === 0) return { schema: mapped };
  const layouts = arrays ?? readArrayLayouts(mapped, (await session.client.query(buildArrayLayoutSql(mapped)).catch(pgError)).rows[0] as Record<string, unknown>);
  return { schema: applyArrayLayouts(mapped, layouts), arrays: layouts };
}

/** What a staged manifest takes from the table's schema and the export's snapshot. */
function sourceParts(schema: TableSchema, snapshotTime: string): Pick<Parameters<typeof buildManifest>[2], 'columns' | 'primaryKey' | 'types' | 'estimatedRows' | 'snapshotTime'> {
  return {
    columns: manifestColumns(schema),
    primaryKey: [...schema.primaryKey],
    ...(schema.types && schema.types.length > 0 ? { types: [...schema.types] } : {}),
    estimatedRows: schema.estimatedRows,
    snapshotTime,
  };
}

function buildManifest(
  deps: ExportDeps,
  req: ExportRequest,
  parts: {
    columns: Manifest['columns'];
    primaryKey: string[];
    types?: readonly TypeDefinition[] | undefined;
    estimatedRows: number;
    snapshotTime: string;
    files: ManifestFile[];
    fingerprint?: TableFingerprint;
    stages?: StageSeconds;
    workDiskPeakBytes?: number;
    startedAt: string;
    /** Tables with `incremental:`: the run's kind and window. */
    incremental?: { kind: 'full' | 'incremental'; info: IncrementalInfo };
  },
): Manifest {
  const exportedAt = new Date();
  return {
    format: MANIFEST_FORMAT,
    runId: req.runId,
    table: { schema: req.table.schema, name: req.table.name },
    layer: req.layer,
    bucket: deps.buckets[req.layer],
    source: { database: describeTarget(deps.postgresUrl), snapshotTime: parts.snapshotTime, estimatedRows: parts.estimatedRows },
    columns: parts.columns,
    primaryKey: parts.primaryKey,
    ...(parts.types && parts.types.length > 0 ? { types: [...parts.types] } : {}),
    files: parts.files,
    totals: {
      rows: parts.files.reduce((n, f) => n + f.rows, 0),
      bytes: parts.files.reduce((n, f) => n + f.bytes, 0),
      files: parts.files.length,
    },
    ...(parts.fingerprint ? { sourceFingerprint: parts.fingerprint } : {}),
    textChecksum: deps.config.textChecksum,
    verification: { status: parts.fingerprint ? 'pending' : 'skipped', mismatches: [] },
    ...(parts.incremental ? { kind: parts.incremental.kind, incremental: parts.incremental.info } : {}),
    timings: {
      startedAt: parts.startedAt,
      exportedAt: exportedAt.toISOString(),
      exportSeconds: (exportedAt.getTime() - Date.parse(parts.startedAt)) / 1000,
      ...(parts.stages ? { stages: parts.stages } : {}),
      ...(parts.workDiskPeakBytes !== undefined ? { workDiskPeakBytes: parts.workDiskPeakBytes } : {}),
    },
  };
}

/** Column changes since the run current now (none for a table's first run). */
async function schemaChangesSince(deps: ExportDeps, manifest: Manifest, signal?: AbortSignal): Promise<Manifest['schemaChanges']> {
  const pointer = await readCurrentPointer(deps.store, manifest.bucket, manifest.table, signal);
  const previous = pointer ? await readManifest(deps.store, manifest.bucket, pointer.manifestKey, signal) : undefined;
  const changes = previous ? diffColumns(previous.columns, manifest.columns) : [];
  return changes.length > 0 ? changes : undefined;
}

async function writeStaged(deps: ExportDeps, manifest: Manifest, signal?: AbortSignal): Promise<StagedExport> {
  const schemaChanges = await schemaChangesSince(deps, manifest, signal);
  if (schemaChanges) {
    manifest = { ...manifest, schemaChanges };
    deps.logger?.warn({ table: formatTableRef(manifest.table), schemaChanges }, 'columns stored differently from the current run');
  }
  const key = stagedKey(manifest.table, manifest.runId);
  await deps.store.putBytes(manifest.bucket, key, JSON.stringify(manifest, null, 2), { signal });
  return { manifest, stagedKey: key };
}

/**
 * Opens the snapshot, plans, and either exports the whole table (writing `_staged.json`)
 * or hands back the ranges with the snapshot held open; the caller must `release()` it
 * once every chunk has joined it.
 * @throws CorrenteError for every expected failure; never leaves a published change behind.
 */
export async function exportTable(deps: ExportDeps, req: ExportRequest, options: ExportCallOptions = {}): Promise<ExportOutcome> {
  const logger = deps.logger ?? noopLogger;
  const startedAt = new Date().toISOString();
  const shown = formatTableRef(req.table);
  await deps.store.ensureBucket(deps.buckets[req.layer], { signal: options.signal });
  const session = await openReadSession(deps.pool, { target: deps.postgresUrl, exportSnapshot: true });
  let keepOpen = false;
  let ok = false;
  try {
    const { schema, arrays } = await introspect(deps, session, req);
    const window = req.incremental ? await planWindow(deps, session, schema, { ...req, incremental: req.incremental }) : undefined;
    if (window?.kind === 'incremental') {
      const staged = await exportIncrement(deps, req, session, schema, window, options, startedAt);
      ok = true;
      return { kind: 'staged', staged };
    }
    if (window) logger.info({ table: shown, reason: window.info.fullReason }, 'incremental table exported in full');
    const ranges = await planChunks(session.client, schema, deps.config.chunkMb * 1024 * 1024).catch((err: unknown) => {
      throw mapPgError(err, describeTarget(deps.postgresUrl), { table: shown });
    });
    logger.info({ table: shown, columns: schema.columns.length, estimatedRows: schema.estimatedRows, chunks: ranges.length, ...(ranges.length > 1 ? { rangesBy: ranges[0]!.kind } : {}), snapshotTime: session.snapshotTime }, 'export started');
    if (ranges.length > 1) {
      // The finalizer builds the manifest on another worker: leave it the window.
      if (window) await deps.store.putBytes(deps.buckets[req.layer], incrementalPlanKey(req.table, req.runId), JSON.stringify(window.info), { signal: options.signal });
      keepOpen = true;
      ok = true;
      return {
        kind: 'chunked',
        ranges,
        estimatedRows: schema.estimatedRows,
        ...(arrays ? { arrays } : {}),
        snapshot: { id: session.snapshotId!, time: session.snapshotTime, release: () => session.close() },
      };
    }
    const target: RangeTarget = { bucket: deps.buckets[req.layer], table: req.table, keyOf: (i) => partKey(req.table, req.runId, i) };
    const { files, fingerprint, stages, workDiskPeakBytes } = await exportRange(deps, session, schema, target, options);
    const manifest = buildManifest(deps, req, {
      ...sourceParts(schema, session.snapshotTime),
      files,
      ...(fingerprint ? { fingerprint } : {}),
      stages,
      workDiskPeakBytes,
      startedAt,
      ...(window ? { incremental: { kind: 'full' as const, info: window.info } } : {}),
    });
    const staged = await writeStaged(deps, manifest, options.signal);
    logger.info({ table: shown, rows: manifest.totals.rows, files: files.length, bytes: manifest.totals.bytes, seconds: manifest.timings.exportSeconds, stages }, 'export staged');
    ok = true;
    return { kind: 'staged', staged };
  } finally {
    if (!keepOpen) await session.close(!ok);
  }
}

/** Reads a finished chunk's result, if it exists (a retried chunk job skips its work). */
async function readChunkResult(deps: ExportDeps, req: ExportRequest, index: number, signal?: AbortSignal): Promise<ChunkResult | undefined> {
  const bytes = await deps.store.getBytes(deps.buckets[req.layer], chunkResultKey(req.table, req.runId, index), { signal });
  return bytes ? chunkResultSchema.parse(JSON.parse(bytes.toString('utf8'))) : undefined;
}

/**
 * Exports one range inside the shared snapshot and records the result. Idempotent: a
 * chunk already recorded (e.g. before a crash) is not exported again.
 * @throws CorrenteError `POSTGRES_QUERY` (not retryable) when the snapshot is gone.
 */
export async function exportChunk(deps: ExportDeps, req: ExportRequest, chunk: ChunkSpec, options: ExportCallOptions = {}): Promise<ChunkResult> {
  const done = await readChunkResult(deps, req, chunk.index, options.signal);
  if (done) return done;
  const startedAt = new Date().toISOString();
  let session: ReadSession;
  try {
    session = await openReadSession(deps.pool, { target: deps.postgresUrl, snapshotId: chunk.snapshotId });
  } catch (err) {
    if ((err as { cause?: { code?: string } }).cause?.code === '22023') {
      throw new CorrenteError('POSTGRES_QUERY', `The snapshot of run ${req.runId} no longer exists, so chunk ${chunk.index + 1}/${chunk.total} of ${formatTableRef(req.table)} cannot be read consistently`, {
        table: formatTableRef(req.table),
        runId: req.runId,
        retryable: false,
        hint: 'The worker holding the snapshot stopped; re-run the migration for this table',
        cause: err,
      });
    }
    throw err;
  }
  let ok = false;
  try {
    const { schema } = await introspect(deps, session, req, chunk.arrays);
    const target: RangeTarget = {
      bucket: deps.buckets[req.layer],
      table: req.table,
      keyOf: (i) => chunkPartKey(req.table, req.runId, chunk.index, i),
      filter: rangeFilter(chunk.range),
    };
    const { files, fingerprint, stages, workDiskPeakBytes } = await exportRange(deps, session, schema, target, options);
    const result: ChunkResult = {
      format: 'corrente.chunk/v1',
      index: chunk.index,
      total: chunk.total,
      database: describeTarget(deps.postgresUrl),
      snapshotTime: chunk.snapshotTime,
      estimatedRows: schema.estimatedRows,
      columns: manifestColumns(schema),
      primaryKey: [...schema.primaryKey],
      ...(schema.types && schema.types.length > 0 ? { types: [...schema.types] } : {}),
      files,
      ...(fingerprint ? { fingerprint } : {}),
      stages,
      workDiskPeakBytes,
      startedAt,
      exportSeconds: (Date.now() - Date.parse(startedAt)) / 1000,
    };
    await deps.store.putBytes(deps.buckets[req.layer], chunkResultKey(req.table, req.runId, chunk.index), JSON.stringify(result), { signal: options.signal });
    ok = true;
    return result;
  } finally {
    await session.close(!ok);
  }
}

/**
 * Merges every chunk's files and checksums into one staged manifest.
 * @throws CorrenteError `RUN_NOT_FOUND` when a chunk result is missing.
 */
export async function finalizeChunks(deps: ExportDeps, req: ExportRequest, total: number, signal?: AbortSignal): Promise<StagedExport> {
  const results: ChunkResult[] = [];
  for (let i = 0; i < total; i++) {
    const r = await readChunkResult(deps, req, i, signal);
    if (!r) {
      throw new CorrenteError('RUN_NOT_FOUND', `Chunk ${i + 1}/${total} of ${formatTableRef(req.table)} in run ${req.runId} has no result`, {
        table: formatTableRef(req.table),
        runId: req.runId,
        retryable: false,
        hint: 'A chunk job failed; re-run the migration for this table',
      });
    }
    results.push(r);
  }
  const first = results[0]!;
  const columns = first.columns as Manifest['columns'];
  const fingerprints = results.map((r) => r.fingerprint as TableFingerprint | undefined);
  const fingerprint = fingerprints.every((f) => f !== undefined) ? mergeFingerprints(fingerprints as TableFingerprint[]) : undefined;
  const manifest = buildManifest(deps, req, {
    columns,
    primaryKey: first.primaryKey,
    types: first.types,
    estimatedRows: first.estimatedRows,
    snapshotTime: first.snapshotTime,
    files: results.flatMap((r) => r.files),
    ...(fingerprint ? { fingerprint } : {}),
    ...(results.every((r) => r.stages) ? { stages: sumStages(results.map((r) => r.stages!)) } : {}),
    // Ranges may run on different workers at once, each in its own work directory.
    ...(results.every((r) => r.workDiskPeakBytes !== undefined) ? { workDiskPeakBytes: Math.max(...results.map((r) => r.workDiskPeakBytes!)) } : {}),
    startedAt: results.map((r) => r.startedAt).sort()[0]!,
    ...(await readIncrementalPlan(deps, req, signal)),
  });
  return writeStaged(deps, manifest, signal);
}

/** The window a chunked full run of an incremental table recorded when it was planned. */
async function readIncrementalPlan(deps: ExportDeps, req: ExportRequest, signal?: AbortSignal): Promise<{ incremental?: { kind: 'full'; info: IncrementalInfo } }> {
  const bytes = await deps.store.getBytes(deps.buckets[req.layer], incrementalPlanKey(req.table, req.runId), { signal });
  return bytes ? { incremental: { kind: 'full', info: incrementalInfoSchema.parse(JSON.parse(bytes.toString('utf8'))) } } : {};
}

/** Counts of the source in the export's snapshot, on a connection of their own. */
async function countInSnapshot(deps: ExportDeps, snapshotId: string, schema: TableSchema, options: Parameters<typeof readWindowCounts>[2]): Promise<Awaited<ReturnType<typeof readWindowCounts>>> {
  const s = await openReadSession(deps.pool, { target: deps.postgresUrl, snapshotId });
  try {
    return await readWindowCounts(s.client, schema, options);
  } catch (err) {
    throw mapPgError(err, describeTarget(deps.postgresUrl), { table: formatTableRef(schema.table) });
  } finally {
    await s.close();
  }
}

/** Rows the lake held before this increment, from the last manifest of the chain (reconciled counts). */
async function lakeRowsBefore(deps: ExportDeps, req: ExportRequest, base: CurrentPointer, signal?: AbortSignal): Promise<{ previousLakeRows?: number }> {
  const last = base.increments?.at(-1);
  const m = await readManifest(deps.store, deps.buckets[req.layer], last ? last.manifestKey : base.manifestKey, signal);
  const rows = last ? m?.incremental?.reconciliation?.lakeRows : m?.totals.rows;
  return rows !== undefined ? { previousLakeRows: rows } : {};
}

/**
 * Exports the rows of an incremental window (one range, in the planning snapshot), then
 * reconciles the lake with the source and, with `deletes: keydiff`, writes tombstones.
 */
async function exportIncrement(
  deps: ExportDeps,
  req: ExportRequest,
  session: ReadSession,
  schema: TableSchema,
  window: Extract<WindowPlan, { kind: 'incremental' }>,
  options: ExportCallOptions,
  startedAt: string,
): Promise<StagedExport> {
  const logger = deps.logger ?? noopLogger;
  const shown = formatTableRef(req.table);
  const column = window.info.column;
  const nullable = column !== undefined && schema.columns.find((c) => c.name === column)?.nullable === true;
  // Counted on a second connection in the same snapshot, while the window streams. The
  // verification fingerprint counts the window already; without it, this query does.
  const countsDone = countInSnapshot(deps, session.snapshotId!, schema, { ...(deps.config.verify ? {} : { window: window.filter }), ...(nullable ? { nullColumn: column } : {}) });
  countsDone.catch(() => {});
  const target: RangeTarget = { bucket: deps.buckets[req.layer], table: req.table, keyOf: (i) => partKey(req.table, req.runId, i), filter: window.filter };
  const { files, fingerprint, stages, workDiskPeakBytes } = await exportRange(deps, session, schema, target, options);
  const counts = countsDone.then((c) => ({ total: c.total, nulls: c.nulls, window: c.window ?? Number(fingerprint?.rows ?? Number.NaN) }));
  counts.catch(() => {});
  const lakeBefore = await lakeRowsBefore(deps, req, window.base, options.signal);
  const rec = await withWorkDir(deps, (dir) =>
    reconcileIncrement(deps, req, {
      schema,
      base: window.base,
      files,
      source: counts,
      ...lakeBefore,
      keydiff: req.incremental?.deletes === 'keydiff',
      client: session.client,
      workDir: dir,
      ...(options.signal ? { signal: options.signal } : {}),
    }),
  );
  const { nulls } = await counts;
  if (column !== undefined && nulls > 0) {
    logger.warn({ table: shown, column, nullRows: nulls }, `${nulls} rows have a NULL ${column}: increments never include them (full runs do)`);
  }
  if (rec.reconciliation.status === 'mismatched') logger.warn({ table: shown, reconciliation: rec.reconciliation }, 'lake and source counts differ after this increment');
  const info: IncrementalInfo = {
    ...window.info,
    ...(column !== undefined ? { nullRows: nulls } : {}),
    reconciliation: rec.reconciliation,
    ...(rec.tombstones ? { tombstones: rec.tombstones } : {}),
    ...(rec.keydiffSeconds !== undefined ? { keydiffSeconds: rec.keydiffSeconds } : {}),
  };
  const manifest = buildManifest(deps, req, {
    ...sourceParts(schema, session.snapshotTime),
    files,
    ...(fingerprint ? { fingerprint } : {}),
    stages,
    workDiskPeakBytes,
    startedAt,
    incremental: { kind: 'incremental', info },
  });
  const staged = await writeStaged(deps, manifest, options.signal);
  logger.info({ table: shown, rows: manifest.totals.rows, from: info.from, to: info.to, tombstones: info.tombstones?.rows ?? 0, seconds: manifest.timings.exportSeconds }, 'increment staged');
  return staged;
}
