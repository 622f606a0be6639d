import { describe, expect, it } from 'vitest';
import { CopyMessageParser, type CopyBatch, type CopyEnd } from '../../src/postgres/copy-out.js';

/** One protocol message: type byte, int32 length (itself included), body. */
function message(type: string, body: Buffer | string = Buffer.alloc(0)): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeUInt32BE(b.length + 4, 1);
  return Buffer.concat([header, b]);
}

const COPY_OUT_RESPONSE = message('H', Buffer.from([0, 0, 2, 0, 0, 0, 0]));
const AFTER = Buffer.concat([message('C', 'COPY 4\0'), message('Z', 'I')]);

/** Rows with quotes, embedded newlines, an empty-ish line and a row wider than the test batch. */
const ROWS = ['1,"a ""quoted""\nvalue",x\n', '2,,\n', `3,${'w'.repeat(300)}\n`, '4,"",z\n'];

function stream(rows: string[], tail: Buffer = Buffer.concat([message('c'), AFTER])): Buffer {
  return Buffer.concat([COPY_OUT_RESPONSE, message('N', 'SNOTICE\0Mhello\0\0'), ...rows.map((r) => message('d', r)), tail]);
}

/** Feeds `input` cut at `cuts` and returns the batches and where the COPY ended. */
function run(input: Buffer, cuts: number[], batchBytes = 64): { batches: CopyBatch[]; end: CopyEnd | undefined; fedAfterEnd: boolean } {
  const batches: CopyBatch[] = [];
  const parser = new CopyMessageParser((b) => batches.push({ ...b, data: Buffer.from(b.data) }), batchBytes);
  let end: CopyEnd | undefined;
  let fedAfterEnd = false;
  let from = 0;
  for (const to of [...cuts, input.length]) {
    if (to <= from) continue;
    if (end) {
      fedAfterEnd = true;
      break;
    }
    end = parser.parse(input.subarray(from, to));
    if (end) end = { ...end, rest: Buffer.concat([end.rest, input.subarray(to)]) };
    from = to;
  }
  return { batches, end, fedAfterEnd };
}

function check(batches: CopyBatch[], rows: string[]): void {
  expect(Buffer.concat(batches.map((b) => b.data)).toString()).toBe(rows.join(''));
  expect(batches.reduce((n, b) => n + b.rows, 0)).toBe(rows.length);
  expect(Math.max(...batches.map((b) => b.maxRowBytes))).toBe(Math.max(...rows.map((r) => Buffer.byteLength(r))));
  expect(batches.at(-1)!.endsRow).toBe(true);
  // A batch that does not end at a row is always followed by the rest of that row.
  let offset = 0;
  const ends = new Set<number>();
  for (const r of rows) ends.add((offset += Buffer.byteLength(r)));
  offset = 0;
  for (const b of batches) {
    const start = offset;
    offset += b.data.length;
    expect(b.endsRow).toBe(ends.has(offset));
    // A row longer than a batch fills its batches alone, from its first byte to its last.
    if (b.wide) expect(rows.filter((r) => r.length > 64).join('')).toContain(Buffer.concat(batches.map((x) => x.data)).subarray(start, offset).toString());
  }
  const wideBytes = batches.filter((b) => b.wide).reduce((n, b) => n + b.data.length, 0);
  expect(wideBytes).toBe(rows.filter((r) => r.length > 64).reduce((n, r) => n + r.length, 0));
}

