/**
 * Fits a scan of Parquet files to a memory budget. A DuckDB thread scanning Parquet holds
 * about one row group's uncompressed columns at a time (measured: a wide text table's
 * 38 MB row groups failed on two threads in 128 MB, 102 MB used), so a budget that is
 * ample for narrow rows runs out on wide ones. Threads go down first; only when a single
 * thread does not fit does the budget grow, to what one thread needs.
 */
import { quoteLiteral } from '../shared/table-schema.js';
import type { DuckSession } from './duckdb-session.js';

const MIB = 1024 * 1024;

/** Working memory besides the row groups being scanned (aggregate state, buffers). */
const BASE_MB = 32;

/** Memory per scanning thread, as a multiple of the largest row group's uncompressed bytes. */
const ROW_GROUP_COPIES = 2;

export interface ScanBudget {
  memoryMb: number;
  threads: number;
}

/** Threads and memory for scanning row groups of `rowGroupBytes` within `budget`. */
export function fitScanBudget(rowGroupBytes: number, budget: ScanBudget): ScanBudget {
  const perThreadMb = (ROW_GROUP_COPIES * rowGroupBytes) / MIB;
  const threads = Math.max(1, Math.min(budget.threads, Math.floor((budget.memoryMb - BASE_MB) / Math.max(perThreadMb, 1))));
  return { threads, memoryMb: Math.max(budget.memoryMb, Math.ceil(BASE_MB + threads * perThreadMb)) };
}

/**
 * Reads the largest row group of `files` from their footers and sets the session's threads
 * and memory limit as {@link fitScanBudget} decides; returns what it set.
 */
export async function applyScanBudget(session: DuckSession, files: readonly string[], budget: ScanBudget, signal?: AbortSignal): Promise<ScanBudget> {
  if (files.length === 0) return budget;
  const list = files.map(quoteLiteral).join(', ');
  const [row] = await session.rows(`SELECT coalesce(max(row_group_bytes), 0)::BIGINT AS b FROM parquet_metadata([${list}])`, signal);
  const fitted = fitScanBudget(Number(row?.b ?? 0), budget);
  if (fitted.threads !== budget.threads || fitted.memoryMb !== budget.memoryMb) await setScanBudget(session, fitted, signal);
  return fitted;
}

/** Sets the session's threads and memory limit. */
export async function setScanBudget(session: DuckSession, budget: ScanBudget, signal?: AbortSignal): Promise<void> {
  await session.run(`SET threads = ${budget.threads}`, signal);
  await session.run(`SET memory_limit = '${budget.memoryMb}MB'`, signal);
}
