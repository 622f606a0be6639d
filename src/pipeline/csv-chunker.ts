/**
 * Cuts a CSV byte stream (as written by Postgres COPY ... CSV) into files of about
 * `targetBytes`, always at a record boundary: a newline outside quotes. Quotes inside
 * fields are doubled, so "outside quotes" is "an even number of quote bytes so far".
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';

const QUOTE = 0x22;
const NEWLINE = 0x0a;

export interface CsvChunk {
  /** Sequence number, from 0. */
  index: number;
  path: string;
  bytes: number;
  /** Newlines outside quotes: the record count. */
  records: number;
  /** Longest record in bytes (sizes the reader's line buffer). */
  maxRecordBytes: number;
}

export interface CsvChunkerOptions {
  dir: string;
  /** Cut after the first record boundary at or past this many bytes. */
  targetBytes: number;
  signal?: AbortSignal;
  /** Called after each input buffer with the running totals (for progress). */
  onBytes?: (bytes: number, records: number) => void;
}

/** Scanning state of the chunk being written. */
interface ChunkState {
  out: WriteStream;
  path: string;
  bytes: number;
  records: number;
  recordStart: number;
  maxRecordBytes: number;
}

/**
 * Scans `buf` from `from` for record boundaries, updating `state` (whose `bytes` is the
 * chunk offset of `buf[0]`). Stops after the first boundary at or past `stopAt`, returning
 * its index, or returns -1 after scanning everything.
 */
function scan(buf: Buffer, state: ChunkState, quote: { odd: boolean }, stopAt: number): number {
  let i = 0;
  // Next quote at or after i; cached so quote-free data is searched once per buffer.
  let nextQuote = quote.odd ? -1 : buf.indexOf(QUOTE);
  while (i < buf.length) {
    if (quote.odd) {
      const q = buf.indexOf(QUOTE, i);
      if (q === -1) return -1;
      quote.odd = false;
      i = q + 1;
      nextQuote = buf.indexOf(QUOTE, i);
      continue;
    }
    const nl = buf.indexOf(NEWLINE, i);
    if (nextQuote !== -1 && (nl === -1 || nextQuote < nl)) {
      quote.odd = true;
      i = nextQuote + 1;
      continue;
    }
    if (nl === -1) return -1;
    const end = state.bytes + nl + 1;
    state.records++;
    state.maxRecordBytes = Math.max(state.maxRecordBytes, end - state.recordStart);
    state.recordStart = end;
    if (nl >= stopAt) return nl;
    i = nl + 1;
  }
  return -1;
}

async function write(out: WriteStream, data: Buffer): Promise<void> {
  if (!out.write(data)) await once(out, 'drain');
}

async function finish(out: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.end(() => resolve());
  });
}

/**
 * Yields each chunk once its file is complete. Reading continues while the consumer works
 * on a yielded chunk only if the consumer does not await that work before asking for the
 * next one (the exporter hands chunks to a bounded queue for exactly that reason).
 */
export async function* chunkCsv(source: AsyncIterable<Buffer>, options: CsvChunkerOptions): AsyncGenerator<CsvChunk> {
  let index = 0;
  let totalBytes = 0;
  let totalRecords = 0;
  const quote = { odd: false };
  let current: ChunkState | undefined;
  const open = (): ChunkState => {
    const path = join(options.dir, `chunk-${String(index).padStart(5, '0')}.csv`);
    const out = createWriteStream(path, { highWaterMark: 1 << 20 });
    // A write still in flight when the source fails (and `finally` destroys the stream)
    // reports its error on the stream; the source's error is the one that matters.
    out.on('error', () => {});
    return { out, path, bytes: 0, records: 0, recordStart: 0, maxRecordBytes: 0 };
  };
  const complete = async (state: ChunkState): Promise<CsvChunk> => {
    await finish(state.out);
    totalRecords += state.records;
    return { index: index++, path: state.path, bytes: state.bytes, records: state.records, maxRecordBytes: Math.max(state.maxRecordBytes, state.bytes - state.recordStart) };
  };
  try {
    for await (const input of source) {
      options.signal?.throwIfAborted();
      let buf = input;
      while (buf.length > 0) {
        current ??= open();
        const cut = scan(buf, current, quote, Math.max(0, options.targetBytes - current.bytes - 1));
        if (cut === -1) {
          await write(current.out, buf);
          current.bytes += buf.length;
          break;
        }
        const piece = buf.subarray(0, cut + 1);
        await write(current.out, piece);
        current.bytes += piece.length;
        const done = current;
        current = undefined;
        yield await complete(done);
        options.signal?.throwIfAborted();
        buf = buf.subarray(cut + 1);
      }
      totalBytes += input.length;
      options.onBytes?.(totalBytes, totalRecords + (current?.records ?? 0));
    }
    if (current && current.bytes > 0) {
      const done = current;
      current = undefined;
      yield await complete(done);
    }
  } finally {
    current?.out.destroy();
  }
}
