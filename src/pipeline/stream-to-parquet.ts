/**
 * The streaming core of an export: COPY one range of a table as CSV, cut it into chunks
 * on disk, convert each chunk to Parquet with DuckDB while the next one streams, and
 * upload each file while the next one converts.
 */
import { rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryNeededMb, writeParquetFromCsv, type DuckSession, type ParquetWriteOptions } from '../duckdb/index.js';
import type { ManifestFile, StageSeconds } from '../lake/index.js';
import { buildCopySql, copyOut, describeTarget, mapPgError, type PgClient, type RowFilter } from '../postgres/index.js';
import { CorrenteError } from '../shared/errors.js';
import { formatTableRef, type TableRef, type TableSchema } from '../shared/table-schema.js';
import { chunkCsv, type CsvChunk } from './csv-chunker.js';
import type { ExportCallOptions, ExportDeps, ExportProgress } from './export-types.js';
import { sha256File } from './file-hash.js';

/** A range's first chunk targets `export.fileTargetMb` / this; later ones double up to it. */
const RAMP_DIVISOR = 8;

/** Chunks converted but not yet uploaded; bounds temp disk use to about (N+1) chunks. */
const MAX_CHUNKS_IN_FLIGHT = 2;

/** Where one range goes and how its files are named. */
export interface RangeTarget {
  bucket: string;
  table: TableRef;
  /** Object key of the n-th file of this range. */
  keyOf(index: number): string;
  /** Rows to read; the whole table when absent. */
  filter?: RowFilter;
}

/** What one range produced, and where its time went (`checksumWait` is the caller's). */
export interface StreamedRange {
  files: ManifestFile[];
  stages: Omit<StageSeconds, 'checksumWait'>;
}

const secondsSince = (t0: number): number => (performance.now() - t0) / 1000;

/**
 * Streams one range of the table (inside the caller's snapshot session) into Parquet
 * files, uploading each as soon as it is written. Returns the files in order, and the
 * seconds spent per stage.
 */
export async function streamToParquet(
  deps: ExportDeps,
  target: RangeTarget,
  schema: TableSchema,
  client: PgClient,
  openDuck: (memoryMb: number) => Promise<DuckSession>,
  workDir: string,
  options: ExportCallOptions,
): Promise<StreamedRange> {
  const { signal, onProgress } = options;
  const bucket = target.bucket;
  const cfg = deps.config;
  const maxRowBytes = cfg.maxRowMb * 1024 * 1024;
  const pgTarget = describeTarget(deps.postgresUrl);
  const files: ManifestFile[] = [];
  const stages = { read: 0, readPaused: 0, convert: 0, upload: 0 };
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
  // Conversions run one after another (both cores are already busy with COPY and DuckDB's
  // own threads); uploads run beside the next conversion and beside the COPY stream.
  let conversionChain: Promise<void> = Promise.resolve();
  const handle = (chunk: CsvChunk): Promise<void> => {
    const parquetPath = join(workDir, `part-${String(chunk.index).padStart(5, '0')}.parquet`);
    const converted = conversionChain.then(async () => {
      if (firstError) return undefined;
      if (chunk.maxRecordBytes > maxRowBytes) {
        const table = formatTableRef(schema.table);
        throw new CorrenteError('UNSUPPORTED_VALUE', `${table} has a row of ${(chunk.maxRecordBytes / 1024 / 1024).toFixed(1)} MB, above export.maxRowMb (${cfg.maxRowMb})`, {
          table,
          hint: 'Raise export.maxRowMb (worker memory grows to about 4-5x the widest row), or exclude the wide column with a view',
        });
      }
      const writeOpts: ParquetWriteOptions = { compression: cfg.compression, compressionLevel: cfg.compressionLevel, parquetVersion: cfg.parquetVersion, rowGroupRows: cfg.rowGroupRows, maxLineBytes: chunk.maxRecordBytes };
      // A fresh DuckDB per file: memory a conversion leaves cached is returned to the OS
      // (one shared instance grew by ~20 MB per file, so RSS grew with the table). A very
      // wide row needs a larger read buffer than the usual budget allows.
      const t0 = performance.now();
      const duck = await openDuck(Math.max(cfg.duckdbMemoryMb, memoryNeededMb(writeOpts)));
      try {
        const rows = await writeParquetFromCsv(duck, schema, chunk.path, parquetPath, writeOpts, signal);
        await rm(chunk.path, { force: true });
        return rows;
      } finally {
        duck.close();
        stages.convert += secondsSince(t0);
      }
    });
    conversionChain = converted.then(() => undefined, () => undefined);
    return converted.then(async (rows) => {
      if (rows === undefined) return;
      const t0 = performance.now();
      const key = target.keyOf(chunk.index);
      const [size, sha256] = await Promise.all([stat(parquetPath).then((s) => s.size), sha256File(parquetPath)]);
      await deps.store.putFile(bucket, key, parquetPath, { signal });
      await rm(parquetPath, { force: true });
      stages.upload += secondsSince(t0);
      files[chunk.index] = { key, uri: deps.store.uri(bucket, key), rows, bytes: size, sha256, maxRowBytes: chunk.maxRecordBytes };
      rowsDone += rows;
    }).catch((err: unknown) => {
      firstError ??= err;
    });
  };
  const stream = copyOut(client, buildCopySql(schema, target.filter));
  const abort = (): void => {
    stream.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
  };
  signal?.addEventListener('abort', abort, { once: true });
  try {
    report('starting', 0, 0, true);
    let chunks = 0;
    const readStart = performance.now();
    for await (const chunk of chunkCsv(stream, {
      dir: workDir,
      targetBytes: cfg.fileTargetMb * 1024 * 1024,
      // 1/8, 1/4, 1/2 of fileTargetMb, then all of it: DuckDB starts converting sooner
      // (measured with the 64 MB default: 1M rows 1.13-1.22 s vs 1.32-1.39 s; 5M unchanged).
      firstTargetBytes: (cfg.fileTargetMb * 1024 * 1024) / RAMP_DIVISOR,
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
      const paused = performance.now();
      while (inFlight.length >= MAX_CHUNKS_IN_FLIGHT) await inFlight.shift();
      stages.readPaused += secondsSince(paused);
      if (firstError) break;
    }
    stages.read = secondsSince(readStart) - stages.readPaused;
    if (chunks === 0 && !firstError) {
      // An empty table still gets one (empty) file, so readers see its columns.
      const empty = join(workDir, 'chunk-00000.csv');
      await writeFile(empty, '');
      inFlight.push(handle({ index: 0, path: empty, bytes: 0, records: 0, maxRecordBytes: 0 }));
    }
    await Promise.all(inFlight);
  } catch (err) {
    await Promise.allSettled(inFlight);
    if (signal?.aborted) throw aborted(target.table, err);
    throw firstError ?? mapPgError(err, pgTarget, { table: formatTableRef(target.table) });
  } finally {
    signal?.removeEventListener('abort', abort);
  }
  if (firstError) throw signal?.aborted ? aborted(target.table, firstError) : firstError;
  report('finishing', rowsDone, bytesRead, true);
  return { files, stages };
}

/** Cancellation (shutdown, job timeout) surfaces as one retryable error, whatever step it hit. */
function aborted(table: TableRef, cause: unknown): CorrenteError {
  return new CorrenteError('ABORTED', `Export of ${formatTableRef(table)} was cancelled`, { table: formatTableRef(table), cause, retryable: true });
}

/** DuckDB and most Parquet readers match column names case-insensitively. */
export function assertDistinctColumnNames(schema: TableSchema): void {
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
