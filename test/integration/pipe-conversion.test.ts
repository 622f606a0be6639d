/**
 * The export's conversion path without Postgres: rows written into a named pipe that a
 * DuckDB conversion reads, with files rolled over by size. What it must guarantee: every
 * byte arrives in order through a pipe far smaller than the data; the writer waits while
 * DuckDB is behind; a failing conversion releases a waiting writer; a writer that stops
 * midway ends the conversion (never a hang).
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDuckSession, writeParquetFilesFromCsv, type DuckSession, type ParquetWriteOptions, type WithDiagnosisCsv } from '../../src/duckdb/index.js';
import { createPipeWriter } from '../../src/pipeline/named-pipe.js';
import type { CorrenteError } from '../../src/shared/errors.js';
import type { TableSchema } from '../../src/shared/table-schema.js';

const schema: TableSchema = {
  table: { schema: 'core', name: 't' },
  columns: [
    { name: 'id', pgType: 'bigint', nullable: false, type: { kind: 'int64' } },
    { name: 'amount', pgType: 'numeric(12,2)', nullable: true, type: { kind: 'decimal', precision: 12, scale: 2 } },
    { name: 'note', pgType: 'text', nullable: true, type: { kind: 'text' } },
  ],
  primaryKey: ['id'],
  estimatedRows: -1,
};
/** For conversions that must not fail on a value. */
const noDiagnosis: WithDiagnosisCsv = () => Promise.reject(new Error('no value was expected to fail'));
const opts: ParquetWriteOptions = { compression: 'zstd', compressionLevel: 3, parquetVersion: 'v2', rowGroupRows: 10_000, maxLineBytes: 1 << 20, readBufferBytes: 4 << 20 };

/** Rows `from`..`to-1` as COPY would write them (every 7th note NULL, every 5th empty). */
function rows(from: number, to: number, badAt = -1): Buffer {
  let s = '';
  for (let i = from; i < to; i++) {
    const amount = i === badAt ? 'NaN' : `${i}.${String(i % 100).padStart(2, '0')}`;
    const note = i % 7 === 0 ? '' : i % 5 === 0 ? '""' : `"note ${i}, ""quoted"" ${'x'.repeat(i % 50)}"`;
    s += `${i},${amount},${note}\n`;
  }
  return Buffer.from(s);
}

