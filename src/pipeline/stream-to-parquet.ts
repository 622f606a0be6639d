/**
 * The streaming core of an export: COPY one range of a table and feed its rows through a
 * named pipe into one DuckDB conversion, which writes Parquet files rolled over at
 * `export.fileTargetMb`; upload each file once written. No CSV touches the disk: temp disk
 * is the range's Parquet output until it is uploaded.
 *
 * A row longer than a COPY batch (1 MB) cannot go through the pipe: DuckDB's reader needs
 * a whole line inside one read buffer, sized before the first row arrives. Such a row
 * ends the current conversion, is written to a CSV file of its own and converted with a
 * buffer of its size; the rows after it start a new conversion.
 *
 * What DuckDB read from the pipe cannot be read again, yet a failed conversion should name
 * the row that failed. Rather than keep the last rows in memory for that (two read
 * buffers, ~9 MB for the whole export), a failed conversion reads its range again from
 * Postgres, in a session of its own, through a second pipe, until the first value that
 * does not convert: a second read, paid only when the export fails anyway.
 */
import { mkdir, open, readdir, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryNeededMb, writeParquetFilesFromCsv, writeParquetFromCsv, type DuckSession, type ParquetWriteOptions, type WithDiagnosisCsv, type WrittenParquet } from '../duckdb/index.js';
import type { ManifestFile, StageSeconds } from '../lake/index.js';
import { buildCopySql, copyOut, describeTarget, mapPgError, openReadSession, type CopyBatch, type PgClient, type RowFilter } from '../postgres/index.js';
import { CorrenteError } from '../shared/errors.js';
import { formatTableRef, type TableRef, type TableSchema } from '../shared/table-schema.js';
import type { ExportCallOptions, ExportDeps, ExportProgress } from './export-types.js';
import { sha256File } from './file-hash.js';
import { createPipeWriter, type PipeWriter } from './named-pipe.js';

const MIB = 1024 * 1024;

/**
 * DuckDB's read buffer for a pipe (see `ParquetWriteOptions.readBufferBytes`): the least
 * that holds a whole {@link PIPE_MAX_ROW_BYTES} row plus DuckDB's margin. 3 MB rather than
 * 4: peak RSS of a 5M-row export 146-150 MB against 149-157, export time within the
 * noise (4 alternating pairs, bench/README.md).
 */
const PIPE_READ_BUFFER_BYTES = 3 * MIB;

/** Longest row the pipe carries: a COPY batch; longer rows take the file route. */
const PIPE_MAX_ROW_BYTES = MIB;

/** Largest row group, in bytes of CSV (see {@link rowGroupRowsFor}). */
const MAX_ROW_GROUP_BYTES = 64 * MIB;

/**
 * Rows per row group for rows of `rowBytes` (CSV): `configured` (`export.rowGroupRows`),
 * fewer when that would pass {@link MAX_ROW_GROUP_BYTES}, so that the memory a conversion
 * needs to encode one row group stays bounded however wide the rows are.
 */
export function rowGroupRowsFor(rowBytes: number, configured: number): number {
  return Math.max(1, Math.min(configured, Math.floor(MAX_ROW_GROUP_BYTES / Math.max(1, rowBytes))));
}

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
  /** Most bytes the work directory held at once (Parquet waiting for upload, wide-row CSV). */
  workDiskPeakBytes: number;
}

/** Bytes of the regular files under `dir` (a pipe counts nothing). */
async function dirBytes(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const sizes = await Promise.all(entries.filter((e) => e.isFile()).map((e) => stat(join(e.parentPath ?? e.path, e.name)).then((s) => s.size, () => 0)));
  return sizes.reduce((a, b) => a + b, 0);
}

const secondsSince = (t0: number): number => (performance.now() - t0) / 1000;

/** One DuckDB conversion reading the pipe, and the widest row it was fed. */
interface Conversion {
  pipe: PipeWriter;
  written: Promise<WrittenParquet[]>;
  maxRowBytes: number;
}

/**
 * {@link WithDiagnosisCsv} for a conversion fed from a pipe: COPY the range again (a new
 * snapshot: rows changed since may be missed, which only loses the row's name) into a
 * second pipe at `path` while `search` reads it; stop both once `search` is done. Rows
 * too long for a pipe are left out.
 */
