/**
 * DuckDB's "Out of Memory" means the session's `memory_limit` was too small for the data
 * (deterministic, so not retryable): one line naming the table, the step and the setting.
 */
import { CorrenteError, coerceError } from '../shared/errors.js';

/** True when `err` is DuckDB running out of its memory limit. */
export function isOutOfMemory(err: unknown): boolean {
  return /out of memory/i.test(coerceError(err).message);
}

/** The error for `step` (e.g. `conversion`) of `table` running out of its memory limit (`memoryMb` when known). */
export function outOfMemoryError(err: unknown, table: string, step: string, memoryMb?: number): CorrenteError {
  const first = coerceError(err).message.split('\n')[0]!.trim();
  const limit = memoryMb ? `DuckDB's ${memoryMb} MB` : `DuckDB's memory limit`;
  return new CorrenteError('CONFIG_INVALID', `${table}: the ${step} ran out of ${limit} (export.duckdbMemoryMb): ${first}. Nothing was published`, {
    table,
    option: 'export.duckdbMemoryMb',
    cause: err,
    retryable: false,
    hint: 'Raise export.duckdbMemoryMb in corrente.yaml (wide rows need more), or lower export.rowGroupRows',
  });
}