describe('CopyMessageParser', () => {
  const input = stream(ROWS);

  it('returns the rows, row count and widest row, and hands back what follows CopyDone', () => {
    const { batches, end } = run(input, []);
    check(batches, ROWS);
    expect(end).toEqual({ rest: AFTER, failed: false });
  });

  it('gives the same result however the bytes are split (every single cut, and every pair of cuts)', () => {
    for (let a = 1; a < input.length; a++) {
      const { batches, end } = run(input, [a]);
      check(batches, ROWS);
      expect(end?.rest.equals(AFTER)).toBe(true);
    }
    for (let a = 1; a < input.length; a += 7) {
      for (let b = a + 1; b < input.length; b += 3) {
        const { batches, end } = run(input, [a, b]);
        check(batches, ROWS);
        expect(end?.rest.equals(AFTER)).toBe(true);
      }
    }
  });

  it('one byte at a time', () => {
    const { batches, end } = run(input, Array.from({ length: input.length }, (_, i) => i + 1));
    check(batches, ROWS);
    expect(end?.rest.equals(AFTER)).toBe(true);
  });

  it('packs many small rows into few batches', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => `${i},row ${i}\n`);
    const { batches } = run(stream(rows), [], 4096);
    check(batches, rows);
    expect(batches.length).toBeLessThan(6);
  });

  it('stops at an ErrorResponse and hands the whole message, header included, back to pg', () => {
    const error = message('E', 'SERROR\0C57P01\0Mterminating connection due to administrator command\0\0');
    const input = stream(ROWS.slice(0, 2), Buffer.concat([error, message('Z', 'I')]));
    for (let a = 1; a < input.length; a++) {
      const { batches, end } = run(input, [a]);
      expect(end?.failed).toBe(true);
      expect(end?.rest.equals(Buffer.concat([error, message('Z', 'I')]))).toBe(true);
      // Rows before the error that filled no batch are not emitted: the COPY failed.
      expect(Buffer.concat(batches.map((b) => b.data)).toString()).toBe(ROWS.slice(0, 2).join('').slice(0, Buffer.concat(batches.map((b) => b.data)).length));
    }
  });

  it('an error before any COPY data (a refused query) goes straight back to pg', () => {
    const error = message('E', 'SERROR\0C42501\0Mpermission denied for table x\0\0');
    const { batches, end } = run(Buffer.concat([error, message('Z', 'I')]), [3]);
    expect(batches).toEqual([]);
    expect(end).toEqual({ rest: Buffer.concat([error, message('Z', 'I')]), failed: true });
  });

  it('an empty COPY emits nothing', () => {
    const { batches, end } = run(stream([]), []);
    expect(batches).toEqual([]);
    expect(end?.failed).toBe(false);
  });
});

/**
 * Parses one whole COPY of `rows` fed in pieces of `pieceBytes`, recycling each batch as
 * soon as it is read; returns the batches' text and the buffers they came in.
 */
function parseRecycling(rows: string[], batchBytes: number, pieceBytes: number): { batches: string[]; buffers: Set<ArrayBufferLike> } {
  const batches: string[] = [];
  const buffers = new Set<ArrayBufferLike>();
  const parser = new CopyMessageParser((b) => {
    batches.push(b.data.toString());
    buffers.add(b.data.buffer);
    parser.recycle(b.data);
  }, batchBytes);
  const input = stream(rows);
  let end: CopyEnd | undefined;
  for (let i = 0; i < input.length && !end; i += pieceBytes) end = parser.parse(input.subarray(i, i + pieceBytes));
  expect(end?.failed).toBe(false);
  return { batches, buffers };
}

describe('CopyMessageParser.recycle', () => {
  it('refills a returned buffer for a later batch, and the rows stay intact', () => {
    const rows = Array.from({ length: 2000 }, (_, i) => `${i},"row ${i}, ""q"""\n`);
    const { batches, buffers } = parseRecycling(rows, 4096, 1000);
    expect(batches.join('')).toBe(rows.join(''));
    expect(batches.length).toBeGreaterThan(5);
    // Every batch after the first reused the one returned buffer.
    expect(buffers.size).toBeLessThanOrEqual(2);
  });

  it("a later COPY fills the buffers an earlier one gave back (a table's ranges, read one after another)", () => {
    const rows = Array.from({ length: 500 }, (_, i) => `${i},"range row ${i}"\n`);
    // A batch size no other test uses, so the pool holds only what the first COPY gave back.
    const first = parseRecycling(rows, 3001, 4096);
    const second = parseRecycling(rows, 3001, 4096);
    expect(second.batches.join('')).toBe(rows.join(''));
    expect([...second.buffers].every((b) => first.buffers.has(b))).toBe(true);
  });
});