let dir: string;
let duck: DuckSession;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'corrente-pipe-'));
  duck = await openDuckSession({ memoryMb: 128, threads: 1 });
});
afterEach(async () => {
  duck.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a named pipe into a DuckDB conversion', () => {
  it('carries 400k rows through many writes, exactly, into files rolled over by size', async () => {
    const fifo = join(dir, 'rows.csv');
    const pipe = await createPipeWriter(fifo);
    const written = writeParquetFilesFromCsv(duck, schema, fifo, { dir: join(dir, 'out'), fileSizeBytes: 256 << 10 }, opts, { withDiagnosisCsv: noDiagnosis });
    // Every write below waits for DuckDB; a listener left behind per wait would pile up.
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    let bytes = 0;
    try {
      for (let i = 0; i < 400_000; i += 10_000) {
        const b = rows(i, i + 10_000);
        bytes += b.length;
        await pipe.write(b);
      }
      await pipe.end();
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('MaxListenersExceededWarning');
    const files = await written;
    expect(bytes).toBeGreaterThan(20 << 20); // far more than a pipe holds: the writer waited
    expect(files.length).toBeGreaterThan(1);
    for (const f of files.slice(0, -1)) expect(f.bytes).toBeGreaterThanOrEqual(256 << 10);
    expect(files.reduce((n, f) => n + f.rows, 0)).toBe(400_000);
    const list = files.map((f) => `'${f.path}'`).join(', ');
    const [agg] = await duck.rows(
      `SELECT count(*)::INT AS n, sum(id)::VARCHAR AS ids, sum(amount)::VARCHAR AS amounts, count(note)::INT AS notes,
              count(*) FILTER (WHERE note = '')::INT AS empty, bool_and(id = expected) AS ordered
       FROM (SELECT *, row_number() OVER () - 1 AS expected FROM read_parquet([${list}]))`,
    );
    const expectedAmount = Array.from({ length: 400_000 }, (_, i) => i * 100 + (i % 100)).reduce((a, b) => a + b, 0) / 100;
    expect(agg).toEqual({ n: 400_000, ids: String((399_999 * 400_000) / 2), amounts: expectedAmount.toFixed(2), notes: 400_000 - Math.ceil(400_000 / 7), empty: expect.any(Number), ordered: true });
    expect(agg!.empty).toBe(Array.from({ length: 400_000 }, (_, i) => i).filter((i) => i % 7 !== 0 && i % 5 === 0).length);
  });

  it('a value that does not convert fails the conversion, releases the writer and names the row', async () => {
    const fifo = join(dir, 'rows.csv');
    const pipe = await createPipeWriter(fifo);
    const written = writeParquetFilesFromCsv(duck, schema, fifo, { dir: join(dir, 'out'), fileSizeBytes: 1 << 20 }, opts, {
      // What the export does: the same rows again, from the start, through a second pipe
      // (here endless: the search must stop reading at the row it names).
      withDiagnosisCsv: async (search) => {
        const again = join(dir, 'again.csv');
        const feed = await createPipeWriter(again);
        const feeding = (async () => {
          for (let i = 0; ; i += 10_000) await feed.write(rows(i, i + 10_000, 123_456));
        })();
        feeding.catch(() => undefined);
        try {
          return await search(again);
        } finally {
          feed.destroy();
        }
      },
    });
    written.catch((err: unknown) => pipe.destroy(err as Error));
    const writing = (async () => {
      for (let i = 0; ; i += 10_000) {
        await pipe.write(rows(i, i + 10_000, 123_456));
      }
    })();
    const writerReleased = expect(writing).rejects.toThrow(); // EPIPE: the reader is gone
    await expect(written).rejects.toThrow(/"amount" \(numeric\(12,2\)\) holds a value that DECIMAL\(12,2\) cannot store exactly at row id=123456, value starting "NaN"/);
    await writerReleased;
  });

  it('a write resolves only once its bytes are in the pipe, so the buffer can be reused at once', async () => {
    const fifo = join(dir, 'reuse.fifo');
    const pipe = await createPipeWriter(fifo);
    const chunks: Buffer[] = [];
    const reader = createReadStream(fifo);
    reader.pause(); // a reader that is behind: the pipe fills, later writes queue in libuv
    reader.on('data', (c) => void chunks.push(c as Buffer));
    const ended = new Promise<void>((resolve) => reader.on('end', () => resolve()));
    setTimeout(() => reader.resume(), 300);
    // Small writes (below the socket's 16 KB high-water mark) into one reused buffer, as
    // the export recycles its batches.
    const buffer = Buffer.alloc(8 * 1024);
    for (let i = 0; i < 64; i++) {
      buffer.fill(i % 251);
      await pipe.write(buffer);
    }
    await pipe.end();
    await ended;
    const all = Buffer.concat(chunks);
    expect(all.length).toBe(64 * 8 * 1024);
    for (let i = 0; i < 64; i++) expect(all.subarray(i * 8192, (i + 1) * 8192).every((b) => b === i % 251), `chunk ${i}`).toBe(true);
  });

  it('a writer that stops midway ends the conversion with the rows it got, and later writes fail', async () => {
    const fifo = join(dir, 'rows.csv');
    const pipe = await createPipeWriter(fifo);
    const written = writeParquetFilesFromCsv(duck, schema, fifo, { dir: join(dir, 'out'), fileSizeBytes: 64 << 20 }, opts, { withDiagnosisCsv: noDiagnosis });
    await pipe.write(rows(0, 500)); // less than a pipe holds: written at once
    pipe.destroy(new Error('terminating connection due to administrator command'));
    await expect(pipe.write(rows(500, 1000))).rejects.toThrow('terminating connection');
    const files = await written;
    expect(files.reduce((n, f) => n + f.rows, 0)).toBe(500);
  });

  it('a work directory that cannot hold a named pipe is one clear configuration error', async () => {
    const err = await createPipeWriter(join(dir, 'missing', 'rows.csv')).then(() => undefined, (e: unknown) => e as CorrenteError);
    expect(err?.message).toMatch(/^Cannot create a named pipe in .*missing: mkfifo: .*No such file or directory/);
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', hint: expect.stringContaining('export.workDir') });
  });

  it('a conversion that runs out of DuckDB memory says which setting to raise', async () => {
    // A spill directory of its own: DuckDB's default (.tmp in the working directory) is
    // shared with other test processes, whose spill files have the same names.
    const small = await openDuckSession({ memoryMb: 16, threads: 1, tempDir: join(dir, 'spill') });
    try {
      const csv = join(dir, 'wide.csv');
      await writeFile(csv, Array.from({ length: 20_000 }, (_, i) => `${i},1.00,"${'w'.repeat(2000)}${i}"\n`).join(''));
      const failed = writeParquetFilesFromCsv(small, schema, csv, { dir: join(dir, 'out'), fileSizeBytes: 64 << 20 }, { ...opts, rowGroupRows: 122_880 }, { withDiagnosisCsv: (search) => search(csv) });
      const err = await failed.then(() => undefined, (e: unknown) => e as CorrenteError);
      expect(err?.message).toMatch(/^core\.t: the conversion to Parquet ran out of DuckDB's memory limit \(export\.duckdbMemoryMb\): .*Out of Memory.*\. Nothing was published$/);
      expect(err).toMatchObject({ code: 'CONFIG_INVALID', retryable: false, hint: expect.stringContaining('Raise export.duckdbMemoryMb') });
    } finally {
      small.close();
    }
  });
});