function rereadRange(deps: ExportDeps, schema: TableSchema, filter: RowFilter | undefined, path: string, signal: AbortSignal | undefined): WithDiagnosisCsv {
  return async (search) => {
    const session = await openReadSession(deps.pool, { target: deps.postgresUrl });
    let pipe: PipeWriter | undefined;
    let rows: ReturnType<typeof copyOut> | undefined;
    try {
      pipe = await createPipeWriter(path);
      const out = pipe;
      const copy = (rows = copyOut(session.client, buildCopySql(schema, filter)));
      const feeding = (async () => {
        for await (const batch of copy as AsyncIterable<CopyBatch>) {
          if (signal?.aborted) break;
          if (!batch.wide) await out.write(batch.data);
          copy.recycle(batch.data);
        }
        await out.end();
      })();
      // Fails once `search` stops reading (the normal way out), or with the COPY: then the
      // pipe must close, or `search` would wait for rows forever.
      feeding.catch(() => out.destroy());
      return await search(path);
    } finally {
      pipe?.destroy();
      rows?.destroy();
      // The COPY was cut short: the connection's state is unknown.
      await session.close(true);
    }
  };
}

/** A row too long for the pipe, being written to a file of its own. */
interface WideRow {
  file: FileHandle;
  path: string;
  bytes: number;
}

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
  const cfg = deps.config;
  const maxRowBytes = cfg.maxRowMb * MIB;
  const fileSizeBytes = Math.max(1, Math.round(cfg.fileTargetMb * MIB));
  const writeOpts = (maxLineBytes: number, readBufferBytes?: number, rowGroupRows = cfg.rowGroupRows): ParquetWriteOptions => ({
    compression: cfg.compression,
    compressionLevel: cfg.compressionLevel,
    parquetVersion: cfg.parquetVersion,
    rowGroupRows,
    maxLineBytes,
    ...(readBufferBytes ? { readBufferBytes } : {}),
  });
  const files: ManifestFile[] = [];
  // read: Postgres to the pipe; readPaused: waiting for DuckDB to take rows;
  // convert: DuckDB's time not overlapped by reading (finishing after the last row, wide rows).
  const stages = { read: 0, readPaused: 0, convert: 0, upload: 0 };
  let bytesRead = 0;
  let rowsRead = 0;
  // Sampled when the most is on disk: a conversion's files all written, none uploaded yet.
  let workDiskPeakBytes = 0;
  const sampleWorkDisk = async (): Promise<void> => {
    workDiskPeakBytes = Math.max(workDiskPeakBytes, await dirBytes(workDir));
  };
  let lastReport = 0;
  const report = (phase: ExportProgress['phase'], force = false): void => {
    const now = Date.now();
    if (!onProgress || (!force && now - lastReport < 250)) return;
    lastReport = now;
    onProgress({ phase, rows: rowsRead, estimatedRows: schema.estimatedRows, bytesRead, filesWritten: files.length });
  };

  // Uploads run one after another, beside the next conversion and the COPY stream.
  let uploads: Promise<void> = Promise.resolve();
  let uploadError: unknown;
  const upload = (parts: readonly WrittenParquet[], rowBytes: number): void => {
    for (const part of parts) {
      const index = files.length;
      const key = target.keyOf(index);
      files.push({ key, uri: deps.store.uri(target.bucket, key), rows: part.rows, bytes: part.bytes, sha256: '', maxRowBytes: rowBytes });
      uploads = uploads.then(async () => {
        if (uploadError) return;
        const t0 = performance.now();
        try {
          const [size, sha256] = await Promise.all([stat(part.path).then((s) => s.size), sha256File(part.path)]);
          await deps.store.putFile(target.bucket, key, part.path, { signal });
          files[index] = { ...files[index]!, bytes: size, sha256 };
          await rm(part.path, { force: true });
        } catch (err) {
          uploadError ??= err;
        } finally {
          stages.upload += secondsSince(t0);
        }
      });
    }
  };

  let segments = 0;
  /** Starts a conversion sized for rows as wide as those of its `first` batch. */
  const startConversion = async (first: CopyBatch): Promise<Conversion> => {
    const dir = join(workDir, `stream-${segments++}`);
    await mkdir(dir, { recursive: true });
    const rowBytes = first.data.length / Math.max(1, first.rows);
    const rowGroupRows = rowGroupRowsFor(rowBytes, cfg.rowGroupRows);
    const opts = writeOpts(PIPE_MAX_ROW_BYTES, PIPE_READ_BUFFER_BYTES, rowGroupRows);
    const pipe = await createPipeWriter(join(dir, 'rows.csv'));
    let duck: DuckSession | undefined;
    try {
      // Each DuckDB thread encodes a row group of its own.
      duck = await openDuck(Math.max(cfg.duckdbMemoryMb, memoryNeededMb(opts, rowGroupRows * rowBytes * cfg.duckdbThreads)));
    } catch (err) {
      pipe.destroy();
      throw err;
    }
    const session = duck;
    const conversion: Conversion = { pipe, written: Promise.resolve([]), maxRowBytes: 0 };
    const withDiagnosisCsv = rereadRange(deps, schema, target.filter, join(dir, 'reread.csv'), signal);
    conversion.written = writeParquetFilesFromCsv(session, schema, join(dir, 'rows.csv'), { dir: join(dir, 'out'), fileSizeBytes }, opts, { signal, withDiagnosisCsv })
      .catch((err: unknown) => {
        // Unblock a write waiting for a reader that is gone.
        pipe.destroy(err instanceof Error ? err : new Error(String(err)));
        throw err;
      })
      .finally(() => session.close());
    conversion.written.catch(() => {});
    return conversion;
  };
  const finishConversion = async (c: Conversion): Promise<void> => {
    await c.pipe.end().catch(() => undefined);
    const t0 = performance.now();
    const parts = await c.written;
    stages.convert += secondsSince(t0);
    await sampleWorkDisk();
    upload(parts, c.maxRowBytes);
  };
  /** Converts a CSV file holding rows up to `rowBytes` long into one Parquet file. */
  const convertFile = async (path: string, rowBytes: number): Promise<void> => {
    if (rowBytes > maxRowBytes) {
      const table = formatTableRef(schema.table);
      throw new CorrenteError('UNSUPPORTED_VALUE', `${table} has a row of ${(rowBytes / MIB).toFixed(1)} MB, above export.maxRowMb (${cfg.maxRowMb})`, {
        table,
        hint: 'Raise export.maxRowMb (worker memory grows to about 4-5x the widest row), or exclude the wide column with a view',
      });
    }
    const t0 = performance.now();
    const opts = writeOpts(rowBytes);
    const duck = await openDuck(Math.max(cfg.duckdbMemoryMb, memoryNeededMb(opts)));
    const out = `${path}.parquet`;
    try {
      const rows = await writeParquetFromCsv(duck, schema, path, out, opts, signal);
      await sampleWorkDisk();
      await rm(path, { force: true });
      upload([{ path: out, rows, bytes: 0 }], rowBytes);
    } finally {
      duck.close();
      stages.convert += secondsSince(t0);
    }
  };

  const stream = copyOut(client, buildCopySql(schema, target.filter));
  const abort = (): void => {
    stream.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
  };
  signal?.addEventListener('abort', abort, { once: true });
  let conversion: Conversion | undefined;
  let wide: WideRow | undefined;
  try {
    report('starting', true);
    const readStart = performance.now();
    let wideRows = 0;
    for await (const batch of stream as AsyncIterable<CopyBatch>) {
      if (uploadError) throw uploadError;
      bytesRead += batch.data.length;
      rowsRead += batch.rows;
      if (batch.wide) {
        if (conversion) {
          const c = conversion;
          conversion = undefined;
          await finishConversion(c);
        }
        if (!wide) {
          const path = join(workDir, `wide-${wideRows++}.csv`);
          wide = { file: await open(path, 'w'), path, bytes: 0 };
        }
        await wide.file.writeFile(batch.data);
        wide.bytes += batch.data.length;
        stream.recycle(batch.data);
        if (batch.endsRow) {
          const row = wide;
          wide = undefined;
          await row.file.close();
          await convertFile(row.path, row.bytes);
        }
      } else {
        conversion ??= await startConversion(batch);
        const c = conversion;
        c.maxRowBytes = Math.max(c.maxRowBytes, batch.maxRowBytes);
        const t0 = performance.now();
        // A write fails when DuckDB stopped reading: its own error says why.
        await c.pipe.write(batch.data).catch((err: unknown) => c.written.then(() => Promise.reject(err)));
        stages.readPaused += secondsSince(t0);
        // Written out to the socket ('drain' came): the buffer can carry the next rows.
        stream.recycle(batch.data);
      }
      report('exporting');
    }
    stages.read = secondsSince(readStart) - stages.readPaused - stages.convert;
    if (conversion) {
      const c = conversion;
      conversion = undefined;
      await finishConversion(c);
    }
    if (files.length === 0) {
      // An empty range still gets one (empty) file, so readers see its columns.
      const empty = join(workDir, 'empty.csv');
      await writeFile(empty, '');
      await convertFile(empty, 0);
    }
    await uploads;
    if (uploadError) throw uploadError;
  } catch (err) {
    conversion?.pipe.destroy(err instanceof Error ? err : undefined);
    await Promise.allSettled([conversion?.written, wide?.file.close(), uploads]);
    if (signal?.aborted) throw aborted(target.table, err);
    if (err instanceof CorrenteError) throw err;
    throw mapPgError(err, describeTarget(deps.postgresUrl), { table: formatTableRef(target.table) });
  } finally {
    signal?.removeEventListener('abort', abort);
  }
  report('finishing', true);
  return { files, stages, workDiskPeakBytes };
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
