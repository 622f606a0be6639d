/**
 * DuckDB memory for reading a run's files back: the configured budget, raised when a file
 * holds rows wider than that budget can convert (see `memoryNeededMb`).
 */
import { memoryNeededMb } from '../duckdb/index.js';
import type { Manifest } from '../lake/index.js';

/** `budgetMb`, or what the widest row of `manifests`' files needs when that is more. */
export function readMemoryMb(budgetMb: number, manifests: readonly Pick<Manifest, 'files'>[]): number {
  const widest = Math.max(0, ...manifests.flatMap((m) => m.files.map((f) => f.maxRowBytes ?? 0)));
  return Math.max(budgetMb, memoryNeededMb({ maxLineBytes: widest }));
}
