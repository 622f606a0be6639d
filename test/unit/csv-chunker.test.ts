import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chunkCsv, type CsvChunk } from '../../src/pipeline/csv-chunker.js';
import type { CopyBatch } from '../../src/postgres/index.js';

const root = mkdtempSync(join(tmpdir(), 'corrente-chunker-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirNo = 0;
const freshDir = (): string => mkdtempSync(join(root, `d${dirNo++}-`));

/** Whole-row batches of `perBatch` rows each. */
function batchesOf(rows: string[], perBatch: number): CopyBatch[] {
  const out: CopyBatch[] = [];
  for (let i = 0; i < rows.length; i += perBatch) {
    const part = rows.slice(i, i + perBatch);
    out.push({ data: Buffer.from(part.join('')), rows: part.length, maxRowBytes: Math.max(...part.map((r) => r.length)), endsRow: true, wide: false });
  }
  return out;
}

async function* from(batches: CopyBatch[]): AsyncGenerator<CopyBatch> {
  for (const b of batches) {
    await Promise.resolve();
    yield b;
  }
}

async function collect(source: AsyncIterable<CopyBatch>, targetBytes: number, signal?: AbortSignal): Promise<CsvChunk[]> {
  const chunks: CsvChunk[] = [];
  for await (const c of chunkCsv(source, { dir: freshDir(), targetBytes, signal })) chunks.push(c);
  return chunks;
}

const rows = Array.from({ length: 400 }, (_, i) => `${i},"note ${'x'.repeat(i % 37)}"\n`);

describe('chunkCsv', () => {
  it('writes every byte once, in order, cutting at the first batch end at or past the target', async () => {
    const batches = batchesOf(rows, 10);
    const chunks = await collect(from(batches), 3000);
    expect(chunks.map((c) => readFileSync(c.path, 'utf8')).join('')).toBe(rows.join(''));
    expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
    for (const c of chunks.slice(0, -1)) {
      expect(c.bytes).toBeGreaterThanOrEqual(3000);
      expect(c.bytes - 3000).toBeLessThan(Math.max(...batches.map((b) => b.data.length)));
    }
    expect(chunks.reduce((n, c) => n + c.records, 0)).toBe(400);
    expect(chunks.reduce((n, c) => n + c.bytes, 0)).toBe(Buffer.byteLength(rows.join('')));
    for (const c of chunks) expect(c.bytes).toBe(readFileSync(c.path).length);
  });

  it('ramps chunk targets up from firstTargetBytes, doubling to targetBytes', async () => {
    const rows100 = Array.from({ length: 300 }, (_, i) => `${String(i).padStart(5, '0')},${'r'.repeat(93)}\n`);
    const chunks: CsvChunk[] = [];
    for await (const c of chunkCsv(from(batchesOf(rows100, 1)), { dir: freshDir(), targetBytes: 8000, firstTargetBytes: 1000 })) chunks.push(c);
    expect(chunks.map((c) => c.bytes)).toEqual([1000, 2000, 4000, 8000, 8000, 7000]);
  });

  it('reports the widest row of each chunk', async () => {
    const wide = [...rows.slice(0, 20), `w,${'W'.repeat(5000)}\n`, ...rows.slice(20, 40)];
    const chunks = await collect(from(batchesOf(wide, 5)), 2000);
    const holder = chunks.find((c) => readFileSync(c.path, 'utf8').includes('WWW'))!;
    expect(holder.maxRecordBytes).toBe(5003);
    for (const c of chunks.filter((c) => c !== holder)) expect(c.maxRecordBytes).toBeLessThan(100);
  });

  it('gives a row longer than a batch a file of its own, never cutting inside it', async () => {
    const big = `1,${'b'.repeat(3000)}\n`;
    const parts: CopyBatch[] = [
      ...batchesOf(['0,a\n'], 1),
      { data: Buffer.from(big.slice(0, 1000)), rows: 0, maxRowBytes: big.length, endsRow: false, wide: true },
      { data: Buffer.from(big.slice(1000, 2000)), rows: 0, maxRowBytes: 0, endsRow: false, wide: true },
      { data: Buffer.from(big.slice(2000)), rows: 1, maxRowBytes: 0, endsRow: true, wide: true },
      ...batchesOf(['2,a\n', '3,b\n'], 1),
    ];
    const chunks = await collect(from(parts), 500);
    expect(chunks.map((c) => readFileSync(c.path, 'utf8'))).toEqual(['0,a\n', big, '2,a\n3,b\n']);
    expect(chunks.map((c) => [c.records, c.maxRecordBytes])).toEqual([[1, 4], [1, big.length], [2, 4]]);
  });

  it('yields nothing for an empty COPY and leaves no file behind', async () => {
    const dir = freshDir();
    const seen: CsvChunk[] = [];
    for await (const c of chunkCsv(from([]), { dir, targetBytes: 10 })) seen.push(c);
    expect(seen).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('reports running totals through onBytes', async () => {
    const calls: [number, number][] = [];
    const batches = batchesOf(rows, 50);
    for await (const _ of chunkCsv(from(batches), { dir: freshDir(), targetBytes: 3000, onBytes: (b, r) => calls.push([b, r]) })) {
      // drain
    }
    expect(calls).toHaveLength(batches.length);
    expect(calls.at(-1)).toEqual([Buffer.byteLength(rows.join('')), 400]);
  });

  it('stops reading when the signal is aborted mid-stream', async () => {
    const controller = new AbortController();
    let pulled = 0;
    let sourceClosed = false;
    async function* endless(): AsyncGenerator<CopyBatch> {
      try {
        for (;;) {
          pulled++;
          await Promise.resolve();
          yield batchesOf(['1,"a\nb"\n', '2,c\n'], 2)[0]!;
        }
      } finally {
        sourceClosed = true;
      }
    }
    const seen: CsvChunk[] = [];
    const run = (async () => {
      for await (const c of chunkCsv(endless(), { dir: freshDir(), targetBytes: 50, signal: controller.signal })) {
        seen.push(c);
        if (seen.length === 2) controller.abort();
      }
    })();
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toHaveLength(2);
    expect(sourceClosed).toBe(true);
    const pulledAtAbort = pulled;
    await new Promise((r) => setTimeout(r, 10));
    expect(pulled).toBe(pulledAtAbort);
  });

  it('throws the abort reason without yielding when aborted before starting', async () => {
    const controller = new AbortController();
    const reason = new Error('stop now');
    controller.abort(reason);
    await expect(collect(from(batchesOf(rows, 10)), 10, controller.signal)).rejects.toBe(reason);
  });

  it('closes the open chunk file and rethrows when the source fails', async () => {
    async function* failing(): AsyncGenerator<CopyBatch> {
      yield batchesOf(rows, 10)[0]!;
      throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    }
    await expect(collect(failing(), 1 << 20)).rejects.toThrow(/terminating connection/);
  });
});
