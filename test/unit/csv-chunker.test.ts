import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chunkCsv, type CsvChunk } from '../../src/pipeline/csv-chunker.js';

const root = mkdtempSync(join(tmpdir(), 'corrente-chunker-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirNo = 0;
function freshDir(): string {
  const d = mkdtempSync(join(root, `d${dirNo++}-`));
  return d;
}

/**
 * A tiny RFC 4180 parser (quote `"`, doubled quotes inside quoted fields, record
 * separator `\n`). Returns the records and whether the text ended inside a quoted field.
 */
function parseCsv(text: string): { records: string[][]; openQuote: boolean; trailing: boolean } {
  const records: string[][] = [];
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let i = 0;
  let dirty = false;
  while (i < text.length) {
    const ch = text[i]!;
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        inQuotes = false;
        i++;
        continue;
      }
      field += ch;
      i++;
      continue;
    }
    if (ch === '"') {
      inQuotes = true;
      dirty = true;
      i++;
    } else if (ch === ',') {
      fields.push(field);
      field = '';
      dirty = true;
      i++;
    } else if (ch === '\n') {
      fields.push(field);
      records.push(fields);
      fields = [];
      field = '';
      dirty = false;
      i++;
    } else {
      field += ch;
      dirty = true;
      i++;
    }
  }
  return { records, openQuote: inQuotes, trailing: dirty };
}

/** Byte length of each record (including its newline), by walking the quote state. */
function recordLengths(buf: Buffer): number[] {
  const out: number[] = [];
  let odd = false;
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0x22) odd = !odd;
    else if (buf[i] === 0x0a && !odd) {
      out.push(i + 1 - start);
      start = i + 1;
    }
  }
  if (start < buf.length) out.push(buf.length - start);
  return out;
}

