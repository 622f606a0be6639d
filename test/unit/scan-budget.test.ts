import { describe, expect, it } from 'vitest';
import { fitScanBudget } from '../../src/duckdb/scan-budget.js';

const MIB = 1024 * 1024;

describe('fitScanBudget', () => {
  it('keeps the budget when every thread fits (narrow rows)', () => {
    expect(fitScanBudget(6 * MIB, { memoryMb: 128, threads: 2 })).toEqual({ memoryMb: 128, threads: 2 });
  });

  it('drops threads before it grows memory (the wide table: 38 MB row groups in 128 MB)', () => {
    expect(fitScanBudget(38 * MIB, { memoryMb: 128, threads: 2 })).toEqual({ memoryMb: 128, threads: 1 });
  });

  it('grows memory to what one thread needs when even one does not fit', () => {
    expect(fitScanBudget(100 * MIB, { memoryMb: 128, threads: 2 })).toEqual({ memoryMb: 232, threads: 1 });
  });

  it('an empty file set changes nothing', () => {
    expect(fitScanBudget(0, { memoryMb: 64, threads: 4 })).toEqual({ memoryMb: 64, threads: 4 });
  });
});
