/**
 * How a streaming conversion is sized from the width of its rows: DuckDB's memory must
 * hold a row group being encoded (below that it spills the row group to disk, 20-30%
 * slower), and row groups of very wide rows are cut so that memory stays bounded.
 */
import { describe, expect, it } from 'vitest';
import { memoryNeededMb } from '../../src/duckdb/index.js';
import { rowGroupRowsFor } from '../../src/pipeline/stream-to-parquet.js';

const MIB = 1024 * 1024;
const line = { maxLineBytes: MIB, parquetVersion: 'v2' as const };

describe('conversion memory', () => {
  it('narrow rows need what the read buffer and the longest line need', () => {
    // The fact table: ~100-byte rows, 61,440-row groups of ~6 MB.
    expect(memoryNeededMb(line, 61_440 * 100)).toBe(memoryNeededMb(line));
    expect(memoryNeededMb(line)).toBe(136);
  });

  it('wide rows get room for a whole row group (the bench wide table: 820-byte rows)', () => {
    expect(memoryNeededMb(line, 61_440 * 820)).toBe(Math.ceil((3.5 * 61_440 * 820) / MIB) + 64);
    expect(memoryNeededMb(line, 61_440 * 820)).toBeGreaterThanOrEqual(224); // measured: no spill at 224 MB
  });
});

describe('rows per row group', () => {
  it('keeps export.rowGroupRows while a row group stays under 64 MB of CSV', () => {
    expect(rowGroupRowsFor(100, 61_440)).toBe(61_440);
    expect(rowGroupRowsFor(820, 61_440)).toBe(61_440);
  });

  it('cuts row groups of wider rows to 64 MB, and never below one row', () => {
    expect(rowGroupRowsFor(4096, 61_440)).toBe(16_384);
    expect(rowGroupRowsFor(4096, 61_440) * 4096).toBe(64 * MIB);
    expect(rowGroupRowsFor(200 * MIB, 61_440)).toBe(1);
    expect(rowGroupRowsFor(0, 10)).toBe(10);
  });
});