function csvField(v: string | null): string {
  if (v === null) return '';
  if (v === '' || /[",\n\r]/.test(v) || v.trim() !== v) return `"${v.replace(/"/g, '""')}"`;
  return v;
}

/** Deterministic rows mixing plain, quoted, multi-line, doubled-quote, empty and NULL fields. */
function makeCsv(rows: number): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const vals: (string | null)[] = [
      String(i),
      i % 7 === 0 ? null : `name ${i}`,
      i % 3 === 0 ? `multi\nline\n"quoted" ${i}` : `plain${i}`,
      i % 5 === 0 ? '' : `a,b ""${i}""`,
      i % 4 === 0 ? '"\n"' : 'ünïcödé 😀'.repeat(1 + (i % 3)),
      i % 11 === 0 ? 'x'.repeat(300) : 'end',
    ];
    lines.push(`${vals.map(csvField).join(',')}\n`);
  }
  return Buffer.from(lines.join(''), 'utf8');
}

async function* fromPieces(pieces: Buffer[]): AsyncGenerator<Buffer> {
  for (const p of pieces) {
    await Promise.resolve();
    yield p;
  }
}

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const sorted = [...new Set(cuts.filter((c) => c > 0 && c < buf.length))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of sorted) {
    out.push(buf.subarray(prev, c));
    prev = c;
  }
  out.push(buf.subarray(prev));
  return out;
}

function fixedPieces(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

/** Split points at awkward places: inside quoted fields, between `""` pairs, at and around newlines. */
function awkwardCuts(buf: Buffer): number[] {
  const cuts: number[] = [];
  let odd = false;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (b === 0x22) {
      if (buf[i + 1] === 0x22) cuts.push(i + 1); // between the two quotes of a pair (or close+open)
      odd = !odd;
      if (odd) cuts.push(i + 1); // just inside a quoted field
    } else if (b === 0x0a) {
      if (i % 3 === 0) cuts.push(i); // right before a newline
      if (i % 3 === 1) cuts.push(i + 1); // right after a newline
      if (odd) cuts.push(i + 1); // after a quoted newline
    }
  }
  return cuts.filter((_, k) => k % 2 === 0 || k % 5 === 0);
}

async function collect(source: AsyncIterable<Buffer>, targetBytes: number, signal?: AbortSignal): Promise<{ chunks: CsvChunk[]; dir: string }> {
  const dir = freshDir();
  const chunks: CsvChunk[] = [];
  for await (const c of chunkCsv(source, { dir, targetBytes, signal })) chunks.push(c);
  return { chunks, dir };
}

/** Every invariant the chunker promises, checked against the input. */
function checkChunks(input: Buffer, chunks: CsvChunk[], targetBytes: number): void {
  const files = chunks.map((c) => readFileSync(c.path));
  // Reassembly is byte-exact.
  expect(Buffer.concat(files).equals(input)).toBe(true);
  const allLengths = recordLengths(input);
  const longest = Math.max(...allLengths);
  const totalRecords = parseCsv(input.toString('utf8')).records.length;
  expect(chunks.reduce((n, c) => n + c.records, 0)).toBe(totalRecords);
  expect(Math.max(...chunks.map((c) => c.maxRecordBytes))).toBe(longest);

  chunks.forEach((c, k) => {
    const file = files[k]!;
    expect(c.index).toBe(k);
    expect(c.path).toBe(join(c.path, '..', `chunk-${String(k).padStart(5, '0')}.csv`));
    expect(c.bytes).toBe(file.length);
    expect(file.length).toBeGreaterThan(0);
    expect(file[file.length - 1]).toBe(0x0a);
    // Parsing the chunk on its own never ends inside a quoted field.
    const parsed = parseCsv(file.toString('utf8'));
    expect(parsed.openQuote).toBe(false);
    expect(parsed.trailing).toBe(false);
    expect(c.records).toBe(parsed.records.length);
    expect(c.maxRecordBytes).toBe(Math.max(...recordLengths(file)));
    if (k < chunks.length - 1) {
      expect(c.bytes).toBeGreaterThanOrEqual(targetBytes);
      expect(c.bytes).toBeLessThan(targetBytes + longest);
    }
  });
}

describe('chunkCsv', () => {
  const input = makeCsv(400);
  const smallInput = makeCsv(40);
  const parsedInput = parseCsv(input.toString('utf8'));

  it('the test fixture has quoted newlines, so records < lines', () => {
    expect(parsedInput.records.length).toBe(400);
    expect(input.toString('utf8').split('\n').length - 1).toBeGreaterThan(400);
    expect(parsedInput.openQuote).toBe(false);
  });

  it.each([
    ['one buffer', (b: Buffer) => [b]],
    ['7-byte buffers', (b: Buffer) => fixedPieces(b, 7)],
    ['4096-byte buffers', (b: Buffer) => fixedPieces(b, 4096)],
    ['awkward splits', (b: Buffer) => splitAt(b, awkwardCuts(b))],
  ])('cuts only at record boundaries (%s)', async (_label, split) => {
    for (const target of [1, 2500, 9000]) {
      const data = target === 1 ? smallInput : input;
      const pieces = split(data);
      expect(Buffer.concat(pieces).equals(data)).toBe(true);
      const { chunks } = await collect(fromPieces(pieces), target);
      expect(chunks.length).toBeGreaterThan(1);
      checkChunks(data, chunks, target);
      if (target === 1) expect(chunks).toHaveLength(40);
    }
  });

  it('puts everything in one chunk when the target exceeds the input', async () => {
    const { chunks, dir } = await collect(fromPieces(fixedPieces(input, 1000)), input.length + 1);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.records).toBe(400);
    expect(chunks[0]!.bytes).toBe(input.length);
    checkChunks(input, chunks, input.length + 1);
    expect(readdirSync(dir)).toEqual(['chunk-00000.csv']);
  });

  it('a target of exactly the input length still yields one chunk', async () => {
    const { chunks } = await collect(fromPieces([input]), input.length);
    expect(chunks).toHaveLength(1);
  });

  it('handles one byte at a time for a small case with quotes split everywhere', async () => {
    const small = Buffer.from('1,"a\n""b"""\n2,""\n3,"x,\n\n"\n4,,\n"""",5\n', 'utf8');
    const expected = parseCsv(small.toString('utf8'));
    expect(expected.records).toEqual([
      ['1', 'a\n"b"'],
      ['2', ''],
      ['3', 'x,\n\n'],
      ['4', '', ''],
      ['"', '5'],
    ]);
    for (const target of [1, 5, 12, 1000]) {
      const { chunks } = await collect(fromPieces(fixedPieces(small, 1)), target);
      checkChunks(small, chunks, target);
    }
    const { chunks } = await collect(fromPieces(fixedPieces(small, 1)), 1);
    expect(chunks.map((c) => c.records)).toEqual([1, 1, 1, 1, 1]);
    expect(chunks.map((c) => readFileSync(c.path, 'utf8'))).toEqual(['1,"a\n""b"""\n', '2,""\n', '3,"x,\n\n"\n', '4,,\n', '"""",5\n']);
    expect(chunks.map((c) => c.maxRecordBytes)).toEqual([12, 5, 9, 4, 7]);
  });

  it('counts records with quoted newlines correctly', async () => {
    const text = 'a,"line1\nline2\nline3"\nb,"\n"\n"\n\n\n",c\n';
    const { chunks } = await collect(fromPieces([Buffer.from(text)]), 1 << 20);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.records).toBe(3);
    expect(chunks[0]!.maxRecordBytes).toBe('a,"line1\nline2\nline3"\n'.length);
  });

  it('maxRecordBytes counts bytes (not characters) of multi-byte UTF-8', async () => {
    const text = 'ü,😀\nx\n';
    const { chunks } = await collect(fromPieces([Buffer.from(text, 'utf8')]), 1 << 20);
    expect(chunks[0]!.maxRecordBytes).toBe(Buffer.byteLength('ü,😀\n'));
    expect(chunks[0]!.bytes).toBe(Buffer.byteLength(text));
  });

  it('maxRecordBytes is the longest record even when it spans many input buffers', async () => {
    const long = `1,"${'q""'.repeat(1000)}\n"\n`;
    const text = `0,a\n${long}2,b\n`;
    const buf = Buffer.from(text);
    const { chunks } = await collect(fromPieces(fixedPieces(buf, 13)), 1 << 20);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.records).toBe(3);
    expect(chunks[0]!.maxRecordBytes).toBe(long.length);
  });

  it('counts a final record without a trailing newline in maxRecordBytes', async () => {
    const { chunks } = await collect(fromPieces([Buffer.from('a\nbbbbbbbb')]), 1 << 20);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.bytes).toBe(10);
    expect(chunks[0]!.maxRecordBytes).toBe(8);
  });

  it('yields no chunk for an empty source, or a source of empty buffers', async () => {
    const a = await collect(fromPieces([]), 100);
    expect(a.chunks).toEqual([]);
    expect(readdirSync(a.dir)).toEqual([]);
    const b = await collect(fromPieces([Buffer.alloc(0), Buffer.alloc(0)]), 100);
    expect(b.chunks).toEqual([]);
    expect(readdirSync(b.dir)).toEqual([]);
  });

  it('does not leave an empty trailing chunk when input ends exactly on a cut', async () => {
    const text = Buffer.from('aaaa\nbbbb\n');
    const { chunks } = await collect(fromPieces([text]), 5);
    expect(chunks.map((c) => readFileSync(c.path, 'utf8'))).toEqual(['aaaa\n', 'bbbb\n']);
  });

  it('reports running totals through onBytes', async () => {
    const calls: [number, number][] = [];
    const dir = freshDir();
    const pieces = fixedPieces(input, 1000);
    for await (const _ of chunkCsv(fromPieces(pieces), { dir, targetBytes: 3000, onBytes: (b, r) => calls.push([b, r]) })) {
      // drain
    }
    expect(calls).toHaveLength(pieces.length);
    expect(calls.at(-1)).toEqual([input.length, 400]);
    for (let k = 1; k < calls.length; k++) {
      expect(calls[k]![0]).toBeGreaterThan(calls[k - 1]![0]);
      expect(calls[k]![1]).toBeGreaterThanOrEqual(calls[k - 1]![1]);
    }
  });

  it('stops when the signal is aborted mid-stream', async () => {
    const controller = new AbortController();
    const dir = freshDir();
    let pulled = 0;
    let sourceClosed = false;
    async function* endless(): AsyncGenerator<Buffer> {
      try {
        for (;;) {
          pulled++;
          await Promise.resolve();
          yield Buffer.from('1,"a\nb"\n2,c\n');
        }
      } finally {
        sourceClosed = true;
      }
    }
    const seen: CsvChunk[] = [];
    const run = (async () => {
      for await (const c of chunkCsv(endless(), { dir, targetBytes: 50, signal: controller.signal })) {
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

  it('yields no further chunk after an abort that happens while one input buffer is being cut', async () => {
    // One 20-byte buffer holding 10 records, targetBytes 1: ten chunks come from one buffer.
    // The signal is only checked when the next input buffer arrives, so after aborting at
    // the first chunk the generator yields the other 9 and then returns normally.
    const controller = new AbortController();
    const dir = freshDir();
    let yieldedAfterAbort = 0;
    let threw: unknown;
    try {
      for await (const _ of chunkCsv(fromPieces([Buffer.from('a\n'.repeat(10))]), { dir, targetBytes: 1, signal: controller.signal })) {
        if (controller.signal.aborted) yieldedAfterAbort++;
        else controller.abort();
      }
    } catch (err) {
      threw = err;
    }
    expect({ yieldedAfterAbort, threw: (threw as Error | undefined)?.name }).toEqual({ yieldedAfterAbort: 0, threw: 'AbortError' });
  });

  it('throws the abort reason without yielding when aborted before starting', async () => {
    const controller = new AbortController();
    const reason = new Error('stop now');
    controller.abort(reason);
    const seen: CsvChunk[] = [];
    const dir = freshDir();
    await expect(
      (async () => {
        for await (const c of chunkCsv(fromPieces([input]), { dir, targetBytes: 10, signal: controller.signal })) seen.push(c);
      })(),
    ).rejects.toBe(reason);
    expect(seen).toEqual([]);
  });
});
