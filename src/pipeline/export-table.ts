/**
 * Exports one table: one consistent snapshot, streamed out of Postgres with COPY, cut
 * into CSV chunks on disk, each converted by DuckDB into an exact Parquet file and
 * uploaded while the next chunk is still streaming. Ends with a staged manifest; nothing
 * is visible to readers until the run is verified and published.
 */
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExportConfig } from '../config/index.js';
import { memoryNeededMb, openDuckSession, writeParquetFromCsv, type DuckSession, type ParquetWriteOptions } from '../duckdb/index.js';
import { MANIFEST_FORMAT, partKey, stagedKey, type Manifest, type ManifestFile } from '../manifest/index.js';
import {
  buildCopySql,
  buildFingerprintSql,
  copyOut,
  describeTarget,
  introspectTable,
  mapPgError,
  openReadSession,
  readFingerprintRow,
  type ColumnOverrides,
  type PgClient,
  type PgPool,
} from '../postgres/index.js';
import type { ObjectStore } from '../storage/index.js';
import { CorrenteError } from '../shared/errors.js';
import type { TableFingerprint } from '../shared/fingerprint.js';
import { noopLogger, type Logger } from '../shared/logger.js';
import { describeLogicalType, formatTableRef, type TableRef, type TableSchema } from '../shared/table-schema.js';
import { chunkCsv, type CsvChunk } from './csv-chunker.js';
import { sha256File } from './file-hash.js';

export type Layer = 'bronze' | 'silver' | 'gold';

/** What to export. Holds no secrets: it travels in job payloads. */
export interface ExportRequest {
  runId: string;
  table: TableRef;
  layer: Layer;
  columns?: ColumnOverrides;
}

/** Long-lived resources the export borrows (and does not close). */
export interface ExportDeps {
  pool: PgPool;
  /** Postgres URL, only to name the source in messages and manifests. */
  postgresUrl: string;
  store: ObjectStore;
  buckets: Readonly<Record<Layer, string>>;
  config: ExportConfig;
  logger?: Logger;
}

/** Progress of a running export, reported at most a few times per second. */
export interface ExportProgress {
  phase: 'starting' | 'exporting' | 'finishing';
  /** Rows streamed so far (exact once the export ends). */
  rows: number;
  /** Planner estimate of the table's rows; -1 when unknown. */
  estimatedRows: number;
  bytesRead: number;
  filesWritten: number;
}

export interface ExportCallOptions {
  signal?: AbortSignal;
  onProgress?: (p: ExportProgress) => void;
}

/** The staged result: a manifest with `verification.status` pending (or skipped). */
export interface StagedExport {
  manifest: Manifest;
  stagedKey: string;
}

/** Chunks converted but not yet uploaded; bounds temp disk use to about (N+1) chunks. */
const MAX_CHUNKS_IN_FLIGHT = 2;

/**
 * Runs the export and writes `_staged.json`.
 * @throws CorrenteError for every expected failure (see `ErrorCode`); never leaves a
 *   published change behind.
 */
