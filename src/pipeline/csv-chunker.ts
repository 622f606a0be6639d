/**
 * Cuts the rows of a COPY (as {@link CopyBatch}es) into CSV files of about
 * `targetBytes`, always at a row boundary, so that each file is a whole CSV that DuckDB
 * can convert on its own. Row boundaries come from the COPY protocol: nothing is scanned.
 * A row longer than a batch gets a file of its own: DuckDB's CSV reader fails on a long
 * line that crosses one of its read buffers (measured: two 40 MB lines need an 81 MB
 * buffer), so such a file is read in one buffer of its own size.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { CopyBatch } from '../postgres/index.js';

export interface CsvChunk {
  /** Sequence number, from 0. */
  index: number;
  path: string;
  bytes: number;
  /** Rows in the file. */
  records: number;
  /** Longest row in bytes (sizes the reader's line buffer). */
  maxRecordBytes: number;
}

export interface CsvChunkerOptions {
  dir: string;
  /** Cut at the first row boundary at or past this many bytes. */
  targetBytes: number;
  /**
   * Target of the first chunk, doubling for each next one up to `targetBytes`, so that
   * conversion starts early instead of waiting for a whole `targetBytes` of rows.
   * @defaultValue targetBytes
   */
  firstTargetBytes?: number;
  signal?: AbortSignal;
  /** Called after each batch with the running totals (for progress). */
  onBytes?: (bytes: number, records: number) => void;
}

interface OpenChunk {
  file: FileHandle;
  path: string;
  bytes: number;
  records: number;
  maxRecordBytes: number;
}

/**
 * Yields each chunk once its file is complete and closed. Reading pauses while the
 * consumer holds a yielded chunk, so the consumer hands chunks to a bounded queue
 * rather than awaiting their conversion (see `streamToParquet`).
 */
export async function* chunkCsv(source: AsyncIterable<CopyBatch>, options: CsvChunkerOptions): AsyncGenerator<CsvChunk> {
  let index = 0;
  let totalBytes = 0;
  let totalRecords = 0;
  let current: OpenChunk | undefined;
  const complete = async (chunk: OpenChunk): Promise<CsvChunk> => {
    current = undefined;
    await chunk.file.close();
    return { index: index++, path: chunk.path, bytes: chunk.bytes, records: chunk.records, maxRecordBytes: chunk.maxRecordBytes };
  };
  try {
    options.signal?.throwIfAborted();
    for await (const batch of source) {
      options.signal?.throwIfAborted();
      if (current && batch.wide && batch.maxRowBytes > 0) yield await complete(current);
      if (!current) {
        const path = join(options.dir, `chunk-${String(index).padStart(5, '0')}.csv`);
        current = { file: await open(path, 'w'), path, bytes: 0, records: 0, maxRecordBytes: 0 };
      }
      // writeFile loops until every byte is written, from the handle's current position.
      await current.file.writeFile(batch.data);
      current.bytes += batch.data.length;
      current.records += batch.rows;
      current.maxRecordBytes = Math.max(current.maxRecordBytes, batch.maxRowBytes);
      totalBytes += batch.data.length;
      totalRecords += batch.rows;
      options.onBytes?.(totalBytes, totalRecords);
      const target = Math.min(options.targetBytes, (options.firstTargetBytes ?? options.targetBytes) * 2 ** index);
      if (batch.endsRow && (batch.wide || current.bytes >= target)) yield await complete(current);
    }
    if (current) yield await complete(current);
  } finally {
    await current?.file.close().catch(() => undefined);
  }
}