export async function exportTable(deps: ExportDeps, req: ExportRequest, options: ExportCallOptions = {}): Promise<StagedExport> {
  const logger = deps.logger ?? noopLogger;
  const { signal } = options;
  const startedAt = new Date();
  const bucket = deps.buckets[req.layer];
  const target = describeTarget(deps.postgresUrl);
  const shown = formatTableRef(req.table);
  await deps.store.ensureBucket(bucket, { signal });
  const workRoot = deps.config.workDir ?? tmpdir();
  await mkdir(workRoot, { recursive: true });
  const workDir = await mkdtemp(join(workRoot, 'corrente-'));
  const session = await openReadSession(deps.pool, { target: deps.postgresUrl, exportSnapshot: deps.config.verify });
  let duck: DuckSession | undefined;
  let fingerprint: Promise<TableFingerprint> | undefined;
  let ok = false;
  try {
    const schema = await introspectTable(session.client, req.table, req.columns ?? {}).catch((err: unknown) => {
      throw mapPgError(err, target, { table: shown });
    });
    assertDistinctColumnNames(schema);
    logger.info({ table: shown, columns: schema.columns.length, estimatedRows: schema.estimatedRows, snapshotTime: session.snapshotTime }, 'export started');
    if (deps.config.verify && session.snapshotId) {
      fingerprint = sourceFingerprint(deps, session.snapshotId, schema);
      // Observed later; avoid an unhandled rejection if the export fails first.
      fingerprint.catch(() => {});
    }
    duck = await openDuckSession({ memoryMb: deps.config.duckdbMemoryMb, threads: deps.config.duckdbThreads, tempDir: join(workDir, 'duckdb') });
    const files = await streamToParquet(deps, req, schema, session.client, duck, workDir, options);
    const sourceFp = fingerprint ? await fingerprint : undefined;
    const exportedAt = new Date();
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      runId: req.runId,
      table: { schema: req.table.schema, name: req.table.name },
      layer: req.layer,
      bucket,
      source: { database: target, snapshotTime: session.snapshotTime, estimatedRows: schema.estimatedRows },
      columns: schema.columns.map((c) => ({
        name: c.name,
        pgType: c.pgType,
        nullable: c.nullable,
        parquetType: describeLogicalType(c.type),
        type: c.type,
        ...(c.note ? { note: c.note } : {}),
      })),
      primaryKey: [...schema.primaryKey],
      files,
      totals: {
        rows: files.reduce((n, f) => n + f.rows, 0),
        bytes: files.reduce((n, f) => n + f.bytes, 0),
        files: files.length,
      },
      ...(sourceFp ? { sourceFingerprint: sourceFp } : {}),
      verification: { status: sourceFp ? 'pending' : 'skipped', mismatches: [] },
      timings: {
        startedAt: startedAt.toISOString(),
        exportedAt: exportedAt.toISOString(),
        exportSeconds: (exportedAt.getTime() - startedAt.getTime()) / 1000,
      },
    };
    const key = stagedKey(req.table, req.runId);
    await deps.store.putBytes(bucket, key, JSON.stringify(manifest, null, 2), { signal });
    logger.info({ table: shown, rows: manifest.totals.rows, files: files.length, bytes: manifest.totals.bytes, seconds: manifest.timings.exportSeconds }, 'export staged');
    ok = true;
    return { manifest, stagedKey: key };
  } finally {
    duck?.close();
    await session.close(!ok);
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Source-side checksums over the same snapshot, on a second connection, in parallel with COPY. */
async function sourceFingerprint(deps: ExportDeps, snapshotId: string, schema: TableSchema): Promise<TableFingerprint> {
  const s = await openReadSession(deps.pool, { target: deps.postgresUrl, snapshotId });
  try {
    const res = await s.client.query(buildFingerprintSql(schema));
    return readFingerprintRow(schema, res.rows[0] as Record<string, unknown>);
  } catch (err) {
    throw mapPgError(err, describeTarget(deps.postgresUrl), { table: formatTableRef(schema.table) });
  } finally {
    await s.close();
  }
}

async function streamToParquet(
  deps: ExportDeps,
  req: ExportRequest,
  schema: TableSchema,
  client: PgClient,
  duck: DuckSession,
  workDir: string,
  options: ExportCallOptions,
): Promise<ManifestFile[]> {
  const { signal, onProgress } = options;
  const bucket = deps.buckets[req.layer];
  const cfg = deps.config;
  const maxRowBytes = cfg.maxRowMb * 1024 * 1024;
  let memoryMb = cfg.duckdbMemoryMb;
  const target = describeTarget(deps.postgresUrl);
  const files: ManifestFile[] = [];
  const inFlight: Promise<void>[] = [];
  let rowsDone = 0;
  let lastReport = 0;
  const report = (phase: ExportProgress['phase'], rows: number, bytesRead: number, force = false): void => {
    const now = Date.now();
    if (!onProgress || (!force && now - lastReport < 250)) return;
    lastReport = now;
    onProgress({ phase, rows, estimatedRows: schema.estimatedRows, bytesRead, filesWritten: files.length });
  };
  let bytesRead = 0;
  let firstError: unknown;
  // Conversions share one DuckDB connection, so they run one after another; uploads run
  // beside the next conversion and beside the COPY stream.
  let conversionChain: Promise<void> = Promise.resolve();
  const handle = (chunk: CsvChunk): Promise<void> => {
    const parquetPath = join(workDir, `part-${String(chunk.index).padStart(5, '0')}.parquet`);
    const converted = conversionChain.then(async () => {
      if (firstError) return undefined;
      if (chunk.maxRecordBytes > maxRowBytes) {
        const table = formatTableRef(schema.table);
        throw new CorrenteError('UNSUPPORTED_VALUE', `${table} has a row of ${(chunk.maxRecordBytes / 1024 / 1024).toFixed(1)} MB, above export.maxRowMb (${cfg.maxRowMb})`, {
          table,
          hint: 'Raise export.maxRowMb (memory use grows about 8x the largest row), or exclude the wide column with a view',
        });
      }
      const writeOpts: ParquetWriteOptions = { compression: cfg.compression, rowGroupRows: cfg.rowGroupRows, maxLineBytes: chunk.maxRecordBytes };
      const needed = memoryNeededMb(writeOpts);
      if (needed > memoryMb) {
        // A very wide row needs a larger read buffer than the usual budget allows.
        memoryMb = needed;
        await duck.run(`SET memory_limit = '${memoryMb}MB'`);
      }
      const rows = await writeParquetFromCsv(duck, schema, chunk.path, parquetPath, writeOpts, signal);
      await rm(chunk.path, { force: true });
      return rows;
    });
    conversionChain = converted.then(() => undefined, () => undefined);
    return converted.then(async (rows) => {
      if (rows === undefined) return;
      const key = partKey(req.table, req.runId, chunk.index);
      const [size, sha256] = await Promise.all([stat(parquetPath).then((s) => s.size), sha256File(parquetPath)]);
      await deps.store.putFile(bucket, key, parquetPath, { signal });
      await rm(parquetPath, { force: true });
      files[chunk.index] = { key, uri: deps.store.uri(bucket, key), rows, bytes: size, sha256 };
      rowsDone += rows;
    }).catch((err: unknown) => {
      firstError ??= err;
    });
  };
  const stream = copyOut(client, buildCopySql(schema));
  const abort = (): void => {
    stream.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
  };
  signal?.addEventListener('abort', abort, { once: true });
  try {
    report('starting', 0, 0, true);
    let chunks = 0;
    for await (const chunk of chunkCsv(stream as AsyncIterable<Buffer>, {
      dir: workDir,
      targetBytes: cfg.fileTargetMb * 1024 * 1024,
      signal,
      onBytes: (bytes, records) => {
        bytesRead = bytes;
        report('exporting', records, bytes);
      },
    })) {
      chunks++;
      inFlight.push(handle(chunk));
      if (firstError) break;
      // Backpressure: stop reading until an older chunk is uploaded.
      while (inFlight.length >= MAX_CHUNKS_IN_FLIGHT) await inFlight.shift();
      if (firstError) break;
    }
    if (chunks === 0 && !firstError) {
      // An empty table still gets one (empty) file, so readers see its columns.
      const empty = join(workDir, 'chunk-00000.csv');
      await writeFile(empty, '');
      inFlight.push(handle({ index: 0, path: empty, bytes: 0, records: 0, maxRecordBytes: 0 }));
    }
    await Promise.all(inFlight);
  } catch (err) {
    await Promise.allSettled(inFlight);
    if (signal?.aborted) throw new CorrenteError('ABORTED', `Export of ${formatTableRef(req.table)} was cancelled`, { table: formatTableRef(req.table), cause: err, retryable: true });
    throw firstError ?? mapPgError(err, target, { table: formatTableRef(req.table) });
  } finally {
    signal?.removeEventListener('abort', abort);
  }
  if (firstError) throw firstError;
  report('finishing', rowsDone, bytesRead, true);
  return files;
}

/** DuckDB and most Parquet readers match column names case-insensitively. */
function assertDistinctColumnNames(schema: TableSchema): void {
  const seen = new Map<string, string>();
  for (const c of schema.columns) {
    const k = c.name.toLowerCase();
    const other = seen.get(k);
    if (other !== undefined) {
      const table = formatTableRef(schema.table);
      throw new CorrenteError('UNSUPPORTED_VALUE', `${table} has columns ${JSON.stringify(other)} and ${JSON.stringify(c.name)} that differ only in case`, {
        table,
        hint: 'Parquet readers treat them as one column: export a view that renames one of them',
      });
    }
    seen.set(k, c.name);
  }
}
